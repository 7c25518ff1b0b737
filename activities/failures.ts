import { ApplicationFailure } from '@temporalio/activity';

/**
 * Postgres refuses a row that breaks a constraint (class 23) or holds a value it cannot store
 * (class 22) the same way on every attempt: such a write is refused for good, not retried.
 */
export function refuseInvalidWrite(error: unknown, type: string): never {
  const code = (error as { code?: unknown }).code;
  if (typeof code === 'string' && (code.startsWith('23') || code.startsWith('22'))) {
    throw ApplicationFailure.nonRetryable((error as Error).message, type);
  }
  throw error;
}
