/**
 * Deactivating and reactivating people, for the API's routes and the web UI's buttons alike.
 * Deactivation runs in its workflow (update-with-start), so that nothing is written while Temporal
 * is down and the handover of the person's open approvals always follows; reactivation is one
 * transaction.
 */
import { randomUUID } from 'node:crypto';
import { WithStartWorkflowOperation, WorkflowUpdateFailedError, type Client } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import type { Knex } from 'knex';
import { DirectoryRefused, type DirectoryRefusal } from '../domain/directory';
import { deactivationRefusal, reactivatePerson } from '../model/person-deactivation';
import { findPersonDetail, type PersonDetail } from '../model/people';
import { PersonDeactivationFailure, deactivateUpdate, personDeactivationWorkflowId } from '../workflows/person-deactivation/contract';
import type { Principal } from './auth';
import { directoryRefused } from './errors';
import { commandWithinDeadline } from './workflow-calls';

/** What deactivating and reactivating a person need: the database, and Temporal for the handover. */
interface PersonDeactivationDeps {
  db: Knex;
  temporal: Client;
  taskQueue: string;
}

export interface PersonDeactivationInput {
  personId: string;
  actor: Principal;
  /** The version the caller saw (If-Match, or the form's hidden field): a stale one is refused with 412. */
  expectedVersion?: number;
  reason?: string;
  /** The update id, e.g. from the caller's Idempotency-Key (api/idempotency.ts commandRequestId); a fresh one when absent. */
  requestId?: string;
}

/** The refusal the workflow's deactivation failed with (the check under its locks), if that is why it failed. */
function refusalOfUpdate(error: unknown): DirectoryRefusal | undefined {
  let cause: unknown = error instanceof WorkflowUpdateFailedError ? error.cause : undefined;
  while (cause instanceof Error && !(cause instanceof ApplicationFailure)) cause = cause.cause;
  return cause instanceof ApplicationFailure && cause.type === PersonDeactivationFailure.refused
    ? (cause.details as DirectoryRefusal[])[0]
    : undefined;
}

/**
 * Deactivates a person: their API keys are revoked and their web sessions end at once, and their
 * open approvals move (the answer says how many; the workflow moves them right after). A person
 * inactive already is answered as they are, and their handover runs again. Throws HttpError: 404,
 * 409 cannot_deactivate_self / last_admin, 412 version_mismatch, 503 (Temporal down: nothing
 * written), 504 (no worker answered in time).
 */
export async function deactivatePersonNow(
  { db, temporal, taskQueue }: PersonDeactivationDeps,
  input: PersonDeactivationInput,
): Promise<{ person: PersonDetail; approvalsToMove: number }> {
  const { personId, actor, expectedVersion, reason } = input;
  // Asked first, so that a refusal starts no workflow; the deactivation asks again under its locks.
  const refusal = await deactivationRefusal(db, { personId, actorId: actor.id, expectedVersion });
  if (refusal) throw directoryRefused(refusal);
  const requestId = input.requestId ?? randomUUID();
  const outcome = await commandWithinDeadline(temporal, 'deactivating the person', () =>
    temporal.workflow.executeUpdateWithStart(deactivateUpdate, {
      args: [{ requestId, actorId: actor.id, actor: actor.email, expectedVersion, reason }],
      updateId: requestId,
      startWorkflowOperation: new WithStartWorkflowOperation('personDeactivationWorkflow', {
        workflowId: personDeactivationWorkflowId(personId),
        taskQueue,
        workflowIdConflictPolicy: 'USE_EXISTING',
        args: [{ personId }],
      }),
    })).catch((error: unknown) => {
    const late = refusalOfUpdate(error);
    throw late ? directoryRefused(late) : error;
  });
  return { person: (await findPersonDetail(db, personId))!, approvalsToMove: outcome.approvalsToMove };
}

/**
 * Makes a deactivated person active again (audited as person_reactivated); one active already is
 * answered as they are. Their keys stay revoked: they sign in again with a new key. Throws
 * HttpError: 404, 412 version_mismatch.
 */
export async function reactivatePersonNow({ db }: PersonDeactivationDeps, input: PersonDeactivationInput): Promise<{ person: PersonDetail }> {
  try {
    await reactivatePerson(db, { personId: input.personId, actor: input.actor.email, expectedVersion: input.expectedVersion });
  } catch (error) {
    throw error instanceof DirectoryRefused ? directoryRefused(error.refusal) : error;
  }
  return { person: (await findPersonDetail(db, input.personId))! };
}
