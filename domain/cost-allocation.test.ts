import { addDecimals, budgetAlertsDue, formatDecimal, parseDecimal, splitByWeights } from './cost-allocation';
import {
  amortisedPart, canonicalDecimal, orderAllocationRules, shareOut, termLastDay, totalsByCategory,
  AllocationRuleCycle, type AllocationRow,
} from './cost-allocation';
import { periodSpan, shiftPeriod } from './months';

describe('exact decimals of cloud line items', () => {
  it('adds line items to the last decimal place, where floats would not', () => {
    const items = ['0.1', '0.2', '0.0000000001', '12.3400056', '-0.5'].map((text) => parseDecimal(text)!);
    expect(formatDecimal(addDecimals(items))).toBe('12.1400056001');
    expect(0.1 + 0.2).not.toBe(0.3);
    expect(formatDecimal(addDecimals(['0.1', '0.2'].map((t) => parseDecimal(t)!)))).toBe('0.3');
  });

  it('keeps every place as written and refuses what is not a plain decimal', () => {
    expect(formatDecimal(parseDecimal('1.500')!)).toBe('1.500');
    expect(formatDecimal(parseDecimal('-0.000001')!)).toBe('-0.000001');
    expect(formatDecimal(addDecimals([]))).toBe('0');
    for (const bad of ['1e-5', '1,000.00', '', '.5', '1.', 'NaN', `0.${'1'.repeat(19)}`]) expect(parseDecimal(bad)).toBeUndefined();
  });
});

describe('splitting a shared cost', () => {
  it('splits so the parts add up to the whole exactly, the leftover units to the largest remainders', () => {
    expect(splitByWeights(100n, [1n, 1n, 1n])).toEqual([34n, 33n, 33n]);
    expect(splitByWeights(1000n, [5n, 3n, 2n])).toEqual([500n, 300n, 200n]);
    expect(splitByWeights(10n, [2n, 1n])).toEqual([7n, 3n]);
    const parts = splitByWeights(999_999_999_999_999_999n, [7n, 11n, 13n, 0n]);
    expect(parts.reduce((a, b) => a + b, 0n)).toBe(999_999_999_999_999_999n);
    expect(parts[3]).toBe(0n);
  });

  it('splits a credit (negative) the same way, and refuses weights that split nothing', () => {
    expect(splitByWeights(-100n, [1n, 1n, 1n])).toEqual([-34n, -33n, -33n]);
    expect(() => splitByWeights(100n, [0n, 0n])).toThrow(/nothing to split by/);
    expect(() => splitByWeights(100n, [1n, -1n])).toThrow(/negative/);
  });
});

describe('budget alerts', () => {
  it('tells the owner at 80% and at 100%, once each per month', () => {
    expect(budgetAlertsDue({ budgetMinor: 10_000n, spentMinor: 7_999n, sentThisMonth: [] })).toEqual([]);
    expect(budgetAlertsDue({ budgetMinor: 10_000n, spentMinor: 8_000n, sentThisMonth: [] })).toEqual([80]);
    expect(budgetAlertsDue({ budgetMinor: 10_000n, spentMinor: 9_500n, sentThisMonth: [80] })).toEqual([]);
    expect(budgetAlertsDue({ budgetMinor: 10_000n, spentMinor: 12_000n, sentThisMonth: [] })).toEqual([80, 100]);
    expect(budgetAlertsDue({ budgetMinor: 10_000n, spentMinor: 12_000n, sentThisMonth: [80, 100] })).toEqual([]);
    expect(budgetAlertsDue({ budgetMinor: 0n, spentMinor: 5n, sentThisMonth: [] })).toEqual([]);
  });
});

describe('the monthly allocation', () => {
  const march = periodSpan('2031-03')!;
  const partsOver = (amount: bigint, term: { startsOn: string; lastDay: string }, from: string, months: number) =>
    Array.from({ length: months }, (_, at) => amortisedPart(amount, term, periodSpan(shiftPeriod(from, at))!));

  it('amortises a cost by days so that the months of the term add up to it exactly', () => {
    const term = { startsOn: '2031-01-15', lastDay: termLastDay('2031-01-15', '2032-01-14') };
    const parts = partsOver(100_000n, term, '2030-12', 15);
    expect(parts.reduce((a, b) => a + b, 0n)).toBe(100_000n);
    // March has 31 of the term's 365 days: 100,000 x 76/365 rounded down (20,821) less 100,000 x 45/365 rounded down (12,328).
    expect(amortisedPart(100_000n, term, march)).toBe(8_493n);
    // January: 17 days, 4,657.53 accrued, rounded down; February: 28 days, 12,328.77 accrued by its end, less January's 4,657.
    expect(parts.slice(0, 3)).toEqual([0n, 4_657n, 7_671n]);
    expect(parts[14]).toBe(0n);
    expect(amortisedPart(1n, { startsOn: '2031-03-31', lastDay: '2031-03-31' }, march)).toBe(1n);
    expect(amortisedPart(-100_000n, term, march)).toBe(-8_493n);
    expect(amortisedPart(5n, { startsOn: '2031-04-01', lastDay: '2031-03-31' }, march)).toBe(0n);
  });

  it('rounds cumulatively: each month its exact share rounded down or up, never drifting, the parts adding up', () => {
    // 10 over 3 months of 31, 30 and 31 days: 3.37, 3.26, 3.37 exactly. Accrued and rounded down: 3, 6, 10.
    const term = { startsOn: '2031-03-01', lastDay: '2031-05-31' };
    expect(partsOver(10n, term, '2031-03', 3)).toEqual([3n, 3n, 4n]);
    // 2 over March 31st and April 1st-2nd: 0.67 and 1.33 exactly. Accrued and rounded down: 0, then 2; a largest-remainder
    // split of the months' days (1 and 2) would give 1 and 1. Either way each part is within a unit of its exact share.
    expect(partsOver(2n, { startsOn: '2031-03-31', lastDay: '2031-04-02' }, '2031-03', 2)).toEqual([0n, 2n]);
    expect(splitByWeights(2n, [1n, 2n])).toEqual([1n, 1n]);
    for (const amount of [1n, 7n, 999_999_999_999_999_999n, -123_457n]) {
      expect(partsOver(amount, { startsOn: '2031-02-17', lastDay: '2033-11-03' }, '2031-02', 34).reduce((a, b) => a + b, 0n)).toBe(amount);
    }
  });

  it('reads a month of a term that never really ends at once, and refuses days a term cannot have', () => {
    const forever = { startsOn: '2020-01-01', lastDay: '9999-12-31' };
    const began = process.hrtime.bigint();
    const part = amortisedPart(1_000_000_000_000n, forever, march);
    expect(process.hrtime.bigint() - began).toBeLessThan(20_000_000n);
    // March is days 4,077 to 4,107 of the term's 2,914,635.
    expect(part).toBe((1_000_000_000_000n * 4_108n) / 2_914_635n - (1_000_000_000_000n * 4_077n) / 2_914_635n);
    expect(() => amortisedPart(1n, { startsOn: '2031-01-01', lastDay: '10000-01-01' }, march)).toThrow(RangeError);
    expect(() => amortisedPart(1n, { startsOn: '2031-02-30x', lastDay: '2031-12-31' }, march)).toThrow(RangeError);
  });

  it('amortises a licence without an end over 36 months', () => {
    expect(termLastDay('2031-01-15', null)).toBe('2034-01-14');
    expect(termLastDay('2031-01-01', '2031-06-30')).toBe('2031-06-30');
  });

  it('writes one value one way', () => {
    expect(formatDecimal(canonicalDecimal(parseDecimal('1.500')!))).toBe('1.5');
    expect(formatDecimal(canonicalDecimal(parseDecimal('10.000')!))).toBe('10');
    expect(formatDecimal(canonicalDecimal(parseDecimal('-0.0012300')!))).toBe('-0.00123');
  });

  const row = (costCentreId: string, amount: string, category = 'cloud', currency = 'USD'): AllocationRow => ({
    category, sourceType: 'cost_record', sourceId: null, costCentreId, businessServiceId: null, sharedFromCostCentreId: null, amount: parseDecimal(amount)!, currency,
  });
  const facts = { everyCostCentreId: ['pool', 'a', 'b', 'c'], headcount: new Map([['a', 3], ['b', 1]]) };

  it('splits a pool by headcount, exactly at the amount\'s own scale', () => {
    const rows = shareOut([row('pool', '1.000000000001'), row('a', '5')], [{ name: 'it', poolCostCentreId: 'pool', method: 'headcount', targetCostCentreIds: ['a', 'b'] }], facts);
    const shared = rows.filter((r) => r.sharedFromCostCentreId === 'pool');
    expect(shared.map((r) => [r.costCentreId, formatDecimal(r.amount)])).toEqual([['a', '0.750000000001'], ['b', '0.250000000000']]);
    expect(totalsByCategory(rows)).toEqual([{ category: 'cloud', currency: 'USD', amount: '6.000000000001' }]);
    expect(rows.some((r) => r.costCentreId === 'pool')).toBe(false);
  });

  it('splits by usage of the same category and currency, evenly when there is none', () => {
    const direct = [row('pool', '10'), row('a', '1'), row('b', '3'), row('pool', '7', 'cloud', 'EUR'), row('a', '2', 'licence', 'EUR')];
    const rows = shareOut(direct, [{ name: 'usage', poolCostCentreId: 'pool', method: 'usage', targetCostCentreIds: ['a', 'b'] }], facts);
    const of = (currency: string) => rows.filter((r) => r.sharedFromCostCentreId === 'pool' && r.currency === currency).map((r) => [r.costCentreId, formatDecimal(r.amount)]);
    expect(of('USD')).toEqual([['a', '2.50'], ['b', '7.50']]);
    // No cloud costs in euros of their own: evenly.
    expect(of('EUR')).toEqual([['a', '3.50'], ['b', '3.50']]);
  });

  it('passes on what was shared onto a pool, and refuses pools that feed each other', () => {
    const chained = [
      { name: 'z-first', poolCostCentreId: 'pool', method: 'even' as const, targetCostCentreIds: ['c'] },
      { name: 'a-second', poolCostCentreId: 'c', method: 'even' as const, targetCostCentreIds: ['a', 'b'] },
    ];
    expect(orderAllocationRules(chained, facts.everyCostCentreId).map((r) => r.name)).toEqual(['z-first', 'a-second']);
    const rows = shareOut([row('pool', '0.03')], chained, facts);
    expect(rows.map((r) => [r.costCentreId, formatDecimal(r.amount), r.sharedFromCostCentreId])).toEqual([['a', '0.02', 'c'], ['b', '0.01', 'c']]);
    const cycle = [...chained, { name: 'back', poolCostCentreId: 'a', method: 'even' as const, targetCostCentreIds: ['pool'] }];
    expect(() => shareOut([], cycle, facts)).toThrow(AllocationRuleCycle);
  });

  it('splits onto every other cost centre but the pools when a rule names none', () => {
    const rules = [
      { name: 'all', poolCostCentreId: 'pool', method: 'even' as const, targetCostCentreIds: [] },
      { name: 'other', poolCostCentreId: 'c', method: 'even' as const, targetCostCentreIds: [] },
    ];
    const rows = shareOut([row('pool', '1'), row('c', '1')], rules, facts);
    expect(totalsByCategory(rows)).toEqual([{ category: 'cloud', currency: 'USD', amount: '2' }]);
    expect(new Set(rows.map((r) => r.costCentreId))).toEqual(new Set(['a', 'b']));
  });

  it('gives a retired cost centre no share, named as a target or not', () => {
    // b is retired: it is not among the live cost centres.
    const live = { everyCostCentreId: ['pool', 'a', 'c'], headcount: new Map<string, number>() };
    const named = shareOut([row('pool', '1')], [{ name: 'named', poolCostCentreId: 'pool', method: 'even', targetCostCentreIds: ['a', 'b'] }], live);
    expect(named.map((r) => [r.costCentreId, formatDecimal(r.amount)])).toEqual([['a', '1.00']]);
    const every = shareOut([row('pool', '1')], [{ name: 'every', poolCostCentreId: 'pool', method: 'even', targetCostCentreIds: [] }], live);
    expect(every.map((r) => r.costCentreId).sort()).toEqual(['a', 'c']);
    // Only retired targets left: the pool keeps its rows, nothing is lost.
    const none = shareOut([row('pool', '1')], [{ name: 'gone', poolCostCentreId: 'pool', method: 'even', targetCostCentreIds: ['b'] }], live);
    expect(none.map((r) => r.costCentreId)).toEqual(['pool']);
  });
});
