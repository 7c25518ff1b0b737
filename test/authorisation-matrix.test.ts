/**
 * The authorisation matrix, generated from the app's own access table: every route the app
 * mounts (the route registry's declarations, the web UI's pages, /dev/mail, the open pages) is
 * called as an anonymous visitor and as a person of each role, and the answer is checked against
 * the route's declared access. A route the app mounts without a declaration fails the suite, so a
 * new route cannot be forgotten.
 *
 * The calls use real data (a change and a purchase request of the requester, waiting for the
 * approver; an asset), so that an allowed call reaches the route's handler: reads answer with the
 * data, writes are sent an invalid body and answer 400, after access was granted. A refused call
 * must write nothing: the app's database connection sees no statement but reads while it runs.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Express } from 'express';
import { accessTableOf, type AccessTable } from '../api/app';
import { ROLES, type Role } from '../api/auth';
import { createApprovalRule, createAsset, createCi, createHardwareModel, createPerson, eventually, type TestPerson } from './support/fixtures';
import { call, startExtraApi, startStack, type ExtraApi, type Stack } from './support/stack';
import { browse, hiddenCsrf, signInWithKey, webAgent, type WebAgent } from './support/web-agent';

type Caller = 'anonymous' | Role;
const CALLERS: readonly Caller[] = ['anonymous', ...ROLES];
type Expected = 'allowed' | 'unauthenticated' | 'forbidden' | 'sign_in';

let stack: Stack;
let api: ExtraApi;
let baseUrl: string;
let mailboxDir: string;
const people = {} as Record<Role, TestPerson>;
let spare: TestPerson;
/** A group for the /groups/:id routes: writes to it are refused by their body (400), so it stays as it is. */
let matrixGroupId: string;
const sessions = {} as Record<Role, { agent: WebAgent; csrf: string }>;
const fixture = {} as {
  change: { id: string; number: string; workflowId: string };
  purchase: { id: string; number: string };
  approvalId: string;
  linkQuery: string;
  /** Each person's own asset (assigned to them): people who are not overseers see only theirs. */
  assets: Record<Caller, string>;
};

/** Writes the app's own database connection runs (anything but reads), while `writes` is listening. */
let writes: string[] | undefined;

beforeAll(async () => {
  stack = await startStack();
  const db = stack.database.db;
  people.approver = await createPerson(db, ['approver'], 'Alma Approver');
  people.requester = await createPerson(db, ['requester'], 'Remy Requester', { managerId: people.approver.id });
  people.asset_manager = await createPerson(db, ['asset_manager'], 'Asta Manager');
  people.process_owner = await createPerson(db, ['process_owner'], 'Paul Owner');
  people.admin = await createPerson(db, ['admin'], 'Ada Admin');
  spare = await createPerson(db, [], 'Sam Spare');
  [{ id: matrixGroupId }] = await db('groups').insert({ name: 'Matrix group', manager_id: people.approver.id }).returning('id');

  await createApprovalRule(db, { stepOrder: 1, name: 'Manager', approverKind: 'manager' });
  await createApprovalRule(db, { process: 'procurement', stepOrder: 1, name: 'Manager', approverKind: 'manager' });
  const ci = await createCi(db);
  const change = await call(stack, people.requester.apiKey, 'POST', '/changes', { type: 'normal', title: 'Upgrade the VPN concentrators', affectedCiIds: [ci.id] });
  expect(change.status).toBe(201);
  const [{ id: costCentreId }] = await db('cost_centres').insert({ code: 'CC-MATRIX', name: 'Matrix team', owner_id: people.approver.id }).returning('id');
  await db('budgets').insert({ cost_centre_id: costCentreId, period_start: `${new Date().toISOString().slice(0, 7)}-01`, amount_minor: 5_000_000, currency: 'EUR' });
  const [{ id: vendorId }] = await db('vendors').insert({ name: 'Matrix Supplies', contact_email: 'orders@matrix.example' }).returning('id');
  const modelId = await createHardwareModel(db, { vendor_id: vendorId, list_price_minor: 90_000 });
  const purchase = await call(stack, people.requester.apiKey, 'POST', '/purchase-requests', {
    costCentre: 'CC-MATRIX', justification: 'A laptop for the new analyst', lines: [{ hardwareModelId: modelId, quantity: 1 }],
  });
  expect(purchase.status).toBe(201);
  const mail = await stack.sink.waitFor((m) => m.to.includes(people.approver.email) && m.subject.includes(change.body.number));
  const link = new URL(/(https?:\/\/\S+\/approvals\/[0-9a-f-]+\?token=\S+)/.exec(mail.text)![1]);
  await eventually(async () => (await db('approvals').where({ subject_id: purchase.body.id, approver_id: people.approver.id }).first('id')) as unknown);
  Object.assign(fixture, {
    change: change.body,
    purchase: purchase.body,
    approvalId: link.pathname.split('/').pop(),
    linkQuery: link.search,
    assets: {} as Record<Caller, string>,
  });
  for (const role of ROLES) fixture.assets[role] = (await createAsset(db, { state: 'in_use', assignedToId: people[role].id })).id;
  fixture.assets.anonymous = fixture.assets.requester;

  mailboxDir = fs.mkdtempSync(path.join(os.tmpdir(), 'assetflow-matrix-mail-'));
  api = await startExtraApi(stack, {
    poolSize: 4,
    mailboxDir,
    rateLimits: { authFailures: { points: 1000, windowMs: 60_000 }, linkDecisions: { points: 1000, windowMs: 60_000 } },
  });
  api.db.on('query', (query: { sql: string }) => {
    if (writes && !/^\s*(select|with\b[^;]*\bselect\b(?![^;]*\b(insert|update|delete)\b))/i.test(query.sql)) writes.push(query.sql);
  });
  baseUrl = api.baseUrl;
  for (const role of ROLES) sessions[role] = await signedIn(people[role]);
});

afterAll(async () => {
  await api?.stop();
  await stack?.stop();
  if (mailboxDir) fs.rmSync(mailboxDir, { recursive: true, force: true });
});

async function signedIn(person: TestPerson): Promise<{ agent: WebAgent; csrf: string }> {
  const agent = webAgent(baseUrl);
  expect((await signInWithKey(agent, person.apiKey)).status).toBe(303);
  return { agent, csrf: hiddenCsrf((await browse(agent, 'GET', '/ui/my-requests')).html)! };
}

// --- what the app mounts ------------------------------------------------------------------------

interface Layer {
  route?: { path: string; methods: Record<string, boolean> };
  handle?: { stack?: Layer[] };
  rawPath?: unknown;
}

/** Every route and mounted handler of the app, as "METHOD /path" ("USE /path" for a mounted handler such as Swagger UI). */
function mountedRoutes(target: Express): Set<string> {
  const found = new Set<string>();
  const walk = (layers: Layer[], prefix: string) => {
    for (const layer of layers) {
      const mount = typeof layer.rawPath === 'string' && layer.rawPath !== '/' ? layer.rawPath : '';
      if (layer.route) {
        for (const method of Object.keys(layer.route.methods)) found.add(`${method.toUpperCase()} ${normalise(prefix + layer.route.path)}`);
      } else if (layer.handle?.stack) {
        walk(layer.handle.stack, prefix + mount);
      } else if (mount) {
        found.add(`USE ${prefix}${mount}`);
      }
    }
  };
  walk((target as unknown as { router: { stack: Layer[] } }).router.stack, '');
  return found;
}

const normalise = (p: string) => (p.length > 1 ? p.replace(/\/$/, '') : p);

function declaredRoutes(table: AccessTable): Set<string> {
  return new Set([
    ...table.api.map((r) => `${r.method.toUpperCase()} ${r.path}`),
    ...table.web.map((r) => `${r.method.toUpperCase()} ${normalise(r.path)}`),
    ...table.pages.map((r) => `${r.method.toUpperCase()} ${r.path}`),
  ]);
}

// --- the calls ----------------------------------------------------------------------------------

/** The value a path parameter takes: data the caller may see, so that an allowed call reaches its handler. */
function paramValue(route: string, name: string, caller: Caller): string {
  const byName: Record<string, string> = { approvalId: fixture.approvalId, workflowId: fixture.change.workflowId };
  if (byName[name]) return byName[name];
  if (name === 'code' && route.startsWith('/cost-centres/')) return 'CC-MATRIX';
  // Master data and settings: no such record, so an allowed caller reaches the lookup (404) or is
  // refused by the body or the missing If-Match (400, 428), and nothing is written.
  const byParam: Record<string, string> = { ref: 'NO-SUCH-REF', kind: 'cost-centres', process: 'change', state: 'assess', number: 'RCN9999999', objective: 'apo05' };
  // The inventory rule and source pages: a real class and source, so an allowed caller reaches the form's check (400, no version).
  if (route.startsWith('/ui/inventory/') && (name === 'ciClass' || name === 'name')) return name === 'ciClass' ? 'server' : 'discovery';
  // The inventory API's rules and sources: real ones, so an allowed caller reaches the body's check or the missing If-Match (400, 428).
  const inventoryParams: Record<string, string> = { ciClass: 'server', attribute: 'location', name: 'discovery' };
  if (route.startsWith('/inventory/') && inventoryParams[name]) return inventoryParams[name];
  if (byParam[name]) return byParam[name];
  // The cost allocation: no such month (400) and no such rule (400 for the body, 428 without If-Match), so nothing runs or is written.
  if (route.includes('/finops/allocation') && (name === 'period' || name === 'name')) return name === 'period' ? 'not-a-month' : 'no-such-rule';
  if (name === 'id') {
    const byPrefix: [string, string][] = [
      ['/assets/', fixture.assets[caller]],
      ['/ui/assets/', fixture.assets[caller]],
      ['/changes/', fixture.change.number],
      ['/ui/changes/', fixture.change.number],
      ['/purchase-requests/', fixture.purchase.number],
      ['/ui/purchase-requests/', fixture.purchase.number],
      // No such order: an allowed receiver reaches the lookup (404) and records nothing.
      ['/ui/purchase-orders/', 'PO0000001'],
      // Receipts and cancellations are refused by their body (400) before the order is looked up.
      ['/purchase-orders/', 'PO0000001'],
      // No such delegation: an allowed caller reaches the lookup (404) and ends nobody's delegation.
      ['/delegations/', '00000000-0000-4000-8000-000000000000'],
      // A person nobody depends on: writes are refused by their body (400), so nobody is deactivated.
      ['/people/', spare.id],
      ['/ui/people/', spare.id],
      ['/groups/', matrixGroupId],
      ['/ui/groups/', matrixGroupId],
      // No such key: an allowed caller reaches the lookup (404) and revokes nothing.
      ['/api-keys/', '00000000-0000-4000-8000-000000000000'],
      ['/ui/api-keys/', '00000000-0000-4000-8000-000000000000'],
      // Read-only: a nonexistent id, which an allowed caller gets 404 for.
      ['/vendors/', '00000000-0000-4000-8000-000000000000'],
      ['/catalogue/', '00000000-0000-4000-8000-000000000000'],
      ...['/imports/', '/ui/imports/', '/ui/inventory/', '/inventory/', '/approval-rules/', '/ui/configuration/', '/change-models/', '/schedule-windows/']
        .map((prefix): [string, string] => [prefix, '00000000-0000-4000-8000-000000000000']),
    ];
    const match = byPrefix.find(([prefix]) => route.startsWith(prefix));
    if (match) return match[1];
  }
  throw new Error(`the matrix has no value for :${name} in ${route}: add one to paramValue`);
}

const fill = (route: string, caller: Caller) => route.replace(/:(\w+)/g, (_m, name: string) => encodeURIComponent(paramValue(route, name, caller)));

/** What a declared access lets this caller do. */
function expectedFor(access: unknown, caller: Caller, web: boolean): Expected {
  if (access === 'public') return 'allowed';
  if (caller === 'anonymous') return web ? 'sign_in' : 'unauthenticated';
  if (access === 'authenticated' || access === 'signed_in') return 'allowed';
  if (Array.isArray(access)) return access.includes(caller) ? 'allowed' : 'forbidden';
  throw new Error(`no valid access declared: ${JSON.stringify(access)}`);
}

interface Outcome {
  route: string;
  caller: Caller;
  sent: string;
  status: number;
  expected: Expected;
  ok: boolean;
  note: string;
}

function judge(expected: Expected, status: number, detail: { code?: string; location?: string | null }): { ok: boolean; note: string } {
  switch (expected) {
    case 'allowed':
      return { ok: status !== 401 && status !== 403 && status < 500 && !detail.location?.startsWith('/ui/sign-in?next='), note: 'past access' };
    case 'unauthenticated':
      return { ok: status === 401 && detail.code === 'unauthenticated', note: '401 unauthenticated' };
    case 'forbidden':
      return { ok: status === 403 && (detail.code === undefined || detail.code === 'forbidden'), note: '403' };
    case 'sign_in':
      return { ok: status === 303 && !!detail.location?.startsWith('/ui/sign-in'), note: '303 to sign-in' };
  }
}

async function callApi(method: string, route: string, caller: Caller): Promise<{ sent: string; status: number; code?: string; location?: string | null }> {
  const query = method === 'GET' && route === '/approvals/:approvalId' ? fixture.linkQuery : '';
  const url = `${fill(route, caller)}${query}`;
  const key = caller === 'anonymous' ? undefined : people[caller].apiKey;
  const res = await fetch(`${baseUrl}${url}`, {
    method,
    redirect: 'manual',
    headers: { ...(key ? { authorization: `Bearer ${key}` } : {}), ...(method !== 'GET' ? { 'content-type': 'application/json' } : {}) },
    body: method !== 'GET' ? '[]' : undefined,
  });
  const text = await res.text();
  let code: string | undefined;
  try {
    code = (JSON.parse(text) as { error?: { code?: string } }).error?.code;
  } catch {
    code = undefined;
  }
  const shown = `${method} ${url.replace(/\?.*/, '')}${query ? '?token=…' : ''}${method !== 'GET' ? ' body []' : ''}${key ? ` as ${caller}'s key` : ' without key'}`;
  return { sent: shown, status: res.status, code, location: res.headers.get('location') };
}

async function callWeb(method: string, route: string, caller: Caller): Promise<{ sent: string; status: number; location?: string | null; afterCheck?: () => Promise<boolean> }> {
  const target = method === 'USE' ? `${route}/` : fill(route, caller);
  if (method === 'POST' && route === '/ui/sign-in') {
    const person = caller === 'anonymous' ? spare : people[caller];
    const res = await signInWithKey(webAgent(baseUrl), person.apiKey);
    return { sent: `POST ${target} with a fresh sign-in form and ${caller === 'anonymous' ? 'a key' : `${caller}'s key`}`, status: res.status, location: res.location };
  }
  if (method === 'POST' && route === '/ui/sign-out' && caller !== 'anonymous') {
    // A session of its own, so that signing out leaves the caller's other calls signed in.
    const own = await signedIn(people[caller]);
    const before = Number((await stack.database.db('web_sessions').where({ person_id: people[caller].id }).count({ n: '*' }))[0].n);
    const res = await browse(own.agent, 'POST', target, { csrf: own.csrf });
    const afterCheck = async () => Number((await stack.database.db('web_sessions').where({ person_id: people[caller].id }).count({ n: '*' }))[0].n) === before - 1;
    return { sent: `POST ${target} with a fresh session and its CSRF token`, status: res.status, location: res.location, afterCheck };
  }
  const agent = caller === 'anonymous' ? webAgent(baseUrl) : sessions[caller].agent;
  const form = method === 'POST' ? { csrf: caller === 'anonymous' ? 'none' : sessions[caller].csrf } : undefined;
  const res = await browse(agent, method === 'USE' ? 'GET' : method, target, form);
  const sent = `${method === 'USE' ? 'GET' : method} ${target}${form ? ' form {csrf}' : ''}${caller === 'anonymous' ? ' without session' : ` in ${caller}'s session`}`;
  return { sent, status: res.status, location: res.location };
}

// --- the suite ----------------------------------------------------------------------------------

it('declares an access for every route the app mounts, and mounts every route it declares', () => {
  const table = accessTableOf(api.app);
  const valid = (access: unknown) => access === 'public' || access === 'authenticated' || access === 'signed_in'
    || (Array.isArray(access) && access.length > 0 && access.every((role) => (ROLES as readonly unknown[]).includes(role)));
  expect([...table.api, ...table.web].filter((route) => !valid(route.access)).map((route) => `${route.method} ${route.path}`)).toEqual([]);
  const mounted = mountedRoutes(api.app);
  const declared = declaredRoutes(table);
  expect([...mounted].filter((r) => !declared.has(r)).sort()).toEqual([]);
  expect([...declared].filter((r) => !mounted.has(r)).sort()).toEqual([]);
  expect(mounted.has('GET /dev/mail')).toBe(true);
  expect(mounted.has('GET /ui/inbox')).toBe(true);
});

it('answers every route as its declared access says, for anonymous callers and every role, and refused calls write nothing', async () => {
  const table = accessTableOf(api.app);
  const outcomes: Outcome[] = [];
  const entries: { method: string; path: string; access: unknown; web: boolean }[] = [
    ...table.api.map((r) => ({ method: r.method.toUpperCase(), path: r.path, access: r.access, web: false })),
    ...table.web.map((r) => ({ method: r.method.toUpperCase(), path: r.path, access: r.access, web: true })),
    ...table.pages.map((r) => ({ method: r.method.toUpperCase(), path: r.path, access: 'public', web: true })),
  ];
  for (const entry of entries) {
    for (const caller of CALLERS) {
      const expected = expectedFor(entry.access, caller, entry.web);
      writes = expected === 'allowed' ? undefined : [];
      const answer = entry.web ? await callWeb(entry.method, entry.path, caller) : await callApi(entry.method, entry.path, caller);
      const verdict = judge(expected, answer.status, answer);
      let ok = verdict.ok && (!('afterCheck' in answer) || !answer.afterCheck || (await answer.afterCheck()));
      let note = verdict.note;
      if (writes && writes.length) {
        ok = false;
        note = `wrote: ${writes.join(' | ')}`;
      }
      writes = undefined;
      outcomes.push({ route: `${entry.method} ${entry.path}`, caller, sent: answer.sent, status: answer.status, expected, ok, note });
    }
  }

  const lines = outcomes.map((o) => `${o.ok ? 'ok  ' : 'FAIL'} ${o.route.padEnd(58)} ${o.caller.padEnd(13)} ${String(o.status).padEnd(4)} expected ${o.expected.padEnd(15)} checked ${o.note}; sent ${o.sent}`);
  const count = (expected: Expected) => outcomes.filter((o) => o.expected === expected).length;
  lines.push(
    '',
    `${entries.length} routes x ${CALLERS.length} callers = ${outcomes.length} calls: ${count('allowed')} allowed, ${count('unauthenticated')} refused 401, ` +
      `${count('sign_in')} sent to sign in, ${count('forbidden')} refused 403; ${outcomes.filter((o) => !o.ok).length} failed`,
  );
  process.stdout.write(`\nAuthorisation matrix\n${lines.join('\n')}\n`);

  expect(outcomes.filter((o) => !o.ok)).toEqual([]);
  expect(count('allowed')).toBeGreaterThan(0);
  expect(count('forbidden')).toBeGreaterThan(0);
  expect(count('unauthenticated')).toBeGreaterThan(0);
});
