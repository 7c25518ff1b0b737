import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Knex } from 'knex';
import { Client } from 'pg';
import { loadDemoData } from '../demo/seed';
import { assessChangeImpact, CHANGE_IMPACT_SQL, DEFAULT_IMPACT_DEPTH } from '../model/change-impact';
import { createDatabase, migrateToLatest } from '../platform/database';
import { startEmbeddedPostgres } from '../platform/embedded-postgres';
import { createLogger } from '../platform/logger';
import { createRandom, generateEstate } from './generate-estate';

/**
 * Times assessChangeImpact on the demo data and on synthetic estates, each in a fresh database:
 *
 *   npm run build && node dist/scripts/measure-impact.js [--sizes 1000,10000,100000] [--runs 30] [--explain]
 *
 * MEASURE_DATABASE_URL names a server to create the databases on (any database of it, as a user
 * who may create databases); without it an embedded Postgres is started in a temporary folder.
 * Each run is a new change request whose affected CIs are drawn at random: one to three servers,
 * or one shared hub (core network device, storage array, shared load balancer: the worst case).
 */

export interface Pools {
  requesterId: string;
  servers: string[];
  hubs: string[];
}

export interface Sample {
  ms: number;
  cisReached: number;
}

export const percentile = (sorted: number[], p: number) => sorted[Math.max(0, Math.ceil(p * sorted.length) - 1)];

function summary(samples: Sample[]): string {
  const ms = samples.map((s) => s.ms).sort((a, b) => a - b);
  const reached = samples.map((s) => s.cisReached).sort((a, b) => a - b);
  return `median ${percentile(ms, 0.5).toFixed(1)} ms, p95 ${percentile(ms, 0.95).toFixed(1)} ms, max ${ms[ms.length - 1].toFixed(1)} ms` +
    ` (CIs reached: median ${percentile(reached, 0.5)}, max ${reached[reached.length - 1]}; n=${samples.length})`;
}

/** The CIs of infrastructure classes with the most dependents: the shared hubs of an estate we did not generate. */
async function busiestInfrastructure(db: Knex, limit: number): Promise<string[]> {
  const { rows } = await db.raw<{ rows: { id: string }[] }>(`
    SELECT c.id FROM configuration_items c JOIN ci_relationships r ON r.to_ci_id = c.id
     WHERE c.ci_class IN ('network_device', 'storage', 'load_balancer', 'server')
     GROUP BY c.id ORDER BY count(*) DESC, c.id LIMIT ?`, [limit]);
  return rows.map((r) => r.id);
}

/** What every assessed change refers to besides its CIs: a cost centre with a budget, spend and schedule windows. */
async function addSurroundings(db: Knex, requesterId: string): Promise<string> {
  const code = `BENCH-${randomBytes(3).toString('hex')}`;
  const [{ id: costCentreId }] = await db('cost_centres').insert({ code, name: 'Benchmark', owner_id: requesterId }).returning('id');
  const month = new Date(Date.UTC(new Date().getUTCFullYear(), new Date().getUTCMonth() + 1, 1));
  await db('budgets').insert({ cost_centre_id: costCentreId, period_start: month.toISOString().slice(0, 10), amount_minor: 50_000_000, currency: 'EUR' });
  await db('schedule_windows').insert([
    { kind: 'maintenance', name: 'Benchmark maintenance', starts_at: new Date(month.getTime() + 20 * 3_600_000).toISOString(), ends_at: new Date(month.getTime() + 30 * 3_600_000).toISOString() },
    { kind: 'blackout', name: 'Benchmark freeze', starts_at: new Date(month.getTime() + 23 * 3_600_000).toISOString(), ends_at: new Date(month.getTime() + 48 * 3_600_000).toISOString() },
  ]);
  return costCentreId;
}

/** Times assessChangeImpact on new changes of each category; returns the samples and a report. */
export async function measure(
  db: Knex, label: string, pools: Pools, runs: number, seed: number, explain: boolean,
): Promise<{ lines: string[]; samples: Record<'servers' | 'hub', Sample[]> }> {
  const costCentreId = await addSurroundings(db, pools.requesterId);
  await db.raw('VACUUM ANALYZE');
  const random = createRandom(seed);
  const month = new Date(Date.UTC(new Date().getUTCFullYear(), new Date().getUTCMonth() + 1, 1));
  const newChange = async (affected: string[]) => {
    const [{ id }] = await db('change_requests')
      .insert({
        type: 'normal', requester_id: pools.requesterId, title: `Benchmark ${label}`, cost_centre_id: costCentreId,
        planned_start: new Date(month.getTime() + 22 * 3_600_000).toISOString(), planned_end: new Date(month.getTime() + 26 * 3_600_000).toISOString(),
        one_off_cost_minor: 100_000, recurring_cost_minor: 5_000,
      })
      .returning('id');
    await db('change_affected_cis').insert([...new Set(affected)].map((ci) => ({ change_request_id: id, ci_id: ci })));
    return id as string;
  };
  const lines: string[] = [];
  const byCategory: Record<'servers' | 'hub', Sample[]> = { servers: [], hub: [] };
  const categories: ['servers' | 'hub', () => string[]][] = [
    ['servers', () => random.sample(pools.servers, random.int(1, 3))],
    ['hub', () => [random.pick(pools.hubs)]],
  ];
  const all: Sample[] = [];
  for (const [category, draw] of categories) {
    // Warm the caches and the connection first, as a running service would be.
    for (let i = 0; i < 3; i++) await assessChangeImpact(db, await newChange(draw()));
    const samples: Sample[] = [];
    for (let i = 0; i < runs; i++) {
      const id = await newChange(draw());
      const started = process.hrtime.bigint();
      const impact = await assessChangeImpact(db, id);
      samples.push({ ms: Number(process.hrtime.bigint() - started) / 1e6, cisReached: impact.services.cisReached });
    }
    all.push(...samples);
    byCategory[category] = samples;
    lines.push(`${label} ${category}: ${summary(samples)}`);
    if (explain && category === 'hub') {
      const id = await newChange(draw());
      const { rows } = await db.raw<{ rows: { 'QUERY PLAN': string }[] }>(`EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) ${CHANGE_IMPACT_SQL}`, [id, DEFAULT_IMPACT_DEPTH]);
      const plan = rows.map((r) => r['QUERY PLAN']);
      const start = plan.findIndex((l) => l.includes('CTE walk'));
      lines.push(`${label} EXPLAIN ANALYZE (hub), the walk and the totals:`, ...plan.slice(start, start + 40).map((l) => `    ${l}`), ...plan.slice(-2).map((l) => `    ${l}`));
    }
  }
  lines.push(`${label} all: ${summary(all)}`);
  return { lines, samples: byCategory };
}

function argument(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

async function main(): Promise<void> {
  const sizes = (argument('sizes') ?? '1000,10000,100000').split(',').map(Number);
  const runs = Number(argument('runs') ?? 30);
  const explain = process.argv.includes('--explain');
  const skipDemo = process.argv.includes('--no-demo');

  let adminUrl = process.env.MEASURE_DATABASE_URL;
  let stop: (() => Promise<void>) | undefined;
  if (!adminUrl) {
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'assetflow-measure-pg-'));
    fs.chmodSync(dataDir, 0o755);
    const postgres = await startEmbeddedPostgres({
      dataDir: path.join(dataDir, 'data'), port: 25432 + Math.floor(Math.random() * 1000), database: 'postgres', logger: createLogger('silent', 'measure'),
    });
    adminUrl = postgres.connectionString;
    stop = async () => {
      await postgres.stop();
      fs.rmSync(dataDir, { recursive: true, force: true });
    };
  }
  const admin = new Client({ connectionString: adminUrl });
  await admin.connect();
  const fresh = async (): Promise<{ db: Knex; drop: () => Promise<void> }> => {
    const name = `assetflow_measure_${randomBytes(4).toString('hex')}`;
    await admin.query(`CREATE DATABASE ${name}`);
    const url = new URL(adminUrl!);
    url.pathname = `/${name}`;
    const db = createDatabase(url.toString(), 2);
    await migrateToLatest(db);
    return { db, drop: async () => { await db.destroy(); await admin.query(`DROP DATABASE ${name} WITH (FORCE)`); } };
  };

  try {
    const { rows: [{ version }] } = await admin.query('SELECT version()');
    console.log(`${version}; ${os.cpus().length} CPUs; maxDepth ${DEFAULT_IMPACT_DEPTH}; ${runs} runs per category`);
    if (!skipDemo) {
      const { db, drop } = await fresh();
      try {
        await loadDemoData(db);
        const requesterId = (await db('people').orderBy('email').first('id')).id;
        const servers: string[] = await db('configuration_items').where({ ci_class: 'server' }).orderBy('number').pluck('id');
        const [{ count }] = await db('configuration_items').count<{ count: number }[]>('* as count');
        console.log(`demo: ${count} CIs`);
        for (const line of (await measure(db, 'demo', { requesterId, servers, hubs: await busiestInfrastructure(db, 5) }, runs, 1, explain)).lines) console.log(line);
      } finally {
        await drop();
      }
    }
    for (const size of sizes) {
      const { db, drop } = await fresh();
      try {
        const estate = await generateEstate(db, { cis: size, seed: 42 });
        console.log(`estate ${size}: ${estate.ciIds.length} CIs, ${estate.relationships} relationships generated in ${(estate.elapsedMs / 1000).toFixed(1)} s`);
        const pools = { requesterId: estate.ownerId, servers: estate.serverIds, hubs: estate.hubIds };
        for (const line of (await measure(db, `estate ${size}`, pools, runs, size, explain)).lines) console.log(line);
      } finally {
        await drop();
      }
    }
  } finally {
    await admin.end();
    await stop?.();
  }
}

if (require.main === module) {
  main().catch((error) => {
    console.error(error);
    process.exit(1);
  });
}
