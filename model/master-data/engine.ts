/**
 * One row of master data checked and applied the same way whether it comes from an import file
 * or the JSON API: parse its key, find the record it names, lay the given columns over the stored
 * ones, parse the whole row, resolve its references, and compare. Writes go with their audit row
 * in the caller's transaction.
 */
import type { Knex } from 'knex';
import { changedColumns, problemsOf, type ColumnProblem, type RowVerdict } from '../../domain/master-data';
import { insertAuditRow } from '../audit-rows';
import { Lookups, type MasterDataKind, type Row, type Stored } from './kind';

export interface Judgement {
  verdict: RowVerdict;
  /** The natural key as text ("Payroll|application"), when the key columns parsed. */
  naturalKey: string | null;
  problems: ColumnProblem[];
  changes: Record<string, { from: unknown; to: unknown }> | null;
  stored: Stored | null;
  /** The table values to write, for create and update. */
  values: Record<string, unknown> | null;
  /** The row as it will be stored. */
  row: Row | null;
  /** A create's columns as given (a column its schema defaults is not among them), for the kind's insert. */
  given?: Row;
}

const refused = (naturalKey: string | null, problems: ColumnProblem[], stored: Stored | null = null): Judgement =>
  ({ verdict: 'refuse', naturalKey, problems, changes: null, stored, values: null, row: null });

/** A row's own columns: unknown ones are problems; an absent column is left as stored. */
function givenColumns(kind: MasterDataKind, raw: Row): { given: Row; problems: ColumnProblem[] } {
  const given: Row = {};
  const problems: ColumnProblem[] = [];
  for (const [column, value] of Object.entries(raw)) {
    if (kind.columns.includes(column)) {
      if (value !== undefined) given[column] = value;
    } else {
      problems.push({ column, value: value ?? null, reason: `unknown column; the columns are: ${kind.columns.join(', ')}` });
    }
  }
  return { given, problems };
}

export function naturalKeyOf(kind: MasterDataKind, row: Row): string {
  return kind.keyColumns.map((column) => String(row[column] ?? '')).join('|');
}

/**
 * The verdict on laying `given` over `stored` (or on a new record when there is none): refused with
 * its problems, unchanged, or the values to write.
 */
async function judgeAgainst(kind: MasterDataKind, lookups: Lookups, given: Row, stored: Stored | null): Promise<Judgement> {
  const merged = stored ? { ...stored.row, ...given } : given;
  const parsed = kind.schema.safeParse(merged);
  if (!parsed.success) return refused(stored ? naturalKeyOf(kind, stored.row) : null, problemsOf(parsed.error, merged), stored);
  const row = parsed.data as Row;
  const naturalKey = naturalKeyOf(kind, row);
  if (stored?.retiredAt) {
    return refused(naturalKey, [{ column: kind.keyColumns[0], value: row[kind.keyColumns[0]] ?? null, reason: `${kind.title.toLowerCase()}: this record was retired on ${stored.retiredAt}` }], stored);
  }
  const resolution = await kind.resolve(lookups, row, stored);
  if ('problems' in resolution) return refused(naturalKey, resolution.problems, stored);
  if (!stored) return { verdict: 'create', naturalKey, problems: [], changes: null, stored: null, values: resolution.values, row, given };
  const storedRow = kind.schema.safeParse(stored.row);
  const changes = changedColumns(kind.columns, storedRow.success ? storedRow.data : stored.row, row);
  const verdict = Object.keys(changes).length === 0 ? 'unchanged' : 'update';
  return { verdict, naturalKey, problems: [], changes, stored, values: resolution.values, row };
}

export interface JudgeOptions {
  /** Hold the record found FOR UPDATE, for the caller's transaction. */
  lock?: boolean;
  /**
   * A create through the API may leave out a key the database assigns. An import row may not: the
   * same file imported twice would create everything twice.
   */
  mayOmitAssignedKey?: boolean;
}

/** What applying a row would do, by its natural key. Reads only. */
export async function judgeRow(kind: MasterDataKind, lookups: Lookups, raw: Row, options: JudgeOptions = {}): Promise<Judgement> {
  const { given, problems } = givenColumns(kind, raw);
  if (problems.length > 0) return refused(null, problems);
  if (kind.keyAssignedOnCreate && kind.keyColumns.every((column) => given[column] === undefined || given[column] === null || String(given[column]).trim() === '')) {
    if (options.mayOmitAssignedKey) return judgeAgainst(kind, lookups, given, null);
    return refused(null, kind.keyColumns.map((column) => ({ column, value: given[column] ?? null, reason: 'required: a row of a file names its record (the database assigns it only on a create through the API)' })));
  }
  const keyShape = Object.fromEntries(kind.keyColumns.map((column) => [column, true])) as Record<string, true>;
  const key = kind.schema.pick(keyShape).safeParse(given);
  if (!key.success) return refused(null, problemsOf(key.error, given));
  const stored = await kind.findByKey(lookups, key.data as Row, options.lock ?? false);
  return judgeAgainst(kind, lookups, given, stored);
}

export interface WriteSource {
  /** The person's email, or system:<component>. */
  actor: string;
  /** Where the write came from, for the audit row: the API, or a row of an import. */
  via: { channel: 'api' | 'web' } | { importId: string; rowNumber: number };
}

/** Writes a create or update the judgement allows, with its audit row; returns the record's id. */
export async function writeJudgement(trx: Knex.Transaction, kind: MasterDataKind, judgement: Judgement, source: WriteSource): Promise<string | null> {
  if (judgement.verdict !== 'create' && judgement.verdict !== 'update') return judgement.stored?.id ?? null;
  const values = judgement.values!;
  const id = judgement.verdict === 'create'
    ? await kind.insert(trx, values, judgement.given ?? {})
    : (await kind.update(trx, judgement.stored!.id, values), judgement.stored!.id);
  // A key the database assigned is known only now: the audit names the record as it was stored.
  const assigned = judgement.verdict === 'create' && kind.keyAssignedOnCreate && kind.keyColumns.some((column) => judgement.row![column] === null)
    ? await kind.findByRef(trx, id, false)
    : null;
  await insertAuditRow(trx, {
    actor: source.actor,
    subjectType: kind.subjectType,
    subjectId: id,
    action: judgement.verdict === 'create' ? (kind.createdAction ?? 'created') : 'updated',
    details: {
      naturalKey: assigned ? naturalKeyOf(kind, assigned.row) : judgement.naturalKey,
      ...(judgement.verdict === 'create' ? { values: assigned?.row ?? judgement.row } : { changes: judgement.changes }),
      ...('importId' in source.via ? { importId: source.via.importId, rowNumber: source.via.rowNumber } : { via: source.via.channel }),
    },
  });
  return id;
}

/** Lays `patch` over the stored record and judges the result: an API update. */
export function judgeUpdate(kind: MasterDataKind, lookups: Lookups, stored: Stored, patch: Row): Promise<Judgement> {
  const { given, problems } = givenColumns(kind, patch);
  if (problems.length > 0) return Promise.resolve(refused(naturalKeyOf(kind, stored.row), problems, stored));
  return judgeAgainst(kind, lookups, given, stored);
}

export { Lookups };
