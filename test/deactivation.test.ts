/**
 * Deactivating a person through the API, on a real Temporal dev server, Postgres and SMTP sink:
 * their key and web session end at once, their emailed link is refused, and their open approval
 * moves (to their delegate, else their manager, else a process owner) with one audit row and one
 * email, and the new approver's link works. Refusals write nothing; reactivation needs a new key.
 */
import { randomUUID } from 'node:crypto';
import { WithStartWorkflowOperation } from '@temporalio/client';
import { Worker } from '@temporalio/worker';
import { createActivities } from '../activities';
import { createApprovalActivities } from '../activities/approvals';
import type { SunkMessage } from '../platform/mail-sink';
import { insertApiKey } from '../model/api-keys';
import { deactivationRefusal } from '../model/person-deactivation';
import { generateApiKey } from '../platform/api-keys';
import { deactivateUpdate, personDeactivationWorkflowId, type HandoverSummary } from '../workflows/person-deactivation/contract';
import { createApprovalRule, createCi, createPerson, eventually, type TestPerson } from './support/fixtures';
import { RELAXED_APPROVAL_TIMINGS, call, startStack, workflowBundle, type Stack } from './support/stack';
import { browse, signInWithKey, webAgent } from './support/web-agent';

let stack: Stack;
let admin: TestPerson;
let processOwner: TestPerson;
let ciId: string;

beforeAll(async () => {
  stack = await startStack();
  const db = stack.database.db;
  admin = await createPerson(db, ['admin'], 'Ada Admin');
  // First by name among the process owners: the taker of last resort.
  processOwner = await createPerson(db, ['process_owner'], 'Aaron Owner');
  await createApprovalRule(db, { stepOrder: 1, name: 'Manager', approverKind: 'manager' });
  ciId = (await createCi(db, { name: 'srv-hr-01', ciClass: 'server' })).id;
});

afterAll(async () => {
  await stack?.stop();
});

const linkIn = (message: SunkMessage) => {
  const match = /(https?:\/\/\S+\/approvals\/[0-9a-f-]+\?token=\S+)/.exec(message.text);
  if (!match) throw new Error(`no approval link in "${message.subject}"`);
  return new URL(match[1]);
};

const isTask = (person: TestPerson, number: string) => (m: SunkMessage) =>
  m.to.includes(person.email) && m.subject.startsWith('Approval needed') && m.subject.includes(number);

const tasksFor = (person: TestPerson, number: string) => stack.sink.messages().filter(isTask(person, number));

/** A change by a requester whose manager is `approver`, waiting for the approver's decision; answers its emailed link. */
async function changeWaitingFor(approver: TestPerson) {
  const requester = await createPerson(stack.database.db, ['requester'], 'Rhea Requester', { managerId: approver.id });
  const created = await call(stack, requester.apiKey, 'POST', '/changes', {
    type: 'normal', title: 'Patch the HR server', description: 'Monthly kernel update.', affectedCiIds: [ciId],
  });
  expect(created.status).toBe(201);
  const { id, number } = created.body;
  const link = linkIn(await stack.sink.waitFor(isTask(approver, number)));
  const approvalId = link.pathname.split('/').pop()!;
  return { requester, id, number, link, approvalId };
}

const deactivate = (person: TestPerson, by = admin, headers?: Record<string, string>) =>
  headers
    ? fetch(`${stack.baseUrl}/people/${person.id}/deactivate`, {
        method: 'POST',
        headers: { authorization: `Bearer ${by.apiKey}`, 'content-type': 'application/json', ...headers },
        body: JSON.stringify({ reason: 'left the company' }),
      }).then(async (res) => ({ status: res.status, body: await res.json() }))
    : call(stack, by.apiKey, 'POST', `/people/${person.id}/deactivate`, { reason: 'left the company' });

/** The approval that took over `approvalId`, once the handover has run. */
const replacementOf = (approvalId: string) =>
  eventually(async () => stack.database.db('approvals').where({ reassigned_from_id: approvalId }).first());

const reassignedAudit = (approvalId: string) =>
  stack.database.db('audit_log').where({ action: 'approval_reassigned' }).whereRaw(`details->>'approvalId' = ?`, [approvalId]);

async function decideByLink(link: URL, decision: 'approved' | 'rejected') {
  const res = await fetch(`${link.origin}${link.pathname}`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ token: link.searchParams.get('token')!, decision, comment: '' }).toString(),
  });
  return { status: res.status, html: await res.text() };
}

describe('deactivating an approver', () => {
  it('ends their key and session, refuses their link, and moves their approval to their manager, once', async () => {
    const db = stack.database.db;
    const manager = await createPerson(db, ['approver'], 'Mark Manager');
    const dana = await createPerson(db, ['approver'], 'Dana Departing', { managerId: manager.id });
    const change = await changeWaitingFor(dana);
    const agent = webAgent(stack.baseUrl);
    expect((await signInWithKey(agent, dana.apiKey)).status).toBe(303);
    expect((await browse(agent, 'GET', '/ui/inbox')).status).toBe(200);
    expect(await db('web_sessions').where({ person_id: dana.id })).toHaveLength(1);
    const version = (await db('people').where({ id: dana.id }).first('version')).version;

    const res = await deactivate(dana, admin, { 'if-match': `"${version}"` });

    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ person: { id: dana.id, active: false, version: version + 1 }, approvalsToMove: 1 });
    expect(res.body.person.deactivatedAt).toEqual(expect.any(String));
    // At once: the key, the session and its row.
    expect((await call(stack, dana.apiKey, 'GET', '/approvals')).status).toBe(401);
    expect(await db('web_sessions').where({ person_id: dana.id })).toHaveLength(0);
    const page = await browse(agent, 'GET', '/ui/inbox');
    expect(page.status).toBe(303);
    expect(page.location).toMatch(/^\/ui\/sign-in/);
    expect(await db('api_keys').where({ person_id: dana.id }).whereNull('revoked_at')).toHaveLength(0);
    expect(await db('api_keys').where({ person_id: dana.id, revoked_by: admin.email })).toHaveLength(1);
    const [audit] = await db('audit_log').where({ subject_type: 'person', subject_id: dana.id, action: 'person_deactivated' });
    expect(audit).toMatchObject({ actor: admin.email });
    expect(audit.details).toMatchObject({ before: { active: true, version }, after: { active: false, version: version + 1 }, reason: 'left the company', keysRevoked: 1 });

    const moved = await replacementOf(change.approvalId);
    expect(moved).toMatchObject({ approver_id: manager.id, state: 'requested', step_order: 1, delegated_from_id: null });
    expect(await db('approvals').where({ id: change.approvalId }).first('state')).toEqual({ state: 'reassigned' });
    const task = await stack.sink.waitFor(isTask(manager, change.number));
    expect(task.text).toContain('It was moved to you because Dana Departing is no longer active.');
    const [reassigned, ...more] = await reassignedAudit(change.approvalId);
    expect(more).toEqual([]);
    expect(reassigned.details).toMatchObject({ from: dana.id, to: manager.id, via: 'manager', reason: 'approver_deactivated', newApprovalId: moved.id });

    // The old link: refused with a page saying where it went, and nothing changes.
    const auditCount = (await db('audit_log').count<{ count: string }[]>({ count: '*' }))[0].count;
    const oldPage = await fetch(change.link);
    expect(oldPage.status).toBe(409);
    expect(await oldPage.text()).toContain('moved to Mark Manager');
    const oldDecision = await decideByLink(change.link, 'approved');
    expect(oldDecision.status).toBe(409);
    expect(oldDecision.html).toContain('Nothing was changed');
    expect(await db('approvals').where({ id: change.approvalId }).first('state')).toEqual({ state: 'reassigned' });
    expect(await db('approvals').where({ id: moved.id }).first('state')).toEqual({ state: 'requested' });
    expect((await db('audit_log').count<{ count: string }[]>({ count: '*' }))[0].count).toBe(auditCount);

    // The manager decides through their own link, and the change moves on.
    const decided = await decideByLink(linkIn(task), 'approved');
    expect(decided.status).toBe(200);
    const after = await eventually(async () => {
      const { body } = await call(stack, processOwner.apiKey, 'GET', `/changes/${change.id}`);
      return body.state !== 'authorize' ? body : undefined;
    });
    expect(['scheduled', 'implement']).toContain(after.state);
    expect(after.approvals).toEqual([
      expect.objectContaining({ id: change.approvalId, state: 'reassigned', movedTo: { id: manager.id, name: 'Mark Manager' } }),
      expect.objectContaining({ id: moved.id, state: 'approved', reassignedFromId: change.approvalId }),
    ]);
    // One move, one email: the handover is not repeated by anything that ran since.
    expect(tasksFor(manager, change.number)).toHaveLength(1);
    expect(await reassignedAudit(change.approvalId)).toHaveLength(1);

    // Deactivating again is answered as it stands, writing nothing new.
    const again = await deactivate(dana);
    expect(again).toMatchObject({ status: 200, body: { person: { active: false, version: version + 1 }, approvalsToMove: 0 } });
    expect(await db('audit_log').where({ subject_id: dana.id, action: 'person_deactivated' })).toHaveLength(1);
  });

  it('moves the approval to the delegate the approver named, who acts for them', async () => {
    const db = stack.database.db;
    const manager = await createPerson(db, ['approver'], 'Mia Manager');
    const dan = await createPerson(db, ['approver'], 'Dan Delegating', { managerId: manager.id });
    const delegate = await createPerson(db, ['approver'], 'Della Delegate');
    const change = await changeWaitingFor(dan);
    await db('delegations').insert({ delegator_id: dan.id, delegate_id: delegate.id, starts_at: new Date(Date.now() - 60_000), ends_at: new Date(Date.now() + 86_400_000) });

    expect((await deactivate(dan)).status).toBe(200);

    const moved = await replacementOf(change.approvalId);
    expect(moved).toMatchObject({ approver_id: delegate.id, delegated_from_id: dan.id, state: 'requested' });
    const task = await stack.sink.waitFor(isTask(delegate, change.number));
    expect(task.text).toContain('You receive this as the delegate of Dan Delegating.');
    expect((await reassignedAudit(change.approvalId)).map((a) => a.details.via)).toEqual(['delegate']);
    expect(tasksFor(manager, change.number)).toEqual([]);
  });

  it('moves the approval to a process owner when the approver has no manager', async () => {
    const db = stack.database.db;
    const solo = await createPerson(db, ['approver'], 'Sol Solo');
    const change = await changeWaitingFor(solo);

    expect((await deactivate(solo)).status).toBe(200);

    expect(await replacementOf(change.approvalId)).toMatchObject({ approver_id: processOwner.id, state: 'requested' });
    await stack.sink.waitFor(isTask(processOwner, change.number));
    expect((await reassignedAudit(change.approvalId)).map((a) => a.details.via)).toEqual(['process_owner']);
  });

  it('asks nobody who left: a new change whose requester’s manager left goes to the process owners', async () => {
    const db = stack.database.db;
    const manager = await createPerson(db, ['approver'], 'Max Manager');
    const gone = await createPerson(db, ['approver'], 'Gil Gone', { managerId: manager.id });
    expect((await deactivate(gone)).status).toBe(200);
    const requester = await createPerson(db, ['requester'], 'Rob Requester', { managerId: gone.id });

    const created = await call(stack, requester.apiKey, 'POST', '/changes', { type: 'normal', title: 'Swap a disk', description: 'Disk 2 failing.', affectedCiIds: [ciId] });

    expect(created.status).toBe(201);
    // The requester's manager left: nobody inactive is asked; the rule falls back to the process owners.
    await stack.sink.waitFor(isTask(processOwner, created.body.number));
    expect(await db('approvals').where({ subject_id: created.body.id, approver_id: gone.id })).toEqual([]);
  });
});

describe('a handover that cannot go as planned', () => {
  const handoverOf = (person: TestPerson) => stack.env.client.workflow.getHandle(personDeactivationWorkflowId(person.id));

  it('records an approval whose workflow has ended as unreachable, and moves nothing', async () => {
    const db = stack.database.db;
    const manager = await createPerson(db, ['approver'], 'Nia Manager');
    const stranded = await createPerson(db, ['approver'], 'Ola Stranded', { managerId: manager.id });
    const change = await changeWaitingFor(stranded);
    await stack.env.client.workflow.getHandle(`change:${change.number}`).terminate('the test ends it');

    expect((await deactivate(stranded)).status).toBe(200);

    expect(await handoverOf(stranded).result()).toEqual<HandoverSummary>({ workflowsSignalled: 0, approvalsUnreachable: 1 });
    const [unreachable, ...more] = await db('audit_log').where({ action: 'approval_handover_unreachable' }).whereRaw(`details->>'approvalId' = ?`, [change.approvalId]);
    expect(more).toEqual([]);
    expect(unreachable).toMatchObject({ actor: 'system:person-deactivation', subject_id: change.id });
    expect(unreachable.details).toMatchObject({ approverId: stranded.id, state: 'requested', reason: expect.stringContaining('not found') });
    expect(await db('approvals').where({ reassigned_from_id: change.approvalId })).toEqual([]);
  });

  it('reports a step that outlasts its retries to the process owners, keeps trying, and moves the approval once it goes through', async () => {
    const db = stack.database.db;
    const manager = await createPerson(db, ['approver'], 'Uma Manager');
    const departing = await createPerson(db, ['approver'], 'Ivo Interrupted', { managerId: manager.id });
    const change = await changeWaitingFor(departing);
    // A worker of its own for the deactivation, whose search for open approvals fails until the test lets it through.
    const real = createActivities({
      db, publicUrl: stack.baseUrl, securityNoticeEmail: stack.securityNoticeEmail, temporal: stack.env.client,
      lifecycle: { taskQueue: stack.taskQueue, reminders: stack.reminders }, approvalTimings: RELAXED_APPROVAL_TIMINGS.normal,
    });
    let failing = true;
    let searches = 0;
    const taskQueue = `deactivation-${randomUUID()}`;
    const worker = await Worker.create({
      connection: stack.env.nativeConnection,
      taskQueue,
      workflowBundle: await workflowBundle(),
      activities: {
        ...real,
        openApprovalsOf: async (input: { personId: string }) => {
          searches += 1;
          if (failing) throw new Error('Connection terminated unexpectedly');
          return real.openApprovalsOf(input);
        },
      },
    });

    await worker.runUntil(async () => {
      const outcome = await stack.env.client.workflow.executeUpdateWithStart(deactivateUpdate, {
        args: [{ requestId: randomUUID(), actorId: admin.id, actor: admin.email }],
        startWorkflowOperation: new WithStartWorkflowOperation('personDeactivationWorkflow', {
          workflowId: personDeactivationWorkflowId(departing.id),
          taskQueue,
          workflowIdConflictPolicy: 'USE_EXISTING',
          args: [{ personId: departing.id }],
        }),
      });
      expect(outcome).toMatchObject({ deactivated: true, approvalsToMove: 1 });

      // Past the bounded retries (about 35 s): recorded on the person, and the process owners told once.
      const warning = await stack.sink.waitFor((m) => m.to.includes(processOwner.email) && m.subject.includes('Ivo Interrupted'), 90_000);
      expect(warning.subject).toBe('Needs attention: the approvals of Ivo Interrupted, who was deactivated');
      expect(warning.text).toContain('Last failure: openApprovalsOf: Connection terminated unexpectedly');
      const [stalled] = await db('audit_log').where({ subject_type: 'person', subject_id: departing.id, action: 'needs_attention' });
      expect(stalled).toMatchObject({ actor: 'system:person-deactivation', details: { step: 'find their open approvals', notified: expect.arrayContaining([processOwner.email]) } });
      expect(await db('approvals').where({ reassigned_from_id: change.approvalId })).toEqual([]);
      expect(searches).toBeGreaterThanOrEqual(7);

      failing = false;
      expect(await handoverOf(departing).result()).toEqual<HandoverSummary>({ workflowsSignalled: 1, approvalsUnreachable: 0 });
    });

    expect(await replacementOf(change.approvalId)).toMatchObject({ approver_id: manager.id, state: 'requested' });
    await stack.sink.waitFor(isTask(manager, change.number));
    expect(await db('audit_log').where({ subject_id: departing.id }).orderBy('id').pluck('action')).toEqual(['person_deactivated', 'needs_attention', 'attention_cleared']);
    expect(stack.sink.messages().filter((m) => m.subject.includes('Ivo Interrupted'))).toHaveLength(1);
  }, 150_000);

  it('mails no task to an approver who is inactive, and moves nothing of an approver active again', async () => {
    const db = stack.database.db;
    const manager = await createPerson(db, ['approver'], 'Eve Manager');
    const approver = await createPerson(db, ['approver'], 'Ian Inactive', { managerId: manager.id });
    const change = await changeWaitingFor(approver);
    const approvals = createApprovalActivities({ db, publicUrl: stack.baseUrl });
    const key = `test:${change.approvalId}`;

    // Deactivated as the step opened: no task and no reminder reach them (their handover mails the taker).
    await db('people').where({ id: approver.id }).update({ active: false });
    expect(await approvals.sendApprovalTask({ idempotencyKey: `${key}:task`, approvalId: change.approvalId, kind: 'task' })).toBe(false);
    expect(await approvals.sendApprovalTask({ idempotencyKey: `${key}:reminder`, approvalId: change.approvalId, kind: 'reminder' })).toBe(false);
    expect(await db('email_log').whereIn('idempotency_key', [`${key}:task`, `${key}:reminder`])).toEqual([]);

    // Active again before the handover came round: the approval stays theirs, and no audit row says otherwise.
    await db('people').where({ id: approver.id }).update({ active: true });
    expect(await approvals.handOverApproval({ idempotencyKey: `${key}:handover`, approvalId: change.approvalId, dueAt: new Date(Date.now() + 86_400_000).toISOString() })).toBeNull();
    expect(await db('audit_log').where({ idempotency_key: `${key}:handover` })).toEqual([]);
    expect(await db('approvals').where({ id: change.approvalId }).first('state')).toEqual({ state: 'requested' });
    expect(await db('approvals').where({ reassigned_from_id: change.approvalId })).toEqual([]);
  });
});

describe('refusals write nothing', () => {
  const snapshot = async (person: TestPerson) => ({
    person: await stack.database.db('people').where({ id: person.id }).first('active', 'version'),
    liveKeys: (await stack.database.db('api_keys').where({ person_id: person.id }).whereNull('revoked_at')).length,
    audit: (await stack.database.db('audit_log').where({ subject_id: person.id })).length,
  });

  it('refuses a non-admin (403), deactivating oneself (409), a stale If-Match (412) and a bad body (400)', async () => {
    const db = stack.database.db;
    const target = await createPerson(db, ['approver'], 'Tess Target');
    const assetManager = await createPerson(db, ['asset_manager', 'process_owner'], 'Zed Manager');
    const before = await snapshot(target);

    expect(await deactivate(target, assetManager)).toMatchObject({ status: 403 });
    expect(await call(stack, admin.apiKey, 'POST', `/people/${admin.id}/deactivate`, {})).toMatchObject({ status: 409, body: { error: { code: 'cannot_deactivate_self' } } });
    expect(await deactivate(target, admin, { 'if-match': '"7"' })).toMatchObject({ status: 412, body: { error: { code: 'version_mismatch', details: { currentVersion: 1 } } } });
    expect(await call(stack, admin.apiKey, 'POST', `/people/${target.id}/deactivate`, [])).toMatchObject({ status: 400 });
    expect(await call(stack, admin.apiKey, 'POST', '/people/00000000-0000-4000-8000-000000000000/deactivate', {})).toMatchObject({ status: 404 });

    expect(await snapshot(target)).toEqual(before);
    expect((await call(stack, target.apiKey, 'GET', '/approvals')).status).toBe(200);
  });

  it('never leaves nobody an admin: of two admins deactivating each other at once, one is refused', async () => {
    const db = stack.database.db;
    // Only these two are admins: the file's admin steps back for this test.
    await db('person_roles').where({ person_id: admin.id, role: 'admin' }).delete();
    try {
      const [first, second] = [await createPerson(db, ['admin'], 'Una Admin'), await createPerson(db, ['admin'], 'Vic Admin')];
      expect(await deactivationRefusal(db, { personId: first.id, actorId: processOwner.id })).toBeNull();
      const [a, b] = await Promise.all([deactivate(first, second), deactivate(second, first)]);

      expect([a.status, b.status].sort()).toEqual([200, 409]);
      const [winner, loser] = a.status === 200 ? [second, first] : [first, second];
      expect((a.status === 409 ? a : b).body.error.code).toBe('last_admin');
      expect(await db('people').where({ id: winner.id }).first('active')).toEqual({ active: true });
      expect(await snapshot(winner)).toMatchObject({ liveKeys: 1, audit: 0 });
      expect(await db('people').where({ id: loser.id }).first('active')).toEqual({ active: false });
      // With one admin left, the rule itself says so.
      expect(await deactivationRefusal(db, { personId: winner.id, actorId: processOwner.id })).toMatchObject({ rule: 'last_admin' });
    } finally {
      await db('person_roles').insert({ person_id: admin.id, role: 'admin' }).onConflict(['person_id', 'role']).ignore();
    }
  });
});

describe('reactivation', () => {
  it('lets the person sign in again, but only with a new key', async () => {
    const db = stack.database.db;
    const returning = await createPerson(db, ['approver'], 'Ria Returning');
    expect((await deactivate(returning)).status).toBe(200);
    expect((await signInWithKey(webAgent(stack.baseUrl), returning.apiKey)).status).not.toBe(303);

    const res = await call(stack, admin.apiKey, 'POST', `/people/${returning.id}/reactivate`, {});

    expect(res).toMatchObject({ status: 200, body: { person: { active: true, deactivatedAt: null, version: 3 } } });
    const [audit] = await db('audit_log').where({ subject_id: returning.id, action: 'person_reactivated' });
    expect(audit).toMatchObject({ actor: admin.email, details: { before: { active: false, version: 2 }, after: { active: true, version: 3 } } });
    expect((await call(stack, returning.apiKey, 'GET', '/approvals')).status).toBe(401);
    expect((await signInWithKey(webAgent(stack.baseUrl), returning.apiKey)).status).not.toBe(303);

    const fresh = generateApiKey();
    await insertApiKey(db, { personId: returning.id, name: 'after return', apiKey: fresh, createdBy: admin.email });
    expect((await call(stack, fresh, 'GET', '/approvals')).status).toBe(200);
    const agent = webAgent(stack.baseUrl);
    expect((await signInWithKey(agent, fresh)).status).toBe(303);
    expect((await browse(agent, 'GET', '/ui/inbox')).status).toBe(200);
  });
});
