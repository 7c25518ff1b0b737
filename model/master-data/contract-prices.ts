import type { Knex } from 'knex';
import { z } from 'zod';
import { cells, type ColumnProblem } from '../../domain/master-data';
import { isUuid } from '../keys';
import type { MasterDataKind, Row, Stored } from './kind';
import { contractByNumber, hardwareModelByName, streamedInOrder, listPage, nextVersion, softwareProductByName, type Reference } from './shared';

/**
 * Negotiated unit prices under a contract, matched on the contract's number and the item: its type
 * (hardware or software) and the natural key of the hardware model (manufacturer + name) or the
 * software product (publisher + name), any letter case: "CNTR0001001 | hardware | Dell | Latitude 5440".
 * URLs name a price by its id. A price in force beats the list price (chooseUnitPrice); it is only
 * ever applied to a purchase in its own currency and never converted, so a price need not be in the
 * currency of its contract's value. A retired price, or a price under a retired contract, is no
 * longer chosen.
 */
interface ContractPriceRecord {
  id: string;
  contract_number: string;
  item_type: 'hardware' | 'software';
  maker: string;
  item_name: string;
  unit_price_minor: number;
  currency: string;
  version: number;
  retired_at: Date | null;
}

const ITEM_TYPES = ['hardware', 'software'] as const;

const select = (db: Knex) => db('contract_prices as cp')
  .join('contracts as c', 'c.id', 'cp.contract_id')
  .leftJoin('hardware_models as hm', 'hm.id', 'cp.hardware_model_id')
  .leftJoin('software_products as sp', 'sp.id', 'cp.software_product_id')
  .select(
    'cp.id', 'c.number as contract_number',
    db.raw(`CASE WHEN cp.hardware_model_id IS NOT NULL THEN 'hardware' ELSE 'software' END AS item_type`),
    db.raw('coalesce(hm.manufacturer, sp.publisher) AS maker'), db.raw('coalesce(hm.name, sp.name) AS item_name'),
    'cp.unit_price_minor', 'cp.currency', 'cp.version', 'cp.retired_at',
  );

const toRow = (r: ContractPriceRecord): Row => ({
  contractNumber: r.contract_number, itemType: r.item_type, manufacturerOrPublisher: r.maker, itemName: r.item_name,
  unitPriceMinor: r.unit_price_minor, currency: r.currency,
});
const toStored = (r: ContractPriceRecord): Stored => ({
  id: r.id, ref: r.id, version: r.version, retiredAt: r.retired_at?.toISOString() ?? null, row: toRow(r),
});

const locked = (query: Knex.QueryBuilder, lock: boolean) => (lock ? query.forUpdate('cp') : query);

const sameText = (a: unknown, b: unknown) => String(a).toLowerCase() === String(b).toLowerCase();

/** A reference the row names: refused when there is none, or when it is retired and the stored record did not name it already. */
function checkReference(reference: Reference | null, column: string, value: unknown, what: string, namedBefore: boolean): ColumnProblem | null {
  if (!reference) return { column, value, reason: `no ${what}` };
  if (reference.retired && !namedBefore) return { column, value, reason: `the ${what} was retired` };
  return null;
}

export const contractPrices: MasterDataKind = {
  name: 'contract-prices',
  title: 'Contract prices',
  subjectType: 'contract_price',
  path: '/contract-prices',
  readsElsewhere: false,
  writers: ['asset_manager', 'admin'],
  columns: ['contractNumber', 'itemType', 'manufacturerOrPublisher', 'itemName', 'unitPriceMinor', 'currency'],
  keyColumns: ['contractNumber', 'itemType', 'manufacturerOrPublisher', 'itemName'],
  sortColumns: ['contractNumber', 'itemName', 'unitPriceMinor'],
  schema: z.object({
    contractNumber: cells.text(32).transform((number) => number.toUpperCase()),
    itemType: cells.oneOf(ITEM_TYPES),
    manufacturerOrPublisher: cells.text(200),
    itemName: cells.text(200),
    unitPriceMinor: cells.amountMinor,
    currency: cells.currency,
  }),

  async findByKey(lookups, key, lock) {
    const [makerColumn, nameColumn] = key.itemType === 'hardware' ? ['hm.manufacturer', 'hm.name'] : ['sp.publisher', 'sp.name'];
    const query = select(lookups.db)
      .whereRaw('upper(c.number) = upper(?)', [key.contractNumber as string])
      .whereRaw(`lower(${makerColumn}) = lower(?) AND lower(${nameColumn}) = lower(?)`, [key.manufacturerOrPublisher as string, key.itemName as string]);
    const row = await locked(query, lock).first();
    return row ? toStored(row) : null;
  },

  async findByRef(db, ref, lock) {
    if (!isUuid(ref)) return null;
    const row = await locked(select(db).where('cp.id', ref), lock).first();
    return row ? toStored(row) : null;
  },

  async resolve(lookups, row, existing) {
    const before = existing?.row;
    const contract = await contractByNumber(lookups, row.contractNumber as string);
    const hardware = row.itemType === 'hardware';
    const item = hardware
      ? await hardwareModelByName(lookups, row.manufacturerOrPublisher as string, row.itemName as string)
      : await softwareProductByName(lookups, row.manufacturerOrPublisher as string, row.itemName as string);
    const sameItemAsBefore = before !== undefined && before.itemType === row.itemType
      && sameText(before.manufacturerOrPublisher, row.manufacturerOrPublisher) && sameText(before.itemName, row.itemName);
    const problems = [
      checkReference(contract, 'contractNumber', row.contractNumber, `contract ${row.contractNumber as string}`, before !== undefined && sameText(before.contractNumber, row.contractNumber)),
      checkReference(item, 'itemName', row.itemName, `${hardware ? 'hardware model' : 'software product'} ${row.manufacturerOrPublisher as string} / ${row.itemName as string}`, sameItemAsBefore),
    ].filter((problem): problem is ColumnProblem => problem !== null);
    if (problems.length > 0) return { problems };
    return {
      values: {
        contract_id: contract!.id, hardware_model_id: hardware ? item!.id : null, software_product_id: hardware ? null : item!.id,
        unit_price_minor: row.unitPriceMinor, currency: row.currency,
      },
    };
  },

  async insert(trx, values) {
    const [{ id }] = await trx('contract_prices').insert(values).returning('id');
    return id;
  },

  async update(trx, id, values) {
    await trx('contract_prices').where({ id }).update({ ...values, ...nextVersion(trx) });
  },

  async retire(trx, stored) {
    await trx('contract_prices').where({ id: stored.id }).update({ retired_at: trx.fn.now(), ...nextVersion(trx) });
    return null;
  },

  list(db, filter, page) {
    return listPage<ContractPriceRecord>({
      query: select(db), searchColumns: ['c.number', 'hm.manufacturer', 'hm.name', 'sp.publisher', 'sp.name'],
      sortable: { contractNumber: 'c.number', itemName: 'item_name', unitPriceMinor: 'cp.unit_price_minor' },
      defaultSort: 'contractNumber', idColumn: 'cp.id', retiredColumn: 'cp.retired_at',
    }, filter, page, toStored);
  },

  exportRows(db) {
    return streamedInOrder<ContractPriceRecord>(select(db).whereNull('cp.retired_at'), 'c.number', 'cp.id', toRow);
  },
};
