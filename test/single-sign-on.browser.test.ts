/**
 * Single sign-on as people use it, in headless Chromium, through a real OpenID Connect provider
 * (oidc-provider in a child process, its development login and consent pages): a known person
 * lands on the dashboard with the role their group claim maps to and signs out for good; an
 * unknown person is refused with a clear page; with just-in-time creation they are created.
 * Screenshots land in test-artifacts/.
 */
import { randomBytes } from 'node:crypto';
import type { Browser, Page } from 'playwright-core';
import { artifactPath, launchBrowser } from './support/browser';
import { createPerson, type TestPerson } from './support/fixtures';
import { oidcSettingsFor, startOidcProvider, type TestOidcProvider } from './support/oidc-provider';
import { call, reserveServers, startExtraApi, startStack, urlOf, type ExtraApi, type Stack } from './support/stack';

let stack: Stack;
let creatingApi: ExtraApi;
let provider: TestOidcProvider;
let browser: Browser;
let admin: TestPerson;

const run = randomBytes(3).toString('hex');
/** The provider's people; the login on its sign-in page is the key. The known one's email is in another letter case than assetflow's. */
const accounts = {
  kim: { email: `Kim.Known.${run}@Assetflow.test`, email_verified: true, name: 'Kim Known', groups: ['it-operations', 'everyone'] },
  una: { email: `una.unknown.${run}@assetflow.test`, email_verified: true, name: 'Una Unknown', groups: ['it-operations'] },
  nia: { email: `nia.new.${run}@assetflow.test`, email_verified: true, name: 'Nia New', groups: ['asset-team'] },
};

beforeAll(async () => {
  const [apiServer, creatingApiServer] = await reserveServers(2);
  const apiUrl = urlOf(apiServer);
  const creatingApiUrl = urlOf(creatingApiServer);
  [provider, browser] = await Promise.all([
    startOidcProvider({ redirectUrls: [`${apiUrl}/ui/sign-in/oidc/callback`, `${creatingApiUrl}/ui/sign-in/oidc/callback`], accounts }),
    launchBrowser(),
  ]);
  stack = await startStack({ server: apiServer, oidc: oidcSettingsFor(provider, apiUrl) });
  creatingApi = await startExtraApi(stack, { server: creatingApiServer, oidc: oidcSettingsFor(provider, creatingApiUrl, { createPeople: true }) });
  admin = await createPerson(stack.database.db, ['admin'], 'Ada Admin');
  const mappings = await call(stack, admin.apiKey, 'PUT', '/sso/role-mappings', {
    items: [{ claimValue: 'it-operations', role: 'process_owner' }, { claimValue: 'asset-team', role: 'asset_manager' }],
  });
  expect(mappings.status).toBe(200);
});

afterAll(async () => {
  await browser?.close();
  await creatingApi?.stop();
  await stack?.stop();
  await provider?.stop();
});

async function newPage(): Promise<Page> {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  return context.newPage();
}

/** From assetflow's sign-in page through the provider's login and consent pages; answers the response of the callback. */
async function signInAtProvider(page: Page, baseUrl: string, login: string) {
  await page.goto(`${baseUrl}/ui/sign-in`);
  await page.getByRole('link', { name: 'Sign in with Test IdP' }).click();
  await page.waitForURL((url) => url.href.startsWith(provider.issuer));
  await page.locator('input[name="login"]').fill(login);
  await page.locator('input[name="password"]').fill('any password');
  await page.getByRole('button', { name: 'Sign-in' }).click();
  const callback = page.waitForResponse((res) => res.url().startsWith(`${baseUrl}/ui/sign-in/oidc/callback`));
  await page.getByRole('button', { name: 'Continue' }).click();
  return callback;
}

it('a known person signs in at the provider, lands on the dashboard with the role their group maps to, and signs out for good', async () => {
  const db = stack.database.db;
  const kim = await createPerson(db, ['requester'], 'Kim Known');
  // The person assetflow knows, under the email the provider gives (in lower case).
  await db('people').where({ id: kim.id }).update({ email: accounts.kim.email.toLowerCase() });

  const page = await newPage();
  const callback = await signInAtProvider(page, stack.baseUrl, 'kim');
  expect(callback.status()).toBe(303);
  await page.getByRole('heading', { level: 1, name: 'Dashboard' }).waitFor();
  expect(new URL(page.url()).pathname).toBe('/ui');
  const who = await page.locator('.who').textContent();
  expect(who).toContain('Kim Known');
  expect(who).toContain('process owner');
  expect(who).toContain('requester');
  await page.screenshot({ path: artifactPath('single-sign-on-dashboard.png'), fullPage: true });

  const roles = await db('person_roles').where({ person_id: kim.id }).orderBy('role').select('role', 'granted_by');
  expect(roles).toEqual([{ role: 'process_owner', granted_by: 'sso' }, { role: 'requester', granted_by: 'admin' }]);
  const synced = await db('audit_log').where({ subject_type: 'person', subject_id: kim.id, action: 'person_roles_synced' }).select('actor', 'details');
  // Only the roles, never the provider's group claim.
  expect(synced).toEqual([{ actor: 'system:sso', details: { before: { roles: ['requester'] }, after: { roles: ['process_owner', 'requester'] } } }]);
  // Found by email this first time, and linked to the provider account from now on.
  expect(await db('people').where({ id: kim.id }).first('oidc_issuer', 'oidc_subject')).toEqual({ oidc_issuer: provider.issuer, oidc_subject: 'kim' });
  const sessions = await db('web_sessions').where({ person_id: kim.id }).select('signed_in_via');
  expect(sessions).toEqual([{ signed_in_via: 'oidc' }]);
  expect(await db('oidc_sign_ins').select('state_hash')).toEqual([]);
  // The provider's answer, replayed with its state cookie, signs nobody in again: the sign-in was spent.
  const state = new URL(callback.url()).searchParams.get('state')!;
  const replayedAnswer = await fetch(callback.url(), { headers: { cookie: `af_oidc_state=${state}` }, redirect: 'manual' });
  expect(replayedAnswer.status).toBe(400);
  expect(await db('web_sessions').where({ person_id: kim.id }).select('signed_in_via')).toEqual([{ signed_in_via: 'oidc' }]);

  const cookie = (await page.context().cookies()).find((c) => c.name === 'af_session')!;
  await page.locator('.who').getByRole('button', { name: 'Sign out' }).click();
  await page.getByRole('heading', { level: 1, name: 'Sign in' }).waitFor();
  expect(await db('web_sessions').where({ person_id: kim.id }).select('id_hash')).toEqual([]);
  // The old cookie, replayed, opens nothing: the session ended on the server.
  const replayed = await fetch(`${stack.baseUrl}/ui`, { headers: { cookie: `af_session=${cookie.value}` }, redirect: 'manual' });
  expect(replayed.status).toBe(303);
  expect(replayed.headers.get('location')).toMatch(/^\/ui\/sign-in/);
  await page.context().close();
});

it('a person the provider knows and assetflow does not is refused with a clear page, and nothing is created', async () => {
  const db = stack.database.db;
  const peopleBefore = await db('people').count({ n: '*' });

  const page = await newPage();
  const callback = await signInAtProvider(page, stack.baseUrl, 'una');
  expect(callback.status()).toBe(403);
  const alert = await page.getByRole('alert').textContent();
  expect(alert).toBe(`Your sign-in worked at Test IdP, but ${accounts.una.email} is not a person in assetflow. Ask an administrator to add you.`);
  await page.screenshot({ path: artifactPath('single-sign-on-unknown-person.png'), fullPage: true });

  expect(await db('people').count({ n: '*' })).toEqual(peopleBefore);
  expect(await db('people').whereRaw('lower(email) = ?', [accounts.una.email]).first()).toBeUndefined();
  expect(await db('web_sessions').where({ signed_in_via: 'oidc' }).select('id_hash')).toEqual([]);
  expect(await db('oidc_sign_ins').select('state_hash')).toEqual([]);
  // Opening the web UI still asks to sign in.
  await page.goto(`${stack.baseUrl}/ui`);
  expect(new URL(page.url()).pathname).toBe('/ui/sign-in');
  await page.context().close();
});

it('with just-in-time creation, an unknown person is created as a requester with their mapped roles and signed in', async () => {
  const db = stack.database.db;
  const page = await newPage();
  const callback = await signInAtProvider(page, creatingApi.baseUrl, 'nia');
  expect(callback.status()).toBe(303);
  await page.getByRole('heading', { level: 1, name: 'Dashboard' }).waitFor();
  expect(await page.locator('.who').textContent()).toContain('Nia New');
  await page.screenshot({ path: artifactPath('single-sign-on-created-person.png'), fullPage: true });

  const nia = await db('people').where({ email: accounts.nia.email }).first('id', 'name', 'active');
  expect(nia).toMatchObject({ name: 'Nia New', active: true });
  const roles = await db('person_roles').where({ person_id: nia.id }).orderBy('role').select('role', 'granted_by');
  expect(roles).toEqual([{ role: 'asset_manager', granted_by: 'sso' }, { role: 'requester', granted_by: 'admin' }]);
  const created = await db('audit_log').where({ subject_type: 'person', subject_id: nia.id }).select('actor', 'action', 'details');
  expect(created).toEqual([{
    actor: 'system:sso',
    action: 'person_created',
    details: {
      before: null,
      after: { email: accounts.nia.email, name: 'Nia New', roles: ['asset_manager', 'requester'], oidcIssuer: provider.issuer, oidcSubject: 'nia' },
    },
  }]);
  expect(await db('web_sessions').where({ person_id: nia.id }).select('signed_in_via')).toEqual([{ signed_in_via: 'oidc' }]);
  await page.context().close();
});
