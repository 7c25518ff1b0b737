/**
 * The data steward case workflow's contract (issue 16): one workflow per case asks the data
 * stewards, through the shared approval steps, whether the case's records are one thing (merge),
 * two (keep both) or noise (ignore), and settles the case as they decide.
 */
import { defineQuery, defineSignal } from '@temporalio/workflow';
import type { PlannedStep } from '../../domain/approval-routing';
import type { CaseState } from '../../domain/reconciliation';
import type { ApprovalTimings, StepView } from '../approvals/contract';
import type { Attention } from '../attention/contract';

export const STEWARD_CASE_PROCESS = 'reconciliation';

export const stewardCaseWorkflowId = (number: string): string => `steward-case:${number}`;

/** What a steward decides: approve merges, reject keeps both records or ignores the row that raised the case. */
export const CASE_RESOLUTIONS = ['merge', 'keep_both', 'ignore'] as const;
export type CaseResolution = (typeof CASE_RESOLUTIONS)[number];

/**
 * How many times the stewards are asked (a step that expired unanswered, a merge the data refused,
 * nobody to ask) before the case is cancelled and the process owners told: a pair nobody can
 * settle does not ask forever. A feed reporting the pair again opens a new case.
 */
export const MAX_CASE_ROUNDS = 5;

export interface StewardCaseInput {
  caseId: string;
  number: string;
  /** The normal approval clock (APPROVAL_REMINDER_AFTER, APPROVAL_ESCALATION_AFTER, APPROVAL_DEADLINE), as purchases get it. */
  timings: ApprovalTimings;
}

export type StewardCaseState = CaseState;

export interface StewardCaseStatus {
  caseId: string;
  number: string;
  state: StewardCaseState;
  /** The round of asking: a merge refused by bad data asks again in the next. */
  round: number;
  currentStep: StepView | null;
  waitingFor: string[];
  /** Why the last decision could not be carried out; null when none failed. */
  refusal: string | null;
  attention: Attention | null;
}

export interface StewardCaseResult {
  caseId: string;
  state: StewardCaseState;
}

export const stewardCaseStatusQuery = defineQuery<StewardCaseStatus>('status');

/**
 * Sent after another case's merge cancelled this one (a record it names is merged away): the open
 * step ends, its approvals cancelled, and the case's workflow ends with the state the case has.
 */
export const stewardCaseClosedSignal = defineSignal('caseClosed');

// Activity inputs: each carries the idempotency key its writes are keyed by.

export interface StewardCaseActivityBase {
  idempotencyKey: string;
  workflowId: string;
  caseId: string;
}

export interface PlannedCaseStep {
  /** The case's state when planned: a case no longer open is not asked about. */
  caseState: StewardCaseState;
  steps: PlannedStep[];
  /** Said on the case when the data stewards had nobody active and asset managers were asked instead. */
  note: string | null;
}

export interface SettleCaseInput extends StewardCaseActivityBase {
  resolution: CaseResolution;
  /** For a merge: the record that stays, as the steward chose or was shown it when deciding (the API fixes it then). */
  survivorCiId: string | null;
  actorId: string;
  actorEmail: string;
  comment: string | null;
}

export interface SettledCase {
  state: StewardCaseState;
  survivorCiId: string | null;
  moved: Record<string, number> | null;
  /** The other open cases the merge cancelled (they named a record merged away); their workflows are told after the commit. */
  cancelledCases: { caseId: string; number: string; workflowId: string | null }[];
}

export interface CaseRefusalInput extends StewardCaseActivityBase {
  round: number;
  resolution: CaseResolution;
  reason: string;
  actorEmail: string;
}

export interface CaseCancelInput extends StewardCaseActivityBase {
  rounds: number;
  reason: string;
}
