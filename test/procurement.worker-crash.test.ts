/**
 * A worker killed between recording a receipt (with its asset records, on order) and stocking its
 * assets: the next worker finishes the receipt, and each received unit becomes exactly one asset,
 * one stock transition and one cost record.
 */
import { createManagedRequester, createPerson, createPurchasableHardware, eventually, type TestPerson } from './support/fixtures';
import { call, type Stack } from './support/stack';
import { kill, startStackForWorkerProcesses, WorkerProcesses } from './support/worker-process';

let stack: Stack;
let requester: TestPerson;
let manager: TestPerson;
let receiver: TestPerson;
const workers = new WorkerProcesses();

beforeAll(async () => {
  stack = await startStackForWorkerProcesses();
  ({ requester, manager } = await createManagedRequester(stack.database.db, { requester: 'Ria Requester', manager: 'Max Manager' }));
  receiver = await createPerson(stack.database.db, ['asset_manager'], 'Kim Killed');
});

afterAll(async () => {
  await workers.killAll();
  await stack?.stop();
});

it('creates each received asset once when the worker dies between the receipt and the assets', async () => {
  const db = stack.database.db;
  const first = workers.start(stack);
  const model = await createPurchasableHardware(db, { vendor: 'Crash Computers', costCentre: { code: 'CC-CRASH', name: 'Crash test' }, listPriceMinor: 99_900 });

  const { body } = await call(stack, requester.apiKey, 'POST', '/purchase-requests', {
    costCentre: 'CC-CRASH', justification: 'Crash test laptops', lines: [{ hardwareModelId: model, quantity: 4 }],
  });
  const approval = await eventually(async () => (await db('approvals').where({ subject_id: body.id }).first()) ?? undefined);
  expect((await call(stack, manager.apiKey, 'POST', `/purchase-requests/${body.id}/approvals/${approval.id}/decision`, { decision: 'approved' })).status).toBe(200);
  const order = await eventually(async () => (await db('purchase_orders').where({ purchase_request_id: body.id }).first()) ?? undefined);
  const line = await db('purchase_request_lines').where({ purchase_request_id: body.id }).first('id');
  const serials = ['CRASH-1', 'CRASH-2', 'CRASH-3', 'CRASH-4'];

  const response = call(stack, receiver.apiKey, 'POST', `/purchase-orders/${order.number}/receipts`, { lines: [{ lineId: line.id, quantity: 4, serialNumbers: serials }] });
  await eventually(async () => db('audit_log').where({ subject_id: body.id, action: 'receipt_recorded' }).first(), 30_000, 5);
  await kill(first);
  const stockedAtKill = await db('assets').whereIn('serial_number', serials).where({ state: 'in_stock' }).count({ n: '*' });
  expect(Number(stockedAtKill[0].n)).toBeLessThan(4);

  workers.start(stack);
  const res = await response;

  expect(res.status).toBe(200);
  expect(res.body.assetIds).toHaveLength(4);
  const assets = await db('assets').whereIn('serial_number', serials).orderBy('serial_number');
  expect(assets.map((a) => [a.serial_number, a.state])).toEqual(serials.map((s) => [s, 'in_stock']));
  expect(await db('receipts').where({ purchase_order_id: order.id })).toHaveLength(1);
  expect(await db('audit_log').where({ subject_id: body.id, action: 'asset_created' })).toHaveLength(4);
  for (const asset of assets) {
    expect(await db('audit_log').where({ subject_type: 'asset', subject_id: asset.id, action: 'transition' })).toHaveLength(1);
  }
  expect(await db('cost_records').whereIn('asset_id', assets.map((a) => a.id))).toHaveLength(4);
  await eventually(async () => (await db('purchase_requests').where({ id: body.id }).first('state')).state === 'closed');
});
