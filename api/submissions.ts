import { randomUUID } from 'node:crypto';
import type { Client } from '@temporalio/client';
import type { Request, Response } from 'express';
import type { Database } from '../platform/database';
import type { ProcessStateWatcher } from '../platform/process-state-watcher';
import { processState } from '../model/processes';
import { findSubmission, rememberSubmission, type Submission } from '../model/submissions';
import { bindIdempotencyKey, idempotencyKeyOf } from './idempotency';
import { startWithinDeadline } from './workflow-calls';

/** How long a POST waits for the workflow to register the request before answering 202 instead of 201. */
export const REGISTRATION_WAIT_MS = 10_000;

export interface SubmitDeps {
  db: Database;
  temporal: Client;
  processStates: ProcessStateWatcher;
}

export interface SubmitRequest {
  requesterId: string;
  /** The HTTP request: its Idempotency-Key, bound to its body. */
  req: Request;
  /** The key of a request that cannot send the header (a web form's hidden field); bound to its body alike. */
  idempotencyKey?: string;
  process: Submission['process'];
  reserveNumber: () => Promise<string>;
  workflowIdOf: (number: string) => string;
  /** Starts the workflow (or finds it running) for the reservation. */
  start: (reserved: Submission) => Promise<unknown>;
}

export interface Submitted {
  reserved: Submission;
  /** An earlier request with the same Idempotency-Key made this submission. */
  repeated: boolean;
  /** The workflow has registered the request row; false when it did not within the wait. */
  registered: boolean;
}

/**
 * The API's part of a submission (ARCHITECTURE.md, "Who writes what"): reserve the number, start
 * the workflow with what was submitted, and wait a bounded time for the workflow to register the
 * request row. Nothing is written to the request tables here, so a workflow that never starts
 * leaves no request behind. The start is bounded: when Temporal does not take it in time the
 * answer is 503, and a retry with the same Idempotency-Key starts it under the same number.
 */
export async function submit({ db, temporal, processStates }: SubmitDeps, request: SubmitRequest): Promise<Submitted> {
  const { requesterId, req } = request;
  const idempotencyKey = request.idempotencyKey ?? idempotencyKeyOf(req);
  if (idempotencyKey) await bindIdempotencyKey(db, requesterId, idempotencyKey, req, request.process);
  let reserved = idempotencyKey ? await findSubmission(db, requesterId, idempotencyKey) : undefined;
  let repeated = reserved !== undefined;
  if (!reserved) {
    const number = await request.reserveNumber();
    const fresh: Submission = { process: request.process, subjectId: randomUUID(), number, workflowId: request.workflowIdOf(number) };
    reserved = idempotencyKey ? await rememberSubmission(db, requesterId, idempotencyKey, fresh) : fresh;
    // A request racing with the same key reserved first: this one repeats it.
    repeated = reserved.subjectId !== fresh.subjectId;
  }
  const { workflowId } = reserved;
  const current = () => processState(db, workflowId);
  // A registered request's workflow has started, and may have finished: starting it again would
  // begin a second run of the whole process under the same id.
  if (!repeated || (await current()) === undefined) await startWithinDeadline(temporal, () => request.start(reserved!));
  await processStates.waitFor(workflowId, 'any', REGISTRATION_WAIT_MS, current);
  return { reserved, repeated, registered: (await current()) !== undefined };
}

/**
 * The answer to a submission: 201 with the registered request (200 for a repeated one), or 202
 * with its number while no worker has registered it; Location names it either way.
 */
export async function answerSubmission<T>(res: Response, { reserved, repeated, registered }: Submitted, location: string, detail: () => Promise<T>) {
  res.location(location);
  if (!registered) {
    res.status(202);
    return { id: reserved.subjectId, number: reserved.number, workflowId: reserved.workflowId, registered: false };
  }
  res.status(repeated ? 200 : 201);
  return detail();
}
