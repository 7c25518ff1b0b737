/**
 * People are a source too (issue 16): a CI's identifiers (host name, domain, MAC address, cloud
 * resource id) are master data, stored in the form feeds are compared in and unique among live CIs;
 * a person's write of a reconciled attribute, through the API or a master-data import, records
 * 'manual' provenance on the CI (only what they gave, not what a create defaults; and, for an
 * asset's attributes, on the CI the asset backs, from when a person links the two), so a weaker feed
 * leaves it alone within the staleness period. A feed's host name is stored as a person's would be
 * (one label, its domain apart), so a person still edits the record a feed made.
 */
import { randomBytes } from 'node:crypto';
import { createHardwareModel, createPerson, eventually, type TestPerson } from './support/fixtures';
import { runInventoryBatch } from './support/inventory';
import { send, startStack, type Stack } from './support/stack';

let stack: Stack;
let manager: TestPerson;
let modelName: string;

const unique = () => randomBytes(4).toString('hex');
const db = () => stack.database.db;
const ifMatch = (version: number | string) => ({ 'if-match': `"${version}"` });
const postCi = (body: Record<string, unknown>) => send(stack, manager.apiKey, 'POST', '/cis', { body });

beforeAll(async () => {
  stack = await startStack();
  manager = await createPerson(db(), ['asset_manager'], 'Ada Assets');
  modelName = `PowerEdge R760 ${unique()}`;
  await createHardwareModel(db(), { manufacturer: 'Dell', name: modelName, category: 'server' });
});

afterAll(async () => {
  await stack?.stop();
});

/** The CI's provenance: attribute -> source. */
async function provenanceOf(ciId: string): Promise<Record<string, string>> {
  const rows = await db()('attribute_provenance').where({ ci_id: ciId }).select('attribute', 'source') as { attribute: string; source: string }[];
  return Object.fromEntries(rows.map((row) => [row.attribute, row.source]));
}

it('stores a CI\'s identifiers normalised, and records the attributes a person set as manual', async () => {
  const host = `Web${unique()}`;
  const created = await postCi({ name: `web ${host}`, ciClass: 'server', hostname: host, domain: 'Corp.Northwind.Example.', macAddress: randomBytes(6).toString('hex').toUpperCase().match(/../g)!.join('-') });
  expect(created.status).toBe(201);
  expect(created.body).toMatchObject({ hostname: host.toLowerCase(), domain: 'corp.northwind.example', macAddress: expect.stringMatching(/^[0-9a-f]{12}$/), cloudResourceId: null });
  expect(await db()('configuration_items').where({ id: created.body.id }).first('hostname', 'dns_domain', 'discovery_state'))
    .toEqual({ hostname: host.toLowerCase(), dns_domain: 'corp.northwind.example', discovery_state: 'verified' });
  // The status and environment the create defaulted are nobody's word: a feed may set them.
  expect(await provenanceOf(created.body.id)).toEqual({ name: 'manual', hostname: 'manual', domain: 'manual', macAddress: 'manual' });

  // Discovery set the name since; a person's edit of the environment leaves the name discovery's.
  await db()('attribute_provenance').where({ ci_id: created.body.id, attribute: 'name' }).update({ source: 'discovery' });
  const edited = await send(stack, manager.apiKey, 'PATCH', `/cis/${created.body.ref}`, { body: { environment: 'staging' }, headers: ifMatch(1) });
  expect(edited.status).toBe(200);
  const environment = await db()('attribute_provenance').where({ ci_id: created.body.id, attribute: 'environment' }).first('source', 'set_at', 'confirmed_at', 'import_id');
  expect(environment).toMatchObject({ source: 'manual', import_id: null });
  expect(Date.now() - environment.set_at.getTime()).toBeLessThan(60_000);
  expect((await provenanceOf(created.body.id)).name).toBe('discovery');
});

it('refuses an identifier another CI holds, naming it, and identifiers in a form feeds cannot compare', async () => {
  const host = `db${unique()}`;
  const mac = `02:00:${unique().match(/../g)!.join(':')}`;
  const first = await postCi({ name: `db ${host}`, ciClass: 'database', hostname: host, domain: 'corp.northwind.example', macAddress: mac, cloudResourceId: `i-${unique()}` });
  expect(first.status).toBe(201);

  const sameHost = await postCi({ name: `other ${host}`, ciClass: 'server', hostname: host.toUpperCase(), domain: 'CORP.northwind.example' });
  expect(sameHost.status).toBe(400);
  expect(sameHost.body.error.details.problems).toEqual([
    { column: 'hostname', value: host, reason: `${first.body.ref} db ${host} has this host name in corp.northwind.example; an identifier names one CI` },
  ]);
  // The same host name in another domain is another host.
  expect((await postCi({ name: `lab ${host}`, ciClass: 'server', hostname: host, domain: 'lab.northwind.example' })).status).toBe(201);

  const sameMac = await postCi({ name: `nic ${host}`, ciClass: 'server', macAddress: mac.toUpperCase().replace(/:/g, '') });
  expect(sameMac.body.error.details.problems).toEqual([expect.objectContaining({ column: 'macAddress', reason: expect.stringMatching(/has this MAC address/) })]);
  const sameCloud = await send(stack, manager.apiKey, 'PATCH', `/cis/${(await postCi({ name: `vm ${host}`, ciClass: 'virtual_machine' })).body.ref}`, {
    body: { cloudResourceId: first.body.cloudResourceId }, headers: ifMatch(1),
  });
  expect(sameCloud.status).toBe(400);
  expect(sameCloud.body.error.details.problems).toEqual([expect.objectContaining({ column: 'cloudResourceId', reason: expect.stringMatching(/has this cloud resource id/) })]);
  // Saving a CI with its own identifiers again is no clash with itself.
  expect((await send(stack, manager.apiKey, 'PATCH', `/cis/${first.body.ref}`, { body: { hostname: host.toUpperCase() }, headers: ifMatch(1) })).body).toMatchObject({ version: 1, hostname: host });

  const fqdn = await postCi({ name: `fqdn ${host}`, ciClass: 'server', hostname: `${host}x.corp.example` });
  expect(fqdn.body.error.details.problems).toEqual([expect.objectContaining({ column: 'hostname', reason: expect.stringMatching(/put the domain .* in domain/) })]);
  const badMac = await postCi({ name: `mac ${host}`, ciClass: 'server', macAddress: '00:1a:2b' });
  expect(badMac.body.error.details.problems).toEqual([expect.objectContaining({ column: 'macAddress', value: '00:1a:2b', reason: expect.stringMatching(/twelve hex digits/) })]);

  // The database refuses what a racing writer would slip past the check.
  await expect(db()('configuration_items').insert({ name: `race ${host}`, ci_class: 'server', hostname: host, dns_domain: 'corp.northwind.example' }))
    .rejects.toMatchObject({ code: '23505', constraint: 'configuration_items_fqdn_unique' });
});

it('records a person\'s edit of an asset\'s location on the CI the asset backs, and a discovery batch inside the period leaves it', async () => {
  const serial = `SN-MP-${unique()}`;
  const asset = await send(stack, manager.apiKey, 'POST', '/assets', {
    body: { serialNumber: serial, manufacturer: 'Dell', model: modelName, state: 'in_stock', substate: 'available', location: 'Rack 1', currency: 'EUR' },
  });
  expect(asset.status).toBe(201);
  const host = `app${unique()}`;
  const ci = await postCi({ name: `app ${host}`, ciClass: 'server', assetTag: asset.body.ref, hostname: host, domain: 'corp.northwind.example' });
  expect(ci.status).toBe(201);
  // Linking the asset made its serial, model and location the person's on the CI.
  expect(await provenanceOf(ci.body.id)).toMatchObject({ serialNumber: 'manual', model: 'manual', location: 'manual' });
  // Discovery had reported the location since.
  await db()('attribute_provenance').where({ ci_id: ci.body.id, attribute: 'location' })
    .update({ source: 'discovery', set_at: '2026-01-01T00:00:00Z', confirmed_at: '2026-01-01T00:00:00Z' });

  const unrelated = await send(stack, manager.apiKey, 'PATCH', `/assets/${asset.body.ref}`, { body: { warrantyEnd: '2030-01-31' }, headers: ifMatch(1) });
  expect(unrelated.status).toBe(200);
  expect((await provenanceOf(ci.body.id)).location).toBe('discovery');
  const moved = await send(stack, manager.apiKey, 'PATCH', `/assets/${asset.body.ref}`, { body: { location: 'Rack 7' }, headers: ifMatch(unrelated.body.version) });
  expect(moved.status).toBe(200);
  expect((await provenanceOf(ci.body.id)).location).toBe('manual');

  // Location: manual is stronger than discovery for 60 days.
  const batch = await runInventoryBatch(stack, {
    source: 'discovery', requestedById: manager.id, observedAt: new Date(Date.now() + 86_400_000).toISOString(),
    rows: [{ ciClass: 'server', serialNumber: serial, hostname: host, domain: 'corp.northwind.example', location: 'Rack 1' }],
  });
  expect(batch.outcome).toMatchObject({ state: 'completed' });
  expect(batch.rows[0]).toMatchObject({ outcome: 'unchanged', leftAlone: { location: expect.objectContaining({ reason: 'weaker_source', heldBy: expect.objectContaining({ source: 'manual' }) }) } });
  expect(await db()('assets').where({ id: asset.body.id }).first('location')).toEqual({ location: 'Rack 7' });
});

it('records manual provenance for CIs written by a master-data import', async () => {
  const host = `imp${unique()}`;
  const sent = await send(stack, manager.apiKey, 'POST', '/imports?kind=configuration-items&format=csv&fileName=cis.csv', {
    body: `name,ciClass,hostname,domain,macAddress\nimported ${host},server,${host},corp.northwind.example,AA-BB-CC-${unique().slice(0, 6).match(/../g)!.join('-')}\n`,
    headers: { 'content-type': 'text/csv' },
  });
  expect(sent.status).toBe(202);
  const done = await eventually(async () => {
    const read = await send(stack, manager.apiKey, 'GET', `/imports/${sent.body.id}`);
    return ['completed', 'failed', 'refused'].includes(read.body.state) ? read.body : undefined;
  }, 60_000, 200);
  expect(done).toMatchObject({ state: 'completed', counts: { created: 1 } });
  const ci = await db()('configuration_items').where({ hostname: host }).first('id', 'mac_address');
  expect(ci.mac_address).toMatch(/^aabbcc[0-9a-f]{6}$/);
  expect(await provenanceOf(ci.id)).toMatchObject({ name: 'manual', hostname: 'manual', domain: 'manual', macAddress: 'manual' });
});

it('records only the attributes a person gave when creating a CI, and an asset\'s when a person links it', async () => {
  const serial = `SN-LINK-${unique()}`;
  const asset = await send(stack, manager.apiKey, 'POST', '/assets', {
    body: { serialNumber: serial, manufacturer: 'Dell', model: modelName, state: 'in_stock', substate: 'available', location: 'Shelf 3', currency: 'EUR' },
  });
  expect(asset.status).toBe(201);
  // Given as the default is, the status is the person's word; the environment they left out is not.
  const ci = await postCi({ name: `linked ${unique()}`, ciClass: 'server', operationalStatus: 'operational', assetTag: asset.body.ref });
  expect(ci.status).toBe(201);
  expect(await provenanceOf(ci.body.id)).toEqual({ name: 'manual', operationalStatus: 'manual', serialNumber: 'manual', model: 'manual', location: 'manual' });

  // Discovery, weaker than a person for the location within 60 days, leaves the shelf alone.
  const batch = await runInventoryBatch(stack, {
    source: 'discovery', requestedById: manager.id, rows: [{ ciClass: 'server', serialNumber: serial, location: 'Rack 12', environment: 'staging' }],
  });
  expect(batch.outcome).toMatchObject({ state: 'completed' });
  expect(batch.rows[0]).toMatchObject({ outcome: 'updated', leftAlone: { location: expect.objectContaining({ reason: 'weaker_source' }) } });
  expect(await db()('assets').where({ id: asset.body.id }).first('location')).toEqual({ location: 'Shelf 3' });
  // The environment nobody gave is discovery's to set.
  expect(await db()('configuration_items').where({ id: ci.body.id }).first('environment')).toEqual({ environment: 'staging' });
});

it('stores a feed\'s fully qualified host name apart from its domain, refuses one it cannot place, and a person still edits the record', async () => {
  const host = `web${unique()}`;
  const domain = 'corp.northwind.example';
  const batch = await runInventoryBatch(stack, {
    source: 'discovery', requestedById: manager.id,
    rows: [
      { ciClass: 'server', name: `feed ${host}`, hostname: `${host.toUpperCase()}.${domain}.`, domain },
      { ciClass: 'server', hostname: `${host}.lab.northwind.example`, domain },
      { ciClass: 'server', hostname: `${host}${'x'.repeat(64)}` },
      { ciClass: 'server', hostname: host, domain: Array.from({ length: 5 }, () => 'd'.repeat(49)).join('.') },
      { ciClass: 'server', hostname: `${host}..example` },
    ],
  });
  expect(batch.rows.map((row) => row.outcome)).toEqual(['created', 'refused', 'refused', 'refused', 'refused']);
  expect(batch.rows[1].problems).toEqual([expect.objectContaining({ column: 'hostname', reason: expect.stringMatching(/not in the domain corp\.northwind\.example/) })]);
  expect(batch.rows[2].problems).toEqual([expect.objectContaining({ column: 'hostname', reason: expect.stringMatching(/at most 63 characters/) })]);
  expect(batch.rows[3].problems).toEqual([expect.objectContaining({ column: 'hostname', reason: expect.stringMatching(/at most 253 characters/) })]);
  expect(batch.rows[4].problems).toEqual([expect.objectContaining({ column: 'hostname', reason: expect.stringMatching(/empty label/) })]);
  const ciId = batch.rows[0].recordId!;
  const stored = await db()('configuration_items').where({ id: ciId }).first('number', 'hostname', 'dns_domain');
  expect(stored).toMatchObject({ hostname: host, dns_domain: domain });

  // A person edits the record the feed made; its identifiers, unchanged, are not checked again.
  const edited = await send(stack, manager.apiKey, 'PATCH', `/cis/${stored.number}`, { body: { environment: 'staging' }, headers: ifMatch(1) });
  expect(edited.status).toBe(200);
  expect(edited.body).toMatchObject({ hostname: host, domain, environment: 'staging' });
});

it('lets a live CI hold the identifiers of a retired one, and checks an identifier only when a write changes it', async () => {
  const host = `old${unique()}`;
  const mac = randomBytes(6).toString('hex');
  const retired = await postCi({ name: `retired ${host}`, ciClass: 'server', hostname: host, domain: 'corp.northwind.example', macAddress: mac });
  expect(retired.status).toBe(201);
  expect((await send(stack, manager.apiKey, 'POST', `/cis/${retired.body.ref}/retire`, { headers: ifMatch(1) })).status).toBe(200);

  const successor = await postCi({ name: `successor ${host}`, ciClass: 'server', hostname: host, domain: 'corp.northwind.example', macAddress: mac });
  expect(successor.status).toBe(201);
  // A record stored before these rules held a dotted or overlong host name: an edit of its other columns still saves.
  const legacy = await postCi({ name: `legacy ${host}`, ciClass: 'server' });
  await db()('configuration_items').where({ id: legacy.body.id }).update({ hostname: `${host}.lab`, dns_domain: null });
  const renamed = await send(stack, manager.apiKey, 'PATCH', `/cis/${legacy.body.ref}`, { body: { environment: 'test' }, headers: ifMatch(1) });
  expect(renamed.status).toBe(200);
  const moved = await send(stack, manager.apiKey, 'PATCH', `/cis/${legacy.body.ref}`, { body: { hostname: `${host}x.lab` }, headers: ifMatch(renamed.body.version) });
  expect(moved.body.error.details.problems).toEqual([expect.objectContaining({ column: 'hostname', reason: expect.stringMatching(/put the domain .* in domain/) })]);
});
