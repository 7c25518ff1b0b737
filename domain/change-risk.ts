import type { ChangeImpact, ChangeType, Criticality } from './change-impact';

export const RISK_LEVELS = ['low', 'moderate', 'high', 'very_high'] as const;
export type RiskLevel = (typeof RISK_LEVELS)[number];

/** The facts of an impact assessment that the risk rule weighs. */
export interface RiskFactors {
  changeType: ChangeType;
  highestCriticality: Criticality | null;
  businessServicesReached: number;
  cisReached: number;
  assetsOutOfWarranty: number;
  assetsOutOfContract: number;
  retirementsDeclared: number;
  licenceShortfallUnits: number;
  trueUpCostMinor: number;
  totalCostMinor: number;
  overBudget: boolean;
  scheduleConflicts: number;
  inBlackout: boolean;
  /** False when a planned window exists but is not inside a maintenance window. */
  inMaintenanceWindow: boolean;
  hasPlannedWindow: boolean;
}

export interface RiskReason {
  factor: keyof RiskFactors;
  points: number;
  /** One sentence an approver reads, e.g. "Reaches a tier 1 business service (Northwind Insights Platform)". */
  text: string;
}

export interface RiskAssessment {
  score: number;
  level: RiskLevel;
  reasons: RiskReason[];
}

/** The facts the risk rule weighs, read off a stored impact assessment. */
export function riskFactorsOf(impact: ChangeImpact, changeType: ChangeType): RiskFactors {
  const { services, assets, licences, money, schedule } = impact;
  return {
    changeType,
    highestCriticality: services.highestCriticality,
    businessServicesReached: services.businessServices.length,
    cisReached: services.cisReached,
    assetsOutOfWarranty: assets.outOfWarranty,
    assetsOutOfContract: assets.outOfContract,
    retirementsDeclared: assets.declaredTransitions.filter((t) => t.toState === 'retired').length,
    licenceShortfallUnits: licences.deltas.reduce((sum, d) => sum + d.shortfallAfter, 0),
    trueUpCostMinor: licences.trueUpCostMinor,
    totalCostMinor: money.oneOffCostMinor + money.recurringCostMinor,
    overBudget: money.overBudget,
    scheduleConflicts: schedule.conflicts.length,
    inBlackout: schedule.blackouts.length > 0,
    hasPlannedWindow: schedule.plannedStart !== null,
    inMaintenanceWindow: schedule.maintenanceWindow !== null,
  };
}

/**
 * Points each factor adds. Reaching a critical service and working inside a blackout weigh most: they are
 * what turns a failed change into an outage the business notices. Counted factors are capped so that one
 * large but routine fact (many old assets, many CIs) cannot make a change very high risk on its own.
 * The amounts (true-up cost, total cost) are not scored: large amounts are routed to finance by the
 * approval rules (minCostMinor); only "over budget" counts as risk.
 */
const WEIGHTS = {
  criticality: { tier_1: 40, tier_2: 25, tier_3: 10, tier_4: 0 } satisfies Record<Criticality, number>,
  severalBusinessServices: 5,
  manyCis: { above: 50, points: 10 },
  someCis: { above: 10, points: 5 },
  emergency: 15,
  outOfWarranty: { each: 5, max: 15 },
  outOfContract: { each: 5, max: 10 },
  retirement: { each: 5, max: 10 },
  licenceShortfall: 10,
  overBudget: 15,
  scheduleConflict: { each: 10, max: 20 },
  blackout: 30,
  outsideMaintenanceWindow: 10,
  unplanned: 5,
} as const;

export const MAX_RISK_SCORE = 100;

/** The lowest score of each level; the one place the level boundaries are set. */
export const RISK_LEVEL_THRESHOLDS: Readonly<Record<RiskLevel, number>> = Object.freeze({
  low: 0,
  moderate: 25,
  high: 50,
  very_high: 75,
});

export function riskLevelOf(score: number): RiskLevel {
  let level: RiskLevel = 'low';
  for (const candidate of RISK_LEVELS) if (score >= RISK_LEVEL_THRESHOLDS[candidate]) level = candidate;
  return level;
}

/** Levels come from stored JSON too (approval rules), so an unknown level is never at least anything. */
export function isRiskAtLeast(level: RiskLevel, min: RiskLevel): boolean {
  const rank = RISK_LEVELS.indexOf(level);
  const minRank = RISK_LEVELS.indexOf(min);
  return rank >= 0 && minRank >= 0 && rank >= minRank;
}

/** Strictly above: a standard change is auto-approved unless its risk is above its model's ceiling. */
export function isRiskAbove(level: RiskLevel, ceiling: RiskLevel): boolean {
  return isRiskAtLeast(level, ceiling) && level !== ceiling;
}

function perItem(count: number, { each, max }: { each: number; max: number }): number {
  return Math.min(max, Math.max(0, count) * each);
}

function counted(count: number, noun: string): string {
  return `${count} ${noun}${count === 1 ? '' : 's'}`;
}

export function scoreChangeRisk(f: RiskFactors): RiskAssessment {
  const cisPoints =
    f.cisReached > WEIGHTS.manyCis.above ? WEIGHTS.manyCis.points : f.cisReached > WEIGHTS.someCis.above ? WEIGHTS.someCis.points : 0;
  const candidates: RiskReason[] = [
    {
      factor: 'highestCriticality',
      points: f.highestCriticality ? WEIGHTS.criticality[f.highestCriticality] : 0,
      text: `Reaches a ${f.highestCriticality?.replace('_', ' ')} business service`,
    },
    {
      factor: 'businessServicesReached',
      points: f.businessServicesReached > 1 ? WEIGHTS.severalBusinessServices : 0,
      text: `Reaches ${f.businessServicesReached} business services`,
    },
    { factor: 'cisReached', points: cisPoints, text: `Reaches ${f.cisReached} configuration items` },
    {
      factor: 'changeType',
      points: f.changeType === 'emergency' ? WEIGHTS.emergency : 0,
      text: 'Emergency change, with less time to review and test',
    },
    {
      factor: 'assetsOutOfWarranty',
      points: perItem(f.assetsOutOfWarranty, WEIGHTS.outOfWarranty),
      text: `${counted(f.assetsOutOfWarranty, 'asset')} behind the affected CIs ${f.assetsOutOfWarranty === 1 ? 'is' : 'are'} out of warranty`,
    },
    {
      factor: 'assetsOutOfContract',
      points: perItem(f.assetsOutOfContract, WEIGHTS.outOfContract),
      text: `${counted(f.assetsOutOfContract, 'asset')} behind the affected CIs ${f.assetsOutOfContract === 1 ? 'is' : 'are'} not under a support contract`,
    },
    {
      factor: 'retirementsDeclared',
      points: perItem(f.retirementsDeclared, WEIGHTS.retirement),
      text: `Retires ${counted(f.retirementsDeclared, 'asset')}`,
    },
    {
      factor: 'licenceShortfallUnits',
      points: f.licenceShortfallUnits > 0 ? WEIGHTS.licenceShortfall : 0,
      text: `Leaves ${counted(f.licenceShortfallUnits, 'licence unit')} deployed beyond entitlement`,
    },
    {
      factor: 'overBudget',
      points: f.overBudget ? WEIGHTS.overBudget : 0,
      text: "Costs more than the cost centre's remaining budget",
    },
    {
      factor: 'scheduleConflicts',
      points: perItem(f.scheduleConflicts, WEIGHTS.scheduleConflict),
      text: `${f.scheduleConflicts} other ${f.scheduleConflicts === 1 ? 'change touches' : 'changes touch'} the same CIs in an overlapping window`,
    },
    { factor: 'inBlackout', points: f.inBlackout ? WEIGHTS.blackout : 0, text: 'Planned inside a blackout window' },
    {
      factor: 'inMaintenanceWindow',
      points: f.hasPlannedWindow && !f.inMaintenanceWindow ? WEIGHTS.outsideMaintenanceWindow : 0,
      text: 'Planned outside a maintenance window',
    },
    {
      // A standard change is pre-approved work its implementer schedules, so only the others need a window now.
      factor: 'hasPlannedWindow',
      points: !f.hasPlannedWindow && f.changeType !== 'standard' ? WEIGHTS.unplanned : 0,
      text: 'No planned window yet',
    },
  ];
  // Array sort is stable: equal points keep the order above.
  const reasons = candidates.filter((r) => r.points > 0).sort((a, b) => b.points - a.points);
  // Reasons keep their full points even when the score is capped, so approvers see every contribution.
  const score = Math.min(MAX_RISK_SCORE, reasons.reduce((sum, r) => sum + r.points, 0));
  return { score, level: riskLevelOf(score), reasons };
}
