/**
 * One serial number, one asset, whatever its letter case and spacing: the database holds the
 * normalised serial unique, the receipt check refuses a repeated or known serial up front, and two
 * receipts that race past the check are answered both, one recorded and one refused with nothing
 * of it left behind.
 */
import fc from 'fast-check';
import { ApplicationFailure } from '@temporalio/common';
import { createPurchaseRequestActivities } from '../activities/purchase-request';
import { serialKey } from '../domain/procurement';
import { migrationConfig } from '../platform/database';
import { createTestDatabase } from './support/database';
import { createAsset, createHardwareModel, createPerson, eventually, type TestPerson } from './support/fixtures';
import { call, startStack, type Stack } from './support/stack';

const MIGRATION = '20261129005000_serial_numbers_unique_whatever_the_case';

let stack: Stack;
let requester: TestPerson;
let receiver: TestPerson;
let laptopModel: string;
let costCentre: string;

beforeAll(async () => {
  stack = await startStack();
  const db = stack.database.db;
  requester = await createPerson(db, ['requester'], 'Sam Serial');
  receiver = await createPerson(db, ['asset_manager'], 'Rita Receiver');
  const [{ id: vendorId }] = await db('vendors').insert({ name: 'Serial Supplies', contact_email: 'orders@serial.example' }).returning('id');
  laptopModel = await createHardwareModel(db, { vendor_id: vendorId, list_price_minor: 100_000 });
  costCentre = `CC-S${Math.floor(Math.random() * 1e9)}`;
  const [{ id }] = await db('cost_centres').insert({ code: costCentre, name: 'Serials' }).returning('id');
  await db('budgets').insert({ cost_centre_id: id, period_start: `${new Date().toISOString().slice(0, 7)}-01`, amount_minor: 1e11, currency: 'EUR' });
});

afterAll(async () => {
  await stack?.stop();
});

/** A purchase request for `quantity` laptops, approved (no rule asks anyone) and ordered. */
async function orderedLaptops(quantity: number) {
  const created = await call(stack, requester.apiKey, 'POST', '/purchase-requests', {
    costCentre, justification: 'Laptops for the serial tests', lines: [{ hardwareModelId: laptopModel, quantity }],
  });
  expect(created.status).toBe(201);
  const request = await eventually(async () => {
    const { body } = await call(stack, requester.apiKey, 'GET', `/purchase-requests/${created.body.number}`);
    return body.state === 'ordering' && body.orders.length > 0 ? body : undefined;
  });
  return { requestId: request.id as string, workflowId: request.workflowId as string, order: request.orders[0] as { id: string; number: string }, lineId: request.lines[0].id as string };
}

const receive = (orderNumber: string, lineId: string, serialNumbers: string[]) =>
  call(stack, receiver.apiKey, 'POST', `/purchase-orders/${orderNumber}/receipts`, { lines: [{ lineId, quantity: serialNumbers.length, serialNumbers }] });

const assetsWithKey = async (serial: string) => Number((await stack.database.db('assets').where('serial_key', serialKey(serial)).count({ n: '*' }))[0].n);

const receiptRows = async (orderId: string) => Number((await stack.database.db('receipts').where('purchase_order_id', orderId).count({ n: '*' }))[0].n);

describe('the database', () => {
  it('refuses a second asset whose serial differs only in letter case or spacing', async () => {
    const db = stack.database.db;
    const model = await createHardwareModel(db);
    const asset = (serial: string) => ({ model_id: model, serial_number: serial, state: 'in_stock', substate: 'available', currency: 'EUR' });
    await db('assets').insert(asset('DB-Case-1'));
    for (const variant of ['db-case-1', 'DB-CASE-1', 'DB- Case-1', 'DB-Case-1\t', 'DB\u00a0-CASE-1']) {
      await expect(db('assets').insert(asset(variant))).rejects.toMatchObject({ code: '23505', constraint: 'assets_serial_key_unique' });
    }
    expect(await assetsWithKey('DB-Case-1')).toBe(1);
  });

  it('keys every serial exactly as serialKey does', async () => {
    const db = stack.database.db;
    const model = await createHardwareModel(db);
    const spacing = fc.constantFrom(' ', '\t', '\n', '\r', '\f', '\v', '\u00a0');
    const character = fc.oneof(fc.constantFrom(...'AbCdeXYZ019-/.ÄäÇçßİı'), spacing, fc.string({ unit: 'grapheme', minLength: 1, maxLength: 1 }));
    const serials = fc.sample(fc.array(character, { minLength: 1, maxLength: 20 }).map((cs) => cs.join('')), { numRuns: 300, seed: 20261129 })
      .filter((s) => !s.includes('\u0000'));
    const distinct = [...new Map(serials.map((s) => [serialKey(s), s])).values()];
    const trx = await db.transaction();
    try {
      const rows = await trx('assets')
        .insert(distinct.map((serial) => ({ model_id: model, serial_number: serial, state: 'in_stock', substate: 'available', currency: 'EUR' })))
        .returning(['serial_number', 'serial_key']);
      expect(rows.filter((row) => row.serial_key !== serialKey(row.serial_number))).toEqual([]);
    } finally {
      await trx.rollback();
    }
    expect(distinct.length).toBeGreaterThan(100);
  });

  it('migrates a database whose serials already collide without changing or losing any, and holds new ones to the key', async () => {
    const scratch = await createTestDatabase();
    try {
      const db = scratch.db;
      await db.migrate.down({ ...migrationConfig, name: MIGRATION });
      const model = await createHardwareModel(db);
      const asset = (tag: string, serial: string) => ({ asset_tag: tag, model_id: model, serial_number: serial, state: 'in_stock', substate: 'available', currency: 'EUR' });
      await db('assets').insert([asset('AST9000001', 'OLD-1'), asset('AST9000002', 'old-1'), asset('AST9000003', 'OLD 1'), asset('AST9000004', 'OTHER-2')]);
      await db.migrate.up({ ...migrationConfig, name: MIGRATION });

      const rows = await db('assets').whereIn('asset_tag', ['AST9000001', 'AST9000002', 'AST9000003', 'AST9000004']).orderBy('asset_tag')
        .select('asset_tag', 'serial_number', 'serial_conflict_of', 'id');
      const first = rows[0].id;
      expect(rows.map((r) => [r.asset_tag, r.serial_number, r.serial_conflict_of])).toEqual([
        ['AST9000001', 'OLD-1', null],
        ['AST9000002', 'old-1', first],
        ['AST9000003', 'OLD 1', null],
        ['AST9000004', 'OTHER-2', null],
      ]);
      await expect(db('assets').insert(asset('AST9000005', 'Old-1'))).rejects.toMatchObject({ constraint: 'assets_serial_key_unique' });
      await expect(db('assets').insert(asset('AST9000006', 'oldl'))).resolves.toBeDefined();
    } finally {
      await scratch.drop();
    }
  });
});

describe('a receipt', () => {
  it('is refused with duplicate_serial when it names one serial twice, in another case or spacing, and nothing is written', async () => {
    const { order, lineId } = await orderedLaptops(2);
    const refused = await receive(order.number, lineId, ['DUP-A 1', 'dup-a1']);
    expect(refused).toMatchObject({ status: 409, body: { error: { code: 'receipt_refused', details: { rule: 'duplicate_serial', serials: ['DUP-A 1'] } } } });
    expect(await receiptRows(order.id)).toBe(0);
    expect(await assetsWithKey('dup-a1')).toBe(0);
  });

  it('is refused with serial_known when an asset already has the serial in another case or spacing', async () => {
    const existing = await createAsset(stack.database.db);
    const { order, lineId } = await orderedLaptops(1);
    const written = ` ${existing.serialNumber!.toLowerCase().replace('-', ' -')}`;
    const refused = await receive(order.number, lineId, [written]);
    expect(refused).toMatchObject({ status: 409, body: { error: { code: 'receipt_refused', details: { rule: 'serial_known' } } } });
    expect(await receiptRows(order.id)).toBe(0);
  });

  it('that meets the unique index after its check (another receipt got there first) is refused for good, and leaves nothing of itself', async () => {
    const db = stack.database.db;
    const { requestId, workflowId, order, lineId } = await orderedLaptops(2);
    await createAsset(db).then((a) => db('assets').where({ id: a.id }).update({ serial_number: 'LATE-RACE-1' }));
    const activities = createPurchaseRequestActivities({
      db, publicUrl: stack.baseUrl, temporal: stack.env.client, lifecycle: { taskQueue: stack.taskQueue, reminders: stack.reminders },
    } as Parameters<typeof createPurchaseRequestActivities>[0]);
    const receipt = {
      purchaseOrderId: order.id, receivedById: receiver.id, actorEmail: receiver.email, requestId: 'late-race',
      lines: [{ lineId, quantity: 2, serialNumbers: ['FRESH-1', 'late-Race -1'] }],
    };
    const attempt = activities.recordReceipt({ idempotencyKey: `${workflowId}:receipt:late-race`, workflowId, purchaseRequestId: requestId, receipt });
    await expect(attempt).rejects.toBeInstanceOf(ApplicationFailure);
    const failure = (await attempt.catch((e: unknown) => e)) as ApplicationFailure;
    expect(failure).toMatchObject({ type: 'ReceiptRefused', nonRetryable: true });
    expect(failure.details?.[0]).toMatchObject({ rule: 'serial_known', details: { serials: ['LATE-RACE-1'] } });
    // The receipt row, the asset of the first serial and the audit row went with the refusal.
    expect(await receiptRows(order.id)).toBe(0);
    expect(await assetsWithKey('FRESH-1')).toBe(0);
    expect(await db('audit_log').where({ idempotency_key: `${workflowId}:receipt:late-race` }).first()).toBeUndefined();
  });

  it.each([
    ['in different letter case', 'RACE-CASE-1', 'race-case-1'],
    ['written the same', 'RACE-SAME-1', 'RACE-SAME-1'],
  ])('of one serial on two orders at the same moment (%s) makes one asset: one call answers 200, the other 409, both promptly', async (_, first, second) => {
    const [a, b] = await Promise.all([orderedLaptops(1), orderedLaptops(1)]);
    const started = Date.now();
    const answers = await Promise.all([receive(a.order.number, a.lineId, [first]), receive(b.order.number, b.lineId, [second])]);
    expect(Date.now() - started).toBeLessThan(30_000);
    expect(answers.map((r) => r.status).sort()).toEqual([200, 409]);
    const refused = answers.find((r) => r.status === 409)!;
    expect(refused.body.error).toMatchObject({ code: 'receipt_refused', details: { rule: 'serial_known' } });
    expect(await assetsWithKey(first)).toBe(1);

    // The refused receipt left nothing, and its order takes the right serial at once.
    const loser = answers[0].status === 409 ? a : b;
    expect(await receiptRows(loser.order.id)).toBe(0);
    const retry = await receive(loser.order.number, loser.lineId, [`${first}-REPLACEMENT`]);
    expect(retry.status).toBe(200);
    expect(retry.body.assetIds).toHaveLength(1);
  });
});
