/**
 * Reading what a purchase request names: a requester finds a cost centre, a vendor, a hardware model
 * and a software product through the API (search, paging, prices) and submits a request with them.
 */
import { monthStart } from '../model/catalogue';
import { createCostCentre, createHardwareModel, createManagedRequester, createPerson, createVendor, eventually, thisMonth, type TestPerson } from './support/fixtures';
import { call, startStack, type Stack } from './support/stack';

let stack: Stack;
let requester: TestPerson;
let owner: TestPerson;
let vendorId: string;
let contractNumber: string;
let modelId: string;
let productId: string;

const NOWHERE = '00000000-0000-4000-8000-000000000000';
const get = (path: string) => call(stack, requester.apiKey, 'GET', path);

beforeAll(async () => {
  stack = await startStack();
  const db = stack.database.db;
  ({ requester } = await createManagedRequester(db, { requester: 'Rita Requester', manager: 'Max Manager' }));
  owner = await createPerson(db, ['approver'], 'Olga Owner');

  const ccId = await createCostCentre(db, 'CAT-OPS', 'Catalogue operations', 5_000_000);
  await db('cost_centres').where({ id: ccId }).update({ owner_id: owner.id });
  const now = new Date();
  await db('budgets').insert([
    { cost_centre_id: ccId, period_start: monthStart(now, -13), amount_minor: 1_000, currency: 'EUR' },
    { cost_centre_id: ccId, period_start: monthStart(now, -1), amount_minor: 4_000_000, currency: 'EUR' },
    { cost_centre_id: ccId, period_start: monthStart(now, 2), amount_minor: 6_000_000, currency: 'EUR' },
  ]);
  await createCostCentre(db, 'CAT-DEV', 'Catalogue development', null);
  await createCostCentre(db, 'CAT-FIN', 'Finance 100%_sure', null);

  vendorId = await createVendor(db, 'Catalogue Computers');
  await createVendor(db, 'Catalogue Cables');
  await createVendor(db, 'Unrelated Stationery');
  const [contract] = await db('contracts')
    .insert({ vendor_id: vendorId, kind: 'purchase', title: 'Laptop framework', starts_on: '2026-01-01', ends_on: '2029-12-31', currency: 'EUR' })
    .returning(['id', 'number']);
  contractNumber = contract.number;
  await db('contracts').insert({ vendor_id: vendorId, kind: 'support', title: 'Old support', starts_on: '2020-01-01', ends_on: '2021-12-31', currency: 'EUR' });

  modelId = await createHardwareModel(db, { manufacturer: 'Catalogix', name: 'Book 14', vendor_id: vendorId, list_price_minor: 150_000 });
  await createHardwareModel(db, { manufacturer: 'Catalogix', name: 'Tower 9', category: 'desktop', vendor_id: vendorId, list_price_minor: 90_000 });
  await db('contract_prices').insert({ contract_id: contract.id, hardware_model_id: modelId, unit_price_minor: 125_000, currency: 'EUR' });
  [{ id: productId }] = await db('software_products')
    .insert({ publisher: 'Catalogix Soft', name: 'Sheets', vendor_id: vendorId, licence_metric: 'per_user', unit_price_minor: 12_000, currency: 'EUR' })
    .returning('id');
  await db('software_products')
    .insert({ publisher: 'Catalogix Soft', name: 'Server Suite', vendor_id: vendorId, licence_metric: 'per_core', unit_price_minor: 400_000, currency: 'EUR' });
});

afterAll(async () => {
  await stack?.stop();
});

describe('a requester', () => {
  it('finds the cost centre, vendor, hardware model and software product a purchase request needs, and submits it', async () => {
    const costCentres = await get('/cost-centres?q=operations');
    expect(costCentres.status).toBe(200);
    expect(costCentres.body.items).toEqual([{
      id: expect.any(String), code: 'CAT-OPS', name: 'Catalogue operations',
      owner: { id: owner.id, name: 'Olga Owner', email: owner.email },
      thisMonthBudget: { amountMinor: 5_000_000, currency: 'EUR' },
    }]);

    const costCentre = await get('/cost-centres/cat-ops');
    expect(costCentre.status).toBe(200);
    const now = new Date();
    expect(costCentre.body.budgets).toEqual([
      { periodStart: monthStart(now, -1), amountMinor: 4_000_000, currency: 'EUR' },
      { periodStart: thisMonth(), amountMinor: 5_000_000, currency: 'EUR' },
      { periodStart: monthStart(now, 2), amountMinor: 6_000_000, currency: 'EUR' },
    ]);

    const vendors = await get('/vendors?q=computers');
    expect(vendors.body.items).toEqual([{ id: vendorId, name: 'Catalogue Computers', contactEmail: 'orders@catalogue.example', active: true }]);
    const vendor = await get(`/vendors/${vendorId}`);
    expect(vendor.status).toBe(200);
    expect(vendor.body.contracts.map((c: { kind: string; title: string; endsOn: string }) => [c.kind, c.title, c.endsOn]))
      .toEqual([['support', 'Old support', '2021-12-31'], ['purchase', 'Laptop framework', '2029-12-31']]);

    const models = await get('/catalogue/hardware-models?q=catalogix&category=LAPTOP');
    expect(models.status).toBe(200);
    expect(models.body.items).toHaveLength(1);
    const [model] = models.body.items;
    expect(model).toMatchObject({
      id: modelId, manufacturer: 'Catalogix', name: 'Book 14', category: 'laptop',
      vendor: { id: vendorId, name: 'Catalogue Computers' },
      listPrice: { amountMinor: 150_000, currency: 'EUR' },
      contractPrices: [{ contractNumber, vendor: { id: vendorId, name: 'Catalogue Computers' }, unitPriceMinor: 125_000, currency: 'EUR' }],
      priceToday: { unitPriceMinor: 125_000, source: 'contract' },
    });
    expect((await get(`/catalogue/hardware-models/${modelId}`)).body).toEqual(model);

    const products = await get('/catalogue/software-products?q=catalogix&licenceMetric=per_user');
    expect(products.body.items).toEqual([expect.objectContaining({
      id: productId, publisher: 'Catalogix Soft', name: 'Sheets', licenceMetric: 'per_user',
      listPrice: { amountMinor: 12_000, currency: 'EUR' }, contractPrices: [], priceToday: { unitPriceMinor: 12_000, source: 'list', contractId: null },
    })]);
    expect((await get(`/catalogue/software-products/${productId}`)).body).toEqual(products.body.items[0]);

    const created = await call(stack, requester.apiKey, 'POST', '/purchase-requests', {
      costCentre: costCentre.body.code,
      justification: 'Laptops and spreadsheets for the new team',
      lines: [{ hardwareModelId: model.id, vendorId: vendor.body.id, quantity: 2 }, { softwareProductId: products.body.items[0].id, quantity: 2 }],
    });
    expect(created.status).toBe(201);
    // The budget check prices the lines by the same rule as priceToday.
    const priced = await eventually(async () => {
      const request = (await get(`/purchase-requests/${created.body.id}`)).body;
      return request.totalMinor !== null ? request : undefined;
    });
    expect(priced.totalMinor).toBe(2 * model.priceToday.unitPriceMinor + 2 * products.body.items[0].priceToday.unitPriceMinor);
  });
});

describe('the lists', () => {
  it('search (wildcards taken literally) and page', async () => {
    const first = await get('/cost-centres?q=CAT-&limit=2');
    expect(first.body.items.map((c: { code: string }) => c.code)).toEqual(['CAT-DEV', 'CAT-FIN']);
    expect(first.body.page).toMatchObject({ limit: 2, offset: 0, total: 3 });
    const second = await get('/cost-centres?q=CAT-&limit=2&offset=2');
    expect(second.body.items.map((c: { code: string }) => c.code)).toEqual(['CAT-OPS']);
    expect(second.body.items[0].thisMonthBudget).toEqual({ amountMinor: 5_000_000, currency: 'EUR' });
    expect((await get('/cost-centres?q=CAT-DEV')).body.items[0]).toMatchObject({ owner: null, thisMonthBudget: null });
    expect((await get('/cost-centres?q=0%25_')).body.items.map((c: { code: string }) => c.code)).toEqual(['CAT-FIN']);
    expect((await get('/cost-centres?q=%25')).body.items.map((c: { code: string }) => c.code)).toEqual(['CAT-FIN']);

    const vendors = await get('/vendors?q=catalogue&limit=1&offset=1');
    expect(vendors.body.items.map((v: { name: string }) => v.name)).toEqual(['Catalogue Computers']);
    expect(vendors.body.page.total).toBe(2);

    const models = await get(`/catalogue/hardware-models?vendor=${vendorId}&limit=1&offset=1`);
    expect(models.body.items.map((m: { name: string }) => m.name)).toEqual(['Tower 9']);
    expect(models.body.page.total).toBe(2);
    expect((await get('/catalogue/hardware-models?category=desktop&q=catalogix')).body.items.map((m: { name: string }) => m.name)).toEqual(['Tower 9']);

    const products = await get('/catalogue/software-products?q=suite');
    expect(products.body.items.map((p: { name: string; licenceMetric: string }) => [p.name, p.licenceMetric])).toEqual([['Server Suite', 'per_core']]);
  });

  it('refuse bad filters', async () => {
    expect((await get('/catalogue/software-products?licenceMetric=per_moon')).status).toBe(400);
    expect((await get('/vendors?limit=0')).status).toBe(400);
    expect((await get('/catalogue/hardware-models?vendor=acme')).status).toBe(400);
  });
});

describe('one record', () => {
  it('answers 404 for an unknown one (a vendor by id or code) and 400 for a catalogue id that is not a uuid', async () => {
    for (const path of ['/cost-centres/NO-SUCH', `/vendors/${NOWHERE}`, '/vendors/no-such-code', `/catalogue/hardware-models/${NOWHERE}`, `/catalogue/software-products/${NOWHERE}`]) {
      const res = await get(path);
      expect({ path, status: res.status, code: res.body.error.code }).toEqual({ path, status: 404, code: 'not_found' });
    }
    for (const path of ['/catalogue/hardware-models/123', '/catalogue/software-products/not-a-uuid']) {
      expect({ path, status: (await get(path)).status }).toEqual({ path, status: 400 });
    }
  });
});

describe('without a key', () => {
  it('is 401 everywhere', async () => {
    for (const path of ['/cost-centres', '/cost-centres/CAT-OPS', '/vendors', `/vendors/${vendorId}`, '/catalogue/hardware-models',
      `/catalogue/hardware-models/${modelId}`, '/catalogue/software-products', `/catalogue/software-products/${productId}`]) {
      expect({ path, status: (await call(stack, undefined, 'GET', path)).status }).toEqual({ path, status: 401 });
    }
  });
});
