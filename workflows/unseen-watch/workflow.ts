import { proxyActivities } from '@temporalio/workflow';
import type { UnseenRecordActivities } from '../../activities/unseen-records';
import { DATABASE_STEP } from '../activity-options';
import {
  UNSEEN_WATCH_BATCH,
  UNSEEN_WATCH_BATCHES_PER_RUN,
  type UnseenBatchInput,
  type UnseenBatchOutcome,
  type UnseenWatchInput,
  type UnseenWatchOutcome,
} from './contract';

const activities = proxyActivities<UnseenRecordActivities>({
  ...DATABASE_STEP,
  // A batch signals up to 500 lifecycle workflows, one after another: more than a few statements.
  startToCloseTimeout: '5 minutes',
});

/**
 * One run of the unseen watch: tells the new missing candidates, then the candidates seen again,
 * each in batches in CI id order, all judged at the run's one instant. A record is marked once it
 * is told, so a run retried or overlapping another tells nothing twice; when a batch's retries run
 * out, the run fails and the next scheduled run finds what is left.
 */
export async function unseenWatchWorkflow(input: UnseenWatchInput = {}): Promise<UnseenWatchOutcome> {
  const now = new Date(Date.now()).toISOString();
  const limit = input.batchLimit ?? UNSEEN_WATCH_BATCH;

  async function inBatches(step: (batch: UnseenBatchInput) => Promise<UnseenBatchOutcome>): Promise<{ found: number; told: number }> {
    let found = 0;
    let told = 0;
    let after: string | null = null;
    for (let batch = 0; batch < UNSEEN_WATCH_BATCHES_PER_RUN; batch += 1) {
      const outcome: UnseenBatchOutcome = await step({ now, after, limit });
      found += outcome.found;
      told += outcome.told;
      if (outcome.found < limit || !outcome.last) break;
      after = outcome.last;
    }
    return { found, told };
  }

  const candidates = await inBatches(activities.tellMissingCandidates);
  const seenAgain = await inBatches(activities.tellSeenAgain);
  return { candidates: candidates.found, told: candidates.told, seenAgain: seenAgain.told };
}
