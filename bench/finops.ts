/**
 * Part 8 of `npm run bench`: cloud bills in FOCUS. A generated file of each size (100,000 and
 * 1,000,000 rows by default) goes through POST /cost-imports (DuckDB reads it, each row is checked
 * and staged) and the cost import workflow (cloud resources become CIs, tags allocate, records
 * written); rows per second and the bench process's peak RSS above its start (it holds the API that
 * reads the file and the worker that writes it) — target: bounded whatever the size. The baseline,
 * measured in the same run on the same file: Postgres's own COPY of it into a plain table, the floor
 * of loading those bytes. Then the monthly allocation of the largest file's month, timed.
 */
import { createReadStream, mkdtempSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
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
  /** The peak RSS above the start (MB) that no size may pass. */
  boundMb: number;
}

export interface FinopsRun {
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
  peakRssAboveStartMb: number;
  /** The V8 heap's peak during the import: the Node share of the RSS (DuckDB's buffers, within its memory_limit, are the rest). */
  peakHeapMb: number;
  /** The import's totals per provider and currency equal the file's, to the last place. */
  totalsMatchFile: boolean;
}

export interface FinopsReport {
  boundMb: number;
  runs: FinopsRun[];
  /** The largest size's peak over the smallest's: about 1 when memory is bounded. */
  peakRatio: number;
  allocation: { period: string; seconds: number; allocations: number } | null;
}

const round = (n: number, digits = 1) => Number(n.toFixed(digits));
const megabytes = (bytes: number) => round(bytes / 1024 / 1024);
const FINAL = ['completed', 'failed'];

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

async function importOnce(db: Knex, baseUrl: string, apiKey: string, file: string, expected: FocusFileTotals, progress: (text: string) => void): Promise<Omit<FinopsRun, 'copyRowsPerSecond' | 'ratioToCopy' | 'fileMb'>> {
  global.gc?.();
  const start = process.memoryUsage().rss;
  let peak = start;
  let peakHeap = process.memoryUsage().heapUsed;
  const sampler = setInterval(() => {
    const usage = process.memoryUsage();
    peak = Math.max(peak, usage.rss);
    peakHeap = Math.max(peakHeap, usage.heapUsed);
  }, 100);
  const began = Date.now();
  try {
    const res = await fetch(`${baseUrl}/cost-imports?fileName=${encodeURIComponent(path.basename(file))}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${apiKey}`, 'content-type': 'text/csv' },
      body: Readable.toWeb(createReadStream(file)) as ReadableStream<Uint8Array>,
      duplex: 'half',
    } as RequestInit);
    const answer = await res.json() as { id?: string; number?: string };
    if (res.status !== 202) throw new Error(`POST /cost-imports answered ${res.status}: ${JSON.stringify(answer)}`);
    const answeredAt = Date.now();
    for (;;) {
      const row = await db('cost_imports').where(answer.id ? { id: answer.id } : { number: answer.number }).first('id', 'state', 'rows_imported', 'totals');
      progress(`${row.state}: ${row.rows_imported} written of ${expected.rows}`);
      if (FINAL.includes(row.state)) {
        const endedAt = Date.now();
        const totals = (row.totals as { provider: string; currency: string; billedCost: string }[])
          .map((t) => `${t.provider}/${t.currency}/${t.billedCost}`).sort();
        const fileTotals = expected.totals.map((t) => `${t.provider}/${t.currency}/${t.billedCost}`).sort();
        const seconds = (endedAt - began) / 1000;
        return {
          rows: expected.rows, state: row.state, stagingSeconds: round((answeredAt - began) / 1000), applySeconds: round((endedAt - answeredAt) / 1000),
          seconds: round(seconds), rowsPerSecond: Math.round(expected.rows / seconds),
          peakRssAboveStartMb: megabytes(Math.max(peak, process.memoryUsage().rss) - start),
          peakHeapMb: megabytes(peakHeap),
          totalsMatchFile: JSON.stringify(totals) === JSON.stringify(fileTotals),
        };
      }
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
  } finally {
    clearInterval(sampler);
  }
}

/** Runs the month's allocation through the API and waits for its run to be recorded. */
async function allocateOnce(db: Knex, baseUrl: string, apiKey: string, period: string): Promise<FinopsReport['allocation']> {
  const began = new Date();
  const res = await fetch(`${baseUrl}/finops/allocations/${period}/run`, { method: 'POST', headers: { authorization: `Bearer ${apiKey}` } });
  if (res.status !== 200 && res.status !== 202) throw new Error(`POST /finops/allocations/${period}/run answered ${res.status}: ${await res.text()}`);
  for (;;) {
    const run = await db('allocation_runs').where({ period_start: `${period}-01` }).where('started_at', '>=', began).whereIn('state', FINAL.concat('completed'))
      .orderBy('started_at', 'desc').first('state', 'allocations', 'started_at', 'finished_at');
    if (run) {
      if (run.state !== 'completed') throw new Error(`the allocation of ${period} ended ${run.state}`);
      return { period, seconds: round((Date.now() - began.getTime()) / 1000, 2), allocations: run.allocations };
    }
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

export async function measureFinops(db: Knex, baseUrl: string, settings: FinopsBenchSettings, step: (text: string) => void): Promise<FinopsReport> {
  const apiKey = generateApiKey();
  const [{ id }] = await db('people').insert({ name: 'Bench FinOps', email: 'bench.finops@bench.example' }).returning('id');
  await db('person_roles').insert({ person_id: id, role: 'process_owner' });
  await insertApiKey(db, { personId: id, name: 'bench', apiKey, createdBy: 'system:bench' });
  const codes = Array.from({ length: 10 }, (_, i) => `CC-FINOPS-${String(i + 1).padStart(2, '0')}`);
  await db('cost_centres').insert(codes.map((code) => ({ code, name: `Bench FinOps ${code}` }))).onConflict('code').ignore();

  const dir = mkdtempSync(path.join(os.tmpdir(), 'assetflow-bench-focus-'));
  const runs: FinopsRun[] = [];
  let lastPeriod = '';
  try {
    for (const [index, rows] of settings.sizes.entries()) {
      // Each size bills its own month, so one import never replaces another's records.
      lastPeriod = `2026-${String(1 + index).padStart(2, '0')}`;
      const file = path.join(dir, `focus-${rows}.csv`);
      step(`FOCUS file of ${rows.toLocaleString('en')} rows for ${lastPeriod}`);
      const expected = await writeFocusFile(file, { rows, month: lastPeriod, resources: Math.min(settings.resources, rows), costCentreCodes: codes, seed: 17 + index });
      const fileMb = megabytes(statSync(file).size);
      const copyRowsPerSecond = await copyBaseline(db, file, rows);
      const run = await importOnce(db, baseUrl, apiKey, file, expected, (text) => process.stdout.write(`\r  ${text}        `));
      process.stdout.write('\n');
      runs.push({ ...run, fileMb, copyRowsPerSecond, ratioToCopy: round(run.rowsPerSecond / copyRowsPerSecond, 3) });
      rmSync(file);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  step(`the monthly allocation of ${lastPeriod}`);
  const allocation = lastPeriod ? await allocateOnce(db, baseUrl, apiKey, lastPeriod) : null;
  const peaks = runs.map((run) => Math.max(run.peakRssAboveStartMb, 1));
  return { boundMb: settings.boundMb, runs, peakRatio: round(peaks[peaks.length - 1] / peaks[0], 2), allocation };
}

export function reportFinops(report: FinopsReport): void {
  console.log(`\nCloud bills in FOCUS through POST /cost-imports and the cost import workflow — target: peak RSS above the start under ${report.boundMb} MB at every size; baseline: Postgres COPY of the same file`);
  console.table(report.runs.map((run) => ({
    rows: run.rows, 'file MB': run.fileMb, state: run.state, 'staging s': run.stagingSeconds, 'apply s': run.applySeconds,
    'rows/s': run.rowsPerSecond, 'COPY rows/s': run.copyRowsPerSecond, 'ratio to COPY': run.ratioToCopy,
    'peak RSS MB': run.peakRssAboveStartMb, 'peak heap MB': run.peakHeapMb, 'totals = file': run.totalsMatchFile,
  })));
  console.log(`peak RSS, largest over smallest: ${report.peakRatio}x`);
  if (report.allocation) console.log(`monthly allocation of ${report.allocation.period}: ${report.allocation.seconds} s, ${report.allocation.allocations} allocations`);
}
