import { proxyActivities, uuid4, workflowInfo } from '@temporalio/workflow';
import type { FindingActivities } from '../../activities/findings';
import { FINDING_KINDS } from '../../domain/findings';
import { DATABASE_STEP } from '../activity-options';
import { StepRefused, attentionGuard } from '../attention/guard';
import type { FindingsScanInput, FindingsScanOutcome, KindScanOutcome } from './contract';

const activities = proxyActivities<FindingActivities>({
  ...DATABASE_STEP,
  // A detector reads a whole estate's licences, assets or cloud costs and merges up to its bound of findings.
  startToCloseTimeout: '5 minutes',
});

/**
 * One scan: every kind's detector side by side, each a step of its own under one key per run and
 * kind, all judged at the same instant. A kind whose retries run out waits for attention while the
 * others finish; a kind refused for bad data is reported in the outcome and the rest still count.
 */
export async function findingsScanWorkflow(input: FindingsScanInput = {}): Promise<FindingsScanOutcome> {
  const asOf = input.asOf ?? new Date(Date.now()).toISOString();
  const { workflowId, runId } = workflowInfo();
  const scanId = uuid4();
  const guard = attentionGuard({ subjectType: 'findings_scan', subjectId: scanId, interrupted: () => false });
  const outcomes = await Promise.all(FINDING_KINDS.map(async (kind): Promise<[string, KindScanOutcome]> => {
    try {
      const outcome = await guard.run(`scan ${kind}`, () =>
        activities.scanFindings({ idempotencyKey: `${workflowId}:${runId}:${kind}`, scanId, workflowId, asOf, kind }));
      return [kind, outcome];
    } catch (error) {
      if (!(error instanceof StepRefused)) throw error;
      await guard.reportRefusal(error, `${kind} not scanned`);
      return [kind, { found: 0, stillOpen: 0, resolved: 0, refused: error.reason }];
    }
  }));
  return { asOf, byKind: Object.fromEntries(outcomes) };
}
