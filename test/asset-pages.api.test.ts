/**
 * The asset pages over HTTP with a web session: an asset's page shows its state, history,
 * licences, costs and the CIs it backs; its moves are judged as the lifecycle workflow judges
 * them, a refused one explained (naming the operational CI that blocks a retirement) and, posted
 * anyway, refused with nothing changed; an allowed one goes through the asset's workflow.
 */
import { randomUUID } from 'node:crypto';
import { formatInstant } from '../domain/time-zones';
import { auditRows, createAsset, createCi, createCostCentre, createPerson, installSoftware, type TestPerson } from './support/fixtures';
import { call, startStack, type Stack } from './support/stack';
import { browse, hiddenCsrf, signInWithKey, webAgent, type WebAgent } from './support/web-agent';

let stack: Stack;
let manager: TestPerson;
let agent: WebAgent;
let csrf: string;

beforeAll(async () => {
  stack = await startStack();
  manager = await createPerson(stack.database.db, ['asset_manager'], 'Asha Assets');
  agent = webAgent(stack.baseUrl);
  expect((await signInWithKey(agent, manager.apiKey)).status).toBe(303);
  csrf = hiddenCsrf((await browse(agent, 'GET', '/ui/assets')).html)!;
});

afterAll(async () => {
  await stack?.stop();
});

async function signedIn(person: TestPerson): Promise<WebAgent> {
  const signed = webAgent(stack.baseUrl);
  expect((await signInWithKey(signed, person.apiKey)).status).toBe(303);
  return signed;
}

const stateOf = (page: string) => /<dd id="asset-state">([^<]*)<\/dd>/.exec(page)?.[1];
/** The text of the element with this id, tags stripped. */
const textOf = (page: string, id: string) => new RegExp(`id="${id}"[^>]*>([\\s\\S]*?)</(p|table|dd)>`).exec(page)?.[1].replace(/<[^>]+>/g, '');

async function costRecord(assetId: string, billed: string) {
  await stack.database.db('cost_records').insert({
    source_key: `test:${randomUUID()}`,
    billing_period_start: '2025-01-01T00:00:00Z', billing_period_end: '2025-02-01T00:00:00Z',
    charge_period_start: '2025-01-15T09:00:00Z', charge_period_end: '2025-01-15T09:00:01Z',
    charge_category: 'Purchase', charge_description: '1 x ThinkPad on PO0001234', provider_name: 'Lenovo Direct', service_name: 'ThinkPad',
    billed_cost: billed, effective_cost: billed, billing_currency: 'EUR', asset_id: assetId,
  });
}

it('shows an asset\'s state, history, licences, costs and the CIs it backs', async () => {
  const db = stack.database.db;
  const asset = await createAsset(db, { purchaseCostMinor: 120_000, purchaseDate: '2025-01-15', usefulLifeMonths: 36 });
  const ci = await createCi(db, { name: `ledger-db-${asset.assetTag.toLowerCase()}`, assetId: asset.id });
  const productId = await installSoftware(db, asset.id, 5);
  const product = await db('software_products').where({ id: productId }).first('name');
  await costRecord(asset.id, '1200.000000');
  const moved = await call(stack, manager.apiKey, 'POST', `/assets/${asset.assetTag}/transitions`, { toState: 'in_stock', toSubstate: 'reserved', note: 'kept for the new analyst' });
  expect(moved.status).toBe(200);

  // A viewer in another zone than the organisation's, so that the zone named is the viewer's.
  const viewer = await createPerson(db, ['asset_manager'], 'Nia New York');
  await db('people').where({ id: viewer.id }).update({ time_zone: 'America/New_York' });
  const page = await browse(await signedIn(viewer), 'GET', `/ui/assets/${asset.assetTag}`);

  expect(page.status).toBe(200);
  expect(stateOf(page.html)).toBe('in stock (reserved)');
  const history = textOf(page.html, 'asset-history')!;
  expect(history).toContain('in stock (available) → in stock (reserved)');
  expect(history).toContain(manager.email);
  expect(history).toContain('note: kept for the new analyst');
  expect(textOf(page.html, 'asset-licences')).toContain(product.name);
  expect(textOf(page.html, 'asset-costs')).toContain('EUR 1,200.00');
  expect(textOf(page.html, 'asset-costs')).toContain('Lenovo Direct');
  expect(textOf(page.html, 'book-value')).toMatch(/^EUR [\d,]+\.\d\d \(today, straight line over 36 months\)$/);
  expect(page.html).toContain(`<a href="/ui/cis/${ci.id}">${ci.number}</a>`);
  expect(page.html).toContain(`href="/ui/processes/asset%3A${asset.assetTag}"`);
  // Times are shown in the viewer's zone, named: each is its instant written in America/New_York.
  const historyHtml = /<table id="asset-history">[\s\S]*?<\/table>/.exec(page.html)![0];
  const times = [...historyHtml.matchAll(/<time datetime="([^"]+)">([^<]*)<\/time>/g)];
  expect(times.length).toBeGreaterThan(0);
  for (const [, instant, shown] of times) {
    expect(shown).toMatch(/^\d{4}-\d\d-\d\d \d\d:\d\d \S+ \(America\/New_York\)$/);
    expect(shown).toBe(formatInstant(instant, 'America/New_York'));
  }
});

it('explains a refused retirement by the operational CI it names, and posting it anyway changes nothing', async () => {
  const db = stack.database.db;
  const asset = await createAsset(db);
  const ci = await createCi(db, { name: `payroll-${asset.assetTag.toLowerCase()}`, assetId: asset.id, operationalStatus: 'operational' });
  const page = await browse(agent, 'GET', `/ui/assets/${asset.assetTag}`);
  const why = textOf(page.html, 'move-retired-why');
  expect(why).toContain(`cannot retire: operational configuration items still run on this asset: ${ci.number} ${ci.name}`);
  expect(page.html).toContain('<button type="button" disabled aria-describedby="move-retired-why">Retire</button>');
  // Refused by the table, and the move to where it is.
  expect(textOf(page.html, 'move-on_order-why')).toContain('an asset cannot move from in_stock to on_order');
  expect(textOf(page.html, 'move-in_stock-refused')).toContain('available: the asset is already in_stock/available');
  const before = (await auditRows(db, asset.id)).length;

  const posted = await browse(agent, 'POST', `/ui/assets/${asset.assetTag}/transitions`, { csrf, toState: 'retired', toSubstate: 'sold', requestKey: randomUUID() });

  expect(posted.status).toBe(409);
  expect(posted.html).toContain('Nothing was saved');
  expect(textOf(posted.html, 'move-retired-form-error')).toContain(`${ci.number} ${ci.name}`);
  expect(stateOf(posted.html)).toBe('in stock (available)');
  expect(await db('assets').where({ id: asset.id }).first('state', 'substate', 'version')).toEqual({ state: 'in_stock', substate: 'available', version: 0 });
  expect((await auditRows(db, asset.id)).length).toBe(before);
});

it('refuses in use without an assignee next to the assignee field, then moves the asset with one, once for a form sent twice', async () => {
  const db = stack.database.db;
  const asset = await createAsset(db);
  const user = await createPerson(db, ['requester'], 'Ulla User');
  const page = await browse(agent, 'GET', `/ui/assets/${asset.assetTag}`);
  expect(textOf(page.html, 'move-in_use-assignedToId-hint')).toBe('Needed: an asset in use needs an assignee or a configuration item it backs. Type the email of any active person.');
  expect(page.html).toContain('<input id="move-in_use-assignedToId" name="assignee" type="email"');
  // A few suggestions, not the directory.
  const suggestions = /<datalist id="move-in_use-assignee-suggestions">([\s\S]*?)<\/datalist>/.exec(page.html)![1];
  expect((suggestions.match(/<option /g) ?? []).length).toBeLessThanOrEqual(50);

  const unknown = await browse(agent, 'POST', `/ui/assets/${asset.assetTag}/transitions`, { csrf, toState: 'in_use', assignee: 'nobody@nowhere.invalid', note: 'for Ulla', requestKey: randomUUID() });
  expect(unknown.status).toBe(400);
  expect(textOf(unknown.html, 'move-in_use-assignedToId-error')).toBe('no active person has the email nobody@nowhere.invalid');
  expect(unknown.html).toContain('value="nobody@nowhere.invalid"');

  const refused = await browse(agent, 'POST', `/ui/assets/${asset.assetTag}/transitions`, { csrf, toState: 'in_use', assignee: '', note: 'for Ulla', requestKey: randomUUID() });
  expect(refused.status).toBe(409);
  expect(textOf(refused.html, 'move-in_use-assignedToId-error')).toBe('an asset in use needs an assignee or a configuration item it backs');
  expect(refused.html).toContain('<a href="#move-in_use-assignedToId">Assignee</a>');
  expect(refused.html).toContain('>for Ulla</textarea>');
  expect((await db('assets').where({ id: asset.id }).first('state')).state).toBe('in_stock');

  // Any active person, by email as typed (case aside).
  const form = { csrf, toState: 'in_use', assignee: user.email.toUpperCase(), note: 'for Ulla', requestKey: randomUUID() };
  const first = await browse(agent, 'POST', `/ui/assets/${asset.assetTag}/transitions`, form);
  expect(first).toMatchObject({ status: 303, location: `/ui/assets/${asset.assetTag}?moved=1` });
  const again = await browse(agent, 'POST', `/ui/assets/${asset.assetTag}/transitions`, form);
  expect(again.status).toBe(303);
  const shown = await browse(agent, 'GET', first.location!);
  expect(shown.html).toContain('Done: the asset is now in use.');
  expect(stateOf(shown.html)).toBe('in use');
  expect(textOf(shown.html, 'asset-history')).toContain('assigned to Ulla User');
  expect((await auditRows(db, asset.id)).filter((r) => r.action === 'transition')).toHaveLength(1);
  expect(await db('assets').where({ id: asset.id }).first('state', 'assigned_to_id')).toEqual({ state: 'in_use', assigned_to_id: user.id });
});

it('shows a disposal without its attestation refused next to the attestation, as the API refuses it', async () => {
  const db = stack.database.db;
  const asset = await createAsset(db);
  const refused = await browse(agent, 'POST', `/ui/assets/${asset.assetTag}/transitions`, { csrf, toState: 'retired', toSubstate: 'disposed', requestKey: randomUUID() });
  expect(refused.status).toBe(409);
  expect(textOf(refused.html, 'move-retired-performedBy-error')).toContain('disposal needs a data-wipe attestation');
  const partly = await browse(agent, 'POST', `/ui/assets/${asset.assetTag}/transitions`, {
    csrf, toState: 'retired', toSubstate: 'disposed', performedBy: 'IT Ops', performedAt: '2026-11-20T10:00', method: '', certificateId: 'W-1', requestKey: randomUUID(),
  });
  expect(partly.status).toBe(400);
  expect(textOf(partly.html, 'move-retired-method-error')).toBeTruthy();
  expect((await db('assets').where({ id: asset.id }).first('state')).state).toBe('in_stock');

  const disposed = await browse(agent, 'POST', `/ui/assets/${asset.assetTag}/transitions`, {
    csrf, toState: 'retired', toSubstate: 'disposed', performedBy: 'IT Ops', performedAt: '2026-11-20T10:00', method: 'shred', certificateId: 'W-1', requestKey: randomUUID(),
  });
  expect(disposed.status).toBe(303);
  expect((await db('assets').where({ id: asset.id }).first('disposal_attestation')).disposal_attestation).toEqual({
    performedBy: 'IT Ops', performedAt: '2026-11-20T10:00:00.000Z', method: 'shred', certificateId: 'W-1',
  });
  const again = await browse(agent, 'POST', `/ui/assets/${asset.assetTag}/transitions`, { csrf, toState: 'in_stock', toSubstate: 'available', requestKey: randomUUID() });
  expect(again.status).toBe(409);
  expect(again.html).toContain('an asset cannot move from retired to in_stock');
  expect(stateOf(again.html)).toBe('retired (disposed)');
});

it('lists and searches the estate for overseers, and shows others only their own assets, which they cannot move', async () => {
  const db = stack.database.db;
  const holder = await createPerson(db, ['requester'], 'Hal Holder');
  const mine = await createAsset(db, { state: 'in_use', assignedToId: holder.id });
  const other = await createAsset(db);

  const byTag = await browse(agent, 'GET', `/ui/assets?q=${other.assetTag}`);
  expect(byTag.html).toContain('1 asset matches.');
  expect(byTag.html).toContain(`<a href="/ui/assets/${other.assetTag}">${other.assetTag}</a>`);
  const byAssignee = await browse(agent, 'GET', '/ui/assets?assignee=hal+holder&state=in_use');
  expect(byAssignee.html).toContain('1 asset matches.');
  expect(byAssignee.html).toContain(mine.assetTag);

  const holderAgent = webAgent(stack.baseUrl);
  await signInWithKey(holderAgent, holder.apiKey);
  const list = await browse(holderAgent, 'GET', '/ui/assets');
  expect(list.html).toContain('1 asset matches.');
  expect(list.html).toContain(mine.assetTag);
  const page = await browse(holderAgent, 'GET', `/ui/assets/${mine.assetTag}`);
  expect(page.status).toBe(200);
  expect(page.html).not.toContain('/transitions');
  expect((await browse(holderAgent, 'GET', `/ui/assets/${other.assetTag}`)).status).toBe(403);
  const holderCsrf = hiddenCsrf(page.html)!;
  const move = await browse(holderAgent, 'POST', `/ui/assets/${mine.assetTag}/transitions`, { csrf: holderCsrf, toState: 'missing', requestKey: randomUUID() });
  expect(move.status).toBe(403);
  expect((await db('assets').where({ id: mine.id }).first('state')).state).toBe('in_use');
});

it('lets the asset\'s manager and its cost centre\'s owner list and open it with its costs and origin, its assignee the asset alone, and no one else', async () => {
  const db = stack.database.db;
  const steward = await createPerson(db, ['requester'], 'Mats Managing');
  const owner = await createPerson(db, ['requester'], 'Olga Owner');
  const holder = await createPerson(db, ['requester'], 'Hugo Holding');
  const stranger = await createPerson(db, ['requester'], 'Sven Stranger');
  const code = `AP-${Math.floor(Math.random() * 1e6)}`;
  const costCentreId = await createCostCentre(db, code, `Team ${code}`, null);
  await db('cost_centres').where({ id: costCentreId }).update({ owner_id: owner.id });
  const asset = await createAsset(db, { state: 'in_use', assignedToId: holder.id, managedById: steward.id });
  await db('assets').where({ id: asset.id }).update({ cost_centre_id: costCentreId });
  await costRecord(asset.id, '99.500000');

  for (const person of [steward, owner, holder]) {
    expect((await call(stack, person.apiKey, 'GET', `/assets/${asset.assetTag}`)).status).toBe(200);
  }
  expect((await call(stack, stranger.apiKey, 'GET', `/assets/${asset.assetTag}`)).status).toBe(403);
  // The list shows each of them the asset too, and the stranger not.
  for (const [person, listed] of [[steward, true], [owner, true], [holder, true], [stranger, false]] as const) {
    const { body } = await call(stack, person.apiKey, 'GET', '/assets?limit=200');
    expect(body.items.map((a: { assetTag: string }) => a.assetTag).includes(asset.assetTag)).toBe(listed);
    const list = await browse(await signedIn(person), 'GET', `/ui/assets?q=${asset.assetTag}`);
    expect(list.html.includes(`/ui/assets/${asset.assetTag}`)).toBe(listed);
  }

  for (const person of [steward, owner]) {
    const page = await browse(await signedIn(person), 'GET', `/ui/assets/${asset.assetTag}`);
    expect(page.status).toBe(200);
    expect(textOf(page.html, 'asset-costs')).toContain('EUR 99.50');
    expect(page.html).toContain('id="asset-source"');
    expect(page.html).toContain('<dt>Managed by</dt><dd>Mats Managing</dd>');
    // Seeing is not moving.
    expect(page.html).not.toContain('/transitions');
  }
  const assigned = await browse(await signedIn(holder), 'GET', `/ui/assets/${asset.assetTag}`);
  expect(assigned.status).toBe(200);
  expect(stateOf(assigned.html)).toBe('in use');
  expect(assigned.html).not.toContain('id="asset-costs"');
  expect(assigned.html).not.toContain('id="costs-heading"');
  expect(assigned.html).not.toContain('id="asset-source"');
  expect(assigned.html).not.toContain('Managed by');
  expect((await browse(await signedIn(stranger), 'GET', `/ui/assets/${asset.assetTag}`)).status).toBe(403);
});
