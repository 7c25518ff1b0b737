/**
 * The data steward case workflow's contract (issue 16): one workflow per case asks the data
 * stewards, through the shared approval steps, whether the case's records are one thing (merge),
 * two (keep both) or noise (ignore), and settles the case as they decide.
 */
import { defineQuery } from '@temporalio/workflow';
import type { PlannedStep } from '../../domain/approval-routing';
import type { ApprovalTimings, StepView } from '../approvals/contract';
import type { Attention } from '../attention/contract';

export const STEWARD_CASE_PROCESS = 'reconciliation';

export const stewardCaseWorkflowId = (number: string): string => `steward-case:${number}`;

/** What a steward decides: approve merges, reject keeps both records or ignores the row that raised the case. */
export const CASE_RESOLUTIONS = ['merge', 'keep_both', 'ignore'] as const;
export type CaseResolution = (typeof CASE_RESOLUTIONS)[number];

/**
 * The approval clock of a case when none is given: the API's defaults (APPROVAL_*); a batch
 * engine starting cases in a worker does not read the API's settings.
 */
export const DEFAULT_CASE_TIMINGS: ApprovalTimings = { reminderAfterMs: 86_400_000, escalationAfterMs: 172_800_000, deadlineMs: 259_200_000 };

export interface StewardCaseInput {
  caseId: string;
  number: string;
  timings?: ApprovalTimings;
}

export type StewardCaseState = 'open' | 'merged' | 'kept_both' | 'ignored' | 'cancelled';

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
  /** For a merge: the record that stays; the older verified one when not chosen. */
  survivorCiId: string | null;
  actorId: string;
  actorEmail: string;
  comment: string | null;
}

export interface SettledCase {
  state: StewardCaseState;
  survivorCiId: string | null;
  moved: Record<string, number> | null;
}

export interface CaseRefusalInput extends StewardCaseActivityBase {
  round: number;
  resolution: CaseResolution;
  reason: string;
  actorEmail: string;
}
