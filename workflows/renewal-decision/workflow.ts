import { ApplicationFailure, allHandlersFinished, condition, proxyActivities, setHandler, upsertSearchAttributes, workflowInfo } from '@temporalio/workflow';
import type { AttentionActivities } from '../../activities/attention';
import type { RenewalDecisionActivities } from '../../activities/renewal-decisions';
import { ATTENTION_STEP, DATABASE_STEP } from '../activity-options';
import { approvalSteps } from '../approvals/steps';
import { StepInterrupted, StepRefused, attentionGuard } from '../attention/guard';
import { processStateKey } from '../search-attributes';
import {
  MAX_RENEWAL_ROUNDS,
  RENEWAL_REFUSED,
  cancelRenewalUpdate,
  renewalDecisionStatusQuery,
  type CancelRenewalCommand,
  type RenewalDecisionInput,
  type RenewalDecisionResult,
  type RenewalDecisionState,
  type RenewalDecisionStatus,
} from './contract';

const activities = proxyActivities<RenewalDecisionActivities>(DATABASE_STEP);
const attention = proxyActivities<AttentionActivities>(ATTENTION_STEP);

const ASKING = 'ask the renewal approvers';

/** How long a cancel waits for the decision to end before it answers with where the decision stands. */
const CANCEL_ANSWER_WITHIN_MS = 10_000;

/**
 * One run per contract renewal decision: ask the renewal approvers (the approval rules of process
 * renewal: Finance) through the shared approval steps (inbox, task email with links signed at
 * sending, reminders, escalation, delegation, nudge and reassign), then carry out their decision
 * in one step: approve writes the next term on the decision, reject lets the contract lapse. Only a
 * decision does either: a step that expires unanswered asks again, and nobody to ask waits for
 * attention (the process owners are told) until someone can be asked. It is cancelled, the contract
 * left as it is and its finding open again, when a process owner or an admin withdraws it (the
 * cancel update: its open approvals are cancelled), after MAX_RENEWAL_ROUNDS rounds without a
 * decision, or when the term it is about is gone (the process owners are told of the last two).
 */
export async function renewalDecisionWorkflow(input: RenewalDecisionInput): Promise<RenewalDecisionResult> {
  const { workflowId } = workflowInfo();
  const { renewalId, timings } = input;
  const base = (key: string) => ({ idempotencyKey: `${workflowId}:${key}`, workflowId, renewalId });

  let state: RenewalDecisionState = 'open';
  let round = 0;
  let requesterId = '';
  let cancellation: CancelRenewalCommand | null = null;
  // Set once the decision is ending: its last steps wait out a stall even when it is withdrawn.
  let ending = false;
  // Set once the approvers' decision is being carried out: a withdrawal comes too late.
  let settling = false;
  const guard = attentionGuard({ subjectType: 'contract_renewal', subjectId: renewalId, interrupted: () => cancellation !== null && !ending });
  const approvals = approvalSteps({
    workflowId,
    subjectType: 'contract_renewal',
    subjectId: renewalId,
    get requesterId() {
      return requesterId;
    },
    timings,
    interrupted: () => cancellation !== null,
    state: () => state,
    guard,
  });

  const status = (): RenewalDecisionStatus => ({
    renewalId,
    number: input.number,
    state,
    round,
    currentStep: approvals.currentStep(),
    waitingFor: approvals.waitingFor(),
    attention: guard.attention(),
  });
  setHandler(renewalDecisionStatusQuery, status);

  setHandler(
    cancelRenewalUpdate,
    async (command) => {
      cancellation ??= command;
      await condition(() => state !== 'open', CANCEL_ANSWER_WITHIN_MS);
      return status();
    },
    {
      validator: (_command) => {
        // A withdrawal repeated (a client that timed out and retried) is answered with where the decision stands.
        if (state !== 'open') throw ApplicationFailure.nonRetryable(`${input.number} is ${state.replace('_', ' ')} already; nothing was changed`, RENEWAL_REFUSED);
        if (settling) throw ApplicationFailure.nonRetryable(`${input.number} was decided by its approvers and is being carried out; it can no longer be withdrawn`, RENEWAL_REFUSED);
      },
    },
  );

  async function end(to: RenewalDecisionState): Promise<RenewalDecisionResult> {
    ending = true;
    state = to;
    upsertSearchAttributes([{ key: processStateKey, value: to }]);
    await condition(allHandlersFinished);
    return { renewalId, state };
  }

  /** Cancels the decision (its open approvals too): withdrawn, or given up with the process owners told why. */
  async function cancel(reason: string, tellOwnersAs?: string): Promise<RenewalDecisionResult> {
    ending = true;
    await approvals.closeAll(round, `${workflowId}:cancel:approvals`);
    const actor = cancellation ? { id: cancellation.actorId, email: cancellation.actorEmail } : null;
    const cancelled = await guard.run('cancel the decision', () => activities.cancelRenewalDecision({ ...base('cancel'), rounds: round, reason, actor }), { interruptible: false });
    if (cancelled.state === 'cancelled' && tellOwnersAs) {
      await guard.run('tell the process owners', () => attention.reportRefusedStep({
        workflowId, subjectType: 'contract_renewal', subjectId: renewalId, idempotencyKey: `${workflowId}:cancelled`, step: tellOwnersAs, reason, endedAs: 'cancelled',
      }), { interruptible: false });
    }
    return end(cancelled.state);
  }
  const withdrawn = () => cancel(`withdrawn by ${cancellation!.actorEmail}: ${cancellation!.reason}`);

  try {
    for (;; round += 1) {
      if (cancellation) return await withdrawn();
      if (round >= MAX_RENEWAL_ROUNDS) {
        return await cancel(`the renewal approvers were asked ${MAX_RENEWAL_ROUNDS} times without a decision; the decision is cancelled, the contract left `
          + 'as it is and its finding open again: acting on it, or asking for a decision, while the term is in its notice period opens a new one', ASKING);
      }
      const plan = await guard.run('plan approvals', () => activities.planRenewalApprovals(base(`plan:${round}`)));
      if (plan.renewalState !== 'open') return await end(plan.renewalState);
      if (cancellation) return await withdrawn();
      requesterId = plan.requesterId;
      const authorization = await approvals.run(plan.steps, round);
      if (authorization === 'interrupted' || cancellation) return await withdrawn();
      // The plan's outcome decides, and the decision that ended it says how: a later step that
      // expired after an earlier one approved renews nothing.
      const decision = approvals.decidedBy();
      const outcome = !decision
        ? null
        : authorization === 'approved' && decision.decision === 'approved'
          ? 'renew' as const
          : authorization === 'rejected' && decision.decision === 'rejected' ? 'let_lapse' as const : null;
      if (!decision || !outcome) continue;
      ending = true;
      settling = true;
      try {
        const settled = await guard.run('carry out the decision', () => activities.settleRenewalDecision({
          ...base(`settle:${round}`),
          outcome,
          actorId: decision.actorId,
          actorEmail: decision.actorEmail,
          comment: decision.comment ?? null,
        }), { interruptible: false });
        return await end(settled.state);
      } catch (error) {
        // The term decided about is gone (the contract's dates were edited): nothing to carry out.
        if (error instanceof StepRefused) return await cancel(error.reason, 'carry out the decision');
        throw error;
      }
    }
  } catch (error) {
    // A step that waited for attention when the decision was withdrawn.
    if (error instanceof StepInterrupted && cancellation) return withdrawn();
    throw error;
  }
}
