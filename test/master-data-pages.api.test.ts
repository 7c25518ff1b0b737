/**
 * The master-data pages of the web UI, on cost centres: the list searches, sorts and shows retired
 * records on request; the form creates a record judged and audited as the API does; a refused form
 * names each field with its reason (next to the field and in a summary linking to it) and keeps
 * what was typed; an edit made on an old version is refused with 412 and the current values;
 * retire keeps the record and explains a refusal. A requester reads but may not write. Contracts,
 * entitlements and assets are read by the overseers only, as in the API: a requester is refused
 * them and the index leaves them out. Every page carries the security headers.
 */
import { randomBytes } from 'node:crypto';
import { MASTER_DATA } from '../model/master-data';
import { createAsset, createCostCentre, createPerson, createVendor, type TestPerson } from './support/fixtures';
import { call, send, startStack, type Stack } from './support/stack';
import { browse, hiddenCsrf, signInWithKey, webAgent, type WebAgent, type WebAnswer } from './support/web-agent';

let stack: Stack;
let admin: TestPerson;
let requester: TestPerson;
let owner: TestPerson;
let adminAgent: WebAgent;
let adminCsrf: string;
let requesterAgent: WebAgent;
let requesterCsrf: string;
let assetManager: TestPerson;
let assetManagerAgent: WebAgent;

const LIST = '/ui/master-data/cost-centres';

beforeAll(async () => {
  stack = await startStack({ worker: false });
  const db = stack.database.db;
  admin = await createPerson(db, ['admin'], 'Ada Admin');
  requester = await createPerson(db, ['requester'], 'Remy Requester');
  owner = await createPerson(db, ['approver'], 'Otto Owner');
  adminAgent = webAgent(stack.baseUrl);
  expect((await signInWithKey(adminAgent, admin.apiKey)).status).toBe(303);
  adminCsrf = hiddenCsrf((await browse(adminAgent, 'GET', LIST)).html)!;
  requesterAgent = webAgent(stack.baseUrl);
  expect((await signInWithKey(requesterAgent, requester.apiKey)).status).toBe(303);
  requesterCsrf = hiddenCsrf((await browse(requesterAgent, 'GET', LIST)).html)!;
  assetManager = await createPerson(db, ['asset_manager'], 'Asta Manager');
  assetManagerAgent = webAgent(stack.baseUrl);
  expect((await signInWithKey(assetManagerAgent, assetManager.apiKey)).status).toBe(303);
});

afterAll(async () => {
  await stack?.stop();
});

const unique = () => randomBytes(3).toString('hex').toUpperCase();
const inputValue = (html: string, name: string) => new RegExp(`<input[^>]* name="${name}"[^>]*value="([^"]*)"`).exec(html)?.[1];
const inputTag = (html: string, name: string) => new RegExp(`<input[^>]* name="${name}"[^>]*>`).exec(html)?.[0] ?? '';
/** The first cells of the list's body rows: the records shown, in order. */
const listed = (html: string) => [...html.matchAll(/<th scope="row"><a href="[^"]*">([^<]*)<\/a><\/th>/g)].map((m) => m[1]);

async function costCentre(code: string) {
  return stack.database.db('cost_centres').whereRaw('upper(code) = ?', [code.toUpperCase()]).first();
}

async function auditOf(id: string) {
  return stack.database.db('audit_log').where({ subject_type: 'cost_centre', subject_id: id }).orderBy('id').select('actor', 'action', 'details');
}

async function writes() {
  const db = stack.database.db;
  return {
    costCentres: (await db('cost_centres').orderBy('id').select('id', 'code', 'name', 'owner_id', 'version', 'retired_at')),
    audit: Number((await db('audit_log').count({ n: '*' }))[0].n),
  };
}

it('lists the kinds, and a list that searches, sorts and shows retired records only when asked', async () => {
  const tag = unique();
  const db = stack.database.db;
  await createCostCentre(db, `LS-${tag}-B`, `Lisbon ${tag} beta`, null);
  await createCostCentre(db, `LS-${tag}-A`, `Lisbon ${tag} alpha`, null);
  const retiredId = await createCostCentre(db, `LS-${tag}-C`, `Lisbon ${tag} gamma`, null);
  await db('cost_centres').where({ id: retiredId }).update({ retired_at: db.fn.now() });
  await createCostCentre(db, `OT-${tag}`, 'Another place', null);

  const index = await browse(requesterAgent, 'GET', '/ui/master-data');
  expect(index.status).toBe(200);
  expect(index.html).toContain(`<a href="${LIST}">Cost centres</a>`);
  expect(index.html).toContain('<a href="/ui/master-data" aria-current="page">Master data</a>');

  const found = await browse(requesterAgent, 'GET', `${LIST}?q=${tag.toLowerCase()}%20ALPHA`);
  expect(found.status).toBe(200);
  expect(listed(found.html)).toEqual([`LS-${tag}-A`]);
  expect(found.html).toContain('<th scope="col">Code</th>');
  expect(found.html).toContain('1 record matches.');
  expect(found.html).toContain(`<a href="${LIST}/LS-${tag}-A">`);

  expect(listed((await browse(requesterAgent, 'GET', `${LIST}?q=Lisbon%20${tag}`)).html)).toEqual([`LS-${tag}-A`, `LS-${tag}-B`]);
  expect(listed((await browse(requesterAgent, 'GET', `${LIST}?q=LS-${tag}`)).html)).toEqual([`LS-${tag}-A`, `LS-${tag}-B`]);
  expect(listed((await browse(requesterAgent, 'GET', `${LIST}?q=LS-${tag}&sort=-code`)).html)).toEqual([`LS-${tag}-B`, `LS-${tag}-A`]);
  const withRetired = await browse(requesterAgent, 'GET', `${LIST}?q=LS-${tag}&includeRetired=yes&sort=-code`);
  expect(listed(withRetired.html)).toEqual([`LS-${tag}-C`, `LS-${tag}-B`, `LS-${tag}-A`]);
  expect(withRetired.html).toContain('<span class="breached">retired</span>');
  expect(withRetired.html).toMatch(/<input id="f-retired" name="includeRetired" type="checkbox" value="yes" checked>/);

  const paged = await browse(requesterAgent, 'GET', `${LIST}?q=LS-${tag}&limit=1`);
  expect(listed(paged.html)).toEqual([`LS-${tag}-A`]);
  expect(paged.html).toContain(`href="${LIST}?q=LS-${tag}&amp;offset=1&amp;limit=1" rel="next"`);
});

it('creates a record through the form, judged and audited as the API does', async () => {
  const code = `NEW-${unique()}`;
  const form = await browse(adminAgent, 'GET', `${LIST}/new`);
  expect(form.status).toBe(200);
  // Key columns first and marked; an email column is an email input; every control has its label.
  expect(form.html.indexOf('name="code"')).toBeLessThan(form.html.indexOf('name="name"'));
  expect(form.html).toContain('<label for="f-code">Code <span class="meta">(key)</span></label>');
  expect(inputTag(form.html, 'ownerEmail')).toContain('type="email"');
  expect(inputTag(form.html, 'code')).toContain(' required');
  expect(inputTag(form.html, 'ownerEmail')).not.toContain(' required');
  for (const [, id] of form.html.matchAll(/<(?:input|select|textarea) id="([^"]+)"/g)) expect(form.html).toContain(`<label for="${id}">`);

  const created = await browse(adminAgent, 'POST', LIST, { csrf: adminCsrf, code: code.toLowerCase(), name: 'Newly <made>', ownerEmail: owner.email.toUpperCase() });
  expect(created).toMatchObject({ status: 303, location: `${LIST}/${code}?done=created` });
  const row = await costCentre(code);
  expect(row).toMatchObject({ code, name: 'Newly <made>', owner_id: owner.id, version: 1, retired_at: null });
  expect(await auditOf(row.id)).toEqual([{
    actor: admin.email, action: 'created', details: expect.objectContaining({ values: { code, name: 'Newly <made>', ownerEmail: owner.email }, via: 'web' }),
  }]);

  const page = await browse(adminAgent, 'GET', created.location!);
  expect(page.status).toBe(200);
  expect(page.html).toContain('Created.');
  expect(page.html).toContain(`<h1>${code} — Newly &lt;made&gt;</h1>`);
  expect(inputValue(page.html, 'version')).toBe('1');
  expect(inputValue(page.html, 'ownerEmail')).toBe(owner.email);
});

it('renders every registered kind, each field\'s widget derived from its schema (enums, booleans, dates, months, integers, emails, JSON)', async () => {
  for (const kind of MASTER_DATA.keys()) {
    const pages = [await browse(adminAgent, 'GET', `/ui/master-data/${kind}`), await browse(adminAgent, 'GET', `/ui/master-data/${kind}/new`)];
    expect({ kind, statuses: pages.map((p) => p.status) }).toEqual({ kind, statuses: [200, 200] });
  }
  const form = async (kind: string) => {
    const page = await browse(adminAgent, 'GET', `/ui/master-data/${kind}/new`);
    expect({ kind, status: page.status }).toEqual({ kind, status: 200 });
    return page.html;
  };
  const contracts = await form('contracts');
  expect(contracts).toMatch(/<select id="f-kind" name="kind" required><option value="">choose one<\/option><option value="purchase">purchase<\/option>/);
  expect(contracts).toMatch(/<input id="f-startsOn" name="startsOn" required type="date"/);
  expect(contracts).toMatch(/<select id="f-autoRenew" name="autoRenew"><option value="">none<\/option><option value="true">yes<\/option><option value="false">no<\/option><\/select>/);
  expect(contracts).toMatch(/<textarea id="f-documents" name="documents" aria-describedby="f-documents-hint" rows="4">/);
  // The database numbers contracts: the key may be left empty on a new one.
  expect(contracts).toMatch(/<p id="f-number-hint" class="meta">Leave it empty and one is assigned.<\/p>/);
  const budgets = await form('budgets');
  expect(budgets).toMatch(/<input id="f-amountMinor" name="amountMinor" required aria-describedby="f-amountMinor-hint" type="number" step="1" min="0" max="\d+"/);
  expect(budgets).toMatch(/<input id="f-month" name="month" required aria-describedby="f-month-hint" type="month"/);
  expect(await form('configuration-items')).toMatch(/<input id="f-ownerEmail" name="ownerEmail" type="email"/);
});

it('refuses a bad form naming each field next to it and in a focused summary, keeps what was typed, and writes nothing', async () => {
  const code = `BAD-${unique()}`;
  const before = await writes();
  const refused = await browse(adminAgent, 'POST', LIST, { csrf: adminCsrf, code, name: '', ownerEmail: 'not an email' });
  expect(refused.status).toBe(400);
  const summary = /<div class="notice error" id="error-summary" role="alert" tabindex="-1" autofocus[^>]*>([\s\S]*?)<\/div>/.exec(refused.html)?.[1] ?? '';
  expect(summary).toContain('there are 2 problems');
  expect(summary).toContain('<a href="#f-name">Name: required</a>');
  expect(summary).toContain('<a href="#f-ownerEmail">Owner email: not an email address (given: not an email)</a>');
  expect(refused.html).toContain('<p id="f-name-error" class="breached">required</p>');
  expect(inputTag(refused.html, 'name')).toContain('aria-describedby="f-name-error"');
  expect(inputTag(refused.html, 'name')).toContain('aria-invalid="true"');
  expect(inputTag(refused.html, 'code')).not.toContain('aria-invalid');
  expect(inputValue(refused.html, 'code')).toBe(code);
  expect(inputValue(refused.html, 'ownerEmail')).toBe('not an email');

  const nobody = await browse(adminAgent, 'POST', LIST, { csrf: adminCsrf, code, name: 'Named', ownerEmail: 'ghost@nowhere.example' });
  expect(nobody.status).toBe(400);
  expect(nobody.html).toContain('<a href="#f-ownerEmail">Owner email: no active person has this email (given: ghost@nowhere.example)</a>');
  expect(nobody.html).toContain('<p id="f-ownerEmail-error" class="breached">no active person has this email (given: ghost@nowhere.example)</p>');
  expect(inputTag(nobody.html, 'ownerEmail')).toContain('aria-invalid="true"');
  expect(inputValue(nobody.html, 'name')).toBe('Named');

  const existing = `DUP-${unique()}`;
  await createCostCentre(stack.database.db, existing, 'Taken', null);
  const duplicate = await browse(adminAgent, 'POST', LIST, { csrf: adminCsrf, code: existing.toLowerCase(), name: 'Again' });
  expect(duplicate.status).toBe(409);
  expect(duplicate.html).toContain(`<a href="#f-code">Code: cost centres: ${existing} exists already (${existing}); update it instead`);
  expect(inputValue(duplicate.html, 'name')).toBe('Again');

  const after = await writes();
  expect(after.costCentres.filter((c) => c.code !== existing)).toEqual(before.costCentres);
  expect(after.audit).toBe(before.audit);
});

it('saves an edit made on the current version, and refuses one made on an old version with the current values', async () => {
  const code = `ED-${unique()}`;
  const id = await createCostCentre(stack.database.db, code, 'Editing', null);
  const href = `${LIST}/${code}`;
  const edit = (version: string, fields: Record<string, string>) => browse(adminAgent, 'POST', href, { csrf: adminCsrf, version, code, ...fields });

  const saved = await edit('1', { name: 'Edited', ownerEmail: owner.email });
  expect(saved).toMatchObject({ status: 303, location: `${href}?done=saved` });
  expect(await costCentre(code)).toMatchObject({ name: 'Edited', owner_id: owner.id, version: 2 });
  const unchanged = await edit('2', { name: 'Edited', ownerEmail: owner.email });
  expect(unchanged).toMatchObject({ status: 303, location: `${href}?done=unchanged` });
  expect((await browse(adminAgent, 'GET', unchanged.location!)).html).toContain('Nothing was different, so nothing was changed.');

  const before = await writes();
  const stale = await edit('1', { name: 'Lost update', ownerEmail: '' });
  expect(stale.status).toBe(412);
  expect(stale.html).toContain('This record was changed since you read it (it is now at version 2), so nothing was saved.');
  expect(inputValue(stale.html, 'name')).toBe('Edited');
  expect(inputValue(stale.html, 'ownerEmail')).toBe(owner.email);
  expect(inputValue(stale.html, 'version')).toBe('2');
  expect(await writes()).toEqual(before);

  const refused = await edit('2', { name: 'Kept typing', ownerEmail: 'ghost@nowhere.example' });
  expect(refused.status).toBe(400);
  expect(refused.html).toContain('<a href="#f-ownerEmail">Owner email: no active person has this email');
  expect(inputValue(refused.html, 'name')).toBe('Kept typing');
  expect(inputValue(refused.html, 'version')).toBe('2');
  expect(await writes()).toEqual(before);

  const cleared = await edit('2', { name: 'Edited', ownerEmail: '' });
  expect(cleared.status).toBe(303);
  expect(await costCentre(code)).toMatchObject({ owner_id: null, version: 3 });
  expect((await auditOf(id)).map((a) => [a.actor, a.action, a.details.changes])).toEqual([
    [admin.email, 'updated', { name: { from: 'Editing', to: 'Edited' }, ownerEmail: { from: null, to: owner.email } }],
    [admin.email, 'updated', { ownerEmail: { from: owner.email, to: null } }],
  ]);
});

it('retires a record with its version, keeps it, and explains a refusal', async () => {
  const code = `RT-${unique()}`;
  const id = await createCostCentre(stack.database.db, code, 'Retiring', null);
  const href = `${LIST}/${code}`;
  const page = await browse(adminAgent, 'GET', href);
  expect(page.html).toContain(`<label for="confirm-retire">Yes, retire ${code} — Retiring</label>`);

  const unconfirmed = await browse(adminAgent, 'POST', `${href}/retire`, { csrf: adminCsrf, version: '1' });
  expect(unconfirmed.status).toBe(400);
  expect((await costCentre(code)).retired_at).toBeNull();
  const stale = await browse(adminAgent, 'POST', `${href}/retire`, { csrf: adminCsrf, version: '7', confirm: 'yes' });
  expect(stale.status).toBe(412);
  expect(stale.html).toContain('changed since you read it');
  expect((await costCentre(code)).retired_at).toBeNull();

  const retired = await browse(adminAgent, 'POST', `${href}/retire`, { csrf: adminCsrf, version: '1', confirm: 'yes' });
  expect(retired).toMatchObject({ status: 303, location: `${href}?done=retired` });
  expect(await costCentre(code)).toMatchObject({ version: 2, retired_at: expect.any(Date) });
  expect((await auditOf(id)).map((a) => [a.actor, a.action])).toEqual([[admin.email, 'retired']]);
  const shown = await browse(adminAgent, 'GET', retired.location!);
  expect(shown.html).toContain('Retired: it is kept for what refers to it.');
  expect(shown.html).toContain('This record is retired');
  expect(inputTag(shown.html, 'name')).toBe('');

  const again = await browse(adminAgent, 'POST', `${href}/retire`, { csrf: adminCsrf, version: '2', confirm: 'yes' });
  expect(again.status).toBe(409);
  expect(again.html).toMatch(new RegExp(`Not retired: cost centres: ${code} was retired on `));
  expect(await costCentre(code)).toMatchObject({ id, version: 2, retired_at: expect.any(Date) });
});

it('explains why a record of another kind may not be retired here: an asset retires through its lifecycle', async () => {
  const asset = await createAsset(stack.database.db);
  const href = `/ui/master-data/assets/${asset.assetTag}`;
  const page = await browse(adminAgent, 'GET', href);
  expect(page.status).toBe(200);
  const version = /<form method="post" action="[^"]*\/retire">\s*<input type="hidden" name="csrf" value="[^"]*"><input type="hidden" name="version" value="(\d+)">/.exec(page.html)?.[1];
  expect(version).toBeDefined();
  const before = await stack.database.db('assets').where({ id: asset.id }).first();
  const refused = await browse(adminAgent, 'POST', `${href}/retire`, { csrf: adminCsrf, version: version!, confirm: 'yes' });
  expect(refused.status).toBe(409);
  expect(refused.html).toContain(`Not retired: assets retire through the lifecycle (POST /assets/${asset.assetTag}/transitions with toState retired)`);
  expect(await stack.database.db('assets').where({ id: asset.id }).first()).toEqual(before);
});

it('lets a requester read the lists and records but refuses every write and the export with 403, writing nothing', async () => {
  const code = `RQ-${unique()}`;
  await createCostCentre(stack.database.db, code, 'Readable', null);
  const href = `${LIST}/${code}`;
  const list = await browse(requesterAgent, 'GET', `${LIST}?q=${code}`);
  expect(list.status).toBe(200);
  expect(listed(list.html)).toEqual([code]);
  expect(list.html).not.toContain('New record');
  expect(list.html).not.toContain('/export');
  const record = await browse(requesterAgent, 'GET', href);
  expect(record.status).toBe(200);
  expect(record.html).toContain('<dd>Readable</dd>');
  expect(inputTag(record.html, 'version')).toBe('');
  expect(record.html).not.toContain('/retire');

  const before = await writes();
  const answers: WebAnswer[] = [
    await browse(requesterAgent, 'GET', `${LIST}/new`),
    await browse(requesterAgent, 'GET', `${LIST}/export?format=csv`),
    await browse(requesterAgent, 'POST', LIST, { csrf: requesterCsrf, code: `RQ-${unique()}`, name: 'Mine' }),
    await browse(requesterAgent, 'POST', href, { csrf: requesterCsrf, version: '1', code, name: 'Changed' }),
    await browse(requesterAgent, 'POST', `${href}/retire`, { csrf: requesterCsrf, version: '1', confirm: 'yes' }),
  ];
  expect(answers.map((a) => a.status)).toEqual([403, 403, 403, 403, 403]);
  expect(answers[2].html).toContain('Changing cost centres is for: admin. Nothing was changed.');
  expect(await writes()).toEqual(before);
});

it('exports through the session as CSV and JSON lines for those who may, in the columns an import takes', async () => {
  const code = `EX-${unique()}`;
  await createCostCentre(stack.database.db, code, 'Exported, "quoted"', null);
  const list = await browse(adminAgent, 'GET', LIST);
  expect(list.html).toContain(`href="${LIST}/export?format=csv"`);
  expect(list.html).toContain('href="/ui/imports/new?kind=cost-centres"');
  const csv = await browse(adminAgent, 'GET', `${LIST}/export?format=csv`);
  expect(csv.status).toBe(200);
  expect(csv.headers.get('content-type')).toMatch(/^text\/csv/);
  expect(csv.html.split('\n')[0]).toBe('code,name,ownerEmail');
  expect(csv.html).toContain(`${code},"Exported, ""quoted""",\n`);
  const jsonl = await browse(adminAgent, 'GET', `${LIST}/export?format=jsonl`);
  expect(jsonl.html.split('\n').filter(Boolean).map((line) => JSON.parse(line))).toContainEqual({ code, name: 'Exported, "quoted"', ownerEmail: null });
});

it('sends the security headers with every page, refusal and download', async () => {
  const code = `SH-${unique()}`;
  await createCostCentre(stack.database.db, code, 'Headers', null);
  const answers: [string, WebAnswer, number][] = [
    ['index', await browse(adminAgent, 'GET', '/ui/master-data'), 200],
    ['list', await browse(adminAgent, 'GET', `${LIST}?q=${code}`), 200],
    ['new form', await browse(adminAgent, 'GET', `${LIST}/new`), 200],
    ['record', await browse(adminAgent, 'GET', `${LIST}/${code}`), 200],
    ['refused form', await browse(adminAgent, 'POST', LIST, { csrf: adminCsrf, code: '' }), 400],
    ['missing record', await browse(adminAgent, 'GET', `${LIST}/NO-SUCH-${code}`), 404],
    ['forbidden', await browse(requesterAgent, 'GET', `${LIST}/new`), 403],
    ['form without CSRF', await browse(adminAgent, 'POST', LIST, { code }), 403],
    ['export', await browse(adminAgent, 'GET', `${LIST}/export`), 200],
  ];
  for (const [what, res, status] of answers) {
    const csp = res.headers.get('content-security-policy') ?? '';
    expect({
      what,
      status: res.status,
      noScripts: /default-src 'none'/.test(csp) && !/script-src/.test(csp),
      frameAncestors: /frame-ancestors 'none'/.test(csp),
      frame: res.headers.get('x-frame-options'),
      sniff: res.headers.get('x-content-type-options'),
      referrer: res.headers.get('referrer-policy'),
      cache: res.headers.get('cache-control'),
    }).toEqual({ what, status, noScripts: true, frameAncestors: true, frame: 'DENY', sniff: 'nosniff', referrer: 'no-referrer', cache: 'no-store' });
  }
});

/** The lists only the overseers read, as GET /contracts, /entitlements and (all of them) /assets. */
const OVERSEERS_ONLY = ['assets', 'contracts', 'entitlements'];
/** The lists the index links to, by kind name. */
const indexed = (html: string) => [...html.matchAll(/<li><a href="\/ui\/master-data\/([a-z-]+)">/g)].map((m) => m[1]);

it('keeps contracts, entitlements and assets to the overseers: a requester is refused their lists, records and exports, and the index leaves them out', async () => {
  const db = stack.database.db;
  const vendorId = await createVendor(db, `Closed ${unique()} Supplies`);
  const { code: vendorCode } = await db('vendors').where({ id: vendorId }).first('code');
  const contract = await send(stack, assetManager.apiKey, 'POST', '/contracts', {
    body: { vendorCode, kind: 'purchase', title: 'Confidential framework', startsOn: '2026-01-01', endsOn: '2028-12-31', valueMinor: 987_654_321, currency: 'EUR' },
  });
  expect(contract.status).toBe(201);
  const { number } = contract.body as { number: string };
  // Even the requester's own asset: the pages show the estate; a requester reads theirs through GET /assets.
  const asset = await createAsset(db, { state: 'in_use', assignedToId: requester.id });

  const index = await browse(requesterAgent, 'GET', '/ui/master-data');
  expect(index.status).toBe(200);
  expect(indexed(index.html)).toEqual([...MASTER_DATA.keys()].filter((name) => !OVERSEERS_ONLY.includes(name)));
  expect(index.html).not.toMatch(/\/ui\/master-data\/(assets|contracts|entitlements)"/);

  const closed = [
    '/ui/master-data/assets', `/ui/master-data/assets/${asset.assetTag}`, '/ui/master-data/assets/export?format=csv',
    '/ui/master-data/contracts', `/ui/master-data/contracts/${number}`, '/ui/master-data/contracts/export?format=jsonl',
    '/ui/master-data/entitlements', '/ui/master-data/entitlements/export?format=csv',
  ];
  for (const path of closed) {
    const refused = await browse(requesterAgent, 'GET', path);
    expect({ path, status: refused.status }).toEqual({ path, status: 403 });
    expect(refused.html).not.toContain(number);
    expect(refused.html).not.toContain('Confidential framework');
    expect(refused.html).not.toContain(asset.assetTag);
    expect(refused.html).not.toContain('Amsterdam HQ');
    expect(refused.html).toContain('<a href="/ui/master-data">Master data</a>');
  }
  expect((await browse(requesterAgent, 'GET', '/ui/master-data/contracts')).html)
    .toContain('Reading contracts is for: asset manager, process owner, admin.');

  const overseerIndex = await browse(assetManagerAgent, 'GET', '/ui/master-data');
  expect(indexed(overseerIndex.html)).toEqual([...MASTER_DATA.keys()]);
  const contracts = await browse(assetManagerAgent, 'GET', `/ui/master-data/contracts?q=${number}`);
  expect(contracts.status).toBe(200);
  expect(listed(contracts.html)).toEqual([number]);
  expect(contracts.html).toContain('Read by: asset manager, process owner, admin.');
  const record = await browse(assetManagerAgent, 'GET', `/ui/master-data/contracts/${number}`);
  expect(record.status).toBe(200);
  expect(record.html).toContain('<dd>Confidential framework</dd>');
  expect(record.html).toContain('987654321');
  const assetPage = await browse(assetManagerAgent, 'GET', `/ui/master-data/assets/${asset.assetTag}`);
  expect(assetPage.status).toBe(200);
  expect(assetPage.html).toContain(`<dd>${requester.email}</dd>`);
  expect(listed((await browse(assetManagerAgent, 'GET', `/ui/master-data/assets?q=${asset.assetTag}`)).html)).toEqual([asset.assetTag]);
  expect((await browse(assetManagerAgent, 'GET', '/ui/master-data/entitlements')).status).toBe(200);
  const exported = await browse(assetManagerAgent, 'GET', '/ui/master-data/contracts/export?format=csv');
  expect(exported.status).toBe(200);
  expect(exported.html).toContain(`${number},${vendorCode},purchase,Confidential framework,`);
});

it('lets a requester read a list in the pages exactly where the API lets them, and the assets assigned to them only through GET /assets', async () => {
  const asset = await createAsset(stack.database.db, { state: 'in_use', assignedToId: requester.id });
  const answers = [];
  for (const kind of MASTER_DATA.values()) {
    const api = await call(stack, requester.apiKey, 'GET', kind.path);
    const web = await browse(requesterAgent, 'GET', `/ui/master-data/${kind.name}`);
    answers.push({ kind: kind.name, api: api.status, web: web.status });
  }
  const status = (name: string) => (OVERSEERS_ONLY.includes(name) ? 403 : 200);
  expect(answers).toEqual([...MASTER_DATA.keys()].map((kind) => ({ kind, api: kind === 'assets' ? 200 : status(kind), web: status(kind) })));
  const own = (await call(stack, requester.apiKey, 'GET', '/assets?limit=200')).body.items as { assetTag: string; assignedToId: string }[];
  expect(own.map((item) => item.assetTag)).toContain(asset.assetTag);
  expect(own.filter((item) => item.assignedToId !== requester.id)).toEqual([]);
});
