/**
 * Optimisation findings on the real stack: a finding of every kind from this file's own records with
 * its amount, a scan run twice that keeps one finding per subject, acting on findings (the process
 * started shows in GET /processes), acting again, an action that did not do it (open again, acted on
 * anew) or did (resolved), a stale finding, spare seats with nothing to reclaim, and dismissing.
 */
import { randomBytes } from 'node:crypto';
import { bookValue } from '../domain/depreciation';
import { call, send, startStack, type Stack } from './support/stack';
import { createAsset, createCi, createCostCentre, createPerson, createVendor, eventually, relate, type TestPerson } from './support/fixtures';
import { unownedCloudCosts } from '../model/findings';
import { browse, hiddenCsrf, signInWithKey, webAgent } from './support/web-agent';
import { recordHistory } from './support/histories';

const unique = () => randomBytes(4).toString('hex');
const DAY = 86_400_000;
const dateOf = (ms: number) => new Date(ms).toISOString().slice(0, 10);

let stack: Stack;
let owner: TestPerson;
let otherOwner: TestPerson;
let manager: TestPerson;
const asOf = new Date().toISOString();
const now = Date.parse(asOf);

/** What this file created, by kind: the subject each finding must be about. */
const subjects: Record<string, string> = {};
const expected: Record<string, { amountMinor: number; currency: string }> = {};
let unusedCiId: string;
let overDeployedProduct: string;
let spareProduct: string;
let deployedSinceScan: string;

beforeAll(async () => {
  stack = await startStack();
  const db = stack.database.db;
  owner = await createPerson(db, ['process_owner'], 'Olive Owner');
  otherOwner = await createPerson(db, ['process_owner'], 'Otto Owner');
  manager = await createPerson(db, ['asset_manager'], 'Manny Manager');

  // Unused: 5 seats for a year (12,000.00), 2 installed 200 days ago, one of them on a device in stock.
  const [{ id: product }] = await db('software_products')
    .insert({ publisher: 'Figma', name: `Figma ${unique()}`, licence_metric: 'per_device', unit_price_minor: 30_000, currency: 'EUR' }).returning('id');
  const startsOn = dateOf(now - 200 * DAY);
  await db('software_entitlements')
    .insert({ product_id: product, metric: 'per_device', quantity: 5, starts_on: startsOn, ends_on: dateOf(Date.parse(startsOn) + 364 * DAY), cost_minor: 1_200_000, currency: 'EUR' });
  const inUse = await createAsset(db, { state: 'in_use' });
  const inStock = await createAsset(db, { state: 'in_stock' });
  const inUseCi = await createCi(db, { ciClass: 'computer', assetId: inUse.id });
  const inStockCi = await createCi(db, { ciClass: 'computer', assetId: inStock.id });
  unusedCiId = inStockCi.id;
  const installedAt = new Date(now - 200 * DAY);
  await db('software_consumptions').insert([
    { product_id: product, kind: 'installation', ci_id: inUseCi.id, installed_at: installedAt },
    { product_id: product, kind: 'installation', ci_id: inStockCi.id, installed_at: installedAt },
  ]);
  // One finding per product, whatever its entitlements.
  subjects.unused_entitlement = product;
  // 5 entitled, 1 really used: 4 seats at 2,400.00 a year.
  expected.unused_entitlement = { amountMinor: 960_000, currency: 'EUR' };

  // Over-deployed: 1 seat, 3 installs on an in-use device at 240.00 a unit.
  const busy = await createAsset(db, { state: 'in_use' });
  await createCi(db, { ciClass: 'computer', assetId: busy.id });
  const [{ id: overProduct }] = await db('software_products')
    .insert({ publisher: 'Adobe', name: `Acrobat Pro ${unique()}`, licence_metric: 'per_device', unit_price_minor: 24_000, currency: 'EUR' }).returning('id');
  await db('software_entitlements').insert({ product_id: overProduct, metric: 'per_device', quantity: 1, starts_on: '2025-01-01', currency: 'EUR' });
  await db('software_consumptions').insert([1, 2, 3].map(() => ({ product_id: overProduct, kind: 'installation', asset_id: busy.id })));
  subjects.over_deployment = overProduct;
  overDeployedProduct = overProduct;

  // Spare seats nobody holds (nothing to reclaim): 3 seats bought 200 days ago, never installed.
  const [{ id: spare }] = await db('software_products')
    .insert({ publisher: 'Miro', name: `Miro ${unique()}`, licence_metric: 'per_user', unit_price_minor: 10_000, currency: 'EUR' }).returning('id');
  await db('software_entitlements').insert({ product_id: spare, metric: 'per_user', quantity: 3, starts_on: startsOn, currency: 'EUR' });
  spareProduct = spare;

  // Idle in stock for 100 days, deployed since the scan: acting on its finding must not move it.
  const deployed = await createAsset(db, { state: 'in_stock', purchaseCostMinor: 90_000, purchaseDate: '2025-03-01', usefulLifeMonths: 36 });
  await db('processes').where({ subject_id: deployed.id }).update({ state_entered_at: new Date(now - 100 * DAY) });
  deployedSinceScan = deployed.id;
  expected.over_deployment = { amountMinor: 48_000, currency: 'EUR' };

  // Idle: in stock for 100 days, as its lifecycle's process row says.
  const idle = await createAsset(db, { state: 'in_stock', purchaseCostMinor: 120_000, purchaseDate: '2025-01-15', usefulLifeMonths: 36 });
  await db('processes').where({ subject_id: idle.id }).update({ state_entered_at: new Date(now - 100 * DAY) });
  subjects.idle_in_stock = idle.id;
  expected.idle_in_stock = {
    amountMinor: bookValue({ method: 'straight_line', costMinor: 120_000, salvageMinor: 0, usefulLifeMonths: 36, purchaseDate: '2025-01-15', onDate: asOf.slice(0, 10) }),
    currency: 'EUR',
  };

  // Past warranty, behind a tier-1 service two steps up the service map; its model lists at 1,450.00.
  const old = await createAsset(db, { state: 'in_use', warrantyEnd: '2025-06-30' });
  const server = await createCi(db, { ciClass: 'server', assetId: old.id });
  const app = await createCi(db, { ciClass: 'application' });
  const service = await createCi(db, { ciClass: 'business_service', criticality: 'tier_1', name: `Payments ${unique()}` });
  await relate(db, app.id, 'depends_on', server.id);
  await relate(db, service.id, 'depends_on', app.id);
  subjects.past_warranty_tier1 = old.id;
  expected.past_warranty_tier1 = { amountMinor: 145_000, currency: 'EUR' };

  // A contract ending in 30 days with 60 days' notice.
  const vendorId = await createVendor(db, `Contoso ${unique()}`);
  const [{ id: contractId }] = await db('contracts')
    .insert({ vendor_id: vendorId, kind: 'support', title: 'Support', starts_on: dateOf(now - 335 * DAY), ends_on: dateOf(now + 30 * DAY), value_minor: 500_000, currency: 'EUR', renewal_notice_days: 60 })
    .returning('id');
  subjects.contract_renewal_due = contractId;
  expected.contract_renewal_due = { amountMinor: 500_000, currency: 'EUR' };

  // Cloud cost of a resource nobody owns: 12.128356 USD in the last 30 days, 12.13 as a finding.
  const bucket = await createCi(db, { ciClass: 'cloud_resource', name: `bucket-${unique()}` });
  const [{ id: importId }] = await db('cost_imports')
    .insert({ file_name: 'focus.csv', file_sha256: randomBytes(32).toString('hex'), file_bytes: 100, format: 'csv', state: 'completed' }).returning('id');
  const charged = new Date(now - 5 * DAY);
  await db('cost_records').insert(['10.123456', '2.0049'].map((cost, i) => ({
    source_key: `findings-test:${unique()}:${i}`, billing_period_start: charged, billing_period_end: new Date(now), charge_period_start: charged,
    charge_period_end: new Date(charged.getTime() + DAY), charge_category: 'Usage', provider_name: 'AWS', service_name: 'Amazon S3',
    billed_cost: cost, effective_cost: cost, billing_currency: 'USD', ci_id: bucket.id, cost_import_id: importId,
  })));
  // A resource nobody owns whose cost a tag allocated to a cost centre: someone answers for it.
  const tagged = await createCi(db, { ciClass: 'cloud_resource', name: `queue-${unique()}` });
  const costCentreId = await createCostCentre(db, `CC-${unique()}`, 'Tagged', null);
  await db('cost_records').insert({
    source_key: `findings-test:${unique()}:tagged`, billing_period_start: charged, billing_period_end: new Date(now), charge_period_start: charged,
    charge_period_end: new Date(charged.getTime() + DAY), charge_category: 'Usage', provider_name: 'AWS', service_name: 'Amazon SQS',
    billed_cost: '5.5', effective_cost: '5.5', billing_currency: 'USD', ci_id: tagged.id, cost_import_id: importId, cost_centre_id: costCentreId,
  });
  subjects.unowned_cloud_cost = bucket.id;
  expected.unowned_cloud_cost = { amountMinor: 1213, currency: 'USD' };
});

afterAll(async () => {
  await stack?.stop();
});

const scan = () => call(stack, owner.apiKey, 'POST', '/finops/findings/scan', { asOf });

interface FindingBody {
  number: string; subjectId: string; state: string; amountMinor: number; currency: string; details: Record<string, any>;
  actionWorkflowId: string | null; actionRef: string | null; closingNote: string | null;
}

/** The latest finding of a kind about a subject (this file's own, whatever else the database holds), as the API reads it. */
async function findingAbout(kind: string, subjectId: string): Promise<FindingBody | undefined> {
  const row = await stack.database.db('optimisation_findings').where({ kind, subject_id: subjectId }).orderBy('found_at', 'desc').orderBy('number', 'desc').first('number');
  if (!row) return undefined;
  const { status, body } = await call(stack, owner.apiKey, 'GET', `/finops/findings/${row.number}`);
  expect(status).toBe(200);
  return body;
}

const findingOf = (kind: string) => findingAbout(kind, subjects[kind]);

it('finds each kind from its own records with its saving or exposure, and a second scan keeps one finding per subject', async () => {
  const first = await scan();
  expect(first.status).toBe(200);
  expect(Object.keys(first.body.byKind).sort()).toEqual(Object.keys(subjects).sort());

  for (const kind of Object.keys(subjects)) {
    const finding = await findingOf(kind);
    expect({ kind, state: finding?.state, amountMinor: finding?.amountMinor, currency: finding?.currency })
      .toEqual({ kind, state: 'open', ...expected[kind] });
  }

  const second = await scan();
  expect(second.status).toBe(200);
  if (process.env.RECORD_HISTORIES) {
    await stack.env.client.workflow.execute('findingsScanWorkflow', { taskQueue: stack.taskQueue, workflowId: 'findings-scan-recorded', args: [{ asOf }] });
    await recordHistory(stack.env.client, 'findings-scan-recorded', 'findings-scan-one-run.json');
  }
  const db = stack.database.db;
  for (const [kind, subjectId] of Object.entries(subjects)) {
    expect([kind, Number((await db('optimisation_findings').where({ kind, subject_id: subjectId }).count({ n: '*' }))[0].n)]).toEqual([kind, 1]);
  }

  const list = await call(stack, manager.apiKey, 'GET', '/finops/findings?state=open');
  expect(list.body.totals).toEqual(expect.arrayContaining([expect.objectContaining({ state: 'open', currency: 'USD', effect: 'exposure' })]));

  // COBIT DSS05 reads the same rule: this database's only cloud cost with no owner is the bucket's, to the last decimal place.
  const dss05 = await call(stack, manager.apiKey, 'GET', '/cobit/evidence/dss05');
  expect(dss05.body.sections.find((section: { key: string }) => section.key === 'unowned_cloud_cost').rows).toEqual([{ currency: 'USD', resources: 1, effectiveCost: '12.128356' }]);
  // The window counts back from the latest charge imported: a scan weeks after the last bill still sees its month.
  const { rows: later } = await db.raw('SELECT * FROM (?) AS u', [unownedCloudCosts(db, new Date(now + 40 * DAY))]);
  expect(later.map((r: { id: string; cost: string }) => [r.id, r.cost])).toEqual([[subjects.unowned_cloud_cost, '12.128356']]);

  // Products: one unused finding with its entitlement in the details; none for the over-deployed one.
  expect((await findingOf('unused_entitlement'))!.details.entitlements).toEqual([expect.objectContaining({ units: 4, quantity: 5, savingMinor: '960000' })]);
  expect(await findingAbout('unused_entitlement', overDeployedProduct)).toBeUndefined();
});

it('acts on a finding with one call: its process starts and shows in the process list, and acting again answers the same', async () => {
  const db = stack.database.db;
  const unused = (await findingOf('unused_entitlement'))!;
  const acted = await send(stack, owner.apiKey, 'POST', `/finops/findings/${unused.number}/act`, { headers: { 'idempotency-key': `act-${unique()}` } });
  expect(acted.status).toBe(201);
  expect(acted.body.finding.state).toBe('acted');
  expect(acted.body.action).toEqual({ process: 'change', workflowId: expect.stringMatching(/^change:CHG/), ref: expect.stringMatching(/^CHG/) });
  const processes = await call(stack, owner.apiKey, 'GET', `/processes?q=${acted.body.action.ref}`);
  expect(processes.body.items.map((p: { workflowId: string }) => p.workflowId)).toEqual([acted.body.action.workflowId]);
  const change = await db('change_requests').where({ number: acted.body.action.ref }).first('id');
  expect(await db('change_affected_cis').where({ change_request_id: change.id }).pluck('ci_id')).toEqual([unusedCiId]);
  // The device in stock's install is reclaimed by the change.
  expect(await db('change_licence_changes').where({ change_request_id: change.id }).first('installs_added', 'installs_removed')).toEqual({ installs_added: 0, installs_removed: 1 });

  const again = await call(stack, owner.apiKey, 'POST', `/finops/findings/${unused.number}/act`);
  expect(again.status).toBe(200);
  expect(again.body.action).toEqual(acted.body.action);

  const idle = (await findingOf('idle_in_stock'))!;
  const retired = await call(stack, owner.apiKey, 'POST', `/finops/findings/${idle.number}/act`);
  expect(retired.status).toBe(201);
  expect(retired.body.action).toMatchObject({ process: 'asset_lifecycle', workflowId: `asset:${retired.body.action.ref}` });
  expect((await db('assets').where({ id: subjects.idle_in_stock }).first('substate')).substate).toBe('pending_disposal');
  const assetProcesses = await call(stack, owner.apiKey, 'GET', `/processes?q=${retired.body.action.ref}`);
  expect(assetProcesses.body.items.map((p: { workflowId: string }) => p.workflowId)).toEqual([retired.body.action.workflowId]);

  const cloud = (await findingOf('unowned_cloud_cost'))!;
  const cloudChange = await call(stack, owner.apiKey, 'POST', `/finops/findings/${cloud.number}/act`);
  expect(cloudChange.status).toBe(201);
  await eventually(async () => (await call(stack, owner.apiKey, 'GET', `/processes?q=${cloudChange.body.action.ref}`)).body.items.length === 1);

  const renewal = (await findingOf('contract_renewal_due'))!;
  const decision = await call(stack, owner.apiKey, 'POST', `/finops/findings/${renewal.number}/act`);
  expect(decision.status).toBe(201);
  expect(decision.body.action).toMatchObject({ process: 'renewal', ref: expect.stringMatching(/^RNW/) });
  await eventually(async () => (await call(stack, owner.apiKey, 'GET', `/processes?q=${decision.body.action.ref}`)).body.items.length === 1);

  // Acted findings stay acted (never a second finding) when the next scan finds them again.
  await scan();
  expect((await findingOf('unused_entitlement'))).toMatchObject({ state: 'acted', actionRef: acted.body.action.ref });
});

it('opens a finding again when its change did not do it, so acting anew starts a new change; resolves one whose retirement went through', async () => {
  const db = stack.database.db;
  const unused = (await findingOf('unused_entitlement'))!;
  expect(unused.state).toBe('acted');
  expect((await call(stack, owner.apiKey, 'POST', `/changes/${unused.actionRef}/cancel`, { reason: 'done by hand' })).status).toBe(200);
  await eventually(async () => (await db('processes').where({ workflow_id: unused.actionWorkflowId }).first('outcome'))?.outcome === 'cancelled');
  // Another process owner acts on it: a new change, the cancelled one kept in its past actions.
  const anew = await call(stack, otherOwner.apiKey, 'POST', `/finops/findings/${unused.number}/act`);
  expect(anew.status).toBe(201);
  expect(anew.body.action.ref).not.toBe(unused.actionRef);
  expect(anew.body.finding).toMatchObject({ number: unused.number, state: 'acted', actionRef: anew.body.action.ref });
  expect(anew.body.finding.details.pastActions).toEqual([expect.objectContaining({ ref: unused.actionRef, endedAs: 'cancelled' })]);

  // The scan settles the others: the cloud change cancelled gives its finding back; the retirement went through.
  const cloud = (await findingOf('unowned_cloud_cost'))!;
  expect((await call(stack, owner.apiKey, 'POST', `/changes/${cloud.actionRef}/cancel`, { reason: 'owner found' })).status).toBe(200);
  await eventually(async () => (await db('processes').where({ workflow_id: cloud.actionWorkflowId }).first('outcome'))?.outcome === 'cancelled');
  const settled = await scan();
  expect(settled.body.byKind.unowned_cloud_cost.reopened).toBeGreaterThanOrEqual(1);
  expect(await findingOf('unowned_cloud_cost')).toMatchObject({ number: cloud.number, state: 'open', actionWorkflowId: null });
  expect(await findingOf('idle_in_stock')).toMatchObject({ state: 'resolved', closingNote: expect.stringMatching(/pending_disposal/) });
  expect(await db('optimisation_findings').where({ kind: 'idle_in_stock', subject_id: subjects.idle_in_stock }).pluck('state')).toEqual(['resolved']);
  // The renewal decision and the new change still run: their findings stay acted.
  expect(await findingOf('contract_renewal_due')).toMatchObject({ state: 'acted' });
  expect(await findingOf('unused_entitlement')).toMatchObject({ state: 'acted', actionRef: anew.body.action.ref });
});

it('refuses to retire an asset deployed since the scan, and resolves its finding', async () => {
  const db = stack.database.db;
  const finding = (await findingAbout('idle_in_stock', deployedSinceScan))!;
  expect(finding.state).toBe('open');
  await db('assets').where({ id: deployedSinceScan }).update({ state: 'in_use', substate: null });
  const refused = await call(stack, owner.apiKey, 'POST', `/finops/findings/${finding.number}/act`);
  expect(refused.status).toBe(409);
  expect(refused.body.error.message).toMatch(/no longer idle in stock \(it is in_use\)/);
  expect(await db('assets').where({ id: deployedSinceScan }).first('state', 'substate')).toEqual({ state: 'in_use', substate: null });
  expect(await findingAbout('idle_in_stock', deployedSinceScan)).toMatchObject({ state: 'resolved', actionWorkflowId: null });
});

it('acts on spare seats nobody holds with a change naming no record, one change however many ask at once', async () => {
  const db = stack.database.db;
  const spare = (await findingAbout('unused_entitlement', spareProduct))!;
  // 3 seats without a cost, at the product's unit price.
  expect(spare).toMatchObject({ state: 'open', amountMinor: 30_000, currency: 'EUR' });
  const answers = await Promise.all([owner, otherOwner, owner, otherOwner].map((p) => call(stack, p.apiKey, 'POST', `/finops/findings/${spare.number}/act`)));
  expect(answers.map((a) => a.status).sort()).toEqual([200, 200, 200, 201]);
  const refs = [...new Set(answers.map((a) => a.body.action.ref))];
  expect(refs).toHaveLength(1);
  const change = await db('change_requests').where({ number: refs[0] }).first('id', 'title', 'description');
  expect(change.title).toMatch(/^Reduce the entitlements of Miro .* by 3 seats at renewal$/);
  expect(change.description).toMatch(/ENT\d+: 3 of 3 seats not used, perpetual/);
  expect(await db('change_affected_cis').where({ change_request_id: change.id }).pluck('ci_id')).toEqual([]);
  expect(await db('change_requests').whereLike('description', `%${spare.number}%`).pluck('number')).toEqual(refs);
});

it('dismisses an open finding with its reason, and the scan does not raise it again', async () => {
  const warranty = (await findingOf('past_warranty_tier1'))!;
  expect((await call(stack, manager.apiKey, 'POST', `/finops/findings/${warranty.number}/dismiss`, { reason: 'replaced next month' })).status).toBe(403);
  const dismissed = await call(stack, owner.apiKey, 'POST', `/finops/findings/${warranty.number}/dismiss`, { reason: 'replaced next month' });
  expect(dismissed.status).toBe(200);
  expect(dismissed.body).toMatchObject({ state: 'dismissed', closingNote: 'replaced next month' });
  expect((await call(stack, owner.apiKey, 'POST', `/finops/findings/${warranty.number}/dismiss`, { reason: 'again' })).status).toBe(409);
  expect((await call(stack, owner.apiKey, 'POST', `/finops/findings/${warranty.number}/act`)).status).toBe(409);

  await scan();
  const db = stack.database.db;
  expect(await db('optimisation_findings').where({ kind: 'past_warranty_tier1', subject_id: subjects.past_warranty_tier1 }).pluck('state')).toEqual(['dismissed']);
});

it('shows the findings with their totals on the page, and a process owner acts on one with its form', async () => {
  const agent = webAgent(stack.baseUrl);
  await signInWithKey(agent, owner.apiKey);
  const page = await browse(agent, 'GET', '/ui/finops/findings?kind=over_deployment');
  expect(page.status).toBe(200);
  const over = (await findingOf('over_deployment'))!;
  expect(page.html).toContain(`id="finding-${over.number}"`);
  expect(page.html).toContain('EUR 480.00');

  const form = { csrf: hiddenCsrf(page.html)!, commandId: crypto.randomUUID() };
  const acted = await browse(agent, 'POST', `/ui/finops/findings/${over.number}/act`, form);
  expect(acted.status).toBe(303);
  const after = await browse(agent, 'GET', acted.location!);
  const finding = (await findingOf('over_deployment'))!;
  expect(finding).toMatchObject({ state: 'acted', actionRef: expect.stringMatching(/^CHG/) });
  expect(after.html).toContain(`${finding.actionRef} was started`);
  // The same form sent again is the same command: still one change for the finding.
  expect((await browse(agent, 'POST', `/ui/finops/findings/${over.number}/act`, form)).status).toBe(303);
  expect((await findingOf('over_deployment'))!.actionRef).toBe(finding.actionRef);

  const viewer = webAgent(stack.baseUrl);
  await signInWithKey(viewer, manager.apiKey);
  const forManager = await browse(viewer, 'GET', '/ui/finops/findings');
  expect(forManager.status).toBe(200);
  expect(forManager.html).not.toContain('/act"');
});
