import { ApplicationFailure, proxyActivities, setHandler, workflowInfo } from '@temporalio/workflow';
import type { CostAllocationActivities } from '../../activities/cost-allocation';
import { periodSpan, previousPeriod } from '../../domain/months';
import { DATABASE_STEP } from '../activity-options';
import { costAllocationStatusQuery, type CostAllocationInput, type CostAllocationOutcome } from './contract';

const activities = proxyActivities<CostAllocationActivities>({
  ...DATABASE_STEP,
  // A month of a large estate: the sources read and its rows written in one transaction, heartbeating.
  startToCloseTimeout: '15 minutes',
});

/**
 * One allocation of a month: the month given, or (the schedule) the month before the run started,
 * from the SDK's start time so a replay picks the same month. The one activity replaces the
 * month's rows in one transaction. A run refused for good (rules in a cycle, totals that do not
 * reconcile) is recorded as failed with its reason by the activity; when the bounded retries of a
 * transient fault run out the run fails too. Either way its month stays as the last completed run
 * left it (the transaction rolled back): the next scheduled run, or a person running it again,
 * replaces it; nobody's process waits on it.
 */
export async function costAllocationWorkflow(input: CostAllocationInput = {}): Promise<CostAllocationOutcome> {
  const info = workflowInfo();
  const period = input.period ?? previousPeriod(info.startTime);
  let state: 'running' | 'completed' | 'failed' = 'running';
  setHandler(costAllocationStatusQuery, () => ({ period, state }));
  if (!periodSpan(period)) {
    state = 'failed';
    throw ApplicationFailure.create({ type: 'AllocationPeriodInvalid', message: `${period} is not a month (YYYY-MM)`, nonRetryable: true });
  }
  try {
    const outcome = await activities.allocateMonth({ idempotencyKey: `cost-allocation:${info.workflowId}:${info.runId}`, period, workflowId: info.workflowId });
    state = 'completed';
    return outcome;
  } catch (error) {
    state = 'failed';
    throw error;
  }
}
