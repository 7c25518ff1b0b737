/**
 * A worker killed while it issues purchase orders: the order row is committed (a receiver sees it
 * and records goods against it) but the workflow never heard that the order was issued. The
 * receipt waits for the issue to run again on the next worker and is recorded, not refused with
 * "this purchase order does not belong to the request". The kill lands after the commit for
 * certain: a deferred constraint trigger holds the COMMIT on an advisory lock the test holds.
 */
import { createManagedRequester, createPerson, createPurchasableHardware, eventually, type TestPerson } from './support/fixtures';
import { call, type Stack } from './support/stack';
import { holdCommits, kill, startStackForWorkerProcesses, WorkerProcesses } from './support/worker-process';

const HOLD = 4_242_002;

let stack: Stack;
let requester: TestPerson;
let manager: TestPerson;
let receiver: TestPerson;
const workers = new WorkerProcesses();

beforeAll(async () => {
  stack = await startStackForWorkerProcesses();
  ({ requester, manager } = await createManagedRequester(stack.database.db, { requester: 'Olaf Ordered', manager: 'Ida Issuer' }));
  receiver = await createPerson(stack.database.db, ['asset_manager'], 'Rita Receiver');
});

afterAll(async () => {
  await workers.killAll();
  await stack?.stop();
});

it('records a receipt on an order whose issue the killed worker never reported', async () => {
  const db = stack.database.db;
  const model = await createPurchasableHardware(db, { vendor: 'Issued Hardware', costCentre: { code: 'CC-ISSUE', name: 'Issued' }, listPriceMinor: 99_000 });
  const held = await holdCommits(db, 'held_order_commit', 'purchase_orders',
    "EXISTS (SELECT 1 FROM purchase_requests WHERE id = NEW.purchase_request_id AND justification = 'Held at issue')", HOLD);
  try {
    const first = workers.start(stack);
    const { status, body } = await call(stack, requester.apiKey, 'POST', '/purchase-requests', {
      costCentre: 'CC-ISSUE', justification: 'Held at issue', lines: [{ hardwareModelId: model, quantity: 1 }],
    });
    expect(status).toBe(201);
    const approval = await eventually(async () => (await db('approvals').where({ subject_id: body.id, state: 'requested' }).first()) ?? undefined);
    const decided = await call(stack, manager.apiKey, 'POST', `/purchase-requests/${body.id}/approvals/${approval.id}/decision`, { decision: 'approved' });
    expect(decided.status).toBe(200);

    // The issue waits in its COMMIT: kill its worker, then let the commit through.
    await held.waitUntilHeld();
    await kill(first);
    await held.release();
    const order = await eventually(async () => (await db('purchase_orders').where({ purchase_request_id: body.id }).first()) ?? undefined, 10_000, 20);
    const line = await db('purchase_request_lines').where({ purchase_request_id: body.id }).first();

    workers.start(stack);
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
    await held.drop();
  }
});
