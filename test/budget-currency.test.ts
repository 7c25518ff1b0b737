/**
 * A budget is kept in one currency, and amounts are never compared across currencies nor converted:
 * spent and committed count the budget's currency, a purchase request in another currency is
 * rejected with the reason (its orders would commit money the budget never counts), and a change
 * in another currency cannot be shown to fit, so it counts as over budget, with the reason.
 */
import { budgetFacts } from '../model/budgets';
import { createCostCentre, eventually, thisMonth, type TestPerson } from './support/fixtures';
import { call, startRequesterStack, type Stack } from './support/stack';

let stack: Stack;
let requester: TestPerson;
let vendorId: string;
let ciId: string;

beforeAll(async () => {
  ({ stack, requester, vendorId, ciId } = await startRequesterStack('Cora Currency', 'Currency Supplies'));
});

afterAll(async () => {
  await stack?.stop();
});

/** A cost centre with a budget of 1,000.00 EUR this month, 100.00 EUR and 700.00 USD already spent. */
async function euroCostCentre(): Promise<{ id: string; code: string }> {
  const db = stack.database.db;
  const code = `CC-C${Math.floor(Math.random() * 1e9)}`;
  const id = await createCostCentre(db, code, `Currency ${code}`, 100_000);
  const spend = (currency: string, billed: string, n: number) => ({
    source_key: `currency-test:${code}:${n}`,
    billing_period_start: thisMonth(),
    billing_period_end: thisMonth(),
    charge_period_start: new Date(),
    charge_period_end: new Date(Date.now() + 1000),
    charge_category: 'Purchase',
    charge_description: 'earlier spend',
    provider_name: 'Somebody',
    invoice_issuer_name: 'Somebody',
    service_name: 'Something',
    service_category: 'Hardware',
    billed_cost: billed,
    effective_cost: billed,
    billing_currency: currency,
    cost_centre_id: id,
  });
  await db('cost_records').insert([spend('EUR', '100.00', 1), spend('USD', '700.00', 2)]);
  return { id, code };
}

it('counts spent in the budget\'s currency, whatever the currency asked about', async () => {
  const { id } = await euroCostCentre();
  const inEuro = await budgetFacts(stack.database.db, id, 'EUR', new Date());
  const askedInDollars = await budgetFacts(stack.database.db, id, 'USD', new Date());
  expect(inEuro).toMatchObject({ budgetMinor: 100_000, budgetCurrency: 'EUR', spentMinor: 10_000, committedMinor: 0 });
  expect(askedInDollars).toEqual(inEuro);
});

it('counts spent in the minor units of the budget\'s currency: a yen has none, so yen are not read as cents', async () => {
  const db = stack.database.db;
  const code = `CC-Y${Math.floor(Math.random() * 1e9)}`;
  const id = await createCostCentre(db, code, `Yen ${code}`, null);
  await db('budgets').insert({ cost_centre_id: id, period_start: thisMonth(), amount_minor: 100_000, currency: 'JPY' });
  await db('cost_records').insert(['1234', '0.6'].map((billed, n) => ({
    source_key: `currency-test:${code}:${n}`,
    billing_period_start: thisMonth(),
    billing_period_end: thisMonth(),
    charge_period_start: new Date(),
    charge_period_end: new Date(Date.now() + 1000),
    charge_category: 'Usage',
    provider_name: 'Somebody',
    service_name: 'Something',
    billed_cost: billed,
    effective_cost: billed,
    billing_currency: 'JPY',
    cost_centre_id: id,
  })));
  // JPY 1,234.6 in all, rounded once to whole yen.
  expect(await budgetFacts(db, id, 'JPY', new Date())).toMatchObject({ budgetMinor: 100_000, budgetCurrency: 'JPY', spentMinor: 1_235 });
});

it('rejects a purchase request in another currency than its budget, with the reason, even when the amount would fit', async () => {
  const { code } = await euroCostCentre();
  const created = await call(stack, requester.apiKey, 'POST', '/purchase-requests', {
    costCentre: code, currency: 'USD', justification: 'A cable from the US shop', lines: [{ description: 'Cable', vendorId, quantity: 1, quotedUnitPriceMinor: 1_000 }],
  });
  expect(created.status).toBe(201);
  const rejected = await eventually(async () => {
    const { body } = await call(stack, requester.apiKey, 'GET', `/purchase-requests/${created.body.number}`);
    return body.state === 'rejected' ? body : undefined;
  });
  expect(rejected.outcome).toBe(
    `the budget of ${code}: the ${thisMonth().slice(0, 7)} budget is kept in EUR (EUR 900.00 left), and USD 10.00 in USD is never compared with it: ask in EUR`,
  );
  expect(rejected.assessment).toMatchObject({ budgetCurrency: 'EUR', spentMinor: 10_000, remainingBeforeMinor: 90_000, remainingAfterMinor: null });
  expect(rejected.orders).toEqual([]);
});

it('checks a purchase request in the budget\'s currency against the budget as before', async () => {
  const { code } = await euroCostCentre();
  const created = await call(stack, requester.apiKey, 'POST', '/purchase-requests', {
    costCentre: code, currency: 'EUR', justification: 'A cable', lines: [{ description: 'Cable', vendorId, quantity: 1, quotedUnitPriceMinor: 1_000 }],
  });
  expect(created.status).toBe(201);
  const assessment = await eventually(async () => (await call(stack, requester.apiKey, 'GET', `/purchase-requests/${created.body.number}`)).body.assessment);
  expect(assessment).toMatchObject({ budgetCurrency: 'EUR', spentMinor: 10_000, remainingBeforeMinor: 90_000, remainingAfterMinor: 89_000, overBudget: false, notComparable: null });
});

it('counts a change costed in another currency than its budget as over budget, with the reason', async () => {
  const { code } = await euroCostCentre();
  const created = await call(stack, requester.apiKey, 'POST', '/changes', {
    type: 'normal', title: 'Renew a US licence', affectedCiIds: [ciId], costCentre: code, currency: 'USD', oneOffCostMinor: 1_000,
  });
  expect(created.status).toBe(201);
  const money = await eventually(async () => (await call(stack, requester.apiKey, 'GET', `/changes/${created.body.number}`)).body.impact?.money);
  expect(money).toMatchObject({
    currency: 'USD',
    budgetCurrency: 'EUR',
    spentMinor: 10_000,
    remainingBeforeMinor: 90_000,
    remainingAfterMinor: null,
    overBudget: true,
    notComparable: expect.stringContaining('budget is kept in EUR'),
  });
});
