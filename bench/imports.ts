/**
 * The bench's import part: a CSV file of assets generated as a stream, never a string, POSTed to
 * /imports and carried through by the import workflow, at each size; the rows per second against
 * the same rows written with plain INSERTs in the same run, and the peak RSS of the bench process
 * (API and worker) above its level at the start, sampled every 100 ms, which must stay under a
 * bound whatever the size: the file is streamed and staged, and checked and applied a chunk at a time.
 */
import { Readable } from 'node:stream';
import type { Knex } from 'knex';
import { insertApiKey } from '../model/api-keys';
import { generateApiKey } from '../platform/api-keys';

export interface ImportBenchSettings {
  sizes: number[];
  /** The peak RSS above the start (MB) that no size may pass. */
  boundMb: number;
}

export interface ImportRun {
  kind: string;
  rows: number;
  state: string;
  /** From the first byte sent to the final state. */
  seconds: number;
  /** Of which the upload and staging (the POST's answer), and the check pass after it. */
  uploadSeconds: number;
  checkSeconds: number;
  rowsPerSecond: number;
  rssStartMb: number;
  peakRssAboveStartMb: number;
  /** The same number of rows written straight into the table, 1,000 per INSERT, in the same run: the floor any import stands on. */
  baselineSeconds: number;
  /** seconds / baselineSeconds. */
  timesBaseline: number;
}

export interface ImportReport {
  boundMb: number;
  boundHeld: boolean;
  runs: ImportRun[];
}

const megabytes = (bytes: number) => Number((bytes / 1024 / 1024).toFixed(1));
const FINAL = ['previewed', 'completed', 'refused', 'failed'];

interface FileShape {
  kind: 'assets';
  header: string;
  line: (batch: string, n: number) => string;
}

/** The reference data an asset row names: a hardware model and a cost centre. */
async function assetFile(db: Knex): Promise<FileShape> {
  await db('hardware_models').insert({
    manufacturer: 'Benchmark', name: 'Laptop 14', category: 'laptop', list_price_minor: 120_000, currency: 'EUR',
    warranty_months: 36, useful_life_months: 36, depreciation_method: 'straight_line',
  }).onConflict().ignore();
  await db('cost_centres').insert({ code: 'BENCH-IMPORT', name: 'Bench imports' }).onConflict().ignore();
  return {
    kind: 'assets',
    header: 'assetTag,serialNumber,manufacturer,model,state,substate,location,costCentre,purchaseCostMinor,currency,purchaseDate,warrantyEnd\n',
    line: (batch, n) => `BI${batch}-${n},SN-${batch}-${n},Benchmark,Laptop 14,in_stock,available,Shelf ${n % 50},BENCH-IMPORT,120000,EUR,2026-01-15,2029-01-15\n`,
  };
}

function csvStream(shape: FileShape, batch: string, rows: number): ReadableStream<Uint8Array> {
  async function* lines() {
    yield shape.header;
    // A few hundred lines per chunk: the stream's pieces stay small whatever the size.
    let chunk = '';
    for (let n = 1; n <= rows; n += 1) {
      chunk += shape.line(batch, n);
      if (n % 500 === 0) {
        yield chunk;
        chunk = '';
      }
    }
    if (chunk) yield chunk;
  }
  return Readable.toWeb(Readable.from(lines())) as ReadableStream<Uint8Array>;
}

/**
 * The baseline: as many asset rows inserted directly, a thousand per statement, in one transaction
 * (rolled back): what writing the rows costs Postgres alone, without parsing, checking, references,
 * audit rows or a workflow.
 */
async function insertDirectly(db: Knex, rows: number): Promise<number> {
  const model = await db('hardware_models').where({ manufacturer: 'Benchmark', name: 'Laptop 14' }).first('id');
  const began = Date.now();
  const trx = await db.transaction();
  try {
    for (let from = 1; from <= rows; from += 1_000) {
      const tags = Array.from({ length: Math.min(1_000, rows - from + 1) }, (_, i) => `BASE-${from + i}`);
      await trx.raw(
        `INSERT INTO assets (asset_tag, serial_number, model_id, state, substate, currency, purchase_cost_minor)
         SELECT t, 'SN-' || t, ?::uuid, 'in_stock', 'available', 'EUR', 120000 FROM unnest(?::text[]) AS t`,
        [model.id, tags],
      );
    }
  } finally {
    await trx.rollback();
  }
  return (Date.now() - began) / 1000;
}

/** Imports `rows` rows through the API and waits for the import to end, sampling the RSS every 100 ms. */
async function importOnce(db: Knex, baseUrl: string, apiKey: string, shape: FileShape, rows: number, progress: (text: string) => void): Promise<Omit<ImportRun, 'baselineSeconds' | 'timesBaseline'>> {
  global.gc?.();
  const start = process.memoryUsage().rss;
  let peak = start;
  const sampler = setInterval(() => {
    peak = Math.max(peak, process.memoryUsage().rss);
  }, 100);
  const began = Date.now();
  try {
    const res = await fetch(`${baseUrl}/imports?kind=${shape.kind}&fileName=bench-${rows}.csv`, {
      method: 'POST',
      headers: { authorization: `Bearer ${apiKey}`, 'content-type': 'text/csv' },
      body: csvStream(shape, `${rows}x${Date.now().toString(36)}`, rows),
      duplex: 'half',
    } as RequestInit);
    const answer = await res.json() as { id: string; error?: unknown };
    if (res.status !== 202) throw new Error(`POST /imports answered ${res.status}: ${JSON.stringify(answer)}`);
    const uploadSeconds = (Date.now() - began) / 1000;
    let checkedAt: number | undefined;
    for (;;) {
      const row = await db('imports').where({ id: answer.id }).first('state', 'rows_checked', 'rows_applied');
      progress(`${row.state}: ${row.rows_checked} checked, ${row.rows_applied} applied of ${rows}`);
      if (row.state === 'applying' || FINAL.includes(row.state)) checkedAt ??= Date.now();
      if (FINAL.includes(row.state)) {
        const seconds = (Date.now() - began) / 1000;
        return {
          kind: shape.kind, rows, state: row.state, seconds: Number(seconds.toFixed(1)), uploadSeconds: Number(uploadSeconds.toFixed(1)),
          checkSeconds: Number((((checkedAt ?? Date.now()) - began) / 1000 - uploadSeconds).toFixed(1)),
          rowsPerSecond: Math.round(rows / seconds), rssStartMb: megabytes(start), peakRssAboveStartMb: megabytes(peak - start),
        };
      }
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  } finally {
    clearInterval(sampler);
  }
}

export async function measureImports(db: Knex, baseUrl: string, settings: ImportBenchSettings, step: (text: string) => void): Promise<ImportReport> {
  const shape = await assetFile(db);
  const apiKey = generateApiKey();
  const [{ id }] = await db('people').insert({ name: 'Bench Importer', email: 'bench.importer@bench.example' }).returning('id');
  await insertApiKey(db, { personId: id, name: 'bench', apiKey, createdBy: 'system:bench' });
  await db('person_roles').insert({ person_id: id, role: 'admin' });
  // Once, unmeasured: what the first import of a process sets up for good (the workflow sandbox, compiled code) is no cost of a file's size.
  step('import: a warm-up of 1,000 rows ...');
  await importOnce(db, baseUrl, apiKey, shape, 1_000, () => undefined);
  const runs: ImportRun[] = [];
  for (const rows of settings.sizes) {
    step(`import: ${rows.toLocaleString('en')} ${shape.kind} from CSV through POST /imports and the import workflow ...`);
    const run = await importOnce(db, baseUrl, apiKey, shape, rows, (text) => process.stdout.write(`\r  ${text}   `));
    process.stdout.write('\n');
    if (run.state !== 'completed') throw new Error(`the import of ${rows} rows ended ${run.state}`);
    const baselineSeconds = Number((await insertDirectly(db, rows)).toFixed(2));
    runs.push({ ...run, baselineSeconds, timesBaseline: Number((run.seconds / baselineSeconds).toFixed(1)) });
  }
  return { boundMb: settings.boundMb, boundHeld: runs.every((run) => run.peakRssAboveStartMb < settings.boundMb), runs };
}

export function reportImports(report: ImportReport): void {
  console.log(`\n== Bulk import from CSV through the API and the workflow — target: peak RSS above the start under ${report.boundMb} MB at every size`);
  console.table(report.runs.map((run) => ({
    kind: run.kind,
    rows: run.rows,
    seconds: run.seconds,
    'upload + staging s': run.uploadSeconds,
    'check s': run.checkSeconds,
    'rows/s': run.rowsPerSecond,
    'baseline s (plain INSERTs)': run.baselineSeconds,
    'x baseline': run.timesBaseline,
    'RSS at start MB': run.rssStartMb,
    'peak RSS above start MB': run.peakRssAboveStartMb,
  })));
  console.log(`peak RSS bound of ${report.boundMb} MB ${report.boundHeld ? 'held' : 'NOT held'} at every size`);
}
