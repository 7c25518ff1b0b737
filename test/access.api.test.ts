/**
 * No one let in: security headers on every page (and /docs still renders under its policy, and
 * no other site can frame a page), server-side web sessions that sign-out, deactivation and
 * expiry end, rate limits shared by several API processes on one database, /metrics for process
 * owners, admins and the scrape token only, and segregation of duties after approval (the API and
 * the workflow both refuse the requester).
 */
import { randomBytes } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { createServer } from 'node:http';
import { WorkflowUpdateFailedError } from '@temporalio/client';
import type { Browser } from 'playwright-core';
import { toHttpError } from '../api/errors';
import { hashSessionId } from '../api/web/session';
import type { RateLimitSettings } from '../platform/config';
import { implementationUpdate, reviewUpdate } from '../workflows/change-request/contract';
import { recordReceiptUpdate } from '../workflows/purchase-request/contract';
import { launchBrowser } from './support/browser';
import { createApprovalRule, createCi, createHardwareModel, createPerson, eventually, type TestPerson } from './support/fixtures';
import { call, startExtraApi, startStack, type ExtraApi, type Stack } from './support/stack';
import { browse, hiddenCsrf, signInWithKey, webAgent } from './support/web-agent';

let stack: Stack;
let browser: Browser;
let owner: TestPerson;
let requester: TestPerson;

beforeAll(async () => {
  [stack, browser] = await Promise.all([startStack(), launchBrowser()]);
  const db = stack.database.db;
  owner = await createPerson(db, ['process_owner'], 'Otto Owner');
  requester = await createPerson(db, ['requester'], 'Rhea Requester');
});

afterAll(async () => {
  await browser?.close();
  await stack?.stop();
});

/** A change waiting for its manager's approval; the approval link from the manager's email. */
async function changeAwaitingApproval() {
  const db = stack.database.db;
  const manager = await createPerson(db, ['approver'], 'Mia Manager');
  const asker = await createPerson(db, ['requester'], 'Rob Requester', { managerId: manager.id });
  const ci = await createCi(db);
  const created = await call(stack, asker.apiKey, 'POST', '/changes', { type: 'normal', title: 'Patch the file servers', affectedCiIds: [ci.id] });
  expect(created.status).toBe(201);
  const mail = await stack.sink.waitFor((m) => m.to.includes(manager.email) && m.subject.includes(created.body.number));
  const link = /(https?:\/\/\S+\/approvals\/[0-9a-f-]+\?token=\S+)/.exec(mail.text)![1];
  return { manager, asker, change: created.body as { id: string; number: string }, link: new URL(link) };
}

const client = (n: number) => ({ 'x-forwarded-for': `203.0.113.${n}` });

describe('security headers', () => {
  let approvalLink: URL;

  beforeAll(async () => {
    await createApprovalRule(stack.database.db, { stepOrder: 1, name: 'Manager', approverKind: 'manager' });
    approvalLink = (await changeAwaitingApproval()).link;
  });

  function expectPageHeaders(headers: Headers, what: string) {
    const csp = headers.get('content-security-policy') ?? '';
    expect({ what, frameAncestors: /frame-ancestors 'none'/.test(csp) }).toEqual({ what, frameAncestors: true });
    expect({
      what,
      frame: headers.get('x-frame-options'),
      sniff: headers.get('x-content-type-options'),
      referrer: headers.get('referrer-policy'),
      cache: headers.get('cache-control'),
      opener: headers.get('cross-origin-opener-policy'),
    }).toEqual({ what, frame: 'DENY', sniff: 'nosniff', referrer: 'no-referrer', cache: 'no-store', opener: 'same-origin' });
  }

  it('are on the emailed approval page and its error page, the web UI, the start page, /docs and error answers', async () => {
    const agent = webAgent(stack.baseUrl);
    const signIn = await signInWithKey(agent, owner.apiKey);
    expect(signIn.status).toBe(303);
    const answers: [string, string, number][] = [
      ['approval page', `${approvalLink.pathname}${approvalLink.search}`, 200],
      ['approval error page', `${approvalLink.pathname}?token=forged`, 403],
      ['start page', '/', 200],
      ['web UI dashboard', '/ui', 200],
      ['web UI missing page', '/ui/no-such-page', 404],
      ['API docs', '/docs/', 200],
      ['JSON error', '/approvals/not-a-uuid', 400],
      ['unknown route', '/no/such/route', 404],
    ];
    for (const [what, path, status] of answers) {
      const res = await browse(agent, 'GET', path);
      expect({ what, status: res.status }).toEqual({ what, status });
      expectPageHeaders(res.headers, what);
    }
    const signInPage = await browse(webAgent(stack.baseUrl), 'GET', '/ui/sign-in');
    expectPageHeaders(signInPage.headers, 'sign-in page');
    expect(signInPage.headers.get('content-security-policy')).toContain("default-src 'none'");
  });

  it('let /docs run Swagger UI from its own scripts, and nothing from elsewhere', async () => {
    const page = await browser.newPage();
    const violations: string[] = [];
    page.on('console', (message) => {
      if (/Content Security Policy/i.test(message.text())) violations.push(message.text());
    });
    try {
      await page.goto(`${stack.baseUrl}/docs/`);
      await page.waitForSelector('.swagger-ui .info .title', { timeout: 15_000 });
      expect(await page.textContent('.swagger-ui .info .title')).toContain('assetflow API');
      expect(await page.locator('.opblock-tag').count()).toBeGreaterThan(10);
      await page.locator('.opblock-tag', { hasText: 'changes' }).first().click();
      await page.waitForSelector('.opblock-summary-path');
      expect(await page.locator('.opblock-summary-path').count()).toBeGreaterThan(5);
      expect(violations).toEqual([]);
      const csp = (await page.request.get(`${stack.baseUrl}/docs/`)).headers()['content-security-policy'];
      expect(csp).toContain("script-src 'self'");
      expect(csp).not.toMatch(/unsafe-eval|script-src[^;]*unsafe-inline/);
    } finally {
      await page.close();
    }
  });

  it('keep another site from framing the approval page (its Approve button never loads) or /docs', async () => {
    // Another site: a page from another port is another origin to the browser.
    const framer = createServer((_req, res) => {
      res.setHeader('content-type', 'text/html');
      res.end(`<iframe src="${approvalLink.href}"></iframe><iframe src="${stack.baseUrl}/docs/"></iframe><iframe src="${stack.baseUrl}/ui/sign-in"></iframe>`);
    });
    await new Promise<void>((resolve) => framer.listen(0, '127.0.0.1', resolve));
    const page = await browser.newPage();
    try {
      await page.goto(`http://127.0.0.1:${(framer.address() as AddressInfo).port}/`, { waitUntil: 'load' });
      const framed = page.frames().filter((f) => f !== page.mainFrame());
      expect(framed).toHaveLength(3);
      // A page the browser refuses to frame is replaced by its error page: none of the page's own markup is there.
      await page.waitForTimeout(500);
      const loaded = [];
      for (const frame of framed) {
        if (await frame.$('form button, #swagger-ui, input[name="apiKey"]')) loaded.push(frame.url());
      }
      expect(loaded).toEqual([]);
    } finally {
      await page.close();
      await new Promise((resolve) => framer.close(resolve));
    }
  });
});

describe('web sessions held by the server', () => {
  it('end at sign-out: a copied cookie stops working everywhere', async () => {
    const agent = webAgent(stack.baseUrl);
    await signInWithKey(agent, owner.apiKey);
    const cookie = agent.cookies.get('af_session')!;
    // The cookie is a random id; only its hash is stored, and it names no person.
    expect(await stack.database.db('web_sessions').where({ id_hash: cookie }).first()).toBeUndefined();
    expect(await stack.database.db('web_sessions').where({ id_hash: hashSessionId(cookie) }).first('person_id')).toEqual({ person_id: owner.id });
    expect(Buffer.from(cookie, 'base64url').toString('latin1')).not.toContain(owner.id);
    const copy = webAgent(stack.baseUrl);
    copy.cookies.set('af_session', cookie);
    expect((await browse(copy, 'GET', '/ui/processes')).status).toBe(200);

    const page = await browse(agent, 'GET', '/ui/processes');
    expect((await browse(agent, 'POST', '/ui/sign-out', { csrf: hiddenCsrf(page.html)! })).status).toBe(303);

    const after = await browse(copy, 'GET', '/ui/processes');
    expect(after).toMatchObject({ status: 303, location: '/ui/sign-in?next=%2Fui%2Fprocesses' });
    expect(await stack.database.db('web_sessions').where({ id_hash: hashSessionId(cookie) }).first()).toBeUndefined();
  });

  it('end when the person is deactivated, and stay ended when they are active again', async () => {
    const db = stack.database.db;
    const leaver = await createPerson(db, ['approver'], 'Lea Leaver');
    const agent = webAgent(stack.baseUrl);
    await signInWithKey(agent, leaver.apiKey);
    expect((await browse(agent, 'GET', '/ui/inbox')).status).toBe(200);

    await db('people').where({ id: leaver.id }).update({ active: false });
    expect(await db('web_sessions').where({ person_id: leaver.id }).first()).toBeUndefined();
    expect((await browse(agent, 'GET', '/ui/inbox')).status).toBe(303);
    await db('people').where({ id: leaver.id }).update({ active: true });
    expect((await browse(agent, 'GET', '/ui/inbox')).status).toBe(303);
  });

  it('expire on the server, whatever the browser still sends', async () => {
    const db = stack.database.db;
    const agent = webAgent(stack.baseUrl);
    await signInWithKey(agent, requester.apiKey);
    expect((await browse(agent, 'GET', '/ui/my-requests')).status).toBe(200);
    await db('web_sessions').where({ person_id: requester.id }).update({ expires_at: db.raw("now() - interval '1 second'") });
    expect((await browse(agent, 'GET', '/ui/my-requests')).status).toBe(303);
  });
});

describe('rate limits shared by two API processes on one database', () => {
  const limits: RateLimitSettings = { authFailures: { points: 3, windowMs: 60_000 }, linkDecisions: { points: 2, windowMs: 60_000 } };
  let a: ExtraApi;
  let b: ExtraApi;

  beforeAll(async () => {
    [a, b] = await Promise.all([startExtraApi(stack, { rateLimits: limits, trustProxy: 'loopback' }), startExtraApi(stack, { rateLimits: limits, trustProxy: 'loopback' })]);
  });

  afterAll(async () => {
    await Promise.all([a?.stop(), b?.stop()]);
  });

  const get = (api: { baseUrl: string }, headers: Record<string, string>, key?: string) =>
    fetch(`${api.baseUrl}/change-models`, { headers: { ...headers, ...(key ? { authorization: `Bearer ${key}` } : {}) } });

  it('throttle an address after its failed API keys, on either process, with 429 and Retry-After', async () => {
    const guesser = client(7);
    for (const api of [a, b, a]) expect((await get(api, guesser, `af_guess_${randomBytes(6).toString('hex')}`)).status).toBe(401);
    const limited = await get(b, guesser, 'af_guess_again');
    expect(limited.status).toBe(429);
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(Number(limited.headers.get('retry-after'))).toBeLessThanOrEqual(60);
    expect(((await limited.json()) as { error: unknown }).error).toMatchObject({ code: 'rate_limited' });
    // The address is throttled, even with a valid key; another address with a valid key is not.
    expect((await get(a, guesser, requester.apiKey)).status).toBe(429);
    expect((await get(a, client(8), requester.apiKey)).status).toBe(200);
    // No key at all is a question, not a guess.
    expect((await get(a, client(8))).status).toBe(401);
  });

  it('count failures only: many calls with a valid key are never throttled', async () => {
    for (let i = 0; i < 8; i++) expect((await get(i % 2 ? a : b, client(9), requester.apiKey)).status).toBe(200);
  });

  it('throttle failed sign-ins in the web UI the same way, across processes', async () => {
    for (const api of [a, b, a]) {
      const res = await signInWithKey(webAgent(api.baseUrl, client(10)), 'af_wrong_key');
      expect(res.status).toBe(401);
    }
    const limited = await signInWithKey(webAgent(b.baseUrl, client(10)), owner.apiKey);
    expect(limited.status).toBe(429);
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(limited.html).toContain('Too many failed sign-ins');
    expect(limited.setCookies.some((c) => c.startsWith('af_session='))).toBe(false);
    expect((await signInWithKey(webAgent(b.baseUrl, client(11)), owner.apiKey)).status).toBe(303);
  });

  it('limit decisions through approval links per address, across processes', async () => {
    const decide = (api: { baseUrl: string }, n: number) =>
      fetch(`${api.baseUrl}/approvals/00000000-0000-4000-8000-000000000000/decision`, {
        method: 'POST',
        headers: { ...client(n), 'content-type': 'application/json' },
        body: JSON.stringify({ token: 'forged', decision: 'approved' }),
      });
    expect((await decide(a, 12)).status).toBe(403);
    expect((await decide(b, 12)).status).toBe(403);
    const limited = await decide(a, 12);
    expect(limited.status).toBe(429);
    expect(limited.headers.get('retry-after')).toMatch(/^\d+$/);
    expect((await decide(b, 13)).status).toBe(403);
  });

  it('count refused link decisions only: approvers sharing one address are not throttled by their own decisions', async () => {
    const { link } = await changeAwaitingApproval();
    const approvalId = link.pathname.split('/').pop();
    const decide = (api: { baseUrl: string }, token: string) =>
      fetch(`${api.baseUrl}/approvals/${approvalId}/decision`, {
        method: 'POST',
        headers: { ...client(14), 'content-type': 'application/json' },
        body: JSON.stringify({ token, decision: 'approved' }),
      });
    expect((await decide(a, 'forged')).status).toBe(403);
    expect((await decide(b, link.searchParams.get('token')!)).status).toBe(200);
    expect((await decide(a, 'forged')).status).toBe(403);
    expect((await decide(b, 'forged')).status).toBe(429);
  });
});

describe('GET /metrics', () => {
  const token = randomBytes(24).toString('hex');
  let api: ExtraApi;

  beforeAll(async () => {
    api = await startExtraApi(stack, { metricsToken: token });
  });

  afterAll(async () => {
    await api?.stop();
  });

  const scrape = (bearer?: string) => fetch(`${api.baseUrl}/metrics`, { headers: bearer ? { authorization: `Bearer ${bearer}` } : {} });

  it('is for process owners, admins and the scrape token only', async () => {
    const admin = await createPerson(stack.database.db, ['admin'], 'Ada Admin');
    expect((await scrape()).status).toBe(401);
    expect((await scrape(requester.apiKey)).status).toBe(403);
    expect((await scrape(`${token.slice(0, -1)}x`)).status).toBe(401);
    for (const bearer of [owner.apiKey, admin.apiKey, token]) {
      const res = await scrape(bearer);
      expect(res.status).toBe(200);
      expect(await res.text()).toContain('# TYPE');
    }
  });
});

describe('segregation of duties after approval', () => {
  it('refuses the requester recording the implementation or the review of their own change, in the API and in the workflow', async () => {
    const db = stack.database.db;
    const doer = await createPerson(db, ['requester', 'asset_manager', 'process_owner'], 'Dora Doer');
    const implementer = await createPerson(db, ['asset_manager'], 'Ivan Implementer');
    const [{ id: changeModelId }] = await db('change_models').insert({ name: `Rotate keys ${randomBytes(3).toString('hex')}`, description: 'key rotation', risk_ceiling: 'moderate' }).returning('id');
    const ci = await createCi(db);
    const { body: change } = await call(stack, doer.apiKey, 'POST', '/changes', { type: 'standard', changeModelId, affectedCiIds: [ci.id] });
    await call(stack, implementer.apiKey, 'GET', `/processes/${encodeURIComponent(change.workflowId)}?waitFor=implement&waitSeconds=30`);
    const audit = async () => Number((await db('audit_log').where({ subject_id: change.id }).count({ n: '*' }))[0].n);
    const before = await audit();

    const own = await call(stack, doer.apiKey, 'POST', `/changes/${change.id}/implementation`, { event: 'started', notes: 'doing it myself' });
    expect(own.status).toBe(403);
    expect(own.body.error.code).toBe('segregation_of_duties');
    const handle = stack.env.client.workflow.getHandle(change.workflowId);
    const refusedInWorkflow = await handle
      .executeUpdate(implementationUpdate, { args: [{ event: 'started', notes: 'around the API', actorEmail: doer.email, requestId: 'sod-1' }], updateId: 'sod-1' })
      .catch((error: unknown) => error);
    expect(refusedInWorkflow).toBeInstanceOf(WorkflowUpdateFailedError);
    expect(toHttpError(refusedInWorkflow)).toMatchObject({ status: 403, code: 'segregation_of_duties' });
    expect(await audit()).toBe(before);

    expect((await call(stack, implementer.apiKey, 'POST', `/changes/${change.id}/implementation`, { event: 'started', notes: 'go' })).status).toBe(200);
    const failed = await call(stack, implementer.apiKey, 'POST', `/changes/${change.id}/implementation`, { event: 'failed', notes: 'no', backout: 'restored the old keys' });
    expect(failed.body).toMatchObject({ state: 'review' });
    const ownReview = await call(stack, doer.apiKey, 'POST', `/changes/${change.id}/review`, { notes: 'fine by me' });
    expect(ownReview.status).toBe(403);
    expect(ownReview.body.error.code).toBe('segregation_of_duties');
    const reviewInWorkflow = await handle
      .executeUpdate(reviewUpdate, { args: [{ notes: 'around the API', actorEmail: doer.email, requestId: 'sod-2' }], updateId: 'sod-2' })
      .catch((error: unknown) => error);
    expect(toHttpError(reviewInWorkflow)).toMatchObject({ status: 403, code: 'segregation_of_duties' });
    const reviewed = await call(stack, owner.apiKey, 'POST', `/changes/${change.id}/review`, { notes: 'backout worked' });
    expect(reviewed.body).toMatchObject({ state: 'closed' });
  });

  it('refuses the requester recording the receipt of their own purchase, in the API and in the workflow', async () => {
    const db = stack.database.db;
    const manager = await createPerson(db, ['approver'], 'Max Manager');
    const buyer = await createPerson(db, ['requester', 'asset_manager'], 'Bea Buyer', { managerId: manager.id });
    const receiver = await createPerson(db, ['asset_manager'], 'Rick Receiver');
    await createApprovalRule(db, { process: 'procurement', stepOrder: 1, name: 'Manager', approverKind: 'manager' });
    const code = `CC-${randomBytes(3).toString('hex')}`;
    const [{ id: costCentreId }] = await db('cost_centres').insert({ code, name: `Team ${code}`, owner_id: manager.id }).returning('id');
    await db('budgets').insert({ cost_centre_id: costCentreId, period_start: `${new Date().toISOString().slice(0, 7)}-01`, amount_minor: 5_000_000, currency: 'EUR' });
    const [{ id: vendorId }] = await db('vendors').insert({ name: `Vendor ${code}`, contact_email: 'orders@vendor.example' }).returning('id');
    const modelId = await createHardwareModel(db, { vendor_id: vendorId, list_price_minor: 100_000 });
    const created = await call(stack, buyer.apiKey, 'POST', '/purchase-requests', { costCentre: code, justification: 'A spare laptop', lines: [{ hardwareModelId: modelId, quantity: 1 }] });
    expect(created.status).toBe(201);
    const approval = await eventually(async () => (await db('approvals').where({ subject_id: created.body.id, state: 'requested' }).first('id')) as { id: string } | undefined);
    expect((await call(stack, manager.apiKey, 'POST', `/purchase-requests/${created.body.id}/approvals/${approval.id}/decision`, { decision: 'approved' })).status).toBe(200);
    const ordered = await eventually(async () => {
      const detail = (await call(stack, buyer.apiKey, 'GET', `/purchase-requests/${created.body.id}`)).body;
      return detail.state === 'ordering' && detail.orders.length ? detail : undefined;
    });
    const [order] = ordered.orders;
    const lines = [{ lineId: ordered.lines[0].id, quantity: 1, serialNumbers: [`SOD-${code}`] }];

    const own = await call(stack, buyer.apiKey, 'POST', `/purchase-orders/${order.number}/receipts`, { lines });
    expect(own.status).toBe(403);
    expect(own.body.error.code).toBe('segregation_of_duties');
    const inWorkflow = await stack.env.client.workflow.getHandle(created.body.workflowId)
      .executeUpdate(recordReceiptUpdate, {
        args: [{ purchaseOrderId: order.id, receivedById: buyer.id, actorEmail: buyer.email, requestId: 'sod-3', lines: lines.map((l) => ({ ...l })) }],
        updateId: 'sod-3',
      })
      .catch((error: unknown) => error);
    expect(toHttpError(inWorkflow)).toMatchObject({ status: 403, code: 'segregation_of_duties' });
    expect(await db('receipts').where({ purchase_order_id: order.id }).first()).toBeUndefined();

    const received = await call(stack, receiver.apiKey, 'POST', `/purchase-orders/${order.number}/receipts`, { lines });
    expect(received.status).toBe(200);
  });
});
