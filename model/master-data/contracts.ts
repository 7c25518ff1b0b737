import type { Knex } from 'knex';
import { z } from 'zod';
import { OVERSEERS } from '../../domain/directory';
import { cells, type ColumnProblem } from '../../domain/master-data';
import { CONTRACT_KINDS } from '../../domain/procurement';
import { isUuid } from '../keys';
import { type MasterDataKind, type Row, type Stored } from './kind';
import { streamedInOrder, listPage, nextVersion, vendorByCode } from './shared';

/**
 * Vendor contracts, matched on their number. The database numbers them (CNTR0001001): a create
 * through the API leaves the number out; a row that names one updates that contract, and a number
 * naming no contract is refused rather than taken, since it could collide with one the database
 * hands out later. The documents are references ({title, url}, http or https), a JSON array (in a
 * CSV file, a cell of JSON text). valueMinor, autoRenew and renewalNoticeDays may be left out (or
 * empty): 0, false and 60 days, as the table defaults them.
 */
interface ContractRecord {
  id: string;
  number: string;
  vendor_code: string;
  kind: string;
  title: string;
  starts_on: string;
  ends_on: string;
  value_minor: number;
  currency: string;
  auto_renew: boolean;
  renewal_notice_days: number;
  documents: { title: string; url: string }[];
  version: number;
  retired_at: Date | null;
}

const MAX_DOCUMENTS = 50;

const webUrl = z.url({ protocol: /^https?$/, message: 'not an http or https URL' });
const documents = z.preprocess(
  (value) => {
    if (value === undefined || value === null || (typeof value === 'string' && value.trim() === '')) return [];
    if (typeof value !== 'string') return value;
    try {
      return JSON.parse(value);
    } catch {
      return value;
    }
  },
  z.array(z.strictObject({ title: z.string().trim().min(1).max(200), url: webUrl }), { message: 'not a JSON array of {"title", "url"}' }).max(MAX_DOCUMENTS),
);

const select = (db: Knex) => db('contracts as c').join('vendors as v', 'v.id', 'c.vendor_id')
  .select(
    'c.id', 'c.number', 'v.code as vendor_code', 'c.kind', 'c.title', 'c.starts_on', 'c.ends_on', 'c.value_minor', 'c.currency',
    'c.auto_renew', 'c.renewal_notice_days', 'c.documents', 'c.version', 'c.retired_at',
  );

const toRow = (r: ContractRecord): Row => ({
  number: r.number, vendorCode: r.vendor_code, kind: r.kind, title: r.title, startsOn: r.starts_on, endsOn: r.ends_on,
  valueMinor: r.value_minor, currency: r.currency, autoRenew: r.auto_renew, renewalNoticeDays: r.renewal_notice_days,
  // jsonb keeps keys in its own order; a file shows them as they are written.
  documents: r.documents.map(({ title, url }) => ({ title, url })),
});
const toStored = (r: ContractRecord): Stored => ({
  id: r.id, ref: r.number, version: r.version, retiredAt: r.retired_at?.toISOString() ?? null, row: toRow(r),
});

const locked = (query: Knex.QueryBuilder, lock: boolean) => (lock ? query.forUpdate('c') : query);

export const contracts: MasterDataKind = {
  name: 'contracts',
  title: 'Contracts',
  subjectType: 'contract',
  path: '/contracts',
  readsElsewhere: true,
  writers: ['asset_manager', 'admin'],
  // Their values and terms, as GET /contracts (api/routes/directory.ts).
  readers: OVERSEERS,
  columns: ['number', 'vendorCode', 'kind', 'title', 'startsOn', 'endsOn', 'valueMinor', 'currency', 'autoRenew', 'renewalNoticeDays', 'documents'],
  keyColumns: ['number'],
  keyAssignedOnCreate: true,
  sortColumns: ['number', 'title', 'startsOn', 'endsOn'],
  schema: z.object({
    number: cells.optional.text(32).transform((number) => number?.toUpperCase() ?? null),
    vendorCode: cells.text(200).transform((code) => code.toUpperCase()),
    kind: cells.oneOf(CONTRACT_KINDS),
    title: cells.text(200),
    startsOn: cells.date,
    endsOn: cells.date,
    valueMinor: cells.optional.amountMinor.transform((value) => value ?? 0),
    currency: cells.currency,
    autoRenew: cells.optional.boolean.transform((value) => value ?? false),
    renewalNoticeDays: cells.optional.integer(0, 3650).transform((days) => days ?? 60),
    documents,
  }),

  async findByKey(lookups, key, lock) {
    const row = await locked(select(lookups.db).whereRaw('upper(c.number) = upper(?)', [key.number as string]), lock).first();
    return row ? toStored(row) : null;
  },

  async findByRef(db, ref, lock) {
    const query = isUuid(ref) ? select(db).where('c.id', ref) : select(db).whereRaw('upper(c.number) = upper(?)', [ref]);
    const row = await locked(query, lock).first();
    return row ? toStored(row) : null;
  },

  async resolve(lookups, row, existing) {
    const problems: ColumnProblem[] = [];
    if (!existing && row.number !== null) {
      problems.push({ column: 'number', value: row.number, reason: 'no contract has this number; leave it out to create one (the database numbers new contracts)' });
    }
    if (existing && row.number !== existing.ref.toUpperCase()) {
      problems.push({ column: 'number', value: row.number, reason: `the database numbered this contract ${existing.ref}; the number cannot be changed` });
    }
    if ((row.endsOn as string) < (row.startsOn as string)) {
      problems.push({ column: 'endsOn', value: row.endsOn, reason: `ends before it starts (${row.startsOn as string})` });
    }
    const vendor = await vendorByCode(lookups, row.vendorCode as string);
    if (!vendor) problems.push({ column: 'vendorCode', value: row.vendorCode, reason: 'no vendor has this code' });
    // A contract keeps the vendor it has when that vendor is retired later, but none is signed with a retired one.
    else if (vendor.retired && String(existing?.row.vendorCode).toUpperCase() !== row.vendorCode) problems.push({ column: 'vendorCode', value: row.vendorCode, reason: 'this vendor was retired' });
    if (problems.length > 0) return { problems };
    return {
      values: {
        vendor_id: vendor!.id, kind: row.kind, title: row.title, starts_on: row.startsOn, ends_on: row.endsOn, value_minor: row.valueMinor,
        currency: row.currency, auto_renew: row.autoRenew, renewal_notice_days: row.renewalNoticeDays, documents: JSON.stringify(row.documents),
      },
    };
  },

  async insert(trx, values) {
    const [{ id }] = await trx('contracts').insert(values).returning('id');
    return id;
  },

  async update(trx, id, values) {
    await trx('contracts').where({ id }).update({ ...values, ...nextVersion(trx) });
  },

  async retire(trx, stored) {
    await trx('contracts').where({ id: stored.id }).update({ retired_at: trx.fn.now(), ...nextVersion(trx) });
    return null;
  },

  list(db, filter, page) {
    return listPage<ContractRecord>({
      query: select(db), searchColumns: ['c.number', 'c.title', 'v.code', 'v.name'],
      sortable: { number: 'c.number', title: 'c.title', startsOn: 'c.starts_on', endsOn: 'c.ends_on' },
      defaultSort: 'number', idColumn: 'c.id', retiredColumn: 'c.retired_at',
    }, filter, page, toStored);
  },

  exportRows(db) {
    return streamedInOrder<ContractRecord>(select(db).whereNull('c.retired_at'), 'c.number', 'c.id', toRow);
  },
};
