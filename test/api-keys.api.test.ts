/**
 * API keys of one's own: several per person, named, with an optional expiry; a new key is shown
 * once (and never cached), listed afterwards only by its first characters; revoking works at once,
 * and ends the web sessions signed in with the key (so does its expiry). Admins see and revoke
 * anyone's, but make none for someone else. Every creation and revocation has one audit row.
 */
import { noteKeyUse, principalByApiKey } from '../api/auth';
import { MAX_UNREVOKED_KEYS_PER_PERSON } from '../model/api-keys';
import { hashApiKey } from '../platform/api-keys';
import { createPerson, eventually, type TestPerson } from './support/fixtures';
import { call, startStack, type Stack } from './support/stack';
import { browse, hiddenCsrf, signInWithKey, webAgent } from './support/web-agent';

let stack: Stack;
let admin: TestPerson;

beforeAll(async () => {
  stack = await startStack({ worker: false });
  admin = await createPerson(stack.database.db, ['admin'], 'Ada Admin');
});

afterAll(async () => {
  await stack?.stop();
});

const db = () => stack.database.db;

async function createKey(person: { apiKey: string }, body: unknown, path = '/api-keys'): Promise<{ status: number; cacheControl: string | null; body: any }> {
  const res = await fetch(`${stack.baseUrl}${path}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${person.apiKey}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  return { status: res.status, cacheControl: res.headers.get('cache-control'), body: await res.json() };
}

const keyAudit = (keyId: string) => db()('audit_log').where({ subject_type: 'api_key', subject_id: keyId }).orderBy('id');
const auditCount = async () => Number((await db()('audit_log').where({ subject_type: 'api_key' }).count({ n: '*' }))[0].n);
const inAYear = () => new Date(Date.now() + 365 * 24 * 3_600_000).toISOString();

it('makes several named keys that all work, shows each once (not cached) and lists them by prefix, creation and last use, never the key or its hash', async () => {
  const person = await createPerson(db(), ['requester'], 'Kim Keys');
  const ci = await createKey(person, { name: 'CI pipeline', expiresAt: inAYear() });
  const laptop = await createKey(person, { name: 'Laptop' });

  for (const created of [ci, laptop]) {
    expect(created.status).toBe(201);
    expect(created.cacheControl).toBe('no-store');
    expect(created.body.key).toMatch(/^af_[\w-]{32}$/);
    expect(created.body).toMatchObject({ personId: person.id, prefix: created.body.key.slice(0, 11), createdBy: person.email, status: 'live', lastUsedAt: null, revokedAt: null });
    expect(created.body).not.toHaveProperty('keyHash');
  }
  expect(ci.body).toMatchObject({ name: 'CI pipeline', expiresAt: expect.any(String) });
  expect(laptop.body.expiresAt).toBeNull();
  const [{ key_hash: storedHash }] = await db()('api_keys').where({ id: ci.body.id }).select('key_hash');
  expect(storedHash).toBe(hashApiKey(ci.body.key));

  // Both keys (and the one the person had) open the API, as the same person.
  for (const key of [ci.body.key, laptop.body.key]) expect((await call(stack, key, 'GET', '/api-keys')).status).toBe(200);

  const listed = await eventually(async () => {
    const list = await call(stack, person.apiKey, 'GET', '/api-keys');
    const items = list.body.items as { id: string; lastUsedAt: string | null }[];
    return items.filter((k) => [ci.body.id, laptop.body.id].includes(k.id)).every((k) => k.lastUsedAt) && list;
  });
  expect(listed.status).toBe(200);
  expect(listed.body.page.total).toBe(3);
  // Newest first: the laptop key, then the CI key, then the one the fixture made.
  expect(listed.body.items.map((k: { name: string }) => k.name)).toEqual(['Laptop', 'CI pipeline', 'test']);
  expect(listed.body.items[0]).toEqual({
    id: laptop.body.id, personId: person.id, name: 'Laptop', prefix: laptop.body.prefix, createdAt: laptop.body.createdAt, createdBy: person.email,
    expiresAt: null, lastUsedAt: expect.any(String), revokedAt: null, revokedBy: null, status: 'live',
  });
  const text = JSON.stringify(listed.body);
  for (const secret of [ci.body.key, laptop.body.key, storedHash]) expect(text).not.toContain(secret);

  const audits = await keyAudit(ci.body.id);
  expect(audits).toHaveLength(1);
  expect(audits[0]).toMatchObject({
    actor: person.email, action: 'api_key_created', to_state: 'live',
    details: { personId: person.id, name: 'CI pipeline', prefix: ci.body.prefix, expiresAt: ci.body.expiresAt },
  });
  expect(JSON.stringify(audits[0])).not.toContain(ci.body.key);
});

it('writes a key\'s last use at most once a minute per API process', async () => {
  const person = await createPerson(db(), ['requester']);
  const lastUsed = async () => (await db()('api_keys').where({ person_id: person.id }).first('last_used_at')).last_used_at as Date | null;
  expect((await call(stack, person.apiKey, 'GET', '/api-keys')).status).toBe(200);
  const first = await eventually(lastUsed);

  for (let i = 0; i < 3; i++) expect((await call(stack, person.apiKey, 'GET', '/api-keys')).status).toBe(200);
  await new Promise((resolve) => setTimeout(resolve, 200));
  expect(await lastUsed()).toEqual(first);

  // A minute on, the next use is written again.
  const principal = (await principalByApiKey(db(), person.apiKey))!;
  await noteKeyUse(db(), principal, Date.now() + 61_000);
  expect((await lastUsed())!.getTime()).toBeGreaterThan(first.getTime());
});

it('refuses an expiry in the past or more than two years ahead, a bad name, and a body that is no object, writing nothing', async () => {
  const person = await createPerson(db(), ['requester']);
  const before = await auditCount();
  const refusals = [
    { name: 'old', expiresAt: new Date(Date.now() - 60_000).toISOString() },
    { name: 'far', expiresAt: new Date(Date.now() + 3 * 365 * 24 * 3_600_000).toISOString() },
    { name: 'not a date', expiresAt: 'next week' },
    { name: '   ' },
    { name: 'x'.repeat(101) },
    { name: 'extra', keyHash: 'mine' },
    [],
  ];
  for (const body of refusals) {
    const res = await createKey(person, body);
    expect({ body, status: res.status, code: res.body.error?.code }).toEqual({ body, status: 400, code: 'invalid_input' });
  }
  const past = await createKey(person, refusals[0]);
  expect(past.body.error.details).toEqual([expect.objectContaining({ path: 'expiresAt', message: 'must be in the future' })]);
  expect(await db()('api_keys').where({ person_id: person.id }).count({ n: '*' })).toEqual([{ n: 1 }]);
  expect(await auditCount()).toBe(before);
});

it('answers 401 for a key past its expiry, and lists it as expired', async () => {
  const person = await createPerson(db(), ['requester']);
  const created = await createKey(person, { name: 'short-lived', expiresAt: inAYear() });
  expect((await call(stack, created.body.key, 'GET', '/api-keys')).status).toBe(200);

  await db()('api_keys').where({ id: created.body.id }).update({ expires_at: new Date(Date.now() - 1_000) });
  const refused = await call(stack, created.body.key, 'GET', '/api-keys');
  expect(refused).toMatchObject({ status: 401, body: { error: { code: 'unauthenticated' } } });
  const list = await call(stack, person.apiKey, 'GET', '/api-keys');
  expect(list.body.items.find((k: { id: string }) => k.id === created.body.id)).toMatchObject({ status: 'expired', revokedAt: null });
});

it('revokes a key at once, with one audit row; revoking it again answers the same record and writes nothing', async () => {
  const person = await createPerson(db(), ['requester']);
  const created = await createKey(person, { name: 'deploy bot' });
  expect((await call(stack, created.body.key, 'GET', '/api-keys')).status).toBe(200);

  const revoked = await call(stack, person.apiKey, 'POST', `/api-keys/${created.body.id}/revoke`, { reason: 'the bot is retired' });
  expect(revoked.status).toBe(200);
  expect(revoked.body).toMatchObject({ id: created.body.id, status: 'revoked', revokedBy: person.email, revokedAt: expect.any(String) });
  expect((await call(stack, created.body.key, 'GET', '/api-keys')).status).toBe(401);

  const again = await call(stack, person.apiKey, 'POST', `/api-keys/${created.body.id}/revoke`, {});
  expect(again).toEqual({ status: 200, body: revoked.body });
  const audits = await keyAudit(created.body.id);
  expect(audits.map((a) => a.action)).toEqual(['api_key_created', 'api_key_revoked']);
  expect(audits[1]).toMatchObject({
    actor: person.email, from_state: 'live', to_state: 'revoked',
    details: {
      personId: person.id, name: 'deploy bot', prefix: created.body.prefix, reason: 'the bot is retired',
      before: { status: 'live', revokedAt: null, revokedBy: null },
      after: { status: 'revoked', revokedAt: revoked.body.revokedAt, revokedBy: person.email },
    },
  });

  expect((await call(stack, person.apiKey, 'POST', '/api-keys/00000000-0000-4000-8000-000000000000/revoke', {})).status).toBe(404);
  expect((await call(stack, person.apiKey, 'POST', '/api-keys/not-a-key/revoke', {})).status).toBe(400);
});

it('refuses a requester revoking someone else\'s key (403, the key still works, nothing written); an admin revokes anyone\'s', async () => {
  const owner = await createPerson(db(), ['requester'], 'Olga Owner');
  const other = await createPerson(db(), ['requester', 'approver', 'process_owner'], 'Nosy Neighbour');
  const created = await createKey(owner, { name: 'reporting' });
  const before = await auditCount();

  const refused = await call(stack, other.apiKey, 'POST', `/api-keys/${created.body.id}/revoke`, {});
  expect(refused).toMatchObject({ status: 403, body: { error: { code: 'not_your_key' } } });
  expect((await call(stack, created.body.key, 'GET', '/api-keys')).status).toBe(200);
  expect(await db()('api_keys').where({ id: created.body.id }).first('revoked_at')).toEqual({ revoked_at: null });
  expect(await auditCount()).toBe(before);

  const byAdmin = await call(stack, admin.apiKey, 'POST', `/api-keys/${created.body.id}/revoke`, { reason: 'leaked in a ticket' });
  expect(byAdmin.body).toMatchObject({ status: 'revoked', revokedBy: admin.email, personId: owner.id });
  expect((await call(stack, created.body.key, 'GET', '/api-keys')).status).toBe(401);
  const audits = await keyAudit(created.body.id);
  expect(audits).toHaveLength(2);
  expect(audits[1]).toMatchObject({ actor: admin.email, action: 'api_key_revoked', details: { personId: owner.id, reason: 'leaked in a ticket' } });
});

it('lets admins list a person\'s keys but make none for them (no such route); others get 403, and the refused call records no use of their key', async () => {
  const integration = await createPerson(db(), ['asset_manager'], 'Inventory Sync');
  const own = await createKey(integration, { name: 'inventory sync', expiresAt: inAYear() });
  expect(own.status).toBe(201);

  const listed = await call(stack, admin.apiKey, 'GET', `/people/${integration.id}/api-keys`);
  expect(listed.status).toBe(200);
  expect(listed.body.items.map((k: { name: string; createdBy: string }) => [k.name, k.createdBy])).toEqual([['inventory sync', integration.email], ['test', 'system:test']]);
  expect((await call(stack, admin.apiKey, 'GET', '/people/00000000-0000-4000-8000-000000000000/api-keys')).status).toBe(404);

  // An admin holding a key of someone else could act as them (approve their own change as another): nobody mints one.
  const before = await auditCount();
  const minted = await createKey(admin, { name: 'act as them' }, `/people/${integration.id}/api-keys`);
  expect(minted).toMatchObject({ status: 404, body: { error: { code: 'not_found' } } });
  expect(minted.body).not.toHaveProperty('key');
  expect(await auditCount()).toBe(before);

  const outsider = await createPerson(db(), ['requester', 'approver', 'asset_manager', 'process_owner']);
  expect((await call(stack, outsider.apiKey, 'GET', `/people/${integration.id}/api-keys`)).status).toBe(403);
  expect(await db()('api_keys').where({ person_id: integration.id }).count({ n: '*' })).toEqual([{ n: 2 }]);
  // The outsider's key was refused and never let in: its last use stays empty.
  await new Promise((resolve) => setTimeout(resolve, 300));
  expect(await db()('api_keys').where({ person_id: outsider.id }).first('last_used_at')).toEqual({ last_used_at: null });
});

it('refuses a second live key of the same name (whatever the case) with 409; the name is free again once that key is revoked', async () => {
  const person = await createPerson(db(), ['requester']);
  const first = await createKey(person, { name: 'Backup Job' });
  const before = await auditCount();
  const duplicate = await createKey(person, { name: '  backup job ' });
  expect(duplicate).toMatchObject({ status: 409, body: { error: { code: 'key_name_taken' } } });
  expect(await auditCount()).toBe(before);

  // Another person may use the name.
  expect((await createKey(admin, { name: 'Backup Job' })).status).toBe(201);

  await call(stack, person.apiKey, 'POST', `/api-keys/${first.body.id}/revoke`, {});
  expect((await createKey(person, { name: 'backup job' })).status).toBe(201);

  // Two at once: one key, one refusal.
  const racing = await Promise.all([createKey(person, { name: 'racer' }), createKey(person, { name: 'RACER' })]);
  expect(racing.map((r) => r.status).sort()).toEqual([201, 409]);
});

it(`bounds a person's keys at ${MAX_UNREVOKED_KEYS_PER_PERSON} that are not revoked`, async () => {
  const person = await createPerson(db(), ['requester']);
  for (let i = 1; i < MAX_UNREVOKED_KEYS_PER_PERSON; i++) expect((await createKey(person, { name: `key ${i}` })).status).toBe(201);
  const before = await auditCount();
  const refused = await createKey(person, { name: 'one too many' });
  expect(refused).toMatchObject({ status: 409, body: { error: { code: 'too_many_keys' } } });
  expect(await auditCount()).toBe(before);
  const { body } = await call(stack, person.apiKey, 'GET', '/api-keys?limit=1');
  await call(stack, person.apiKey, 'POST', `/api-keys/${body.items[0].id}/revoke`, {});
  expect((await createKey(person, { name: 'one too many' })).status).toBe(201);
});

describe('web sessions signed in with a key', () => {
  const sessionsOf = (personId: string) => db()('web_sessions').where({ person_id: personId }).orderBy('id_hash').select('signed_in_via', 'api_key_id');

  it('end when the key is revoked (an admin revoking it here), with the count in the audit row; a session of another key goes on', async () => {
    const person = await createPerson(db(), ['requester'], 'Sigrid Session');
    const laptop = await createKey(person, { name: 'laptop' });
    const revokedAgent = webAgent(stack.baseUrl);
    const otherAgent = webAgent(stack.baseUrl);
    expect((await signInWithKey(revokedAgent, laptop.body.key)).status).toBe(303);
    expect((await signInWithKey(otherAgent, person.apiKey)).status).toBe(303);
    expect((await browse(revokedAgent, 'GET', '/ui/my-requests')).status).toBe(200);
    const fixtureKeyId = (await db()('api_keys').where({ person_id: person.id, name: 'test' }).first('id')).id;
    expect(await sessionsOf(person.id)).toEqual(expect.arrayContaining([
      { signed_in_via: 'api_key', api_key_id: laptop.body.id },
      { signed_in_via: 'api_key', api_key_id: fixtureKeyId },
    ]));

    const revoked = await call(stack, admin.apiKey, 'POST', `/api-keys/${laptop.body.id}/revoke`, { reason: 'the laptop was stolen' });
    expect(revoked.status).toBe(200);

    const next = await browse(revokedAgent, 'GET', '/ui/my-requests');
    expect(next).toMatchObject({ status: 303, location: `/ui/sign-in?next=${encodeURIComponent('/ui/my-requests')}` });
    expect(revokedAgent.cookies.has('af_session')).toBe(false);
    expect((await browse(otherAgent, 'GET', '/ui/my-requests')).status).toBe(200);
    expect(await sessionsOf(person.id)).toEqual([{ signed_in_via: 'api_key', api_key_id: fixtureKeyId }]);
    const [, audit] = await keyAudit(laptop.body.id);
    expect(audit).toMatchObject({ actor: admin.email, action: 'api_key_revoked', details: { sessionsEnded: 1, reason: 'the laptop was stolen' } });
  });

  it('end when the key expires, and the next sign-in sweeps them away', async () => {
    const person = await createPerson(db(), ['requester']);
    const shortLived = await createKey(person, { name: 'short-lived', expiresAt: inAYear() });
    const agent = webAgent(stack.baseUrl);
    expect((await signInWithKey(agent, shortLived.body.key)).status).toBe(303);
    expect((await browse(agent, 'GET', '/ui/api-keys')).status).toBe(200);

    await db()('api_keys').where({ id: shortLived.body.id }).update({ expires_at: new Date(Date.now() - 1_000) });
    expect(await browse(agent, 'GET', '/ui/api-keys')).toMatchObject({ status: 303, location: `/ui/sign-in?next=${encodeURIComponent('/ui/api-keys')}` });
    expect(await sessionsOf(person.id)).toEqual([{ signed_in_via: 'api_key', api_key_id: shortLived.body.id }]);

    expect((await signInWithKey(webAgent(stack.baseUrl), person.apiKey)).status).toBe(303);
    expect(await db()('web_sessions').where({ api_key_id: shortLived.body.id }).count({ n: '*' })).toEqual([{ n: 0 }]);
  });

  it('end when the holder revokes, on the web page, the key they signed in with', async () => {
    const person = await createPerson(db(), ['requester']);
    const agent = webAgent(stack.baseUrl);
    await signInWithKey(agent, person.apiKey);
    await createKey(person, { name: 'spare' });
    const page = await browse(agent, 'GET', '/ui/api-keys');
    const csrf = hiddenCsrf(page.html)!;
    const { id } = await db()('api_keys').where({ person_id: person.id, name: 'test' }).first('id');
    // Only the key of this session is marked.
    expect(page.html.match(/you signed in with it: revoking it signs you out/g)).toHaveLength(1);
    expect(/<tr id="key-([\w-]+)">\n<th scope="row">[^<]*<br><span class="meta">you signed in with it/.exec(page.html)?.[1]).toBe(id);

    const revoked = await browse(agent, 'POST', `/ui/api-keys/${id}/revoke`, { csrf, confirm: 'revoke' });
    expect(revoked).toMatchObject({ status: 303, location: `/ui/api-keys?revoked=${id}` });
    expect((await browse(agent, 'GET', revoked.location!)).status).toBe(303);
    expect(await sessionsOf(person.id)).toEqual([]);
    expect((await keyAudit(id))[0]).toMatchObject({ actor: person.email, action: 'api_key_revoked', details: { sessionsEnded: 1 } });
  });
});

describe('the web UI page "API keys"', () => {
  it('makes a key through the form and shows it once, lists it by prefix afterwards, and revokes it through the form', async () => {
    const person = await createPerson(db(), ['requester'], 'Wanda Web');
    const agent = webAgent(stack.baseUrl);
    expect((await signInWithKey(agent, person.apiKey)).status).toBe(303);

    const page = await browse(agent, 'GET', '/ui/api-keys');
    expect(page.status).toBe(200);
    expect(page.html).toContain('<h1>API keys</h1>');
    const csrf = hiddenCsrf(page.html)!;

    const created = await browse(agent, 'POST', '/ui/api-keys', { csrf, name: 'Spreadsheet <export>', expiresOn: new Date(Date.now() + 30 * 86_400_000).toISOString().slice(0, 10) });
    expect(created.status).toBe(201);
    expect(created.headers.get('cache-control')).toBe('no-store');
    expect(created.html).toContain('it will not be shown again');
    expect(created.html).toContain('Spreadsheet &lt;export&gt;');
    const key = /id="new-key" readonly size="50" value="(af_[\w-]+)"/.exec(created.html)?.[1];
    expect(key).toBeDefined();
    expect((await call(stack, key!, 'GET', '/api-keys')).status).toBe(200);
    const row = await db()('api_keys').where({ person_id: person.id, name: 'Spreadsheet <export>' }).first();
    expect(row).toMatchObject({ created_by: person.email, key_hash: hashApiKey(key!) });
    expect(row.expires_at.toISOString()).toMatch(/T00:00:00\.000Z$/);

    const listed = await browse(agent, 'GET', '/ui/api-keys');
    expect(listed.html).toContain(`<code>${row.prefix}</code>`);
    expect(listed.html).not.toContain(key!);
    expect(listed.html).toContain(`action="/ui/api-keys/${row.id}/revoke"`);

    const revoked = await browse(agent, 'POST', `/ui/api-keys/${row.id}/revoke`, { csrf, confirm: 'revoke' });
    expect(revoked).toMatchObject({ status: 303, location: `/ui/api-keys?revoked=${row.id}` });
    expect((await call(stack, key!, 'GET', '/api-keys')).status).toBe(401);
    const after = await browse(agent, 'GET', revoked.location!);
    expect(after.html).toContain('is revoked: it no longer opens the API');
    expect(after.html).not.toContain(`action="/ui/api-keys/${row.id}/revoke"`);
    expect((await keyAudit(row.id)).map((a) => [a.action, a.actor])).toEqual([['api_key_created', person.email], ['api_key_revoked', person.email]]);
  });

  it('answers 400 to forms without their fields, 409 to a taken name, and 403 to someone else\'s key, changing nothing', async () => {
    const person = await createPerson(db(), ['requester']);
    const other = await createPerson(db(), ['requester']);
    const othersKey = await createKey(other, { name: 'theirs' });
    const agent = webAgent(stack.baseUrl);
    await signInWithKey(agent, person.apiKey);
    const csrf = hiddenCsrf((await browse(agent, 'GET', '/ui/api-keys')).html)!;
    const before = await auditCount();

    expect((await browse(agent, 'POST', '/ui/api-keys', { csrf })).status).toBe(400);
    const past = await browse(agent, 'POST', '/ui/api-keys', { csrf, name: 'late', expiresOn: '2020-01-01' });
    expect(past.status).toBe(400);
    expect(past.html).toContain('must be in the future');
    expect((await browse(agent, 'POST', `/ui/api-keys/${othersKey.body.id}/revoke`, { csrf })).status).toBe(400);
    const taken = await browse(agent, 'POST', '/ui/api-keys', { csrf, name: 'TEST' });
    expect(taken.status).toBe(409);
    const notMine = await browse(agent, 'POST', `/ui/api-keys/${othersKey.body.id}/revoke`, { csrf, confirm: 'revoke' });
    expect(notMine.status).toBe(403);
    expect(notMine.html).toContain('someone else');
    expect((await browse(agent, 'POST', '/ui/api-keys/not-a-key/revoke', { csrf, confirm: 'revoke' })).status).toBe(404);

    expect((await call(stack, othersKey.body.key, 'GET', '/api-keys')).status).toBe(200);
    expect(await db()('api_keys').where({ person_id: person.id }).count({ n: '*' })).toEqual([{ n: 1 }]);
    expect(await auditCount()).toBe(before);
  });
});
