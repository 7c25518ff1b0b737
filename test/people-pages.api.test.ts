/**
 * People and groups through the web UI, as an admin: the forms create and edit them with the same
 * rules and writes as the API (audited, versioned); an edit made on a version someone else has
 * changed since is refused with 412, shows the current values and writes nothing. Other roles get 403.
 */
import { randomBytes } from 'node:crypto';
import { createCostCentre, createPerson, type TestPerson } from './support/fixtures';
import { startStack, type Stack } from './support/stack';
import { browse, hiddenCsrf, signInWithKey, webAgent, type WebAgent, type WebAnswer } from './support/web-agent';

let stack: Stack;
let admin: TestPerson;
let approver: TestPerson;
let adminAgent: WebAgent;
let csrf: string;

beforeAll(async () => {
  stack = await startStack({ worker: false });
  const db = stack.database.db;
  admin = await createPerson(db, ['admin'], 'Ada Admin');
  approver = await createPerson(db, ['approver'], 'Alma Approver');
  await createCostCentre(db, 'CC-WEB', 'Web team', null);
  adminAgent = webAgent(stack.baseUrl);
  expect((await signInWithKey(adminAgent, admin.apiKey)).status).toBe(303);
  csrf = hiddenCsrf((await browse(adminAgent, 'GET', '/ui/people')).html)!;
});

afterAll(async () => {
  await stack?.stop();
});

const unique = () => randomBytes(3).toString('hex');

/** Posts a form whose fields may repeat (checkboxes), as a browser does, with the agent's cookies. */
async function postForm(agent: WebAgent, path: string, fields: [string, string][]): Promise<WebAnswer> {
  const res = await fetch(`${agent.baseUrl}${path}`, {
    method: 'POST',
    redirect: 'manual',
    headers: { cookie: [...agent.cookies].map(([k, v]) => `${k}=${v}`).join('; '), 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams(fields).toString(),
  });
  return { status: res.status, location: res.headers.get('location'), setCookies: res.headers.getSetCookie(), headers: res.headers, html: await res.text() };
}

async function counts() {
  const db = stack.database.db;
  const count = async (table: string) => Number((await db(table).count({ n: '*' }))[0].n);
  return {
    people: await count('people'),
    groups: await count('groups'),
    memberships: await count('group_members'),
    roles: await count('person_roles'),
    audit: await count('audit_log'),
    versions: (await db('people').orderBy('id').select('id', 'version')).map((r) => `${r.id}:${r.version}`).join(','),
    groupVersions: (await db('groups').orderBy('id').select('id', 'version', 'active')).map((r) => `${r.id}:${r.version}:${r.active}`).join(','),
  };
}

const inputValue = (html: string, name: string) => new RegExp(`name="${name}"[^>]*value="([^"]*)"`).exec(html)?.[1];

it('creates a person with the form, edits them, and refuses a stale edit with 412 showing the current values', async () => {
  const db = stack.database.db;
  const [{ id: groupId }] = await db('groups').insert({ name: `Web CAB ${unique()}` }).returning('id');
  const group = await db('groups').where({ id: groupId }).first('name');
  const email = `wendy.${unique()}@assetflow.test`;

  const form = await browse(adminAgent, 'GET', '/ui/people/new');
  expect(form.status).toBe(200);
  expect(form.html).toContain(`value="${group.name}"`);
  const created = await postForm(adminAgent, '/ui/people', [
    ['csrf', csrf], ['email', email.toUpperCase()], ['name', 'Wendy <Web>'], ['title', 'Analyst'], ['location', ''],
    ['managerEmail', approver.email], ['costCentre', 'CC-WEB'], ['groups', group.name], ['roles', 'requester'], ['roles', 'approver'],
  ]);
  expect(created.status).toBe(303);
  const [, personId] = /^\/ui\/people\/([0-9a-f-]{36})\?done=created$/.exec(created.location!)!;
  const row = await db('people').where({ id: personId }).first();
  expect(row).toMatchObject({ email, name: 'Wendy <Web>', title: 'Analyst', location: null, manager_id: approver.id, version: 1 });
  expect((await db('person_roles').where({ person_id: personId }).orderBy('role').select('role', 'granted_by'))).toEqual([
    { role: 'approver', granted_by: 'admin' }, { role: 'requester', granted_by: 'admin' },
  ]);
  expect(await db('group_members').where({ person_id: personId }).pluck('group_id')).toEqual([groupId]);
  expect(await db('audit_log').where({ subject_id: personId }).pluck('action')).toEqual(['person_created']);

  const detail = await browse(adminAgent, 'GET', created.location!);
  expect(detail.status).toBe(200);
  expect(detail.html).toContain('The person is added.');
  expect(detail.html).toContain('<h1>Wendy &lt;Web&gt;</h1>');
  expect(inputValue(detail.html, 'version')).toBe('1');

  const edit = (version: string, title: string) => postForm(adminAgent, `/ui/people/${personId}`, [
    ['csrf', csrf], ['version', version], ['email', email], ['name', 'Wendy Web'], ['title', title], ['location', 'Utrecht'],
    ['managerEmail', ''], ['costCentre', 'CC-WEB'], ['roles', 'approver'],
  ]);
  const saved = await edit('1', 'Lead analyst');
  expect(saved).toMatchObject({ status: 303, location: `/ui/people/${personId}?done=saved` });
  expect(await db('people').where({ id: personId }).first()).toMatchObject({ name: 'Wendy Web', title: 'Lead analyst', location: 'Utrecht', manager_id: null, version: 2 });
  expect(await db('person_roles').where({ person_id: personId }).pluck('role')).toEqual(['approver']);
  expect(await db('group_members').where({ person_id: personId }).pluck('group_id')).toEqual([]);
  const updated = await db('audit_log').where({ subject_id: personId, action: 'person_updated' }).first('actor', 'details');
  expect(updated.actor).toBe(admin.email);
  expect(updated.details.before).toMatchObject({ title: 'Analyst', managerEmail: approver.email, location: null });
  expect(updated.details.after).toMatchObject({ title: 'Lead analyst', managerEmail: null, location: 'Utrecht' });

  const before = await counts();
  const stale = await edit('1', 'Overwritten');
  expect(stale.status).toBe(412);
  expect(stale.html).toContain('Someone else changed this person while you were editing (it is now at version 2), so nothing was saved.');
  expect(inputValue(stale.html, 'title')).toBe('Lead analyst');
  expect(inputValue(stale.html, 'version')).toBe('2');
  expect(await counts()).toEqual(before);
});

it('shows refusals next to the form with their status and writes nothing', async () => {
  const taken = await createPerson(stack.database.db, [], 'Tess Taken');
  const before = await counts();

  const badEmail = await postForm(adminAgent, '/ui/people', [['csrf', csrf], ['email', 'not-an-email'], ['name', 'Nell']]);
  expect(badEmail.status).toBe(400);
  expect(badEmail.html).toContain('Nothing was saved. email: not an email address');
  expect(inputValue(badEmail.html, 'name')).toBe('Nell');

  const duplicate = await postForm(adminAgent, '/ui/people', [['csrf', csrf], ['email', taken.email.toUpperCase()], ['name', 'Twin']]);
  expect(duplicate.status).toBe(409);
  expect(duplicate.html).toContain(`another person already has the email ${taken.email}`);

  const unknownGroup = await postForm(adminAgent, '/ui/people', [['csrf', csrf], ['email', `g.${unique()}@assetflow.test`], ['name', 'Gil'], ['groups', 'No Such Group']]);
  expect(unknownGroup.status).toBe(400);
  expect(unknownGroup.html).toContain('groups.0: no group &quot;No Such Group&quot;');

  const noVersion = await postForm(adminAgent, `/ui/people/${taken.id}`, [['csrf', csrf], ['email', taken.email], ['name', 'Renamed']]);
  expect(noVersion.status).toBe(400);
  const unconfirmed = await postForm(adminAgent, `/ui/people/${taken.id}/deactivate`, [['csrf', csrf], ['version', '1']]);
  expect(unconfirmed.status).toBe(400);
  expect((await postForm(adminAgent, `/ui/people/${taken.id}/reactivate`, [['csrf', csrf]])).status).toBe(400);
  expect((await browse(adminAgent, 'GET', '/ui/people/00000000-0000-4000-8000-000000000000')).status).toBe(404);

  expect(await counts()).toEqual(before);
});

it('creates and edits a group with the form; a stale edit is refused with 412', async () => {
  const db = stack.database.db;
  const name = `Security ${unique()}`;
  const created = await postForm(adminAgent, '/ui/groups', [
    ['csrf', csrf], ['name', name], ['description', 'Reviews new vendors'], ['email', ''], ['managerEmail', admin.email], ['members', `${approver.email}\n${admin.email.toUpperCase()}`],
  ]);
  expect(created.status).toBe(303);
  const [, groupId] = /^\/ui\/groups\/([0-9a-f-]{36})\?done=created$/.exec(created.location!)!;
  expect((await db('group_members').where({ group_id: groupId }).pluck('person_id')).sort()).toEqual([admin.id, approver.id].sort());

  const list = await browse(adminAgent, 'GET', `/ui/groups?q=${encodeURIComponent(name)}`);
  expect(list.status).toBe(200);
  expect(list.html).toContain(`<a href="/ui/groups/${groupId}">${name}</a>`);

  // The active box left unticked: the group is deactivated and keeps its members.
  const edit = (version: string, description: string) => postForm(adminAgent, `/ui/groups/${groupId}`, [
    ['csrf', csrf], ['version', version], ['name', name], ['description', description], ['email', ''], ['managerEmail', ''], ['members', approver.email],
  ]);
  expect(await edit('1', 'Reviews vendors and keys')).toMatchObject({ status: 303, location: `/ui/groups/${groupId}?done=saved` });
  expect(await db('groups').where({ id: groupId }).first()).toMatchObject({ active: false, version: 2, manager_id: null, description: 'Reviews vendors and keys' });
  expect(await db('group_members').where({ group_id: groupId }).pluck('person_id')).toEqual([approver.id]);
  expect(await db('audit_log').where({ subject_id: groupId }).orderBy('id').pluck('action')).toEqual(['group_created', 'group_updated']);

  const before = await counts();
  const stale = await edit('1', 'Overwritten');
  expect(stale.status).toBe(412);
  expect(stale.html).toContain('Someone else changed this group while you were editing');
  expect(stale.html).toContain('Reviews vendors and keys</textarea>');
  expect(await counts()).toEqual(before);
});

it('lists people with a search, and is for admins only: others get 403 and write nothing', async () => {
  const list = await browse(adminAgent, 'GET', `/ui/people?q=${encodeURIComponent('Alma')}&active=true`);
  expect(list.status).toBe(200);
  expect(list.html).toContain(`<a href="/ui/people/${approver.id}">Alma Approver</a>`);
  expect(list.html).not.toContain('Ada Admin</a></th>');

  const other = webAgent(stack.baseUrl);
  expect((await signInWithKey(other, approver.apiKey)).status).toBe(303);
  const otherCsrf = hiddenCsrf((await browse(other, 'GET', '/ui/my-requests')).html)!;
  for (const path of ['/ui/people', '/ui/people/new', `/ui/people/${admin.id}`, '/ui/groups']) {
    expect({ path, status: (await browse(other, 'GET', path)).status }).toEqual({ path, status: 403 });
  }
  const before = await counts();
  const refused = await postForm(other, '/ui/people', [['csrf', otherCsrf], ['email', `s.${unique()}@assetflow.test`], ['name', 'Sneaky'], ['roles', 'admin']]);
  expect(refused.status).toBe(403);
  expect(await counts()).toEqual(before);
});
