import { createApp } from '../api/app';
import { sweepAbandonedCostImports, watchCostDropFolder } from '../api/cost-import-intake';
import { watchInventoryDropFolder } from '../api/inventory-intake';
import { stopServing } from '../api/serve';
import { loadConfig } from '../platform/config';
import { ProcessStateWatcher } from '../platform/process-state-watcher';
import { createDatabase } from '../platform/database';
import { createLogger } from '../platform/logger';
import { required } from '../platform/settings';
import { connectClient, describeFailure, ensureSearchAttributes, retryTransient, type RetryOptions } from '../platform/temporal';
import { SEARCH_ATTRIBUTE_KEYS } from '../workflows/search-attributes';

/** Past this, a stopping API exits whatever is left: it is gone within 5 s of SIGTERM. */
const SHUTDOWN_LIMIT_MS = 4_500;

/** One API process: stateless, so several can run behind a load balancer. */
async function main(): Promise<void> {
  const config = loadConfig();
  const logger = createLogger(config.LOG_LEVEL, 'api');
  const approvalLinkSecret = required(config.APPROVAL_LINK_SECRET, 'APPROVAL_LINK_SECRET', 'the API checks the links in approval emails');
  const databaseUrl = required(config.DATABASE_URL, 'DATABASE_URL', 'the API reads the shared Postgres');
  const db = createDatabase(databaseUrl);
  const processStates = new ProcessStateWatcher(databaseUrl);
  const retry: RetryOptions = { onRetry: (failure, attempt, delayMs) => logger.warn({ failure, attempt, delayMs }, 'Temporal not ready; trying again') };
  const temporal = await connectClient(
    required(config.TEMPORAL_ADDRESS, 'TEMPORAL_ADDRESS', 'the API starts and signals workflows'),
    config.TEMPORAL_NAMESPACE,
    retry,
  );
  await retryTransient('registering search attributes', () => ensureSearchAttributes(temporal, SEARCH_ATTRIBUTE_KEYS), retry);
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
    demoSignIn: config.demoKeys,
    publicUrl: config.publicUrl,
    rateLimits: config.rateLimits,
    trustProxy: config.TRUST_PROXY,
    metricsToken: config.METRICS_TOKEN,
    oidc: config.oidc,
    timeZone: config.TIME_ZONE,
    costImportMaxBytes: config.COST_IMPORT_MAX_BYTES,
  });
  await sweepAbandonedCostImports({ db, logger });
  const server = app.listen(config.PORT, config.HOST, () => logger.info({ url: config.publicUrl }, 'api listening'));
  const dropFolder = config.inventoryDrop
    && await watchInventoryDropFolder({ db, temporal, taskQueue: config.TEMPORAL_TASK_QUEUE, logger }, config.inventoryDrop);
  const costDropFolder = config.costDrop
    && await watchCostDropFolder({ db, temporal, taskQueue: config.TEMPORAL_TASK_QUEUE, logger, costImportMaxBytes: config.COST_IMPORT_MAX_BYTES }, config.costDrop);
  await new Promise<void>((resolve) => {
    for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => resolve());
  });
  logger.info('stopping: answering waiting requests with what they have');
  setTimeout(() => {
    logger.warn(`not stopped within ${SHUTDOWN_LIMIT_MS} ms; exiting`);
    process.exit(1);
  }, SHUTDOWN_LIMIT_MS).unref();
  await Promise.all([stopServing(server, processStates), dropFolder?.stop(), costDropFolder?.stop()]);
  await temporal.connection.close();
  await db.destroy();
}

main().catch((error) => {
  console.error(describeFailure(error));
  process.exit(1);
});
