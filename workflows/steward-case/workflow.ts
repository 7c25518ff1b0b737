import { allHandlersFinished, condition, proxyActivities, setHandler, sleep, upsertSearchAttributes, workflowInfo } from '@temporalio/workflow';
import type { StewardCaseActivities } from '../../activities/steward-cases';
import { DATABASE_STEP } from '../activity-options';
import { approvalSteps } from '../approvals/steps';
import { StepRefused, attentionGuard } from '../attention/guard';
import { processStateKey } from '../search-attributes';
import {
  DEFAULT_CASE_TIMINGS,
  stewardCaseStatusQuery,
  type CaseResolution,
  type StewardCaseInput,
  type StewardCaseResult,
  type StewardCaseState,
} from './contract';

const activities = proxyActivities<StewardCaseActivities>(DATABASE_STEP);

/**
 * One run per data steward case: ask the data stewards through the shared approval steps (inbox,
 * task email with signed links, reminders, escalation, delegation, nudge and reassign), then carry
 * out their decision in one step: approve merges the records into the survivor, reject keeps both
 * or ignores the row. A merge the data forbids (both records have an asset) is recorded on the case
 * with its reason and the stewards are asked again, so the case stays open until a decision can be
 * carried out. A step that expires unanswered asks again too: a duplicate never settles by itself.
 */
export async function stewardCaseWorkflow(input: StewardCaseInput): Promise<StewardCaseResult> {
  const { workflowId } = workflowInfo();
  const { caseId } = input;
  const timings = input.timings ?? DEFAULT_CASE_TIMINGS;
  const base = (key: string) => ({ idempotencyKey: `${workflowId}:${key}`, workflowId, caseId });

  let state: StewardCaseState = 'open';
  let round = 0;
  let refusal: string | null = null;
  // Nothing cancels a case from outside: its records are settled by a decision only.
  const guard = attentionGuard({ subjectType: 'reconciliation_case', subjectId: caseId, interrupted: () => false });
  const approvals = approvalSteps({
    workflowId,
    subjectType: 'reconciliation_case',
    subjectId: caseId,
    // A feed raised the case, not a person: nobody is kept from deciding it.
    requesterId: '',
    timings,
    interrupted: () => false,
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
    const plan = await guard.run('plan approvals', () => activities.planStewardCaseApprovals(base(`plan:${round}`)));
    if (plan.caseState !== 'open') return end(plan.caseState);
    await approvals.run(plan.steps, round);
    const decision = approvals.decidedBy();
    if (!decision) {
      // Nobody could be asked (no rule, nobody active): wait a deadline's length for someone to join, then plan again.
      if (plan.steps.every((s) => s.approvers.length === 0)) await sleep(timings.deadlineMs);
      continue;
    }
    const resolution: CaseResolution = decision.decision === 'approved' ? 'merge' : decision.resolution === 'ignore' ? 'ignore' : 'keep_both';
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
