/**
 * Reminders, escalation and expiry of approval steps, on short configured durations against a
 * real Temporal dev server: what days and hours do in production, seconds do here.
 */
import type { ApprovalTimingSettings } from '../platform/config';
import { changeAudit, createApprovalRule, createCi, createGroup, createPerson, eventually, type TestPerson } from './support/fixtures';
import { call, startStack, type Stack } from './support/stack';

const TIMINGS: ApprovalTimingSettings = {
  normal: { reminderAfterMs: 1_500, escalationAfterMs: 3_000, deadlineMs: 6_000 },
  emergency: { reminderAfterMs: 1_000, escalationAfterMs: 2_000, deadlineMs: 4_000 },
};

let stack: Stack;
let cab: { member: TestPerson; manager: TestPerson; director: TestPerson };

beforeAll(async () => {
  stack = await startStack({ approvalTimings: TIMINGS });
  const db = stack.database.db;
  const director = await createPerson(db, ['approver'], 'Dora Director');
  const manager = await createPerson(db, ['approver'], 'Cem Cabmanager', { managerId: director.id });
  const member = await createPerson(db, ['approver'], 'Carla Cab', { managerId: manager.id });
  cab = { member, manager, director };
  await createApprovalRule(db, { stepOrder: 1, name: 'Manager', appliesWhen: { changeType: 'normal' }, approverKind: 'manager' });
  const group = await createGroup(db, [member.id], 'Emergency CAB');
  await createApprovalRule(db, { stepOrder: 1, name: 'Emergency CAB', appliesWhen: { changeType: 'emergency' }, approverKind: 'group', groupId: group, onExpiry: 'escalate' });
});

afterAll(async () => {
  await stack?.stop();
});

async function submit(requester: TestPerson, type: 'normal' | 'emergency') {
  const ci = await createCi(stack.database.db, { ciClass: 'server' });
  const res = await call(stack, requester.apiKey, 'POST', '/changes', { type, title: `A ${type} change`, affectedCiIds: [ci.id] });
  expect(res.status).toBe(201);
  return res.body as { id: string; number: string };
}

const mailTo = (person: TestPerson, subjectStart: string, number: string) =>
  stack.sink.waitFor((m) => m.to.includes(person.email) && m.subject.startsWith(subjectStart) && m.subject.includes(number));

const approvals = (changeId: string) =>
  stack.database.db('approvals as a').join('people as p', 'p.id', 'a.approver_id').where('a.subject_id', changeId).orderBy('a.created_at')
    .select('a.id', 'p.email', 'a.state', 'a.escalated_from_id', 'a.reminded_at');

it('reminds the approver, then escalates to their manager, who can decide', async () => {
  const db = stack.database.db;
  const boss = await createPerson(db, ['approver'], 'Bert Boss');
  const manager = await createPerson(db, ['approver'], 'Mia Manager', { managerId: boss.id });
  const requester = await createPerson(db, ['requester'], 'Rob Requester', { managerId: manager.id });
  const change = await submit(requester, 'normal');

  await mailTo(manager, 'Approval needed', change.number);
  const reminder = await mailTo(manager, 'Reminder: approval needed', change.number);
  expect(reminder.text).toContain('still waits for your decision');
  const escalated = await mailTo(boss, 'Approval needed', change.number);
  expect(escalated.text).toContain('escalated to you');

  const [original, replacement] = await approvals(change.id);
  expect(original).toMatchObject({ email: manager.email, state: 'escalated' });
  expect(original.reminded_at).not.toBeNull();
  expect(replacement).toMatchObject({ email: boss.email, state: 'requested', escalated_from_id: original.id });

  const late = await call(stack, manager.apiKey, 'POST', `/changes/${change.number}/approvals/${original.id}/decision`, { decision: 'approved' });
  expect(late).toMatchObject({ status: 409, body: { error: { code: 'already_decided' } } });
  const decided = await call(stack, boss.apiKey, 'POST', `/changes/${change.number}/approvals/${replacement.id}/decision`, { decision: 'approved', comment: 'covering for Mia' });
  expect(decided).toMatchObject({ status: 200, body: { stepOutcome: 'approved' } });
  await eventually(async () => (await db('change_requests').where({ id: change.id }).first('state')).state === 'implement');
  expect((await changeAudit(db, change.id)).map((a) => a.action)).toEqual(expect.arrayContaining(['approval_escalated', 'approval_approved']));
  await call(stack, requester.apiKey, 'POST', `/changes/${change.number}/cancel`, { reason: 'test done' });
});

it('rejects the change when the step expires and its rule says reject', async () => {
  const db = stack.database.db;
  const loneManager = await createPerson(db, ['approver'], 'Lou Lonely');
  const requester = await createPerson(db, ['requester'], 'Rae Requester', { managerId: loneManager.id });
  const change = await submit(requester, 'normal');

  const closed = await eventually(async () => {
    const row = await db('change_requests').where({ id: change.id }).first('state', 'close_code');
    return row.state === 'closed' ? row : undefined;
  }, 20_000);

  expect(closed.close_code).toBe('rejected');
  expect(await approvals(change.id)).toEqual([expect.objectContaining({ email: loneManager.email, state: 'expired' })]);
  expect((await changeAudit(db, change.id)).map((a) => a.action)).toContain('approvals_expired');
  await mailTo(requester, 'Closed (rejected)', change.number);
});

it('escalates once more when an emergency step expires and its rule says escalate', async () => {
  const db = stack.database.db;
  const requester = await createPerson(db, ['requester'], 'Eve Emergency');
  const change = await submit(requester, 'emergency');

  await mailTo(cab.manager, 'Approval needed', change.number);
  const last = await mailTo(cab.director, 'Approval needed', change.number);
  expect(last.text).toContain('escalated to you');
  const rows = await approvals(change.id);
  expect(rows.map((r) => [r.email, r.state])).toEqual([
    [cab.member.email, 'escalated'],
    [cab.manager.email, 'escalated'],
    [cab.director.email, 'requested'],
  ]);

  const decided = await call(stack, cab.director.apiKey, 'POST', `/changes/${change.number}/approvals/${rows[2].id}/decision`, { decision: 'approved' });
  expect(decided.status).toBe(200);
  await eventually(async () => (await db('change_requests').where({ id: change.id }).first('state')).state === 'implement');
  await call(stack, requester.apiKey, 'POST', `/changes/${change.number}/cancel`, { reason: 'test done' });
});
