import type { Knex } from 'knex';
import { z } from 'zod';
import { LICENCE_METRICS } from '../../domain/licence-compliance';
import { OVERSEERS } from '../../domain/directory';
import { cells, type ColumnProblem } from '../../domain/master-data';
import { isUuid } from '../keys';
import { type MasterDataKind, type Row, type Stored } from './kind';
import { contractByNumber, streamedInOrder, listPage, nextVersion, softwareProductByName } from './shared';

/**
 * Software entitlements (licences owned), matched on their number (ENT0001001), which the database
 * assigns to one created through the API. Each counts in its product's licence metric, as the
 * licence position adds them up; a retired one no longer counts.
 */
interface EntitlementRecord {
  id: string;
  number: string;
  publisher: string;
  product: string;
  metric: string;
  quantity: number;
  starts_on: string;
  ends_on: string | null;
  cost_minor: number;
  currency: string;
  contract_number: string | null;
  version: number;
  retired_at: Date | null;
}

const NUMBER = /^ENT\d{7,10}$/;

const select = (db: Knex) => db('software_entitlements as e')
  .join('software_products as p', 'p.id', 'e.product_id')
  .leftJoin('contracts as c', 'c.id', 'e.contract_id')
  .select('e.id', 'e.number', 'p.publisher', 'p.name as product', 'e.metric', 'e.quantity', 'e.starts_on', 'e.ends_on',
    'e.cost_minor', 'e.currency', 'c.number as contract_number', 'e.version', 'e.retired_at');

const toRow = (r: EntitlementRecord): Row => ({
  number: r.number, publisher: r.publisher, product: r.product, metric: r.metric, quantity: r.quantity, startsOn: r.starts_on,
  endsOn: r.ends_on, costMinor: r.cost_minor, currency: r.currency.trim(), contractNumber: r.contract_number,
});
const toStored = (r: EntitlementRecord): Stored => ({
  id: r.id, ref: r.number, version: r.version, retiredAt: r.retired_at?.toISOString() ?? null, row: toRow(r),
});

const locked = (query: Knex.QueryBuilder, lock: boolean) => (lock ? query.forUpdate('e') : query);

const sameText = (a: unknown, b: unknown) => typeof a === 'string' && typeof b === 'string' && a.toLowerCase() === b.toLowerCase();

export const entitlements: MasterDataKind = {
  name: 'entitlements',
  title: 'Entitlements',
  subjectType: 'software_entitlement',
  path: '/entitlements',
  readsElsewhere: true,
  writers: ['asset_manager', 'admin'],
  // Licences owned and their cost, as GET /entitlements (api/routes/directory.ts).
  readers: OVERSEERS,
  columns: ['number', 'publisher', 'product', 'metric', 'quantity', 'startsOn', 'endsOn', 'costMinor', 'currency', 'contractNumber'],
  keyColumns: ['number'],
  keyAssignedOnCreate: true,
  sortColumns: ['number', 'startsOn', 'endsOn', 'quantity'],
  schema: z.object({
    number: cells.optional.text(20).transform((number) => number?.toUpperCase() ?? null)
      .refine((number) => number === null || NUMBER.test(number), { message: 'not an entitlement number (ENT and 7 digits: ENT0001001)' }),
    publisher: cells.text(200),
    product: cells.text(200),
    metric: cells.oneOf(LICENCE_METRICS),
    quantity: cells.integer(0, 10_000_000),
    startsOn: cells.date,
    endsOn: cells.optional.date,
    costMinor: cells.amountMinor,
    currency: cells.currency,
    contractNumber: cells.optional.text(32),
  }),

  async findByKey(lookups, key, lock) {
    const row = await locked(select(lookups.db).where('e.number', key.number as string), lock).first();
    return row ? toStored(row) : null;
  },

  async findByRef(db, ref, lock) {
    const query = isUuid(ref) ? select(db).where('e.id', ref) : select(db).where('e.number', ref.toUpperCase());
    const row = await locked(query, lock).first();
    return row ? toStored(row) : null;
  },

  async resolve(lookups, row, existing) {
    const problems: ColumnProblem[] = [];
    const product = await softwareProductByName(lookups, row.publisher as string, row.product as string);
    const keepsProduct = existing !== null && sameText(existing.row.publisher, row.publisher) && sameText(existing.row.product, row.product);
    if (!product) problems.push({ column: 'product', value: row.product, reason: `no software product of ${String(row.publisher)} has this name` });
    else if (product.retired && !keepsProduct) problems.push({ column: 'product', value: row.product, reason: 'this software product is retired' });
    else if (product.licenceMetric !== row.metric) {
      problems.push({ column: 'metric', value: row.metric, reason: `the product is licensed ${product.licenceMetric}: an entitlement counts in its product's metric` });
    }
    if (row.endsOn !== null && (row.endsOn as string) < (row.startsOn as string)) {
      problems.push({ column: 'endsOn', value: row.endsOn, reason: `before startsOn (${String(row.startsOn)})` });
    }
    const contractNumber = row.contractNumber as string | null;
    const contract = contractNumber ? await contractByNumber(lookups, contractNumber) : null;
    if (contractNumber && !contract) problems.push({ column: 'contractNumber', value: contractNumber, reason: 'no contract has this number' });
    else if (contract?.retired && !sameText(existing?.row.contractNumber, contractNumber)) {
      problems.push({ column: 'contractNumber', value: contractNumber, reason: 'this contract is retired' });
    }
    if (problems.length > 0) return { problems };
    return {
      values: {
        ...(existing || !row.number ? {} : { number: row.number }),
        product_id: product!.id, metric: row.metric, quantity: row.quantity, starts_on: row.startsOn, ends_on: row.endsOn,
        cost_minor: row.costMinor, currency: row.currency, contract_id: contract?.id ?? null,
      },
    };
  },

  async insert(trx, values) {
    const [{ id, number }] = await trx('software_entitlements').insert(values).returning(['id', 'number']);
    // A number a file brought may lie ahead of the sequence: move it past, so the next one the database assigns is free.
    const assigned = Number((number as string).slice(3));
    await trx.raw(`SELECT setval('entitlement_number_seq', ?) FROM entitlement_number_seq WHERE last_value <= ?`, [assigned, assigned]);
    return id;
  },

  async update(trx, id, values) {
    await trx('software_entitlements').where({ id }).update({ ...values, ...nextVersion(trx) });
  },

  async retire(trx, stored) {
    await trx('software_entitlements').where({ id: stored.id }).update({ retired_at: trx.fn.now(), ...nextVersion(trx) });
    return null;
  },

  list(db, filter, page) {
    return listPage<EntitlementRecord>({
      query: select(db), searchColumns: ['e.number', 'p.publisher', 'p.name'],
      sortable: { number: 'e.number', startsOn: 'e.starts_on', endsOn: 'e.ends_on', quantity: 'e.quantity' },
      defaultSort: 'number', idColumn: 'e.id', retiredColumn: 'e.retired_at',
    }, filter, page, toStored);
  },

  exportRows(db) {
    return streamedInOrder<EntitlementRecord>(select(db).whereNull('e.retired_at'), 'e.number', 'e.id', toRow);
  },
};
