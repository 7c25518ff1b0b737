/**
 * Pieces every kind of master data uses: the active person an email names, the vendor, model,
 * product or contract a row names by its natural key, a list page with
 * search, sort and retired records left out, and an export read in batches in key order.
 */
import type { Knex } from 'knex';
import { likeContaining } from '../directory';
import { paginate, type Page } from '../page';
import type { ListFilter, Lookups, Row, Stored } from './kind';

/** The id of the active person with this email, memoised per Lookups; null when there is none. */
export function activePersonId(lookups: Lookups, email: string): Promise<string | null> {
  return lookups.once(`person:${email.toLowerCase()}`, async (db) =>
    ((await db('people').whereRaw('lower(email) = lower(?)', [email]).where('active', true).first('id'))?.id as string | undefined) ?? null);
}

/** A record another one names by its natural key; a retired one may stay named but not be newly chosen. */
export interface Reference {
  id: string;
  retired: boolean;
}

/** The vendor a code names (any letter case), memoised per Lookups; null when there is none. */
export function vendorByCode(lookups: Lookups, code: string): Promise<Reference | null> {
  return lookups.once(`vendor:${code.toUpperCase()}`, async (db) => {
    const row = await db('vendors').whereRaw('upper(code) = upper(?)', [code]).first('id', 'retired_at');
    return row ? { id: row.id as string, retired: row.retired_at !== null } : null;
  });
}

/** The hardware model a manufacturer and name name (any letter case), memoised per Lookups. */
export function hardwareModelByName(lookups: Lookups, manufacturer: string, name: string): Promise<Reference | null> {
  return lookups.once(`hardware-model:${manufacturer.toLowerCase()}|${name.toLowerCase()}`, async (db) => {
    const row = await db('hardware_models').whereRaw('lower(manufacturer) = lower(?) AND lower(name) = lower(?)', [manufacturer, name]).first('id', 'retired_at');
    return row ? { id: row.id as string, retired: row.retired_at !== null } : null;
  });
}

/** The software product a publisher and name name (any letter case), with its licence metric, memoised per Lookups. */
export function softwareProductByName(lookups: Lookups, publisher: string, name: string): Promise<(Reference & { licenceMetric: string }) | null> {
  return lookups.once(`software-product:${publisher.toLowerCase()}|${name.toLowerCase()}`, async (db) => {
    const row = await db('software_products').whereRaw('lower(publisher) = lower(?) AND lower(name) = lower(?)', [publisher, name]).first('id', 'retired_at', 'licence_metric');
    return row ? { id: row.id as string, retired: row.retired_at !== null, licenceMetric: row.licence_metric as string } : null;
  });
}

/** The contract a number names (any letter case), memoised per Lookups. */
export function contractByNumber(lookups: Lookups, number: string): Promise<Reference | null> {
  return lookups.once(`contract:${number.toUpperCase()}`, async (db) => {
    const row = await db('contracts').whereRaw('upper(number) = upper(?)', [number]).first('id', 'retired_at');
    return row ? { id: row.id as string, retired: row.retired_at !== null } : null;
  });
}

/** The cost centre a code names (any letter case), memoised per Lookups. */
export function costCentreByCode(lookups: Lookups, code: string): Promise<Reference | null> {
  return lookups.once(`cost-centre:${code.toUpperCase()}`, async (db) => {
    const row = await db('cost_centres').whereRaw('upper(code) = upper(?)', [code]).first('id', 'retired_at');
    return row ? { id: row.id as string, retired: row.retired_at !== null } : null;
  });
}

/** A version bump and the time of the change, for an update's values. */
export const nextVersion = (trx: Knex) => ({ version: trx.raw('version + 1'), updated_at: trx.fn.now() });

export interface ListQuery {
  /** The query of the kind's records (aliased), selecting what `toStored` reads. */
  query: Knex.QueryBuilder;
  /** The columns q searches. */
  searchColumns: string[];
  /** column name (as the API names it) -> SQL column. */
  sortable: Record<string, string>;
  /** The default order. */
  defaultSort: string;
  /** The id and retired_at columns (aliased): the id breaks ties in the order. Budgets are never retired: no retired_at. */
  idColumn: string;
  retiredColumn?: string;
}

/** One page of a kind's list: q searches the text columns, sort is a column with an optional leading -. */
export function listPage<R>(spec: ListQuery, filter: ListFilter, page: { limit: number; offset: number }, toStored: (row: R) => Stored): Promise<Page<Stored>> {
  const q = spec.query.clone();
  if (filter.q) q.where((w) => spec.searchColumns.forEach((column) => w.orWhereILike(column, likeContaining(filter.q!))));
  if (!filter.includeRetired && spec.retiredColumn) q.whereNull(spec.retiredColumn);
  const sort = filter.sort ?? spec.defaultSort;
  const descending = sort.startsWith('-');
  const column = spec.sortable[descending ? sort.slice(1) : sort] ?? spec.sortable[spec.defaultSort];
  q.orderBy(column, descending ? 'desc' : 'asc').orderBy(spec.idColumn);
  return paginate<R, Stored>(q, page, toStored);
}

/**
 * Every row of `query` (aliased), ordered by `orderColumn` then `idColumn`, streamed from one
 * statement (pg-query-stream, with backpressure): a single snapshot, so a record written while an
 * export runs is neither lost nor repeated, and no page is read twice.
 */
export async function* streamedInOrder<R>(query: Knex.QueryBuilder, orderColumn: string, idColumn: string, toRow: (row: R) => Row): AsyncIterable<Row> {
  const rows = query.clone().orderBy(orderColumn).orderBy(idColumn).stream();
  try {
    for await (const row of rows) yield toRow(row as R);
  } finally {
    rows.destroy();
  }
}
