import type { Knex } from 'knex';
import { z } from 'zod';
import { cells } from '../../domain/master-data';
import { isUuid } from '../keys';
import type { MasterDataKind, Row, Stored } from './kind';
import { costCentreByCode, streamedInOrder, listPage, nextVersion } from './shared';

/**
 * The budget of one cost centre for one calendar month, matched on the cost centre's code (any
 * letter case) and the month (YYYY-MM, stored as the month's first day, as the budget check reads
 * it); URLs name a budget by its id. A budget is never retired: the month's figure is set to another
 * amount (0 for none), so the budget check always finds the one figure of the month.
 */
interface BudgetRecord {
  id: string;
  cost_centre_code: string;
  period_start: string;
  amount_minor: number;
  currency: string;
  version: number;
}

const select = (db: Knex) => db('budgets as b').join('cost_centres as cc', 'cc.id', 'b.cost_centre_id')
  .select('b.id', 'cc.code as cost_centre_code', 'b.period_start', 'b.amount_minor', 'b.currency', 'b.version');

const toRow = (r: BudgetRecord): Row => ({
  costCentre: r.cost_centre_code, month: r.period_start.slice(0, 7), amountMinor: r.amount_minor, currency: r.currency,
});
const toStored = (r: BudgetRecord): Stored => ({ id: r.id, ref: r.id, version: r.version, retiredAt: null, row: toRow(r) });

const locked = (query: Knex.QueryBuilder, lock: boolean) => (lock ? query.forUpdate('b') : query);

export const budgets: MasterDataKind = {
  name: 'budgets',
  title: 'Budgets',
  subjectType: 'budget',
  path: '/budgets',
  readsElsewhere: false,
  writers: ['admin'],
  columns: ['costCentre', 'month', 'amountMinor', 'currency'],
  keyColumns: ['costCentre', 'month'],
  sortColumns: ['costCentre', 'month', 'amountMinor'],
  schema: z.object({
    costCentre: cells.text(32).transform((code) => code.toUpperCase()),
    month: cells.month,
    amountMinor: cells.amountMinor,
    currency: cells.currency,
  }),

  async findByKey(lookups, key, lock) {
    const query = select(lookups.db).whereRaw('upper(cc.code) = upper(?)', [key.costCentre as string]).where('b.period_start', `${key.month as string}-01`);
    const row = await locked(query, lock).first();
    return row ? toStored(row) : null;
  },

  async findByRef(db, ref, lock) {
    if (!isUuid(ref)) return null;
    const row = await locked(select(db).where('b.id', ref), lock).first();
    return row ? toStored(row) : null;
  },

  async resolve(lookups, row, existing) {
    const costCentre = await costCentreByCode(lookups, row.costCentre as string);
    if (!costCentre) return { problems: [{ column: 'costCentre', value: row.costCentre, reason: 'no cost centre has this code' }] };
    // A retired cost centre keeps the budgets it has, but gets no new ones.
    if (costCentre.retired && String(existing?.row.costCentre).toUpperCase() !== row.costCentre) {
      return { problems: [{ column: 'costCentre', value: row.costCentre, reason: 'this cost centre was retired' }] };
    }
    return { values: { cost_centre_id: costCentre.id, period_start: `${row.month as string}-01`, amount_minor: row.amountMinor, currency: row.currency } };
  },

  async insert(trx, values) {
    const [{ id }] = await trx('budgets').insert(values).returning('id');
    return id;
  },

  async update(trx, id, values) {
    await trx('budgets').where({ id }).update({ ...values, ...nextVersion(trx) });
  },

  async retire(_trx, stored) {
    return { column: 'amountMinor', value: stored.row.amountMinor, reason: 'a budget is not retired: set the month to another amount instead (0 for no budget)' };
  },

  list(db, filter, page) {
    return listPage<BudgetRecord>({
      query: select(db), searchColumns: ['cc.code', 'cc.name'],
      sortable: { costCentre: 'cc.code', month: 'b.period_start', amountMinor: 'b.amount_minor' },
      defaultSort: 'costCentre', idColumn: 'b.id',
    }, filter, page, toStored);
  },

  exportRows(db) {
    return streamedInOrder<BudgetRecord>(select(db).orderBy('cc.code'), 'b.period_start', 'b.id', toRow);
  },
};
