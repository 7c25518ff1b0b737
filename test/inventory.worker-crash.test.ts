/**
 * A worker killed in the middle of applying a 3,000-row discovery batch (issue 16): the chunk it
 * was applying has committed (its records created or updated, their provenance, sightings, audit
 * rows and outcomes stored) but the workflow never heard of it. A new worker finishes the batch;
 * that chunk's retry finds its rows applied and takes none again, so every row is applied once:
 * a record per new device and no second one by host name or serial, one audit row per record
 * written, one sighting per record and source, every row with its outcome. The kill lands after
 * the commit for certain: a deferred constraint trigger holds the chunk's COMMIT on an advisory
 * lock the test holds.
 */
import { randomBytes } from 'node:crypto';
import type { Row } from '../model/master-data/kind';
import { createHardwareModel, createPerson, eventually, type TestPerson } from './support/fixtures';
import { batchReport, startInventoryBatch } from './support/inventory';
import type { Stack } from './support/stack';
import { holdCommits, kill, startStackForWorkerProcesses, WorkerProcesses } from './support/worker-process';

const ROWS = 3_000;
/** Rows 1, 3, ... 1,999 report the existing records (a changed environment); the others are new devices. */
const EXISTING = 1_000;
/** A new VM in the second chunk (1,001 to 2,000). */
const HELD_ROW = 1_502;
const HOLD = 4_242_016;
const DOMAIN = 'crash.northwind.example';

let stack: Stack;
let admin: TestPerson;
let modelName: string;
const workers = new WorkerProcesses();

beforeAll(async () => {
  stack = await startStackForWorkerProcesses();
  admin = await createPerson(stack.database.db, ['admin'], 'Ada Admin');
  modelName = `PowerEdge R760 crash ${randomBytes(3).toString('hex')}`;
  await createHardwareModel(stack.database.db, { manufacturer: 'Dell', name: modelName, category: 'server' });
});

afterAll(async () => {
  await workers.killAll();
  await stack?.stop();
});

/** Row n of the batch: an existing record's host (odd rows up to 2,000), else a new VM, every hundredth a new server with a serial. */
function rowOf(prefix: string, n: number): Row {
  if (n % 2 === 1 && n < 2 * EXISTING) return { ciClass: 'virtual_machine', hostname: `${prefix}-e-${(n + 1) / 2}`, domain: DOMAIN, environment: 'staging' };
  if (n % 100 === 0) return { ciClass: 'server', hostname: `${prefix}-n-${n}`, domain: DOMAIN, serialNumber: `${prefix}-S${n}`, model: `Dell ${modelName}` };
  return { ciClass: 'virtual_machine', hostname: `${prefix}-n-${n}`, domain: DOMAIN, environment: 'production' };
}

it('applies every row of a 3,000-row discovery batch once when the worker is killed in the middle of applying it', async () => {
  const db = stack.database.db;
  const prefix = `wc${randomBytes(3).toString('hex')}`;
  await db.raw(`
    INSERT INTO configuration_items (name, ci_class, hostname, dns_domain, environment)
    SELECT ? || '-e-' || i, 'virtual_machine', ? || '-e-' || i, ?, 'production' FROM generate_series(1, ?::int) AS i`, [prefix, prefix, DOMAIN, EXISTING]);
  const rows = Array.from({ length: ROWS }, (_, at) => rowOf(prefix, at + 1));
  const newRows = rows.filter((row) => String(row.hostname).includes('-n-'));
  const newServers = newRows.filter((row) => row.ciClass === 'server').length;
  const held = await holdCommits(db, 'held_inventory_chunk_commit', 'configuration_items', `NEW.hostname = '${prefix}-n-${HELD_ROW}'`, HOLD);
  try {
    const first = workers.start(stack);
    const { importId } = await startInventoryBatch(stack, { source: 'discovery', rows, requestedById: admin.id, batchKey: `crash-${prefix}` });

    // The chunk holding the row waits in its COMMIT: kill its worker, then let the commit through.
    await held.waitUntilHeld();
    await kill(first);
    const atKill = await db('imports').where({ id: importId }).first('state', 'rows_checked', 'rows_applied');
    expect(atKill).toMatchObject({ state: 'applying', rows_checked: ROWS });
    expect(atKill.rows_applied).toBeLessThan(HELD_ROW);
    await held.release();
    // Committed, yet the workflow does not know it.
    await eventually(async () => (await db('import_rows').where({ import_id: importId, row_number: HELD_ROW }).whereNotNull('outcome').first()) ?? undefined, 10_000, 20);

    workers.start(stack);
    const summary = await eventually(async () => {
      const read = await db('imports').where({ id: importId }).first('state');
      return ['completed', 'failed', 'refused'].includes(read.state) ? (await batchReport(stack, importId)).summary : undefined;
    }, 180_000, 250);
    expect(summary).toMatchObject({ state: 'completed', rowsTotal: ROWS, rowsChecked: ROWS, rowsApplied: ROWS, counts: { created: newRows.length, updated: EXISTING } });

    // A record per new device, none twice by host name or serial.
    const records = await db('configuration_items').whereLike('hostname', `${prefix}-%`)
      .select(db.raw('count(*)::int AS records'), db.raw('count(DISTINCT hostname)::int AS hosts'), db.raw(`count(*) FILTER (WHERE discovery_state = 'discovered')::int AS discovered`)).first();
    expect(records).toEqual({ records: EXISTING + newRows.length, hosts: EXISTING + newRows.length, discovered: newRows.length });
    const assets = await db('assets').whereLike('serial_number', `${prefix}-S%`).select(db.raw('count(*)::int AS assets'), db.raw('count(DISTINCT serial_key)::int AS serials')).first();
    expect(assets).toEqual({ assets: newServers, serials: newServers });

    // One audit row per record written: discovered for the new, reconciled for the existing.
    const audit = await db('audit_log').where({ subject_type: 'configuration_item' }).whereRaw(`details->>'importId' = ?`, [importId])
      .select('action', db.raw('count(*)::int AS rows'), db.raw('count(DISTINCT subject_id)::int AS records')).groupBy('action').orderBy('action');
    expect(audit).toEqual([{ action: 'discovered', rows: newRows.length, records: newRows.length }, { action: 'reconciled', rows: EXISTING, records: EXISTING }]);

    // One sighting per record and source, naming this batch.
    const sightings = await db('ci_sightings as s').join('configuration_items as ci', 'ci.id', 's.ci_id').whereLike('ci.hostname', `${prefix}-%`)
      .select(db.raw('count(*)::int AS sightings'), db.raw('count(DISTINCT s.ci_id)::int AS records'), db.raw('count(*) FILTER (WHERE s.last_import_id = ?)::int AS this_batch', [importId])).first();
    expect(sightings).toEqual({ sightings: ROWS, records: ROWS, this_batch: ROWS });

    // Every row's outcome stored once, with the record it wrote.
    const outcomes = await db('import_rows').where({ import_id: importId }).select('outcome').count({ n: '*' }).countDistinct({ records: 'record_id' }).groupBy('outcome').orderBy('outcome') as { outcome: string; n: string; records: string }[];
    expect(outcomes.map((o) => [o.outcome, Number(o.n), Number(o.records)])).toEqual([['created', newRows.length, newRows.length], ['updated', EXISTING, EXISTING]]);

    // The held chunk ran again on the new worker and took nothing the first one had committed.
    const history = await stack.env.client.workflow.getHandle(`import:${importId}`).fetchHistory();
    const heldFrom = Math.floor((HELD_ROW - 1) / 1000) * 1000 + 1;
    const scheduled = history.events!.find((e) => e.activityTaskScheduledEventAttributes?.activityType?.name === 'applyImportChunk'
      && Buffer.from(e.activityTaskScheduledEventAttributes.input!.payloads![0].data!).toString().includes(`"from":${heldFrom},`))!;
    const started = history.events!.find((e) => String(e.activityTaskStartedEventAttributes?.scheduledEventId) === String(scheduled.eventId));
    expect(started!.activityTaskStartedEventAttributes!.attempt).toBe(2);
  } finally {
    await held.drop();
  }
}, 300_000);
