/**
 * The catalogue and licences as master data, through the JSON API: hardware models and software
 * products (matched on manufacturer or publisher and name) and entitlements (numbered by the
 * database). Each is created, read with its ETag, updated with If-Match, refused naming the column,
 * exported in files whose every row imports again as unchanged, retired, and written only by asset
 * managers and admins. A retired model leaves the catalogue and new purchase requests; a retired
 * entitlement no longer counts in the licence position.
 */
import { randomBytes } from 'node:crypto';
import { parse } from 'csv-parse/sync';
import type { MasterDataKindName } from '../domain/master-data';
import { masterDataKind } from '../model/master-data';
import { judgeRow, Lookups, writeJudgement } from '../model/master-data/engine';
import { createCostCentre, createPerson, createVendor, type TestPerson } from './support/fixtures';
import { send, startStack, type Stack } from './support/stack';

let stack: Stack;
let manager: TestPerson;
let admin: TestPerson;
let requester: TestPerson;
let vendorCode: string;

const unique = () => randomBytes(3).toString('hex');

beforeAll(async () => {
  stack = await startStack({ worker: false });
  const db = stack.database.db;
  manager = await createPerson(db, ['asset_manager'], 'Mona Manager');
  admin = await createPerson(db, ['admin'], 'Ada Admin');
  requester = await createPerson(db, ['requester'], 'Remy Requester');
  const vendorId = await createVendor(db, `Catalix ${unique()}`);
  vendorCode = (await db('vendors').where({ id: vendorId }).first('code')).code;
});

afterAll(async () => {
  await stack?.stop();
});

const ifMatch = (version: number) => ({ 'if-match': `"${version}"` });
const problemColumns = (body: { error: { details: { problems: { column: string }[] } } }) => body.error.details.problems.map((p) => p.column);

function hardwareRow(overrides: Record<string, unknown> = {}) {
  return {
    manufacturer: 'Catalix', name: `Book ${unique()}`, category: 'laptop', vendorCode, listPriceMinor: 129_900, currency: 'eur',
    warrantyMonths: 36, usefulLifeMonths: 48, depreciationMethod: 'straight_line', ...overrides,
  };
}

function softwareRow(overrides: Record<string, unknown> = {}) {
  return { publisher: 'Quillsoft', name: `Ledger ${unique()}`, vendorCode, licenceMetric: 'per_user', unitPriceMinor: 12_000, currency: 'EUR', ...overrides };
}

async function createProduct(overrides: Record<string, unknown> = {}) {
  const created = await send(stack, manager.apiKey, 'POST', '/catalogue/software-products', { body: softwareRow(overrides) });
  expect(created.status).toBe(201);
  return created.body as { id: string; publisher: string; name: string; licenceMetric: string };
}

async function positionOf(productId: string) {
  const positions = await send(stack, manager.apiKey, 'GET', '/licence-positions');
  return (positions.body.items as { productId: string; entitledUnits: number }[]).find((p) => p.productId === productId);
}

describe('hardware models', () => {
  it('creates one by manufacturer and name, reads it with its ETag, and refuses the same key in another case', async () => {
    const row = hardwareRow();
    const created = await send(stack, manager.apiKey, 'POST', '/catalogue/hardware-models', { body: row });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ ...row, currency: 'EUR', vendorCode, version: 1, retiredAt: null, ref: created.body.id });
    expect(created.headers.get('location')).toBe(`/catalogue/hardware-models/${created.body.id}`);

    const read = await send(stack, requester.apiKey, 'GET', `/catalogue/hardware-models/${created.body.id}`);
    expect(read.status).toBe(200);
    expect(read.headers.get('etag')).toBe('"1"');
    expect(read.body).toMatchObject({ id: created.body.id, name: row.name, version: 1, retiredAt: null, listPrice: { amountMinor: 129_900, currency: 'EUR' } });

    const again = await send(stack, admin.apiKey, 'POST', '/catalogue/hardware-models', { body: hardwareRow({ manufacturer: 'CATALIX', name: row.name.toLowerCase() }) });
    expect(again.status).toBe(409);
    expect(again.body.error).toMatchObject({ code: 'already_exists', details: { ref: created.body.id } });
  });

  it('updates with If-Match (a stale version is 412) and audits the change', async () => {
    const created = await send(stack, manager.apiKey, 'POST', '/catalogue/hardware-models', { body: hardwareRow() });
    const path = `/catalogue/hardware-models/${created.body.id}`;
    const updated = await send(stack, manager.apiKey, 'PATCH', path, { body: { listPriceMinor: 119_900, warrantyMonths: 24 }, headers: ifMatch(1) });
    expect(updated.status).toBe(200);
    expect(updated.body).toMatchObject({ listPriceMinor: 119_900, warrantyMonths: 24, version: 2 });
    expect(updated.headers.get('etag')).toBe('"2"');
    expect((await send(stack, manager.apiKey, 'GET', path)).headers.get('etag')).toBe('"2"');
    const stale = await send(stack, manager.apiKey, 'PATCH', path, { body: { listPriceMinor: 1 }, headers: ifMatch(1) });
    expect(stale.status).toBe(412);
    const audit = await stack.database.db('audit_log').where({ subject_type: 'hardware_model', subject_id: created.body.id, action: 'updated' }).first('actor', 'details');
    expect(audit).toMatchObject({ actor: manager.email, details: { changes: { listPriceMinor: { from: 129_900, to: 119_900 }, warrantyMonths: { from: 36, to: 24 } } } });
  });

  it('refuses an unknown vendor code, a category or warranty out of range, naming each column, and writes nothing', async () => {
    const unknownVendor = await send(stack, manager.apiKey, 'POST', '/catalogue/hardware-models', { body: hardwareRow({ vendorCode: 'NOBODY-SELLS' }) });
    expect(unknownVendor.status).toBe(400);
    expect(unknownVendor.body.error.details.problems).toEqual([{ column: 'vendorCode', value: 'NOBODY-SELLS', reason: 'no vendor has this code' }]);
    const bad = await send(stack, manager.apiKey, 'POST', '/catalogue/hardware-models', { body: hardwareRow({ category: 'toaster', warrantyMonths: 121, depreciationMethod: 'sum_of_years' }) });
    expect(bad.status).toBe(400);
    expect(problemColumns(bad.body).sort()).toEqual(['category', 'depreciationMethod', 'warrantyMonths']);
    expect(await stack.database.db('hardware_models').where({ manufacturer: 'Catalix' }).whereIn('category', ['toaster']).count({ n: '*' })).toEqual([{ n: 0 }]);
  });

  it('retires a model: left out of the catalogue unless asked for, and refused for a new purchase request', async () => {
    const created = await send(stack, manager.apiKey, 'POST', '/catalogue/hardware-models', { body: hardwareRow({ name: `Retro ${unique()}` }) });
    const retired = await send(stack, manager.apiKey, 'POST', `/catalogue/hardware-models/${created.body.id}/retire`, { headers: ifMatch(1) });
    expect(retired.status).toBe(200);
    expect(retired.body).toMatchObject({ version: 2, retiredAt: expect.any(String) });

    const listed = await send(stack, requester.apiKey, 'GET', `/catalogue/hardware-models?q=${encodeURIComponent(created.body.name)}`);
    expect(listed.body.items).toEqual([]);
    const withRetired = await send(stack, requester.apiKey, 'GET', `/catalogue/hardware-models?q=${encodeURIComponent(created.body.name)}&includeRetired=true`);
    expect(withRetired.body.items).toEqual([expect.objectContaining({ id: created.body.id, retiredAt: retired.body.retiredAt })]);

    const costCentre = `CC-${unique().toUpperCase()}`;
    await createCostCentre(stack.database.db, costCentre, 'Catalogue buyers', 10_000_000);
    const purchase = await send(stack, requester.apiKey, 'POST', '/purchase-requests', {
      body: { costCentre, justification: 'A new laptop', lines: [{ hardwareModelId: created.body.id, quantity: 1 }] },
    });
    expect(purchase.status).toBe(400);
    expect(purchase.body.error.details).toEqual([{ path: 'lines.0', message: `Catalix ${created.body.name} was retired from the catalogue` }]);
    expect(await stack.database.db('purchase_requests').where({ justification: 'A new laptop' }).count({ n: '*' })).toEqual([{ n: 0 }]);
  });
});

describe('software products', () => {
  it('creates, reads with its ETag, updates with If-Match, and refuses an unknown vendor or metric', async () => {
    const product = await createProduct();
    const path = `/catalogue/software-products/${product.id}`;
    const read = await send(stack, requester.apiKey, 'GET', path);
    expect(read.headers.get('etag')).toBe('"1"');
    expect(read.body).toMatchObject({ id: product.id, licenceMetric: 'per_user', version: 1, retiredAt: null });
    const updated = await send(stack, admin.apiKey, 'PATCH', path, { body: { unitPriceMinor: 9_900, vendorCode: null }, headers: ifMatch(1) });
    expect(updated.body).toMatchObject({ unitPriceMinor: 9_900, vendorCode: null, version: 2 });
    expect((await send(stack, admin.apiKey, 'PATCH', path, { body: { unitPriceMinor: 1 }, headers: ifMatch(1) })).status).toBe(412);

    const refused = await send(stack, manager.apiKey, 'POST', '/catalogue/software-products', { body: softwareRow({ vendorCode: 'ghost-vendor', licenceMetric: 'per_seat' }) });
    expect(refused.status).toBe(400);
    expect(problemColumns(refused.body)).toEqual(['licenceMetric']);
    const unknownVendor = await send(stack, manager.apiKey, 'POST', '/catalogue/software-products', { body: softwareRow({ vendorCode: 'ghost-vendor' }) });
    expect(unknownVendor.body.error.details.problems).toEqual([{ column: 'vendorCode', value: 'ghost-vendor', reason: 'no vendor has this code' }]);
  });

  it('keeps the licence metric while a live entitlement counts in it', async () => {
    const product = await createProduct();
    const entitlement = await send(stack, manager.apiKey, 'POST', '/entitlements', {
      body: { publisher: product.publisher, product: product.name, metric: 'per_user', quantity: 5, startsOn: '2026-01-01', costMinor: 60_000, currency: 'EUR' },
    });
    const change = await send(stack, manager.apiKey, 'PATCH', `/catalogue/software-products/${product.id}`, { body: { licenceMetric: 'per_device' }, headers: ifMatch(1) });
    expect(change.status).toBe(400);
    expect(problemColumns(change.body)).toEqual(['licenceMetric']);
    await send(stack, manager.apiKey, 'POST', `/entitlements/${entitlement.body.number}/retire`, { headers: ifMatch(1) });
    const afterRetire = await send(stack, manager.apiKey, 'PATCH', `/catalogue/software-products/${product.id}`, { body: { licenceMetric: 'per_device' }, headers: ifMatch(1) });
    expect(afterRetire.body).toMatchObject({ licenceMetric: 'per_device', version: 2 });
  });
});

describe('entitlements', () => {
  it('numbers one created without a number, reads it by number with its ETag, and updates it with If-Match', async () => {
    const product = await createProduct();
    const created = await send(stack, manager.apiKey, 'POST', '/entitlements', {
      body: { publisher: product.publisher.toUpperCase(), product: product.name, metric: 'per_user', quantity: 25, startsOn: '2026-01-01', endsOn: '2026-12-31', costMinor: 300_000, currency: 'EUR' },
    });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ number: expect.stringMatching(/^ENT\d{7}$/), publisher: product.publisher, product: product.name, quantity: 25, contractNumber: null, version: 1 });
    expect(created.headers.get('location')).toBe(`/entitlements/${created.body.number}`);

    const read = await send(stack, manager.apiKey, 'GET', `/entitlements/${created.body.number.toLowerCase()}`);
    expect(read.status).toBe(200);
    expect(read.headers.get('etag')).toBe('"1"');
    expect(read.body).toEqual(created.body);
    expect((await send(stack, manager.apiKey, 'GET', `/entitlements/${created.body.id}`)).body.number).toBe(created.body.number);
    expect((await send(stack, requester.apiKey, 'GET', `/entitlements/${created.body.number}`)).status).toBe(403);

    const updated = await send(stack, admin.apiKey, 'PATCH', `/entitlements/${created.body.number}`, { body: { quantity: 30, endsOn: null }, headers: ifMatch(1) });
    expect(updated.body).toMatchObject({ quantity: 30, endsOn: null, version: 2 });
    expect((await send(stack, admin.apiKey, 'PATCH', `/entitlements/${created.body.number}`, { body: { quantity: 31 }, headers: ifMatch(1) })).status).toBe(412);
    const audit = await stack.database.db('audit_log').where({ subject_type: 'software_entitlement', subject_id: created.body.id }).orderBy('id').select('actor', 'action', 'details');
    expect(audit).toEqual([
      expect.objectContaining({ actor: manager.email, action: 'created', details: expect.objectContaining({ naturalKey: created.body.number, values: expect.objectContaining({ number: created.body.number, publisher: product.publisher, quantity: 25 }) }) }),
      expect.objectContaining({ actor: admin.email, action: 'updated', details: expect.objectContaining({ changes: { quantity: { from: 25, to: 30 }, endsOn: { from: '2026-12-31', to: null } } }) }),
    ]);
  });

  it('refuses a metric other than the product\'s, an unknown product, a negative quantity, an end before the start and an unknown contract', async () => {
    const product = await createProduct();
    const base = { publisher: product.publisher, product: product.name, metric: 'per_user', quantity: 1, startsOn: '2026-01-01', costMinor: 0, currency: 'EUR' };
    const cases: [Record<string, unknown>, string[]][] = [
      [{ metric: 'per_device' }, ['metric']],
      [{ product: 'No Such Product' }, ['product']],
      [{ quantity: -1 }, ['quantity']],
      [{ quantity: 10_000_001 }, ['quantity']],
      [{ endsOn: '2025-12-31' }, ['endsOn']],
      [{ contractNumber: 'CNTR9999999' }, ['contractNumber']],
    ];
    for (const [overrides, columns] of cases) {
      const refused = await send(stack, manager.apiKey, 'POST', '/entitlements', { body: { ...base, ...overrides } });
      expect({ overrides, status: refused.status, columns: problemColumns(refused.body) }).toEqual({ overrides, status: 400, columns });
    }
    const mismatch = await send(stack, manager.apiKey, 'POST', '/entitlements', { body: { ...base, metric: 'per_device' } });
    expect(mismatch.body.error.details.problems[0].reason).toMatch(/licensed per_user/);
    expect(await stack.database.db('software_entitlements').where({ product_id: product.id }).count({ n: '*' })).toEqual([{ n: 0 }]);
  });

  it('takes a file row only with its number: a new number is created and the database numbers on past it', async () => {
    const product = await createProduct();
    const kind = masterDataKind('entitlements');
    const row = { publisher: product.publisher, product: product.name, metric: 'per_user', quantity: '3', startsOn: '2026-02-01', endsOn: '', costMinor: '0', currency: 'EUR', contractNumber: '' };
    const withoutNumber = await judgeRow(kind, new Lookups(stack.database.db), { number: '', ...row });
    expect(withoutNumber).toMatchObject({ verdict: 'refuse', problems: [{ column: 'number' }] });

    const number = `ENT${String(9_000_000 + Number.parseInt(unique(), 16) % 900_000).padStart(7, '0')}`;
    await stack.database.db.transaction(async (trx) => {
      const judgement = await judgeRow(kind, new Lookups(trx), { number, ...row }, { lock: true });
      expect(judgement.verdict).toBe('create');
      await writeJudgement(trx, kind, judgement, { actor: 'system:test', via: { importId: 'test', rowNumber: 1 } });
    });
    expect((await judgeRow(kind, new Lookups(stack.database.db), { number: number.toLowerCase(), ...row })).verdict).toBe('unchanged');
    const next = await send(stack, manager.apiKey, 'POST', '/entitlements', { body: row });
    expect(next.status).toBe(201);
    expect(next.body.number > number).toBe(true);
  });

  it('retires one: it no longer counts in the licence position, and is left out of the list unless asked for', async () => {
    const product = await createProduct();
    const body = { publisher: product.publisher, product: product.name, metric: 'per_user', startsOn: '2026-01-01', costMinor: 0, currency: 'EUR' };
    const kept = await send(stack, manager.apiKey, 'POST', '/entitlements', { body: { ...body, quantity: 10 } });
    const toRetire = await send(stack, manager.apiKey, 'POST', '/entitlements', { body: { ...body, quantity: 15 } });
    expect(await positionOf(product.id)).toMatchObject({ entitledUnits: 25 });

    expect((await send(stack, requester.apiKey, 'POST', `/entitlements/${toRetire.body.number}/retire`, { headers: ifMatch(1) })).status).toBe(403);
    const retired = await send(stack, manager.apiKey, 'POST', `/entitlements/${toRetire.body.number}/retire`, { headers: ifMatch(1) });
    expect(retired.body).toMatchObject({ retiredAt: expect.any(String), version: 2 });
    expect(await positionOf(product.id)).toMatchObject({ entitledUnits: 10 });

    const listed = await send(stack, manager.apiKey, 'GET', `/entitlements?product=${product.id}`);
    expect(listed.body.items.map((e: { number: string }) => e.number)).toEqual([kept.body.number]);
    const all = await send(stack, manager.apiKey, 'GET', `/entitlements?product=${product.id}&includeRetired=true`);
    expect(all.body.items.map((e: { number: string }) => e.number).sort()).toEqual([kept.body.number, toRetire.body.number].sort());
    const update = await send(stack, manager.apiKey, 'PATCH', `/entitlements/${toRetire.body.number}`, { body: { quantity: 1 }, headers: ifMatch(2) });
    expect(update.status).toBe(400);
  });
});

describe('writers and exports', () => {
  const kinds: MasterDataKindName[] = ['hardware-models', 'software-products', 'entitlements'];

  it('lets only asset managers and admins write', async () => {
    const product = await createProduct();
    const bodies: Record<string, Record<string, unknown>> = {
      'hardware-models': hardwareRow(),
      'software-products': softwareRow(),
      entitlements: { publisher: product.publisher, product: product.name, metric: 'per_user', quantity: 1, startsOn: '2026-01-01', costMinor: 0, currency: 'EUR' },
    };
    for (const name of kinds) {
      const kind = masterDataKind(name);
      expect(kind.writers).toEqual(['asset_manager', 'admin']);
      expect({ name, status: (await send(stack, requester.apiKey, 'POST', kind.path, { body: bodies[name] })).status }).toEqual({ name, status: 403 });
      expect({ name, status: (await send(stack, requester.apiKey, 'GET', `${kind.path}/export`)).status }).toEqual({ name, status: 403 });
    }
  });

  it('exports CSV and JSON lines whose every row, imported again, is unchanged', async () => {
    const product = await createProduct({ vendorCode: null });
    await send(stack, manager.apiKey, 'POST', '/catalogue/hardware-models', { body: hardwareRow({ name: `Quote "Pro", 14" ${unique()}`, vendorCode: null }) });
    await send(stack, manager.apiKey, 'POST', '/entitlements', {
      body: { publisher: product.publisher, product: product.name, metric: 'per_user', quantity: 7, startsOn: '2026-03-01', endsOn: '2027-02-28', costMinor: 70_000, currency: 'EUR' },
    });
    for (const name of kinds) {
      const kind = masterDataKind(name);
      const csv = await send(stack, manager.apiKey, 'GET', `${kind.path}/export?format=csv`);
      expect(csv.status).toBe(200);
      const csvRows = parse(csv.text, { columns: true }) as Record<string, string>[];
      expect(Object.keys(csvRows[0])).toEqual([...kind.columns]);
      const jsonl = await send(stack, admin.apiKey, 'GET', `${kind.path}/export?format=jsonl`);
      const jsonRows = jsonl.text.trim().split('\n').map((line) => JSON.parse(line) as Record<string, unknown>);
      expect(jsonRows).toHaveLength(csvRows.length);
      expect(csvRows.length).toBeGreaterThan(0);
      const lookups = new Lookups(stack.database.db);
      for (const row of [...csvRows, ...jsonRows]) {
        const judgement = await judgeRow(kind, lookups, row);
        expect({ name, row, verdict: judgement.verdict, problems: judgement.problems }).toEqual({ name, row, verdict: 'unchanged', problems: [] });
      }
    }
  });
});
