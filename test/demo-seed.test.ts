import type { Knex } from 'knex';
import { loadDemoData, type DemoPerson } from '../demo/seed';
import { hashApiKey } from '../platform/api-keys';
import { createTestDatabase } from './support/database';

const DEMO_TABLES = [
  'people', 'person_roles', 'groups', 'group_members', 'cost_centres', 'budgets', 'vendors', 'contracts', 'contract_prices',
  'hardware_models', 'software_products', 'assets', 'configuration_items', 'ci_relationships',
  'software_entitlements', 'software_consumptions', 'cost_records', 'cost_imports', 'cost_import_scopes', 'approval_rules', 'change_models', 'schedule_windows', 'sla_targets',
];

async function rowCounts(db: Knex): Promise<Record<string, number>> {
  const counts: Record<string, number> = {};
  for (const table of DEMO_TABLES) {
    const [{ count }] = await db(table).count<{ count: string | number }[]>('* as count');
    counts[table] = Number(count);
  }
  return counts;
}

async function count(db: Knex, sql: string, bindings: readonly Knex.RawBinding[] = []): Promise<number> {
  const { rows } = await db.raw<{ rows: { count: string | number }[] }>(sql, bindings);
  return Number(rows[0].count);
}

const isoDay = (date: Date, plusDays = 0) => new Date(date.getTime() + plusDays * 86_400_000).toISOString().slice(0, 10);

describe('demo data for Northwind Analytics', () => {
  const now = new Date();
  let database: Awaited<ReturnType<typeof createTestDatabase>>;
  let db: Knex;
  let first: { loaded: boolean; people: DemoPerson[] };
  let countsAfterFirstLoad: Record<string, number>;

  beforeAll(async () => {
    database = await createTestDatabase();
    db = database.db;
    first = await loadDemoData(db, () => {}, now, { publicKeys: true });
    countsAfterFirstLoad = await rowCounts(db);
  });

  afterAll(async () => {
    await database?.drop();
  });

  it('loads once: a second call loads nothing, changes no row count, and still returns the people', async () => {
    expect(first.loaded).toBe(true);
    const lines: string[] = [];
    const second = await loadDemoData(db, (line) => lines.push(line), now, { publicKeys: true });
    expect(second.loaded).toBe(false);
    expect(second.people).toEqual(first.people);
    expect(await rowCounts(db)).toEqual(countsAfterFirstLoad);
    expect(lines.join('\n')).toMatch(/already there/);
  });

  it('has the size it promises', () => {
    expect(countsAfterFirstLoad.people).toBeGreaterThanOrEqual(28);
    expect(countsAfterFirstLoad.people).toBeLessThanOrEqual(32);
    expect(countsAfterFirstLoad.cost_centres).toBe(5);
    expect(countsAfterFirstLoad.budgets).toBe(5 * 6);
    expect(countsAfterFirstLoad.vendors).toBe(10);
    expect(countsAfterFirstLoad.contracts).toBeGreaterThanOrEqual(12);
    expect(countsAfterFirstLoad.assets).toBeGreaterThanOrEqual(180);
    expect(countsAfterFirstLoad.assets).toBeLessThanOrEqual(220);
    expect(countsAfterFirstLoad.configuration_items).toBeGreaterThanOrEqual(280);
    expect(countsAfterFirstLoad.configuration_items).toBeLessThanOrEqual(320);
    expect(countsAfterFirstLoad.cost_records).toBeLessThan(5000);
  });

  it('has five business services, tier 1 among them, with at least two criticalities', async () => {
    const services: { criticality: string }[] = await db('configuration_items').where({ ci_class: 'business_service' }).select('criticality');
    expect(services).toHaveLength(5);
    const tiers = new Set(services.map((s) => s.criticality));
    expect(tiers.has('tier_1')).toBe(true);
    expect(tiers.size).toBeGreaterThanOrEqual(2);
  });

  it('gives the roles as briefed: everyone requests, two asset managers, the admin is also a process owner', async () => {
    const holders = async (role: string) =>
      (await db('person_roles as r').join('people as p', 'p.id', 'r.person_id').where('r.role', role).pluck('p.email')) as string[];
    expect(await holders('requester')).toHaveLength(countsAfterFirstLoad.people);
    expect(await holders('asset_manager')).toHaveLength(2);
    expect(await holders('admin')).toEqual(['admin@northwind.example']);
    expect(await holders('process_owner')).toContain('admin@northwind.example');
    const managers = await count(db, `SELECT count(DISTINCT manager_id) AS count FROM people WHERE manager_id IS NOT NULL`);
    const approvingManagers = await count(db, `
      SELECT count(*) AS count FROM person_roles
       WHERE role = 'approver' AND person_id IN (SELECT manager_id FROM people)`);
    expect(approvingManagers).toBe(managers);
  });

  it("stores the hash of every demo person's deterministic API key", async () => {
    expect(first.people).toHaveLength(countsAfterFirstLoad.people);
    const stored = new Map<string, string>(
      (await db('people as p').join('api_keys as k', 'k.person_id', 'p.id').select('p.email', 'k.key_hash')).map((p: { email: string; key_hash: string }) => [p.email, p.key_hash]),
    );
    for (const person of first.people) {
      expect(person.apiKey).toBe(`af_demo_${person.email.split('@')[0].replace(/\./g, '_')}`);
      expect(stored.get(person.email)).toBe(hashApiKey(person.apiKey));
    }
    const admin = first.people.find((p) => p.email === 'admin@northwind.example');
    expect(admin?.apiKey).toBe('af_demo_admin');
    expect(admin?.roles).toEqual(expect.arrayContaining(['admin', 'process_owner']));
  });

  it('has exactly one over-deployed and one under-used product; the rest are compliant', async () => {
    const { rows } = await db.raw<{ rows: { name: string; entitled: number; consumed: number }[] }>(`
      SELECT p.name,
             COALESCE((SELECT SUM(e.quantity) FROM software_entitlements e WHERE e.product_id = p.id), 0)::int AS entitled,
             COALESCE((SELECT SUM(c.units) FROM software_consumptions c
                        WHERE c.product_id = p.id AND c.reclaimed_at IS NULL), 0)::int AS consumed
        FROM software_products p`);
    const overDeployed = rows.filter((r) => r.consumed > r.entitled);
    const underUsed = rows.filter((r) => r.consumed * 2 < r.entitled);
    expect(overDeployed.map((r) => r.name)).toEqual(['Tableau Desktop']);
    expect(underUsed.map((r) => r.name)).toEqual(['Creative Cloud All Apps']);
    expect(rows.length).toBeGreaterThanOrEqual(8);
  });

  it('has cost records over three consecutive calendar months, up to the current one', async () => {
    const { rows } = await db.raw<{ rows: { month: string }[] }>(`
      SELECT DISTINCT to_char(charge_period_start AT TIME ZONE 'UTC', 'YYYY-MM') AS month FROM cost_records ORDER BY 1`);
    const monthKey = (offset: number) => new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() + offset, 1)).toISOString().slice(0, 7);
    expect(rows.map((r) => r.month)).toEqual([monthKey(-2), monthKey(-1), monthKey(0)]);
    expect(await count(db, `SELECT count(*) AS count FROM cost_records WHERE charge_period_start > now()`)).toBe(0);
    expect(await count(db, `SELECT count(*) AS count FROM cost_records WHERE source_key NOT LIKE 'demo:%'`)).toBe(0);
    expect(await count(db, `SELECT count(DISTINCT provider_name) AS count FROM cost_records WHERE provider_name IN ('AWS', 'Microsoft') AND cost_import_id IS NOT NULL`)).toBe(2);
  });

  it("loads each provider's cloud usage of a month as the completed import of that bill, holding its scope, with its counts and totals", async () => {
    const months = await count(db, `SELECT count(DISTINCT billing_period_start) AS count FROM cost_records WHERE charge_category = 'Usage'`);
    expect(await count(db, `SELECT count(*) AS count FROM cost_imports WHERE state = 'completed' AND file_name LIKE 'demo-%'`)).toBe(2 * months);
    // Every usage record is on the import holding its provider, billing account and month.
    expect(await count(db, `
      SELECT count(*) AS count FROM cost_records r
       WHERE r.charge_category = 'Usage'
         AND NOT EXISTS (SELECT 1 FROM cost_import_scopes s
                          WHERE s.import_id = r.cost_import_id AND s.provider_name = r.provider_name
                            AND s.billing_account_id = r.billing_account_id AND s.billing_period_start = r.billing_period_start)`)).toBe(0);
    // Each import's counts and totals are its records'.
    expect(await count(db, `
      SELECT count(*) AS count FROM cost_imports i
        JOIN LATERAL (SELECT count(*)::int AS n, sum(billed_cost)::text AS billed FROM cost_records r WHERE r.cost_import_id = i.id) r ON true
       WHERE i.rows_imported <> r.n OR i.rows_total <> r.n OR i.totals -> 0 ->> 'billedCost' <> r.billed OR jsonb_array_length(i.totals) <> 1`)).toBe(0);
    expect(await count(db, `SELECT count(*) AS count FROM cost_records WHERE charge_category = 'Usage' AND business_service_id IS NULL`)).toBe(0);
  });

  it('has the estate the lifecycle tests need', async () => {
    const serversWithWorkloads = await count(db, `
      SELECT count(*) AS count FROM assets a
        JOIN configuration_items s ON s.asset_id = a.id AND s.ci_class = 'server'
       WHERE a.state = 'in_use'
         AND EXISTS (SELECT 1 FROM ci_relationships r JOIN configuration_items c ON c.id = r.from_ci_id
                      WHERE r.to_ci_id = s.id AND r.type IN ('runs_on', 'hosted_on') AND c.operational_status = 'operational')`);
    expect(serversWithWorkloads).toBeGreaterThanOrEqual(3);
    const idleStock = await count(db, `
      SELECT count(*) AS count FROM assets a
       WHERE a.state = 'in_stock' AND NOT EXISTS (SELECT 1 FROM configuration_items c WHERE c.asset_id = a.id)`);
    expect(idleStock).toBeGreaterThanOrEqual(3);
    const retirableLaptops = await count(db, `
      SELECT count(DISTINCT a.id) AS count FROM assets a
        JOIN hardware_models m ON m.id = a.model_id AND m.category = 'laptop'
        JOIN software_consumptions c ON c.asset_id = a.id AND c.reclaimed_at IS NULL
       WHERE a.state = 'in_use' AND NOT EXISTS (SELECT 1 FROM configuration_items ci WHERE ci.asset_id = a.id)`);
    expect(retirableLaptops).toBeGreaterThanOrEqual(5);
    const ciAssetsNotInUse = await count(db, `
      SELECT count(*) AS count FROM configuration_items c JOIN assets a ON a.id = c.asset_id WHERE a.state <> 'in_use'`);
    expect(ciAssetsNotInUse).toBe(0);
    const warrantySoon = await count(db, `SELECT count(*) AS count FROM assets WHERE warranty_end BETWEEN ? AND ?`, [isoDay(now, 30), isoDay(now, 60)]);
    expect(warrantySoon).toBeGreaterThanOrEqual(2);
  });

  it('has approval rules, standard change models and windows ahead', async () => {
    expect(await count(db, `SELECT count(*) AS count FROM approval_rules WHERE process = 'change'`)).toBe(5);
    expect(await count(db, `SELECT count(*) AS count FROM approval_rules WHERE process = 'procurement'`)).toBe(4);
    const cab = await db('approval_rules as r').join('groups as g', 'g.id', 'r.group_id').where('r.name', 'CAB').first('r.policy', 'r.quorum', 'g.name as group');
    expect(cab).toEqual({ policy: 'quorum', quorum: 2, group: 'Change Advisory Board' });
    expect(await count(db, `SELECT count(*) AS count FROM change_models WHERE risk_ceiling IN ('low', 'moderate')`)).toBe(3);
    expect(await count(db, `SELECT count(*) AS count FROM schedule_windows WHERE kind = 'maintenance' AND starts_at > now()`)).toBe(8);
    expect(await count(db, `SELECT count(*) AS count FROM schedule_windows WHERE kind = 'blackout' AND starts_at > now()`)).toBe(1);
  });

  it('produces the same data in another database', async () => {
    const other = await createTestDatabase();
    try {
      await loadDemoData(other.db, () => {}, now);
      const fingerprint = async (target: Knex) => ({
        serials: await target('assets').orderBy('serial_number').pluck('serial_number'),
        cis: await target('configuration_items').orderBy('name').pluck('name'),
        costs: (await target('cost_records').sum({ total: 'billed_cost' }))[0].total,
        budgets: await target('budgets').orderBy(['amount_minor', 'period_start']).pluck('amount_minor'),
      });
      expect(await fingerprint(other.db)).toEqual(await fingerprint(db));
    } finally {
      await other.drop();
    }
  });
});
