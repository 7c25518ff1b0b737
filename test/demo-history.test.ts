/**
 * The demo tells a story (issue 15, item 7): its first load also records sixteen weeks of finished
 * changes and purchase requests, so that the dashboard has throughput, the process pages have
 * timelines and approvals, and nothing of it is open, breached or sent again; the live demo
 * requests still behave as they did.
 */
import type { Knex } from 'knex';
import { HISTORY_CHANGES } from '../demo/data/history';
import { submitDemoRequests } from '../demo/requests';
import { loadDemoData, type DemoPerson } from '../demo/seed';
import { createTestDatabase } from './support/database';
import { eventually } from './support/fixtures';
import { call, startStack, type Stack } from './support/stack';
import { browse, hiddenCsrf, webAgent } from './support/web-agent';

const NOW = new Date();
const PROCESS_OWNER_KEY = 'af_demo_claire_dubois';

let stack: Stack;
let db: Knex;
let people: DemoPerson[];
let loadMs: number;

beforeAll(async () => {
  stack = await startStack();
  db = stack.database.db;
  const started = Date.now();
  ({ people } = await loadDemoData(db, () => {}, NOW, { publicKeys: true }));
  loadMs = Date.now() - started;
});

afterAll(async () => {
  await stack?.stop();
});

const count = async (query: Knex.QueryBuilder) => Number((await query.count<{ count: string | number }[]>({ count: '*' }))[0].count);
const historicWorkflowIds = async (target: Knex) => (await target('processes').whereIn('process', ['change', 'procurement']).where('started_at', '<', NOW).pluck('workflow_id')) as string[];

it('records sixteen weeks of finished changes of every type and finished purchases, none of them open or breached', async () => {
  const changes: { type: string; close_code: string; n: number }[] = (await db.raw(
    `SELECT type, close_code, count(*)::int AS n FROM change_requests WHERE created_at < ? GROUP BY 1, 2`, [NOW])).rows;
  const total = changes.reduce((sum, r) => sum + r.n, 0);
  expect(total).toBe(HISTORY_CHANGES);
  for (const type of ['standard', 'normal', 'emergency']) {
    expect(changes.find((r) => r.type === type && r.close_code === 'successful')?.n ?? 0).toBeGreaterThan(0);
  }
  const successful = changes.filter((r) => r.close_code === 'successful').reduce((sum, r) => sum + r.n, 0);
  expect(successful / total).toBeGreaterThan(0.6);
  for (const code of ['rejected', 'cancelled', 'unsuccessful', 'successful_with_issues']) {
    expect(changes.some((r) => r.close_code === code)).toBe(true);
  }
  const purchases: Record<string, number> = Object.fromEntries((await db.raw(
    `SELECT state, count(*)::int AS n FROM purchase_requests WHERE created_at < ? GROUP BY 1`, [NOW])).rows.map((r: { state: string; n: number }) => [r.state, r.n]));
  expect(purchases.closed).toBeGreaterThan((purchases.rejected ?? 0) + (purchases.cancelled ?? 0));
  expect(purchases.rejected).toBeGreaterThan(0);
  expect(purchases.cancelled).toBeGreaterThan(0);

  // Finished at recorded times in the past; nothing waits, nothing is due.
  const index = await db('processes').whereIn('process', ['change', 'procurement']).where('started_at', '<', NOW)
    .select('started_at', 'finished_at', 'sla_due_at', 'waiting_for', 'state_entered_at');
  expect(index).toHaveLength(total + Object.values(purchases).reduce((a, b) => a + b, 0));
  for (const p of index) {
    expect(p.finished_at).not.toBeNull();
    expect(p.sla_due_at).toBeNull();
    expect(p.waiting_for).toEqual([]);
    expect(p.finished_at.getTime()).toBeLessThanOrEqual(NOW.getTime());
    expect(p.started_at.getTime()).toBeLessThan(p.finished_at.getTime());
    expect(p.state_entered_at.getTime()).toBe(p.finished_at.getTime());
  }
  const historic = await historicWorkflowIds(db);
  expect(await count(db('approvals').where({ state: 'requested' }).whereIn('workflow_id', historic))).toBe(0);
  // Every delivered unit tracked as an asset is an asset of the estate, and its cost is in the month it arrived.
  const received = await db('receipts as r').join('assets as a', 'a.receipt_id', 'r.id').select('a.serial_number', 'r.serial_numbers');
  expect(received.length).toBeGreaterThan(5);
  for (const r of received) expect(r.serial_numbers).toEqual([r.serial_number]);
  expect(await count(db('purchase_orders').whereNotIn('state', ['closed', 'cancelled']).whereIn('purchase_request_id', db('purchase_requests').whereIn('workflow_id', historic).select('id')))).toBe(0);
  console.log(`demo load with its history: ${loadMs} ms; ${total} changes, ${JSON.stringify(purchases)} purchase requests`);
});

it('shows the dashboard weeks of throughput, started and finished, and SLA figures, to a process owner (JSON and page)', async () => {
  const { status, body } = await call(stack, PROCESS_OWNER_KEY, 'GET', '/processes/dashboard?weeks=8');
  expect(status).toBe(200);
  const throughput = body.throughput as { week: string; process: string; started: number; finished: number }[];
  const weeksWith = (process: string, field: 'started' | 'finished') => new Set(throughput.filter((t) => t.process === process && t[field] > 0).map((t) => t.week)).size;
  expect(weeksWith('change', 'finished')).toBeGreaterThanOrEqual(5);
  expect(weeksWith('change', 'started')).toBeGreaterThanOrEqual(5);
  expect(weeksWith('procurement', 'finished')).toBeGreaterThanOrEqual(3);
  expect(weeksWith('procurement', 'started')).toBeGreaterThanOrEqual(3);
  const finished = (process: string, state: string) => body.byTypeAndState.find((r: { process: string; state: string; open: boolean }) => r.process === process && r.state === state && !r.open)?.count ?? 0;
  expect(finished('change', 'closed')).toBe(HISTORY_CHANGES);
  expect(finished('procurement', 'closed')).toBeGreaterThan(0);
  expect(body.slaBreached.filter((b: { process: string }) => b.process !== 'asset_lifecycle')).toEqual([]);
  expect(body.ageing.filter((a: { process: string }) => a.process !== 'asset_lifecycle')).toEqual([]);

  const agent = webAgent(stack.baseUrl);
  const form = await browse(agent, 'GET', '/ui/sign-in');
  await browse(agent, 'POST', '/ui/sign-in', { csrf: hiddenCsrf(form.html)!, apiKey: PROCESS_OWNER_KEY, next: '/ui' });
  const page = await browse(agent, 'GET', '/ui');
  expect(page.status).toBe(200);
  const table = /<table id="throughput-table">([\s\S]*?)<\/table>/.exec(page.html)![1];
  const rows = [...table.matchAll(/<tr><th scope="row">([^<]+)<\/th>((?:<td class="num">\d+<\/td>)+)<\/tr>/g)]
    .map((m) => [...m[2].matchAll(/>(\d+)</g)].map((n) => Number(n[1])));
  expect(rows).toHaveLength(8);
  // The last two cells are all started and all finished.
  expect(rows.filter((cells) => cells[cells.length - 1] > 0).length).toBeGreaterThanOrEqual(5);
  expect(rows.filter((cells) => cells[cells.length - 2] > 0).length).toBeGreaterThanOrEqual(5);
  expect(page.html).toContain('No open process is past its SLA target.');
});

it('answers for a historic change and purchase from the recorded rows: the API, the process and the pages', async () => {
  const change = await db('change_requests').where({ type: 'emergency', close_code: 'successful' }).orderBy('number').first('number', 'workflow_id');
  const detail = await call(stack, PROCESS_OWNER_KEY, 'GET', `/changes/${change.number}`);
  expect(detail.status).toBe(200);
  expect(detail.body).toMatchObject({ number: change.number, state: 'closed', closeCode: 'successful', status: null });
  // Its workflow ran nowhere (recorded history): the answer says it could not be asked, not that it waited out the deadline.
  expect(detail.body.statusUnavailable).toMatch(/^the live status is unavailable: the workflow could not be asked/);
  expect(detail.body.impact.services).toBeDefined();
  expect(detail.body.approvals.some((a: { state: string }) => a.state === 'approved')).toBe(true);
  expect(detail.body.history.map((h: { action: string }) => h.action)).toEqual(expect.arrayContaining(['submitted', 'assessed', 'implementation_started', 'implementation_completed', 'reviewed']));

  const process = await call(stack, PROCESS_OWNER_KEY, 'GET', `/processes/${encodeURIComponent(change.workflow_id)}`);
  expect(process.status).toBe(200);
  expect(process.body.process).toMatchObject({ state: 'closed', outcome: 'successful', slaBreached: false });
  expect(process.body.timeline.length).toBeGreaterThan(8);

  const purchase = await db('purchase_requests').where({ state: 'closed' }).orderBy('number').first('number', 'workflow_id');
  expect((await call(stack, PROCESS_OWNER_KEY, 'GET', `/purchase-requests/${purchase.number}`)).status).toBe(200);

  const agent = webAgent(stack.baseUrl);
  const form = await browse(agent, 'GET', '/ui/sign-in');
  await browse(agent, 'POST', '/ui/sign-in', { csrf: hiddenCsrf(form.html)!, apiKey: PROCESS_OWNER_KEY, next: '/ui' });
  for (const workflowId of [change.workflow_id, purchase.workflow_id]) {
    const page = await browse(agent, 'GET', `/ui/processes/${encodeURIComponent(workflowId)}`);
    expect(page.status).toBe(200);
    expect(page.html).toContain(workflowId.split(':')[1]);
  }
});

it('sends no email for the history; the live demo requests follow it in number and behave as before', async () => {
  const historic = await historicWorkflowIds(db);
  const lastChange = (await db('change_requests').max<{ max: string }[]>({ max: 'number' }))[0].max;
  expect(await count(db('email_log').whereIn('workflow_id', historic))).toBe(0);

  const numbers = await submitDemoRequests(db, stack.baseUrl, people);
  expect(numbers[0] > lastChange).toBe(true);
  const [liam, yuki] = numbers.slice(3);
  // Liam's two MacBooks are over the sales budget; Yuki is offered spare design seats.
  const liamsAssessment = await eventually(async () => (await db('purchase_requests').where({ number: liam }).first('assessment'))?.assessment);
  expect(liamsAssessment.overBudget).toBe(true);
  const yukisAssessment = await eventually(async () => (await db('purchase_requests').where({ number: yuki }).first('assessment'))?.assessment);
  expect(yukisAssessment.reuseOffer.reduce((sum: number, o: { offeredUnits: number }) => sum + o.offeredUnits, 0)).toBe(2);
  // The live requests email their approvers; nothing of the history reaches the sink.
  await eventually(async () => stack.sink.messages().some((m) => m.subject.includes(numbers[0])));
  const historicNumbers = historic.map((id) => id.split(':')[1]);
  expect(stack.sink.messages().filter((m) => historicNumbers.some((n) => m.subject.includes(n) || m.text.includes(n)))).toEqual([]);
});

it('is the same history in another database loaded on the same day', async () => {
  const other = await createTestDatabase();
  try {
    await loadDemoData(other.db, () => {}, NOW);
    const fingerprint = async (target: Knex) => ({
      changes: await target('change_requests').orderBy('number').select('number', 'type', 'title', 'close_code', 'risk_level', 'created_at', 'closed_at'),
      purchases: await target('purchase_requests').orderBy('number').select('number', 'state', 'justification', 'total_minor', 'created_at', 'closed_at'),
      approvals: (await target.raw(`SELECT a.workflow_id, a.step_name, a.state, p.email, a.decided_at FROM approvals a JOIN people p ON p.id = a.approver_id
                                      ORDER BY a.workflow_id, a.step_order, p.email`)).rows,
      audit: (await target.raw(`SELECT workflow_id, action, actor, occurred_at FROM audit_log ORDER BY id`)).rows,
      index: await target('processes').whereIn('process', ['change', 'procurement']).orderBy('workflow_id').select('workflow_id', 'started_at', 'finished_at'),
    });
    const [mine, theirs] = [await fingerprint(db), await fingerprint(other.db)];
    // This database has the live demo requests too: the history is what both start with.
    const historic = new Set(await historicWorkflowIds(other.db));
    mine.audit = mine.audit.filter((a: { workflow_id: string }) => historic.has(a.workflow_id));
    mine.index = mine.index.filter((p) => historic.has(p.workflow_id));
    mine.changes = mine.changes.filter((c) => historic.has(`change:${c.number}`));
    mine.purchases = mine.purchases.filter((p) => historic.has(`purchase:${p.number}`));
    mine.approvals = mine.approvals.filter((a: { workflow_id: string }) => historic.has(a.workflow_id));
    expect(mine).toEqual(theirs);
  } finally {
    await other.drop();
  }
});
