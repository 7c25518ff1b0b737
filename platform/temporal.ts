import { Client, Connection, defaultGrpcRetryOptions, isGrpcServiceError, makeGrpcRetryInterceptor, type ConnectionOptions } from '@temporalio/client';
import { NativeConnection } from '@temporalio/worker';
import type { SearchAttributeType } from '@temporalio/common';
import { temporal } from '@temporalio/proto';
import { cappedBackoffMs } from '../domain/backoff';

/** A custom search attribute by name and type; `defineSearchAttributeKey` gives one. */
export interface SearchAttributeDefinition {
  readonly name: string;
  readonly type: SearchAttributeType;
}

/** An error and the causes under it, outermost first (duck-typed: errors may come from another realm). */
function causesOf(error: unknown): { name?: unknown; message?: unknown; cause?: unknown }[] {
  const chain: { name?: unknown; message?: unknown; cause?: unknown }[] = [];
  for (let cause = error; typeof cause === 'object' && cause !== null && chain.length < 8; cause = (cause as { cause?: unknown }).cause) {
    chain.push(cause);
  }
  return chain;
}

/** gRPC status codes (https://grpc.github.io/grpc/core/md_doc_statuscodes.html) the API answers for. */
const GRPC_DEADLINE_EXCEEDED = 4;
const GRPC_RESOURCE_EXHAUSTED = 8;
const GRPC_UNAVAILABLE = 14;

/**
 * What an error from the Temporal client says about the server: `unreachable` (nothing answers,
 * or it sheds load), `deadline` (it did not answer in time), or undefined for anything else, such
 * as a refusal from a workflow. Follows the cause chain, as the client wraps gRPC errors.
 */
export function temporalTrouble(error: unknown): 'unreachable' | 'deadline' | undefined {
  for (const cause of causesOf(error)) {
    if (isGrpcServiceError(cause)) {
      if (cause.code === GRPC_UNAVAILABLE || cause.code === GRPC_RESOURCE_EXHAUSTED) return 'unreachable';
      if (cause.code === GRPC_DEADLINE_EXCEEDED) return 'deadline';
    }
    if (cause.message === 'Failed to connect to Temporal server') return 'unreachable';
  }
  return undefined;
}

const GRPC_NOT_FOUND = 5;

/**
 * Whether a failure at startup may go away by itself: the server is not answering yet, or a
 * namespace just created is not yet visible to every frontend (a real cluster refreshes its
 * namespace cache every few seconds).
 */
export function isTransientStartupError(error: unknown): boolean {
  if (temporalTrouble(error)) return true;
  for (const cause of causesOf(error)) {
    if (cause.name === 'NamespaceNotFoundError' || cause.name === 'TransportError') return true;
    if (isGrpcServiceError(cause) && cause.code === GRPC_NOT_FOUND && /namespace/i.test(cause.details || cause.message)) return true;
  }
  return false;
}

/** An error and every cause under it, one line: "Failed to start Workflow <- 5 NOT_FOUND: Namespace x is not found". */
export function describeFailure(error: unknown): string {
  if (typeof error !== 'object' || error === null) return String(error);
  return causesOf(error).map(({ name, message }) => (typeof message === 'string' && message ? message : String(name ?? 'Error'))).join(' <- ');
}

export interface RetryOptions {
  /** Tries in all, the first included. */
  attempts?: number;
  /** Wait before the second try; doubled after each, up to 5 s. */
  firstDelayMs?: number;
  /** Told about each transient failure that will be tried again; by default it is written to stderr. */
  onRetry?: (failure: string, attempt: number, delayMs: number) => void;
}

const warnOnStderr = (failure: string, attempt: number, delayMs: number) =>
  process.stderr.write(`${failure} (try ${attempt}; trying again in ${delayMs} ms)\n`);

/**
 * Runs `run` again while it fails for a transient reason (isTransientStartupError), a bounded
 * number of times, saying each time what failed and why (the cause chain); any other failure,
 * or the last one, is thrown as it is.
 */
export async function retryTransient<T>(what: string, run: () => Promise<T>, { attempts = 10, firstDelayMs = 500, onRetry = warnOnStderr }: RetryOptions = {}): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await run();
    } catch (error) {
      if (attempt >= attempts || !isTransientStartupError(error)) throw error;
      const delayMs = cappedBackoffMs(attempt, firstDelayMs, 5_000);
      onRetry(`${what} failed: ${describeFailure(error)}`, attempt, delayMs);
      await new Promise((resolve) => setTimeout(resolve, delayMs));
    }
  }
}

type GrpcInterceptor = NonNullable<ConnectionOptions['interceptors']>[number];
const GRPC_CANCELLED = 1;

/**
 * A call started after its connection closed ends CANCELLED instead of throwing. The client's
 * retry interceptor tries a call again from a timer, and a call abandoned at its deadline
 * (api/workflow-calls.ts) keeps that timer: when it fires after `connection.close()`, the channel
 * throws 'Channel has been shut down' out of the timer, and the process dies with exit code 1
 * after everything else stopped cleanly (npm run bench, npm start). Placed under the retry
 * interceptor, so that is the call its timer makes.
 */
const endsCancelledWhenClosed: GrpcInterceptor = (options, nextCall) => {
  try {
    return nextCall(options) as ReturnType<GrpcInterceptor>;
  } catch (error) {
    if (!(error instanceof Error && error.message === 'Channel has been shut down')) throw error;
    const ended = {
      start(metadata: unknown, listener: { onReceiveStatus?: (status: { code: number; details: string; metadata: unknown }) => void }) {
        process.nextTick(() => listener.onReceiveStatus?.({ code: GRPC_CANCELLED, details: 'the connection to Temporal was closed', metadata }));
      },
      sendMessage() {}, sendMessageWithContext() {}, halfClose() {}, startRead() {}, cancelWithStatus() {},
      getPeer: () => '',
      getAuthContext: () => null,
    };
    return ended as unknown as ReturnType<GrpcInterceptor>;
  }
};

/** The client's interceptors: the SDK's default retries, then endsCancelledWhenClosed. */
export const clientInterceptors = (): GrpcInterceptor[] => [makeGrpcRetryInterceptor(defaultGrpcRetryOptions()), endsCancelledWhenClosed];

/** Connects to Temporal, waiting (bounded) while it is not answering yet. */
export async function connectClient(address: string, namespace: string, retry?: RetryOptions): Promise<Client> {
  const connection = await retryTransient(`connecting to Temporal at ${address}`, () => Connection.connect({ address, interceptors: clientInterceptors() }), retry);
  return new Client({ connection, namespace });
}

export function connectWorker(address: string, retry?: RetryOptions): Promise<NativeConnection> {
  return retryTransient(`connecting the worker to Temporal at ${address}`, () => NativeConnection.connect({ address }), retry);
}

const { IndexedValueType } = temporal.api.enums.v1;

export function searchAttributeRegistrations(
  keys: readonly SearchAttributeDefinition[],
): Record<string, temporal.api.enums.v1.IndexedValueType> {
  return Object.fromEntries(keys.map((key) => [key.name, IndexedValueType[`INDEXED_VALUE_TYPE_${key.type}`]]));
}

/** Registers search attributes on a cluster's namespace; already registered ones are left as they are. */
export async function ensureSearchAttributes(client: Client, keys: readonly SearchAttributeDefinition[]): Promise<void> {
  const { customAttributes } = await client.connection.operatorService.listSearchAttributes({ namespace: client.options.namespace });
  const missing = Object.entries(searchAttributeRegistrations(keys)).filter(([name]) => !(customAttributes && name in customAttributes));
  if (missing.length === 0) return;
  await client.connection.operatorService.addSearchAttributes({
    namespace: client.options.namespace,
    searchAttributes: Object.fromEntries(missing),
  });
}
