/**
 * Optimisation findings: one detector per kind (set-based, bounded), the write that merges what a
 * scan found into the live findings, and the reads and state changes of the API and the page.
 */
import type { Knex } from 'knex';
import { bookValue, type DepreciationMethod } from '../domain/depreciation';
import {
  DEACTIVATED_SEAT_DAYS,
  DISMISSAL_QUIET_DAYS,
  FINDING_EFFECTS,
  IDLE_IN_STOCK_DAYS,
  MAX_FINDINGS_PER_KIND,
  SERVICE_WALK_DEPTH,
  UNOWNED_CLOUD_COST_DAYS,
  UNSEEN_DEVICE_DAYS,
  UNUSED_LICENCE_DAYS,
  FINDING_STATES,
  actionNote,
  actionProgress,
  costInMinorUnits,
  shareUnusedUnits,
  unusedLicenceSavingMinor,
  unusedLicenceUnits,
  type ActionFacts,
  type ActionProcess,
  type FindingEffect,
  type FindingKind,
  type FindingState,
} from '../domain/findings';
import { compliancePosition } from '../domain/licence-compliance';
import { MAX_AMOUNT_MINOR } from '../domain/money';
import { licencePositions } from './licences';
import { latestTermEnd } from './renewal-decisions';
import { paginate, type Page } from './page';
import { listUnlicensedInstallations } from './unlicensed-installations';

/** What a detector found about one subject. */
export interface FindingCandidate {
  subjectType: 'entitlement' | 'software_product' | 'asset' | 'contract' | 'configuration_item';
  subjectId: string;
  subjectRef: string;
  title: string;
  amountMinor: bigint;
  currency: string;
  details: Record<string, unknown>;
}

export interface Detection {
  candidates: FindingCandidate[];
  /** More than MAX_FINDINGS_PER_KIND were found: the largest were kept. */
  truncated: boolean;
}

function groupBy<T>(items: readonly T[], keyOf: (item: T) => string): Map<string, T[]> {
  const groups = new Map<string, T[]>();
  for (const item of items) {
    const group = groups.get(keyOf(item));
    if (group) group.push(item);
    else groups.set(keyOf(item), [item]);
  }
  return groups;
}

const daysBefore = (asOf: Date, days: number) => new Date(asOf.getTime() - days * 86_400_000);
const dateOf = (instant: Date) => instant.toISOString().slice(0, 10);

/** The largest amounts first, at most the bound; an amount beyond MAX_AMOUNT_MINOR is bad data, not a finding. */
function bounded(candidates: FindingCandidate[]): Detection {
  const kept = candidates.filter((c) => c.amountMinor >= 0n && c.amountMinor <= BigInt(MAX_AMOUNT_MINOR))
    .sort((a, b) => (a.amountMinor === b.amountMinor ? a.subjectId.localeCompare(b.subjectId) : a.amountMinor > b.amountMinor ? -1 : 1));
  return { candidates: kept.slice(0, MAX_FINDINGS_PER_KIND), truncated: kept.length > MAX_FINDINGS_PER_KIND };
}

interface ProductUseRow {
  productId: string;
  publisher: string;
  product: string;
  unitPriceMinor: number;
  currency: string;
  entitledUnits: number;
  consumedUnits: number;
  idleUnits: number;
  lastAddedAt: Date | null;
  idleRecords: { ciId: string; ciNumber: string }[];
}

/**
 * Per product with entitlements in term on :onDate: the units entitled and consumed (the licence
 * report's rule, judged that day), the units of live consumptions that are not in use (on a device
 * in stock, missing or retired; on a record no feed saw for UNSEEN_DEVICE_DAYS; a seat of a person
 * deactivated DEACTIVATED_SEAT_DAYS ago), the records they are on, and when a consumption was last
 * added or an entitlement last started. Consumptions are aggregated once per product, then joined.
 */
const PRODUCT_USE_SQL = `
  WITH entitled AS (
    SELECT e.product_id, sum(e.quantity)::int AS units, max(e.starts_on) AS last_start
      FROM software_entitlements e
     WHERE e.retired_at IS NULL AND e.starts_on <= :onDate AND (e.ends_on IS NULL OR e.ends_on >= :onDate)
     GROUP BY e.product_id
  ), live AS (
    SELECT c.product_id, c.units, c.installed_at, ci.id AS ci_id, ci.number AS ci_number,
           coalesce(coalesce(a.state, ca.state) IN ('in_stock', 'missing', 'retired'), false)
           OR coalesce(seen.last_seen_at < :unseenSince, false)
           OR coalesce(c.kind = 'assignment' AND NOT pe.active AND pe.deactivated_at < :deactivatedSince, false) AS idle
      FROM software_consumptions c
      JOIN entitled en ON en.product_id = c.product_id
      LEFT JOIN assets a ON a.id = c.asset_id
      LEFT JOIN configuration_items ci ON ci.id = coalesce(c.ci_id, (SELECT x.id FROM configuration_items x WHERE x.asset_id = c.asset_id))
      LEFT JOIN assets ca ON ca.id = ci.asset_id
      LEFT JOIN people pe ON pe.id = c.person_id
      LEFT JOIN LATERAL (SELECT max(s.last_seen_at) AS last_seen_at FROM ci_sightings s WHERE s.ci_id = ci.id) seen ON true
     WHERE c.reclaimed_at IS NULL
  ), used AS (
    SELECT l.product_id, sum(l.units)::int AS consumed, coalesce(sum(l.units) FILTER (WHERE l.idle), 0)::int AS idle_units,
           max(l.installed_at) AS last_installed,
           jsonb_agg(DISTINCT jsonb_build_object('ciId', l.ci_id, 'ciNumber', l.ci_number)) FILTER (WHERE l.idle AND l.ci_id IS NOT NULL) AS idle_records
      FROM live l
     GROUP BY l.product_id
  )
  SELECT p.id AS "productId", p.publisher, p.name AS product, p.unit_price_minor AS "unitPriceMinor", p.currency,
         en.units AS "entitledUnits", coalesce(u.consumed, 0) AS "consumedUnits", coalesce(u.idle_units, 0) AS "idleUnits",
         greatest(u.last_installed, en.last_start::timestamptz) AS "lastAddedAt", coalesce(u.idle_records, '[]') AS "idleRecords"
    FROM entitled en
    JOIN software_products p ON p.id = en.product_id
    LEFT JOIN used u ON u.product_id = en.product_id`;

/** Most idle records a finding names (and so its change): a change names at most 500 records. */
const MAX_IDLE_RECORDS = 500;

interface EntitlementInTerm { id: string; number: string; productId: string; quantity: number; startsOn: string; endsOn: string | null; costMinor: number; currency: string }

/**
 * Licences paid for and not used, one finding per product (the entitlements it is shared among in
 * its details): none for an over-deployed product, which the over-deployment finding is about. The
 * position and the 90-day rules are judged at `asOf`. The amount is in the currency of the
 * entitlement ending soonest; shares in another currency are in the details, never added to it.
 */
async function detectUnusedEntitlements(db: Knex, asOf: Date): Promise<Detection> {
  const onDate = dateOf(asOf);
  const [use, entitlements] = await Promise.all([
    db.raw<{ rows: ProductUseRow[] }>(PRODUCT_USE_SQL, {
      onDate,
      unseenSince: daysBefore(asOf, UNSEEN_DEVICE_DAYS),
      deactivatedSince: daysBefore(asOf, DEACTIVATED_SEAT_DAYS),
    }),
    db('software_entitlements as e')
      .whereNull('e.retired_at').where('e.starts_on', '<=', onDate)
      .where((q) => q.whereNull('e.ends_on').orWhere('e.ends_on', '>=', onDate))
      .select('e.id', 'e.number', 'e.product_id as productId', 'e.quantity', 'e.starts_on as startsOn', 'e.ends_on as endsOn', 'e.cost_minor as costMinor', 'e.currency') as Promise<EntitlementInTerm[]>,
  ]);
  const staleBefore = daysBefore(asOf, UNUSED_LICENCE_DAYS);
  const byProduct = groupBy(entitlements, (e) => e.productId);
  const candidates: FindingCandidate[] = [];
  for (const facts of use.rows) {
    const terms = byProduct.get(facts.productId);
    if (!terms) continue;
    const position = compliancePosition({ entitledUnits: facts.entitledUnits, consumedUnits: facts.consumedUnits, unitPriceMinor: facts.unitPriceMinor });
    if (position.position === 'over_deployed') continue;
    const spareIsStale = facts.lastAddedAt !== null && facts.lastAddedAt < staleBefore;
    const unused = unusedLicenceUnits({ entitledUnits: facts.entitledUnits, consumedUnits: facts.consumedUnits, idleUnits: facts.idleUnits, spareIsStale });
    const shares = shareUnusedUnits(unused, terms).map(({ entitlement, units }) => ({
      id: entitlement.id, number: entitlement.number, units, quantity: entitlement.quantity, startsOn: entitlement.startsOn, endsOn: entitlement.endsOn,
      costMinor: entitlement.costMinor,
      currency: entitlement.costMinor > 0 ? entitlement.currency : facts.currency,
      savingMinor: unusedLicenceSavingMinor(entitlement, units, facts.unitPriceMinor),
      valuedAs: entitlement.costMinor <= 0 ? 'product unit price' : entitlement.endsOn === null ? 'perpetual: cost per unit' : 'term: cost per unit a year',
    }));
    if (shares.length === 0) continue;
    const { currency } = shares[0];
    const product = `${facts.publisher} ${facts.product}`;
    const reclaimableUnits = Math.min(facts.idleUnits, unused);
    candidates.push({
      subjectType: 'software_product',
      subjectId: facts.productId,
      subjectRef: product,
      title: `${unused} ${unused === 1 ? 'seat' : 'seats'} of ${product} paid for and not used`,
      amountMinor: shares.filter((s) => s.currency === currency).reduce((sum, s) => sum + s.savingMinor, 0n),
      currency,
      details: {
        productId: facts.productId, product, unusedUnits: unused, reclaimableUnits, entitledUnits: facts.entitledUnits, consumedUnits: facts.consumedUnits,
        idleUnits: facts.idleUnits, spareUnits: position.spareUnits, spareIsStale, lastAddedAt: facts.lastAddedAt?.toISOString() ?? null,
        entitlements: shares.map((s) => ({ ...s, savingMinor: s.savingMinor.toString() })),
        idleRecords: facts.idleRecords.slice(0, MAX_IDLE_RECORDS),
        idleRecordCount: facts.idleRecords.length,
      },
    });
  }
  return bounded(candidates);
}

/** Products consumed beyond their entitlement, with the true-up cost the licence report gives. */
async function detectOverDeployment(db: Knex): Promise<Detection> {
  const positions = (await licencePositions(db)).filter((p) => p.position === 'over_deployed');
  return bounded(positions.map((p) => ({
    subjectType: 'software_product',
    subjectId: p.productId,
    subjectRef: `${p.publisher} ${p.product}`,
    title: `${p.publisher} ${p.product} is used ${p.shortfallUnits} ${p.shortfallUnits === 1 ? 'unit' : 'units'} beyond its entitlement`,
    amountMinor: BigInt(p.trueUpCostMinor),
    currency: p.currency,
    details: { productId: p.productId, entitledUnits: p.entitledUnits, consumedUnits: p.consumedUnits, shortfallUnits: p.shortfallUnits, unitPriceMinor: p.unitPriceMinor },
  })));
}

/** Idle assets read per query while looking for the largest book values: memory stays bounded. */
const IDLE_BATCH = 5_000;

/**
 * Whether an asset is idle in stock by the detector's rule, as a query on `assets as a`: in stock
 * (disposal pending is a retirement started already) since before `since`, as the lifecycle's
 * process row says (an asset without one has not moved since its row changed).
 */
function idleInStock(db: Knex, since: Date) {
  return db('assets as a')
    .join('hardware_models as m', 'm.id', 'a.model_id')
    .leftJoin('processes as p', (j) => j.on('p.subject_id', 'a.id').andOnVal('p.process', 'asset_lifecycle'))
    .where('a.state', 'in_stock')
    .where((q) => q.whereNull('a.substate').orWhereNot('a.substate', 'pending_disposal'))
    .where(db.raw('coalesce(p.state_entered_at, a.updated_at)'), '<', since);
}

/** Whether the asset is still idle in stock at `asOf`: acting on a finding judged earlier checks it again. */
export async function isIdleInStock(db: Knex, assetId: string, asOf: Date): Promise<boolean> {
  return (await idleInStock(db, daysBefore(asOf, IDLE_IN_STOCK_DAYS)).where('a.id', assetId).first('a.id')) !== undefined;
}

type IdleAssetRow = {
  id: string; assetTag: string; model: string; substate: string; costMinor: number; salvageMinor: number; usefulLifeMonths: number;
  method: DepreciationMethod; purchaseDate: string | null; currency: string; inStockSince: Date;
};

/**
 * Assets in stock for more than IDLE_IN_STOCK_DAYS, at their book value on `asOf`. Every idle asset is
 * read (in batches, in id order) and valued, keeping the largest book values: ranking by what the
 * asset cost would keep the wrong ones past the bound.
 */
async function detectIdleInStock(db: Knex, asOf: Date): Promise<Detection> {
  const onDate = dateOf(asOf);
  const since = daysBefore(asOf, IDLE_IN_STOCK_DAYS);
  let kept: FindingCandidate[] = [];
  let seen = 0;
  let after: string | null = null;
  for (;;) {
    const query = idleInStock(db, since).orderBy('a.id').limit(IDLE_BATCH).select(
      'a.id', 'a.asset_tag as assetTag', db.raw(`m.manufacturer || ' ' || m.name AS model`), 'a.substate', 'a.purchase_cost_minor as costMinor',
      'a.salvage_value_minor as salvageMinor', 'a.useful_life_months as usefulLifeMonths', 'a.depreciation_method as method',
      'a.purchase_date as purchaseDate', 'a.currency', db.raw('coalesce(p.state_entered_at, a.updated_at) AS "inStockSince"'),
    );
    if (after !== null) query.where('a.id', '>', after);
    const rows: IdleAssetRow[] = await query;
    seen += rows.length;
    kept = bounded([...kept, ...rows.map((a) => {
      const value = bookValue({ method: a.method, costMinor: a.costMinor, salvageMinor: a.salvageMinor, usefulLifeMonths: a.usefulLifeMonths, purchaseDate: a.purchaseDate ?? onDate, onDate });
      const days = Math.floor((asOf.getTime() - a.inStockSince.getTime()) / 86_400_000);
      return {
        subjectType: 'asset' as const,
        subjectId: a.id,
        subjectRef: a.assetTag,
        title: `${a.assetTag} (${a.model}) has been in stock for ${days} days`,
        amountMinor: BigInt(value),
        currency: a.currency,
        details: { inStockSince: a.inStockSince.toISOString(), days, substate: a.substate, bookValueMinor: value, purchaseCostMinor: a.costMinor, bookValueOn: onDate },
      };
    })]).candidates;
    if (rows.length < IDLE_BATCH) break;
    after = rows[rows.length - 1].id;
  }
  return { candidates: kept, truncated: seen > MAX_FINDINGS_PER_KIND };
}

/**
 * In-use assets past their warranty whose record a tier-1 business service depends on, however
 * indirectly (a walk up the service map, SERVICE_WALK_DEPTH steps at most, so cycles end). The
 * exposure is what replacing it costs: its model's list price today, or what the asset cost when the
 * model has no price.
 */
const PAST_WARRANTY_SQL = `
  WITH RECURSIVE up (asset_id, ci_id, depth) AS (
    SELECT a.id, ci.id, 0
      FROM assets a JOIN configuration_items ci ON ci.asset_id = a.id AND ci.retired_at IS NULL
     WHERE a.state = 'in_use' AND a.warranty_end < :onDate
    UNION
    SELECT up.asset_id, r.from_ci_id, up.depth + 1
      FROM up JOIN ci_relationships r ON r.to_ci_id = up.ci_id AND r.retired_at IS NULL
     WHERE up.depth < :depth
  ), services AS (
    SELECT up.asset_id, jsonb_agg(DISTINCT jsonb_build_object('id', s.id, 'number', s.number, 'name', s.name)) AS services
      FROM up JOIN configuration_items s ON s.id = up.ci_id
     WHERE s.ci_class = 'business_service' AND s.criticality = 'tier_1' AND s.retired_at IS NULL
     GROUP BY up.asset_id
  )
  SELECT a.id, a.asset_tag AS "assetTag", a.warranty_end AS "warrantyEnd", m.manufacturer || ' ' || m.name AS model,
         ci.id AS "ciId", ci.number AS "ciNumber", ci.name AS "ciName", sv.services,
         CASE WHEN m.list_price_minor > 0 THEN m.list_price_minor ELSE a.purchase_cost_minor END AS "replacementMinor",
         CASE WHEN m.list_price_minor > 0 THEN m.currency ELSE a.currency END AS currency,
         CASE WHEN m.list_price_minor > 0 THEN 'model list price' ELSE 'purchase cost' END AS "valuedAs"
    FROM services sv
    JOIN assets a ON a.id = sv.asset_id
    JOIN hardware_models m ON m.id = a.model_id
    JOIN configuration_items ci ON ci.asset_id = a.id
   ORDER BY "replacementMinor" DESC, a.id
   LIMIT :limit`;

async function detectPastWarrantyTier1(db: Knex, asOf: Date): Promise<Detection> {
  const { rows } = await db.raw<{ rows: {
    id: string; assetTag: string; warrantyEnd: string; model: string; ciId: string; ciNumber: string; ciName: string;
    services: { id: string; number: string; name: string }[]; replacementMinor: number; currency: string; valuedAs: string;
  }[] }>(PAST_WARRANTY_SQL, { onDate: dateOf(asOf), depth: SERVICE_WALK_DEPTH, limit: MAX_FINDINGS_PER_KIND + 1 });
  const detection = bounded(rows.slice(0, MAX_FINDINGS_PER_KIND).map((a) => ({
    subjectType: 'asset' as const,
    subjectId: a.id,
    subjectRef: a.assetTag,
    title: `${a.assetTag} (${a.model}) is out of warranty since ${a.warrantyEnd} behind tier-1 ${a.services.map((s) => s.name).sort().join(', ')}`,
    amountMinor: BigInt(a.replacementMinor),
    currency: a.currency,
    details: { warrantyEnd: a.warrantyEnd, ci: { id: a.ciId, number: a.ciNumber, name: a.ciName }, services: a.services, valuedAs: a.valuedAs },
  })));
  return { ...detection, truncated: detection.truncated || rows.length > MAX_FINDINGS_PER_KIND };
}

/**
 * Contracts inside the renewal notice of their latest term (a renewed term counts: latestTermEnd) with
 * no renewal decision for that term: none open, none decided (or under way) for it. The exposure is
 * the term's value, what another term like it commits to.
 */
async function detectContractRenewals(db: Knex, asOf: Date): Promise<Detection> {
  const today = dateOf(asOf);
  const rows: { id: string; number: string; title: string; vendor: string; kind: string; valueMinor: number; currency: string; endsOn: string; noticeDays: number; noticeFrom: string; autoRenew: boolean }[] =
    await db('contracts as c')
      .join('vendors as v', 'v.id', 'c.vendor_id')
      .join(latestTermEnd(db).as('lt'), 'lt.contract_id', 'c.id')
      .whereNull('c.retired_at')
      .whereRaw(`lt.ends_on - c.renewal_notice_days <= ?::date AND ?::date < lt.ends_on`, [today, today])
      .whereNotExists(db('contract_renewals as r').whereRaw('r.contract_id = c.id')
        .where((q) => q.where('r.state', 'open').orWhere((d) => d.whereNot('r.state', 'cancelled').whereRaw('r.term_ends_on = lt.ends_on'))))
      .orderBy('lt.value_minor', 'desc').orderBy('c.id')
      .limit(MAX_FINDINGS_PER_KIND + 1)
      .select('c.id', 'c.number', 'c.title', 'v.name as vendor', 'c.kind', 'lt.value_minor as valueMinor', 'lt.currency', 'lt.ends_on as endsOn',
        'c.renewal_notice_days as noticeDays', db.raw(`(lt.ends_on - c.renewal_notice_days) AS "noticeFrom"`), 'c.auto_renew as autoRenew');
  const detection = bounded(rows.slice(0, MAX_FINDINGS_PER_KIND).map((c) => ({
    subjectType: 'contract' as const,
    subjectId: c.id,
    subjectRef: c.number,
    title: `${c.number} ${c.title} (${c.vendor}) ends on ${c.endsOn}: ${c.autoRenew ? 'it renews on its own' : 'decide whether to renew'}`,
    amountMinor: BigInt(c.valueMinor),
    currency: c.currency,
    details: { endsOn: c.endsOn, renewalNoticeDays: c.noticeDays, noticeFrom: c.noticeFrom, autoRenew: c.autoRenew, kind: c.kind, vendor: c.vendor },
  })));
  return { ...detection, truncated: detection.truncated || rows.length > MAX_FINDINGS_PER_KIND };
}

/**
 * The rule for cloud cost nobody answers for, which the findings and COBIT DSS05 share: per cloud
 * resource record (not retired, with no owner and no cost centre) and billing currency, the effective
 * cost of its imported charges not allocated to a cost centre by a tag, over the UNOWNED_CLOUD_COST_DAYS
 * days up to the end of the latest charge imported before `asOf` (the bills imported so far).
 * Exact numeric text; only resources whose cost adds up to more than nothing.
 */
export function unownedCloudCosts(db: Knex, asOf: Date): Knex.Raw {
  return db.raw(`
    WITH latest AS (
      SELECT least(r.charge_period_end, :asOf::timestamptz) AS until
        FROM cost_records r
       WHERE r.cost_import_id IS NOT NULL AND r.charge_period_start < :asOf
       ORDER BY r.charge_period_start DESC, r.charge_period_end DESC
       LIMIT 1
    )
    SELECT ci.id, ci.number, ci.name, ci.cloud_resource_id AS "resourceId", r.billing_currency AS currency,
           sum(r.effective_cost)::text AS cost, count(*)::int AS records, array_agg(DISTINCT r.provider_name ORDER BY r.provider_name) AS providers,
           min(latest.until) - make_interval(days => :days) AS since, min(latest.until) AS until
      FROM latest
      JOIN cost_records r ON r.charge_period_start >= latest.until - make_interval(days => :days) AND r.charge_period_start < latest.until
      JOIN configuration_items ci ON ci.id = r.ci_id
     WHERE r.cost_import_id IS NOT NULL AND r.cost_centre_id IS NULL
       AND ci.ci_class = 'cloud_resource' AND ci.owner_id IS NULL AND ci.cost_centre_id IS NULL AND ci.retired_at IS NULL
     GROUP BY ci.id, r.billing_currency
    HAVING sum(r.effective_cost) > 0`, { asOf, days: UNOWNED_CLOUD_COST_DAYS });
}

/**
 * Cloud resources with cost and no owner (unownedCloudCosts). One finding per resource, in the first
 * of its currencies (the others are in its details); the amount is the effective cost rounded to
 * minor units for the finding only.
 */
async function detectUnownedCloudCost(db: Knex, asOf: Date): Promise<Detection> {
  const { rows } = await db.raw<{ rows: { id: string; number: string; name: string; resourceId: string | null; currency: string; cost: string; records: number; providers: string[]; since: Date; until: Date }[] }>(
    'SELECT * FROM (?) AS u ORDER BY u.id, u.currency', [unownedCloudCosts(db, asOf)]);
  const byCi = groupBy(rows, (r) => r.id);
  const candidates: FindingCandidate[] = [];
  for (const [, costs] of byCi) {
    const [first] = costs;
    const amountMinor = costInMinorUnits(first.cost, first.currency);
    if (amountMinor === undefined) continue;
    candidates.push({
      subjectType: 'configuration_item',
      subjectId: first.id,
      subjectRef: first.number,
      title: `${first.number} ${first.name} has cloud cost in the ${UNOWNED_CLOUD_COST_DAYS} days to ${dateOf(first.until)} and no owner`,
      amountMinor,
      currency: first.currency,
      details: {
        resourceId: first.resourceId, providers: first.providers, days: UNOWNED_CLOUD_COST_DAYS, since: first.since.toISOString(), until: first.until.toISOString(),
        costs: costs.map((c) => ({ currency: c.currency, effectiveCost: c.cost, records: c.records })),
        rounded: 'the amount is the effective cost rounded half up to minor units; the cost records keep every decimal place',
      },
    });
  }
  return bounded(candidates);
}

/** What a scan of one kind finds, judged at `asOf`. */
export function detectFindings(db: Knex, kind: FindingKind, asOf: Date): Promise<Detection> {
  switch (kind) {
    case 'unused_entitlement': return detectUnusedEntitlements(db, asOf);
    case 'over_deployment': return detectOverDeployment(db);
    case 'idle_in_stock': return detectIdleInStock(db, asOf);
    case 'past_warranty_tier1': return detectPastWarrantyTier1(db, asOf);
    case 'contract_renewal_due': return detectContractRenewals(db, asOf);
    case 'unowned_cloud_cost': return detectUnownedCloudCost(db, asOf);
  }
}

export interface ScanOutcome {
  found: number;
  stillOpen: number;
  resolved: number;
  /** Acted findings whose process did not do it, open again to be acted on anew. */
  reopened?: number;
}

/** An action a finding had, kept in its details when the finding is open again. */
export interface PastAction {
  process: ActionProcess;
  workflowId: string;
  ref: string;
  actedById: string | null;
  /** How it ended: the process's outcome (cancelled, rejected, unsuccessful…), the asset's state, or refused. */
  endedAs: string;
  reason: string;
  endedAt: string;
}

interface ActionRow {
  id: string;
  state: FindingState;
  workflowId: string;
  ref: string;
  actedById: string | null;
  subjectId: string;
  process: string | null;
  finished: boolean;
  outcome: string | null;
  assetState: string | null;
  assetSubstate: string | null;
}

/** The findings (one, or those of a kind) with an action, and what its process row and asset say. */
function actionRows(db: Knex, where: { kind?: FindingKind; id?: string }) {
  const query = db('optimisation_findings as f')
    .leftJoin('processes as p', 'p.workflow_id', 'f.action_workflow_id')
    .leftJoin('assets as a', (j) => j.on('a.id', 'p.subject_id').andOnVal('p.process', 'asset_lifecycle'))
    .whereIn('f.state', ['open', 'acted']).whereNotNull('f.action_workflow_id')
    .select('f.id', 'f.state', 'f.action_workflow_id as workflowId', 'f.action_ref as ref', 'f.acted_by_id as actedById', 'f.subject_id as subjectId',
      'p.process', db.raw('p.finished_at IS NOT NULL AS finished'), 'p.outcome', 'a.state as assetState', 'a.substate as assetSubstate');
  if (where.kind) query.where('f.kind', where.kind);
  if (where.id) query.where('f.id', where.id);
  return query.limit(MAX_FINDINGS_PER_KIND) as Promise<ActionRow[]>;
}

/** Sets a finding with an action open again, its action kept in details.pastActions: it can be acted on anew. */
export async function reopenFinding(db: Knex, findingId: string, workflowId: string, past: PastAction): Promise<boolean> {
  const updated = await db('optimisation_findings').where({ id: findingId, action_workflow_id: workflowId }).whereIn('state', ['open', 'acted'])
    .update({
      state: 'open', action_workflow_id: null, action_ref: null, acted_by_id: null, closed_at: null,
      details: db.raw(`jsonb_set(details, '{pastActions}', coalesce(details->'pastActions', '[]'::jsonb) || ?::jsonb)`, [JSON.stringify([past])]),
    });
  return updated > 0;
}

/**
 * Settles the actions of findings (one, or those of a kind) from their process rows: a claimed
 * action whose process registered is acted (a call that failed after the start); a succeeded one is
 * resolved with a closing note; one that did not do it (a change closed unsuccessful, rejected or
 * cancelled; a renewal cancelled; an asset taken out of disposal) is open again with the action in
 * its details. A claimed action not registered yet (no process row; an asset not moved) is left to the
 * call that claimed it, or its retry. Answers how many were resolved and reopened.
 */
export async function settleActions(db: Knex, where: { kind?: FindingKind; id?: string }): Promise<{ resolved: number; reopened: number }> {
  const rows = await actionRows(db, where);
  let resolved = 0;
  let reopened = 0;
  for (const row of rows) {
    if (!row.process) continue;
    const process = row.process as ActionProcess;
    const facts: ActionFacts = { finished: row.finished, outcome: row.outcome, assetState: row.assetState, assetSubstate: row.assetSubstate };
    const progress = actionProgress(process, facts);
    const claimed = row.state === 'open';
    if (claimed && process === 'asset_lifecycle' && progress === 'failed') continue;
    if (progress === 'running') {
      if (claimed) await db('optimisation_findings').where({ id: row.id, state: 'open', action_workflow_id: row.workflowId }).update({ state: 'acted' });
      continue;
    }
    const note = actionNote(process, progress, row.ref, facts);
    if (progress === 'succeeded') {
      resolved += await db('optimisation_findings').where({ id: row.id, action_workflow_id: row.workflowId }).whereIn('state', ['open', 'acted'])
        .update({ state: 'resolved', closed_at: db.fn.now(), closing_note: note });
    } else if (await reopenFinding(db, row.id, row.workflowId, {
      process, workflowId: row.workflowId, ref: row.ref, actedById: row.actedById,
      endedAs: process === 'asset_lifecycle' ? `${row.assetState}${row.assetSubstate ? `/${row.assetSubstate}` : ''}` : row.outcome ?? 'ended',
      reason: note, endedAt: new Date().toISOString(),
    })) {
      reopened++;
    }
  }
  return { resolved, reopened };
}

/**
 * Merges a scan's findings of one kind into the live ones, in one transaction. First the actions are
 * settled (settleActions): a finding acted on successfully is resolved, so a subject still found gets
 * a new finding; one whose action did not do it is open again. Then a subject without a live finding
 * gets a new one; a live one (open or acted) gets the new amount, details (its past actions kept) and
 * last_seen_at (the live unique index meets two scans at once); the open ones not found any more are
 * resolved (not one whose action registered: the settling decides those), unless the detection was
 * truncated (the ones beyond the bound were not judged). A subject whose finding was dismissed within
 * DISMISSAL_QUIET_DAYS is left alone.
 */
export async function recordFindings(db: Knex, kind: FindingKind, detection: Detection, asOf: Date): Promise<ScanOutcome> {
  const rows = detection.candidates.map((c) => ({
    subject_type: c.subjectType, subject_id: c.subjectId, subject_ref: c.subjectRef, title: c.title.slice(0, 500),
    amount_minor: c.amountMinor.toString(), currency: c.currency, details: c.details,
  }));
  return db.transaction(async (trx) => {
    const settled = await settleActions(trx, { kind });
    const { rows: written } = await trx.raw<{ rows: { inserted: boolean }[] }>(`
      INSERT INTO optimisation_findings AS f (kind, effect, subject_type, subject_id, subject_ref, title, amount_minor, currency, details)
      SELECT :kind, :effect, x.subject_type, x.subject_id, x.subject_ref, x.title, x.amount_minor, x.currency, x.details
        FROM jsonb_to_recordset(:rows::jsonb) AS x (subject_type text, subject_id uuid, subject_ref text, title text, amount_minor bigint, currency text, details jsonb)
       WHERE NOT EXISTS (SELECT 1 FROM optimisation_findings d
                          WHERE d.kind = :kind AND d.subject_id = x.subject_id AND d.state = 'dismissed' AND d.closed_at > :quietSince)
      ON CONFLICT (kind, subject_id) WHERE state IN ('open', 'acted') DO UPDATE SET
        subject_type = EXCLUDED.subject_type, subject_ref = EXCLUDED.subject_ref, title = EXCLUDED.title, amount_minor = EXCLUDED.amount_minor,
        currency = EXCLUDED.currency, last_seen_at = now(),
        details = EXCLUDED.details || jsonb_strip_nulls(jsonb_build_object('pastActions', f.details->'pastActions'))
      RETURNING (xmax = 0) AS inserted`, { kind, effect: FINDING_EFFECTS[kind], rows: JSON.stringify(rows), quietSince: daysBefore(asOf, DISMISSAL_QUIET_DAYS) });
    const resolved = detection.truncated ? 0 : await trx('optimisation_findings as f')
      .where({ 'f.kind': kind, 'f.state': 'open' })
      .whereNotIn('f.subject_id', rows.map((r) => r.subject_id))
      .whereNotExists(trx('processes as p').whereRaw('p.workflow_id = f.action_workflow_id'))
      .update({ state: 'resolved', closed_at: trx.fn.now(), closing_note: 'no longer found by the scan' });
    const found = written.filter((w) => w.inserted).length;
    return { found, stillOpen: written.length - found, resolved: resolved + settled.resolved, reopened: settled.reopened };
  });
}

export interface Finding {
  id: string;
  number: string;
  kind: FindingKind;
  subjectType: string;
  subjectId: string;
  subjectRef: string;
  title: string;
  effect: FindingEffect;
  amountMinor: number;
  currency: string;
  details: Record<string, unknown>;
  state: FindingState;
  foundAt: string;
  lastSeenAt: string;
  closedAt: string | null;
  actedById: string | null;
  actionWorkflowId: string | null;
  actionRef: string | null;
  closingNote: string | null;
}

interface FindingRow extends Omit<Finding, 'foundAt' | 'lastSeenAt' | 'closedAt'> {
  foundAt: Date;
  lastSeenAt: Date;
  closedAt: Date | null;
}

const FINDING_COLUMNS = [
  'f.id', 'f.number', 'f.kind', 'f.subject_type as subjectType', 'f.subject_id as subjectId', 'f.subject_ref as subjectRef', 'f.title', 'f.effect',
  'f.amount_minor as amountMinor', 'f.currency', 'f.details', 'f.state', 'f.found_at as foundAt', 'f.last_seen_at as lastSeenAt',
  'f.closed_at as closedAt', 'f.acted_by_id as actedById', 'f.action_workflow_id as actionWorkflowId', 'f.action_ref as actionRef', 'f.closing_note as closingNote',
];

const toFinding = (row: FindingRow): Finding => ({
  ...row,
  foundAt: row.foundAt.toISOString(),
  lastSeenAt: row.lastSeenAt.toISOString(),
  closedAt: row.closedAt?.toISOString() ?? null,
});

/** The actions a finding had that did not do it (each new action is keyed by how many there were). */
export const pastActionsOf = (finding: Finding): PastAction[] => (finding.details.pastActions as PastAction[] | undefined) ?? [];

export interface FindingFilters {
  state?: FindingState;
  kind?: FindingKind;
}

export interface FindingTotal {
  state: FindingState;
  currency: string;
  effect: FindingEffect;
  findings: number;
  /** Exact decimal text of minor units: a sum of many findings may pass the integers a number holds. */
  amountMinor: string;
}

function filtered(db: Knex, filters: FindingFilters) {
  const query = db('optimisation_findings as f');
  if (filters.state) query.where('f.state', filters.state);
  if (filters.kind) query.where('f.kind', filters.kind);
  return query;
}

/**
 * A page of findings, largest amounts first, and the totals of saving and exposure per state and
 * currency of every match: a saving acted on, dismissed or resolved is not added to the open ones.
 */
export async function listFindings(db: Knex, filters: FindingFilters, page: { limit: number; offset: number }): Promise<Page<Finding> & { totals: FindingTotal[] }> {
  const [list, totals] = await Promise.all([
    paginate(filtered(db, filters).select(FINDING_COLUMNS).orderBy([{ column: 'f.amount_minor', order: 'desc' }, { column: 'f.number' }]), page, toFinding),
    filtered(db, filters).groupBy('f.state', 'f.currency', 'f.effect')
      .orderByRaw(`array_position(?::text[], f.state), f.currency, f.effect`, [`{${FINDING_STATES.join(',')}}`])
      .select('f.state', 'f.currency', 'f.effect', db.raw('count(*)::int AS findings'), db.raw(`sum(f.amount_minor)::text AS "amountMinor"`)) as Promise<FindingTotal[]>,
  ]);
  return { ...list, totals };
}

export async function findFinding(db: Knex, number: string): Promise<Finding | undefined> {
  const row: FindingRow | undefined = await db('optimisation_findings as f').where('f.number', number).first(FINDING_COLUMNS);
  return row && toFinding(row);
}

/**
 * The finding, its row locked until the transaction ends: one claim per finding. No key update, so
 * that the renewal decision an action writes, which names the finding by its key, is not held up.
 */
export async function lockFinding(trx: Knex.Transaction, number: string): Promise<Finding | undefined> {
  const row: FindingRow | undefined = await trx('optimisation_findings as f').where('f.number', number).forNoKeyUpdate().first(FINDING_COLUMNS);
  return row && toFinding(row);
}

/**
 * Claims an open finding for an action before the action starts, in the caller's short transaction:
 * the workflow id (and number) it will start under, and who acts. A retry by anyone finds the claim
 * and starts the same action; the finding stays open until it is marked acted.
 */
export async function claimAction(trx: Knex.Transaction, findingId: string, action: { actedById: string; workflowId: string; ref: string }): Promise<void> {
  await trx('optimisation_findings').where({ id: findingId, state: 'open' }).whereNull('action_workflow_id')
    .update({ acted_by_id: action.actedById, action_workflow_id: action.workflowId, action_ref: action.ref });
}

/** The claimed action started: the finding is acted, under the workflow id and number the start answered. */
export async function markActed(db: Knex, findingId: string, claimedWorkflowId: string, action: { workflowId: string; ref: string }): Promise<boolean> {
  const updated = await db('optimisation_findings').where({ id: findingId, state: 'open', action_workflow_id: claimedWorkflowId })
    .update({ state: 'acted', action_workflow_id: action.workflowId, action_ref: action.ref });
  return updated > 0;
}

/** Resolves an open finding its subject no longer bears out (acting on it found so). */
export async function resolveFinding(db: Knex, findingId: string, note: string): Promise<void> {
  await db('optimisation_findings').where({ id: findingId, state: 'open' })
    .update({ state: 'resolved', closed_at: db.fn.now(), closing_note: note, action_workflow_id: null, action_ref: null });
}

export async function markDismissed(trx: Knex.Transaction, findingId: string, closedById: string, reason: string): Promise<void> {
  await trx('optimisation_findings').where({ id: findingId, state: 'open' }).whereNull('action_workflow_id')
    .update({ state: 'dismissed', acted_by_id: closedById, closed_at: trx.fn.now(), closing_note: reason });
}

/** The audit row of a person's command on a finding; once per finding and key (`action`, with the attempt for an action). */
export async function recordFindingCommand(db: Knex, finding: Finding, entry: { actor: string; action: string; key?: string; toState: string; details: Record<string, unknown> }): Promise<void> {
  await db('audit_log').insert({
    idempotency_key: `finding:${finding.id}:${entry.key ?? entry.action}`,
    actor: entry.actor,
    subject_type: 'optimisation_finding',
    subject_id: finding.id,
    action: entry.action,
    from_state: finding.state,
    to_state: entry.toState,
    details: entry.details,
  }).onConflict('idempotency_key').ignore();
}

/**
 * The records a licence finding names in its change, and the installs it reclaims: the idle
 * consumptions' records (unused), or the unlicensed ones' as the licence report ranks them (over-deployment).
 */
export async function licenceRecordsOf(db: Knex, finding: Finding): Promise<{ productId: string; ciIds: string[]; units: number }> {
  const details = finding.details as { productId: string; idleRecords?: { ciId: string }[]; shortfallUnits?: number; reclaimableUnits?: number };
  if (finding.kind === 'unused_entitlement') {
    return { productId: details.productId, ciIds: [...new Set((details.idleRecords ?? []).map((r) => r.ciId))], units: details.reclaimableUnits ?? 0 };
  }
  const { items } = await listUnlicensedInstallations(db, { productId: details.productId }, { limit: 200, offset: 0 });
  return { productId: details.productId, ciIds: [...new Set(items.flatMap((item) => (item.ci ? [item.ci.id] : [])))], units: details.shortfallUnits ?? 0 };
}
