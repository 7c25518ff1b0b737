import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import { createServer } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import knex from 'knex';
import { migrateToLatest, type Database } from '../../platform/database';
import { createLogger } from '../../platform/logger';
import { MailSink } from '../../platform/mail-sink';
import { projectRoot } from '../../platform/project-root';
import { findTemporalCli } from '../../platform/temporal-cli';
import { startTemporalDevServer, type TemporalDevServerHandle } from '../../platform/temporal-dev-server';
import { SEARCH_ATTRIBUTE_KEYS } from '../../workflows/search-attributes';

/**
 * Everything a fault can be injected into, each owned by this stack alone: its own Postgres (so
 * stopping it disturbs no other test file), a Temporal dev server persisted to a file (so it can
 * stop and come back with its history), an SMTP sink that can go away and return on its port,
 * the API as a child process and a pool of worker processes that can be SIGKILLed. Processes are
 * the built ones (dist/), as production runs them: buildDist() first.
 */

export interface Restartable {
  stop(): Promise<void>;
  start(): Promise<void>;
}

export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Resident memory of a process in bytes (Linux), or undefined once it is gone. */
export function residentBytes(pid: number | undefined): number | undefined {
  if (!pid) return undefined;
  try {
    const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = /VmRSS:\s+(\d+)\s+kB/.exec(status);
    return kb ? Number(kb[1]) * 1024 : undefined;
  } catch {
    return undefined;
  }
}

function exited(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => child.once('exit', () => resolve()));
}

/**
 * Worker processes kept at a wanted number: one that dies on its own (not killed here) is
 * replaced a second later, as a process supervisor would, and counted, so a test can say so.
 */
export class WorkerPool {
  private readonly children = new Set<ChildProcess>();
  private readonly killedHere = new WeakSet<ChildProcess>();
  private wanted = 0;
  /** Workers that exited without being killed here (e.g. gave up while Temporal was away). */
  unexpectedExits = 0;
  kills = 0;

  constructor(private readonly spawnWorker: () => ChildProcess) {}

  get pids(): number[] {
    return [...this.children].map((child) => child.pid!).filter(Boolean);
  }

  /** Keeps `count` workers running from now on. */
  scale(count: number): void {
    this.wanted = count;
    while (this.children.size < this.wanted) this.launch();
  }

  private launch(): void {
    const child = this.spawnWorker();
    this.children.add(child);
    child.once('exit', () => {
      this.children.delete(child);
      if (this.killedHere.has(child) || this.children.size >= this.wanted) return;
      this.unexpectedExits++;
      setTimeout(() => {
        if (this.children.size < this.wanted) this.launch();
      }, 1000).unref();
    });
  }

  /** SIGKILLs every worker and keeps none running until scale() is called again. */
  async killAll(): Promise<number[]> {
    this.wanted = 0;
    const victims = [...this.children];
    await Promise.all(victims.map((child) => this.killChild(child)));
    return victims.map((child) => child.pid!);
  }

  /** SIGKILLs one worker (the oldest) and starts its replacement at once. */
  async killOne(): Promise<number | undefined> {
    const [victim] = this.children;
    if (!victim) return undefined;
    await this.killChild(victim);
    while (this.children.size < this.wanted) this.launch();
    return victim.pid;
  }

  private async killChild(child: ChildProcess): Promise<void> {
    this.killedHere.add(child);
    this.kills++;
    const gone = exited(child);
    child.kill('SIGKILL');
    await gone;
  }
}

interface PostgresProcess {
  connectionString: string;
  stop(): Promise<void>;
}

/** Postgres in a child process (test/support/fault-postgres.ts), so that stopping it is a real stop. */
async function startPostgresProcess(dataDir: string, port: number): Promise<PostgresProcess> {
  const child = spawn(process.execPath, [path.join(projectRoot(), 'dist', 'test', 'support', 'fault-postgres.js'), dataDir, String(port)], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const connectionString = await new Promise<string>((resolve, reject) => {
    let output = '';
    child.stdout!.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      const ready = /ready (\S+)/.exec(output);
      if (ready) resolve(ready[1]);
    });
    child.once('exit', (code) => reject(new Error(`Postgres exited with code ${code} before it was ready`)));
  });
  return {
    connectionString,
    stop: async () => {
      const gone = exited(child);
      child.kill('SIGTERM');
      await gone;
    },
  };
}

export interface FaultStack {
  db: Database;
  databaseUrl: string;
  baseUrl: string;
  /** Where the API's and workers' own output goes. */
  logDir: string;
  temporalAddress: string;
  taskQueue: string;
  approvalLinkSecret: string;
  sink: MailSink;
  postgres: Restartable;
  temporal: Restartable;
  smtp: Restartable;
  workers: WorkerPool;
  api: { readonly pid: number | undefined; readonly exitCode: number | null };
  stop(): Promise<void>;
}

async function waitForHttp(url: string, child: ChildProcess, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`the API process exited with code ${child.exitCode} before answering`);
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(2000) });
      await res.arrayBuffer();
      return;
    } catch {
      if (Date.now() > deadline) throw new Error(`the API did not answer at ${url} within ${timeoutMs} ms`);
      await sleep(200);
    }
  }
}

export async function startFaultStack(options: { workers?: number; logLevel?: string; env?: Record<string, string> } = {}): Promise<FaultStack> {
  const logger = createLogger('silent', 'fault-stack');
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'assetflow-fault-'));
  // As root, Postgres runs as a separate system user that must be able to enter this folder.
  fs.chmodSync(root, 0o755);
  const cliPath = findTemporalCli(process.env.TEMPORAL_CLI);
  if (!cliPath) throw new Error('no Temporal CLI: run scripts/install-temporal-cli.sh or set TEMPORAL_CLI');
  const [pgPort, temporalPort, uiPort, apiPort] = [await freePort(), await freePort(), await freePort(), await freePort()];

  const startPostgres = () => startPostgresProcess(path.join(root, 'postgres'), pgPort);
  const startTemporal = () =>
    startTemporalDevServer({
      cliPath,
      dataDir: path.join(root, 'temporal'),
      port: temporalPort,
      uiPort,
      namespace: 'default',
      searchAttributes: SEARCH_ATTRIBUTE_KEYS,
      logger,
    });
  let pg: PostgresProcess | undefined;
  let temporalServer: TemporalDevServerHandle | undefined;
  [pg, temporalServer] = await Promise.all([startPostgres(), startTemporal()]);
  const databaseUrl = pg.connectionString;
  // The suite's own window on the database: quiet, as its queries are expected to fail while Postgres is away.
  const silent = () => undefined;
  const db: Database = knex({
    client: 'pg',
    connection: { connectionString: databaseUrl, connectionTimeoutMillis: 5_000 },
    pool: { min: 0, max: 4 },
    acquireConnectionTimeout: 5_000,
    log: { warn: silent, error: silent, debug: silent, deprecate: silent },
  });
  await migrateToLatest(db);

  const sink = new MailSink();
  await sink.start(0);
  const smtpPort = sink.port;
  let smtpRunning = true;

  const taskQueue = `fault-${randomBytes(4).toString('hex')}`;
  const approvalLinkSecret = randomBytes(32).toString('base64url');
  const baseUrl = `http://127.0.0.1:${apiPort}`;
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    DATABASE_URL: databaseUrl,
    TEMPORAL_ADDRESS: temporalServer.address,
    TEMPORAL_TASK_QUEUE: taskQueue,
    SMTP_URL: `smtp://127.0.0.1:${smtpPort}`,
    PUBLIC_URL: baseUrl,
    APPROVAL_LINK_SECRET: approvalLinkSecret,
    SECURITY_NOTICE_EMAIL: 'security@assetflow.test',
    LOG_LEVEL: options.logLevel ?? 'error',
    WORKER_METRICS_PORT: '0',
    ...options.env,
  };
  const dist = (script: string) => path.join(projectRoot(), 'dist', 'scripts', script);

  // The processes' own logs (retries, reconnects) would drown the suite's report: they go to files.
  const logDir = path.join(projectRoot(), 'test-artifacts', taskQueue);
  fs.mkdirSync(logDir, { recursive: true });
  const spawnLogged = (name: string, script: string, childEnv: NodeJS.ProcessEnv) => {
    const fd = fs.openSync(path.join(logDir, `${name}.log`), 'a');
    try {
      return spawn(process.execPath, [dist(script)], { env: childEnv, stdio: ['ignore', fd, fd] });
    } finally {
      fs.closeSync(fd);
    }
  };
  const api = spawnLogged('api', 'api.js', { ...env, PORT: String(apiPort), HOST: '127.0.0.1' });
  await waitForHttp(`${baseUrl}/healthz`, api, 60_000);

  let workerCount = 0;
  const workers = new WorkerPool(() =>
    spawnLogged(`worker-${++workerCount}`, 'worker.js', env),
  );
  workers.scale(options.workers ?? 1);

  return {
    db,
    databaseUrl,
    baseUrl,
    logDir,
    temporalAddress: temporalServer.address,
    taskQueue,
    approvalLinkSecret,
    sink,
    workers,
    api: {
      get pid() {
        return api.pid;
      },
      get exitCode() {
        return api.exitCode;
      },
    },
    postgres: {
      async stop() {
        const handle = pg;
        pg = undefined;
        await handle?.stop();
      },
      async start() {
        pg = await startPostgres();
      },
    },
    temporal: {
      async stop() {
        const handle = temporalServer;
        temporalServer = undefined;
        await handle?.stop();
      },
      async start() {
        temporalServer = await startTemporal();
      },
    },
    smtp: {
      async stop() {
        smtpRunning = false;
        // The sink stops listening at once and answers 421 on open connections, but its close
        // waits up to 30 s for pooled client connections to leave: SMTP is away without that wait.
        void sink.stop();
        await sleep(100);
      },
      async start() {
        await sink.start(smtpPort);
        smtpRunning = true;
      },
    },
    async stop() {
      await workers.killAll();
      api.kill('SIGKILL');
      await exited(api);
      if (smtpRunning) await sink.stop();
      await db.destroy();
      await Promise.all([pg?.stop(), temporalServer?.stop()]);
      fs.rmSync(root, { recursive: true, force: true });
    },
  };
}
