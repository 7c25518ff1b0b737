/**
 * Which failures of a step are the data's fault. A step that meets bad data fails the same way on
 * every attempt, so it is refused for good (and its process ends with the reason); anything else
 * (a connection refused, a timeout, a lock, a server restarting) may go away and is retried.
 */

/** Error codes of Node's sockets and resolver: the other side was not reached. */
const CONNECTION_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH']);

export interface ErrorLike {
  name?: unknown;
  code?: unknown;
  message?: unknown;
}

/**
 * Whether the error, one of its causes or one of an AggregateError's errors (as Node reports a
 * refused dual-stack connect) passes `test`. Duck-typed, not instanceof Error: socket errors may
 * come from another realm (a VM context, a test runner).
 */
export function anyCause(error: unknown, test: (error: ErrorLike) => boolean, depth = 0): boolean {
  if (typeof error !== 'object' || error === null || depth > 5) return false;
  if (test(error as ErrorLike)) return true;
  const { errors, cause } = error as { errors?: unknown; cause?: unknown };
  if (Array.isArray(errors) && errors.some((inner) => anyCause(inner, test, depth + 1))) return true;
  return anyCause(cause, test, depth + 1);
}

/** A fault on the way to a server: it was not reached, or the connection broke. */
export function isConnectionFault(error: unknown): boolean {
  return anyCause(error, ({ code }) => typeof code === 'string' && CONNECTION_CODES.has(code));
}

/**
 * Bad data: a value Postgres cannot store or a constraint it refuses (SQLSTATE classes 22 and
 * 23), a number out of range, a row missing that the step needs (a TypeError on what is not
 * there), a payload that fails its schema. A fault on the way to a server never is, even when it
 * arrives as a TypeError (fetch's "fetch failed").
 */
export function isInvalidData(error: unknown): error is Error {
  if (!(error instanceof Error) || isConnectionFault(error)) return false;
  const code = (error as { code?: unknown }).code;
  if (typeof code === 'string' && /^2[23][0-9A-Z]{3}$/.test(code)) return true;
  return error instanceof RangeError || error instanceof TypeError || error.name === 'ZodError';
}

/**
 * The reason a person reads: Postgres's own words, without the statement knex puts in front of
 * them ("<sql with its values> - <message>"), which holds the row's data, not the reason.
 */
export function reasonOf(error: Error): string {
  const fromPostgres = typeof (error as { severity?: unknown }).severity === 'string';
  const at = error.message.lastIndexOf(' - ');
  return fromPostgres && at >= 0 ? error.message.slice(at + 3) : error.message;
}
