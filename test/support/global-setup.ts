import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Client } from 'pg';
import { createDatabase, migrateToLatest } from '../../platform/database';
import { startEmbeddedPostgres } from '../../platform/embedded-postgres';
import { createLogger } from '../../platform/logger';
import { TEMPLATE_DATABASE } from './database';

/**
 * One real Postgres for the whole run: TEST_DATABASE_URL's server when given, else an embedded
 * one in a temporary folder. A template database is migrated once; each test file clones it.
 */
export default async function globalSetup(): Promise<void> {
  // Names this run, so that dist/ is built once for all the files that run built workers (support/worker-process.ts).
  process.env.ASSETFLOW_TEST_RUN ??= `${process.pid}-${Date.now()}`;
  let adminUrl = process.env.TEST_DATABASE_URL;
  if (!adminUrl) {
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'assetflow-test-pg-'));
    // As root, Postgres runs as a separate system user that must be able to enter this folder.
    fs.chmodSync(dataDir, 0o755);
    const port = 15432 + Math.floor(Math.random() * 1000);
    const postgres = await startEmbeddedPostgres({
      dataDir: path.join(dataDir, 'data'),
      port,
      database: 'postgres',
      logger: createLogger('silent', 'test-postgres'),
    });
    (globalThis as Record<string, unknown>).__assetflowTestPostgres = { stop: postgres.stop, dataDir };
    adminUrl = postgres.connectionString;
  }
  process.env.TEST_DATABASE_URL = adminUrl;

  const admin = new Client({ connectionString: adminUrl });
  await admin.connect();
  try {
    await admin.query(`DROP DATABASE IF EXISTS ${TEMPLATE_DATABASE}`);
    await admin.query(`CREATE DATABASE ${TEMPLATE_DATABASE}`);
  } finally {
    await admin.end();
  }
  const templateUrl = new URL(adminUrl);
  templateUrl.pathname = `/${TEMPLATE_DATABASE}`;
  const db = createDatabase(templateUrl.toString(), 1);
  try {
    await migrateToLatest(db);
  } finally {
    await db.destroy();
  }
}
