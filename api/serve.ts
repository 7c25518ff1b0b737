import type { Server } from 'node:http';
import type { ProcessStateWatcher } from '../platform/process-state-watcher';

/** How long a stopping API lets requests in flight finish before it drops their connections. */
export const SHUTDOWN_GRACE_MS = 3_000;

/**
 * Stops an API server promptly: requests held by waitFor answer at once with what they have, no
 * new connection is taken, idle keep-alive connections are closed, and requests still in flight
 * after `graceMs` lose their connection (a client retries those with its Idempotency-Key).
 */
export async function stopServing(server: Server, processStates: ProcessStateWatcher, graceMs = SHUTDOWN_GRACE_MS): Promise<void> {
  const closed = new Promise<void>((resolve) => server.close(() => resolve()));
  await processStates.close();
  // A keep-alive connection becomes idle once its request is answered: close each as it does.
  const closeIdle = setInterval(() => server.closeIdleConnections(), 50);
  server.closeIdleConnections();
  const cutOff = setTimeout(() => server.closeAllConnections(), graceMs);
  try {
    await closed;
  } finally {
    clearInterval(closeIdle);
    clearTimeout(cutOff);
  }
}
