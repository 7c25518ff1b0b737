import path from 'node:path';
import { Client } from '@temporalio/client';
import { DefaultLogger, Runtime, type LogLevel } from '@temporalio/worker';
import { createActivities } from '../activities';
import { loadConfig } from '../platform/config';
import { createDatabase } from '../platform/database';
import { createLogger } from '../platform/logger';
import { createMailer } from '../platform/mailer';
import { createMetricsRegistry, serveMetrics, type MetricsServer } from '../platform/metrics';
import { required } from '../platform/settings';
import { connectWorker } from '../platform/temporal';
import { createWorker } from '../workers/worker';

const SDK_LOG_LEVELS: Record<string, LogLevel> = {
  fatal: 'ERROR', error: 'ERROR', warn: 'WARN', info: 'INFO', debug: 'DEBUG', trace: 'TRACE', silent: 'ERROR',
};

/** One worker process: polls the task queue, runs workflows and activities. Run as many as you need. */
async function main(): Promise<void> {
  const config = loadConfig();
  const logger = createLogger(config.LOG_LEVEL, 'worker');
  Runtime.install({ logger: new DefaultLogger(SDK_LOG_LEVELS[config.LOG_LEVEL]) });
  const db = createDatabase(required(config.DATABASE_URL, 'DATABASE_URL', 'the worker writes to the shared Postgres'));
  const mailer = createMailer(required(config.SMTP_URL, 'SMTP_URL', 'the worker sends the emails'), config.MAIL_FROM);
  const approvalLinkSecret = required(config.APPROVAL_LINK_SECRET, 'APPROVAL_LINK_SECRET', 'the worker signs the links in approval emails');
  const connection = await connectWorker(required(config.TEMPORAL_ADDRESS, 'TEMPORAL_ADDRESS', 'the worker polls a Temporal cluster'));
  const metrics = createMetricsRegistry();
  let metricsServer: MetricsServer | undefined;
  try {
    if (config.WORKER_METRICS_PORT > 0) {
      metricsServer = await serveMetrics(metrics, {
        port: config.WORKER_METRICS_PORT,
        host: config.HOST,
        onError: (error) => logger.warn({ err: error }, 'metrics failed'),
      }).catch((error: unknown) => {
        throw new Error(`cannot serve metrics on ${config.HOST}:${config.WORKER_METRICS_PORT} (WORKER_METRICS_PORT; 0 turns it off): ${error instanceof Error ? error.message : error}`);
      });
    }
    const worker = await createWorker({
      connection,
      namespace: config.TEMPORAL_NAMESPACE,
      taskQueue: config.TEMPORAL_TASK_QUEUE,
      activities: createActivities({
        db,
        mailer,
        publicUrl: config.publicUrl,
        securityNoticeEmail: config.SECURITY_NOTICE_EMAIL,
        approvalLinkSecret,
        temporal: new Client({ connection, namespace: config.TEMPORAL_NAMESPACE }),
        lifecycle: {
          taskQueue: config.TEMPORAL_TASK_QUEUE,
          reminders: { warrantyDaysBefore: config.WARRANTY_REMINDER_DAYS, leaseDaysBefore: config.LEASE_REMINDER_DAYS },
        },
      }),
      workflows: { workflowBundle: { codePath: path.join(__dirname, '..', 'workflow-bundle.js') } },
      tuning: { maxCachedWorkflows: config.WORKER_MAX_CACHED_WORKFLOWS },
      metrics,
    });
    for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => worker.shutdown());
    logger.info({ taskQueue: config.TEMPORAL_TASK_QUEUE, metrics: metricsServer && `http://${config.HOST}:${metricsServer.port}/metrics` }, 'worker started');
    await worker.run();
    logger.info('worker stopped');
  } finally {
    await metricsServer?.close();
    await connection.close();
    mailer.close();
    await db.destroy();
  }
}

main().catch((error) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
