/**
 * A worker killed while it issues purchase orders: the order row is committed (a receiver sees it
 * and records goods against it) but the workflow never heard that the order was issued. The
 * receipt waits for the issue to run again on the next worker and is recorded, not refused with
 * "this purchase order does not belong to the request". The kill lands after the commit for
 * certain: a deferred constraint trigger holds the COMMIT on an advisory lock the test holds.
 */
import type { ChildProcess } from 'node:child_process';
import { createApprovalRule, createHardwareModel, createPerson, eventually, type TestPerson } from './support/fixtures';
import { call, startStack, type Stack } from './support/stack';
import { buildDist, kill, startWorkerProcess } from './support/worker-process';

const HOLD = 4_242_002;

let stack: Stack;
let requester: TestPerson;
let manager: TestPerson;
let receiver: TestPerson;
const workers: ChildProcess[] = [];

beforeAll(async () => {
  buildDist();
  stack = await startStack({ worker: false });
  const db = stack.database.db;
  manager = await createPerson(db, ['approver'], 'Ida Issuer');
  requester = await createPerson(db, ['requester'], 'Olaf Ordered', { managerId: manager.id });
  receiver = await createPerson(db, ['asset_manager'], 'Rita Receiver');
  await createApprovalRule(db, { process: 'procurement', stepOrder: 1, name: 'Manager', approverKind: 'manager' });
});

afterAll(async () => {
  await Promise.all(workers.map(kill));
  await stack?.stop();
});

function startWorker(): ChildProcess {
  const child = startWorkerProcess(stack);
  workers.push(child);
  return child;
}

it('records a receipt on an order whose issue the killed worker never reported', async () => {
  const db = stack.database.db;
  const [{ id: vendorId }] = await db('vendors').insert({ name: 'Issued Hardware', contact_email: 'orders@issued.example' }).returning('id');
  await db('contracts').insert({ vendor_id: vendorId, kind: 'purchase', title: 'Framework', starts_on: '2026-01-01', ends_on: '2029-01-01', currency: 'EUR' });
  const [{ id: costCentreId }] = await db('cost_centres').insert({ code: 'CC-ISSUE', name: 'Issued' }).returning('id');
  await db('budgets').insert({ cost_centre_id: costCentreId, period_start: `${new Date().toISOString().slice(0, 7)}-01`, amount_minor: 10_000_000, currency: 'EUR' });
  const model = await createHardwareModel(db, { vendor_id: vendorId, list_price_minor: 99_000 });
  await db.raw(`
    CREATE FUNCTION held_order_commit() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      IF EXISTS (SELECT 1 FROM purchase_requests WHERE id = NEW.purchase_request_id AND justification = 'Held at issue') THEN
        PERFORM pg_advisory_xact_lock(${HOLD});
      END IF;
      RETURN NULL;
    END $$;
    CREATE CONSTRAINT TRIGGER held_order_commit AFTER INSERT ON purchase_orders DEFERRABLE INITIALLY DEFERRED
      FOR EACH ROW EXECUTE FUNCTION held_order_commit()`);
  const holder = await db.transaction();
  await holder.raw('SELECT pg_advisory_lock(?)', [HOLD]);
  let released = false;
  try {
    startWorker();
    const { status, body } = await call(stack, requester.apiKey, 'POST', '/purchase-requests', {
      costCentre: 'CC-ISSUE', justification: 'Held at issue', lines: [{ hardwareModelId: model, quantity: 1 }],
    });
    expect(status).toBe(201);
    const approval = await eventually(async () => (await db('approvals').where({ subject_id: body.id, state: 'requested' }).first()) ?? undefined);
    const decided = await call(stack, manager.apiKey, 'POST', `/purchase-requests/${body.id}/approvals/${approval.id}/decision`, { decision: 'approved' });
    expect(decided.status).toBe(200);

    // The issue waits in its COMMIT: kill its worker, then let the commit through.
    await eventually(async () => (await db('pg_locks').where({ locktype: 'advisory', granted: false, objid: HOLD })
      .whereRaw('database = (SELECT oid FROM pg_database WHERE datname = current_database())').first()) ?? undefined, 30_000, 20);
    await kill(workers[0]);
    await holder.raw('SELECT pg_advisory_unlock(?)', [HOLD]);
    await holder.commit();
    released = true;
    const order = await eventually(async () => (await db('purchase_orders').where({ purchase_request_id: body.id }).first()) ?? undefined, 10_000, 20);
    const line = await db('purchase_request_lines').where({ purchase_request_id: body.id }).first();

    startWorker();
    const receipt = await call(stack, receiver.apiKey, 'POST', `/purchase-orders/${order.number}/receipts`, {
      lines: [{ lineId: line.id, quantity: 1, serialNumbers: ['ISSUE-RACE-1'] }],
    });
    console.log(`receipt on the order the workflow did not know yet: ${receipt.status} ${receipt.body.error?.code ?? ''}`);
    expect(receipt.status).toBe(200);
    expect(receipt.body).toMatchObject({ orderState: 'received', requestState: 'received' });

    await eventually(async () => (await db('purchase_requests').where({ id: body.id, state: 'closed' }).first()) ?? undefined);
    expect(await db('purchase_orders').where({ purchase_request_id: body.id })).toHaveLength(1);
    expect(await db('assets').whereRaw('lower(serial_number) = ?', ['issue-race-1'])).toHaveLength(1);
  } finally {
    if (!released) await holder.rollback();
    await db.raw('DROP TRIGGER held_order_commit ON purchase_orders; DROP FUNCTION held_order_commit()');
  }
});
