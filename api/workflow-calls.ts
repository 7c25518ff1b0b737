import type { Client } from '@temporalio/client';
import { isTransientStartupError, temporalTrouble } from '../platform/temporal';
import { serviceUnavailable, workflowTimedOut } from './errors';

/**
 * How long the API waits on Temporal for a request. A start only needs the server; a status query
 * and a command need a worker too, and a detail page must not hang on one: it shows the database's
 * view instead. Commands get the longest, as a receipt or a transition runs activities before it
 * answers.
 */
export const WORKFLOW_DEADLINES = { startMs: 5_000, statusMs: 2_000, commandMs: 15_000, probeMs: 1_000 } as const;

/** Seconds a client should wait before trying again when Temporal cannot be reached. */
const RETRY_AFTER_SECONDS = 5;

const TIMED_OUT = Symbol('timed out');

/**
 * Runs `call` with its gRPC requests bound to `ms`: past it the requests are cancelled and
 * TIMED_OUT is answered, so no API request waits on Temporal longer than its deadline.
 */
async function within<T>(temporal: Client, ms: number, call: () => Promise<T>): Promise<T | typeof TIMED_OUT> {
  const abandon = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<typeof TIMED_OUT>((resolve) => {
    timer = setTimeout(() => resolve(TIMED_OUT), ms);
  });
  const running = temporal.connection.withAbortSignal(abandon.signal, call);
  // The abandoned call rejects once cancelled; nobody waits for it any more.
  running.catch(() => undefined);
  try {
    const outcome = await Promise.race([running, deadline]);
    if (outcome === TIMED_OUT) abandon.abort();
    return outcome;
  } finally {
    clearTimeout(timer);
  }
}

/** Whether the Temporal server answers at all within `ms` (no worker needed). */
export async function temporalAnswers(temporal: Client, ms: number = WORKFLOW_DEADLINES.probeMs): Promise<boolean> {
  try {
    return (await within(temporal, ms, () => temporal.connection.workflowService.getSystemInfo({}))) !== TIMED_OUT;
  } catch {
    return false;
  }
}

const unreachable = () =>
  serviceUnavailable('the workflow service (Temporal) cannot be reached; try again later (with the same Idempotency-Key)', RETRY_AFTER_SECONDS);

function classified(error: unknown): unknown {
  const trouble = temporalTrouble(error);
  // A namespace just created may not be visible yet to every frontend: like an outage, it passes.
  if (trouble === 'unreachable' || (trouble === undefined && isTransientStartupError(error))) return unreachable();
  if (trouble === 'deadline') return workflowTimedOut('the process did not answer in time; repeat the request with the same Idempotency-Key to get its outcome');
  return error;
}

/**
 * Starts a workflow within the start deadline. A start that cannot be made in time is answered 503:
 * the caller's retry with the same Idempotency-Key starts it (or finds it started).
 */
export async function startWithinDeadline<T>(temporal: Client, start: () => Promise<T>): Promise<T> {
  let outcome: T | typeof TIMED_OUT;
  try {
    outcome = await within(temporal, WORKFLOW_DEADLINES.startMs, start);
  } catch (error) {
    throw classified(error);
  }
  if (outcome === TIMED_OUT) throw unreachable();
  return outcome;
}

const REPEAT_WITH_KEY = 'it may still be applied: repeat the request with the same Idempotency-Key to get its outcome';

/**
 * Sends a command (an update, with or without start) and waits for its outcome within the command
 * deadline: past it, 503 when the Temporal server does not answer, otherwise 504 (the workflow or
 * its worker did not answer; the command may still be applied later, as `advice` tells the caller).
 */
export async function commandWithinDeadline<T>(temporal: Client, what: string, command: () => Promise<T>, advice = REPEAT_WITH_KEY): Promise<T> {
  let outcome: T | typeof TIMED_OUT;
  try {
    outcome = await within(temporal, WORKFLOW_DEADLINES.commandMs, command);
  } catch (error) {
    throw classified(error);
  }
  if (outcome !== TIMED_OUT) return outcome;
  if (!(await temporalAnswers(temporal))) throw unreachable();
  throw workflowTimedOut(`${what}: the process did not answer within ${WORKFLOW_DEADLINES.commandMs / 1000} s (its worker may be down or busy); ${advice}`);
}

/** A workflow's live status, or why it is not shown (the rest of the answer is the database's view). */
export type LiveStatus<T> = { status: T; statusUnavailable?: undefined } | { status: null; statusUnavailable: string };

/** Asks a workflow for its live status within the status deadline; never fails the request. */
export async function liveStatusWithinDeadline<T>(temporal: Client, query: () => Promise<T>): Promise<LiveStatus<T>> {
  try {
    const outcome = await within(temporal, WORKFLOW_DEADLINES.statusMs, query);
    if (outcome !== TIMED_OUT) return { status: outcome };
    return { status: null, statusUnavailable: `the live status is unavailable: the workflow did not answer within ${WORKFLOW_DEADLINES.statusMs / 1000} s; the rest is the database's view` };
  } catch (error) {
    const reason = temporalTrouble(error) === 'unreachable' ? 'the workflow service (Temporal) cannot be reached' : 'the workflow could not be asked';
    return { status: null, statusUnavailable: `the live status is unavailable: ${reason}; the rest is the database's view` };
  }
}
