import { proxyActivities } from '@temporalio/workflow';
import type { SlaBreachActivities } from '../../activities/sla-breaches';
import { DATABASE_STEP } from '../activity-options';
import { SLA_WATCH_BATCH, type SlaWatchInput, type SlaWatchOutcome } from './contract';

const activities = proxyActivities<SlaBreachActivities>({
  ...DATABASE_STEP,
  // One email per owner per breach, up to a batch: more than a few statements.
  startToCloseTimeout: '1 minute',
});

/**
 * One run of the SLA watch. Each breach is told in its own transaction, keyed by the stay in the
 * state, so a run retried or overlapping another tells nobody twice; when its retries run out the
 * next scheduled run tries again.
 */
export async function slaWatchWorkflow(input: SlaWatchInput = {}): Promise<SlaWatchOutcome> {
  return activities.notifySlaBreaches({ limit: input.batchLimit ?? SLA_WATCH_BATCH });
}
