import { ApplicationFailure, Context } from '@temporalio/activity';
import { isInvalidData, reasonOf } from '../domain/failure-classes';
import { AttentionFailure } from '../workflows/attention/contract';

/** Bad data refused for good as `type`, with the reason a person reads; undefined for any other failure. */
function invalidDataFailure(error: unknown, type: string): ApplicationFailure | undefined {
  if (!isInvalidData(error)) return undefined;
  return ApplicationFailure.create({ type, message: reasonOf(error), nonRetryable: true, cause: error });
}

/**
 * Postgres refuses a row that breaks a constraint (class 23) or holds a value it cannot store
 * (class 22) the same way on every attempt: such a write is refused for good, not retried.
 */
export function refuseInvalidWrite(error: unknown, type: string): never {
  throw invalidDataFailure(error, type) ?? error;
}

/**
 * What an activity's failure means for its workflow: failures the activity already classified
 * pass as they are; bad data becomes non-retryable (its step ends with the reason); everything
 * else (a connection refused, a timeout, a lock) stays retryable within the step's bound.
 */
export function classifyActivityFailure(error: unknown): unknown {
  if (error instanceof ApplicationFailure) return error;
  return invalidDataFailure(error, AttentionFailure.invalidData) ?? error;
}

const HEARTBEAT_EVERY_MS = 1_000;

/**
 * Wraps every activity: it heartbeats while it runs, so that a worker that dies is noticed within
 * the heartbeat timeout rather than the whole start-to-close timeout, and its failures are
 * classified.
 */
export function classifiedActivities<T extends Record<string, (...args: any[]) => Promise<unknown>>>(activities: T): T {
  const wrapped: Record<string, (...args: unknown[]) => Promise<unknown>> = {};
  for (const [name, activity] of Object.entries(activities)) {
    wrapped[name] = async (...args: unknown[]) => {
      const context = activityContext();
      context?.heartbeat();
      const beat = context ? setInterval(() => context.heartbeat(), HEARTBEAT_EVERY_MS) : undefined;
      try {
        return await activity(...args);
      } catch (error) {
        throw classifyActivityFailure(error);
      } finally {
        clearInterval(beat);
      }
    };
  }
  return wrapped as T;
}

/** The running activity's context; none when an activity is called directly (scripts, unit tests). */
function activityContext(): Context | undefined {
  try {
    return Context.current();
  } catch {
    return undefined;
  }
}
