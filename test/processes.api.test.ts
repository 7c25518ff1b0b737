/**
 * What process owners see: the process index kept by the database from the rows workflows write,
 * filtered through the API, the live state from the workflow, the merged timeline, SLA breaches,
 * and the same processes found in Temporal itself by the custom search attributes.
 */
import { execFileSync } from 'node:child_process';
import { findTemporalCli } from '../platform/temporal-cli';
import { createApprovalRule, createCi, createPerson, eventually, type TestPerson } from './support/fixtures';
import { call, startStack, type Stack } from './support/stack';

let stack: Stack;
let processOwner: TestPerson;

beforeAll(async () => {
  stack = await startStack();
  const db = stack.database.db;
  processOwner = await createPerson(db, ['process_owner'], 'Paula Process');
  await createApprovalRule(db, { stepOrder: 1, name: 'Manager', approverKind: 'manager' });
  await db('sla_targets').insert({ process: 'change', state: 'authorize', target_minutes: 60 });
});

afterAll(async () => {
  await stack?.stop();
});

async function waitingChange() {
  const db = stack.database.db;
  const manager = await createPerson(db, ['approver'], 'Walt Waiting');
  const requester = await createPerson(db, ['requester'], 'Ruth Requester', { managerId: manager.id });
  const ci = await createCi(db, { ciClass: 'server' });
  const { body } = await call(stack, requester.apiKey, 'POST', '/changes', { type: 'normal', title: 'Rotate the TLS certificates', affectedCiIds: [ci.id] });
  await eventually(async () => (await db('processes').where({ workflow_id: body.workflowId }).first())?.waiting_for.length === 1);
  return { manager, requester, change: body as { id: string; number: string; workflowId: string } };
}

it('lists a waiting change by who it waits for, with its state, SLA and requester', async () => {
  const { manager, requester, change } = await waitingChange();

  const res = await call(stack, processOwner.apiKey, 'GET', `/processes?waitingFor=${manager.id}&type=change`);

  expect(res.status).toBe(200);
  expect(res.body.items).toEqual([
    expect.objectContaining({
      workflowId: change.workflowId,
      businessNumber: change.number,
      state: 'authorize',
      requester: { id: requester.id, name: requester.name },
      waitingFor: [{ id: manager.id, name: manager.name }],
      slaBreached: false,
    }),
  ]);
  const [item] = res.body.items;
  expect(Date.parse(item.slaDueAt) - Date.parse(item.stateEnteredAt)).toBe(60 * 60_000);
  expect(Date.parse(item.waitingSince)).toBeGreaterThanOrEqual(Date.parse(item.startedAt));
  const byState = await call(stack, processOwner.apiKey, 'GET', `/processes?state=authorize&q=${change.number}`);
  expect(byState.body.items.map((p: { businessNumber: string }) => p.businessNumber)).toEqual([change.number]);
});

it('shows one process with its live state, approvals and a timeline of events and emails', async () => {
  const { manager, change } = await waitingChange();
  await stack.sink.waitFor((m) => m.to.includes(manager.email) && m.subject.includes(change.number));

  const res = await call(stack, processOwner.apiKey, 'GET', `/processes/${encodeURIComponent(change.workflowId)}`);

  expect(res.status).toBe(200);
  expect(res.body.process).toMatchObject({ businessNumber: change.number, state: 'authorize' });
  expect(res.body.live).toMatchObject({ state: 'authorize', waitingFor: [manager.id] });
  expect(res.body.approvals).toEqual([expect.objectContaining({ stepName: 'Manager', state: 'requested' })]);
  const kinds = res.body.timeline.map((t: { kind: string; action?: string; template?: string }) => t.action ?? t.template);
  expect(kinds).toEqual(expect.arrayContaining(['state_changed', 'assessed', 'approval_step_opened', 'change_receipt', 'approval_task']));
  const times = res.body.timeline.map((t: { at: string }) => t.at);
  expect([...times].sort()).toEqual(times);
});

it('counts a process past its SLA target as breached, in the list and on the dashboard', async () => {
  const db = stack.database.db;
  const { change } = await waitingChange();
  // As if the change had entered authorize two hours ago (its target is one hour).
  await db('processes').where({ workflow_id: change.workflowId })
    .update({ state_entered_at: db.raw(`state_entered_at - interval '2 hours'`), sla_due_at: db.raw(`sla_due_at - interval '2 hours'`) });

  const breached = await call(stack, processOwner.apiKey, 'GET', '/processes?slaBreached=true&sort=sla_due');
  expect(breached.body.items.map((p: { workflowId: string }) => p.workflowId)).toContain(change.workflowId);
  expect(breached.body.items.every((p: { slaBreached: boolean }) => p.slaBreached)).toBe(true);
  const dashboard = await call(stack, processOwner.apiKey, 'GET', '/processes/dashboard');
  expect(dashboard.body.slaBreached).toEqual(expect.arrayContaining([expect.objectContaining({ process: 'change', count: expect.any(Number) })]));
  expect(dashboard.body.byTypeAndState).toEqual(expect.arrayContaining([expect.objectContaining({ process: 'change', state: 'authorize', open: true })]));
  expect(dashboard.body.throughput).toHaveLength(16);
});

it('lets requesters see only their own processes', async () => {
  const { manager, requester, change } = await waitingChange();
  const mine = await call(stack, requester.apiKey, 'GET', '/processes');
  expect(mine.body.items.map((p: { workflowId: string }) => p.workflowId)).toEqual([change.workflowId]);
  expect((await call(stack, requester.apiKey, 'GET', `/processes?requester=${manager.id}`)).status).toBe(403);
  const inbox = await call(stack, manager.apiKey, 'GET', `/processes?waitingFor=${manager.id}`);
  expect(inbox.body.items.map((p: { workflowId: string }) => p.workflowId)).toEqual([change.workflowId]);
  expect((await call(stack, requester.apiKey, 'GET', '/processes/dashboard')).status).toBe(403);
});

it('finds the same processes in Temporal with `temporal workflow list --query` on the custom search attributes', async () => {
  const { manager, requester, change } = await waitingChange();
  const cli = findTemporalCli()!;
  const list = (query: string) =>
    JSON.parse(execFileSync(cli, ['workflow', 'list', '--address', stack.env.address, '--query', query, '--output', 'json'], { encoding: 'utf8' }) || '[]') as
      { execution: { workflowId: string } }[];

  const found = await eventually(async () => {
    const rows = list(`AssetflowProcess='change' AND AssetflowWaitingFor='${manager.email}' AND AssetflowState='authorize'`);
    return rows.length ? rows : undefined;
  });
  expect(found.map((r) => r.execution.workflowId)).toEqual([change.workflowId]);
  expect(list(`AssetflowRequester='${requester.email}'`).map((r) => r.execution.workflowId)).toEqual([change.workflowId]);
  expect(list(`AssetflowBusinessNumber='${change.number}'`).map((r) => r.execution.workflowId)).toEqual([change.workflowId]);
});

describe('waiting for a state (GET /processes/:workflowId?waitFor=)', () => {
  it('answers as soon as a standard change reaches implement, and the implementer can record the start at once', async () => {
    const db = stack.database.db;
    const requester = await createPerson(db, ['requester'], 'Pia Pipeline');
    const implementer = await createPerson(db, ['asset_manager'], 'Ivan Implementer');
    const [{ id: changeModelId }] = await db('change_models').insert({ name: 'Rotate service keys', description: 'key rotation', risk_ceiling: 'moderate' }).returning('id');
    const ci = await createCi(db, { ciClass: 'server' });
    const { body: change } = await call(stack, requester.apiKey, 'POST', '/changes', { type: 'standard', changeModelId, affectedCiIds: [ci.id] });

    const waited = await call(stack, implementer.apiKey, 'GET', `/processes/${encodeURIComponent(change.workflowId)}?waitFor=implement,closed&waitSeconds=30`);

    expect(waited.status).toBe(200);
    expect(waited.body.process).toMatchObject({ businessNumber: change.number, state: 'implement' });
    // The index announces implement before the workflow has taken the step: acting on it is not refused.
    const started = await call(stack, implementer.apiKey, 'POST', `/changes/${change.id}/implementation`, { event: 'started', notes: 'rotating' });
    expect(started.status).toBe(200);
    expect(started.body).toMatchObject({ state: 'implement', implementationStarted: true });
    const closed = await call(stack, implementer.apiKey, 'POST', `/changes/${change.id}/implementation`, { event: 'completed', notes: 'rotated' });
    expect(closed.body).toMatchObject({ state: 'closed', closeCode: 'successful' });
  });

  it('answers with the state the process is in when the wait runs out', async () => {
    const { manager, change } = await waitingChange();
    const asked = Date.now();

    const res = await call(stack, manager.apiKey, 'GET', `/processes/${encodeURIComponent(change.workflowId)}?waitFor=implement&waitSeconds=1`);

    expect(res.status).toBe(200);
    expect(res.body.process.state).toBe('authorize');
    expect(Date.now() - asked).toBeGreaterThanOrEqual(950);
  });

  it('answers early rather than late when the database drops the listening connection, and listens again after', async () => {
    const db = stack.database.db;
    const { manager, change } = await waitingChange();
    const asked = Date.now();
    const waiting = call(stack, manager.apiKey, 'GET', `/processes/${encodeURIComponent(change.workflowId)}?waitFor=implement&waitSeconds=30`);
    // The request reads the process and checks access before it waits: let it get there first.
    await new Promise((resolve) => setTimeout(resolve, 2_000));
    const listener = await eventually(async () => (await db.raw(`SELECT pid FROM pg_stat_activity WHERE query = 'LISTEN assetflow_process_state' AND datname = current_database()`)).rows[0]?.pid);
    await db.raw('SELECT pg_terminate_backend(?)', [listener]);

    const res = await waiting;
    expect(res.body.process.state).toBe('authorize');
    expect(Date.now() - asked).toBeLessThan(20_000);

    const approved = await call(stack, manager.apiKey, 'POST', `/changes/${change.id}/approvals/${res.body.approvals[0].id}/decision`, { decision: 'approved', comment: 'fine' });
    expect(approved.status).toBe(200);
    const scheduled = await call(stack, manager.apiKey, 'GET', `/processes/${encodeURIComponent(change.workflowId)}?waitFor=implement,closed&waitSeconds=30`);
    expect(scheduled.body.process.state).toBe('implement');
  });

  it('answers at once when the process is already in a state asked for, and refuses a malformed list', async () => {
    const { manager, change } = await waitingChange();
    const asked = Date.now();
    const res = await call(stack, manager.apiKey, 'GET', `/processes/${encodeURIComponent(change.workflowId)}?waitFor=scheduled,authorize&waitSeconds=30`);
    expect(res.body.process.state).toBe('authorize');
    expect(Date.now() - asked).toBeLessThan(5_000);

    const bad = await call(stack, manager.apiKey, 'GET', `/processes/${encodeURIComponent(change.workflowId)}?waitFor=Implement;closed`);
    expect(bad.status).toBe(400);
    expect(bad.body.error).toMatchObject({ code: 'invalid_input' });
    expect((await call(stack, manager.apiKey, 'GET', `/processes/${encodeURIComponent(change.workflowId)}?waitFor=implement&waitSeconds=600`)).status).toBe(400);
  });
});
