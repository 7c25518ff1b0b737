/**
 * The bench's inventory part (issue 16): on an estate of generated servers and virtual machines
 * (host names, a domain, MAC addresses; servers with an asset and its serial), discovery batches
 * of each size, generated as a JSON-lines stream (never a string), POSTed to /inventory/batches and
 * carried through the import workflow's check and apply passes on the bench's worker. Most rows
 * match a record unchanged; some change an attribute (a server's location, a VM's environment),
 * some are renamed hosts that keep their serial, about one in ten is a new device, one in a
 * hundred lists software. Reported: rows per second of the check and of the apply pass, and the
 * peak RSS above the start of the bench process (it holds the API that stages the file and the
 * worker that checks and applies it), sampled every 100 ms, while staging and while each pass
 * runs; the peak live heap of each pass (what survived a full collection: V8 lets garbage pile up
 * in the old generation until one, so the heap in use between them says how lazily it collects,
 * not what a pass holds); and the RSS and live heap after a full collection at the end. The
 * target: the peak bounded (BENCH_INVENTORY_BOUND_MB) whatever the batch size, as every pass goes
 * a chunk at a time.
 *
 * Every new server starts its asset's lifecycle workflow, which the worker keeps in its cache of
 * WORKER_MAX_CACHED_WORKFLOWS: a long-running worker's cache is full, so the warm-up fills it
 * with as many new servers first, so no batch is charged for filling the cache, which costs what
 * it costs whatever the batch (the warm-up reports the RSS it kept).
 *
 * The baseline, measured in the same run, is the master-data import of as many configuration items
 * (POST /imports?kind=configuration-items, the same staging, workflow and chunks, judged row by
 * row): the machinery an inventory batch rides on, so the ratio is what identification,
 * reconciliation, provenance and sightings cost over it. Plain INSERTs would say only what Postgres
 * costs, which bench/imports.ts reports already.
 */
import { constants, PerformanceObserver } from 'node:perf_hooks';
import { Readable } from 'node:stream';
import type { Knex } from 'knex';
import { insertApiKey } from '../model/api-keys';
import { generateApiKey } from '../platform/api-keys';

export interface InventoryBenchSettings {
  /** CIs in the estate the batches are reconciled against (a third of them servers with an asset). */
  cis: number;
  /** Rows per batch, each at most `cis`. */
  sizes: number[];
  /** The peak RSS above the start (MB) that no size may pass. */
  boundMb: number;
  /** The worker's workflow cache (WORKER_MAX_CACHED_WORKFLOWS), filled by the warm-up. */
  cachedWorkflows: number;
}

export interface PassTimes {
  rows: number;
  state: string;
  seconds: number;
  /** The POST until its answer: the file streamed and staged. */
  uploadSeconds: number;
  /** From the answer until the apply pass begins (a dry run's whole work). */
  checkSeconds: number;
  applySeconds: number;
  rssStartMb: number;
  stagingPeakAboveStartMb: number;
  /** The check and apply passes together, and each. */
  workflowPeakAboveStartMb: number;
  checkPeakAboveStartMb: number;
  applyPeakAboveStartMb: number;
  /** The heap in use at its highest in either pass, garbage not yet collected included. */
  heapUsedPeakAboveStartMb: number;
  /** What survived the full collections of each pass (and one at its end), at its highest. */
  checkLiveHeapAboveStartMb: number;
  applyLiveHeapAboveStartMb: number;
  /**
   * After the end and a full garbage collection: the RSS (which seldom gives pages back) and the
   * live heap above the start, what the run left behind.
   */
  retainedAboveStartMb: number;
  liveHeapAboveStartMb: number;
}

export interface InventoryRun extends PassTimes {
  checkRowsPerSecond: number;
  applyRowsPerSecond: number;
  rowsPerSecond: number;
  outcomes: Record<string, number>;
  /** The master-data import of as many configuration items, in the same run. */
  baseline: PassTimes & { rowsPerSecond: number };
  /** seconds / baseline.seconds. */
  timesBaseline: number;
}

export interface InventoryReport {
  cis: number;
  estateSeconds: number;
  /** Lifecycle workflows the warm-up started to fill the worker's cache, and the RSS that kept. */
  cacheFilledWith: number;
  cacheFillRetainedMb: number;
  boundMb: number;
  boundHeld: boolean;
  /** The largest size's peak over the smallest's (workflow side): about 1 when memory is bounded. */
  peakRatio: number;
  /** The highest live heap above the start of any pass at any size: what the batches hold. */
  liveHeapPeakMb: number;
  runs: InventoryRun[];
}

const megabytes = (bytes: number) => Number((bytes / 1024 / 1024).toFixed(1));
const round = (n: number, digits = 1) => Number(n.toFixed(digits));
const FINAL = ['previewed', 'completed', 'refused', 'failed'];
const DOMAIN = 'bench.example';
const MODEL = { manufacturer: 'Benchmark', name: 'Rack 1U' };
const PRODUCT = { publisher: 'Benchmark', name: 'Benchmark Agent' };

/** The estate's i-th record: a server (with an asset) every third one, else a virtual machine. */
const isServer = (i: number) => i % 3 === 0;
const hostOf = (i: number) => `bench-h${i}`;
const macOf = (prefix: string, n: number) => `${prefix}${n.toString(16).padStart(10, '0')}`;
const locationOf = (i: number) => `Rack ${i % 40}`;

/**
 * The estate, set-based: servers' assets, then every CI with its identifiers, the servers linked
 * to their asset by serial. Named so the batches can say the same things of them.
 */
async function generateInventoryEstate(db: Knex, cis: number): Promise<void> {
  await db('hardware_models').insert({
    ...MODEL, category: 'server', list_price_minor: 900_000, currency: 'EUR', warranty_months: 36, useful_life_months: 60, depreciation_method: 'straight_line',
  }).onConflict().ignore();
  const model = await db('hardware_models').where(MODEL).first('id');
  await db('software_products').insert({ ...PRODUCT, licence_metric: 'per_device', unit_price_minor: 5_000, currency: 'EUR' }).onConflict().ignore();
  await db.raw(`
    INSERT INTO assets (serial_number, model_id, state, substate, location, currency, purchase_cost_minor)
    SELECT 'BSN' || i, ?::uuid, 'in_stock', 'available', 'Rack ' || (i % 40), 'EUR', 900000 FROM generate_series(3, ?::int, 3) AS i`, [model.id, cis]);
  await db.raw(`
    INSERT INTO configuration_items (name, ci_class, hostname, dns_domain, mac_address, asset_id, operational_status, environment)
    SELECT 'bench-h' || i, CASE WHEN i % 3 = 0 THEN 'server' ELSE 'virtual_machine' END, 'bench-h' || i, ?, '02' || lpad(to_hex(i), 10, '0'),
           a.id, 'operational', 'production'
      FROM generate_series(1, ?::int) AS i LEFT JOIN assets a ON i % 3 = 0 AND a.serial_key = 'bsn' || i`, [DOMAIN, cis]);
  await db.raw('ANALYZE assets');
  await db.raw('ANALYZE configuration_items');
}

/**
 * A discovery batch of `rows` rows, row n naming the estate's record n (or a new device), as JSON
 * lines. `run` makes what it changes and creates differ from every other batch's.
 */
function discoveryBatch(run: number, rows: number): ReadableStream<Uint8Array> {
  const line = (n: number): Record<string, unknown> => {
    const mix = n % 100;
    if (mix < 10) {
      // A new device: one in ten a server (an asset and its lifecycle workflow), the rest VMs.
      const host = `bench-n${run}-${n}`;
      const mac = macOf('06', run * 10_000_000 + n);
      return mix === 0
        ? { ciClass: 'server', hostname: host, domain: DOMAIN, macAddress: mac, serialNumber: `BNEW${run}-${n}`, model: `${MODEL.manufacturer} ${MODEL.name}`, location: 'Bench hall' }
        : { ciClass: 'virtual_machine', hostname: host, domain: DOMAIN, macAddress: mac, environment: 'production' };
    }
    const i = n;
    const renamed = isServer(i) && mix < 13;
    const changed = mix >= 13 && mix < 23;
    const row: Record<string, unknown> = isServer(i)
      ? {
        ciClass: 'server', hostname: renamed ? `bench-r${run}-${i}` : hostOf(i), domain: DOMAIN, macAddress: macOf('02', i), serialNumber: `BSN${i}`,
        model: `${MODEL.manufacturer} ${MODEL.name}`, location: changed ? `Rack ${run}-${i % 40}` : locationOf(i),
      }
      : { ciClass: 'virtual_machine', hostname: hostOf(i), domain: DOMAIN, macAddress: macOf('02', i), environment: changed ? `bench-${run}` : 'production' };
    if (mix === 23) row.software = [PRODUCT.name];
    return row;
  };
  async function* lines() {
    let chunk = '';
    for (let n = 1; n <= rows; n += 1) {
      chunk += `${JSON.stringify(line(n))}\n`;
      if (n % 500 === 0) {
        yield chunk;
        chunk = '';
      }
    }
    if (chunk) yield chunk;
  }
  return Readable.toWeb(Readable.from(lines())) as ReadableStream<Uint8Array>;
}

/** New servers only, each with an asset whose lifecycle workflow the worker then holds in its cache. */
function newServers(rows: number): ReadableStream<Uint8Array> {
  async function* lines() {
    for (let n = 1; n <= rows; n += 1) {
      yield `${JSON.stringify({
        ciClass: 'server', hostname: `bench-w${n}`, domain: DOMAIN, macAddress: macOf('0e', n), serialNumber: `BWARM${n}`, model: `${MODEL.manufacturer} ${MODEL.name}`, location: 'Bench hall',
      })}\n`;
    }
  }
  return Readable.toWeb(Readable.from(lines())) as ReadableStream<Uint8Array>;
}

/** As many configuration items as master data, as CSV: new virtual machines with their identifiers. */
function masterDataFile(run: number, rows: number): ReadableStream<Uint8Array> {
  async function* lines() {
    yield 'name,ciClass,environment,hostname,domain,macAddress\n';
    let chunk = '';
    for (let n = 1; n <= rows; n += 1) {
      chunk += `bench-md${run}-${n},virtual_machine,production,bench-md${run}-${n},${DOMAIN},${macOf('0a', run * 10_000_000 + n)}\n`;
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
 * The heap that survived each full (mark-compact) collection, noted as it ends: what is live, as
 * far as the process can tell without collecting on its own. `take` collects once more and answers
 * the highest since the last take, so what a pass still holds at its end counts too.
 */
function liveHeapWatch() {
  let peak = 0;
  const observer = new PerformanceObserver((list) => {
    if (list.getEntries().some((entry) => (entry as { detail?: { kind?: number } }).detail?.kind === constants.NODE_PERFORMANCE_GC_MAJOR)) {
      peak = Math.max(peak, process.memoryUsage().heapUsed);
    }
  });
  observer.observe({ entryTypes: ['gc'] });
  return {
    take(): number {
      global.gc?.();
      const highest = Math.max(peak, process.memoryUsage().heapUsed);
      peak = 0;
      return highest;
    },
    stop: () => observer.disconnect(),
  };
}

/**
 * Sends a file and waits for its batch or import to end, polling its state: when the POST answered
 * (staged), when the apply pass began, when it ended; the RSS and the heap in use sampled every
 * 100 ms on either side, the live heap at each full collection.
 */
async function runOnce(db: Knex, baseUrl: string, apiKey: string, send: { path: string; contentType: string; body: ReadableStream<Uint8Array> }, rows: number, progress: (text: string) => void): Promise<PassTimes & { id: string }> {
  global.gc?.();
  const { rss: start, heapUsed: heapAtStart } = process.memoryUsage();
  let peak = start;
  let heapPeak = heapAtStart;
  const sampler = setInterval(() => {
    const { rss, heapUsed } = process.memoryUsage();
    peak = Math.max(peak, rss);
    heapPeak = Math.max(heapPeak, heapUsed);
  }, 100);
  const live = liveHeapWatch();
  const began = Date.now();
  try {
    const res = await fetch(`${baseUrl}${send.path}`, {
      method: 'POST', headers: { authorization: `Bearer ${apiKey}`, 'content-type': send.contentType }, body: send.body, duplex: 'half',
    } as RequestInit);
    const answer = await res.json() as { id: string };
    if (res.status !== 202) throw new Error(`POST ${send.path} answered ${res.status}: ${JSON.stringify(answer)}`);
    const answeredAt = Date.now();
    const stagingPeak = Math.max(peak, process.memoryUsage().rss);
    peak = start;
    live.take();
    heapPeak = heapAtStart;
    let applyingAt: number | undefined;
    let checkPeak = start;
    let checkLive = heapAtStart;
    for (;;) {
      const row = await db('imports').where({ id: answer.id }).first('state', 'rows_checked', 'rows_applied');
      progress(`${row.state}: ${row.rows_checked} checked, ${row.rows_applied} applied of ${rows}`);
      const ended = FINAL.includes(row.state);
      if ((row.state === 'applying' || ended) && applyingAt === undefined) {
        applyingAt = Date.now();
        checkPeak = Math.max(peak, process.memoryUsage().rss);
        checkLive = live.take();
        peak = start;
      }
      if (ended) {
        const endedAt = Date.now();
        const applyPeak = Math.max(peak, process.memoryUsage().rss);
        const applyLive = live.take();
        const { rss: retained, heapUsed: liveHeap } = process.memoryUsage();
        return {
          id: answer.id, rows, state: row.state, seconds: round((endedAt - began) / 1000), uploadSeconds: round((answeredAt - began) / 1000),
          checkSeconds: round((applyingAt! - answeredAt) / 1000, 2), applySeconds: round((endedAt - applyingAt!) / 1000, 2),
          rssStartMb: megabytes(start), stagingPeakAboveStartMb: megabytes(stagingPeak - start),
          workflowPeakAboveStartMb: megabytes(Math.max(checkPeak, applyPeak) - start),
          checkPeakAboveStartMb: megabytes(checkPeak - start), applyPeakAboveStartMb: megabytes(applyPeak - start),
          heapUsedPeakAboveStartMb: megabytes(heapPeak - heapAtStart),
          checkLiveHeapAboveStartMb: megabytes(checkLive - heapAtStart), applyLiveHeapAboveStartMb: megabytes(applyLive - heapAtStart),
          retainedAboveStartMb: megabytes(retained - start), liveHeapAboveStartMb: megabytes(liveHeap - heapAtStart),
        };
      }
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  } finally {
    clearInterval(sampler);
    live.stop();
  }
}

const perSecond = (rows: number, seconds: number) => Math.round(rows / Math.max(seconds, 0.001));

export async function measureInventory(db: Knex, baseUrl: string, settings: InventoryBenchSettings, step: (text: string) => void): Promise<InventoryReport> {
  const tooLarge = settings.sizes.filter((size) => size > settings.cis);
  if (tooLarge.length) throw new Error(`BENCH_INVENTORY_ROWS: ${tooLarge.join(', ')} rows name more records than the ${settings.cis}-CI estate holds`);
  const apiKey = generateApiKey();
  const [{ id }] = await db('people').insert({ name: 'Bench Discovery', email: 'bench.discovery@bench.example' }).returning('id');
  await insertApiKey(db, { personId: id, name: 'bench', apiKey, createdBy: 'system:bench' });
  await db('person_roles').insert({ person_id: id, role: 'admin' });

  step(`inventory: an estate of ${settings.cis.toLocaleString('en')} servers and VMs with host names, MAC addresses and serials ...`);
  const estateBegan = Date.now();
  await generateInventoryEstate(db, settings.cis);
  const estateSeconds = round((Date.now() - estateBegan) / 1000);

  const inventory = (run: number, rows: number) => ({
    path: `/inventory/batches?source=discovery&format=jsonl&batchKey=bench-${run}-${rows}&fileName=bench-${rows}.jsonl`,
    contentType: 'application/x-ndjson', body: discoveryBatch(run, rows),
  });
  const masterData = (run: number, rows: number) => ({
    path: `/imports?kind=configuration-items&format=csv&fileName=bench-cis-${rows}.csv`, contentType: 'text/csv', body: masterDataFile(run, rows),
  });
  const show = (text: string) => process.stdout.write(`\r  ${text}   `);

  // Once, unmeasured: what the first batch sets up for good (the workflow sandbox, compiled code, plans) is no cost of a batch's size.
  step(`inventory: a warm-up batch of ${settings.cachedWorkflows.toLocaleString('en')} new servers (their lifecycle workflows fill the worker's cache), one of 1,000 rows, and a master-data import of 1,000 CIs ...`);
  const cacheFill = await runOnce(db, baseUrl, apiKey, {
    path: `/inventory/batches?source=discovery&format=jsonl&batchKey=bench-cache-fill&fileName=bench-cache-fill.jsonl`, contentType: 'application/x-ndjson', body: newServers(settings.cachedWorkflows),
  }, settings.cachedWorkflows, () => undefined);
  if (cacheFill.state !== 'completed') throw new Error(`the warm-up batch of new servers ended ${cacheFill.state}`);
  const warmUp = Math.min(1_000, settings.cis);
  await runOnce(db, baseUrl, apiKey, inventory(0, warmUp), warmUp, () => undefined);
  await runOnce(db, baseUrl, apiKey, masterData(0, warmUp), warmUp, () => undefined);

  const runs: InventoryRun[] = [];
  for (const [at, rows] of settings.sizes.entries()) {
    const run = at + 1;
    step(`inventory: a discovery batch of ${rows.toLocaleString('en')} rows through POST /inventory/batches and the import workflow ...`);
    const { id: batchId, ...batch } = await runOnce(db, baseUrl, apiKey, inventory(run, rows), rows, show);
    process.stdout.write('\n');
    if (batch.state !== 'completed') throw new Error(`the batch of ${rows} rows ended ${batch.state}`);
    const outcomes = Object.fromEntries((await db('import_rows').where({ import_id: batchId }).select('outcome').count({ n: '*' }).groupBy('outcome') as { outcome: string; n: string }[])
      .map((o) => [o.outcome ?? 'none', Number(o.n)]));
    step(`inventory: the baseline, ${rows.toLocaleString('en')} configuration items through POST /imports (master data) ...`);
    const { id: importId, ...baseline } = await runOnce(db, baseUrl, apiKey, masterData(run, rows), rows, show);
    process.stdout.write('\n');
    if (baseline.state !== 'completed') throw new Error(`the master-data import ${importId} of ${rows} CIs ended ${baseline.state}`);
    runs.push({
      ...batch, outcomes,
      checkRowsPerSecond: perSecond(rows, batch.checkSeconds), applyRowsPerSecond: perSecond(rows, batch.applySeconds), rowsPerSecond: perSecond(rows, batch.seconds),
      baseline: { ...baseline, rowsPerSecond: perSecond(rows, baseline.seconds) },
      timesBaseline: round(batch.seconds / Math.max(baseline.seconds, 0.1), 2),
    });
  }
  const peaks = runs.map((run) => Math.max(run.workflowPeakAboveStartMb, 1));
  return {
    cis: settings.cis, estateSeconds, cacheFilledWith: settings.cachedWorkflows, cacheFillRetainedMb: cacheFill.retainedAboveStartMb, boundMb: settings.boundMb,
    boundHeld: runs.every((run) => run.stagingPeakAboveStartMb < settings.boundMb && run.workflowPeakAboveStartMb < settings.boundMb),
    peakRatio: round(peaks[peaks.length - 1] / peaks[0], 2),
    liveHeapPeakMb: Math.max(...runs.map((run) => Math.max(run.checkLiveHeapAboveStartMb, run.applyLiveHeapAboveStartMb))),
    runs,
  };
}

export function reportInventory(report: InventoryReport): void {
  console.log(`\n== Discovered inventory: discovery batches against a ${report.cis.toLocaleString('en')}-CI estate (made in ${report.estateSeconds} s) `
    + `through POST /inventory/batches and the import workflow — target: peak RSS above the start under ${report.boundMb} MB at every size; `
    + 'baseline: the master-data import of as many CIs');
  console.table(report.runs.map((run) => ({
    rows: run.rows,
    seconds: run.seconds,
    'upload + staging s': run.uploadSeconds,
    'check s': run.checkSeconds,
    'check rows/s': run.checkRowsPerSecond,
    'apply s': run.applySeconds,
    'apply rows/s': run.applyRowsPerSecond,
    'baseline s (master data)': run.baseline.seconds,
    'x baseline': run.timesBaseline,
    'peak RSS staging MB': run.stagingPeakAboveStartMb,
    'peak RSS check MB': run.checkPeakAboveStartMb,
    'peak RSS apply MB': run.applyPeakAboveStartMb,
    'peak live heap check MB': run.checkLiveHeapAboveStartMb,
    'peak live heap apply MB': run.applyLiveHeapAboveStartMb,
    'peak heap used MB': run.heapUsedPeakAboveStartMb,
    'RSS after GC MB': run.retainedAboveStartMb,
    'live heap after GC MB': run.liveHeapAboveStartMb,
    'baseline peak MB': run.baseline.workflowPeakAboveStartMb,
  })));
  for (const run of report.runs) console.log(`  ${run.rows} rows: ${Object.entries(run.outcomes).map(([outcome, n]) => `${n} ${outcome}`).join(', ')}`);
  console.log(`warm-up: ${report.cacheFilledWith} new servers filled the worker's workflow cache with their lifecycle workflows, keeping ${report.cacheFillRetainedMb} MB of RSS`);
  console.log(`peak RSS bound of ${report.boundMb} MB ${report.boundHeld ? 'held' : 'NOT held'} at every size; largest batch's peak / smallest's: ${report.peakRatio}; `
    + `live heap at most ${report.liveHeapPeakMb} MB above the start in any pass (the rest of the peak is garbage V8 had not collected yet)`);
}
