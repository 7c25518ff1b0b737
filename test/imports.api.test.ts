/**
 * Bulk import through the API, with the import workflow on a real worker: cost centres from CSV
 * and from JSON lines; a dry run reports each row's verdict and writes nothing; the same file twice
 * changes nothing the second time; a file with bad rows writes nothing under reject_file (the
 * database exactly as before) and its good rows under skip_rows, and the report names each bad row
 * (row number, column, value, reason); a key named twice in a file, an unparseable line, a header
 * with an unknown column, and who may import and read. A row that passes the check but is refused
 * when written leaves an import under reject_file completed but marked not applied whole. A start
 * of the workflow that gets no answer: the import goes on when the workflow is there, and is
 * failed otherwise, in a way a start arriving late respects (it writes nothing). A run that
 * continued as new reports the rows applied so far, not 0.
 */
import { randomUUID } from 'node:crypto';
import { Readable } from 'node:stream';
import { gzipSync } from 'node:zlib';
import type { Client } from '@temporalio/client';
import { Worker } from '@temporalio/worker';
import type { ImportActivities } from '../activities/imports';
import { receiveImport } from '../api/imports';
import { importProgressQuery, type ImportChunkInput, type MasterDataImportInput } from '../workflows/master-data-import/contract';
import { createPerson, eventually, type TestPerson } from './support/fixtures';
import { send, startStack, workflowBundle, type Sent, type Stack } from './support/stack';

let stack: Stack;
let admin: TestPerson;
let owner: TestPerson;
let requester: TestPerson;
let processOwner: TestPerson;
let assetManager: TestPerson;

beforeAll(async () => {
  stack = await startStack();
  const db = stack.database.db;
  admin = await createPerson(db, ['admin'], 'Ada Admin');
  owner = await createPerson(db, ['approver'], 'Otto Owner');
  requester = await createPerson(db, ['requester'], 'Remy Requester');
  processOwner = await createPerson(db, ['process_owner'], 'Pia Owner');
  assetManager = await createPerson(db, ['asset_manager'], 'Ash Manager');
});

afterAll(async () => {
  await stack?.stop();
});

const FINAL = ['previewed', 'completed', 'refused', 'failed'];

function upload(apiKey: string, query: string, body: string | Uint8Array, contentType = 'text/csv', headers: Record<string, string> = {}): Promise<Sent> {
  return send(stack, apiKey, 'POST', `/imports?${query}`, { body, headers: { 'content-type': contentType, ...headers } });
}

async function finished(id: string, apiKey = admin.apiKey): Promise<any> {
  return eventually(async () => {
    const read = await send(stack, apiKey, 'GET', `/imports/${id}`);
    return FINAL.includes(read.body.state) ? read.body : undefined;
  }, 60_000, 100);
}

async function importAndWait(query: string, body: string, contentType?: string): Promise<any> {
  const sent = await upload(admin.apiKey, query, body, contentType);
  expect(sent.status).toBe(202);
  expect(sent.headers.get('location')).toBe(`/imports/${sent.body.id}`);
  return finished(sent.body.id);
}

const rowsOf = async (id: string, query = '') => (await send(stack, admin.apiKey, 'GET', `/imports/${id}/rows?limit=200${query}`)).body.items;

const costCentres = (prefix: string) => stack.database.db('cost_centres as cc').leftJoin('people as p', 'p.id', 'cc.owner_id')
  .whereILike('cc.code', `${prefix}%`).orderBy('cc.code').select('cc.id', 'cc.code', 'cc.name', 'p.email as owner', 'cc.version');

const auditCount = async () => Number((await stack.database.db('audit_log').where({ subject_type: 'cost_centre' }).count({ n: '*' }))[0].n);

describe('importing cost centres', () => {
  it('imports a CSV file: every row created with its audit row, the progress filled in', async () => {
    const csv = `code,name,ownerEmail\nim-a1,Alpha,${owner.email}\nIM-A2,"Beta, with comma",\nIM-A3,Gamma,${owner.email.toUpperCase()}\n`;
    const done = await importAndWait('kind=cost-centres&fileName=alpha.csv', csv);
    expect(done).toMatchObject({
      kind: 'cost-centres', format: 'csv', fileName: 'alpha.csv', dryRun: false, onInvalidRows: 'reject_file', state: 'completed',
      rowsTotal: 3, rowsChecked: 3, rowsApplied: 3, counts: { created: 3 }, message: null, requestedBy: admin.email,
      createdAt: expect.any(String), finishedAt: expect.any(String),
    });
    const stored = await costCentres('IM-A');
    expect(stored.map(({ code, name, owner: email }) => ({ code, name, email }))).toEqual([
      { code: 'IM-A1', name: 'Alpha', email: owner.email },
      { code: 'IM-A2', name: 'Beta, with comma', email: null },
      { code: 'IM-A3', name: 'Gamma', email: owner.email },
    ]);
    const audit = await stack.database.db('audit_log').whereIn('subject_id', stored.map((s) => s.id)).select('actor', 'action', 'details');
    expect(audit).toHaveLength(3);
    for (const row of audit) expect(row).toMatchObject({ actor: admin.email, action: 'created', details: { importId: done.id, rowNumber: expect.any(Number) } });
    const rows = await rowsOf(done.id);
    expect(rows.map((r: any) => [r.rowNumber, r.naturalKey, r.verdict, r.outcome])).toEqual([[1, 'IM-A1', 'create', 'created'], [2, 'IM-A2', 'create', 'created'], [3, 'IM-A3', 'create', 'created']]);
    expect(rows[0].recordId).toBe(stored[0].id);
    expect(rows[0].record).toEqual({ code: 'im-a1', name: 'Alpha', ownerEmail: owner.email });
  });

  it('imports JSON lines, gzipped, with blank lines; the list shows it', async () => {
    const jsonl = `{"code":"IM-J1","name":"Juliet","ownerEmail":"${owner.email}"}\n\n{"code":"IM-J2","name":"Kilo"}\r\n`;
    const sent = await upload(admin.apiKey, 'kind=cost-centres&format=jsonl', gzipSync(jsonl), 'application/x-ndjson', { 'content-encoding': 'gzip' });
    expect(sent.status).toBe(202);
    const done = await finished(sent.body.id);
    expect(done).toMatchObject({ format: 'jsonl', state: 'completed', rowsTotal: 2, rowsApplied: 2, counts: { created: 2 } });
    expect((await costCentres('IM-J')).map((c) => [c.code, c.name, c.owner])).toEqual([['IM-J1', 'Juliet', owner.email], ['IM-J2', 'Kilo', null]]);
    const list = await send(stack, admin.apiKey, 'GET', '/imports?limit=5');
    expect(list.body.items[0]).toMatchObject({ id: done.id, state: 'completed' });
  });

  it('previews a dry run: create, update, unchanged and refuse per row, and writes nothing', async () => {
    await importAndWait('kind=cost-centres', 'code,name\nIM-D1,Delta\nIM-D2,Echo\n');
    const before = await costCentres('IM-D');
    const audits = await auditCount();
    const csv = 'code,name,ownerEmail\nIM-D1,Delta,\nIM-D2,Echo renamed,\nIM-D3,Foxtrot,\nIM-D4,Golf,ghost@nowhere.example\n';
    const done = await importAndWait('kind=cost-centres&dryRun=true', csv);
    expect(done).toMatchObject({ state: 'previewed', dryRun: true, rowsChecked: 4, rowsApplied: 0, counts: { unchanged: 1, update: 1, create: 1, refuse: 1 } });
    const rows = await rowsOf(done.id);
    expect(rows.map((r: any) => [r.rowNumber, r.verdict, r.outcome])).toEqual([[1, 'unchanged', null], [2, 'update', null], [3, 'create', null], [4, 'refuse', null]]);
    expect(rows[1].changes).toEqual({ name: { from: 'Echo', to: 'Echo renamed' } });
    expect(rows[3].problems).toEqual([{ column: 'ownerEmail', value: 'ghost@nowhere.example', reason: 'no active person has this email' }]);
    expect(await costCentres('IM-D')).toEqual(before);
    expect(await auditCount()).toBe(audits);
  });

  it('changes nothing when the same file is imported twice', async () => {
    const csv = `code,name,ownerEmail\nIM-T1,Tango,${owner.email}\nIM-T2,Uniform,\n`;
    expect(await importAndWait('kind=cost-centres', csv)).toMatchObject({ state: 'completed', counts: { created: 2 } });
    const before = await costCentres('IM-T');
    const audits = await auditCount();
    const again = await importAndWait('kind=cost-centres', csv);
    expect(again).toMatchObject({ state: 'completed', rowsApplied: 2, counts: { unchanged: 2 } });
    expect(again.counts).not.toHaveProperty('created');
    expect(again.counts).not.toHaveProperty('updated');
    expect(await costCentres('IM-T')).toEqual(before);
    expect(await auditCount()).toBe(audits);
  });

  const badFile = (prefix: string) => [
    'code,name,ownerEmail',
    `${prefix}1,Good one,`,
    `${prefix}2,,`,
    `${prefix}3,Bad owner,not-an-email`,
    `${prefix}4,Too,many,cells`,
    `${prefix}5,Good two,${owner.email}`,
    `${prefix}1,Again,`,
  ].join('\n');

  it('refuses a file with bad rows whole under reject_file: the database as before, each bad row in the report', async () => {
    await importAndWait('kind=cost-centres', 'code,name\nIM-R5,Existing five\n');
    const before = await stack.database.db('cost_centres').orderBy('id').select();
    const audits = await auditCount();
    const done = await importAndWait('kind=cost-centres&onInvalidRows=reject_file', badFile('IM-R'));
    expect(done).toMatchObject({ state: 'refused', rowsTotal: 6, rowsApplied: 0, counts: { create: 1, update: 1, refuse: 4 }, message: expect.stringContaining('nothing was written') });
    expect(await stack.database.db('cost_centres').orderBy('id').select()).toEqual(before);
    expect(await auditCount()).toBe(audits);

    const report = await send(stack, admin.apiKey, 'GET', `/imports/${done.id}/report?format=csv`);
    expect(report.status).toBe(200);
    expect(report.headers.get('content-type')).toMatch(/^text\/csv/);
    const lines = report.text.trim().split('\n');
    expect(lines[0]).toBe('rowNumber,column,value,reason');
    expect(lines).toContain('2,name,,required');
    expect(lines.some((line) => line.startsWith('3,ownerEmail,not-an-email,'))).toBe(true);
    expect(lines.some((line) => /^4,\(row\),,"?not a CSV record: Invalid Record Length/.test(line))).toBe(true);
    expect(lines).toContain('6,code,IM-R1,the same key as row 1: a file names each record once');
    expect(lines).toHaveLength(5);
    const jsonl = await send(stack, admin.apiKey, 'GET', `/imports/${done.id}/report?format=jsonl`);
    expect(jsonl.text.trim().split('\n').map((line) => JSON.parse(line).rowNumber)).toEqual([2, 3, 4, 6]);
    const refusedRows = await rowsOf(done.id, '&problemsOnly=true');
    expect(refusedRows.map((r: any) => r.rowNumber)).toEqual([2, 3, 4, 6]);
  });

  it('writes the good rows under skip_rows and reports the bad ones', async () => {
    await importAndWait('kind=cost-centres', 'code,name\nIM-S5,Existing five\n');
    const done = await importAndWait('kind=cost-centres&onInvalidRows=skip_rows', badFile('IM-S'));
    expect(done).toMatchObject({ state: 'completed', rowsApplied: 6, counts: { created: 1, updated: 1, refused: 4 }, message: expect.stringContaining('4 row(s) refused') });
    expect((await costCentres('IM-S')).map((c) => [c.code, c.name, c.owner])).toEqual([['IM-S1', 'Good one', null], ['IM-S5', 'Good two', owner.email]]);
    const refused = await rowsOf(done.id, '&outcome=refused');
    expect(refused.map((r: any) => [r.rowNumber, r.problems[0].column])).toEqual([[2, 'name'], [3, 'ownerEmail'], [4, '(row)'], [6, 'code']]);
  });

  it('reports a line of JSON lines that cannot be parsed, and a line that is no object', async () => {
    const jsonl = '{"code":"IM-P1","name":"Papa"}\n{"code":"IM-P2", name: oops}\n[1,2]\n{"code":"IM-P3","name":"Quebec"}\n';
    const sent = await upload(admin.apiKey, 'kind=cost-centres&onInvalidRows=skip_rows', jsonl, 'application/x-ndjson');
    const done = await finished(sent.body.id);
    expect(done).toMatchObject({ state: 'completed', counts: { created: 2, refused: 2 } });
    const refused = await rowsOf(done.id, '&problemsOnly=true');
    expect(refused).toEqual([
      expect.objectContaining({ rowNumber: 2, record: null, problems: [expect.objectContaining({ column: '(row)', value: '{"code":"IM-P2", name: oops}', reason: expect.stringMatching(/^not valid JSON/) })] }),
      expect.objectContaining({ rowNumber: 3, record: null, problems: [expect.objectContaining({ reason: 'not a JSON object of columns' })] }),
    ]);
    expect((await costCentres('IM-P')).map((c) => c.code)).toEqual(['IM-P1', 'IM-P3']);
  });

  it('refuses a header with an unknown column or without the key column before staging anything', async () => {
    const imports = async () => Number((await stack.database.db('imports').count({ n: '*' }))[0].n);
    const count = await imports();
    const unknown = await upload(admin.apiKey, 'kind=cost-centres', 'code,name,budget\nIM-H1,Hotel,5\n');
    expect(unknown.status).toBe(400);
    expect(unknown.body.error).toMatchObject({ code: 'invalid_header', details: { unknown: ['budget'], columns: ['code', 'name', 'ownerEmail'] } });
    const keyless = await upload(admin.apiKey, 'kind=cost-centres', 'name\nHotel\n');
    expect(keyless.status).toBe(400);
    expect(keyless.body.error).toMatchObject({ code: 'invalid_header', details: { missing: ['code'] } });
    expect((await upload(admin.apiKey, 'kind=cost-centres', '')).status).toBe(400);
    expect((await upload(admin.apiKey, 'kind=cost-centres', 'code,name\n', 'application/octet-stream')).status).toBe(415);
    expect(await imports()).toBe(count);
  });

  it('lets only the kind\'s writers import, and its requester, process owners and admins read it', async () => {
    const denied = await upload(requester.apiKey, 'kind=cost-centres', 'code,name\nIM-X1,Xray\n');
    expect(denied.status).toBe(403);
    expect((await upload(assetManager.apiKey, 'kind=cost-centres', 'code,name\nIM-X1,Xray\n')).status).toBe(403);
    const done = await importAndWait('kind=cost-centres&dryRun=true', 'code,name\nIM-X1,Xray\n');
    expect((await send(stack, processOwner.apiKey, 'GET', `/imports/${done.id}`)).status).toBe(200);
    expect((await send(stack, processOwner.apiKey, 'GET', `/imports/${done.id}/rows`)).status).toBe(200);
    expect((await send(stack, requester.apiKey, 'GET', `/imports/${done.id}`)).status).toBe(403);
    expect((await send(stack, admin.apiKey, 'GET', '/imports/00000000-0000-4000-8000-000000000000')).status).toBe(404);
  });
});

describe('a row refused only when it is written', () => {
  it('leaves an import under reject_file completed but marked not applied whole, naming the first such row', async () => {
    const db = stack.database.db;
    // A constraint the kind does not check: the row passes the check and is refused by the database when written.
    await db.raw(`
      CREATE FUNCTION refuse_im_w2() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        IF NEW.code = 'IM-W2' THEN RAISE EXCEPTION 'IM-W2 is refused by the test' USING ERRCODE = 'check_violation'; END IF;
        RETURN NEW;
      END $$;
      CREATE TRIGGER refuse_im_w2 BEFORE INSERT ON cost_centres FOR EACH ROW EXECUTE FUNCTION refuse_im_w2()`);
    try {
      const done = await importAndWait('kind=cost-centres&onInvalidRows=reject_file', 'code,name\nIM-W1,Whiskey\nIM-W2,Xray\nIM-W3,Yankee\n');
      expect(done).toMatchObject({
        state: 'completed', onInvalidRows: 'reject_file', rowsApplied: 3, counts: { created: 2, refused: 1 },
        message: expect.stringMatching(/^not applied whole: 1 row\(s\) passed the check but were refused when written .*the first at row 2; the other rows were written/),
      });
      expect((await costCentres('IM-W')).map((c) => c.code)).toEqual(['IM-W1', 'IM-W3']);
      const [refused] = await rowsOf(done.id, '&problemsOnly=true');
      expect(refused).toMatchObject({ rowNumber: 2, verdict: 'create', outcome: 'refused', problems: [{ column: '(row)', reason: expect.stringContaining('IM-W2 is refused by the test') }] });
    } finally {
      await db.raw('DROP TRIGGER refuse_im_w2 ON cost_centres; DROP FUNCTION refuse_im_w2()');
    }
  });
});

describe('a start of the workflow that gets no answer', () => {
  const deadlineExceeded = () => Object.assign(new Error('Deadline exceeded'), { code: 4, details: 'Deadline exceeded', metadata: {} });

  /** The real client, but its start answers "deadline exceeded": after the workflow started (the answer lost), or before anything reached Temporal. */
  function clientWhoseStartGetsNoAnswer(reachesTemporal: boolean): Client {
    const real = stack.env.client;
    return {
      connection: real.connection,
      workflow: {
        getHandle: (workflowId: string) => real.workflow.getHandle(workflowId),
        start: async (...args: Parameters<Client['workflow']['start']>) => {
          if (reachesTemporal) await real.workflow.start(...args);
          throw deadlineExceeded();
        },
      },
    } as unknown as Client;
  }

  const receive = (temporal: Client, csv: string) => receiveImport({ db: stack.database.db, temporal, taskQueue: stack.taskQueue }, {
    kind: 'cost-centres', format: 'csv', dryRun: false, onInvalidRows: 'reject_file', fileName: 'no-answer.csv',
    requestedBy: { id: admin.id, email: admin.email }, file: Readable.from([csv]),
  });

  it('goes on as usual when the workflow is there after all', async () => {
    const summary = await receive(clientWhoseStartGetsNoAnswer(true), 'code,name\nIM-N1,November\nIM-N2,Oscar\n');
    expect(summary.state).not.toBe('failed');
    expect(await finished(summary.id)).toMatchObject({ state: 'completed', counts: { created: 2 } });
    expect((await costCentres('IM-N')).map((c) => c.code)).toEqual(['IM-N1', 'IM-N2']);
  });

  it('fails the import when the workflow is not there; a start that arrives late writes nothing, and the file uploaded again is applied once', async () => {
    const db = stack.database.db;
    const csv = 'code,name\nIM-L1,Lima\nIM-L2,Mike\n';
    await expect(receive(clientWhoseStartGetsNoAnswer(false), csv)).rejects.toMatchObject({ status: 504 });
    const failed = await db('imports').where({ file_name: 'no-answer.csv', state: 'failed' }).orderBy('created_at', 'desc').first('id', 'message', 'rows_total');
    expect(failed).toMatchObject({ rows_total: 2, message: expect.stringContaining('nothing was written, nor will be should the start arrive late: upload the file again') });
    const audit = await db('audit_log').where({ subject_type: 'import', subject_id: failed.id, action: 'import_failed' }).first('actor', 'from_state', 'to_state', 'details');
    expect(audit).toMatchObject({ actor: admin.email, from_state: 'receiving', to_state: 'failed', details: { before: { state: 'receiving' }, after: { state: 'failed' } } });

    // The start that got no answer reaches Temporal after all.
    const input: MasterDataImportInput = { importId: failed.id, kind: 'cost-centres', dryRun: false, onInvalidRows: 'reject_file', rowsTotal: 2 };
    const late = await stack.env.client.workflow.start('masterDataImportWorkflow', { workflowId: `import:${failed.id}`, taskQueue: stack.taskQueue, args: [input] });
    expect(await late.result()).toMatchObject({ state: 'failed', counts: {}, message: expect.stringContaining('marked failed before its check began') });
    expect(await db('imports').where({ id: failed.id }).first('state', 'message')).toEqual({ state: 'failed', message: failed.message });
    expect(await db('import_rows').where({ import_id: failed.id }).whereNotNull('verdict').first()).toBeUndefined();
    expect(await costCentres('IM-L')).toEqual([]);

    const again = await importAndWait('kind=cost-centres', csv);
    expect(again).toMatchObject({ state: 'completed', counts: { created: 2 } });
    expect((await costCentres('IM-L')).map((c) => [c.code, c.version])).toEqual([['IM-L1', 1], ['IM-L2', 1]]);
  });
});

describe('a run that continued as new', () => {
  it('reports the rows the earlier runs applied from the start, not 0', async () => {
    const importId = randomUUID();
    let reached!: () => void;
    const applying = new Promise<void>((resolve) => (reached = resolve));
    let release!: () => void;
    const released = new Promise<void>((resolve) => (release = resolve));
    const applied: ImportChunkInput[] = [];
    // Stubbed so the chunk can be held half done while the progress is asked for.
    const activities: Partial<ImportActivities> = {
      applyImportChunk: async (chunk) => {
        applied.push(chunk);
        reached();
        await released;
        return { rowsDone: 1_500 };
      },
      finishImport: async (finish) => ({ state: finish.state, counts: { created: 1_500 }, message: null }),
    };
    const taskQueue = `import-resume-${randomUUID()}`;
    const worker = await Worker.create({ connection: stack.env.nativeConnection, taskQueue, workflowBundle: await workflowBundle(), activities });
    await worker.runUntil(async () => {
      const input: MasterDataImportInput = {
        importId, kind: 'cost-centres', dryRun: false, onInvalidRows: 'reject_file', rowsTotal: 1_500, resume: { pass: 'apply', from: 1_001, rowsApplied: 1_000 },
      };
      const handle = await stack.env.client.workflow.start('masterDataImportWorkflow', { taskQueue, workflowId: `import:${importId}`, args: [input] });
      await applying;
      expect(await handle.query(importProgressQuery)).toMatchObject({ state: 'applying', rowsTotal: 1_500, rowsChecked: 1_500, rowsApplied: 1_000 });
      release();
      expect(await handle.result()).toMatchObject({ state: 'completed' });
      expect(await handle.query(importProgressQuery)).toMatchObject({ rowsApplied: 1_500 });
      expect(applied.map((chunk) => [chunk.from, chunk.to])).toEqual([[1_001, 1_500]]);
    });
  });
});
