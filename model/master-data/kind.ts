/**
 * What one list of master data (cost centres, assets, configuration items...) tells the engine
 * (./engine.ts): its columns and natural key, the schema of one row, and how a row is found,
 * resolved to table values and written. The same definition serves the JSON API (create, update
 * with If-Match, retire, list, read), bulk import (check and apply, row by row) and export, so a
 * row means the same thing however it arrives.
 */
import type { Knex } from 'knex';
import type { z } from 'zod';
import type { Role } from '../../domain/directory';
import type { ColumnProblem, MasterDataKindName } from '../../domain/master-data';
import type { Page } from '../page';

/** A row in file shape: column -> value (JSON types; references by natural key, never by id). */
export type Row = Record<string, unknown>;

/** A stored record as a row, with what the API and the engine need besides. */
export interface Stored {
  id: string;
  /** How URLs name it: a code, a number, an asset tag, or the id. */
  ref: string;
  version: number;
  retiredAt: string | null;
  row: Row;
}

/**
 * Lookups memoised for one chunk of an import or one API call: a file of 50,000 assets names the
 * same few models and cost centres over and over.
 */
export class Lookups {
  private readonly cache = new Map<string, Promise<unknown>>();

  constructor(readonly db: Knex) {}

  /** The answer of `find` for `key`, asked once per Lookups. */
  once<T>(key: string, find: (db: Knex) => Promise<T>): Promise<T> {
    let answer = this.cache.get(key) as Promise<T> | undefined;
    if (!answer) {
      answer = find(this.db);
      this.cache.set(key, answer);
    }
    return answer;
  }
}

export type Resolution = { values: Record<string, unknown> } | { problems: ColumnProblem[] };

export interface ListFilter {
  /** Part of a name, code, number or other text the list is searched by. */
  q?: string;
  includeRetired?: boolean;
  /** A column, optionally prefixed with - for descending. */
  sort?: string;
}

export interface MasterDataKind {
  name: MasterDataKindName;
  /** "Configuration items": for pages and reports. */
  title: string;
  /** The audit log's subject_type of its records: "configuration_item". */
  subjectType: string;
  /** The audit action of a new record, when "created" is not the domain's word (an asset is "registered"). */
  createdAction?: string;
  /** Where its API lives: "/cis", "/catalogue/hardware-models". */
  path: string;
  /** Whether list and read routes already exist at `path` (then only writes and export are added). */
  readsElsewhere: boolean;
  /** Who may create, update, retire and import it. */
  writers: readonly Role[];
  /**
   * Who may read it (list, record, export), in the API and the web pages alike, when not everyone
   * signed in may: what it holds is not everyone's business (contract values, the whole estate).
   * Its writers are among them.
   */
  readers?: readonly Role[];
  /** The columns of a file and of an API body, in export order. */
  columns: readonly string[];
  /** The columns that name one record (matched case-insensitively where the data is text). */
  keyColumns: readonly string[];
  /**
   * The database numbers new records (CNTR0001001, ENT0001001): a create through the API without the
   * key makes one (an import row must name it), and the key column is optional in the schema.
   */
  keyAssignedOnCreate?: boolean;
  /** The columns a list may be sorted by. */
  sortColumns: readonly string[];
  /** One row: every column, parsed and normalised (a missing optional column is null). */
  schema: z.ZodObject;
  /** The record a row's key names, locked FOR UPDATE inside a transaction when `lock`. */
  findByKey(lookups: Lookups, key: Row, lock: boolean): Promise<Stored | null>;
  /** The record a URL names: its ref, or its id (a uuid). */
  findByRef(db: Knex, ref: string, lock: boolean): Promise<Stored | null>;
  /**
   * The table values of a parsed row: references resolved (a cost-centre code to its id), rules
   * that need the database checked. `existing` is the stored record an update changes.
   */
  resolve(lookups: Lookups, row: Row, existing: Stored | null): Promise<Resolution>;
  /** Writes a new record; `given` is the row's columns as the person gave them, before the schema's defaults. */
  insert(trx: Knex.Transaction, values: Record<string, unknown>, given: Row): Promise<string>;
  /** Writes the values and bumps the version. */
  update(trx: Knex.Transaction, id: string, values: Record<string, unknown>): Promise<void>;
  /** Retires it (kept for what refers to it); refuses with a ColumnProblem when it may not be retired yet. */
  retire(trx: Knex.Transaction, stored: Stored): Promise<ColumnProblem | null>;
  list(db: Knex, filter: ListFilter, page: { limit: number; offset: number }): Promise<Page<Stored>>;
  /** Every record in key order, read in batches. */
  exportRows(db: Knex): AsyncIterable<Row>;
}
