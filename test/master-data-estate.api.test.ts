/**
 * The estate as master data through the JSON API: configuration items (natural key name + class,
 * criticality only and always for business services, references named when unknown, retire
 * refused while an open change names the CI), their relationships (ends named by column, no
 * self-relationship, the same edge is unchanged, a retired edge leaves the impact walk), and
 * assets (registered in their current state by the lifecycle's rules, state and assignee left to
 * the lifecycle, serials unique whatever the case, a PATCH that does not break the running
 * lifecycle workflow); and exports that import back unchanged.
 */
import { randomBytes } from 'node:crypto';
import { parse } from 'csv-parse/sync';
import { assessChangeImpact } from '../model/change-impact';
import { masterDataKind } from '../model/master-data';
import { judgeRow, Lookups } from '../model/master-data/engine';
import { createCostCentre, createGroup, createHardwareModel, createPerson, type TestPerson } from './support/fixtures';
import { send, startStack, type Stack } from './support/stack';

let stack: Stack;
let manager: TestPerson;
let requester: TestPerson;
let owner: TestPerson;
let user: TestPerson;
let groupName: string;
let costCentre: string;
let modelName: string;

const unique = () => randomBytes(4).toString('hex');
const db = () => stack.database.db;
const ifMatch = (version: number | string) => ({ 'if-match': `"${version}"` });

beforeAll(async () => {
  stack = await startStack();
  manager = await createPerson(db(), ['asset_manager'], 'Ada Assets');
  requester = await createPerson(db(), ['requester'], 'Remy Requester');
  owner = await createPerson(db(), ['approver'], 'Otto Owner');
  user = await createPerson(db(), ['requester'], 'Uma User');
  groupName = `Server Team ${unique()}`;
  await createGroup(db(), [owner.id], groupName);
  costCentre = `EST-${unique()}`.toUpperCase();
  await createCostCentre(db(), costCentre, 'Estate', null);
  modelName = `PowerEdge R740 ${unique()}`;
  await createHardwareModel(db(), { manufacturer: 'Dell', name: modelName, category: 'server' });
});

afterAll(async () => {
  await stack?.stop();
});

const postCi = (body: Record<string, unknown>) => send(stack, manager.apiKey, 'POST', '/cis', { body });

/** A change in assess that names these CIs as affected, inserted as its workflow would have registered it. */
async function openChange(ciIds: string[]): Promise<{ id: string; number: string }> {
  const [change] = await db()('change_requests').insert({ type: 'normal', state: 'assess', requester_id: requester.id, title: `Change ${unique()}` }).returning(['id', 'number']);
  await db()('change_affected_cis').insert(ciIds.map((ci_id) => ({ change_request_id: change.id, ci_id })));
  return change;
}

describe('configuration items', () => {
  it('creates one by name and class, reads it with its ETag, updates it with If-Match, and refuses the same name in another case', async () => {
    const name = `db-${unique()}`;
    const created = await postCi({ name, ciClass: 'database', ownerEmail: owner.email, supportGroup: groupName.toUpperCase(), costCentre: costCentre.toLowerCase(), environment: 'staging' });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({
      ref: expect.stringMatching(/^CI\d{7}$/), version: 1, retiredAt: null, name, ciClass: 'database', operationalStatus: 'operational',
      criticality: null, environment: 'staging', ownerEmail: owner.email, supportGroup: groupName, costCentre, assetTag: null,
    });
    expect(created.headers.get('location')).toBe(`/cis/${created.body.ref}`);

    const read = await send(stack, requester.apiKey, 'GET', `/cis/${created.body.ref.toLowerCase()}`);
    expect(read.status).toBe(200);
    expect(read.headers.get('etag')).toBe('"1"');
    expect(read.body).toMatchObject({ id: created.body.id, number: created.body.ref, name, relationships: { outgoing: [], incoming: [] } });
    expect((await send(stack, requester.apiKey, 'GET', `/cis/${created.body.id}`)).body.number).toBe(created.body.ref);
    expect((await send(stack, requester.apiKey, 'GET', '/cis/CI9999999')).status).toBe(404);

    const again = await postCi({ name: name.toUpperCase(), ciClass: 'database' });
    expect(again.status).toBe(409);
    expect(again.body.error).toMatchObject({ code: 'already_exists', details: { ref: created.body.ref } });
    expect((await postCi({ name, ciClass: 'server' })).status).toBe(201);

    const updated = await send(stack, manager.apiKey, 'PATCH', `/cis/${created.body.ref}`, { body: { operationalStatus: 'repair_in_progress', supportGroup: null }, headers: ifMatch(1) });
    expect(updated.status).toBe(200);
    expect(updated.body).toMatchObject({ operationalStatus: 'repair_in_progress', supportGroup: null, version: 2 });
    expect((await send(stack, manager.apiKey, 'PATCH', `/cis/${created.body.ref}`, { body: { environment: 'test' }, headers: ifMatch(1) })).status).toBe(412);
    const retiredByRow = await send(stack, manager.apiKey, 'PATCH', `/cis/${created.body.ref}`, { body: { operationalStatus: 'retired' }, headers: ifMatch(2) });
    expect(retiredByRow.status).toBe(400);
    expect(retiredByRow.body.error.details.problems).toEqual([expect.objectContaining({ column: 'operationalStatus', value: 'retired' })]);
    expect((await send(stack, requester.apiKey, 'POST', '/cis', { body: { name: `x-${unique()}`, ciClass: 'server' } })).status).toBe(403);

    const audit = await db()('audit_log').where({ subject_type: 'configuration_item', subject_id: created.body.id }).orderBy('id').select('actor', 'action', 'details');
    expect(audit.map((row) => [row.actor, row.action])).toEqual([[manager.email, 'created'], [manager.email, 'updated']]);
    expect(audit[1].details.changes).toEqual({ operationalStatus: { from: 'operational', to: 'repair_in_progress' }, supportGroup: { from: groupName, to: null } });
  });

  it('asks a criticality of a business service, and of nothing else, naming the column', async () => {
    const missing = await postCi({ name: `Payroll ${unique()}`, ciClass: 'business_service' });
    expect(missing.status).toBe(400);
    expect(missing.body.error.details.problems).toEqual([expect.objectContaining({ column: 'criticality', reason: expect.stringMatching(/required for a business service/) })]);
    const server = await postCi({ name: `srv-${unique()}`, ciClass: 'server', criticality: 'tier_1' });
    expect(server.status).toBe(400);
    expect(server.body.error.details.problems).toEqual([expect.objectContaining({ column: 'criticality', value: 'tier_1', reason: expect.stringMatching(/only a business service/) })]);
    const service = await postCi({ name: `Payroll ${unique()}`, ciClass: 'business_service', criticality: 'tier_2' });
    expect(service.status).toBe(201);
    expect(service.body.criticality).toBe('tier_2');
    const cleared = await send(stack, manager.apiKey, 'PATCH', `/cis/${service.body.ref}`, { body: { criticality: '' }, headers: ifMatch(1) });
    expect(cleared.status).toBe(400);
    expect(cleared.body.error.details.problems[0].column).toBe('criticality');
  });

  it('names each unknown owner, group, cost centre and asset, and an asset another CI runs on', async () => {
    const refused = await postCi({ name: `srv-${unique()}`, ciClass: 'server', ownerEmail: 'ghost@nowhere.example', supportGroup: 'No Such Team', costCentre: 'NOPE', assetTag: 'AST0000000' });
    expect(refused.status).toBe(400);
    expect(refused.body.error.details.problems).toEqual([
      { column: 'ownerEmail', value: 'ghost@nowhere.example', reason: 'no active person has this email' },
      { column: 'supportGroup', value: 'No Such Team', reason: 'no active group has this name' },
      { column: 'costCentre', value: 'NOPE', reason: 'no cost centre has this code' },
      { column: 'assetTag', value: 'AST0000000', reason: 'no asset has this tag' },
    ]);

    const tag = `AST8${unique()}`.toUpperCase();
    expect((await registerAsset({ assetTag: tag })).status).toBe(201);
    const first = await postCi({ name: `srv-${unique()}`, ciClass: 'server', assetTag: tag.toLowerCase() });
    expect(first.status).toBe(201);
    expect(first.body.assetTag).toBe(tag);
    const second = await postCi({ name: `srv-${unique()}`, ciClass: 'server', assetTag: tag });
    expect(second.status).toBe(400);
    expect(second.body.error.details.problems).toEqual([
      { column: 'assetTag', value: tag, reason: `the asset already backs ${first.body.ref} ${first.body.name} (server); an asset backs one CI` },
    ]);
    const asset = await send(stack, manager.apiKey, 'GET', `/assets/${tag}`);
    expect(asset.body.backedCis).toEqual([expect.objectContaining({ number: first.body.ref })]);
  });

  it('refuses to retire a CI an open change names, and retires it once the change is closed', async () => {
    const ci = await postCi({ name: `app-${unique()}`, ciClass: 'application' });
    const change = await openChange([ci.body.id]);
    const refused = await send(stack, manager.apiKey, 'POST', `/cis/${ci.body.ref}/retire`, { headers: ifMatch(1) });
    expect(refused.status).toBe(409);
    expect(refused.body.error).toMatchObject({ code: 'retire_refused', details: { problems: [expect.objectContaining({ column: 'name', reason: expect.stringContaining(change.number) })] } });
    expect(await db()('configuration_items').where({ id: ci.body.id }).first('operational_status', 'retired_at')).toEqual({ operational_status: 'operational', retired_at: null });

    await db()('change_requests').where({ id: change.id }).update({ state: 'closed', close_code: 'successful' });
    const retired = await send(stack, manager.apiKey, 'POST', `/cis/${ci.body.ref}/retire`, { headers: ifMatch(1) });
    expect(retired.status).toBe(200);
    expect(retired.body).toMatchObject({ operationalStatus: 'retired', retiredAt: expect.any(String), version: 2 });
    expect((await db()('audit_log').where({ subject_type: 'configuration_item', subject_id: ci.body.id, action: 'retired' })).map((r) => r.actor)).toEqual([manager.email]);
    const edited = await send(stack, manager.apiKey, 'PATCH', `/cis/${ci.body.ref}`, { body: { environment: 'test' }, headers: ifMatch(2) });
    expect(edited.status).toBe(400);
  });
});

describe('CI relationships', () => {
  const relate = (body: Record<string, unknown>) => send(stack, manager.apiKey, 'POST', '/ci-relationships', { body });

  it('names the unknown end by its column, refuses a self-relationship and a retired CI, and finds the same edge unchanged', async () => {
    const app = (await postCi({ name: `App ${unique()}`, ciClass: 'application' })).body;
    const server = (await postCi({ name: `srv-${unique()}`, ciClass: 'server' })).body;

    const unknownTo = await relate({ fromName: app.name, fromClass: 'application', type: 'runs_on', toName: server.name, toClass: 'database' });
    expect(unknownTo.status).toBe(400);
    expect(unknownTo.body.error.details.problems).toEqual([{ column: 'toName', value: server.name, reason: 'no configuration item of class database has this name' }]);
    const unknownFrom = await relate({ fromName: 'nothing', fromClass: 'application', type: 'runs_on', toName: server.name, toClass: 'server' });
    expect(unknownFrom.body.error.details.problems).toEqual([expect.objectContaining({ column: 'fromName', value: 'nothing' })]);
    const self = await relate({ fromName: server.name, fromClass: 'server', type: 'depends_on', toName: server.name.toUpperCase(), toClass: 'server' });
    expect(self.status).toBe(400);
    expect(self.body.error.details.problems).toEqual([expect.objectContaining({ column: 'toName', reason: 'a configuration item cannot be related to itself' })]);
    const badType = await relate({ fromName: app.name, fromClass: 'application', type: 'likes', toName: server.name, toClass: 'server' });
    expect(badType.body.error.details.problems).toEqual([expect.objectContaining({ column: 'type', value: 'likes' })]);

    const edge = { fromName: app.name, fromClass: 'application', type: 'runs_on', toName: server.name, toClass: 'server' };
    const created = await relate(edge);
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ ref: created.body.id, version: 1, ...edge });
    expect((await relate(edge)).status).toBe(409);
    const sameEdge = await judgeRow(masterDataKind('ci-relationships'), new Lookups(db()), { ...edge, fromName: app.name.toLowerCase(), toName: server.name.toUpperCase() });
    expect(sameEdge).toMatchObject({ verdict: 'unchanged', stored: { id: created.body.id } });

    const read = await send(stack, requester.apiKey, 'GET', `/cis/${server.ref}`);
    expect(read.body.relationships).toEqual({ outgoing: [], incoming: [{ relationshipId: created.body.id, type: 'runs_on', ci: { id: app.id, number: app.ref, name: app.name, ciClass: 'application' } }] });
    const listed = await send(stack, requester.apiKey, 'GET', `/ci-relationships?q=${encodeURIComponent(server.name)}`);
    expect(listed.body.items).toEqual([expect.objectContaining({ id: created.body.id, type: 'runs_on' })]);

    const old = (await postCi({ name: `srv-${unique()}`, ciClass: 'server' })).body;
    await send(stack, manager.apiKey, 'POST', `/cis/${old.ref}/retire`, { headers: ifMatch(1) });
    const toRetired = await relate({ ...edge, toName: old.name });
    expect(toRetired.body.error.details.problems).toEqual([{ column: 'toName', value: old.name, reason: `${old.ref} is retired` }]);
  });

  it('leaves a retired edge out of the impact walk', async () => {
    const service = (await postCi({ name: `Billing ${unique()}`, ciClass: 'business_service', criticality: 'tier_1' })).body;
    const app = (await postCi({ name: `billing-app-${unique()}`, ciClass: 'application' })).body;
    const server = (await postCi({ name: `srv-${unique()}`, ciClass: 'server' })).body;
    await relate({ fromName: service.name, fromClass: 'business_service', type: 'depends_on', toName: app.name, toClass: 'application' });
    const runsOn = (await relate({ fromName: app.name, fromClass: 'application', type: 'runs_on', toName: server.name, toClass: 'server' })).body;
    const change = await openChange([server.id]);

    const before = await assessChangeImpact(db(), change.id);
    expect(before.services.cis.map((ci) => [ci.name, ci.depth])).toEqual([[server.name, 0], [app.name, 1], [service.name, 2]]);
    expect(before.services.businessServices).toEqual([expect.objectContaining({ id: service.id, criticality: 'tier_1' })]);

    const retired = await send(stack, manager.apiKey, 'POST', `/ci-relationships/${runsOn.id}/retire`, { headers: ifMatch(1) });
    expect(retired.status).toBe(200);
    expect(retired.body.retiredAt).toEqual(expect.any(String));
    const after = await assessChangeImpact(db(), change.id);
    expect(after.services.cis.map((ci) => ci.name)).toEqual([server.name]);
    expect(after.services.businessServices).toEqual([]);
    expect((await send(stack, requester.apiKey, 'GET', `/cis/${server.ref}`)).body.relationships.incoming).toEqual([]);
  });
});

/** Registers an asset through the API: a Dell server of the test's model, in stock unless told otherwise. */
function registerAsset(fields: Record<string, unknown> = {}) {
  return send(stack, manager.apiKey, 'POST', '/assets', {
    body: { manufacturer: 'dell', model: modelName, state: 'in_stock', substate: 'available', currency: 'EUR', purchaseCostMinor: '650000', ...fields },
  });
}

describe('assets', () => {
  it('registers assets in stock and in use by the lifecycle rules, audited with their state', async () => {
    const tag = `AST7${unique()}`.toUpperCase();
    const stocked = await registerAsset({ assetTag: tag.toLowerCase(), serialNumber: `SN-${tag}`, costCentre, managedByEmail: owner.email, warrantyEnd: '2029-01-31' });
    expect(stocked.status).toBe(201);
    expect(stocked.body).toMatchObject({
      ref: tag, assetTag: tag, version: 1, state: 'in_stock', substate: 'available', manufacturer: 'Dell', model: modelName, purchaseCostMinor: 650_000,
      currency: 'EUR', costCentre, managedByEmail: owner.email, warrantyEnd: '2029-01-31', usefulLifeMonths: 36, depreciationMethod: 'straight_line',
    });
    expect(stocked.headers.get('location')).toBe(`/assets/${tag}`);
    const audit = await db()('audit_log').where({ subject_type: 'asset', subject_id: stocked.body.id }).select('actor', 'action', 'details');
    expect(audit).toEqual([expect.objectContaining({ actor: manager.email, details: expect.objectContaining({ values: expect.objectContaining({ state: 'in_stock', substate: 'available' }) }) })]);

    const inUse = await registerAsset({ state: 'in_use', substate: '', assignedToEmail: user.email });
    expect(inUse.status).toBe(201);
    expect(inUse.body).toMatchObject({ ref: expect.stringMatching(/^AST\d{7}$/), state: 'in_use', substate: null, assignedToEmail: user.email });
    expect(await db()('assets').where({ id: inUse.body.id }).first('assigned_to_id', 'version')).toEqual({ assigned_to_id: user.id, version: 0 });

    const noUser = await registerAsset({ assetTag: `AST7${unique()}`, state: 'in_use', substate: null });
    expect(noUser.status).toBe(400);
    expect(noUser.body.error.details.problems).toEqual([{ column: 'assignedToEmail', value: null, reason: 'an asset in use needs an assignee' }]);
    const retired = await registerAsset({ assetTag: `AST7${unique()}`, state: 'retired', substate: 'sold' });
    expect(retired.body.error.details.problems).toEqual([expect.objectContaining({ column: 'state', reason: expect.stringMatching(/retire it through the lifecycle/) })]);
    const noSubstate = await registerAsset({ assetTag: `AST7${unique()}`, substate: null });
    expect(noSubstate.body.error.details.problems).toEqual([expect.objectContaining({ column: 'substate', reason: expect.stringMatching(/needs a substate/) })]);
    const unknownModel = await registerAsset({ assetTag: `AST7${unique()}`, model: 'R9000' });
    expect(unknownModel.body.error.details.problems).toEqual([expect.objectContaining({ column: 'model', value: 'R9000' })]);
  });

  it('keeps serial numbers unique whatever the case and spacing', async () => {
    const serial = `Sn-${unique()}-Q`;
    const first = await registerAsset({ assetTag: `AST6${unique()}`, serialNumber: serial });
    expect(first.status).toBe(201);
    const second = await registerAsset({ assetTag: `AST6${unique()}`, serialNumber: ` ${serial.toUpperCase().replace('-', ' -')}` });
    expect(second.status).toBe(400);
    expect(second.body.error.details.problems).toEqual([expect.objectContaining({ column: 'serialNumber', reason: `${first.body.ref} has this serial number (compared whatever the case and spacing)` })]);
  });

  it('refuses a new tag, a state, substate or assignee change by row, and retirement, pointing at the lifecycle', async () => {
    const asset = (await registerAsset({ assetTag: `AST5${unique()}` })).body;
    const moved = await send(stack, manager.apiKey, 'PATCH', `/assets/${asset.ref}`, { body: { state: 'in_use', substate: null, assignedToEmail: user.email }, headers: ifMatch(1) });
    expect(moved.status).toBe(400);
    expect(moved.body.error.details.problems).toEqual([{ column: 'state', value: 'in_use', reason: `the state changes through the lifecycle: POST /assets/${asset.ref}/transitions` }]);
    const retagged = await send(stack, manager.apiKey, 'PATCH', `/assets/${asset.ref}`, { body: { assetTag: `AST4${unique()}` }, headers: ifMatch(1) });
    expect(retagged.body.error.details.problems).toEqual([expect.objectContaining({ column: 'assetTag', reason: expect.stringMatching(/names the asset's lifecycle workflow/) })]);
    const reserved = await send(stack, manager.apiKey, 'PATCH', `/assets/${asset.ref}`, { body: { substate: 'reserved' }, headers: ifMatch(1) });
    expect(reserved.body.error.details.problems).toEqual([expect.objectContaining({ column: 'state', value: 'in_stock/reserved' })]);
    const retire = await send(stack, manager.apiKey, 'POST', `/assets/${asset.ref}/retire`, { headers: ifMatch(1) });
    expect(retire.status).toBe(409);
    expect(retire.body.error).toMatchObject({ code: 'retire_refused', message: `assets retire through the lifecycle (POST /assets/${asset.ref}/transitions with toState retired)` });
    expect(await db()('assets').where({ id: asset.id }).first('state', 'substate', 'version')).toEqual({ state: 'in_stock', substate: 'available', version: 0 });

    const used = (await registerAsset({ assetTag: `AST5${unique()}`, state: 'in_use', substate: null, assignedToEmail: user.email })).body;
    const reassigned = await send(stack, manager.apiKey, 'PATCH', `/assets/${used.ref}`, { body: { assignedToEmail: owner.email }, headers: ifMatch(1) });
    expect(reassigned.body.error.details.problems).toEqual([expect.objectContaining({ column: 'assignedToEmail', reason: expect.stringMatching(/through the lifecycle/) })]);
    const sameUser = await send(stack, manager.apiKey, 'PATCH', `/assets/${used.ref}`, { body: { assignedToEmail: user.email.toUpperCase(), location: 'Rack 4' }, headers: ifMatch(1) });
    expect(sameUser.status).toBe(200);
    expect(sameUser.body).toMatchObject({ location: 'Rack 4', version: 2 });
  });

  it('edits an asset whose lifecycle workflow runs without breaking its next transition', async () => {
    const asset = (await registerAsset({ assetTag: `AST4${unique()}` })).body;
    const reserve = await send(stack, manager.apiKey, 'POST', `/assets/${asset.ref}/transitions`, { body: { toState: 'in_stock', toSubstate: 'reserved' } });
    expect(reserve.status).toBe(200);

    const read = await send(stack, manager.apiKey, 'GET', `/assets/${asset.ref}`);
    expect(read.body.version).toBe(2);
    expect(read.headers.get('etag')).toBe('"2"');
    const edited = await send(stack, manager.apiKey, 'PATCH', `/assets/${asset.ref}`, { body: { location: 'Amsterdam DC2', warrantyEnd: '2030-06-30' }, headers: { 'if-match': read.headers.get('etag')! } });
    expect(edited.status).toBe(200);
    expect(edited.body).toMatchObject({ location: 'Amsterdam DC2', warrantyEnd: '2030-06-30', version: 3 });
    expect((await send(stack, manager.apiKey, 'GET', `/assets/${asset.ref}`)).headers.get('etag')).toBe('"3"');
    expect((await send(stack, manager.apiKey, 'PATCH', `/assets/${asset.ref}`, { body: { location: 'Lost update' }, headers: ifMatch(2) })).status).toBe(412);

    const deploy = await send(stack, manager.apiKey, 'POST', `/assets/${asset.ref}/transitions`, { body: { toState: 'in_use', assignedToId: user.id } });
    expect(deploy.status).toBe(200);
    expect(deploy.body.outcome).toMatchObject({ from: { state: 'in_stock', substate: 'reserved' }, to: { state: 'in_use', substate: null }, assignedToId: user.id });
    expect(deploy.body.asset).toMatchObject({ state: 'in_use', location: 'Amsterdam DC2' });
    expect((await send(stack, manager.apiKey, 'GET', `/assets/${asset.ref}`)).headers.get('etag')).toBe('"4"');
    expect(await db()('assets').where({ id: asset.id }).first('state', 'location', 'version')).toEqual({ state: 'in_use', location: 'Amsterdam DC2', version: 2 });
    expect((await send(stack, manager.apiKey, 'PATCH', `/assets/${asset.ref}`, { body: { location: 'Stale' }, headers: ifMatch(3) })).status).toBe(412);
  });
});

describe('exports', () => {
  beforeAll(async () => {
    const tag = `AST3${unique()}`.toUpperCase();
    await registerAsset({ assetTag: tag, serialNumber: `SN, "quoted" ${tag}`, location: 'Floor 2, east', contractNumber: null, purchaseDate: '2025-03-01' });
    await registerAsset({ state: 'in_use', substate: null, assignedToEmail: user.email, leaseEnd: '2028-02-29', depreciationMethod: 'none' });
    const service = (await postCi({ name: `Export, "service" ${unique()}`, ciClass: 'business_service', criticality: 'tier_3', ownerEmail: owner.email })).body;
    const server = (await postCi({ name: `srv-${unique()}`, ciClass: 'server', assetTag: tag, costCentre, supportGroup: groupName })).body;
    const app = (await postCi({ name: `app-${unique()}`, ciClass: 'application' })).body;
    await send(stack, manager.apiKey, 'POST', '/ci-relationships', { body: { fromName: service.name, fromClass: 'business_service', type: 'depends_on', toName: app.name, toClass: 'application' } });
    await send(stack, manager.apiKey, 'POST', '/ci-relationships', { body: { fromName: app.name, fromClass: 'application', type: 'runs_on', toName: server.name, toClass: 'server' } });
  });

  it.each(['configuration-items', 'ci-relationships', 'assets'] as const)('%s exported as CSV and JSON lines import back unchanged', async (name) => {
    const kind = masterDataKind(name);
    const csv = await send(stack, manager.apiKey, 'GET', `${kind.path}/export?format=csv`);
    expect(csv.status).toBe(200);
    expect(csv.text.split('\n')[0]).toBe(kind.columns.join(','));
    const csvRows = parse(csv.text, { columns: true }) as Record<string, string>[];
    const jsonl = await send(stack, manager.apiKey, 'GET', `${kind.path}/export?format=jsonl`);
    const jsonRows = jsonl.text.trim().split('\n').map((line) => JSON.parse(line));
    expect(csvRows.length).toBeGreaterThan(1);
    expect(jsonRows).toHaveLength(csvRows.length);

    const lookups = new Lookups(db());
    for (const row of [...csvRows, ...jsonRows]) {
      const judgement = await judgeRow(kind, lookups, row);
      expect({ row, verdict: judgement.verdict, problems: judgement.problems }).toEqual({ row, verdict: 'unchanged', problems: [] });
    }
  });
});
