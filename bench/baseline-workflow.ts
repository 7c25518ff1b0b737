import { proxyActivities } from '@temporalio/workflow';

/**
 * The engine's own cost, for comparison: a workflow with as many activities as a standard change
 * runs from submission to closure (12), each doing nothing, through the same client, worker
 * settings and server as the real thing.
 */
export const STANDARD_CHANGE_ACTIVITY_COUNT = 12;

const { doNothing } = proxyActivities<{ doNothing(step: number): Promise<void> }>({ startToCloseTimeout: '15 seconds' });

export async function baselineWorkflow(activities: number): Promise<void> {
  for (let step = 0; step < activities; step++) await doNothing(step);
}
