import type { ChangeImpact } from './change-impact';
import {
  RISK_LEVELS,
  RISK_LEVEL_THRESHOLDS,
  isRiskAbove,
  isRiskAtLeast,
  riskFactorsOf,
  riskLevelOf,
  scoreChangeRisk,
  type RiskFactors,
  type RiskLevel,
} from './change-risk';

/** A normal change, planned inside a maintenance window, that touches nothing risky: scores 0. */
const quiet: RiskFactors = {
  changeType: 'normal',
  highestCriticality: null,
  businessServicesReached: 0,
  cisReached: 1,
  assetsOutOfWarranty: 0,
  assetsOutOfContract: 0,
  retirementsDeclared: 0,
  licenceShortfallUnits: 0,
  trueUpCostMinor: 0,
  totalCostMinor: 0,
  overBudget: false,
  scheduleConflicts: 0,
  inBlackout: false,
  inMaintenanceWindow: true,
  hasPlannedWindow: true,
};

function score(overrides: Partial<RiskFactors>) {
  return scoreChangeRisk({ ...quiet, ...overrides });
}

describe('scoreChangeRisk: each factor on its own', () => {
  it('scores a quiet change 0, low, with no reasons', () => {
    expect(score({})).toEqual({ score: 0, level: 'low', reasons: [] });
  });

  it.each<[string, Partial<RiskFactors>, keyof RiskFactors, number, string]>([
    ['tier 1 reached', { highestCriticality: 'tier_1' }, 'highestCriticality', 40, 'Reaches a tier 1 business service'],
    ['tier 2 reached', { highestCriticality: 'tier_2' }, 'highestCriticality', 25, 'Reaches a tier 2 business service'],
    ['tier 3 reached', { highestCriticality: 'tier_3' }, 'highestCriticality', 10, 'Reaches a tier 3 business service'],
    ['2 business services', { businessServicesReached: 2 }, 'businessServicesReached', 5, 'Reaches 2 business services'],
    ['11 CIs', { cisReached: 11 }, 'cisReached', 5, 'Reaches 11 configuration items'],
    ['50 CIs', { cisReached: 50 }, 'cisReached', 5, 'Reaches 50 configuration items'],
    ['51 CIs', { cisReached: 51 }, 'cisReached', 10, 'Reaches 51 configuration items'],
    ['an emergency change', { changeType: 'emergency' }, 'changeType', 15, 'Emergency change, with less time to review and test'],
    ['1 asset out of warranty', { assetsOutOfWarranty: 1 }, 'assetsOutOfWarranty', 5, '1 asset behind the affected CIs is out of warranty'],
    ['3 assets out of warranty', { assetsOutOfWarranty: 3 }, 'assetsOutOfWarranty', 15, '3 assets behind the affected CIs are out of warranty'],
    ['4 assets out of warranty (capped)', { assetsOutOfWarranty: 4 }, 'assetsOutOfWarranty', 15, '4 assets behind the affected CIs are out of warranty'],
    ['1 asset out of contract', { assetsOutOfContract: 1 }, 'assetsOutOfContract', 5, '1 asset behind the affected CIs is not under a support contract'],
    ['3 assets out of contract (capped)', { assetsOutOfContract: 3 }, 'assetsOutOfContract', 10, '3 assets behind the affected CIs are not under a support contract'],
    ['1 retirement', { retirementsDeclared: 1 }, 'retirementsDeclared', 5, 'Retires 1 asset'],
    ['3 retirements (capped)', { retirementsDeclared: 3 }, 'retirementsDeclared', 10, 'Retires 3 assets'],
    ['a licence shortfall of 1', { licenceShortfallUnits: 1 }, 'licenceShortfallUnits', 10, 'Leaves 1 licence unit deployed beyond entitlement'],
    ['a licence shortfall of 37', { licenceShortfallUnits: 37 }, 'licenceShortfallUnits', 10, 'Leaves 37 licence units deployed beyond entitlement'],
    ['over budget', { overBudget: true }, 'overBudget', 15, "Costs more than the cost centre's remaining budget"],
    ['1 conflict', { scheduleConflicts: 1 }, 'scheduleConflicts', 10, '1 other change touches the same CIs in an overlapping window'],
    ['2 conflicts', { scheduleConflicts: 2 }, 'scheduleConflicts', 20, '2 other changes touch the same CIs in an overlapping window'],
    ['3 conflicts (capped)', { scheduleConflicts: 3 }, 'scheduleConflicts', 20, '3 other changes touch the same CIs in an overlapping window'],
    ['in a blackout', { inBlackout: true }, 'inBlackout', 30, 'Planned inside a blackout window'],
    ['outside a maintenance window', { inMaintenanceWindow: false }, 'inMaintenanceWindow', 10, 'Planned outside a maintenance window'],
    [
      'a normal change with no planned window',
      { hasPlannedWindow: false, inMaintenanceWindow: false },
      'hasPlannedWindow',
      5,
      'No planned window yet',
    ],
  ])('%s', (_, overrides, factor, points, text) => {
    const assessment = score(overrides);
    expect(assessment.reasons).toEqual([{ factor, points, text }]);
    expect(assessment.score).toBe(points);
  });

  it.each<[string, Partial<RiskFactors>]>([
    ['tier 4 reached', { highestCriticality: 'tier_4' }],
    ['1 business service', { businessServicesReached: 1 }],
    ['10 CIs', { cisReached: 10 }],
    ['a standard change', { changeType: 'standard' }],
    ['a standard change with no planned window', { changeType: 'standard', hasPlannedWindow: false, inMaintenanceWindow: false }],
    ['a large cost within budget', { totalCostMinor: 12_000_000 }],
    ['a true-up cost alone', { trueUpCostMinor: 924_963 }],
  ])('adds nothing for %s', (_, overrides) => {
    expect(score(overrides)).toEqual({ score: 0, level: 'low', reasons: [] });
  });

  it('scores an unplanned emergency change for both facts', () => {
    expect(score({ changeType: 'emergency', hasPlannedWindow: false, inMaintenanceWindow: false })).toEqual({
      score: 20,
      level: 'low',
      reasons: [
        { factor: 'changeType', points: 15, text: 'Emergency change, with less time to review and test' },
        { factor: 'hasPlannedWindow', points: 5, text: 'No planned window yet' },
      ],
    });
  });

  it('counts a blackout and being outside a maintenance window separately', () => {
    expect(score({ inBlackout: true, inMaintenanceWindow: false }).score).toBe(40);
  });
});

describe('reasons', () => {
  it('lists reasons by points, highest first, ties in the order the rule weighs them', () => {
    const { score: total, level, reasons } = score({
      highestCriticality: 'tier_2',
      assetsOutOfWarranty: 2,
      scheduleConflicts: 1,
      retirementsDeclared: 2,
      inBlackout: true,
      businessServicesReached: 3,
    });
    expect(reasons.map((r) => [r.points, r.text])).toEqual([
      [30, 'Planned inside a blackout window'],
      [25, 'Reaches a tier 2 business service'],
      [10, '2 assets behind the affected CIs are out of warranty'],
      [10, 'Retires 2 assets'],
      [10, '1 other change touches the same CIs in an overlapping window'],
      [5, 'Reaches 3 business services'],
    ]);
    expect(total).toBe(90);
    expect(level).toBe('very_high');
  });
});

describe('the cap', () => {
  const everything: RiskFactors = {
    changeType: 'emergency',
    highestCriticality: 'tier_1',
    businessServicesReached: 4,
    cisReached: 300,
    assetsOutOfWarranty: 9,
    assetsOutOfContract: 9,
    retirementsDeclared: 9,
    licenceShortfallUnits: 12,
    trueUpCostMinor: 500_000,
    totalCostMinor: 9_000_000,
    overBudget: true,
    scheduleConflicts: 5,
    inBlackout: true,
    inMaintenanceWindow: false,
    hasPlannedWindow: true,
  };

  it('caps the score at 100 but keeps every reason with its full points', () => {
    const assessment = scoreChangeRisk(everything);
    expect(assessment.score).toBe(100);
    expect(assessment.level).toBe('very_high');
    expect(assessment.reasons).toHaveLength(12);
    expect(assessment.reasons.reduce((sum, r) => sum + r.points, 0)).toBe(190);
  });

  it('gives exactly 100 without capping when the points add up to 100', () => {
    // 40 + 30 + 15 + 15 = 100
    expect(score({ highestCriticality: 'tier_1', inBlackout: true, overBudget: true, changeType: 'emergency' }).score).toBe(100);
  });

  it('gives 95 uncapped', () => {
    // 40 + 30 + 15 + 10
    expect(score({ highestCriticality: 'tier_1', inBlackout: true, overBudget: true, licenceShortfallUnits: 2 }).score).toBe(95);
  });
});

describe('risk levels', () => {
  it('sets the boundaries in one place', () => {
    expect(RISK_LEVEL_THRESHOLDS).toEqual({ low: 0, moderate: 25, high: 50, very_high: 75 });
    expect(Object.isFrozen(RISK_LEVEL_THRESHOLDS)).toBe(true);
  });

  it.each<[number, RiskLevel]>([
    [0, 'low'],
    [24, 'low'],
    [25, 'moderate'],
    [49, 'moderate'],
    [50, 'high'],
    [74, 'high'],
    [75, 'very_high'],
    [100, 'very_high'],
  ])('riskLevelOf(%i) is %s', (value, level) => {
    expect(riskLevelOf(value)).toBe(level);
  });

  it.each<[string, number, RiskLevel, Partial<RiskFactors>]>([
    ['2 conflicts', 20, 'low', { scheduleConflicts: 2 }],
    ['tier 2', 25, 'moderate', { highestCriticality: 'tier_2' }],
    ['tier 1 and 1 asset out of warranty', 45, 'moderate', { highestCriticality: 'tier_1', assetsOutOfWarranty: 1 }],
    ['tier 1 and a licence shortfall', 50, 'high', { highestCriticality: 'tier_1', licenceShortfallUnits: 1 }],
    ['tier 1 and a blackout', 70, 'high', { highestCriticality: 'tier_1', inBlackout: true }],
    ['tier 1, a blackout and 1 retirement', 75, 'very_high', { highestCriticality: 'tier_1', inBlackout: true, retirementsDeclared: 1 }],
  ])('a change with %s scores %i: %s', (_, total, level, overrides) => {
    expect(score(overrides)).toMatchObject({ score: total, level });
  });

  // Written out independently of RISK_LEVELS' order: [level, min, atLeast, above]
  const order: Record<RiskLevel, number> = { low: 0, moderate: 1, high: 2, very_high: 3 };
  const pairs = RISK_LEVELS.flatMap((level) =>
    RISK_LEVELS.map((other) => [level, other, order[level] >= order[other], order[level] > order[other]] as const),
  );

  it.each(pairs)('%s against %s: at least %s, above %s', (level, other, atLeast, above) => {
    expect(isRiskAtLeast(level, other)).toBe(atLeast);
    expect(isRiskAbove(level, other)).toBe(above);
  });

  it('auto-approves a standard change at its ceiling but not above it', () => {
    expect(isRiskAbove('moderate', 'moderate')).toBe(false);
    expect(isRiskAbove('high', 'moderate')).toBe(true);
  });

  it('never counts an unknown level (from stored JSON) as at least or above anything', () => {
    const unknown = 'extreme' as RiskLevel;
    expect(isRiskAtLeast(unknown, 'low')).toBe(false);
    expect(isRiskAtLeast('very_high', unknown)).toBe(false);
    expect(isRiskAbove(unknown, 'low')).toBe(false);
    expect(isRiskAbove('very_high', unknown)).toBe(false);
  });
});

describe('riskFactorsOf', () => {
  const ci = (id: string, depth: number) => ({ id, number: `CI${id}`, name: `ci-${id}`, ciClass: 'server', depth });
  const window = (id: string, name: string) => ({
    id,
    name,
    startsAt: '2026-12-05T22:00:00Z',
    endsAt: '2026-12-06T04:00:00Z',
    ciId: null,
  });
  const asset = (assetId: string, underWarranty: boolean, underContract: boolean) => ({
    assetId,
    assetTag: `AT-${assetId}`,
    ciId: 'c1',
    state: 'in_use',
    warrantyEnd: underWarranty ? '2028-01-31' : '2025-01-31',
    underWarranty,
    contractId: underContract ? 'contract-1' : null,
    contractEndsOn: underContract ? '2027-06-30' : null,
    underContract,
  });
  const delta = (productId: string, shortfallAfter: number, trueUpCostMinor: number) => ({
    productId,
    publisher: 'Contoso',
    product: `Product ${productId}`,
    installsAdded: shortfallAfter,
    installsRemoved: 0,
    entitledUnits: 10,
    consumedBefore: 10,
    consumedAfter: 10 + shortfallAfter,
    shortfallAfter,
    unitPriceMinor: shortfallAfter ? trueUpCostMinor / shortfallAfter : 0,
    trueUpCostMinor,
  });

  const impact: ChangeImpact = {
    assessedAt: '2026-11-27T09:00:00Z',
    maxDepth: 6,
    services: {
      affectedCiIds: ['c1', 'c2'],
      cisReached: 57,
      depthLimitReached: false,
      cis: [ci('c1', 0), ci('c2', 0), ci('c3', 1)],
      businessServices: [
        { ...ci('s1', 2), ciClass: 'business_service', criticality: 'tier_2', ownerId: 'person-svc-1' },
        { ...ci('s2', 3), ciClass: 'business_service', criticality: 'tier_1', ownerId: null },
      ],
      highestCriticality: 'tier_1',
    },
    assets: {
      behindCis: [asset('a1', false, false), asset('a2', false, true), asset('a3', true, true)],
      outOfWarranty: 2,
      outOfContract: 1,
      declaredTransitions: [
        { assetId: 'a1', assetTag: 'AT-a1', fromState: 'in_use', toState: 'retired', toSubstate: 'disposed' },
        { assetId: 'a2', assetTag: 'AT-a2', fromState: 'in_use', toState: 'in_maintenance', toSubstate: null },
        { assetId: 'a4', assetTag: 'AT-a4', fromState: 'in_stock', toState: 'retired', toSubstate: 'sold' },
      ],
    },
    licences: {
      deltas: [delta('p1', 3, 36_000), delta('p2', 0, 0), delta('p3', 4, 100_000)],
      trueUpCostMinor: 136_000,
    },
    money: {
      currency: 'EUR',
      oneOffCostMinor: 1_000_000,
      recurringCostMinor: 200_000,
      costCentre: { id: 'cc-1', code: 'IT-OPS', name: 'IT Operations', ownerId: 'person-cc' },
      period: '2026-12-01',
      budgetMinor: 2_000_000,
      spentMinor: 900_000,
      committedMinor: 300_000,
      remainingBeforeMinor: 800_000,
      remainingAfterMinor: -400_000,
      overBudget: true,
    },
    schedule: {
      plannedStart: '2026-12-05T23:00:00Z',
      plannedEnd: '2026-12-06T01:00:00Z',
      conflicts: [
        {
          changeId: 'chg-2',
          number: 'CHG0000002',
          title: 'Patch the payroll database',
          state: 'scheduled',
          plannedStart: '2026-12-05T22:30:00Z',
          plannedEnd: '2026-12-06T00:30:00Z',
          sharedCiIds: ['c1'],
        },
      ],
      blackouts: [window('b1', 'Year-end freeze')],
      maintenanceWindow: null,
    },
  };

  it('reads every factor off a full impact assessment', () => {
    expect(riskFactorsOf(impact, 'normal')).toEqual<RiskFactors>({
      changeType: 'normal',
      highestCriticality: 'tier_1',
      businessServicesReached: 2,
      cisReached: 57,
      assetsOutOfWarranty: 2,
      assetsOutOfContract: 1,
      retirementsDeclared: 2,
      licenceShortfallUnits: 7,
      trueUpCostMinor: 136_000,
      totalCostMinor: 1_200_000,
      overBudget: true,
      scheduleConflicts: 1,
      inBlackout: true,
      inMaintenanceWindow: false,
      hasPlannedWindow: true,
    });
  });

  it('scores the sample: every kind of risk it carries', () => {
    const { score: total, level, reasons } = scoreChangeRisk(riskFactorsOf(impact, 'emergency'));
    // 40 + 30 + 15 + 15 + 6 x 10 + 2 x 5 = 170, capped
    expect(total).toBe(100);
    expect(level).toBe('very_high');
    expect(reasons.map((r) => r.factor)).toEqual([
      'highestCriticality',
      'inBlackout',
      'changeType',
      'overBudget',
      'cisReached',
      'assetsOutOfWarranty',
      'retirementsDeclared',
      'licenceShortfallUnits',
      'scheduleConflicts',
      'inMaintenanceWindow',
      'businessServicesReached',
      'assetsOutOfContract',
    ]);
  });

  it('reads an unplanned change, inside no window and reaching no service', () => {
    const unplanned: ChangeImpact = {
      ...impact,
      services: { ...impact.services, businessServices: [], highestCriticality: null, cisReached: 2 },
      schedule: { plannedStart: null, plannedEnd: null, conflicts: [], blackouts: [], maintenanceWindow: null },
    };
    expect(riskFactorsOf(unplanned, 'standard')).toMatchObject({
      changeType: 'standard',
      highestCriticality: null,
      businessServicesReached: 0,
      scheduleConflicts: 0,
      inBlackout: false,
      hasPlannedWindow: false,
      inMaintenanceWindow: false,
    });
  });

  it('knows a planned window inside a maintenance window', () => {
    const inWindow: ChangeImpact = {
      ...impact,
      schedule: { ...impact.schedule, blackouts: [], maintenanceWindow: window('m1', 'Saturday night') },
    };
    expect(riskFactorsOf(inWindow, 'normal')).toMatchObject({ inBlackout: false, hasPlannedWindow: true, inMaintenanceWindow: true });
  });
});
