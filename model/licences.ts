import type { Knex } from 'knex';
import { compliancePosition, type ComplianceResult } from '../domain/licence-compliance';
import { paginate, type Page } from './page';

export interface ProductLicencePosition extends ComplianceResult {
  productId: string;
  publisher: string;
  product: string;
  metric: string;
  unitPriceMinor: number;
  /** The currency of the unit price and so of the true-up cost. */
  currency: string;
}

/** The units a product's entitlements grant today: in term and not retired (`p` is the product). */
export const ENTITLED_UNITS_SQL = `COALESCE((SELECT SUM(e.quantity) FROM software_entitlements e
                 WHERE e.product_id = p.id AND e.retired_at IS NULL AND e.starts_on <= CURRENT_DATE
                   AND (e.ends_on IS NULL OR e.ends_on >= CURRENT_DATE)), 0)::int`;

/** The units of a product installed or assigned and not reclaimed (`p` is the product). */
export const CONSUMED_UNITS_SQL = `COALESCE((SELECT SUM(c.units) FROM software_consumptions c
                 WHERE c.product_id = p.id AND c.reclaimed_at IS NULL), 0)::int`;

/**
 * The effective licence position per product: entitlements in term and not retired against
 * active (not reclaimed) consumptions. One query; the verdict comes from the pure compliance rule.
 */
export async function licencePositions(db: Knex, productIds?: string[]): Promise<ProductLicencePosition[]> {
  const query = db('software_products as p')
    .select(
      'p.id as productId',
      'p.publisher',
      'p.name as product',
      'p.licence_metric as metric',
      'p.unit_price_minor as unitPriceMinor',
      'p.currency',
      db.raw(`${ENTITLED_UNITS_SQL} AS "entitledUnits"`),
      db.raw(`${CONSUMED_UNITS_SQL} AS "consumedUnits"`),
    )
    .orderBy(['p.publisher', 'p.name']);
  if (productIds) query.whereIn('p.id', productIds);
  const rows: { productId: string; publisher: string; product: string; metric: string; unitPriceMinor: number; currency: string; entitledUnits: number; consumedUnits: number }[] =
    await query;
  return rows.map((r) => ({
    productId: r.productId,
    publisher: r.publisher,
    product: r.product,
    metric: r.metric,
    unitPriceMinor: r.unitPriceMinor,
    currency: r.currency,
    ...compliancePosition({ entitledUnits: r.entitledUnits, consumedUnits: r.consumedUnits, unitPriceMinor: r.unitPriceMinor }),
  }));
}

export interface EntitlementEntry {
  id: string;
  number: string;
  productId: string;
  publisher: string;
  product: string;
  metric: string;
  quantity: number;
  startsOn: string;
  endsOn: string | null;
  costMinor: number;
  currency: string;
  contractNumber: string | null;
  version: number;
  retiredAt: string | null;
  compliance: ProductLicencePosition | undefined;
}

/**
 * Entitlements by number, each with the licence position of its product; `position` keeps the
 * products in that position; retired ones (which no longer count) only when asked for.
 */
export async function listEntitlements(
  db: Knex,
  filters: { productId?: string; position?: ProductLicencePosition['position']; includeRetired?: boolean },
  page: { limit: number; offset: number },
): Promise<Page<EntitlementEntry>> {
  const positions = new Map((await licencePositions(db, filters.productId ? [filters.productId] : undefined)).map((p) => [p.productId, p]));
  const q = db('software_entitlements as e')
    .join('software_products as p', 'p.id', 'e.product_id')
    .leftJoin('contracts as c', 'c.id', 'e.contract_id')
    .select(
      'e.id', 'e.number', 'e.product_id as productId', 'p.publisher', 'p.name as product', 'e.metric', 'e.quantity',
      'e.starts_on as startsOn', 'e.ends_on as endsOn', 'e.cost_minor as costMinor', 'e.currency', 'c.number as contractNumber',
      'e.version', 'e.retired_at as retiredAt',
    )
    .orderBy('e.number');
  if (!filters.includeRetired) q.whereNull('e.retired_at');
  if (filters.productId) q.where('e.product_id', filters.productId);
  if (filters.position) {
    q.whereIn('e.product_id', [...positions.values()].filter((p) => p.position === filters.position).map((p) => p.productId));
  }
  return paginate(q, page, (row: Omit<EntitlementEntry, 'compliance' | 'retiredAt'> & { retiredAt: Date | null }) =>
    ({ ...row, retiredAt: row.retiredAt?.toISOString() ?? null, compliance: positions.get(row.productId) }));
}
