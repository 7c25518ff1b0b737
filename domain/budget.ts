/**
 * The one budget rule, for changes and purchase requests alike: where a request leaves its cost
 * centre's budget for the month. Money is integer minor units, and a budget is kept in one
 * currency: amounts in another are never compared with it, nor converted (no rate is held).
 */
import { boundedAmount, exactAmount, formatMoney } from './money';

/** A cost centre's month, as model/budgets.ts reads it. */
export interface BudgetFigures {
  /** First day of the budget month. */
  period: string;
  /** The cost centre's budget for the month; null when none was set. */
  budgetMinor: number | null;
  /** The budget's currency, which spent and committed are in too; null when no budget was set. */
  budgetCurrency: string | null;
  /** Actuals: FOCUS cost records of the cost centre charged in the month, in the budget's currency. */
  spentMinor: number;
  /** Open purchase orders in the budget's currency, less what they have received. */
  committedMinor: number;
}

export interface BudgetPosition {
  /** Budget minus spent minus committed, before and after the request; null without a budget. */
  remainingBeforeMinor: number | null;
  remainingAfterMinor: number | null;
  overBudget: boolean;
  /** Why the request was not compared with the budget (it is in another currency); null when it was. */
  notComparable: string | null;
}

/**
 * Budget minus spent minus committed, before and after the request. Spending the budget to the last
 * cent is not over. A month without a budget row had nothing budgeted, so any spend in it is over
 * budget: the request goes through the over-budget approvals rather than slipping past them because
 * nobody entered a budget. A request that spends nothing is never over budget, not even on an
 * unbudgeted or overspent cost centre: it adds nothing to spend, and sending it to finance would
 * only teach approvers to wave the flag through. A request in another currency than the budget
 * cannot be shown to fit it, so any spend in it counts as over too, and notComparable says why: a
 * purchase request is refused for it (its orders would commit money the budget never counts); a
 * change goes through the over-budget approvals.
 */
export function budgetPosition(figures: BudgetFigures, requestMinor: number, requestCurrency: string): BudgetPosition {
  const { budgetMinor, budgetCurrency, spentMinor, committedMinor } = figures;
  boundedAmount(requestMinor, 'request');
  if (budgetMinor === null) return { remainingBeforeMinor: null, remainingAfterMinor: null, overBudget: requestMinor > 0, notComparable: null };
  const remainingBeforeMinor = exactAmount(budgetMinor - spentMinor - committedMinor, 'remaining budget');
  if (budgetCurrency !== null && budgetCurrency !== requestCurrency) {
    return {
      remainingBeforeMinor,
      remainingAfterMinor: null,
      overBudget: requestMinor > 0,
      notComparable: `the ${figures.period.slice(0, 7)} budget is kept in ${budgetCurrency} (${formatMoney(remainingBeforeMinor, budgetCurrency)} left), `
        + `and ${formatMoney(requestMinor, requestCurrency)} in ${requestCurrency} is never compared with it: ask in ${budgetCurrency}`,
    };
  }
  const remainingAfterMinor = exactAmount(remainingBeforeMinor - requestMinor, 'remaining budget');
  return { remainingBeforeMinor, remainingAfterMinor, overBudget: requestMinor > 0 && remainingAfterMinor < 0, notComparable: null };
}

/**
 * A change that names no cost centre is charged to no budget: there is nothing to be over. (A
 * purchase request always names one.) Its cost still routes it through the rules' cost thresholds.
 */
export const NOT_CHARGED_TO_A_BUDGET: BudgetPosition = { remainingBeforeMinor: null, remainingAfterMinor: null, overBudget: false, notComparable: null };
