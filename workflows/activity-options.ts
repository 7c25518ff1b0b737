import type { ActivityOptions } from '@temporalio/workflow';

/**
 * How long a step may take and how often it is tried, for every workflow. Every activity
 * heartbeats while it runs (activities/failures.ts), so a worker that dies is noticed within the
 * heartbeat timeout and its step runs again elsewhere within seconds. Retries are bounded: the
 * budget (about 35 s of backoff over 7 attempts) rides over a short outage of Postgres without
 * bothering anyone; past it the step's workflow says the process needs attention.
 */
const BOUNDED_RETRY = { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '10 seconds', maximumAttempts: 7 } as const;

/** A few database statements: seconds, not minutes. */
export const DATABASE_STEP: ActivityOptions = {
  startToCloseTimeout: '15 seconds',
  heartbeatTimeout: '5 seconds',
  retry: BOUNDED_RETRY,
};

/** A step that waits on another workflow (an asset moved through its lifecycle): long, but alive. */
export const CROSS_WORKFLOW_STEP: ActivityOptions = {
  startToCloseTimeout: '2 minutes',
  heartbeatTimeout: '5 seconds',
  retry: BOUNDED_RETRY,
};

/**
 * Saying that a process needs attention: it must get through in the end, so it is not bounded;
 * while Postgres is away nothing could show it anyway.
 */
export const ATTENTION_STEP: ActivityOptions = {
  startToCloseTimeout: '15 seconds',
  heartbeatTimeout: '5 seconds',
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '30 seconds' },
};
