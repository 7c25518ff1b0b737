/**
 * SLA breaches tell the process owners by email, once per breach, from a Temporal Schedule that
 * starts the short SLA watch workflow: on a real Temporal dev server, Postgres and SMTP sink. A
 * process past its target gets one email to each active process owner however many runs find it
 * (one after another, or side by side); a later state's breach gets its own; the schedule is
 * created at startup and updated, not duplicated, by the next.
 */
import fs from 'node:fs';
import path from 'node:path';
import { historyToJSON } from '@temporalio/common/lib/proto-utils';
import type { SunkMessage } from '../platform/mail-sink';
import { ensureSlaWatchSchedule } from '../platform/schedules';
import { SLA_WATCH_SCHEDULE_ID, type SlaWatchOutcome } from '../workflows/sla-watch/contract';
import { createApprovalRule, createCi, createPerson, eventually, type TestPerson } from './support/fixtures';
import { call, startStack, type Stack } from './support/stack';
import { browse, signInWithKey, webAgent } from './support/web-agent';

let stack: Stack;
let owners: TestPerson[];
let ciId: string;

beforeAll(async () => {
  stack = await startStack();
  const db = stack.database.db;
  owners = [await createPerson(db, ['process_owner'], 'Petra Owner'), await createPerson(db, ['process_owner', 'admin'], 'Quinn Owner')];
  // An inactive process owner is told nothing.
  const gone = await createPerson(db, ['process_owner'], 'Gone Owner');
  await db('people').where({ id: gone.id }).update({ active: false });
  await createApprovalRule(db, { stepOrder: 1, name: 'Manager', approverKind: 'manager' });
  await db('sla_targets').insert([
    { process: 'change', state: 'authorize', target_minutes: 60 },
    { process: 'change', state: 'implement', target_minutes: 30 },
  ]);
  ciId = (await createCi(db, { name: `srv-sla-${Date.now()}`, ciClass: 'server' })).id;
});

afterAll(async () => {
  await stack?.stop();
});

/** One run of the watch, as the schedule starts it. */
const watchOnce = (id: string) =>
  stack.env.client.workflow.execute('slaWatchWorkflow', { taskQueue: stack.taskQueue, workflowId: `sla-watch-test-${id}`, args: [{}] }) as Promise<SlaWatchOutcome>;

const breachMails = (number: string) => stack.sink.messages().filter((m) => m.subject.startsWith('SLA breached') && m.subject.includes(number));

const YEAR_MINUTES = 365 * 24 * 60;

/** Moves the process's current stay back in time, so that it breaches its target `lateMinutes` ago. */
async function overdue(workflowId: string, lateMinutes: number) {
  const db = stack.database.db;
  const row = await db('processes').where({ workflow_id: workflowId }).first('state_entered_at', 'sla_due_at');
  const shift = `${Math.ceil((row.sla_due_at.getTime() - Date.now()) / 60_000) + lateMinutes} minutes`;
  await db('processes').where({ workflow_id: workflowId })
    .update({ state_entered_at: db.raw('state_entered_at - ?::interval', [shift]), sla_due_at: db.raw('sla_due_at - ?::interval', [shift]) });
}

async function waitingChange(label: string) {
  const db = stack.database.db;
  const manager = await createPerson(db, ['approver'], `Max Manager ${label}`);
  const requester = await createPerson(db, ['requester'], `Rita Requester ${label}`, { managerId: manager.id });
  const created = await call(stack, requester.apiKey, 'POST', '/changes', { type: 'normal', title: `Renew the certificates (${label})`, affectedCiIds: [ciId] });
  expect(created.status).toBe(201);
  await eventually(async () => (await db('processes').where({ workflow_id: created.body.workflowId }).first())?.waiting_for.length === 1);
  return { manager, requester, ...(created.body as { id: string; number: string; workflowId: string }) };
}

it('emails each active process owner once about a process past its SLA target, however many watch runs find it', async () => {
  const db = stack.database.db;
  const change = await waitingChange('once');
  await overdue(change.workflowId, 90);

  const first = await watchOnce('once-1');
  // Side by side and one after another: nobody is told twice.
  const more = await Promise.all([watchOnce('once-2'), watchOnce('once-3'), watchOnce('once-4')]);

  expect(first.notified).toBeGreaterThanOrEqual(1);
  expect(more.every((run) => run.found === 0 || run.notified === 0)).toBe(true);
  const mails = await eventually(async () => (breachMails(change.number).length >= 2 ? breachMails(change.number) : undefined));
  await new Promise((resolve) => setTimeout(resolve, 500));
  expect(breachMails(change.number)).toHaveLength(2);
  expect(mails.map((m) => m.to).sort()).toEqual(owners.map((o) => [o.email]).sort());
  const mail = mails[0] as SunkMessage;
  expect(mail.subject).toBe(`SLA breached: ${change.number} Renew the certificates (once)`);
  expect(mail.text).toContain(`${change.number} "Renew the certificates (once)" has been in the state "authorize" since `);
  expect(mail.text).toMatch(/Its SLA target for that state is 1 h, so it was due by .+ UTC: it is 1 h 3\d min late\./);
  const link = `${stack.baseUrl}/ui/processes/${encodeURIComponent(change.workflowId)}`;
  expect(mail.text).toContain(link);
  // The link opens the process page for the addressee.
  const agent = webAgent(stack.baseUrl);
  await signInWithKey(agent, owners[0].apiKey);
  expect((await browse(agent, 'GET', new URL(link).pathname)).status).toBe(200);

  const notices = await db('sla_breach_notices').where({ workflow_id: change.workflowId });
  expect(notices).toEqual([expect.objectContaining({ state: 'authorize' })]);
  const audit = await db('audit_log').where({ workflow_id: change.workflowId, action: 'sla_breach_notified' });
  expect(audit).toHaveLength(1);
  expect(audit[0]).toMatchObject({ actor: 'system:sla-watch', subject_type: 'change_request', subject_id: change.id });
  expect(audit[0].details.notified.sort()).toEqual(owners.map((o) => o.email).sort());
});

it('tells a breach of a later state of the same process on its own', async () => {
  const db = stack.database.db;
  const change = await waitingChange('later');
  await overdue(change.workflowId, 5);
  await watchOnce('later-1');
  await eventually(async () => breachMails(change.number).length === 2);

  const approval = await db('approvals').where({ subject_id: change.id, state: 'requested' }).first('id');
  const decided = await call(stack, change.manager.apiKey, 'POST', `/changes/${change.number}/approvals/${approval.id}/decision`, { decision: 'approved' });
  expect(decided.status).toBe(200);
  // Approved with no window: it moves on to wait for its implementation, a state with a target of its own.
  await eventually(async () => (await db('processes').where({ workflow_id: change.workflowId }).first('state')).state === 'implement');
  await overdue(change.workflowId, 5);
  await watchOnce('later-2');
  await watchOnce('later-3');

  await eventually(async () => breachMails(change.number).length === 4);
  await new Promise((resolve) => setTimeout(resolve, 500));
  expect(breachMails(change.number)).toHaveLength(4);
  expect(breachMails(change.number).filter((m) => m.text.includes('in the state "implement"'))).toHaveLength(2);
  expect((await db('sla_breach_notices').where({ workflow_id: change.workflowId }).orderBy('notified_at')).map((n) => n.state)).toEqual(['authorize', 'implement']);
});

it('tells at most a batch per run, the longest overdue first; the next run tells the rest', async () => {
  const db = stack.database.db;
  const a = await waitingChange('batch-a');
  const b = await waitingChange('batch-b');
  // Years late, far more than any other test makes its processes: whatever else waits to be told, these two come first.
  await overdue(a.workflowId, YEAR_MINUTES * 5);
  await overdue(b.workflowId, YEAR_MINUTES * 10);

  const first = (await stack.env.client.workflow.execute('slaWatchWorkflow', { taskQueue: stack.taskQueue, workflowId: 'sla-watch-test-batch-1', args: [{ batchLimit: 1 }] })) as SlaWatchOutcome;
  expect(first).toEqual({ found: 1, notified: 1 });
  expect(await db('sla_breach_notices').where({ workflow_id: b.workflowId })).toHaveLength(1);
  expect(await db('sla_breach_notices').where({ workflow_id: a.workflowId })).toHaveLength(0);
  await watchOnce('batch-2');
  expect(await db('sla_breach_notices').where({ workflow_id: a.workflowId })).toHaveLength(1);
});

it('writes nothing while there is no active process owner to tell, and tells the breach once there is one', async () => {
  const db = stack.database.db;
  const change = await waitingChange('no-owner');
  // The most overdue but for the batch test's: the run's batch holds it.
  await overdue(change.workflowId, YEAR_MINUTES);
  const ownerIds = await db('people').where({ active: true })
    .whereIn('id', db('person_roles').where({ role: 'process_owner' }).select('person_id')).pluck('id');
  await db('people').whereIn('id', ownerIds).update({ active: false });
  try {
    const run = await watchOnce('no-owner-1');
    expect(run.found).toBeGreaterThanOrEqual(1);
    expect(run.notified).toBe(0);
    expect(await db('sla_breach_notices').where({ workflow_id: change.workflowId })).toHaveLength(0);
    expect(await db('audit_log').where({ workflow_id: change.workflowId, action: 'sla_breach_notified' })).toHaveLength(0);
    expect(await db('email_log').where({ workflow_id: change.workflowId, template: 'sla_breach' })).toHaveLength(0);
  } finally {
    await db('people').whereIn('id', ownerIds).update({ active: true });
  }

  await watchOnce('no-owner-2');
  expect(await db('sla_breach_notices').where({ workflow_id: change.workflowId })).toHaveLength(1);
  await eventually(async () => breachMails(change.number).length === 2);
  expect((await db('audit_log').where({ workflow_id: change.workflowId, action: 'sla_breach_notified' }))[0].details.notified.sort())
    .toEqual(owners.map((o) => o.email).sort());
});

it('runs from a schedule, overlapping runs skipped, that startup creates once and a second startup updates', async () => {
  const settings = { taskQueue: stack.taskQueue, everyMs: 2_000 };
  expect(await ensureSlaWatchSchedule(stack.env.client, settings)).toBe('created');
  expect(await ensureSlaWatchSchedule(stack.env.client, { ...settings, everyMs: 1_000 })).toBe('updated');

  const schedules: string[] = [];
  for await (const schedule of stack.env.client.schedule.list()) schedules.push(schedule.scheduleId);
  expect(schedules.filter((id) => id === SLA_WATCH_SCHEDULE_ID)).toHaveLength(1);
  const handle = stack.env.client.schedule.getHandle(SLA_WATCH_SCHEDULE_ID);
  const described = await handle.describe();
  expect(described.spec.intervals).toEqual([expect.objectContaining({ every: 1_000 })]);
  expect(described.policies.overlap).toBe('SKIP');
  expect(described.action).toMatchObject({ type: 'startWorkflow', workflowType: 'slaWatchWorkflow', taskQueue: stack.taskQueue });

  // The schedule's runs tell a new breach, once.
  const change = await waitingChange('scheduled');
  await overdue(change.workflowId, 1);
  await eventually(async () => breachMails(change.number).length === 2, 20_000);
  const runs = await eventually(async () => ((await handle.describe()).info.recentActions.length >= 3 ? (await handle.describe()).info.recentActions : undefined), 20_000);
  expect(runs.length).toBeGreaterThanOrEqual(3);
  expect(breachMails(change.number)).toHaveLength(2);

  if (process.env.RECORD_HISTORIES) {
    const workflowId = runs[0].action.workflow.workflowId;
    const history = await stack.env.client.workflow.getHandle(workflowId).fetchHistory();
    fs.writeFileSync(path.join(__dirname, 'histories', 'sla-watch-one-run.json'), historyToJSON(history));
  }
  await handle.delete();
});
