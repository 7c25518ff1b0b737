import { startEmbeddedPostgres } from '../../platform/embedded-postgres';
import { createLogger } from '../../platform/logger';

/**
 * A Postgres of the fault suite's own, as a process of its own (embedded-postgres is an ES module
 * that jest cannot load in a test file): `node fault-postgres.js <dataDir> <port>` starts it,
 * prints `ready <url>`, and stops it cleanly on SIGTERM, which is how the suite takes it away.
 */
async function main(): Promise<void> {
  const [dataDir, port] = process.argv.slice(2);
  const postgres = await startEmbeddedPostgres({ dataDir, port: Number(port), database: 'assetflow', logger: createLogger('silent', 'fault-postgres') });
  process.stdout.write(`ready ${postgres.connectionString}\n`);
  const stop = () => {
    postgres.stop().then(() => process.exit(0), () => process.exit(1));
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
  // A suite killed by its timeout cannot stop its Postgres: it stops when its parent is gone.
  const parent = process.ppid;
  setInterval(() => {
    if (process.ppid !== parent) stop();
  }, 1000).unref();
}

main().catch((error) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
