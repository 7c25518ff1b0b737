import { budgetPosition } from './budget';

describe('budgetPosition', () => {
  // Budget 10,000.00; 6,000.00 spent, 1,500.00 committed: 2,500.00 left.
  const month = { period: '2026-11-01', budgetMinor: 1_000_000, budgetCurrency: 'EUR', spentMinor: 600_000, committedMinor: 150_000 };

  it.each([
    ['well within the budget', 100_000, 150_000, false],
    ['leaving exactly nothing', 250_000, 0, false],
    ['one cent over', 250_001, -1, true],
    ['far over', 1_000_000, -750_000, true],
    ['a request of nothing', 0, 250_000, false],
  ])('%s (%i): %i left after, over budget %s', (_, requestMinor, after, over) => {
    expect(budgetPosition(month, requestMinor, 'EUR')).toEqual({ remainingBeforeMinor: 250_000, remainingAfterMinor: after, overBudget: over, notComparable: null });
  });

  it('counts any spend on a budget already overspent as over', () => {
    expect(budgetPosition({ ...month, budgetMinor: 100, spentMinor: 101, committedMinor: 0 }, 1, 'EUR')).toEqual({
      remainingBeforeMinor: -1, remainingAfterMinor: -2, overBudget: true, notComparable: null,
    });
  });

  it('never counts a request of nothing as over: it adds no spend, even to an overspent month', () => {
    expect(budgetPosition({ ...month, budgetMinor: 100, spentMinor: 101, committedMinor: 0 }, 0, 'EUR')).toEqual({
      remainingBeforeMinor: -1, remainingAfterMinor: -1, overBudget: false, notComparable: null,
    });
    expect(budgetPosition({ ...month, budgetMinor: 0, spentMinor: 0, committedMinor: 0 }, 0, 'EUR').overBudget).toBe(false);
  });

  it('treats a month without a budget as over for any spend: nothing was budgeted', () => {
    const unbudgeted = { ...month, budgetMinor: null, budgetCurrency: null, spentMinor: 0, committedMinor: 0 };
    expect(budgetPosition(unbudgeted, 1, 'EUR')).toEqual({ remainingBeforeMinor: null, remainingAfterMinor: null, overBudget: true, notComparable: null });
    expect(budgetPosition(unbudgeted, 0, 'USD').overBudget).toBe(false);
  });

  it('refuses figures beyond a safe integer', () => {
    expect(() => budgetPosition({ ...month, budgetMinor: Number.MAX_SAFE_INTEGER, spentMinor: -1, committedMinor: 0 }, 0, 'EUR')).toThrow(RangeError);
    expect(() => budgetPosition({ ...month, budgetMinor: 0, spentMinor: 0, committedMinor: 0 }, Number.MAX_SAFE_INTEGER + 2, 'EUR')).toThrow(RangeError);
  });

  it('never compares a request in another currency with the budget: it is not comparable, and any spend in it counts as over', () => {
    // 2,500.00 EUR left; a request of 1.00 USD would fit if the currencies were ignored.
    expect(budgetPosition(month, 100, 'USD')).toEqual({
      remainingBeforeMinor: 250_000,
      remainingAfterMinor: null,
      overBudget: true,
      notComparable: 'the 2026-11 budget is kept in EUR (EUR 2,500.00 left), and USD 1.00 in USD is never compared with it: ask in EUR',
    });
    expect(budgetPosition(month, 0, 'USD')).toMatchObject({ overBudget: false, notComparable: expect.stringContaining('kept in EUR') });
  });
});
