/**
 * Money derived from valid fields has a maximum too (domain/money.ts MAX_AMOUNT_MINOR): a quoted
 * line, the quoted lines together and a change's costs together are refused by the API with the
 * path that takes them beyond it; catalogue prices that do are refused by the budget check, which
 * rejects the request with the reason instead of failing on every attempt.
 */
import { MAX_AMOUNT_MINOR } from '../domain/money';
import { createCi, createHardwareModel, createPerson, eventually, type TestPerson } from './support/fixtures';
import { call, startStack, type Stack } from './support/stack';

let stack: Stack;
let requester: TestPerson;
let vendorId: string;
let costCentre: string;

beforeAll(async () => {
  stack = await startStack();
  const db = stack.database.db;
  requester = await createPerson(db, ['requester'], 'Max Amount');
  [{ id: vendorId }] = await db('vendors').insert({ name: 'Bounds Supplies', contact_email: 'orders@bounds.example' }).returning('id');
  costCentre = `CC-M${Math.floor(Math.random() * 1e9)}`;
  await db('cost_centres').insert({ code: costCentre, name: 'Bounds' });
});

afterAll(async () => {
  await stack?.stop();
});

const requestsOf = async (person: TestPerson) => Number((await stack.database.db('purchase_requests').where({ requester_id: person.id }).count({ n: '*' }))[0].n);

const submit = (lines: Record<string, unknown>[]) =>
  call(stack, requester.apiKey, 'POST', '/purchase-requests', { costCentre, justification: 'A very large order', lines });

describe('POST /purchase-requests', () => {
  it('refuses with 400 a quoted line whose quantity times its price exceeds the largest amount, naming its path, and starts nothing', async () => {
    const before = await requestsOf(requester);
    const res = await submit([
      { description: 'Cable', vendorId, quantity: 1, quotedUnitPriceMinor: 500 },
      { description: 'Mainframe', vendorId, quantity: 10_000, quotedUnitPriceMinor: 1e12 },
    ]);
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe('invalid_input');
    expect(res.body.error.details).toEqual([
      expect.objectContaining({ path: 'lines.1.quotedUnitPriceMinor', message: expect.stringContaining('beyond the largest amount accepted') }),
    ]);
    expect(await requestsOf(requester)).toBe(before);
  });

  it('refuses with 400 quoted lines that each fit but together exceed the largest amount', async () => {
    const tenth = { description: 'A tenth of a data centre', vendorId, quantity: 1, quotedUnitPriceMinor: MAX_AMOUNT_MINOR / 10 };
    const res = await submit([...Array.from({ length: 10 }, () => tenth), { ...tenth, quotedUnitPriceMinor: 1 }]);
    expect(res.status).toBe(400);
    expect(res.body.error.details).toEqual([expect.objectContaining({ path: 'lines', message: expect.stringContaining('the sum of the quoted lines comes to EUR 100,000,000,000.01') })]);
  });

  it('accepts a request of exactly the largest amount', async () => {
    const res = await submit([{ description: 'Everything', vendorId, quantity: 10, quotedUnitPriceMinor: MAX_AMOUNT_MINOR / 10 }]);
    expect(res.status).toBe(201);
    const priced = await eventually(async () => {
      const { body } = await call(stack, requester.apiKey, 'GET', `/purchase-requests/${res.body.number}`);
      return body.totalMinor !== null && body.totalMinor !== undefined ? body : undefined;
    });
    expect(priced.totalMinor).toBe(MAX_AMOUNT_MINOR);
  });

  it('rejects, with the reason, a catalogue line whose price makes it exceed the largest amount: no endless retries', async () => {
    const model = await createHardwareModel(stack.database.db, { vendor_id: vendorId, list_price_minor: 1e12, name: `Supercomputer ${Date.now()}` });
    const res = await submit([{ hardwareModelId: model, quantity: 10_000 }]);
    expect(res.status).toBe(201);
    const rejected = await eventually(async () => {
      const { body } = await call(stack, requester.apiKey, 'GET', `/purchase-requests/${res.body.number}`);
      return body.state === 'rejected' ? body : undefined;
    });
    expect(rejected.outcome).toMatch(/^line 1 \(.*Supercomputer.*\), 10000 x EUR 10,000,000,000.00, comes to EUR 100,000,000,000,000.00, beyond the largest amount accepted/);
    expect(rejected.totalMinor).toBeNull();
    expect(rejected.assessment).toMatchObject({ totalMinor: null });
  });
});

describe('POST /changes and PATCH /changes/:id', () => {
  it('refuse with 400 one-off and recurring costs that together exceed the largest amount, naming recurringCostMinor', async () => {
    const ciId = (await createCi(stack.database.db)).id;
    const change = (costs: Record<string, number>) =>
      call(stack, requester.apiKey, 'POST', '/changes', { type: 'normal', title: 'Replace the core switch', affectedCiIds: [ciId], ...costs });
    const refused = await change({ oneOffCostMinor: MAX_AMOUNT_MINOR, recurringCostMinor: 1 });
    expect(refused.status).toBe(400);
    expect(refused.body.error.details).toEqual([expect.objectContaining({ path: 'recurringCostMinor', message: expect.stringContaining('the one-off and recurring costs together') })]);

    const created = await change({ oneOffCostMinor: MAX_AMOUNT_MINOR - 1, recurringCostMinor: 1 });
    expect(created.status).toBe(201);
    const revised = await call(stack, requester.apiKey, 'PATCH', `/changes/${created.body.number}`, { recurringCostMinor: 2 });
    expect(revised.status).toBe(400);
    expect(revised.body.error.details).toEqual([expect.objectContaining({ path: 'recurringCostMinor' })]);
  });
});
