/**
 * The web UI over plain HTTP: signing in with a key sets a session cookie (a random id the server
 * keeps hashed); forms without
 * the session's CSRF token change nothing; each person sees only what their role allows.
 */
import { insertApiKey } from '../model/api-keys';
import { createApprovalRule, createCi, createPerson, eventually, type TestPerson } from './support/fixtures';
import { call, startStack, type Stack } from './support/stack';
import { browse, hiddenCsrf, webAgent } from './support/web-agent';

let stack: Stack;
let processOwner: TestPerson;

beforeAll(async () => {
  stack = await startStack({ demoSignIn: true });
  processOwner = await createPerson(stack.database.db, ['process_owner'], 'Otto Owner');
  await createApprovalRule(stack.database.db, { stepOrder: 1, name: 'Manager', approverKind: 'manager' });
});

afterAll(async () => {
  await stack?.stop();
});

const newAgent = () => webAgent(stack.baseUrl);

async function signIn(person: { apiKey: string }, next = '') {
  const agent = newAgent();
  const form = await browse(agent, 'GET', `/ui/sign-in${next ? `?next=${encodeURIComponent(next)}` : ''}`);
  const res = await browse(agent, 'POST', '/ui/sign-in', { csrf: hiddenCsrf(form.html)!, apiKey: person.apiKey, next });
  return { agent, res };
}

async function waitingChange(names: { manager: string; requester: string }) {
  const db = stack.database.db;
  const manager = await createPerson(db, ['approver'], names.manager);
  const requester = await createPerson(db, ['requester'], names.requester, { managerId: manager.id });
  const ci = await createCi(db, { ciClass: 'server' });
  const { body: change } = await call(stack, requester.apiKey, 'POST', '/changes', { type: 'normal', title: 'Rotate the TLS certificates', affectedCiIds: [ci.id] });
  await eventually(async () => (await db('processes').where({ workflow_id: change.workflowId }).first())?.waiting_for.length === 1);
  const approval = await db('approvals').where({ subject_id: change.id }).first();
  return { manager, requester, approval, change: change as { id: string; number: string; workflowId: string } };
}

it('signs in with an API key: an HttpOnly, SameSite=Lax session cookie (a random id) for eight hours, then the page asked for', async () => {
  const { agent, res } = await signIn(processOwner, '/ui/processes?state=authorize');

  expect(res.status).toBe(303);
  expect(res.location).toBe('/ui/processes?state=authorize');
  const session = res.setCookies.find((c) => c.startsWith('af_session='))!;
  expect(session).toMatch(/^af_session=[\w-]{43}; Path=\/; HttpOnly; SameSite=Lax; Max-Age=28800$/);
  expect(agent.cookies.has('af_presession')).toBe(false);
  const list = await browse(agent, 'GET', '/ui/processes?state=authorize');
  expect(list.status).toBe(200);
  expect(list.html).toMatch(/Signed in as <a href="\/ui\/profile"[^>]*><strong>Otto Owner<\/strong><\/a>/);
  expect((await browse(agent, 'GET', '/ui')).status).toBe(200);

  const signOut = await browse(agent, 'POST', '/ui/sign-out', { csrf: hiddenCsrf(list.html)! });
  expect(signOut).toMatchObject({ status: 303, location: '/ui/sign-in' });
  expect(agent.cookies.has('af_session')).toBe(false);
});

it('refuses a wrong key, a sign-in form from elsewhere, and a tampered or missing session', async () => {
  const wrong = await signIn({ apiKey: 'af_not-a-key' });
  expect(wrong.res.status).toBe(401);
  expect(wrong.res.html).toContain('That API key is not valid');
  expect(wrong.agent.cookies.has('af_session')).toBe(false);

  // Login CSRF: a form posted from another site has neither our pre-session cookie nor its token.
  const forged = await browse(newAgent(), 'POST', '/ui/sign-in', { apiKey: processOwner.apiKey, csrf: 'guessed' });
  expect(forged.status).toBe(403);
  expect(forged.setCookies.some((c) => c.startsWith('af_session='))).toBe(false);

  const anonymous = await browse(newAgent(), 'GET', '/ui/processes?state=authorize');
  expect(anonymous).toMatchObject({ status: 303, location: '/ui/sign-in?next=%2Fui%2Fprocesses%3Fstate%3Dauthorize' });
  const { agent } = await signIn(processOwner);
  const id = agent.cookies.get('af_session')!;
  agent.cookies.set('af_session', `${id.slice(0, -1)}${id.endsWith('A') ? 'B' : 'A'}`);
  expect((await browse(agent, 'GET', '/ui')).status).toBe(303);

  // After sign-in, only local paths are followed.
  expect((await signIn(processOwner, 'https://evil.example/')).res.location).toBe('/ui');
});

it('answers a POST without the session\'s CSRF token with 403 and changes nothing', async () => {
  const db = stack.database.db;
  const { manager, approval } = await waitingChange({ manager: 'Cass Csrf', requester: 'Rita Requester' });
  const { agent } = await signIn(manager);
  const inbox = await browse(agent, 'GET', '/ui/inbox');
  expect(inbox.html).toContain(`id="approval-${approval.id}"`);
  const other = await signIn(processOwner);
  const otherCsrf = hiddenCsrf((await browse(other.agent, 'GET', '/ui/inbox')).html)!;

  const forms: Record<string, string>[] = [{ decision: 'approved' }, { decision: 'approved', csrf: 'x' }, { decision: 'approved', csrf: otherCsrf }];
  for (const form of forms) {
    const res = await browse(agent, 'POST', `/ui/inbox/${approval.id}`, form);
    expect(res.status).toBe(403);
    expect(res.html).toContain('Nothing was changed');
  }
  const signOut = await browse(agent, 'POST', '/ui/sign-out', {});
  expect(signOut.status).toBe(403);
  expect(agent.cookies.has('af_session')).toBe(true);
  expect(await db('approvals').where({ id: approval.id }).first('state', 'comment', 'decided_at')).toEqual({ state: 'requested', comment: null, decided_at: null });
});

it('shows a refused decision as a message and changes nothing: not your approval', async () => {
  const db = stack.database.db;
  const { approval } = await waitingChange({ manager: 'Mona Manager', requester: 'Rolf Requester' });
  const stranger = await createPerson(db, ['approver'], 'Stan Stranger');
  const { agent } = await signIn(stranger);
  const csrf = hiddenCsrf((await browse(agent, 'GET', '/ui/inbox')).html)!;

  const res = await browse(agent, 'POST', `/ui/inbox/${approval.id}`, { csrf, decision: 'approved', comment: 'sneaky' });

  expect(res.status).toBe(403);
  expect(res.html).toContain('Nothing was changed: this approval is assigned to Mona Manager');
  expect(await db('approvals').where({ id: approval.id }).first('state', 'comment')).toEqual({ state: 'requested', comment: null });
});

it('keeps requesters to their own requests: no dashboard, no one else\'s process', async () => {
  const mine = await waitingChange({ manager: 'Hugo Head', requester: 'Rosa Requester' });
  const theirs = await waitingChange({ manager: 'Ida Head', requester: 'Tom Other' });
  // Sent to the start page, a requester lands on their requests: the dashboard is not for them.
  const { agent, res } = await signIn(mine.requester, '/ui');
  expect(res.location).toBe('/ui/my-requests');

  const dashboard = await browse(agent, 'GET', '/ui');
  expect(dashboard.status).toBe(403);
  expect(dashboard.html).not.toContain('throughput-chart');
  expect((await browse(agent, 'GET', `/ui/processes/${encodeURIComponent(theirs.change.workflowId)}`)).status).toBe(403);
  const own = await browse(agent, 'GET', `/ui/processes/${encodeURIComponent(mine.change.workflowId)}`);
  expect(own.status).toBe(200);
  expect(own.html).toContain('Waiting for: Hugo Head');
  const list = await browse(agent, 'GET', '/ui/processes');
  expect(list.html).toContain(mine.change.number);
  expect(list.html).not.toContain(theirs.change.number);
  const requests = await browse(agent, 'GET', '/ui/my-requests');
  expect(requests.html).toContain(mine.change.number);
  expect(requests.html).not.toContain(theirs.change.number);
  // Asking for what waits for someone else is refused in words, not with their processes.
  const forbidden = await browse(agent, 'GET', `/ui/processes?waitingFor=${theirs.manager.id}`);
  expect(forbidden.status).toBe(403);
  expect(forbidden.html).not.toContain(theirs.change.number);
});

it('lets people of the embedded demo sign in by picking them, and nobody else', async () => {
  const db = stack.database.db;
  const demo = await createPerson(db, ['approver'], 'Dana Demo');
  const login = demo.email.split('@')[0];
  await insertApiKey(db, { personId: demo.id, name: 'demo', apiKey: `af_demo_${login.replace(/\./g, '_')}`, createdBy: 'system:test' });

  const agent = newAgent();
  const form = await browse(agent, 'GET', '/ui/sign-in');
  expect(form.html).toContain(`<option value="${demo.id}">Dana Demo · approver</option>`);
  expect(form.html).not.toContain(processOwner.id);
  const csrf = hiddenCsrf(form.html)!;
  const refused = await browse(agent, 'POST', '/ui/sign-in', { csrf, personId: processOwner.id });
  expect(refused.status).toBe(401);
  expect(agent.cookies.has('af_session')).toBe(false);
  const picked = await browse(agent, 'POST', '/ui/sign-in', { csrf: hiddenCsrf(refused.html)!, personId: demo.id });
  expect(picked).toMatchObject({ status: 303, location: '/ui/inbox' });
  expect((await browse(agent, 'GET', '/ui/inbox')).html).toMatch(/Signed in as <a href="\/ui\/profile"[^>]*><strong>Dana Demo<\/strong><\/a>/);
});
