import { loadConfig } from '../platform/config';
import { createDatabase, migrateToLatest } from '../platform/database';
import { required } from '../platform/settings';

/** Applies pending migrations to DATABASE_URL (the one-shot job of a scaled-out deployment). */
async function main(): Promise<void> {
  const config = loadConfig();
  const db = createDatabase(required(config.DATABASE_URL, 'DATABASE_URL', 'migrations run against a server'));
  try {
    const applied = await migrateToLatest(db);
    console.log(applied.length ? `applied ${applied.length} migrations` : 'the database is up to date');
  } finally {
    await db.destroy();
  }
}

main().catch((error) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
