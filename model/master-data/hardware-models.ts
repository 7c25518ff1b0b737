import type { Knex } from 'knex';
import { z } from 'zod';
import { DEPRECIATION_METHODS } from '../../domain/depreciation';
import { cells, type ColumnProblem } from '../../domain/master-data';
import { HARDWARE_CATEGORIES } from '../../domain/procurement';
import { isUuid } from '../keys';
import type { Lookups, MasterDataKind, Row, Stored } from './kind';
import { streamedInOrder, listPage, nextVersion, vendorByCode } from './shared';


/**
 * Hardware models of the catalogue, matched on manufacturer and name (any letter case); URLs name
 * them by id, as the catalogue's reads do. A retired model stays on the assets bought as it, but is
 * left out of the catalogue and refused for new purchase requests.
 */
interface HardwareModelRecord {
  id: string;
  manufacturer: string;
  name: string;
  category: string;
  vendor_code: string | null;
  list_price_minor: number;
  currency: string;
  warranty_months: number;
  useful_life_months: number;
  depreciation_method: string;
  version: number;
  retired_at: Date | null;
}

const select = (db: Knex) => db('hardware_models as m').leftJoin('vendors as v', 'v.id', 'm.vendor_id')
  .select('m.id', 'm.manufacturer', 'm.name', 'm.category', 'v.code as vendor_code', 'm.list_price_minor', 'm.currency',
    'm.warranty_months', 'm.useful_life_months', 'm.depreciation_method', 'm.version', 'm.retired_at');

const toRow = (r: HardwareModelRecord): Row => ({
  manufacturer: r.manufacturer, name: r.name, category: r.category, vendorCode: r.vendor_code, listPriceMinor: r.list_price_minor,
  currency: r.currency.trim(), warrantyMonths: r.warranty_months, usefulLifeMonths: r.useful_life_months, depreciationMethod: r.depreciation_method,
});
const toStored = (r: HardwareModelRecord): Stored => ({
  id: r.id, ref: r.id, version: r.version, retiredAt: r.retired_at?.toISOString() ?? null, row: toRow(r),
});

const locked = (query: Knex.QueryBuilder, lock: boolean) => (lock ? query.forUpdate('m') : query);

/**
 * The vendor a row names by code: unknown is refused, and so is a retired vendor, unless the
 * record already names it (it stays as it was bought).
 */
export async function vendorOfRow(lookups: Lookups, row: Row, existing: Stored | null): Promise<{ vendorId: string | null } | { problem: ColumnProblem }> {
  const code = row.vendorCode as string | null;
  if (!code) return { vendorId: null };
  const vendor = await vendorByCode(lookups, code);
  if (!vendor) return { problem: { column: 'vendorCode', value: code, reason: 'no vendor has this code' } };
  const kept = typeof existing?.row.vendorCode === 'string' && existing.row.vendorCode.toUpperCase() === code.toUpperCase();
  if (vendor.retired && !kept) return { problem: { column: 'vendorCode', value: code, reason: 'this vendor is retired' } };
  return { vendorId: vendor.id };
}

export const hardwareModels: MasterDataKind = {
  name: 'hardware-models',
  title: 'Hardware models',
  subjectType: 'hardware_model',
  path: '/catalogue/hardware-models',
  readsElsewhere: true,
  writers: ['asset_manager', 'admin'],
  columns: ['manufacturer', 'name', 'category', 'vendorCode', 'listPriceMinor', 'currency', 'warrantyMonths', 'usefulLifeMonths', 'depreciationMethod'],
  keyColumns: ['manufacturer', 'name'],
  sortColumns: ['manufacturer', 'name', 'category', 'listPriceMinor'],
  schema: z.object({
    manufacturer: cells.text(200),
    name: cells.text(200),
    category: cells.oneOf(HARDWARE_CATEGORIES),
    vendorCode: cells.optional.text(64),
    listPriceMinor: cells.amountMinor,
    currency: cells.currency,
    warrantyMonths: cells.integer(0, 120),
    usefulLifeMonths: cells.integer(1, 240),
    depreciationMethod: cells.oneOf(DEPRECIATION_METHODS),
  }),

  async findByKey(lookups, key, lock) {
    const query = select(lookups.db).whereRaw('lower(m.manufacturer) = lower(?) AND lower(m.name) = lower(?)', [key.manufacturer as string, key.name as string]);
    const row = await locked(query, lock).first();
    return row ? toStored(row) : null;
  },

  async findByRef(db, ref, lock) {
    if (!isUuid(ref)) return null;
    const row = await locked(select(db).where('m.id', ref), lock).first();
    return row ? toStored(row) : null;
  },

  async resolve(lookups, row, existing) {
    const vendor = await vendorOfRow(lookups, row, existing);
    if ('problem' in vendor) return { problems: [vendor.problem] };
    return {
      values: {
        manufacturer: row.manufacturer, name: row.name, category: row.category, vendor_id: vendor.vendorId, list_price_minor: row.listPriceMinor,
        currency: row.currency, warranty_months: row.warrantyMonths, useful_life_months: row.usefulLifeMonths, depreciation_method: row.depreciationMethod,
      },
    };
  },

  async insert(trx, values) {
    const [{ id }] = await trx('hardware_models').insert(values).returning('id');
    return id;
  },

  async update(trx, id, values) {
    await trx('hardware_models').where({ id }).update({ ...values, ...nextVersion(trx) });
  },

  async retire(trx, stored) {
    await trx('hardware_models').where({ id: stored.id }).update({ retired_at: trx.fn.now(), ...nextVersion(trx) });
    return null;
  },

  list(db, filter, page) {
    return listPage<HardwareModelRecord>({
      query: select(db), searchColumns: ['m.manufacturer', 'm.name'],
      sortable: { manufacturer: 'm.manufacturer', name: 'm.name', category: 'm.category', listPriceMinor: 'm.list_price_minor' },
      defaultSort: 'manufacturer', idColumn: 'm.id', retiredColumn: 'm.retired_at',
    }, filter, page, toStored);
  },

  exportRows(db) {
    return streamedInOrder<HardwareModelRecord>(select(db).whereNull('m.retired_at').orderBy('m.manufacturer'), 'm.name', 'm.id', toRow);
  },
};
