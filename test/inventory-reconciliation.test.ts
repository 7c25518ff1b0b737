/**
 * The inventory batch engine with real Temporal and Postgres: the same batch twice changes nothing
 * the second time; a weaker source does not overwrite a stronger one until the staleness period
 * has passed; a renamed host that keeps its serial stays one record; the dry run's report is what
 * the real run then does; a new server becomes a discovered CI with an asset whose lifecycle
 * workflow runs; a late batch changes nothing; a row whose serial names one record and whose host
 * name another is held; a stronger source confirming a value holds it; a replaced server that kept
 * the host name is not written onto the old record; retired records are not matched.
 */
import { randomBytes } from 'node:crypto';
import { OUTCOME_OF_VERDICT } from '../domain/master-data';
import { assetLifecycleWorkflowId } from '../workflows/asset-lifecycle/contract';
import { createHardwareModel, createPerson, eventually, type TestPerson } from './support/fixtures';
import { runInventoryBatch } from './support/inventory';
import { startStack, type Stack } from './support/stack';

let stack: Stack;
let requester: TestPerson;
let modelName: string;

const unique = () => randomBytes(4).toString('hex');
const DAY = 86_400_000;
const at = (days: number) => new Date(Date.parse('2026-11-01T00:00:00Z') + days * DAY).toISOString();

beforeAll(async () => {
  stack = await startStack();
  requester = await createPerson(stack.database.db, ['admin'], 'Ivy Inventory');
  modelName = `PowerEdge R${unique()}`;
  await createHardwareModel(stack.database.db, { manufacturer: 'Dell', name: modelName, category: 'server' });
});

afterAll(async () => {
  await stack?.stop();
});

const db = () => stack.database.db;

const server = (suffix: string, extra: Record<string, unknown> = {}) => ({
  ciClass: 'server', serialNumber: `SN-${suffix}`, hostname: `web-${suffix}.corp.example`, model: `Dell ${modelName}`, location: 'Rack 1', ...extra,
});

async function ciBySerial(serial: string) {
  return db()('configuration_items as ci').join('assets as a', 'a.id', 'ci.asset_id').where('a.serial_number', serial)
    .first('ci.id', 'ci.name', 'ci.hostname', 'ci.dns_domain', 'ci.discovery_state', 'a.id as asset_id', 'a.asset_tag', 'a.location', 'a.state');
}

const provenanceOf = (ciId: string) => db()('attribute_provenance').where({ ci_id: ciId }).orderBy('attribute').select('*');
const sightingsOf = (ciId: string) => db()('ci_sightings').where({ ci_id: ciId }).orderBy('source').select('*');

describe('inventory batches', () => {
  it('creates a discovered CI and an asset whose lifecycle workflow runs', async () => {
    const s = unique();
    const run = await runInventoryBatch(stack, { source: 'discovery', rows: [server(s)], observedAt: at(0), requestedById: requester.id });
    expect(run.outcome.state).toBe('completed');
    expect(run.rows[0]).toMatchObject({ verdict: 'create', outcome: 'created', identification: { outcome: 'create' } });
    const ci = await ciBySerial(`SN-${s}`);
    expect(ci).toMatchObject({ name: `web-${s}.corp.example`, hostname: `web-${s}`, dns_domain: 'corp.example', discovery_state: 'discovered', location: 'Rack 1', state: 'in_use' });
    expect(run.rows[0].recordId).toBe(ci.id);
    const provenance = await provenanceOf(ci.id);
    expect(provenance.map((p) => p.attribute)).toEqual(expect.arrayContaining(['hostname', 'domain', 'serialNumber', 'model', 'location', 'name']));
    expect(provenance.every((p) => p.source === 'discovery' && p.set_at.toISOString() === at(0))).toBe(true);
    expect(await sightingsOf(ci.id)).toMatchObject([{ source: 'discovery', last_import_id: run.importId }]);
    const handle = stack.env.client.workflow.getHandle(assetLifecycleWorkflowId(ci.asset_tag));
    await eventually(async () => (await handle.describe()).status.name === 'RUNNING');
  });

  it('changes nothing the second time the same batch arrives', async () => {
    const s = unique();
    await db()('software_products').insert({ publisher: 'Acme', name: `Agent ${s}`, licence_metric: 'per_device', unit_price_minor: 500, currency: 'EUR' });
    const software = [`Acme Agent ${s}`];
    const rows = [
      server(`${s}a`, { software }),
      server(`${s}b`, { assignedTo: requester.email, software }),
      { ciClass: 'virtual_machine', cloudResourceId: `vm-${s}`, hostname: `vm-${s}`, software },
      // Refused both times: a serial with an unknown model would not be kept, and the record could not be found again.
      { ciClass: 'server', serialNumber: `SN-${s}x`, model: `No Such Model ${s}` },
    ];
    const first = await runInventoryBatch(stack, { source: 'discovery', rows, observedAt: at(1), requestedById: requester.id });
    expect(first.rows.map((r) => r.outcome)).toEqual(['created', 'created', 'created', 'refused']);
    expect(first.rows[3].problems[0]).toMatchObject({ column: 'model', reason: expect.stringContaining('add the model to the catalogue') });
    const ids = first.rows.slice(0, 3).map((r) => r.recordId!);
    const state = async () => ({
      cis: await db()('configuration_items').whereIn('id', ids).orderBy('id').select('id', 'name', 'version', 'updated_at', 'hostname', 'dns_domain', 'asset_id'),
      assets: await db()('assets as a').join('configuration_items as ci', 'ci.asset_id', 'a.id').whereIn('ci.id', ids).orderBy('a.id')
        .select('a.id', 'a.version', 'a.details_version', 'a.updated_at', 'a.serial_number', 'a.location'),
      provenance: await db()('attribute_provenance').whereIn('ci_id', ids).orderBy(['ci_id', 'attribute']).select('*'),
      sightings: await db()('ci_sightings').whereIn('ci_id', ids).orderBy(['ci_id', 'source']).select('*'),
      installations: await db()('software_consumptions').whereIn('ci_id', ids).orderBy('id').select('*'),
      audit: await db()('audit_log').whereIn('subject_id', ids).orderBy('id').select('id', 'action', 'subject_id'),
      unidentified: await db()('assets').where('serial_number', `SN-${s}x`).count({ n: '*' }).first(),
      named: await db()('configuration_items').where('name', 'like', `%${s}%`).count({ n: '*' }).first(),
    });
    const before = await state();
    expect(before.installations.filter((i) => i.reclaimed_at === null)).toHaveLength(3);
    expect(before.unidentified).toEqual({ n: 0 });
    expect(before.named).toEqual({ n: 3 });
    const second = await runInventoryBatch(stack, { source: 'discovery', rows, observedAt: at(1), requestedById: requester.id });
    expect(second.rows.map((r) => [r.verdict, r.outcome, r.recordId])).toEqual([...ids.map((id) => ['unchanged', 'unchanged', id]), ['refuse', 'refused', null]]);
    expect(await state()).toEqual(before);
  });

  it('keeps a renamed host that keeps its serial as one record', async () => {
    const s = unique();
    const first = await runInventoryBatch(stack, { source: 'discovery', rows: [server(s)], observedAt: at(2), requestedById: requester.id });
    const cis = await db()('configuration_items').count({ n: '*' }).first();
    const renamed = await runInventoryBatch(stack, {
      source: 'discovery', rows: [server(s, { hostname: `payroll-${s}.corp.example` })], observedAt: at(3), requestedById: requester.id,
    });
    expect(renamed.rows[0]).toMatchObject({
      verdict: 'update', outcome: 'updated', recordId: first.rows[0].recordId,
      identification: { outcome: 'match', rule: ['serialNumber'] },
      changes: { hostname: { from: `web-${s}`, to: `payroll-${s}`, source: 'discovery', reason: 'same_or_stronger_source' } },
    });
    expect(await db()('configuration_items').count({ n: '*' }).first()).toEqual(cis);
    expect((await ciBySerial(`SN-${s}`)).hostname).toBe(`payroll-${s}`);
  });

  it('lets a weaker source change a stronger one only after the staleness period', async () => {
    const s = unique();
    const created = await runInventoryBatch(stack, { source: 'mdm', rows: [server(s, { location: 'Amsterdam' })], observedAt: at(0), requestedById: requester.id });
    const ciId = created.rows[0].recordId!;
    // location: manual, mdm, discovery, stale after 60 days.
    const inside = await runInventoryBatch(stack, { source: 'discovery', rows: [server(s, { location: 'Rotterdam' })], observedAt: at(30), requestedById: requester.id });
    expect(inside.rows[0].changes?.location).toBeUndefined();
    expect(inside.rows[0].leftAlone?.location).toEqual({ current: 'Amsterdam', offered: 'Rotterdam', reason: 'weaker_source', heldBy: { source: 'mdm', seenAt: at(0) } });
    expect((await ciBySerial(`SN-${s}`)).location).toBe('Amsterdam');
    const after = await runInventoryBatch(stack, { source: 'discovery', rows: [server(s, { location: 'Rotterdam' })], observedAt: at(61), requestedById: requester.id });
    expect(after.rows[0]).toMatchObject({ outcome: 'updated', changes: { location: { from: 'Amsterdam', to: 'Rotterdam', source: 'discovery', reason: 'stronger_source_stale' } } });
    expect((await ciBySerial(`SN-${s}`)).location).toBe('Rotterdam');
    expect(await db()('attribute_provenance').where({ ci_id: ciId, attribute: 'location' }).first('source', 'set_at')).toEqual({ source: 'discovery', set_at: new Date(at(61)) });
  });

  it('lets a late batch change nothing', async () => {
    const s = unique();
    await runInventoryBatch(stack, { source: 'discovery', rows: [server(s, { location: 'Hall A' })], observedAt: at(10), requestedById: requester.id });
    const late = await runInventoryBatch(stack, { source: 'discovery', rows: [server(s, { location: 'Hall B' })], observedAt: at(5), requestedById: requester.id });
    expect(late.rows[0]).toMatchObject({ verdict: 'unchanged', outcome: 'unchanged', leftAlone: { location: { reason: 'older_than_current' } } });
    expect((await ciBySerial(`SN-${s}`)).location).toBe('Hall A');
  });

  it('reports in the dry run what the real run then does', async () => {
    const s = unique();
    await runInventoryBatch(stack, { source: 'discovery', rows: [server(`${s}a`), server(`${s}b`)], observedAt: at(20), requestedById: requester.id });
    const rows = [
      server(`${s}a`, { location: 'Moved' }),
      server(`${s}b`),
      server(`${s}c`),
      { ciClass: 'server', serialNumber: `SN-${s}d`, model: 'No Such Model' },
      { ciClass: 'server', name: 'nothing to identify it by' },
      server(`${s}a`),
      // One new device named twice: by serial and host, then by its host alone.
      server(`${s}e`),
      { ciClass: 'server', hostname: `web-${s}e.corp.example`, location: 'Rack 9' },
      // One serial in two spellings.
      server(`${s}f`, { serialNumber: `ab-${s}f` }),
      server(`${s}g`, { serialNumber: ` AB-${s.toUpperCase()}F ` }),
      // Two new hosts with one short name in different domains: two devices, each named by its full name.
      { ciClass: 'virtual_machine', cloudResourceId: `vm-${s}h`, hostname: `app-${s}.one.example` },
      { ciClass: 'virtual_machine', cloudResourceId: `vm-${s}i`, hostname: `app-${s}.two.example` },
    ];
    const dry = await runInventoryBatch(stack, { source: 'discovery', rows, observedAt: at(21), dryRun: true, requestedById: requester.id });
    expect(dry.outcome.state).toBe('previewed');
    const real = await runInventoryBatch(stack, { source: 'discovery', rows, observedAt: at(21), requestedById: requester.id });
    expect(real.outcome.state).toBe('completed');
    expect(dry.rows.map((r) => r.verdict)).toEqual(['update', 'unchanged', 'create', 'refuse', 'refuse', 'refuse', 'create', 'refuse', 'create', 'refuse', 'create', 'create']);
    const strip = (identification: unknown) => {
      const { caseNumber, ...rest } = (identification ?? {}) as Record<string, unknown>;
      void caseNumber;
      return rest;
    };
    for (const [i, row] of real.rows.entries()) {
      expect([row.rowNumber, row.outcome]).toEqual([dry.rows[i].rowNumber, OUTCOME_OF_VERDICT[dry.rows[i].verdict!]]);
      expect(row.changes).toEqual(dry.rows[i].changes);
      expect(row.leftAlone).toEqual(dry.rows[i].leftAlone);
      expect(row.problems).toEqual(dry.rows[i].problems);
      expect(strip(row.identification)).toEqual(strip(dry.rows[i].identification));
    }
    expect(real.rows[3].problems[0]).toMatchObject({ column: 'model' });
    expect(real.rows[7].problems[0].reason).toContain('row 7 names this device already');
    expect(real.rows[9].problems[0].reason).toContain('row 9 names this device already');
    const names = await db()('configuration_items').whereIn('id', [real.rows[10].recordId, real.rows[11].recordId]).orderBy('name').pluck('name');
    expect(names).toEqual([`app-${s}.one.example`, `app-${s}.two.example`]);
  });

  it('holds a row whose serial names one record and whose host name another, and opens a steward case', async () => {
    const s = unique();
    const first = await runInventoryBatch(stack, { source: 'discovery', rows: [server(`${s}a`), server(`${s}b`)], observedAt: at(40), requestedById: requester.id });
    const ids = first.rows.map((r) => r.recordId!).sort();
    const row = server(`${s}a`, { hostname: `web-${s}b.corp.example` });
    const dry = await runInventoryBatch(stack, { source: 'discovery', rows: [row], observedAt: at(41), dryRun: true, requestedById: requester.id });
    expect(dry.rows[0]).toMatchObject({ verdict: 'hold', identification: { outcome: 'duplicate', recordIds: ids } });
    const real = await runInventoryBatch(stack, { source: 'discovery', rows: [row], observedAt: at(41), requestedById: requester.id });
    expect(real.rows[0]).toMatchObject({ outcome: 'held', recordId: null, identification: { outcome: 'duplicate', recordIds: ids, caseNumber: expect.stringMatching(/^RCN/) } });
    expect(await db()('reconciliation_cases').where({ pair_key: ids.join(':'), state: 'open' }).count({ n: '*' }).first()).toEqual({ n: 1 });
    // The feed saw the device, whichever record it is: both records are sighted by this batch.
    const sightings = await db()('ci_sightings').whereIn('ci_id', ids).where({ source: 'discovery' }).orderBy('ci_id').select('ci_id', 'last_seen_at', 'last_import_id');
    expect(sightings).toEqual(ids.map((id) => ({ ci_id: id, last_seen_at: new Date(at(41)), last_import_id: real.importId })));
  });

  it('lets a stronger source that reports the same value hold it, so a weaker one cannot change it at once', async () => {
    const s = unique();
    const created = await runInventoryBatch(stack, { source: 'discovery', rows: [server(s, { location: 'Hall A' })], observedAt: at(0), requestedById: requester.id });
    const ciId = created.rows[0].recordId!;
    // location: manual, mdm, discovery; mdm confirms discovery's value and becomes its holder.
    const confirmed = await runInventoryBatch(stack, { source: 'mdm', rows: [server(s, { location: 'Hall A' })], observedAt: at(1), requestedById: requester.id });
    expect(confirmed.rows[0]).toMatchObject({ outcome: 'unchanged' });
    expect(await db()('attribute_provenance').where({ ci_id: ciId, attribute: 'location' }).first('source', 'set_at', 'confirmed_at', 'import_id'))
      .toEqual({ source: 'mdm', set_at: new Date(at(0)), confirmed_at: new Date(at(1)), import_id: confirmed.importId });
    const inside = await runInventoryBatch(stack, { source: 'discovery', rows: [server(s, { location: 'Hall B' })], observedAt: at(2), requestedById: requester.id });
    expect(inside.rows[0].leftAlone?.location).toEqual({ current: 'Hall A', offered: 'Hall B', reason: 'weaker_source', heldBy: { source: 'mdm', seenAt: at(1) } });
    expect((await ciBySerial(`SN-${s}`)).location).toBe('Hall A');
  });

  it('does not write a replaced server that kept the host name onto the old record', async () => {
    const s = unique();
    const old = await runInventoryBatch(stack, { source: 'discovery', rows: [server(s)], observedAt: at(0), requestedById: requester.id });
    const replacement = server(s, { serialNumber: `SN-${s}-new` });
    const dry = await runInventoryBatch(stack, { source: 'discovery', rows: [replacement], observedAt: at(1), dryRun: true, requestedById: requester.id });
    const real = await runInventoryBatch(stack, { source: 'discovery', rows: [replacement], observedAt: at(1), requestedById: requester.id });
    for (const run of [dry, real]) {
      expect(run.rows[0]).toMatchObject({ verdict: 'refuse', recordId: null });
      expect(run.rows[0].problems[0].reason).toMatch(new RegExp(`web-${s}\\.corp\\.example.*SN-${s}.*SN-${s}-new`));
    }
    expect(real.rows[0].outcome).toBe('refused');
    expect((await ciBySerial(`SN-${s}`)).id).toBe(old.rows[0].recordId);
    expect(await ciBySerial(`SN-${s}-new`)).toBeUndefined();
  });

  it('does not match a retired record', async () => {
    const s = unique();
    const vm = { ciClass: 'virtual_machine', cloudResourceId: `vm-${s}`, hostname: `vm-${s}.corp.example` };
    const first = await runInventoryBatch(stack, { source: 'cloud_inventory', rows: [vm], observedAt: at(0), requestedById: requester.id });
    await db()('configuration_items').where({ id: first.rows[0].recordId }).update({ retired_at: new Date(), operational_status: 'retired' });
    // Names stay unique among retired records too: the new record is named apart.
    const again = await runInventoryBatch(stack, { source: 'cloud_inventory', rows: [{ ...vm, name: `vm-${s}-again` }], observedAt: at(1), requestedById: requester.id });
    expect(again.rows[0]).toMatchObject({ verdict: 'create', outcome: 'created', problems: [] });
    expect(again.rows[0].recordId).not.toBe(first.rows[0].recordId);
  });

  it('turns the software a row lists into installations on its record', async () => {
    const s = unique();
    await db()('software_products').insert({ publisher: 'Acme', name: `Editor ${s}`, licence_metric: 'per_device', unit_price_minor: 1000, currency: 'EUR' });
    const run = await runInventoryBatch(stack, {
      source: 'discovery', rows: [server(s, { software: [`Acme Editor ${s}`, `Unknown ${s}`] })], observedAt: at(50), requestedById: requester.id,
    });
    expect(run.rows[0]).toMatchObject({ outcome: 'created', leftAlone: { software: { reason: 'unknown_product', offered: [`Unknown ${s}`] } } });
    expect(run.rows[0].changes?.software).toBeDefined();
    expect(await db()('software_consumptions').where({ ci_id: run.rows[0].recordId, kind: 'installation' }).whereNull('reclaimed_at').count({ n: '*' }).first()).toEqual({ n: 1 });
    const again = await runInventoryBatch(stack, {
      source: 'discovery', rows: [server(s, { software: [`Acme Editor ${s}`, `Unknown ${s}`] })], observedAt: at(50), requestedById: requester.id,
    });
    expect(again.rows[0]).toMatchObject({ verdict: 'unchanged', outcome: 'unchanged' });
  });
});
