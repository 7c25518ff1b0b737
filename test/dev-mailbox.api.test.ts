/**
 * The local mail sink's pages (/dev/mail, /dev/mail.json), as the embedded demo mounts them: they
 * show every approval link, so only admins see them; a requester must not find the link to
 * approve their own change there.
 */
import { createApprovalRule, createCi, createPerson, eventually, type TestPerson } from './support/fixtures';
import { call, startStack, type Stack } from './support/stack';

let stack: Stack;
let admin: TestPerson;
let manager: TestPerson;
let requester: TestPerson;
let changeNumber: string;

beforeAll(async () => {
  stack = await startStack({ mailbox: true });
  const db = stack.database.db;
  admin = await createPerson(db, ['admin'], 'Ada Admin');
  manager = await createPerson(db, ['approver'], 'Mona Manager');
  requester = await createPerson(db, ['requester'], 'Rita Requester', { managerId: manager.id });
  await createApprovalRule(db, { stepOrder: 1, name: 'Manager', approverKind: 'manager' });
  const server = await createCi(db, { name: 'srv-mail-01', ciClass: 'server' });
  const created = await call(stack, requester.apiKey, 'POST', '/changes', {
    type: 'normal', title: 'Patch the mail relay', description: 'Kernel update.', affectedCiIds: [server.id],
  });
  expect(created.status).toBe(201);
  changeNumber = created.body.number;
  await stack.sink.waitFor((m) => m.to.includes(manager.email) && m.subject.includes(changeNumber));
});

afterAll(async () => {
  await stack?.stop();
});

interface Agent {
  cookies: Map<string, string>;
}

async function request(agent: Agent | undefined, path: string, options: { apiKey?: string; form?: Record<string, string> } = {}) {
  const res = await fetch(`${stack.baseUrl}${path}`, {
    method: options.form ? 'POST' : 'GET',
    redirect: 'manual',
    headers: {
      ...(agent?.cookies.size ? { cookie: [...agent.cookies].map(([k, v]) => `${k}=${v}`).join('; ') } : {}),
      ...(options.apiKey ? { authorization: `Bearer ${options.apiKey}` } : {}),
      ...(options.form ? { 'content-type': 'application/x-www-form-urlencoded' } : {}),
    },
    body: options.form ? new URLSearchParams(options.form).toString() : undefined,
  });
  for (const header of res.headers.getSetCookie()) {
    const [pair] = header.split(';');
    const name = pair.slice(0, pair.indexOf('='));
    if (/Max-Age=0/.test(header)) agent?.cookies.delete(name);
    else agent?.cookies.set(name, pair.slice(pair.indexOf('=') + 1));
  }
  return { status: res.status, location: res.headers.get('location'), body: await res.text() };
}

/** Signs in to the web UI as a browser does: the sign-in form, then its POST with the key. */
async function signedIn(person: TestPerson): Promise<Agent> {
  const agent: Agent = { cookies: new Map() };
  const form = await request(agent, '/ui/sign-in');
  const csrf = /name="csrf" value="([^"]+)"/.exec(form.body)![1];
  const res = await request(agent, '/ui/sign-in', { form: { csrf, apiKey: person.apiKey } });
  expect(res.status).toBe(303);
  expect(agent.cookies.has('af_session')).toBe(true);
  return agent;
}

const NO_LINK = /\/approvals\/[0-9a-f-]{36}\?token=/;

describe('the local mail sink pages', () => {
  it('send a visitor to sign in and refuse anonymous JSON, showing no link', async () => {
    const page = await request(undefined, '/dev/mail');
    expect(page).toMatchObject({ status: 303, location: '/ui/sign-in?next=%2Fdev%2Fmail' });
    const json = await request(undefined, '/dev/mail.json');
    expect(json.status).toBe(401);
    expect(json.body).not.toMatch(NO_LINK);
  });

  it('refuse a requester, by API key and by web session, so the link to approve their own change stays hidden', async () => {
    const json = await request(undefined, '/dev/mail.json', { apiKey: requester.apiKey });
    expect(json.status).toBe(403);
    expect(JSON.parse(json.body).error.code).toBe('forbidden');
    const byKey = await request(undefined, '/dev/mail', { apiKey: requester.apiKey });
    expect(byKey.status).toBe(403);

    const agent = await signedIn(requester);
    const bySession = await request(agent, '/dev/mail');
    expect(bySession.status).toBe(403);
    expect(bySession.body).toContain('admins only');
    for (const answer of [json, byKey, bySession]) expect(answer.body).not.toMatch(NO_LINK);
    const home = await request(agent, '/ui/my-requests');
    expect(home.status).toBe(200);
    expect(home.body).not.toContain('href="/dev/mail"');
  });

  it('refuse a wrong key as on every route', async () => {
    expect((await request(undefined, '/dev/mail', { apiKey: 'af_not-a-key' })).status).toBe(401);
  });

  it('show an admin the messages with their links, by API key and by web session', async () => {
    const json = await request(undefined, '/dev/mail.json?limit=50', { apiKey: admin.apiKey });
    expect(json.status).toBe(200);
    const task = (JSON.parse(json.body).items as { subject: string; to: string[]; text: string }[])
      .find((m) => m.to.includes(manager.email) && m.subject.includes(changeNumber));
    expect(task?.text).toMatch(NO_LINK);

    const agent = await signedIn(admin);
    const page = await eventually(async () => {
      const res = await request(agent, '/dev/mail');
      return res.status === 200 && res.body.includes(changeNumber) ? res : undefined;
    });
    expect(page.body).toMatch(NO_LINK);
    expect((await request(agent, '/ui/my-requests')).body).toContain('href="/dev/mail"');
    expect((await request(undefined, '/dev/mail', { apiKey: admin.apiKey })).status).toBe(200);
  });
});
