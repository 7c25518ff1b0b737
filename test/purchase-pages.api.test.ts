/**
 * The purchase pages over plain HTTP with a web session: Check prices the basket and shows the
 * budget before and after without writing anything; Submit goes through the API's submission;
 * a requester cancels and answers a licence reuse offer; an approver decides on the page; a
 * receiver's delivery is refused next to the serial field (a repeated serial, one already on an
 * asset, more than ordered) and nothing is recorded, then recorded.
 */
import { randomUUID } from 'node:crypto';
import type { Knex } from 'knex';
import { createApprovalRule, createAsset, createCostCentre, createHardwareModel, createPerson, eventually, type TestPerson } from './support/fixtures';
import { call, startStack, type Stack } from './support/stack';
import { browse, hiddenCsrf, signInWithKey, webAgent, type WebAgent } from './support/web-agent';

let stack: Stack;
let receiver: TestPerson;
let vendor: string;
let laptop: string;
let contractNumber: string;

beforeAll(async () => {
  stack = await startStack();
  const db = stack.database.db;
  receiver = await createPerson(db, ['asset_manager'], 'Rhea Receiver');
  await createApprovalRule(db, { process: 'procurement', stepOrder: 1, name: 'Manager', approverKind: 'manager' });
  [{ id: vendor }] = await db('vendors').insert({ name: 'Pages Hardware BV', contact_email: 'orders@pages.example' }).returning('id');
  const [contract] = await db('contracts')
    .insert({ vendor_id: vendor, kind: 'purchase', title: 'Framework', starts_on: '2026-01-01', ends_on: '2029-12-31', currency: 'EUR' })
    .returning(['id', 'number']);
  contractNumber = contract.number;
  laptop = await createHardwareModel(db, { vendor_id: vendor, manufacturer: 'Lenovo', name: 'ThinkPad Pages X1', list_price_minor: 145_000 });
  await db('contract_prices').insert({ contract_id: contract.id, hardware_model_id: laptop, unit_price_minor: 120_000, currency: 'EUR' });
});

/** A software product of this test alone, with this many seats owned and none in use: no other test takes its spare seats. */
async function softwareProduct(seats: number): Promise<{ id: string; name: string }> {
  const db = stack.database.db;
  const name = `Pages Designer ${Math.floor(Math.random() * 1e9)}`;
  const [{ id }] = await db('software_products')
    .insert({ publisher: 'Figma', name, vendor_id: vendor, licence_metric: 'per_user', unit_price_minor: 15_000, currency: 'EUR' })
    .returning('id');
  if (seats > 0) await db('software_entitlements').insert({ product_id: id, metric: 'per_user', quantity: seats, starts_on: '2026-01-01', currency: 'EUR' });
  return { id, name };
}

/** The key minted into the form posting to this action: sent with the form, it makes a resend the same command. */
const requestKeyIn = (html: string, action: string) => new RegExp(`action="${action}"[\\s\\S]*?name="requestKey" value="([^"]+)"`).exec(html)?.[1];

afterAll(async () => {
  await stack?.stop();
});

async function signedIn(person: TestPerson): Promise<WebAgent> {
  const agent = webAgent(stack.baseUrl);
  expect((await signInWithKey(agent, person.apiKey)).status).toBe(303);
  return agent;
}

const csrfOf = async (agent: WebAgent, path: string) => hiddenCsrf((await browse(agent, 'GET', path)).html)!;

/** A requester with a manager, and a cost centre with this month's budget (EUR unless told). */
async function team(budgetMinor: number, currency = 'EUR') {
  const db = stack.database.db;
  const manager = await createPerson(db, ['approver'], 'Mira Manager');
  const requester = await createPerson(db, ['requester'], 'Ravi Requester', { managerId: manager.id });
  const code = `PG-${Math.floor(Math.random() * 1e6)}`;
  const costCentreId = await createCostCentre(db, code, `Team ${code}`, null);
  await db('budgets').insert({ cost_centre_id: costCentreId, period_start: `${new Date().toISOString().slice(0, 7)}-01`, amount_minor: budgetMinor, currency });
  return { manager, requester, code, agent: await signedIn(requester) };
}

async function counts(db: Knex) {
  const n = async (table: string) => Number((await db(table).count({ n: '*' }))[0].n);
  return { requests: await n('purchase_requests'), submissions: await n('submissions'), receipts: await n('receipts'), assets: await n('assets') };
}

/** Plain text of a page, for reading figures the way a person does. */
const textOf = (html: string) => html.replace(/<[^>]+>/g, ' ').replace(/&amp;/g, '&').replace(/&quot;/g, '"').replace(/&#39;/g, "'").replace(/\s+/g, ' ');

/** The inner text of the element with this id. */
const byId = (html: string, id: string) => textOf(new RegExp(`id="${id}"[^>]*>([\\s\\S]*?)</(dd|td|p|section)>`).exec(html)?.[1] ?? '').trim();

async function submitted(agent: WebAgent, form: Record<string, string>) {
  const csrf = await csrfOf(agent, '/ui/purchases/new');
  const res = await browse(agent, 'POST', '/ui/purchases/new', { csrf, action: 'submit', ...form });
  expect(res.status).toBe(303);
  const number = /\/ui\/purchase-requests\/(PR\d+)/.exec(res.location!)![1];
  const row = await stack.database.db('purchase_requests').where({ number }).first();
  return { number, id: row.id as string, workflowId: row.workflow_id as string };
}

const apiDetail = async (id: string) => (await call(stack, receiver.apiKey, 'GET', `/purchase-requests/${id}`)).body;

it('shows the catalogue with contract prices, and Check prices the basket with the budget before and after, writing nothing', async () => {
  const db = stack.database.db;
  const { code, agent } = await team(1_000_000);
  const designer = await softwareProduct(4);
  const form = await browse(agent, 'GET', '/ui/purchases/new?q=Pages');
  expect(form.status).toBe(200);
  expect(form.html).toContain('ThinkPad Pages X1');
  expect(textOf(form.html)).toContain(`EUR 1,200.00 (contract ${contractNumber} price)`);
  expect(textOf(form.html)).toContain('EUR 1,450.00');

  const before = await counts(db);
  const csrf = hiddenCsrf(form.html)!;
  const check = await browse(agent, 'POST', '/ui/purchases/new', {
    csrf, action: 'check', q: 'Pages', category: '', costCentre: code, currency: 'EUR', justification: 'Two analysts join in January',
    [`qty-hw-${laptop}`]: '2', [`qty-sw-${designer.id}`]: '2',
  });

  expect(check.status).toBe(200);
  expect(byId(check.html, 'check-total')).toBe('EUR 2,700.00');
  const lines = textOf(/<table id="priced-lines">[\s\S]*?<\/table>/.exec(check.html)![0]);
  expect(lines).toContain(`Lenovo ThinkPad Pages X1 2 EUR 1,200.00 contract ${contractNumber} EUR 2,400.00`);
  expect(lines).toContain(`Figma ${designer.name} 2 EUR 150.00 list EUR 300.00`);
  expect(byId(check.html, 'budget-before')).toBe('EUR 10,000.00');
  expect(byId(check.html, 'budget-after')).toBe('EUR 7,300.00');
  expect(byId(check.html, 'over-budget')).toBe('no');
  // Four seats of its own product are owned and none is used: all four are spare, two are offered.
  expect(textOf(check.html)).toContain(`2 spare seats of Figma ${designer.name} (line 2)`);
  // The basket stays in the form: both quantities are fields again.
  expect(check.html).toContain(`name="qty-hw-${laptop}" value="2"`);
  expect(check.html).toContain(`name="qty-sw-${designer.id}" value="2"`);
  expect(await counts(db)).toEqual(before);
});

it('says plainly when the budget is kept in another currency, and names the field of each problem', async () => {
  const { code, agent } = await team(500_000, 'USD');
  const csrf = await csrfOf(agent, '/ui/purchases/new');
  const check = await browse(agent, 'POST', '/ui/purchases/new', {
    csrf, action: 'check', costCentre: code, currency: 'EUR', justification: 'A spare laptop', [`qty-hw-${laptop}`]: '1',
  });
  expect(check.status).toBe(200);
  expect(byId(check.html, 'budget-after')).toBe('not compared');
  expect(textOf(check.html)).toContain(`budget is kept in USD (USD 5,000.00 left), and EUR 1,200.00 in EUR is never compared with it: ask in USD`);
  expect(check.html).toContain('id="check-problem"');

  const bad = await browse(agent, 'POST', '/ui/purchases/new', {
    csrf, action: 'submit', costCentre: 'NO-SUCH-CC', currency: 'EUR', justification: 'x', [`qty-hw-${laptop}`]: 'two',
  });
  expect(bad.status).toBe(400);
  expect(bad.html).toContain(`id="buy-qty-hw-${laptop}-error"`);
  expect(bad.html).toContain('id="buy-justification-error"');
  expect(bad.html).toContain('aria-invalid="true"');

  const unknownCostCentre = await browse(agent, 'POST', '/ui/purchases/new', {
    csrf, action: 'submit', costCentre: 'NO-SUCH-CC', currency: 'EUR', justification: 'A spare laptop', [`qty-hw-${laptop}`]: '1',
  });
  expect(unknownCostCentre.status).toBe(400);
  expect(byId(unknownCostCentre.html, 'buy-costCentre-error')).toBe('unknown cost centre');

  const empty = await browse(agent, 'POST', '/ui/purchases/new', { csrf, action: 'check', costCentre: code, currency: 'EUR', justification: 'Nothing at all' });
  expect(empty.status).toBe(400);
  expect(byId(empty.html, 'buy-basket-error')).toBe('Choose at least one item: give it a quantity.');
});

it('submits through the API\'s submission, shows the request to its requester and approver only, lets the approver decide on it and an asset manager cancel its order', async () => {
  const db = stack.database.db;
  const { manager, requester, code, agent } = await team(1_000_000);
  const form = await browse(agent, 'GET', '/ui/purchases/new');
  const submissionKey = /name="submissionKey" value="([^"]+)"/.exec(form.html)![1];
  const fields = { csrf: hiddenCsrf(form.html)!, submissionKey, action: 'submit', costCentre: code, currency: 'EUR', justification: 'A laptop for the intern', [`qty-hw-${laptop}`]: '1' };
  const first = await browse(agent, 'POST', '/ui/purchases/new', fields);
  expect(first.status).toBe(303);
  // The same form sent twice (a double click) is one request.
  const second = await browse(agent, 'POST', '/ui/purchases/new', fields);
  expect(second).toMatchObject({ status: 303, location: first.location });
  const number = /PR\d+/.exec(first.location!)![0];
  const { id } = await db('purchase_requests').where({ number }).first('id');
  expect(await db('purchase_requests').where({ requester_id: requester.id }).pluck('number')).toEqual([number]);
  // Sent again with other values, it makes nothing and says so.
  const changed = await browse(agent, 'POST', '/ui/purchases/new', { ...fields, [`qty-hw-${laptop}`]: '2' });
  expect(changed.status).toBe(422);
  expect(changed.html).toContain('This form was already submitted with other values');
  expect(/name="submissionKey" value="([^"]+)"/.exec(changed.html)![1]).not.toBe(submissionKey);
  await eventually(async () => (await db('approvals').where({ subject_id: id, approver_id: manager.id, state: 'requested' }).first()) ?? undefined);

  const page = await browse(agent, 'GET', `/ui/purchase-requests/${number}?done=submitted`);
  expect(page.status).toBe(200);
  expect(page.html).toContain('Your purchase request was submitted');
  expect(byId(page.html, 'purchase-total')).toBe('EUR 1,200.00');
  expect(page.html).toContain('id="approvals"');
  expect(page.html).not.toContain('id="decide"');

  const stranger = await signedIn(await createPerson(db, ['requester'], 'Stella Stranger'));
  expect((await browse(stranger, 'GET', `/ui/purchase-requests/${number}`)).status).toBe(403);
  expect((await browse(stranger, 'GET', '/ui/purchase-requests/PR9999999')).status).toBe(404);

  const approver = await signedIn(manager);
  const forManager = await browse(approver, 'GET', `/ui/purchase-requests/${number}`);
  expect(forManager.status).toBe(200);
  const approvalId = /name="approvalId" value="([^"]+)"/.exec(forManager.html)![1];
  const decided = await browse(approver, 'POST', `/ui/purchase-requests/${number}/decision`, { csrf: hiddenCsrf(forManager.html)!, approvalId, decision: 'approved', comment: 'go' });
  expect(decided).toMatchObject({ status: 303, location: `/ui/purchase-requests/${number}?done=approved` });
  expect(await db('approvals').where({ id: approvalId }).first('state', 'comment')).toEqual({ state: 'approved', comment: 'go' });
  const ordered = await eventually(async () => {
    const r = await apiDetail(id);
    return r.state === 'ordering' && r.orders.length ? r : undefined;
  });

  // An asset manager cancels the order nothing was received on, giving a reason.
  const order = ordered.orders[0].number as string;
  const desk = await signedIn(receiver);
  const withOrder = await browse(desk, 'GET', `/ui/purchase-requests/${number}`);
  expect(withOrder.html).toContain(`id="cancel-${order}-reason"`);
  const cancelKey = requestKeyIn(withOrder.html, `/ui/purchase-orders/${order}/cancel`)!;
  const noReason = await browse(desk, 'POST', `/ui/purchase-orders/${order}/cancel`, { csrf: hiddenCsrf(withOrder.html)!, requestKey: cancelKey, reason: '' });
  expect(noReason.status).toBe(400);
  expect(byId(noReason.html, `cancel-${order}-reason-error`)).toBe('Say why the order is cancelled.');
  const cancelled = await browse(desk, 'POST', `/ui/purchase-orders/${order}/cancel`, { csrf: hiddenCsrf(withOrder.html)!, requestKey: cancelKey, reason: 'The vendor cannot deliver this year' });
  expect(cancelled).toMatchObject({ status: 303, location: `/ui/purchase-requests/${number}?done=order-cancelled#order-${order}` });
  await eventually(async () => (await db('purchase_orders').where({ number: order }).first('state')).state === 'cancelled');
  expect((await browse(agent, 'POST', `/ui/purchase-orders/${order}/cancel`, { csrf: await csrfOf(agent, '/ui/my-requests'), requestKey: randomUUID(), reason: 'mine' })).status).toBe(403);
});

it('cancels a request for its requester with a reason, and asks for the reason first', async () => {
  const { code, agent } = await team(1_000_000);
  const { number, id } = await submitted(agent, { costCentre: code, currency: 'EUR', justification: 'Changed my mind later', [`qty-hw-${laptop}`]: '1' });
  const page = await browse(agent, 'GET', `/ui/purchase-requests/${number}`);
  expect(page.html).toContain('id="cancel-reason"');

  const requestKey = requestKeyIn(page.html, `/ui/purchase-requests/${number}/cancel`)!;
  const noReason = await browse(agent, 'POST', `/ui/purchase-requests/${number}/cancel`, { csrf: hiddenCsrf(page.html)!, requestKey, reason: ' ' });
  expect(noReason.status).toBe(400);
  expect(byId(noReason.html, 'cancel-reason-error')).toBe('Say why the request is cancelled.');

  const noKey = await browse(agent, 'POST', `/ui/purchase-requests/${number}/cancel`, { csrf: hiddenCsrf(page.html)!, reason: 'The intern found a laptop' });
  expect(noKey.status).toBe(400);
  expect(byId(noKey.html, 'cancel-error')).toContain('This form lacks its key');

  const form = { csrf: hiddenCsrf(page.html)!, requestKey, reason: 'The intern found a laptop' };
  const cancelled = await browse(agent, 'POST', `/ui/purchase-requests/${number}/cancel`, form);
  expect(cancelled).toMatchObject({ status: 303, location: `/ui/purchase-requests/${number}?done=cancelled` });
  // Sent twice (a double click), it is one cancellation, answered as the first.
  expect(await browse(agent, 'POST', `/ui/purchase-requests/${number}/cancel`, form)).toMatchObject({ status: 303, location: cancelled.location });
  await eventually(async () => (await apiDetail(id)).state === 'cancelled');
  const after = await browse(agent, 'GET', `/ui/purchase-requests/${number}`);
  expect(byId(after.html, 'purchase-state')).toContain('cancelled');
  expect(after.html).not.toContain('id="cancel-reason"');
});

it('offers spare licences on the request page, and the requester accepts them there', async () => {
  const { code, agent } = await team(1_000_000);
  const designer = await softwareProduct(4);
  const { number, id } = await submitted(agent, { costCentre: code, currency: 'EUR', justification: 'Designers for the rebrand', [`qty-sw-${designer.id}`]: '2' });
  await eventually(async () => (await apiDetail(id)).status?.reuseOfferOpen === true);
  const page = await browse(agent, 'GET', `/ui/purchase-requests/${number}`);
  expect(page.html).toContain('Spare licences are offered to you');
  expect(textOf(page.html)).toContain(`2 spare seats for line 1: Figma ${designer.name}`);

  const form = { csrf: hiddenCsrf(page.html)!, requestKey: requestKeyIn(page.html, `/ui/purchase-requests/${number}/licence-reuse`)!, accept: 'yes' };
  const answered = await browse(agent, 'POST', `/ui/purchase-requests/${number}/licence-reuse`, form);
  expect(answered).toMatchObject({ status: 303, location: `/ui/purchase-requests/${number}?done=accepted` });
  const request = await eventually(async () => {
    const r = await apiDetail(id);
    return r.lines[0].reusedUnits === 2 ? r : undefined;
  });
  expect(request.lines[0]).toMatchObject({ quantity: 2, reusedUnits: 2 });
  // The same form sent again is the same answer; a new one finds no offer waiting.
  expect(await browse(agent, 'POST', `/ui/purchase-requests/${number}/licence-reuse`, form)).toMatchObject({ status: 303, location: answered.location });
  const again = await browse(agent, 'POST', `/ui/purchase-requests/${number}/licence-reuse`, { ...form, requestKey: randomUUID() });
  expect(again.status).toBe(409);
  expect(again.html).toContain('Nothing was changed');
});

it('refuses a delivery next to the serial field that breaks a rule, records nothing, then records it', async () => {
  const db = stack.database.db;
  const { manager, code, agent } = await team(1_000_000);
  const { number, id } = await submitted(agent, { costCentre: code, currency: 'EUR', justification: 'Two laptops for support', [`qty-hw-${laptop}`]: '2' });
  const approval = await eventually(async () => (await db('approvals').where({ subject_id: id, approver_id: manager.id, state: 'requested' }).first()) ?? undefined);
  expect((await call(stack, manager.apiKey, 'POST', `/purchase-requests/${id}/approvals/${approval.id}/decision`, { decision: 'approved' })).status).toBe(200);
  const ordered = await eventually(async () => {
    const r = await apiDetail(id);
    return r.state === 'ordering' && r.orders.length ? r : undefined;
  });
  const order = ordered.orders[0].number as string;
  const lineId = ordered.lines[0].id as string;
  const known = await createAsset(db);
  const knownSerial = `KNOWN-${Math.floor(Math.random() * 1e9)}`;
  await db('assets').where({ id: known.id }).update({ serial_number: knownSerial });

  const desk = await signedIn(receiver);
  const page = await browse(desk, 'GET', `/ui/purchase-requests/${number}`);
  expect(page.html).toContain(`name="serials-${lineId}"`);
  const csrf = hiddenCsrf(page.html)!;
  const fieldError = (html: string) => byId(html, `receipt-${order}-serials-${lineId}-error`);
  const before = await counts(db);
  const tag = Math.floor(Math.random() * 1e9);

  const repeated = await browse(desk, 'POST', `/ui/purchase-orders/${order}/receipts`, { csrf, requestKey: randomUUID(), [`serials-${lineId}`]: `SN-${tag}-A, sn-${tag}-a` });
  expect(repeated.status).toBe(409);
  expect(fieldError(repeated.html)).toBe(`Serial number SN-${tag}-A appears more than once in this receipt.`);
  expect(repeated.html).toContain(`SN-${tag}-A, sn-${tag}-a</textarea>`);

  const tooMany = await browse(desk, 'POST', `/ui/purchase-orders/${order}/receipts`, { csrf, requestKey: randomUUID(), [`serials-${lineId}`]: `SN-${tag}-1\nSN-${tag}-2\nSN-${tag}-3` });
  expect(tooMany.status).toBe(409);
  expect(fieldError(tooMany.html)).toBe('Line 1 (Lenovo ThinkPad Pages X1) has 2 units still to come (2 ordered, 0 received already), not 3.');

  const alreadyKnown = await browse(desk, 'POST', `/ui/purchase-orders/${order}/receipts`, { csrf, requestKey: randomUUID(), [`serials-${lineId}`]: `SN-${tag}-1; ${knownSerial}` });
  expect(alreadyKnown.status).toBe(409);
  expect(fieldError(alreadyKnown.html)).toBe(`Serial number ${knownSerial} is already on an asset record: check the serial numbers against the delivery.`);

  const unknownLine = await browse(desk, 'POST', `/ui/purchase-orders/${order}/receipts`, { csrf, requestKey: randomUUID(), 'quantity-00000000-0000-4000-8000-000000000000': '1' });
  expect(unknownLine.status).toBe(409);
  expect(byId(unknownLine.html, `receipt-${order}-error`)).toBe('Line 00000000-0000-4000-8000-000000000000 is not on this purchase order.');
  expect(await counts(db)).toEqual(before);

  const requesterTries = await browse(agent, 'POST', `/ui/purchase-orders/${order}/receipts`, { csrf: await csrfOf(agent, '/ui/my-requests'), requestKey: randomUUID(), [`serials-${lineId}`]: `SN-${tag}-9` });
  expect(requesterTries.status).toBe(403);

  // After a refusal the form has a new key: what is sent next is a new command.
  expect(requestKeyIn(alreadyKnown.html, `/ui/purchase-orders/${order}/receipts`)).not.toBe(requestKeyIn(page.html, `/ui/purchase-orders/${order}/receipts`));
  const recorded = await browse(desk, 'POST', `/ui/purchase-orders/${order}/receipts`, { csrf, requestKey: randomUUID(), [`serials-${lineId}`]: `SN-${tag}-1 SN-${tag}-2` });
  expect(recorded).toMatchObject({ status: 303, location: `/ui/purchase-requests/${number}?done=received#order-${order}` });
  const done = await eventually(async () => {
    const res = await browse(desk, 'GET', `/ui/purchase-requests/${number}`);
    return (res.html.match(/class="asset-state">in stock/g) ?? []).length === 2 ? res : undefined;
  });
  expect(textOf(done.html)).toContain(`SN-${tag}-1, SN-${tag}-2`);
});

it('records a delivery form sent twice (a double click) once, hardware and software alike, and shows no refusal', async () => {
  const db = stack.database.db;
  const { manager, code, agent } = await team(1_000_000);
  const seats = await softwareProduct(0);
  const { number, id } = await submitted(agent, {
    costCentre: code, currency: 'EUR', justification: 'Laptops and seats for the new team', [`qty-hw-${laptop}`]: '2', [`qty-sw-${seats.id}`]: '3',
  });
  const approval = await eventually(async () => (await db('approvals').where({ subject_id: id, approver_id: manager.id, state: 'requested' }).first()) ?? undefined);
  expect((await call(stack, manager.apiKey, 'POST', `/purchase-requests/${id}/approvals/${approval.id}/decision`, { decision: 'approved' })).status).toBe(200);
  const ordered = await eventually(async () => {
    const r = await apiDetail(id);
    return r.state === 'ordering' && r.orders.length ? r : undefined;
  });
  const order = ordered.orders[0].number as string;
  const lineOf = (description: string) => (ordered.lines as { id: string; description: string }[]).find((l) => l.description.includes(description))!.id;
  const hardwareLine = lineOf('ThinkPad Pages X1');
  const softwareLine = lineOf(seats.name);
  const action = `/ui/purchase-orders/${order}/receipts`;
  const desk = await signedIn(receiver);
  const receiptsOf = async () => Number((await db('receipts as r').join('purchase_orders as o', 'o.id', 'r.purchase_order_id').where('o.number', order).count({ n: '*' }))[0].n);

  // Part of the order: one laptop and two of the three seats, the form sent twice at once.
  const page = await browse(desk, 'GET', `/ui/purchase-requests/${number}`);
  const tag = Math.floor(Math.random() * 1e9);
  const form = { csrf: hiddenCsrf(page.html)!, requestKey: requestKeyIn(page.html, action)!, [`serials-${hardwareLine}`]: `TWICE-${tag}-1`, [`quantity-${softwareLine}`]: '2' };
  const [first, second] = await Promise.all([browse(desk, 'POST', action, form), browse(desk, 'POST', action, form)]);
  const received = `/ui/purchase-requests/${number}?done=received#order-${order}`;
  expect(first).toMatchObject({ status: 303, location: received });
  expect(second).toMatchObject({ status: 303, location: received });
  // And once more after both were answered: still the first outcome, not "already known" or "more than ordered".
  expect(await browse(desk, 'POST', action, form)).toMatchObject({ status: 303, location: received });
  expect(await receiptsOf()).toBe(2);
  expect(Number((await db('assets').where({ serial_number: `TWICE-${tag}-1` }).count({ n: '*' }))[0].n)).toBe(1);
  const after = await eventually(async () => {
    const r = await apiDetail(id);
    return r.orders[0].state === 'partially_received' ? r : undefined;
  });
  expect(after.receipts).toHaveLength(2);
  const shown = await browse(desk, 'GET', received.replace(/#.*/, ''));
  expect(shown.html).not.toContain('notice error');
  expect(textOf(shown.html)).toContain('1 of 3 still to come');
  expect(textOf(shown.html)).toContain('1 of 2 still to come');
});
