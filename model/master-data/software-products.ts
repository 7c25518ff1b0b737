import type { Knex } from 'knex';
import { z } from 'zod';
import { LICENCE_METRICS } from '../../domain/licence-compliance';
import { cells } from '../../domain/master-data';
import { isUuid } from '../keys';
import { vendorOfRow } from './hardware-models';
import type { MasterDataKind, Row, Stored } from './kind';
import { streamedInOrder, listPage, nextVersion } from './shared';

/**
 * Software products of the catalogue, matched on publisher and name (any letter case); URLs name
 * them by id, as the catalogue's reads do. The licence metric is what one unit of each of its
 * entitlements covers, so it changes only while no live entitlement counts in another metric.
 */
interface SoftwareProductRecord {
  id: string;
  publisher: string;
  name: string;
  vendor_code: string | null;
  licence_metric: string;
  unit_price_minor: number;
  currency: string;
  version: number;
  retired_at: Date | null;
}

const select = (db: Knex) => db('software_products as s').leftJoin('vendors as v', 'v.id', 's.vendor_id')
  .select('s.id', 's.publisher', 's.name', 'v.code as vendor_code', 's.licence_metric', 's.unit_price_minor', 's.currency', 's.version', 's.retired_at');

const toRow = (r: SoftwareProductRecord): Row => ({
  publisher: r.publisher, name: r.name, vendorCode: r.vendor_code, licenceMetric: r.licence_metric, unitPriceMinor: r.unit_price_minor, currency: r.currency.trim(),
});
const toStored = (r: SoftwareProductRecord): Stored => ({
  id: r.id, ref: r.id, version: r.version, retiredAt: r.retired_at?.toISOString() ?? null, row: toRow(r),
});

const locked = (query: Knex.QueryBuilder, lock: boolean) => (lock ? query.forUpdate('s') : query);

export const softwareProducts: MasterDataKind = {
  name: 'software-products',
  title: 'Software products',
  subjectType: 'software_product',
  path: '/catalogue/software-products',
  readsElsewhere: true,
  writers: ['asset_manager', 'admin'],
  columns: ['publisher', 'name', 'vendorCode', 'licenceMetric', 'unitPriceMinor', 'currency'],
  keyColumns: ['publisher', 'name'],
  sortColumns: ['publisher', 'name', 'unitPriceMinor'],
  schema: z.object({
    publisher: cells.text(200),
    name: cells.text(200),
    vendorCode: cells.optional.text(64),
    licenceMetric: cells.oneOf(LICENCE_METRICS),
    unitPriceMinor: cells.amountMinor,
    currency: cells.currency,
  }),

  async findByKey(lookups, key, lock) {
    const query = select(lookups.db).whereRaw('lower(s.publisher) = lower(?) AND lower(s.name) = lower(?)', [key.publisher as string, key.name as string]);
    const row = await locked(query, lock).first();
    return row ? toStored(row) : null;
  },

  async findByRef(db, ref, lock) {
    if (!isUuid(ref)) return null;
    const row = await locked(select(db).where('s.id', ref), lock).first();
    return row ? toStored(row) : null;
  },

  async resolve(lookups, row, existing) {
    const vendor = await vendorOfRow(lookups, row, existing);
    if ('problem' in vendor) return { problems: [vendor.problem] };
    if (existing && existing.row.licenceMetric !== row.licenceMetric) {
      const counted = await lookups.db('software_entitlements').where({ product_id: existing.id }).whereNull('retired_at')
        .whereNot('metric', row.licenceMetric as string).count<{ n: string }[]>({ n: '*' });
      if (Number(counted[0].n) > 0) {
        return { problems: [{ column: 'licenceMetric', value: row.licenceMetric, reason: `${counted[0].n} live entitlement(s) count ${String(existing.row.licenceMetric)}: retire them first` }] };
      }
    }
    return {
      values: {
        publisher: row.publisher, name: row.name, vendor_id: vendor.vendorId, licence_metric: row.licenceMetric,
        unit_price_minor: row.unitPriceMinor, currency: row.currency,
      },
    };
  },

  async insert(trx, values) {
    const [{ id }] = await trx('software_products').insert(values).returning('id');
    return id;
  },

  async update(trx, id, values) {
    await trx('software_products').where({ id }).update({ ...values, ...nextVersion(trx) });
  },

  async retire(trx, stored) {
    await trx('software_products').where({ id: stored.id }).update({ retired_at: trx.fn.now(), ...nextVersion(trx) });
    return null;
  },

  list(db, filter, page) {
    return listPage<SoftwareProductRecord>({
      query: select(db), searchColumns: ['s.publisher', 's.name'],
      sortable: { publisher: 's.publisher', name: 's.name', unitPriceMinor: 's.unit_price_minor' },
      defaultSort: 'publisher', idColumn: 's.id', retiredColumn: 's.retired_at',
    }, filter, page, toStored);
  },

  exportRows(db) {
    return streamedInOrder<SoftwareProductRecord>(select(db).whereNull('s.retired_at').orderBy('s.publisher'), 's.name', 's.id', toRow);
  },
};
