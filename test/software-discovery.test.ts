/**
 * Software discovery becomes installations (issue 16): a feed's list for a device is whole, so
 * what it lists is installed or confirmed and what it listed before and no longer does it takes
 * back; an installation no feed still lists is reclaimed (kept as history), so two feeds that
 * disagree do not reclaim and reinstall it in turn; an installation a person or a workflow
 * recorded is never taken away by a feed; a late batch changes nothing. Licence positions move
 * with it, and the installations beyond the entitlement are listed with their true-up cost.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { applyInstallations, planInstallations, type DiscoveredSoftware, type InstallationPlan } from '../model/reconciliation/installations';
import { licencePositions } from '../model/licences';
import { listUnlicensedInstallations } from '../model/unlicensed-installations';
import type { InventorySource } from '../domain/reconciliation';
import { createAsset, createCi, createHardwareModel, createPerson, type TestPerson } from './support/fixtures';
import { runInventoryBatch } from './support/inventory';
import { startStack, type Stack } from './support/stack';
import { browse, signInWithKey, webAgent } from './support/web-agent';

let stack: Stack;
let manager: TestPerson;
const db = () => stack.database.db;
const unique = () => randomBytes(4).toString('hex');

beforeAll(async () => {
  stack = await startStack();
  manager = await createPerson(db(), ['asset_manager'], 'Sam Steward');
});

afterAll(async () => {
  await stack?.stop();
});

/** A per-device product with `entitled` seats at 240.00 EUR a seat; answers its id and both names a feed may use. */
async function product(entitled: number, options: { publisher?: string; name?: string } = {}): Promise<{ id: string; name: string; title: string }> {
  const publisher = options.publisher ?? `Pub${unique()}`;
  const name = options.name ?? `Suite ${unique()}`;
  const [{ id }] = await db()('software_products')
    .insert({ publisher, name, licence_metric: 'per_device', unit_price_minor: 24_000, currency: 'EUR' })
    .returning('id');
  if (entitled > 0) await db()('software_entitlements').insert({ product_id: id, metric: 'per_device', quantity: entitled, starts_on: '2025-01-01', currency: 'EUR' });
  return { id, name, title: `${publisher} ${name}` };
}

const installationsOf = (productId: string) =>
  db()('software_consumptions').where({ product_id: productId, kind: 'installation' }).orderBy('installed_at').select('*');

const positionOf = async (productId: string) => (await licencePositions(db(), [productId]))[0];

/** Plans and applies one batch's rows as the engine does in its apply (plan under the transaction, then write). */
async function discover(source: InventorySource, seenAt: string, rows: (DiscoveredSoftware & { assetId?: string | null })[], importId = randomUUID()): Promise<Map<number, InstallationPlan>> {
  return db().transaction(async (trx) => {
    const plans = await planInstallations(trx, source, seenAt, rows);
    const writes = rows.filter((row) => row.ciId !== null).map((row) => ({ ...plans.get(row.rowNumber)!, ciId: row.ciId!, assetId: row.assetId ?? null }));
    await applyInstallations(trx, source, seenAt, importId, writes);
    return plans;
  });
}

describe('planning and applying a feed', () => {
  it('installs what a row lists, by name or "publisher name" in any case, reports unknown names, and installs nothing more the second time', async () => {
    const ci = await createCi(db(), { ciClass: 'virtual_machine' });
    const [a, b] = [await product(5), await product(5)];
    const unknown = `Nothing Known ${unique()}`;
    const seenAt = '2026-11-20T10:00:00.000Z';
    const row = { rowNumber: 1, ciId: ci.id, software: [a.name.toUpperCase(), ` ${b.title.toLowerCase()} `, unknown, a.title] };

    const first = (await discover('discovery', seenAt, [row])).get(1)!;
    expect(first).toEqual({
      rowNumber: 1,
      change: { from: [], to: [a.title, b.title].sort(), source: 'discovery', reason: 'listed_by_sources' },
      unknownProducts: [unknown],
      addProductIds: [a.id, b.id],
      reclaimConsumptionIds: [],
      withdrawConsumptionIds: [],
      confirmConsumptionIds: [],
    });
    const installed = await installationsOf(a.id);
    expect(installed).toHaveLength(1);
    expect(installed[0]).toMatchObject({
      ci_id: ci.id, asset_id: null, units: 1, discovered_by: 'discovery', reclaimed_at: null, reported_by: { discovery: { at: seenAt, listed: true } },
    });
    expect(installed[0].installed_at.toISOString()).toBe(seenAt);
    expect(installed[0].last_seen_at.toISOString()).toBe(seenAt);

    const before = await db()('software_consumptions').where({ ci_id: ci.id }).orderBy('id');
    const again = (await discover('discovery', seenAt, [row])).get(1)!;
    expect(again).toMatchObject({ change: null, addProductIds: [], reclaimConsumptionIds: [], unknownProducts: [unknown] });
    expect(again.confirmConsumptionIds.sort()).toEqual(before.map((c) => c.id).sort());
    expect(await db()('software_consumptions').where({ ci_id: ci.id }).orderBy('id')).toEqual(before);
  });

  it('plans nothing for a row it is not given, and everything as new for a record the row creates', async () => {
    const a = await product(1);
    const plans = await planInstallations(db(), 'discovery', '2026-11-20T10:00:00.000Z', [{ rowNumber: 7, ciId: null, software: [a.name] }]);
    expect([...plans.keys()]).toEqual([7]);
    expect(plans.get(7)).toMatchObject({ addProductIds: [a.id], change: { from: [], to: [a.title] } });
    expect((await planInstallations(db(), 'discovery', '2026-11-20T10:00:00.000Z', [])).size).toBe(0);
  });

  it('reclaims what the same source no longer lists, keeps it as history, and a late batch neither reclaims nor reinstalls', async () => {
    const ci = await createCi(db(), { ciClass: 'virtual_machine' });
    const [a, b] = [await product(5), await product(5)];
    await discover('discovery', '2026-11-20T10:00:00.000Z', [{ rowNumber: 1, ciId: ci.id, software: [a.name, b.name] }]);
    const [installedB] = await installationsOf(b.id);

    const importId = randomUUID();
    const later = (await discover('discovery', '2026-11-22T10:00:00.000Z', [{ rowNumber: 1, ciId: ci.id, software: [a.name] }], importId)).get(1)!;
    expect(later).toMatchObject({
      change: { from: [a.title, b.title].sort(), to: [a.title], reason: 'listed_by_sources' }, reclaimConsumptionIds: [installedB.id], withdrawConsumptionIds: [], addProductIds: [],
    });
    const [reclaimedB] = await installationsOf(b.id);
    expect(reclaimedB).toMatchObject({
      id: installedB.id, reclaimed_by_key: `inventory:${importId}`, reported_by: { discovery: { at: '2026-11-22T10:00:00.000Z', listed: false } },
    });
    expect(reclaimedB.reclaimed_at.toISOString()).toBe('2026-11-22T10:00:00.000Z');

    // Seen on the 21st, before the report that reclaimed b and confirmed a: the clock is not turned back.
    const late = (await discover('discovery', '2026-11-21T10:00:00.000Z', [{ rowNumber: 1, ciId: ci.id, software: [b.name] }])).get(1)!;
    expect(late).toMatchObject({ change: null, addProductIds: [], reclaimConsumptionIds: [], withdrawConsumptionIds: [] });
    expect((await installationsOf(a.id)).map((c) => c.reclaimed_at)).toEqual([null]);
    expect(await installationsOf(b.id)).toHaveLength(1);
  });

  it('never reclaims what only another source reported, and keeps an installation while another source still lists it', async () => {
    const ci = await createCi(db(), { ciClass: 'virtual_machine' });
    const a = await product(5);
    await discover('discovery', '2026-11-20T10:00:00.000Z', [{ rowNumber: 1, ciId: ci.id, software: [a.name] }]);

    const mdmSilent = (await discover('mdm', '2026-11-21T10:00:00.000Z', [{ rowNumber: 1, ciId: ci.id, software: [] }])).get(1)!;
    expect(mdmSilent).toMatchObject({ change: null, reclaimConsumptionIds: [], withdrawConsumptionIds: [] });
    expect(await installationsOf(a.id)).toMatchObject([{ reported_by: { discovery: { at: '2026-11-20T10:00:00.000Z', listed: true } } }]);

    await discover('mdm', '2026-11-22T10:00:00.000Z', [{ rowNumber: 1, ciId: ci.id, software: [a.name] }]);
    const [installed] = await installationsOf(a.id);
    expect(installed).toMatchObject({ discovered_by: 'discovery', reclaimed_at: null });
    const discoverySilent = (await discover('discovery', '2026-11-23T10:00:00.000Z', [{ rowNumber: 1, ciId: ci.id, software: [] }])).get(1)!;
    expect(discoverySilent).toMatchObject({ change: null, reclaimConsumptionIds: [], withdrawConsumptionIds: [installed.id] });
    expect(await installationsOf(a.id)).toMatchObject([{
      id: installed.id, reclaimed_at: null,
      reported_by: { discovery: { at: '2026-11-23T10:00:00.000Z', listed: false }, mdm: { at: '2026-11-22T10:00:00.000Z', listed: true } },
    }]);
    expect((await installationsOf(a.id))[0].last_seen_at.toISOString()).toBe('2026-11-22T10:00:00.000Z');
  });

  it('does not flip an installation between two feeds that disagree: it is reclaimed once no feed still lists it', async () => {
    const ci = await createCi(db(), { ciClass: 'computer' });
    const a = await product(5);
    const silent = { rowNumber: 1, ciId: ci.id, software: [] };
    const listing = { rowNumber: 1, ciId: ci.id, software: [a.name] };
    await discover('discovery', '2026-11-20T10:00:00.000Z', [listing]);
    await discover('mdm', '2026-11-21T10:00:00.000Z', [listing]);
    const [installed] = await installationsOf(a.id);

    // Device management stops listing it; discovery still does: it stays, as it was.
    const mdmStops = (await discover('mdm', '2026-11-22T10:00:00.000Z', [silent])).get(1)!;
    expect(mdmStops).toMatchObject({ change: null, reclaimConsumptionIds: [], withdrawConsumptionIds: [installed.id] });
    const discoveryAgain = (await discover('discovery', '2026-11-23T10:00:00.000Z', [listing])).get(1)!;
    expect(discoveryAgain).toMatchObject({ change: null, addProductIds: [], confirmConsumptionIds: [installed.id] });
    const mdmStillSilent = (await discover('mdm', '2026-11-24T10:00:00.000Z', [silent])).get(1)!;
    expect(mdmStillSilent).toMatchObject({ change: null, reclaimConsumptionIds: [], withdrawConsumptionIds: [] });
    expect(await installationsOf(a.id)).toMatchObject([{ id: installed.id, installed_at: installed.installed_at, reclaimed_at: null }]);

    // A late device management batch that listed it does not make it list it again.
    await discover('mdm', '2026-11-21T12:00:00.000Z', [listing]);
    expect((await installationsOf(a.id))[0].reported_by.mdm).toEqual({ at: '2026-11-22T10:00:00.000Z', listed: false });

    // Now discovery stops listing it too: nobody does, so it is reclaimed, once.
    const importId = randomUUID();
    const discoveryStops = (await discover('discovery', '2026-11-25T10:00:00.000Z', [silent], importId)).get(1)!;
    expect(discoveryStops).toMatchObject({ change: { from: [a.title], to: [], source: 'discovery', reason: 'listed_by_sources' }, reclaimConsumptionIds: [installed.id] });
    expect(await installationsOf(a.id)).toMatchObject([{ id: installed.id, reclaimed_by_key: `inventory:${importId}` }]);
    expect((await installationsOf(a.id))[0].reclaimed_at.toISOString()).toBe('2026-11-25T10:00:00.000Z');
    expect((await discover('mdm', '2026-11-26T10:00:00.000Z', [silent])).get(1)).toMatchObject({ change: null, reclaimConsumptionIds: [], withdrawConsumptionIds: [] });
    expect(await positionOf(a.id)).toMatchObject({ consumedUnits: 0 });
  });

  it('counts a feed as still listing an installation until its unseen period has passed, and a feed without a period always', async () => {
    const a = await product(5);
    const [staleCi, hrCi] = [await createCi(db(), { ciClass: 'computer' }), await createCi(db(), { ciClass: 'computer' })];
    // Discovery (unseen after 14 days) listed it on the 1st and has not seen the device since.
    await discover('discovery', '2026-11-01T10:00:00.000Z', [{ rowNumber: 1, ciId: staleCi.id, software: [a.name] }]);
    await discover('mdm', '2026-11-10T10:00:00.000Z', [{ rowNumber: 1, ciId: staleCi.id, software: [a.name] }]);
    const within = await planInstallations(db(), 'mdm', '2026-11-15T10:00:00.000Z', [{ rowNumber: 1, ciId: staleCi.id, software: [] }]);
    expect(within.get(1)).toMatchObject({ change: null, reclaimConsumptionIds: [] });
    const after = (await discover('mdm', '2026-11-15T10:00:01.000Z', [{ rowNumber: 1, ciId: staleCi.id, software: [] }])).get(1)!;
    expect(after).toMatchObject({ change: { from: [a.title], to: [] }, withdrawConsumptionIds: [] });
    expect(after.reclaimConsumptionIds).toHaveLength(1);

    // The HR feed has no unseen period: what it listed stays listed until it says otherwise.
    await discover('hr', '2026-01-01T10:00:00.000Z', [{ rowNumber: 1, ciId: hrCi.id, software: [a.name] }]);
    await discover('mdm', '2026-11-10T10:00:00.000Z', [{ rowNumber: 1, ciId: hrCi.id, software: [a.name] }]);
    const kept = (await discover('mdm', '2026-11-20T10:00:00.000Z', [{ rowNumber: 1, ciId: hrCi.id, software: [] }])).get(1)!;
    expect(kept).toMatchObject({ change: null, reclaimConsumptionIds: [] });
    expect(kept.withdrawConsumptionIds).toHaveLength(1);
    expect(await installationsOf(a.id)).toMatchObject([{ ci_id: hrCi.id, reclaimed_at: null }, { ci_id: staleCi.id }]);
  });

  it('confirms an installation a workflow recorded on the asset behind the record instead of counting the device twice, and never reclaims it', async () => {
    const asset = await createAsset(db());
    const ci = await createCi(db(), { ciClass: 'server', assetId: asset.id });
    const a = await product(1);
    const [{ id: recorded }] = await db()('software_consumptions').insert({ product_id: a.id, kind: 'installation', asset_id: asset.id }).returning('id');

    const listed = (await discover('discovery', '2026-11-20T10:00:00.000Z', [{ rowNumber: 1, ciId: ci.id, software: [a.name], assetId: asset.id }])).get(1)!;
    expect(listed).toMatchObject({ change: null, addProductIds: [], confirmConsumptionIds: [recorded] });
    expect(await installationsOf(a.id)).toMatchObject([{ id: recorded, ci_id: null, discovered_by: null, reclaimed_at: null }]);
    expect(await positionOf(a.id)).toMatchObject({ entitledUnits: 1, consumedUnits: 1, position: 'compliant' });

    const silent = (await discover('discovery', '2026-11-21T10:00:00.000Z', [{ rowNumber: 1, ciId: ci.id, software: [] }])).get(1)!;
    expect(silent).toMatchObject({ change: null, reclaimConsumptionIds: [] });
    expect((await installationsOf(a.id))[0].reclaimed_at).toBeNull();
  });

  it('installs a product once on a record however many feeds or batches race to report it', async () => {
    const asset = await createAsset(db());
    const ci = await createCi(db(), { ciClass: 'server', assetId: asset.id });
    const a = await product(5);
    const seenAt = '2026-11-20T10:00:00.000Z';
    // Both planned before either wrote, as two batches in flight would.
    const [discovery, mdm] = await Promise.all([
      planInstallations(db(), 'discovery', seenAt, [{ rowNumber: 1, ciId: ci.id, software: [a.name] }]),
      planInstallations(db(), 'mdm', seenAt, [{ rowNumber: 1, ciId: ci.id, software: [a.name] }]),
    ]);
    await Promise.all([
      db().transaction((trx) => applyInstallations(trx, 'discovery', seenAt, randomUUID(), [{ ...discovery.get(1)!, ciId: ci.id, assetId: null }])),
      db().transaction((trx) => applyInstallations(trx, 'mdm', seenAt, randomUUID(), [{ ...mdm.get(1)!, ciId: ci.id, assetId: null }])),
    ]);
    // The asset comes from the record when the engine does not name it.
    expect(await installationsOf(a.id)).toMatchObject([{
      ci_id: ci.id, asset_id: asset.id, units: 1, reported_by: { discovery: { at: seenAt, listed: true }, mdm: { at: seenAt, listed: true } },
    }]);
    expect(await positionOf(a.id)).toMatchObject({ consumedUnits: 1 });
  });

  it('leaves an ambiguous name and a retired product it does not have uninstalled, and keeps confirming a retired product it has', async () => {
    const ci = await createCi(db(), { ciClass: 'virtual_machine' });
    const shared = `Shared ${unique()}`;
    const [x, y] = [await product(1, { name: shared }), await product(1, { name: shared })];
    const retired = await product(1);
    await discover('discovery', '2026-11-20T10:00:00.000Z', [{ rowNumber: 1, ciId: ci.id, software: [retired.name] }]);
    await db()('software_products').where({ id: retired.id }).update({ retired_at: new Date() });
    const gone = await product(1);
    await db()('software_products').where({ id: gone.id }).update({ retired_at: new Date() });

    const plan = (await discover('discovery', '2026-11-21T10:00:00.000Z', [{ rowNumber: 1, ciId: ci.id, software: [shared, x.title, retired.name, gone.name] }])).get(1)!;
    expect(plan.unknownProducts).toEqual([shared, gone.name]);
    expect(plan.addProductIds).toEqual([x.id]);
    expect(plan.reclaimConsumptionIds).toEqual([]);
    expect(await installationsOf(y.id)).toHaveLength(0);
    expect(await installationsOf(retired.id)).toMatchObject([{ reclaimed_at: null }]);
  });
});

describe('unlicensed installations', () => {
  it('lists the newest consumptions beyond the entitlement with their record and true-up cost, the units adding up to the shortfall', async () => {
    const a = await product(2);
    const records = [];
    for (let at = 0; at < 4; at += 1) {
      const asset = await createAsset(db());
      records.push({ asset, ci: await createCi(db(), { ciClass: 'computer', assetId: asset.id }) });
    }
    for (const [at, { ci, asset }] of records.entries()) {
      await discover('mdm', `2026-11-2${at}T10:00:00.000Z`, [{ rowNumber: 1, ciId: ci.id, software: [a.name], assetId: asset.id }]);
    }
    expect(await positionOf(a.id)).toMatchObject({ entitledUnits: 2, consumedUnits: 4, shortfallUnits: 2, position: 'over_deployed', trueUpCostMinor: 48_000, currency: 'EUR' });
    const { items, page } = await listUnlicensedInstallations(db(), { productId: a.id }, { limit: 50, offset: 0 });
    expect(page.total).toBe(2);
    expect(items).toMatchObject(records.slice(2).map(({ ci, asset }, at) => ({
      product: a.name, kind: 'installation', units: 1, unlicensedUnits: 1, reportedBy: 'mdm', lastSeenAt: `2026-11-2${at + 2}T10:00:00.000Z`,
      ci: { id: ci.id, number: ci.number, name: ci.name }, asset: { id: asset.id, assetTag: asset.assetTag }, person: null, trueUpCostMinor: 24_000, currency: 'EUR',
    })));
  });

  it('answers overseers only, paged, with the true-up totals per currency', async () => {
    const a = await product(0);
    const ci = await createCi(db(), { ciClass: 'virtual_machine' });
    await discover('discovery', '2026-11-20T10:00:00.000Z', [{ rowNumber: 1, ciId: ci.id, software: [a.name] }]);
    const get = async (key: string, path: string) => {
      const res = await fetch(`${stack.baseUrl}${path}`, { headers: { authorization: `Bearer ${key}` } });
      return { status: res.status, body: (await res.json()) as Record<string, any> };
    };
    const answer = await get(manager.apiKey, `/licences/unlicensed-installations?product=${a.id}&limit=1`);
    expect(answer.status).toBe(200);
    expect(answer.body.page).toEqual({ limit: 1, offset: 0, total: 1 });
    expect(answer.body.items[0]).toMatchObject({ productId: a.id, ci: { number: ci.number }, reportedBy: 'discovery', trueUpCostMinor: 24_000 });
    const eur = (answer.body.trueUpTotals as { currency: string; trueUpCostMinor: number }[]).find((t) => t.currency === 'EUR');
    expect(eur!.trueUpCostMinor).toBeGreaterThanOrEqual(24_000);
    expect((await get(manager.apiKey, '/licences/unlicensed-installations?product=nope')).status).toBe(400);
    const requester = await createPerson(db(), ['requester']);
    expect((await get(requester.apiKey, '/licences/unlicensed-installations')).status).toBe(403);
  });
});

describe('inventory batches end to end', () => {
  const computer = (serial: string, software?: string[]) => ({
    ciClass: 'computer', serialNumber: serial, hostname: `pc-${serial.toLowerCase()}.corp.example`, ...(software ? { software } : {}),
  });

  it('moves the compliance position with what devices report, lists the unlicensed one with its cost, and takes it back when the device stops reporting it', async () => {
    const a = await product(1);
    const model = await createHardwareModel(db());
    const modelName = (await db()('hardware_models').where({ id: model }).first('manufacturer', 'name'));
    const [s1, s2] = [`SD-${unique()}`, `SD-${unique()}`];
    const unknown = `Unheard Of ${unique()}`;
    const rows = [
      { ...computer(s1, [a.name]), model: `${modelName.manufacturer} ${modelName.name}` },
      { ...computer(s2, [a.title, unknown]), model: `${modelName.manufacturer} ${modelName.name}` },
    ];

    const preview = await runInventoryBatch(stack, { source: 'discovery', rows, observedAt: '2026-11-24T08:00:00.000Z', dryRun: true, requestedById: manager.id });
    expect(preview.outcome).toMatchObject({ state: 'previewed' });
    expect(await installationsOf(a.id)).toHaveLength(0);
    const first = await runInventoryBatch(stack, { source: 'discovery', rows, observedAt: '2026-11-24T08:00:00.000Z', requestedById: manager.id });
    const softwareOf = (report: typeof first) => report.rows.map((r) => [r.changes?.software, r.leftAlone?.software]);
    expect(softwareOf(first)).toEqual(softwareOf(preview));
    expect(first.outcome).toMatchObject({ state: 'completed' });
    expect(first.rows.map((r) => r.outcome)).toEqual(['created', 'created']);
    expect(first.rows[0].changes).toMatchObject({ software: { from: [], to: [a.title], source: 'discovery' } });
    expect(first.rows[1].leftAlone).toMatchObject({ software: { offered: [unknown], reason: 'unknown_product' } });
    expect(await db()('software_products').whereRaw('lower(name) = lower(?)', [unknown])).toHaveLength(0);
    expect(await positionOf(a.id)).toMatchObject({ entitledUnits: 1, consumedUnits: 2, shortfallUnits: 1, position: 'over_deployed', trueUpCostMinor: 24_000 });
    const unlicensed = await listUnlicensedInstallations(db(), { productId: a.id }, { limit: 50, offset: 0 });
    expect(unlicensed.items).toHaveLength(1);
    expect(unlicensed.items[0]).toMatchObject({ reportedBy: 'discovery', trueUpCostMinor: 24_000, currency: 'EUR', asset: { assetTag: expect.stringMatching(/^AST/) } });
    const recordIds = first.rows.map((r) => r.recordId);
    expect(recordIds).toContain(unlicensed.items[0].ci!.id);

    const agent = webAgent(stack.baseUrl);
    expect((await signInWithKey(agent, manager.apiKey)).status).toBe(303);
    const page = await browse(agent, 'GET', `/ui/licences?product=${a.id}`);
    expect(page.status).toBe(200);
    expect(page.html).toContain(`<tr id="position-${a.id}" aria-current="true">`);
    expect(page.html).toContain(`<tr id="unlicensed-${unlicensed.items[0].consumptionId}">`);
    expect(page.html).toContain(unlicensed.items[0].ci!.number);
    expect(page.html).toContain('EUR 240.00');

    const again = await runInventoryBatch(stack, { source: 'discovery', rows, observedAt: '2026-11-24T08:00:00.000Z', requestedById: manager.id });
    expect(again.rows.map((r) => r.outcome)).toEqual(['unchanged', 'unchanged']);
    expect(await installationsOf(a.id)).toHaveLength(2);

    const later = await runInventoryBatch(stack, {
      source: 'discovery', rows: [rows[0], { ...rows[1], software: [] }], observedAt: '2026-11-26T08:00:00.000Z', requestedById: manager.id,
    });
    expect(later.rows[1]).toMatchObject({ outcome: 'updated', changes: { software: { from: [a.title], to: [] } } });
    expect(await positionOf(a.id)).toMatchObject({ consumedUnits: 1, position: 'compliant', trueUpCostMinor: 0 });
    const history = await installationsOf(a.id);
    expect(history).toHaveLength(2);
    expect(history.filter((c) => c.reclaimed_at !== null)).toMatchObject([{ ci_id: later.rows[1].recordId, reclaimed_by_key: `inventory:${later.importId}` }]);
    expect((await listUnlicensedInstallations(db(), { productId: a.id }, { limit: 50, offset: 0 })).items).toEqual([]);
  });

  it('keeps an installation while one of two feeds still lists it: the position and the unlicensed list hold still', async () => {
    const a = await product(0);
    const model = await createHardwareModel(db());
    const { manufacturer, name } = await db()('hardware_models').where({ id: model }).first('manufacturer', 'name');
    const serial = `SF-${unique()}`;
    const report = (source: InventorySource, software: string[], observedAt: string) => runInventoryBatch(stack, {
      source, rows: [{ ...computer(serial, software), model: `${manufacturer} ${name}` }], observedAt, requestedById: manager.id,
    });
    const unlicensed = async () => (await listUnlicensedInstallations(db(), { productId: a.id }, { limit: 50, offset: 0 })).items;

    const found = await report('discovery', [a.name], '2026-11-24T08:00:00.000Z');
    expect(found.rows[0].changes?.software).toMatchObject({ from: [], to: [a.title], reason: 'listed_by_sources' });
    await report('mdm', [a.name], '2026-11-24T09:00:00.000Z');
    const [before] = await unlicensed();
    expect(before).toMatchObject({
      ci: { id: found.rows[0].recordId }, reportedBy: 'discovery', lastSeenAt: '2026-11-24T09:00:00.000Z',
      listedBy: [{ source: 'mdm', at: '2026-11-24T09:00:00.000Z' }, { source: 'discovery', at: '2026-11-24T08:00:00.000Z' }],
    });

    const mdmStops = await report('mdm', [], '2026-11-25T09:00:00.000Z');
    expect(mdmStops.rows[0]).toMatchObject({ recordId: found.rows[0].recordId });
    expect(mdmStops.rows[0].changes?.software).toBeUndefined();
    const discoveryAgain = await report('discovery', [a.name], '2026-11-26T08:00:00.000Z');
    expect(discoveryAgain.rows[0].changes?.software).toBeUndefined();
    expect(await unlicensed()).toEqual([{ ...before, lastSeenAt: '2026-11-26T08:00:00.000Z', listedBy: [{ source: 'discovery', at: '2026-11-26T08:00:00.000Z' }] }]);
    expect(await installationsOf(a.id)).toHaveLength(1);
    expect(await positionOf(a.id)).toMatchObject({ consumedUnits: 1, position: 'over_deployed' });

    const discoveryStops = await report('discovery', [], '2026-11-27T08:00:00.000Z');
    expect(discoveryStops.rows[0].changes?.software).toMatchObject({ from: [a.title], to: [], source: 'discovery', reason: 'listed_by_sources' });
    expect(await unlicensed()).toEqual([]);
  });

  it('does not reclaim an installation a workflow recorded when the device stops reporting it, nor count it twice', async () => {
    const a = await product(1);
    const asset = await createAsset(db());
    const ci = await createCi(db(), { ciClass: 'server', assetId: asset.id });
    await db()('software_consumptions').insert({ product_id: a.id, kind: 'installation', asset_id: asset.id });
    const row = { ciClass: 'server', serialNumber: asset.serialNumber! };

    const listed = await runInventoryBatch(stack, { source: 'discovery', rows: [{ ...row, software: [a.name] }], observedAt: '2026-11-24T08:00:00.000Z', requestedById: manager.id });
    expect(listed.rows[0]).toMatchObject({ recordId: ci.id });
    expect(listed.rows[0].changes?.software).toBeUndefined();
    expect(await positionOf(a.id)).toMatchObject({ consumedUnits: 1, position: 'compliant' });

    const silent = await runInventoryBatch(stack, { source: 'discovery', rows: [{ ...row, software: [] }], observedAt: '2026-11-25T08:00:00.000Z', requestedById: manager.id });
    expect(silent.rows[0]).toMatchObject({ recordId: ci.id });
    expect(await installationsOf(a.id)).toMatchObject([{ asset_id: asset.id, ci_id: null, reclaimed_at: null }]);
    expect(await positionOf(a.id)).toMatchObject({ consumedUnits: 1 });
  });
});
