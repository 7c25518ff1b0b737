import { ApplicationFailure, proxyActivities, setHandler, workflowInfo, type ActivityOptions } from '@temporalio/workflow';
import type { CostImportActivities } from '../../activities/cost-imports';
import type { BudgetWatchOutcome, NotifyBudgetAlertsInput } from '../budget-watch/contract';
import { DATABASE_STEP } from '../activity-options';
import { StepRefused, attentionGuard } from '../attention/guard';
import {
  CostImportFailure,
  budgetPeriodsToWatch,
  costImportProgressQuery,
  type AppliedCostImport,
  type CostImportInput,
  type CostImportOutcome,
  type CostImportState,
} from './contract';

/**
 * Writing a million staged rows is a handful of set-based statements in one transaction: minutes.
 * The heartbeat still notices a dead worker within seconds; the long limit only lets a live one finish.
 */
const APPLY_STEP: ActivityOptions = { ...DATABASE_STEP, startToCloseTimeout: '30 minutes' };

const applying = proxyActivities<CostImportActivities>(APPLY_STEP);
const steps = proxyActivities<CostImportActivities>(DATABASE_STEP);

/** The budget watch's activity (activities/budget-watch.ts), by its agreed name and input. */
const budgets = proxyActivities<{ notifyBudgetAlerts(input: NotifyBudgetAlertsInput): Promise<Omit<BudgetWatchOutcome, 'period'>> }>({
  ...DATABASE_STEP,
  startToCloseTimeout: '5 minutes',
});

/**
 * A cloud bill whose checked rows are staged: one step writes them all as cost records (or, met
 * with bad data, nothing, and the import ends failed with the reason), then the budgets of the
 * current and previous month the bill touched are watched at once rather than at the next
 * scheduled run. A step that runs out of retries waits for attention.
 */
export async function costImportWorkflow(input: CostImportInput): Promise<CostImportOutcome> {
  const { workflowId } = workflowInfo();
  const { importId } = input;
  const guard = attentionGuard({ subjectType: 'cost_import', subjectId: importId, interrupted: () => false });
  let state: CostImportState = 'staged';
  setHandler(costImportProgressQuery, () => ({ importId, state, attention: guard.attention() }));

  let outcome: CostImportOutcome;
  let chargePeriod: AppliedCostImport['chargePeriod'] = null;
  try {
    state = 'applying';
    const applied = await guard.run('write the cost records', () =>
      applying.applyCostImport({ idempotencyKey: `${workflowId}:apply`, importId, workflowId }));
    chargePeriod = applied.chargePeriod;
    outcome = await guard.run('finish the import', () =>
      steps.finishCostImport({ idempotencyKey: `${workflowId}:finish:completed`, importId, workflowId, state: 'completed' }));
  } catch (error) {
    if (!(error instanceof StepRefused)) throw error;
    // Given up by the intake before it was applied: it says so already, and nothing was written.
    const abandoned = error.failure.cause instanceof ApplicationFailure && error.failure.cause.type === CostImportFailure.importAbandoned;
    if (!abandoned) await guard.reportRefusal(error, 'failed');
    outcome = await guard.run('finish the import', () => steps.finishCostImport({
      idempotencyKey: `${workflowId}:finish:failed`, importId, workflowId, state: 'failed', message: `${error.step}: ${error.reason}`,
    }));
  }
  state = outcome.state;

  for (const period of budgetPeriodsToWatch(chargePeriod, new Date(Date.now()))) {
    try {
      await guard.run(`watch the budgets of ${period}`, () => budgets.notifyBudgetAlerts({ period }));
    } catch (error) {
      // The import stands either way; the scheduled budget watch looks at the month again.
      if (!(error instanceof StepRefused)) throw error;
    }
  }
  return outcome;
}
