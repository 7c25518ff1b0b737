/**
 * Change approval through the HTTP API and the emailed links, on a real Temporal dev server, a
 * real Postgres and a real SMTP sink: submission, impact and risk, routing, decisions,
 * scheduling, implementation, the asset transitions a change declares, review and closure.
 */
import { randomBytes } from 'node:crypto';
import type { SunkMessage } from '../platform/mail-sink';
import { signApprovalToken } from '../platform/approval-links';
import { findAsset } from '../model/assets';
import {
  changeAudit,
  createApprovalRule,
  createAsset,
  createCi,
  createGroup,
  createPerson,
  eventually,
  relate,
  type TestPerson,
} from './support/fixtures';
import { call, startStack, type Stack } from './support/stack';

let stack: Stack;
let implementer: TestPerson;
let processOwner: TestPerson;
let emergencyCab: TestPerson[];
let standardModelId: string;

beforeAll(async () => {
  stack = await startStack();
  const db = stack.database.db;
  implementer = await createPerson(db, ['asset_manager'], 'Ivo Implementer');
  processOwner = await createPerson(db, ['process_owner'], 'Petra Process');
  emergencyCab = [await createPerson(db, ['approver'], 'Erik Emergency'), await createPerson(db, ['approver'], 'Ella Emergency')];
  const ecab = await createGroup(db, emergencyCab.map((p) => p.id), 'Emergency CAB');
  await createApprovalRule(db, { stepOrder: 1, name: 'Manager', approverKind: 'manager' });
  await createApprovalRule(db, { stepOrder: 2, name: 'Service owners', appliesWhen: { minCriticality: 'tier_1' }, approverKind: 'service_owner', policy: 'all' });
  await createApprovalRule(db, { stepOrder: 3, name: 'Emergency CAB', appliesWhen: { changeType: 'emergency' }, approverKind: 'group', groupId: ecab, onExpiry: 'escalate' });
  [{ id: standardModelId }] = await db('change_models').insert({ name: 'Patch a server', description: 'monthly patches', risk_ceiling: 'moderate' }).returning('id');
});

afterAll(async () => {
  await stack?.stop();
});

/** A requester with a manager, and a server that an application of a tier-3 service runs on. */
async function scenario(options: { criticality?: string } = {}) {
  const db = stack.database.db;
  const manager = await createPerson(db, ['approver'], 'Mona Manager');
  const requester = await createPerson(db, ['requester'], 'Rita Requester', { managerId: manager.id });
  const serviceOwner = await createPerson(db, ['approver'], 'Sam Service');
  const serverAsset = await createAsset(db, { state: 'in_use', warrantyEnd: '2030-01-01' });
  // A CI's name is unique within its class: each scenario has its own.
  const suffix = randomBytes(3).toString('hex');
  const server = await createCi(db, { name: `srv-app-${suffix}`, ciClass: 'server', assetId: serverAsset.id });
  const app = await createCi(db, { name: `billing-api-${suffix}`, ciClass: 'application' });
  const service = await createCi(db, { name: `Billing ${suffix}`, ciClass: 'business_service', criticality: options.criticality ?? 'tier_3', ownerId: serviceOwner.id });
  await relate(db, app.id, 'runs_on', server.id);
  await relate(db, service.id, 'depends_on', app.id);
  return { manager, requester, serviceOwner, server, app, service, serverAsset };
}

const submit = (person: TestPerson, body: Record<string, unknown>, headers?: Record<string, string>) =>
  headers
    ? fetch(`${stack.baseUrl}/changes`, {
        method: 'POST',
        headers: { authorization: `Bearer ${person.apiKey}`, 'content-type': 'application/json', ...headers },
        body: JSON.stringify(body),
      }).then(async (res) => ({ status: res.status, body: await res.json() }))
    : call(stack, person.apiKey, 'POST', '/changes', body);

const normalChange = (ciIds: string[], extra: Record<string, unknown> = {}) => ({
  type: 'normal',
  title: 'Upgrade the billing API server',
  description: 'Replace the OS disk and upgrade the kernel.',
  affectedCiIds: ciIds,
  ...extra,
});

const linkIn = (message: SunkMessage) => {
  const match = /(https?:\/\/\S+\/approvals\/[0-9a-f-]+\?token=\S+)/.exec(message.text);
  if (!match) throw new Error(`no approval link in "${message.subject}"`);
  return new URL(match[1]);
};

const taskFor = (person: TestPerson, number: string) =>
  stack.sink.waitFor((m) => m.to.includes(person.email) && m.subject.startsWith('Approval needed') && m.subject.includes(number));

const changeState = async (id: string) => (await call(stack, processOwner.apiKey, 'GET', `/changes/${id}`)).body;

const untilState = (id: string, state: string, closeCode?: string) =>
  eventually(async () => {
    const change = await changeState(id);
    return change.state === state && (!closeCode || change.closeCode === closeCode) ? change : undefined;
  });

async function decideByLink(link: URL, decision: 'approved' | 'rejected', comment: string) {
  const res = await fetch(`${link.origin}${link.pathname}`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ token: link.searchParams.get('token')!, decision, comment }).toString(),
  });
  return { status: res.status, html: await res.text() };
}

describe('a normal change', () => {
  it('is assessed, approved through the emailed link, implemented and closed, moving the asset it declares', async () => {
    const db = stack.database.db;
    const s = await scenario();
    const spare = await createAsset(db, { state: 'in_stock' });
    const spareCi = await createCi(db, { ciClass: 'server', assetId: spare.id });
    const plannedStart = new Date(Date.now() + 2_000).toISOString();
    const plannedEnd = new Date(Date.now() + 3_600_000).toISOString();

    const created = await submit(s.requester, normalChange([s.server.id, spareCi.id], {
      plannedStart, plannedEnd, oneOffCostMinor: 45_000, assetActions: [{ assetId: spare.id, toState: 'in_use' }],
    }));
    expect(created.status).toBe(201);
    const { number, id } = created.body;
    expect(number).toMatch(/^CHG\d{7}$/);

    const receipt = await stack.sink.waitFor((m) => m.to.includes(s.requester.email) && m.subject === `Received: ${number} Upgrade the billing API server`);
    expect(receipt.text).toContain(`Follow it at ${stack.baseUrl}/ui/changes/${number}`);
    const task = await taskFor(s.manager, number);
    expect(task.text).toContain('Risk: ');
    // The window in the approver's zone (theirs unset: the organisation's, UTC here), never raw ISO text.
    expect(task.text).not.toContain(plannedStart);
    expect(task.text).not.toMatch(/POST |\/decision/);
    expect(task.text).toContain(`${s.service.name} (tier 3)`);
    const assessed = await changeState(id);
    expect(assessed.state).toBe('authorize');
    expect(assessed.impact.services.businessServices.map((b: { name: string }) => b.name)).toEqual([s.service.name]);
    expect(assessed.risk.reasons.length).toBeGreaterThan(0);
    expect(assessed.status.waitingFor).toEqual([s.manager.id]);

    const link = linkIn(task);
    const pageRes = await fetch(link);
    expect(pageRes.status).toBe(200);
    const pageHtml = await pageRes.text();
    expect(pageHtml).toContain(number);
    expect(pageHtml).toContain('Approve');

    const decided = await decideByLink(link, 'approved', 'Fine, inside the window');
    expect(decided.status).toBe(200);
    expect(decided.html).toContain('Thank you: you approved this request');

    await stack.sink.waitFor((m) => m.to.includes(s.requester.email) && m.subject.startsWith(`Approved: ${number}`));
    await untilState(id, 'implement');
    expect((await call(stack, implementer.apiKey, 'POST', `/changes/${number}/implementation`, { event: 'started', notes: 'disk swapped' })).status).toBe(200);
    const completed = await call(stack, implementer.apiKey, 'POST', `/changes/${number}/implementation`, { event: 'completed', notes: 'all checks green' });
    expect(completed.status).toBe(200);
    expect(completed.body).toMatchObject({ state: 'closed', closeCode: 'successful' });

    expect(await findAsset(db, spare.id)).toMatchObject({ state: 'in_use' });
    const closed = await changeState(id);
    expect(closed).toMatchObject({ state: 'closed', closeCode: 'successful' });
    expect(closed.approvals).toEqual([
      expect.objectContaining({ approver: expect.objectContaining({ id: s.manager.id }), state: 'approved', decidedVia: 'link', comment: 'Fine, inside the window' }),
    ]);
    const audit = await changeAudit(db, id);
    expect(audit.filter((a) => a.action === 'state_changed').map((a) => a.to_state)).toEqual(['assess', 'authorize', 'scheduled', 'implement', 'closed']);
    expect(audit.map((a) => a.action)).toEqual(expect.arrayContaining(['assessed', 'approvals_planned', 'approval_step_opened', 'approval_approved', 'implementation_started', 'implementation_completed', 'asset_transition']));
    expect(audit.find((a) => a.action === 'approval_approved')).toMatchObject({ actor: s.manager.email });
    const assetAudit = await db('audit_log').where({ subject_type: 'asset', subject_id: spare.id, action: 'transition' });
    expect(assetAudit).toHaveLength(1);
    expect(assetAudit[0].details.note).toBe(`implemented by change ${number}`);
    await stack.sink.waitFor((m) => m.to.includes(s.requester.email) && m.subject.startsWith(`Closed (successful): ${number}`));
  });

  it('is closed as rejected when the manager rejects it through the API, and the requester is told', async () => {
    const s = await scenario();
    const { body } = await submit(s.requester, normalChange([s.server.id]));
    await taskFor(s.manager, body.number);
    const [approval] = (await changeState(body.id)).approvals;

    const res = await call(stack, s.manager.apiKey, 'POST', `/changes/${body.number}/approvals/${approval.id}/decision`, { decision: 'rejected', comment: 'not during quarter end' });

    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ decision: 'rejected', stepOutcome: 'rejected' });
    const closed = await untilState(body.id, 'closed');
    expect(closed.closeCode).toBe('rejected');
    expect(closed.approvals[0]).toMatchObject({ state: 'rejected', comment: 'not during quarter end', decidedVia: 'api' });
    await stack.sink.waitFor((m) => m.to.includes(s.requester.email) && m.subject.startsWith(`Rejected: ${body.number}`));
    await stack.sink.waitFor((m) => m.to.includes(s.requester.email) && m.subject.startsWith(`Closed (rejected): ${body.number}`));
  });

  it('asks every owner of a tier-1 service after the manager, in order', async () => {
    const s = await scenario({ criticality: 'tier_1' });
    const { body } = await submit(s.requester, normalChange([s.server.id]));
    await taskFor(s.manager, body.number);
    const [managerApproval] = (await changeState(body.id)).approvals;
    expect((await call(stack, s.manager.apiKey, 'POST', `/changes/${body.number}/approvals/${managerApproval.id}/decision`, { decision: 'approved' })).status).toBe(200);

    await taskFor(s.serviceOwner, body.number);
    const change = await changeState(body.id);
    expect(change.risk.level).not.toBe('low');
    expect(change.approvals.map((a: { step: number; stepName: string; state: string }) => [a.step, a.stepName, a.state])).toEqual([
      [1, 'Manager', 'approved'],
      [2, 'Service owners', 'requested'],
    ]);
    expect(change.status.waitingFor).toEqual([s.serviceOwner.id]);
    await call(stack, s.requester.apiKey, 'POST', `/changes/${body.number}/cancel`, { reason: 'test done' });
  });
});

describe('approval links refuse what they must', () => {
  it('refuse a forged, altered, expired or borrowed token, the wrong person and the requester, then work once', async () => {
    const db = stack.database.db;
    const s = await scenario();
    const other = await scenario();
    const { body } = await submit(s.requester, normalChange([s.server.id]));
    const { body: otherChange } = await submit(other.requester, normalChange([other.server.id]));
    const link = linkIn(await taskFor(s.manager, body.number));
    const otherLink = linkIn(await taskFor(other.manager, otherChange.number));
    const approvalId = link.pathname.split('/').pop()!;
    const token = link.searchParams.get('token')!;
    const decide = (id: string, t: string) => call(stack, undefined, 'POST', `/approvals/${id}/decision`, { token: t, decision: 'approved' });
    const auditBefore = (await changeAudit(db, body.id)).length;

    const forged = signApprovalToken('not-the-secret-but-long-enough-to-look-real', {
      approvalId, approverId: s.manager.id, workflowId: `change:${body.number}`, revision: 0, step: 1, expiresAt: Date.now() + 60_000,
    });
    expect(await decide(approvalId, forged)).toMatchObject({ status: 403, body: { error: { code: 'invalid_link' } } });

    const [v, payload, sig] = token.split('.');
    const claims = JSON.parse(Buffer.from(payload, 'base64url').toString());
    const altered = `${v}.${Buffer.from(JSON.stringify({ ...claims, expiresAt: claims.expiresAt + 86_400_000 })).toString('base64url')}.${sig}`;
    expect(await decide(approvalId, altered)).toMatchObject({ status: 403, body: { error: { code: 'invalid_link' } } });

    const expired = signApprovalToken(stack.approvalLinkSecret, { ...claims, expiresAt: Date.now() - 1_000 });
    const expiredRes = await decide(approvalId, expired);
    expect(expiredRes).toMatchObject({ status: 410, body: { error: { code: 'link_expired' } } });
    expect(expiredRes.body.error.message).toContain('nothing was changed');

    const borrowed = await decide(approvalId, otherLink.searchParams.get('token')!);
    expect(borrowed).toMatchObject({ status: 403, body: { error: { code: 'invalid_link', message: expect.stringContaining('another approval') } } });

    const wrongPerson = await call(stack, other.manager.apiKey, 'POST', `/changes/${body.number}/approvals/${approvalId}/decision`, { decision: 'approved' });
    expect(wrongPerson).toMatchObject({ status: 403, body: { error: { code: 'not_the_approver' } } });

    const ownChange = await call(stack, s.requester.apiKey, 'POST', `/changes/${body.number}/approvals/${approvalId}/decision`, { decision: 'approved' });
    expect(ownChange).toMatchObject({ status: 403, body: { error: { code: 'segregation_of_duties' } } });

    const forgedPage = await fetch(`${link.origin}${link.pathname}?token=${encodeURIComponent(forged)}`);
    expect(forgedPage.status).toBe(403);
    expect(await forgedPage.text()).toContain('Nothing was changed');

    expect(await db('approvals').where({ id: approvalId }).first('state')).toEqual({ state: 'requested' });
    expect(await changeAudit(db, body.id)).toHaveLength(auditBefore);

    expect((await decideByLink(link, 'approved', 'first click')).status).toBe(200);
    const second = await decideByLink(link, 'rejected', 'second click');
    expect(second.status).toBe(409);
    expect(second.html).toContain('already approved');
    const approval = await db('approvals').where({ id: approvalId }).first();
    expect(approval).toMatchObject({ state: 'approved', comment: 'first click' });
    expect((await changeAudit(db, body.id)).filter((a) => a.action.startsWith('approval_') && a.action !== 'approval_step_opened')).toHaveLength(1);

    await call(stack, s.requester.apiKey, 'POST', `/changes/${body.number}/cancel`, { reason: 'test done' });
    await call(stack, other.requester.apiKey, 'POST', `/changes/${otherChange.number}/cancel`, { reason: 'test done' });
  });
});

describe('a standard change', () => {
  it('is approved by its model with no human step when its risk is within the ceiling', async () => {
    const db = stack.database.db;
    const s = await scenario();
    const lonelyServer = await createCi(db, { name: 'srv-lab-01', ciClass: 'server' });
    void s;
    const { status, body } = await submit(s.requester, { type: 'standard', changeModelId: standardModelId, affectedCiIds: [lonelyServer.id] });
    expect(status).toBe(201);
    expect(body.title).toBe('Patch a server');

    await untilState(body.id, 'implement');
    await call(stack, implementer.apiKey, 'POST', `/changes/${body.number}/implementation`, { event: 'started', notes: 'patching' });
    const done = await call(stack, implementer.apiKey, 'POST', `/changes/${body.number}/implementation`, { event: 'completed', notes: 'rebooted', withIssues: true });
    expect(done.body).toMatchObject({ state: 'closed', closeCode: 'successful_with_issues' });

    const change = await changeState(body.id);
    expect(change.approvals).toEqual([]);
    expect(change.riskLevel).toBe('low');
    expect((await changeAudit(db, body.id)).find((a) => a.action === 'approved_by_model')).toMatchObject({
      details: expect.objectContaining({ model: 'Patch a server', riskCeiling: 'moderate' }),
    });
  });

  it('needs a model, and only standard changes follow one', async () => {
    const s = await scenario();
    const missing = await submit(s.requester, { type: 'standard', affectedCiIds: [s.server.id] });
    expect(missing).toMatchObject({ status: 400, body: { error: { code: 'invalid_input' } } });
    expect(missing.body.error.details).toEqual(expect.arrayContaining([expect.objectContaining({ path: 'changeModelId' })]));
    const unknownCi = await submit(s.requester, normalChange(['00000000-0000-4000-8000-000000000000']));
    expect(unknownCi).toMatchObject({ status: 400, body: { error: { details: [expect.objectContaining({ path: 'affectedCiIds' })] } } });
  });
});

describe('an emergency change', () => {
  it('goes to the emergency CAB, and needs a review after implementation before it closes', async () => {
    const db = stack.database.db;
    const s = await scenario();
    const { body } = await submit(s.requester, { ...normalChange([s.server.id]), type: 'emergency', title: 'Patch the exploited OpenSSL' });
    const managerTask = await taskFor(s.manager, body.number);
    expect((await decideByLink(linkIn(managerTask), 'approved', 'go')).status).toBe(200);

    const cabTasks = await Promise.all(emergencyCab.map((p) => taskFor(p, body.number)));
    const change = await changeState(body.id);
    const cabApprovals = change.approvals.filter((a: { stepName: string }) => a.stepName === 'Emergency CAB');
    expect(cabApprovals).toHaveLength(2);
    const dueIn = Date.parse(cabApprovals[0].dueAt) - Date.now();
    expect(dueIn).toBeLessThanOrEqual(4 * 3_600_000);
    expect(change.risk.reasons.map((r: { factor: string }) => r.factor)).toContain('changeType');

    expect((await decideByLink(linkIn(cabTasks[1]), 'approved', 'CAB ok')).status).toBe(200);
    await untilState(body.id, 'implement');
    expect((await db('approvals').where({ subject_id: body.id, approver_id: emergencyCab[0].id }).first()).state).toBe('skipped');

    await call(stack, implementer.apiKey, 'POST', `/changes/${body.number}/implementation`, { event: 'started', notes: 'patching' });
    const completed = await call(stack, implementer.apiKey, 'POST', `/changes/${body.number}/implementation`, { event: 'completed', notes: 'patched' });
    expect(completed.body).toMatchObject({ state: 'review', closeCode: null });
    expect((await call(stack, s.requester.apiKey, 'POST', `/changes/${body.number}/cancel`, { reason: 'too late' })).status).toBe(409);
    const reviewed = await call(stack, processOwner.apiKey, 'POST', `/changes/${body.number}/review`, { notes: 'root cause: missing patch SLA' });
    expect(reviewed.body).toMatchObject({ state: 'closed', closeCode: 'successful' });
    expect((await changeState(body.id)).review).toMatchObject({ notes: 'root cause: missing patch SLA', by: processOwner.email });
  });
});

describe('delegation', () => {
  it('sends the task to the delegate, recorded as acting for the manager', async () => {
    const db = stack.database.db;
    const s = await scenario();
    const deputy = await createPerson(db, ['approver'], 'Dana Deputy');
    const delegation = await call(stack, s.manager.apiKey, 'POST', '/delegations', {
      delegateId: deputy.id,
      startsAt: new Date(Date.now() - 60_000).toISOString(),
      endsAt: new Date(Date.now() + 86_400_000).toISOString(),
    });
    expect(delegation.status).toBe(201);

    const { body } = await submit(s.requester, normalChange([s.server.id]));
    const task = await taskFor(deputy, body.number);
    expect(task.text).toContain(`as the delegate of ${s.manager.name}`);
    const [approval] = (await changeState(body.id)).approvals;
    expect(approval).toMatchObject({ approver: expect.objectContaining({ id: deputy.id }), delegatedFrom: expect.objectContaining({ id: s.manager.id }) });
    expect(stack.sink.messages().some((m) => m.to.includes(s.manager.email) && m.subject.includes(body.number))).toBe(false);

    expect((await decideByLink(linkIn(task), 'approved', 'on behalf of Mona')).status).toBe(200);
    await untilState(body.id, 'implement');
    const decision = (await changeAudit(db, body.id)).find((a) => a.action === 'approval_approved');
    expect(decision).toMatchObject({ actor: deputy.email, details: expect.objectContaining({ delegatedFromId: s.manager.id }) });
    await call(stack, s.requester.apiKey, 'POST', `/changes/${body.number}/cancel`, { reason: 'test done' });
  });
});

describe('scope, cancellation and failure', () => {
  it('goes back to assess when its scope changes after approval, and asks again', async () => {
    const db = stack.database.db;
    const s = await scenario();
    const later = { plannedStart: new Date(Date.now() + 3_600_000).toISOString(), plannedEnd: new Date(Date.now() + 7_200_000).toISOString() };
    const { body } = await submit(s.requester, normalChange([s.server.id], later));
    expect((await decideByLink(linkIn(await taskFor(s.manager, body.number)), 'approved', 'ok')).status).toBe(200);
    await untilState(body.id, 'scheduled');

    const revised = await call(stack, s.requester.apiKey, 'PATCH', `/changes/${body.number}`, { affectedCiIds: [s.server.id, s.app.id], oneOffCostMinor: 10_000 });
    expect(revised.status).toBe(200);
    await eventually(async () => (await db('approvals').where({ subject_id: body.id, revision: 1 })).length === 1);
    const change = await changeState(body.id);
    expect(change).toMatchObject({ state: 'authorize', revision: 1, oneOffCostMinor: 10_000 });
    expect(change.affectedCis).toHaveLength(2);
    expect(change.approvals.map((a: { revision: number; state: string }) => [a.revision, a.state])).toEqual([[0, 'approved'], [1, 'requested']]);
    const states = (await changeAudit(db, body.id)).filter((a) => a.action === 'state_changed').map((a) => a.to_state);
    expect(states).toEqual(['assess', 'authorize', 'scheduled', 'assess', 'authorize']);

    const cancelled = await call(stack, s.requester.apiKey, 'POST', `/changes/${body.number}/cancel`, { reason: 'window moved to next quarter' });
    expect(cancelled.body).toMatchObject({ state: 'closed', closeCode: 'cancelled' });
    expect((await db('approvals').where({ subject_id: body.id, revision: 1 }).first()).state).toBe('cancelled');
    expect((await call(stack, s.requester.apiKey, 'POST', `/changes/${body.number}/cancel`, { reason: 'again' })).status).toBe(409);
  });

  it('cannot be cancelled once implementation starts; a failure needs a review and closes unsuccessful', async () => {
    const s = await scenario();
    const { body } = await submit(s.requester, normalChange([s.server.id]));
    expect((await decideByLink(linkIn(await taskFor(s.manager, body.number)), 'approved', 'ok')).status).toBe(200);
    await untilState(body.id, 'implement');
    const outOfOrder = await call(stack, implementer.apiKey, 'POST', `/changes/${body.number}/implementation`, { event: 'completed', notes: 'done?' });
    expect(outOfOrder).toMatchObject({ status: 409, body: { error: { code: 'implementation_order' } } });
    await call(stack, implementer.apiKey, 'POST', `/changes/${body.number}/implementation`, { event: 'started', notes: 'go' });

    const refused = await call(stack, s.requester.apiKey, 'POST', `/changes/${body.number}/cancel`, { reason: 'changed my mind' });
    expect(refused).toMatchObject({ status: 409, body: { error: { code: 'cancel_after_start' } } });
    const noBackout = await call(stack, implementer.apiKey, 'POST', `/changes/${body.number}/implementation`, { event: 'failed', notes: 'kernel panic' });
    expect(noBackout.status).toBe(400);

    const failed = await call(stack, implementer.apiKey, 'POST', `/changes/${body.number}/implementation`, { event: 'failed', notes: 'kernel panic', backout: 'booted the old kernel' });
    expect(failed.body).toMatchObject({ state: 'review' });
    const reviewed = await call(stack, processOwner.apiKey, 'POST', `/changes/${body.number}/review`, { notes: 'test the kernel on staging first' });
    expect(reviewed.body).toMatchObject({ state: 'closed', closeCode: 'unsuccessful' });
    expect((await changeState(body.id)).implementation).toMatchObject({ failed: expect.objectContaining({ backout: 'booted the old kernel' }) });
  });

  it('is visible to its requester and approvers only, and creation honours Idempotency-Key', async () => {
    const s = await scenario();
    const stranger = await createPerson(stack.database.db, ['requester'], 'Stan Stranger');
    const first = await submit(s.requester, normalChange([s.server.id]), { 'idempotency-key': 'chg-req-1' });
    const again = await submit(s.requester, normalChange([s.server.id]), { 'idempotency-key': 'chg-req-1' });
    expect(first.status).toBe(201);
    expect(again.status).toBe(200);
    expect(again.body.id).toBe(first.body.id);
    await taskFor(s.manager, first.body.number);

    expect((await call(stack, stranger.apiKey, 'GET', `/changes/${first.body.number}`)).status).toBe(403);
    expect((await call(stack, s.manager.apiKey, 'GET', `/changes/${first.body.number}`)).status).toBe(200);
    const mine = await call(stack, s.requester.apiKey, 'GET', '/changes');
    expect(mine.body.items.map((c: { id: string }) => c.id)).toEqual([first.body.id]);
    const inbox = await call(stack, s.manager.apiKey, 'GET', '/approvals');
    expect(inbox.body.items).toEqual([expect.objectContaining({ number: first.body.number, stepName: 'Manager' })]);
    expect(inbox.body.page).toEqual({ limit: 50, offset: 0, total: 1 });
    const nextPage = await call(stack, s.manager.apiKey, 'GET', '/approvals?limit=1&offset=1');
    expect(nextPage.body).toEqual({ items: [], page: { limit: 1, offset: 1, total: 1 } });
    await call(stack, s.requester.apiKey, 'POST', `/changes/${first.body.number}/cancel`, { reason: 'test done' });
  });
});
