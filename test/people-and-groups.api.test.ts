/**
 * People and groups through the API, as an admin: created with their manager, cost centre,
 * groups and roles, read back with their version as ETag, updated with If-Match (a stale or
 * missing one is refused), every write audited with the admin and the values before and after.
 * Each refusal answers 4xx and writes nothing: no row, no audit row, no new version.
 */
import { randomBytes } from 'node:crypto';
import { planFromRules } from '../model/approval-rules';
import { insertApiKey } from '../model/api-keys';
import { lockActiveAdmins } from '../model/people';
import { deactivationRefusal } from '../model/person-deactivation';
import { generateApiKey } from '../platform/api-keys';
import { createApprovalRule, createCostCentre, createPerson, type TestPerson } from './support/fixtures';
import { startStack, type Stack } from './support/stack';

let stack: Stack;
let admin: TestPerson;
let requester: TestPerson;
let manager: TestPerson;

beforeAll(async () => {
  stack = await startStack({ worker: false });
  const db = stack.database.db;
  admin = await createPerson(db, ['admin'], 'Ada Admin');
  requester = await createPerson(db, ['requester'], 'Remy Requester');
  manager = await createPerson(db, ['approver'], 'Mona Manager');
  await createCostCentre(db, 'CC-IT', 'IT operations', null);
});

afterAll(async () => {
  await stack?.stop();
});

const unique = () => randomBytes(3).toString('hex');

interface Answer {
  status: number;
  body: any;
  etag: string | null;
  location: string | null;
}

async function send(key: string, method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<Answer> {
  const res = await fetch(`${stack.baseUrl}${path}`, {
    method,
    headers: { authorization: `Bearer ${key}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}), ...headers },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : undefined, etag: res.headers.get('etag'), location: res.headers.get('location') };
}

/** How many rows the writes touch: a refused write must leave every count as it was. */
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
  };
}

const auditOf = (subjectId: string) => stack.database.db('audit_log').where({ subject_id: subjectId }).orderBy('id').select('actor', 'subject_type', 'action', 'details');

async function newGroup(name = `Group ${unique()}`, members: string[] = []) {
  const created = await send(admin.apiKey, 'POST', '/groups', { name, members });
  expect(created.status).toBe(201);
  return created.body as { id: string; name: string; version: number };
}

async function newPerson(extra: Record<string, unknown> = {}) {
  const created = await send(admin.apiKey, 'POST', '/people', { email: `p.${unique()}@assetflow.test`, name: `Pat ${unique()}`, ...extra });
  expect(created.status).toBe(201);
  return created.body as { id: string; email: string; name: string; version: number };
}

describe('an admin creates and updates people and groups', () => {
  it('creates groups and a person with manager, cost centre, groups and roles; reads them back with their version as ETag', async () => {
    const cab = await send(admin.apiKey, 'POST', '/groups', { name: 'Change Advisory Board', description: 'Decides normal changes', email: 'CAB@Assetflow.test', members: [manager.email] });
    expect(cab.status).toBe(201);
    expect(cab.etag).toBe('"1"');
    expect(cab.location).toBe(`/groups/${cab.body.id}`);
    expect(cab.body).toMatchObject({ name: 'Change Advisory Board', email: 'cab@assetflow.test', active: true, version: 1, members: [{ id: manager.id, email: manager.email }] });
    const finance = await newGroup('Finance team');

    const created = await send(admin.apiKey, 'POST', '/people', {
      email: '  Nora.North@Assetflow.TEST ',
      name: 'Nora North',
      title: 'Analyst',
      managerEmail: manager.email.toUpperCase(),
      costCentre: 'CC-IT',
      groups: ['change advisory board', 'FINANCE TEAM'],
      roles: ['requester', 'approver'],
    });
    expect(created.status).toBe(201);
    expect(created.etag).toBe('"1"');
    expect(created.location).toBe(`/people/${created.body.id}`);

    const read = await send(requester.apiKey, 'GET', created.location!);
    expect(read.status).toBe(200);
    expect(read.etag).toBe('"1"');
    expect(read.body).toEqual({
      id: created.body.id,
      email: 'nora.north@assetflow.test',
      name: 'Nora North',
      title: 'Analyst',
      location: null,
      active: true,
      version: 1,
      manager: { id: manager.id, name: manager.name, email: manager.email },
      costCentre: { code: 'CC-IT', name: 'IT operations' },
      timeZone: null,
      roles: ['approver', 'requester'],
      roleGrants: [{ role: 'approver', grantedBy: 'admin' }, { role: 'requester', grantedBy: 'admin' }],
      groups: [{ id: cab.body.id, name: 'Change Advisory Board' }, { id: finance.id, name: 'Finance team' }],
      createdAt: expect.any(String),
      updatedAt: expect.any(String),
      deactivatedAt: null,
    });
    expect(await auditOf(created.body.id)).toEqual([{
      actor: admin.email,
      subject_type: 'person',
      action: 'person_created',
      details: { after: expect.objectContaining({ email: 'nora.north@assetflow.test', managerEmail: manager.email, costCentre: 'CC-IT', groups: ['Change Advisory Board', 'Finance team'] }) },
    }]);
    expect(await auditOf(cab.body.id)).toEqual([expect.objectContaining({ actor: admin.email, subject_type: 'group', action: 'group_created' })]);

    const members = await send(requester.apiKey, 'GET', '/people?group=finance%20team&active=true');
    expect(members.status).toBe(200);
    expect(members.body.items.map((p: { id: string }) => p.id)).toEqual([created.body.id]);
    const groups = await send(requester.apiKey, 'GET', '/groups?q=advisory');
    expect(groups.body).toMatchObject({ items: [{ id: cab.body.id, memberCount: 2, active: true }], page: { total: 1 } });
  });

  it('updates a person with If-Match: a new version, the audit row has before and after and the admin, and new roles work at once', async () => {
    const person = await newPerson({ roles: ['requester'] });
    const apiKey = generateApiKey();
    await insertApiKey(stack.database.db, { personId: person.id, name: 'test', apiKey, createdBy: 'system:test' });
    expect((await send(apiKey, 'GET', '/entitlements')).status).toBe(403);

    const updated = await send(admin.apiKey, 'PATCH', `/people/${person.id}`, { title: 'Asset manager', roles: ['requester', 'asset_manager'] }, { 'if-match': '"1"' });
    expect(updated.status).toBe(200);
    expect(updated.etag).toBe('"2"');
    expect(updated.body).toMatchObject({ version: 2, title: 'Asset manager', roles: ['asset_manager', 'requester'] });
    expect(Date.parse(updated.body.updatedAt)).toBeGreaterThanOrEqual(Date.parse(updated.body.createdAt));
    expect((await send(apiKey, 'GET', '/entitlements')).status).toBe(200);

    const audit = await auditOf(person.id);
    expect(audit).toHaveLength(2);
    expect(audit[1]).toEqual({
      actor: admin.email,
      subject_type: 'person',
      action: 'person_updated',
      details: {
        before: { title: null, roleGrants: [{ role: 'requester', grantedBy: 'admin' }] },
        after: { title: 'Asset manager', roleGrants: [{ role: 'asset_manager', grantedBy: 'admin' }, { role: 'requester', grantedBy: 'admin' }] },
      },
    });
  });

  it('replaces groups, clears the manager and the cost centre with null, and keeps roles granted by single sign-on', async () => {
    const db = stack.database.db;
    const first = await newGroup();
    const second = await newGroup();
    const person = await newPerson({ managerEmail: manager.email, costCentre: 'CC-IT', groups: [first.name], roles: ['requester'] });
    await db('person_roles').insert({ person_id: person.id, role: 'approver', granted_by: 'sso' });

    const updated = await send(admin.apiKey, 'PATCH', `/people/${person.id}`, { managerEmail: null, costCentre: null, groups: [second.name], roles: [] }, { 'if-match': '"1"' });
    expect(updated.status).toBe(200);
    expect(updated.body).toMatchObject({ manager: null, costCentre: null, groups: [{ id: second.id }], roleGrants: [{ role: 'approver', grantedBy: 'sso' }] });
  });

  it('answers an update that changes nothing with the person as they are: no new version, no audit row', async () => {
    const person = await newPerson({ title: 'Engineer', roles: ['requester'] });
    const before = await counts();
    const same = await send(admin.apiKey, 'PATCH', `/people/${person.id}`, { title: 'Engineer', roles: ['requester'], email: person.email.toUpperCase() }, { 'if-match': '"1"' });
    expect(same.status).toBe(200);
    expect(same.etag).toBe('"1"');
    expect(await counts()).toEqual(before);
  });

  it('updates a group with If-Match; a deactivated group keeps its members, and approval rules pointing at it find nobody', async () => {
    const db = stack.database.db;
    const member = await createPerson(db, ['approver'], 'Gus Groupie');
    const group = await newGroup(`Security ${unique()}`, [member.email]);
    const ruleId = await createApprovalRule(db, { process: 'procurement', stepOrder: 1, name: `Security ${unique()}`, approverKind: 'group', groupId: group.id });
    const approversOfPlan = async () => (await planFromRules(db, 'procurement', { costMinor: 100 }, {
      requesterId: requester.id, managerId: null, costCentreOwnerId: null, assetOwnerIds: [], serviceOwnerIds: [],
    })).plan.find((step) => step.ruleId === ruleId)?.approvers.map((a) => a.approverId) ?? [];
    expect(await approversOfPlan()).toContain(member.id);

    const updated = await send(admin.apiKey, 'PATCH', `/groups/${group.id}`, { active: false, description: 'Retired' }, { 'if-match': '"1"' });
    expect(updated.status).toBe(200);
    expect(updated.etag).toBe('"2"');
    expect(updated.body).toMatchObject({ active: false, description: 'Retired', members: [{ id: member.id }] });
    expect(await approversOfPlan()).not.toContain(member.id);
    expect((await auditOf(group.id)).at(-1)).toEqual({
      actor: admin.email, subject_type: 'group', action: 'group_updated',
      details: { before: { active: true, description: null }, after: { active: false, description: 'Retired' } },
    });
    const inactive = await send(requester.apiKey, 'GET', '/groups?active=false');
    expect(inactive.body.items.map((g: { id: string }) => g.id)).toContain(group.id);
  });
});

describe('a membership belongs to both sides: changing it from one side makes an If-Match on the other stale', () => {
  it('bumps the groups a person joins or leaves through PATCH /people, so a PATCH of such a group with its old ETag gets 412', async () => {
    const joined = await newGroup();
    const left = await newGroup();
    const kept = await newGroup();
    const person = await newPerson({ groups: [left.name, kept.name] });
    const etags = Object.fromEntries(await Promise.all([joined, left, kept].map(async (g) => [g.id, (await send(admin.apiKey, 'GET', `/groups/${g.id}`)).etag!])));

    const updated = await send(admin.apiKey, 'PATCH', `/people/${person.id}`, { groups: [joined.name, kept.name] }, { 'if-match': '"1"' });
    expect(updated.status).toBe(200);

    for (const group of [joined, left]) {
      const read = await send(admin.apiKey, 'GET', `/groups/${group.id}`);
      expect(read.etag).not.toBe(etags[group.id]);
      const stale = await send(admin.apiKey, 'PATCH', `/groups/${group.id}`, { description: 'Based on an old read' }, { 'if-match': etags[group.id] });
      expect({ status: stale.status, code: stale.body.error.code, details: stale.body.error.details }).toEqual({ status: 412, code: 'version_mismatch', details: { currentVersion: read.body.version } });
    }
    expect((await send(admin.apiKey, 'GET', `/groups/${joined.id}`)).body.members.map((m: { id: string }) => m.id)).toEqual([person.id]);
    expect((await send(admin.apiKey, 'GET', `/groups/${left.id}`)).body).toMatchObject({ members: [], description: null });
    // A group whose members did not change keeps its version.
    const unchanged = await send(admin.apiKey, 'PATCH', `/groups/${kept.id}`, { description: 'Still current' }, { 'if-match': etags[kept.id] });
    expect(unchanged.status).toBe(200);
  });

  it('bumps the people a group gains or loses through PATCH /groups, so a PATCH of such a person with their old ETag gets 412', async () => {
    const stays = await newPerson();
    const leaves = await newPerson();
    const group = await newGroup(`Group ${unique()}`, [stays.email, leaves.email]);
    const joins = await newPerson();
    const etagOf = async (id: string) => (await send(admin.apiKey, 'GET', `/people/${id}`)).etag!;
    const before = { stays: await etagOf(stays.id), leaves: await etagOf(leaves.id), joins: await etagOf(joins.id) };

    const updated = await send(admin.apiKey, 'PATCH', `/groups/${group.id}`, { members: [stays.email, joins.email] }, { 'if-match': '"1"' });
    expect(updated.status).toBe(200);

    for (const person of [leaves, joins]) {
      const stale = await send(admin.apiKey, 'PATCH', `/people/${person.id}`, { title: 'Based on an old read' }, { 'if-match': person === leaves ? before.leaves : before.joins });
      expect({ status: stale.status, code: stale.body.error.code }).toEqual({ status: 412, code: 'version_mismatch' });
    }
    expect((await send(admin.apiKey, 'GET', `/people/${joins.id}`)).body).toMatchObject({ title: null, groups: [{ id: group.id }] });
    expect((await send(admin.apiKey, 'PATCH', `/people/${stays.id}`, { title: 'Still current' }, { 'if-match': before.stays })).status).toBe(200);
  });

  it('bumps the groups of a new person, and the members of a new group', async () => {
    const group = await newGroup();
    const person = await newPerson({ groups: [group.name] });
    expect((await send(admin.apiKey, 'GET', `/groups/${group.id}`)).body.version).toBe(group.version + 1);
    const other = await newGroup(`Group ${unique()}`, [person.email]);
    expect((await send(admin.apiKey, 'GET', `/people/${person.id}`)).body).toMatchObject({ version: person.version + 1, groups: expect.arrayContaining([{ id: other.id, name: other.name }]) });
  });

  it('lets concurrent updates of a person and a group change the same membership one after the other, without a deadlock', async () => {
    const people = await Promise.all([newPerson(), newPerson(), newPerson()]);
    const groups = await Promise.all([newGroup(), newGroup(), newGroup()]);
    // Each person joins every group, and each group takes every person, all at once: every write locks the other
    // side. If-Match names every version these writes can reach, so that none is refused as stale.
    const anyVersion = { 'if-match': Array.from({ length: 20 }, (_, i) => `"${i + 1}"`).join(', ') };
    const answers = await Promise.all([
      ...people.map((p) => send(admin.apiKey, 'PATCH', `/people/${p.id}`, { groups: groups.map((g) => g.name) }, anyVersion)),
      ...groups.map((g) => send(admin.apiKey, 'PATCH', `/groups/${g.id}`, { members: people.map((p) => p.email) }, anyVersion)),
    ]);
    expect(answers.map((a) => a.status)).toEqual(answers.map(() => 200));
    for (const group of groups) {
      expect((await send(admin.apiKey, 'GET', `/groups/${group.id}`)).body.members.map((m: { id: string }) => m.id).sort()).toEqual(people.map((p) => p.id).sort());
    }
  });
});

describe('refusals answer 4xx and write nothing', () => {
  async function refused(answer: Promise<Answer>, status: number, code: string) {
    const before = await counts();
    const { body, status: actual } = await answer;
    expect({ status: actual, code: body?.error?.code }).toEqual({ status, code });
    expect(await counts()).toEqual(before);
    return body.error;
  }

  it('refuses a duplicate email, in any letter case, with 409 email_taken', async () => {
    const person = await newPerson();
    await refused(send(admin.apiKey, 'POST', '/people', { email: person.email, name: 'Twin' }), 409, 'email_taken');
    await refused(send(admin.apiKey, 'POST', '/people', { email: person.email.toUpperCase(), name: 'Twin' }), 409, 'email_taken');
    const other = await newPerson();
    await refused(send(admin.apiKey, 'PATCH', `/people/${other.id}`, { email: person.email.toUpperCase() }, { 'if-match': '"1"' }), 409, 'email_taken');
  });

  it('refuses unknown groups, managers and cost centres with 400 and the path of each', async () => {
    const group = await newGroup();
    const error = await refused(send(admin.apiKey, 'POST', '/people', {
      email: `u.${unique()}@assetflow.test`, name: 'Una Known', groups: [group.name, 'No Such Group'], managerEmail: 'nobody@assetflow.test', costCentre: 'CC-NONE',
    }), 400, 'invalid_input');
    expect(error.details).toEqual([
      { path: 'managerEmail', message: 'no person with the email nobody@assetflow.test' },
      { path: 'costCentre', message: 'no cost centre CC-NONE' },
      { path: 'groups.1', message: 'no group "No Such Group"' },
    ]);
    const person = await newPerson();
    await refused(send(admin.apiKey, 'PATCH', `/people/${person.id}`, { groups: ['No Such Group'] }, { 'if-match': '"1"' }), 400, 'invalid_input');
    const members = await refused(send(admin.apiKey, 'POST', '/groups', { name: `G ${unique()}`, members: [requester.email, 'ghost@assetflow.test'] }), 400, 'invalid_input');
    expect(members.details).toEqual([{ path: 'members.1', message: 'no person with the email ghost@assetflow.test' }]);
  });

  it('refuses a duplicate group name, in any letter case, with 409 group_name_taken', async () => {
    const group = await newGroup();
    await refused(send(admin.apiKey, 'POST', '/groups', { name: group.name.toUpperCase() }), 409, 'group_name_taken');
  });

  it('refuses a stale If-Match with 412 and the current version, and a missing one with 428', async () => {
    const person = await newPerson();
    expect((await send(admin.apiKey, 'PATCH', `/people/${person.id}`, { title: 'First' }, { 'if-match': '"1"' })).status).toBe(200);
    const stale = await refused(send(admin.apiKey, 'PATCH', `/people/${person.id}`, { title: 'Second' }, { 'if-match': '"1"' }), 412, 'version_mismatch');
    expect(stale.details).toEqual({ currentVersion: 2 });
    await refused(send(admin.apiKey, 'PATCH', `/people/${person.id}`, { title: 'Second' }), 428, 'precondition_required');
    const group = await newGroup();
    await refused(send(admin.apiKey, 'PATCH', `/groups/${group.id}`, { description: 'x' }, { 'if-match': '"7"' }), 412, 'version_mismatch');
    await refused(send(admin.apiKey, 'PATCH', `/groups/${group.id}`, { description: 'x' }), 428, 'precondition_required');
    expect((await send(admin.apiKey, 'GET', `/people/${person.id}`)).body).toMatchObject({ title: 'First', version: 2 });
  });

  it('refuses a person who is not an admin creating or updating people and groups (403)', async () => {
    const person = await newPerson();
    await refused(send(requester.apiKey, 'POST', '/people', { email: `x.${unique()}@assetflow.test`, name: 'Sneaky' }), 403, 'forbidden');
    await refused(send(manager.apiKey, 'PATCH', `/people/${person.id}`, { roles: ['admin'] }, { 'if-match': '"1"' }), 403, 'forbidden');
    await refused(send(requester.apiKey, 'POST', '/groups', { name: 'Sneaky group' }), 403, 'forbidden');
  });

  it('refuses a manager that would close the manager line on itself, or oneself, with 400', async () => {
    const top = await newPerson();
    const middle = await newPerson({ managerEmail: top.email });
    const bottom = await newPerson({ managerEmail: middle.email });
    const cycle = await refused(send(admin.apiKey, 'PATCH', `/people/${top.id}`, { managerEmail: bottom.email }, { 'if-match': '"1"' }), 400, 'invalid_input');
    expect(cycle.details).toEqual([{ path: 'managerEmail', message: `${top.name} cannot report to ${bottom.name}: ${bottom.name}, who reports to ${middle.name}, who reports to ${top.name}` }]);
    await refused(send(admin.apiKey, 'PATCH', `/people/${top.id}`, { managerEmail: top.email }, { 'if-match': '"1"' }), 400, 'invalid_input');
  });

  it('refuses taking admin from the last active admin with 409 last_admin', async () => {
    const second = await newPerson({ roles: ['admin'] });
    expect((await send(admin.apiKey, 'PATCH', `/people/${second.id}`, { roles: ['requester'] }, { 'if-match': '"1"' })).status).toBe(200);
    const self = await send(admin.apiKey, 'GET', `/people/${admin.id}`);
    await refused(send(admin.apiKey, 'PATCH', `/people/${admin.id}`, { roles: ['requester'] }, { 'if-match': self.etag! }), 409, 'last_admin');
    expect((await send(admin.apiKey, 'GET', `/people/${admin.id}`)).body.roles).toEqual(['admin']);
  });

  it('refuses "active" on update: deactivation has its own route', async () => {
    const person = await newPerson();
    await refused(send(admin.apiKey, 'PATCH', `/people/${person.id}`, { active: false }, { 'if-match': '"1"' }), 400, 'invalid_input');
  });

  it('answers 404 for nobody, and 400 for an id that is not a uuid', async () => {
    expect((await send(admin.apiKey, 'GET', '/people/00000000-0000-4000-8000-000000000000')).status).toBe(404);
    expect((await send(admin.apiKey, 'GET', '/groups/00000000-0000-4000-8000-000000000000')).status).toBe(404);
    await refused(send(admin.apiKey, 'PATCH', '/people/00000000-0000-4000-8000-000000000000', { name: 'X' }, { 'if-match': '"1"' }), 404, 'not_found');
    const notUuid = await refused(send(admin.apiKey, 'GET', '/people/not-a-uuid'), 400, 'invalid_input');
    expect(notUuid.details).toEqual([expect.objectContaining({ path: 'id' })]);
    await refused(send(admin.apiKey, 'GET', '/groups/not-a-uuid'), 400, 'invalid_input');
    await refused(send(admin.apiKey, 'PATCH', '/people/not-a-uuid', { name: 'X' }, { 'if-match': '"1"' }), 400, 'invalid_input');
    await refused(send(admin.apiKey, 'PATCH', '/groups/not-a-uuid', { name: 'X' }, { 'if-match': '"1"' }), 400, 'invalid_input');
  });
});

it('lets exactly one of two concurrent updates with the same If-Match through; the other gets 412', async () => {
  const person = await newPerson();
  const auditBefore = (await auditOf(person.id)).length;
  const answers = await Promise.all(['Left', 'Right'].map((title) => send(admin.apiKey, 'PATCH', `/people/${person.id}`, { title }, { 'if-match': '"1"' })));
  expect(answers.map((a) => a.status).sort()).toEqual([200, 412]);
  const winner = answers.find((a) => a.status === 200)!;
  const read = await send(admin.apiKey, 'GET', `/people/${person.id}`);
  expect(read.body).toMatchObject({ version: 2, title: winner.body.title });
  expect(await auditOf(person.id)).toHaveLength(auditBefore + 1);
});

describe('locks', () => {
  it('holds the active admins so that their roles wait, but not what merely refers to them (a new key)', async () => {
    const db = stack.database.db;
    await db.transaction(async (trx) => {
      expect(await lockActiveAdmins(trx)).toContain(admin.id);
      // On other connections, each allowed to wait briefly: an insert that refers to an admin takes KEY SHARE on them.
      await db.transaction(async (other) => {
        await other.raw(`SET LOCAL lock_timeout = '2s'`);
        await insertApiKey(other, { personId: admin.id, name: `Lock test ${unique()}`, apiKey: generateApiKey(), createdBy: 'system:test' });
      });
      await expect(db.transaction(async (other) => {
        await other.raw(`SET LOCAL lock_timeout = '200ms'`);
        await other('person_roles').where({ person_id: admin.id, role: 'admin' }).update({ granted_by: 'admin' });
      })).rejects.toMatchObject({ code: '55P03' });
    });
  });

  it('asks whether a deactivation would be refused without waiting for locks others hold', async () => {
    const db = stack.database.db;
    const person = await newPerson();
    await db.transaction(async (trx) => {
      await lockActiveAdmins(trx);
      await trx('people').where({ id: person.id }).forUpdate().first('id');
      await db.transaction(async (other) => {
        await other.raw(`SET LOCAL lock_timeout = '2s'`);
        expect(await deactivationRefusal(other, { personId: person.id, actorId: admin.id, expectedVersion: 1 })).toBeNull();
        expect(await deactivationRefusal(other, { personId: person.id, actorId: admin.id, expectedVersion: 9 }))
          .toMatchObject({ rule: 'version_mismatch', currentVersion: 1 });
      });
    });
  });
});
