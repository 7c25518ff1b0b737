/**
 * The impact assessment of a change request: what it touches and what it costs. Computed by
 * one query (model/change-impact.ts), stored with the change, shown to approvers and scored by
 * the pure risk rule (domain/change-risk.ts).
 */

export const CRITICALITIES = ['tier_1', 'tier_2', 'tier_3', 'tier_4'] as const;
/** tier_1 is the most critical. */
export type Criticality = (typeof CRITICALITIES)[number];

export const CHANGE_TYPES = ['standard', 'normal', 'emergency'] as const;
export type ChangeType = (typeof CHANGE_TYPES)[number];

export interface ReachedCi {
  id: string;
  number: string;
  name: string;
  ciClass: string;
  /** 0 for an affected CI, n for a CI n relationships away. */
  depth: number;
}

export interface ReachedService extends ReachedCi {
  criticality: Criticality;
  ownerId: string | null;
}

export interface AssetBehindCi {
  assetId: string;
  assetTag: string;
  ciId: string;
  state: string;
  warrantyEnd: string | null;
  /** Warranty ends on or after the change's planned end (or today when unplanned). */
  underWarranty: boolean;
  contractId: string | null;
  contractEndsOn: string | null;
  underContract: boolean;
}

export interface DeclaredTransition {
  assetId: string;
  assetTag: string;
  fromState: string;
  toState: string;
  toSubstate: string | null;
}

export interface LicenceDelta {
  productId: string;
  publisher: string;
  product: string;
  installsAdded: number;
  installsRemoved: number;
  entitledUnits: number;
  consumedBefore: number;
  consumedAfter: number;
  /** Units deployed beyond entitlement after the change; 0 when compliant. */
  shortfallAfter: number;
  unitPriceMinor: number;
  trueUpCostMinor: number;
}

export interface ScheduleWindowRef {
  id: string;
  name: string;
  startsAt: string;
  endsAt: string;
  ciId: string | null;
}

export interface ConflictingChange {
  changeId: string;
  number: string;
  title: string;
  state: string;
  plannedStart: string;
  plannedEnd: string;
  /** Affected CIs the two changes share. */
  sharedCiIds: string[];
}

export interface ChangeImpact {
  assessedAt: string;
  maxDepth: number;
  services: {
    affectedCiIds: string[];
    /** Distinct CIs reached, the affected ones included. */
    cisReached: number;
    /** True when some path continued past maxDepth (the result is a lower bound). */
    depthLimitReached: boolean;
    /** The reached CIs nearest first, at most 200 of them. */
    cis: ReachedCi[];
    businessServices: ReachedService[];
    highestCriticality: Criticality | null;
  };
  assets: {
    behindCis: AssetBehindCi[];
    outOfWarranty: number;
    outOfContract: number;
    declaredTransitions: DeclaredTransition[];
  };
  licences: {
    deltas: LicenceDelta[];
    trueUpCostMinor: number;
  };
  money: {
    currency: string;
    oneOffCostMinor: number;
    recurringCostMinor: number;
    costCentre: { id: string; code: string; name: string; ownerId: string | null } | null;
    /** First day of the budget month: the planned start's month, or the current one. */
    period: string;
    budgetMinor: number | null;
    /** The budget's currency, which spent and committed are in (absent from assessments made before 2026-11-29). */
    budgetCurrency?: string | null;
    spentMinor: number;
    committedMinor: number;
    /** Budget minus spent minus committed, before this change; null without a budget. */
    remainingBeforeMinor: number | null;
    remainingAfterMinor: number | null;
    overBudget: boolean;
    /** Why the change's cost was not compared with the budget (another currency); absent from assessments made before 2026-11-29. */
    notComparable?: string | null;
  };
  schedule: {
    plannedStart: string | null;
    plannedEnd: string | null;
    conflicts: ConflictingChange[];
    blackouts: ScheduleWindowRef[];
    /** The maintenance window the whole planned window falls in, if any. */
    maintenanceWindow: ScheduleWindowRef | null;
  };
}
