/**
 * A worker killed while it hands over the approval of a deactivated approver: the move is
 * committed (the old approval reassigned, the new one requested, its audit row written) but the
 * workflow never heard of it. The handover runs again on the next worker and answers the approval
 * it made, so the new approver is emailed once and their decision completes the step. The kill
 * lands after the commit for certain: a deferred constraint trigger holds the move's COMMIT on an
 * advisory lock the test holds.
 */
import type { SunkMessage } from '../platform/mail-sink';
import { createApprovalRule, createCi, createPerson, eventually, type TestPerson } from './support/fixtures';
import { call, type Stack } from './support/stack';
import { holdCommits, kill, startStackForWorkerProcesses, WorkerProcesses } from './support/worker-process';

const HOLD = 4_242_013;

let stack: Stack;
let admin: TestPerson;
let ciId: string;
const workers = new WorkerProcesses();

beforeAll(async () => {
  stack = await startStackForWorkerProcesses();
  const db = stack.database.db;
  admin = await createPerson(db, ['admin'], 'Ada Admin');
  await createPerson(db, ['process_owner'], 'Pat Owner');
  await createApprovalRule(db, { stepOrder: 1, name: 'Manager', approverKind: 'manager' });
  ciId = (await createCi(db, { name: 'srv-held-01', ciClass: 'server' })).id;
});

afterAll(async () => {
  await workers.killAll();
  await stack?.stop();
});

const linkIn = (message: SunkMessage) => {
  const match = /(https?:\/\/\S+\/approvals\/[0-9a-f-]+\?token=\S+)/.exec(message.text);
  if (!match) throw new Error(`no approval link in "${message.subject}"`);
  return new URL(match[1]);
};

const isTask = (person: TestPerson, number: string) => (m: SunkMessage) =>
  m.to.includes(person.email) && m.subject.startsWith('Approval needed') && m.subject.includes(number);

it('answers the approval a killed worker made when it runs the handover again: one move, one audit row, one email, and the step completes', async () => {
  const db = stack.database.db;
  const manager = await createPerson(db, ['approver'], 'Mo Manager');
  const departing = await createPerson(db, ['approver'], 'Dee Departing', { managerId: manager.id });
  const requester = await createPerson(db, ['requester'], 'Rui Requester', { managerId: departing.id });
  const first = workers.start(stack);
  const created = await call(stack, requester.apiKey, 'POST', '/changes', {
    type: 'normal', title: 'Rotate the HR certificates', description: 'Yearly rotation.', affectedCiIds: [ciId],
  });
  expect(created.status).toBe(201);
  const { id: changeId, number } = created.body;
  const approvalId = linkIn(await stack.sink.waitFor(isTask(departing, number))).pathname.split('/').pop()!;
  const held = await holdCommits(db, 'held_handover_commit', 'approvals', `NEW.reassigned_from_id = '${approvalId}'`, HOLD);
  try {
    expect((await call(stack, admin.apiKey, 'POST', `/people/${departing.id}/deactivate`, { reason: 'left' })).status).toBe(200);
    // The move waits in its COMMIT: kill its worker, then let the commit through.
    await held.waitUntilHeld();
    await kill(first);
    await held.release();
    const moved = await eventually(async () => (await db('approvals').where({ reassigned_from_id: approvalId }).first()) ?? undefined, 10_000, 20);
    expect(moved).toMatchObject({ approver_id: manager.id, state: 'requested' });
    // Committed, yet the workflow does not know it: no task has been queued for the new approver.
    expect(await db('email_log').where({ approval_link_id: moved.id })).toEqual([]);

    workers.start(stack);
    const task = await stack.sink.waitFor(isTask(manager, number));
    expect(task.text).toContain('It was moved to you because Dee Departing is no longer active.');
    const link = linkIn(task);
    expect(link.pathname).toBe(`/approvals/${moved.id}`);
    const decided = await fetch(`${link.origin}${link.pathname}`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ token: link.searchParams.get('token')!, decision: 'approved', comment: '' }).toString(),
    });
    expect(decided.status).toBe(200);
    await eventually(async () => {
      const row = await db('change_requests').where({ id: changeId }).first('state');
      return row.state !== 'authorize' ? row : undefined;
    });

    const history = await stack.env.client.workflow.getHandle(`change:${number}`).fetchHistory();
    const handover = history.events!.find((e) => e.activityTaskScheduledEventAttributes?.activityType?.name === 'handOverApproval')!;
    const rerun = history.events!.find((e) => String(e.activityTaskStartedEventAttributes?.scheduledEventId) === String(handover.eventId));
    expect(rerun!.activityTaskStartedEventAttributes!.attempt).toBe(2);
    expect(await db('approvals').where({ subject_id: changeId }).orderBy('created_at').select('id', 'approver_id', 'state')).toEqual([
      { id: approvalId, approver_id: departing.id, state: 'reassigned' },
      { id: moved.id, approver_id: manager.id, state: 'approved' },
    ]);
    expect(await db('audit_log').where({ action: 'approval_reassigned' }).whereRaw(`details->>'approvalId' = ?`, [approvalId])).toHaveLength(1);
    expect(await db('audit_log').where({ subject_id: changeId, action: 'approval_approved' })).toHaveLength(1);
    expect(stack.sink.messages().filter(isTask(manager, number))).toHaveLength(1);
  } finally {
    await held.drop();
  }
});
