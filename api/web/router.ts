import type { Client } from '@temporalio/client';
import { Router, type NextFunction, type Request, type Response } from 'express';
import { z } from 'zod';
import { viewerTimeZone } from '../../domain/time-zones';
import { CHANGE_STATES } from '../../domain/change-request';
import { PURCHASE_STATES } from '../../domain/procurement';
import { ASSET_STATES } from '../../domain/asset-lifecycle';
import { describeApprovalSubjects } from '../../model/approval-subjects';
import { approvalsOf, countOpenApprovals, findDecisionOf, openApprovalsOf } from '../../model/approvals';
import { isDemoPerson, listApproverChoices, listCostCentres, listDemoPeople } from '../../model/directory';
import { PROCESS_SORTS, findProcess, listProcesses, processDashboard } from '../../model/processes';
import type { ApprovalTimingSettings, OidcSettings } from '../../platform/config';
import type { ProcessStateWatcher } from '../../platform/process-state-watcher';
import type { Database } from '../../platform/database';
import type { Logger } from '../../platform/logger';
import { decideApproval } from '../approval-decisions';
import { deleteExpiredWebSessions, deleteWebSession, insertWebSession } from '../../model/web-sessions';
import type { RateLimits } from '../../platform/rate-limits';
import { secretMatches } from '../../platform/secrets';
import { OVERSEERS, clientOf, hasAnyRole, maySeeRequest, noteKeyUse, principalByApiKey, principalById, webSessionOf, type Principal, type Role, type WebSignedIn } from '../auth';
import { toHttpError } from '../errors';
import { listProcessesQuery, processFiltersFor } from '../routes/processes';
import {
  PRE_SESSION_COOKIE,
  PRE_SESSION_TTL_MS,
  SESSION_COOKIE,
  SESSION_TTL_MS,
  deriveSessionKeys,
  localPath,
  newPreSession,
  newSession,
  parseCookies,
  setCookieHeader,
  verifyPreSession,
} from './session';
import {
  dashboardPage,
  errorPage,
  homeFor,
  inboxPage,
  isOverseer,
  myRequestsPage,
  processDetailPage,
  processesPage,
  queryString,
  signInPage,
  signOutPage,
  type DemoPerson,
  type InboxItem,
  type ListFormValues,
  type NavItem,
  type Notice,
  type ViewContext,
} from './views';
import { sendHtml, type SafeHtml } from './html';
import { API_KEY_PAGE_ROUTES, registerApiKeyPages } from './api-key-pages';
import { PEOPLE_PAGE_ROUTES, registerPeoplePages } from './people-pages';
import { MASTER_DATA_PAGE_ROUTES, registerMasterDataPages } from './master-data-pages';
import { IMPORT_PAGE_ROUTES, checksOwnCsrf, registerImportPages } from './import-pages';
import { AUDIT_PAGE_ROUTES, registerAuditPages } from './audit-pages';
import { CONFIGURATION_PAGE_ROUTES, registerConfigurationPages } from './configuration-pages';
import { PROCESS_SETTINGS_PAGE_ROUTES, registerProcessSettingsPages } from './process-settings-pages';
import { SINGLE_SIGN_ON_ROUTES, registerSingleSignOn } from './single-sign-on';
import { CHANGE_PAGE_ROUTES, registerChangePages } from './change-pages';
import { PURCHASE_PAGE_ROUTES, registerPurchasePages } from './purchase-pages';
import { ASSET_PAGE_ROUTES, registerAssetPages } from './asset-pages';
import { CI_PAGE_ROUTES, registerCiPages } from './ci-pages';
import { PROCESS_OWNER_PAGE_ROUTES, processOwnerControls, registerProcessOwnerPages } from './process-owner-pages';
import { processPageInput } from './process-page';
import { PROFILE_PAGE_ROUTES, registerProfilePages } from './profile-pages';
import { INVENTORY_PAGE_ROUTES, inventoryChecksOwnCsrf, registerInventoryPages } from './inventory-pages';
import { STEWARD_PAGE_ROUTES, registerStewardPages } from './steward-pages';
import { LICENCE_PAGE_ROUTES, registerLicencePages } from './licence-pages';
import { COST_IMPORT_PAGE_ROUTES, costImportChecksOwnCsrf, registerCostImportPages } from './cost-import-pages';
import { ALLOCATION_PAGE_ROUTES, registerAllocationPages } from './allocation-pages';
import { FINOPS_PAGE_ROUTES, registerFinopsPages } from './finops-pages';
import { FINDING_PAGE_ROUTES, registerFindingPages } from './findings-pages';
import { COBIT_PAGE_ROUTES, registerCobitPages } from './cobit-pages';

export interface WebUiDeps {
  db: Database;
  temporal: Client;
  /** Deactivating a person hands their approvals over through a workflow on this queue. */
  taskQueue: string;
  logger: Logger;
  approvalLinkSecret: string;
  /** The dev mail sink runs: the navigation links /dev/mail. */
  mailboxDir?: string;
  /** The embedded demo runs: people whose key is the public demo key can be picked without typing it. */
  demoSignIn?: boolean;
  /** An https public URL makes the cookies Secure even behind a proxy that speaks http to us. */
  publicUrl?: string;
  /** Failed sign-ins count against the same per-address limit as failed API keys. */
  rateLimits: RateLimits;
  /** The environment's reminder days, in force until someone saves others (model/process-settings.ts). */
  reminders: { warrantyDaysBefore: number; leaseDaysBefore: number };
  /** Single sign-on with an OpenID Connect provider: the sign-in page offers it (api/web/single-sign-on.ts). */
  oidc?: OidcSettings;
  /** The organisation's time zone, for people without one of their own. */
  timeZone?: string;
  /** Requests submitted from the web UI start their workflows as the API's do, and wait as long for them to register. */
  processStates: ProcessStateWatcher;
  approvalTimings: ApprovalTimingSettings;
  /** How long a purchase request's licence reuse offer waits for the requester. */
  reuseOfferTimeoutMs: number;
  /** Most bytes a cloud cost file may have (COST_IMPORT_MAX_BYTES). */
  costImportMaxBytes?: number;
}

type SignedIn = WebSignedIn;

const uuid = z.uuid();
const isUuid = (value: unknown): value is string => typeof value === 'string' && uuid.safeParse(value).success;
const INBOX_PAGE = 50;

/** The states a process can be in, for the list's filter (changes, purchases, assets). */
const STATES = [...new Set<string>([...CHANGE_STATES, ...PURCHASE_STATES, ...ASSET_STATES])];

/** Who may open a web UI page: anyone (signing in), anyone signed in, or holders of one of these roles. */
export type WebAccess = 'public' | 'signed_in' | readonly Role[];

export interface WebRoute {
  method: 'get' | 'post';
  path: string;
  access: WebAccess;
}

/**
 * What the router gives the parts of the web UI that add pages of their own (people and groups,
 * API keys, single sign-on): the deps, the page context of a signed-in request, and sessions.
 */
export interface WebKit {
  deps: WebUiDeps;
  /** The signed-in page context (header, CSRF token, inbox count); only after the session check. */
  context(res: Response, current: NavItem): Promise<ViewContext>;
  /** The signed-in person of a request that passed the session check. */
  signedInOf(res: Response): SignedIn;
  /** Whether cookies are sent Secure for this request. */
  secure(req: Request): boolean;
  /** The sign-in page with a fresh pre-session, and a notice. */
  renderSignIn(req: Request, res: Response, status: number, next: string, notice?: Notice): Promise<void>;
  /** Starts a server-side session for this person and sends the browser on (after sign-in). */
  startSession(req: Request, res: Response, user: Principal, via: 'api_key' | 'demo' | 'oidc', next: string): Promise<void>;
}

/**
 * Every route of the web UI with who may use it, for test/authorisation-matrix.test.ts, which
 * also checks that the routes mounted are exactly these. Without a session a page sends the
 * browser to sign in (303); a page for other roles answers 403.
 */
export const WEB_UI_ROUTES: readonly WebRoute[] = [
  { method: 'get', path: '/sign-in', access: 'public' },
  ...SINGLE_SIGN_ON_ROUTES,
  { method: 'post', path: '/sign-in', access: 'public' },
  { method: 'post', path: '/sign-out', access: 'signed_in' },
  { method: 'get', path: '/sign-out', access: 'signed_in' },
  { method: 'get', path: '/', access: OVERSEERS },
  { method: 'get', path: '/processes', access: 'signed_in' },
  { method: 'get', path: '/processes/:workflowId', access: 'signed_in' },
  { method: 'get', path: '/inbox', access: 'signed_in' },
  { method: 'post', path: '/inbox/:approvalId', access: 'signed_in' },
  { method: 'get', path: '/my-requests', access: 'signed_in' },
  ...PEOPLE_PAGE_ROUTES,
  ...API_KEY_PAGE_ROUTES,
  ...IMPORT_PAGE_ROUTES,
  ...MASTER_DATA_PAGE_ROUTES,
  ...AUDIT_PAGE_ROUTES,
  ...CONFIGURATION_PAGE_ROUTES,
  ...PROCESS_SETTINGS_PAGE_ROUTES,
  ...CHANGE_PAGE_ROUTES,
  ...PURCHASE_PAGE_ROUTES,
  ...ASSET_PAGE_ROUTES,
  ...CI_PAGE_ROUTES,
  ...PROCESS_OWNER_PAGE_ROUTES,
  ...PROFILE_PAGE_ROUTES,
  ...INVENTORY_PAGE_ROUTES,
  ...STEWARD_PAGE_ROUTES,
  ...LICENCE_PAGE_ROUTES,
  ...COST_IMPORT_PAGE_ROUTES,
  ...ALLOCATION_PAGE_ROUTES,
  ...FINOPS_PAGE_ROUTES,
  ...FINDING_PAGE_ROUTES,
  ...COBIT_PAGE_ROUTES,
];

/** The first string value of a query parameter (the "simple" query parser may give arrays). */
function str(value: unknown): string | undefined {
  const first = Array.isArray(value) ? value[0] : value;
  return typeof first === 'string' ? first : undefined;
}

/** After sign-in: the page asked for, except the dashboard for someone it is not for. */
const landing = (next: string, user: Principal) => (!next || (next === '/ui' && !isOverseer(user)) ? homeFor(user) : next);

/**
 * The web UI under /ui: server-rendered pages on the same model and rules as the JSON API,
 * signed in with a server-side session (the cookie carries its random id), every POST form
 * protected by the session's CSRF token.
 */
export function createWebUi(deps: WebUiDeps): Router {
  const { db, temporal } = deps;
  const keys = deriveSessionKeys(deps.approvalLinkSecret);
  const router = Router();
  const secure = (req: Request) => req.secure || (deps.publicUrl?.startsWith('https:') ?? false);

  const html = (res: Response, status: number, body: SafeHtml) => sendHtml(res, status, body);

  const signedIn = (req: Request): Promise<SignedIn | undefined> => webSessionOf(db, req);

  async function context(res: Response, current: NavItem): Promise<ViewContext> {
    const { user, session } = res.locals.web as SignedIn;
    const inboxCount = await countOpenApprovals(db, user.id);
    const ctx: ViewContext = {
      user, csrf: session.csrf, mailbox: !!deps.mailboxDir && hasAnyRole(user, ['admin']), current, inboxCount, now: Date.now(),
      timeZone: viewerTimeZone(user.timeZone, deps.timeZone),
    };
    res.locals.ctx = ctx;
    return ctx;
  }

  async function demoPeople(): Promise<DemoPerson[] | undefined> {
    return deps.demoSignIn ? listDemoPeople(db) : undefined;
  }

  async function renderSignIn(req: Request, res: Response, status: number, next: string, notice?: Notice) {
    const pre = newPreSession(keys);
    res.append('Set-Cookie', setCookieHeader(PRE_SESSION_COOKIE, pre.cookie, { secure: secure(req), path: '/ui', maxAgeMs: PRE_SESSION_TTL_MS }));
    const singleSignOn = deps.oidc && { providerName: deps.oidc.providerName };
    html(res, status, signInPage({ token: pre.token, next, notice, demoPeople: await demoPeople(), singleSignOn }));
  }

  async function startSession(req: Request, res: Response, user: Principal, via: 'api_key' | 'demo' | 'oidc', next: string): Promise<void> {
    const session = newSession();
    await deleteExpiredWebSessions(db);
    // A key's session names the key (principalByApiKey's apiKeyId): revoking it, or its expiry, ends the session.
    await insertWebSession(db, { idHash: session.idHash, personId: user.id, csrf: session.csrf, expiresAt: session.expiresAt, signedInVia: via, apiKeyId: user.apiKeyId });
    res.append('Set-Cookie', setCookieHeader(SESSION_COOKIE, session.id, { secure: secure(req), maxAgeMs: SESSION_TTL_MS }));
    res.append('Set-Cookie', setCookieHeader(PRE_SESSION_COOKIE, '', { secure: secure(req), path: '/ui', maxAgeMs: 0 }));
    res.redirect(303, landing(next, user));
  }

  const kit: WebKit = {
    deps,
    context,
    signedInOf: (res) => res.locals.web as SignedIn,
    secure,
    renderSignIn,
    startSession,
  };

  // --- signing in and out -------------------------------------------------------------------

  router.get('/sign-in', async (req, res) => {
    const next = localPath(str(req.query.next), '');
    const current = await signedIn(req);
    if (current) {
      res.redirect(303, landing(next, current.user));
      return;
    }
    await renderSignIn(req, res, 200, next);
  });

  router.post('/sign-in', async (req, res) => {
    const body = (req.body ?? {}) as Record<string, unknown>;
    const next = localPath(str(body.next), '');
    if (!verifyPreSession(keys, parseCookies(req.headers.cookie)[PRE_SESSION_COOKIE], body.csrf)) {
      await renderSignIn(req, res, 403, next, {
        kind: 'error',
        text: 'This sign-in form expired or was not sent from this site, so nothing happened. Please sign in again.',
      });
      return;
    }
    const apiKey = str(body.apiKey)?.trim();
    const personId = str(body.personId);
    let user: Principal | undefined;
    if (apiKey) {
      // Only the limit's own verdict is a 429; a failure of its store (Postgres down) goes to the error handler (503).
      const verdict = await deps.rateLimits.authFailures.check(clientOf(req));
      if (!verdict.allowed) {
        res.set('Retry-After', String(verdict.retryAfterSeconds));
        await renderSignIn(req, res, 429, next, { kind: 'error', text: `Too many failed sign-ins from your address: try again in ${verdict.retryAfterSeconds} seconds.` });
        return;
      }
      user = await principalByApiKey(db, apiKey);
      if (!user) await deps.rateLimits.authFailures.take(clientOf(req));
      else await noteKeyUse(db, user).catch((error: unknown) => deps.logger.warn({ err: error }, 'could not record the last use of an API key'));
    } else if (personId && deps.demoSignIn && isUuid(personId)) {
      user = (await isDemoPerson(db, personId)) ? await principalById(db, personId) : undefined;
    } else if (personId) {
      await renderSignIn(req, res, 403, next, { kind: 'error', text: 'Signing in without an API key is only possible while the embedded demo runs.' });
      return;
    }
    if (!user) {
      await renderSignIn(req, res, 401, next, {
        kind: 'error',
        text: apiKey
          ? 'That API key is not valid, or its person is no longer active.'
          : personId ? 'That person is not one of the demo people; sign in with your API key.' : 'Enter your API key.',
      });
      return;
    }
    await startSession(req, res, user, apiKey ? 'api_key' : 'demo', next);
  });

  registerSingleSignOn(router, kit);

  // Everything below needs a session.
  router.use(async (req, res, next) => {
    const current = await signedIn(req);
    if (!current) {
      if (parseCookies(req.headers.cookie)[SESSION_COOKIE]) {
        res.append('Set-Cookie', setCookieHeader(SESSION_COOKIE, '', { secure: secure(req), maxAgeMs: 0 }));
      }
      res.redirect(303, `/ui/sign-in${queryString({ next: req.method === 'GET' ? req.originalUrl : undefined })}`);
      return;
    }
    res.locals.web = current;
    next();
  });

  // Every POST carries the session's CSRF token, or it changes nothing.
  router.use(async (req, res, next) => {
    // A multipart upload's token is a field of its stream: its page checks it before it reads the file.
    if (req.method !== 'POST' || checksOwnCsrf(req) || inventoryChecksOwnCsrf(req) || costImportChecksOwnCsrf(req)) {
      next();
      return;
    }
    const { session } = res.locals.web as SignedIn;
    if (!secretMatches(session.csrf, (req.body as Record<string, unknown> | undefined)?.csrf)) {
      html(res, 403, errorPage(await context(res, 'none'), 'Nothing was changed',
        'This form was not sent from a page of this session (it is stale, or came from another site). Nothing was changed; open the page again and retry.'));
      return;
    }
    next();
  });

  router.post('/sign-out', async (req, res) => {
    await deleteWebSession(db, (res.locals.web as SignedIn).idHash);
    res.append('Set-Cookie', setCookieHeader(SESSION_COOKIE, '', { secure: secure(req), maxAgeMs: 0 }));
    res.redirect(303, '/ui/sign-in');
  });

  router.get('/sign-out', async (_req, res) => {
    html(res, 200, signOutPage(await context(res, 'none')));
  });

  // --- pages ---------------------------------------------------------------------------------

  router.get('/', async (_req, res) => {
    const ctx = await context(res, 'dashboard');
    if (!isOverseer(ctx.user)) {
      html(res, 403, errorPage(ctx, 'Not for your role', 'The dashboard is for process owners, asset managers and admins.', [
        ['/ui/inbox', 'Your approvals'],
        ['/ui/my-requests', 'Your requests'],
      ]));
      return;
    }
    html(res, 200, dashboardPage(ctx, await processDashboard(db, 8)));
  });

  router.get('/processes', async (req, res) => {
    const ctx = await context(res, 'processes');
    const values: ListFormValues = {};
    for (const key of ['type', 'state', 'waitingFor', 'slaBreached', 'needsAttention', 'open', 'costCentre', 'q', 'sort', 'limit'] as const) {
      const value = str(req.query[key])?.trim();
      if (value) values[key] = value;
    }
    const offset = str(req.query.offset);
    const overseer = isOverseer(ctx.user);
    const [approvers, costCentres] = await Promise.all([
      overseer ? listApproverChoices(db) : [],
      listCostCentres(db),
    ]);
    const options = { states: STATES, approvers, costCentres, sorts: PROCESS_SORTS };
    const parsed = listProcessesQuery.safeParse({
      ...values,
      waitingFor: values.waitingFor === 'me' ? ctx.user.id : values.waitingFor,
      offset: offset || undefined,
    });
    if (!parsed.success) {
      const text = parsed.error.issues.map((i) => `${i.path.join('.') || 'filter'}: ${i.message}`).join('; ');
      html(res, 400, processesPage(ctx, { values, options, notice: { kind: 'error', text: `Check the filters: ${text}` } }));
      return;
    }
    let filters;
    try {
      filters = await processFiltersFor(db, ctx.user, parsed.data);
    } catch (error) {
      const known = toHttpError(error);
      if (!known) throw error;
      html(res, known.status, processesPage(ctx, { values, options, notice: { kind: 'error', text: known.message } }));
      return;
    }
    const result = await listProcesses(db, filters, parsed.data);
    html(res, 200, processesPage(ctx, { values, options, result }));
  });

  router.get('/processes/:workflowId', async (req, res) => {
    const ctx = await context(res, 'processes');
    const workflowId = String(req.params.workflowId);
    const process = workflowId.length <= 100 ? await findProcess(db, workflowId) : undefined;
    if (!process) {
      html(res, 404, errorPage(ctx, 'Not found', `There is no process ${workflowId}.`, [['/ui/processes', 'All processes you may see']]));
      return;
    }
    const approvals = await approvalsOf(db, process.subjectId);
    const approverIds = approvals.map((a) => a.approver.id);
    if (!(await maySeeRequest(db, ctx.user, { subjectId: process.subjectId, requesterId: process.requester?.id ?? null }, approverIds))) {
      html(res, 403, errorPage(ctx, 'Not yours to see', 'You can see the processes you requested or must decide.', [['/ui/my-requests', 'Your requests']]));
      return;
    }
    html(res, 200, processDetailPage(ctx, {
      ...(await processPageInput(db, ctx, process, approvals)), ...(await processOwnerControls(db, ctx, process, approvals, req.query)),
    }));
  });

  async function renderInbox(req: Request, res: Response, status: number, notice?: Notice) {
    const ctx = await context(res, 'inbox');
    const approvals = await openApprovalsOf(db, ctx.user.id, INBOX_PAGE);
    const subjects = await describeApprovalSubjects(db, approvals.map((a) => ({ type: a.subjectType, id: a.subjectId })), ctx.timeZone);
    const items: InboxItem[] = approvals.flatMap(({ subjectType: _type, subjectId: _id, ...approval }, i) => {
      const subject = subjects[i];
      return subject ? [{ ...approval, subject }] : [];
    });
    const decidedId = str(req.query.decided);
    if (!notice && isUuid(decidedId)) {
      const decided = await findDecisionOf(db, decidedId, ctx.user.id);
      if (decided) {
        const step = ({ pending: 'The step waits for other approvers.', approved: 'The step is approved.', rejected: 'The step is rejected.' } as Record<string, string>)[str(req.query.step) ?? ''] ?? '';
        notice = {
          kind: 'ok',
          text: `You ${decided.state} ${decided.number}${decided.comment ? ` with the comment "${decided.comment}"` : ''}. ${step}`.trim(),
        };
      }
    }
    html(res, status, inboxPage(ctx, { items, total: ctx.inboxCount, notice }));
  }

  router.get('/inbox', async (req, res) => {
    await renderInbox(req, res, 200);
  });

  const decisionForm = z.object({
    decision: z.enum(['approved', 'rejected']),
    comment: z.string().trim().max(2000).optional(),
  });

  router.post('/inbox/:approvalId', async (req, res) => {
    const approvalId = String(req.params.approvalId);
    if (!isUuid(approvalId)) {
      await renderInbox(req, res, 404, { kind: 'error', text: 'There is no such approval; nothing was changed.' });
      return;
    }
    const form = decisionForm.safeParse(req.body ?? {});
    if (!form.success) {
      await renderInbox(req, res, 400, { kind: 'error', text: 'Choose Approve or Reject (a comment has at most 2000 characters); nothing was changed.' });
      return;
    }
    const { user } = res.locals.web as SignedIn;
    try {
      const outcome = await decideApproval(db, temporal, {
        approvalId,
        actorId: user.id,
        decision: form.data.decision,
        comment: form.data.comment || undefined,
        via: 'api',
      });
      res.redirect(303, `/ui/inbox${queryString({ decided: approvalId, step: outcome.stepOutcome })}`);
    } catch (error) {
      const known = toHttpError(error);
      // A step that failed for good may have changed something: that is the error page's to say.
      if (!known || known.status === 500) throw error;
      await renderInbox(req, res, known.status, { kind: 'error', text: `Nothing was changed: ${known.message}` });
    }
  });

  router.get('/my-requests', async (req, res) => {
    const ctx = await context(res, 'my-requests');
    const open = str(req.query.open);
    const page = z.object({
      limit: z.coerce.number().int().min(1).max(200).catch(50),
      offset: z.coerce.number().int().min(0).catch(0),
    }).parse({ limit: str(req.query.limit) ?? 50, offset: str(req.query.offset) ?? 0 });
    const result = await listProcesses(
      db,
      { requesterId: ctx.user.id, open: open === 'true' ? true : open === 'false' ? false : undefined },
      { ...page, sort: 'newest' },
    );
    html(res, 200, myRequestsPage(ctx, { result, open: open === 'true' || open === 'false' ? open : undefined }));
  });

  registerPeoplePages(router, kit);
  registerApiKeyPages(router, kit);
  // Imports before master data: /ui/imports/new is not a list of master data.
  registerImportPages(router, kit);
  registerMasterDataPages(router, kit);
  registerAuditPages(router, kit);
  registerConfigurationPages(router, kit);
  registerProcessSettingsPages(router, kit);
  registerChangePages(router, kit);
  registerPurchasePages(router, kit);
  registerAssetPages(router, kit);
  registerCiPages(router, kit);
  registerProcessOwnerPages(router, kit);
  registerProfilePages(router, kit);
  registerInventoryPages(router, kit);
  registerStewardPages(router, kit);
  registerLicencePages(router, kit);
  registerCostImportPages(router, kit);
  registerAllocationPages(router, kit);
  registerFinopsPages(router, kit);
  registerFindingPages(router, kit);
  registerCobitPages(router, kit);

  router.use(async (req: Request, res: Response) => {
    html(res, 404, errorPage(res.locals.ctx ?? (res.locals.web ? await context(res, 'none') : undefined), 'Not found', `There is no page ${req.originalUrl}.`, [['/ui', 'Start page']]));
  });

  router.use((error: unknown, req: Request, res: Response, _next: NextFunction) => {
    const known = toHttpError(error);
    if (!known || known.status === 500) deps.logger.error({ err: error, method: req.method, path: req.path }, 'web ui request failed');
    if (res.headersSent) return;
    if (known?.retryAfterSeconds !== undefined) res.set('Retry-After', String(Math.ceil(known.retryAfterSeconds)));
    html(res, known?.status ?? 500, errorPage(res.locals.ctx as ViewContext | undefined,
      known && known.status < 500 ? 'Something is wrong with this request' : 'Something went wrong',
      known?.message ?? 'Something went wrong on our side; it has been logged. Please try again.'));
  });

  return router;
}
