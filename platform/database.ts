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

export function createDatabase(connectionString: string, poolMax = 10): Database {
  return knex({
    client: 'pg',
    connection: connectionString,
    pool: { min: 0, max: poolMax },
    migrations: migrationConfig,
  });
}

export async function migrateToLatest(db: Database): Promise<string[]> {
  const [, applied] = (await db.migrate.latest(migrationConfig)) as [number, string[]];
  return applied;
}

/** One round trip: throws when Postgres does not answer. */
export async function pingDatabase(db: Database): Promise<void> {
  await db.raw('SELECT 1');
}
