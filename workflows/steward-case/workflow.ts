import { allHandlersFinished, condition, proxyActivities, setHandler, upsertSearchAttributes, workflowInfo } from '@temporalio/workflow';
import type { AttentionActivities } from '../../activities/attention';
import type { StewardCaseActivities } from '../../activities/steward-cases';
import { ATTENTION_STEP, DATABASE_STEP } from '../activity-options';
import { approvalSteps } from '../approvals/steps';
import { StepRefused, attentionGuard } from '../attention/guard';
import { processStateKey } from '../search-attributes';
import {
  MAX_CASE_ROUNDS,
  stewardCaseClosedSignal,
  stewardCaseStatusQuery,
  type CaseResolution,
  type StewardCaseInput,
  type StewardCaseResult,
  type StewardCaseState,
} from './contract';

const activities = proxyActivities<StewardCaseActivities>(DATABASE_STEP);
const attention = proxyActivities<AttentionActivities>(ATTENTION_STEP);

const ASKING = 'ask the data stewards';

/**
 * One run per data steward case: ask the data stewards through the shared approval steps (inbox,
 * task email with signed links, reminders, escalation, delegation, nudge and reassign), then carry
 * out their decision in one step: approve merges the records into the survivor, reject keeps both
 * or ignores the row. A merge the data forbids (both records have an asset) is recorded on the case
 * with its reason and the stewards are asked again, so the case stays open until a decision can be
 * carried out. A step that expires unanswered asks again too: a duplicate never settles by itself;
 * only an approved plan merges, and only a rejection keeps both or ignores. Another case's merge
 * that takes one of the records away cancels this case: the open step ends and so does the run.
 * After MAX_CASE_ROUNDS rounds without a decision carried out, the case is cancelled (the records
 * as they are, the pair free to be held again) and the process owners are told why.
 */
export async function stewardCaseWorkflow(input: StewardCaseInput): Promise<StewardCaseResult> {
  const { workflowId } = workflowInfo();
  const { caseId } = input;
  const { timings } = input;
  const base = (key: string) => ({ idempotencyKey: `${workflowId}:${key}`, workflowId, caseId });

  let state: StewardCaseState = 'open';
  let round = 0;
  let refusal: string | null = null;
  // Set when another case's merge cancelled this one; it ends the open approval step, not a step waiting for attention.
  let closedElsewhere = false;
  setHandler(stewardCaseClosedSignal, () => {
    closedElsewhere = true;
  });
  const guard = attentionGuard({ subjectType: 'reconciliation_case', subjectId: caseId, interrupted: () => false });
  const approvals = approvalSteps({
    workflowId,
    subjectType: 'reconciliation_case',
    subjectId: caseId,
    // A feed raised the case, not a person: nobody is kept from deciding it.
    requesterId: '',
    timings,
    interrupted: () => closedElsewhere,
    state: () => state,
    guard,
  });

  setHandler(stewardCaseStatusQuery, () => ({
    caseId,
    number: input.number,
    state,
    round,
    currentStep: approvals.currentStep(),
    waitingFor: approvals.waitingFor(),
    refusal,
    attention: guard.attention(),
  }));

  async function end(to: StewardCaseState): Promise<StewardCaseResult> {
    state = to;
    upsertSearchAttributes([{ key: processStateKey, value: to }]);
    await condition(allHandlersFinished);
    return { caseId, state };
  }

  for (;; round += 1) {
    if (round >= MAX_CASE_ROUNDS) {
      const reason = `the data stewards were asked ${MAX_CASE_ROUNDS} times without a decision that could be carried out${refusal ? ` (the last refused: ${refusal})` : ''}; `
        + 'the case is cancelled and its records left as they are: a feed reporting them again opens a new case';
      const cancelled = await guard.run('cancel the case', () => activities.cancelStewardCase({ ...base('cancel'), rounds: round, reason }));
      if (cancelled.state === 'cancelled') {
        await guard.run('tell the process owners', () => attention.reportRefusedStep({
          workflowId, subjectType: 'reconciliation_case', subjectId: caseId, idempotencyKey: `${workflowId}:cancelled`, step: ASKING, reason, endedAs: 'cancelled',
        }));
      }
      return end(cancelled.state);
    }
    // The signal follows the cancelling commit: a plan read after it sees the case closed.
    closedElsewhere = false;
    const plan = await guard.run('plan approvals', () => activities.planStewardCaseApprovals(base(`plan:${round}`)));
    if (plan.caseState !== 'open') return end(plan.caseState);
    const startedAt = Date.now();
    const authorization = closedElsewhere ? 'interrupted' : await approvals.run(plan.steps, round);
    if (authorization === 'interrupted') {
      const now = await guard.run('plan approvals', () => activities.planStewardCaseApprovals(base(`plan:${round}:closed`)));
      if (now.caseState !== 'open') return end(now.caseState);
      continue;
    }
    // The plan's outcome decides, and the decision that ended it says how: a later step that
    // expired after an earlier one approved is no merge.
    const decision = approvals.decidedBy();
    const resolution: CaseResolution | null = !decision
      ? null
      : authorization === 'approved' && decision.decision === 'approved'
        ? 'merge'
        : authorization === 'rejected' && decision.decision === 'rejected'
          ? (decision.resolution === 'ignore' ? 'ignore' : 'keep_both')
          : null;
    if (!decision || !resolution) {
      // Nothing to carry out. A round over before its deadline asked nobody (no rule, nobody active, no
      // approval opened): wait a deadline's length for someone to join, then plan again.
      if (Date.now() - startedAt < timings.deadlineMs) await condition(() => closedElsewhere, timings.deadlineMs);
      continue;
    }
    try {
      const settled = await guard.run('settle the case', () => activities.settleStewardCase({
        ...base(`settle:${round}`),
        resolution,
        survivorCiId: resolution === 'merge' ? (decision.survivorCiId ?? null) : null,
        actorId: decision.actorId,
        actorEmail: decision.actorEmail,
        comment: decision.comment ?? null,
      }));
      return await end(settled.state);
    } catch (error) {
      if (!(error instanceof StepRefused)) throw error;
      refusal = error.reason;
      const reason = error.reason;
      await guard.run('record the refusal', () => activities.recordStewardCaseRefusal({
        ...base(`refused:${round}`), round, resolution, reason, actorEmail: decision.actorEmail,
      }));
    }
  }
}
