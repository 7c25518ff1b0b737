/**
 * Which failures of a step are the data's fault. A step that meets bad data fails the same way on
 * every attempt, so it is refused for good (and its process ends with the reason); anything else
 * (a connection refused, a timeout, a lock, a server restarting) may go away and is retried.
 */

/** Error codes of Node's sockets and resolver: the other side was not reached. */
const CONNECTION_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH']);

function isConnectionFault(error: unknown): boolean {
  for (let e: unknown = error; e instanceof Error; e = e.cause) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && CONNECTION_CODES.has(code)) return true;
  }
  return false;
}

/**
 * Bad data: a value Postgres cannot store or a constraint it refuses (SQLSTATE classes 22 and
 * 23), a number out of range, a row missing that the step needs (a TypeError on what is not
 * there), a payload that fails its schema. A fault on the way to a server never is, even when it
 * arrives as a TypeError (fetch's "fetch failed").
 */
export function isInvalidData(error: unknown): boolean {
  if (!(error instanceof Error) || isConnectionFault(error)) return false;
  const code = (error as { code?: unknown }).code;
  if (typeof code === 'string' && /^2[23][0-9A-Z]{3}$/.test(code)) return true;
  return error instanceof RangeError || error instanceof TypeError || error.name === 'ZodError';
}
