/**
 * Deactivating a person, as the API, the workflow and the activities see it: the `deactivate`
 * update (sent with update-with-start, so nothing is written when Temporal is down), its answer,
 * and the handover of the person's open approvals that the workflow runs afterwards.
 */
import { defineUpdate } from '@temporalio/workflow';

/** One workflow per person at a time: a second deactivation while one runs joins it. */
export const personDeactivationWorkflowId = (personId: string) => `person-deactivation:${personId}`;

export interface PersonDeactivationInput {
  personId: string;
}

export interface DeactivateCommand {
  /** The update id: the caller's Idempotency-Key scoped to them, or a fresh uuid. */
  requestId: string;
  actorId: string;
  /** The admin's email, the actor of the audit row. */
  actor: string;
  expectedVersion?: number;
  reason?: string;
}

export interface DeactivateOutcome {
  /** False when the person was inactive already: nothing was written, and the handover runs again. */
  deactivated: boolean;
  version: number;
  keysRevoked: number;
  approvalsToMove: number;
}

export const deactivateUpdate = defineUpdate<DeactivateOutcome, [DeactivateCommand]>('deactivate');

export const PersonDeactivationFailure = {
  /** Oneself, the last admin, a stale version, nobody: details[0] is the DirectoryRefusal. */
  refused: 'PersonDeactivationRefused',
} as const;


/** What the handover did: workflows told to move the person's approvals, and approvals whose workflow is gone. */
export interface HandoverSummary {
  workflowsSignalled: number;
  approvalsUnreachable: number;
}

// Activity inputs: each carries the idempotency key its writes are keyed by.

export interface DeactivatePersonInput extends DeactivateCommand {
  idempotencyKey: string;
  workflowId: string;
  personId: string;
}

export interface UnreachableApprovalInput {
  idempotencyKey: string;
  personId: string;
  approvalId: string;
  /** Why its workflow could not be told, e.g. it no longer runs. */
  reason: string;
}

/** A step of the handover that ran out of its bounded retries: recorded, the process owners told, tried on. */
export interface HandoverStallInput {
  idempotencyKey: string;
  workflowId: string;
  personId: string;
  step: string;
}

export interface HandoverStalledInput extends HandoverStallInput {
  /** The step's last failure. */
  reason: string;
}
