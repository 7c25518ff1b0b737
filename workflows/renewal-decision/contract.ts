/**
 * The contract renewal decision (issue 17): one workflow per decision asks the renewal approvers,
 * through the shared approval steps, whether the latest term of a contract inside its notice period
 * is followed by another or let lapse, and records the decision: approve renews, reject lets it
 * lapse. A process owner or an admin may withdraw it while it is open (the cancel update).
 */
import { defineQuery, defineUpdate } from '@temporalio/workflow';
import type { PlannedStep } from '../../domain/approval-routing';
import type { RenewalState } from '../../domain/processes';
import type { ApprovalTimings, StepView } from '../approvals/contract';
import type { Attention } from '../attention/contract';

export const RENEWAL_PROCESS = 'renewal';

export const renewalDecisionWorkflowId = (number: string): string => `renewal:${number}`;

/**
 * How many times the approvers are asked (a step that expired unanswered, nobody to ask) before the
 * decision is cancelled and the process owners told: a contract nobody decides about is not asked
 * about forever. Its finding is open again, so acting on it (while the term is in its notice period)
 * opens a new decision.
 */
export const MAX_RENEWAL_ROUNDS = 5;

export type RenewalDecisionState = RenewalState;

export interface RenewalDecisionInput {
  renewalId: string;
  number: string;
  /** The normal approval clock (APPROVAL_REMINDER_AFTER, APPROVAL_ESCALATION_AFTER, APPROVAL_DEADLINE), as purchases get it. */
  timings: ApprovalTimings;
}

export interface RenewalDecisionStatus {
  renewalId: string;
  number: string;
  state: RenewalDecisionState;
  /** The round of asking: a step that ended without a decision asks again in the next. */
  round: number;
  currentStep: StepView | null;
  waitingFor: string[];
  attention: Attention | null;
}

export interface RenewalDecisionResult {
  renewalId: string;
  state: RenewalDecisionState;
}

export const renewalDecisionStatusQuery = defineQuery<RenewalDecisionStatus>('status');

/** Withdraws an open decision: its open approvals are cancelled, the contract left as it is, its finding open again. */
export interface CancelRenewalCommand {
  actorId: string;
  actorEmail: string;
  reason: string;
  requestId: string;
}

/** Answers with the decision's status once it has ended (or after a bound, while a step waits for attention). */
export const cancelRenewalUpdate = defineUpdate<RenewalDecisionStatus, [CancelRenewalCommand]>('cancel');

/** The failure type of a command the decision refuses (decided already, being carried out); the API answers 409. */
export const RENEWAL_REFUSED = 'RenewalDecisionRefused';

// Activity inputs: each carries the idempotency key its writes are keyed by.

export interface RenewalActivityBase {
  idempotencyKey: string;
  workflowId: string;
  renewalId: string;
}

export interface PlannedRenewalStep {
  /** The decision's state when planned: a decision no longer open is not asked about. */
  renewalState: RenewalDecisionState;
  /** Who asked for it: nobody approves their own request. */
  requesterId: string;
  steps: PlannedStep[];
}

export interface SettleRenewalInput extends RenewalActivityBase {
  outcome: Extract<RenewalDecisionState, 'renew' | 'let_lapse'>;
  actorId: string;
  actorEmail: string;
  comment: string | null;
}

export interface RenewalTerm {
  startsOn: string;
  endsOn: string;
  valueMinor: number;
}

export interface SettledRenewal {
  state: RenewalDecisionState;
  /** The term decided about: the contract keeps it whatever was decided. */
  term: RenewalTerm;
  /** Renewed: the term that follows it, written on the decision; null when let lapse. */
  next: RenewalTerm | null;
}

/** Cancelled by its workflow: after MAX_RENEWAL_ROUNDS (no actor), withdrawn by a person, or the term it was about changed. */
export interface RenewalCancelInput extends RenewalActivityBase {
  reason: string;
  rounds: number;
  /** Who withdrew it; none when the workflow cancelled it by itself. */
  actor: { id: string; email: string } | null;
}
