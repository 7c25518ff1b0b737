import { budgetPosition } from './budget';

describe('budgetPosition', () => {
  // Budget 10,000.00; 6,000.00 spent, 1,500.00 committed: 2,500.00 left.
  const month = { period: '2026-11-01', budgetMinor: 1_000_000, spentMinor: 600_000, committedMinor: 150_000 };

  it.each([
    ['well within the budget', 100_000, 150_000, false],
    ['leaving exactly nothing', 250_000, 0, false],
    ['one cent over', 250_001, -1, true],
    ['far over', 1_000_000, -750_000, true],
    ['a request of nothing', 0, 250_000, false],
  ])('%s (%i): %i left after, over budget %s', (_, requestMinor, after, over) => {
    expect(budgetPosition(month, requestMinor)).toEqual({ remainingBeforeMinor: 250_000, remainingAfterMinor: after, overBudget: over });
  });

  it('counts any spend on a budget already overspent as over', () => {
    expect(budgetPosition({ ...month, budgetMinor: 100, spentMinor: 101, committedMinor: 0 }, 1)).toEqual({
      remainingBeforeMinor: -1, remainingAfterMinor: -2, overBudget: true,
    });
  });

  it('never counts a request of nothing as over: it adds no spend, even to an overspent month', () => {
    expect(budgetPosition({ ...month, budgetMinor: 100, spentMinor: 101, committedMinor: 0 }, 0)).toEqual({
      remainingBeforeMinor: -1, remainingAfterMinor: -1, overBudget: false,
    });
    expect(budgetPosition({ ...month, budgetMinor: 0, spentMinor: 0, committedMinor: 0 }, 0).overBudget).toBe(false);
  });

  it('treats a month without a budget as over for any spend: nothing was budgeted', () => {
    const unbudgeted = { ...month, budgetMinor: null, spentMinor: 0, committedMinor: 0 };
    expect(budgetPosition(unbudgeted, 1)).toEqual({ remainingBeforeMinor: null, remainingAfterMinor: null, overBudget: true });
    expect(budgetPosition(unbudgeted, 0).overBudget).toBe(false);
  });

  it('refuses figures beyond a safe integer', () => {
    expect(() => budgetPosition({ ...month, budgetMinor: Number.MAX_SAFE_INTEGER, spentMinor: -1, committedMinor: 0 }, 0)).toThrow(RangeError);
    expect(() => budgetPosition({ ...month, budgetMinor: 0, spentMinor: 0, committedMinor: 0 }, Number.MAX_SAFE_INTEGER + 2)).toThrow(RangeError);
  });
});
