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
  costInMinorUnits,
  shareUnusedUnits,
  unusedLicenceSavingMinor,
  unusedLicenceUnits,
  type FindingEffect,
  type FindingKind,
  type FindingState,
} from '../domain/findings';
import { MAX_AMOUNT_MINOR } from '../domain/money';
import { licencePositions } from './licences';
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
  idleUnits: number;
  lastAddedAt: Date | null;
  idleRecords: { ciId: string; ciNumber: string }[];
}

/**
 * Per product with entitlements in term: the units of live consumptions that are not in use (on a
 * device in stock, missing or retired; on a record no feed saw for UNSEEN_DEVICE_DAYS; a seat of a
 * person deactivated DEACTIVATED_SEAT_DAYS ago), the records they are on, and when a consumption was
 * last added or an entitlement last started.
 */
const PRODUCT_USE_SQL = `
  WITH live AS (
    SELECT c.product_id, c.units, c.installed_at, ci.id AS ci_id, ci.number AS ci_number,
           coalesce(a.state, ca.state) IN ('in_stock', 'missing', 'retired')
           OR (SELECT max(s.last_seen_at) FROM ci_sightings s WHERE s.ci_id = ci.id) < :unseenSince
           OR (c.kind = 'assignment' AND NOT pe.active AND pe.deactivated_at < :deactivatedSince) AS idle
      FROM software_consumptions c
      LEFT JOIN assets a ON a.id = c.asset_id
      LEFT JOIN configuration_items ci ON ci.id = coalesce(c.ci_id, (SELECT x.id FROM configuration_items x WHERE x.asset_id = c.asset_id))
      LEFT JOIN assets ca ON ca.id = ci.asset_id
      LEFT JOIN people pe ON pe.id = c.person_id
     WHERE c.reclaimed_at IS NULL
  ), entitled AS (
    SELECT e.product_id, max(e.starts_on) AS last_start
      FROM software_entitlements e
     WHERE e.retired_at IS NULL AND e.starts_on <= CURRENT_DATE AND (e.ends_on IS NULL OR e.ends_on >= CURRENT_DATE)
     GROUP BY e.product_id
  )
  SELECT en.product_id AS "productId",
         coalesce((SELECT sum(l.units) FILTER (WHERE l.idle) FROM live l WHERE l.product_id = en.product_id), 0)::int AS "idleUnits",
         greatest((SELECT max(l.installed_at) FROM live l WHERE l.product_id = en.product_id), en.last_start::timestamptz) AS "lastAddedAt",
         coalesce((SELECT jsonb_agg(DISTINCT jsonb_build_object('ciId', l.ci_id, 'ciNumber', l.ci_number))
                     FROM live l WHERE l.product_id = en.product_id AND l.idle AND l.ci_id IS NOT NULL), '[]') AS "idleRecords"
    FROM entitled en`;

/**
 * Licences paid for and not used, per entitlement. The position per product is the licence report's
 * own (entitlements in term today against live consumptions); the 90-day rules are judged at `asOf`.
 */
async function detectUnusedEntitlements(db: Knex, asOf: Date): Promise<Detection> {
  const [positions, use, entitlements] = await Promise.all([
    licencePositions(db),
    db.raw<{ rows: ProductUseRow[] }>(PRODUCT_USE_SQL, {
      unseenSince: daysBefore(asOf, UNSEEN_DEVICE_DAYS),
      deactivatedSince: daysBefore(asOf, DEACTIVATED_SEAT_DAYS),
    }),
    db('software_entitlements as e')
      .whereNull('e.retired_at').where('e.starts_on', '<=', db.raw('CURRENT_DATE'))
      .where((q) => q.whereNull('e.ends_on').orWhere('e.ends_on', '>=', db.raw('CURRENT_DATE')))
      .select('e.id', 'e.number', 'e.product_id as productId', 'e.quantity', 'e.starts_on as startsOn', 'e.ends_on as endsOn', 'e.cost_minor as costMinor', 'e.currency'),
  ]);
  const staleBefore = daysBefore(asOf, UNUSED_LICENCE_DAYS);
  const useOf = new Map(use.rows.map((row) => [row.productId, row]));
  const byProduct = groupBy(entitlements as { id: string; number: string; productId: string; quantity: number; startsOn: string; endsOn: string | null; costMinor: number; currency: string }[], (e) => e.productId);
  const candidates: FindingCandidate[] = [];
  for (const position of positions) {
    const facts = useOf.get(position.productId);
    const terms = byProduct.get(position.productId);
    if (!facts || !terms) continue;
    const spareIsStale = facts.lastAddedAt !== null && facts.lastAddedAt < staleBefore;
    const unused = unusedLicenceUnits({ entitledUnits: position.entitledUnits, consumedUnits: position.consumedUnits, idleUnits: facts.idleUnits, spareIsStale });
    for (const { entitlement, units } of shareUnusedUnits(unused, terms)) {
      const product = `${position.publisher} ${position.product}`;
      candidates.push({
        subjectType: 'entitlement',
        subjectId: entitlement.id,
        subjectRef: entitlement.number,
        title: `${units} ${units === 1 ? 'seat' : 'seats'} of ${product} paid for and not used (${entitlement.number})`,
        amountMinor: unusedLicenceSavingMinor(entitlement, units, position.unitPriceMinor),
        currency: entitlement.costMinor > 0 ? entitlement.currency : position.currency,
        details: {
          productId: position.productId, product, unusedUnits: units, productUnusedUnits: unused,
          entitledUnits: position.entitledUnits, consumedUnits: position.consumedUnits, idleUnits: facts.idleUnits,
          spareUnits: position.spareUnits, spareIsStale, lastAddedAt: facts.lastAddedAt?.toISOString() ?? null,
          entitlementQuantity: entitlement.quantity, entitlementCostMinor: entitlement.costMinor, startsOn: entitlement.startsOn, endsOn: entitlement.endsOn,
          valuedAs: entitlement.costMinor <= 0 ? 'product unit price' : entitlement.endsOn === null ? 'perpetual: cost per unit' : 'term: cost per unit a year',
          idleRecords: facts.idleRecords.slice(0, 100),
        },
      });
    }
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

/** Assets in stock for more than IDLE_IN_STOCK_DAYS (since the lifecycle entered in stock), at their book value. */
async function detectIdleInStock(db: Knex, asOf: Date): Promise<Detection> {
  const rows: {
    id: string; assetTag: string; model: string; substate: string; costMinor: number; salvageMinor: number; usefulLifeMonths: number;
    method: DepreciationMethod; purchaseDate: string | null; currency: string; inStockSince: Date;
  }[] = await db('assets as a')
    .join('hardware_models as m', 'm.id', 'a.model_id')
    // The lifecycle's process row says when the asset entered its state; an asset without one has not moved since its row changed.
    .leftJoin('processes as p', (j) => j.on('p.subject_id', 'a.id').andOnVal('p.process', 'asset_lifecycle'))
    .where('a.state', 'in_stock')
    // Disposal under way is a retirement already started.
    .whereNot('a.substate', 'pending_disposal')
    .where(db.raw('coalesce(p.state_entered_at, a.updated_at)'), '<', daysBefore(asOf, IDLE_IN_STOCK_DAYS))
    .orderBy('a.purchase_cost_minor', 'desc').orderBy('a.id')
    .limit(MAX_FINDINGS_PER_KIND + 1)
    .select(
      'a.id', 'a.asset_tag as assetTag', db.raw(`m.manufacturer || ' ' || m.name AS model`), 'a.substate', 'a.purchase_cost_minor as costMinor',
      'a.salvage_value_minor as salvageMinor', 'a.useful_life_months as usefulLifeMonths', 'a.depreciation_method as method',
      'a.purchase_date as purchaseDate', 'a.currency', db.raw('coalesce(p.state_entered_at, a.updated_at) AS "inStockSince"'),
    );
  const onDate = dateOf(asOf);
  const detection = bounded(rows.slice(0, MAX_FINDINGS_PER_KIND).map((a) => {
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
  }));
  return { ...detection, truncated: detection.truncated || rows.length > MAX_FINDINGS_PER_KIND };
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
 * Contracts inside their renewal notice (ends_on - renewal_notice_days <= today < ends_on) with no
 * renewal decision for this term: none open, none decided since one notice period before the notice
 * began. The exposure is the contract's value, what another term like this one commits to.
 */
async function detectContractRenewals(db: Knex, asOf: Date): Promise<Detection> {
  const today = dateOf(asOf);
  const rows: { id: string; number: string; title: string; vendor: string; kind: string; valueMinor: number; currency: string; endsOn: string; noticeDays: number; noticeFrom: string; autoRenew: boolean }[] =
    await db('contracts as c')
      .join('vendors as v', 'v.id', 'c.vendor_id')
      .whereNull('c.retired_at')
      .whereRaw(`c.ends_on - c.renewal_notice_days <= ?::date AND ?::date < c.ends_on`, [today, today])
      .whereNotExists(db('contract_renewals as r').whereRaw('r.contract_id = c.id')
        .where((q) => q.where('r.state', 'open')
          .orWhere((d) => d.whereNot('r.state', 'cancelled').whereRaw(`r.created_at >= (c.ends_on - 2 * c.renewal_notice_days)::timestamptz`))))
      .orderBy('c.value_minor', 'desc').orderBy('c.id')
      .limit(MAX_FINDINGS_PER_KIND + 1)
      .select('c.id', 'c.number', 'c.title', 'v.name as vendor', 'c.kind', 'c.value_minor as valueMinor', 'c.currency', 'c.ends_on as endsOn',
        'c.renewal_notice_days as noticeDays', db.raw(`(c.ends_on - c.renewal_notice_days) AS "noticeFrom"`), 'c.auto_renew as autoRenew');
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
 * Cloud resources with imported cost in the last UNOWNED_CLOUD_COST_DAYS that no one answers for: the
 * record has no owner and no cost centre, and the cost records were not allocated to one by a tag.
 * One finding per resource, in the first of its currencies (the others are in its details); the
 * amount is the effective cost rounded to minor units for the finding only.
 */
async function detectUnownedCloudCost(db: Knex, asOf: Date): Promise<Detection> {
  const { rows } = await db.raw<{ rows: { id: string; number: string; name: string; resourceId: string | null; currency: string; cost: string; records: number; providers: string[] }[] }>(`
    SELECT ci.id, ci.number, ci.name, ci.cloud_resource_id AS "resourceId", r.billing_currency AS currency,
           sum(r.effective_cost)::text AS cost, count(*)::int AS records, array_agg(DISTINCT r.provider_name) AS providers
      FROM cost_records r
      JOIN configuration_items ci ON ci.id = r.ci_id
     WHERE r.cost_import_id IS NOT NULL AND r.cost_centre_id IS NULL
       AND r.charge_period_start >= :since AND r.charge_period_start < :asOf
       AND ci.owner_id IS NULL AND ci.cost_centre_id IS NULL AND ci.retired_at IS NULL
     GROUP BY ci.id, r.billing_currency
    HAVING sum(r.effective_cost) > 0
     ORDER BY ci.id, r.billing_currency`, { since: daysBefore(asOf, UNOWNED_CLOUD_COST_DAYS), asOf });
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
      title: `${first.number} ${first.name} has cloud cost in the last ${UNOWNED_CLOUD_COST_DAYS} days and no owner`,
      amountMinor,
      currency: first.currency,
      details: {
        resourceId: first.resourceId, providers: first.providers, days: UNOWNED_CLOUD_COST_DAYS,
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
}

/**
 * Merges a scan's findings of one kind into the live ones, in one transaction: a subject without a
 * live finding gets a new one; a live one (open or acted) gets the new amount, details and
 * last_seen_at (the live unique index meets two scans at once); the open ones not found any more are
 * resolved, unless the detection was truncated (the ones beyond the bound were not judged). A subject
 * whose finding was dismissed within DISMISSAL_QUIET_DAYS is left alone.
 */
export async function recordFindings(db: Knex, kind: FindingKind, detection: Detection, asOf: Date): Promise<ScanOutcome> {
  const rows = detection.candidates.map((c) => ({
    subject_type: c.subjectType, subject_id: c.subjectId, subject_ref: c.subjectRef, title: c.title.slice(0, 500),
    amount_minor: c.amountMinor.toString(), currency: c.currency, details: c.details,
  }));
  return db.transaction(async (trx) => {
    const { rows: written } = await trx.raw<{ rows: { inserted: boolean }[] }>(`
      INSERT INTO optimisation_findings AS f (kind, effect, subject_type, subject_id, subject_ref, title, amount_minor, currency, details)
      SELECT :kind, :effect, x.subject_type, x.subject_id, x.subject_ref, x.title, x.amount_minor, x.currency, x.details
        FROM jsonb_to_recordset(:rows::jsonb) AS x (subject_type text, subject_id uuid, subject_ref text, title text, amount_minor bigint, currency text, details jsonb)
       WHERE NOT EXISTS (SELECT 1 FROM optimisation_findings d
                          WHERE d.kind = :kind AND d.subject_id = x.subject_id AND d.state = 'dismissed' AND d.closed_at > :quietSince)
      ON CONFLICT (kind, subject_id) WHERE state IN ('open', 'acted') DO UPDATE SET
        subject_ref = EXCLUDED.subject_ref, title = EXCLUDED.title, amount_minor = EXCLUDED.amount_minor,
        currency = EXCLUDED.currency, details = EXCLUDED.details, last_seen_at = now()
      RETURNING (xmax = 0) AS inserted`, { kind, effect: FINDING_EFFECTS[kind], rows: JSON.stringify(rows), quietSince: daysBefore(asOf, DISMISSAL_QUIET_DAYS) });
    const resolved = detection.truncated ? 0 : await trx('optimisation_findings')
      .where({ kind, state: 'open' })
      .whereNotIn('subject_id', rows.map((r) => r.subject_id))
      .update({ state: 'resolved', closed_at: trx.fn.now(), closing_note: 'no longer found by the scan' });
    const found = written.filter((w) => w.inserted).length;
    return { found, stillOpen: written.length - found, resolved };
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

export interface FindingFilters {
  state?: FindingState;
  kind?: FindingKind;
}

export interface FindingTotal {
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

/** A page of findings, largest amounts first, and the totals of saving and exposure per currency of every match. */
export async function listFindings(db: Knex, filters: FindingFilters, page: { limit: number; offset: number }): Promise<Page<Finding> & { totals: FindingTotal[] }> {
  const [list, totals] = await Promise.all([
    paginate(filtered(db, filters).select(FINDING_COLUMNS).orderBy([{ column: 'f.amount_minor', order: 'desc' }, { column: 'f.number' }]), page, toFinding),
    filtered(db, filters).groupBy('f.currency', 'f.effect').orderBy(['f.currency', 'f.effect'])
      .select('f.currency', 'f.effect', db.raw('count(*)::int AS findings'), db.raw(`sum(f.amount_minor)::text AS "amountMinor"`)) as Promise<FindingTotal[]>,
  ]);
  return { ...list, totals };
}

export async function findFinding(db: Knex, number: string): Promise<Finding | undefined> {
  const row: FindingRow | undefined = await db('optimisation_findings as f').where('f.number', number).first(FINDING_COLUMNS);
  return row && toFinding(row);
}

/**
 * The finding, its row locked until the transaction ends: one action per finding. No key update, so
 * that the renewal decision the action writes, which names the finding by its key, is not held up.
 */
export async function lockFinding(trx: Knex.Transaction, number: string): Promise<Finding | undefined> {
  const row: FindingRow | undefined = await trx('optimisation_findings as f').where('f.number', number).forNoKeyUpdate().first(FINDING_COLUMNS);
  return row && toFinding(row);
}

export async function markActed(trx: Knex.Transaction, findingId: string, action: { actedById: string; workflowId: string; ref: string }): Promise<void> {
  await trx('optimisation_findings').where({ id: findingId, state: 'open' })
    .update({ state: 'acted', acted_by_id: action.actedById, action_workflow_id: action.workflowId, action_ref: action.ref });
}

export async function markDismissed(trx: Knex.Transaction, findingId: string, closedById: string, reason: string): Promise<void> {
  await trx('optimisation_findings').where({ id: findingId, state: 'open' })
    .update({ state: 'dismissed', acted_by_id: closedById, closed_at: trx.fn.now(), closing_note: reason });
}

/** The audit row of a person's command on a finding, in its transaction; once per finding and action. */
export async function recordFindingCommand(trx: Knex.Transaction, finding: Finding, entry: { actor: string; action: string; toState: string; details: Record<string, unknown> }): Promise<void> {
  await trx('audit_log').insert({
    idempotency_key: `finding:${finding.id}:${entry.action}`,
    actor: entry.actor,
    subject_type: 'optimisation_finding',
    subject_id: finding.id,
    action: entry.action,
    from_state: finding.state,
    to_state: entry.toState,
    details: entry.details,
  });
}

/**
 * The records a licence finding names in its change, and the installs it reclaims: the idle
 * consumptions' records (unused), or the unlicensed ones' as the licence report ranks them (over-deployment).
 */
export async function licenceRecordsOf(db: Knex, finding: Finding): Promise<{ productId: string; ciIds: string[]; units: number }> {
  const details = finding.details as { productId: string; idleRecords?: { ciId: string }[]; shortfallUnits?: number; idleUnits?: number };
  if (finding.kind === 'unused_entitlement') {
    return { productId: details.productId, ciIds: [...new Set((details.idleRecords ?? []).map((r) => r.ciId))], units: details.idleUnits ?? 0 };
  }
  const { items } = await listUnlicensedInstallations(db, { productId: details.productId }, { limit: 200, offset: 0 });
  return { productId: details.productId, ciIds: [...new Set(items.flatMap((item) => (item.ci ? [item.ci.id] : [])))], units: details.shortfallUnits ?? 0 };
}
