/**
 * The one budget rule, for changes and purchase requests alike: where a request leaves its cost
 * centre's budget for the month. Money is integer minor units.
 */

/** A cost centre's month, as model/budgets.ts reads it. */
export interface BudgetFigures {
  /** First day of the budget month. */
  period: string;
  /** The cost centre's budget for the month; null when none was set. */
  budgetMinor: number | null;
  /** Actuals: FOCUS cost records of the cost centre charged in the month. */
  spentMinor: number;
  /** Open purchase orders, less what they have received. */
  committedMinor: number;
}

export interface BudgetPosition {
  /** Budget minus spent minus committed, before and after the request; null without a budget. */
  remainingBeforeMinor: number | null;
  remainingAfterMinor: number | null;
  overBudget: boolean;
}

/** Amounts beyond 2^53 would silently lose cents in a JavaScript number: refuse them instead. */
function safeMinor(amount: number, what: string): number {
  if (!Number.isSafeInteger(amount)) throw new RangeError(`${what} ${amount} is not a safe integer amount of minor units`);
  return amount;
}

/**
 * Budget minus spent minus committed, before and after the request. Spending the budget to the last
 * cent is not over. A month without a budget row had nothing budgeted, so any spend in it is over
 * budget: the request goes through the over-budget approvals rather than slipping past them because
 * nobody entered a budget. A request that spends nothing is never over budget, not even on an
 * unbudgeted or overspent cost centre: it adds nothing to spend, and sending it to finance would
 * only teach approvers to wave the flag through.
 */
export function budgetPosition({ budgetMinor, spentMinor, committedMinor }: BudgetFigures, requestMinor: number): BudgetPosition {
  safeMinor(requestMinor, 'request');
  if (budgetMinor === null) return { remainingBeforeMinor: null, remainingAfterMinor: null, overBudget: requestMinor > 0 };
  const remainingBeforeMinor = safeMinor(budgetMinor - spentMinor - committedMinor, 'remaining budget');
  const remainingAfterMinor = safeMinor(remainingBeforeMinor - requestMinor, 'remaining budget');
  return { remainingBeforeMinor, remainingAfterMinor, overBudget: requestMinor > 0 && remainingAfterMinor < 0 };
}

/**
 * A change that names no cost centre is charged to no budget: there is nothing to be over. (A
 * purchase request always names one.) Its cost still routes it through the rules' cost thresholds.
 */
export const NOT_CHARGED_TO_A_BUDGET: BudgetPosition = { remainingBeforeMinor: null, remainingAfterMinor: null, overBudget: false };
