/**
 * Single sign-on's administration and its refusals, over HTTP: the role mappings (admins only,
 * replaced whole, audited, a bad list writes nothing), answers from the provider that must not
 * sign anybody in (a forged, reused or foreign state, the provider's error, a code it does not
 * confirm), the routes when single sign-on is not set up, and an admin ending a person's sessions.
 * Then who a provider account signs in as, through the real provider's pages (without a browser):
 * linked by verified email once, by subject after; refused when deactivated, unverified, or when
 * the email is linked to another account; the group claim bounded; first sign-ins at once; the
 * last admin's role kept; and sign-ins started per address limited.
 */
import { randomBytes } from 'node:crypto';
import { createSsoPerson, syncSsoRoles } from '../model/single-sign-on';
import { createTestDatabase, type TestDatabase } from './support/database';
import { createPerson, type TestPerson } from './support/fixtures';
import { oidcSettingsFor, signInThroughProvider, startOidcProvider, type TestOidcAccount, type TestOidcProvider } from './support/oidc-provider';
import { CONFIG_RATE_LIMITS, call, reserveServers, startExtraApi, startStack, urlOf, type ExtraApi, type Stack } from './support/stack';
import { browse, signInWithKey, webAgent, type WebAgent } from './support/web-agent';

let stack: Stack;
let trustingApi: ExtraApi;
let provider: TestOidcProvider;
let admin: TestPerson;
let requester: TestPerson;

const run = randomBytes(3).toString('hex');
const emailOf = (login: string) => `${login}.${run}@assetflow.test`;
const verified = (login: string, extra: TestOidcAccount = {}): TestOidcAccount => ({ email: emailOf(login), email_verified: true, name: login, ...extra });
/** The provider's people (the key is their login and their subject). */
const accounts: Record<string, TestOidcAccount> = {
  lee: verified('lee', { groups: ['it-operations'] }),
  // Another account at the provider that claims lee's email.
  'lee-twin': verified('lee'),
  dee: verified('dee'),
  dan: verified('dan'),
  uma: { email: emailOf('uma'), name: 'Uma Unsaid' },
  uly: { email: emailOf('uly'), email_verified: false, name: 'Uly Unverified' },
  // Two values too long or too many: cab is the 200th value taken, asset-team the first left out.
  gus: verified('gus', { groups: ['x'.repeat(201), ...Array.from({ length: 199 }, (_, i) => `team-${i}`), 'cab', 'asset-team', 42] }),
  cai: verified('cai', { groups: ['asset-team'] }),
  ivy: verified('ivy'),
  'ivy-new': verified('ivy'),
};

beforeAll(async () => {
  const [apiServer, trustingServer] = await reserveServers(2);
  const apiUrl = urlOf(apiServer);
  const trustingUrl = urlOf(trustingServer);
  provider = await startOidcProvider({ redirectUrls: [`${apiUrl}/ui/sign-in/oidc/callback`, `${trustingUrl}/ui/sign-in/oidc/callback`], accounts });
  stack = await startStack({ server: apiServer, worker: false, oidc: oidcSettingsFor(provider, apiUrl) });
  // OIDC_TRUST_UNVERIFIED_EMAIL and OIDC_CREATE_PEOPLE on.
  trustingApi = await startExtraApi(stack, { server: trustingServer, oidc: oidcSettingsFor(provider, trustingUrl, { trustUnverifiedEmail: true, createPeople: true }) });
  admin = await createPerson(stack.database.db, ['admin'], 'Ada Admin');
  requester = await createPerson(stack.database.db, ['requester'], 'Remy Requester');
});

afterAll(async () => {
  await trustingApi?.stop();
  await stack?.stop();
  await provider?.stop();
});

const auditRows = (subjectType: string) => stack.database.db('audit_log').where({ subject_type: subjectType }).orderBy('id').select('actor', 'action', 'subject_id', 'details');

describe('role mappings', () => {
  it('are replaced whole by an admin, audited with the list before and after', async () => {
    const first = [{ claimValue: 'it-operations', role: 'process_owner' }, { claimValue: 'cab', role: 'approver' }];
    const put = await call(stack, admin.apiKey, 'PUT', '/sso/role-mappings', { items: first });
    expect(put).toEqual({ status: 200, body: { items: [{ claimValue: 'cab', role: 'approver' }, { claimValue: 'it-operations', role: 'process_owner' }] } });
    const second = await call(stack, admin.apiKey, 'PUT', '/sso/role-mappings', { items: [{ claimValue: 'cab', role: 'approver' }, { claimValue: 'cab', role: 'admin' }] });
    expect(second.status).toBe(200);
    expect(await call(stack, admin.apiKey, 'GET', '/sso/role-mappings')).toEqual({
      status: 200, body: { items: [{ claimValue: 'cab', role: 'admin' }, { claimValue: 'cab', role: 'approver' }] },
    });

    const audit = await auditRows('sso_role_mapping');
    expect(audit).toHaveLength(2);
    expect(audit[1]).toEqual({
      actor: admin.email,
      action: 'sso_role_mappings_replaced',
      subject_id: audit[0].subject_id,
      details: {
        before: [{ claimValue: 'cab', role: 'approver' }, { claimValue: 'it-operations', role: 'process_owner' }],
        after: [{ claimValue: 'cab', role: 'admin' }, { claimValue: 'cab', role: 'approver' }],
      },
    });
  });

  it('are for admins only', async () => {
    expect((await call(stack, requester.apiKey, 'GET', '/sso/role-mappings')).status).toBe(403);
    expect((await call(stack, requester.apiKey, 'PUT', '/sso/role-mappings', { items: [] })).status).toBe(403);
    expect((await call(stack, undefined, 'GET', '/sso/role-mappings')).status).toBe(401);
  });

  it('refuse an unknown role, an empty claim value or a body that is not the list, and write nothing', async () => {
    const before = await call(stack, admin.apiKey, 'GET', '/sso/role-mappings');
    const auditBefore = (await auditRows('sso_role_mapping')).length;
    const unknownRole = await call(stack, admin.apiKey, 'PUT', '/sso/role-mappings', { items: [{ claimValue: 'it-operations', role: 'superuser' }] });
    expect(unknownRole.status).toBe(400);
    expect(unknownRole.body.error.code).toBe('invalid_input');
    expect(JSON.stringify(unknownRole.body.error.details)).toContain('role');
    expect((await call(stack, admin.apiKey, 'PUT', '/sso/role-mappings', { items: [{ claimValue: ' ', role: 'approver' }] })).status).toBe(400);
    expect((await call(stack, admin.apiKey, 'PUT', '/sso/role-mappings', [])).status).toBe(400);
    expect(await call(stack, admin.apiKey, 'GET', '/sso/role-mappings')).toEqual(before);
    expect(await auditRows('sso_role_mapping')).toHaveLength(auditBefore);
  });
});

describe('answers from the provider that sign nobody in', () => {
  /** Starts a sign-in as a browser would: the agent holds its state cookie; answers the state sent to the provider. */
  async function startSignIn(agent: WebAgent): Promise<string> {
    const start = await browse(agent, 'GET', '/ui/sign-in/oidc?next=/ui/processes');
    expect(start.status).toBe(303);
    const authorization = new URL(start.location!);
    expect(authorization.origin).toBe(provider.issuer);
    expect(authorization.searchParams.get('code_challenge_method')).toBe('S256');
    expect(authorization.searchParams.get('nonce')).toBeTruthy();
    return authorization.searchParams.get('state')!;
  }

  const sessionsNow = async () => (await stack.database.db('web_sessions').select('id_hash')).length;

  it('a forged state, a state used before, and a state from another browser get a 400 page', async () => {
    const sessions = await sessionsNow();
    const agent = webAgent(stack.baseUrl);
    const forged = await browse(agent, 'GET', '/ui/sign-in/oidc/callback?code=abc&state=made-up');
    expect(forged.status).toBe(400);
    expect(forged.html).toContain('This sign-in is no longer valid');

    const state = await startSignIn(agent);
    expect(await stack.database.db('oidc_sign_ins').select('next_path')).toEqual([{ next_path: '/ui/processes' }]);
    // A code the provider never issued: the sign-in is spent, the provider does not confirm it.
    const refused = await browse(agent, 'GET', `/ui/sign-in/oidc/callback?code=not-a-code&state=${state}&iss=${encodeURIComponent(provider.issuer)}`);
    expect(refused.status).toBe(400);
    expect(refused.html).toContain('Test IdP did not confirm this sign-in');
    expect(await stack.database.db('oidc_sign_ins').select('next_path')).toEqual([]);
    const reused = await browse(webAgent(stack.baseUrl), 'GET', `/ui/sign-in/oidc/callback?code=not-a-code&state=${state}`);
    expect(reused.status).toBe(400);
    expect(reused.html).toContain('This sign-in is no longer valid');

    // The state of a sign-in another browser started: refused, and that sign-in is spent.
    const otherState = await startSignIn(webAgent(stack.baseUrl));
    const foreign = await browse(webAgent(stack.baseUrl), 'GET', `/ui/sign-in/oidc/callback?code=x&state=${otherState}`);
    expect(foreign.status).toBe(400);
    expect(await stack.database.db('oidc_sign_ins').select('next_path')).toEqual([]);
    expect(await sessionsNow()).toBe(sessions);
  });

  it('the provider\'s error gets a 401 page', async () => {
    const sessions = await sessionsNow();
    const agent = webAgent(stack.baseUrl);
    const state = await startSignIn(agent);
    const denied = await browse(agent, 'GET', `/ui/sign-in/oidc/callback?error=access_denied&state=${state}&iss=${encodeURIComponent(provider.issuer)}`);
    expect(denied.status).toBe(401);
    expect(denied.html).toContain('Test IdP did not sign you in (access_denied)');
    expect(agent.cookies.has('af_session')).toBe(false);
    expect(await sessionsNow()).toBe(sessions);
  });

  it('the sign-in page offers single sign-on only where it is set up; elsewhere its routes answer 404', async () => {
    const here = await browse(webAgent(stack.baseUrl), 'GET', '/ui/sign-in?next=/ui/inbox');
    expect(here.html).toContain('<a href="/ui/sign-in/oidc?next=%2Fui%2Finbox">Sign in with Test IdP</a>');
    const plain = await startExtraApi(stack);
    try {
      const page = await browse(webAgent(plain.baseUrl), 'GET', '/ui/sign-in');
      expect(page.status).toBe(200);
      expect(page.html).not.toContain('/ui/sign-in/oidc');
      expect((await browse(webAgent(plain.baseUrl), 'GET', '/ui/sign-in/oidc')).status).toBe(404);
      expect((await browse(webAgent(plain.baseUrl), 'GET', '/ui/sign-in/oidc/callback?code=x&state=y')).status).toBe(404);
    } finally {
      await plain.stop();
    }
  });
});

describe('a person\'s sessions', () => {
  it('are listed for an admin without their ids, and revoking them ends them at once', async () => {
    const person = await createPerson(stack.database.db, ['requester'], 'Sid Sessions');
    const laptop = webAgent(stack.baseUrl);
    const phone = webAgent(stack.baseUrl);
    expect((await signInWithKey(laptop, person.apiKey)).status).toBe(303);
    expect((await signInWithKey(phone, person.apiKey)).status).toBe(303);
    expect((await browse(laptop, 'GET', '/ui/my-requests')).status).toBe(200);

    const listed = await call(stack, admin.apiKey, 'GET', `/people/${person.id}/sessions`);
    expect(listed.status).toBe(200);
    expect(listed.body.items).toHaveLength(2);
    for (const session of listed.body.items) {
      expect(Object.keys(session).sort()).toEqual(['createdAt', 'expiresAt', 'signedInVia']);
      expect(session.signedInVia).toBe('api_key');
    }

    expect((await call(stack, requester.apiKey, 'POST', `/people/${person.id}/sessions/revoke`, {})).status).toBe(403);
    expect((await call(stack, requester.apiKey, 'GET', `/people/${person.id}/sessions`)).status).toBe(403);
    expect((await call(stack, admin.apiKey, 'POST', `/people/${person.id}/sessions/revoke`, [])).status).toBe(400);
    expect((await call(stack, admin.apiKey, 'POST', '/people/00000000-0000-4000-8000-000000000000/sessions/revoke', {})).status).toBe(404);
    expect((await browse(phone, 'GET', '/ui/my-requests')).status).toBe(200);

    const revoked = await call(stack, admin.apiKey, 'POST', `/people/${person.id}/sessions/revoke`, {});
    expect(revoked).toEqual({ status: 200, body: { revoked: 2 } });
    for (const agent of [laptop, phone]) {
      const next = await browse(agent, 'GET', '/ui/my-requests');
      expect(next.status).toBe(303);
      expect(next.location).toBe('/ui/sign-in?next=%2Fui%2Fmy-requests');
    }
    expect((await call(stack, admin.apiKey, 'GET', `/people/${person.id}/sessions`)).body).toEqual({ items: [] });
    // Their API key still works: revoking sessions is not deactivating.
    expect((await call(stack, person.apiKey, 'GET', '/cis?limit=1')).status).toBe(200);

    const audit = (await auditRows('person')).filter((row) => row.subject_id === person.id);
    expect(audit).toEqual([{
      actor: admin.email, action: 'person_sessions_revoked', subject_id: person.id,
      details: { before: { sessions: 2 }, after: { sessions: 0 }, count: 2 },
    }]);
  });
});

describe('who a provider account signs in as', () => {
  const db = () => stack.database.db;

  /** A person assetflow knows under the email the provider gives `login`. */
  async function personFor(login: string, roles: string[] = ['requester']): Promise<TestPerson> {
    const person = await createPerson(db(), roles, `Known ${login}`);
    await db()('people').where({ id: person.id }).update({ email: emailOf(login) });
    return { ...person, email: emailOf(login) };
  }

  const linkOf = async (personId: string) => db()('people').where({ id: personId }).first('oidc_issuer', 'oidc_subject');
  const sessionsOf = async (personId: string) => db()('web_sessions').where({ person_id: personId }).select('signed_in_via');
  const auditOf = async (personId: string) => db()('audit_log').where({ subject_type: 'person', subject_id: personId }).orderBy('id').select('actor', 'action', 'details');
  const oidcSessions = async () => Number((await db()('web_sessions').where({ signed_in_via: 'oidc' }).count({ n: '*' }))[0].n);

  /** Everything a refused sign-in must leave as it was. */
  async function unchanged(personId: string, work: () => Promise<void>): Promise<void> {
    const before = { link: await linkOf(personId), audit: await auditOf(personId), sessions: await oidcSessions(), people: await db()('people').count({ n: '*' }) };
    await work();
    expect({ link: await linkOf(personId), audit: await auditOf(personId), sessions: await oidcSessions(), people: await db()('people').count({ n: '*' }) }).toEqual(before);
  }

  beforeAll(async () => {
    const mappings = await call(stack, admin.apiKey, 'PUT', '/sso/role-mappings', {
      items: [{ claimValue: 'it-operations', role: 'process_owner' }, { claimValue: 'cab', role: 'approver' }, { claimValue: 'asset-team', role: 'asset_manager' }],
    });
    expect(mappings.status).toBe(200);
  });

  it('links a person by verified email at their first sign-in, refuses another account claiming that email, and finds them by subject after an admin changed their email', async () => {
    const lee = await personFor('lee');
    const first = await signInThroughProvider(webAgent(stack.baseUrl), provider, 'lee');
    expect(first.status).toBe(303);
    expect(await linkOf(lee.id)).toEqual({ oidc_issuer: provider.issuer, oidc_subject: 'lee' });
    expect((await auditOf(lee.id)).map((row) => row.action)).toEqual(['person_sso_linked', 'person_roles_synced']);
    expect((await auditOf(lee.id))[0]).toEqual({
      actor: 'system:sso', action: 'person_sso_linked',
      details: { before: { oidcIssuer: null, oidcSubject: null }, after: { oidcIssuer: provider.issuer, oidcSubject: 'lee' } },
    });

    // Another account at the provider with the same (verified) email: not lee, and nothing written.
    await unchanged(lee.id, async () => {
      const twin = webAgent(stack.baseUrl);
      const refused = await signInThroughProvider(twin, provider, 'lee-twin');
      expect(refused.status).toBe(403);
      expect(refused.html).toContain(`${lee.email} is linked to another account at Test IdP. Nobody was signed in; ask an administrator.`);
      expect(twin.cookies.has('af_session')).toBe(false);
    });

    // An admin changes lee's email in assetflow; the provider still sends the old one: lee is lee, by subject.
    const current = await fetch(`${stack.baseUrl}/people/${lee.id}`, { headers: { authorization: `Bearer ${admin.apiKey}` } });
    const changed = await fetch(`${stack.baseUrl}/people/${lee.id}`, {
      method: 'PATCH',
      headers: { authorization: `Bearer ${admin.apiKey}`, 'content-type': 'application/json', 'if-match': current.headers.get('etag')! },
      body: JSON.stringify({ email: `lee.renamed.${run}@assetflow.test` }),
    });
    expect(changed.status).toBe(200);
    const agent = webAgent(stack.baseUrl);
    const again = await signInThroughProvider(agent, provider, 'lee', '/ui/my-requests');
    expect(again.status).toBe(303);
    expect(again.location).toBe('/ui/my-requests');
    expect((await browse(agent, 'GET', '/ui/my-requests')).status).toBe(200);
    expect(await sessionsOf(lee.id)).toEqual([{ signed_in_via: 'oidc' }, { signed_in_via: 'oidc' }]);
    expect(await linkOf(lee.id)).toEqual({ oidc_issuer: provider.issuer, oidc_subject: 'lee' });
  });

  it('refuses a deactivated person, linked or not, with a clear page and no session', async () => {
    const dee = await personFor('dee');
    expect((await signInThroughProvider(webAgent(stack.baseUrl), provider, 'dee')).status).toBe(303);
    await db()('people').where({ id: dee.id }).update({ active: false, deactivated_at: db().fn.now() });
    await unchanged(dee.id, async () => {
      const agent = webAgent(stack.baseUrl);
      const refused = await signInThroughProvider(agent, provider, 'dee');
      expect(refused.status).toBe(403);
      expect(refused.html).toContain(`Your sign-in worked at Test IdP, but ${dee.email} is deactivated in assetflow.`);
      expect(agent.cookies.has('af_session')).toBe(false);
    });
    expect(await sessionsOf(dee.id)).toEqual([]);

    // Never signed in before: refused the same way, and not linked.
    const dan = await personFor('dan');
    await db()('people').where({ id: dan.id }).update({ active: false, deactivated_at: db().fn.now() });
    await unchanged(dan.id, async () => {
      const refused = await signInThroughProvider(webAgent(stack.baseUrl), provider, 'dan');
      expect(refused.status).toBe(403);
      expect(refused.html).toContain(`${dan.email} is deactivated in assetflow`);
    });
    expect(await linkOf(dan.id)).toEqual({ oidc_issuer: null, oidc_subject: null });
  });

  it('refuses an email the provider does not say is verified; OIDC_TRUST_UNVERIFIED_EMAIL accepts one it says nothing about, never one it says is not', async () => {
    const uma = await personFor('uma');
    const uly = await personFor('uly');
    for (const [person, login] of [[uma, 'uma'], [uly, 'uly']] as const) {
      await unchanged(person.id, async () => {
        const agent = webAgent(stack.baseUrl);
        const refused = await signInThroughProvider(agent, provider, login);
        expect(refused.status).toBe(403);
        expect(refused.html).toContain(`but it did not say that ${person.email} is verified`);
        expect(agent.cookies.has('af_session')).toBe(false);
      });
    }

    const trusted = await signInThroughProvider(webAgent(trustingApi.baseUrl), provider, 'uma');
    expect(trusted.status).toBe(303);
    expect(await linkOf(uma.id)).toEqual({ oidc_issuer: provider.issuer, oidc_subject: 'uma' });
    await unchanged(uly.id, async () => {
      expect((await signInThroughProvider(webAgent(trustingApi.baseUrl), provider, 'uly')).status).toBe(403);
    });
  });

  it('takes at most 200 values of the group claim, of at most 200 characters, and audits only the roles', async () => {
    const gus = await personFor('gus');
    expect((await signInThroughProvider(webAgent(stack.baseUrl), provider, 'gus')).status).toBe(303);
    const roles = await db()('person_roles').where({ person_id: gus.id }).orderBy('role').select('role', 'granted_by');
    expect(roles).toEqual([{ role: 'approver', granted_by: 'sso' }, { role: 'requester', granted_by: 'admin' }]);
    const synced = (await auditOf(gus.id)).filter((row) => row.action === 'person_roles_synced');
    expect(synced).toEqual([{ actor: 'system:sso', action: 'person_roles_synced', details: { before: { roles: ['requester'] }, after: { roles: ['approver', 'requester'] } } }]);
  });

  it('signs in two first sign-ins of a new person at once as one person, created once', async () => {
    const [one, two] = await Promise.all([
      signInThroughProvider(webAgent(trustingApi.baseUrl), provider, 'cai'),
      signInThroughProvider(webAgent(trustingApi.baseUrl), provider, 'cai'),
    ]);
    expect([one.status, two.status]).toEqual([303, 303]);
    const people = await db()('people').where({ email: emailOf('cai') }).select('id', 'oidc_subject');
    expect(people).toEqual([{ id: expect.any(String), oidc_subject: 'cai' }]);
    expect((await auditOf(people[0].id)).filter((row) => row.action === 'person_created')).toHaveLength(1);
    expect(await sessionsOf(people[0].id)).toHaveLength(2);
  });

  it('lets an admin unlink a person, audited; their next sign-in links the account that has their email then', async () => {
    const ivy = await personFor('ivy');
    expect((await signInThroughProvider(webAgent(stack.baseUrl), provider, 'ivy')).status).toBe(303);
    expect((await signInThroughProvider(webAgent(stack.baseUrl), provider, 'ivy-new')).status).toBe(403);

    expect((await call(stack, requester.apiKey, 'POST', `/people/${ivy.id}/sso-link/remove`, {})).status).toBe(403);
    expect((await call(stack, admin.apiKey, 'POST', `/people/${ivy.id}/sso-link/remove`, [])).status).toBe(400);
    expect((await call(stack, admin.apiKey, 'POST', '/people/00000000-0000-4000-8000-000000000000/sso-link/remove', {})).status).toBe(404);
    expect(await call(stack, admin.apiKey, 'POST', `/people/${ivy.id}/sso-link/remove`, {})).toEqual({
      status: 200, body: { unlinked: { issuer: provider.issuer, subject: 'ivy' } },
    });
    expect(await call(stack, admin.apiKey, 'POST', `/people/${ivy.id}/sso-link/remove`, {})).toEqual({ status: 200, body: { unlinked: null } });
    expect((await auditOf(ivy.id)).filter((row) => row.action === 'person_sso_unlinked')).toEqual([{
      actor: admin.email, action: 'person_sso_unlinked',
      details: { before: { oidcIssuer: provider.issuer, oidcSubject: 'ivy' }, after: { oidcIssuer: null, oidcSubject: null } },
    }]);

    expect((await signInThroughProvider(webAgent(stack.baseUrl), provider, 'ivy-new')).status).toBe(303);
    expect(await linkOf(ivy.id)).toEqual({ oidc_issuer: provider.issuer, oidc_subject: 'ivy-new' });
  });

  it('limits the sign-ins one address starts: 429 with Retry-After and a clear page, and no sign-in written', async () => {
    const limited = await startExtraApi(stack, {
      oidc: oidcSettingsFor(provider, 'http://127.0.0.1:9'),
      rateLimits: { ...CONFIG_RATE_LIMITS, signInStarts: { points: 2, windowMs: 60_000 } },
      trustProxy: 'loopback',
    });
    try {
      const from = (address: string) => webAgent(limited.baseUrl, { 'x-forwarded-for': address });
      const agent = from('198.51.100.7');
      expect((await browse(agent, 'GET', '/ui/sign-in/oidc')).status).toBe(303);
      expect((await browse(agent, 'GET', '/ui/sign-in/oidc')).status).toBe(303);
      const signInsBefore = await db()('oidc_sign_ins').count({ n: '*' });
      const refused = await browse(agent, 'GET', '/ui/sign-in/oidc?next=/ui/inbox');
      expect(refused.status).toBe(429);
      expect(Number(refused.headers.get('retry-after'))).toBeGreaterThan(0);
      expect(refused.html).toMatch(/Too many sign-ins were started from your address: try again in \d+ seconds\./);
      expect(refused.setCookies.some((cookie) => cookie.startsWith('af_oidc_state='))).toBe(false);
      expect(await db()('oidc_sign_ins').count({ n: '*' })).toEqual(signInsBefore);
      // Another address is not held back.
      expect((await browse(from('198.51.100.8'), 'GET', '/ui/sign-in/oidc')).status).toBe(303);
    } finally {
      await limited.stop();
    }
  });
});

describe('single sign-on\'s writes, on a database of their own', () => {
  let database: TestDatabase;
  beforeAll(async () => {
    database = await createTestDatabase();
  });
  afterAll(async () => {
    await database?.drop();
  });

  const rolesOf = async (personId: string) => database.db('person_roles').where({ person_id: personId }).orderBy('role').pluck('role');

  it('keeps admin that the group claim no longer maps to while nobody else is an active admin, and audits that it did', async () => {
    const db = database.db;
    const [{ id }] = await db('people').insert({ email: `only.admin.${run}@assetflow.test`, name: 'Only Admin' }).returning('id');
    await db('person_roles').insert([{ person_id: id, role: 'admin', granted_by: 'sso' }, { person_id: id, role: 'requester', granted_by: 'admin' }]);

    expect(await syncSsoRoles(db, id, [])).toEqual({ before: ['admin', 'requester'], after: ['admin', 'requester'], keptLastAdmin: true });
    expect(await rolesOf(id)).toEqual(['admin', 'requester']);
    expect(await db('audit_log').where({ subject_id: id }).select('action', 'details')).toEqual([{
      action: 'person_roles_synced',
      details: { before: { roles: ['admin', 'requester'] }, after: { roles: ['admin', 'requester'] }, kept: { role: 'admin', reason: 'last_active_admin' } },
    }]);

    // With another active admin, it goes.
    const [other] = await db('people').insert({ email: `other.admin.${run}@assetflow.test`, name: 'Other Admin' }).returning('id');
    await db('person_roles').insert({ person_id: other.id, role: 'admin' });
    expect(await syncSsoRoles(db, id, [])).toEqual({ before: ['admin', 'requester'], after: ['requester'], keptLastAdmin: false });
    expect(await rolesOf(id)).toEqual(['requester']);
  });

  it('creates a person once when two first sign-ins create them at once; the other finds them meanwhile', async () => {
    const person = { email: `twice.${run}@assetflow.test`, name: 'Twice', mapped: [], account: { issuer: 'https://idp.example', subject: `twice-${run}` } };
    const created = await Promise.all([createSsoPerson(database.db, person), createSsoPerson(database.db, person)]);
    expect(created.filter((id) => id !== undefined)).toHaveLength(1);
    expect(await database.db('people').where({ email: person.email }).count({ n: '*' })).toEqual([{ n: 1 }]);
    // Another account with an email someone has already: nothing written.
    expect(await createSsoPerson(database.db, { ...person, email: person.email.toUpperCase(), account: { ...person.account, subject: 'other' } })).toBeUndefined();
    expect(await database.db('people').where({ oidc_subject: 'other' }).count({ n: '*' })).toEqual([{ n: 0 }]);
  });
});
