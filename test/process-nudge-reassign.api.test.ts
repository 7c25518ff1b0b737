/**
 * Process owners remind the approvers a process waits for (nudge) and move a pending approval to
 * someone else (reassign), through the API and from the process page, on a real Temporal dev
 * server, Postgres and SMTP sink: each is audited with who did it, the reassign goes through the
 * workflow's step runner like a deactivation's handover, and refusals change nothing.
 */
import fs from 'node:fs';
import path from 'node:path';
import { historyToJSON } from '@temporalio/common/lib/proto-utils';
import type { SunkMessage } from '../platform/mail-sink';
import { createApprovalRule, createCi, createPerson, eventually, type TestPerson } from './support/fixtures';
import { call, send, startStack, type Stack } from './support/stack';
import { browse, hiddenCsrf, signInWithKey, webAgent } from './support/web-agent';

let stack: Stack;
let owner: TestPerson;
let ciId: string;

beforeAll(async () => {
  stack = await startStack();
  const db = stack.database.db;
  owner = await createPerson(db, ['process_owner'], 'Olga Owner');
  await createApprovalRule(db, { stepOrder: 1, name: 'Manager', approverKind: 'manager' });
  ciId = (await createCi(db, { name: `srv-nudge-${Date.now()}`, ciClass: 'server' })).id;
});

afterAll(async () => {
  await stack?.stop();
});

const linkIn = (message: SunkMessage) => {
  const match = /(https?:\/\/\S+\/approvals\/[0-9a-f-]+\?token=\S+)/.exec(message.text);
  if (!match) throw new Error(`no approval link in "${message.subject}"`);
  return new URL(match[1]);
};

const mailsTo = (person: TestPerson, subjectStart: string, number: string) =>
  stack.sink.messages().filter((m) => m.to.includes(person.email) && m.subject.startsWith(subjectStart) && m.subject.includes(number));

const mailTo = (person: TestPerson, subjectStart: string, number: string) =>
  stack.sink.waitFor((m) => m.to.includes(person.email) && m.subject.startsWith(subjectStart) && m.subject.includes(number));

async function decideByLink(link: URL, decision: 'approved' | 'rejected') {
  const res = await fetch(`${link.origin}${link.pathname}`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ token: link.searchParams.get('token')!, decision, comment: '' }).toString(),
  });
  return { status: res.status, html: await res.text() };
}

/** A change whose requester's manager must approve it, waiting for them; with the task email's link. */
async function waitingChange(label: string, requesterRoles: string[] = ['requester']) {
  const db = stack.database.db;
  const manager = await createPerson(db, ['approver'], `Mona Manager ${label}`);
  const requester = await createPerson(db, requesterRoles, `Reto Requester ${label}`, { managerId: manager.id });
  const created = await call(stack, requester.apiKey, 'POST', '/changes', { type: 'normal', title: `Patch the mail relay (${label})`, affectedCiIds: [ciId] });
  expect(created.status).toBe(201);
  const { id, number, workflowId } = created.body as { id: string; number: string; workflowId: string };
  const link = linkIn(await mailTo(manager, 'Approval needed', number));
  const approvalId = link.pathname.split('/').pop()!;
  return { manager, requester, id, number, workflowId, link, approvalId };
}

const auditOf = (workflowId: string, action: string) => stack.database.db('audit_log').where({ workflow_id: workflowId, action }).orderBy('id');
const approvalRows = (subjectId: string) => stack.database.db('approvals').where({ subject_id: subjectId }).orderBy('created_at');

describe('nudging a process', () => {
  it('resends the task email as a reminder to each waiting approver, once per request, audited with who asked', async () => {
    const change = await waitingChange('nudge');
    const path = `/processes/${encodeURIComponent(change.workflowId)}/nudge`;

    const res = await send(stack, owner.apiKey, 'POST', path, { headers: { 'idempotency-key': 'nudge-1' } });
    const again = await send(stack, owner.apiKey, 'POST', path, { headers: { 'idempotency-key': 'nudge-1' } });

    expect(res.status).toBe(200);
    expect(res.body).toEqual({
      workflowId: change.workflowId,
      nudged: [{ approvalId: change.approvalId, approver: { id: change.manager.id, name: change.manager.name, email: change.manager.email } }],
    });
    expect(again).toMatchObject({ status: 200, body: res.body });
    const reminder = await mailTo(change.manager, 'Reminder: approval needed', change.number);
    expect(reminder.text).toContain(`A reminder: ${change.number} still waits for your decision.`);
    // The same link as the task: it still decides.
    expect(linkIn(reminder).pathname).toBe(change.link.pathname);
    const audit = await auditOf(change.workflowId, 'approvals_nudged');
    expect(audit).toHaveLength(1);
    expect(audit[0]).toMatchObject({ actor: owner.email, subject_type: 'change_request', subject_id: change.id });
    expect(audit[0].details.nudged).toEqual([{ approvalId: change.approvalId, approverId: change.manager.id, approverEmail: change.manager.email }]);

    // A new request is a new reminder.
    expect((await call(stack, owner.apiKey, 'POST', path)).status).toBe(200);
    await eventually(async () => mailsTo(change.manager, 'Reminder: approval needed', change.number).length === 2);
    expect(await auditOf(change.workflowId, 'approvals_nudged')).toHaveLength(2);
    // Sent once each: the first request's retry added nothing.
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(mailsTo(change.manager, 'Reminder: approval needed', change.number)).toHaveLength(2);
  });

  it('answers 409 when nothing waits for anyone, 404 for no process, 403 for anyone but process owners and admins, and sends nothing', async () => {
    const change = await waitingChange('nothing');
    const path = `/processes/${encodeURIComponent(change.workflowId)}/nudge`;
    expect((await call(stack, change.requester.apiKey, 'POST', path)).status).toBe(403);
    expect((await call(stack, change.manager.apiKey, 'POST', path)).status).toBe(403);
    expect((await decideByLink(change.link, 'approved')).status).toBe(200);
    await eventually(async () => (await stack.database.db('processes').where({ workflow_id: change.workflowId }).first()).waiting_for.length === 0);

    const res = await call(stack, owner.apiKey, 'POST', path);

    expect(res.status).toBe(409);
    expect(res.body.error).toMatchObject({ code: 'nothing_pending', message: 'no approval of this process waits for anyone: there is nobody to remind' });
    expect((await call(stack, owner.apiKey, 'POST', '/processes/change%3ACHG9999999/nudge')).status).toBe(404);
    expect(await auditOf(change.workflowId, 'approvals_nudged')).toHaveLength(0);
    expect(mailsTo(change.manager, 'Reminder', change.number)).toHaveLength(0);
  });
});

describe('reassigning an approval', () => {
  it('moves it through the workflow to the person chosen, who can decide by link; the old link answers approval_moved; one audit row', async () => {
    const db = stack.database.db;
    const change = await waitingChange('reassign');
    const taker = await createPerson(db, ['approver'], 'Tilda Taker');
    expect((await call(stack, owner.apiKey, 'POST', `/processes/${encodeURIComponent(change.workflowId)}/nudge`)).status).toBe(200);

    const res = await call(stack, owner.apiKey, 'POST', `/processes/${encodeURIComponent(change.workflowId)}/approvals/${change.approvalId}/reassign`, {
      toPersonId: taker.id, reason: 'Mona is on leave until Monday',
    });

    expect(res.status).toBe(200);
    expect(res.body).toEqual({
      workflowId: change.workflowId,
      approvalId: change.approvalId,
      newApprovalId: expect.any(String),
      from: { id: change.manager.id, name: change.manager.name },
      to: { id: taker.id, name: taker.name },
    });
    const rows = await approvalRows(change.id);
    expect(rows.map((r) => [r.approver_id, r.state])).toEqual([[change.manager.id, 'reassigned'], [taker.id, 'requested']]);
    expect(rows[1]).toMatchObject({ id: res.body.newApprovalId, reassigned_from_id: change.approvalId, step_order: 1 });
    const [audit, ...more] = await auditOf(change.workflowId, 'approval_reassigned');
    expect(more).toEqual([]);
    expect(audit).toMatchObject({ actor: owner.email });
    expect(audit.details).toMatchObject({
      approvalId: change.approvalId, from: change.manager.id, to: taker.id, movedBy: 'process_owner', reason: 'Mona is on leave until Monday', newApprovalId: res.body.newApprovalId,
    });
    // The process waits for the taker now, in Postgres and in the workflow.
    await eventually(async () => (await db('processes').where({ workflow_id: change.workflowId }).first()).waiting_for.includes(taker.id));
    const detail = await call(stack, owner.apiKey, 'GET', `/processes/${encodeURIComponent(change.workflowId)}`);
    expect(detail.body.live.currentStep.approvals).toEqual(expect.arrayContaining([
      expect.objectContaining({ approvalId: change.approvalId, state: 'reassigned' }),
      expect.objectContaining({ approvalId: res.body.newApprovalId, state: 'requested', reassignedFromId: change.approvalId }),
    ]));

    const task = await mailTo(taker, 'Approval needed', change.number);
    expect(task.text).toContain(`A process owner moved it to you from ${change.manager.name}.`);
    const oldLink = await decideByLink(change.link, 'approved');
    expect(oldLink.status).toBe(409);
    expect(oldLink.html).toContain(`moved to ${taker.name}: a process owner reassigned it`);
    const viaApi = await call(stack, change.manager.apiKey, 'POST', `/changes/${change.number}/approvals/${change.approvalId}/decision`, { decision: 'approved' });
    expect(viaApi).toMatchObject({ status: 409, body: { error: { code: 'approval_moved' } } });

    expect((await decideByLink(linkIn(task), 'approved')).status).toBe(200);
    await eventually(async () => (await db('processes').where({ workflow_id: change.workflowId }).first()).state !== 'authorize');
    expect((await approvalRows(change.id)).map((r) => r.state)).toEqual(['reassigned', 'approved']);
    if (process.env.RECORD_HISTORIES) {
      const history = await stack.env.client.workflow.getHandle(change.workflowId).fetchHistory();
      fs.writeFileSync(path.join(__dirname, 'histories', 'change-normal-nudged-reassigned-approved.json'), historyToJSON(history));
    }
  });

  it('refuses the requester, an inactive person, someone already in the step, nobody, and an approval no longer pending, changing nothing', async () => {
    const db = stack.database.db;
    const change = await waitingChange('refusals');
    const gone = await createPerson(db, ['approver'], 'Gus Gone');
    await db('people').where({ id: gone.id }).update({ active: false });
    const path = `/processes/${encodeURIComponent(change.workflowId)}/approvals/${change.approvalId}/reassign`;
    const reassign = (toPersonId: string, as = owner) => call(stack, as.apiKey, 'POST', path, { toPersonId, reason: 'testing the rules' });
    const auditBefore = (await db('audit_log').where({ workflow_id: change.workflowId })).length;

    expect(await reassign(change.requester.id)).toMatchObject({
      status: 403,
      body: { error: { code: 'segregation_of_duties', message: `${change.requester.name} requested this and may not approve it: choose someone else; nothing was changed` } },
    });
    expect(await reassign(gone.id)).toMatchObject({ status: 409, body: { error: { code: 'target_inactive', message: 'Gus Gone is no longer active: choose an active person; nothing was changed' } } });
    expect(await reassign(change.manager.id)).toMatchObject({ status: 409, body: { error: { code: 'already_in_step' } } });
    expect(await reassign('00000000-0000-4000-8000-000000000000')).toMatchObject({ status: 400, body: { error: { code: 'unknown_person' } } });
    expect((await call(stack, owner.apiKey, 'POST', path, { toPersonId: gone.id })).status).toBe(400);
    expect((await reassign(gone.id, change.requester)).status).toBe(403);
    expect((await call(stack, owner.apiKey, 'POST', `/processes/${encodeURIComponent(change.workflowId)}/approvals/00000000-0000-4000-8000-000000000000/reassign`, { toPersonId: gone.id, reason: 'x' })).status).toBe(404);

    expect((await approvalRows(change.id)).map((r) => [r.approver_id, r.state])).toEqual([[change.manager.id, 'requested']]);
    expect(await db('audit_log').where({ workflow_id: change.workflowId })).toHaveLength(auditBefore);

    // Decided: no longer pending.
    expect((await decideByLink(change.link, 'rejected')).status).toBe(200);
    const someone = await createPerson(db, ['approver'], 'Sam Someone');
    expect(await reassign(someone.id)).toMatchObject({ status: 409, body: { error: { code: 'not_pending', message: 'this approval is already rejected: only a pending approval can be reassigned; nothing was changed' } } });
  });

  it('refuses a process owner who requested the change choosing its approver, in the API and in the activity alike', async () => {
    const db = stack.database.db;
    const change = await waitingChange('own', ['requester', 'process_owner']);
    const friend = await createPerson(db, ['approver'], 'Fritz Friend');
    const path = `/processes/${encodeURIComponent(change.workflowId)}/approvals/${change.approvalId}/reassign`;
    const refusal = {
      code: 'segregation_of_duties',
      message: 'you requested this, so you may not choose who approves it: ask another process owner or an admin; nothing was changed',
    };

    expect(await call(stack, change.requester.apiKey, 'POST', path, { toPersonId: friend.id, reason: 'Mona is slow' })).toMatchObject({ status: 403, body: { error: refusal } });
    const { reassignApprovalUpdate } = await import('../workflows/approvals/contract');
    await expect(stack.env.client.workflow.getHandle(change.workflowId).executeUpdate(reassignApprovalUpdate, {
      args: [{ reassignmentId: 'own-1', approvalId: change.approvalId, toPersonId: friend.id, reason: 'r', actorEmail: change.requester.email.toUpperCase() }],
    })).rejects.toMatchObject({ cause: { cause: { type: 'ReassignmentRefused', details: [{ rule: 'segregation_of_duties', message: refusal.message }] } } });

    expect((await approvalRows(change.id)).map((r) => [r.approver_id, r.state])).toEqual([[change.manager.id, 'requested']]);
    expect(await auditOf(change.workflowId, 'approval_reassigned')).toHaveLength(0);
    // Another process owner may.
    expect((await call(stack, owner.apiKey, 'POST', path, { toPersonId: friend.id, reason: 'Mona is slow' })).status).toBe(200);
  });

  it('refuses a move the workflow finds against its rules even when the API was not asked first (the activity checks under lock)', async () => {
    const db = stack.database.db;
    const change = await waitingChange('lock');
    const late = await createPerson(db, ['approver'], 'Lea Late');
    const { reassignApprovalUpdate } = await import('../workflows/approvals/contract');
    await db('people').where({ id: late.id }).update({ active: false });

    await expect(stack.env.client.workflow.getHandle(change.workflowId).executeUpdate(reassignApprovalUpdate, {
      args: [{ reassignmentId: 'direct-1', approvalId: change.approvalId, toPersonId: late.id, reason: 'r', actorEmail: owner.email }],
    })).rejects.toMatchObject({ cause: { cause: { type: 'ReassignmentRefused', details: [{ rule: 'target_inactive' }] } } });
    expect((await approvalRows(change.id)).map((r) => r.state)).toEqual(['requested']);
  });
});

describe('the process page', () => {
  async function signedIn(person: TestPerson) {
    const agent = webAgent(stack.baseUrl);
    expect((await signInWithKey(agent, person.apiKey)).status).toBe(303);
    return agent;
  }

  it('gives process owners a reminder button and a reassign form per pending approval that work through a web session', async () => {
    const db = stack.database.db;
    const change = await waitingChange('page');
    const taker = await createPerson(db, ['approver'], 'Pia Page-Taker');
    const agent = await signedIn(owner);
    const pagePath = `/ui/processes/${encodeURIComponent(change.workflowId)}`;

    const page = await browse(agent, 'GET', pagePath);
    expect(page.status).toBe(200);
    expect(page.html).toContain('Send a reminder');
    expect(page.html).toContain(`Reassign ${change.manager.name}'s approval`);
    expect(page.html).toMatch(/<input id="reassign-[0-9a-f-]+-to" name="toPersonEmail" type="email" list="reassign-people"/);
    expect(page.html).toMatch(/<datalist id="reassign-people">(<option value="[^"]+">[^<]+<\/option>){1,50}<\/datalist>/);
    const csrf = hiddenCsrf(page.html)!;
    const commandId = /name="commandId" value="([^"]+)"/.exec(page.html)![1];

    const nudged = await browse(agent, 'POST', `${pagePath}/nudge`, { csrf, commandId });
    expect(nudged).toMatchObject({ status: 303, location: `${pagePath}?nudge=${commandId}` });
    // The same form sent twice: one reminder.
    expect((await browse(agent, 'POST', `${pagePath}/nudge`, { csrf, commandId })).status).toBe(303);
    expect((await browse(agent, 'GET', nudged.location!)).html).toContain('A reminder was sent to 1 approver.');
    await mailTo(change.manager, 'Reminder: approval needed', change.number);
    expect(await auditOf(change.workflowId, 'approvals_nudged')).toHaveLength(1);
    // The notice is read from the nudge's audit row: a made-up address, or another person's nudge, says nothing.
    for (const forged of ['?nudged=7', `?nudge=${crypto.randomUUID()}`]) {
      expect((await browse(agent, 'GET', `${pagePath}${forged}`)).html).not.toContain('A reminder was sent');
    }
    const otherOwner = await signedIn(await createPerson(db, ['process_owner'], 'Otto Other-Owner'));
    expect((await browse(otherOwner, 'GET', nudged.location!)).html).not.toContain('A reminder was sent');

    const refused = await browse(agent, 'POST', `${pagePath}/reassign`, { csrf, commandId: crypto.randomUUID(), approvalId: change.approvalId, toPersonEmail: change.requester.email, reason: 'on leave' });
    expect(refused.status).toBe(403);
    expect(refused.html).toContain(`Nothing was changed: ${change.requester.name} requested this and may not approve it`);
    expect(refused.html).toMatch(/<p id="reassign-[0-9a-f-]+-toPersonEmail-error" class="notice error" role="alert">/);
    expect(refused.html).toContain('aria-invalid="true"');
    expect(refused.html).toContain(`value="${change.requester.email}"`);
    const empty = await browse(agent, 'POST', `${pagePath}/reassign`, { csrf, commandId: crypto.randomUUID(), approvalId: change.approvalId, toPersonEmail: '', reason: '' });
    expect(empty.status).toBe(400);
    expect(empty.html).toContain('say why the approval moves');
    expect(empty.html).toContain('type the email of the person who takes the approval over');
    const nobody = await browse(agent, 'POST', `${pagePath}/reassign`, { csrf, commandId: crypto.randomUUID(), approvalId: change.approvalId, toPersonEmail: 'nobody@example.invalid', reason: 'on leave' });
    expect(nobody.status).toBe(400);
    expect(nobody.html).toContain('nobody has the email nobody@example.invalid: type the email of an active person');
    expect((await approvalRows(change.id)).map((r) => r.state)).toEqual(['requested']);

    const moved = await browse(agent, 'POST', `${pagePath}/reassign`, { csrf, commandId: crypto.randomUUID(), approvalId: change.approvalId, toPersonEmail: taker.email.toUpperCase(), reason: 'on leave' });
    expect(moved.status).toBe(303);
    const after = await browse(agent, 'GET', moved.location!);
    expect(after.html).toContain(`The approval moved from ${change.manager.name} to ${taker.name}, who was emailed the task.`);
    await mailTo(taker, 'Approval needed', change.number);
    expect((await auditOf(change.workflowId, 'approval_reassigned'))[0]).toMatchObject({ actor: owner.email });

    // Not for the requester: no buttons, and a POST is refused.
    const requesterAgent = await signedIn(change.requester);
    const theirs = await browse(requesterAgent, 'GET', pagePath);
    expect(theirs.status).toBe(200);
    expect(theirs.html).not.toContain('Send a reminder');
    const forbidden = await browse(requesterAgent, 'POST', `${pagePath}/nudge`, { csrf: hiddenCsrf(theirs.html)!, commandId: crypto.randomUUID() });
    expect(forbidden.status).toBe(403);
    expect(await auditOf(change.workflowId, 'approvals_nudged')).toHaveLength(1);
  });
});
