import type { ErrorRequestHandler } from 'express';
import { ApplicationFailure } from '@temporalio/common';
import { WorkflowNotFoundError, WorkflowUpdateFailedError } from '@temporalio/client';
import { ZodError } from 'zod';
import type { Logger } from '../platform/logger';
import type { TransitionRefusal } from '../domain/asset-lifecycle';
import { LifecycleFailure } from '../workflows/asset-lifecycle/contract';
import { ApprovalFailure, type ApprovalRefusal } from '../workflows/approvals/contract';
import { ChangeFailure, type ChangeRefusal } from '../workflows/change-request/contract';
import { PurchaseFailure, type PurchaseRefusal, type ReceiptRefusal } from '../workflows/purchase-request/contract';

/** An error the API answers with its own status; anything else is a 500 without details. */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details: unknown = undefined,
  ) {
    super(message);
  }
}

export const badRequest = (message: string, details?: unknown) => new HttpError(400, 'invalid_input', message, details);
export const unauthenticated = (message: string) => new HttpError(401, 'unauthenticated', message);
export const forbidden = (message: string) => new HttpError(403, 'forbidden', message);
export const notFound = (message: string) => new HttpError(404, 'not_found', message);
export const conflict = (code: string, message: string, details?: unknown) => new HttpError(409, code, message, details);
export const transitionRefused = (refusal: TransitionRefusal) =>
  conflict('transition_refused', refusal.message, { rule: refusal.rule, ...refusal.details });

/** Deciding for someone else, or on one's own request, is forbidden; a decision too late is a conflict. */
export function approvalRefused(refusal: ApprovalRefusal): HttpError {
  const status = refusal.rule === 'segregation_of_duties' || refusal.rule === 'not_the_approver' ? 403 : 409;
  return new HttpError(status, refusal.rule, refusal.message, refusal.state ? { state: refusal.state } : undefined);
}

/** Workflow refusals travel as ApplicationFailures with a type from the contract; this maps them to HTTP. */
function fromWorkflowFailure(error: WorkflowUpdateFailedError): HttpError | undefined {
  let cause: unknown = error.cause;
  // An activity's refusal arrives wrapped: update failure, activity failure, application failure.
  while (cause instanceof Error && !(cause instanceof ApplicationFailure)) cause = cause.cause;
  if (!(cause instanceof ApplicationFailure)) return undefined;
  switch (cause.type) {
    case LifecycleFailure.transitionRefused:
      return transitionRefused((cause.details as TransitionRefusal[])[0]);
    case LifecycleFailure.assetNotFound:
      return notFound(cause.message);
    case LifecycleFailure.assetChangedElsewhere:
      return conflict('asset_changed_elsewhere', cause.message);
    case ChangeFailure.refused: {
      const refusal = (cause.details as ChangeRefusal[])[0];
      return new HttpError(409, refusal.rule, refusal.message);
    }
    case PurchaseFailure.refused: {
      const refusal = (cause.details as PurchaseRefusal[])[0];
      return new HttpError(409, refusal.rule, refusal.message);
    }
    case PurchaseFailure.receiptRefused: {
      const refusal = (cause.details as ReceiptRefusal[])[0];
      return conflict('receipt_refused', refusal.message, { rule: refusal.rule, ...refusal.details });
    }
    case ApprovalFailure.refused:
      return approvalRefused((cause.details as ApprovalRefusal[])[0]);
    default:
      return undefined;
  }
}

/** The HTTP answer for an error the API knows (its own, validation, workflow refusals); undefined for anything else. */
export function toHttpError(error: unknown): HttpError | undefined {
  if (error instanceof HttpError) return error;
  if (error instanceof ZodError) {
    return badRequest(
      error.issues.map((i) => `${i.path.join('.') || 'body'}: ${i.message}`).join('; '),
      error.issues.map((i) => ({ path: i.path.join('.'), message: i.message, code: i.code })),
    );
  }
  if (error instanceof WorkflowUpdateFailedError) return fromWorkflowFailure(error);
  if (error instanceof WorkflowNotFoundError) return conflict('process_finished', 'this process has finished and takes no more commands');
  const bodyError = error as { type?: string; status?: number };
  if (bodyError.type === 'entity.parse.failed') return new HttpError(400, 'invalid_json', 'the request body is not valid JSON');
  if (bodyError.type === 'entity.too.large') return new HttpError(413, 'payload_too_large', 'the request body is too large');
  return undefined;
}

export function errorHandler(logger: Logger): ErrorRequestHandler {
  return (error, req, res, _next) => {
    const known = toHttpError(error);
    if (known) {
      res.status(known.status).json({ error: { code: known.code, message: known.message, details: known.details ?? null } });
      return;
    }
    logger.error({ err: error, method: req.method, path: req.path }, 'request failed');
    res.status(500).json({ error: { code: 'internal', message: 'something went wrong on our side; it has been logged', details: null } });
  };
}
