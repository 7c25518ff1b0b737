/**
 * A worker killed in the middle of applying a 50,000-row import: the chunk it was applying has
 * committed (its rows written, their audit rows and outcomes stored) but the workflow never heard
 * of it. A new worker finishes the import; that chunk's retry finds its rows applied and takes none
 * again, so every row is applied once: 50,000 records, one 'created' audit row each, every staged
 * row with its outcome. The kill lands after the commit for certain: a deferred constraint trigger
 * holds the chunk's COMMIT on an advisory lock the test holds.
 */
import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { createPerson, eventually, type TestPerson } from './support/fixtures';
import { send, type Stack } from './support/stack';
import { holdCommits, kill, startStackForWorkerProcesses, WorkerProcesses } from './support/worker-process';

const ROWS = 50_000;
const HELD_ROW = 10_500;
const HOLD = 4_242_014;

let stack: Stack;
let admin: TestPerson;
let owner: TestPerson;
const workers = new WorkerProcesses();

beforeAll(async () => {
  stack = await startStackForWorkerProcesses();
  admin = await createPerson(stack.database.db, ['admin'], 'Ada Admin');
  owner = await createPerson(stack.database.db, ['approver'], 'Otto Owner');
});

afterAll(async () => {
  await workers.killAll();
  await stack?.stop();
});

/** The file as a stream, never a string: the API reads it as it comes. */
function costCentreFile(prefix: string): ReadableStream<Uint8Array> {
  async function* lines() {
    yield 'code,name,ownerEmail\n';
    for (let n = 1; n <= ROWS; n += 1) yield `${prefix}-${n},Cost centre ${n},${n % 2 === 0 ? owner.email : ''}\n`;
  }
  return Readable.toWeb(Readable.from(lines())) as ReadableStream<Uint8Array>;
}

it('applies every row of a 50,000-row import once when the worker is killed in the middle of applying it', async () => {
  const db = stack.database.db;
  const prefix = `WC${randomBytes(3).toString('hex').toUpperCase()}`;
  const held = await holdCommits(db, 'held_import_chunk_commit', 'cost_centres', `NEW.code = '${prefix}-${HELD_ROW}'`, HOLD);
  try {
    const first = workers.start(stack);
    const sent = await send(stack, admin.apiKey, 'POST', '/imports?kind=cost-centres&fileName=crash.csv', { body: costCentreFile(prefix), headers: { 'content-type': 'text/csv' } });
    expect(sent.status).toBe(202);
    const importId = sent.body.id;
    expect(sent.body).toMatchObject({ rowsTotal: ROWS });

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
    const done = await eventually(async () => {
      const read = await send(stack, admin.apiKey, 'GET', `/imports/${importId}`);
      return ['completed', 'failed', 'refused'].includes(read.body.state) ? read.body : undefined;
    }, 120_000, 250);
    expect(done).toMatchObject({ state: 'completed', rowsTotal: ROWS, rowsChecked: ROWS, rowsApplied: ROWS, counts: { created: ROWS } });

    const [{ n: records }] = await db('cost_centres').whereLike('code', `${prefix}-%`).count({ n: '*' });
    expect(Number(records)).toBe(ROWS);
    const audit = await db('audit_log').where({ subject_type: 'cost_centre', action: 'created' }).whereRaw(`details->>'importId' = ?`, [importId])
      .select(db.raw('count(*)::int AS rows'), db.raw('count(DISTINCT subject_id)::int AS records')).first();
    expect(audit).toEqual({ rows: ROWS, records: ROWS });
    const outcomes = await db('import_rows').where({ import_id: importId }).select('outcome').count({ n: '*' }).groupBy('outcome') as { outcome: string | null; n: string }[];
    expect(outcomes.map((o) => [o.outcome, Number(o.n)])).toEqual([['created', ROWS]]);

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
});
