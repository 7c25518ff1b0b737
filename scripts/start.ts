import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import exitHook from 'async-exit-hook';
import { submitDemoRequests } from '../demo/requests';
import { loadDemoData } from '../demo/seed';
import { loadOrCreateLinkSecret } from '../platform/approval-links';
import { loadConfig } from '../platform/config';
import { createDatabase, migrateToLatest } from '../platform/database';
import { startEmbeddedPostgres } from '../platform/embedded-postgres';
import { createLogger } from '../platform/logger';
import { MailSink } from '../platform/mail-sink';
import { ensureTemporalCli } from '../platform/temporal-cli';
import { startTemporalDevServer } from '../platform/temporal-dev-server';
import { connectClient, describeFailure, ensureSearchAttributes, retryTransient } from '../platform/temporal';
import { SEARCH_ATTRIBUTE_KEYS } from '../workflows/search-attributes';
import { hasActiveAdmin } from '../model/people';
import { effectiveReminderLeadTimes } from '../model/process-settings';
import { CREATE_ADMIN_COMMAND } from './admin';
import { startLifecycleWorkflows } from './start-lifecycle-workflows';

type Stop = () => Promise<unknown>;

/** How long a child process (API, worker) gets to stop after SIGTERM. */
const CHILD_STOP_MS = 4_000;

const step = (text: string) => process.stdout.write(`• ${text}\n`);

/**
 * Everything on one machine with no configuration: Postgres, Temporal, an SMTP sink, a worker
 * and the API. Each shared component is started here only when no address for it is given.
 */
async function main(): Promise<void> {
  const config = loadConfig();
  const logger = createLogger(config.LOG_LEVEL === 'info' ? 'warn' : config.LOG_LEVEL, 'start');
  const stops: Stop[] = [];
  const children: ChildProcess[] = [];
  let stopping = false;
  let childrenStopped!: () => void;
  const afterChildren = new Promise<void>((resolve) => {
    childrenStopped = resolve;
  });

  const shutdown = async () => {
    if (stopping) return;
    stopping = true;
    step('stopping ...');
    await Promise.all(children.map((child) => new Promise<void>((resolve) => {
      if (child.exitCode !== null) return resolve();
      // The API and the worker stop within seconds of SIGTERM; one that does not is killed.
      const kill = setTimeout(() => child.kill('SIGKILL'), CHILD_STOP_MS);
      child.once('exit', () => {
        clearTimeout(kill);
        resolve();
      });
      child.kill('SIGTERM');
    })));
    childrenStopped();
    for (const stop of stops.reverse()) await stop().catch((error) => logger.warn({ err: error }, 'stop failed'));
    step('stopped');
  };
  // embedded-postgres stops its cluster through async-exit-hook on SIGINT/SIGTERM and then exits
  // the process; registering with the same hook lets the rest stop too before that exit.
  exitHook.forceExitTimeout(30_000);
  exitHook((done) => void shutdown().finally(done));

  try {
    let databaseUrl = config.DATABASE_URL;
    if (!databaseUrl) {
      step(`starting embedded Postgres (data in ${path.join(config.dataDir, 'postgres')}) ...`);
      const postgres = await startEmbeddedPostgres({
        dataDir: path.join(config.dataDir, 'postgres'),
        port: config.EMBEDDED_POSTGRES_PORT,
        database: 'assetflow',
        logger,
        stopsAfter: afterChildren,
      });
      stops.push(postgres.stop);
      databaseUrl = postgres.connectionString;
    }
    const db = createDatabase(databaseUrl, 4);
    stops.push(() => db.destroy());
    const applied = await migrateToLatest(db);
    step(applied.length ? `applied ${applied.length} migrations` : 'database schema is up to date');
    const demo = config.loadDemoData ? await loadDemoData(db, (line) => step(line), undefined, { publicKeys: config.demoKeys }) : undefined;
    if (demo) step(demo.loaded ? 'demo data loaded' : 'demo data already present');

    let temporalAddress = config.TEMPORAL_ADDRESS;
    let temporalUiUrl = config.TEMPORAL_UI_URL;
    if (!temporalAddress) {
      const cliPath = ensureTemporalCli(config.TEMPORAL_CLI, step);
      step(`starting Temporal dev server (history in ${path.join(config.dataDir, 'temporal', 'temporal.db')}) ...`);
      const server = await startTemporalDevServer({
        cliPath,
        dataDir: path.join(config.dataDir, 'temporal'),
        port: config.TEMPORAL_DEV_SERVER_PORT,
        uiPort: config.TEMPORAL_UI_PORT,
        namespace: config.TEMPORAL_NAMESPACE,
        searchAttributes: SEARCH_ATTRIBUTE_KEYS,
        logger,
      });
      stops.push(server.stop);
      temporalAddress = server.address;
      temporalUiUrl ??= server.uiUrl;
    }
    // A namespace just created may not be visible yet, and a server just started may not answer yet:
    // those are tried again (bounded), saying what failed.
    const retry = { onRetry: (failure: string, attempt: number) => step(`Temporal not ready (try ${attempt}): ${failure}`) };
    const client = await connectClient(temporalAddress, config.TEMPORAL_NAMESPACE, retry);
    stops.push(() => client.connection.close());
    await retryTransient('registering search attributes', () => ensureSearchAttributes(client, SEARCH_ATTRIBUTE_KEYS), retry);

    let smtpUrl = config.SMTP_URL;
    let mailboxDir: string | undefined;
    if (!smtpUrl) {
      const sink = new MailSink(config.mailboxDir);
      await sink.start(config.SMTP_SINK_PORT);
      stops.push(() => sink.stop());
      smtpUrl = sink.url;
      mailboxDir = config.mailboxDir;
      step(`SMTP sink listening on ${sink.url}`);
    }

    const childEnv = {
      ...process.env,
      DATABASE_URL: databaseUrl,
      TEMPORAL_ADDRESS: temporalAddress,
      SMTP_URL: smtpUrl,
      APPROVAL_LINK_SECRET: config.APPROVAL_LINK_SECRET ?? loadOrCreateLinkSecret(config.dataDir),
      LOG_LEVEL: process.env.LOG_LEVEL ?? 'warn',
      ...(temporalUiUrl ? { TEMPORAL_UI_URL: temporalUiUrl } : {}),
      ...(mailboxDir ? { MAILBOX_DIR: mailboxDir } : {}),
      // The children see DATABASE_URL, so they would not infer the demo: tell them whether the public demo keys are
      // there (the web UI offers the pick-a-demo-person sign-in only with them).
      DEMO_PUBLIC_KEYS: config.demoKeys ? 'true' : 'false',
    };
    for (const role of ['worker', 'api']) {
      const child = spawn(process.execPath, [path.join(__dirname, `${role}.js`)], { env: childEnv, stdio: 'inherit' });
      child.once('exit', (code, signal) => {
        if (stopping) return;
        console.error(`the ${role} process ended (${signal ?? `exit code ${code}`}); stopping everything`);
        void shutdown().finally(() => process.exit(1));
      });
      children.push(child);
    }

    const settings = {
      taskQueue: config.TEMPORAL_TASK_QUEUE,
      // The reminder days saved in the web UI or API win over the environment's.
      reminders: await effectiveReminderLeadTimes(db, { warrantyDaysBefore: config.WARRANTY_REMINDER_DAYS, leaseDaysBefore: config.LEASE_REMINDER_DAYS }),
    };
    const started = await startLifecycleWorkflows(db, client, settings, (done, total) =>
      process.stdout.write(`\r• lifecycle workflows: ${done}/${total}`),
    );
    process.stdout.write(started ? '\n' : '');

    await waitForApi(config.publicUrl);
    if (demo?.loaded && demo.people.length) {
      const numbers = await submitDemoRequests(db, config.publicUrl, demo.people);
      step(`demo: ${numbers.join(', ')} submitted; their approval emails are in the mail sink`);
    }
    const workerMetricsUrl = config.WORKER_METRICS_PORT > 0 ? `http://${config.HOST === '0.0.0.0' ? 'localhost' : config.HOST}:${config.WORKER_METRICS_PORT}/metrics` : undefined;
    printWelcome({ apiUrl: config.publicUrl, workerMetricsUrl, temporalAddress, temporalUiUrl, mailboxPage: mailboxDir && `${config.publicUrl}/dev/mail`, smtpUrl, people: demo?.people ?? [] });
    if (!demo?.people.length && !(await hasActiveAdmin(db))) printFirstAdmin({ databaseUrlGiven: config.DATABASE_URL !== undefined });
  } catch (error) {
    console.error(`could not start: ${describeFailure(error)}`);
    await shutdown();
    process.exit(1);
  }
}

async function waitForApi(url: string): Promise<void> {
  for (let attempt = 0; attempt < 120; attempt++) {
    try {
      const res = await fetch(`${url}/healthz`);
      if (res.ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  throw new Error(`the API did not become healthy at ${url}/healthz`);
}

function printWelcome(info: {
  apiUrl: string;
  workerMetricsUrl?: string;
  temporalAddress: string;
  temporalUiUrl?: string;
  mailboxPage?: string;
  smtpUrl: string;
  people: { name: string; email: string; roles: string[]; apiKey: string }[];
}): void {
  const lines = [
    '',
    'assetflow is running. Ctrl-C stops everything; the data stays for the next start.',
    '',
    `  API            ${info.apiUrl}`,
    `  Web UI         ${info.apiUrl}/ui`,
    `  API docs       ${info.apiUrl}/docs`,
    `  Health         ${info.apiUrl}/healthz`,
    `  Metrics        ${info.apiUrl}/metrics${info.workerMetricsUrl ? `   (worker: ${info.workerMetricsUrl})` : ''}`,
    `  Temporal       ${info.temporalAddress}${info.temporalUiUrl ? `   (UI: ${info.temporalUiUrl})` : ''}`,
    info.mailboxPage ? `  Mail (sink)    ${info.mailboxPage}   (signed-in admins only)` : `  Mail           sent through ${info.smtpUrl.replace(/\/\/[^@/]*@/, '//***@')}`,
  ];
  if (info.people.length) {
    const rank = (p: { roles: string[] }) => ['admin', 'process_owner', 'asset_manager', 'approver'].findIndex((r) => p.roles.includes(r));
    const overseers = info.people.filter((p) => rank(p) >= 0 && rank(p) < 3);
    const shown = [
      ...overseers,
      ...info.people.filter((p) => rank(p) === 3).slice(0, 2),
      ...info.people.filter((p) => rank(p) === -1).slice(0, 2),
    ];
    const emailWidth = Math.max(...shown.map((p) => p.email.length));
    const keyWidth = Math.max(...shown.map((p) => p.apiKey.length));
    lines.push('', '  Demo users (send the key as "Authorization: Bearer <key>"):');
    for (const person of shown) lines.push(`    ${person.email.padEnd(emailWidth)}  ${person.apiKey.padEnd(keyWidth)}  ${person.roles.join(', ')}`);
    lines.push(`    ... and ${info.people.length - shown.length} more: every demo key is af_demo_<first>_<last>`);
    const manager = shown.find((p) => p.roles.includes('asset_manager'));
    if (manager) lines.push('', '  Try:', `    curl -H "Authorization: Bearer ${manager.apiKey}" "${info.apiUrl}/assets?state=in_use&limit=5"`);
  }
  console.log(lines.join('\n'));
}

/** An empty install: nobody can sign in until someone creates the first administrator. */
function printFirstAdmin(info: { databaseUrlGiven: boolean }): void {
  console.log([
    '',
    '  No administrator yet: nobody can sign in. Create the first one (their API key is printed once):',
    '',
    `    ${CREATE_ADMIN_COMMAND}`,
    '',
    info.databaseUrlGiven
      ? '  Run it with the same DATABASE_URL as this start. The administrator then adds people and groups (web UI: People).'
      : '  Run it in this folder with the same DATA_DIR and EMBEDDED_POSTGRES_PORT. The administrator then adds people and groups (web UI: People).',
  ].join('\n'));
}

void main();
