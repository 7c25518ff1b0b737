import path from 'node:path';
import { Client } from '@temporalio/client';
import { DefaultLogger, Runtime, type LogLevel } from '@temporalio/worker';
import { createActivities } from '../activities';
import { EmailDispatcher } from '../activities/email-dispatcher';
import { DEFAULT_EMAIL_RETRY_POLICY } from '../domain/email-delivery';
import { loadConfig } from '../platform/config';
import { createDatabase } from '../platform/database';
import { createLogger } from '../platform/logger';
import { createMailer } from '../platform/mailer';
import { createMetricsRegistry, serveMetrics, type MetricsServer } from '../platform/metrics';
import { required } from '../platform/settings';
import { connectWorker, describeFailure, retryTransient } from '../platform/temporal';
import { ensureFinopsSchedules, ensureSlaWatchSchedule, ensureUnseenWatchSchedule } from '../platform/schedules';
import { createWorker } from '../workers/worker';

const SDK_LOG_LEVELS: Record<string, LogLevel> = {
  fatal: 'ERROR', error: 'ERROR', warn: 'WARN', info: 'INFO', debug: 'DEBUG', trace: 'TRACE', silent: 'ERROR',
};

/** One worker process: polls the task queue, runs workflows and activities. Run as many as you need. */
async function main(): Promise<void> {
  const config = loadConfig();
  const logger = createLogger(config.LOG_LEVEL, 'worker');
  // Signals are ours to handle (below): the SDK's own handler would start draining first, and ours then
  // found the worker no longer running and threw.
  Runtime.install({ logger: new DefaultLogger(SDK_LOG_LEVELS[config.LOG_LEVEL]), shutdownSignals: [] });
  const databaseUrl = required(config.DATABASE_URL, 'DATABASE_URL', 'the worker writes to the shared Postgres');
  const db = createDatabase(databaseUrl);
  const mailer = createMailer(required(config.SMTP_URL, 'SMTP_URL', 'the worker sends the emails'), config.MAIL_FROM);
  const approvalLinkSecret = required(config.APPROVAL_LINK_SECRET, 'APPROVAL_LINK_SECRET', 'the worker signs the links in approval emails');
  const connection = await connectWorker(required(config.TEMPORAL_ADDRESS, 'TEMPORAL_ADDRESS', 'the worker polls a Temporal cluster'));
  const metrics = createMetricsRegistry();
  // Every worker sends what the outbox holds, so mail goes out as long as any worker runs.
  const emails = new EmailDispatcher({
    db, databaseUrl, mailer, logger, publicUrl: config.publicUrl, approvalLinkSecret,
    retry: { ...DEFAULT_EMAIL_RETRY_POLICY, maxDelayMs: config.EMAIL_RETRY_MAX_DELAY },
  });
  let metricsServer: MetricsServer | undefined;
  try {
    if (config.WORKER_METRICS_PORT > 0) {
      metricsServer = await serveMetrics(metrics, {
        port: config.WORKER_METRICS_PORT,
        host: config.HOST,
        token: config.METRICS_TOKEN,
        onError: (error) => logger.warn({ err: error }, 'metrics failed'),
      }).catch((error: unknown) => {
        throw new Error(`cannot serve metrics on ${config.HOST}:${config.WORKER_METRICS_PORT} (WORKER_METRICS_PORT; 0 turns it off): ${error instanceof Error ? error.message : error}`);
      });
    }
    // A namespace just created may not be visible yet: creating the worker is tried again (bounded).
    const worker = await retryTransient('creating the worker', () => createWorker({
      connection,
      namespace: config.TEMPORAL_NAMESPACE,
      taskQueue: config.TEMPORAL_TASK_QUEUE,
      activities: createActivities({
        db,
        publicUrl: config.publicUrl,
        securityNoticeEmail: config.SECURITY_NOTICE_EMAIL,
        timeZone: config.TIME_ZONE,
        temporal: new Client({ connection, namespace: config.TEMPORAL_NAMESPACE }),
        lifecycle: {
          taskQueue: config.TEMPORAL_TASK_QUEUE,
          reminders: { warrantyDaysBefore: config.WARRANTY_REMINDER_DAYS, leaseDaysBefore: config.LEASE_REMINDER_DAYS },
        },
        stalledStepRetryMs: config.STALLED_STEP_RETRY_AFTER,
        approvalTimings: config.approvalTimings.normal,
      }),
      workflows: { workflowBundle: { codePath: path.join(__dirname, '..', 'workflow-bundle.js') } },
      tuning: { maxCachedWorkflows: config.WORKER_MAX_CACHED_WORKFLOWS },
      metrics,
    }));
    for (const signal of ['SIGINT', 'SIGTERM'] as const) {
      process.once(signal, () => {
        if (worker.getState() === 'RUNNING') worker.shutdown();
      });
    }
    // Every worker keeps the SLA watch's schedule: created by the first, brought up to date by the rest.
    // Kept alongside the work, not before it: a worker that cannot keep it (a server without schedules,
    // a refused permission) still runs every process, and says so; the next worker started tries again.
    const schedule = retryTransient('keeping the SLA watch schedule', () => ensureSlaWatchSchedule(
      new Client({ connection, namespace: config.TEMPORAL_NAMESPACE }),
      { taskQueue: config.TEMPORAL_TASK_QUEUE, everyMs: config.SLA_WATCH_EVERY },
    )).catch((error: unknown) => {
      logger.warn({ err: error }, `the SLA watch schedule could not be kept, so SLA breaches are not told until a worker keeps it: ${describeFailure(error)}`);
    });
    const unseenSchedule = retryTransient('keeping the unseen watch schedule', () => ensureUnseenWatchSchedule(
      new Client({ connection, namespace: config.TEMPORAL_NAMESPACE }),
      { taskQueue: config.TEMPORAL_TASK_QUEUE, everyMs: config.UNSEEN_WATCH_EVERY },
    )).catch((error: unknown) => {
      logger.warn({ err: error }, `the unseen watch schedule could not be kept, so records the feeds stopped seeing are not told until a worker keeps it: ${describeFailure(error)}`);
    });
    const finopsSchedules = retryTransient('keeping the FinOps schedules', () => ensureFinopsSchedules(
      new Client({ connection, namespace: config.TEMPORAL_NAMESPACE }),
      {
        taskQueue: config.TEMPORAL_TASK_QUEUE,
        allocationCron: config.COST_ALLOCATION_CRON,
        budgetWatchEveryMs: config.BUDGET_WATCH_EVERY,
        findingsScanEveryMs: config.FINDINGS_SCAN_EVERY,
      },
    )).catch((error: unknown) => {
      logger.warn({ err: error }, `the FinOps schedules could not be kept, so the monthly allocation, budget alerts and findings run only on demand until a worker keeps them: ${describeFailure(error)}`);
    });
    logger.info({ taskQueue: config.TEMPORAL_TASK_QUEUE, metrics: metricsServer && `http://${config.HOST}:${metricsServer.port}/metrics` }, 'worker started');
    emails.start();
    await worker.run();
    // Its calls end before the connection closes below.
    await schedule;
    await unseenSchedule;
    await finopsSchedules;
    logger.info('worker stopped');
  } finally {
    await emails.stop();
    await metricsServer?.close();
    await connection.close();
    mailer.close();
    await db.destroy();
  }
}

main().catch((error) => {
  console.error(describeFailure(error));
  process.exit(1);
});
