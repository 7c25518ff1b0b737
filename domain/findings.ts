/**
 * Optimisation findings (issue 17): waste or risk in the estate, each with its saving or exposure in
 * integer minor units of one currency. The thresholds, the unused-licence rule, what a unit of an
 * entitlement is worth a year, and what acting on each kind starts.
 */

import { parseDecimal } from './cost-allocation';
import { minorDigits } from './money';

export const FINDING_KINDS = ['unused_entitlement', 'over_deployment', 'idle_in_stock', 'past_warranty_tier1', 'contract_renewal_due', 'unowned_cloud_cost'] as const;
export type FindingKind = (typeof FINDING_KINDS)[number];

export const FINDING_STATES = ['open', 'acted', 'dismissed', 'resolved'] as const;
export type FindingState = (typeof FINDING_STATES)[number];

export type FindingEffect = 'saving' | 'exposure';

/** A saving is money not spent if acted on; an exposure is money at risk if nothing is done. */
export const FINDING_EFFECTS: Record<FindingKind, FindingEffect> = {
  unused_entitlement: 'saving',
  over_deployment: 'exposure',
  idle_in_stock: 'saving',
  past_warranty_tier1: 'exposure',
  contract_renewal_due: 'exposure',
  unowned_cloud_cost: 'exposure',
};

/** Spare seats count as unused once no consumption of the product was added (nor an entitlement bought) for this long. */
export const UNUSED_LICENCE_DAYS = 90;
/** A consumption on a record no inventory feed saw for this long is not in use. */
export const UNSEEN_DEVICE_DAYS = 90;
/** A seat of a person deactivated this long ago is not in use. */
export const DEACTIVATED_SEAT_DAYS = 90;
/** An asset in stock longer than this is idle. */
export const IDLE_IN_STOCK_DAYS = 90;
/**
 * Cloud cost of this many days counts for a resource nobody owns, counted back from the end of the
 * latest charge imported (bills arrive days or weeks after the usage, so a window ending today would
 * judge the last month by the part of it not billed yet). The findings and COBIT DSS05 share the rule.
 */
export const UNOWNED_CLOUD_COST_DAYS = 30;
/** How far up the service map a tier-1 service is looked for behind an asset's record. */
export const SERVICE_WALK_DEPTH = 10;
/** A dismissed finding is not raised again for this long; after it, a scan that still finds it raises it anew. */
export const DISMISSAL_QUIET_DAYS = 90;
/**
 * Most findings one scan records of a kind, largest amounts first: a scan stays bounded however big
 * the estate. When a kind finds more, none of its open findings is resolved in that scan, since
 * the ones beyond the bound were not judged.
 */
export const MAX_FINDINGS_PER_KIND = 10_000;

export interface LicenceUseFacts {
  entitledUnits: number;
  consumedUnits: number;
  /** Of the consumed units, those on devices not in use, unseen, or seats of people long deactivated. */
  idleUnits: number;
  /** No consumption added and no entitlement started within UNUSED_LICENCE_DAYS. */
  spareIsStale: boolean;
}

/**
 * Units of a product's entitlements paid for and not used: the idle consumptions (reclaimable)
 * while they are covered, plus the spare seats once nobody took one for UNUSED_LICENCE_DAYS (recent
 * demand may still take them). An over-deployed product has none: its idle units go to the shortfall,
 * which the over-deployment finding is about.
 */
export function unusedLicenceUnits({ entitledUnits, consumedUnits, idleUnits, spareIsStale }: LicenceUseFacts): number {
  if (consumedUnits > entitledUnits) return 0;
  const inUse = Math.max(0, consumedUnits - idleUnits);
  const free = Math.max(0, entitledUnits - inUse);
  const spare = Math.max(0, entitledUnits - consumedUnits);
  return spareIsStale ? free : free - spare;
}

export interface EntitlementTerm {
  id: string;
  quantity: number;
  /** Calendar dates; no end is a perpetual licence. */
  startsOn: string;
  endsOn: string | null;
}

/**
 * Shares a product's unused units among its entitlements in term: the one ending soonest first (its
 * renewal is the first that can be cut), perpetual ones last, then by id; each takes at most its quantity.
 */
export function shareUnusedUnits<E extends EntitlementTerm>(unusedUnits: number, entitlements: readonly E[]): { entitlement: E; units: number }[] {
  const order = [...entitlements].sort((a, b) =>
    (a.endsOn ?? '9999-12-31').localeCompare(b.endsOn ?? '9999-12-31') || a.id.localeCompare(b.id));
  const shares: { entitlement: E; units: number }[] = [];
  let left = unusedUnits;
  for (const entitlement of order) {
    if (left <= 0) break;
    const units = Math.min(left, entitlement.quantity);
    if (units > 0) shares.push({ entitlement, units });
    left -= units;
  }
  return shares;
}

const DAY_MS = 86_400_000;
const daysOfTerm = (startsOn: string, endsOn: string) => Math.max(1, Math.round((Date.parse(endsOn) - Date.parse(startsOn)) / DAY_MS) + 1);

function divideHalfUp(numerator: bigint, denominator: bigint): bigint {
  return (numerator * 2n + denominator) / (denominator * 2n);
}

/**
 * What `units` of an entitlement are worth a year: a term licence's cost spread over its term and
 * counted for 365 days (a saving recurs with each renewal); a perpetual licence's cost per unit once
 * (what reharvesting the seat avoids buying). An entitlement recorded without a cost is valued at
 * the product's unit price. Exact, half up, in the entitlement's minor units.
 */
export function unusedLicenceSavingMinor(
  entitlement: { quantity: number; costMinor: number; startsOn: string; endsOn: string | null },
  units: number,
  productUnitPriceMinor: number,
): bigint {
  if (entitlement.costMinor <= 0 || entitlement.quantity <= 0) return BigInt(units) * BigInt(productUnitPriceMinor);
  const cost = BigInt(entitlement.costMinor) * BigInt(units);
  if (entitlement.endsOn === null) return divideHalfUp(cost, BigInt(entitlement.quantity));
  return divideHalfUp(cost * 365n, BigInt(entitlement.quantity) * BigInt(daysOfTerm(entitlement.startsOn, entitlement.endsOn)));
}

/**
 * A cloud cost in minor units of its currency, rounded half up, for a finding's amount only (the
 * cost records keep every decimal place); undefined for text that is not a plain decimal.
 */
export function costInMinorUnits(decimalText: string, currency: string): bigint | undefined {
  const value = parseDecimal(decimalText);
  if (!value) return undefined;
  const digits = minorDigits(currency);
  if (value.scale <= digits) return value.units * 10n ** BigInt(digits - value.scale);
  const divisor = 10n ** BigInt(value.scale - digits);
  const negative = value.units < 0n;
  const magnitude = negative ? -value.units : value.units;
  const rounded = divideHalfUp(magnitude, divisor);
  return negative ? -rounded : rounded;
}

/** What a process owner's one call starts for a finding of each kind. */
export type FindingActionKind = 'licence_reclaim_change' | 'asset_retirement' | 'change' | 'renewal_decision';

export const FINDING_ACTIONS: Record<FindingKind, FindingActionKind> = {
  unused_entitlement: 'licence_reclaim_change',
  over_deployment: 'licence_reclaim_change',
  idle_in_stock: 'asset_retirement',
  past_warranty_tier1: 'change',
  contract_renewal_due: 'renewal_decision',
  unowned_cloud_cost: 'change',
};

/** The process each action is: a change, the asset's lifecycle, a renewal decision. */
export type ActionProcess = 'change' | 'asset_lifecycle' | 'renewal';

export const ACTION_PROCESSES: Record<FindingActionKind, ActionProcess> = {
  licence_reclaim_change: 'change',
  change: 'change',
  asset_retirement: 'asset_lifecycle',
  renewal_decision: 'renewal',
};

/**
 * A finding can be acted on or dismissed while it is open; acting again answers the same action. An
 * open finding whose action is being started (claimed, not yet acted) is not dismissed: the process
 * may be running already.
 */
export function findingRefusal(state: FindingState, command: 'act' | 'dismiss', actionClaimed = false): string | null {
  if (state === 'open') return command === 'dismiss' && actionClaimed ? 'an action is being started for it: act on it again to finish starting it' : null;
  if (command === 'act' && state === 'acted') return null;
  return `the finding is ${state}: only an open finding can be ${command === 'act' ? 'acted on' : 'dismissed'}`;
}

/** What the process row (processes) and, for a retirement, the asset say about an action. */
export interface ActionFacts {
  finished: boolean;
  /** The process's outcome when finished: a change's close code, a renewal's decision. */
  outcome: string | null;
  assetState?: string | null;
  assetSubstate?: string | null;
}

/** Where an action stands: still running, done as asked (the finding is resolved), or not done (the finding is open again). */
export type ActionProgress = 'running' | 'succeeded' | 'failed';

const SUCCESSFUL_OUTCOMES: Record<Exclude<ActionProcess, 'asset_lifecycle'>, readonly string[]> = {
  change: ['successful', 'successful_with_issues'],
  renewal: ['renew', 'let_lapse'],
};

/**
 * A change succeeds when it closes successful (with issues or not) and fails when it closes any other
 * way (unsuccessful, rejected, cancelled); a renewal decision succeeds once decided (renew or let
 * lapse) and fails when cancelled; a retirement succeeds once the asset is pending disposal or retired,
 * and fails when it left disposal pending for anything else (deployed again, say).
 */
export function actionProgress(process: ActionProcess, facts: ActionFacts): ActionProgress {
  if (process === 'asset_lifecycle') {
    return facts.assetState === 'retired' || (facts.assetState === 'in_stock' && facts.assetSubstate === 'pending_disposal') ? 'succeeded' : 'failed';
  }
  if (!facts.finished) return 'running';
  return facts.outcome !== null && SUCCESSFUL_OUTCOMES[process].includes(facts.outcome) ? 'succeeded' : 'failed';
}

/** The closing note of a finding whose action succeeded, or the reason it is open again. */
export function actionNote(process: ActionProcess, progress: Exclude<ActionProgress, 'running'>, ref: string, facts: ActionFacts): string {
  const how = process === 'asset_lifecycle' ? `the asset is ${facts.assetState}${facts.assetSubstate ? `/${facts.assetSubstate}` : ''}` : `it closed ${facts.outcome ?? 'without an outcome'}`;
  return progress === 'succeeded' ? `acted on by ${ref}: ${how}` : `${ref} did not do it (${how}): open again to be acted on anew`;
}
