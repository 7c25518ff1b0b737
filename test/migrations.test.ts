import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { Knex } from 'knex';
import { loadDemoData } from '../demo/seed';
import { MIGRATIONS } from '../migrations';
import { migrateToLatest, migrationConfig } from '../platform/database';
import { createTestDatabase, type TestDatabase } from './support/database';
import { createHardwareModel, createPerson } from './support/fixtures';

/**
 * Migrations must run down as well as up, on a database full of data, and leave nothing behind;
 * the list in migrations/index.ts must be the files on disk; and the constraints they declare must
 * really refuse bad rows.
 */

/** What each migration creates in the public schema: its down must remove exactly this, and nothing else. */
const CREATED_BY: Record<string, { tables: string[]; sequences?: string[]; functions?: string[] }> = {
  '20261127000100_people_groups_roles': { tables: ['people', 'groups', 'group_members', 'person_roles'] },
  '20261127000200_cost_centres_and_budgets': { tables: ['cost_centres', 'budgets'] },
  '20261127000300_vendors_and_contracts': { tables: ['vendors', 'contracts'], sequences: ['contract_number_seq'] },
  '20261127000400_product_catalogue': { tables: ['hardware_models', 'software_products'] },
  '20261127000500_assets': { tables: ['assets'], sequences: ['asset_tag_seq'] },
  '20261127000600_configuration_items': { tables: ['configuration_items', 'ci_relationships'], sequences: ['ci_number_seq'] },
  '20261127000700_software_entitlements_and_consumptions': {
    tables: ['software_entitlements', 'software_consumptions'],
    sequences: ['entitlement_number_seq'],
  },
  '20261127000800_focus_cost_records': { tables: ['cost_records'] },
  '20261127000900_procurement': {
    tables: ['purchase_requests', 'purchase_request_lines', 'purchase_orders', 'receipts'],
    sequences: ['purchase_request_number_seq', 'purchase_order_number_seq'],
  },
  '20261127001000_change_requests': {
    tables: ['change_models', 'change_requests', 'change_affected_cis', 'change_asset_actions'],
    sequences: ['change_number_seq'],
  },
  '20261127001100_approvals_and_rules': { tables: ['approval_rules', 'approvals', 'delegations'] },
  '20261127001200_maintenance_and_blackout_windows': { tables: ['schedule_windows'] },
  // audit_log_id_seq is the sequence behind the bigIncrements id, dropped with its table.
  '20261127001300_audit_log': { tables: ['audit_log'], sequences: ['audit_log_id_seq'], functions: ['audit_log_refuse_change'] },
  '20261127001400_email_log': { tables: ['email_log'] },
  '20261127001500_change_approval_workflow': { tables: ['change_licence_changes'] },
  '20261127001600_procurement_workflow': { tables: ['contract_prices'] },
  '20261127001700_process_index': {
    tables: ['sla_targets', 'processes'],
    functions: ['process_sla_due', 'processes_from_asset', 'processes_from_change', 'processes_from_purchase', 'processes_waiting_from_approvals'],
  },
  '20261127001800_process_state_notifications': { tables: [], functions: ['processes_announce_state'] },
  '20261127001900_ci_dependants_index': { tables: [] },
  '20261127002000_process_sla_order_index': { tables: [] },
  '20261129000100_submissions': { tables: ['submissions'] },
  '20261129001000_process_attention': { tables: ['process_attention'], sequences: ['process_attention_id_seq'], functions: ['processes_attention_from_steps'] },
  '20261129002000_idempotency_keys': { tables: ['idempotency_keys'] },
  '20261129002100_purchase_total_until_priced': { tables: [] },
  '20261129003000_web_sessions': { tables: ['web_sessions'], functions: ['end_sessions_of_deactivated_person'] },
  '20261129003100_rate_limits': { tables: ['rate_limits'] },
  '20261129004000_email_outbox': { tables: [], functions: ['email_log_announce_queued'] },
  '20261129005000_serial_numbers_unique_whatever_the_case': { tables: [] },
  '20261130000100_api_keys': { tables: ['api_keys'] },
  '20261130000200_people_and_groups_editable': { tables: [] },
  '20261130000300_single_sign_on': { tables: ['sso_role_mappings', 'oidc_sign_ins'] },
  '20261130000400_approval_handover': { tables: [] },
  '20261201000100_master_data_editable': { tables: [], functions: ['vendors_default_code'] },
  '20261201000200_imports': { tables: ['imports', 'import_rows'] },
  '20261201000300_configuration_versions': {
    tables: ['approval_rule_versions', 'settings'],
    functions: ['approval_rules_next_version', 'approval_rules_keep_version'],
  },
  '20261201000400_audit_search_indexes': { tables: [] },
  '20261202000100_web_ui_for_everyone': { tables: ['sla_breach_notices'] },
  '20261203000100_inventory_reconciliation': {
    tables: ['inventory_sources', 'identification_rules', 'reconciliation_rules', 'attribute_provenance', 'ci_sightings', 'reconciliation_cases'],
    sequences: ['reconciliation_case_number_seq'],
  },
  '20261203000200_merged_configuration_items': { tables: [], functions: ['processes_from_reconciliation_case'] },
  '20261204000100_finops_and_cobit': {
    tables: ['cost_imports', 'cost_import_rows', 'cost_import_refusals', 'cost_import_scopes', 'cost_allocation_tag_keys', 'allocation_rules',
      'allocation_runs', 'cost_allocations', 'budget_alerts', 'optimisation_findings', 'contract_renewals'],
    sequences: ['cost_import_number_seq', 'cost_allocations_id_seq', 'finding_number_seq', 'contract_renewal_number_seq'],
    functions: ['processes_from_contract_renewal'],
  },
};

/** Every relation knex keeps for its own bookkeeping; they stay when all migrations are rolled back. */
const KNEX_RELATIONS = [
  'knex_migrations', 'knex_migrations_id_seq', 'knex_migrations_lock', 'knex_migrations_lock_index_seq',
  'knex_migrations_lock_pkey', 'knex_migrations_pkey',
];

/** One demo load date for every load, so that date-dependent rows come out the same. */
const NOW = new Date();

const databases: TestDatabase[] = [];

async function freshDatabase(): Promise<Knex> {
  const database = await createTestDatabase();
  databases.push(database);
  return database.db;
}

afterAll(async () => {
  for (const database of databases) await database.drop();
});

// ---------------------------------------------------------------------------------------------
// Reading the public schema
// ---------------------------------------------------------------------------------------------

async function names(db: Knex, sql: string): Promise<string[]> {
  const { rows } = await db.raw<{ rows: { name: string }[] }>(sql);
  return rows.map((row) => row.name);
}

/** Every relation in public: tables, sequences, indexes, views, composite types. */
const publicRelations = (db: Knex) =>
  names(db, `SELECT c.relname AS name FROM pg_class c WHERE c.relnamespace = 'public'::regnamespace ORDER BY 1`);

/** Functions in public that are not members of an extension. */
const publicFunctions = (db: Knex) =>
  names(db, `
    SELECT p.proname AS name FROM pg_proc p
     WHERE p.pronamespace = 'public'::regnamespace
       AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_proc'::regclass AND d.objid = p.oid AND d.deptype = 'e')
     ORDER BY 1`);

/** The application's tables, sequences and functions (knex's bookkeeping left out). */
async function applicationSchema(db: Knex): Promise<{ tables: string[]; sequences: string[]; functions: string[] }> {
  const tables = await names(db, `
    SELECT c.relname AS name FROM pg_class c
     WHERE c.relnamespace = 'public'::regnamespace AND c.relkind IN ('r', 'p') ORDER BY 1`);
  const sequences = await names(db, `
    SELECT c.relname AS name FROM pg_class c
     WHERE c.relnamespace = 'public'::regnamespace AND c.relkind = 'S' ORDER BY 1`);
  const notKnex = (name: string) => !KNEX_RELATIONS.includes(name);
  return { tables: tables.filter(notKnex), sequences: sequences.filter(notKnex), functions: await publicFunctions(db) };
}

/** What the schema should hold when exactly these migrations are applied. */
function expectedSchema(applied: readonly string[]): { tables: string[]; sequences: string[]; functions: string[] } {
  const created = applied.map((name) => CREATED_BY[name]);
  return {
    tables: created.flatMap((c) => c.tables).sort(),
    sequences: created.flatMap((c) => c.sequences ?? []).sort(),
    functions: created.flatMap((c) => c.functions ?? []).sort(),
  };
}

async function countRows(db: Knex, table: string): Promise<number> {
  const [{ count }] = await db(table).count<{ count: string | number }[]>('* as count');
  return Number(count);
}

/** Rows per application table, cost_records left out: its rows depend on the day of the month. */
async function rowCounts(db: Knex): Promise<Record<string, number>> {
  const counts: Record<string, number> = {};
  for (const table of (await applicationSchema(db)).tables) {
    if (table === 'cost_records') continue;
    counts[table] = await countRows(db, table);
  }
  return counts;
}

/** Rolls back the newest applied migration; returns the names knex rolled back. */
async function migrateDownOnce(db: Knex): Promise<string[]> {
  const [, rolledBack] = (await db.migrate.down(migrationConfig)) as [number, string[]];
  return rolledBack;
}

async function migrateDownToNothing(db: Knex): Promise<void> {
  for (let i = 0; i < MIGRATIONS.length; i++) await migrateDownOnce(db);
  expect(await db.migrate.currentVersion(migrationConfig)).toBe('none');
}

/**
 * Rows in the tables the demo data leaves empty (workflow output), so that every table holds
 * data when the migrations run down, the append-only audit log among them.
 */
async function addWorkflowRows(db: Knex): Promise<void> {
  const [requester, approver] = await db('people').orderBy('email').limit(2).pluck('id');
  const asset = await db('assets').orderBy('asset_tag').first('id', 'model_id');
  const ci = await db('configuration_items').orderBy('number').first('id');
  const costCentre = await db('cost_centres').orderBy('code').first('id');
  const vendor = await db('vendors').orderBy('name').first('id');

  const [change] = await db('change_requests').insert({ type: 'normal', requester_id: requester, title: 'Patch the database cluster' }).returning('id');
  await db('change_affected_cis').insert({ change_request_id: change.id, ci_id: ci.id });
  await db('change_asset_actions').insert({ change_request_id: change.id, asset_id: asset.id, to_state: 'in_maintenance' });
  const [approval] = await db('approvals')
    .insert({ subject_type: 'change_request', subject_id: change.id, workflow_id: 'change-test', step_order: 1, step_name: 'Manager', approver_id: approver, state: 'escalated' })
    .returning('id');
  await db('approvals').insert({
    subject_type: 'change_request', subject_id: change.id, workflow_id: 'change-test', step_order: 1, step_name: 'Manager', approver_id: requester,
    escalated_from_id: approval.id,
  });
  const product = await db('software_products').orderBy('name').first('id');
  await db('change_licence_changes').insert({ change_request_id: change.id, product_id: product.id, installs_added: 2 });
  const contract = await db('contracts').orderBy('number').first('id');
  await db('contract_prices').insert({ contract_id: contract.id, software_product_id: product.id, unit_price_minor: 9_900, currency: 'EUR' });
  await db('delegations').insert({ delegator_id: approver, delegate_id: requester, starts_at: '2026-01-01T00:00:00Z', ends_at: '2026-01-08T00:00:00Z' });

  const [request] = await db('purchase_requests')
    .insert({ requester_id: requester, cost_centre_id: costCentre.id, justification: 'New starter', currency: 'EUR', total_minor: 145_000 })
    .returning('id');
  const [line] = await db('purchase_request_lines')
    .insert({
      purchase_request_id: request.id, line_number: 1, hardware_model_id: asset.model_id, description: 'Laptop',
      vendor_id: vendor.id, quantity: 1, unit_price_minor: 145_000,
    })
    .returning('id');
  const [order] = await db('purchase_orders')
    .insert({ purchase_request_id: request.id, vendor_id: vendor.id, amount_minor: 145_000, currency: 'EUR' })
    .returning('id');
  await db('receipts').insert({
    idempotency_key: 'receipt-test', purchase_order_id: order.id, purchase_request_line_id: line.id, quantity: 1,
    serial_numbers: ['SN-TEST-1'], received_by_id: requester,
  });

  await db('submissions').insert({
    requester_id: requester, idempotency_key: 'submission-test', process: 'procurement', subject_id: request.id, number: 'PR0009999', workflow_id: 'purchase:PR0009999',
  });
  await db('idempotency_keys').insert({ caller_id: requester, idempotency_key: 'submission-test', request_fingerprint: 'f'.repeat(64) });

  await db('web_sessions').insert({ id_hash: 'session-test', person_id: requester, csrf: 'csrf-test', expires_at: '2026-01-01T08:00:00Z' });
  await db('rate_limits').insert({ key: 'auth-failures:192.0.2.1', points: 1, expire: Date.parse('2026-01-01T00:15:00Z') });
  await db('process_attention').insert({ idempotency_key: 'attention-test', workflow_id: 'change:CHG0009999', step: 'assess', reason: 'connection refused' });
  const [laptopKey] = await db('api_keys').insert({ person_id: requester, name: 'laptop', prefix: 'af_testtest', key_hash: 'k'.repeat(64), created_by: 'system:test' }).returning('id');
  await db('web_sessions').insert({ id_hash: 'session-with-key', person_id: requester, csrf: 'csrf-test', expires_at: '2026-01-01T08:00:00Z', signed_in_via: 'api_key', api_key_id: laptopKey.id });
  await db('sso_role_mappings').insert({ claim_value: 'it-operations', role: 'approver' });
  await db('oidc_sign_ins').insert({ state_hash: 's'.repeat(64), code_verifier: 'verifier-test', nonce: 'nonce-test', expires_at: '2026-01-01T00:10:00Z' });
  await db('people').where({ id: requester }).update({ oidc_issuer: 'https://login.example.test', oidc_subject: 'subject-test' });
  await db('approvals').insert({
    subject_type: 'change_request', subject_id: change.id, workflow_id: 'change-test', step_order: 2, step_name: 'CAB', approver_id: approver, state: 'reassigned',
  }).returning('id').then(([moved]) => db('approvals').insert({
    subject_type: 'change_request', subject_id: change.id, workflow_id: 'change-test', step_order: 2, step_name: 'CAB', approver_id: requester, reassigned_from_id: moved.id,
  }));

  const [upload] = await db('imports').insert({ kind: 'assets', format: 'csv', dry_run: true, on_invalid_rows: 'reject_file', requested_by_id: requester }).returning('id');
  await db('import_rows').insert({ import_id: upload.id, row_number: 1, record: { assetTag: 'AST0009999' }, verdict: 'create' });
  await db('settings').insert({ key: 'warrantyReminderDays', value: 30, updated_by: 'system:test' });
  await db('approval_rules').where({ id: (await db('approval_rules').first('id')).id }).update({ name: 'Renamed rule', updated_by: 'system:test' });

  await db('audit_log').insert({
    idempotency_key: 'audit-test', actor: 'system:test', subject_type: 'change_request', subject_id: change.id, action: 'created', to_state: 'new',
  });
  await db('email_log').insert({
    idempotency_key: 'email-test', template: 'approval_requested', recipients: ['approver@northwind.example'], subject: 'Approve', body_text: 'Please approve',
  });
  await db('sla_breach_notices').insert({ workflow_id: 'change:CHG0009999', state: 'authorize', state_entered_at: '2026-11-20T09:00:00Z', sla_due_at: '2026-11-21T09:00:00Z' });

  const [batch] = await db('imports').insert({
    kind: 'inventory', format: 'jsonl', dry_run: false, on_invalid_rows: 'skip_rows', requested_by_id: requester, source: 'discovery', batch_key: 'scan-1',
    observed_at: '2026-11-20T09:00:00Z',
  }).returning('id');
  await db('import_rows').insert({
    import_id: batch.id, row_number: 1, record: { ciClass: 'server', hostname: 'db01' }, verdict: 'hold', outcome: 'held', identification: { outcome: 'duplicate' },
  });
  const [other] = await db('configuration_items').insert({ name: 'db01', ci_class: 'server', hostname: 'db01', dns_domain: 'example.test', discovery_state: 'discovered' }).returning('id');
  await db('attribute_provenance').insert({ ci_id: other.id, attribute: 'hostname', source: 'discovery', set_at: '2026-11-20T09:00:00Z', confirmed_at: '2026-11-20T09:00:00Z', import_id: batch.id });
  await db('ci_sightings').insert({ ci_id: other.id, source: 'discovery', first_seen_at: '2026-11-20T09:00:00Z', last_seen_at: '2026-11-20T09:00:00Z', last_import_id: batch.id });
  const pair = [ci.id, other.id].sort();
  await db('reconciliation_cases').insert({ ci_ids: pair, pair_key: pair.join(':'), reason: 'serial and hostname name different records', import_id: batch.id, row_number: 1 });

  const [bill] = await db('cost_imports').insert({ file_name: 'focus.csv', file_sha256: 'b'.repeat(64), file_bytes: 100, format: 'csv', requested_by_id: requester }).returning('id');
  const period = { billing_period_start: '2026-11-01T00:00:00Z', billing_period_end: '2026-12-01T00:00:00Z' };
  const billLine = {
    ...period, charge_period_start: '2026-11-02T00:00:00Z', charge_period_end: '2026-11-03T00:00:00Z', charge_category: 'Usage',
    provider_name: 'AWS', service_name: 'Amazon EC2', billed_cost: '0.0000012345678', effective_cost: '0.0000012345678', billing_currency: 'USD',
  };
  await db('cost_import_rows').insert({ import_id: bill.id, row_number: 1, ...billLine });
  await db('cost_import_refusals').insert({ import_id: bill.id, row_number: 2, problems: JSON.stringify([{ column: 'BilledCost', reason: 'not a number' }]), line: { BilledCost: 'x' } });
  await db('cost_import_scopes').insert({ provider_name: 'AWS', billing_account_id: '', billing_period_start: period.billing_period_start, import_id: bill.id });
  await db('cost_records').insert({ ...billLine, source_key: 'focus-test', cost_import_id: bill.id, business_service_id: ci.id });
  const [run] = await db('allocation_runs').insert({ period_start: '2026-11-01', idempotency_key: 'allocation-test' }).returning('id');
  const pool = await db('cost_centres').whereNotIn('id', db('allocation_rules').select('pool_cost_centre_id')).orderBy('code').first('id');
  await db('allocation_rules').insert({ name: 'Shared IT', pool_cost_centre_id: pool.id, method: 'headcount' });
  await db('cost_allocations').insert({ run_id: run.id, period_start: '2026-11-01', category: 'cloud', source_type: 'cost_record', cost_centre_id: costCentre.id, amount: '0.0000012345678', currency: 'USD' });
  await db('budget_alerts').insert({ cost_centre_id: costCentre.id, period_start: '2026-11-01', threshold: 80, budget_minor: 100_000, spent_minor: 80_000, currency: 'EUR' });
  const [finding] = await db('optimisation_findings').insert({
    kind: 'contract_renewal_due', subject_type: 'contract', subject_id: contract.id, subject_ref: 'CNTR0009999', title: 'Renewal notice', effect: 'exposure', amount_minor: 100, currency: 'EUR',
  }).returning('id');
  await db('contract_renewals').insert({ contract_id: contract.id, finding_id: finding.id, title: 'Renew support', workflow_id: 'renewal:RNW0009999', requested_by_id: requester });
}

// ---------------------------------------------------------------------------------------------
// Up and down
// ---------------------------------------------------------------------------------------------

describe('migrations', () => {
  it('lists in migrations/index.ts every migration file, in file-name order, each with up and down', async () => {
    const folder = path.join(__dirname, '..', 'migrations');
    const files = fs.readdirSync(folder).filter((file) => /^2.*\.ts$/.test(file)).sort();
    expect(files.length).toBeGreaterThan(0);
    expect(MIGRATIONS.map(([name]) => name)).toEqual(files.map((file) => file.replace(/\.ts$/, '')));
    for (const [name, migration] of MIGRATIONS) {
      // The name points at its own file, not at a neighbour's module.
      expect(migration).toBe(await import(path.join(folder, name)));
      expect(typeof migration.up).toBe('function');
      expect(typeof migration.down).toBe('function');
    }
    expect(Object.keys(CREATED_BY)).toEqual(MIGRATIONS.map(([name]) => name));
  });

  it('rolls back one migration at a time over the demo data, each removing exactly what it created', async () => {
    const db = await freshDatabase();
    expect((await loadDemoData(db, () => {}, NOW)).loaded).toBe(true);
    await addWorkflowRows(db);

    const applied = MIGRATIONS.map(([name]) => name);
    // The map of what each migration creates is the schema the migrations really build...
    expect(await applicationSchema(db)).toEqual(expectedSchema(applied));
    // ...and every table holds rows, so the downs below run over real data.
    const counts = await rowCounts(db);
    expect(Object.keys(counts).filter((table) => counts[table] === 0)).toEqual([]);
    expect(await countRows(db, 'cost_records')).toBeGreaterThan(0);

    while (applied.length > 0) {
      const migration = applied.pop()!;
      expect(await migrateDownOnce(db)).toEqual([migration]);
      for (const table of CREATED_BY[migration].tables) {
        expect({ migration, table, exists: await db.schema.hasTable(table) }).toEqual({ migration, table, exists: false });
      }
      // Exactly the earlier migrations' objects remain: nothing left behind, nothing else dropped.
      expect({ migration, ...(await applicationSchema(db)) }).toEqual({ migration, ...expectedSchema(applied) });
    }

    expect(await db.migrate.currentVersion(migrationConfig)).toBe('none');
    expect(await migrateDownOnce(db)).toEqual([]);
    expect(await publicRelations(db)).toEqual(KNEX_RELATIONS);
    expect(await publicFunctions(db)).toEqual([]);
    expect(await names(db, `SELECT extname AS name FROM pg_extension WHERE extname <> 'plpgsql' ORDER BY 1`)).toEqual([]);
  });

  it('migrates up again after a full rollback, and the demo data loads again with the same row counts', async () => {
    const db = await freshDatabase();
    expect((await loadDemoData(db, () => {}, NOW)).loaded).toBe(true);
    const firstCounts = await rowCounts(db);

    await migrateDownToNothing(db);
    expect(await migrateToLatest(db)).toEqual(MIGRATIONS.map(([name]) => name));

    expect((await loadDemoData(db, () => {}, NOW)).loaded).toBe(true);
    expect(await rowCounts(db)).toEqual(firstCounts);
  });

  it('binds each web session open before API keys to the key its person held (which it will end with), and no other', async () => {
    const db = await freshDatabase();
    while ((await db.migrate.currentVersion(migrationConfig)) >= '20261130000100') await migrateDownOnce(db);
    const [withKey, withoutKey] = await db('people')
      .insert([{ email: 'keyed@example.com', name: 'Keyed', api_key_hash: 'h'.repeat(64) }, { email: 'keyless@example.com', name: 'Keyless' }])
      .returning('id');
    await db('web_sessions').insert([
      { id_hash: 'session-of-keyed', person_id: withKey.id, csrf: 'csrf-test', expires_at: '2026-01-01T08:00:00Z' },
      { id_hash: 'session-of-keyless', person_id: withoutKey.id, csrf: 'csrf-test', expires_at: '2026-01-01T08:00:00Z' },
    ]);

    await migrateToLatest(db);

    const key = await db('api_keys').where({ person_id: withKey.id }).first('id', 'name');
    expect(key).toMatchObject({ name: 'default' });
    expect(await db('web_sessions').orderBy('id_hash').select('id_hash', 'api_key_id')).toEqual([
      { id_hash: 'session-of-keyed', api_key_id: key.id },
      { id_hash: 'session-of-keyless', api_key_id: null },
    ]);
  });
});

// ---------------------------------------------------------------------------------------------
// Constraints
// ---------------------------------------------------------------------------------------------

describe('constraints', () => {
  let db: Knex;

  beforeAll(async () => {
    db = await freshDatabase();
  });

  const unique = () => randomUUID().slice(0, 8);

  async function assetRow(fields: Record<string, unknown>): Promise<Record<string, unknown>> {
    return { model_id: await createHardwareModel(db), serial_number: `SN-${unique()}`, currency: 'EUR', ...fields };
  }

  async function costCentre(): Promise<string> {
    const [{ id }] = await db('cost_centres').insert({ code: `CC-${unique()}`, name: 'Finance' }).returning('id');
    return id;
  }

  it('derives a code for every vendor, numbering names that collapse to one code, and stops with the records to merge when a natural key is shared', async () => {
    const db = await freshDatabase();
    while ((await db.migrate.currentVersion(migrationConfig)) >= '20261201000100') await migrateDownOnce(db);
    await db('vendors').insert([{ name: 'Acme Inc' }, { name: 'ACME, Inc.' }, { name: 'Globex' }]);
    await migrateToLatest(db);
    expect(await db('vendors').orderBy('name').select('name', 'code')).toEqual([
      { name: 'ACME, Inc.', code: 'ACME-INC' }, { name: 'Acme Inc', code: 'ACME-INC-2' }, { name: 'Globex', code: 'GLOBEX' },
    ]);

    const twice = await freshDatabase();
    while ((await twice.migrate.currentVersion(migrationConfig)) >= '20261201000100') await migrateDownOnce(twice);
    await twice('configuration_items').insert([{ name: 'Payroll', ci_class: 'application' }, { name: 'PAYROLL', ci_class: 'application' }]);
    await expect(migrateToLatest(twice)).rejects.toThrow(/configuration items .* must be unique before this upgrade; rename or merge these, then start again: payroll \/ application \(2 records\)/);
  });

  it('keeps the audit log append-only: UPDATE, DELETE and TRUNCATE are refused and the row stays', async () => {
    const subjectId = randomUUID();
    await db('audit_log').insert({ idempotency_key: `audit-${subjectId}`, actor: 'system:test', subject_type: 'asset', subject_id: subjectId, action: 'created' });

    await expect(db('audit_log').where({ subject_id: subjectId }).update({ actor: 'someone else' })).rejects.toThrow(/audit_log is append-only/);
    await expect(db('audit_log').where({ subject_id: subjectId }).del()).rejects.toThrow(/audit_log is append-only/);
    await expect(db.raw('TRUNCATE audit_log')).rejects.toThrow(/audit_log is append-only/);
    expect(await db('audit_log').where({ subject_id: subjectId }).select('actor', 'action')).toEqual([{ actor: 'system:test', action: 'created' }]);
  });

  it('accepts an asset whose substate belongs to its state, and refuses one whose substate does not (assets_state_check)', async () => {
    await expect(db('assets').insert(await assetRow({ state: 'in_stock', substate: 'available' }))).resolves.toBeDefined();
    await expect(db('assets').insert(await assetRow({ state: 'in_stock', substate: 'sold' })))
      .rejects.toMatchObject({ code: '23514', constraint: 'assets_state_check' });
    await expect(db('assets').insert(await assetRow({ state: 'in_use', substate: 'available' })))
      .rejects.toMatchObject({ code: '23514', constraint: 'assets_state_check' });
  });

  // A CHECK that evaluates to NULL passes, so the constraint must reject a NULL substate explicitly.
  it('refuses an asset in stock without a substate (assets_state_check)', async () => {
    await expect(db('assets').insert(await assetRow({ state: 'in_stock', substate: null })))
      .rejects.toMatchObject({ code: '23514', constraint: 'assets_state_check' });
  });

  it('refuses a retired, disposed asset without a disposal attestation, and accepts it with one', async () => {
    const retired = { state: 'retired', substate: 'disposed', retired_at: '2026-11-01T00:00:00Z' };
    await expect(db('assets').insert(await assetRow(retired)))
      .rejects.toMatchObject({ code: '23514', constraint: 'assets_disposal_attestation_check' });
    const attestation = { wipedBy: 'it@northwind.example', method: 'NIST 800-88 purge', certificateId: 'CERT-1' };
    await expect(db('assets').insert(await assetRow({ ...retired, disposal_attestation: attestation }))).resolves.toBeDefined();
  });

  it('refuses a duplicate asset tag', async () => {
    const tag = `AST-${unique()}`;
    await db('assets').insert(await assetRow({ asset_tag: tag, state: 'in_use' }));
    await expect(db('assets').insert(await assetRow({ asset_tag: tag, state: 'in_use' })))
      .rejects.toMatchObject({ code: '23505', constraint: 'assets_tag_unique' });
  });

  it('refuses a closed change request without a close code, and an open one with a close code', async () => {
    const requester = await createPerson(db, ['requester']);
    const change = (fields: Record<string, unknown>) => ({ type: 'normal', requester_id: requester.id, title: 'Upgrade the firewall', ...fields });

    await expect(db('change_requests').insert(change({ state: 'closed' })))
      .rejects.toMatchObject({ code: '23514', constraint: 'change_requests_closed_has_code_check' });
    await expect(db('change_requests').insert(change({ state: 'implement', close_code: 'successful' })))
      .rejects.toMatchObject({ code: '23514', constraint: 'change_requests_closed_has_code_check' });
    await expect(db('change_requests').insert(change({ state: 'closed', close_code: 'successful' }))).resolves.toBeDefined();
  });

  it('stores money as whole minor units: every *_minor column is bigint, and a fractional amount is refused', async () => {
    const types = await db('information_schema.columns')
      .where({ table_schema: 'public' })
      .whereLike('column_name', '%\\_minor')
      .distinct('data_type')
      .pluck('data_type');
    expect(types).toEqual(['bigint']);

    const budget = { cost_centre_id: await costCentre(), period_start: '2026-11-01', currency: 'EUR' };
    // pg sends the number as the text '12.5', which is not valid input for bigint.
    await expect(db('budgets').insert({ ...budget, amount_minor: 12.5 }))
      .rejects.toMatchObject({ code: '22P02', message: expect.stringContaining('invalid input syntax for type bigint: "12.5"') });
    await expect(db('budgets').insert({ ...budget, amount_minor: '12.5' })).rejects.toMatchObject({ code: '22P02' });
    expect(await db('budgets').where({ cost_centre_id: budget.cost_centre_id }).pluck('amount_minor')).toEqual([]);

    // Honest about the other path: a numeric value (an SQL literal, or a parameter cast to numeric)
    // is converted to bigint on assignment, and Postgres rounds it rather than refusing it.
    const { rows } = await db.raw<{ rows: { amount_minor: number }[] }>(
      `INSERT INTO budgets (cost_centre_id, period_start, amount_minor, currency) VALUES (?, ?, ?::numeric, ?) RETURNING amount_minor`,
      [budget.cost_centre_id, budget.period_start, '12.5', budget.currency],
    );
    expect(rows).toEqual([{ amount_minor: 13 }]);
  });

  it('links a person to one provider account with both its issuer and subject, and an account to one person (people_oidc_*)', async () => {
    const person = async (link: Record<string, unknown>) => db('people').insert({ email: `linked.${unique()}@assetflow.test`, name: 'Linked', ...link });
    const account = { oidc_issuer: 'https://login.example.test', oidc_subject: `subject-${unique()}` };
    await expect(person({ oidc_issuer: account.oidc_issuer })).rejects.toMatchObject({ code: '23514', constraint: 'people_oidc_link_check' });
    await expect(person({ oidc_subject: account.oidc_subject })).rejects.toMatchObject({ code: '23514', constraint: 'people_oidc_link_check' });
    await expect(person(account)).resolves.toBeDefined();
    await expect(person(account)).rejects.toMatchObject({ code: '23505', constraint: 'people_oidc_account_unique' });
    // The same subject at another provider is another account; people without a link are many.
    await expect(person({ ...account, oidc_issuer: 'https://other.example.test' })).resolves.toBeDefined();
    await expect(person({})).resolves.toBeDefined();
    await expect(person({})).resolves.toBeDefined();
  });
});
