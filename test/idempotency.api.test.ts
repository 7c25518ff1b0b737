/**
 * An Idempotency-Key is the caller's and names one request: another caller's same key is another
 * request, the same key with another body is refused (422 idempotency_key_reused), and retries
 * racing with the same key all get the first one's answer. Also the answers that used to confuse:
 * a purchase's total before pricing, a body that is not JSON, a receipt on a cancelled order of a
 * finished request, and ending a delegation that has ended.
 */
import type { Knex } from 'knex';
import { createApprovalRule, createAsset, createCi, createHardwareModel, createPerson, eventually, type TestPerson } from './support/fixtures';
import { call, startStack, type Stack } from './support/stack';

let stack: Stack;
let manager: TestPerson;
let requester: TestPerson;
let implementer: TestPerson;
let colleague: TestPerson;
let ciId: string;
let changeModelId: string;

beforeAll(async () => {
  stack = await startStack();
  const db = stack.database.db;
  manager = await createPerson(db, ['approver'], 'Mo Manager');
  requester = await createPerson(db, ['requester'], 'Kay Keys', { managerId: manager.id });
  implementer = await createPerson(db, ['asset_manager'], 'Ines Implementer');
  colleague = await createPerson(db, ['asset_manager'], 'Cole Colleague');
  ciId = (await createCi(db, { ciClass: 'server' })).id;
  await createApprovalRule(db, { stepOrder: 1, name: 'Manager', approverKind: 'manager' });
  await createApprovalRule(db, { process: 'procurement', stepOrder: 1, name: 'Manager', approverKind: 'manager' });
  [{ id: changeModelId }] = await db('change_models').insert({ name: 'Restart a service', description: 'restart', risk_ceiling: 'moderate' }).returning('id');
}, 120_000);

afterAll(async () => {
  await stack?.stop();
});

async function send(apiKey: string, method: string, path: string, body: unknown, options: { key?: string; contentType?: string } = {}) {
  const res = await fetch(`${stack.baseUrl}${path}`, {
    method,
    headers: {
      authorization: `Bearer ${apiKey}`,
      'content-type': options.contentType ?? 'application/json',
      ...(options.key ? { 'idempotency-key': options.key } : {}),
    },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : undefined };
}

/** A standard change that has reached implement. */
async function changeInImplement() {
  const { body: change } = await call(stack, requester.apiKey, 'POST', '/changes', { type: 'standard', changeModelId, affectedCiIds: [ciId] });
  const waited = await call(stack, implementer.apiKey, 'GET', `/processes/${encodeURIComponent(change.workflowId)}?waitFor=implement,closed&waitSeconds=30`);
  expect(waited.body.process.state).toBe('implement');
  return change as { id: string; number: string; workflowId: string };
}

const auditActions = async (db: Knex, changeId: string) =>
  (await db('audit_log').where({ subject_type: 'change_request', subject_id: changeId }).orderBy('id').pluck('action')) as string[];

describe('Idempotency-Key', () => {
  it('belongs to its caller: another person\'s same key is another command, not the first one\'s answer', async () => {
    const change = await changeInImplement();
    const started = await send(implementer.apiKey, 'POST', `/changes/${change.number}/implementation`, { event: 'started', notes: 'restarting' }, { key: 'step-1' });
    expect(started).toMatchObject({ status: 200, body: { state: 'implement', implementationStarted: true } });

    const completed = await send(colleague.apiKey, 'POST', `/changes/${change.number}/implementation`, { event: 'completed', notes: 'restarted' }, { key: 'step-1' });
    expect(completed.status).toBe(200);
    expect(completed.body.state).toBe('closed');
    expect((await call(stack, requester.apiKey, 'GET', `/changes/${change.number}`)).body).toMatchObject({ state: 'closed' });
  }, 60_000);

  it('refuses the same key with another body (422 idempotency_key_reused), changing nothing', async () => {
    const db = stack.database.db;
    const first = await send(requester.apiKey, 'POST', '/changes', { type: 'normal', title: 'Replace a PSU', affectedCiIds: [ciId] }, { key: 'psu' });
    expect(first.status).toBe(201);
    const other = await send(requester.apiKey, 'POST', '/changes', { type: 'normal', title: 'Replace a PSU and a fan', affectedCiIds: [ciId] }, { key: 'psu' });
    expect(other).toMatchObject({ status: 422, body: { error: { code: 'idempotency_key_reused' } } });
    expect(await db('change_requests').where({ title: 'Replace a PSU and a fan' }).first()).toBeUndefined();
    const same = await send(requester.apiKey, 'POST', '/changes', { type: 'normal', title: 'Replace a PSU', affectedCiIds: [ciId] }, { key: 'psu' });
    expect(same).toMatchObject({ status: 200, body: { number: first.body.number } });

    const change = await changeInImplement();
    const started = await send(implementer.apiKey, 'POST', `/changes/${change.number}/implementation`, { event: 'started', notes: 'go' }, { key: 'impl' });
    expect(started.status).toBe(200);
    const auditBefore = await auditActions(db, change.id);
    const reused = await send(implementer.apiKey, 'POST', `/changes/${change.number}/implementation`, { event: 'completed', notes: 'done' }, { key: 'impl' });
    expect(reused).toMatchObject({ status: 422, body: { error: { code: 'idempotency_key_reused' } } });
    expect(await auditActions(db, change.id)).toEqual(auditBefore);
    expect((await call(stack, requester.apiKey, 'GET', `/changes/${change.number}`)).body.state).toBe('implement');
  }, 60_000);

  it('answers retries racing with the same key with the first result', async () => {
    const body = { type: 'normal', title: 'Rack a switch', affectedCiIds: [ciId] };
    const submissions = await Promise.all(Array.from({ length: 4 }, () => send(requester.apiKey, 'POST', '/changes', body, { key: 'rack-switch' })));
    expect(submissions.map((s) => s.status).sort()).toEqual([200, 200, 200, 201]);
    expect(new Set(submissions.map((s) => s.body.number)).size).toBe(1);

    const change = await changeInImplement();
    const records = await Promise.all(Array.from({ length: 4 }, () =>
      send(implementer.apiKey, 'POST', `/changes/${change.number}/implementation`, { event: 'started', notes: 'racing' }, { key: 'race-start' })));
    expect(records.map((r) => r.status)).toEqual([200, 200, 200, 200]);
    expect(records.map((r) => r.body)).toEqual(Array(4).fill(records[0].body));
    expect((await auditActions(stack.database.db, change.id)).filter((a) => a === 'implementation_started')).toHaveLength(1);

    const laptop = await createAsset(stack.database.db, { state: 'in_stock', substate: 'available' });
    const moves = await Promise.all(Array.from({ length: 4 }, () =>
      send(implementer.apiKey, 'POST', `/assets/${laptop.id}/transitions`, { toState: 'in_stock', toSubstate: 'reserved' }, { key: 'race-reserve' })));
    expect(moves.map((m) => m.status)).toEqual([200, 200, 200, 200]);
    expect(new Set(moves.map((m) => JSON.stringify(m.body.outcome))).size).toBe(1);
    expect(await stack.database.db('audit_log').where({ subject_type: 'asset', subject_id: laptop.id })).toHaveLength(1);
  }, 60_000);
});

describe('answers that say what is so', () => {
  it('answers a body that is not JSON with 415 unsupported_media_type, not a list of missing fields', async () => {
    const res = await send(requester.apiKey, 'POST', '/changes', 'type=normal&title=Form', { contentType: 'application/x-www-form-urlencoded' });
    expect(res).toMatchObject({ status: 415, body: { error: { code: 'unsupported_media_type' } } });
    const text = await send(requester.apiKey, 'POST', '/changes', 'hello', { contentType: 'text/plain' });
    expect(text).toMatchObject({ status: 415, body: { error: { code: 'unsupported_media_type' } } });
  });

  it('refuses to end a delegation that has ended (409 delegation_ended), changing nothing', async () => {
    const db = stack.database.db;
    const startsAt = new Date(Date.now() - 3 * 86_400_000).toISOString();
    const endsAt = new Date(Date.now() - 86_400_000).toISOString();
    const created = await call(stack, manager.apiKey, 'POST', '/delegations', { delegateId: implementer.id, startsAt, endsAt });
    expect(created.status).toBe(201);
    const before = await db('delegations').where({ id: created.body.id }).first('ends_at');
    const ended = await call(stack, manager.apiKey, 'DELETE', `/delegations/${created.body.id}`);
    expect(ended).toMatchObject({ status: 409, body: { error: { code: 'delegation_ended' } } });
    expect(await db('delegations').where({ id: created.body.id }).first('ends_at')).toEqual(before);

    const current = await call(stack, manager.apiKey, 'POST', '/delegations', { delegateId: implementer.id, startsAt, endsAt: new Date(Date.now() + 86_400_000).toISOString() });
    expect((await call(stack, manager.apiKey, 'DELETE', `/delegations/${current.body.id}`))).toMatchObject({ status: 200, body: { ended: true } });
    expect((await call(stack, manager.apiKey, 'DELETE', `/delegations/${current.body.id}`))).toMatchObject({ status: 409, body: { error: { code: 'delegation_ended' } } });
  });

  describe('a purchase', () => {
    let costCentre: string;
    let laptopModel: string;
    let mouseVendor: string;

    beforeAll(async () => {
      const db = stack.database.db;
      costCentre = 'CC-KEYS';
      const [{ id: costCentreId }] = await db('cost_centres').insert({ code: costCentre, name: 'Keys team', owner_id: manager.id }).returning('id');
      await db('budgets').insert({ cost_centre_id: costCentreId, period_start: `${new Date().toISOString().slice(0, 7)}-01`, amount_minor: 10_000_000, currency: 'EUR' });
      const [{ id: laptopVendor }] = await db('vendors').insert({ name: 'Laptops BV', contact_email: 'orders@laptops.example', active: true }).returning('id');
      [{ id: mouseVendor }] = await db('vendors').insert({ name: 'Mice BV', contact_email: 'orders@mice.example', active: true }).returning('id');
      await db('contracts').insert([laptopVendor, mouseVendor].map((vendor_id) => ({ vendor_id, kind: 'purchase', title: 'Framework', starts_on: '2026-01-01', ends_on: '2028-12-31', currency: 'EUR' })));
      laptopModel = await createHardwareModel(db, { vendor_id: laptopVendor, list_price_minor: 150_000 });
    });

    it('answers its total as null until it is priced, and the priced total the same way as GET', async () => {
      const posted = await call(stack, requester.apiKey, 'POST', '/purchase-requests', { costCentre, justification: 'New starter', lines: [{ hardwareModelId: laptopModel, quantity: 2 }] });
      expect(posted.status).toBe(201);
      const read = await call(stack, requester.apiKey, 'GET', `/purchase-requests/${posted.body.number}`);
      expect(posted.body.totalMinor === null || posted.body.totalMinor === 300_000).toBe(true);
      expect(posted.body.totalMinor).not.toBe(0);
      const priced = await eventually(async () => {
        const request = (await call(stack, requester.apiKey, 'GET', `/purchase-requests/${posted.body.number}`)).body;
        return request.totalMinor !== null ? request : undefined;
      });
      expect(priced.totalMinor).toBe(300_000);
      expect([null, 300_000]).toContain(read.body.totalMinor);
      const listed = (await call(stack, requester.apiKey, 'GET', '/purchase-requests')).body.items.find((r: { number: string }) => r.number === posted.body.number);
      expect(listed.totalMinor).toBe(300_000);
    });

    it('refuses a receipt on a cancelled order of a finished request as order_cancelled, not process_finished', async () => {
      const { body } = await call(stack, requester.apiKey, 'POST', '/purchase-requests', {
        costCentre, justification: 'Laptops and mice',
        lines: [{ hardwareModelId: laptopModel, quantity: 1 }, { description: 'Mouse', vendorId: mouseVendor, quantity: 1, quotedUnitPriceMinor: 2_500 }],
      });
      const approval = await eventually(async () =>
        (await stack.database.db('approvals').where({ subject_id: body.id, approver_id: manager.id, state: 'requested' }).first()) ?? undefined);
      expect((await call(stack, manager.apiKey, 'POST', `/purchase-requests/${body.id}/approvals/${approval.id}/decision`, { decision: 'approved' })).status).toBe(200);
      const ordering = await eventually(async () => {
        const request = (await call(stack, implementer.apiKey, 'GET', `/purchase-requests/${body.id}`)).body;
        return request.state === 'ordering' && request.orders.length === 2 ? request : undefined;
      });
      const laptopLine = ordering.lines.find((l: { description: string }) => l.description !== 'Mouse');
      const mouseLine = ordering.lines.find((l: { description: string }) => l.description === 'Mouse');
      const laptopOrder = ordering.orders.find((o: { vendor: string }) => o.vendor === 'Laptops BV');
      const mouseOrder = ordering.orders.find((o: { vendor: string }) => o.vendor === 'Mice BV');
      expect((await call(stack, implementer.apiKey, 'POST', `/purchase-orders/${mouseOrder.number}/cancel`, { reason: 'found one in a drawer' })).status).toBe(200);
      const received = await call(stack, implementer.apiKey, 'POST', `/purchase-orders/${laptopOrder.number}/receipts`, { lines: [{ lineId: laptopLine.id, quantity: 1, serialNumbers: ['KEYS-LAPTOP-1'] }] });
      expect(received.status).toBe(200);
      await eventually(async () => (await call(stack, implementer.apiKey, 'GET', `/purchase-requests/${body.id}`)).body.state === 'closed');

      const late = await call(stack, implementer.apiKey, 'POST', `/purchase-orders/${mouseOrder.number}/receipts`, { lines: [{ lineId: mouseLine.id, quantity: 1 }] });
      expect(late).toMatchObject({ status: 409, body: { error: { code: 'receipt_refused', details: expect.objectContaining({ rule: 'order_cancelled' }) } } });
    }, 60_000);
  });
});
