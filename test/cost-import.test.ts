/**
 * The cloud bill's import with real Temporal and Postgres, from staged rows on: the totals per
 * provider and currency equal the file's to the last decimal place; a re-issued bill of a scope
 * replaces the old one's records, never adds to them, and leaves other scopes alone; cloud
 * resources become CIs linked to their records; tags allocate cost centre, application and
 * service; applying twice with one key writes nothing twice; a row Postgres refuses fails the
 * import with the reason and writes nothing. Through POST /cost-imports: a bill of this month
 * tagged with a cost centre tells its owner at 80% once, and its re-issue replaces it.
 */
import { randomBytes, randomInt } from 'node:crypto';
import { createCostImportActivities } from '../activities/cost-imports';
import { addDecimals, formatDecimal, parseDecimal, type ExactDecimal } from '../domain/cost-allocation';
import { normaliseIdentifier } from '../domain/reconciliation';
import { TRIMMED_CHARACTERS } from '../model/cost-import-apply';
import { costImportProgressQuery, type CostTotal } from '../workflows/cost-import/contract';
import { createCi, createCostCentre, createPerson, eventually, relate, type TestPerson } from './support/fixtures';
import { runCostImport, stageCostImport, type TestCostRow } from './support/cost-import';
import { send, startStack, type Stack } from './support/stack';
import { recordHistory } from './support/histories';

let stack: Stack;
let requester: TestPerson;

const unique = () => randomBytes(4).toString('hex');
const db = () => stack.database.db;

beforeAll(async () => {
  stack = await startStack();
  requester = await createPerson(stack.database.db, ['admin'], 'Fran Finops');
});

afterAll(async () => {
  await stack?.stop();
});

/** A month of 2025 (no budget alert is due for it), as a FOCUS billing period. */
const period = (month: number) => ({
  billingPeriodStart: `2025-${String(month).padStart(2, '0')}-01T00:00:00Z`,
  billingPeriodEnd: `2025-${String(month + 1).padStart(2, '0')}-01T00:00:00Z`,
});

const day = (month: number, d: number) => ({
  chargePeriodStart: `2025-${String(month).padStart(2, '0')}-${String(d).padStart(2, '0')}T00:00:00Z`,
  chargePeriodEnd: `2025-${String(month).padStart(2, '0')}-${String(d).padStart(2, '0')}T01:00:00Z`,
});

/** A cost with 10 to 15 decimal places, as cloud line items carry them; now and then a credit. */
function cost(): string {
  const places = randomInt(10, 16);
  const units = BigInt(randomInt(0, 2 ** 40)) * BigInt(randomInt(1, 1000)) * (randomInt(0, 10) === 0 ? -1n : 1n);
  return formatDecimal({ units, scale: places });
}

/** Rows of several providers, billing accounts and currencies for one month. */
function bill(providers: string[], count: number, month = 3): TestCostRow[] {
  const currencies = ['USD', 'EUR', 'JPY'];
  return Array.from({ length: count }, (_, at) => ({
    ...period(month),
    ...day(month, 1 + (at % 28)),
    providerName: providers[at % providers.length],
    billingAccountId: [null, 'acct-0', 'acct-1'][Math.floor(at / providers.length) % 3],
    billingCurrency: currencies[(at >> 1) % currencies.length],
    billedCost: cost(),
    effectiveCost: cost(),
    listCost: cost(),
  }));
}

/** The file's own totals per provider and currency, added exactly in the test. */
function fileTotals(rows: TestCostRow[]): CostTotal[] {
  const groups = new Map<string, { provider: string; currency: string; billed: ExactDecimal[]; effective: ExactDecimal[] }>();
  for (const row of rows) {
    const key = `${row.providerName}\u0000${row.billingCurrency}`;
    const group = groups.get(key) ?? { provider: row.providerName, currency: row.billingCurrency, billed: [], effective: [] };
    group.billed.push(parseDecimal(row.billedCost)!);
    group.effective.push(parseDecimal(row.effectiveCost)!);
    groups.set(key, group);
  }
  return [...groups.values()]
    .sort((a, b) => (a.provider === b.provider ? (a.currency < b.currency ? -1 : 1) : a.provider < b.provider ? -1 : 1))
    .map((g) => ({ provider: g.provider, currency: g.currency, rows: g.billed.length, billedCost: formatDecimal(addDecimals(g.billed)), effectiveCost: formatDecimal(addDecimals(g.effective)) }));
}

/** The records of these providers, summed by Postgres: what any report would read. */
async function recordTotals(providers: string[]): Promise<CostTotal[]> {
  const { rows } = await db().raw(`
    SELECT provider_name AS provider, billing_currency AS currency, count(*)::int AS rows,
           sum(billed_cost)::text AS "billedCost", sum(effective_cost)::text AS "effectiveCost"
      FROM cost_records WHERE provider_name = ANY(?) GROUP BY 1, 2 ORDER BY 1, 2`, [providers]);
  return rows;
}

const providersOf = (tag: string) => [`AWS ${tag}`, `Microsoft ${tag}`, `Google Cloud ${tag}`, `Oracle ${tag}`];

describe('cost imports', () => {
  it('totals per provider and currency equal the file to the last decimal place', async () => {
    const providers = providersOf(unique());
    const rows = bill(providers, 600);
    const { outcome, importId } = await runCostImport(stack, { rows, requestedById: requester.id });
    const expected = fileTotals(rows);
    expect(outcome).toMatchObject({ state: 'completed', rowsImported: 600, rowsRefused: 0, message: null });
    expect(outcome.totals).toEqual(expected);
    expect(await recordTotals(providers)).toEqual(expected);
    await recordHistory(stack.env.client, `cost-import:${importId}`, 'cost-import-completed.json');
    // More places than the old numeric(20, 6) kept, every one of them.
    expect(Math.max(...outcome.totals.map((t) => t.billedCost.split('.')[1]?.length ?? 0))).toBeGreaterThanOrEqual(15);
    const stored = await db()('cost_imports').where({ id: importId }).first('state', 'rows_imported', 'totals', 'finished_at');
    expect(stored).toMatchObject({ state: 'completed', rows_imported: 600, totals: expected });
    expect(stored.finished_at).not.toBeNull();
    expect(await db()('cost_import_rows').where({ import_id: importId }).count('* as n').first()).toEqual({ n: 0 });
    const audit = await db()('audit_log').where({ subject_type: 'cost_import', subject_id: importId }).select('action');
    expect(audit.map((a) => a.action)).toContain('cost_import_applied');
    const progress = await stack.env.client.workflow.getHandle(`cost-import:${importId}`).query(costImportProgressQuery);
    expect(progress).toMatchObject({ importId, state: 'completed', attention: null });
  });

  it('a re-issued bill of a scope replaces the records of the old one, and only of that scope', async () => {
    const providers = providersOf(unique());
    const rows = [...bill(providers, 200, 3), ...bill(providers, 100, 4)];
    const first = await runCostImport(stack, { rows, requestedById: requester.id });
    expect(first.outcome.state).toBe('completed');
    // The same file again, as a re-issued bill (another file, so another sha): one set of records.
    const second = await runCostImport(stack, { rows, requestedById: requester.id });
    expect(second.outcome.totals).toEqual(fileTotals(rows));
    expect(await recordTotals(providers)).toEqual(fileTotals(rows));
    expect(await db()('cost_records').where({ cost_import_id: first.importId }).count('* as n').first()).toEqual({ n: 0 });

    // A correction of April for one provider and account: March stays, the rest of April too.
    const april = rows.filter((r) => r.billingPeriodStart.startsWith('2025-04') && r.providerName === providers[0] && r.billingAccountId === 'acct-1');
    expect(april.length).toBeGreaterThan(0);
    const corrected = april.map((r) => ({ ...r, billedCost: cost(), effectiveCost: cost() }));
    const third = await runCostImport(stack, { rows: corrected, requestedById: requester.id });
    expect(third.outcome).toMatchObject({ state: 'completed', rowsImported: corrected.length });
    const now = [...rows.filter((r) => !april.includes(r)), ...corrected];
    expect(await recordTotals(providers)).toEqual(fileTotals(now));
    const scopes = await db()('cost_import_scopes').whereIn('provider_name', providers).select('provider_name', 'billing_account_id', 'billing_period_start', 'import_id');
    expect(scopes).toHaveLength(providers.length * 3 * 2);
    expect(scopes.filter((s) => s.import_id === third.importId)).toEqual([
      { provider_name: providers[0], billing_account_id: 'acct-1', billing_period_start: new Date('2025-04-01T00:00:00Z'), import_id: third.importId },
    ]);
    expect(scopes.filter((s) => s.import_id === first.importId)).toEqual([]);
  });

  it('cloud resources become CIs linked to their records, and tags allocate cost centre, application and service', async () => {
    const u = unique();
    const provider = `AWS ${u}`;
    const finance = await createCostCentre(db(), `FIN-${u}`, `Finance ${u}`, null);
    const sales = await createCostCentre(db(), `SAL-${u}`, `Sales ${u}`, null);
    const platform = await createCostCentre(db(), `PLT-${u}`, `Platform ${u}`, null);
    const shop = await createCi(db(), { name: `shop-${u}`, ciClass: 'application' });
    await db()('configuration_items').where({ id: shop.id }).update({ cost_centre_id: sales });
    const webshop = await createCi(db(), { name: `Webshop ${u}`, ciClass: 'business_service', criticality: 'tier_1' });
    await relate(db(), webshop.id, 'depends_on', shop.id);
    const payroll = await createCi(db(), { name: `Payroll ${u}`, ciClass: 'business_service', criticality: 'tier_2' });
    // An application two services depend on: neither is chosen.
    const shared = await createCi(db(), { name: `shared-${u}`, ciClass: 'application' });
    await relate(db(), webshop.id, 'depends_on', shared.id);
    await relate(db(), payroll.id, 'uses', shared.id);
    // A resource known already, with its cost centre.
    const [known] = await db()('configuration_items')
      .insert({ name: `db-${u}`, ci_class: 'cloud_resource', cloud_resource_id: `arn:db-${u}`, cost_centre_id: platform }).returning(['id']);
    // A retired resource whose name a new one takes: the new CI is named with its resource id.
    await db()('configuration_items').insert({ name: `cache-${u}`, ci_class: 'cloud_resource', cloud_resource_id: `arn:old-cache-${u}`, retired_at: new Date() });

    const row = (resourceId: string | null, tags: Record<string, string>, resourceName: string | null = null): TestCostRow => ({
      ...period(5), ...day(5, 2), providerName: provider, billingAccountId: `acct-${u}`, billingCurrency: 'EUR',
      billedCost: '1.000000000001', effectiveCost: '0.9', resourceId, resourceName, tags,
    });
    const rows = [
      row(`i-web-${u}`, { 'Cost-Centre': `fin-${u}`, Team: 'blue' }, `web-${u}`),
      row(` i-web-${u}\u00a0`, { 'Cost-Centre': `fin-${u}`, Team: 'blue' }),
      row(`i-shop-${u}`, { App: shop.number.toLowerCase() }),
      row(`arn:db-${u}`, {}),
      row(`i-pay-${u}`, { Business_Service: `PAYROLL ${u}`, costcenter: `nowhere-${u}` }),
      row(null, { application: `SHOP-${u}`, 'cost-centre': `sal-${u}` }),
      row(`i-cache-${u}`, { app: `shared-${u}` }, `cache-${u}`),
    ];
    const { outcome, importId } = await runCostImport(stack, { rows, requestedById: requester.id });
    expect(outcome).toMatchObject({ state: 'completed', rowsImported: rows.length });

    const records = await db()('cost_records').where({ cost_import_id: importId }).orderBy('source_key')
      .select('source_key', 'ci_id', 'cost_centre_id', 'application_id', 'business_service_id', 'tags', 'billed_cost');
    const byRow = new Map(records.map((r) => [Number(r.source_key.split(':').pop()), r]));
    expect(byRow.get(1)!.billed_cost).toBe('1.000000000001');
    const ciOf = (resourceId: string) => db()('configuration_items').where({ cloud_resource_id: resourceId }).whereNull('retired_at').first('*');

    const web = await ciOf(`i-web-${u}`);
    expect(web).toMatchObject({ name: `web-${u}`, ci_class: 'cloud_resource', discovery_state: 'discovered', environment: 'production' });
    expect(byRow.get(1)).toMatchObject({ ci_id: web.id, cost_centre_id: finance, application_id: null, business_service_id: null, tags: { 'Cost-Centre': `fin-${u}`, Team: 'blue' } });
    // The same resource with spaces around its id is the same CI.
    expect(byRow.get(2)).toMatchObject({ ci_id: web.id, cost_centre_id: finance });
    const provenance = await db()('attribute_provenance').where({ ci_id: web.id }).orderBy('attribute').select('attribute', 'source');
    expect(provenance).toEqual([{ attribute: 'cloudResourceId', source: 'cloud_inventory' }, { attribute: 'name', source: 'cloud_inventory' }]);

    // The application by its number: its cost centre, and the one service that depends on it.
    const shopResource = await ciOf(`i-shop-${u}`);
    expect(shopResource.name).toBe(`i-shop-${u}`);
    expect(byRow.get(3)).toMatchObject({ ci_id: shopResource.id, cost_centre_id: sales, application_id: shop.id, business_service_id: webshop.id });
    // A known resource keeps its CI and lends its cost centre.
    expect(byRow.get(4)).toMatchObject({ ci_id: known.id, cost_centre_id: platform, application_id: null, business_service_id: null });
    expect(await db()('configuration_items').where({ cloud_resource_id: `arn:db-${u}` }).count('* as n').first()).toEqual({ n: 1 });
    // A service by name in any case; a cost centre nobody has stays in the tags and places nothing.
    expect(byRow.get(5)).toMatchObject({ cost_centre_id: null, business_service_id: payroll.id, tags: { costcenter: `nowhere-${u}` } });
    // No resource: no CI, the tags still allocate (a cost centre named beats the application's).
    expect(byRow.get(6)).toMatchObject({ ci_id: null, cost_centre_id: sales, application_id: shop.id, business_service_id: webshop.id });
    // Two services depend on the application: none is chosen; the name taken by a retired CI falls back.
    const cache = await ciOf(`i-cache-${u}`);
    expect(cache.name).toBe(`cache-${u} (i-cache-${u})`);
    expect(byRow.get(7)).toMatchObject({ ci_id: cache.id, application_id: shared.id, business_service_id: null, cost_centre_id: null });

    // The same bill again: no second CI of any resource.
    await runCostImport(stack, { rows, requestedById: requester.id });
    const cis = await db()('configuration_items').whereIn('cloud_resource_id', [`i-web-${u}`, `i-shop-${u}`, `i-pay-${u}`, `i-cache-${u}`]).count('* as n').first();
    expect(cis).toEqual({ n: 4 });
  });

  it('resource ids are trimmed in SQL exactly as normaliseIdentifier trims them', () => {
    const trimmedByJs = Array.from({ length: 0x10000 }, (_, code) => String.fromCharCode(code))
      .filter((character) => normaliseIdentifier('cloudResourceId', `${character}x${character}`) === 'x');
    expect(TRIMMED_CHARACTERS).toBe(trimmedByJs.join(''));
  });

  it('applying with the same key twice, at once or again, writes nothing twice', async () => {
    const providers = providersOf(unique());
    const rows = bill(providers, 300).map((r, at) => ({ ...r, resourceId: `vm-${providers[0]}-${at % 7}` }));
    const { importId } = await stageCostImport(db(), { rows, requestedById: requester.id });
    const activities = createCostImportActivities({ db: db() });
    const input = { idempotencyKey: `test:${importId}:apply`, importId, workflowId: `test:${importId}` };
    const [a, b] = await Promise.all([activities.applyCostImport(input), activities.applyCostImport(input)]);
    const c = await activities.applyCostImport(input);
    const d = await activities.applyCostImport({ ...input, idempotencyKey: `test:${importId}:again` });
    expect(b).toEqual(a);
    expect(c).toEqual(a);
    expect(d.outcome).toEqual(a.outcome);
    expect(a.outcome.totals).toEqual(fileTotals(rows));
    expect(a.chargePeriod).toEqual({ start: '2025-03-01T00:00:00.000Z', end: '2025-03-28T01:00:00.000Z' });
    expect(await recordTotals(providers)).toEqual(fileTotals(rows));
    const cis = await db()('configuration_items').where('cloud_resource_id', 'like', `vm-${providers[0]}-%`).count('* as n').first();
    expect(cis).toEqual({ n: 7 });
    expect(await activities.finishCostImport({ idempotencyKey: `test:${importId}:finish`, importId, workflowId: input.workflowId, state: 'completed' })).toEqual(a.outcome);
  });

  it('a row Postgres refuses fails the import with the reason, and nothing is written', async () => {
    const providers = providersOf(unique());
    const rows = bill(providers, 50);
    rows[17] = { ...rows[17], chargeCategory: 'Refund', resourceId: `vm-${unique()}` };
    const { outcome, importId } = await runCostImport(stack, { rows, requestedById: requester.id });
    expect(outcome).toMatchObject({ state: 'failed', rowsImported: 0, totals: [] });
    expect(outcome.message).toMatch(/^write the cost records: .*cost_records_charge_category_check/);
    expect(await db()('cost_imports').where({ id: importId }).first('state', 'message')).toEqual({ state: 'failed', message: outcome.message });
    expect(await recordTotals(providers)).toEqual([]);
    expect(await db()('cost_import_scopes').whereIn('provider_name', providers).count('* as n').first()).toEqual({ n: 0 });
    expect(await db()('configuration_items').where({ cloud_resource_id: rows[17].resourceId }).count('* as n').first()).toEqual({ n: 0 });
    expect(await db()('cost_import_rows').where({ import_id: importId }).count('* as n').first()).toEqual({ n: 0 });
  });

  it('a bill sent to POST /cost-imports allocates by tag and tells the budget owner once; its re-issue replaces it', async () => {
    const u = unique();
    const manager = await createPerson(db(), ['asset_manager'], 'Max Manager');
    const owner = await createPerson(db(), [], 'Bea Budgetowner');
    const code = `CC-E2E-${u}`;
    const costCentre = await createCostCentre(db(), code, `Cloud ${u}`, null);
    await db()('cost_centres').where({ id: costCentre }).update({ owner_id: owner.id });
    const month = new Date().toISOString().slice(0, 7);
    await db()('budgets').insert({ cost_centre_id: costCentre, period_start: `${month}-01`, amount_minor: 100_000, currency: 'EUR' });
    const provider = `AWS ${u}`;
    const next = new Date(Date.UTC(Number(month.slice(0, 4)), Number(month.slice(5, 7)), 1)).toISOString().replace('.000', '');
    const header = 'BillingPeriodStart,BillingPeriodEnd,ChargePeriodStart,ChargePeriodEnd,ChargeCategory,ProviderName,BillingAccountId,ServiceName,'
      + 'ResourceId,ResourceName,BilledCost,EffectiveCost,BillingCurrency,Tags';
    const csv = (costs: string[]) => `${header}\n${costs.map((c, at) => [
      `${month}-01T00:00:00Z`, next, `${month}-01T00:00:00Z`, `${month}-01T01:00:00Z`, 'Usage', provider, `acct-${u}`, 'Compute',
      `i-${u}-${at}`, `vm-${u}-${at}`, c, c, 'EUR', `"${JSON.stringify({ 'Cost-Centre': code.toLowerCase() }).replace(/"/g, '""')}"`,
    ].join(',')).join('\n')}\n`;
    const importOf = async (costs: string[]) => {
      const sent = await send(stack, manager.apiKey, 'POST', '/cost-imports?fileName=bill.csv', { body: csv(costs), headers: { 'content-type': 'text/csv' } });
      expect(sent.status).toBeLessThan(300);
      const { id } = sent.body as { id: string };
      return eventually(async () => {
        const row = await db()('cost_imports').where({ id }).first('id', 'state', 'totals', 'rows_imported');
        return row?.state === 'completed' || row?.state === 'failed' ? row : undefined;
      });
    };
    const alerts = () => db()('email_log').where({ subject_id: costCentre, template: 'budget_alert' }).select('recipients');

    // 850.1234567890133 of 1,000.00 EUR: past 80%, short of 100%.
    const first = await importOf(['300.000000000001', '300.1234567890123', '250.00']);
    expect(first).toMatchObject({ state: 'completed', rows_imported: 3 });
    expect(first.totals).toEqual([{ provider, currency: 'EUR', rows: 3, billedCost: '850.1234567890133', effectiveCost: '850.1234567890133' }]);
    const records = await db()('cost_records').where({ provider_name: provider }).select('cost_centre_id', 'ci_id');
    expect(records).toHaveLength(3);
    expect(records.every((r) => r.cost_centre_id === costCentre && r.ci_id)).toBe(true);
    const told = await eventually(async () => ((await alerts()).length > 0 ? alerts() : undefined));
    expect(told).toEqual([{ recipients: [owner.email] }]);

    // The bill re-issued with one line corrected: one set of records, the second's, and no second email.
    const second = await importOf(['300.000000000001', '300.1234567890123', '250.50']);
    expect(second.totals).toEqual([{ provider, currency: 'EUR', rows: 3, billedCost: '850.6234567890133', effectiveCost: '850.6234567890133' }]);
    expect(await recordTotals([provider])).toEqual(second.totals);
    expect(await db()('cost_records').where({ provider_name: provider }).whereNot({ cost_import_id: second.id }).count('* as n').first()).toEqual({ n: 0 });
    expect(await alerts()).toHaveLength(1);
  });
});
