import type { Knex } from 'knex';
import { z } from 'zod';
import { cells } from '../../domain/master-data';
import { isUuid } from '../keys';
import type { MasterDataKind, Row, Stored } from './kind';
import { activePersonId, streamedInOrder, listPage, nextVersion } from './shared';

/** Cost centres, matched on their code (any letter case); the owner answers for the budget. */
interface CostCentreRecord {
  id: string;
  code: string;
  name: string;
  owner_email: string | null;
  version: number;
  retired_at: Date | null;
}

const select = (db: Knex) => db('cost_centres as cc').leftJoin('people as o', 'o.id', 'cc.owner_id')
  .select('cc.id', 'cc.code', 'cc.name', 'o.email as owner_email', 'cc.version', 'cc.retired_at');

const toRow = (r: CostCentreRecord): Row => ({ code: r.code, name: r.name, ownerEmail: r.owner_email });
const toStored = (r: CostCentreRecord): Stored => ({
  id: r.id, ref: r.code, version: r.version, retiredAt: r.retired_at?.toISOString() ?? null, row: toRow(r),
});

const locked = (query: Knex.QueryBuilder, lock: boolean) => (lock ? query.forUpdate('cc') : query);

export const costCentres: MasterDataKind = {
  name: 'cost-centres',
  title: 'Cost centres',
  subjectType: 'cost_centre',
  path: '/cost-centres',
  readsElsewhere: true,
  writers: ['admin'],
  columns: ['code', 'name', 'ownerEmail'],
  keyColumns: ['code'],
  sortColumns: ['code', 'name'],
  schema: z.object({
    code: cells.text(32).transform((code) => code.toUpperCase()),
    name: cells.text(200),
    ownerEmail: cells.optional.email,
  }),

  async findByKey(lookups, key, lock) {
    const row = await locked(select(lookups.db).whereRaw('upper(cc.code) = upper(?)', [key.code as string]), lock).first();
    return row ? toStored(row) : null;
  },

  async findByRef(db, ref, lock) {
    const query = isUuid(ref) ? select(db).where('cc.id', ref) : select(db).whereRaw('upper(cc.code) = upper(?)', [ref]);
    const row = await locked(query, lock).first();
    return row ? toStored(row) : null;
  },

  async resolve(lookups, row) {
    const ownerId = row.ownerEmail ? await activePersonId(lookups, row.ownerEmail as string) : null;
    if (row.ownerEmail && !ownerId) return { problems: [{ column: 'ownerEmail', value: row.ownerEmail, reason: 'no active person has this email' }] };
    return { values: { code: row.code, name: row.name, owner_id: ownerId } };
  },

  async insert(trx, values) {
    const [{ id }] = await trx('cost_centres').insert(values).returning('id');
    return id;
  },

  async update(trx, id, values) {
    await trx('cost_centres').where({ id }).update({ ...values, ...nextVersion(trx) });
  },

  async retire(trx, stored) {
    await trx('cost_centres').where({ id: stored.id }).update({ retired_at: trx.fn.now(), ...nextVersion(trx) });
    return null;
  },

  list(db, filter, page) {
    return listPage<CostCentreRecord>({
      query: select(db), searchColumns: ['cc.code', 'cc.name'], sortable: { code: 'cc.code', name: 'cc.name' },
      defaultSort: 'code', idColumn: 'cc.id', retiredColumn: 'cc.retired_at',
    }, filter, page, toStored);
  },

  exportRows(db) {
    return streamedInOrder<CostCentreRecord>(select(db).whereNull('cc.retired_at'), 'cc.code', 'cc.id', toRow);
  },
};
