/**
 * A person's own profile page: who they are, and the time zone they read times in, which they
 * save themselves (audited, on the version they read); admins set anyone's zone through the API
 * and the people form, checked by the same schema. Pages then show times in the chosen zone.
 */
import { createPerson, type TestPerson } from './support/fixtures';
import { startStack, type Stack } from './support/stack';
import { browse, hiddenCsrf, signInWithKey, webAgent, type WebAgent } from './support/web-agent';

let stack: Stack;
let admin: TestPerson;

beforeAll(async () => {
  stack = await startStack({ worker: false, timeZone: 'Europe/Amsterdam' });
  admin = await createPerson(stack.database.db, ['admin'], 'Ada Admin');
});

afterAll(async () => {
  await stack?.stop();
});

async function signedIn(person: TestPerson): Promise<{ agent: WebAgent; csrf: string; version: string }> {
  const agent = webAgent(stack.baseUrl);
  expect((await signInWithKey(agent, person.apiKey)).status).toBe(303);
  const page = await browse(agent, 'GET', '/ui/profile');
  return { agent, csrf: hiddenCsrf(page.html)!, version: /name="version" value="(\d+)"/.exec(page.html)![1] };
}

async function send(key: string, method: string, path: string, body?: unknown, headers: Record<string, string> = {}) {
  const res = await fetch(`${stack.baseUrl}${path}`, {
    method,
    headers: { authorization: `Bearer ${key}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}), ...headers },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json()) as Record<string, any> };
}

const zoneOf = async (id: string) => (await stack.database.db('people').where({ id }).first('time_zone')).time_zone as string | null;

it("shows who the person is, and the organisation's zone until they choose their own", async () => {
  const person = await createPerson(stack.database.db, ['requester', 'approver'], 'Paula Profile');
  const { agent } = await signedIn(person);
  const page = await browse(agent, 'GET', '/ui/profile');
  expect(page.status).toBe(200);
  expect(page.html).toContain('<dd id="profile-name">Paula Profile</dd>');
  expect(page.html).toContain(`<dd id="profile-email">${person.email}</dd>`);
  expect(page.html).toContain('<dd id="profile-roles">approver, requester</dd>');
  expect(page.html).toContain('<strong id="profile-zone">Europe/Amsterdam</strong>');
  expect(page.html).toContain('<option value="" selected>organisation default (Europe/Amsterdam)</option>');
  expect(page.html).toContain('<label for="profile-timeZone">Time zone</label>');
});

it('saves the zone the person chooses, audited, and shows times in it from then on', async () => {
  const person = await createPerson(stack.database.db, ['requester'], 'Lea Lisbon');
  const { agent, csrf, version } = await signedIn(person);
  const saved = await browse(agent, 'POST', '/ui/profile', { csrf, version, timeZone: 'Europe/Lisbon' });
  expect(saved).toMatchObject({ status: 303, location: '/ui/profile?done=saved' });
  expect(await zoneOf(person.id)).toBe('Europe/Lisbon');
  const audit = await stack.database.db('audit_log').where({ subject_id: person.id, action: 'person_updated' }).first('actor', 'details');
  expect(audit).toMatchObject({ actor: person.email, details: { before: { timeZone: null }, after: { timeZone: 'Europe/Lisbon' } } });

  const page = await browse(agent, 'GET', '/ui/profile?done=saved');
  expect(page.html).toContain('Your time zone is saved.');
  expect(page.html).toContain('<option value="Europe/Lisbon" selected>Europe/Lisbon</option>');
  expect(page.html).toMatch(/it is now \d{4}-\d{2}-\d{2} \d{2}:\d{2} \S+ \(Europe\/Lisbon\)/);

  // Back to the organisation's: the empty choice clears it.
  const cleared = await browse(agent, 'POST', '/ui/profile', { csrf, version: String(Number(version) + 1), timeZone: '' });
  expect(cleared).toMatchObject({ status: 303, location: '/ui/profile?done=saved' });
  expect(await zoneOf(person.id)).toBeNull();
});

it('refuses a zone that is none, next to the field, and an edit of a version changed meanwhile; nothing is written', async () => {
  const person = await createPerson(stack.database.db, ['requester'], 'Bea Bogus');
  const { agent, csrf, version } = await signedIn(person);
  const bogus = await browse(agent, 'POST', '/ui/profile', { csrf, version, timeZone: 'Mars/Olympus_Mons' });
  expect(bogus.status).toBe(400);
  expect(bogus.html).toContain('<p id="profile-timeZone-error" class="notice error">not a time zone: an IANA name such as Europe/Berlin</p>');
  expect(bogus.html).toContain('aria-invalid="true" aria-describedby="profile-timeZone-error"');
  expect(bogus.html).toContain('role="alert"');
  expect(await zoneOf(person.id)).toBeNull();

  expect((await send(admin.apiKey, 'PATCH', `/people/${person.id}`, { title: 'Analyst' }, { 'if-match': `"${version}"` })).status).toBe(200);
  const stale = await browse(agent, 'POST', '/ui/profile', { csrf, version, timeZone: 'Asia/Tokyo' });
  expect(stale.status).toBe(412);
  expect(stale.html).toContain('nothing was saved');
  expect(await zoneOf(person.id)).toBeNull();
});

it("lets admins set a person's zone through the API and the people form, checked alike", async () => {
  const person = await createPerson(stack.database.db, ['requester'], 'Tom Tokyo');
  const refused = await send(admin.apiKey, 'PATCH', `/people/${person.id}`, { timeZone: 'Europe/Atlantis' }, { 'if-match': '"1"' });
  expect(refused.status).toBe(400);
  expect(JSON.stringify(refused.body)).toContain('not a time zone');
  const set = await send(admin.apiKey, 'PATCH', `/people/${person.id}`, { timeZone: 'Asia/Tokyo' }, { 'if-match': '"1"' });
  expect(set).toMatchObject({ status: 200, body: { timeZone: 'Asia/Tokyo', version: 2 } });

  const { agent } = await signedIn(admin);
  const form = await browse(agent, 'GET', `/ui/people/${person.id}`);
  expect(form.html).toContain('<dd id="person-time-zone">Asia/Tokyo</dd>');
  expect(form.html).toContain('<option value="Asia/Tokyo" selected>Asia/Tokyo</option>');
  const created = await send(admin.apiKey, 'POST', '/people', { email: `zoned.${Date.now()}@assetflow.test`, name: 'Zoe Zoned', timeZone: 'America/New_York' });
  expect(created).toMatchObject({ status: 201, body: { timeZone: 'America/New_York' } });
});
