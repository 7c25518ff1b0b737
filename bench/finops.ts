/**
 * Part 8 of `npm run bench`: cloud bills in FOCUS. A generated file of each size (100,000 and
 * 1,000,000 rows by default) goes through POST /cost-imports (DuckDB reads it, each row is checked
 * and staged) and the cost import workflow (cloud resources become CIs, tags allocate, records
 * written); rows per second, and the bench process's memory (it holds the API that reads the file
 * and the worker that writes it). Every size is measured from one baseline, taken once after a
 * small warm-up import (so the workflow bundle, the worker's cache and DuckDB's code are loaded
 * before, not charged to the first size) and before the first size: a size's figures include what
 * the sizes before it kept, so memory that grows from size to size shows. The RSS and the V8 heap
 * are both reported above that baseline, at their peak during the import and after a full
 * collection at its end; a size whose peak RSS passes the bound is marked, not thrown. The
 * baseline of speed, measured in the same run on the same file: Postgres's own COPY of it into a
 * plain table, the floor of loading those bytes. Then the monthly allocation of the largest
 * file's month, timed.
 */
import { randomInt } from 'node:crypto';
import { createReadStream, mkdtempSync, rmSync, statSync } from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import type { Knex } from 'knex';
import { from as copyFrom } from 'pg-copy-streams';
import { insertApiKey } from '../model/api-keys';
import { generateApiKey } from '../platform/api-keys';
import { FOCUS_BENCH_COLUMNS, writeFocusFile, type FocusFileTotals } from './focus-file';

export interface FinopsBenchSettings {
  sizes: number[];
  /** Distinct cloud resources per file (each becomes a CI). */
  resources: number;
  /** The peak RSS above the baseline (MB) that no size should pass: a size over it is marked. */
  boundMb: number;
}

/** Memory above the one baseline of the part, in MB. */
interface MemoryAboveBaseline {
  /** The RSS at its highest while the import ran (API, worker, DuckDB's buffers within its memory_limit). */
  peakRssMb: number;
  /** The V8 heap in use at its highest while the import ran, garbage not yet collected included: the Node share of the RSS. */
  peakHeapMb: number;
  /** After the import and a full collection: the RSS (which seldom gives pages back) and the live heap, what the size left behind. */
  rssAfterMb: number;
  liveHeapAfterMb: number;
}

export interface FinopsRun extends MemoryAboveBaseline {
  rows: number;
  fileMb: number;
  state: string;
  /** The upload answered: the file read by DuckDB, checked and staged. */
  stagingSeconds: number;
  /** The workflow wrote the records. */
  applySeconds: number;
  seconds: number;
  rowsPerSecond: number;
  copyRowsPerSecond: number;
  /** The import's rows per second over Postgres's COPY of the same file. */
  ratioToCopy: number;
  /** The peak RSS above the baseline passed boundMb. */
  overBound: boolean;
  /** The import's totals per provider and currency equal the file's, to the last place. */
  totalsMatchFile: boolean;
}

export interface FinopsReport {
  boundMb: number;
  /** Taken once, after the warm-up and before the first size (MB, absolute). */
  baseline: { rssMb: number; heapMb: number };
  warmUp: { rows: number; seconds: number };
  runs: FinopsRun[];
  /** No size's peak RSS above the baseline passed boundMb. */
  boundHeld: boolean;
  /** The largest size's peak RSS over the smallest's: about 1 when memory is bounded. */
  peakRatio: number;
  allocation: { period: string; seconds: number; allocations: number } | null;
}

const round = (n: number, digits = 1) => Number(n.toFixed(digits));
const megabytes = (bytes: number) => round(bytes / 1024 / 1024);
const FINAL = ['completed', 'failed'];
const WARM_UP_ROWS = 5_000;
/** An import may take five minutes plus a second per 500 rows (far below what it does) before the bench gives up on it. */
const importDeadlineMs = (rows: number) => 300_000 + rows * 2;
const ALLOCATION_DEADLINE_MS = 600_000;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * The file sent as a client would, read as the socket drains: node:http's piped request keeps the
 * bench's own side of the upload out of the import's memory figures (sent by fetch with a web-stream
 * body, the same process read the file ahead of the server: 1 GB more at a million rows).
 */
function upload(url: string, apiKey: string, file: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method: 'POST', headers: { authorization: `Bearer ${apiKey}`, 'content-type': 'text/csv' } }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => { body += chunk; });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      res.on('error', reject);
    });
    req.on('error', reject);
    pipeline(createReadStream(file), req).catch(reject);
  });
}

/** Postgres loading the same file with COPY into a plain table of text columns: the floor. */
async function copyBaseline(db: Knex, file: string, rows: number): Promise<number> {
  const table = 'bench_focus_copy';
  await db.raw(`DROP TABLE IF EXISTS ${table}`);
  await db.raw(`CREATE TABLE ${table} (${FOCUS_BENCH_COLUMNS.map((c) => `"${c}" text`).join(', ')})`);
  const connection = await db.client.acquireConnection();
  const began = Date.now();
  try {
    await pipeline(createReadStream(file), connection.query(copyFrom(`COPY ${table} FROM STDIN WITH (FORMAT csv, HEADER true)`)));
  } finally {
    await db.client.releaseConnection(connection);
  }
  const seconds = (Date.now() - began) / 1000;
  await db.raw(`DROP TABLE ${table}`);
  return Math.round(rows / Math.max(seconds, 0.001));
}

type ImportFigures = Omit<FinopsRun, 'copyRowsPerSecond' | 'ratioToCopy' | 'fileMb' | 'overBound'>;

/** Sends the file, waits for its import to end (within a deadline), and samples memory every 100 ms against the baseline. */
async function importOnce(
  db: Knex, baseUrl: string, apiKey: string, file: string, expected: FocusFileTotals, baseline: NodeJS.MemoryUsage, progress: (text: string) => void,
): Promise<ImportFigures> {
  let peakRss = process.memoryUsage().rss;
  let peakHeap = process.memoryUsage().heapUsed;
  const sampler = setInterval(() => {
    const usage = process.memoryUsage();
    peakRss = Math.max(peakRss, usage.rss);
    peakHeap = Math.max(peakHeap, usage.heapUsed);
  }, 100);
  const began = Date.now();
  const deadline = began + importDeadlineMs(expected.rows);
  try {
    const res = await upload(`${baseUrl}/cost-imports?fileName=${encodeURIComponent(path.basename(file))}`, apiKey, file);
    const answer = JSON.parse(res.body) as { id?: string; number?: string };
    if (res.status !== 202) throw new Error(`POST /cost-imports answered ${res.status}: ${res.body}`);
    const answeredAt = Date.now();
    for (;;) {
      const row = await db('cost_imports').where(answer.id ? { id: answer.id } : { number: answer.number }).first('id', 'state', 'rows_imported', 'totals');
      progress(`${row.state}: ${row.rows_imported} written of ${expected.rows}`);
      if (FINAL.includes(row.state)) {
        const endedAt = Date.now();
        clearInterval(sampler);
        const { rss, heapUsed } = process.memoryUsage();
        global.gc?.();
        const after = process.memoryUsage();
        const totals = (row.totals as { provider: string; currency: string; billedCost: string }[])
          .map((t) => `${t.provider}/${t.currency}/${t.billedCost}`).sort();
        const fileTotals = expected.totals.map((t) => `${t.provider}/${t.currency}/${t.billedCost}`).sort();
        const seconds = (endedAt - began) / 1000;
        return {
          rows: expected.rows, state: row.state, stagingSeconds: round((answeredAt - began) / 1000), applySeconds: round((endedAt - answeredAt) / 1000),
          seconds: round(seconds), rowsPerSecond: Math.round(expected.rows / seconds),
          peakRssMb: megabytes(Math.max(peakRss, rss) - baseline.rss),
          peakHeapMb: megabytes(Math.max(peakHeap, heapUsed) - baseline.heapUsed),
          rssAfterMb: megabytes(after.rss - baseline.rss),
          liveHeapAfterMb: megabytes(after.heapUsed - baseline.heapUsed),
          totalsMatchFile: JSON.stringify(totals) === JSON.stringify(fileTotals),
        };
      }
      if (Date.now() > deadline) throw new Error(`the import ${answer.number ?? answer.id} of ${expected.rows} rows did not end within ${importDeadlineMs(expected.rows) / 1000} s (last state ${row.state})`);
      await sleep(500);
    }
  } finally {
    clearInterval(sampler);
  }
}

/** Runs the month's allocation through the API and waits (within a deadline) for its run to be recorded. */
async function allocateOnce(db: Knex, baseUrl: string, apiKey: string, period: string): Promise<FinopsReport['allocation']> {
  const began = new Date();
  const res = await fetch(`${baseUrl}/finops/allocations/${period}/run`, { method: 'POST', headers: { authorization: `Bearer ${apiKey}` } });
  if (res.status !== 200 && res.status !== 202) throw new Error(`POST /finops/allocations/${period}/run answered ${res.status}: ${await res.text()}`);
  for (;;) {
    const run = await db('allocation_runs').where({ period_start: `${period}-01` }).where('started_at', '>=', began).whereIn('state', FINAL)
      .orderBy('started_at', 'desc').first('state', 'allocations', 'started_at', 'finished_at');
    if (run) {
      if (run.state !== 'completed') throw new Error(`the allocation of ${period} ended ${run.state}`);
      return { period, seconds: round((Date.now() - began.getTime()) / 1000, 2), allocations: run.allocations };
    }
    if (Date.now() - began.getTime() > ALLOCATION_DEADLINE_MS) throw new Error(`the allocation of ${period} did not end within ${ALLOCATION_DEADLINE_MS / 1000} s`);
    await sleep(250);
  }
}

export async function measureFinops(db: Knex, baseUrl: string, settings: FinopsBenchSettings, step: (text: string) => void): Promise<FinopsReport> {
  // A run of its own: its person and its files (their bytes, so a second run on the same database imports them anew rather than answering the first run's imports).
  const runSeed = randomInt(1, 1_000_000);
  const apiKey = generateApiKey();
  const [{ id }] = await db('people').insert({ name: 'Bench FinOps', email: `bench.finops.${runSeed}@bench.example` }).returning('id');
  // Sends bills (asset managers and admins) and runs the allocation (process owners).
  await db('person_roles').insert([{ person_id: id, role: 'process_owner' }, { person_id: id, role: 'asset_manager' }]);
  await insertApiKey(db, { personId: id, name: 'bench', apiKey, createdBy: 'system:bench' });
  const codes = Array.from({ length: 10 }, (_, i) => `CC-FINOPS-${String(i + 1).padStart(2, '0')}`);
  await db('cost_centres').insert(codes.map((code) => ({ code, name: `Bench FinOps ${code}` }))).onConflict('code').ignore();

  const dir = mkdtempSync(path.join(os.tmpdir(), 'assetflow-bench-focus-'));
  const generate = (rows: number, month: string, seed: number) => {
    const file = path.join(dir, `focus-${month}-${rows}.csv`);
    return writeFocusFile(file, { rows, month, resources: Math.min(settings.resources, rows), costCentreCodes: codes, seed: runSeed + seed }).then((expected) => ({ file, expected }));
  };
  const show = (text: string) => process.stdout.write(`\r  ${text}        `);
  const runs: FinopsRun[] = [];
  let lastPeriod = '';
  let baseline: NodeJS.MemoryUsage;
  let warmUp: FinopsReport['warmUp'];
  try {
    // Unmeasured, in a month of its own: what the first import sets up for good is no cost of any size.
    step(`a warm-up import of ${WARM_UP_ROWS.toLocaleString('en')} rows`);
    const small = await generate(WARM_UP_ROWS, '2025-12', 0);
    const warm = await importOnce(db, baseUrl, apiKey, small.file, small.expected, process.memoryUsage(), () => undefined);
    if (warm.state !== 'completed') throw new Error(`the warm-up import ended ${warm.state}`);
    warmUp = { rows: WARM_UP_ROWS, seconds: warm.seconds };
    rmSync(small.file);
    global.gc?.();
    baseline = process.memoryUsage();

    for (const [index, rows] of settings.sizes.entries()) {
      // Each size bills its own month, so one import never replaces another's records.
      lastPeriod = `2026-${String(1 + index).padStart(2, '0')}`;
      step(`FOCUS file of ${rows.toLocaleString('en')} rows for ${lastPeriod}`);
      const { file, expected } = await generate(rows, lastPeriod, 1 + index);
      const fileMb = megabytes(statSync(file).size);
      const copyRowsPerSecond = await copyBaseline(db, file, rows);
      const run = await importOnce(db, baseUrl, apiKey, file, expected, baseline, show);
      process.stdout.write('\n');
      runs.push({ ...run, fileMb, copyRowsPerSecond, ratioToCopy: round(run.rowsPerSecond / copyRowsPerSecond, 3), overBound: run.peakRssMb > settings.boundMb });
      rmSync(file);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  step(`the monthly allocation of ${lastPeriod}`);
  const allocation = lastPeriod ? await allocateOnce(db, baseUrl, apiKey, lastPeriod) : null;
  const peaks = runs.map((run) => Math.max(run.peakRssMb, 1));
  return {
    boundMb: settings.boundMb,
    baseline: { rssMb: megabytes(baseline.rss), heapMb: megabytes(baseline.heapUsed) },
    warmUp,
    runs,
    boundHeld: runs.every((run) => !run.overBound),
    peakRatio: round(peaks[peaks.length - 1] / peaks[0], 2),
    allocation,
  };
}

export function reportFinops(report: FinopsReport): void {
  console.log(`\n== Cloud bills in FOCUS through POST /cost-imports and the cost import workflow — target: peak RSS above the baseline under ${report.boundMb} MB at every size; `
    + 'baseline of speed: Postgres COPY of the same file');
  console.log(`memory baseline, after a warm-up import of ${report.warmUp.rows.toLocaleString('en')} rows (${report.warmUp.seconds} s) and before the first size: `
    + `RSS ${report.baseline.rssMb} MB, heap in use ${report.baseline.heapMb} MB; every figure below is above it, each size's including what the sizes before it kept`);
  console.table(report.runs.map((run) => ({
    rows: run.rows, 'file MB': run.fileMb, state: run.state, 'staging s': run.stagingSeconds, 'apply s': run.applySeconds,
    'rows/s': run.rowsPerSecond, 'COPY rows/s': run.copyRowsPerSecond, 'ratio to COPY': run.ratioToCopy,
    'peak RSS MB': run.peakRssMb, 'peak heap MB': run.peakHeapMb, 'RSS after GC MB': run.rssAfterMb, 'live heap after GC MB': run.liveHeapAfterMb,
    bound: run.overBound ? `OVER ${report.boundMb} MB` : 'within', 'totals = file': run.totalsMatchFile,
  })));
  console.log(`peak RSS bound of ${report.boundMb} MB ${report.boundHeld ? 'held' : 'NOT held'} at every size; largest size's peak RSS over the smallest's: ${report.peakRatio}x`);
  if (report.allocation) console.log(`monthly allocation of ${report.allocation.period}: ${report.allocation.seconds} s, ${report.allocation.allocations} allocations`);
}
