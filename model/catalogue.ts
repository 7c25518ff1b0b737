import type { Knex } from 'knex';
import { chooseUnitPrice, type ChosenPrice, type ContractPrice } from '../domain/procurement';
import { likeContaining } from './directory';
import { isUuid } from './keys';
import { paginate, type Page } from './page';

type PageRequest = { limit: number; offset: number };

/**
 * What a requester reads to fill in a purchase request: cost centres with their budgets, vendors
 * with their contracts, and the catalogue with its prices. Reads only; money in integer minor units.
 */

export interface Money {
  amountMinor: number;
  currency: string;
}

/** YYYY-MM-DD of the first day of the month `monthsAhead` months from `now`'s (UTC, as the budget check counts months). */
export function monthStart(now: Date, monthsAhead = 0): string {
  return new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() + monthsAhead, 1)).toISOString().slice(0, 10);
}

const isoDay = (now: Date) => now.toISOString().slice(0, 10);

// --- cost centres -------------------------------------------------------------------------------

export interface CostCentreEntry {
  id: string;
  code: string;
  name: string;
  owner: { id: string; name: string; email: string } | null;
  thisMonthBudget: Money | null;
}

export interface CostCentreDetail extends CostCentreEntry {
  /** The budgets of the last 12 months, this month and the months ahead, oldest first. */
  budgets: { periodStart: string; amountMinor: number; currency: string }[];
}

interface CostCentreRow {
  id: string;
  code: string;
  name: string;
  ownerId: string | null;
  ownerName: string | null;
  ownerEmail: string | null;
  budgetMinor: number | null;
  budgetCurrency: string | null;
}

function costCentreQuery(db: Knex, now: Date): Knex.QueryBuilder {
  return db('cost_centres as cc')
    .leftJoin('people as o', 'o.id', 'cc.owner_id')
    // budgets are unique per cost centre and month: at most one row joins
    .leftJoin('budgets as b', (j) => j.on('b.cost_centre_id', 'cc.id').andOnVal('b.period_start', '=', monthStart(now)))
    .select(
      'cc.id', 'cc.code', 'cc.name', 'o.id as ownerId', 'o.name as ownerName', 'o.email as ownerEmail',
      'b.amount_minor as budgetMinor', 'b.currency as budgetCurrency',
    );
}

const toCostCentre = (row: CostCentreRow): CostCentreEntry => ({
  id: row.id,
  code: row.code,
  name: row.name,
  owner: row.ownerId ? { id: row.ownerId, name: row.ownerName!, email: row.ownerEmail! } : null,
  thisMonthBudget: row.budgetMinor === null ? null : { amountMinor: row.budgetMinor, currency: row.budgetCurrency!.trim() },
});

/**
 * Cost centres by code with their owner and this month's budget; `q` matches part of the code or
 * name. (The web UI's choice list of codes and names is listCostCentres in ./directory.)
 */
export function listCostCentrePage(db: Knex, filters: { q?: string }, page: PageRequest, now = new Date()): Promise<Page<CostCentreEntry>> {
  const q = costCentreQuery(db, now).orderBy('cc.code');
  if (filters.q) q.where((w) => w.whereILike('cc.code', likeContaining(filters.q!)).orWhereILike('cc.name', likeContaining(filters.q!)));
  return paginate(q, page, toCostCentre);
}

/** One cost centre by its code in any letter case, with its budgets from 12 months ago onwards. */
export async function findCostCentreDetail(db: Knex, code: string, now = new Date()): Promise<CostCentreDetail | undefined> {
  const row: CostCentreRow | undefined = await costCentreQuery(db, now).whereRaw('lower(cc.code) = lower(?)', [code]).first();
  if (!row) return undefined;
  const budgets = await db('budgets').where('cost_centre_id', row.id).where('period_start', '>=', monthStart(now, -12))
    .orderBy('period_start').select('period_start as periodStart', 'amount_minor as amountMinor', 'currency');
  return {
    ...toCostCentre(row),
    budgets: budgets.map((b: { periodStart: string; amountMinor: number; currency: string }) => ({ ...b, currency: b.currency.trim() })),
  };
}

// --- vendors ------------------------------------------------------------------------------------

export interface VendorEntry {
  id: string;
  name: string;
  contactEmail: string | null;
  active: boolean;
}

export interface VendorDetail extends VendorEntry {
  /** The natural key imports and contracts name it by. */
  code: string;
  /** Compared with If-Match by an update (PATCH /vendors/:code). */
  version: number;
  retiredAt: string | null;
  /** Every contract with the vendor, the soonest ending first. */
  contracts: { id: string; number: string; kind: string; title: string; startsOn: string; endsOn: string }[];
}

const vendorColumns = ['v.id', 'v.name', 'v.contact_email as contactEmail', 'v.active'];

/** Vendors by name; `q` matches part of the name. */
export function listVendors(db: Knex, filters: { q?: string; active?: boolean }, page: PageRequest): Promise<Page<VendorEntry>> {
  const q = db('vendors as v').select(vendorColumns).orderBy('v.name');
  if (filters.q) q.whereILike('v.name', likeContaining(filters.q));
  if (filters.active !== undefined) q.where('v.active', filters.active);
  return paginate(q, page, (row: VendorEntry) => row);
}

/** One vendor by its id or its code (any letter case). */
export async function findVendorDetail(db: Knex, ref: string): Promise<VendorDetail | undefined> {
  const query = isUuid(ref) ? db('vendors as v').where('v.id', ref) : db('vendors as v').whereRaw('upper(v.code) = upper(?)', [ref]);
  const vendor: (VendorEntry & { code: string; version: number; retiredAt: Date | null }) | undefined = await query.first([...vendorColumns, 'v.code', 'v.version', 'v.retired_at as retiredAt']);
  if (!vendor) return undefined;
  const contracts = await db('contracts').where('vendor_id', vendor.id).orderBy(['ends_on', 'number'])
    .select('id', 'number', 'kind', 'title', 'starts_on as startsOn', 'ends_on as endsOn');
  return { ...vendor, retiredAt: vendor.retiredAt?.toISOString() ?? null, contracts };
}

// --- the catalogue ------------------------------------------------------------------------------

export interface ContractPriceInForce {
  contractId: string;
  contractNumber: string;
  vendor: { id: string; name: string };
  unitPriceMinor: number;
  currency: string;
  startsOn: string;
  endsOn: string;
}

interface CataloguePricing {
  vendor: { id: string; name: string } | null;
  listPrice: Money;
  /** Negotiated prices under contracts in force today, with any vendor, cheapest first. */
  contractPrices: ContractPriceInForce[];
  /**
   * What a purchase request in the item's currency, ordered from the item's own vendor (the default
   * of a line), is priced at today: chooseUnitPrice, the rule the budget check applies.
   */
  priceToday: ChosenPrice;
}

export interface HardwareModelEntry extends CataloguePricing {
  id: string;
  manufacturer: string;
  name: string;
  category: string;
  warrantyMonths: number;
  usefulLifeMonths: number;
  depreciationMethod: string;
  /** Compared with If-Match by an update (PATCH /catalogue/hardware-models/:id). */
  version: number;
  retiredAt: string | null;
}

export interface SoftwareProductEntry extends CataloguePricing {
  id: string;
  publisher: string;
  name: string;
  licenceMetric: string;
  /** Compared with If-Match by an update (PATCH /catalogue/software-products/:id). */
  version: number;
  retiredAt: string | null;
}

interface ItemRow {
  id: string;
  vendorId: string | null;
  vendorName: string | null;
  listPriceMinor: number;
  currency: string;
  version: number;
  retiredAt: Date | null;
}

type Kind = 'hardware' | 'software';
const priceColumn: Record<Kind, string> = { hardware: 'hardware_model_id', software: 'software_product_id' };

/** The contract prices in force on `day` of these items, by item id. */
async function contractPricesOf(db: Knex, kind: Kind, itemIds: string[], day: string): Promise<Map<string, ContractPriceInForce[]>> {
  const byItem = new Map<string, ContractPriceInForce[]>();
  if (!itemIds.length) return byItem;
  const rows = await db('contract_prices as cp')
    .join('contracts as c', 'c.id', 'cp.contract_id')
    .join('vendors as v', 'v.id', 'c.vendor_id')
    .whereIn(`cp.${priceColumn[kind]}`, itemIds)
    .where('c.starts_on', '<=', day).where('c.ends_on', '>=', day)
    .whereNull('cp.retired_at').whereNull('c.retired_at')
    .orderBy(['cp.unit_price_minor', 'c.id'])
    .select(
      `cp.${priceColumn[kind]} as itemId`, 'c.id as contractId', 'c.number as contractNumber', 'v.id as vendorId', 'v.name as vendorName',
      'cp.unit_price_minor as unitPriceMinor', 'cp.currency', 'c.starts_on as startsOn', 'c.ends_on as endsOn',
    );
  for (const r of rows) {
    const list = byItem.get(r.itemId) ?? [];
    list.push({
      contractId: r.contractId, contractNumber: r.contractNumber, vendor: { id: r.vendorId, name: r.vendorName },
      unitPriceMinor: r.unitPriceMinor, currency: r.currency.trim(), startsOn: r.startsOn, endsOn: r.endsOn,
    });
    byItem.set(r.itemId, list);
  }
  return byItem;
}

async function withPricing<Row extends ItemRow, T>(
  db: Knex, kind: Kind, rows: Row[], now: Date, describe: (row: Row) => T,
): Promise<(T & CataloguePricing)[]> {
  const day = isoDay(now);
  const prices = await contractPricesOf(db, kind, rows.map((r) => r.id), day);
  return rows.map((row) => {
    const currency = row.currency.trim();
    const contractPrices = prices.get(row.id) ?? [];
    // As the budget check prices a line: the contracts of the line's vendor (the item's own by default), or any when it has none.
    const applicable: ContractPrice[] = contractPrices.filter((p) => row.vendorId === null || p.vendor.id === row.vendorId);
    return {
      ...describe(row),
      vendor: row.vendorId ? { id: row.vendorId, name: row.vendorName! } : null,
      listPrice: { amountMinor: row.listPriceMinor, currency },
      contractPrices,
      priceToday: chooseUnitPrice({ currency, onDate: day, list: { unitPriceMinor: row.listPriceMinor, currency }, contractPrices: applicable }),
    };
  });
}

async function pageWithPricing<Row extends ItemRow, T>(
  db: Knex, kind: Kind, query: Knex.QueryBuilder, page: PageRequest, now: Date, describe: (row: Row) => T,
): Promise<Page<T & CataloguePricing>> {
  const rows = await paginate(query, page, (row: Row) => row);
  return { items: await withPricing(db, kind, rows.items, now, describe), page: rows.page };
}

interface HardwareRow extends ItemRow {
  manufacturer: string;
  name: string;
  category: string;
  warrantyMonths: number;
  usefulLifeMonths: number;
  depreciationMethod: string;
}

const hardwareQuery = (db: Knex) =>
  db('hardware_models as m')
    .leftJoin('vendors as v', 'v.id', 'm.vendor_id')
    .select(
      'm.id', 'm.manufacturer', 'm.name', 'm.category', 'v.id as vendorId', 'v.name as vendorName',
      'm.list_price_minor as listPriceMinor', 'm.currency', 'm.warranty_months as warrantyMonths',
      'm.useful_life_months as usefulLifeMonths', 'm.depreciation_method as depreciationMethod', 'm.version', 'm.retired_at as retiredAt',
    );

const describeHardware = ({ id, manufacturer, name, category, warrantyMonths, usefulLifeMonths, depreciationMethod, version, retiredAt }: HardwareRow) =>
  ({ id, manufacturer, name, category, warrantyMonths, usefulLifeMonths, depreciationMethod, version, retiredAt: retiredAt?.toISOString() ?? null });

/** Hardware models by manufacturer and name; `q` matches part of either; retired ones only when asked for. */
export function listHardwareModels(
  db: Knex, filters: { q?: string; category?: string; vendorId?: string; includeRetired?: boolean }, page: PageRequest, now = new Date(),
): Promise<Page<HardwareModelEntry>> {
  const q = hardwareQuery(db).orderBy(['m.manufacturer', 'm.name']);
  if (!filters.includeRetired) q.whereNull('m.retired_at');
  if (filters.q) q.where((w) => w.whereILike('m.manufacturer', likeContaining(filters.q!)).orWhereILike('m.name', likeContaining(filters.q!)));
  if (filters.category) q.whereRaw('lower(m.category) = lower(?)', [filters.category]);
  if (filters.vendorId) q.where('m.vendor_id', filters.vendorId);
  return pageWithPricing(db, 'hardware', q, page, now, describeHardware);
}

export async function findHardwareModel(db: Knex, id: string, now = new Date()): Promise<HardwareModelEntry | undefined> {
  const row: HardwareRow | undefined = await hardwareQuery(db).where('m.id', id).first();
  return row ? (await withPricing(db, 'hardware', [row], now, describeHardware))[0] : undefined;
}

interface SoftwareRow extends ItemRow {
  publisher: string;
  name: string;
  licenceMetric: string;
}

const softwareQuery = (db: Knex) =>
  db('software_products as s')
    .leftJoin('vendors as v', 'v.id', 's.vendor_id')
    .select(
      's.id', 's.publisher', 's.name', 's.licence_metric as licenceMetric', 'v.id as vendorId', 'v.name as vendorName',
      's.unit_price_minor as listPriceMinor', 's.currency', 's.version', 's.retired_at as retiredAt',
    );

const describeSoftware = ({ id, publisher, name, licenceMetric, version, retiredAt }: SoftwareRow) =>
  ({ id, publisher, name, licenceMetric, version, retiredAt: retiredAt?.toISOString() ?? null });

/** Software products by publisher and name; `q` matches part of either; retired ones only when asked for. */
export function listSoftwareProducts(
  db: Knex, filters: { q?: string; licenceMetric?: string; vendorId?: string; includeRetired?: boolean }, page: PageRequest, now = new Date(),
): Promise<Page<SoftwareProductEntry>> {
  const q = softwareQuery(db).orderBy(['s.publisher', 's.name']);
  if (!filters.includeRetired) q.whereNull('s.retired_at');
  if (filters.q) q.where((w) => w.whereILike('s.publisher', likeContaining(filters.q!)).orWhereILike('s.name', likeContaining(filters.q!)));
  if (filters.licenceMetric) q.where('s.licence_metric', filters.licenceMetric);
  if (filters.vendorId) q.where('s.vendor_id', filters.vendorId);
  return pageWithPricing(db, 'software', q, page, now, describeSoftware);
}

export async function findSoftwareProduct(db: Knex, id: string, now = new Date()): Promise<SoftwareProductEntry | undefined> {
  const row: SoftwareRow | undefined = await softwareQuery(db).where('s.id', id).first();
  return row ? (await withPricing(db, 'software', [row], now, describeSoftware))[0] : undefined;
}
