/**
 * COBIT evidence (issue 17) on the real stack: every objective answers JSON with its sections and
 * a CSV of them that parses; figures seeded here appear as seeded (a programme of our own with two
 * requests and one order, a lost asset in DSS05, an allocation month of our own whose cost by
 * service and cost centre is the exact sum to the last decimal place, the register paged and whole;
 * assets in a currency of our own whose book value in SQL is bookValue's to the unit; a renewed contract
 * by its latest term; lists cut at LIST_LIMIT with their counts; typed text in CSV never a formula);
 * the pages answer with the security headers, their tables and charts; a requester is refused.
 * Other test files share the database: only rows this file made are counted exactly.
 */
import { randomBytes } from 'node:crypto';
import { parse } from 'csv-parse/sync';
import { bookValue, type DepreciationMethod } from '../domain/depreciation';
import { COBIT_OBJECTIVES, LIST_LIMIT } from '../model/cobit-evidence';
import { createAsset, createCi, createCostCentre, createPerson, createVendor, type TestPerson } from './support/fixtures';
import { call, send, startStack, type Stack } from './support/stack';
import { browse, signInWithKey, webAgent, type WebAgent } from './support/web-agent';

let stack: Stack;
let overseer: TestPerson;
let requester: TestPerson;
let overseerAgent: WebAgent;
let requesterAgent: WebAgent;

const unique = () => randomBytes(4).toString('hex');
const programme = `Programme ${unique()}`;
/** A month of our own, long ago, that no other test allocates. */
const period = `19${String(10 + (randomBytes(1)[0] % 90)).padStart(2, '0')}-${String(1 + (randomBytes(1)[0] % 12)).padStart(2, '0')}`;
let lostTag: string;
let receivedTag: string;
let serviceName: string;
let costCentreCode: string;
let contractNumber: string;
let product: string;
/** A currency no other test uses: the APO05 value and APO09 contract rows in it are ours alone. */
const currency = `Z${String.fromCharCode(65 + (randomBytes(1)[0] % 26))}${String.fromCharCode(65 + (randomBytes(1)[0] % 26))}`;
let renewedNumber: string;
let formulaPerson: TestPerson;
let creditCostCentreCode: string;
const formulaTitle = '=HYPERLINK("http://evil.example","renew")';
const publisher = `Cut ${unique()}`;

/** Assets of ours that depreciate every way domain/depreciation.ts knows, edge dates included. */
const VALUED: { method: DepreciationMethod; cost: number; salvage: number; life: number; purchaseDate: string | null }[] = [
  { method: 'straight_line', cost: 100_001, salvage: 1_000, life: 36, purchaseDate: '2025-03-31' },
  { method: 'straight_line', cost: 12_345, salvage: 345, life: 36, purchaseDate: '2019-05-17' },
  { method: 'straight_line', cost: 55_555, salvage: 0, life: 36, purchaseDate: null },
  { method: 'straight_line', cost: 40_000, salvage: 0, life: 24, purchaseDate: '2099-01-01' },
  { method: 'declining_balance', cost: 250_000, salvage: 10_000, life: 24, purchaseDate: '2025-10-31' },
  { method: 'declining_balance', cost: 250_000, salvage: 10_000, life: 24, purchaseDate: '2025-10-31' },
  { method: 'declining_balance', cost: 99_999, salvage: 50_000, life: 12, purchaseDate: '2024-02-29' },
  { method: 'declining_balance', cost: 1_000, salvage: 5_000, life: 10, purchaseDate: '2026-01-01' },
  { method: 'declining_balance', cost: 777_777, salvage: 1, life: 60, purchaseDate: '2022-12-15' },
  { method: 'none', cost: 70_000, salvage: 0, life: 36, purchaseDate: '2023-06-01' },
];

async function signedIn(person: TestPerson): Promise<WebAgent> {
  const agent = webAgent(stack.baseUrl);
  expect((await signInWithKey(agent, person.apiKey)).status).toBe(303);
  return agent;
}

beforeAll(async () => {
  stack = await startStack({ worker: false });
  const db = stack.database.db;
  overseer = await createPerson(db, ['asset_manager'], 'Cora Auditor');
  requester = await createPerson(db, ['requester'], 'Rex Requester');
  [overseerAgent, requesterAgent] = await Promise.all([signedIn(overseer), signedIn(requester)]);

  costCentreCode = `CC-COBIT-${unique()}`;
  const costCentreId = await createCostCentre(db, costCentreCode, 'Audit evidence', null);
  const vendorId = await createVendor(db, `Cobit Supplies ${unique()}`);

  // A programme of our own: two requests, one of them ordered and received, its asset in use.
  const [ordered, notOrdered] = await db('purchase_requests').insert([
    { requester_id: requester.id, cost_centre_id: costCentreId, justification: 'evidence', programme, currency: 'EUR', total_minor: 150_000, state: 'ordering' },
    { requester_id: requester.id, cost_centre_id: costCentreId, justification: 'evidence', programme, currency: 'EUR', total_minor: 99_999, state: 'authorize' },
  ]).returning('id');
  expect(notOrdered.id).toBeDefined();
  const [line] = await db('purchase_request_lines')
    .insert({ purchase_request_id: ordered.id, line_number: 1, description: 'Laptop', vendor_id: vendorId, quantity: 1, unit_price_minor: 150_000 }).returning('id');
  const [order] = await db('purchase_orders')
    .insert({ purchase_request_id: ordered.id, vendor_id: vendorId, amount_minor: 150_000, currency: 'EUR', state: 'received' }).returning('id');
  const [receipt] = await db('receipts')
    .insert({ idempotency_key: `cobit-${unique()}`, purchase_order_id: order.id, purchase_request_line_id: line.id, quantity: 1, received_by_id: overseer.id }).returning('id');
  const received = await createAsset(db, { state: 'in_use', assignedToId: requester.id });
  await db('assets').where({ id: received.id }).update({ receipt_id: receipt.id });
  receivedTag = received.assetTag;

  // A contract inside its renewal notice period, with a licence agreement under it.
  const [contract] = await db('contracts').insert({
    vendor_id: vendorId, kind: 'software_licence', title: 'Evidence licences', currency: 'EUR', value_minor: 500_000, renewal_notice_days: 60,
    starts_on: db.raw(`CURRENT_DATE - 300`), ends_on: db.raw(`CURRENT_DATE + 30`),
  }).returning(['id', 'number']);
  contractNumber = contract.number;
  product = `Evidence Suite ${unique()}`;
  const [{ id: productId }] = await db('software_products')
    .insert({ publisher: 'Cobit', name: product, licence_metric: 'per_user', unit_price_minor: 10_000, currency: 'EUR' }).returning('id');
  await db('software_entitlements').insert({ product_id: productId, metric: 'per_user', quantity: 5, starts_on: '2026-01-01', cost_minor: 50_000, currency: 'EUR', contract_id: contract.id });

  // Assets in our own currency, valued by every rule; and one retired, which the value leaves out.
  for (const v of VALUED) {
    const asset = await createAsset(db, {});
    await db('assets').where({ id: asset.id }).update({
      currency, depreciation_method: v.method, purchase_cost_minor: v.cost, salvage_value_minor: v.salvage, useful_life_months: v.life, purchase_date: v.purchaseDate,
    });
  }
  const retired = await createAsset(db, {});
  await db('assets').where({ id: retired.id }).update({ currency, state: 'retired', substate: 'lost', retired_at: db.fn.now() });

  // Two contracts of ours inside their notice period, one renewed for a year: it is active by its next term.
  const [ending, renewed] = await db('contracts').insert([0, 1].map(() => ({
    vendor_id: vendorId, kind: 'software_licence', title: 'Evidence renewals', currency, value_minor: 100_000, renewal_notice_days: 60,
    starts_on: db.raw(`CURRENT_DATE - 300`), ends_on: db.raw(`CURRENT_DATE + 30`),
  }))).returning(['id', 'number']);
  expect(ending.id).toBeDefined();
  const [renewal] = await db('contract_renewals').insert({
    contract_id: renewed.id, title: formulaTitle, state: 'renew', decided_at: db.fn.now(),
    next_starts_on: db.raw(`CURRENT_DATE + 31`), next_ends_on: db.raw(`CURRENT_DATE + 395`), next_value_minor: '9007199254740993',
  }).returning('number');
  renewedNumber = renewal.number;

  // More products of ours than a list shows, with nothing entitled or consumed.
  await db('software_products').insert(Array.from({ length: LIST_LIMIT + 1 }, (_, i) => ({
    publisher, name: `Product ${String(i).padStart(3, '0')}`, licence_metric: 'per_user', unit_price_minor: 100, currency: 'EUR',
  })));

  // Text typed to start a formula: an assignee's name, and a cost centre credited in our month.
  formulaPerson = await createPerson(db, ['requester'], `@SUM(1+1) ${unique()}`);
  const typed = await createAsset(db, { state: 'in_use', assignedToId: formulaPerson.id });
  expect(typed.id).toBeDefined();
  creditCostCentreCode = `CC-CREDIT-${unique()}`;
  const creditCostCentreId = await createCostCentre(db, creditCostCentreCode, '+Credits', null);

  // A lost asset.
  const lost = await createAsset(db, { state: 'in_use', assignedToId: requester.id });
  await db('assets').where({ id: lost.id }).update({ state: 'retired', substate: 'lost', retired_at: db.fn.now() });
  lostTag = lost.assetTag;

  // An allocation month of our own: two cloud costs on one service and cost centre, at many decimal places.
  const service = await createCi(db, { name: `Evidence service ${unique()}`, ciClass: 'business_service', criticality: 'tier_2' });
  serviceName = service.name;
  const [run] = await db('allocation_runs')
    .insert({ period_start: `${period}-01`, state: 'completed', idempotency_key: `cobit-${unique()}`, finished_at: db.fn.now() }).returning('id');
  await db('cost_allocations').insert([
    { run_id: run.id, period_start: `${period}-01`, category: 'cloud', source_type: 'cost_record', cost_centre_id: costCentreId, business_service_id: service.id, amount: '12.3456789012', currency: 'EUR' },
    { run_id: run.id, period_start: `${period}-01`, category: 'cloud', source_type: 'cost_record', cost_centre_id: costCentreId, business_service_id: service.id, amount: '0.0000000988', currency: 'EUR' },
    { run_id: run.id, period_start: `${period}-01`, category: 'depreciation', source_type: 'asset', cost_centre_id: costCentreId, business_service_id: null, amount: '33.33', currency: 'USD' },
    { run_id: run.id, period_start: `${period}-01`, category: 'cloud', source_type: 'cost_record', cost_centre_id: creditCostCentreId, business_service_id: null, amount: '-0.2500000001', currency: 'EUR' },
  ]);
});

afterAll(async () => {
  await stack?.stop();
});

/** The sections that list rows rather than aggregate them: each is cut at LIST_LIMIT. */
const LISTS = ['licence_agreements', 'renewals', 'compliance', 'licence_coverage', 'unlicensed', 'lost_or_stolen'];

type Section = { key: string; title: string; columns: { key: string; title: string; kind: string }[]; rows: Record<string, unknown>[]; note?: string };
const sectionOf = (body: { sections: Section[] }, key: string) => body.sections.find((s) => s.key === key)!;

describe('the API', () => {
  it('lists the objectives with their titles and links', async () => {
    const res = await call(stack, overseer.apiKey, 'GET', '/cobit/evidence');
    expect(res.status).toBe(200);
    expect(res.body.objectives.map((o: { objective: string }) => o.objective)).toEqual([...COBIT_OBJECTIVES]);
    expect(res.body.objectives[0]).toMatchObject({ code: 'APO05', href: '/cobit/evidence/apo05', csv: '/cobit/evidence/apo05?format=csv', page: '/ui/cobit/apo05' });
  });

  it.each(COBIT_OBJECTIVES)('%s answers JSON with its sections, and one CSV of them that parses', async (objective) => {
    const json = await call(stack, overseer.apiKey, 'GET', `/cobit/evidence/${objective}`);
    expect(json.status).toBe(200);
    expect(json.body).toMatchObject({ objective, code: objective.toUpperCase() });
    expect(typeof json.body.title).toBe('string');
    expect(Number.isNaN(Date.parse(json.body.generatedAt))).toBe(false);
    expect(json.body.sections.length).toBeGreaterThan(1);
    for (const section of json.body.sections as Section[]) {
      expect(section).toEqual(expect.objectContaining({ key: expect.any(String), title: expect.any(String), columns: expect.any(Array), rows: expect.any(Array) }));
      for (const row of section.rows) expect(Object.keys(row).sort()).toEqual(section.columns.map((c) => c.key).sort());
      if (LISTS.includes(section.key)) expect(section.rows.length).toBeLessThanOrEqual(LIST_LIMIT);
    }

    const asks: { path: string; headers: Record<string, string> }[] = [
      { path: `/cobit/evidence/${objective}?format=csv`, headers: {} },
      { path: `/cobit/evidence/${objective}`, headers: { accept: 'text/csv' } },
    ];
    for (const asked of asks) {
      const csv = await send(stack, overseer.apiKey, 'GET', asked.path, { headers: asked.headers });
      expect(csv.status).toBe(200);
      expect(csv.headers.get('content-type')).toMatch(/^text\/csv/);
      expect(csv.headers.get('content-disposition')).toBe(`attachment; filename="cobit-${objective}.csv"`);
      const records: Record<string, string>[] = parse(csv.text, { columns: true });
      const rows = (json.body.sections as Section[]).reduce((n, s) => n + s.rows.length, 0);
      // Figures others write between the two calls may add rows; never fewer.
      expect(records.length).toBeGreaterThanOrEqual(rows);
      expect([...new Set(records.map((r) => r.section))]).toEqual(expect.arrayContaining((json.body.sections as Section[]).filter((s) => s.rows.length).map((s) => s.key)));
    }
  });

  it('BAI01: our programme was requested twice, ordered once, and its asset received and in use', async () => {
    const res = await call(stack, overseer.apiKey, 'GET', '/cobit/evidence/bai01');
    expect(sectionOf(res.body, 'programmes').rows.find((r) => r.programme === programme))
      .toEqual({ programme, requested: 2, rejectedOrCancelled: 0, ordered: 1, assetsReceived: 1, assetsInUse: 1 });
    expect(sectionOf(res.body, 'programme_amounts').rows.find((r) => r.programme === programme))
      .toEqual({ programme, currency: 'EUR', requestedMinor: '249999', orderedMinor: '150000', receivedMinor: '0' });
  });

  it('APO09: our contract is inside its notice period, with its licence agreement and its compliance', async () => {
    const res = await call(stack, overseer.apiKey, 'GET', '/cobit/evidence/apo09');
    expect(sectionOf(res.body, 'contracts').rows.find((r) => r.kind === 'software_licence' && r.status === 'ending_within_notice' && r.currency === 'EUR'))
      .toMatchObject({ contracts: expect.any(Number) });
    expect(sectionOf(res.body, 'licence_agreements').rows.find((r) => r.product === `Cobit ${product}`))
      .toEqual({ product: `Cobit ${product}`, metric: 'per_user', currency: 'EUR', entitlements: 1, unitsInTerm: 5, costMinor: '50000', contracts: contractNumber, withoutContract: 0 });
    expect(sectionOf(res.body, 'compliance').rows.find((r) => r.product === `Cobit ${product}`))
      .toMatchObject({ entitledUnits: 5, consumedUnits: 0, shortfallUnits: 0, position: 'under_used', trueUpCostMinor: '0' });
  });

  it('APO05: the book value of our assets, worked in SQL, is what bookValue gives each, to the unit', async () => {
    const onDate = new Date().toISOString().slice(0, 10);
    const res = await call(stack, overseer.apiKey, 'GET', '/cobit/evidence/apo05');
    const expected = VALUED.reduce((sum, v) => sum + BigInt(v.purchaseDate
      ? bookValue({ method: v.method, costMinor: v.cost, salvageMinor: v.salvage, usefulLifeMonths: v.life, purchaseDate: v.purchaseDate, onDate })
      : v.cost), 0n);
    expect(sectionOf(res.body, 'value').rows.find((r) => r.currency === currency)).toEqual({
      currency, assets: VALUED.length, purchaseCostMinor: String(VALUED.reduce((sum, v) => sum + v.cost, 0)), bookValueMinor: expected.toString(),
    });
  });

  it('APO09: a contract renewed is active by its next term, one not renewed is ending within its notice', async () => {
    const res = await call(stack, overseer.apiKey, 'GET', '/cobit/evidence/apo09');
    expect(sectionOf(res.body, 'contracts').rows.filter((r) => r.currency === currency)).toEqual([
      { kind: 'software_licence', status: 'active', currency, contracts: 1, valueMinor: '100000' },
      { kind: 'software_licence', status: 'ending_within_notice', currency, contracts: 1, valueMinor: '100000' },
    ]);
    const renewal = sectionOf(res.body, 'renewals').rows.find((r) => r.number === renewedNumber)!;
    expect(renewal).toMatchObject({ title: formulaTitle, state: 'renew', currency, nextValueMinor: '9007199254740993' });
    expect(String(renewal.nextStartsOn) < String(renewal.nextEndsOn)).toBe(true);
  });

  it('cuts the licence lists at LIST_LIMIT and says how many there are', async () => {
    const apo09 = await call(stack, overseer.apiKey, 'GET', '/cobit/evidence/apo09');
    const compliance = sectionOf(apo09.body, 'compliance');
    expect(compliance.rows).toHaveLength(LIST_LIMIT);
    const [, total] = /^\d+ of the (\d+) products shown, the largest shortfall first\.$/.exec(compliance.note ?? '') ?? [];
    expect(Number(total)).toBeGreaterThan(LIST_LIMIT);
    const shortfalls = compliance.rows.map((r) => r.shortfallUnits as number);
    expect(shortfalls).toEqual([...shortfalls].sort((a, b) => b - a));
  });

  it('CSV: typed text never starts a formula, and a credit stays a number', async () => {
    const apo09 = await send(stack, overseer.apiKey, 'GET', '/cobit/evidence/apo09?format=csv');
    const renewals: Record<string, string>[] = parse(apo09.text, { columns: true });
    expect(renewals.find((r) => r.number === renewedNumber)).toMatchObject({ title: `'${formulaTitle}`, nextValueMinor: '9007199254740993' });

    const apo05 = await send(stack, overseer.apiKey, 'GET', `/cobit/evidence/apo05?period=${period}&format=csv`);
    const costs: Record<string, string>[] = parse(apo05.text, { columns: true });
    expect(costs.find((r) => r.section === 'cost_by_cost_centre' && r.costCentreCode === creditCostCentreCode))
      .toMatchObject({ costCentre: "'+Credits", currency: 'EUR', amount: '-0.2500000001' });

    const register = await send(stack, overseer.apiKey, 'GET', '/cobit/evidence/bai09/register?format=csv');
    const entries: Record<string, string>[] = parse(register.text, { columns: true });
    expect(entries.find((r) => r.assignee?.includes(formulaPerson.name))).toMatchObject({ assignee: `'${formulaPerson.name}`, purchaseCostMinor: '120000' });
  });

  it('DSS05: our lost asset is among the assets lost or stolen', async () => {
    const res = await call(stack, overseer.apiKey, 'GET', '/cobit/evidence/dss05');
    expect(sectionOf(res.body, 'lost_or_stolen').rows.find((r) => r.assetTag === lostTag))
      .toMatchObject({ assetTag: lostTag, state: 'retired', substate: 'lost', assignee: requester.name });
    expect(sectionOf(res.body, 'unowned').rows.length).toBeGreaterThan(0);
  });

  it('APO05: the cost of our month per service and cost centre is the exact sum, per currency', async () => {
    const res = await call(stack, overseer.apiKey, 'GET', `/cobit/evidence/apo05?period=${period}`);
    expect(res.status).toBe(200);
    expect(res.body.period).toBe(period);
    expect(sectionOf(res.body, 'cost_by_service').rows.filter((r) => r.service === serviceName))
      .toEqual([{ serviceNumber: expect.stringMatching(/^CI/), service: serviceName, currency: 'EUR', amount: '12.3456790000' }]);
    expect(sectionOf(res.body, 'cost_by_cost_centre').rows.filter((r) => r.costCentreCode === costCentreCode)).toEqual([
      { costCentreCode, costCentre: 'Audit evidence', currency: 'EUR', amount: '12.3456790000', shared: '0' },
      { costCentreCode, costCentre: 'Audit evidence', currency: 'USD', amount: '33.33', shared: '0' },
    ]);
    const value = sectionOf(res.body, 'value').rows.find((r) => r.currency === 'EUR')!;
    expect(BigInt(value.purchaseCostMinor as string)).toBeGreaterThanOrEqual(BigInt(value.bookValueMinor as string));

    const empty = await call(stack, overseer.apiKey, 'GET', '/cobit/evidence/apo05?period=1900-01');
    expect(sectionOf(empty.body, 'cost_by_service')).toMatchObject({ rows: [], note: 'No allocation run has completed for 1900-01.' });
    expect((await call(stack, overseer.apiKey, 'GET', '/cobit/evidence/apo05?period=2026-13')).status).toBe(400);
  });

  it('BAI09: the register pages by asset tag, and downloads whole as CSV', async () => {
    const page = await call(stack, overseer.apiKey, 'GET', '/cobit/evidence/bai09/register?limit=2');
    expect(page.status).toBe(200);
    expect(page.body.items).toHaveLength(2);
    expect(page.body.page).toMatchObject({ limit: 2, offset: 0 });
    expect(page.body.page.total).toBeGreaterThanOrEqual(2);
    expect(page.body.items[0].assetTag < page.body.items[1].assetTag).toBe(true);

    const csv = await send(stack, overseer.apiKey, 'GET', '/cobit/evidence/bai09/register?format=csv');
    expect(csv.status).toBe(200);
    expect(csv.headers.get('content-disposition')).toBe('attachment; filename="cobit-bai09-register.csv"');
    const records: Record<string, string>[] = parse(csv.text, { columns: true });
    expect(records.find((r) => r.assetTag === receivedTag)).toMatchObject({ state: 'in_use', assignee: requester.name, currency: 'EUR', purchaseCostMinor: '120000' });
    expect(records.length).toBeGreaterThanOrEqual(page.body.page.total);
  });

  it('refuses a requester, and names an objective that does not exist', async () => {
    for (const path of ['/cobit/evidence', '/cobit/evidence/apo05', '/cobit/evidence/bai09/register']) {
      expect((await call(stack, requester.apiKey, 'GET', path)).status).toBe(403);
    }
    const unknown = await call(stack, overseer.apiKey, 'GET', '/cobit/evidence/apo99');
    expect(unknown.status).toBe(400);
  });
});

describe('the pages', () => {
  function expectPageHeaders(headers: Headers) {
    const csp = headers.get('content-security-policy') ?? '';
    expect({ noScripts: /default-src 'none'/.test(csp) && !/script-src/.test(csp), sniff: headers.get('x-content-type-options'), frame: headers.get('x-frame-options') })
      .toEqual({ noScripts: true, sniff: 'nosniff', frame: 'DENY' });
  }

  it('show the objectives as cards with a headline figure each', async () => {
    const res = await browse(overseerAgent, 'GET', '/ui/cobit');
    expect(res.status).toBe(200);
    expectPageHeaders(res.headers);
    for (const objective of COBIT_OBJECTIVES) expect(res.html).toContain(`href="/ui/cobit/${objective}"`);
    expect(res.html).toMatch(/<strong class="figure">\d+<\/strong> assets missing, lost or stolen/);
  });

  it.each(COBIT_OBJECTIVES)('show %s as tables with captions, and its CSV downloads', async (objective) => {
    const res = await browse(overseerAgent, 'GET', `/ui/cobit/${objective}`);
    expect(res.status).toBe(200);
    expectPageHeaders(res.headers);
    expect(res.html).toMatch(/<table id="[a-z_]+">\n<caption class="sr-only">[^<]+<\/caption>/);
    expect(res.html).toContain(`href="/ui/cobit/${objective}?format=csv"`);
    const csv = await browse(overseerAgent, 'GET', `/ui/cobit/${objective}?format=csv`);
    expect(csv.status).toBe(200);
    expect(csv.headers.get('content-type')).toMatch(/^text\/csv/);
    expect(parse(csv.html, { columns: true }).length).toBeGreaterThanOrEqual(0);
  });

  it('chart the cost of our month by service and cost centre, and show our lost asset', async () => {
    const apo05 = await browse(overseerAgent, 'GET', `/ui/cobit/apo05?period=${period}`);
    expect(apo05.status).toBe(200);
    expect(apo05.html).toContain('<svg id="chart-cost_by_service-eur"');
    expect(apo05.html).toContain('<svg id="chart-cost_by_cost_centre-usd"');
    expect(apo05.html).toContain('EUR 12.3456790000');
    const dss05 = await browse(overseerAgent, 'GET', '/ui/cobit/dss05');
    expect(dss05.html).toContain(lostTag);
    const bai06 = await browse(overseerAgent, 'GET', '/ui/cobit/bai06');
    expect(bai06.status).toBe(200);
    const bai09 = await browse(overseerAgent, 'GET', '/ui/cobit/bai09');
    expect(bai09.html).toContain('<svg id="chart-lifecycle"');
  });

  it('page the register', async () => {
    const res = await browse(overseerAgent, 'GET', '/ui/cobit/bai09/register?limit=1');
    expect(res.status).toBe(200);
    expectPageHeaders(res.headers);
    expect(res.html).toContain('<caption>Asset register</caption>');
    expect(res.html).toContain('rel="next"');
  });

  it('are not for a requester, and an unknown objective is not found', async () => {
    for (const path of ['/ui/cobit', '/ui/cobit/apo05', '/ui/cobit/bai09/register']) {
      expect((await browse(requesterAgent, 'GET', path)).status).toBe(403);
    }
    expect((await browse(overseerAgent, 'GET', '/ui/cobit/apo99')).status).toBe(404);
  });
});
