/**
 * Budgets watched (issue 17): the budget watch workflow emails a cost centre's owner when the month's
 * actual and committed spend reaches 80% of its budget and again at 100%, once each per month,
 * however many runs see it (one after another or side by side); a month of its own starts over; a
 * cost centre without an active owner is told to the process owners. On a real Temporal dev server,
 * Postgres and SMTP sink. Every test counts only its own cost centre's rows and emails.
 */
import { randomBytes } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import express from 'express';
import { sendBudgetsCsv } from '../api/routes/budgets';
import type { Database } from '../platform/database';
import type { BudgetWatchOutcome } from '../workflows/budget-watch/contract';
import { createCostCentre, createPerson, eventually, type TestPerson } from './support/fixtures';
import { call, send, startStack, type Stack } from './support/stack';
import { browse, signInWithKey, webAgent } from './support/web-agent';
import { recordHistory } from './support/histories';

let stack: Stack;
let owner: TestPerson;
let processOwner: TestPerson;
let assetManager: TestPerson;

beforeAll(async () => {
  stack = await startStack();
  const db = stack.database.db;
  owner = await createPerson(db, [], 'Olga Budgetowner');
  processOwner = await createPerson(db, ['process_owner'], 'Pia Processowner');
  assetManager = await createPerson(db, ['asset_manager'], 'Arno Assetmanager');
});

afterAll(async () => {
  await stack?.stop();
});

const unique = () => randomBytes(3).toString('hex').toUpperCase();

/** A cost centre of its own, owned by `ownerId`, with a budget of 100,000 minor units (EUR 1,000.00 unless told) in each month named. */
async function watchedCostCentre(label: string, periods: string[], ownerId: string | null = owner.id, currency = 'EUR'): Promise<{ id: string; code: string }> {
  const db = stack.database.db;
  const code = `CC-BW-${label}-${unique()}`;
  const id = await createCostCentre(db, code, `Budget watch ${label}`, null);
  await db('cost_centres').where({ id }).update({ owner_id: ownerId });
  await db('budgets').insert(periods.map((period) => ({ cost_centre_id: id, period_start: `${period}-01`, amount_minor: 100_000, currency })));
  return { id, code };
}

let records = 0;

/** A cost record of the cost centre charged on the 10th of the month. */
async function spend(costCentreId: string, period: string, billed: string, currency = 'EUR'): Promise<void> {
  records += 1;
  const start = new Date(`${period}-10T08:00:00Z`);
  await stack.database.db('cost_records').insert({
    source_key: `budget-watch-test:${costCentreId}:${records}`,
    billing_period_start: `${period}-01`,
    billing_period_end: `${period}-28`,
    charge_period_start: start,
    charge_period_end: new Date(start.getTime() + 3_600_000),
    charge_category: 'Usage',
    provider_name: 'Test Cloud',
    service_name: 'Compute',
    billed_cost: billed,
    effective_cost: billed,
    billing_currency: currency,
    cost_centre_id: costCentreId,
  });
}

let lastWorkflowId = '';
/** One run of the watch, as the schedule or a cost import starts it. */
const watch = (period?: string) => {
  lastWorkflowId = `budget-watch-test-${unique()}`;
  return stack.env.client.workflow.execute('budgetWatchWorkflow', {
    taskQueue: stack.taskQueue, workflowId: lastWorkflowId, args: [period ? { period } : {}],
  }) as Promise<BudgetWatchOutcome>;
};

/** The cost centre's budget alert emails in the outbox, oldest first. */
const outbox = (costCentreId: string) => stack.database.db('email_log')
  .where({ subject_id: costCentreId, template: 'budget_alert' }).orderBy('created_at').select('recipients', 'subject', 'body_text');
const alertRows = (costCentreId: string) => stack.database.db('budget_alerts').where({ cost_centre_id: costCentreId }).orderBy(['period_start', 'threshold']);

it('emails the owner once when the month reaches 80%, however many runs see it, one after another or side by side', async () => {
  const db = stack.database.db;
  const cc = await watchedCostCentre('eighty', ['2032-05']);
  await spend(cc.id, '2032-05', '500.00');
  // Spend in another currency is not compared with the budget, nor is another month's.
  await spend(cc.id, '2032-05', '900.00', 'USD');
  await spend(cc.id, '2032-04', '900.00');

  const below = await watch('2032-05');
  expect(below).toMatchObject({ period: '2032-05', alertsSent: 0 });
  expect(below.budgets).toBeGreaterThanOrEqual(1);
  expect(await outbox(cc.id)).toHaveLength(0);

  // 800.004 EUR: 80% to the cent.
  await spend(cc.id, '2032-05', '300.004');
  const reached = await watch('2032-05');
  await recordHistory(stack.env.client, lastWorkflowId, 'budget-watch-alert-sent.json');
  expect(reached.alertsSent).toBeGreaterThanOrEqual(1);
  const again = await Promise.all([watch('2032-05'), watch('2032-05'), watch('2032-05')]);
  await watch('2032-05');

  const emails = await outbox(cc.id);
  expect(emails).toHaveLength(1);
  expect(emails[0].recipients).toEqual([owner.email]);
  expect(emails[0].subject).toBe(`Budget 80% used: ${cc.code} Budget watch eighty, May 2032`);
  const text: string = emails[0].body_text;
  expect(text).toContain(`Hello ${owner.name},`);
  expect(text).toContain(`Cost centre ${cc.code} "Budget watch eighty" has used 80% of its budget for May 2032: 80% is spent or committed.`);
  expect(text).toContain('Budget:    EUR 1,000.00');
  expect(text).toContain('Actual:    EUR 800.00');
  expect(text).toContain('Committed: EUR 0.00');
  expect(text).toContain('Share used: 80%');
  expect(text).toContain('Remaining: EUR 200.00');
  expect(text).toContain(`${stack.baseUrl}/ui/finops?period=2032-05`);
  expect(text).toContain('as the cost centre\'s owner');
  expect(again.every((run) => run.alertsSent === 0)).toBe(true);

  expect(await alertRows(cc.id)).toEqual([expect.objectContaining({ threshold: 80, budget_minor: 100_000, spent_minor: 80_000, currency: 'EUR', owner_id: owner.id })]);
  const audit = await db('audit_log').where({ subject_id: cc.id, action: 'budget_alert_sent' });
  expect(audit).toHaveLength(1);
  expect(audit[0]).toMatchObject({ actor: 'system:budget-watch', subject_type: 'cost_centre' });
  expect(audit[0].details).toMatchObject({ period: '2032-05', threshold: 80, notified: [owner.email], addressedTo: 'owner' });

  // Sent through the outbox to the owner, once.
  const sent = await stack.sink.waitFor((m) => m.subject.includes(cc.code));
  expect(sent.to).toEqual([owner.email]);
  expect(sent.text).toContain(`${stack.baseUrl}/ui/finops?period=2032-05`);
  await new Promise((resolve) => setTimeout(resolve, 300));
  expect(stack.sink.messages().filter((m) => m.subject.includes(cc.code))).toHaveLength(1);
});

it('sends the 100% email once when spend passes the budget, both in order when a month jumps past it, and starts over in another month', async () => {
  const cc = await watchedCostCentre('hundred', ['2032-06', '2032-07', '2032-08']);
  await spend(cc.id, '2032-06', '850.00');
  await watch('2032-06');
  await spend(cc.id, '2032-06', '200.00');
  await Promise.all([watch('2032-06'), watch('2032-06')]);
  await watch('2032-06');
  expect((await outbox(cc.id)).map((e) => e.subject)).toEqual([
    `Budget 80% used: ${cc.code} Budget watch hundred, June 2032`,
    `Budget used up: ${cc.code} Budget watch hundred, June 2032`,
  ]);
  expect((await outbox(cc.id))[1].body_text).toContain('Remaining: EUR -50.00');

  // July jumps from nothing past 100% at once: both alerts, 80% first.
  await spend(cc.id, '2032-07', '1500.00');
  await watch('2032-07');
  await watch('2032-07');
  // August starts over at 80%.
  await spend(cc.id, '2032-08', '810.00');
  await watch('2032-08');

  const subjects = (await outbox(cc.id)).map((e) => e.subject);
  expect(subjects.slice(2)).toEqual([
    `Budget 80% used: ${cc.code} Budget watch hundred, July 2032`,
    `Budget used up: ${cc.code} Budget watch hundred, July 2032`,
    `Budget 80% used: ${cc.code} Budget watch hundred, August 2032`,
  ]);
  expect(await alertRows(cc.id)).toHaveLength(5);
  const july = (await stack.database.db('budget_alerts').where({ cost_centre_id: cc.id, period_start: '2032-07-01' }).orderBy('sent_at')).map((a) => a.threshold);
  expect(july).toEqual([80, 100]);
});

it('reads a yen budget in whole yen: the 80% email at 80% exactly, not at 0.8%', async () => {
  const cc = await watchedCostCentre('yen', ['2032-11'], owner.id, 'JPY');
  await spend(cc.id, '2032-11', '79999', 'JPY');
  await watch('2032-11');
  expect(await outbox(cc.id)).toHaveLength(0);

  await spend(cc.id, '2032-11', '1', 'JPY');
  await watch('2032-11');
  const emails = await outbox(cc.id);
  expect(emails.map((e) => e.subject)).toEqual([`Budget 80% used: ${cc.code} Budget watch yen, November 2032`]);
  expect(emails[0].body_text).toContain('Budget:    JPY 100,000');
  expect(emails[0].body_text).toContain('Actual:    JPY 80,000');
  expect(emails[0].body_text).toContain('Share used: 80%');
  expect(await alertRows(cc.id)).toEqual([expect.objectContaining({ threshold: 80, budget_minor: 100_000, spent_minor: 80_000, currency: 'JPY' })]);
});

it('tells the process owners when the cost centre has no active owner, and says so', async () => {
  const db = stack.database.db;
  const gone = await createPerson(db, [], 'Gone Budgetowner');
  await db('people').where({ id: gone.id }).update({ active: false });
  const ownerless = await watchedCostCentre('ownerless', ['2032-09'], null);
  const inactive = await watchedCostCentre('inactive', ['2032-09'], gone.id);
  await spend(ownerless.id, '2032-09', '999.99');
  await spend(inactive.id, '2032-09', '999.99');
  await watch('2032-09');

  for (const cc of [ownerless, inactive]) {
    const emails = await outbox(cc.id);
    expect(emails.map((e) => e.recipients)).toEqual([[processOwner.email]]);
    expect(emails[0].body_text).toContain(`You receive this as a process owner: cost centre ${cc.code} has no active owner to tell.`);
    expect(emails[0].body_text).not.toContain(gone.email);
  }
});

it('runs for the month it starts in when no month is named', async () => {
  const outcome = await watch();
  expect(outcome.period).toBe(new Date().toISOString().slice(0, 7));
});

it('runs the watch on demand for process owners, for this month or the last only', async () => {
  const current = new Date().toISOString().slice(0, 7);
  const previous = new Date(Date.UTC(new Date().getUTCFullYear(), new Date().getUTCMonth() - 1, 1)).toISOString().slice(0, 7);
  const cc = await watchedCostCentre('demand', [current]);
  await spend(cc.id, current, '850.00');

  expect((await call(stack, assetManager.apiKey, 'POST', '/finops/budget-watch/run', {})).status).toBe(403);
  expect((await call(stack, processOwner.apiKey, 'POST', '/finops/budget-watch/run', { period: '2032-13' })).status).toBe(400);
  for (const period of ['2019-03', '2032-10']) {
    const refused = await call(stack, processOwner.apiKey, 'POST', '/finops/budget-watch/run', { period });
    expect(refused.status).toBe(400);
    expect(refused.body.error.message).toBe(
      `the budget watch runs on demand for this month (${current}) or the last (${previous}) only, as after a cost import, not for ${period}: `
        + 'alerts for another month would tell owners of spend they can no longer act on; GET /finops/budgets shows any month',
    );
  }

  const run = await call(stack, processOwner.apiKey, 'POST', '/finops/budget-watch/run', {});
  expect(run.status).toBe(200);
  expect(run.body).toMatchObject({ period: current, alertsSent: expect.any(Number) });
  expect(run.body.workflowId).toMatch(/^budget-watch:run:/);
  // Another test's run of this month may have told it first: once either way.
  expect((await outbox(cc.id)).map((e) => e.subject)).toEqual([`Budget 80% used: ${cc.code} Budget watch demand, ${new Date(`${current}-01T00:00:00Z`).toLocaleString('en-GB', { month: 'long', year: 'numeric', timeZone: 'UTC' })}`]);
  const last = await call(stack, processOwner.apiKey, 'POST', '/finops/budget-watch/run', { period: previous });
  expect(last.status).toBe(200);
  expect(last.body.period).toBe(previous);
});

/** The cost centre's line of the month, found page by page as a client walks them. */
async function listedLine(code: string, period: string): Promise<Record<string, unknown> | undefined> {
  for (let offset = 0; ; offset += 200) {
    const listed = await call(stack, assetManager.apiKey, 'GET', `/finops/budgets?period=${period}&limit=200&offset=${offset}`);
    expect(listed.status).toBe(200);
    const line = listed.body.items.find((l: { costCentre: { code: string } }) => l.costCentre.code === code);
    if (line || offset + 200 >= listed.body.page.total) return line;
  }
}

it('answers every cost centre\'s month in JSON pages and CSV, and shows the FinOps page a page at a time', async () => {
  const cc = await watchedCostCentre('api', ['2032-10']);
  const bare = `CC-BW-NONE-${unique()}`;
  await createCostCentre(stack.database.db, bare, 'Budget watch none', null);
  await spend(cc.id, '2032-10', '123.456789');
  await spend(cc.id, '2032-10', '700.00');
  expect(await watch('2032-10')).toMatchObject({ period: '2032-10' });

  const first = await call(stack, assetManager.apiKey, 'GET', '/finops/budgets?period=2032-10&limit=1');
  expect(first.status).toBe(200);
  expect(first.body.items).toHaveLength(1);
  expect(first.body.page).toEqual({ limit: 1, offset: 0, total: expect.any(Number) });
  expect(first.body.page.total).toBeGreaterThanOrEqual(2);
  const second = await call(stack, assetManager.apiKey, 'GET', '/finops/budgets?period=2032-10&limit=1&offset=1');
  expect(second.body.items[0].costCentre.code > first.body.items[0].costCentre.code).toBe(true);
  expect((await call(stack, assetManager.apiKey, 'GET', '/finops/budgets?period=2032-10&limit=201')).status).toBe(400);

  const line = await listedLine(cc.code, '2032-10');
  expect(line).toMatchObject({
    currency: 'EUR', budgetMinor: 100_000, actualMinor: 82_346, committedMinor: 0, remainingMinor: 17_654, shareUsedPercent: 82,
    owner: { email: owner.email, active: true },
    alerts: [{ threshold: 80, sentAt: expect.any(String) }],
  });
  expect(await listedLine(bare, '2032-10'))
    .toMatchObject({ currency: null, budgetMinor: null, actualMinor: null, shareUsedPercent: null, alerts: [] });
  expect((await call(stack, assetManager.apiKey, 'GET', '/finops/budgets?period=2032-1')).status).toBe(400);

  const csv = await send(stack, assetManager.apiKey, 'GET', '/finops/budgets?period=2032-10&format=csv');
  expect(csv.status).toBe(200);
  expect(csv.headers.get('content-type')).toMatch(/^text\/csv/);
  const lines = csv.text.trim().split('\n');
  expect(lines[0]).toBe('period,cost_centre_code,cost_centre_name,owner_email,currency,budget_minor,actual_minor,committed_minor,remaining_minor,share_used_percent,alert_80_sent_at,alert_100_sent_at');
  expect(lines.find((l) => l.includes(cc.code))).toMatch(new RegExp(`^2032-10,${cc.code},Budget watch api,${owner.email.replace(/\./g, '\\.')},EUR,100000,82346,0,17654,82,\\d{4}-\\d{2}-\\d{2}T[^,]+,$`));

  const agent = webAgent(stack.baseUrl);
  await signInWithKey(agent, assetManager.apiKey);
  const page = await browse(agent, 'GET', '/ui/finops?period=2032-10');
  expect(page.status).toBe(200);
  expect(page.html).toContain('<h2 id="budgets-heading">Budgets, October 2032</h2>');
  expect(page.html).toContain('id="budget-share-chart"');
  expect(page.html).toContain(`id="budget-${cc.code}"`);
  expect(page.html).toContain('82%, 80% reached');
  expect(page.html).toContain('100% (budget)');
  expect(page.html).toContain('href="/ui/finops/allocations?period=2032-10"');
  expect(page.html).toContain('<th scope="col" class="num">Actual (billed, as invoiced)</th>');
  expect(page.html).toContain('The cost allocation counts the effective cost instead and spreads purchases as depreciation and amortisation: <a href="/ui/finops/allocations?period=2032-10">the accrual view of October 2032</a>');
  const paged = await browse(agent, 'GET', '/ui/finops?period=2032-10&limit=1&offset=1');
  expect(paged.status).toBe(200);
  expect(paged.html).toMatch(/<nav class="pager" aria-label="Pages"><span>2–2 of \d+<\/span><a href="\/ui\/finops\?period=2032-10&amp;limit=1" rel="prev">/);
  expect((await browse(agent, 'GET', '/ui/finops?period=2032-10&limit=0')).status).toBe(400);
  expect(page.html).toContain('href="/ui/finops?period=2032-09"');
  expect(page.html).toContain('<h2 id="unbudgeted-heading">No budget for October 2032</h2>');
  expect((await browse(agent, 'GET', '/ui/finops?period=October')).status).toBe(400);

  const requester = await createPerson(stack.database.db, ['requester'], 'Rita Budgetrequester');
  const other = webAgent(stack.baseUrl);
  await signInWithKey(other, requester.apiKey);
  expect((await browse(other, 'GET', '/ui/finops')).status).toBe(403);
  await eventually(async () => stack.sink.messages().some((m) => m.subject.includes(cc.code)));
});

it('cuts the CSV when the database fails after the first batch, so that the file is seen as cut', async () => {
  let reads = 0;
  // A database that answers a full first batch of cost centres, then fails.
  const db = {
    raw: async (_sql: string, bindings: { limit: number }) => {
      reads += 1;
      if (reads > 1) throw new Error('the database went away');
      return {
        rows: Array.from({ length: bindings.limit }, (_, i) => ({
          id: `id-${i}`, code: `CC-${String(i).padStart(4, '0')}`, name: 'Cut', owner_id: null, owner_name: null, owner_email: null, owner_active: null,
          budget: null, budget_currency: null, spent: 0, committed: 0, alerts: [],
        })),
      };
    },
  } as unknown as Database;
  const app = express();
  app.get('/budgets.csv', (req, res, next) => {
    sendBudgetsCsv(Object.assign(req, { log: { warn: () => undefined } }) as unknown as express.Request, res, db, '2032-10').catch(next);
  });
  const server = app.listen(0);
  try {
    const response = await fetch(`http://127.0.0.1:${(server.address() as AddressInfo).port}/budgets.csv`);
    expect(response.status).toBe(200);
    await expect(response.text()).rejects.toThrow('terminated');
    expect(reads).toBe(2);
  } finally {
    server.close();
  }
});
