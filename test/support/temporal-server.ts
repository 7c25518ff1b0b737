import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { Client, Connection } from '@temporalio/client';
import { msToTs } from '@temporalio/common/lib/time';
import { Client as PgClient } from 'pg';
import { searchAttributeRegistrations } from '../../platform/temporal';
import { SEARCH_ATTRIBUTE_KEYS } from '../../workflows/search-attributes';

export const TEMPORAL_SERVER_VERSION = '1.29.2';
const NAMESPACE = 'default';

/** Where scripts/install-temporal-server.sh builds the server, its SQL tool, schemas and config template. */
export function temporalServerDir(): string {
  return process.env.TEMPORAL_SERVER_DIR ?? path.join(os.homedir(), '.cache', 'assetflow', `temporal-server-${TEMPORAL_SERVER_VERSION}`);
}

export interface TemporalServer {
  address: string;
  namespace: string;
  historyShards: number;
  /** The server's own log (stdout and stderr), for a failure message. */
  logTail(): string;
  stop(): Promise<void>;
}

/** Ports nobody listens on, below 32768: the server stores membership ports in a smallint column. */
async function freePorts(count: number): Promise<number[]> {
  const ports = new Set<number>();
  while (ports.size < count) {
    const port = 20_000 + Math.floor(Math.random() * 12_000);
    if (ports.has(port)) continue;
    const free = await new Promise<boolean>((resolve) => {
      const server = net.createServer();
      server.once('error', () => resolve(false));
      server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
    });
    if (free) ports.add(port);
  }
  return [...ports];
}

/** Replaces `from` in the config template exactly `times` times, so a changed template fails loudly instead of starting a half-edited server. */
function edit(text: string, from: string, to: string, times: number): string {
  const found = text.split(from).length - 1;
  if (found !== times) throw new Error(`Temporal config template: expected ${times}× "${from}", found ${found}`);
  return text.split(from).join(to);
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * The real Temporal server as production runs it: its own process, Postgres persistence and
 * visibility (two fresh databases on the Postgres at `postgresUrl`), several history shards.
 * Built by scripts/install-temporal-server.sh; absent, this throws with the reason.
 */
export async function startTemporalServer(options: { postgresUrl: string; historyShards?: number }): Promise<TemporalServer> {
  const dir = temporalServerDir();
  const server = path.join(dir, 'server');
  const sqlTool = path.join(dir, 'sql');
  const template = path.join(dir, 'config', 'development-postgres12.yaml');
  for (const needed of [server, sqlTool, template]) {
    if (!fs.existsSync(needed)) {
      throw new Error(`no Temporal server build at ${dir} (missing ${path.basename(needed)}): run scripts/install-temporal-server.sh (.ci/run does) or set TEMPORAL_SERVER_DIR`);
    }
  }
  const historyShards = options.historyShards ?? 4;
  const pg = new URL(options.postgresUrl);
  const suffix = randomBytes(4).toString('hex');
  const databases = { temporal: `temporal_${suffix}`, visibility: `temporal_visibility_${suffix}` };
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'assetflow-temporal-server-'));
  const logFile = path.join(root, 'server.log');
  let child: ChildProcess | undefined;

  const dropDatabases = async () => {
    const admin = new PgClient({ connectionString: options.postgresUrl });
    await admin.connect();
    try {
      for (const name of Object.values(databases)) await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    } finally {
      await admin.end();
    }
  };
  const logTail = () => (fs.existsSync(logFile) ? fs.readFileSync(logFile, 'utf8').trim().split('\n').slice(-12).map((line) => line.slice(0, 400)).join('\n') : '');
  const stop = async () => {
    if (child && child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((resolve) => child!.once('exit', resolve));
      child.kill('SIGTERM');
      const timer = setTimeout(() => child!.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(timer);
    }
    await dropDatabases();
    fs.rmSync(root, { recursive: true, force: true });
  };

  try {
    const sql = (database: string, ...args: string[]) =>
      promisify(execFile)(sqlTool, [
        '--plugin', 'postgres12', '--ep', pg.hostname, '-p', pg.port || '5432',
        '-u', decodeURIComponent(pg.username), '--pw', decodeURIComponent(pg.password), '--db', database, ...args,
      ]).catch((error: { stderr?: string; message: string }) => {
        throw new Error(`temporal sql tool ${args[0]} on ${database} failed: ${error.stderr || error.message}`);
      });
    await Promise.all(
      (['temporal', 'visibility'] as const).map(async (schema) => {
        const database = databases[schema];
        await sql(database, 'create-database');
        await sql(database, 'setup-schema', '-v', '0.0');
        await sql(database, 'update-schema', '-d', path.join(dir, 'schema', 'postgresql', 'v12', schema, 'versioned'));
      }),
    );

    const [frontend, frontendHttp, history, matching, worker, ...membership] = await freePorts(10);
    const metricsPort = membership.pop()!;
    let config = fs.readFileSync(template, 'utf8');
    config = edit(config, 'numHistoryShards: 4', `numHistoryShards: ${historyShards}`, 1);
    config = edit(config, 'databaseName: "temporal"', `databaseName: "${databases.temporal}"`, 1);
    config = edit(config, 'databaseName: "temporal_visibility"', `databaseName: "${databases.visibility}"`, 1);
    config = edit(config, 'connectAddr: "127.0.0.1:5432"', `connectAddr: "${pg.hostname}:${pg.port || '5432'}"`, 2);
    config = edit(config, 'user: "temporal"', `user: ${JSON.stringify(decodeURIComponent(pg.username))}`, 2);
    config = edit(config, 'password: "temporal"', `password: ${JSON.stringify(decodeURIComponent(pg.password))}`, 2);
    config = edit(config, 'grpcPort: 7233', `grpcPort: ${frontend}`, 1);
    config = edit(config, 'httpPort: 7243', `httpPort: ${frontendHttp}`, 1);
    config = edit(config, 'grpcPort: 7234', `grpcPort: ${history}`, 1);
    config = edit(config, 'grpcPort: 7235', `grpcPort: ${matching}`, 1);
    config = edit(config, 'grpcPort: 7239', `grpcPort: ${worker}`, 1);
    for (const [i, port] of ['6933', '6934', '6935', '6939'].entries()) config = edit(config, `membershipPort: ${port}`, `membershipPort: ${membership[i]}`, 1);
    config = edit(config, 'rpcAddress: "localhost:7233"', `rpcAddress: "127.0.0.1:${frontend}"`, 1);
    // pprof off: several servers may run on one machine.
    config = edit(config, 'port: 7936', 'port: 0', 1);
    config = edit(config, 'listenAddress: "127.0.0.1:8000"', `listenAddress: "127.0.0.1:${metricsPort}"`, 1);
    config = edit(config, 'filepath: "config/dynamicconfig/development-sql.yaml"', `filepath: "${path.join(root, 'config', 'dynamicconfig.yaml')}"`, 1);
    config = edit(config, 'level: info', 'level: warn', 1);
    fs.mkdirSync(path.join(root, 'config'));
    fs.writeFileSync(path.join(root, 'config', 'development.yaml'), config);
    // A search attribute registered a moment ago must be usable at once, as on the dev server.
    const dynamicConfig = fs.readFileSync(path.join(dir, 'config', 'dynamicconfig', 'development-sql.yaml'), 'utf8')
      + '\nsystem.forceSearchAttributesCacheRefreshOnRead:\n  - value: true\n    constraints: {}\n';
    fs.writeFileSync(path.join(root, 'config', 'dynamicconfig.yaml'), dynamicConfig);

    const log = fs.openSync(logFile, 'a');
    child = spawn(server, ['--root', root, '--config', 'config', '--env', 'development', '--allow-no-auth', 'start'], {
      cwd: root,
      stdio: ['ignore', log, log],
    });
    fs.closeSync(log);
    const address = `127.0.0.1:${frontend}`;
    await prepareNamespace(address, child);
    return { address, namespace: NAMESPACE, historyShards, logTail, stop };
  } catch (error) {
    const tail = logTail();
    await stop().catch(() => undefined);
    throw new Error(`${error instanceof Error ? error.message : error}${tail ? `\n--- Temporal server log (tail) ---\n${tail}` : ''}`);
  }
}

/** Waits for the frontend, creates the namespace with assetflow's search attributes, and waits until a workflow start works in it. */
async function prepareNamespace(address: string, child: ChildProcess): Promise<void> {
  const deadline = Date.now() + 90_000;
  const alive = () => {
    if (child.exitCode !== null || child.signalCode !== null) throw new Error(`the Temporal server exited (${child.exitCode ?? child.signalCode})`);
    if (Date.now() > deadline) throw new Error('the Temporal server did not accept a workflow start within 90 s');
  };
  let connection: Connection | undefined;
  while (!connection) {
    alive();
    try {
      const candidate = await Connection.connect({ address, connectTimeout: 2_000 });
      await candidate.workflowService.getSystemInfo({});
      connection = candidate;
    } catch {
      await sleep(250);
    }
  }
  try {
    for (;;) {
      alive();
      try {
        await connection.workflowService.registerNamespace({ namespace: NAMESPACE, workflowExecutionRetentionPeriod: msToTs('1d') });
        break;
      } catch (error) {
        if ((error as { code?: number }).code === 6 /* ALREADY_EXISTS */) break;
        await sleep(500);
      }
    }
    for (;;) {
      alive();
      try {
        await connection.operatorService.addSearchAttributes({ namespace: NAMESPACE, searchAttributes: searchAttributeRegistrations(SEARCH_ATTRIBUTE_KEYS) });
        break;
      } catch (error) {
        if ((error as { code?: number }).code === 6) break;
        await sleep(500);
      }
    }
    // A new namespace reaches every service a few seconds after it is created; until then starts fail.
    const client = new Client({ connection, namespace: NAMESPACE });
    for (;;) {
      alive();
      try {
        const handle = await client.workflow.start('namespaceReadinessProbe', { taskQueue: `probe-${randomBytes(4).toString('hex')}`, workflowId: `probe-${randomBytes(4).toString('hex')}` });
        await handle.terminate('the namespace is ready');
        return;
      } catch {
        await sleep(500);
      }
    }
  } finally {
    await connection.close();
  }
}
