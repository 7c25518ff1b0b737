import { addDecimals, budgetAlertsDue, formatDecimal, parseDecimal, splitByWeights } from './cost-allocation';

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
