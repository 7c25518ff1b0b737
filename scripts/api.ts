import { createApp } from '../api/app';
import { loadConfig } from '../platform/config';
import { ProcessStateWatcher } from '../platform/process-state-watcher';
import { createDatabase } from '../platform/database';
import { createLogger } from '../platform/logger';
import { required } from '../platform/settings';
import { connectClient, ensureSearchAttributes } from '../platform/temporal';
import { SEARCH_ATTRIBUTE_KEYS } from '../workflows/search-attributes';

/** One API process: stateless, so several can run behind a load balancer. */
async function main(): Promise<void> {
  const config = loadConfig();
  const logger = createLogger(config.LOG_LEVEL, 'api');
  const approvalLinkSecret = required(config.APPROVAL_LINK_SECRET, 'APPROVAL_LINK_SECRET', 'the API checks the links in approval emails');
  const databaseUrl = required(config.DATABASE_URL, 'DATABASE_URL', 'the API reads the shared Postgres');
  const db = createDatabase(databaseUrl);
  const processStates = new ProcessStateWatcher(databaseUrl);
  const temporal = await connectClient(
    required(config.TEMPORAL_ADDRESS, 'TEMPORAL_ADDRESS', 'the API starts and signals workflows'),
    config.TEMPORAL_NAMESPACE,
  );
  await ensureSearchAttributes(temporal, SEARCH_ATTRIBUTE_KEYS);
  const app = createApp({
    db,
    temporal,
    processStates,
    logger,
    taskQueue: config.TEMPORAL_TASK_QUEUE,
    reminders: { warrantyDaysBefore: config.WARRANTY_REMINDER_DAYS, leaseDaysBefore: config.LEASE_REMINDER_DAYS },
    approvalLinkSecret,
    approvalTimings: config.approvalTimings,
    reuseOfferTimeoutMs: config.LICENCE_REUSE_OFFER_TIMEOUT,
    mailboxDir: config.MAILBOX_DIR ? config.mailboxDir : undefined,
    temporalUiUrl: config.TEMPORAL_UI_URL,
    demoSignIn: config.loadDemoData,
    publicUrl: config.publicUrl,
  });
  const server = app.listen(config.PORT, config.HOST, () => logger.info({ url: config.publicUrl }, 'api listening'));
  await new Promise<void>((resolve) => {
    for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => server.close(() => resolve()));
  });
  await processStates.close();
  await temporal.connection.close();
  await db.destroy();
}

main().catch((error) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
