/**
 * Unified procurement through the HTTP API and the emailed approval links, on a real Temporal
 * dev server, a real Postgres and a real SMTP sink: pricing, the budget check, licence reuse,
 * approvals by amount, purchase orders per vendor, partial receipts into assets, entitlements and
 * cost records.
 */
import type { Knex } from 'knex';
import type { SunkMessage } from '../platform/mail-sink';
import { budgetFacts } from '../model/budgets';
import { findAsset } from '../model/assets';
import { createApprovalRule, createAsset, createGroup, createHardwareModel, createPerson, eventually, type TestPerson } from './support/fixtures';
import { call, startStack, type Stack } from './support/stack';

let stack: Stack;
let receiver: TestPerson;
let financeMember: TestPerson;
let lenovo: string;
let adobe: string;
let dormant: string;
let laptopModel: string;
let acrobat: string;

const thisMonth = () => `${new Date().toISOString().slice(0, 7)}-01`;

async function createVendor(db: Knex, name: string, active = true): Promise<string> {
  const [{ id }] = await db('vendors').insert({ name, contact_email: `orders@${name.toLowerCase().replace(/\W+/g, '')}.example`, active }).returning('id');
  return id;
}

async function contractWith(db: Knex, vendorId: string): Promise<string> {
  const [{ id }] = await db('contracts')
    .insert({ vendor_id: vendorId, kind: 'purchase', title: 'Framework agreement', starts_on: '2026-01-01', ends_on: '2028-12-31', currency: 'EUR' })
    .returning('id');
  return id;
}

beforeAll(async () => {
  stack = await startStack();
  const db = stack.database.db;
  receiver = await createPerson(db, ['asset_manager'], 'Rick Receiver');
  financeMember = await createPerson(db, ['approver'], 'Fiona Finance');
  const securityMember = await createPerson(db, ['approver'], 'Sid Security');
  const finance = await createGroup(db, [financeMember.id], 'Procurement test finance');
  const security = await createGroup(db, [securityMember.id], 'Security');
  const rule = (r: Parameters<typeof createApprovalRule>[1]) => createApprovalRule(db, { process: 'procurement', ...r });
  await rule({ stepOrder: 1, name: 'Manager', approverKind: 'manager' });
  await rule({ stepOrder: 2, name: 'Cost centre owner', appliesWhen: { minCostMinor: 100_000 }, approverKind: 'cost_centre_owner' });
  await rule({ stepOrder: 3, name: 'Finance', appliesWhen: { anyOf: [{ minCostMinor: 1_000_000 }, { overBudget: true }] }, approverKind: 'group', groupId: finance });
  await rule({ stepOrder: 4, name: 'Security', appliesWhen: { anyOf: [{ newVendor: true }, { offCatalogue: true }] }, approverKind: 'group', groupId: security });

  lenovo = await createVendor(db, 'Lenovo Benelux');
  adobe = await createVendor(db, 'Adobe Systems');
  dormant = await createVendor(db, 'Dormant Supplies', false);
  const lenovoContract = await contractWith(db, lenovo);
  await contractWith(db, adobe);
  laptopModel = await createHardwareModel(db, { vendor_id: lenovo, list_price_minor: 145_000, warranty_months: 36 });
  await db('contract_prices').insert({ contract_id: lenovoContract, hardware_model_id: laptopModel, unit_price_minor: 120_000, currency: 'EUR' });
  [{ id: acrobat }] = await db('software_products')
    .insert({ publisher: 'Adobe', name: 'Acrobat Pro', vendor_id: adobe, licence_metric: 'per_user', unit_price_minor: 24_000, currency: 'EUR' })
    .returning('id');
});

afterAll(async () => {
  await stack?.stop();
});

/** A requester with a manager, and a cost centre with an owner and a budget for this month. */
async function requesterWithBudget(budgetMinor: number) {
  const db = stack.database.db;
  const manager = await createPerson(db, ['approver'], 'Mark Manager');
  const owner = await createPerson(db, ['approver'], 'Olivia Owner');
  const requester = await createPerson(db, ['requester'], 'Rosa Requester', { managerId: manager.id });
  const code = `CC-${Math.floor(Math.random() * 1e6)}`;
  const [{ id: costCentreId }] = await db('cost_centres').insert({ code, name: `Team ${code}`, owner_id: owner.id }).returning('id');
  await db('budgets').insert({ cost_centre_id: costCentreId, period_start: thisMonth(), amount_minor: budgetMinor, currency: 'EUR' });
  return { manager, owner, requester, code, costCentreId };
}

const mailFor = (person: { email: string }, subjectPart: string, number: string) =>
  stack.sink.waitFor((m) => m.to.includes(person.email) && m.subject.includes(subjectPart) && m.subject.includes(number));

const linkIn = (message: SunkMessage) => new URL(/(https?:\/\/\S+\/approvals\/[0-9a-f-]+\?token=\S+)/.exec(message.text)![1]);

const detail = async (id: string) => (await call(stack, receiver.apiKey, 'GET', `/purchase-requests/${id}`)).body;

const untilState = (id: string, state: string) =>
  eventually(async () => {
    const request = await detail(id);
    return request.state === state ? request : undefined;
  });

/** Ordering, with its purchase orders issued (the workflow enters the state just before issuing them). */
const untilOrdered = (id: string) =>
  eventually(async () => {
    const request = await detail(id);
    return request.state === 'ordering' && request.orders.length > 0 ? request : undefined;
  });

async function approveAll(id: string, people: TestPerson[]) {
  for (const person of people) {
    const approval = await eventually(async () =>
      (await stack.database.db('approvals').where({ subject_id: id, approver_id: person.id, state: 'requested' }).first()) ?? undefined,
    );
    const res = await call(stack, person.apiKey, 'POST', `/purchase-requests/${id}/approvals/${approval.id}/decision`, { decision: 'approved' });
    expect(res.status).toBe(200);
  }
}

const receive = (orderNumber: string, lines: { lineId: string; quantity: number; serialNumbers?: string[] }[], key?: string) =>
  key
    ? fetch(`${stack.baseUrl}/purchase-orders/${orderNumber}/receipts`, {
        method: 'POST',
        headers: { authorization: `Bearer ${receiver.apiKey}`, 'content-type': 'application/json', 'idempotency-key': key },
        body: JSON.stringify({ lines }),
      }).then(async (res) => ({ status: res.status, body: await res.json() }))
    : call(stack, receiver.apiKey, 'POST', `/purchase-orders/${orderNumber}/receipts`, { lines });

async function counts(db: Knex) {
  const n = async (table: string) => Number((await db(table).count({ n: '*' }))[0].n);
  return { receipts: await n('receipts'), assets: await n('assets'), costRecords: await n('cost_records'), entitlements: await n('software_entitlements') };
}

describe('a purchase within budget', () => {
  it('is priced, approved by email link, ordered per vendor, received in parts, and ends in assets, entitlements and cost records', async () => {
    const db = stack.database.db;
    const { manager, owner, requester, code, costCentreId } = await requesterWithBudget(2_000_000);
    const created = await call(stack, requester.apiKey, 'POST', '/purchase-requests', {
      costCentre: code,
      justification: 'Three new data engineers start in January',
      programme: 'Data platform 2027',
      lines: [{ hardwareModelId: laptopModel, quantity: 3 }, { softwareProductId: acrobat, quantity: 5 }],
    });
    expect(created.status).toBe(201);
    const { id, number } = created.body;
    await mailFor(requester, 'Received', number);

    const task = await mailFor(manager, 'Approval needed', number);
    expect(task.text).toContain('(contract price)');
    const request = await detail(id);
    expect(request.totalMinor).toBe(3 * 120_000 + 5 * 24_000);
    expect(request.lines.map((l: { priceSource: string; unitPriceMinor: number }) => [l.priceSource, l.unitPriceMinor])).toEqual([['contract', 120_000], ['list', 24_000]]);
    expect(request.assessment).toMatchObject({ overBudget: false, remainingBeforeMinor: 2_000_000, remainingAfterMinor: 1_520_000, newVendor: false, offCatalogue: false });

    const form = await fetch(`${linkIn(task).origin}${linkIn(task).pathname}`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ token: linkIn(task).searchParams.get('token')!, decision: 'approved', comment: 'welcome aboard' }).toString(),
    });
    expect(form.status).toBe(200);
    await approveAll(id, [owner]);

    const ordering = await untilOrdered(id);
    expect(ordering.approvals.map((a: { stepName: string; state: string }) => [a.stepName, a.state])).toEqual([['Manager', 'approved'], ['Cost centre owner', 'approved']]);
    expect(ordering.orders.map((o: { vendor: string; amountMinor: number; state: string }) => [o.vendor, o.amountMinor, o.state])).toEqual([
      ['Lenovo Benelux', 360_000, 'issued'],
      ['Adobe Systems', 120_000, 'issued'],
    ]);
    const [laptopOrder, acrobatOrder] = ordering.orders;
    const vendorMail = await stack.sink.waitFor((m) => m.to.includes('orders@lenovobenelux.example') && m.subject.includes(laptopOrder.number));
    expect(vendorMail.to).toContain(requester.email);
    expect(vendorMail.text).toContain('Total: EUR 3,600.00');
    expect((await budgetFacts(db, costCentreId, 'EUR', new Date())).committedMinor).toBe(480_000);

    const [laptopLine, acrobatLine] = ordering.lines;
    const first = await receive(laptopOrder.number, [{ lineId: laptopLine.id, quantity: 2, serialNumbers: ['PF-0001', 'PF-0002'] }]);
    expect(first.status).toBe(200);
    expect(first.body).toMatchObject({ orderState: 'partially_received', requestState: 'partially_received' });
    expect(first.body.assetIds).toHaveLength(2);
    expect((await budgetFacts(db, costCentreId, 'EUR', new Date())).committedMinor).toBe(240_000);
    await receive(acrobatOrder.number, [{ lineId: acrobatLine.id, quantity: 5 }]);
    const last = await receive(laptopOrder.number, [{ lineId: laptopLine.id, quantity: 1, serialNumbers: ['PF-0003'] }]);
    expect(last.body).toMatchObject({ orderState: 'received', requestState: 'received' });

    const closed = await untilState(id, 'closed');
    expect(closed.outcome).toBe('received in full');
    expect(closed.orders.map((o: { state: string; receivedMinor: number; amountMinor: number }) => [o.state, o.receivedMinor === o.amountMinor])).toEqual([['closed', true], ['closed', true]]);
    const assets = await db('assets').whereIn('serial_number', ['PF-0001', 'PF-0002', 'PF-0003']).orderBy('serial_number');
    expect(assets).toHaveLength(3);
    const receivedOn = new Date().toISOString().slice(0, 10);
    const warrantyYear = Number(receivedOn.slice(0, 4)) + 3;
    for (const asset of assets) {
      expect(await findAsset(db, asset.id)).toMatchObject({ state: 'in_stock', substate: 'available', purchaseCost: { amountMinor: 120_000, currency: 'EUR' }, costCentreId });
      expect(asset.contract_id).not.toBeNull();
      expect(asset.warranty_end.slice(0, 4)).toBe(String(warrantyYear));
      expect(await db('audit_log').where({ subject_type: 'asset', subject_id: asset.id, action: 'transition' }).first('from_state', 'to_state'))
        .toEqual({ from_state: 'on_order', to_state: 'in_stock/available' });
    }
    const entitlement = await db('software_entitlements').where({ product_id: acrobat }).whereNotNull('receipt_id').first();
    expect(entitlement).toMatchObject({ quantity: 5, cost_minor: 120_000, metric: 'per_user' });
    const [{ total }] = await db('cost_records').where({ cost_centre_id: costCentreId, charge_category: 'Purchase' }).sum({ total: 'billed_cost' });
    expect(total).toBe('4800.00');
    expect(await db('cost_records').where({ cost_centre_id: costCentreId }).whereNotNull('asset_id')).toHaveLength(3);
    const facts = await budgetFacts(db, costCentreId, 'EUR', new Date());
    expect(facts).toMatchObject({ committedMinor: 0, spentMinor: 480_000 });
    await mailFor(requester, 'Closed (closed)', number);
  });
});

describe('budget and licences', () => {
  it('routes a request over budget to finance', async () => {
    const { manager, owner, requester, code } = await requesterWithBudget(100_000);
    const { body } = await call(stack, requester.apiKey, 'POST', '/purchase-requests', {
      costCentre: code, justification: 'Replacement laptop', lines: [{ hardwareModelId: laptopModel, quantity: 1 }],
    });
    await approveAll(body.id, [manager, owner]);
    await mailFor(financeMember, 'Approval needed', body.number);
    const request = await detail(body.id);
    expect(request.assessment).toMatchObject({ overBudget: true, remainingBeforeMinor: 100_000, remainingAfterMinor: -20_000 });
    expect(request.approvals.map((a: { stepName: string; state: string }) => [a.stepName, a.state])).toEqual([
      ['Manager', 'approved'], ['Cost centre owner', 'approved'], ['Finance', 'requested'],
    ]);
    expect(request.status.waitingFor).toEqual([financeMember.id]);
    await call(stack, requester.apiKey, 'POST', `/purchase-requests/${body.id}/cancel`, { reason: 'test done' });
  });

  it('offers spare licences first; accepting assigns the seats and shrinks the order', async () => {
    const db = stack.database.db;
    const { requester, code } = await requesterWithBudget(1_000_000);
    const [{ id: product }] = await db('software_products')
      .insert({ publisher: 'JetBrains', name: `IntelliJ ${Math.random()}`, vendor_id: adobe, licence_metric: 'per_user', unit_price_minor: 50_000, currency: 'EUR' })
      .returning('id');
    await db('software_entitlements').insert({ product_id: product, metric: 'per_user', quantity: 10, starts_on: '2026-01-01', currency: 'EUR' });
    const holder = await createPerson(db, ['requester']);
    await db('software_consumptions').insert(Array.from({ length: 7 }, () => ({ product_id: product, kind: 'assignment', person_id: holder.id })));

    const { body } = await call(stack, requester.apiKey, 'POST', '/purchase-requests', {
      costCentre: code, justification: 'IDE seats for the new team', lines: [{ softwareProductId: product, quantity: 5 }],
    });
    const offer = await mailFor(requester, 'Spare licences available', body.number);
    expect(offer.text).toContain('3 spare seat(s)');
    expect((await detail(body.id)).status.reuseOfferOpen).toBe(true);

    const answered = await call(stack, requester.apiKey, 'POST', `/purchase-requests/${body.id}/licence-reuse`, { accept: true });
    expect(answered.status).toBe(200);
    const request = await untilState(body.id, 'authorize');
    expect(request.lines[0]).toMatchObject({ quantity: 5, reusedUnits: 3 });
    expect(request.totalMinor).toBe(2 * 50_000);
    const seats = await db('software_consumptions').where({ product_id: product, person_id: requester.id });
    expect(seats).toEqual([expect.objectContaining({ units: 3, kind: 'assignment' })]);
    expect((await call(stack, requester.apiKey, 'POST', `/purchase-requests/${body.id}/licence-reuse`, { accept: true })).status).toBe(409);
    await call(stack, requester.apiKey, 'POST', `/purchase-requests/${body.id}/cancel`, { reason: 'test done' });
  });
});

describe('rejection and cancellation', () => {
  it('ends rejected when the manager rejects it, and the requester is told', async () => {
    const { manager, requester, code } = await requesterWithBudget(1_000_000);
    const { body } = await call(stack, requester.apiKey, 'POST', '/purchase-requests', {
      costCentre: code, justification: 'A second monitor', lines: [{ description: 'Dell U2723QE monitor', vendorId: lenovo, quantity: 1, quotedUnitPriceMinor: 61_999 }],
    });
    const approval = await eventually(async () => (await stack.database.db('approvals').where({ subject_id: body.id, approver_id: manager.id }).first()) ?? undefined);
    const res = await call(stack, manager.apiKey, 'POST', `/purchase-requests/${body.number}/approvals/${approval.id}/decision`, { decision: 'rejected', comment: 'use the spare one' });
    expect(res.body).toMatchObject({ decision: 'rejected', stepOutcome: 'rejected' });
    const request = await untilState(body.id, 'rejected');
    expect(request.totalMinor).toBe(61_999);
    expect(request.lines[0].priceSource).toBe('quoted');
    expect(request.orders).toEqual([]);
    await mailFor(requester, 'Closed (rejected)', body.number);
  });

  it('can be cancelled until an order is issued, and not after', async () => {
    const { manager, owner, requester, code } = await requesterWithBudget(1_000_000);
    const submit = () => call(stack, requester.apiKey, 'POST', '/purchase-requests', {
      costCentre: code, justification: 'Docking stations', lines: [{ hardwareModelId: laptopModel, quantity: 1 }],
    });
    const early = (await submit()).body;
    const cancelled = await call(stack, requester.apiKey, 'POST', `/purchase-requests/${early.id}/cancel`, { reason: 'bought by the landlord' });
    expect(cancelled.body).toMatchObject({ state: 'cancelled', outcome: 'bought by the landlord' });
    expect(await stack.database.db('approvals').where({ subject_id: early.id, state: 'requested' })).toEqual([]);

    const late = (await submit()).body;
    await approveAll(late.id, [manager, owner]);
    await untilOrdered(late.id);
    const refused = await call(stack, requester.apiKey, 'POST', `/purchase-requests/${late.id}/cancel`, { reason: 'too late' });
    expect(refused).toMatchObject({ status: 409, body: { error: { code: 'state' } } });
  });

  it('refuses an inactive vendor at once', async () => {
    const { requester, code } = await requesterWithBudget(1_000_000);
    const res = await call(stack, requester.apiKey, 'POST', '/purchase-requests', {
      costCentre: code, justification: 'Cables', lines: [{ description: 'USB-C cables', vendorId: dormant, quantity: 10, quotedUnitPriceMinor: 1_500 }],
    });
    expect(res).toMatchObject({ status: 400, body: { error: { code: 'invalid_input', details: [expect.objectContaining({ path: 'lines.0.vendorId' })] } } });
  });
});

describe('refused receipts', () => {
  it('refuse more than ordered, a known serial, a missing serial and a cancelled order, changing nothing', async () => {
    const db = stack.database.db;
    const { manager, owner, requester, code } = await requesterWithBudget(5_000_000);
    const [{ id: visio }] = await db('software_products')
      .insert({ publisher: 'Microsoft', name: 'Visio Plan 2', vendor_id: adobe, licence_metric: 'per_user', unit_price_minor: 18_000, currency: 'EUR' })
      .returning('id');
    const { body } = await call(stack, requester.apiKey, 'POST', '/purchase-requests', {
      costCentre: code, justification: 'Lab laptops', lines: [{ hardwareModelId: laptopModel, quantity: 2 }, { softwareProductId: visio, quantity: 2 }],
    });
    await approveAll(body.id, [manager, owner]);
    const ordering = await untilOrdered(body.id);
    const [laptopOrder, acrobatOrder] = ordering.orders;
    const [laptopLine, acrobatLine] = ordering.lines;
    const existing = await createAsset(db);
    const before = await counts(db);

    const tooMany = await receive(laptopOrder.number, [{ lineId: laptopLine.id, quantity: 3, serialNumbers: ['LAB-1', 'LAB-2', 'LAB-3'] }]);
    expect(tooMany).toMatchObject({ status: 409, body: { error: { code: 'receipt_refused', details: expect.objectContaining({ rule: 'over_receipt' }) } } });
    const known = await receive(laptopOrder.number, [{ lineId: laptopLine.id, quantity: 1, serialNumbers: [existing.serialNumber!.toLowerCase()] }]);
    expect(known).toMatchObject({ status: 409, body: { error: { details: expect.objectContaining({ rule: 'serial_known' }) } } });
    const noSerial = await receive(laptopOrder.number, [{ lineId: laptopLine.id, quantity: 1 }]);
    expect(noSerial).toMatchObject({ status: 409, body: { error: { details: expect.objectContaining({ rule: 'serials_required' }) } } });

    expect((await call(stack, receiver.apiKey, 'POST', `/purchase-orders/${acrobatOrder.number}/cancel`, { reason: 'bought elsewhere' })).status).toBe(200);
    const onCancelled = await receive(acrobatOrder.number, [{ lineId: acrobatLine.id, quantity: 2 }]);
    expect(onCancelled).toMatchObject({ status: 409, body: { error: { details: expect.objectContaining({ rule: 'order_cancelled' }) } } });
    expect(await counts(db)).toEqual(before);

    const ok = await receive(laptopOrder.number, [{ lineId: laptopLine.id, quantity: 2, serialNumbers: ['LAB-1', 'LAB-2'] }], 'receipt-lab-1');
    const again = await receive(laptopOrder.number, [{ lineId: laptopLine.id, quantity: 2, serialNumbers: ['LAB-1', 'LAB-2'] }], 'receipt-lab-1');
    expect(ok.status).toBe(200);
    expect(again.body).toEqual(ok.body);
    expect(await counts(db)).toMatchObject({ receipts: before.receipts + 1, assets: before.assets + 2 });
    const closed = await untilState(body.id, 'closed');
    expect(closed.orders.map((o: { state: string }) => o.state).sort()).toEqual(['cancelled', 'closed']);
  });
});
