/**
 * The change request workflow's contract: what the API, the workflow, its activities and the
 * tests agree on. One workflow per change request carries it from assessment through approval,
 * scheduling and implementation to closure.
 */
import { defineQuery, defineUpdate } from '@temporalio/workflow';
import type { ChangeType } from '../../domain/change-impact';
import type { RiskLevel, RiskReason } from '../../domain/change-risk';
import type { Decision, RoutingSubject } from '../../domain/approval-routing';
import type { AssetActionInput, ChangeState, ChangeSubmission, CloseCode, LicenceChangeInput } from '../../domain/change-request';
import type { ApprovalTimings, StepView } from '../approvals/contract';
import type { Attention } from '../attention/contract';

export const CHANGE_PROCESS = 'change';

export const changeWorkflowId = (number: string): string => `change:${number}`;

export {
  CHANGE_STATES,
  CLOSE_CODES,
  type AssetActionInput,
  type ChangeState,
  type ChangeSubmission,
  type CloseCode,
  type LicenceChangeInput,
} from '../../domain/change-request';

export interface ChangeRequestInput {
  changeId: string;
  number: string;
  type: ChangeType;
  requesterId: string;
  requesterEmail: string;
  /** Emergency changes wait on the emergency clock, the others on the normal one. */
  timings: { normal: ApprovalTimings; emergency: ApprovalTimings };
  /** What was submitted; the workflow registers the change row from it. Absent for changes the API registered itself (before 2026-11-29). */
  submission?: ChangeSubmission;
}


export interface ChangeStatus {
  changeId: string;
  number: string;
  state: ChangeState;
  closeCode: CloseCode | null;
  revision: number;
  risk: { score: number; level: RiskLevel; reasons: RiskReason[] } | null;
  currentStep: StepView | null;
  /** People whose decision the change waits for now. */
  waitingFor: string[];
  plannedStart: string | null;
  implementationStarted: boolean;
  /** A step that ran out of retries and waits to be tried again; null when nothing is stalled. Absent in older workers' answers. */
  attention?: Attention | null;
  /** A cancel was accepted and the change closes as soon as its current step allows. */
  cancellationRequested?: boolean;
}

export interface ChangeResult {
  changeId: string;
  closeCode: CloseCode;
}

/** A new scope for the change; what is left out stays as it was. */
export interface ScopeRevision {
  actorEmail: string;
  requestId: string;
  title?: string;
  description?: string;
  affectedCiIds?: string[];
  assetActions?: AssetActionInput[];
  licenceChanges?: LicenceChangeInput[];
  plannedStart?: string | null;
  plannedEnd?: string | null;
  oneOffCostMinor?: number;
  recurringCostMinor?: number;
}

export interface CancelCommand {
  actorEmail: string;
  requestId: string;
  reason: string;
}

export interface ImplementationCommand {
  actorEmail: string;
  requestId: string;
  event: 'started' | 'completed' | 'failed';
  notes: string;
  /** completed only: it worked, but not everything went to plan. */
  withIssues?: boolean;
  /** failed only: what was done to back the change out. */
  backout?: string;
}

export interface ReviewCommand {
  actorEmail: string;
  requestId: string;
  notes: string;
}

export const reviseScopeUpdate = defineUpdate<ChangeStatus, [ScopeRevision]>('reviseScope');
export const cancelUpdate = defineUpdate<ChangeStatus, [CancelCommand]>('cancel');
export const implementationUpdate = defineUpdate<ChangeStatus, [ImplementationCommand]>('recordImplementation');
export const reviewUpdate = defineUpdate<ChangeStatus, [ReviewCommand]>('recordReview');
export const changeStatusQuery = defineQuery<ChangeStatus>('status');

/** Failure types shared by workflow, activities and API (which maps them to HTTP answers). */
export const ChangeFailure = {
  refused: 'ChangeRefused',
  /** The submission broke a rule of the model (e.g. a CI deleted after the API checked it): the change is never registered. */
  submissionRefused: 'SubmissionRefused',
} as const;

/** Why a command was refused; `rule` is stable for clients, `message` is for people. */
export interface ChangeRefusal {
  rule: 'state' | 'implementation_order' | 'cancel_after_start' | 'segregation_of_duties';
  message: string;
}

// Activity inputs: each carries the idempotency key its writes are keyed by.

export interface ChangeActivityBase {
  idempotencyKey: string;
  workflowId: string;
  changeId: string;
}

export interface AssessmentResult {
  revision: number;
  plannedStart: string | null;
  riskScore: number;
  riskLevel: RiskLevel;
  reasons: RiskReason[];
  subject: RoutingSubject;
  /** Standard changes: the model's risk ceiling; a higher assessed risk needs human approval. */
  model: { name: string; riskCeiling: RiskLevel } | null;
  declaredTransitions: AssetActionInput[];
}

export interface RegisterChangeInput extends ChangeActivityBase {
  number: string;
  type: ChangeType;
  requesterId: string;
  requesterEmail: string;
  submission: ChangeSubmission;
}

export interface PlanApprovalsInput extends ChangeActivityBase {
  revision: number;
  subject: RoutingSubject;
}

export interface StateChangeInput extends ChangeActivityBase {
  actor: string;
  from: ChangeState;
  to: ChangeState;
  closeCode?: CloseCode;
  details?: Record<string, unknown>;
}

export interface ChangeEventInput extends ChangeActivityBase {
  actor: string;
  /** e.g. approved_by_model, implementation_started, reviewed; recorded in the audit log. */
  action: string;
  details: Record<string, unknown>;
}

export interface ScopeRevisionInput extends ChangeActivityBase {
  revision: number;
  scope: ScopeRevision;
}

export interface AssetTransitionInput extends ChangeActivityBase {
  action: AssetActionInput;
  actor: string;
}

export interface AssetTransitionResult {
  assetId: string;
  ok: boolean;
  message: string;
}

export type RequesterNotice =
  | { kind: 'receipt' }
  | { kind: 'decision'; decision: Decision; detail: string }
  | { kind: 'outcome'; closeCode: CloseCode; detail: string };

export interface NotifyRequesterInput extends ChangeActivityBase {
  notice: RequesterNotice;
}

