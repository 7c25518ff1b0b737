import knex, { type Knex } from 'knex';
import pg from 'pg';
import { migrationSource } from '../migrations';

/** Money and counts are bigint in Postgres; every value we store fits a safe JS integer, and we refuse any that does not. */
pg.types.setTypeParser(pg.types.builtins.INT8, (value: string) => {
  const n = Number(value);
  if (!Number.isSafeInteger(n)) throw new RangeError(`bigint ${value} is outside the safe integer range`);
  return n;
});
/** Dates without time stay as calendar dates (YYYY-MM-DD), never shifted by the process time zone. */
pg.types.setTypeParser(pg.types.builtins.DATE, (value: string) => value);

export type Database = Knex;

export const migrationConfig: Knex.MigratorConfig = { migrationSource, tableName: 'knex_migrations' };

/**
 * How long a query waits for a pooled connection before giving up: a saturated or unreachable
 * Postgres is answered as unavailable in seconds, not after knex's default minute.
 */
export const CONNECTION_ACQUIRE_TIMEOUT_MS = 5_000;

export function createDatabase(connectionString: string, poolMax = 10): Database {
  return knex({
    client: 'pg',
    connection: { connectionString, connectionTimeoutMillis: CONNECTION_ACQUIRE_TIMEOUT_MS },
    pool: { min: 0, max: poolMax },
    acquireConnectionTimeout: CONNECTION_ACQUIRE_TIMEOUT_MS,
    migrations: migrationConfig,
  });
}

export async function migrateToLatest(db: Database): Promise<string[]> {
  const [, applied] = (await db.migrate.latest(migrationConfig)) as [number, string[]];
  return applied;
}

/** One round trip: throws when Postgres does not answer, or does not answer within `timeoutMs`. */
export async function pingDatabase(db: Database, timeoutMs = 1_500): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`Postgres did not answer within ${timeoutMs} ms`)), timeoutMs);
  });
  try {
    await Promise.race([db.raw('SELECT 1'), late]);
  } finally {
    clearTimeout(timer);
  }
}

/** Socket errors that mean the database went away or cannot be reached. */
const CONNECTION_ERROR_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EPIPE', 'EAI_AGAIN']);
/** SQLSTATEs of a server that cannot serve now: connection exceptions (08), shutting down or starting, too many connections. */
const UNAVAILABLE_SQLSTATES = new Set(['57P01', '57P02', '57P03', '53300']);
/** Messages of the pg driver and knex's pool when the connection is gone, which carry no code. */
const CONNECTION_LOST_MESSAGES = [/Connection terminated/i, /Client has encountered a connection error/i, /timeout exceeded when trying to connect/i];

/**
 * Whether an error says Postgres is unreachable, restarting or out of connections, rather than
 * that a query was wrong: such a request did nothing and may be tried again later. Follows the
 * cause chain (and AggregateError's errors, as Node reports a refused dual-stack connect).
 */
export function isDatabaseUnavailable(error: unknown, depth = 0): boolean {
  // Duck-typed, not instanceof Error: socket errors may come from another realm (a VM context, a test runner).
  if (typeof error !== 'object' || error === null || depth > 5) return false;
  const { name, code, message, errors, cause } = error as { name?: unknown; code?: unknown; message?: unknown; errors?: unknown; cause?: unknown };
  if (name === 'KnexTimeoutError') return true;
  if (typeof code === 'string') {
    if (CONNECTION_ERROR_CODES.has(code) || UNAVAILABLE_SQLSTATES.has(code) || /^08[0-9A-Z]{3}$/.test(code)) return true;
  }
  if (typeof message === 'string' && CONNECTION_LOST_MESSAGES.some((pattern) => pattern.test(message))) return true;
  if (Array.isArray(errors) && errors.some((inner) => isDatabaseUnavailable(inner, depth + 1))) return true;
  return isDatabaseUnavailable(cause, depth + 1);
}
