/**
 * Cloud bills in FOCUS through POST /cost-imports, with a real worker: a CSV, a gzipped CSV and a
 * Parquet file (written by DuckDB here) are read, checked and staged, and their workflow writes them
 * with the file's totals to the last decimal place; the same file twice answers one import and one
 * set of records; a bill in parts is one import, its rows numbered across the parts; a file with
 * bad rows (or lines DuckDB cannot split) reports each row, column and reason (JSON and CSV); a
 * file without the required columns is refused 422 naming them, one DuckDB cannot read 422 with the
 * reason; a file past the limit 413, nothing kept; an import left staging by a stopped process no
 * longer holds its file; a third bill at once is 503; the web page shows the import; who may send.
 * A file dropped in the watched folder is imported and moved to done/, the same bytes again
 * answered by a .repeated.txt.
 */
import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { DuckDBInstance } from '@duckdb/node-api';
import { addDecimals, canonicalDecimal, formatDecimal, type ExactDecimal } from '../domain/cost-allocation';
import { readFocusNumber } from '../domain/focus';
import { createPerson, eventually, type TestPerson } from './support/fixtures';
import express from 'express';
import type { Knex } from 'knex';
import type { AddressInfo } from 'node:net';
import { sweepAbandonedCostImports, textOf, watchCostDropFolder } from '../api/cost-import-intake';
import { errorHandler } from '../api/errors';
import { streamRefusalsCsv } from '../api/routes/cost-imports';
import { findCostImport } from '../model/cost-imports';
import { createLogger } from '../platform/logger';
import { send, startExtraApi, startStack, type Sent, type Stack } from './support/stack';
import { browse, hiddenCsrf, signInWithKey, webAgent } from './support/web-agent';

let stack: Stack;
let manager: TestPerson;
let requester: TestPerson;
let owner: TestPerson;
let dir: string;

beforeAll(async () => {
  stack = await startStack();
  manager = await createPerson(stack.database.db, ['asset_manager'], 'Fin Ops');
  requester = await createPerson(stack.database.db, ['requester'], 'Rae Requester');
  owner = await createPerson(stack.database.db, ['process_owner'], 'Pat Owner');
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'assetflow-cost-intake-'));
});

afterAll(async () => {
  await stack?.stop();
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

const unique = () => randomBytes(4).toString('hex');

const HEADER = ['BillingPeriodStart', 'BillingPeriodEnd', 'ChargePeriodStart', 'ChargePeriodEnd', 'ChargeCategory', 'ProviderName', 'BillingAccountId',
  'ServiceName', 'ResourceId', 'RegionName', 'BilledCost', 'EffectiveCost', 'ListCost', 'BillingCurrency', 'Tags', 'x_UsageType'];

interface Line {
  provider: string;
  currency: string;
  billed: string;
  effective: string;
  account?: string;
  resource?: string;
  category?: string;
  chargeStart?: string;
  chargeEnd?: string;
}

const csvCell = (value: string) => (/[",\n]/.test(value) ? `"${value.replace(/"/g, '""')}"` : value);

function focusCsv(lines: Line[], header = HEADER): string {
  const rows = lines.map((l) => {
    const byColumn: Record<string, string> = {
      BillingPeriodStart: '2026-10-01T00:00:00Z', BillingPeriodEnd: '2026-11-01T00:00:00Z',
      ChargePeriodStart: l.chargeStart ?? '2026-10-14T00:00:00Z', ChargePeriodEnd: l.chargeEnd ?? '2026-10-15T00:00:00Z',
      ChargeCategory: l.category ?? 'Usage', ProviderName: l.provider, BillingAccountId: l.account ?? '', ServiceName: 'Amazon Elastic Compute Cloud',
      ResourceId: l.resource ?? `i-${unique()}`, RegionName: 'eu-west-1', BilledCost: l.billed, EffectiveCost: l.effective, ListCost: '0.5',
      BillingCurrency: l.currency, Tags: JSON.stringify({ 'cost-centre': 'CC-NONE', env: 'prod' }), x_UsageType: 'BoxUsage:m5.large',
    };
    return header.map((column) => csvCell(byColumn[column] ?? '')).join(',');
  });
  return `${header.join(',')}\n${rows.join('\n')}\n`;
}

/** A cost as FOCUS writes it (plain or with an exponent), exactly. */
function exact(text: string): ExactDecimal {
  const read = readFocusNumber(text);
  if (!('value' in read)) throw new Error(read.reason);
  return read.value;
}

/** One text per value: "12.300" and "12.3" alike. */
const same = (text: string) => formatDecimal(canonicalDecimal(exact(text)));

/** The file's own totals per provider and currency, exact. */
function fileTotals(lines: Line[]): Record<string, { billed: string; effective: string; rows: number }> {
  const groups = new Map<string, Line[]>();
  for (const line of lines) groups.set(`${line.provider}/${line.currency}`, [...(groups.get(`${line.provider}/${line.currency}`) ?? []), line]);
  return Object.fromEntries([...groups].map(([key, group]) => [key, {
    rows: group.length,
    billed: formatDecimal(addDecimals(group.map((l) => exact(l.billed)))),
    effective: formatDecimal(addDecimals(group.map((l) => exact(l.effective)))),
  }]));
}

function upload(body: string | Uint8Array, contentType = 'text/csv', fileName = 'bill.csv', apiKey = manager.apiKey, base: Pick<Stack, 'baseUrl'> = stack): Promise<Sent> {
  return send(base, apiKey, 'POST', `/cost-imports?fileName=${encodeURIComponent(fileName)}`, { body, headers: { 'content-type': contentType } });
}

/** A multipart form with a part named file per file: one bill, or the parts of one. */
async function uploadParts(parts: { name: string; body: string | Uint8Array }[], apiKey = manager.apiKey): Promise<Sent> {
  const form = new FormData();
  for (const part of parts) form.append('file', new Blob([part.body]), part.name);
  const res = await fetch(`${stack.baseUrl}/cost-imports`, { method: 'POST', headers: { authorization: `Bearer ${apiKey}` }, body: form });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : undefined, text, headers: res.headers };
}

/** The data lines of a FOCUS CSV, without its header. */
const dataLines = (lines: Line[]) => focusCsv(lines).trimEnd().split('\n').slice(1);

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

const FINAL = ['completed', 'failed'];

async function finished(number: string): Promise<any> {
  return eventually(async () => {
    const read = await send(stack, manager.apiKey, 'GET', `/cost-imports/${number}`);
    return FINAL.includes(read.body.state) ? read.body : undefined;
  }, 60_000, 100);
}

const importRow = (number: string) => stack.database.db('cost_imports').where({ number }).first();

/** Every decimal place of the file, per provider and currency, in the import's totals. */
function expectTotals(done: any, lines: Line[]): void {
  const byKey = Object.fromEntries((done.totals as any[]).map((t) => [`${t.provider}/${t.currency}`, t]));
  for (const [key, want] of Object.entries(fileTotals(lines))) {
    const got = byKey[key];
    expect(got).toBeDefined();
    expect({ rows: got.rows, billed: same(got.billedCost), effective: same(got.effectiveCost) })
      .toEqual({ rows: want.rows, billed: same(want.billed), effective: same(want.effective) });
  }
}

function billLines(): Line[] {
  const s = unique();
  return [
    { provider: `AWS ${s}`, account: `1111${s}`, currency: 'USD', billed: '0.000000123456789012', effective: '0.0000001234567890' },
    { provider: `AWS ${s}`, account: `1111${s}`, currency: 'USD', billed: '12.3456789012345', effective: '11.98765432109876' },
    { provider: `AWS ${s}`, account: `1111${s}`, currency: 'USD', billed: '1.2E-7', effective: '1.1e-7' },
    { provider: `Microsoft ${s}`, account: `sub-${s}`, currency: 'EUR', billed: '3.1415926535897932', effective: '2.7182818284590452' },
    { provider: `Microsoft ${s}`, account: `sub-${s}`, currency: 'EUR', billed: '-0.0000000001', effective: '-0.0000000001' },
  ];
}

describe('a CSV file', () => {
  it('is staged, its import answered 202 with a Location; its workflow writes it with the file\'s totals to the last decimal place', async () => {
    const lines = billLines();
    const sent = await upload(focusCsv(lines), 'text/csv', 'october.csv');
    expect(sent.status).toBe(202);
    expect(sent.headers.get('location')).toBe(`/cost-imports/${sent.body.number}`);
    expect(sent.body).toMatchObject({
      number: expect.stringMatching(/^CIM\d{7}$/), fileName: 'october.csv', format: 'csv', focusVersion: '1.0', source: 'api', repeated: false,
      rowsTotal: 5, rowsRefused: 0, requestedBy: manager.email, workflowId: expect.stringMatching(/^cost-import:/),
    });
    expect(['staged', 'applying', 'completed']).toContain(sent.body.state);
    expect(sent.body.scopes).toEqual(expect.arrayContaining([
      { provider: lines[0].provider, billingAccountId: lines[0].account, billingPeriodStart: '2026-10-01T00:00:00Z' },
      { provider: lines[3].provider, billingAccountId: lines[3].account, billingPeriodStart: '2026-10-01T00:00:00Z' },
    ]));
    expect(sent.body.scopes).toHaveLength(2);
    const audit = await stack.database.db('audit_log').where({ subject_type: 'cost_import', subject_id: sent.body.id, action: 'cost_import_received' }).first();
    expect(audit.details).toMatchObject({ rowsTotal: 5, rowsRefused: 0, format: 'csv', ignoredColumns: expect.arrayContaining(['x_UsageType']) });

    const done = await finished(sent.body.number);
    expect(done).toMatchObject({ state: 'completed', rowsImported: 5, rowsRefused: 0 });
    expectTotals(done, lines);
  });

  it('keeps every decimal place while staged: the staged costs are the file\'s, exactly', async () => {
    // A copy of the staged rows as the COPY wrote them, read before the workflow takes them.
    const lines = billLines();
    await stack.stopWorker();
    try {
      const sent = await upload(focusCsv(lines), 'text/csv', 'staged.csv');
      expect(sent.status).toBe(202);
      expect(sent.body.state).toBe('staged');
      const staged = await stack.database.db('cost_import_rows').where({ import_id: sent.body.id }).orderBy('row_number')
        .select('row_number', db().raw('billed_cost::text as billed'), db().raw('effective_cost::text as effective'), 'billing_currency', 'provider_name', 'tags');
      expect(staged.map((r) => r.row_number)).toEqual([1, 2, 3, 4, 5]);
      expect(staged.map((r) => same(r.billed))).toEqual(lines.map((l) => same(l.billed)));
      expect(staged[2].billed).toBe('0.00000012');
      expect(staged[0].tags).toEqual({ 'cost-centre': 'CC-NONE', env: 'prod' });
    } finally {
      await stack.startWorker();
    }
  });

  it('sent twice (or twice at once) is one import and one set of records: the second answer is the first import, repeated, and nothing is staged again', async () => {
    const lines = billLines();
    const body = focusCsv(lines);
    const [a, b] = await Promise.all([upload(body), upload(body)]);
    const first = a.body.repeated ? b : a;
    const second = a.body.repeated ? a : b;
    expect(first.status).toBe(202);
    expect(second.status).toBe(200);
    expect(second.body).toMatchObject({ repeated: true, number: first.body.number });
    await finished(first.body.number);
    const again = await upload(body);
    expect(again.status).toBe(200);
    expect(again.body).toMatchObject({ repeated: true, number: first.body.number, state: 'completed' });
    const sha = (await importRow(first.body.number)).file_sha256;
    expect(Number((await db()('cost_imports').where({ file_sha256: sha }).count({ n: '*' }))[0].n)).toBe(1);
    // One set of records: the file's rows once, with the file's totals.
    const providers = [...new Set(lines.map((l) => l.provider))];
    const records = await db()('cost_records').whereIn('provider_name', providers)
      .select('provider_name', 'billing_currency', 'cost_import_id', db().raw('billed_cost::text as billed'), db().raw('effective_cost::text as effective'));
    expect(records).toHaveLength(lines.length);
    expect(new Set(records.map((r) => r.cost_import_id))).toEqual(new Set([first.body.id]));
    for (const [key, want] of Object.entries(fileTotals(lines))) {
      const mine = records.filter((r) => `${r.provider_name}/${r.billing_currency.trim()}` === key);
      expect({ rows: mine.length, billed: same(formatDecimal(addDecimals(mine.map((r) => exact(r.billed))))), effective: same(formatDecimal(addDecimals(mine.map((r) => exact(r.effective))))) })
        .toEqual({ rows: want.rows, billed: same(want.billed), effective: same(want.effective) });
    }
  });
});

const db = () => stack.database.db;

describe('gzip and Parquet', () => {
  it('reads a gzipped CSV by its magic bytes, whatever its Content-Type', async () => {
    const lines = billLines();
    const sent = await upload(gzipSync(Buffer.from(focusCsv(lines))), 'application/octet-stream', 'october.csv.gz');
    expect(sent.status).toBe(202);
    expect(sent.body).toMatchObject({ format: 'csv_gzip', rowsTotal: 5, rowsRefused: 0 });
    expectTotals(await finished(sent.body.number), lines);
  });

  it('reads Parquet with typed columns: decimals exact, timestamps, a MAP of tags, FOCUS 1.2 columns', async () => {
    const s = unique();
    const file = path.join(dir, `bill-${s}.parquet`);
    const instance = await DuckDBInstance.create(':memory:');
    const connection = await instance.connect();
    try {
      await connection.run(`COPY (SELECT * FROM (VALUES
        (TIMESTAMPTZ '2026-10-01 00:00:00+00', TIMESTAMPTZ '2026-11-01 00:00:00+00', TIMESTAMP '2026-10-02 00:00:00', TIMESTAMP '2026-10-02 01:00:00',
          'Usage', 'Google Cloud ${s}', 'billing-${s}', 'Compute Engine', 12.345678901234567890::DECIMAL(38,18), 12.3::DECIMAL(38,18), 'USD',
          MAP {'cost-centre': 'CC-X', 'app': 'billing'}, 'INV-1', 'USD', 'Billing Account'),
        (TIMESTAMPTZ '2026-10-01 00:00:00+00', TIMESTAMPTZ '2026-11-01 00:00:00+00', TIMESTAMP '2026-10-03 00:00:00', TIMESTAMP '2026-10-03 01:00:00',
          'Usage', 'Google Cloud ${s}', 'billing-${s}', 'Cloud Storage', 0.000000000000000001::DECIMAL(38,18), 0::DECIMAL(38,18), 'USD',
          MAP {'env': 'test'}, 'INV-1', 'USD', 'Billing Account')
      ) AS t(BillingPeriodStart, BillingPeriodEnd, ChargePeriodStart, ChargePeriodEnd, ChargeCategory, ProviderName, BillingAccountId, ServiceName,
        BilledCost, EffectiveCost, BillingCurrency, Tags, InvoiceId, PricingCurrency, BillingAccountType)) TO '${file}' (FORMAT parquet)`);
    } finally {
      connection.closeSync();
      instance.closeSync();
    }
    const sent = await upload(fs.readFileSync(file), 'application/vnd.apache.parquet', 'gcp.parquet');
    expect(sent.status).toBe(202);
    expect(sent.body).toMatchObject({ format: 'parquet', rowsTotal: 2, rowsRefused: 0 });
    const done = await finished(sent.body.number);
    expect(done.state).toBe('completed');
    expectTotals(done, [
      { provider: `Google Cloud ${s}`, currency: 'USD', billed: '12.34567890123456789', effective: '12.3' },
      { provider: `Google Cloud ${s}`, currency: 'USD', billed: '0.000000000000000001', effective: '0' },
    ]);
  });
});

describe('refusals', () => {
  it('stores the good rows and reports each bad one with its row, column and reason, as JSON and as CSV', async () => {
    const lines = billLines();
    const bad: Line[] = [
      { ...lines[0], billed: 'abc' },
      { ...lines[0], currency: 'US', chargeStart: '2026-10-20T00:00:00Z', chargeEnd: '2026-10-19T00:00:00Z' },
      { ...lines[0], category: 'Bogus' },
    ];
    const sent = await upload(focusCsv([lines[0], bad[0], lines[1], bad[1], bad[2]]), 'text/csv', 'bad.csv');
    expect(sent.status).toBe(202);
    expect(sent.body).toMatchObject({ rowsTotal: 5, rowsRefused: 3 });

    const report = await send(stack, manager.apiKey, 'GET', `/cost-imports/${sent.body.number}/refusals`);
    expect(report.status).toBe(200);
    expect(report.body.page.total).toBe(3);
    const byRow = Object.fromEntries((report.body.items as any[]).map((item) => [item.rowNumber, item]));
    expect(Object.keys(byRow).map(Number)).toEqual([2, 4, 5]);
    expect(byRow[2].problems).toEqual([{ column: 'BilledCost', reason: expect.stringContaining('abc') }]);
    expect(byRow[2].line).toMatchObject({ BilledCost: 'abc', ProviderName: lines[0].provider });
    expect(byRow[4].problems.map((p: any) => p.column).sort()).toEqual(['BillingCurrency', 'ChargePeriodEnd']);
    expect(byRow[5].problems).toEqual([{ column: 'ChargeCategory', reason: expect.stringContaining('Bogus') }]);

    const csv = await send(stack, manager.apiKey, 'GET', `/cost-imports/${sent.body.number}/refusals?format=csv`);
    expect(csv.status).toBe(200);
    expect(csv.headers.get('content-type')).toMatch(/^text\/csv/);
    const csvLines = csv.text.trim().split('\n');
    expect(csvLines[0]).toBe('row,column,reason,line');
    expect(csvLines.slice(1).map((line) => line.split(',').slice(0, 2).join(','))).toEqual(['2,BilledCost', ...(byRow[4].problems as any[]).map((p) => `4,${p.column}`), '5,ChargeCategory']);

    const done = await finished(sent.body.number);
    expect(done).toMatchObject({ state: 'completed', rowsImported: 2, rowsRefused: 3 });
    expectTotals(done, [lines[0], lines[1]]);
  });

  it('refuses a file without the required FOCUS columns (422 not_focus, named); the import is kept, failed', async () => {
    const header = HEADER.filter((column) => column !== 'BilledCost' && column !== 'ChargePeriodEnd');
    const sent = await upload(focusCsv(billLines(), header), 'text/csv', 'not-focus.csv');
    expect(sent.status).toBe(422);
    expect(sent.body.error).toMatchObject({ code: 'not_focus', details: { missing: expect.arrayContaining(['BilledCost', 'ChargePeriodEnd']) } });
    expect(sent.body.error.message).toContain('BilledCost');
    const failed = await importRow(sent.body.error.details.import);
    expect(failed).toMatchObject({ state: 'failed', message: expect.stringContaining('ChargePeriodEnd') });
  });

  it('refuses a file DuckDB cannot read (a broken gzip) with the reason, 422', async () => {
    const sent = await upload(Buffer.from([0x1f, 0x8b, 8, 0, 1, 2, 3, 4, 5, 6, 7]), 'application/gzip', 'broken.csv.gz');
    expect(sent.status).toBe(422);
    expect(sent.body.error.code).toBe('unreadable_file');
    expect(sent.body.error.message).toMatch(/gzip/i);
  });

  it('refuses a file past the limit with 413 and keeps nothing, its temporary file gone', async () => {
    const small = await startExtraApi(stack, { costImportMaxBytes: 2048 });
    const tempDir = path.join(os.tmpdir(), 'assetflow-cost-imports');
    const before = fs.existsSync(tempDir) ? fs.readdirSync(tempDir).length : 0;
    try {
      const body = focusCsv([...billLines(), ...billLines(), ...billLines(), ...billLines()]);
      expect(body.length).toBeGreaterThan(2048);
      // Streamed without a Content-Length: the limit is counted as the bytes arrive.
      const stream = new ReadableStream({ start(controller) {
        controller.enqueue(new TextEncoder().encode(body));
        controller.close();
      } });
      const sent = await send(small, manager.apiKey, 'POST', '/cost-imports?fileName=large.csv', { body: stream, headers: { 'content-type': 'text/csv' } });
      expect(sent.status).toBe(413);
      expect(sent.body.error.code).toBe('payload_too_large');
      expect(await db()('cost_imports').where({ file_name: 'large.csv' }).first()).toBeUndefined();
      expect(fs.existsSync(tempDir) ? fs.readdirSync(tempDir).length : 0).toBeLessThanOrEqual(before);
    } finally {
      await small.stop();
    }
  });

  it('lets only asset managers and admins send (an import writes inventory), process owners read; 415 for a JSON body', async () => {
    expect((await upload(focusCsv(billLines()), 'text/csv', 'x.csv', requester.apiKey)).status).toBe(403);
    expect((await upload(focusCsv(billLines()), 'text/csv', 'x.csv', owner.apiKey)).status).toBe(403);
    expect((await send(stack, owner.apiKey, 'GET', '/cost-imports')).status).toBe(200);
    expect((await upload('{}', 'application/json')).status).toBe(415);
  });

  it('reports the lines DuckDB cannot split (one value too many or too few, a quote not closed) in their places; the good rows around them import', async () => {
    const lines = billLines();
    const [good0, good1, good2, good3] = dataLines(lines);
    // A value over two lines first: rows are counted as records, not as lines of text.
    const multiLine = good1.replace(/,BoxUsage:m5\.large$/, ',"Box\nUsage"');
    expect(multiLine).not.toBe(good1);
    const body = `${HEADER.join(',')}\n${[good0, multiLine, `${good2},surplus`, good3, good0.split(',').slice(0, 5).join(','), `${dataLines([lines[4]])[0]}`, `"${good0}`].join('\n')}\n`;
    const sent = await upload(body, 'text/csv', 'ragged.csv');
    expect(sent.status).toBe(202);
    expect(sent.body).toMatchObject({ rowsTotal: 7, rowsRefused: 3 });
    const report = await send(stack, manager.apiKey, 'GET', `/cost-imports/${sent.body.number}/refusals`);
    const byRow = Object.fromEntries((report.body.items as any[]).map((item) => [item.rowNumber, item]));
    expect(Object.keys(byRow).map(Number)).toEqual([3, 5, 7]);
    expect(byRow[3].problems).toEqual([{ column: '', reason: expect.stringContaining('more values than the header has columns') }]);
    expect(byRow[3].line.line).toContain(lines[2].billed);
    expect(byRow[5].problems).toEqual([{ column: expect.any(String), reason: expect.stringContaining('fewer values than the header has columns') }]);
    expect(byRow[7].problems[0].reason).toContain('quote');
    const done = await finished(sent.body.number);
    expect(done).toMatchObject({ state: 'completed', rowsImported: 4, rowsRefused: 3 });
    expectTotals(done, [lines[0], lines[1], lines[3], lines[4]]);
  });

  it('stages a file with many bad rows on a pool of one connection: the refusals wait in a file, not for a second connection', async () => {
    const narrow = await startExtraApi(stack, { poolSize: 1 });
    try {
      const lines = billLines();
      const bad = Array.from({ length: 600 }, () => ({ ...lines[0], billed: 'abc' }));
      const sent = await upload(focusCsv([lines[0], ...bad, lines[1]]), 'text/csv', 'many-bad.csv', manager.apiKey, narrow);
      expect(sent.status).toBe(202);
      expect(sent.body).toMatchObject({ rowsTotal: 602, rowsRefused: 600 });
      expect(Number((await db()('cost_import_refusals').where({ import_id: sent.body.id }).count({ n: '*' }))[0].n)).toBe(600);
      expect(await finished(sent.body.number)).toMatchObject({ state: 'completed', rowsImported: 2 });
    } finally {
      await narrow.stop();
    }
  });

  it('cuts the refusals CSV (never a clean end) when the database fails after the first lines went out', async () => {
    const [{ id }] = await db()('cost_imports').insert({
      file_name: 'cut.csv', file_sha256: randomBytes(32).toString('hex'), file_bytes: 1, format: 'csv', state: 'failed', requested_by_id: manager.id,
    }).returning('id');
    await db().raw(`INSERT INTO cost_import_refusals (import_id, row_number, problems, line)
      SELECT ?, n, '[{"column": "BilledCost", "reason": "not a number"}]'::jsonb, '{}'::jsonb FROM generate_series(1, 1500) n`, [id]);
    const summary = (await findCostImport(db(), { id }))!;
    let reads = 0;
    const flaky = ((table: string) => {
      reads += 1;
      if (reads > 1) throw new Error('the database went away');
      return db()(table);
    }) as unknown as Knex;
    const app = express();
    app.get('/refused', async (_req, res) => streamRefusalsCsv(res, { db: flaky }, summary));
    app.use(errorHandler(createLogger('silent', 'test')));
    const server = app.listen(0, '127.0.0.1');
    await new Promise((resolve) => server.once('listening', resolve));
    try {
      const res = await fetch(`http://127.0.0.1:${(server.address() as AddressInfo).port}/refused`);
      expect(res.status).toBe(200);
      await expect(res.text()).rejects.toThrow();
    } finally {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
  });
});

describe('a bill in parts', () => {
  it('is one import: its parts read together in the order of their names, rows numbered across them, a refused row naming its part; sent again, repeated', async () => {
    const lines = billLines();
    const part1 = focusCsv([lines[0], lines[1]]);
    const part2 = focusCsv([lines[2], { ...lines[2], billed: 'abc' }, lines[3]]);
    const part10 = `${focusCsv([]).trimEnd()}\n${dataLines([lines[0]])[0]},surplus\n${dataLines([lines[4]])[0]}\n`;
    const sent = await uploadParts([{ name: 'part-2.csv', body: part2 }, { name: 'part-10.csv', body: part10 }, { name: 'part-1.csv', body: part1 }]);
    expect(sent.status).toBe(202);
    expect(sent.body).toMatchObject({ fileName: 'part-1.csv … part-10.csv (3 parts)', format: 'csv', rowsTotal: 7, rowsRefused: 2, repeated: false });
    expect(sent.body.fileSha256).toBe(createHash('sha256').update([part1, part2, part10].map((part) => `${sha256(part)}\n`).join('')).digest('hex'));
    const report = await send(stack, manager.apiKey, 'GET', `/cost-imports/${sent.body.number}/refusals`);
    expect((report.body.items as any[]).map((item) => [item.rowNumber, item.line.part])).toEqual([[4, 'part-2.csv'], [6, 'part-10.csv']]);
    expect(report.body.items[0].problems).toEqual([{ column: 'BilledCost', reason: expect.stringContaining('abc') }]);
    const done = await finished(sent.body.number);
    expect(done).toMatchObject({ state: 'completed', rowsImported: 5 });
    expectTotals(done, lines);
    const audit = await db()('audit_log').where({ subject_type: 'cost_import', subject_id: sent.body.id, action: 'cost_import_received' }).first();
    expect(audit.details.parts.map((part: any) => part.name)).toEqual(['part-1.csv', 'part-2.csv', 'part-10.csv']);

    const again = await uploadParts([{ name: 'part-1.csv', body: part1 }, { name: 'part-10.csv', body: part10 }, { name: 'part-2.csv', body: part2 }]);
    expect(again.status).toBe(200);
    expect(again.body).toMatchObject({ repeated: true, number: sent.body.number });
  });

  it('reads Parquet parts together; parts with other columns are refused 422 parts_differ', async () => {
    const s = unique();
    const instance = await DuckDBInstance.create(':memory:');
    const connection = await instance.connect();
    const write = async (name: string, billed: string, extra = '') => {
      const file = path.join(dir, `${s}-${name}`);
      await connection.run(`COPY (SELECT TIMESTAMPTZ '2026-10-01 00:00:00+00' AS BillingPeriodStart, TIMESTAMPTZ '2026-11-01 00:00:00+00' AS BillingPeriodEnd,
        TIMESTAMPTZ '2026-10-02 00:00:00+00' AS ChargePeriodStart, TIMESTAMPTZ '2026-10-03 00:00:00+00' AS ChargePeriodEnd, 'Usage' AS ChargeCategory,
        'Azure ${s}' AS ProviderName, 'ba-${s}' AS BillingAccountId, 'Virtual Machines' AS ServiceName, ${billed}::DECIMAL(38,18) AS BilledCost,
        ${billed}::DECIMAL(38,18) AS EffectiveCost, 'EUR' AS BillingCurrency${extra}) TO '${file}' (FORMAT parquet)`);
      return { name, body: fs.readFileSync(file) };
    };
    try {
      const sent = await uploadParts([await write('part-2.parquet', '0.000000000000000002'), await write('part-1.parquet', '1.5')]);
      expect(sent.status).toBe(202);
      expect(sent.body).toMatchObject({ format: 'parquet', rowsTotal: 2, rowsRefused: 0 });
      expectTotals(await finished(sent.body.number), [
        { provider: `Azure ${s}`, currency: 'EUR', billed: '1.5', effective: '1.5' },
        { provider: `Azure ${s}`, currency: 'EUR', billed: '0.000000000000000002', effective: '0.000000000000000002' },
      ]);
      const other = await uploadParts([await write('part-1.parquet', '2'), await write('part-2.parquet', '3', `, 'x' AS x_Extra`)]);
      expect(other.status).toBe(422);
      expect(other.body.error.code).toBe('parts_differ');
    } finally {
      connection.closeSync();
      instance.closeSync();
    }
  });

  it('is refused 422 parts_differ when its parts are not of one format or one set of columns', async () => {
    const lines = billLines();
    const other = await uploadParts([
      { name: 'part-1.csv', body: focusCsv([lines[0]]) },
      { name: 'part-2.csv', body: focusCsv([lines[1]], HEADER.filter((column) => column !== 'x_UsageType')) },
    ]);
    expect(other.status).toBe(422);
    expect(other.body.error).toMatchObject({ code: 'parts_differ', message: expect.stringContaining('part-2.csv') });
    expect(await importRow(other.body.error.details.import)).toMatchObject({ state: 'failed' });
    const mixed = await uploadParts([{ name: 'part-1.csv', body: focusCsv([lines[2]]) }, { name: 'part-2.csv.gz', body: gzipSync(Buffer.from(focusCsv([lines[3]]))) }]);
    expect(mixed.status).toBe(422);
    expect(mixed.body.error.code).toBe('parts_differ');
  });
});

describe('the intake', () => {
  it('takes a file held by an import left staging (not touched for 15 minutes) anew; one still touched answers repeated', async () => {
    const stale = focusCsv(billLines());
    const [left] = await db()('cost_imports').insert({
      file_name: 'left.csv', file_sha256: sha256(stale), file_bytes: stale.length, format: 'csv', state: 'staging', requested_by_id: manager.id,
      updated_at: db().raw(`now() - interval '16 minutes'`),
    }).returning(['id', 'number']);
    const sent = await upload(stale, 'text/csv', 'again.csv');
    expect(sent.status).toBe(202);
    expect(sent.body.number).not.toBe(left.number);
    expect(await importRow(left.number)).toMatchObject({ state: 'failed', message: expect.stringContaining('abandoned') });

    const live = focusCsv(billLines());
    const [staging] = await db()('cost_imports').insert({
      file_name: 'live.csv', file_sha256: sha256(live), file_bytes: live.length, format: 'csv', state: 'staging', requested_by_id: manager.id,
    }).returning(['id', 'number']);
    const repeated = await upload(live, 'text/csv', 'live-again.csv');
    expect(repeated.status).toBe(200);
    expect(repeated.body).toMatchObject({ repeated: true, number: staging.number });
    await db()('cost_imports').where({ id: staging.id }).update({ state: 'failed' });
  });

  it('fails, at the API\'s start, the imports left staging; not those touched lately, nor a staged one whose workflow has it', async () => {
    const insert = async (values: Record<string, unknown>) => (await db()('cost_imports').insert({
      file_name: 'sweep.csv', file_sha256: randomBytes(32).toString('hex'), file_bytes: 1, format: 'csv', requested_by_id: manager.id, ...values,
    }).returning('number'))[0].number as string;
    const old = db().raw(`now() - interval '20 minutes'`);
    const left = await insert({ state: 'staging', updated_at: old });
    const leftStaged = await insert({ state: 'staged', updated_at: old });
    const fresh = await insert({ state: 'staging' });
    const withWorkflow = await insert({ state: 'staged', updated_at: old, workflow_id: `cost-import:sweep-${unique()}` });
    await sweepAbandonedCostImports({ db: db(), logger: createLogger('silent', 'test') });
    expect((await importRow(left)).state).toBe('failed');
    expect((await importRow(leftStaged)).state).toBe('failed');
    expect((await importRow(fresh)).state).toBe('staging');
    expect((await importRow(withWorkflow)).state).toBe('staged');
    await db()('cost_imports').whereIn('number', [fresh, withWorkflow]).update({ state: 'failed' });
  });

  it('receives two bills at once per process; a third answers 503 busy with Retry-After, reading nothing', async () => {
    // Two bills whose bytes come slowly: their header and first row now, the rest once the third was answered.
    const bills = [0, 1].map(() => focusCsv(billLines()));
    const firstRowEnd = (bill: string) => bill.indexOf('\n', bill.indexOf('\n') + 1) + 1;
    const controllers: ReadableStreamDefaultController<Uint8Array>[] = [];
    const slow = bills.map((bill) => send(stack, manager.apiKey, 'POST', '/cost-imports?fileName=slow.csv', {
      body: new ReadableStream<Uint8Array>({ start(controller) {
        controller.enqueue(new TextEncoder().encode(bill.slice(0, firstRowEnd(bill))));
        controllers.push(controller);
      } }),
      headers: { 'content-type': 'text/csv' },
    }));
    try {
      // Both are being received once their first bytes are spooled.
      const spooling = path.join(os.tmpdir(), 'assetflow-cost-imports');
      const read = (file: string) => {
        try {
          return fs.readFileSync(file, 'utf8');
        } catch {
          return undefined;
        }
      };
      await eventually(async () => bills.every((bill) => fs.readdirSync(spooling).some((entry) => {
        // Other test files spool here too, and their folders come and go.
        return read(path.join(spooling, entry, 'spooled-0')) === bill.slice(0, firstRowEnd(bill));
      })), 10_000, 20);
      const third = await upload(focusCsv(billLines()), 'text/csv', 'third.csv');
      expect(third.status).toBe(503);
      expect(third.body.error.code).toBe('busy');
      expect(third.headers.get('retry-after')).toBe('30');
    } finally {
      controllers.forEach((controller, at) => {
        controller.enqueue(new TextEncoder().encode(bills[at].slice(firstRowEnd(bills[at]))));
        controller.close();
      });
    }
    expect((await Promise.all(slow)).map((answer) => answer.status)).toEqual([202, 202]);
    expect((await upload(focusCsv(billLines()), 'text/csv', 'fourth.csv')).status).toBe(202);
  });

  it('writes a Parquet timestamp as UTC to the microsecond, whatever the zone DuckDB runs in', async () => {
    const instance = await DuckDBInstance.create(':memory:');
    const connection = await instance.connect();
    try {
      await connection.run(`SET TimeZone = 'America/New_York'`);
      const read = await connection.runAndReadAll(`SELECT ${textOf('tz', 'TIMESTAMP WITH TIME ZONE')} AS tz, ${textOf('plain', 'TIMESTAMP')} AS plain, ${textOf('ms', 'TIMESTAMP_MS')} AS ms
        FROM (SELECT TIMESTAMPTZ '2026-10-01 00:00:00.123456+00' AS tz, TIMESTAMP '2026-10-02 01:00:00.000007' AS plain, TIMESTAMP_MS '2026-10-03 00:00:00.5' AS ms)`);
      expect(read.getRowObjects()[0]).toEqual({ tz: '2026-10-01T00:00:00.123456Z', plain: '2026-10-02T01:00:00.000007Z', ms: '2026-10-03T00:00:00.500000Z' });
    } finally {
      connection.closeSync();
      instance.closeSync();
    }
  });
});

describe('lists and pages', () => {
  it('lists imports newest first and shows an import\'s page with its totals and refused rows', async () => {
    const lines = billLines();
    const sent = await upload(focusCsv([lines[0], { ...lines[1], billed: 'x' }]), 'text/csv', 'page.csv');
    const done = await finished(sent.body.number);
    const list = await send(stack, manager.apiKey, 'GET', '/cost-imports?limit=200');
    expect(list.status).toBe(200);
    expect((list.body.items as any[]).map((i) => i.number)).toContain(sent.body.number);
    expect((await send(stack, manager.apiKey, 'GET', '/cost-imports/CIM9999999')).status).toBe(404);

    const agent = webAgent(stack.baseUrl);
    await signInWithKey(agent, manager.apiKey);
    const page = await browse(agent, 'GET', `/ui/finops/imports/${sent.body.number}`);
    expect(page.status).toBe(200);
    expect(page.html).toContain(`Cost import ${sent.body.number}`);
    expect(page.html).toContain('id="refused-rows"');
    for (const total of done.totals) expect(page.html).toContain(total.billedCost);
    const csv = await browse(agent, 'GET', `/ui/finops/imports/${sent.body.number}/refused`);
    expect(csv.status).toBe(200);
    expect(csv.html).toContain('2,BilledCost');

    const listPage = await browse(agent, 'GET', '/ui/finops/imports');
    expect(listPage.status).toBe(200);
    expect(listPage.html).toContain(sent.body.number);
    expect(listPage.html).toMatch(/<input id="c-file" name="file" type="file" multiple/);
    // The form as a browser sends it: the CSRF token first, then the files.
    const post = (files: { name: string; body: string }[]) => {
      const form = new FormData();
      form.append('csrf', hiddenCsrf(listPage.html)!);
      for (const file of files) form.append('file', new Blob([file.body], { type: 'text/csv' }), file.name);
      return fetch(`${stack.baseUrl}/ui/finops/imports`, {
        method: 'POST', redirect: 'manual', body: form, headers: { cookie: [...agent.cookies].map(([k, v]) => `${k}=${v}`).join('; ') },
      });
    };
    const web = focusCsv(billLines());
    const posted = await post([{ name: 'web.csv', body: web }]);
    expect(posted.status).toBe(303);
    const number = /\/ui\/finops\/imports\/(CIM\d+)$/.exec(posted.headers.get('location') ?? '')?.[1];
    expect(await importRow(number!)).toMatchObject({ file_name: 'web.csv', rows_total: 5 });
    // The same file again says nothing new was imported.
    const again = await post([{ name: 'web-again.csv', body: web }]);
    expect(again.status).toBe(303);
    expect(again.headers.get('location')).toBe(`/ui/finops/imports/${number}?received=again`);
    expect((await browse(agent, 'GET', again.headers.get('location')!)).html).toContain('nothing new was imported');
    // A bill in parts, chosen together.
    const bill = billLines();
    const parts = await post([{ name: 'web-part-2.csv', body: focusCsv(bill.slice(2)) }, { name: 'web-part-1.csv', body: focusCsv(bill.slice(0, 2)) }]);
    expect(parts.status).toBe(303);
    const partsNumber = /\/ui\/finops\/imports\/(CIM\d+)$/.exec(parts.headers.get('location') ?? '')?.[1];
    expect(await importRow(partsNumber!)).toMatchObject({ file_name: 'web-part-1.csv … web-part-2.csv (2 parts)', rows_total: 5 });

    // A process owner reads the imports, but is not offered the upload, and may not post it.
    const ownerAgent = webAgent(stack.baseUrl);
    await signInWithKey(ownerAgent, owner.apiKey);
    const ownerList = await browse(ownerAgent, 'GET', '/ui/finops/imports');
    expect(ownerList.status).toBe(200);
    expect(ownerList.html).not.toContain('id="c-file"');
    const ownerForm = new FormData();
    ownerForm.append('csrf', hiddenCsrf(ownerList.html)!);
    ownerForm.append('file', new Blob([focusCsv(billLines())], { type: 'text/csv' }), 'owner.csv');
    const ownerPost = await fetch(`${stack.baseUrl}/ui/finops/imports`, {
      method: 'POST', redirect: 'manual', body: ownerForm, headers: { cookie: [...ownerAgent.cookies].map(([k, v]) => `${k}=${v}`).join('; ') },
    });
    expect(ownerPost.status).toBe(403);
  });
});

describe('the watched folder', () => {
  it('imports a dropped file as the folder\'s person and moves it to done/; the same bytes again are not imported twice; a bad file goes to failed/ with why', async () => {
    const folderDir = path.join(dir, `drop-${unique()}`);
    const folder = await watchCostDropFolder({ db: db(), temporal: stack.env.client, taskQueue: stack.taskQueue, logger: createLogger('silent', 'test') },
      { dir: folderDir, as: manager.email, everyMs: 100 });
    try {
      const lines = billLines();
      const body = gzipSync(Buffer.from(focusCsv(lines)));
      fs.writeFileSync(path.join(folderDir, 'october.csv.gz'), body);
      await eventually(async () => fs.existsSync(path.join(folderDir, 'done', 'october.csv.gz')), 30_000, 50);
      const received = await db()('cost_imports').where({ file_name: 'october.csv.gz', source: 'drop_folder' }).first();
      expect(received).toMatchObject({ requested_by_id: manager.id, format: 'csv_gzip', rows_total: 5 });
      expectTotals(await finished(received.number), lines);

      fs.writeFileSync(path.join(folderDir, 'october-again.csv.gz'), body);
      await eventually(async () => fs.existsSync(path.join(folderDir, 'done', 'october-again.csv.gz.repeated.txt')), 30_000, 50);
      expect(fs.readFileSync(path.join(folderDir, 'done', 'october-again.csv.gz.repeated.txt'), 'utf8')).toContain(received.number);

      fs.writeFileSync(path.join(folderDir, 'not-focus.csv'), 'a,b\n1,2\n');
      await eventually(async () => fs.existsSync(path.join(folderDir, 'failed', 'not-focus.csv.error.txt')), 30_000, 50);
      expect(fs.readFileSync(path.join(folderDir, 'failed', 'not-focus.csv.error.txt'), 'utf8')).toContain('BilledCost');
    } finally {
      await folder?.stop();
    }
  });
});
