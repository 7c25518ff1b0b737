import type { Knex } from 'knex';
import { compliancePosition, type ComplianceResult } from '../domain/licence-compliance';

export interface ProductLicencePosition extends ComplianceResult {
  productId: string;
  publisher: string;
  product: string;
  metric: string;
}

/**
 * The effective licence position per product: entitlements in term against active (not
 * reclaimed) consumptions. One query; the verdict comes from the pure compliance rule.
 */
export async function licencePositions(db: Knex, productIds?: string[]): Promise<ProductLicencePosition[]> {
  const query = db('software_products as p')
    .select(
      'p.id as productId',
      'p.publisher',
      'p.name as product',
      'p.licence_metric as metric',
      'p.unit_price_minor as unitPriceMinor',
      db.raw(`COALESCE((SELECT SUM(e.quantity) FROM software_entitlements e
                 WHERE e.product_id = p.id AND e.starts_on <= CURRENT_DATE
                   AND (e.ends_on IS NULL OR e.ends_on >= CURRENT_DATE)), 0)::int AS "entitledUnits"`),
      db.raw(`COALESCE((SELECT SUM(c.units) FROM software_consumptions c
                 WHERE c.product_id = p.id AND c.reclaimed_at IS NULL), 0)::int AS "consumedUnits"`),
    )
    .orderBy(['p.publisher', 'p.name']);
  if (productIds) query.whereIn('p.id', productIds);
  const rows: { productId: string; publisher: string; product: string; metric: string; unitPriceMinor: number; entitledUnits: number; consumedUnits: number }[] =
    await query;
  return rows.map((r) => ({
    productId: r.productId,
    publisher: r.publisher,
    product: r.product,
    metric: r.metric,
    ...compliancePosition({ entitledUnits: r.entitledUnits, consumedUnits: r.consumedUnits, unitPriceMinor: r.unitPriceMinor }),
  }));
}
