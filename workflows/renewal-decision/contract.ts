/**
 * The contract renewal decision (issue 17): one workflow per decision asks the renewal approvers,
 * through the shared approval steps, whether a contract inside its notice period is renewed or
 * let lapse, and records the decision: approve renews, reject lets it lapse.
 */
import { defineQuery } from '@temporalio/workflow';
import type { PlannedStep } from '../../domain/approval-routing';
import type { RenewalState } from '../../domain/processes';
import type { ApprovalTimings, StepView } from '../approvals/contract';
import type { Attention } from '../attention/contract';

export const RENEWAL_PROCESS = 'renewal';

export const renewalDecisionWorkflowId = (number: string): string => `renewal:${number}`;

/**
 * How many times the approvers are asked (a step that expired unanswered, nobody to ask) before the
 * decision is cancelled and the process owners told: a contract nobody decides about is not asked
 * about forever. Acting on its finding again opens a new decision.
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

export interface SettledRenewal {
  state: RenewalDecisionState;
  /** The contract's term after the decision (a renewal moves it on by one term). */
  startsOn: string;
  endsOn: string;
}

export interface RenewalCancelInput extends RenewalActivityBase {
  rounds: number;
  reason: string;
}
