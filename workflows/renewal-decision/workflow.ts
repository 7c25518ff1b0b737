import { allHandlersFinished, condition, proxyActivities, setHandler, upsertSearchAttributes, workflowInfo } from '@temporalio/workflow';
import type { AttentionActivities } from '../../activities/attention';
import type { RenewalDecisionActivities } from '../../activities/renewal-decisions';
import { ATTENTION_STEP, DATABASE_STEP } from '../activity-options';
import { approvalSteps } from '../approvals/steps';
import { attentionGuard } from '../attention/guard';
import { processStateKey } from '../search-attributes';
import {
  MAX_RENEWAL_ROUNDS,
  renewalDecisionStatusQuery,
  type RenewalDecisionInput,
  type RenewalDecisionResult,
  type RenewalDecisionState,
} from './contract';

const activities = proxyActivities<RenewalDecisionActivities>(DATABASE_STEP);
const attention = proxyActivities<AttentionActivities>(ATTENTION_STEP);

const ASKING = 'ask the renewal approvers';

/**
 * One run per contract renewal decision: ask the renewal approvers (the approval rules of process
 * renewal: Finance) through the shared approval steps (inbox, task email with links signed at
 * sending, reminders, escalation, delegation, nudge and reassign), then carry out their decision
 * in one step: approve renews the contract for one more term, reject lets it lapse. Only a decision
 * does either: a step that expires unanswered asks again, and nobody to ask waits for attention
 * (the process owners are told) until someone can be asked. After MAX_RENEWAL_ROUNDS rounds without
 * a decision the decision is cancelled, the contract left as it is, and the process owners told.
 */
export async function renewalDecisionWorkflow(input: RenewalDecisionInput): Promise<RenewalDecisionResult> {
  const { workflowId } = workflowInfo();
  const { renewalId, timings } = input;
  const base = (key: string) => ({ idempotencyKey: `${workflowId}:${key}`, workflowId, renewalId });

  let state: RenewalDecisionState = 'open';
  let round = 0;
  let requesterId = '';
  const guard = attentionGuard({ subjectType: 'contract_renewal', subjectId: renewalId, interrupted: () => false });
  const approvals = approvalSteps({
    workflowId,
    subjectType: 'contract_renewal',
    subjectId: renewalId,
    get requesterId() {
      return requesterId;
    },
    timings,
    interrupted: () => false,
    state: () => state,
    guard,
  });

  setHandler(renewalDecisionStatusQuery, () => ({
    renewalId,
    number: input.number,
    state,
    round,
    currentStep: approvals.currentStep(),
    waitingFor: approvals.waitingFor(),
    attention: guard.attention(),
  }));

  async function end(to: RenewalDecisionState): Promise<RenewalDecisionResult> {
    state = to;
    upsertSearchAttributes([{ key: processStateKey, value: to }]);
    await condition(allHandlersFinished);
    return { renewalId, state };
  }

  for (;; round += 1) {
    if (round >= MAX_RENEWAL_ROUNDS) {
      const reason = `the renewal approvers were asked ${MAX_RENEWAL_ROUNDS} times without a decision; `
        + 'the decision is cancelled and the contract left as it is: acting on its finding again opens a new decision';
      const cancelled = await guard.run('cancel the decision', () => activities.cancelRenewalDecision({ ...base('cancel'), rounds: round, reason }));
      if (cancelled.state === 'cancelled') {
        await guard.run('tell the process owners', () => attention.reportRefusedStep({
          workflowId, subjectType: 'contract_renewal', subjectId: renewalId, idempotencyKey: `${workflowId}:cancelled`, step: ASKING, reason, endedAs: 'cancelled',
        }));
      }
      return end(cancelled.state);
    }
    const plan = await guard.run('plan approvals', () => activities.planRenewalApprovals(base(`plan:${round}`)));
    if (plan.renewalState !== 'open') return end(plan.renewalState);
    requesterId = plan.requesterId;
    const authorization = await approvals.run(plan.steps, round);
    // The plan's outcome decides, and the decision that ended it says how: a later step that
    // expired after an earlier one approved renews nothing.
    const decision = approvals.decidedBy();
    const outcome = !decision
      ? null
      : authorization === 'approved' && decision.decision === 'approved'
        ? 'renew' as const
        : authorization === 'rejected' && decision.decision === 'rejected' ? 'let_lapse' as const : null;
    if (!decision || !outcome) continue;
    const settled = await guard.run('carry out the decision', () => activities.settleRenewalDecision({
      ...base(`settle:${round}`),
      outcome,
      actorId: decision.actorId,
      actorEmail: decision.actorEmail,
      comment: decision.comment ?? null,
    }));
    return end(settled.state);
  }
}
