/**
 * A request row has one writer, its workflow: the API only reserves the number and starts it. So a
 * submission no worker picks up leaves no row behind (202, not a half-made request), and two retries
 * racing with one Idempotency-Key make one request.
 */
import { createCi, createPerson, eventually, type TestPerson } from './support/fixtures';
import { call, startStack, type Stack } from './support/stack';

let stack: Stack;
let requester: TestPerson;
let ciId: string;

beforeAll(async () => {
  stack = await startStack({ worker: false });
  requester = await createPerson(stack.database.db, ['requester'], 'Sam Submitter');
  ciId = (await createCi(stack.database.db)).id;
});

afterAll(async () => {
  await stack?.stop();
});

const change = { type: 'normal', title: 'Replace a fan', affectedCiIds: [] as string[] };

it('answers 202 with the reserved number while no worker registers the change, and the workflow registers it once one does', async () => {
  const db = stack.database.db;
  const res = await fetch(`${stack.baseUrl}/changes`, {
    method: 'POST',
    headers: { authorization: `Bearer ${requester.apiKey}`, 'content-type': 'application/json' },
    body: JSON.stringify({ ...change, affectedCiIds: [ciId] }),
  });
  const body = (await res.json()) as { id: string; number: string; workflowId: string };
  expect(res.status).toBe(202);
  expect(body).toMatchObject({ number: expect.stringMatching(/^CHG\d{7}$/), workflowId: `change:${body.number}`, registered: false });
  expect(res.headers.get('location')).toBe(`/changes/${body.number}`);
  expect(await db('change_requests').where({ number: body.number }).first()).toBeUndefined();
  expect((await call(stack, requester.apiKey, 'GET', `/changes/${body.number}`)).status).toBe(404);

  await stack.startWorker();
  try {
    const registered = await eventually(async () => {
      const read = await call(stack, requester.apiKey, 'GET', `/changes/${body.number}`);
      return read.status === 200 && read.body;
    });
    expect(registered).toMatchObject({ id: body.id, number: body.number, title: 'Replace a fan' });
    expect(registered.history[0]).toMatchObject({ action: 'submitted', actor: requester.email, toState: 'new' });
  } finally {
    await stack.stopWorker();
  }
}, 60_000);

it('makes one change of two submissions racing with the same Idempotency-Key', async () => {
  await stack.startWorker();
  try {
    const submitOnce = () =>
      fetch(`${stack.baseUrl}/changes`, {
        method: 'POST',
        headers: { authorization: `Bearer ${requester.apiKey}`, 'content-type': 'application/json', 'idempotency-key': 'fan-twice' },
        body: JSON.stringify({ ...change, title: 'Replace a fan, twice', affectedCiIds: [ciId] }),
      }).then(async (r) => ({ status: r.status, body: (await r.json()) as { number: string } }));
    const [first, second] = await Promise.all([submitOnce(), submitOnce()]);
    expect([first.status, second.status].sort()).toEqual([200, 201]);
    expect(first.body.number).toBe(second.body.number);
    expect(await stack.database.db('change_requests').where({ title: 'Replace a fan, twice' }).pluck('number')).toEqual([first.body.number]);
    expect((await call(stack, requester.apiKey, 'POST', '/changes', { ...change, affectedCiIds: [ciId] })).body.number).not.toBe(first.body.number);
  } finally {
    await stack.stopWorker();
  }
});

it('answers a retry of a finished change from the record, without running its workflow again', async () => {
  await stack.startWorker();
  try {
    const body = { ...change, title: 'Replace a fan, then retry', affectedCiIds: [ciId] };
    const submitOnce = () =>
      fetch(`${stack.baseUrl}/changes`, {
        method: 'POST',
        headers: { authorization: `Bearer ${requester.apiKey}`, 'content-type': 'application/json', 'idempotency-key': 'fan-retried-late' },
        body: JSON.stringify(body),
      }).then(async (r) => ({ status: r.status, body: (await r.json()) as { number: string; state: string; workflowId: string } }));
    const first = await submitOnce();
    expect(first.status).toBe(201);
    const cancelled = await call(stack, requester.apiKey, 'POST', `/changes/${first.body.number}/cancel`, { reason: 'not needed after all' });
    expect(cancelled.body).toMatchObject({ state: 'closed', closeCode: 'cancelled' });
    const handle = stack.env.client.workflow.getHandle(first.body.workflowId);
    await handle.result();
    const finished = await handle.describe();

    const retried = await submitOnce();
    expect(retried).toMatchObject({ status: 200, body: { number: first.body.number, state: 'closed' } });
    const after = await handle.describe();
    expect(after.runId).toBe(finished.runId);
    expect(after.status.name).toBe('COMPLETED');
  } finally {
    await stack.stopWorker();
  }
});
