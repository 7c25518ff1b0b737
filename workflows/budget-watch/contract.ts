/**
 * The budget watch: a short workflow a Temporal Schedule starts (BUDGET_WATCH_EVERY), also started
 * after a cost import completes and on demand. It compares each cost centre's budget for the month
 * with its committed plus actual spend, and emails the owner at 80% and at 100%, once each per
 * month (budget_alerts' key).
 */
import { PERIOD_PATTERN } from '../../domain/months';

export const BUDGET_WATCH_SCHEDULE_ID = 'budget-watch';

/** Cost centres read at a time: one statement reads a batch's figures and the alerts it was sent. */
export const BUDGET_WATCH_BATCH = 200;

/** A month as the watch and its callers name it: YYYY-MM, domain/months.ts's pattern. */
export const BUDGET_PERIOD = PERIOD_PATTERN;

/** A run started on demand (POST /finops/budget-watch/run): a fresh id each, as runs never clash (alerts are once by key). */
export const budgetWatchRunId = (runId: string) => `budget-watch:run:${runId}`;

export interface BudgetWatchInput {
  /** The month, YYYY-MM; absent: the month the run started in (UTC). */
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

export const BudgetWatchFailure = {
  /** The period is not a month (YYYY-MM). */
  badPeriod: 'BudgetWatchBadPeriod',
} as const;
