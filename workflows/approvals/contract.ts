/**
 * The approval machinery's contract, shared by every workflow that asks people to approve (change
 * requests, purchase requests): the decision update, what a step looks like from outside, and the
 * inputs of the approval activities.
 */
import { defineSignal, defineUpdate } from '@temporalio/workflow';
import type { ApprovalPolicy, Decision, ExpiryAction, PlannedStep, StepOutcome } from '../../domain/approval-routing';
import type { ReassignmentRefusal } from '../../domain/approval-reassignment';
import type { ApprovalSubjectType, DecisionRefusal } from '../../domain/approvals';

export type { ApprovalSubjectType };

export interface ApprovalTimings {
  reminderAfterMs: number;
  escalationAfterMs: number;
  deadlineMs: number;
}

export interface ApprovalView {
  approvalId: string;
  approverId: string;
  approverEmail?: string;
  delegatedFromId: string | null;
  escalatedFromId: string | null;
  /** The approval this one took over when its approver was deactivated; absent in older histories. */
  reassignedFromId?: string | null;
  state: 'requested' | 'approved' | 'rejected' | 'escalated' | 'reassigned' | 'expired' | 'skipped' | 'cancelled';
}

export interface StepView {
  index: number;
  name: string;
  policy: ApprovalPolicy;
  required: number;
  onExpiry: ExpiryAction;
  dueAt: string;
  approvals: ApprovalView[];
  outcome: StepOutcome;
}

export interface DecisionCommand {
  approvalId: string;
  actorId: string;
  actorEmail: string;
  decision: Decision;
  comment?: string;
  via: 'link' | 'api';
  /** Steward cases only: what the decision does (approve merges; reject keeps both, or ignores the row). */
  resolution?: 'merge' | 'keep_both' | 'ignore';
  /** Steward cases only, with a merge: the record that stays. */
  survivorCiId?: string;
}

export interface DecisionOutcome {
  approvalId: string;
  decision: Decision;
  stepOutcome: StepOutcome;
  /** The state of the change or purchase request when the decision was recorded. */
  state: string;
}

export const decideUpdate = defineUpdate<DecisionOutcome, [DecisionCommand]>('decide');

export interface ApproverDeactivated {
  personId: string;
}

/**
 * A person was deactivated: the approvals they still hold in the open step move to someone else
 * (personDeactivationWorkflow sends it to every workflow waiting for them).
 */
export const approverDeactivatedSignal = defineSignal<[ApproverDeactivated]>('approverDeactivated');

/** A process owner (or an admin) resends the task emails of every approval still pending, as reminders. */
export interface NudgeCommand {
  /** Names this nudge: its emails and audit row are keyed by it, so a repeated call sends once. */
  nudgeId: string;
  actorEmail: string;
}

export interface NudgeOutcome {
  nudged: { approvalId: string; approverId: string; approverEmail: string | null }[];
}

export const nudgeApproversUpdate = defineUpdate<NudgeOutcome, [NudgeCommand]>('nudgeApprovers');

/** A process owner (or an admin) moves a pending approval to another active person, saying why. */
export interface ReassignCommand {
  reassignmentId: string;
  approvalId: string;
  toPersonId: string;
  reason: string;
  actorEmail: string;
}

export interface ReassignOutcome {
  approvalId: string;
  newApprovalId: string;
  fromPersonId: string;
  toPersonId: string;
}

export const reassignApprovalUpdate = defineUpdate<ReassignOutcome, [ReassignCommand]>('reassignApproval');

export const ApprovalFailure = {
  refused: 'ApprovalRefused',
  nothingPending: 'NothingPending',
  reassignmentRefused: 'ReassignmentRefused',
} as const;

/** The details of an ApprovalRefused failure: the same refusal the API's pre-check gives. */
export type ApprovalRefusal = DecisionRefusal;

export type { ReassignmentRefusal };

// Activity inputs: each carries the idempotency key its writes are keyed by.

export interface ApprovalSubject {
  workflowId: string;
  subjectType: ApprovalSubjectType;
  subjectId: string;
}

export interface OpenStepInput extends ApprovalSubject {
  idempotencyKey: string;
  revision: number;
  step: PlannedStep;
  dueAt: string;
}

export interface OpenedApproval {
  approvalId: string;
  approverId: string;
  /** Absent in histories recorded before the waiting-for search attribute. */
  approverEmail?: string;
  delegatedFromId: string | null;
}

export interface ApprovalTaskInput {
  idempotencyKey: string;
  approvalId: string;
  kind: 'task' | 'reminder';
}

export interface RecordDecisionInput {
  idempotencyKey: string;
  approvalId: string;
  decision: Decision;
  comment: string | null;
  via: 'link' | 'api';
  actor: string;
}

export interface RecordedDecision {
  applied: boolean;
  state: string;
}

export interface EscalateInput {
  idempotencyKey: string;
  approvalId: string;
  dueAt: string;
}

export interface HandOverInput {
  idempotencyKey: string;
  approvalId: string;
  dueAt: string;
}

export interface ReassignInput {
  idempotencyKey: string;
  approvalId: string;
  toPersonId: string;
  reason: string;
  actor: string;
  dueAt: string;
}

export interface NudgeRecordInput extends ApprovalSubject {
  idempotencyKey: string;
  actor: string;
  nudged: NudgeOutcome['nudged'];
}

export interface CloseApprovalsInput extends ApprovalSubject {
  idempotencyKey: string;
  revision: number;
  /** Only this step's approvals; all of the workflow's otherwise. */
  step?: number;
  to: 'skipped' | 'cancelled' | 'expired';
}
