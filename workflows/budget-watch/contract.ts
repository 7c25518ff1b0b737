/**
 * The budget watch: a short workflow a Temporal Schedule starts (BUDGET_WATCH_EVERY), also started
 * after a cost import completes and on demand. It compares each cost centre's budget for the month
 * with its committed plus actual spend, and emails the owner at 80% and at 100%, once each per
 * month (budget_alerts' key).
 */
export const BUDGET_WATCH_SCHEDULE_ID = 'budget-watch';

export interface BudgetWatchInput {
  /** The month, YYYY-MM; absent: the month the run started in. */
  period?: string;
}

export interface BudgetWatchOutcome {
  period: string;
  /** Cost centres with a budget looked at. */
  budgets: number;
  /** Alerts sent by this run (one per cost centre and threshold reached, never again that month). */
  alertsSent: number;
}

export interface NotifyBudgetAlertsInput {
  /** YYYY-MM */
  period: string;
}
