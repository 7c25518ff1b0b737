/**
 * The inventory pages of the web UI, with the worker: a batch sent through the upload form (dry run
 * by default) shows its report row by row, each attribute old -> new with its source and the rule's
 * reason and what was left alone and who holds it; "Apply this batch" runs the same rows for real;
 * a header the intake refuses is shown next to the file field; the rules and sources are edited with
 * the version the form was made on, and a stale version shows the conflict and saves nothing; the CI
 * and asset pages show where each attribute comes from and which feeds see the record, to those who
 * may see the asset behind it (its assignee's email is among them); a record a feed created is "not
 * yet verified" until an asset manager marks it verified; none of it is for a requester.
 */
import { randomBytes } from 'node:crypto';
import { createAsset, createCi, createPerson, eventually, type TestPerson } from './support/fixtures';
import { runInventoryBatch } from './support/inventory';
import { startStack, type Stack } from './support/stack';
import { browse, hiddenCsrf, signInWithKey, webAgent, type WebAgent, type WebAnswer } from './support/web-agent';

let stack: Stack;
let manager: TestPerson;
let owner: TestPerson;
let requester: TestPerson;
let managerAgent: WebAgent;
let ownerAgent: WebAgent;
let requesterAgent: WebAgent;
let csrf: string;

beforeAll(async () => {
  stack = await startStack();
  const db = stack.database.db;
  manager = await createPerson(db, ['asset_manager'], 'Asta Inventory');
  owner = await createPerson(db, ['process_owner'], 'Paul Rules');
  requester = await createPerson(db, ['requester'], 'Remy Requester');
  managerAgent = await signedIn(manager);
  ownerAgent = await signedIn(owner);
  requesterAgent = await signedIn(requester);
  csrf = hiddenCsrf((await browse(managerAgent, 'GET', '/ui/inventory')).html)!;
});

afterAll(async () => {
  await stack?.stop();
});

const unique = () => randomBytes(4).toString('hex');

async function signedIn(person: TestPerson): Promise<WebAgent> {
  const agent = webAgent(stack.baseUrl);
  expect((await signInWithKey(agent, person.apiKey)).status).toBe(303);
  return agent;
}

type Part = [string, string] | [string, { content: string; fileName: string }];

/** Posts a multipart form as a browser does: the parts in the order given, with the agent's cookies. */
async function postMultipart(agent: WebAgent, path: string, parts: Part[]): Promise<WebAnswer> {
  const form = new FormData();
  for (const [name, value] of parts) {
    if (typeof value === 'string') form.append(name, value);
    else form.append(name, new Blob([value.content], { type: 'application/octet-stream' }), value.fileName);
  }
  const res = await fetch(`${agent.baseUrl}${path}`, {
    method: 'POST',
    redirect: 'manual',
    headers: { cookie: [...agent.cookies].map(([k, v]) => `${k}=${v}`).join('; ') },
    body: form,
  });
  return { status: res.status, location: res.headers.get('location'), setCookies: res.headers.getSetCookie(), headers: res.headers, html: await res.text() };
}

/** Posts a form whose fields may repeat (checkboxes of one name), as a browser does. */
async function postPairs(agent: WebAgent, path: string, pairs: [string, string][]): Promise<WebAnswer> {
  const res = await fetch(`${agent.baseUrl}${path}`, {
    method: 'POST',
    redirect: 'manual',
    headers: { cookie: [...agent.cookies].map(([k, v]) => `${k}=${v}`).join('; '), 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams(pairs).toString(),
  });
  return { status: res.status, location: res.headers.get('location'), setCookies: res.headers.getSetCookie(), headers: res.headers, html: await res.text() };
}

const FINAL = ['previewed', 'completed', 'refused', 'failed'];

async function finished(id: string): Promise<string> {
  return eventually(async () => {
    const row = await stack.database.db('imports').where({ id }).first('state');
    return FINAL.includes(row.state) ? row.state as string : undefined;
  }, 60_000);
}

/** Sends a file through the upload form; answers the batch id the page sent the browser to. */
async function upload(options: { content: string; fileName: string; source?: string; dryRun?: boolean; observedAt?: string }): Promise<WebAnswer> {
  return postMultipart(managerAgent, '/ui/inventory/batches', [
    ['csrf', csrf],
    ['source', options.source ?? 'discovery'],
    ['format', 'auto'],
    ...(options.dryRun === false ? [] : [['dryRun', 'yes'] as Part]),
    ['batchKey', ''],
    ['observedAt', options.observedAt ?? ''],
    ['file', { content: options.content, fileName: options.fileName }],
  ]);
}

const batchIdOf = (answer: WebAnswer) => /^\/ui\/inventory\/batches\/([0-9a-f-]{36})$/.exec(answer.location ?? '')?.[1];

/** The row report's line of a file row, as text without tags. */
function reportLine(html: string, rowNumber: number): string {
  const line = new RegExp(`<tr id="row-${rowNumber}">([\\s\\S]*?)</tr>`).exec(html)?.[1] ?? '';
  return line.replace(/<[^>]+>/g, ' ').replace(/&#39;/g, '\'').replace(/\s+/g, ' ').trim();
}

/** A server with an asset behind it whose location a person set a minute ago, and no host name yet. */
async function knownServer() {
  const db = stack.database.db;
  const asset = await createAsset(db, { state: 'in_use', assignedToId: manager.id });
  const ci = await createCi(db, { name: `srv-${unique()}`, ciClass: 'server', assetId: asset.id });
  const setAt = new Date(Date.now() - 60_000).toISOString();
  await db('attribute_provenance').insert({ ci_id: ci.id, attribute: 'location', source: 'manual', set_at: setAt, confirmed_at: setAt });
  return { asset, ci };
}

it('shows the inventory pages to asset managers and process owners, and refuses requesters', async () => {
  for (const agent of [managerAgent, ownerAgent]) {
    const list = await browse(agent, 'GET', '/ui/inventory');
    expect(list.status).toBe(200);
    expect(list.html).toContain('<h1>Inventory</h1>');
    expect(list.html).toContain('href="/ui/inventory" aria-current="page"');
    const rules = await browse(agent, 'GET', '/ui/inventory/rules');
    expect(rules.status).toBe(200);
    expect(rules.html).toContain('Identification rules');
    expect(rules.html).toContain('Network discovery');
  }
  // Only those who send batches get the upload form and the rules' forms.
  expect((await browse(managerAgent, 'GET', '/ui/inventory')).html).toContain('action="/ui/inventory/batches" enctype="multipart/form-data"');
  expect((await browse(ownerAgent, 'GET', '/ui/inventory')).html).not.toContain('action="/ui/inventory/batches"');
  expect((await browse(ownerAgent, 'GET', '/ui/inventory/rules')).html).not.toContain('action="/ui/inventory/rules/identification/server"');

  for (const path of ['/ui/inventory', '/ui/inventory/rules']) {
    const refused = await browse(requesterAgent, 'GET', path);
    expect(refused.status).toBe(403);
  }
  expect((await browse(requesterAgent, 'GET', '/ui/my-requests')).html).not.toContain('href="/ui/inventory"');
  const own = hiddenCsrf((await browse(requesterAgent, 'GET', '/ui/my-requests')).html)!;
  expect((await browse(requesterAgent, 'POST', '/ui/inventory/rules/reconciliation', { csrf: own, attribute: 'location' })).status).toBe(403);
});

it('sends a dry run through the form, shows old -> new with the rule\'s reason and what it left alone, and applies it', async () => {
  const db = stack.database.db;
  const { asset, ci } = await knownServer();
  const host = `web-${unique()}`;
  const row = { ciClass: 'server', serialNumber: asset.serialNumber, hostname: `${host}.corp.example`, location: 'Rack 9' };
  const sent = await upload({ content: `${JSON.stringify(row)}\n`, fileName: 'scan.jsonl' });
  expect(sent.status).toBe(303);
  const dryRunId = batchIdOf(sent)!;
  expect(await finished(dryRunId)).toBe('previewed');

  const page = await browse(managerAgent, 'GET', `/ui/inventory/batches/${dryRunId}`);
  expect(page.status).toBe(200);
  expect(page.html).toContain('This was a dry run: nothing was written.');
  expect(page.html).toContain('Apply this batch');
  const line = reportLine(page.html, 1);
  expect(line).toContain('would update');
  expect(line).toContain(`matched ${ci.name} ${ci.number} by serial number`);
  expect(line).toContain(`host name : – → ${host} (discovery; the record had no host name yet)`);
  expect(line).toContain('location : kept Amsterdam HQ, offered Rack 9 (manual is stronger than discovery for location');
  expect((await db('configuration_items').where({ id: ci.id }).first('hostname')).hostname).toBeNull();

  // The same rows, for real: each judged again, and written as the report said.
  const applied = await browse(managerAgent, 'POST', `/ui/inventory/batches/${dryRunId}/apply`, { csrf });
  expect(applied.status).toBe(303);
  const batchId = batchIdOf(applied)!;
  expect(batchId).not.toBe(dryRunId);
  expect(await finished(batchId)).toBe('completed');
  const real = await browse(managerAgent, 'GET', `/ui/inventory/batches/${batchId}`);
  expect(real.html).not.toContain('Apply this batch');
  expect(reportLine(real.html, 1)).toContain(`updated matched ${ci.name} ${ci.number} by serial number`);
  expect(reportLine(real.html, 1)).toContain(`host name : – → ${host}`);
  expect((await db('configuration_items').where({ id: ci.id }).first('hostname')).hostname).toBe(host);
  // Applied once: the button sent again answers the same batch.
  const again = await browse(managerAgent, 'POST', `/ui/inventory/batches/${dryRunId}/apply`, { csrf });
  expect(batchIdOf(again)).toBe(batchId);

  // The list shows both, newest first, and filters by state.
  const list = await browse(managerAgent, 'GET', '/ui/inventory?source=discovery&state=previewed');
  expect(list.html).toContain(`/ui/inventory/batches/${dryRunId}`);
  expect(list.html).not.toContain(`/ui/inventory/batches/${batchId}`);

  // Where the data comes from, on the CI's page and its asset's.
  for (const path of [`/ui/cis/${ci.number}`, `/ui/assets/${asset.assetTag}`]) {
    const shown = await browse(managerAgent, 'GET', path);
    expect(shown.status).toBe(200);
    const table = /<table class="provenance"[\s\S]*?<\/table>/.exec(shown.html)?.[0] ?? '';
    const text = table.replace(/<[^>]+>/g, ' ').replace(/\s+/g, ' ');
    expect(text).toContain(`host name ${host} Network discovery`);
    expect(text).toContain('location Amsterdam HQ Entered by people');
    // The serial a person typed before reconciliation, reported the same by discovery, is discovery's now.
    expect(text).toMatch(/serial number \S+ Network discovery/);
    expect(table).toContain(`href="/ui/inventory/batches/${batchId}"`);
    const seen = (/<table class="sightings"[\s\S]*?<\/table>/.exec(shown.html)?.[0] ?? '').replace(/<[^>]+>/g, ' ').replace(/\s+/g, ' ');
    expect(seen).toContain('Network discovery');
    expect(seen).toContain('seen');
  }
});

it('shows where a record\'s data comes from only to those who may see the asset behind it', async () => {
  const db = stack.database.db;
  const holder = await createPerson(db, ['requester'], 'Hana Holder');
  const asset = await createAsset(db, { state: 'in_use', assignedToId: holder.id });
  const ci = await createCi(db, { name: `laptop-${unique()}`, ciClass: 'computer', assetId: asset.id });
  const seenAt = new Date().toISOString();
  await db('ci_sightings').insert({ ci_id: ci.id, source: 'mdm', first_seen_at: seenAt, last_seen_at: seenAt });

  // The asset manager and the person it is assigned to see its provenance: serial, location, assignee.
  for (const agent of [managerAgent, await signedIn(holder)]) {
    const shown = await browse(agent, 'GET', `/ui/cis/${ci.number}`);
    const provenance = /<table class="provenance"[\s\S]*?<\/table>/.exec(shown.html)?.[0] ?? '';
    expect(provenance).toContain(holder.email);
    expect(provenance).toContain(asset.serialNumber!);
    expect(shown.html).toContain(`id="sightings-${ci.number}"`);
    expect(shown.html).not.toContain('id="sources-hidden"');
  }
  // Anyone else signed in sees the CI, but not whose laptop it is, nor where it is, nor who reports it.
  const forRequester = await browse(requesterAgent, 'GET', `/ui/cis/${ci.number}`);
  expect(forRequester.status).toBe(200);
  expect(forRequester.html).toContain(ci.name);
  expect(forRequester.html).not.toContain(holder.email);
  expect(forRequester.html).not.toContain(asset.serialNumber!);
  expect(forRequester.html).not.toContain('Amsterdam HQ');
  expect(forRequester.html).not.toContain(`id="sightings-${ci.number}"`);
  expect(forRequester.html).toContain('id="sources-hidden"');
});

it('shows a refused upload next to its field, and writes nothing', async () => {
  const before = Number((await stack.database.db('imports').where({ kind: 'inventory' }).count({ n: '*' }))[0].n);
  const header = await upload({ content: 'ciClass,colour\nserver,blue\n', fileName: 'bad.csv' });
  expect(header.status).toBe(400);
  expect(header.html).toMatch(/<p id="u-file-error" class="notice error">[^<]*unknown column/);
  expect(header.html).toContain('aria-invalid="true" aria-describedby="u-file-error"');
  const future = await upload({ content: '{"ciClass":"server","serialNumber":"X-1"}\n', fileName: 'later.jsonl', observedAt: '2099-01-01T10:00' });
  expect(future.status).toBe(400);
  expect(future.html).toMatch(/<p id="u-observedAt-error" class="notice error">[^<]*in the future/);
  expect(future.html).toContain('value="2099-01-01T10:00"');
  const after = Number((await stack.database.db('imports').where({ kind: 'inventory' }).count({ n: '*' }))[0].n);
  expect(after).toBe(before);
  // Without the session's token the file is not read.
  const forged = await postMultipart(managerAgent, '/ui/inventory/batches', [['csrf', 'forged'], ['source', 'discovery'], ['file', { content: 'x', fileName: 'x.csv' }]]);
  expect(forged.status).toBe(403);
});

/** The version in the hidden field of the form that posts to `action` (and names `attribute`, for reconciliation rules). */
function versionIn(html: string, action: string, attribute?: string): string {
  const forms = [...html.matchAll(/<form method="post" action="([^"]+)"[^>]*>([\s\S]*?)<\/form>/g)]
    .filter(([, to, body]) => to === action && (!attribute || body.includes(`name="attribute" value="${attribute}"`)));
  return /name="version" value="(\d*)"/.exec(forms[0]?.[2] ?? '')?.[1] ?? 'none';
}

it('saves a rule with the version its form was made on, shows a stale one as a conflict, and audits each write', async () => {
  const db = stack.database.db;
  // A rule of its own for name, which none is seeded for (assignedTo and software take none): the
  // * rule's sources, so batches of other test files running now are judged alike, and removed
  // whatever happens here.
  const star = await db('reconciliation_rules').where({ attribute: '*' }).first('sources', 'staleness_days');
  const sourcesOf = (list: string[]) => list.map((source, at) => [`source-${at}`, source] as [string, string]);
  expect(await db('reconciliation_rules').where({ attribute: 'name' }).first()).toBeUndefined();
  try {
    const created = await postPairs(managerAgent, '/ui/inventory/rules/reconciliation', [
      ['csrf', csrf], ['version', ''], ['attribute', 'name'], ...sourcesOf(star.sources), ['stalenessDays', String(star.staleness_days)],
    ]);
    expect(created.status).toBe(303);
    let page = await browse(managerAgent, 'GET', created.location!);
    expect(page.html).toContain('The reconciliation rule is saved.');
    const version = versionIn(page.html, '/ui/inventory/rules/reconciliation', 'name');
    expect(version).toBe('1');

    const changed = await postPairs(managerAgent, '/ui/inventory/rules/reconciliation', [
      ['csrf', csrf], ['version', version], ['attribute', 'name'], ...sourcesOf(star.sources), ['stalenessDays', String(star.staleness_days + 1)],
    ]);
    expect(changed.status).toBe(303);
    expect((await db('reconciliation_rules').where({ attribute: 'name' }).first('staleness_days', 'version'))).toEqual({ staleness_days: star.staleness_days + 1, version: 2 });

    // Made on version 1, which is no longer there: nothing is saved, and the page says why.
    const stale = await postPairs(managerAgent, '/ui/inventory/rules/reconciliation', [
      ['csrf', csrf], ['version', version], ['attribute', 'name'], ...sourcesOf(star.sources), ['stalenessDays', '99'],
    ]);
    expect(stale.status).toBe(412);
    expect(stale.html).toContain('Someone changed this since you opened the page, so nothing was saved.');
    expect((await db('reconciliation_rules').where({ attribute: 'name' }).first('staleness_days')).staleness_days).toBe(star.staleness_days + 1);

    // A refusal of the rule's own schema shows next to its field.
    const invalid = await postPairs(managerAgent, '/ui/inventory/rules/reconciliation', [
      ['csrf', csrf], ['version', '2'], ['attribute', 'name'], ['source-0', 'mdm'], ['source-1', 'mdm'], ['stalenessDays', '5000'],
    ]);
    expect(invalid.status).toBe(400);
    expect(invalid.html).toMatch(/id="recon-name-sources-error" class="notice error">a source is named twice/);
    expect(invalid.html).toMatch(/id="recon-name-days-error" class="notice error">at most 3650/);

    page = await browse(managerAgent, 'GET', '/ui/inventory/rules');
    const removed = await postPairs(managerAgent, '/ui/inventory/rules/reconciliation/remove', [
      ['csrf', csrf], ['attribute', 'name'], ['version', versionIn(page.html, '/ui/inventory/rules/reconciliation/remove', 'name')],
    ]);
    expect(removed.status).toBe(303);
    expect(await db('reconciliation_rules').where({ attribute: 'name' }).first()).toBeUndefined();
    const audit = await db('audit_log').where({ subject_type: 'reconciliation_rule', actor: manager.email }).orderBy('id').pluck('action');
    expect(audit).toEqual(['created', 'updated', 'removed']);

    // Identification rules and sources: a stale version writes nothing either.
    const ruleVersion = Number(versionIn(page.html, '/ui/inventory/rules/identification/mobile_device'));
    const staleRules = await postPairs(managerAgent, '/ui/inventory/rules/identification/mobile_device', [
      ['csrf', csrf], ['version', String(ruleVersion + 7)], ['lines', '1'], ['order-0', '1'], ['attributes-0', 'serialNumber'], ['active-0', 'yes'],
    ]);
    expect(staleRules.status).toBe(412);
    expect(staleRules.html).toContain('Someone changed this since you opened the page');
    expect(staleRules.html).toMatch(/name="attributes-0" type="checkbox" value="serialNumber" checked/);
    const emptyRules = await postPairs(managerAgent, '/ui/inventory/rules/identification/mobile_device', [
      ['csrf', csrf], ['version', String(ruleVersion)], ['lines', '1'], ['order-0', '1'], ['active-0', 'yes'],
    ]);
    expect(emptyRules.status).toBe(400);
    expect(emptyRules.html).toContain('a class needs at least one rule');
    const staleSource = await postPairs(managerAgent, '/ui/inventory/sources/hr', [['csrf', csrf], ['version', '999'], ['unseenAfterDays', '10']]);
    expect(staleSource.status).toBe(412);
    expect((await db('inventory_sources').where({ name: 'hr' }).first('unseen_after_days')).unseen_after_days).toBeNull();
  } finally {
    await db('reconciliation_rules').where({ attribute: 'name' }).delete();
  }
});

it('marks a record a feed created verified, for asset managers only, audited', async () => {
  const db = stack.database.db;
  const host = `vm-${unique()}`;
  const batch = await runInventoryBatch(stack, { source: 'cloud_inventory', requestedById: manager.id, rows: [{ ciClass: 'virtual_machine', hostname: host, environment: 'production' }] });
  expect(batch.outcome).toMatchObject({ state: 'completed' });
  const ciId = batch.rows[0].recordId!;
  const { number } = await db('configuration_items').where({ id: ciId }).first('number');

  const shown = await browse(managerAgent, 'GET', `/ui/cis/${number}`);
  expect(shown.html).toContain('not yet verified');
  expect(shown.html).toContain(`action="/ui/cis/${number}/verified"`);
  expect(shown.html).toContain('Cloud inventory');
  const forRequester = await browse(requesterAgent, 'GET', `/ui/cis/${number}`);
  expect(forRequester.html).toContain('not yet verified');
  expect(forRequester.html).not.toContain('Mark verified');
  const own = hiddenCsrf(forRequester.html)!;
  expect((await browse(requesterAgent, 'POST', `/ui/cis/${number}/verified`, { csrf: own })).status).toBe(403);
  expect((await db('configuration_items').where({ id: ciId }).first('discovery_state')).discovery_state).toBe('discovered');

  const verified = await browse(managerAgent, 'POST', `/ui/cis/${number}/verified`, { csrf });
  expect(verified.status).toBe(303);
  expect(verified.location).toBe(`/ui/cis/${number}?verified=1`);
  const after = await browse(managerAgent, 'GET', verified.location!);
  expect(after.html).toContain('Marked verified.');
  expect(after.html).not.toContain('not yet verified');
  expect((await db('configuration_items').where({ id: ciId }).first('discovery_state')).discovery_state).toBe('verified');
  const audit = await db('audit_log').where({ subject_type: 'configuration_item', subject_id: ciId, action: 'verified' }).select('actor', 'from_state', 'to_state');
  expect(audit).toEqual([{ actor: manager.email, from_state: 'discovered', to_state: 'verified' }]);
  // Sent again, it changes nothing more.
  expect((await browse(managerAgent, 'POST', `/ui/cis/${number}/verified`, { csrf })).status).toBe(303);
  const [{ n }] = await db('audit_log').where({ subject_type: 'configuration_item', subject_id: ciId, action: 'verified' }).count({ n: '*' });
  expect(Number(n)).toBe(1);
});

it('reports a held row with the records it names and its steward case, and software installed and unknown', async () => {
  const db = stack.database.db;
  const { asset, ci } = await knownServer();
  const other = await createCi(db, { name: `other-${unique()}`, ciClass: 'server' });
  const otherHost = `other-${unique()}`;
  await db('configuration_items').where({ id: other.id }).update({ hostname: otherHost, dns_domain: 'corp.example' });
  const product = `Notepad ${unique()}`;
  await db('software_products').insert({ publisher: 'Acme', name: product, licence_metric: 'per_device', unit_price_minor: 1_000, currency: 'EUR' });
  const rows = [
    // Its serial names one server and its host name another: held for a data steward.
    { ciClass: 'server', serialNumber: asset.serialNumber, hostname: `${otherHost}.corp.example` },
    { ciClass: 'server', assetTag: asset.assetTag, software: [product, 'No Such Product 9'] },
  ];
  const batch = await runInventoryBatch(stack, { source: 'discovery', requestedById: manager.id, rows });
  expect(batch.summary.state).toBe('completed');
  const caseNumber = batch.rows[0].identification?.caseNumber;

  const page = await browse(ownerAgent, 'GET', `/ui/inventory/batches/${batch.importId}`);
  expect(page.status).toBe(200);
  const held = reportLine(page.html, 1);
  expect(held).toContain('held held :');
  expect(held).toContain('names one record and its');
  expect(held).toContain(ci.number);
  expect(held).toContain(other.number);
  expect(caseNumber).toMatch(/^RCN\d+$/);
  expect(page.html).toContain(`href="/ui/reconciliation/cases/${caseNumber}"`);
  const software = reportLine(page.html, 2);
  expect(software).toContain(`software : installed: Acme ${product} (discovery; software is not decided by source authority: what discovery lists is installed`);
  expect(software).toContain('unknown products: No Such Product 9 (not in the software catalogue)');
  const filtered = await browse(ownerAgent, 'GET', `/ui/inventory/batches/${batch.importId}?filter=hold`);
  expect(filtered.html).toContain('id="row-1"');
  expect(filtered.html).not.toContain('id="row-2"');
  // Process owners read batches; sending and applying is for asset managers and admins.
  expect(page.html).not.toContain('Apply this batch');
});
