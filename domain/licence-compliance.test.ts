import { UNDER_USE_THRESHOLD_PERCENT, compliancePosition, trueUpTotals } from './licence-compliance';

describe('compliancePosition', () => {
  it('counts a product as under-used below half of its entitlement', () => {
    expect(UNDER_USE_THRESHOLD_PERCENT).toBe(50);
  });

  it.each([
    // description,                         entitled, consumed, position,        shortfall, spare
    ['exactly entitled', 10, 10, 'compliant', 0, 0],
    ['one over', 10, 11, 'over_deployed', 1, 0],
    ['exactly 50% in use (5 of 10)', 10, 5, 'compliant', 0, 5],
    ['exactly 50% in use (1 of 2)', 2, 1, 'compliant', 0, 1],
    ['just below 50% (4 of 10)', 10, 4, 'under_used', 0, 6],
    ['just below 50% (5000 of 10001)', 10_001, 5_000, 'under_used', 0, 5_001],
    ['just above 50% (4 of 7)', 7, 4, 'compliant', 0, 3],
    ['just below 50% (3 of 7)', 7, 3, 'under_used', 0, 4],
    ['nothing in use', 1, 0, 'under_used', 0, 1],
    ['zero entitled, zero consumed', 0, 0, 'compliant', 0, 0],
    ['consumed without any entitlement', 0, 3, 'over_deployed', 3, 0],
  ] as const)('%s: %i entitled, %i consumed is %s', (_, entitledUnits, consumedUnits, position, shortfallUnits, spareUnits) => {
    expect(compliancePosition({ entitledUnits, consumedUnits, unitPriceMinor: 1_000 })).toEqual({
      entitledUnits,
      consumedUnits,
      shortfallUnits,
      spareUnits,
      position,
      trueUpCostMinor: shortfallUnits * 1_000,
    });
  });

  it.each([
    [100, 137, 24_999, 924_963], // 37 short at 249.99
    [0, 3, 1_200, 3_600],
    [10, 11, 0, 0],
    [10, 10, 5_000, 0],
    [10, 2, 5_000, 0],
  ])('%i entitled, %i consumed at %i a unit: true-up costs %i', (entitledUnits, consumedUnits, unitPriceMinor, trueUp) => {
    expect(compliancePosition({ entitledUnits, consumedUnits, unitPriceMinor }).trueUpCostMinor).toBe(trueUp);
  });
});

describe('trueUpTotals', () => {
  it('adds the over-deployed products per currency, never across currencies, exactly', () => {
    expect(trueUpTotals([
      { currency: 'USD', trueUpCostMinor: 1 },
      { currency: 'EUR', trueUpCostMinor: 924_963 },
      { currency: 'EUR', trueUpCostMinor: 0 },
      { currency: 'EUR', trueUpCostMinor: 3_600 },
      { currency: 'JPY', trueUpCostMinor: 12_000 },
    ])).toEqual([
      { currency: 'EUR', trueUpCostMinor: 928_563, products: 2 },
      { currency: 'JPY', trueUpCostMinor: 12_000, products: 1 },
      { currency: 'USD', trueUpCostMinor: 1, products: 1 },
    ]);
  });

  it('has no total when nothing is over-deployed', () => {
    expect(trueUpTotals([{ currency: 'EUR', trueUpCostMinor: 0 }])).toEqual([]);
    expect(trueUpTotals([])).toEqual([]);
  });

  it('refuses a total a number cannot hold exactly rather than losing cents', () => {
    expect(() => trueUpTotals([{ currency: 'EUR', trueUpCostMinor: Number.MAX_SAFE_INTEGER }, { currency: 'EUR', trueUpCostMinor: 2 }])).toThrow(RangeError);
  });
});
