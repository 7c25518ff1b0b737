import { actionNote, actionProgress, costInMinorUnits, findingRefusal, shareUnusedUnits, unusedLicenceSavingMinor, unusedLicenceUnits } from './findings';

describe('unused licence units', () => {
  it('counts idle consumptions and, once nobody took one for 90 days, the spare seats', () => {
    expect(unusedLicenceUnits({ entitledUnits: 10, consumedUnits: 6, idleUnits: 2, spareIsStale: true })).toBe(6);
    expect(unusedLicenceUnits({ entitledUnits: 10, consumedUnits: 6, idleUnits: 2, spareIsStale: false })).toBe(2);
    expect(unusedLicenceUnits({ entitledUnits: 10, consumedUnits: 10, idleUnits: 0, spareIsStale: true })).toBe(0);
  });

  it('finds none for an over-deployed product, even with more idle units than its shortfall: the over-deployment finding is about it', () => {
    expect(unusedLicenceUnits({ entitledUnits: 5, consumedUnits: 8, idleUnits: 2, spareIsStale: true })).toBe(0);
    expect(unusedLicenceUnits({ entitledUnits: 5, consumedUnits: 8, idleUnits: 4, spareIsStale: false })).toBe(0);
    expect(unusedLicenceUnits({ entitledUnits: 5, consumedUnits: 5, idleUnits: 4, spareIsStale: false })).toBe(4);
  });
});

describe('sharing unused units among entitlements', () => {
  const entitlements = [
    { id: 'b', quantity: 3, startsOn: '2026-01-01', endsOn: null },
    { id: 'a', quantity: 2, startsOn: '2026-01-01', endsOn: '2027-06-30' },
    { id: 'c', quantity: 4, startsOn: '2026-01-01', endsOn: '2026-12-31' },
  ];

  it('takes the entitlement ending soonest first, perpetual ones last, each up to its quantity', () => {
    expect(shareUnusedUnits(7, entitlements).map((s) => [s.entitlement.id, s.units])).toEqual([['c', 4], ['a', 2], ['b', 1]]);
    expect(shareUnusedUnits(0, entitlements)).toEqual([]);
    expect(shareUnusedUnits(99, entitlements).reduce((sum, s) => sum + s.units, 0)).toBe(9);
  });
});

describe('what unused units are worth', () => {
  it('values a term licence per year of its term, half up', () => {
    // 12,000.00 for 10 seats over one year (365 days): 3 seats are 3,600.00 a year.
    expect(unusedLicenceSavingMinor({ quantity: 10, costMinor: 1_200_000, startsOn: '2026-01-01', endsOn: '2026-12-31' }, 3, 0)).toBe(360_000n);
    // 10,000.00 a year for 3 seats: one seat is 3,333.333 (rounds down), two are 6,666.667 (half up).
    const term = { quantity: 3, costMinor: 1_000_000, startsOn: '2026-01-01', endsOn: '2026-12-31' };
    expect(unusedLicenceSavingMinor(term, 1, 0)).toBe(333_333n);
    expect(unusedLicenceSavingMinor(term, 2, 0)).toBe(666_667n);
    // Two years (2027 to 2028, 731 days with the leap day) for 7,310.00 and 1 seat: 3,650.00 a year.
    expect(unusedLicenceSavingMinor({ quantity: 1, costMinor: 731_000, startsOn: '2027-01-01', endsOn: '2028-12-31' }, 1, 0)).toBe(365_000n);
  });

  it('values a perpetual licence at its cost per unit, and one without a cost at the product unit price', () => {
    expect(unusedLicenceSavingMinor({ quantity: 4, costMinor: 1_000, startsOn: '2026-01-01', endsOn: null }, 3, 0)).toBe(750n);
    expect(unusedLicenceSavingMinor({ quantity: 4, costMinor: 0, startsOn: '2026-01-01', endsOn: null }, 3, 24_000)).toBe(72_000n);
  });

  it('stays exact beyond the safe integers', () => {
    const huge = unusedLicenceSavingMinor({ quantity: 1, costMinor: Number.MAX_SAFE_INTEGER, startsOn: '2026-01-01', endsOn: null }, 1_000_000, 0);
    expect(huge).toBe(BigInt(Number.MAX_SAFE_INTEGER) * 1_000_000n);
  });
});

describe('cloud cost as a finding amount', () => {
  it('rounds to the minor units of the currency, half up, from every decimal place', () => {
    expect(costInMinorUnits('12.344999999', 'EUR')).toBe(1234n);
    expect(costInMinorUnits('12.345', 'EUR')).toBe(1235n);
    expect(costInMinorUnits('0.004999', 'USD')).toBe(0n);
    expect(costInMinorUnits('1234.5', 'JPY')).toBe(1235n);
    expect(costInMinorUnits('7', 'EUR')).toBe(700n);
    expect(costInMinorUnits('-0.005', 'EUR')).toBe(-1n);
    expect(costInMinorUnits('1e3', 'EUR')).toBeUndefined();
  });
});

describe('acting on a finding', () => {
  it('acts on an open finding, answers an acted one again, and refuses the closed ones', () => {
    expect(findingRefusal('open', 'act')).toBeNull();
    expect(findingRefusal('open', 'act', true)).toBeNull();
    expect(findingRefusal('acted', 'act')).toBeNull();
    expect(findingRefusal('acted', 'dismiss')).toMatch(/acted/);
    expect(findingRefusal('resolved', 'act')).toMatch(/resolved/);
    expect(findingRefusal('dismissed', 'dismiss')).toMatch(/dismissed/);
  });

  it('does not dismiss a finding whose action is being started', () => {
    expect(findingRefusal('open', 'dismiss')).toBeNull();
    expect(findingRefusal('open', 'dismiss', true)).toMatch(/being started/);
  });
});

describe('where an action stands', () => {
  it('resolves a change closed successful, and opens the finding again for one closed any other way', () => {
    expect(actionProgress('change', { finished: false, outcome: null })).toBe('running');
    expect(actionProgress('change', { finished: true, outcome: 'successful' })).toBe('succeeded');
    expect(actionProgress('change', { finished: true, outcome: 'successful_with_issues' })).toBe('succeeded');
    for (const outcome of ['unsuccessful', 'rejected', 'cancelled']) expect(actionProgress('change', { finished: true, outcome })).toBe('failed');
  });

  it('resolves a renewal once decided either way, and opens the finding again when it is cancelled', () => {
    expect(actionProgress('renewal', { finished: false, outcome: null })).toBe('running');
    expect(actionProgress('renewal', { finished: true, outcome: 'renew' })).toBe('succeeded');
    expect(actionProgress('renewal', { finished: true, outcome: 'let_lapse' })).toBe('succeeded');
    expect(actionProgress('renewal', { finished: true, outcome: 'cancelled' })).toBe('failed');
  });

  it('resolves a retirement once the asset is pending disposal or retired, and not when it left disposal', () => {
    expect(actionProgress('asset_lifecycle', { finished: false, outcome: null, assetState: 'in_stock', assetSubstate: 'pending_disposal' })).toBe('succeeded');
    expect(actionProgress('asset_lifecycle', { finished: true, outcome: 'sold', assetState: 'retired', assetSubstate: 'sold' })).toBe('succeeded');
    expect(actionProgress('asset_lifecycle', { finished: false, outcome: null, assetState: 'in_use', assetSubstate: null })).toBe('failed');
    expect(actionProgress('asset_lifecycle', { finished: false, outcome: null, assetState: 'in_stock', assetSubstate: 'available' })).toBe('failed');
  });

  it('says how the action ended', () => {
    expect(actionNote('change', 'succeeded', 'CHG0001001', { finished: true, outcome: 'successful' })).toBe('acted on by CHG0001001: it closed successful');
    expect(actionNote('change', 'failed', 'CHG0001001', { finished: true, outcome: 'rejected' })).toMatch(/CHG0001001 did not do it \(it closed rejected\)/);
    expect(actionNote('asset_lifecycle', 'succeeded', 'AST1', { finished: false, outcome: null, assetState: 'in_stock', assetSubstate: 'pending_disposal' }))
      .toBe('acted on by AST1: the asset is in_stock/pending_disposal');
  });
});
