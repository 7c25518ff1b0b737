import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import { createServer, type Server } from 'node:http';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { bundleWorkflowCode, DefaultLogger, Runtime, type Worker } from '@temporalio/worker';
import { createActivities } from '../../activities';
import { EmailDispatcher } from '../../activities/email-dispatcher';
import type { Express } from 'express';
import { createApp, type AppDeps } from '../../api/app';
import { stopServing } from '../../api/serve';
import { createDatabase, type Database } from '../../platform/database';
import { ProcessStateWatcher, type WaitLimits } from '../../platform/process-state-watcher';
import { createLogger, type Logger } from '../../platform/logger';
import { MailSink } from '../../platform/mail-sink';
import { createMailer, type Mailer } from '../../platform/mailer';
import { createMetricsRegistry } from '../../platform/metrics';
import { searchAttributeRegistrations } from '../../platform/temporal';
import { createWorker, workflowsPath } from '../../workers/worker';
import { loadConfig, type ApprovalTimingSettings, type OidcSettings } from '../../platform/config';
import type { EmailRetryPolicy } from '../../domain/email-delivery';
import type { Registry } from 'prom-client';
import type { ReminderSettings } from '../../workflows/asset-lifecycle/contract';
import { SEARCH_ATTRIBUTE_KEYS } from '../../workflows/search-attributes';
import { createTestDatabase, type TestDatabase } from './database';
import { createCi, createPerson, createVendor, type TestPerson } from './fixtures';
import { startDevServer, startTimeSkippingServer } from './temporal';

export interface Stack {
  database: TestDatabase;
  env: TestWorkflowEnvironment;
  sink: MailSink;
  taskQueue: string;
  reminders: ReminderSettings;
  approvalLinkSecret: string;
  baseUrl: string;
  securityNoticeEmail: string;
  /** The in-process worker's metrics (activity attempts and failures), kept across worker restarts. */
  workerMetrics: Registry;
  /** Starts an in-process worker on the stack's task queue (already running unless `worker: false`). */
  startWorker(): Promise<void>;
  stopWorker(): Promise<void>;
  stop(): Promise<void>;
}

let bundle: Promise<{ code: string }> | undefined;

/** Bundles the workflows once per test file (about a second), not once per test. */
export function workflowBundle(): Promise<{ code: string }> {
  bundle ??= bundleWorkflowCode({ workflowsPath, logger: new DefaultLogger('WARN') });
  return bundle;
}

let runtimeInstalled = false;

/**
 * The real thing, per test file: a fresh Postgres database, a Temporal server, an SMTP sink,
 * a worker with the real activities, and the API on a free port.
 */
/** Long enough that no reminder fires during a test that does not ask for one. */
const HOUR = 3_600_000;
export const RELAXED_APPROVAL_TIMINGS: ApprovalTimingSettings = {
  normal: { reminderAfterMs: 24 * HOUR, escalationAfterMs: 48 * HOUR, deadlineMs: 72 * HOUR },
  emergency: { reminderAfterMs: 1 * HOUR, escalationAfterMs: 2 * HOUR, deadlineMs: 4 * HOUR },
};

/** The API's own defaults (RATE_LIMIT_*), read from the config as the API reads them; a test that counts to a limit passes its own. */
export const CONFIG_RATE_LIMITS = loadConfig({}).rateLimits;

export async function startStack(
  options: {
    timeSkipping?: boolean;
    worker?: boolean;
    reminders?: ReminderSettings;
    approvalTimings?: ApprovalTimingSettings;
    reuseOfferTimeoutMs?: number;
    /** Let the web UI's sign-in page offer the demo people (those holding the public af_demo_<login> key). */
    demoSignIn?: boolean;
    /** How the worker's email dispatcher retries a message SMTP did not take. */
    emailRetry?: EmailRetryPolicy;
    /** The sink keeps its messages in a folder and the API shows them at /dev/mail, as in the embedded demo. */
    mailbox?: boolean;
    /** The API's logger (silent, or TEST_LOG_LEVEL, without it). */
    logger?: Logger;
    /** How long the worker lets a step that ran out of retries wait before trying it again (default 5 minutes). */
    stalledStepRetryMs?: number;
    /** Single sign-on for the web UI; its redirect URL must name the `server`'s port. */
    oidc?: OidcSettings;
    /** A server listening already (reserveServers), for settings that must name the API's URL before it starts. */
    server?: Server;
    /** The organisation's time zone (TIME_ZONE) for the API's pages and the worker's emails; UTC when not given. */
    timeZone?: string;
  } = {},
): Promise<Stack> {
  if (!runtimeInstalled) {
    Runtime.install({ logger: new DefaultLogger('WARN') });
    runtimeInstalled = true;
  }
  const reminders = options.reminders ?? { warrantyDaysBefore: 30, leaseDaysBefore: 30 };
  const taskQueue = `test-${randomBytes(4).toString('hex')}`;
  const securityNoticeEmail = 'security@assetflow.test';
  const approvalLinkSecret = randomBytes(32).toString('base64url');
  const [database, env, code] = await Promise.all([
    createTestDatabase(),
    options.timeSkipping ? startTimeSkippingServer() : startDevServer(),
    workflowBundle(),
  ]);
  if (options.timeSkipping) {
    // The time-skipping server cannot list search attributes, but it can register them.
    await env.client.connection.operatorService.addSearchAttributes({
      namespace: 'default',
      searchAttributes: searchAttributeRegistrations(SEARCH_ATTRIBUTE_KEYS),
    });
  }
  const mailboxDir = options.mailbox ? fs.mkdtempSync(path.join(os.tmpdir(), 'assetflow-mailbox-')) : undefined;
  const sink = new MailSink(mailboxDir);
  await sink.start(0);
  const mailer: Mailer = createMailer(sink.url, 'assetflow <assetflow@assetflow.test>');
  const logger = options.logger ?? createLogger(process.env.TEST_LOG_LEVEL ?? 'silent', 'test');

  const processStates = new ProcessStateWatcher(database.url);
  const app = createApp({
    db: database.db,
    temporal: env.client,
    processStates,
    logger,
    taskQueue,
    reminders,
    approvalLinkSecret,
    approvalTimings: options.approvalTimings ?? RELAXED_APPROVAL_TIMINGS,
    reuseOfferTimeoutMs: options.reuseOfferTimeoutMs ?? 24 * HOUR,
    rateLimits: CONFIG_RATE_LIMITS,
    demoSignIn: options.demoSignIn,
    mailboxDir,
    oidc: options.oidc,
    timeZone: options.timeZone,
  });
  const server = await serve(app, options.server);
  const baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  let worker: Worker | undefined;
  let running: Promise<void> | undefined;
  let emails: EmailDispatcher | undefined;
  const workerMetrics = createMetricsRegistry();
  const stack: Stack = {
    database,
    env,
    sink,
    taskQueue,
    reminders,
    approvalLinkSecret,
    baseUrl,
    securityNoticeEmail,
    workerMetrics,
    async startWorker() {
      worker = await createWorker({
        connection: env.nativeConnection,
        namespace: 'default',
        taskQueue,
        activities: createActivities({
          db: database.db,
          publicUrl: baseUrl,
          securityNoticeEmail,
          timeZone: options.timeZone,
          temporal: env.client,
          lifecycle: { taskQueue, reminders },
          stalledStepRetryMs: options.stalledStepRetryMs,
          approvalTimings: (options.approvalTimings ?? RELAXED_APPROVAL_TIMINGS).normal,
        }),
        workflows: { workflowBundle: code },
        metrics: workerMetrics,
      });
      running = worker.run();
      // As in a worker process: the worker's email dispatcher sends what the activities queue.
      emails = new EmailDispatcher({ db: database.db, databaseUrl: database.url, mailer, logger, publicUrl: baseUrl, approvalLinkSecret, retry: options.emailRetry });
      emails.start();
    },
    async stopWorker() {
      if (!worker) return;
      worker.shutdown();
      await running;
      await emails?.stop();
      worker = undefined;
    },
    async stop() {
      await new Promise((resolve) => server.close(resolve));
      await processStates.close();
      await stack.stopWorker();
      mailer.close();
      await sink.stop();
      await env.teardown();
      await database.drop();
      if (mailboxDir) fs.rmSync(mailboxDir, { recursive: true, force: true });
    },
  };
  if (options.worker !== false) await stack.startWorker();
  return stack;
}

/**
 * Servers listening on free ports of 127.0.0.1 with nothing answering yet: their URLs are known (and
 * their ports held) before the app that will answer is made. A port picked and then let go could be
 * taken meanwhile by another test file's server.
 */
export async function reserveServers(count: number): Promise<Server[]> {
  return Promise.all(Array.from({ length: count }, () => new Promise<Server>((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve(server));
  })));
}

export const urlOf = (server: Server) => `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

/** The app answering on a reserved server, or on a new one on a free port. */
async function serve(app: Express, reserved?: Server): Promise<Server> {
  if (reserved) {
    reserved.on('request', app);
    return reserved;
  }
  return new Promise((resolve) => {
    const server = app.listen(0, '127.0.0.1', () => resolve(server));
  });
}

/** A stack with a requester, a vendor and a CI: enough to submit changes and purchase requests of one's own. */
export async function startRequesterStack(
  requesterName: string,
  vendorName: string,
): Promise<{ stack: Stack; requester: TestPerson; vendorId: string; ciId: string }> {
  const stack = await startStack();
  const db = stack.database.db;
  const requester = await createPerson(db, ['requester'], requesterName);
  const vendorId = await createVendor(db, vendorName);
  const ciId = (await createCi(db)).id;
  return { stack, requester, vendorId, ciId };
}

/** An API started by startExtraApi. */
export interface ExtraApi {
  app: Express;
  server: Server;
  baseUrl: string;
  db: Database;
  processStates: ProcessStateWatcher;
  /** Stops it as the API stops (stopServing, 100 ms grace), and closes the pool it opened itself. */
  stop(): Promise<void>;
}

export interface ExtraApiOptions extends Partial<Omit<AppDeps, 'processStates'>> {
  /** The Postgres its process-state watcher listens on, and its own pool connects to when no `db` is given: the stack's by default. */
  databaseUrl?: string;
  /** Connections of its own pool, when no `db` is given (a given `db` stays the caller's to close). */
  poolSize?: number;
  waitLimits?: Partial<WaitLimits>;
  /** A server listening already (reserveServers), for settings that name its URL before it starts (single sign-on's redirect URL). */
  server?: Server;
}

/**
 * Another API process on the stack's database and Temporal, on a free port: its own connection
 * pool and process-state watcher, the stack's settings (relaxed approval timings, the config's
 * rate limits, a silent logger) but for `overrides`.
 */
export async function startExtraApi(stack: Stack, { databaseUrl = stack.database.url, poolSize = 3, waitLimits, server: reserved, ...overrides }: ExtraApiOptions = {}): Promise<ExtraApi> {
  const ownsDb = !overrides.db;
  const db = overrides.db ?? createDatabase(databaseUrl, poolSize);
  const processStates = new ProcessStateWatcher(databaseUrl, waitLimits);
  const app = createApp({
    temporal: stack.env.client,
    logger: createLogger('silent', 'test'),
    taskQueue: stack.taskQueue,
    reminders: stack.reminders,
    approvalLinkSecret: stack.approvalLinkSecret,
    approvalTimings: RELAXED_APPROVAL_TIMINGS,
    reuseOfferTimeoutMs: HOUR,
    rateLimits: CONFIG_RATE_LIMITS,
    ...overrides,
    db,
    processStates,
  });
  const server = await serve(app, reserved);
  return {
    app,
    server,
    baseUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    db,
    processStates,
    async stop() {
      if (server.listening) await stopServing(server, processStates, 100);
      if (ownsDb) await db.destroy();
    },
  };
}

/** Calls the API as a person holding `apiKey`; answers with the status and the parsed body. */
export async function call(
  stack: Pick<Stack, 'baseUrl'>,
  apiKey: string | undefined,
  method: string,
  path: string,
  body?: unknown,
): Promise<{ status: number; body: any }> {
  const res = await fetch(`${stack.baseUrl}${path}`, {
    method,
    headers: {
      ...(apiKey ? { authorization: `Bearer ${apiKey}` } : {}),
      ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
    },
    body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : undefined };
}

export interface Sent {
  status: number;
  /** The parsed JSON body, when it is JSON. */
  body: any;
  text: string;
  headers: Headers;
}

/**
 * Sends a request as a person holding `apiKey` with any headers (If-Match, Content-Type) and any
 * body: an object is sent as JSON, a string or a stream as it is.
 */
export async function send(
  stack: Pick<Stack, 'baseUrl'>,
  apiKey: string | undefined,
  method: string,
  path: string,
  options: { body?: unknown; headers?: Record<string, string> } = {},
): Promise<Sent> {
  const { body, headers = {} } = options;
  const json = body !== undefined && typeof body !== 'string' && !(body instanceof ReadableStream) && !(body instanceof Uint8Array);
  const res = await fetch(`${stack.baseUrl}${path}`, {
    method,
    headers: { ...(apiKey ? { authorization: `Bearer ${apiKey}` } : {}), ...(json ? { 'content-type': 'application/json' } : {}), ...headers },
    body: json ? JSON.stringify(body) : (body as RequestInit['body']),
    ...(body instanceof ReadableStream ? { duplex: 'half' } : {}),
  } as RequestInit);
  const text = await res.text();
  let parsed: unknown;
  try {
    parsed = text ? JSON.parse(text) : undefined;
  } catch {
    parsed = undefined;
  }
  return { status: res.status, body: parsed, text, headers: res.headers };
}
