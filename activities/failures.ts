import { ApplicationFailure, Context } from '@temporalio/activity';
import { isInvalidData } from '../domain/failure-classes';
import { AttentionFailure } from '../workflows/attention/contract';


/**
 * Postgres refuses a row that breaks a constraint (class 23) or holds a value it cannot store
 * (class 22) the same way on every attempt: such a write is refused for good, not retried.
 */
export function refuseInvalidWrite(error: unknown, type: string): never {
  if (isInvalidData(error)) throw ApplicationFailure.nonRetryable((error as Error).message, type);
  throw error;
}

/**
 * What an activity's failure means for its workflow: failures the activity already classified
 * pass as they are; bad data becomes non-retryable (its step ends with the reason); everything
 * else (a connection refused, a timeout, a lock) stays retryable within the step's bound.
 */
export function classifyActivityFailure(error: unknown): unknown {
  if (error instanceof ApplicationFailure || !isInvalidData(error)) return error;
  return ApplicationFailure.create({ type: AttentionFailure.invalidData, message: reasonOf(error as Error), nonRetryable: true, cause: error as Error });
}

/**
 * The reason a person reads: Postgres's own words, without the statement knex puts in front of
 * them ("<sql with its values> - <message>"), which holds the row's data, not the reason.
 */
function reasonOf(error: Error): string {
  const fromPostgres = typeof (error as { severity?: unknown }).severity === 'string';
  const at = error.message.lastIndexOf(' - ');
  return fromPostgres && at >= 0 ? error.message.slice(at + 3) : error.message;
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
