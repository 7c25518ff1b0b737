/**
 * The asset lifecycle through the HTTP API, down to the rows and the emails, on a real Temporal
 * dev server, a real Postgres and a real SMTP sink.
 */
import { bookValue } from '../domain/depreciation';
import { findAsset } from '../model/assets';
import { auditRows, createAsset, createCi, createPerson, installSoftware, relate, type TestPerson } from './support/fixtures';
import { call, startStack, type Stack } from './support/stack';

let stack: Stack;
let assetManager: TestPerson;
let requester: TestPerson;
let processOwner: TestPerson;

beforeAll(async () => {
  stack = await startStack();
  const db = stack.database.db;
  assetManager = await createPerson(db, ['asset_manager', 'requester'], 'Ada Asset');
  requester = await createPerson(db, ['requester'], 'Rita Requester');
  processOwner = await createPerson(db, ['process_owner'], 'Olga Owner');
});

afterAll(async () => {
  await stack?.stop();
});

const transition = (key: string | undefined, assetId: string, body: unknown) =>
  call(stack, key, 'POST', `/assets/${assetId}/transitions`, body);

/** What a refused request must leave behind: nothing. */
async function expectUntouched(assetId: string, before: { version: number; auditCount: number; emailCount: number }) {
  const db = stack.database.db;
  expect((await findAsset(db, assetId))!.version).toBe(before.version);
  expect(await auditRows(db, assetId)).toHaveLength(before.auditCount);
  expect(Number((await db('email_log').count({ n: '*' }))[0].n)).toBe(before.emailCount);
}

async function snapshot(assetId: string) {
  const db = stack.database.db;
  return {
    version: (await findAsset(db, assetId))!.version,
    auditCount: (await auditRows(db, assetId)).length,
    emailCount: Number((await db('email_log').count({ n: '*' }))[0].n),
  };
}

describe('moving an asset through its lifecycle', () => {
  it('deploys a laptop to a person and records the move in the row, the history and the audit log', async () => {
    const db = stack.database.db;
    const laptop = await createAsset(db, { state: 'in_stock', substate: 'available' });

    const res = await transition(assetManager.apiKey, laptop.assetTag, { toState: 'in_use', assignedToId: requester.id, note: 'new starter' });

    expect(res.status).toBe(200);
    expect(res.body.outcome).toMatchObject({ from: { state: 'in_stock', substate: 'available' }, to: { state: 'in_use', substate: null } });
    expect(res.body.asset).toMatchObject({ state: 'in_use', substate: null, assignedToId: requester.id, version: 1 });
    const [audit] = await auditRows(db, laptop.id);
    expect(audit).toMatchObject({ action: 'transition', actor: assetManager.email, from_state: 'in_stock/available', to_state: 'in_use' });
    expect(audit.details.note).toBe('new starter');

    const detail = await call(stack, assetManager.apiKey, 'GET', `/assets/${laptop.id}`);
    expect(detail.status).toBe(200);
    expect(detail.body.history.map((h: { action: string }) => h.action)).toEqual(['transition']);
    expect(detail.body.assignedTo).toMatchObject({ id: requester.id, name: 'Rita Requester' });
  });

  it('retiring a lost laptop reclaims its licences, records its book value and emails security once', async () => {
    const db = stack.database.db;
    const manager = await createPerson(db, ['asset_manager'], 'Mona Manager');
    const laptop = await createAsset(db, {
      state: 'in_use', assignedToId: requester.id, managedById: manager.id,
      purchaseCostMinor: 180_000, purchaseDate: '2025-03-10', usefulLifeMonths: 36, salvageValueMinor: 10_000,
    });
    const productId = await installSoftware(db, laptop.id, 1, 2);
    const before = await call(stack, processOwner.apiKey, 'GET', `/entitlements?product=${productId}`);
    expect(before.body.items[0].compliance).toMatchObject({ position: 'over_deployed', consumedUnits: 2, shortfallUnits: 1, trueUpCostMinor: 24_000 });

    const res = await transition(assetManager.apiKey, laptop.id, { toState: 'retired', toSubstate: 'lost', note: 'left on a train' });

    expect(res.status).toBe(200);
    expect(res.body.outcome).toMatchObject({ reclaimedConsumptions: 2, securityNoticeSent: true });
    const retired = (await findAsset(db, laptop.id))!;
    expect(retired).toMatchObject({ state: 'retired', substate: 'lost', assignedToId: null });
    const expectedBookValue = bookValue({
      method: 'straight_line', costMinor: 180_000, salvageMinor: 10_000, usefulLifeMonths: 36,
      purchaseDate: '2025-03-10', onDate: retired.retiredAt!.slice(0, 10),
    });
    expect(retired.retirementBookValueMinor).toBe(expectedBookValue);
    expect(res.body.outcome.bookValueMinor).toBe(expectedBookValue);

    const after = await call(stack, processOwner.apiKey, 'GET', `/entitlements?product=${productId}`);
    expect(after.body.items[0].compliance).toMatchObject({ position: 'under_used', consumedUnits: 0, spareUnits: 1 });
    const consumptions = await db('software_consumptions').where({ asset_id: laptop.id });
    expect(consumptions.every((c) => c.reclaimed_at !== null)).toBe(true);

    const audit = await auditRows(db, laptop.id);
    expect(audit.map((a) => a.action)).toEqual(['transition', 'licences_reclaimed', 'book_value_recorded', 'security_notice_sent']);

    const mail = await stack.sink.waitFor((m) => m.subject.includes(laptop.assetTag));
    expect(mail.subject).toBe(`Security notice: ${laptop.assetTag} reported lost`);
    expect(mail.to.sort()).toEqual([manager.email, stack.securityNoticeEmail].sort());
    expect(mail.text).toContain('Rita Requester');
    expect(stack.sink.messages().filter((m) => m.subject.includes(laptop.assetTag))).toHaveLength(1);
    expect(await db('email_log').where({ subject_id: laptop.id })).toHaveLength(1);
  });

  it('disposes of an asset only with a data-wipe attestation, and keeps the attestation', async () => {
    const db = stack.database.db;
    const desktop = await createAsset(db, { state: 'in_stock', substate: 'pending_disposal' });
    const before = await snapshot(desktop.id);

    const refused = await transition(assetManager.apiKey, desktop.id, { toState: 'retired', toSubstate: 'disposed' });
    expect(refused.status).toBe(409);
    expect(refused.body.error).toMatchObject({ code: 'transition_refused', details: { rule: 'disposal_needs_data_wipe_attestation' } });
    await expectUntouched(desktop.id, before);

    const attestation = { performedBy: 'WipeCo B.V.', performedAt: '2026-11-20T10:00:00Z', method: 'NIST 800-88 purge', certificateId: 'WC-2026-0042' };
    const done = await transition(assetManager.apiKey, desktop.id, { toState: 'retired', toSubstate: 'disposed', dataWipeAttestation: attestation });
    expect(done.status).toBe(200);
    expect((await findAsset(db, desktop.id))!.disposalAttestation).toEqual(attestation);
    const [audit] = await auditRows(db, desktop.id);
    expect(audit.details.dataWipeAttestation).toEqual(attestation);
  });

  it('puts a server into use without an assignee when it backs a configuration item', async () => {
    const db = stack.database.db;
    const server = await createAsset(db, { state: 'in_stock', substate: 'pending_install' });
    await createCi(db, { name: 'db-prod-07', assetId: server.id, operationalStatus: 'non_operational' });

    const res = await transition(assetManager.apiKey, server.id, { toState: 'in_use' });
    expect(res.status).toBe(200);
    expect(res.body.asset).toMatchObject({ state: 'in_use', assignedToId: null });
  });

  it('runs transitions on one asset one at a time', async () => {
    const db = stack.database.db;
    const spare = await createAsset(db, { state: 'in_stock', substate: 'available' });
    const substates = ['reserved', 'defective', 'pending_install', 'pending_disposal'];

    const results = await Promise.all(substates.map((toSubstate) => transition(assetManager.apiKey, spare.id, { toState: 'in_stock', toSubstate })));

    expect(results.map((r) => r.status)).toEqual([200, 200, 200, 200]);
    const moves = await auditRows(db, spare.id);
    expect(moves).toHaveLength(4);
    // Each move starts where the previous one ended: no two ran on the same starting state.
    moves.slice(1).forEach((move, i) => expect(move.from_state).toBe(moves[i].to_state));
    expect((await findAsset(db, spare.id))!.version).toBe(4);
  });

  it('makes a repeated request with the same Idempotency-Key once', async () => {
    const db = stack.database.db;
    const laptop = await createAsset(db, { state: 'in_stock', substate: 'available' });
    const send = () =>
      fetch(`${stack.baseUrl}/assets/${laptop.id}/transitions`, {
        method: 'POST',
        headers: { authorization: `Bearer ${assetManager.apiKey}`, 'content-type': 'application/json', 'idempotency-key': `retry-${laptop.id}` },
        body: JSON.stringify({ toState: 'in_stock', toSubstate: 'reserved' }),
      });
    const first = await send();
    const second = await send();
    expect([first.status, second.status]).toEqual([200, 200]);
    expect(await auditRows(db, laptop.id)).toHaveLength(1);
  });
});

describe('refusals say why and leave no trace', () => {
  it.each([
    ['a move the table forbids', { state: 'on_order', substate: null }, { toState: 'in_maintenance' }, 'transition_not_allowed'],
    ['a move to the state it is in', { state: 'in_stock', substate: 'available' }, { toState: 'in_stock', toSubstate: 'available' }, 'no_change'],
    ['in stock without a substate', { state: 'in_use', substate: null }, { toState: 'in_stock' }, 'substate_required'],
    ['in use with nobody and nothing to serve', { state: 'in_stock', substate: 'available' }, { toState: 'in_use' }, 'in_use_needs_assignee_or_ci'],
    ['a missing asset retired as sold', { state: 'missing', substate: null }, { toState: 'retired', toSubstate: 'sold' }, 'retirement_reason_not_allowed'],
    ['a substate of another state', { state: 'in_stock', substate: 'available' }, { toState: 'in_maintenance', toSubstate: 'defective' }, 'substate_invalid'],
    ['an order retired as anything but returned', { state: 'on_order', substate: null }, { toState: 'retired', toSubstate: 'sold' }, 'retirement_reason_not_allowed'],
  ] as const)('refuses %s with 409 naming the rule', async (_case, from, body, rule) => {
    const asset = await createAsset(stack.database.db, from);
    const before = await snapshot(asset.id);

    const res = await transition(assetManager.apiKey, asset.id, body);

    expect(res.status).toBe(409);
    expect(res.body.error).toMatchObject({ code: 'transition_refused', details: { rule } });
    expect(res.body.error.message).toEqual(expect.any(String));
    await expectUntouched(asset.id, before);
  });

  it('refuses to retire a server that operational CIs still run on, naming them', async () => {
    const db = stack.database.db;
    const server = await createAsset(db, { state: 'in_use', assignedToId: null });
    const host = await createCi(db, { name: 'esx-host-12', assetId: server.id });
    const app = await createCi(db, { name: 'payroll-app', ciClass: 'application' });
    await relate(db, app.id, 'runs_on', host.id);
    const before = await snapshot(server.id);

    const res = await transition(assetManager.apiKey, server.id, { toState: 'retired', toSubstate: 'sold' });

    expect(res.status).toBe(409);
    expect(res.body.error.details.rule).toBe('retire_with_operational_ci');
    expect(res.body.error.message).toContain(`${app.number} payroll-app`);
    expect(res.body.error.message).toContain(`${host.number} esx-host-12`);
    await expectUntouched(server.id, before);
  });

  it('refuses a retired asset any further move', async () => {
    const asset = await createAsset(stack.database.db, { state: 'in_stock', substate: 'available' });
    expect((await transition(assetManager.apiKey, asset.id, { toState: 'retired', toSubstate: 'donated' })).status).toBe(200);
    const res = await transition(assetManager.apiKey, asset.id, { toState: 'in_stock', toSubstate: 'available' });
    expect(res.status).toBe(409);
    expect(res.body.error.details.rule).toBe('transition_not_allowed');
  });

  it.each([
    ['an unknown state', { toState: 'borrowed' }, 'toState'],
    ['an unknown field', { toState: 'in_use', colour: 'red' }, ''],
    ['an assignee that is not a uuid', { toState: 'in_use', assignedToId: 'bob' }, 'assignedToId'],
    ['an attestation without a certificate', { toState: 'retired', toSubstate: 'disposed', dataWipeAttestation: { performedBy: 'x', performedAt: '2026-01-01T00:00:00Z', method: 'shred' } }, 'dataWipeAttestation.certificateId'],
  ])('answers 400 with the error shape for %s, writing nothing', async (_case, body, path) => {
    const asset = await createAsset(stack.database.db);
    const before = await snapshot(asset.id);

    const res = await transition(assetManager.apiKey, asset.id, body);

    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe('invalid_input');
    expect(res.body.error.details).toEqual(expect.arrayContaining([expect.objectContaining({ path })]));
    await expectUntouched(asset.id, before);
  });

  it('refuses to assign a person to an asset that is not moving into use', async () => {
    const asset = await createAsset(stack.database.db, { state: 'in_stock', substate: 'available' });
    const before = await snapshot(asset.id);
    const res = await transition(assetManager.apiKey, asset.id, { toState: 'in_maintenance', assignedToId: requester.id });
    expect(res.status).toBe(409);
    expect(res.body.error.details.rule).toBe('assignee_only_in_use');
    await expectUntouched(asset.id, before);
  });

  it('answers 400 for a body that is not JSON and for an assignee nobody is', async () => {
    const asset = await createAsset(stack.database.db);
    const before = await snapshot(asset.id);
    const notJson = await transition(assetManager.apiKey, asset.id, '{"toState": ');
    expect(notJson.status).toBe(400);
    expect(notJson.body.error.code).toBe('invalid_json');
    const nobody = await transition(assetManager.apiKey, asset.id, { toState: 'in_use', assignedToId: '00000000-0000-4000-8000-000000000000' });
    expect(nobody.status).toBe(400);
    expect(nobody.body.error.message).toContain('no active person');
    await expectUntouched(asset.id, before);
  });

  it('answers 401 without a valid key, 403 for the wrong role and 404 for an unknown asset', async () => {
    const asset = await createAsset(stack.database.db);
    const before = await snapshot(asset.id);
    const body = { toState: 'in_stock', toSubstate: 'reserved' };

    expect((await transition(undefined, asset.id, body)).status).toBe(401);
    const badKey = await transition('af_not-a-key', asset.id, body);
    expect(badKey.status).toBe(401);
    expect(badKey.body.error.code).toBe('unauthenticated');
    const wrongRole = await transition(requester.apiKey, asset.id, body);
    expect(wrongRole.status).toBe(403);
    expect(wrongRole.body.error).toMatchObject({ code: 'forbidden', message: expect.stringContaining('asset_manager') });
    expect((await transition(assetManager.apiKey, 'AST9999999', body)).status).toBe(404);
    await expectUntouched(asset.id, before);
  });
});

describe('reading the model', () => {
  it('shows requesters only their own assets, and overseers all of them', async () => {
    const db = stack.database.db;
    const mine = await createAsset(db, { state: 'in_use', assignedToId: requester.id });
    const notMine = await createAsset(db, { state: 'in_use', assignedToId: processOwner.id });

    const asRequester = await call(stack, requester.apiKey, 'GET', '/assets?limit=200');
    expect(asRequester.status).toBe(200);
    expect(asRequester.body.items.every((a: { assignedToId: string }) => a.assignedToId === requester.id)).toBe(true);
    expect(asRequester.body.items.map((a: { id: string }) => a.id)).toContain(mine.id);
    expect((await call(stack, requester.apiKey, 'GET', `/assets/${notMine.id}`)).status).toBe(403);

    const asOwner = await call(stack, processOwner.apiKey, 'GET', `/assets?state=in_use&limit=200`);
    expect(asOwner.body.items.map((a: { id: string }) => a.id)).toEqual(expect.arrayContaining([mine.id, notMine.id]));
    expect(asOwner.body.page).toMatchObject({ limit: 200, offset: 0, total: expect.any(Number) });
  });

  it('pages and filters assets, CIs, people, entitlements and contracts', async () => {
    const db = stack.database.db;
    for (let i = 0; i < 3; i++) await createAsset(db, { state: 'in_maintenance', substate: null });
    const page1 = await call(stack, processOwner.apiKey, 'GET', '/assets?state=in_maintenance&limit=2');
    const page2 = await call(stack, processOwner.apiKey, 'GET', '/assets?state=in_maintenance&limit=2&offset=2');
    expect(page1.body.items).toHaveLength(2);
    expect(page1.body.page.total).toBeGreaterThanOrEqual(3);
    expect(page2.body.items.map((a: { id: string }) => a.id)).not.toContain(page1.body.items[0].id);

    await createCi(db, { name: 'orders-api', ciClass: 'application' });
    const cis = await call(stack, requester.apiKey, 'GET', '/cis?ciClass=application&q=orders');
    expect(cis.body.items.map((c: { name: string }) => c.name)).toContain('orders-api');

    const people = await call(stack, requester.apiKey, 'GET', '/people?role=process_owner');
    expect(people.body.items.map((p: { email: string }) => p.email)).toEqual([processOwner.email]);

    expect((await call(stack, requester.apiKey, 'GET', '/entitlements')).status).toBe(403);
    expect((await call(stack, processOwner.apiKey, 'GET', '/contracts?kind=lease')).status).toBe(200);
    const badLimit = await call(stack, processOwner.apiKey, 'GET', '/assets?limit=5000');
    expect(badLimit.status).toBe(400);
    expect(badLimit.body.error.details[0].path).toBe('limit');
  });

  it('reports Postgres and Temporal up, and publishes the OpenAPI document', async () => {
    const health = await call(stack, undefined, 'GET', '/healthz');
    expect(health).toMatchObject({ status: 200, body: { status: 'ok', postgres: { status: 'up' }, temporal: { status: 'up' } } });

    const openApi = await call(stack, undefined, 'GET', '/openapi.json');
    const transitionOp = openApi.body.paths['/assets/{id}/transitions'].post;
    expect(transitionOp.requestBody.content['application/json'].schema.properties.toState.enum).toContain('retired');
    expect(Object.keys(transitionOp.responses)).toEqual(expect.arrayContaining(['200', '400', '403', '404', '409']));
    const docs = await fetch(`${stack.baseUrl}/docs/`);
    expect(docs.status).toBe(200);
    expect(await docs.text()).toContain('swagger-ui');
  });

  it('answers unknown routes with the error shape', async () => {
    const res = await call(stack, undefined, 'GET', '/nowhere');
    expect(res).toMatchObject({ status: 404, body: { error: { code: 'not_found' } } });
  });
});
