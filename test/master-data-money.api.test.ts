/**
 * The master data of money through the JSON API: vendors, contracts, contract prices and budgets.
 * Each is created, read with its ETag, updated with If-Match (stale 412), refused row by row naming
 * the column, exported as CSV and JSON lines whose rows, judged again, change nothing, retired (a
 * budget refuses), and written only by its writers. A retired vendor takes no purchase request, and
 * a retired price or contract is no longer what a purchase is priced at.
 */
import { randomBytes } from 'node:crypto';
import { parse } from 'csv-parse/sync';
import type { MasterDataKindName } from '../domain/master-data';
import { MAX_AMOUNT_MINOR } from '../domain/money';
import { masterDataKind } from '../model/master-data';
import { judgeRow, Lookups } from '../model/master-data/engine';
import { createCostCentre, createHardwareModel, createPerson, type TestPerson } from './support/fixtures';
import { send, startStack, type Stack } from './support/stack';

let stack: Stack;
let admin: TestPerson;
let assetManager: TestPerson;
let requester: TestPerson;

const unique = () => randomBytes(3).toString('hex').toUpperCase();
const year = new Date().getUTCFullYear();
/** A term in force today. */
const TERM = { startsOn: `${year - 1}-01-01`, endsOn: `${year + 3}-12-31` };
const ifMatch = (version: number) => ({ 'if-match': `"${version}"` });

beforeAll(async () => {
  stack = await startStack({ worker: false });
  const db = stack.database.db;
  admin = await createPerson(db, ['admin'], 'Ada Admin');
  assetManager = await createPerson(db, ['asset_manager'], 'Asta Manager');
  requester = await createPerson(db, ['requester'], 'Remy Requester');
});

afterAll(async () => {
  await stack?.stop();
});

async function createVendor(code: string) {
  const created = await send(stack, assetManager.apiKey, 'POST', '/vendors', { body: { code, name: `Vendor ${code.toUpperCase()}`, contactEmail: `orders@${code.toLowerCase()}.example` } });
  expect(created.status).toBe(201);
  return created.body;
}

async function createContract(vendorCode: string, overrides: Record<string, unknown> = {}) {
  const created = await send(stack, assetManager.apiKey, 'POST', '/contracts', {
    body: { vendorCode, kind: 'purchase', title: 'Framework', ...TERM, currency: 'EUR', ...overrides },
  });
  expect(created.status).toBe(201);
  return created.body;
}

const problemsOf = (res: { body: { error: { details: { problems: { column: string }[] } } } }) => res.body.error.details.problems;

/** Every row the export answers in both formats, and each one judged again: all must be unchanged. */
async function exportedRowsJudged(kind: MasterDataKindName) {
  const csv = await send(stack, admin.apiKey, 'GET', `/${kind}/export?format=csv`);
  expect(csv.status).toBe(200);
  expect(csv.headers.get('content-type')).toMatch(/^text\/csv/);
  const jsonl = await send(stack, admin.apiKey, 'GET', `/${kind}/export?format=jsonl`);
  expect(jsonl.status).toBe(200);
  const csvRows = parse(csv.text, { columns: true }) as Record<string, string>[];
  const jsonRows = jsonl.text.trim().split('\n').map((line) => JSON.parse(line) as Record<string, unknown>);
  expect(csvRows).toHaveLength(jsonRows.length);
  const lookups = new Lookups(stack.database.db);
  const verdicts = async (rows: Record<string, unknown>[]) =>
    Promise.all(rows.map(async (row) => (await judgeRow(masterDataKind(kind), lookups, row)).verdict));
  return { header: csv.text.split('\n')[0], csvRows, jsonRows, csvVerdicts: await verdicts(csvRows), jsonVerdicts: await verdicts(jsonRows) };
}

describe('vendors', () => {
  it('creates one by its code, reads it by code or id with its ETag, updates it with If-Match, and lets only writers write', async () => {
    const code = `V-${unique()}`;
    const created = await createVendor(code.toLowerCase());
    expect(created).toMatchObject({ ref: code, code, name: `Vendor ${code}`, active: true, version: 1, retiredAt: null });

    for (const ref of [code.toLowerCase(), created.id]) {
      const read = await send(stack, requester.apiKey, 'GET', `/vendors/${ref}`);
      expect(read.status).toBe(200);
      expect(read.headers.get('etag')).toBe('"1"');
      expect(read.body).toMatchObject({ id: created.id, code, version: 1, retiredAt: null, contracts: [] });
    }

    const updated = await send(stack, admin.apiKey, 'PATCH', `/vendors/${code}`, { body: { name: `Renamed ${code}`, active: 'no' }, headers: ifMatch(1) });
    expect(updated.status).toBe(200);
    expect(updated.body).toMatchObject({ name: `Renamed ${code}`, active: false, version: 2 });
    expect(updated.headers.get('etag')).toBe('"2"');
    const stale = await send(stack, admin.apiKey, 'PATCH', `/vendors/${code}`, { body: { name: 'Lost update' }, headers: ifMatch(1) });
    expect(stale.status).toBe(412);

    const other = await createVendor(`V-${unique()}`);
    const sameName = await send(stack, admin.apiKey, 'PATCH', `/vendors/${other.code}`, { body: { name: `Renamed ${code}` }, headers: ifMatch(1) });
    expect(sameName.status).toBe(400);
    expect(problemsOf(sameName)).toEqual([{ column: 'name', value: `Renamed ${code}`, reason: `vendor ${code} has this name` }]);
    const badEmail = await send(stack, admin.apiKey, 'POST', '/vendors', { body: { code: `V-${unique()}`, name: `Mail ${unique()}`, contactEmail: 'not an email' } });
    expect(problemsOf(badEmail)).toEqual([expect.objectContaining({ column: 'contactEmail', value: 'not an email' })]);

    expect((await send(stack, requester.apiKey, 'POST', '/vendors', { body: { code: `V-${unique()}`, name: 'Mine' } })).status).toBe(403);
    expect((await send(stack, requester.apiKey, 'PATCH', `/vendors/${code}`, { body: { name: 'Mine' }, headers: ifMatch(2) })).status).toBe(403);
    const audit = await stack.database.db('audit_log').where({ subject_type: 'vendor', subject_id: created.id }).orderBy('id').select('actor', 'action');
    expect(audit).toEqual([{ actor: assetManager.email, action: 'created' }, { actor: admin.email, action: 'updated' }]);
  });

  it('retires a vendor: inactive, left out of the export, refused for new contracts and new purchase requests', async () => {
    const db = stack.database.db;
    const vendor = await createVendor(`V-${unique()}`);
    const modelId = await createHardwareModel(db, { vendor_id: vendor.id });
    const costCentre = `CC-${unique()}`;
    const costCentreId = await createCostCentre(db, costCentre, 'Retired vendor test', 10_000_000);
    const purchase = { costCentre, justification: 'A laptop', lines: [{ hardwareModelId: modelId, quantity: 1 }] };

    expect((await send(stack, requester.apiKey, 'POST', `/vendors/${vendor.code}/retire`, { headers: ifMatch(1) })).status).toBe(403);
    const retired = await send(stack, assetManager.apiKey, 'POST', `/vendors/${vendor.code}/retire`, { headers: ifMatch(1) });
    expect(retired.status).toBe(200);
    expect(retired.body).toMatchObject({ active: false, version: 2, retiredAt: expect.any(String) });
    const read = await send(stack, requester.apiKey, 'GET', `/vendors/${vendor.code}`);
    expect(read.body).toMatchObject({ active: false, retiredAt: retired.body.retiredAt });
    expect(read.headers.get('etag')).toBe('"2"');

    const contract = await send(stack, assetManager.apiKey, 'POST', '/contracts', { body: { vendorCode: vendor.code, kind: 'purchase', title: 'Late', ...TERM, currency: 'EUR' } });
    expect(contract.status).toBe(400);
    expect(problemsOf(contract)).toEqual([{ column: 'vendorCode', value: vendor.code, reason: 'this vendor was retired' }]);

    const request = await send(stack, requester.apiKey, 'POST', '/purchase-requests', { body: purchase });
    expect(request.status).toBe(400);
    expect(request.body.error.message).toContain(`vendor Vendor ${vendor.code} was retired`);
    expect(await db('purchase_requests').where({ cost_centre_id: costCentreId }).count({ n: '*' })).toEqual([{ n: 0 }]);

    const exported = await send(stack, admin.apiKey, 'GET', '/vendors/export?format=jsonl');
    expect(exported.text).not.toContain(vendor.code);
  });
});

describe('contracts', () => {
  it('numbers a new contract, reads it by number or id with its ETag, and updates it with If-Match', async () => {
    const vendor = await createVendor(`V-${unique()}`);
    const created = await send(stack, assetManager.apiKey, 'POST', '/contracts', {
      body: { vendorCode: vendor.code.toLowerCase(), kind: 'lease', title: 'Laptop lease', ...TERM, valueMinor: '1200000', currency: 'eur', documents: [{ title: 'Signed', url: 'https://docs.example/lease.pdf' }] },
    });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({
      number: expect.stringMatching(/^CNTR\d{7}$/), vendorCode: vendor.code, kind: 'lease', valueMinor: 1_200_000, currency: 'EUR',
      autoRenew: false, renewalNoticeDays: 60, documents: [{ title: 'Signed', url: 'https://docs.example/lease.pdf' }], version: 1,
    });
    const { number } = created.body;
    expect(created.body.ref).toBe(number);
    expect(created.headers.get('location')).toBe(`/contracts/${number}`);

    for (const ref of [number.toLowerCase(), created.body.id]) {
      const read = await send(stack, assetManager.apiKey, 'GET', `/contracts/${ref}`);
      expect(read.status).toBe(200);
      expect(read.headers.get('etag')).toBe('"1"');
      expect(read.body).toEqual(created.body);
    }
    expect((await send(stack, assetManager.apiKey, 'GET', '/contracts/CNTR9999999')).status).toBe(404);
    expect((await send(stack, requester.apiKey, 'GET', `/contracts/${number}`)).status).toBe(403);

    const updated = await send(stack, admin.apiKey, 'PATCH', `/contracts/${number}`, { body: { autoRenew: true, renewalNoticeDays: 90, documents: [] }, headers: ifMatch(1) });
    expect(updated.status).toBe(200);
    expect(updated.body).toMatchObject({ autoRenew: true, renewalNoticeDays: 90, documents: [], version: 2 });
    const stale = await send(stack, admin.apiKey, 'PATCH', `/contracts/${number}`, { body: { title: 'Lost update' }, headers: ifMatch(1) });
    expect(stale.status).toBe(412);
    const renumbered = await send(stack, admin.apiKey, 'PATCH', `/contracts/${number}`, { body: { number: 'CNTR0000001' }, headers: ifMatch(2) });
    expect(problemsOf(renumbered)).toEqual([expect.objectContaining({ column: 'number', value: 'CNTR0000001' })]);
    const audit = await stack.database.db('audit_log').where({ subject_type: 'contract', subject_id: created.body.id, action: 'updated' }).pluck('details');
    expect(audit.map((d) => d.changes)).toEqual([{
      autoRenew: { from: false, to: true }, renewalNoticeDays: { from: 60, to: 90 },
      documents: { from: [{ title: 'Signed', url: 'https://docs.example/lease.pdf' }], to: [] },
    }]);

    expect((await send(stack, requester.apiKey, 'POST', '/contracts', { body: { vendorCode: vendor.code, kind: 'lease', title: 'Mine', ...TERM, currency: 'EUR' } })).status).toBe(403);
  });

  it('refuses a row naming the column: dates out of order, unknown vendor, bad currency, values beyond their bounds, bad documents, a number it did not give', async () => {
    const vendor = await createVendor(`V-${unique()}`);
    const base = { vendorCode: vendor.code, kind: 'support', title: 'Refused', ...TERM, currency: 'EUR' };
    const refusals: [Record<string, unknown>, { column: string; value: unknown }][] = [
      [{ startsOn: '2026-06-01', endsOn: '2026-05-31' }, { column: 'endsOn', value: '2026-05-31' }],
      [{ vendorCode: 'NO-SUCH-VENDOR' }, { column: 'vendorCode', value: 'NO-SUCH-VENDOR' }],
      [{ currency: 'EURO' }, { column: 'currency', value: 'EURO' }],
      [{ kind: 'rental' }, { column: 'kind', value: 'rental' }],
      [{ valueMinor: MAX_AMOUNT_MINOR + 1 }, { column: 'valueMinor', value: MAX_AMOUNT_MINOR + 1 }],
      [{ renewalNoticeDays: 3651 }, { column: 'renewalNoticeDays', value: 3651 }],
      [{ startsOn: '2026-02-30' }, { column: 'startsOn', value: '2026-02-30' }],
      [{ documents: [{ title: 'Share', url: 'ftp://files.example/contract.pdf' }] }, { column: 'documents.0.url', value: [{ title: 'Share', url: 'ftp://files.example/contract.pdf' }] }],
      [{ documents: 'not json' }, { column: 'documents', value: 'not json' }],
      [{ number: 'CNTR9999998' }, { column: 'number', value: 'CNTR9999998' }],
    ];
    for (const [change, problem] of refusals) {
      const refused = await send(stack, assetManager.apiKey, 'POST', '/contracts', { body: { ...base, ...change } });
      expect({ change, status: refused.status, problems: problemsOf(refused) }).toEqual({ change, status: 400, problems: [expect.objectContaining(problem)] });
    }
    expect(await stack.database.db('contracts').where({ title: 'Refused' }).count({ n: '*' })).toEqual([{ n: 0 }]);
  });

  it('retires a contract: its prices are no longer chosen and it leaves the export', async () => {
    const db = stack.database.db;
    const vendor = await createVendor(`V-${unique()}`);
    const modelId = await createHardwareModel(db, { vendor_id: vendor.id, list_price_minor: 150_000 });
    const { manufacturer, name } = await db('hardware_models').where({ id: modelId }).first('manufacturer', 'name');
    const contract = await createContract(vendor.code);
    const price = await send(stack, assetManager.apiKey, 'POST', '/contract-prices', {
      body: { contractNumber: contract.number, itemType: 'hardware', manufacturerOrPublisher: manufacturer, itemName: name, unitPriceMinor: 120_000, currency: 'EUR' },
    });
    expect(price.status).toBe(201);
    expect((await send(stack, requester.apiKey, 'GET', `/catalogue/hardware-models/${modelId}`)).body.priceToday).toEqual({ unitPriceMinor: 120_000, source: 'contract', contractId: contract.id });

    expect((await send(stack, assetManager.apiKey, 'POST', `/contracts/${contract.number}/retire`, { headers: ifMatch(2) })).status).toBe(412);
    const retired = await send(stack, assetManager.apiKey, 'POST', `/contracts/${contract.number}/retire`, { headers: ifMatch(1) });
    expect(retired.status).toBe(200);
    expect(retired.body.retiredAt).toEqual(expect.any(String));
    expect((await send(stack, requester.apiKey, 'GET', `/catalogue/hardware-models/${modelId}`)).body.priceToday).toEqual({ unitPriceMinor: 150_000, source: 'list', contractId: null });
    const newPrice = await send(stack, assetManager.apiKey, 'POST', '/contract-prices', {
      body: { contractNumber: contract.number, itemType: 'hardware', manufacturerOrPublisher: manufacturer, itemName: `${name} Pro`, unitPriceMinor: 1, currency: 'EUR' },
    });
    expect(problemsOf(newPrice)).toEqual(expect.arrayContaining([{ column: 'contractNumber', value: contract.number, reason: `the contract ${contract.number} was retired` }]));
    expect((await send(stack, admin.apiKey, 'GET', '/contracts/export?format=jsonl')).text).not.toContain(contract.number);
  });
});

describe('contract prices', () => {
  it('creates one per contract and item, reads it with its ETag, updates it with If-Match, and the catalogue is priced from it until it is retired', async () => {
    const db = stack.database.db;
    const vendor = await createVendor(`V-${unique()}`);
    const contract = await createContract(vendor.code);
    const modelId = await createHardwareModel(db, { vendor_id: vendor.id, list_price_minor: 150_000 });
    const { manufacturer, name } = await db('hardware_models').where({ id: modelId }).first('manufacturer', 'name');
    const product = { publisher: `Publisher ${unique()}`, name: 'Suite' };
    await db('software_products').insert({ ...product, vendor_id: vendor.id, licence_metric: 'per_user', unit_price_minor: 9_000, currency: 'EUR' });

    const created = await send(stack, assetManager.apiKey, 'POST', '/contract-prices', {
      body: { contractNumber: contract.number.toLowerCase(), itemType: 'hardware', manufacturerOrPublisher: manufacturer.toUpperCase(), itemName: name, unitPriceMinor: '125000', currency: 'EUR' },
    });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({
      ref: created.body.id, contractNumber: contract.number, itemType: 'hardware', manufacturerOrPublisher: manufacturer, itemName: name,
      unitPriceMinor: 125_000, currency: 'EUR', version: 1, retiredAt: null,
    });
    const again = await send(stack, assetManager.apiKey, 'POST', '/contract-prices', {
      body: { contractNumber: contract.number, itemType: 'hardware', manufacturerOrPublisher: manufacturer, itemName: name.toLowerCase(), unitPriceMinor: 1, currency: 'EUR' },
    });
    expect(again.status).toBe(409);
    expect(again.body.error).toMatchObject({ code: 'already_exists', details: { ref: created.body.id } });
    const software = await send(stack, admin.apiKey, 'POST', '/contract-prices', {
      body: { contractNumber: contract.number, itemType: 'software', manufacturerOrPublisher: product.publisher, itemName: product.name, unitPriceMinor: 7_500, currency: 'EUR' },
    });
    expect(software.status).toBe(201);

    const read = await send(stack, requester.apiKey, 'GET', `/contract-prices/${created.body.id}`);
    expect(read.status).toBe(200);
    expect(read.headers.get('etag')).toBe('"1"');
    expect(read.body).toEqual(created.body);
    const listed = await send(stack, requester.apiKey, 'GET', `/contract-prices?q=${encodeURIComponent(product.publisher)}`);
    expect(listed.body.items).toEqual([software.body]);

    const updated = await send(stack, assetManager.apiKey, 'PATCH', `/contract-prices/${created.body.id}`, { body: { unitPriceMinor: 119_900 }, headers: ifMatch(1) });
    expect(updated.status).toBe(200);
    expect(updated.body).toMatchObject({ unitPriceMinor: 119_900, version: 2 });
    expect((await send(stack, assetManager.apiKey, 'PATCH', `/contract-prices/${created.body.id}`, { body: { unitPriceMinor: 1 }, headers: ifMatch(1) })).status).toBe(412);
    expect((await send(stack, requester.apiKey, 'GET', `/catalogue/hardware-models/${modelId}`)).body.priceToday).toEqual({ unitPriceMinor: 119_900, source: 'contract', contractId: contract.id });

    expect((await send(stack, requester.apiKey, 'POST', `/contract-prices/${created.body.id}/retire`, { headers: ifMatch(2) })).status).toBe(403);
    const retired = await send(stack, assetManager.apiKey, 'POST', `/contract-prices/${created.body.id}/retire`, { headers: ifMatch(2) });
    expect(retired.status).toBe(200);
    expect(retired.body.retiredAt).toEqual(expect.any(String));
    const model = (await send(stack, requester.apiKey, 'GET', `/catalogue/hardware-models/${modelId}`)).body;
    expect(model.priceToday).toEqual({ unitPriceMinor: 150_000, source: 'list', contractId: null });
    expect(model.contractPrices).toEqual([]);
  });

  it('refuses a row naming the column: unknown contract, unknown item, bad currency, a price beyond the bound', async () => {
    const db = stack.database.db;
    const vendor = await createVendor(`V-${unique()}`);
    const contract = await createContract(vendor.code);
    const modelId = await createHardwareModel(db, { vendor_id: vendor.id });
    const { manufacturer, name } = await db('hardware_models').where({ id: modelId }).first('manufacturer', 'name');
    const base = { contractNumber: contract.number, itemType: 'hardware', manufacturerOrPublisher: manufacturer, itemName: name, unitPriceMinor: 100, currency: 'EUR' };
    const refusals: [Record<string, unknown>, { column: string; value: unknown }][] = [
      [{ contractNumber: 'CNTR9999997' }, { column: 'contractNumber', value: 'CNTR9999997' }],
      [{ itemName: 'No such model' }, { column: 'itemName', value: 'No such model' }],
      [{ itemType: 'software' }, { column: 'itemName', value: name }],
      [{ itemType: 'service' }, { column: 'itemType', value: 'service' }],
      [{ currency: 'E1R' }, { column: 'currency', value: 'E1R' }],
      [{ unitPriceMinor: MAX_AMOUNT_MINOR + 1 }, { column: 'unitPriceMinor', value: MAX_AMOUNT_MINOR + 1 }],
      [{ unitPriceMinor: '12.50' }, { column: 'unitPriceMinor', value: '12.50' }],
    ];
    for (const [change, problem] of refusals) {
      const refused = await send(stack, assetManager.apiKey, 'POST', '/contract-prices', { body: { ...base, ...change } });
      expect({ change, status: refused.status, problems: problemsOf(refused) }).toEqual({ change, status: 400, problems: [expect.objectContaining(problem)] });
    }
    expect(await db('contract_prices').where({ contract_id: contract.id }).count({ n: '*' })).toEqual([{ n: 0 }]);
  });
});

describe('budgets', () => {
  it('creates a month of a cost centre, reads it with its ETag, updates it with If-Match, refuses to retire it, and lets only admins write', async () => {
    const code = `CC-${unique()}`;
    await createCostCentre(stack.database.db, code, 'Budget test', null);
    const created = await send(stack, admin.apiKey, 'POST', '/budgets', { body: { costCentre: code.toLowerCase(), month: '2027-03', amountMinor: 5_000_000, currency: 'eur' } });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ ref: created.body.id, costCentre: code, month: '2027-03', amountMinor: 5_000_000, currency: 'EUR', version: 1, retiredAt: null });
    expect(await stack.database.db('budgets').where({ id: created.body.id }).first('period_start')).toEqual({ period_start: '2027-03-01' });
    const again = await send(stack, admin.apiKey, 'POST', '/budgets', { body: { costCentre: code, month: '2027-03', amountMinor: 1, currency: 'EUR' } });
    expect(again.status).toBe(409);

    const read = await send(stack, requester.apiKey, 'GET', `/budgets/${created.body.id}`);
    expect(read.headers.get('etag')).toBe('"1"');
    expect(read.body).toEqual(created.body);
    const listed = await send(stack, requester.apiKey, 'GET', `/budgets?q=${code}&sort=-month`);
    expect(listed.body.items).toEqual([created.body]);

    const updated = await send(stack, admin.apiKey, 'PATCH', `/budgets/${created.body.id}`, { body: { amountMinor: 4_500_000 }, headers: ifMatch(1) });
    expect(updated.status).toBe(200);
    expect(updated.body).toMatchObject({ amountMinor: 4_500_000, version: 2 });
    expect((await send(stack, admin.apiKey, 'PATCH', `/budgets/${created.body.id}`, { body: { amountMinor: 1 }, headers: ifMatch(1) })).status).toBe(412);

    const retire = await send(stack, admin.apiKey, 'POST', `/budgets/${created.body.id}/retire`, { headers: ifMatch(2) });
    expect(retire.status).toBe(409);
    expect(retire.body.error).toMatchObject({ code: 'retire_refused', details: { problems: [expect.objectContaining({ column: 'amountMinor', value: 4_500_000 })] } });
    expect((await send(stack, requester.apiKey, 'GET', `/budgets/${created.body.id}`)).body.version).toBe(2);

    for (const writer of [assetManager, requester]) {
      expect((await send(stack, writer.apiKey, 'POST', '/budgets', { body: { costCentre: code, month: '2027-04', amountMinor: 1, currency: 'EUR' } })).status).toBe(403);
      expect((await send(stack, writer.apiKey, 'PATCH', `/budgets/${created.body.id}`, { body: { amountMinor: 1 }, headers: ifMatch(2) })).status).toBe(403);
    }
  });

  it('refuses a row naming the column: unknown or retired cost centre, bad month, bad currency, an amount beyond the bound', async () => {
    const db = stack.database.db;
    const code = `CC-${unique()}`;
    await createCostCentre(db, code, 'Budget refusals', null);
    const retiredCode = `CC-${unique()}`;
    await createCostCentre(db, retiredCode, 'Retired', null);
    await db('cost_centres').where({ code: retiredCode }).update({ retired_at: db.fn.now() });
    const base = { costCentre: code, month: '2027-05', amountMinor: 100, currency: 'EUR' };
    const refusals: [Record<string, unknown>, { column: string; value: unknown; reason?: string }][] = [
      [{ costCentre: 'NO-SUCH-CC' }, { column: 'costCentre', value: 'NO-SUCH-CC' }],
      [{ costCentre: retiredCode }, { column: 'costCentre', value: retiredCode, reason: 'this cost centre was retired' }],
      [{ month: '2027-13' }, { column: 'month', value: '2027-13' }],
      [{ month: '2027-05-01' }, { column: 'month', value: '2027-05-01' }],
      [{ currency: 'euros' }, { column: 'currency', value: 'euros' }],
      [{ amountMinor: MAX_AMOUNT_MINOR + 1 }, { column: 'amountMinor', value: MAX_AMOUNT_MINOR + 1 }],
      [{ amountMinor: -1 }, { column: 'amountMinor', value: -1 }],
    ];
    for (const [change, problem] of refusals) {
      const refused = await send(stack, admin.apiKey, 'POST', '/budgets', { body: { ...base, ...change } });
      expect({ change, status: refused.status, problems: problemsOf(refused) }).toEqual({ change, status: 400, problems: [expect.objectContaining(problem)] });
    }
    expect(await db('budgets').whereIn('cost_centre_id', db('cost_centres').whereIn('code', [code, retiredCode]).select('id')).count({ n: '*' })).toEqual([{ n: 0 }]);
  });
});

describe('export', () => {
  it('streams each list as CSV and JSON lines in the columns an import takes, and every exported row judged again is unchanged', async () => {
    const db = stack.database.db;
    const vendor = await createVendor(`V-${unique()}`);
    const contract = await createContract(vendor.code, { documents: [{ title: 'Terms, "final"', url: 'http://docs.example/terms?v=2' }], autoRenew: true });
    const modelId = await createHardwareModel(db, { vendor_id: vendor.id });
    const { manufacturer, name } = await db('hardware_models').where({ id: modelId }).first('manufacturer', 'name');
    const price = { contractNumber: contract.number, itemType: 'hardware', manufacturerOrPublisher: manufacturer, itemName: name, unitPriceMinor: 99_000, currency: 'EUR' };
    expect((await send(stack, assetManager.apiKey, 'POST', '/contract-prices', { body: price })).status).toBe(201);
    const code = `CC-${unique()}`;
    await createCostCentre(db, code, 'Export test', null);
    const budget = { costCentre: code, month: '2027-01', amountMinor: 2_000_000, currency: 'EUR' };
    expect((await send(stack, admin.apiKey, 'POST', '/budgets', { body: budget })).status).toBe(201);

    const expected: [MasterDataKindName, string, Record<string, unknown>][] = [
      ['vendors', 'code,name,contactEmail,active', { code: vendor.code, name: vendor.name, contactEmail: vendor.contactEmail, active: true }],
      ['contracts', 'number,vendorCode,kind,title,startsOn,endsOn,valueMinor,currency,autoRenew,renewalNoticeDays,documents', {
        number: contract.number, vendorCode: vendor.code, kind: 'purchase', title: 'Framework', ...TERM, valueMinor: 0, currency: 'EUR',
        autoRenew: true, renewalNoticeDays: 60, documents: [{ title: 'Terms, "final"', url: 'http://docs.example/terms?v=2' }],
      }],
      ['contract-prices', 'contractNumber,itemType,manufacturerOrPublisher,itemName,unitPriceMinor,currency', price],
      ['budgets', 'costCentre,month,amountMinor,currency', budget],
    ];
    for (const [kind, header, row] of expected) {
      const exported = await exportedRowsJudged(kind);
      expect({ kind, header: exported.header }).toEqual({ kind, header });
      expect(exported.jsonRows).toContainEqual(row);
      expect(exported.csvRows).toContainEqual(Object.fromEntries(Object.entries(row).map(([column, value]) => [column, typeof value === 'object' ? JSON.stringify(value) : String(value)])));
      expect(exported.jsonRows.length).toBeGreaterThan(0);
      expect({ kind, verdicts: [...new Set([...exported.csvVerdicts, ...exported.jsonVerdicts])] }).toEqual({ kind, verdicts: ['unchanged'] });
    }
    expect((await send(stack, requester.apiKey, 'GET', '/budgets/export')).status).toBe(403);
    expect((await send(stack, assetManager.apiKey, 'GET', '/budgets/export')).status).toBe(403);
    expect((await send(stack, assetManager.apiKey, 'GET', '/contracts/export')).status).toBe(200);
  });
});
