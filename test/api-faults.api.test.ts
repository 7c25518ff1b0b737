/**
 * The API answers honestly when what it depends on fails: Temporal unreachable (a client on a port
 * nobody listens on), no worker polling (the stack's worker stopped), Postgres unreachable (a knex
 * on a closed port), too many long-polls, and a stop while long-polls are held. Each answer comes
 * within a bound, says what is wrong (503 with Retry-After, 504 workflow_timeout, or the database's
 * view with the live status marked unavailable) and leaves nothing half-made behind.
 */
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import { Client, Connection, defaultGrpcRetryOptions, makeGrpcRetryInterceptor } from '@temporalio/client';
import { stopServing } from '../api/serve';
import { WORKFLOW_DEADLINES } from '../api/workflow-calls';
import { createDatabase, type Database } from '../platform/database';
import { createApprovalRule, createCi, createPerson, eventually, type TestPerson } from './support/fixtures';
import { call, startExtraApi, startStack, type ExtraApi, type Stack } from './support/stack';

let stack: Stack;
let requester: TestPerson;
let manager: TestPerson;
let implementer: TestPerson;
let ciId: string;
let changeModelId: string;
let costCentre: string;
let vendorId: string;

/** A port that was free a moment ago and that nothing listens on now. */
async function closedPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

async function timed<T>(work: () => Promise<T>): Promise<{ result: T; ms: number }> {
  const started = Date.now();
  const result = await work();
  return { result, ms: Date.now() - started };
}

async function send(baseUrl: string, apiKey: string | undefined, method: string, path: string, options: { body?: unknown; key?: string } = {}) {
  const res = await fetch(`${baseUrl}${path}`, {
    method,
    headers: {
      ...(apiKey ? { authorization: `Bearer ${apiKey}` } : {}),
      ...(options.body !== undefined ? { 'content-type': 'application/json' } : {}),
      ...(options.key ? { 'idempotency-key': options.key } : {}),
    },
    body: options.body === undefined ? undefined : JSON.stringify(options.body),
  });
  const text = await res.text();
  let body: any = text;
  try {
    body = JSON.parse(text);
  } catch {
    // an HTML page
  }
  return { status: res.status, retryAfter: res.headers.get('retry-after'), contentType: res.headers.get('content-type'), body };
}

beforeAll(async () => {
  stack = await startStack();
  const db = stack.database.db;
  manager = await createPerson(db, ['approver'], 'Mona Manager');
  requester = await createPerson(db, ['requester'], 'Fay Faults', { managerId: manager.id });
  implementer = await createPerson(db, ['asset_manager'], 'Ian Implementer');
  ciId = (await createCi(db, { ciClass: 'server' })).id;
  await createApprovalRule(db, { stepOrder: 1, name: 'Manager', approverKind: 'manager' });
  costCentre = 'CC-FAULTS';
  await db('cost_centres').insert({ code: costCentre, name: 'Faults team', owner_id: manager.id });
  [{ id: vendorId }] = await db('vendors').insert({ name: 'Mice Inc', contact_email: 'orders@mice.example', active: true }).returning('id');
  [{ id: changeModelId }] = await db('change_models').insert({ name: 'Patch a server', description: 'monthly patches', risk_ceiling: 'moderate' }).returning('id');
}, 120_000);

afterAll(async () => {
  await stack?.stop();
});

describe('Temporal unreachable', () => {
  let down: ExtraApi;
  let unreachable: Client;

  beforeAll(async () => {
    // Fewer retries than the client's default, so that calls the API abandoned are over before the test ends.
    const connection = Connection.lazy({
      address: `127.0.0.1:${await closedPort()}`,
      interceptors: [makeGrpcRetryInterceptor(defaultGrpcRetryOptions({ maxAttempts: 7 }))],
    });
    unreachable = new Client({ connection, namespace: 'default' });
    down = await startExtraApi(stack, { db: stack.database.db, temporal: unreachable });
  });

  afterAll(async () => {
    await down?.stop();
    await new Promise((resolve) => setTimeout(resolve, 4_000));
    await unreachable?.connection.close();
  });

  it('answers a change submitted meanwhile with 503 and Retry-After within seconds, shows it nowhere, and takes the retry with the same key', async () => {
    const body = { type: 'normal', title: 'Swap a disk while Temporal is down', affectedCiIds: [ciId] };
    const { result: refused, ms } = await timed(() => send(down.baseUrl, requester.apiKey, 'POST', '/changes', { body, key: 'disk-swap-1' }));
    expect(refused).toMatchObject({ status: 503, body: { error: { code: 'unavailable', message: expect.stringMatching(/Temporal/) } } });
    expect(Number(refused.retryAfter)).toBeGreaterThan(0);
    expect(ms).toBeLessThan(WORKFLOW_DEADLINES.startMs + 2_000);

    const mine = `/processes?requester=${requester.id}`;
    expect((await call(stack, requester.apiKey, 'GET', mine)).body.items).toEqual([]);
    expect((await call(stack, requester.apiKey, 'GET', '/changes')).body.items).toEqual([]);
    expect(await stack.database.db('change_requests').where({ title: body.title }).first()).toBeUndefined();

    const retried = await send(stack.baseUrl, requester.apiKey, 'POST', '/changes', { body, key: 'disk-swap-1' });
    expect([200, 201]).toContain(retried.status);
    expect(retried.body).toMatchObject({ title: body.title, number: expect.stringMatching(/^CHG\d{7}$/) });
    expect((await call(stack, requester.apiKey, 'GET', '/changes')).body.items.map((c: { number: string }) => c.number)).toEqual([retried.body.number]);
  }, 60_000);

  it('answers a purchase request submitted meanwhile with 503 too, and shows it nowhere', async () => {
    const { result: refused, ms } = await timed(() => send(down.baseUrl, requester.apiKey, 'POST', '/purchase-requests', {
      body: { costCentre, justification: 'a spare mouse', lines: [{ description: 'mouse', quantity: 1, vendorId, quotedUnitPriceMinor: 1_000 }] },
      key: 'mouse-1',
    }));
    expect(refused).toMatchObject({ status: 503, body: { error: { code: 'unavailable' } } });
    expect(ms).toBeLessThan(WORKFLOW_DEADLINES.startMs + 2_000);
    expect((await call(stack, requester.apiKey, 'GET', '/purchase-requests')).body.items).toEqual([]);
  }, 30_000);

  it('says so on /healthz within 2 s', async () => {
    const { result: health, ms } = await timed(() => send(down.baseUrl, undefined, 'GET', '/healthz'));
    expect(health).toMatchObject({ status: 503, body: { status: 'degraded', postgres: { status: 'up' }, temporal: { status: 'down' } } });
    expect(ms).toBeLessThan(2_000);
  });

  it('answers a detail from the database at once, saying the live status is unavailable', async () => {
    const { body: change } = await call(stack, requester.apiKey, 'POST', '/changes', { type: 'normal', title: 'Read while down', affectedCiIds: [ciId] });
    const { result: read, ms } = await timed(() => send(down.baseUrl, requester.apiKey, 'GET', `/changes/${change.number}`));
    expect(read).toMatchObject({ status: 200, body: { number: change.number, status: null, statusUnavailable: expect.stringMatching(/live status is unavailable/) } });
    expect(ms).toBeLessThan(WORKFLOW_DEADLINES.statusMs + 1_000);
  }, 30_000);

  it('answers a command with 503 within the deadline', async () => {
    const { body: change } = await call(stack, requester.apiKey, 'POST', '/changes', { type: 'normal', title: 'Cancel while down', affectedCiIds: [ciId] });
    const { result: refused, ms } = await timed(() => send(down.baseUrl, requester.apiKey, 'POST', `/changes/${change.number}/cancel`, { body: { reason: 'not needed' } }));
    expect(refused).toMatchObject({ status: 503, body: { error: { code: 'unavailable' } } });
    expect(Number(refused.retryAfter)).toBeGreaterThan(0);
    expect(ms).toBeLessThan(WORKFLOW_DEADLINES.commandMs + WORKFLOW_DEADLINES.probeMs + 1_000);
  }, 40_000);
});

describe('no worker polling', () => {
  afterEach(async () => {
    await stack.startWorker();
  });

  it('answers a detail within a couple of seconds from the database, and a decision with 504 workflow_timeout within its deadline', async () => {
    const { body: change } = await call(stack, requester.apiKey, 'POST', '/changes', { type: 'normal', title: 'Decide without a worker', affectedCiIds: [ciId] });
    const approval = await eventually(async () =>
      (await stack.database.db('approvals').where({ subject_id: change.id, approver_id: manager.id, state: 'requested' }).first()) ?? undefined,
    );
    await stack.stopWorker();

    const { result: read, ms: readMs } = await timed(() => call(stack, requester.apiKey, 'GET', `/changes/${change.number}`));
    expect(read).toMatchObject({ status: 200, body: { number: change.number, state: 'authorize', status: null, statusUnavailable: expect.stringMatching(/did not answer/) } });
    expect(readMs).toBeLessThan(WORKFLOW_DEADLINES.statusMs + 1_500);

    const process = await call(stack, requester.apiKey, 'GET', `/processes/${encodeURIComponent(change.workflowId)}`);
    expect(process).toMatchObject({ status: 200, body: { live: null, liveUnavailable: expect.stringMatching(/live status is unavailable/) } });

    const { result: decided, ms: decideMs } = await timed(() =>
      call(stack, manager.apiKey, 'POST', `/changes/${change.number}/approvals/${approval.id}/decision`, { decision: 'approved' }));
    expect(decided).toMatchObject({ status: 504, body: { error: { code: 'workflow_timeout', message: expect.stringMatching(/did not answer within/) } } });
    expect(decideMs).toBeGreaterThanOrEqual(WORKFLOW_DEADLINES.commandMs - 100);
    expect(decideMs).toBeLessThan(WORKFLOW_DEADLINES.commandMs + WORKFLOW_DEADLINES.probeMs + 2_000);
  }, 60_000);
});

describe('Postgres unreachable', () => {
  let down: ExtraApi;
  let deadDb: Database;

  beforeAll(async () => {
    const url = `postgres://assetflow:assetflow@127.0.0.1:${await closedPort()}/assetflow`;
    deadDb = createDatabase(url, 2);
    down = await startExtraApi(stack, { db: deadDb, databaseUrl: url, demoSignIn: true });
  });

  afterAll(async () => {
    await down?.stop();
    await deadDb?.destroy();
  });

  it.each([
    ['GET', '/changes'],
    ['GET', `/processes/${encodeURIComponent('change:CHG0001001')}?waitFor=closed&waitSeconds=5`],
    ['POST', '/changes'],
    ['GET', '/approvals'],
  ])('answers %s %s with 503 and Retry-After, not 500', async (method, path) => {
    const res = await send(down.baseUrl, requester.apiKey, method, path, method === 'POST' ? { body: { type: 'normal', title: 'db down', affectedCiIds: [ciId] } } : {});
    expect(res).toMatchObject({ status: 503, body: { error: { code: 'unavailable', message: expect.stringMatching(/database/) } } });
    expect(Number(res.retryAfter)).toBeGreaterThan(0);
  });

  it('answers a web UI page that reads the database with a 503 page and Retry-After', async () => {
    const res = await send(down.baseUrl, undefined, 'GET', '/ui/sign-in');
    expect(res).toMatchObject({ status: 503, contentType: expect.stringMatching(/text\/html/), body: expect.stringMatching(/database cannot be reached/) });
    expect(Number(res.retryAfter)).toBeGreaterThan(0);
  });

  it('answers a sign-in with an API key with the 503 page, not "too many failed sign-ins"', async () => {
    // The form comes from the healthy app: both derive the pre-session keys from the same secret.
    const form = await fetch(`${stack.baseUrl}/ui/sign-in`);
    const cookie = form.headers.getSetCookie().map((c) => c.split(';')[0]).join('; ');
    const csrf = /name="csrf" value="([^"]+)"/.exec(await form.text())![1];
    const res = await fetch(`${down.baseUrl}/ui/sign-in`, {
      method: 'POST',
      redirect: 'manual',
      headers: { cookie, 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ csrf, next: '', apiKey: requester.apiKey }).toString(),
    });
    const page = await res.text();
    expect({ status: res.status, page }).toMatchObject({ status: 503, page: expect.stringMatching(/database cannot be reached/) });
    expect(Number(res.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(page).not.toMatch(/Too many failed sign-ins/);
  });

  it('says so on /healthz within 2 s', async () => {
    const { result: health, ms } = await timed(() => send(down.baseUrl, undefined, 'GET', '/healthz'));
    expect(health).toMatchObject({ status: 503, body: { status: 'degraded', postgres: { status: 'down' }, temporal: { status: 'up' } } });
    expect(ms).toBeLessThan(2_000);
  });
});

describe('long-polls', () => {
  it('hold at most the cap at once (503 with Retry-After beyond it) and each for at most the longest wait', async () => {
    const limited = await startExtraApi(stack, { db: stack.database.db, waitLimits: { maxWaiting: 1, maxWaitMs: 1_500 } });
    try {
      const { body: change } = await call(stack, requester.apiKey, 'POST', '/changes', { type: 'normal', title: 'Polled', affectedCiIds: [ciId] });
      const path = `/processes/${encodeURIComponent(change.workflowId)}?waitFor=closed&waitSeconds=60`;
      const held = timed(() => send(limited.baseUrl, requester.apiKey, 'GET', path));
      await eventually(async () => limited.processStates.waitingCount === 1);
      const refused = await send(limited.baseUrl, requester.apiKey, 'GET', path);
      expect(refused).toMatchObject({ status: 503, body: { error: { code: 'unavailable' } } });
      expect(Number(refused.retryAfter)).toBeGreaterThan(0);
      const { result: answered, ms } = await held;
      expect(answered).toMatchObject({ status: 200, body: { process: { state: 'authorize' } } });
      expect(ms).toBeLessThan(1_500 + 2_500);
    } finally {
      await limited.stop();
    }
  }, 30_000);

  it('are woken by a stop, which ends within 5 s', async () => {
    const api = await startExtraApi(stack, { db: stack.database.db });
    const { body: change } = await call(stack, requester.apiKey, 'POST', '/changes', { type: 'standard', changeModelId, affectedCiIds: [ciId] });
    const path = `/processes/${encodeURIComponent(change.workflowId)}?waitFor=closed&waitSeconds=60`;
    const held = send(api.baseUrl, implementer.apiKey, 'GET', path);
    await eventually(async () => api.processStates.waitingCount === 1);
    const { ms } = await timed(() => stopServing(api.server, api.processStates));
    expect(ms).toBeLessThan(5_000);
    expect(await held).toMatchObject({ status: 200, body: { process: { workflowId: change.workflowId } } });
  }, 30_000);
});
