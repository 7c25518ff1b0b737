import type { Knex } from 'knex';
import { z } from 'zod';
import { cells } from '../../domain/master-data';
import { isUuid } from '../keys';
import type { MasterDataKind, Row, Stored } from './kind';
import { streamedInOrder, listPage, nextVersion } from './shared';

/**
 * Vendors, matched on their code (any letter case; stored upper-cased). The name is unique too, so
 * a row whose name is another vendor's is refused on the name. An inactive vendor takes no new
 * orders; active may be left out (or empty), which means active. Retiring a vendor also makes it
 * inactive, so every check that refuses an inactive vendor refuses a retired one.
 */
interface VendorRecord {
  id: string;
  code: string;
  name: string;
  contact_email: string | null;
  active: boolean;
  version: number;
  retired_at: Date | null;
}

const select = (db: Knex) => db('vendors as v')
  .select('v.id', 'v.code', 'v.name', 'v.contact_email', 'v.active', 'v.version', 'v.retired_at');

const toRow = (r: VendorRecord): Row => ({ code: r.code, name: r.name, contactEmail: r.contact_email, active: r.active });
const toStored = (r: VendorRecord): Stored => ({
  id: r.id, ref: r.code, version: r.version, retiredAt: r.retired_at?.toISOString() ?? null, row: toRow(r),
});

const locked = (query: Knex.QueryBuilder, lock: boolean) => (lock ? query.forUpdate() : query);

export const vendors: MasterDataKind = {
  name: 'vendors',
  title: 'Vendors',
  subjectType: 'vendor',
  path: '/vendors',
  readsElsewhere: true,
  writers: ['asset_manager', 'admin'],
  columns: ['code', 'name', 'contactEmail', 'active'],
  keyColumns: ['code'],
  sortColumns: ['code', 'name'],
  schema: z.object({
    // As long as a name, since codes the database derived from names are exported and imported back.
    code: cells.text(200).transform((code) => code.toUpperCase()),
    name: cells.text(200),
    contactEmail: cells.optional.email,
    active: cells.optional.boolean.transform((active) => active ?? true),
  }),

  async findByKey(lookups, key, lock) {
    const row = await locked(select(lookups.db).whereRaw('upper(v.code) = upper(?)', [key.code as string]), lock).first();
    return row ? toStored(row) : null;
  },

  async findByRef(db, ref, lock) {
    const query = isUuid(ref) ? select(db).where('v.id', ref) : select(db).whereRaw('upper(v.code) = upper(?)', [ref]);
    const row = await locked(query, lock).first();
    return row ? toStored(row) : null;
  },

  async resolve(lookups, row, existing) {
    const sameName = await lookups.db('vendors').where('name', row.name as string).modify((q) => (existing ? q.whereNot('id', existing.id) : q)).first('code');
    if (sameName) return { problems: [{ column: 'name', value: row.name, reason: `vendor ${sameName.code} has this name` }] };
    return { values: { code: row.code, name: row.name, contact_email: row.contactEmail, active: row.active } };
  },

  async insert(trx, values) {
    const [{ id }] = await trx('vendors').insert(values).returning('id');
    return id;
  },

  async update(trx, id, values) {
    await trx('vendors').where({ id }).update({ ...values, ...nextVersion(trx) });
  },

  async retire(trx, stored) {
    await trx('vendors').where({ id: stored.id }).update({ retired_at: trx.fn.now(), active: false, ...nextVersion(trx) });
    return null;
  },

  list(db, filter, page) {
    return listPage<VendorRecord>({
      query: select(db), searchColumns: ['v.code', 'v.name'], sortable: { code: 'v.code', name: 'v.name' },
      defaultSort: 'code', idColumn: 'v.id', retiredColumn: 'v.retired_at',
    }, filter, page, toStored);
  },

  exportRows(db) {
    return streamedInOrder<VendorRecord>(select(db).whereNull('v.retired_at'), 'v.code', 'v.id', toRow);
  },
};
