import { chmodSync, mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import type { Client } from '@temporalio/client';
import { bundleWorkflowCode, DefaultLogger, Runtime } from '@temporalio/worker';
import autocannon from 'autocannon';
import { Client as PgClient } from 'pg';
import { createActivities } from '../activities';
import { EmailDispatcher } from '../activities/email-dispatcher';
import { createApp } from '../api/app';
import { countOpenApprovals } from '../model/approvals';
import { insertApiKey } from '../model/api-keys';
import { generateApiKey } from '../platform/api-keys';
import { loadConfig } from '../platform/config';
import { createDatabase, migrateToLatest, type Database } from '../platform/database';
import { startEmbeddedPostgres } from '../platform/embedded-postgres';
import { createLogger } from '../platform/logger';
import { MailSink } from '../platform/mail-sink';
import { createMailer } from '../platform/mailer';
import { ProcessStateWatcher } from '../platform/process-state-watcher';
import { projectRoot } from '../platform/project-root';
import { ensureTemporalCli } from '../platform/temporal-cli';
import { startTemporalDevServer } from '../platform/temporal-dev-server';
import { connectClient, connectWorker, ensureSearchAttributes } from '../platform/temporal';
import { measure, percentile } from '../scripts/measure-impact';
import { generateEstate } from '../scripts/generate-estate';
import { createWorker } from '../workers/worker';
import { SEARCH_ATTRIBUTE_KEYS } from '../workflows/search-attributes';
import { generateProcesses } from './synthetic-processes';
import { baselineThroughput, standardChangeThroughput, type ThroughputResult } from './throughput';
import { measureImports, reportImports, type ImportReport } from './imports';
import { measureInventory, reportInventory, type InventoryReport } from './inventory';
import { measureFinops, reportFinops, type FinopsReport } from './finops';
import { measureServiceMap, reportServiceMap, type ServiceMapReport } from './service-map';

/**
 * `npm run bench`: one run on its own embedded Postgres and Temporal dev server measures
 *   1. the engine's limit (no-op workflows with a standard change's activity count) and standard
 *      changes end to end through the HTTP API, at the same concurrency;
 *   2. the impact assessment on synthetic estates of 1,000, 10,000 and 100,000 CIs;
 *   3. the process list and approval inbox under autocannon load against /healthz;
 *   4. worker memory with thousands of changes open, waiting for approval;
 *   5. bulk import of assets from CSV through the API and the import workflow, at 10,000 and 100,000 rows.
 *   6. the impact map of a change on a hub of the 10,000-CI estate in Chromium, against the plain table of the same CIs.
 *   7. discovery batches through POST /inventory/batches against a generated estate of servers and VMs, at two sizes, against the master-data import of as many CIs.
 *   8. cloud bills in FOCUS through POST /cost-imports at 100,000 and 1,000,000 rows against Postgres's COPY of the same file, and the monthly allocation of the largest.
 * Every figure is reported beside the baseline measured in the same run; JSON goes to bench-results/.
 */

const env = (name: string, fallback: number) => Number(process.env[name] ?? fallback);
const SETTINGS = {
  workflows: env('BENCH_WORKFLOWS', 200),
  concurrency: env('BENCH_CONCURRENCY', 10),
  impactSizes: (process.env.BENCH_IMPACT_SIZES ?? '1000,10000,100000').split(',').map(Number),
  impactRuns: env('BENCH_IMPACT_RUNS', 30),
  processes: env('BENCH_PROCESSES', 100_000),
  loadSeconds: env('BENCH_DURATION', 5),
  connections: env('BENCH_CONNECTIONS', 10),
  openChanges: env('BENCH_OPEN_CHANGES', 10_000),
  importSizes: (process.env.BENCH_IMPORT_SIZES ?? '10000,100000').split(',').map(Number),
  importBoundMb: env('BENCH_IMPORT_BOUND_MB', 256),
  mapCis: env('BENCH_MAP_CIS', 10_000),
  mapRuns: env('BENCH_MAP_RUNS', 10),
  inventoryCis: env('BENCH_INVENTORY_CIS', 20_000),
  inventorySizes: (process.env.BENCH_INVENTORY_ROWS ?? '2000,20000').split(',').map(Number),
  inventoryBoundMb: env('BENCH_INVENTORY_BOUND_MB', 256),
  focusSizes: (process.env.BENCH_FOCUS_ROWS ?? '100000,1000000').split(',').map(Number),
  focusResources: env('BENCH_FOCUS_RESOURCES', 20_000),
  focusBoundMb: env('BENCH_FOCUS_BOUND_MB', 512),
  parts: (process.env.BENCH_PARTS ?? 'throughput,impact,api,memory,imports,service-map,inventory,finops').split(',') as Part[],
};

const step = (text: string) => process.stdout.write(`• ${text}\n`);
const progress = (label: string, total: number) => (done: number) => {
  if (done % Math.max(1, Math.floor(total / 20)) === 0 || done === total) process.stdout.write(`\r  ${label}: ${done}/${total}${done === total ? '\n' : ''}`);
};
const round = (n: number, digits = 1) => Number(n.toFixed(digits));

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

interface LoadResult {
  scenario: string;
  path: string;
  requestsPerSecond: number;
  p50Ms: number;
  p99Ms: number;
  failures: number;
}

async function load(baseUrl: string, scenario: string, urlPath: string, apiKey?: string): Promise<LoadResult> {
  const options = { url: `${baseUrl}${urlPath}`, connections: SETTINGS.connections, headers: apiKey ? { authorization: `Bearer ${apiKey}` } : {} };
  await autocannon({ ...options, duration: 1 });
  const result = await autocannon({ ...options, duration: SETTINGS.loadSeconds });
  return { scenario, path: urlPath, requestsPerSecond: Math.round(result.requests.average), p50Ms: result.latency.p50, p99Ms: result.latency.p99, failures: result.errors + result.non2xx };
}

const megabytes = (bytes: number) => round(bytes / 1024 / 1024);

/** What the parts share: the stack main() started and the people and data every part uses. */
interface Bench {
  db: Database;
  postgres: { connectionString: string };
  baseUrl: string;
  temporal: Client;
  taskQueue: string;
  maxCachedWorkflows: number;
  stops: (() => Promise<unknown>)[];
  manager: { id: string; apiKey: string };
  requester: { id: string; apiKey: string };
  implementer: { id: string; apiKey: string };
  changeModelId: string;
  ciId: string;
}

/** 1. Throughput against the engine's own cost. */
async function measureThroughput({ temporal, taskQueue, baseUrl, requester, implementer, changeModelId, ciId }: Bench): Promise<ThroughputReport> {
  const { workflows: n, concurrency } = SETTINGS;
  step(`throughput: ${n} baseline workflows, then ${n} standard changes, ${concurrency} at a time`);
  await baselineThroughput(temporal, taskQueue, concurrency, concurrency, () => undefined);
  const baseline = await baselineThroughput(temporal, taskQueue, n, concurrency, progress('baseline workflows', n));
  const changes = await standardChangeThroughput({ baseUrl, requesterKey: requester.apiKey, implementerKey: implementer.apiKey, changeModelId, ciId }, n, concurrency, progress('standard changes', n));
  return { baseline, standardChanges: changes, ratio: round(changes.perSecond / baseline.perSecond, 3) };
}

/** 2. Impact assessment as the estate grows, each estate in a database of its own. */
async function measureImpact({ postgres, stops }: Bench): Promise<ImpactReport[]> {
  const admin = new PgClient({ connectionString: postgres.connectionString });
  await admin.connect();
  stops.push(() => admin.end());
  const impact: ImpactReport[] = [];
  for (const size of SETTINGS.impactSizes) {
    step(`impact assessment on ${size.toLocaleString('en')} CIs (${SETTINGS.impactRuns} runs per category) ...`);
    const name = `bench_estate_${size}`;
    await admin.query(`CREATE DATABASE ${name}`);
    const url = new URL(postgres.connectionString);
    url.pathname = `/${name}`;
    const estateDb = createDatabase(url.toString(), 2);
    try {
      await migrateToLatest(estateDb);
      const estate = await generateEstate(estateDb, { cis: size, seed: 42 });
      const { samples } = await measure(estateDb, `estate ${size}`, { requesterId: estate.ownerId, servers: estate.serverIds, hubs: estate.hubIds }, SETTINGS.impactRuns, size, false);
      const stats = (list: { ms: number }[]) => {
        const ms = list.map((s) => s.ms).sort((a, b) => a - b);
        return { medianMs: round(percentile(ms, 0.5)), p95Ms: round(percentile(ms, 0.95)) };
      };
      impact.push({ cis: size, typical: stats(samples.servers), hub: { ...stats(samples.hub), maxCisReached: Math.max(...samples.hub.map((s) => s.cisReached)) } });
    } finally {
      await estateDb.destroy();
      await admin.query(`DROP DATABASE ${name} WITH (FORCE)`);
    }
  }
  return impact;
}

/** 3. The API under load on a full process index. */
async function measureApiLoad({ db, baseUrl }: Bench): Promise<ApiReport> {
  step(`${SETTINGS.processes.toLocaleString('en')} synthetic processes for the API load ...`);
  const data = await generateProcesses(db, SETTINGS.processes);
  const indexed = Number((await db('processes').count({ n: '*' }))[0].n);
  // Writing 100,000 rows leaves dirty pages: flush them now rather than during a measurement.
  await db.raw('CHECKPOINT');
  const owner = data.processOwnerKey;
  const approver = data.busyApprover;
  const scenarios: [string, string, string | undefined][] = [
    ['healthz (baseline)', '/healthz', undefined],
    ['process list, newest', '/processes?limit=50', owner],
    ['process list, waiting for an approver', `/processes?waitingFor=${approver.id}&open=true&limit=50`, owner],
    ['process list, changes in authorize by SLA', '/processes?type=change&state=authorize&sort=sla_due&limit=50', owner],
    ['process list, SLA breached', '/processes?slaBreached=true&limit=50', owner],
    ['approval inbox', '/approvals', approver.apiKey],
    ['healthz again (baseline)', '/healthz', undefined],
  ];
  const loads: LoadResult[] = [];
  for (const [scenario, urlPath, key] of scenarios) {
    step(`load: ${scenario} (${SETTINGS.loadSeconds} s, ${SETTINGS.connections} connections) ...`);
    loads.push(await load(baseUrl, scenario, urlPath, key));
  }
  return { processes: indexed, loads };
}

/** 4. Worker memory with changes open, waiting for their approver. */
async function measureWorkerMemory({ db, baseUrl, requester, manager, ciId, maxCachedWorkflows }: Bench): Promise<Record<string, number>> {
  const open = SETTINGS.openChanges;
  step(`worker memory: ${open.toLocaleString('en')} normal changes waiting for approval ...`);
  global.gc?.();
  const before = process.memoryUsage();
  let submitted = 0;
  let accepted = 0;
  const submittedProgress = progress('changes submitted', open);
  const submitOne = async () => {
    while (submitted < open) {
      submitted++;
      const res = await fetch(`${baseUrl}/changes`, {
        method: 'POST',
        headers: { authorization: `Bearer ${requester.apiKey}`, 'content-type': 'application/json' },
        body: JSON.stringify({ type: 'normal', title: 'Benchmark waiting change', affectedCiIds: [ciId] }),
      });
      // 202: accepted, and registered once the worker gets to it (counted below as it opens its approval).
      if (res.status !== 201 && res.status !== 202) throw new Error(`submitting a change answered ${res.status}`);
      await res.arrayBuffer();
      submittedProgress(++accepted);
    }
  };
  const started = Date.now();
  await Promise.all(Array.from({ length: SETTINGS.concurrency }, submitOne));
  const waiting = () => countOpenApprovals(db, manager.id);
  for (let count = await waiting(); count < open; count = await waiting()) {
    process.stdout.write(`\r  waiting for approval: ${count}/${open}`);
    await new Promise((resolve) => setTimeout(resolve, 1000));
  }
  process.stdout.write(`\r  waiting for approval: ${open}/${open}\n`);
  global.gc?.();
  const after = process.memoryUsage();
  return {
    openChanges: open,
    maxCachedWorkflows,
    secondsToOpen: round((Date.now() - started) / 1000),
    rssBeforeMb: megabytes(before.rss),
    rssAfterMb: megabytes(after.rss),
    heapUsedBeforeMb: megabytes(before.heapUsed),
    heapUsedAfterMb: megabytes(after.heapUsed),
    rssPerOpenChangeKb: round((after.rss - before.rss) / open / 1024, 2),
  };
}

/** 5. Bulk import: rows per second, and peak memory under a bound whatever the file size (bench/imports.ts). */
const measureImportPart = ({ db, baseUrl }: Bench) => measureImports(db, baseUrl, { sizes: SETTINGS.importSizes, boundMb: SETTINGS.importBoundMb }, step);

/** 6. The impact map of a change on a hub in Chromium, against the plain table of the same CIs (bench/service-map.ts); last, as it adds an estate and a change waiting for approval. */
const measureServiceMapPart = ({ db, baseUrl, requester }: Bench) => measureServiceMap(db, baseUrl, requester, { cis: SETTINGS.mapCis, runs: SETTINGS.mapRuns }, step);

/** 7. Discovered inventory: batches of each size against the estate, rows per second and peak memory, against master data (bench/inventory.ts). */
const measureInventoryPart = ({ db, baseUrl, maxCachedWorkflows }: Bench) =>
  measureInventory(db, baseUrl, { cis: SETTINGS.inventoryCis, sizes: SETTINGS.inventorySizes, boundMb: SETTINGS.inventoryBoundMb, cachedWorkflows: maxCachedWorkflows }, step);

/** 8. Cloud bills in FOCUS: rows per second and peak memory at each size against COPY, and the month's allocation (bench/finops.ts). */
const measureFinopsPart = ({ db, baseUrl }: Bench) =>
  measureFinops(db, baseUrl, { sizes: SETTINGS.focusSizes, resources: SETTINGS.focusResources, boundMb: SETTINGS.focusBoundMb }, step);

const PARTS = {
  throughput: measureThroughput, impact: measureImpact, api: measureApiLoad, memory: measureWorkerMemory, imports: measureImportPart, 'service-map': measureServiceMapPart,
  inventory: measureInventoryPart, finops: measureFinopsPart,
} as const;
type Part = keyof typeof PARTS;

async function main(): Promise<void> {
  const unknown = SETTINGS.parts.filter((part) => !(part in PARTS));
  if (unknown.length) throw new Error(`BENCH_PARTS: no part ${unknown.join(', ')}; the parts are ${Object.keys(PARTS).join(', ')}`);
  Runtime.install({ logger: new DefaultLogger('ERROR') });
  const logger = createLogger('silent', 'bench');
  const workDir = mkdtempSync(path.join(os.tmpdir(), 'assetflow-bench-'));
  // Run as root, embedded Postgres drops to an unprivileged user that must reach its data folder.
  chmodSync(workDir, 0o755);
  const stops: (() => Promise<unknown>)[] = [];
  const results: Record<string, unknown> = { at: new Date().toISOString(), cpus: os.cpus().length, settings: SETTINGS };
  try {
    step(`embedded Postgres and Temporal dev server (in ${workDir}) ...`);
    const postgres = await startEmbeddedPostgres({ dataDir: path.join(workDir, 'postgres'), port: await freePort(), database: 'bench', logger });
    stops.push(postgres.stop);
    const db = createDatabase(postgres.connectionString, 16);
    stops.push(() => db.destroy());
    await migrateToLatest(db);
    const temporalServer = await startTemporalDevServer({
      cliPath: ensureTemporalCli(undefined, step),
      port: await freePort(),
      uiPort: await freePort(),
      namespace: 'default',
      searchAttributes: SEARCH_ATTRIBUTE_KEYS,
      logger,
    });
    stops.push(temporalServer.stop);
    const temporal = await connectClient(temporalServer.address, 'default');
    stops.push(() => temporal.connection.close());
    await ensureSearchAttributes(temporal, SEARCH_ATTRIBUTE_KEYS);

    const sink = new MailSink(path.join(workDir, 'mailbox'));
    await sink.start(0);
    stops.push(() => sink.stop());
    const mailer = createMailer(sink.url, 'assetflow <bench@assetflow.example>');
    stops.push(async () => mailer.close());

    const taskQueue = 'bench';
    const reminders = { warrantyDaysBefore: 30, leaseDaysBefore: 30 };
    const approvalLinkSecret = 'bench-secret-bench-secret-bench-secret-0123';
    const processStates = new ProcessStateWatcher(postgres.connectionString);
    stops.push(() => processStates.close());
    const app = createApp({
      db, temporal, processStates, logger, taskQueue, reminders, approvalLinkSecret,
      approvalTimings: {
        normal: { reminderAfterMs: 86_400_000, escalationAfterMs: 172_800_000, deadlineMs: 259_200_000 },
        emergency: { reminderAfterMs: 1_800_000, escalationAfterMs: 3_600_000, deadlineMs: 7_200_000 },
      },
      reuseOfferTimeoutMs: 259_200_000,
      rateLimits: loadConfig().rateLimits,
    });
    const server: Server = await new Promise((resolve) => {
      const s = app.listen(0, '127.0.0.1', () => resolve(s));
    });
    stops.push(() => new Promise((resolve) => server.close(resolve)));
    const baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

    // The production worker's setting (WORKER_MAX_CACHED_WORKFLOWS), so the bench measures what runs.
    const { WORKER_MAX_CACHED_WORKFLOWS: maxCachedWorkflows } = loadConfig();
    const connection = await connectWorker(temporalServer.address);
    stops.push(() => connection.close());
    const worker = await createWorker({
      connection,
      namespace: 'default',
      taskQueue,
      activities: Object.assign(
        createActivities({ db, publicUrl: baseUrl, securityNoticeEmail: 'security@bench.example', temporal, lifecycle: { taskQueue, reminders }, approvalTimings: loadConfig().approvalTimings.normal }),
        { doNothing: async () => undefined },
      ),
      workflows: { workflowBundle: await bundleWorkflowCode({ workflowsPath: require.resolve('./workflows'), logger: new DefaultLogger('ERROR') }) },
      tuning: { maxCachedWorkflows },
    });
    const running = worker.run();
    stops.push(async () => {
      worker.shutdown();
      await running;
    });
    const emails = new EmailDispatcher({ db, databaseUrl: postgres.connectionString, mailer, logger, publicUrl: baseUrl, approvalLinkSecret });
    emails.start();
    stops.push(() => emails.stop());

    // People, a change model and a CI nothing depends on: a standard change within its ceiling.
    const person = async (name: string, roles: string[], managerId?: string) => {
      const apiKey = generateApiKey();
      const [{ id }] = await db('people').insert({ name, email: `${name.toLowerCase().replace(/\W+/g, '.')}@bench.example`, manager_id: managerId ?? null }).returning('id');
      await insertApiKey(db, { personId: id, name: 'bench', apiKey, createdBy: 'system:bench' });
      if (roles.length) await db('person_roles').insert(roles.map((role) => ({ person_id: id, role })));
      return { id, apiKey };
    };
    const manager = await person('Bench Manager', ['approver']);
    const requester = await person('Bench Requester', ['requester'], manager.id);
    const implementer = await person('Bench Implementer', ['asset_manager']);
    const [{ id: changeModelId }] = await db('change_models').insert({ name: 'Bench patch', description: 'benchmark', risk_ceiling: 'moderate' }).returning('id');
    const [{ id: ciId }] = await db('configuration_items').insert({ name: 'bench-lab-01', ci_class: 'server' }).returning('id');
    await db('approval_rules').insert({ process: 'change', step_order: 1, name: 'Manager', approver_kind: 'manager', policy: 'any' });

    const bench: Bench = { db, postgres, baseUrl, temporal, taskQueue, maxCachedWorkflows, stops, manager, requester, implementer, changeModelId, ciId };
    for (const part of SETTINGS.parts) results[part] = await PARTS[part](bench);

    report(results as unknown as Report);
    const resultsDir = path.join(projectRoot(), 'bench-results');
    mkdirSync(resultsDir, { recursive: true });
    const file = path.join(resultsDir, `bench-${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
    writeFileSync(file, JSON.stringify(results, null, 2));
    console.log(`\nresults: ${path.relative(process.cwd(), file)}`);
  } catch (error) {
    // Shown before the stack stops: stopping can raise errors of its own that would hide this one.
    console.error(error);
    throw error;
  } finally {
    for (const stop of stops.reverse()) await stop().catch(() => undefined);
    rmSync(workDir, { recursive: true, force: true });
  }
}

interface ThroughputReport { baseline: ThroughputResult; standardChanges: ThroughputResult; ratio: number }
interface ImpactReport { cis: number; typical: { medianMs: number; p95Ms: number }; hub: { medianMs: number; p95Ms: number; maxCisReached: number } }
interface ApiReport { processes: number; loads: LoadResult[] }

interface Report {
  cpus: number;
  throughput?: ThroughputReport;
  impact?: ImpactReport[];
  api?: ApiReport;
  memory?: Record<string, number>;
  imports?: ImportReport;
  'service-map'?: ServiceMapReport;
  inventory?: InventoryReport;
  finops?: FinopsReport;
}

function report(r: Report): void {
  if (r.throughput) {
    const { baseline, standardChanges, ratio } = r.throughput;
    console.log(`\n== Throughput (${r.cpus} CPUs, ${SETTINGS.concurrency} at a time) — target: standard changes >= 50% of the baseline`);
    console.table([
      { run: 'baseline: no-op workflows, 12 activities', completed: baseline.completed, 'per second': round(baseline.perSecond, 2), 'p50 ms': baseline.p50Ms, 'p95 ms': baseline.p95Ms },
      { run: 'standard changes through HTTP', completed: standardChanges.completed, 'per second': round(standardChanges.perSecond, 2), 'p50 ms': standardChanges.p50Ms, 'p95 ms': standardChanges.p95Ms },
    ]);
    console.log(`standard changes / baseline: ${(ratio * 100).toFixed(0)}%`);
  }

  if (r.impact?.length) {
    const first = r.impact[0];
    console.log(`\n== Impact assessment — target: p95 at the largest estate within 3x of the ${first.cis.toLocaleString('en')}-CI figure`);
    console.table(r.impact.map((i) => ({
      CIs: i.cis,
      'typical median ms': i.typical.medianMs,
      'typical p95 ms': i.typical.p95Ms,
      'typical p95 / first': round(i.typical.p95Ms / first.typical.p95Ms, 2),
      'hub median ms': i.hub.medianMs,
      'hub p95 ms': i.hub.p95Ms,
      'hub p95 / first': round(i.hub.p95Ms / first.hub.p95Ms, 2),
      'hub CIs reached (max)': i.hub.maxCisReached,
    })));
  }

  if (r.api) {
    // The baseline is measured first and last; the better of the two makes the ratios strict.
    const health = r.api.loads.filter((l) => l.path === '/healthz').reduce((a, b) => (a.p99Ms <= b.p99Ms ? a : b));
    console.log(`\n== API under load on ${r.api.processes.toLocaleString('en')} processes — target: p99 within 5x of /healthz`);
    console.table(r.api.loads.map((l) => ({
      scenario: l.scenario,
      'req/s': l.requestsPerSecond,
      'p50 ms': l.p50Ms,
      'p99 ms': l.p99Ms,
      'p99 / healthz': round(l.p99Ms / Math.max(health.p99Ms, 1), 2),
      'req/s / healthz': round(l.requestsPerSecond / health.requestsPerSecond, 2),
      failures: l.failures,
    })));
  }

  if (r.memory) {
    console.log('\n== Worker memory with changes waiting for approval (the bench process holds the API and the worker; the API keeps nothing per change)');
    console.table([r.memory]);
  }

  if (r.imports) reportImports(r.imports);
  if (r['service-map']) reportServiceMap(r['service-map']);
  if (r.inventory) reportInventory(r.inventory);
  if (r.finops) reportFinops(r.finops);
}

main().then(
  () => process.exit(0),
  (error) => {
    console.error(error);
    process.exit(1);
  },
);
