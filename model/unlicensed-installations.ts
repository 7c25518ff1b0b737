/**
 * The consumptions of over-deployed products that no entitlement covers, each with where it is
 * (the record and its asset, or the person) and who reported it, and what covering it costs. The
 * oldest consumptions of a product are the licensed ones, so what is beyond the entitlement is the
 * newest: the units listed add up to the product's shortfall, their cost to its true-up cost.
 */
import type { Knex } from 'knex';
import { trueUpTotals, type TrueUpTotal } from '../domain/licence-compliance';
import { ENTITLED_UNITS_SQL, licencePositions, type ProductLicencePosition } from './licences';
import { paginate, type Page } from './page';

export interface UnlicensedInstallation {
  consumptionId: string;
  productId: string;
  publisher: string;
  product: string;
  metric: string;
  kind: 'installation' | 'assignment';
  units: number;
  /** Of its units, those beyond the entitlement (fewer than `units` only for the one that crosses it). */
  unlicensedUnits: number;
  installedAt: string;
  /** The feed that found it; null when a person or a workflow recorded it. */
  reportedBy: string | null;
  /** When a feed last listed it. */
  lastSeenAt: string | null;
  /** The feeds whose latest report on the record lists it, and when they reported, newest first. */
  listedBy: { source: string; at: string }[];
  /** The record it is installed on (discovered on it, or the CI of the asset it was recorded on). */
  ci: { id: string; number: string; name: string } | null;
  asset: { id: string; assetTag: string } | null;
  /** For an assignment, the person holding the seat. */
  person: { id: string; name: string; email: string } | null;
  trueUpCostMinor: number;
  currency: string;
}

/** A row as the query reads it: the entry's own fields with the nested ones flat and times as dates. */
interface Row extends Omit<UnlicensedInstallation, 'installedAt' | 'lastSeenAt' | 'ci' | 'asset' | 'person' | 'trueUpCostMinor'> {
  installedAt: Date;
  lastSeenAt: Date | null;
  ciId: string | null;
  ciNumber: string | null;
  ciName: string | null;
  assetId: string | null;
  assetTag: string | null;
  personId: string | null;
  personName: string | null;
  personEmail: string | null;
  unitPriceMinor: number;
}

// Only products consuming more than they are entitled to are ranked; the rest are licensed whole.
const UNLICENSED_SQL = `
  WITH over AS (
    SELECT p.id, p.publisher, p.name, p.licence_metric, p.unit_price_minor, p.currency, e.units AS entitled
      FROM software_products p
     CROSS JOIN LATERAL (SELECT ${ENTITLED_UNITS_SQL} AS units) e
     WHERE (SELECT coalesce(sum(c.units), 0) FROM software_consumptions c WHERE c.product_id = p.id AND c.reclaimed_at IS NULL) > e.units
  ), ranked AS (
    SELECT c.*, sum(c.units) OVER (PARTITION BY c.product_id ORDER BY c.installed_at, c.id) AS through
      FROM software_consumptions c
     WHERE c.reclaimed_at IS NULL AND c.product_id IN (SELECT id FROM over)
  )
  SELECT r.id AS "consumptionId", o.id AS "productId", o.publisher, o.name AS product, o.licence_metric AS metric,
         r.kind, r.units, least(r.units, r.through - o.entitled)::int AS "unlicensedUnits",
         r.installed_at AS "installedAt", r.discovered_by AS "reportedBy", r.last_seen_at AS "lastSeenAt",
         (SELECT coalesce(jsonb_agg(jsonb_build_object('source', f.source, 'at', f.report ->> 'at') ORDER BY (f.report ->> 'at')::timestamptz DESC, f.source), '[]')
            FROM jsonb_each(r.reported_by) AS f (source, report) WHERE (f.report ->> 'listed')::boolean) AS "listedBy",
         ci.id AS "ciId", ci.number AS "ciNumber", ci.name AS "ciName", a.id AS "assetId", a.asset_tag AS "assetTag",
         pe.id AS "personId", pe.name AS "personName", pe.email AS "personEmail",
         o.unit_price_minor AS "unitPriceMinor", o.currency
    FROM ranked r
    JOIN over o ON o.id = r.product_id
    LEFT JOIN configuration_items ci ON ci.id = coalesce(r.ci_id, (SELECT x.id FROM configuration_items x WHERE x.asset_id = r.asset_id))
    LEFT JOIN assets a ON a.id = coalesce(r.asset_id, ci.asset_id)
    LEFT JOIN people pe ON pe.id = r.person_id
   WHERE r.through > o.entitled`;

/** A page of unlicensed consumptions, by product (publisher, name), newest last; `productId` keeps one product's. */
export async function listUnlicensedInstallations(
  db: Knex,
  filters: { productId?: string },
  page: { limit: number; offset: number },
): Promise<Page<UnlicensedInstallation>> {
  const query = db.with('unlicensed', db.raw(UNLICENSED_SQL)).from('unlicensed').select('*')
    .orderBy([{ column: 'publisher' }, { column: 'product' }, { column: 'productId' }, { column: 'installedAt' }, { column: 'consumptionId' }]);
  if (filters.productId) query.where('productId', filters.productId);
  return paginate(query, page, (r: Row): UnlicensedInstallation => ({
    consumptionId: r.consumptionId,
    productId: r.productId,
    publisher: r.publisher,
    product: r.product,
    metric: r.metric,
    kind: r.kind,
    units: r.units,
    unlicensedUnits: r.unlicensedUnits,
    installedAt: r.installedAt.toISOString(),
    reportedBy: r.reportedBy,
    lastSeenAt: r.lastSeenAt?.toISOString() ?? null,
    listedBy: r.listedBy,
    ci: r.ciId ? { id: r.ciId, number: r.ciNumber!, name: r.ciName! } : null,
    asset: r.assetId ? { id: r.assetId, assetTag: r.assetTag! } : null,
    person: r.personId ? { id: r.personId, name: r.personName!, email: r.personEmail! } : null,
    trueUpCostMinor: r.unlicensedUnits * r.unitPriceMinor,
    currency: r.currency,
  }));
}

export interface LicenceReport {
  /** Every product's position, by publisher and name. */
  positions: ProductLicencePosition[];
  /** Every over-deployed product's true-up cost, one total per currency. */
  trueUpTotals: TrueUpTotal[];
  unlicensed: Page<UnlicensedInstallation>;
}

/**
 * The positions, their true-up totals and a page of the unlicensed consumptions (of one product
 * when asked): what the API and the licences page show.
 */
export async function licenceReport(db: Knex, filters: { productId?: string }, page: { limit: number; offset: number }): Promise<LicenceReport> {
  const [positions, unlicensed] = await Promise.all([
    licencePositions(db),
    listUnlicensedInstallations(db, filters, { limit: page.limit, offset: page.offset }),
  ]);
  return { positions, trueUpTotals: trueUpTotals(positions), unlicensed };
}
