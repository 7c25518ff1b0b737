import type { Client } from '@temporalio/client';
import express, { type Express } from 'express';
import type { Knex } from 'knex';
import { pinoHttp } from 'pino-http';
import type { Registry } from 'prom-client';
import swaggerUi from 'swagger-ui-express';
import type { Logger } from '../platform/logger';
import type { ProcessStateWatcher } from '../platform/process-state-watcher';
import type { ApprovalTimingSettings } from '../platform/config';
import type { ReminderSettings } from '../workflows/asset-lifecycle/contract';
import { errorHandler, notFound } from './errors';
import { createApiMetrics, labelRoute } from './metrics';
import { registerApprovalRoutes } from './routes/approvals';
import { registerAssetRoutes } from './routes/assets';
import { registerChangeRoutes } from './routes/changes';
import { registerDevMailboxRoutes } from './routes/dev-mailbox';
import { registerDirectoryRoutes } from './routes/directory';
import { registerHealthRoutes } from './routes/health';
import { registerMetricsRoutes } from './routes/metrics';
import { registerProcessRoutes } from './routes/processes';
import { registerPurchaseRoutes } from './routes/purchases';
import { RouteRegistry } from './routes-registry';
import { sendHtml } from './web/html';
import { createWebUi } from './web/router';
import { startPage } from './web/start-page';

export interface AppDeps {
  db: Knex;
  temporal: Client;
  /** Wakes requests waiting for a process state (GET /processes/:id?waitFor=); its owner closes it. */
  processStates: ProcessStateWatcher;
  logger: Logger;
  taskQueue: string;
  reminders: ReminderSettings;
  approvalLinkSecret: string;
  approvalTimings: ApprovalTimingSettings;
  /** How long a purchase request's licence reuse offer waits for the requester. */
  reuseOfferTimeoutMs: number;
  /** Set when the local SMTP sink runs: its messages are shown at /dev/mail. */
  mailboxDir?: string;
  temporalUiUrl?: string;
  /** The embedded demo runs: the web UI's sign-in page lets people pick a demo person instead of typing the key. */
  demoSignIn?: boolean;
  /** Base URL people use; an https one makes the web UI's cookies Secure. */
  publicUrl?: string;
  /** Where GET /metrics reads from (the app registers its metrics in it: one app per registry); a fresh one when not given. */
  metricsRegistry?: Registry;
}

export function createApp(deps: AppDeps): Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('query parser', 'simple');
  const metrics = createApiMetrics({ db: deps.db, logger: deps.logger, registry: deps.metricsRegistry });
  app.use(metrics.httpMiddleware);
  app.use(pinoHttp({ logger: deps.logger, autoLogging: { ignore: (req) => req.url === '/healthz' || req.url === '/metrics' } }));
  app.use(express.json({ limit: '256kb' }));
  app.use(express.urlencoded({ extended: false, limit: '64kb' }));

  const routes = new RouteRegistry(deps.db);
  registerHealthRoutes(routes, deps.db, deps.temporal);
  registerMetricsRoutes(routes, metrics.registry);
  registerAssetRoutes(routes, deps);
  registerChangeRoutes(routes, deps);
  registerPurchaseRoutes(routes, deps);
  registerProcessRoutes(routes, deps);
  registerApprovalRoutes(routes, deps);
  registerDirectoryRoutes(routes, deps.db);
  if (deps.mailboxDir) registerDevMailboxRoutes(routes, deps.mailboxDir);

  const openApi = routes.openApiDocument({
    title: 'assetflow API',
    version: '0.1.0',
    description: 'IT asset management workflows on Temporal. Authenticate with "Authorization: Bearer <API key>".',
  });
  app.get('/openapi.json', (_req, res) => {
    res.json(openApi);
  });
  app.use('/docs', labelRoute('/docs'), swaggerUi.serve, swaggerUi.setup(openApi, { customSiteTitle: 'assetflow API' }));
  app.get('/', (_req, res) => {
    const links: [string, string][] = [
      ['/ui', 'Web UI: dashboard, processes, approval inbox, my requests'],
      ['/docs', 'Interactive API documentation'],
      ['/openapi.json', 'OpenAPI document'],
      ['/healthz', 'Health of Postgres and Temporal'],
      ['/metrics', 'Prometheus metrics'],
      ...(deps.mailboxDir ? [['/dev/mail', 'Mail caught by the local SMTP sink'] as [string, string]] : []),
      ...(deps.temporalUiUrl ? [[deps.temporalUiUrl, 'Temporal UI: every workflow and its history'] as [string, string]] : []),
    ];
    sendHtml(res, 200, startPage(links));
  });

  app.use('/ui', createWebUi(deps));
  app.use(routes.router);
  app.use((req) => {
    throw notFound(`no route ${req.method} ${req.path}`);
  });
  app.use(errorHandler(deps.logger));
  return app;
}
