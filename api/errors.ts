import type { ErrorRequestHandler } from 'express';
import { ApplicationFailure } from '@temporalio/common';
import { WorkflowNotFoundError, WorkflowUpdateFailedError } from '@temporalio/client';
import { ZodError } from 'zod';
import type { Logger } from '../platform/logger';
import { isDatabaseUnavailable } from '../platform/database';
import { temporalTrouble } from '../platform/temporal';
import type { TransitionRefusal } from '../domain/asset-lifecycle';
import { DirectoryRefused, type DirectoryRefusal } from '../domain/directory';
import { LifecycleFailure } from '../workflows/asset-lifecycle/contract';
import { ApprovalFailure, type ApprovalRefusal, type ReassignmentRefusal } from '../workflows/approvals/contract';
import { AttentionFailure } from '../workflows/attention/contract';
import { ChangeFailure, type ChangeRefusal } from '../workflows/change-request/contract';
import { PurchaseFailure, type PurchaseRefusal, type ReceiptRefusal } from '../workflows/purchase-request/contract';

/** An error the API answers with its own status; anything else is a 500 without details. */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details: unknown = undefined,
    /** Sent as Retry-After: when trying again may succeed. */
    readonly retryAfterSeconds?: number,
  ) {
    super(message);
  }
}

export const badRequest = (message: string, details?: unknown) => new HttpError(400, 'invalid_input', message, details);
export const unauthenticated = (message: string) => new HttpError(401, 'unauthenticated', message);
export const forbidden = (message: string) => new HttpError(403, 'forbidden', message);
export const notFound = (message: string) => new HttpError(404, 'not_found', message);
export const conflict = (code: string, message: string, details?: unknown) => new HttpError(409, code, message, details);
/** A dependency (Postgres, Temporal) is down or overloaded: nothing was done, try again later. */
export const serviceUnavailable = (message: string, retryAfterSeconds = 5) =>
  new HttpError(503, 'unavailable', message, undefined, retryAfterSeconds);
/** The process did not answer within the API's deadline; a command sent with an Idempotency-Key may be repeated safely. */
export const workflowTimedOut = (message: string) => new HttpError(504, 'workflow_timeout', message);
export const unsupportedMediaType = (contentType: string | undefined) =>
  new HttpError(415, 'unsupported_media_type', `send the body as JSON (Content-Type: application/json), not ${contentType ?? 'without a Content-Type'}`);
export const tooManyRequests = (message: string, retryAfterSeconds: number) =>
  new HttpError(429, 'rate_limited', message, undefined, retryAfterSeconds);
/** The requester recording the implementation, review or receipt of their own request (domain/segregation.ts). */
export const segregationRefused = (refusal: { rule: string; message: string }) => new HttpError(403, refusal.rule, refusal.message);
export const transitionRefused = (refusal: TransitionRefusal) =>
  conflict('transition_refused', refusal.message, { rule: refusal.rule, ...refusal.details });

/** An update of a versioned record (a person, a group) sent without the version it was based on (If-Match). */
export const preconditionRequired = (message: string) => new HttpError(428, 'precondition_required', message);
/** An update based on a version that is no longer the current one: nothing was written; read the record again. */
export const versionMismatch = (currentVersion: number, message = `this was changed since you read it: the current version is ${currentVersion}; read it again and repeat your change`) =>
  new HttpError(412, 'version_mismatch', message, { currentVersion });

/** A write to a person or a group, or a deactivation, that a rule refused (domain/directory.ts); nothing was written. */
export function directoryRefused(refusal: DirectoryRefusal): HttpError {
  switch (refusal.rule) {
    case 'not_found':
      return notFound(refusal.message);
    case 'version_mismatch':
      return versionMismatch(refusal.currentVersion, refusal.message);
    case 'invalid_reference':
      return badRequest(refusal.message, refusal.problems);
    default:
      return conflict(refusal.rule, refusal.message);
  }
}

/** Deciding for someone else, or on one's own request, is forbidden; a decision too late is a conflict. */
export function approvalRefused(refusal: ApprovalRefusal): HttpError {
  const status = refusal.rule === 'segregation_of_duties' || refusal.rule === 'not_the_approver' ? 403 : 409;
  return new HttpError(status, refusal.rule, refusal.message, refusal.state ? { state: refusal.state } : undefined);
}

/** A pending approval that may not move to the person chosen (domain/approval-reassignment.ts); nothing was changed. */
export function reassignmentRefused(refusal: ReassignmentRefusal): HttpError {
  const status = { not_in_step: 404, unknown_person: 400, segregation_of_duties: 403 }[refusal.rule as string] ?? 409;
  return new HttpError(status, refusal.rule, refusal.message);
}

/** Workflow refusals travel as ApplicationFailures with a type from the contract; this maps them to HTTP. */
function fromWorkflowFailure(error: WorkflowUpdateFailedError): HttpError {
  let cause: unknown = error.cause;
  // An activity's refusal arrives wrapped: update failure, activity failure, application failure.
  while (cause instanceof Error && !(cause instanceof ApplicationFailure)) cause = cause.cause;
  if (!(cause instanceof ApplicationFailure)) return stepFailed;
  switch (cause.type) {
    case LifecycleFailure.transitionRefused:
      return transitionRefused((cause.details as TransitionRefusal[])[0]);
    case LifecycleFailure.assetNotFound:
      return notFound(cause.message);
    case LifecycleFailure.assetChangedElsewhere:
      return conflict('asset_changed_elsewhere', cause.message);
    case ChangeFailure.refused:
    case PurchaseFailure.refused: {
      const refusal = (cause.details as (ChangeRefusal | PurchaseRefusal)[])[0];
      return refusal.rule === 'segregation_of_duties' ? segregationRefused(refusal) : conflict(refusal.rule, refusal.message);
    }
    case PurchaseFailure.receiptRefused: {
      const refusal = (cause.details as ReceiptRefusal[])[0];
      return conflict('receipt_refused', refusal.message, { rule: refusal.rule, ...refusal.details });
    }
    case ApprovalFailure.refused:
      return approvalRefused((cause.details as ApprovalRefusal[])[0]);
    case ApprovalFailure.reassignmentRefused:
      return reassignmentRefused((cause.details as ReassignmentRefusal[])[0]);
    case ApprovalFailure.nothingPending:
      return conflict('nothing_pending', cause.message);
    case AttentionFailure.nothingStalled:
      return conflict('nothing_stalled', cause.message);
    case AttentionFailure.invalidData:
      return new HttpError(422, 'invalid_data', `the process refused the data of this request: ${cause.message}`);
    default:
      return stepFailed;
  }
}

/**
 * The workflow took the command but one of its steps failed for good (an activity out of retries):
 * steps before it may have been recorded, so this must not say that nothing changed.
 */
const stepFailed = new HttpError(
  500,
  'process_step_failed',
  'the process took this command but one of its steps failed; earlier steps may have taken effect, so check the process before trying again',
);

/** The HTTP answer for an error the API knows (its own, validation, workflow refusals and failures); undefined for anything else. */
export function toHttpError(error: unknown): HttpError | undefined {
  if (error instanceof HttpError) return error;
  if (error instanceof DirectoryRefused) return directoryRefused(error.refusal);
  if (error instanceof ZodError) {
    return badRequest(
      error.issues.map((i) => `${i.path.join('.') || 'body'}: ${i.message}`).join('; '),
      error.issues.map((i) => ({ path: i.path.join('.'), message: i.message, code: i.code })),
    );
  }
  // The workflow answered: whatever its causes say (an activity's "Connection terminated"), this is
  // no outage of the API's own connections, and its earlier steps may have committed.
  if (error instanceof WorkflowUpdateFailedError) return fromWorkflowFailure(error);
  if (error instanceof WorkflowNotFoundError) return conflict('process_finished', 'this process has finished and takes no more commands');
  if (isDatabaseUnavailable(error)) return serviceUnavailable('the database cannot be reached; nothing was changed, try again later', 5);
  if (temporalTrouble(error) === 'unreachable') return serviceUnavailable('the workflow service (Temporal) cannot be reached; try again later', 5);
  // Express cannot decode a path parameter such as "%E0%A4%A".
  if (error instanceof URIError) return badRequest('the path is not valid percent-encoding', [{ path: 'path', message: 'malformed percent-encoding' }]);
  const code = (error as { code?: unknown }).code;
  // Text Postgres cannot store, such as a NUL character, is refused the same on every attempt.
  if (code === '22021' || code === '22P05') {
    return badRequest('the request holds a character that cannot be stored (such as NUL)', [{ path: 'body', message: 'unstorable character' }]);
  }
  const bodyError = error as { type?: string; status?: number };
  if (bodyError.type === 'entity.parse.failed') return new HttpError(400, 'invalid_json', 'the request body is not valid JSON');
  if (bodyError.type === 'entity.too.large') return new HttpError(413, 'payload_too_large', 'the request body is too large');
  return undefined;
}

export function errorHandler(logger: Logger): ErrorRequestHandler {
  return (error, req, res, _next) => {
    const known = toHttpError(error);
    // A known 500 (a process step that failed for good) needs looking into as much as an unknown error.
    if (!known || known.status === 500) logger.error({ err: error, method: req.method, path: req.path }, 'request failed');
    if (known) {
      if (known.retryAfterSeconds !== undefined) res.set('Retry-After', String(Math.ceil(known.retryAfterSeconds)));
      res.status(known.status).json({ error: { code: known.code, message: known.message, details: known.details ?? null } });
      return;
    }
    res.status(500).json({ error: { code: 'internal', message: 'something went wrong on our side; it has been logged', details: null } });
  };
}
