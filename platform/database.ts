import knex, { type Knex } from 'knex';
import pg from 'pg';
import { anyCause, isConnectionFault, type ErrorLike } from '../domain/failure-classes';
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

/** SQLSTATEs of a server that cannot serve now: shutting down or starting, too many connections (connection exceptions, class 08, too). */
const UNAVAILABLE_SQLSTATES = new Set(['57P01', '57P02', '57P03', '53300']);
/** Messages of the pg driver and knex's pool when the connection is gone, which carry no code. */
const CONNECTION_LOST_MESSAGES = [/Connection terminated/i, /Client has encountered a connection error/i, /timeout exceeded when trying to connect/i];

/** What only Postgres and knex say about a database that cannot serve: a pool timeout, a SQLSTATE, a driver's message. */
function saysUnavailable({ name, code, message }: ErrorLike): boolean {
  if (name === 'KnexTimeoutError') return true;
  if (typeof code === 'string' && (UNAVAILABLE_SQLSTATES.has(code) || /^08[0-9A-Z]{3}$/.test(code))) return true;
  return typeof message === 'string' && CONNECTION_LOST_MESSAGES.some((pattern) => pattern.test(message));
}

/**
 * Whether an error says Postgres is unreachable, restarting or out of connections, rather than
 * that a query was wrong: such a request did nothing and may be tried again later. Follows the
 * cause chain (and AggregateError's errors).
 */
export function isDatabaseUnavailable(error: unknown): boolean {
  return isConnectionFault(error) || anyCause(error, saysUnavailable);
}

/**
 * Whether Postgres refused a row for a value another row has (SQLSTATE 23505), on one of the
 * unique constraints or indexes named, or on any when none is named.
 */
export function isUniqueViolation(error: unknown, ...constraints: string[]): boolean {
  const { code, constraint } = (error ?? {}) as { code?: unknown; constraint?: unknown };
  return code === '23505' && (constraints.length === 0 || constraints.includes(constraint as string));
}

/** The user of the embedded Postgres (a local demo database on the loopback interface only). */
export const EMBEDDED_POSTGRES_USER = { user: 'assetflow', password: 'assetflow' } as const;

/** Where the embedded Postgres of `npm start` answers: the admin command connects to a running one. */
export const embeddedPostgresUrl = (port: number, database: string) =>
  `postgres://${EMBEDDED_POSTGRES_USER.user}:${EMBEDDED_POSTGRES_USER.password}@127.0.0.1:${port}/${database}`;
