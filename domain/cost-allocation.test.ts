import { addDecimals, budgetAlertsDue, formatDecimal, parseDecimal, splitByWeights } from './cost-allocation';
import {
  allocationPeriod, amortisedPart, canonicalDecimal, orderAllocationRules, previousPeriod, shareOut, termLastDay, totalsByCategory,
  AllocationRuleCycle, type AllocationRow,
} from './cost-allocation';

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
  const march = allocationPeriod('2031-03')!;

  it('names a month as [its first day, the next first day) and the month before an instant', () => {
    expect(march).toEqual({ period: '2031-03', start: '2031-03-01', next: '2031-04-01' });
    expect(allocationPeriod('2031-12')!.next).toBe('2032-01-01');
    expect(allocationPeriod('2031-13')).toBeUndefined();
    expect(allocationPeriod('1999-01')).toBeUndefined();
    expect(previousPeriod(new Date('2031-04-01T02:00:00Z'))).toBe('2031-03');
    expect(previousPeriod(new Date('2031-01-15T00:00:00Z'))).toBe('2030-12');
  });

  it('amortises a cost by days so that the months of the term add up to it exactly', () => {
    const term = { startsOn: '2031-01-15', lastDay: termLastDay('2031-01-15', '2032-01-14') };
    let total = 0n;
    for (let at = 0; at < 14; at += 1) {
      const period = allocationPeriod(new Date(Date.UTC(2031, at, 1)).toISOString().slice(0, 7))!;
      total += amortisedPart(100_000n, term, period);
    }
    expect(total).toBe(100_000n);
    // March has 31 of the term's 365 days.
    expect(amortisedPart(100_000n, term, march)).toBe(8_493n);
    expect(amortisedPart(100_000n, term, allocationPeriod('2030-12')!)).toBe(0n);
    expect(amortisedPart(1n, { startsOn: '2031-03-31', lastDay: '2031-03-31' }, march)).toBe(1n);
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
});
