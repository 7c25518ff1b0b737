/**
 * Every link in every email the demo sends opens a web page for the person it was sent to: the
 * demo is loaded as on a first start (its people, estate and the lifecycle workflows of its
 * assets), its first requests are submitted through the API, and once their emails are all in
 * the sink, each http(s) link of each email (text and html parts) is opened in a browser-like
 * session of the addressee, following redirects, and must answer 200. No email links an API
 * operation (a POST …/decision, a …/retry), and no time in an email is raw ISO text.
 */
import type { Knex } from 'knex';
import { submitDemoRequests } from '../demo/requests';
import { loadDemoData, type DemoPerson } from '../demo/seed';
import { UNSENT_EMAIL_STATUSES } from '../domain/email-delivery';
import type { SunkMessage } from '../platform/mail-sink';
import { startLifecycleWorkflows } from '../scripts/start-lifecycle-workflows';
import { startStack, type Stack } from './support/stack';
import { browse, signInWithKey, webAgent, type WebAgent } from './support/web-agent';

jest.setTimeout(240_000);

/** What a browser sends: the API's old links answer it with a redirect to the page. */
const BROWSER = { accept: 'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8' };
const LINK = /https?:\/\/[^\s"'<>]+/g;
const ISO_TIME = /\d{4}-\d{2}-\d{2}T\d{2}:\d{2}/;

let stack: Stack;
let db: Knex;
let people: DemoPerson[];
let numbers: string[];
let mails: SunkMessage[];

/** Waits until the outbox has nothing left to send and the sink has taken nothing new for a while. */
async function quiet(forMs: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let count = -1;
  let since = Date.now();
  while (Date.now() < deadline) {
    const unsent = Number((await db('email_log').whereIn('status', UNSENT_EMAIL_STATUSES).count({ n: '*' }))[0].n);
    const now = stack.sink.messages().length;
    if (now !== count || unsent > 0) {
      count = now;
      since = Date.now();
    } else if (Date.now() - since >= forMs) {
      return;
    }
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  throw new Error(`the demo's emails did not settle within ${timeoutMs} ms`);
}

beforeAll(async () => {
  stack = await startStack({ timeZone: 'Europe/Amsterdam' });
  db = stack.database.db;
  ({ people } = await loadDemoData(db, () => {}, new Date(), { publicKeys: true }));
  // As scripts/start.ts does on a first start: the assets' workflows (their reminders), then the requests.
  await startLifecycleWorkflows(db, stack.env.client, { taskQueue: stack.taskQueue, reminders: stack.reminders });
  numbers = await submitDemoRequests(db, stack.baseUrl, people);
  for (const number of numbers) await stack.sink.waitFor((m) => m.subject.startsWith(`Received: ${number}`), 60_000);
  await stack.sink.waitFor((m) => m.subject.startsWith('Approval needed: '), 60_000);
  await quiet(5_000, 120_000);
  mails = stack.sink.messages();
});

afterAll(async () => {
  await stack?.stop();
});

const linksOf = (mail: SunkMessage) => [
  ...new Set([...(mail.text.match(LINK) ?? []), ...((mail.html ?? '').match(LINK) ?? []).map((link) => link.replace(/&amp;/g, '&'))]),
];

/** Opens a link as a browser does, following redirects (at most ten); the last answer and where it was. */
async function open(agent: WebAgent, link: string): Promise<{ status: number; at: string }> {
  let url = new URL(link);
  for (let hop = 0; hop < 10; hop++) {
    const res = await browse(agent, 'GET', `${url.pathname}${url.search}`);
    if (res.status < 300 || res.status >= 400 || !res.location) return { status: res.status, at: url.pathname };
    url = new URL(res.location, url);
  }
  throw new Error(`${link}: more than ten redirects`);
}

it('sends the emails a first start sends: a receipt per request, approval tasks, and more', () => {
  expect(numbers).toHaveLength(5);
  expect(mails.length).toBeGreaterThanOrEqual(numbers.length + 1);
});

it('opens every link of every email with 200, signed in as the addressee (an admin for a shared mailbox)', async () => {
  const admin = people.find((p) => p.roles.includes('admin'))!;
  const byEmail = new Map(people.map((p) => [p.email.toLowerCase(), p]));
  const sessions = new Map<string, WebAgent>();
  /** A fresh web session per addressee; an address that is no demo person (security@, a group's mailbox) is read by the admin. */
  async function sessionOf(address: string): Promise<WebAgent> {
    const reader = byEmail.get(address.toLowerCase()) ?? admin;
    let agent = sessions.get(reader.email);
    if (!agent) {
      agent = webAgent(stack.baseUrl, BROWSER);
      expect((await signInWithKey(agent, reader.apiKey)).status).toBe(303);
      sessions.set(reader.email, agent);
    }
    return agent;
  }

  const failures: string[] = [];
  const opened = new Set<string>();
  for (const mail of mails) {
    for (const link of linksOf(mail)) {
      expect(link.startsWith(stack.baseUrl)).toBe(true);
      for (const address of mail.to) {
        const { status, at } = await open(await sessionOf(address), link);
        opened.add(new URL(link).pathname.replace(/[^/]+$/, ':ref'));
        if (status !== 200) failures.push(`${status} at ${at} for ${link} (to ${address}, "${mail.subject}")`);
      }
    }
  }
  expect(failures).toEqual([]);
  // The kinds of page the demo's emails reach, so that a test passing on no links at all would show.
  expect([...opened]).toEqual(expect.arrayContaining(['/approvals/:ref', '/ui/changes/:ref', '/ui/purchase-requests/:ref']));
});

it('links no API operation, and writes no time as raw ISO text', () => {
  for (const mail of mails) {
    const links = linksOf(mail);
    expect(links.filter((link) => /\/decision\b|\/retry\b/.test(link))).toEqual([]);
    expect(`${mail.subject}\n${mail.text}`).not.toMatch(/\bPOST \//);
    expect(`${mail.subject}\n${mail.text}`).not.toMatch(ISO_TIME);
  }
});

it("writes the change window and the link's expiry in the approver's zone, named", async () => {
  const [normal] = numbers;
  const task = mails.find((m) => m.subject.startsWith(`Approval needed: ${normal}`))!;
  expect(task).toBeDefined();
  const approver = await db('people').whereRaw('lower(email) = ?', [task.to[0].toLowerCase()]).first('time_zone');
  expect(approver.time_zone).toMatch(/^Europe\//);
  expect(task.text).toMatch(new RegExp(`window \\d{4}-\\d{2}-\\d{2} \\d{2}:\\d{2} \\S+ \\(${approver.time_zone}\\) to `));
  expect(task.text).toMatch(new RegExp(`expires at \\d{4}-\\d{2}-\\d{2} \\d{2}:\\d{2} \\S+ \\(${approver.time_zone}\\)\\.`));
});

it('sends a browser that opens an old API link to the page; API clients keep their JSON answer', async () => {
  const [change] = numbers;
  const asBrowser = await browse(webAgent(stack.baseUrl, BROWSER), 'GET', `/changes/${change}`);
  expect(asBrowser).toMatchObject({ status: 303, location: `/ui/changes/${change}` });
  const asset = await db('assets').orderBy('asset_tag').first('asset_tag', 'id');
  expect(await browse(webAgent(stack.baseUrl, BROWSER), 'GET', `/assets/${asset.asset_tag}`)).toMatchObject({ status: 303, location: `/ui/assets/${asset.asset_tag}` });
  const workflowId = `change:${change}`;
  expect(await browse(webAgent(stack.baseUrl, BROWSER), 'GET', `/processes/${encodeURIComponent(workflowId)}`))
    .toMatchObject({ status: 303, location: `/ui/processes/${encodeURIComponent(workflowId)}` });

  const asClient = await fetch(`${stack.baseUrl}/changes/${change}`, { redirect: 'manual' });
  expect(asClient.status).toBe(401);
  expect(((await asClient.json()) as { error: { code: string } }).error.code).toBe('unauthenticated');
  const admin = people.find((p) => p.roles.includes('admin'))!;
  const withKey = await fetch(`${stack.baseUrl}/changes/${change}`, { redirect: 'manual', headers: { ...BROWSER, authorization: `Bearer ${admin.apiKey}` } });
  expect(withKey.status).toBe(200);
  // A browser opening the page after signing in lands on it.
  const agent = webAgent(stack.baseUrl, BROWSER);
  await signInWithKey(agent, admin.apiKey);
  expect((await open(agent, `${stack.baseUrl}/purchase-requests/${numbers[3]}`)).at).toBe(`/ui/purchase-requests/${numbers[3]}`);
});
