/**
 * Inventory intake through the API, with the import workflow on a real worker: JSON lines and
 * gzipped CSV batches run to completed; a header without the columns an inventory row needs is
 * refused naming the columns taken; a dry run previews and /apply then runs the same rows with the
 * outcomes the preview said (and is applied once); the same batch key twice, or at once, is one
 * batch; who sends and who reads, and which sources only admins send as. The rules and sources as
 * data: read with a version, written with If-Match (428 without, 412 stale), refused with the values
 * allowed (and assignedTo and software, which no rule decides, saying why), each write audited. A
 * CI's provenance and sightings read, and a discovered CI marked verified, once.
 */
import { randomBytes } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import { OUTCOME_OF_VERDICT } from '../domain/master-data';
import { createPerson, eventually, type TestPerson } from './support/fixtures';
import { send, startStack, type Sent, type Stack } from './support/stack';

let stack: Stack;
let assetManager: TestPerson;
let processOwner: TestPerson;
let requester: TestPerson;
let admin: TestPerson;

beforeAll(async () => {
  stack = await startStack();
  const db = stack.database.db;
  assetManager = await createPerson(db, ['asset_manager'], 'Ines Intake');
  processOwner = await createPerson(db, ['process_owner'], 'Pavel Owner');
  requester = await createPerson(db, ['requester'], 'Rosa Requester');
  admin = await createPerson(db, ['admin'], 'Adele Admin');
});

afterAll(async () => {
  await stack?.stop();
});

const unique = () => randomBytes(4).toString('hex');
const FINAL = ['previewed', 'completed', 'refused', 'failed'];

function sendBatch(query: string, body: string | Uint8Array, contentType = 'application/x-ndjson', headers: Record<string, string> = {}, apiKey = assetManager.apiKey): Promise<Sent> {
  return send(stack, apiKey, 'POST', `/inventory/batches?${query}`, { body, headers: { 'content-type': contentType, ...headers } });
}

async function finished(id: string, apiKey = assetManager.apiKey): Promise<any> {
  return eventually(async () => {
    const read = await send(stack, apiKey, 'GET', `/imports/${id}`);
    expect(read.status).toBe(200);
    return FINAL.includes(read.body.state) ? read.body : undefined;
  }, 90_000, 100);
}

const rowsOf = async (id: string) => (await send(stack, assetManager.apiKey, 'GET', `/imports/${id}/rows?limit=200`)).body.items;
const vm = (s: string) => ({ ciClass: 'virtual_machine', cloudResourceId: `i-${s}`, hostname: `vm-${s}.cloud.example` });
const jsonl = (rows: object[]) => rows.map((row) => JSON.stringify(row)).join('\n');
const batchesWithKey = async (batchKey: string) => stack.database.db('imports').where({ batch_key: batchKey }).select('id', 'dry_run', 'state');

describe('sending batches', () => {
  it('runs a JSON lines batch to completed: the records created, the batch listed by source, read by asset managers and process owners', async () => {
    const s = unique();
    const sent = await sendBatch('source=cloud_inventory&fileName=cloud.jsonl', jsonl([vm(`${s}a`), vm(`${s}b`)]));
    expect(sent.status).toBe(202);
    expect(sent.headers.get('location')).toBe(`/imports/${sent.body.id}`);
    expect(sent.body).toMatchObject({ kind: 'inventory', replayed: false, onInvalidRows: 'skip_rows', inventory: { source: 'cloud_inventory', batchKey: null } });
    const done = await finished(sent.body.id);
    expect(done).toMatchObject({ state: 'completed', rowsTotal: 2, rowsApplied: 2, counts: { created: 2 } });
    const cis = await stack.database.db('configuration_items').whereIn('cloud_resource_id', [`i-${s}a`, `i-${s}b`]).select('discovery_state');
    expect(cis).toEqual([{ discovery_state: 'discovered' }, { discovery_state: 'discovered' }]);
    expect((await send(stack, processOwner.apiKey, 'GET', `/imports/${done.id}/rows?outcome=created`)).body.items).toHaveLength(2);
    const list = await send(stack, processOwner.apiKey, 'GET', '/inventory/batches?source=cloud_inventory&limit=5');
    expect(list.status).toBe(200);
    expect(list.body.items[0]).toMatchObject({ id: done.id, inventory: { source: 'cloud_inventory' } });
    expect((await send(stack, assetManager.apiKey, 'GET', '/inventory/batches?source=mdm&limit=50')).body.items.map((b: any) => b.id)).not.toContain(done.id);
    expect((await send(stack, processOwner.apiKey, 'GET', '/imports?kind=inventory&limit=5')).body.items[0].id).toBe(done.id);
  });

  it('runs a gzipped CSV batch to completed', async () => {
    const s = unique();
    const csv = `ciClass,cloudResourceId,hostname\nvirtual_machine,i-${s}c,vm-${s}c\nvirtual_machine,i-${s}d,vm-${s}d.cloud.example\n`;
    const sent = await sendBatch('source=discovery&format=csv', gzipSync(csv), 'text/csv', { 'content-encoding': 'gzip' }, admin.apiKey);
    expect(sent.status).toBe(202);
    expect(await finished(sent.body.id, admin.apiKey)).toMatchObject({ format: 'csv', state: 'completed', counts: { created: 2 } });
    expect(await stack.database.db('configuration_items').where({ cloud_resource_id: `i-${s}d` }).first('hostname', 'dns_domain'))
      .toEqual({ hostname: `vm-${s}d`, dns_domain: 'cloud.example' });
  });

  it('refuses a header without ciClass or an identifier, or with an unknown column, naming the columns taken; and bounds the observation time', async () => {
    const before = Number((await stack.database.db('imports').where({ kind: 'inventory' }).count({ n: '*' }))[0].n);
    const unknown = await sendBatch('source=discovery', 'ciClass,hostname,colour\nserver,h1,red\n', 'text/csv');
    expect(unknown.status).toBe(400);
    expect(unknown.body.error).toMatchObject({ code: 'invalid_header', details: { unknown: ['colour'], columns: expect.arrayContaining(['ciClass', 'serialNumber', 'software']) } });
    expect(unknown.body.error.message).toMatch(/inventory rows take: ciClass, name, serialNumber/);
    const noIdentifier = await sendBatch('source=discovery', 'ciClass,name,domain\nserver,x,corp.example\n', 'text/csv');
    expect(noIdentifier.body.error).toMatchObject({ code: 'invalid_header', details: { missing: ['serialNumber', 'assetTag', 'cloudResourceId', 'hostname', 'macAddress'] } });
    expect((await sendBatch('source=discovery', 'hostname\nh1\n', 'text/csv')).body.error.details.missing).toEqual(['ciClass']);
    const future = await sendBatch(`source=discovery&observedAt=${new Date(Date.now() + 3_600_000).toISOString()}`, jsonl([vm(unique())]));
    expect(future.status).toBe(400);
    expect(future.body.error.message).toMatch(/observedAt: in the future/);
    const old = await sendBatch('source=discovery&observedAt=2020-01-01T00:00:00Z', jsonl([vm(unique())]));
    expect(old.body.error.message).toMatch(/more than 365 days ago/);
    const badSource = await sendBatch('source=spreadsheet', jsonl([vm(unique())]));
    expect(badSource.status).toBe(400);
    expect(badSource.body.error.message).toMatch(/one of: discovery, mdm, cloud_inventory, hr, manual/);
    expect((await sendBatch('source=discovery', jsonl([vm(unique())]), 'application/x-ndjson', {}, requester.apiKey)).status).toBe(403);
    expect((await sendBatch('source=discovery', jsonl([vm(unique())]), 'application/x-ndjson', {}, processOwner.apiKey)).status).toBe(403);
    expect(Number((await stack.database.db('imports').where({ kind: 'inventory' }).count({ n: '*' }))[0].n)).toBe(before);
  });
});

describe('who sends as which source', () => {
  it('lets asset managers send the feeds, and only admins send as manual and hr', async () => {
    const s = unique();
    const before = await stack.database.db('imports').where({ kind: 'inventory', requested_by_id: assetManager.id }).whereIn('source', ['manual', 'hr']).count({ n: '*' });
    for (const source of ['manual', 'hr']) {
      const refused = await sendBatch(`source=${source}`, jsonl([vm(`${s}${source}`)]));
      expect(refused.status).toBe(403);
      expect(refused.body.error).toMatchObject({
        code: 'forbidden',
        message: `only admins send batches as ${source}: manual and hr outrank the feeds; asset managers send discovery, mdm, cloud_inventory`,
        details: [{ path: 'source' }],
      });
    }
    expect(await stack.database.db('imports').where({ kind: 'inventory', requested_by_id: assetManager.id }).whereIn('source', ['manual', 'hr']).count({ n: '*' })).toEqual(before);
    const manual = await sendBatch(`source=manual&dryRun=true`, jsonl([vm(`${s}m`)]), 'application/x-ndjson', {}, admin.apiKey);
    expect(manual.status).toBe(202);
    await finished(manual.body.id, admin.apiKey);
    // Applying an admin's dry run of manual is sending as manual.
    const apply = await send(stack, assetManager.apiKey, 'POST', `/inventory/batches/${manual.body.id}/apply`);
    expect(apply.status).toBe(403);
    expect(apply.body.error.message).toMatch(/^only admins send batches as manual/);
    const applied = await send(stack, admin.apiKey, 'POST', `/inventory/batches/${manual.body.id}/apply`);
    expect(applied.status).toBe(202);
    expect(await finished(applied.body.id, admin.apiKey)).toMatchObject({ state: 'completed', counts: { created: 1 } });
  });
});

describe('a CI\'s sources', () => {
  it('answers a discovered CI\'s provenance and sightings to overseers only, and marks it verified once, audited', async () => {
    const s = unique();
    const sent = await sendBatch('source=cloud_inventory', jsonl([{ ...vm(s), environment: 'production' }]));
    await finished(sent.body.id);
    const ci = await stack.database.db('configuration_items').where({ cloud_resource_id: `i-${s}` }).first('id', 'number');
    const provenance = await send(stack, processOwner.apiKey, 'GET', `/cis/${ci.number}/provenance`);
    expect(provenance.status).toBe(200);
    expect(provenance.body).toMatchObject({ id: ci.id, number: ci.number, discoveryState: 'discovered', sightings: [{ source: 'cloud_inventory', lastImportId: sent.body.id, missingCandidateSince: null }] });
    const byAttribute = Object.fromEntries(provenance.body.attributes.map((a: any) => [a.attribute, a]));
    expect(byAttribute.cloudResourceId).toMatchObject({ value: `i-${s}`, source: { name: 'cloud_inventory' }, importId: sent.body.id });
    expect(byAttribute.environment).toMatchObject({ value: 'production', source: { name: 'cloud_inventory' } });
    expect((await send(stack, requester.apiKey, 'GET', `/cis/${ci.number}/provenance`)).status).toBe(403);
    expect((await send(stack, processOwner.apiKey, 'GET', '/cis/CI9999999999/provenance')).status).toBe(404);

    expect((await send(stack, requester.apiKey, 'POST', `/cis/${ci.number}/verified`)).status).toBe(403);
    expect((await send(stack, processOwner.apiKey, 'POST', `/cis/${ci.number}/verified`)).status).toBe(403);
    const verified = await send(stack, assetManager.apiKey, 'POST', `/cis/${ci.id}/verified`);
    expect(verified).toMatchObject({ status: 200, body: { id: ci.id, number: ci.number, discoveryState: 'verified', changed: true } });
    const again = await send(stack, admin.apiKey, 'POST', `/cis/${ci.number}/verified`);
    expect(again).toMatchObject({ status: 200, body: { discoveryState: 'verified', changed: false } });
    expect((await send(stack, processOwner.apiKey, 'GET', `/cis/${ci.number}/provenance`)).body.discoveryState).toBe('verified');
    expect(await stack.database.db('audit_log').where({ subject_type: 'configuration_item', subject_id: ci.id, action: 'verified' }).select('actor', 'from_state', 'to_state'))
      .toEqual([{ actor: assetManager.email, from_state: 'discovered', to_state: 'verified' }]);
  });
});

describe('dry run, then apply', () => {
  it('previews a batch, writes nothing, and /apply runs the same rows with the outcomes the preview said, once', async () => {
    const s = unique();
    const known = await sendBatch('source=cloud_inventory', jsonl([vm(`${s}k`)]));
    await finished(known.body.id);
    const observedAt = new Date(Date.now() - 3_600_000).toISOString();
    const rows = [{ ...vm(`${s}k`), environment: 'production' }, vm(`${s}n`), { ciClass: 'virtual_machine', name: 'no identifier' }];
    const dry = await sendBatch(`source=cloud_inventory&dryRun=true&batchKey=scan-${s}&observedAt=${observedAt}`, jsonl(rows));
    expect(dry.status).toBe(202);
    const preview = await finished(dry.body.id);
    expect(preview).toMatchObject({ state: 'previewed', dryRun: true, rowsApplied: 0 });
    expect(await stack.database.db('configuration_items').where({ cloud_resource_id: `i-${s}n` }).first()).toBeUndefined();
    const previewed = await rowsOf(dry.body.id);

    const applied = await send(stack, assetManager.apiKey, 'POST', `/inventory/batches/${dry.body.id}/apply`);
    expect(applied.status).toBe(202);
    expect(applied.body).toMatchObject({ dryRun: false, replayed: false, inventory: { source: 'cloud_inventory', batchKey: `scan-${s}`, observedAt } });
    const done = await finished(applied.body.id);
    expect(done.state).toBe('completed');
    const real = await rowsOf(applied.body.id);
    expect(real.map((r: any) => [r.rowNumber, r.outcome])).toEqual(previewed.map((r: any) => [r.rowNumber, OUTCOME_OF_VERDICT[r.verdict as keyof typeof OUTCOME_OF_VERDICT]]));
    expect(real.map((r: any) => r.record)).toEqual(previewed.map((r: any) => r.record));

    const again = await send(stack, assetManager.apiKey, 'POST', `/inventory/batches/${dry.body.id}/apply`);
    expect(again).toMatchObject({ status: 200, body: { id: applied.body.id, replayed: true } });
    // The batch key names the applied batch now: sending it again is that batch.
    const resent = await sendBatch(`source=cloud_inventory&batchKey=scan-${s}`, jsonl(rows));
    expect(resent).toMatchObject({ status: 200, body: { id: applied.body.id, replayed: true } });
    expect((await batchesWithKey(`scan-${s}`)).filter((b) => !b.dry_run)).toHaveLength(1);

    const notDry = await send(stack, assetManager.apiKey, 'POST', `/inventory/batches/${applied.body.id}/apply`);
    expect(notDry.status).toBe(409);
    expect(notDry.body.error.code).toBe('not_previewed');
    expect((await send(stack, assetManager.apiKey, 'POST', '/inventory/batches/00000000-0000-4000-8000-000000000000/apply')).status).toBe(404);
  });
});

describe('batch keys', () => {
  it('answers the first batch when the same key comes again, staging nothing', async () => {
    const s = unique();
    const first = await sendBatch(`source=mdm&batchKey=daily-${s}`, jsonl([vm(`${s}a`)]));
    expect(first.status).toBe(202);
    await finished(first.body.id);
    const second = await sendBatch(`source=mdm&batchKey=daily-${s}`, jsonl([vm(`${s}a`), vm(`${s}b`)]));
    expect(second.status).toBe(200);
    expect(second.headers.get('location')).toBe(`/imports/${first.body.id}`);
    expect(second.body).toMatchObject({ id: first.body.id, replayed: true, rowsTotal: 1 });
    expect(await batchesWithKey(`daily-${s}`)).toHaveLength(1);
    // Another source's key is another batch, and so is an upload without a key.
    expect((await sendBatch(`source=discovery&batchKey=daily-${s}`, jsonl([vm(`${s}a`)]))).status).toBe(202);
    expect((await sendBatch('source=mdm', jsonl([vm(`${s}a`)]))).status).toBe(202);
  });

  it('makes one batch of uploads racing with one key', async () => {
    const s = unique();
    const answers = await Promise.all(Array.from({ length: 6 }, () => sendBatch(`source=discovery&batchKey=race-${s}`, jsonl([vm(`${s}r`)]))));
    expect(answers.map((a) => a.status).sort()).toEqual([200, 200, 200, 200, 200, 202]);
    expect(new Set(answers.map((a) => a.body.id)).size).toBe(1);
    expect(await batchesWithKey(`race-${s}`)).toHaveLength(1);
    expect(Number((await stack.database.db('import_rows').where({ import_id: answers[0].body.id }).count({ n: '*' }))[0].n)).toBe(1);
  });
});

describe('rules and sources as data', () => {
  const audits = (subjectType: string) => stack.database.db('audit_log').where({ subject_type: subjectType }).orderBy('id').select('actor', 'action', 'details');

  it('replaces a class\'s identification rules with the version read, refusing a bad attribute, a missing or stale If-Match', async () => {
    const read = await send(stack, processOwner.apiKey, 'GET', '/inventory/identification-rules/application');
    expect(read.status).toBe(200);
    expect(read.body).toMatchObject({ ciClass: 'application', rules: [{ priority: 1, attributes: ['hostname', 'domain'], active: true }] });
    const etag = read.headers.get('etag')!;
    const put = (body: unknown, headers: Record<string, string> = { 'if-match': etag }, apiKey = assetManager.apiKey) =>
      send(stack, apiKey, 'PUT', '/inventory/identification-rules/application', { body, headers });

    const bad = await put({ rules: [{ attributes: ['colour'] }] });
    expect(bad.status).toBe(400);
    expect(bad.body.error.message).toMatch(/rules\.0\.attributes\.0: one of: serialNumber, assetTag, cloudResourceId, hostname, domain, macAddress/);
    const rules = { rules: [{ attributes: ['cloudResourceId'] }, { attributes: ['hostname', 'domain'], active: false }] };
    expect((await put(rules, {})).status).toBe(428);
    expect((await put(rules, { 'if-match': etag }, processOwner.apiKey)).status).toBe(403);
    const saved = await put(rules);
    expect(saved.status).toBe(200);
    expect(saved.body.rules).toEqual([{ priority: 1, attributes: ['cloudResourceId'], active: true }, { priority: 2, attributes: ['hostname', 'domain'], active: false }]);
    expect(saved.headers.get('etag')).not.toBe(etag);
    const stale = await put({ rules: [{ attributes: ['hostname', 'domain'] }] });
    expect(stale.status).toBe(412);
    expect(stale.body.error.details).toMatchObject({ currentVersion: saved.body.version });
    const [audit] = (await audits('identification_rules')).filter((a) => a.details.ciClass === 'application');
    expect(audit).toMatchObject({ actor: assetManager.email, action: 'updated', details: { before: { rules: read.body.rules }, after: { rules: saved.body.rules } } });
    expect((await send(stack, processOwner.apiKey, 'GET', '/inventory/identification-rules/toaster')).body.error.message).toMatch(/one of: server, network_device/);
    // Put back as it was.
    expect((await put({ rules: [{ attributes: ['hostname', 'domain'] }] }, { 'if-match': saved.headers.get('etag')! })).status).toBe(200);
  });

  it('creates, changes and removes an attribute\'s reconciliation rule; the * rule stays', async () => {
    const path = '/inventory/reconciliation-rules/environment';
    const put = (body: unknown, headers: Record<string, string> = {}) => send(stack, admin.apiKey, 'PUT', path, { body, headers });
    expect((await put({ sources: ['hr', 'colour'], stalenessDays: 3 })).body.error.message).toMatch(/sources\.1: one of: discovery, mdm, cloud_inventory, hr, manual/);
    expect((await send(stack, admin.apiKey, 'PUT', '/inventory/reconciliation-rules/colour', { body: { sources: ['hr'], stalenessDays: 3 } })).body.error.message)
      .toMatch(/one of: \*, name, hostname/);
    for (const attribute of ['assignedTo', 'software']) {
      const never = await send(stack, admin.apiKey, 'PUT', `/inventory/reconciliation-rules/${attribute}`, { body: { sources: ['hr'], stalenessDays: 3 } });
      expect(never.status).toBe(400);
      expect(never.body.error.message).toMatch(new RegExp(`${attribute} takes no reconciliation rule: .+; rules are for one of: \\*, name, hostname, domain, macAddress, cloudResourceId, serialNumber, model, location, operationalStatus, environment$`));
    }
    expect(await stack.database.db('reconciliation_rules').whereIn('attribute', ['assignedTo', 'software']).select('attribute')).toEqual([]);
    const created = await put({ sources: ['cloud_inventory', 'manual'], stalenessDays: 10 });
    expect(created.status).toBe(201);
    expect(created.body).toEqual({ attribute: 'environment', sources: ['cloud_inventory', 'manual'], stalenessDays: 10, version: 1 });
    expect((await put({ sources: ['manual'], stalenessDays: 10 })).status).toBe(428);
    expect((await put({ sources: ['manual'], stalenessDays: 10 }, { 'if-match': '"7"' })).status).toBe(412);
    const changed = await put({ sources: ['manual', 'cloud_inventory'], stalenessDays: 0 }, { 'if-match': created.headers.get('etag')! });
    expect(changed).toMatchObject({ status: 200, body: { version: 2, sources: ['manual', 'cloud_inventory'], stalenessDays: 0 } });
    const list = await send(stack, processOwner.apiKey, 'GET', '/inventory/reconciliation-rules');
    expect(list.body.items[0].attribute).toBe('*');
    expect(list.body.items.map((r: any) => r.attribute)).toContain('environment');
    const star = await send(stack, admin.apiKey, 'GET', '/inventory/reconciliation-rules/*');
    const keepStar = await send(stack, admin.apiKey, 'DELETE', '/inventory/reconciliation-rules/*', { headers: { 'if-match': star.headers.get('etag')! } });
    expect(keepStar.status).toBe(400);
    expect((await send(stack, admin.apiKey, 'DELETE', path)).status).toBe(428);
    const removed = await send(stack, admin.apiKey, 'DELETE', path, { headers: { 'if-match': '"2"' } });
    expect(removed).toMatchObject({ status: 200, body: { removed: { attribute: 'environment', version: 2 } } });
    expect((await send(stack, admin.apiKey, 'GET', path)).status).toBe(404);
    expect((await audits('reconciliation_rule')).map((a) => [a.action, a.details.before, a.details.after])).toEqual([
      ['created', null, { sources: ['cloud_inventory', 'manual'], stalenessDays: 10 }],
      ['updated', { sources: ['cloud_inventory', 'manual'], stalenessDays: 10 }, { sources: ['manual', 'cloud_inventory'], stalenessDays: 0 }],
      ['removed', { sources: ['manual', 'cloud_inventory'], stalenessDays: 0, version: 2 }, null],
    ]);
  });

  it('changes a source\'s unseen period with the version read', async () => {
    const read = await send(stack, processOwner.apiKey, 'GET', '/inventory/sources/hr');
    expect(read.body).toMatchObject({ name: 'hr', unseenAfterDays: null });
    const list = await send(stack, processOwner.apiKey, 'GET', '/inventory/sources');
    expect(list.body.items.map((s: any) => s.name)).toEqual(['discovery', 'mdm', 'cloud_inventory', 'hr', 'manual']);
    const patch = (body: unknown, headers: Record<string, string>) => send(stack, assetManager.apiKey, 'PATCH', '/inventory/sources/hr', { body, headers });
    expect((await patch({ unseenAfterDays: 90 }, {})).status).toBe(428);
    expect((await patch({ unseenAfterDays: 0 }, { 'if-match': read.headers.get('etag')! })).body.error.message).toMatch(/unseenAfterDays: at least 1/);
    const changed = await patch({ unseenAfterDays: 90 }, { 'if-match': read.headers.get('etag')! });
    expect(changed).toMatchObject({ status: 200, body: { unseenAfterDays: 90, version: read.body.version + 1 } });
    expect((await patch({ unseenAfterDays: null }, { 'if-match': read.headers.get('etag')! })).status).toBe(412);
    expect(await audits('inventory_source')).toEqual([
      { actor: assetManager.email, action: 'updated', details: { name: 'hr', before: { unseenAfterDays: null }, after: { unseenAfterDays: 90 } } },
    ]);
    expect((await patch({ unseenAfterDays: null }, { 'if-match': changed.headers.get('etag')! })).status).toBe(200);
  });
});
