/**
 * One budget rule (domain/budget.ts) for changes and purchase requests alike, through the API and
 * their workflows: a month without a budget row is over budget for any spend, and a request that
 * spends the budget to the last cent is not.
 */
import { createCostCentre, eventually, type TestPerson } from './support/fixtures';
import { call, startRequesterStack, type Stack } from './support/stack';

let stack: Stack;
let requester: TestPerson;
let vendorId: string;
let ciId: string;

beforeAll(async () => {
  ({ stack, requester, vendorId, ciId } = await startRequesterStack('Bea Budget', 'Budget Supplies'));
});

afterAll(async () => {
  await stack?.stop();
});

/** A cost centre of its own for each case, so that one request's commitments never touch another's month. */
async function costCentre(budgetMinor: number | null): Promise<string> {
  const code = `CC-B${Math.floor(Math.random() * 1e9)}`;
  await createCostCentre(stack.database.db, code, `Budget ${code}`, budgetMinor);
  return code;
}

async function changeMoney(costCentreCode: string, costMinor: number) {
  const created = await call(stack, requester.apiKey, 'POST', '/changes', {
    type: 'normal', title: 'Add a disk', affectedCiIds: [ciId], costCentre: costCentreCode, oneOffCostMinor: costMinor,
  });
  expect(created.status).toBe(201);
  return eventually(async () => (await call(stack, requester.apiKey, 'GET', `/changes/${created.body.number}`)).body.impact?.money);
}

async function purchaseAssessment(costCentreCode: string, costMinor: number) {
  const created = await call(stack, requester.apiKey, 'POST', '/purchase-requests', {
    costCentre: costCentreCode, justification: 'A spare disk', lines: [{ description: 'Disk', vendorId, quantity: 1, quotedUnitPriceMinor: costMinor }],
  });
  expect(created.status).toBe(201);
  return eventually(async () => (await call(stack, requester.apiKey, 'GET', `/purchase-requests/${created.body.number}`)).body.assessment);
}

it('counts any spend in a month without a budget as over budget, for a change and a purchase request alike', async () => {
  const expected = { budgetMinor: null, remainingBeforeMinor: null, remainingAfterMinor: null, overBudget: true };
  expect(await changeMoney(await costCentre(null), 5_000)).toMatchObject(expected);
  expect(await purchaseAssessment(await costCentre(null), 5_000)).toMatchObject(expected);
});

it('counts spending the budget to the last cent as within it, for a change and a purchase request alike', async () => {
  const expected = { budgetMinor: 12_345, spentMinor: 0, committedMinor: 0, remainingBeforeMinor: 12_345, remainingAfterMinor: 0, overBudget: false };
  expect(await changeMoney(await costCentre(12_345), 12_345)).toMatchObject(expected);
  expect(await purchaseAssessment(await costCentre(12_345), 12_345)).toMatchObject(expected);
});

it('counts one cent more as over budget, for a change and a purchase request alike', async () => {
  const expected = { remainingBeforeMinor: 12_345, remainingAfterMinor: -1, overBudget: true };
  expect(await changeMoney(await costCentre(12_345), 12_346)).toMatchObject(expected);
  expect(await purchaseAssessment(await costCentre(12_345), 12_346)).toMatchObject(expected);
});
