import { proxyActivities } from '@temporalio/workflow';
import type { BudgetWatchActivities } from '../../activities/budget-watch';
import { DATABASE_STEP } from '../activity-options';
import type { BudgetWatchInput, BudgetWatchOutcome } from './contract';

const activities = proxyActivities<BudgetWatchActivities>({
  ...DATABASE_STEP,
  // Every budgeted cost centre, a batch at a time, each alert in its own transaction: more than a few statements.
  startToCloseTimeout: '5 minutes',
});

/**
 * One run of the budget watch for a month (the run's own when none is named). Each alert is sent in
 * its own transaction under budget_alerts' key, so a run retried or overlapping another sends
 * nothing twice; when its retries run out the run fails and the next scheduled run finds what is left.
 */
export async function budgetWatchWorkflow(input: BudgetWatchInput = {}): Promise<BudgetWatchOutcome> {
  const period = input.period ?? new Date(Date.now()).toISOString().slice(0, 7);
  const { budgets, alertsSent } = await activities.notifyBudgetAlerts({ period });
  return { period, budgets, alertsSent };
}
