import type { Client } from '@temporalio/client';
import express, { type Express } from 'express';
import type { Knex } from 'knex';
import { pinoHttp } from 'pino-http';
import type { Registry } from 'prom-client';
import swaggerUi from 'swagger-ui-express';
import { httpLogSerializers, type Logger } from '../platform/logger';
import type { ProcessStateWatcher } from '../platform/process-state-watcher';
import type { ApprovalTimingSettings, OidcSettings, RateLimitSettings } from '../platform/config';
import { createRateLimits } from '../platform/rate-limits';
import type { ReminderSettings } from '../workflows/asset-lifecycle/contract';
import { browserRedirects } from './browser-redirects';
import { errorHandler, notFound } from './errors';
import { createApiMetrics, labelRoute } from './metrics';
import { registerApprovalRoutes } from './routes/approvals';
import { registerAssetRoutes } from './routes/assets';
import { registerCatalogueRoutes } from './routes/catalogue';
import { registerMasterDataRoutes } from './routes/master-data';
import { registerApprovalRuleRoutes } from './routes/approval-rules';
import { registerImportRoutes } from './routes/imports';
import { registerInventoryRoutes } from './routes/inventory';
import { registerReconciliationCaseRoutes } from './routes/reconciliation-cases';
import { registerProcessSettingsRoutes } from './routes/process-settings';
import { registerAuditRoutes } from './routes/audit';
import { registerChangeRoutes } from './routes/changes';
import { devMailboxPage, registerDevMailboxRoutes } from './routes/dev-mailbox';
import { registerApiKeyRoutes } from './routes/api-keys';
import { registerDirectoryRoutes } from './routes/directory';
import { registerLicenceRoutes } from './routes/licences';
import { registerPeopleRoutes } from './routes/people';
import { registerPersonDeactivationRoutes } from './routes/person-deactivation';
import { registerSingleSignOnRoutes } from './routes/single-sign-on';
import { registerHealthRoutes } from './routes/health';
import { registerMetricsRoutes } from './routes/metrics';
import { registerProcessRoutes } from './routes/processes';
import { registerPurchaseRoutes } from './routes/purchases';
import { registerCostImportRoutes } from './routes/cost-imports';
import { registerCostAllocationRoutes } from './routes/cost-allocation';
import { registerBudgetRoutes } from './routes/budgets';
import { registerFindingRoutes } from './routes/findings';
import { registerRenewalDecisionRoutes } from './routes/renewal-decisions';
import { registerCobitRoutes } from './routes/cobit';
import { RouteRegistry, type DeclaredRoute } from './routes-registry';
import { DOCS_CSP, securityHeaders, sendHtml } from './web/html';
import { WEB_UI_ROUTES, createWebUi, type WebAccess } from './web/router';
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
  /** Attempts per client address (failed credentials, link decisions): the config's RATE_LIMIT_*. */
  rateLimits: RateLimitSettings;
  /** Express's "trust proxy": set behind a load balancer so that rate limits count the client, not the balancer. */
  trustProxy?: string;
  /** A bearer token that may read GET /metrics without a person's key (METRICS_TOKEN). */
  metricsToken?: string;
  /** Single sign-on for the web UI with an OpenID Connect provider (the config's OIDC_*); none when unset. */
  oidc?: OidcSettings;
  /** The organisation's time zone (TIME_ZONE) for people without one of their own; UTC when not given. */
  timeZone?: string;
  /** Most bytes a cloud cost file may have (COST_IMPORT_MAX_BYTES); api/cost-import-intake.ts's default when not given. */
  costImportMaxBytes?: number;
}

/**
 * Who may call what, for every route the app mounts: the route registry's declarations, the web
 * UI's pages (under /ui) and the pages outside both, which are open. test/authorisation-matrix.test.ts
 * calls each as every role and checks the app mounts nothing else.
 */
export interface AccessTable {
  api: readonly DeclaredRoute[];
  web: readonly { method: 'get' | 'post'; path: string; access: WebAccess }[];
  /** `use`: a mounted handler (Swagger UI) answering every method under the path. */
  pages: readonly { method: 'get' | 'use'; path: string }[];
}

export const accessTableOf = (app: Express): AccessTable => app.locals.accessTable as AccessTable;

export function createApp(deps: AppDeps): Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('query parser', 'simple');
  if (deps.trustProxy) app.set('trust proxy', /^\d+$/.test(deps.trustProxy) ? Number(deps.trustProxy) : deps.trustProxy);
  app.use(securityHeaders());
  const rateLimits = createRateLimits(deps.db, deps.rateLimits);
  const metrics = createApiMetrics({ db: deps.db, logger: deps.logger, registry: deps.metricsRegistry });
  app.use(metrics.httpMiddleware);
  app.use(pinoHttp({ logger: deps.logger, serializers: httpLogSerializers, autoLogging: { ignore: (req) => req.url === '/healthz' || req.url === '/metrics' } }));
  app.use(express.json({ limit: '256kb' }));
  app.use(express.urlencoded({ extended: false, limit: '64kb' }));

  const routes = new RouteRegistry(deps.db, rateLimits);
  registerHealthRoutes(routes, deps.db, deps.temporal);
  registerMetricsRoutes(routes, metrics.registry, deps.metricsToken);
  // Before the routes that read the same lists: /assets/export is not an asset.
  registerMasterDataRoutes(routes, deps.db, deps.temporal);
  registerApprovalRuleRoutes(routes, deps);
  registerImportRoutes(routes, deps);
  registerInventoryRoutes(routes, deps);
  registerReconciliationCaseRoutes(routes, deps);
  registerProcessSettingsRoutes(routes, deps);
  registerAuditRoutes(routes, deps.db);
  registerAssetRoutes(routes, deps);
  registerChangeRoutes(routes, deps);
  registerPurchaseRoutes(routes, deps);
  registerProcessRoutes(routes, deps);
  registerApprovalRoutes(routes, deps);
  registerDirectoryRoutes(routes, deps.db);
  registerLicenceRoutes(routes, deps);
  registerCostImportRoutes(routes, deps);
  registerCostAllocationRoutes(routes, deps);
  registerBudgetRoutes(routes, deps);
  registerFindingRoutes(routes, deps);
  registerRenewalDecisionRoutes(routes, deps);
  registerCobitRoutes(routes, deps);
  registerCatalogueRoutes(routes, deps.db);
  registerPeopleRoutes(routes, deps);
  registerPersonDeactivationRoutes(routes, deps);
  registerApiKeyRoutes(routes, deps);
  registerSingleSignOnRoutes(routes, deps);
  if (deps.mailboxDir) registerDevMailboxRoutes(routes, deps.mailboxDir);

  const openApi = routes.openApiDocument({
    title: 'assetflow API',
    version: '0.1.0',
    description: 'IT asset management workflows on Temporal. Authenticate with "Authorization: Bearer <API key>".',
  });
  app.get('/openapi.json', (_req, res) => {
    res.json(openApi);
  });
  // Tags start folded: the API has more operations than Swagger UI renders unfolded at once (about 130).
  app.use('/docs', labelRoute('/docs'), securityHeaders(DOCS_CSP), swaggerUi.serve, swaggerUi.setup(openApi, { customSiteTitle: 'assetflow API', swaggerOptions: { docExpansion: 'none' } }));
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

  app.use('/ui', createWebUi({ ...deps, rateLimits }));
  const accessTable: AccessTable = {
    api: routes.routes,
    web: [
      ...WEB_UI_ROUTES.map((route) => ({ ...route, path: `/ui${route.path === '/' ? '' : route.path}` })),
      // A page of the web UI's kind (session or an admin's key), mounted beside it.
      ...(deps.mailboxDir ? [{ method: 'get' as const, path: '/dev/mail', access: ['admin'] as const }] : []),
    ],
    pages: [{ method: 'get', path: '/' }, { method: 'get', path: '/openapi.json' }, { method: 'use', path: '/docs' }],
  };
  app.locals.accessTable = accessTable;
  if (deps.mailboxDir) app.use(devMailboxPage({ db: deps.db, mailboxDir: deps.mailboxDir, authFailures: rateLimits.authFailures, timeZone: deps.timeZone }));
  // Before the API's routes: a browser following an old emailed API link gets the page, not a JSON 401.
  app.use(browserRedirects());
  app.use(routes.router);
  app.use((req) => {
    throw notFound(`no route ${req.method} ${req.path}`);
  });
  app.use(errorHandler(deps.logger));
  return app;
}
