/**
 * The monthly cost allocation on a real Temporal dev server and Postgres, for March 2031 (far from
 * every other test's data): depreciation of assets in use split over the services above them,
 * a licence amortised by days and split by its consumptions, a maintenance contract split by its
 * assets, cloud costs with fourteen decimal places in two currencies, other costs, and two shared
 * pools (by headcount and by usage). Run twice it gives the same rows; the allocated totals equal
 * the source totals exactly and, for this test's cost centres, the amounts worked out by hand below;
 * two runs at once leave one set; the schedule's run (no month) allocates the month before. Other
 * months, each of its own: a contract's renewed term amortised beside its current one (June), a cost
 * import committed between the allocation's reads (July), and a refused run recorded as failed.
 */
import { randomBytes } from 'node:crypto';
import type { Knex } from 'knex';
import { createCostAllocationActivities } from '../activities/cost-allocation';
import { periodSpan, previousPeriod } from '../domain/months';
import { readAllocationSources, saveAllocationRule, AllocationRuleRefused } from '../model/cost-allocation';
import type { CostAllocationOutcome } from '../workflows/cost-allocation/contract';
import { createAsset, createCi, createCostCentre, createPerson, createVendor, relate, type TestPerson } from './support/fixtures';
import { send, startStack, type Stack } from './support/stack';
import { browse, hiddenCsrf, signInWithKey, webAgent } from './support/web-agent';
import { recordHistory } from './support/histories';

let stack: Stack;
let owner: TestPerson;
let reader: TestPerson;
const tag = randomBytes(3).toString('hex').toUpperCase();
const ids: Record<string, string> = {};

const PERIOD = '2031-03';
const IN_MARCH = { charge_period_start: '2031-03-10T00:00:00Z', charge_period_end: '2031-03-11T00:00:00Z', billing_period_start: '2031-03-01T00:00:00Z', billing_period_end: '2031-04-01T00:00:00Z' };

async function costRecord(fields: Record<string, unknown>) {
  await stack.database.db('cost_records').insert({
    source_key: `test:${randomBytes(8).toString('hex')}`, charge_category: 'Usage', provider_name: 'Test Cloud', service_name: 'Compute',
    effective_cost: fields.billed_cost, ...IN_MARCH, ...fields,
  });
}

beforeAll(async () => {
  stack = await startStack();
  const db = stack.database.db;
  owner = await createPerson(db, ['process_owner'], 'Olga Owner');
  reader = await createPerson(db, ['asset_manager'], 'Rita Reader');
  for (const name of ['one', 'two', 'poolHeads', 'poolUsage']) ids[name] = await createCostCentre(db, `AL-${tag}-${name.toUpperCase()}`, `Allocation ${name}`, null);
  // Headcount: one active person in ONE (and one who left), three in TWO.
  const people = await Promise.all(['a', 'b', 'c', 'd', 'e'].map((n) => createPerson(db, [], `Headcount ${n}`)));
  await db('people').whereIn('id', [people[0].id, people[1].id]).update({ cost_centre_id: ids.one });
  await db('people').where({ id: people[1].id }).update({ active: false });
  await db('people').whereIn('id', people.slice(2).map((p) => p.id)).update({ cost_centre_id: ids.two });

  // Depreciation: 360,036 cents over 36 months is 10,001 a month, on ONE, over two services (5,001 and 5,000).
  const vendorId = await createVendor(db, `Allocation Vendor ${tag}`);
  const [{ id: contractId }] = await db('contracts').insert({ vendor_id: vendorId, kind: 'maintenance', title: 'Care', starts_on: '2031-01-01', ends_on: '2031-12-31', value_minor: 36_500, currency: 'EUR' }).returning('id');
  const server = await createAsset(db, { state: 'in_use', purchaseCostMinor: 360_036, purchaseDate: '2030-01-10', usefulLifeMonths: 36 });
  const spare = await createAsset(db, { state: 'in_stock', purchaseCostMinor: 50_000, purchaseDate: '2030-01-10' });
  await db('assets').where({ id: server.id }).update({ cost_centre_id: ids.one, contract_id: contractId });
  await db('assets').where({ id: spare.id }).update({ cost_centre_id: ids.two, contract_id: contractId });
  ids.server = server.id;
  const serverCi = await createCi(db, { ciClass: 'server', assetId: server.id });
  const app = await createCi(db, { ciClass: 'application' });
  const serviceA = await createCi(db, { ciClass: 'business_service', criticality: 'tier_2', name: `Allocation service A ${tag}` });
  const serviceB = await createCi(db, { ciClass: 'business_service', criticality: 'tier_3', name: `Allocation service B ${tag}` });
  await relate(db, app.id, 'runs_on', serverCi.id);
  await relate(db, serviceA.id, 'depends_on', app.id);
  await relate(db, serviceB.id, 'depends_on', app.id);
  // A cycle in the map: the walk up ends all the same.
  await relate(db, serverCi.id, 'depends_on', serviceA.id);
  [ids.serviceFirst, ids.serviceSecond] = [serviceA.id, serviceB.id].sort();

  // A licence of 365,000 cents for 2031 is 1,000 a day: 31,000 in March, over 10 seats: 2 installed on
  // the server (ONE), 3 assigned in TWO, 5 unconsumed (6,200, 9,300 and 15,500).
  const [{ id: productId }] = await db('software_products').insert({ publisher: 'Allocation', name: `Suite ${tag}`, licence_metric: 'per_user', unit_price_minor: 1, currency: 'EUR' }).returning('id');
  const [{ id: entitlementId }] = await db('software_entitlements').insert({ product_id: productId, metric: 'per_user', quantity: 10, starts_on: '2031-01-01', ends_on: '2031-12-31', cost_minor: 365_000, currency: 'EUR' }).returning('id');
  ids.entitlement = entitlementId;
  await db('software_consumptions').insert([
    { product_id: productId, kind: 'installation', asset_id: server.id, units: 2, installed_at: '2030-06-01T00:00:00Z' },
    { product_id: productId, kind: 'assignment', person_id: people[2].id, units: 3, installed_at: '2030-06-01T00:00:00Z' },
  ]);

  // Cloud (an import's records) and other costs.
  const [{ id: importId }] = await db('cost_imports').insert({ file_name: 'march.csv', file_sha256: randomBytes(32).toString('hex'), file_bytes: 1, format: 'csv', state: 'completed' }).returning('id');
  const cloud = (fields: Record<string, unknown>) => costRecord({ cost_import_id: importId, ...fields });
  await cloud({ billed_cost: '12.12345678901234', billing_currency: 'USD', cost_centre_id: ids.one, business_service_id: serviceA.id });
  await cloud({ billed_cost: '1.000000000003', billing_currency: 'USD', cost_centre_id: ids.poolHeads });
  await cloud({ billed_cost: '5.50', billing_currency: 'EUR', cost_centre_id: ids.poolUsage });
  await cloud({ billed_cost: '3.00', billing_currency: 'EUR', cost_centre_id: ids.one });
  await cloud({ billed_cost: '1.00', billing_currency: 'EUR', cost_centre_id: ids.two, charge_period_start: '2031-03-31T23:59:59Z', charge_period_end: '2031-04-01T00:00:00Z' });
  // April's, and the server's purchase receipt (depreciated instead): not March's.
  await cloud({ billed_cost: '999', billing_currency: 'EUR', cost_centre_id: ids.one, charge_period_start: '2031-04-01T00:00:00Z', charge_period_end: '2031-04-02T00:00:00Z' });
  await costRecord({ billed_cost: '3600.36', billing_currency: 'EUR', cost_centre_id: ids.one, charge_category: 'Purchase', asset_id: server.id });
  await costRecord({ billed_cost: '100.10', billing_currency: 'GBP', cost_centre_id: ids.two });
  // Counted at its effective cost; purchases not at all (amortised or depreciated instead).
  await costRecord({ billed_cost: '50.00', effective_cost: '40.25', billing_currency: 'GBP', cost_centre_id: ids.two });
  await costRecord({ billed_cost: '77.00', billing_currency: 'GBP', cost_centre_id: ids.two, charge_category: 'Purchase' });

  await db('allocation_rules').insert([
    { name: `heads-${tag}`, pool_cost_centre_id: ids.poolHeads, method: 'headcount', target_cost_centre_ids: [ids.one, ids.two] },
    { name: `usage-${tag}`, pool_cost_centre_id: ids.poolUsage, method: 'usage', target_cost_centre_ids: [ids.one, ids.two] },
  ]);
});

afterAll(async () => {
  await stack?.stop();
});

const allocate = (workflowId: string, period?: string) =>
  stack.env.client.workflow.execute('costAllocationWorkflow', { taskQueue: stack.taskQueue, workflowId, args: [period ? { period } : {}] }) as Promise<CostAllocationOutcome>;

/** This test's rows of March, without their run. */
async function ownRows() {
  const db = stack.database.db;
  return db('cost_allocations')
    .where({ period_start: '2031-03-01' })
    .where((q) => q.whereIn('cost_centre_id', Object.values(ids)).orWhere({ source_id: ids.entitlement }))
    .orderBy(['category', 'currency', 'cost_centre_id', 'business_service_id', 'source_id', 'amount'])
    .select('category', 'source_type', 'source_id', 'cost_centre_id', 'business_service_id', 'shared_from_cost_centre_id', db.raw('amount::text AS amount'), 'currency');
}

/** This test's cost centres' sums per currency, as Postgres adds them. */
async function sumsOf(costCentre: string) {
  const { rows } = await stack.database.db.raw(
    `SELECT currency, trim_scale(sum(amount))::text AS amount FROM cost_allocations WHERE period_start = '2031-03-01' AND cost_centre_id = ? GROUP BY 1 ORDER BY 1`,
    [ids[costCentre]],
  );
  return Object.fromEntries(rows.map((r: { currency: string; amount: string }) => [r.currency, r.amount]));
}

test('a month allocated twice gives the same rows and totals, reconciled to the last decimal place and to the amounts worked out by hand', async () => {
  const first = await allocate(`alloc-test-first-${tag}`, PERIOD);
  const firstRows = await ownRows();
  const second = await allocate(`alloc-test-second-${tag}`, PERIOD);
  await recordHistory(stack.env.client, `alloc-test-second-${tag}`, 'cost-allocation-month-run-again.json');
  const secondRows = await ownRows();

  expect(first.allocatedTotals).toEqual(first.sourceTotals);
  expect(second.sourceTotals).toEqual(first.sourceTotals);
  expect(second.allocatedTotals).toEqual(first.allocatedTotals);
  expect(second.allocations).toBe(first.allocations);
  expect(secondRows).toEqual(firstRows);
  const db = stack.database.db;
  // Replaced, never doubled: every March row is the second run's.
  expect(await db('cost_allocations').where({ period_start: '2031-03-01' }).whereNot({ run_id: second.runId }).count({ n: '*' }).first()).toEqual({ n: 0 });
  expect(Number((await db('cost_allocations').where({ run_id: second.runId }).count({ n: '*' }).first())!.n)).toBe(second.allocations);

  // ONE: depreciation 100.01 + licence 62.00 + contract 15.50 + cloud 3.00 + 4.13 of the usage pool's 5.50 (3:1, the odd cent to ONE);
  // USD: its own 12.12345678901234 and 0.250000000001 of the headcount pool's 1.000000000003 (1 person against 3).
  expect(await sumsOf('one')).toEqual({ EUR: '184.64', USD: '12.37345678901334' });
  // TWO: licence 93.00 + contract 15.50 + cloud 1.00 + 1.37; USD 0.750000000002; GBP its other cost.
  expect(await sumsOf('two')).toEqual({ EUR: '110.87', GBP: '140.35', USD: '0.750000000002' });
  expect(await sumsOf('poolHeads')).toEqual({});
  expect(await sumsOf('poolUsage')).toEqual({});

  const shared = secondRows.filter((r) => r.shared_from_cost_centre_id);
  expect(shared.map((r) => [r.cost_centre_id === ids.one ? 'one' : 'two', r.shared_from_cost_centre_id === ids.poolHeads ? 'heads' : 'usage', r.amount]).sort()).toEqual([
    ['one', 'heads', '0.250000000001'], ['one', 'usage', '4.13'], ['two', 'heads', '0.750000000002'], ['two', 'usage', '1.37'],
  ]);
  const depreciation = secondRows.filter((r) => r.category === 'depreciation' && r.source_id === ids.server);
  expect(depreciation.map((r) => [r.business_service_id, r.amount])).toEqual(expect.arrayContaining([[ids.serviceFirst, '50.01'], [ids.serviceSecond, '50.00']]));
  const licence = secondRows.filter((r) => r.source_id === ids.entitlement);
  expect(licence.map((r) => [r.cost_centre_id === null ? 'none' : r.cost_centre_id === ids.one ? 'one' : 'two', r.amount]).sort()).toEqual([['none', '155.00'], ['one', '62.00'], ['two', '93.00']]);

  // The API reads the same month: the JSON and the CSV.
  const month = await send(stack, reader.apiKey, 'GET', `/finops/allocations/${PERIOD}`);
  expect(month.status).toBe(200);
  expect(month.body.run.id).toBe(second.runId);
  expect(month.body.byCostCentre.filter((r: { costCentreId: string }) => r.costCentreId === ids.one))
    .toEqual(expect.arrayContaining([expect.objectContaining({ currency: 'USD', direct: '12.12345678901234', shared: '0.250000000001', amount: '12.37345678901334' })]));
  expect(month.body.byBusinessService).toEqual(expect.arrayContaining([expect.objectContaining({ businessServiceId: ids.serviceFirst, currency: 'EUR' })]));
  const csv = await send(stack, reader.apiKey, 'GET', `/finops/allocations/${PERIOD}?format=csv`);
  expect(csv.status).toBe(200);
  expect(csv.text.split('\n')[0]).toBe('period,category,source_type,source_id,cost_centre,business_service,shared_from,amount,currency');
  expect(csv.text).toContain(`AL-${tag}-ONE,,AL-${tag}-POOLHEADS,0.250000000001,USD`);
  expect(csv.text.trim().split('\n')).toHaveLength(second.allocations + 1);
});

test('two runs of a month at once leave one set of rows', async () => {
  const [a, b] = await Promise.all([allocate(`alloc-test-race-a-${tag}`, PERIOD), allocate(`alloc-test-race-b-${tag}`, PERIOD)]);
  expect(a.allocatedTotals).toEqual(b.allocatedTotals);
  const db = stack.database.db;
  const runs = await db('cost_allocations').where({ period_start: '2031-03-01' }).distinct('run_id');
  expect(runs).toHaveLength(1);
  expect(Number((await db('cost_allocations').where({ period_start: '2031-03-01' }).count({ n: '*' }).first())!.n)).toBe(a.allocations);
  expect(await sumsOf('one')).toEqual({ EUR: '184.64', USD: '12.37345678901334' });
});

test('the schedule\'s run, with no month, allocates the month before it started', async () => {
  const before = previousPeriod(new Date());
  const outcome = await allocate(`alloc-test-schedule-${tag}`);
  expect([before, previousPeriod(new Date())]).toContain(outcome.period);
  expect(outcome.allocatedTotals).toEqual(outcome.sourceTotals);
});

test('a process owner runs a month through the API; the rules are kept with their version, and a cycle of them is refused by name', async () => {
  const run = await send(stack, owner.apiKey, 'POST', `/finops/allocations/${PERIOD}/run`);
  expect(run.status).toBe(200);
  expect(run.body.outcome.allocatedTotals).toEqual(run.body.outcome.sourceTotals);
  expect((await send(stack, reader.apiKey, 'POST', `/finops/allocations/${PERIOD}/run`)).status).toBe(403);
  expect((await send(stack, owner.apiKey, 'POST', '/finops/allocations/2031-13/run')).status).toBe(400);

  const rules = await send(stack, reader.apiKey, 'GET', '/finops/allocation-rules');
  const heads = rules.body.items.find((r: { name: string }) => r.name === `heads-${tag}`);
  expect(heads).toMatchObject({ method: 'headcount', pool: `AL-${tag}-POOLHEADS`, targets: [`AL-${tag}-ONE`, `AL-${tag}-TWO`], active: true });

  // ONE's costs go to TWO and TWO's to ONE: no order can share them out.
  const put = (name: string, body: unknown, headers: Record<string, string> = {}) => send(stack, owner.apiKey, 'PUT', `/finops/allocation-rules/${name}`, { body, headers });
  const loopA = await put(`loop-a-${tag}`, { method: 'even', pool: `AL-${tag}-ONE`, targets: [`al-${tag}-two`] });
  expect(loopA.status).toBe(201);
  const loopB = await put(`loop-b-${tag}`, { method: 'even', pool: `AL-${tag}-TWO`, targets: [`AL-${tag}-ONE`] });
  expect(loopB.status).toBe(201);
  const refused = await send(stack, owner.apiKey, 'POST', `/finops/allocations/${PERIOD}/run`);
  expect(refused.status).toBe(409);
  expect(refused.body.error.details.failure).toBe('AllocationRuleCycle');
  expect(refused.body.error.message).toContain(`loop-a-${tag}`);
  // The month stays as the last good run left it, and says its latest run failed and why.
  expect(await sumsOf('one')).toEqual({ EUR: '184.64', USD: '12.37345678901334' });
  const failed = await send(stack, reader.apiKey, 'GET', `/finops/allocations/${PERIOD}`);
  expect(failed.status).toBe(200);
  expect(failed.body.latestRun).toMatchObject({ state: 'failed', workflowId: refused.body.error.details.workflowId });
  expect(failed.body.latestRun.message).toContain(`loop-a-${tag}`);
  expect(failed.body.run).toMatchObject({ state: 'completed' });
  expect(failed.body.run.id).not.toBe(failed.body.latestRun.id);
  const agent = webAgent(stack.baseUrl);
  await signInWithKey(agent, reader.apiKey);
  const page = await browse(agent, 'GET', `/ui/finops/allocations?period=${PERIOD}`);
  expect(page.html).toContain('id="failed-run"');
  expect(page.html).toContain(`loop-a-${tag}`);
  expect(page.html).toContain('12.37345678901334');

  expect((await put(`loop-b-${tag}`, { method: 'even', pool: `AL-${tag}-TWO`, targets: [`AL-${tag}-ONE`], active: false })).status).toBe(428);
  expect((await put(`loop-b-${tag}`, { method: 'even', pool: `AL-${tag}-TWO`, targets: [`AL-${tag}-ONE`], active: false }, { 'if-match': '"7"' })).status).toBe(412);
  const retired = await put(`loop-b-${tag}`, { method: 'even', pool: `AL-${tag}-TWO`, targets: [`AL-${tag}-ONE`], active: false }, { 'if-match': loopB.headers.get('etag')! });
  expect(retired.status).toBe(200);
  expect(retired.body).toMatchObject({ active: false, version: 2 });
  expect((await send(stack, owner.apiKey, 'DELETE', `/finops/allocation-rules/loop-a-${tag}`, { headers: { 'if-match': loopA.headers.get('etag')! } })).status).toBe(204);
  expect((await put(`other-${tag}`, { method: 'even', pool: `AL-${tag}-POOLHEADS`, targets: [] })).status).toBe(409);
  expect((await put(`unknown-${tag}`, { method: 'even', pool: 'NO-SUCH-CC', targets: [] })).status).toBe(400);
});

test('the page shows the month per cost centre and service with its chart, and a process owner runs it again from there', async () => {
  const agent = webAgent(stack.baseUrl);
  await signInWithKey(agent, owner.apiKey);
  await allocate(`alloc-test-page-${tag}`, PERIOD);
  const page = await browse(agent, 'GET', `/ui/finops/allocations?period=${PERIOD}`);
  expect(page.status).toBe(200);
  // One chart per currency: amounts of different currencies are never drawn on one scale.
  expect(page.html).toContain('<svg id="by-cost-centre-chart-eur"');
  expect(page.html).toContain('<svg id="by-cost-centre-chart-usd"');
  expect(page.html).toContain('<svg id="by-service-chart-eur"');
  expect(page.html).not.toContain('<svg id="by-cost-centre-chart"');
  expect(page.html).toContain(`AL-${tag}-ONE`);
  expect(page.html).toContain('12.37345678901334');
  expect(page.html).toContain('href="/ui/finops"');
  const again = await browse(agent, 'POST', '/ui/finops/allocations/run', { csrf: hiddenCsrf(page.html)!, period: PERIOD });
  expect(again.status).toBe(303);
  expect(again.location).toBe(`/ui/finops/allocations?period=${PERIOD}&ran=completed`);
  expect((await browse(agent, 'GET', '/ui/finops/allocations?period=2031-3')).status).toBe(400);
  const never = await browse(agent, 'GET', '/ui/finops/allocations?period=2031-05');
  expect(never.status).toBe(200);
  expect(never.html).toContain('2031-05 has not been allocated yet');

  const readerAgent = webAgent(stack.baseUrl);
  await signInWithKey(readerAgent, reader.apiKey);
  const read = await browse(readerAgent, 'GET', `/ui/finops/allocations?period=${PERIOD}`);
  expect(read.status).toBe(200);
  expect(read.html).not.toContain('action="/ui/finops/allocations/run"');
});

test('a renewed contract is amortised over each of its terms: the current one keeps its days, the next has its own dates and value', async () => {
  const db = stack.database.db;
  const costCentre = await createCostCentre(db, `AL-${tag}-TERMS`, 'Allocation terms', null);
  const vendorId = await createVendor(db, `Allocation Terms Vendor ${tag}`);
  // 16,600 cents over the 166 days to June 15th and 36,500 over the 365 days of the next term: 100 a day each, 15 days each in June.
  const [{ id: contractId }] = await db('contracts').insert({ vendor_id: vendorId, kind: 'support', title: 'Terms', starts_on: '2031-01-01', ends_on: '2031-06-15', value_minor: 16_600, currency: 'EUR' }).returning('id');
  const asset = await createAsset(db, { state: 'in_stock' });
  await db('assets').where({ id: asset.id }).update({ cost_centre_id: costCentre, contract_id: contractId });
  await db('contract_renewals').insert([
    { contract_id: contractId, title: 'Renew', state: 'renew', term_ends_on: '2031-06-15', next_starts_on: '2031-06-16', next_ends_on: '2032-06-14', next_value_minor: 36_500 },
    // A withdrawn decision is not a term.
    { contract_id: contractId, title: 'Withdrawn', state: 'cancelled', term_ends_on: '2031-06-15', next_starts_on: '2031-06-16', next_ends_on: '2031-06-30', next_value_minor: 999_999 },
  ]);
  const june = await allocate(`alloc-test-terms-${tag}`, '2031-06');
  expect(june.allocatedTotals).toEqual(june.sourceTotals);
  const rows = await db('cost_allocations').where({ period_start: '2031-06-01', source_id: contractId }).orderBy('amount').select(db.raw('amount::text AS amount'), 'cost_centre_id');
  expect(rows).toEqual([{ amount: '15.00', cost_centre_id: costCentre }, { amount: '15.00', cost_centre_id: costCentre }]);
  const july = await allocate(`alloc-test-terms-july-${tag}`, '2031-07');
  expect(await db('cost_allocations').where({ period_start: '2031-07-01', source_id: contractId }).select(db.raw('amount::text AS amount'))).toEqual([{ amount: '31.00' }]);
  expect(july.allocatedTotals).toEqual(july.sourceTotals);
});

/** The database as the activity sees it, with `between` run (and committed) right after the first read of the cost records. */
function committingBetweenReads(db: Knex, between: () => Promise<void>): Knex {
  let done = false;
  const inTransaction = (trx: Knex.Transaction) => new Proxy(trx, {
    get(target, property, receiver) {
      if (property !== 'raw') return Reflect.get(target, property, receiver);
      return (sql: string, bindings: unknown) => {
        const query = target.raw(sql, bindings as Knex.RawBinding);
        if (done || !sql.includes('FROM cost_records')) return query;
        done = true;
        return query.then(async (result: unknown) => {
          await between();
          return result;
        });
      };
    },
  });
  return new Proxy(db, {
    get(target, property, receiver) {
      if (property !== 'transaction') return Reflect.get(target, property, receiver);
      return (work: (trx: Knex.Transaction) => Promise<unknown>, config?: Knex.TransactionConfig) => target.transaction((trx) => work(inTransaction(trx)), config);
    },
  });
}

test('a cost import committed between the allocation\'s reads is in neither: the run reconciles, and the next run counts it', async () => {
  const db = stack.database.db;
  const costCentre = await createCostCentre(db, `AL-${tag}-SNAP`, 'Allocation snapshot', null);
  const inJuly = { charge_period_start: '2031-07-10T00:00:00Z', charge_period_end: '2031-07-11T00:00:00Z', billing_period_start: '2031-07-01T00:00:00Z', billing_period_end: '2031-08-01T00:00:00Z' };
  await costRecord({ billed_cost: '1.25', billing_currency: 'CHF', cost_centre_id: costCentre, ...inJuly });
  const activities = createCostAllocationActivities({
    db: committingBetweenReads(db, () => costRecord({ billed_cost: '0.000000001', billing_currency: 'CHF', cost_centre_id: costCentre, ...inJuly })),
  });
  // Read committed, the totals read second would hold the late record and the rows not: "does not reconcile".
  const outcome = await activities.allocateMonth({ idempotencyKey: `alloc-test-snapshot-${tag}`, period: '2031-07', workflowId: `alloc-test-snapshot-${tag}` });
  expect(outcome.allocatedTotals).toEqual(outcome.sourceTotals);
  const own = async () => (await db.raw(`SELECT trim_scale(sum(amount))::text AS amount FROM cost_allocations WHERE period_start = '2031-07-01' AND cost_centre_id = ?`, [costCentre])).rows[0].amount;
  expect(await own()).toBe('1.25');
  const again = await allocate(`alloc-test-snapshot-again-${tag}`, '2031-07');
  expect(again.allocatedTotals).toEqual(again.sourceTotals);
  expect(await own()).toBe('1.250000001');
});

test('rules share onto live cost centres only, and two saves at once of one rule or one pool are refused, not failed', async () => {
  const db = stack.database.db;
  const retired = await createCostCentre(db, `AL-${tag}-RETIRED`, 'Allocation retired', null);
  await db('cost_centres').where({ id: retired }).update({ retired_at: db.fn.now() });
  expect((await readAllocationSources(db, periodSpan(PERIOD)!)).everyCostCentreId).not.toContain(retired);
  const put = (name: string, body: unknown) => send(stack, owner.apiKey, 'PUT', `/finops/allocation-rules/${name}`, { body });
  const toRetired = await put(`retired-${tag}`, { method: 'even', pool: `AL-${tag}-ONE`, targets: [`AL-${tag}-TWO`, `AL-${tag}-RETIRED`] });
  expect(toRetired.status).toBe(400);
  expect(toRetired.body.error.message).toContain(`AL-${tag}-RETIRED is retired`);
  expect((await put(`retired-pool-${tag}`, { method: 'even', pool: `AL-${tag}-RETIRED`, targets: [] })).status).toBe(400);

  const pool = await createCostCentre(db, `AL-${tag}-RACE`, 'Allocation race', null);
  const otherPool = await createCostCentre(db, `AL-${tag}-RACE2`, 'Allocation race 2', null);
  /** Saves `name` while another transaction holds an uncommitted rule `held`, committed once the save waits on it. */
  async function saveBehind(held: Record<string, unknown>, name: string, poolCode: string) {
    const trx = await db.transaction();
    await trx('allocation_rules').insert({ method: 'even', target_cost_centre_ids: [], version: 1, ...held });
    const saving = saveAllocationRule(db, name, { method: 'even', pool: poolCode, targets: [], active: true }, undefined, owner.email).then(() => undefined, (error: unknown) => error);
    for (let waited = 0; waited < 100; waited += 1) {
      const { rows } = await db.raw(`SELECT count(*)::int AS n FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND query LIKE 'insert into "allocation_rules"%'`);
      if (rows[0].n > 0) break;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    await trx.commit();
    return saving;
  }
  const sameName = await saveBehind({ name: `race-${tag}`, pool_cost_centre_id: otherPool }, `race-${tag}`, `AL-${tag}-RACE`);
  expect(sameName).toBeInstanceOf(AllocationRuleRefused);
  expect((sameName as AllocationRuleRefused).refusal.rule).toBe('rule_exists');
  const samePool = await saveBehind({ name: `race-pool-a-${tag}`, pool_cost_centre_id: pool }, `race-pool-b-${tag}`, `AL-${tag}-RACE`);
  expect(samePool).toBeInstanceOf(AllocationRuleRefused);
  expect((samePool as AllocationRuleRefused).refusal.rule).toBe('pool_has_rule');
  // Through the API the same refusal is a 409.
  const taken = await put(`race-pool-c-${tag}`, { method: 'even', pool: `AL-${tag}-RACE`, targets: [] });
  expect(taken.status).toBe(409);
  await db('allocation_rules').whereIn('name', [`race-${tag}`, `race-pool-a-${tag}`]).delete();
});
