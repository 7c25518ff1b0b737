/**
 * What every workflow shares about steps that cannot be taken: the operator's retry command,
 * what the status shows, and the inputs of the attention activities.
 */
import { defineUpdate } from '@temporalio/workflow';

/** A step whose retries ran out: the process waits for its cause to be fixed, then tries again. */
export interface Attention {
  step: string;
  reason: string;
  since: string;
  /** When the step is tried again on its own; a retry command tries it at once. */
  retryAt: string;
}

export interface RetryCommand {
  actorEmail: string;
}

export interface RetryOutcome {
  /** The step tried again, or null when nothing needed attention. */
  step: string | null;
}

/** Tries a stalled step again at once (process owners and admins, after fixing its cause). */
export const retryStalledStepUpdate = defineUpdate<RetryOutcome, [RetryCommand]>('retryStalledStep');

export const AttentionFailure = {
  /** A retry was asked of a process with nothing stalled. */
  nothingStalled: 'NothingStalled',
  /** An activity met bad data (activities/failures.ts): no attempt can succeed. */
  invalidData: 'InvalidData',
} as const;

export interface AttentionSubject {
  workflowId: string;
  /** change_request, purchase_request or asset, as the audit log names subjects. */
  subjectType: string;
  subjectId: string;
}

export interface StalledStepInput extends AttentionSubject {
  idempotencyKey: string;
  step: string;
  reason: string;
}

export interface StalledStepResult {
  retryInMs: number;
}

export interface ClearAttentionInput extends AttentionSubject {
  idempotencyKey: string;
  /** The key the stall was reported with: only its own row is cleared, other steps may still be stalled. */
  stallKey: string;
  step: string;
  clearedBy: 'retry' | 'operator' | 'process ended' | 'refused';
}

export interface RefusedStepInput extends AttentionSubject {
  idempotencyKey: string;
  step: string;
  reason: string;
  /** The final state or close code the process ended in. */
  endedAs: string;
}
