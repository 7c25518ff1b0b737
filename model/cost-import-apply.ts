/**
 * Writing a staged cloud bill as cost records, set-based and in the caller's one transaction, so a
 * file of a million rows is a bounded number of statements and a rerun after a crash writes nothing
 * twice: cloud resources become CIs, tags allocate the cost, a newer bill of a provider, billing
 * account and billing period replaces the records of the older one, and the totals are summed by
 * Postgres from what was written (numeric: every decimal place kept).
 */
import type { Knex } from 'knex';
import type { AppliedCostImport, CostImportOutcome, CostImportState, CostTotal } from '../workflows/cost-import/contract';

/**
 * The characters JavaScript's trim() removes, which normaliseIdentifier (domain/reconciliation.ts)
 * strips from a cloud resource id: btrim with exactly these gives the same normal form in SQL, so
 * the CIs found or created here are the ones an inventory feed finds by the same id.
 */
export const TRIMMED_CHARACTERS = Array.from({ length: 0x10000 }, (_, code) => String.fromCharCode(code))
  .filter((character) => character.trim() === '')
  .join('');

/** A staged row's resource id in its normal form, '' when it names none (a key a hash join can use). */
const RESOURCE_KEY = `coalesce(nullif(btrim(r.resource_id, :trimmed), ''), '')`;

export interface CostImportRecord {
  id: string;
  state: CostImportState;
  rows_imported: number;
  rows_refused: number;
  totals: CostTotal[];
  message: string | null;
}

/** The import, locked until the transaction ends: an apply and a finish of one import take turns. */
export async function lockCostImport(trx: Knex.Transaction, importId: string): Promise<CostImportRecord | undefined> {
  return trx('cost_imports').where({ id: importId }).forUpdate()
    .first('id', 'state', 'rows_imported', 'rows_refused', 'totals', 'message');
}

export async function findCostImportRecord(db: Knex, importId: string): Promise<CostImportRecord | undefined> {
  return db('cost_imports').where({ id: importId }).first('id', 'state', 'rows_imported', 'rows_refused', 'totals', 'message');
}

/** The outcome of an ended import: completed, or failed with its reason. */
export function outcomeOf(record: CostImportRecord): CostImportOutcome {
  return {
    state: record.state === 'completed' ? 'completed' : 'failed',
    rowsImported: record.rows_imported,
    rowsRefused: record.rows_refused,
    totals: record.totals,
    message: record.message,
  };
}

/** The first charge period start and the last end of an import's records: which months it touched. */
export async function chargePeriodOf(db: Knex, importId: string): Promise<AppliedCostImport['chargePeriod']> {
  const row = await db('cost_records').where({ cost_import_id: importId })
    .first(db.raw('min(charge_period_start) AS start'), db.raw('max(charge_period_end) AS "end"')) as { start: Date | null; end: Date | null } | undefined;
  return row?.start && row.end ? { start: row.start.toISOString(), end: row.end.toISOString() } : null;
}

/** Marks a staged import as being applied (for its pages), outside the apply's long transaction. */
export async function markCostImportApplying(db: Knex, importId: string): Promise<void> {
  await db('cost_imports').where({ id: importId, state: 'staged' }).update({ state: 'applying' });
}

/**
 * Every cloud resource the staged rows name, in normal form, with the CI it is: a live CI of that
 * resource id, else a new discovered cloud_resource CI, whose name and resource id the cloud bill set.
 */
async function resourcesAsCis(trx: Knex.Transaction, importId: string): Promise<number> {
  await trx.raw(`
    CREATE TEMP TABLE cost_import_resources ON COMMIT DROP AS
    SELECT DISTINCT ON (resource_key) resource_key, resource_name, NULL::uuid AS ci_id
      FROM (SELECT nullif(btrim(r.resource_id, :trimmed), '') AS resource_key, nullif(btrim(r.resource_name, :trimmed), '') AS resource_name, r.row_number
              FROM cost_import_rows r WHERE r.import_id = :importId) named
     WHERE resource_key IS NOT NULL
     ORDER BY resource_key, resource_name IS NULL, row_number DESC`,
  { trimmed: TRIMMED_CHARACTERS, importId });
  await trx.raw('ALTER TABLE cost_import_resources ADD PRIMARY KEY (resource_key)');
  const findLive = () => trx.raw(`
    UPDATE cost_import_resources r SET ci_id = ci.id
      FROM configuration_items ci
     WHERE r.ci_id IS NULL AND ci.cloud_resource_id = r.resource_key AND ci.retired_at IS NULL`);
  await findLive();

  // CI names are unique per class among all records, retired ones too: a name taken (by another
  // resource of the same name, or by a retired CI of this one) falls back to the name with the
  // resource id, then with the new CI's number, which nobody else has. DO NOTHING without a target
  // also passes over a CI another import created for the same resource meanwhile: it is read after.
  const tiers = [
    { name: 'coalesce(r.resource_name, r.resource_key)', when: 'true' },
    { name: `r.resource_name || ' (' || r.resource_key || ')'`, when: 'r.resource_name IS NOT NULL' },
    { name: `coalesce(r.resource_name, r.resource_key) || ' (' || r.number || ')'`, when: 'true' },
  ];
  let created = 0;
  for (const tier of tiers) {
    // The number is drawn here, as the column's default would, so the last fallback can name it.
    const { rows } = await trx.raw(`
      WITH created AS (
        INSERT INTO configuration_items (number, name, ci_class, cloud_resource_id, discovery_state)
        SELECT r.number, ${tier.name}, 'cloud_resource', r.resource_key, 'discovered'
          FROM (SELECT r.resource_key, r.resource_name, 'CI' || lpad(nextval('ci_number_seq')::text, 7, '0') AS number
                  FROM cost_import_resources r WHERE r.ci_id IS NULL AND ${tier.when} ORDER BY r.resource_key) r
        ON CONFLICT DO NOTHING
        RETURNING id, cloud_resource_id
      ), provenance AS (
        INSERT INTO attribute_provenance (ci_id, attribute, source, set_at, confirmed_at)
        SELECT c.id, a.attribute, 'cloud_inventory', now(), now()
          FROM created c CROSS JOIN (VALUES ('name'), ('cloudResourceId')) AS a(attribute)
        ON CONFLICT DO NOTHING
      )
      UPDATE cost_import_resources r SET ci_id = c.id FROM created c WHERE r.resource_key = c.cloud_resource_id
      RETURNING r.resource_key`) as { rows: unknown[] };
    created += rows.length;
    await findLive();
  }
  await trx.raw('ANALYZE cost_import_resources');
  return created;
}

/**
 * Per distinct tag set of the import, what its tags name (keys from cost_allocation_tag_keys in
 * lower case, values in any case): a cost centre by code, an application and a business service by
 * name or number, each only when the tags name exactly one live record. A value naming nothing
 * stays in the tags and places nothing.
 */
async function tagSets(trx: Knex.Transaction, importId: string): Promise<void> {
  await trx.raw(`
    CREATE TEMP TABLE cost_import_tag_sets ON COMMIT DROP AS
    WITH sets AS (
      SELECT DISTINCT r.tags FROM cost_import_rows r
       WHERE r.import_id = :importId AND jsonb_typeof(r.tags) = 'object' AND r.tags <> '{}'::jsonb
    ), named AS (
      SELECT s.tags, k.purpose, lower(btrim(t.value, :trimmed)) AS value
        FROM sets s CROSS JOIN LATERAL jsonb_each_text(s.tags) AS t
        JOIN cost_allocation_tag_keys k ON k.tag_key = lower(btrim(t.key, :trimmed))
       WHERE t.value IS NOT NULL
    ), found AS (
      SELECT n.tags, n.purpose, cc.id FROM named n
        JOIN cost_centres cc ON upper(cc.code) = upper(n.value) AND cc.retired_at IS NULL
       WHERE n.purpose = 'cost_centre'
      UNION
      SELECT n.tags, n.purpose, ci.id FROM named n
        JOIN configuration_items ci ON lower(ci.name) = n.value AND ci.ci_class = n.purpose AND ci.retired_at IS NULL
       WHERE n.purpose IN ('application', 'business_service')
      UNION
      SELECT n.tags, n.purpose, ci.id FROM named n
        JOIN configuration_items ci ON ci.number = upper(n.value) AND ci.ci_class = n.purpose AND ci.retired_at IS NULL
       WHERE n.purpose IN ('application', 'business_service')
    )
    SELECT tags,
           CASE WHEN count(DISTINCT id) FILTER (WHERE purpose = 'cost_centre') = 1 THEN (array_agg(id) FILTER (WHERE purpose = 'cost_centre'))[1] END AS cost_centre_id,
           CASE WHEN count(DISTINCT id) FILTER (WHERE purpose = 'application') = 1 THEN (array_agg(id) FILTER (WHERE purpose = 'application'))[1] END AS application_id,
           CASE WHEN count(DISTINCT id) FILTER (WHERE purpose = 'business_service') = 1 THEN (array_agg(id) FILTER (WHERE purpose = 'business_service'))[1] END AS business_service_id
      FROM found GROUP BY tags`,
  { trimmed: TRIMMED_CHARACTERS, importId });
  await trx.raw('ANALYZE cost_import_tag_sets');
}

/**
 * Where each distinct (tags, resource) of the import lands: the resource's CI; the cost centre
 * its tag names, else the resource CI's, else the tagged application's; the tagged application;
 * the business service its tag names, else the one live business service that relates directly to
 * the tagged application or the resource CI (several: none, the allocation splits it later).
 */
async function placements(trx: Knex.Transaction, importId: string): Promise<void> {
  await trx.raw(`
    CREATE TEMP TABLE cost_import_placements ON COMMIT DROP AS
    WITH combinations AS (
      SELECT DISTINCT r.tags, ${RESOURCE_KEY} AS resource_key FROM cost_import_rows r WHERE r.import_id = :importId
    )
    SELECT c.tags, c.resource_key, res.ci_id,
           coalesce(tg.cost_centre_id, resource_ci.cost_centre_id, application.cost_centre_id) AS cost_centre_id,
           tg.application_id,
           coalesce(tg.business_service_id, dependant.business_service_id) AS business_service_id
      FROM combinations c
      LEFT JOIN cost_import_tag_sets tg ON tg.tags = c.tags
      LEFT JOIN cost_import_resources res ON res.resource_key = c.resource_key
      LEFT JOIN configuration_items resource_ci ON resource_ci.id = res.ci_id
      LEFT JOIN configuration_items application ON application.id = tg.application_id AND application.retired_at IS NULL
      LEFT JOIN LATERAL (
        SELECT CASE WHEN count(DISTINCT s.id) = 1 THEN (array_agg(s.id))[1] END AS business_service_id
          FROM ci_relationships rel
          JOIN configuration_items s ON s.id = rel.from_ci_id AND s.ci_class = 'business_service' AND s.retired_at IS NULL
         WHERE rel.to_ci_id IN (tg.application_id, res.ci_id) AND rel.retired_at IS NULL
      ) dependant ON tg.business_service_id IS NULL`,
  { trimmed: TRIMMED_CHARACTERS, importId });
  await trx.raw('ANALYZE cost_import_placements');
}

/**
 * The provider, billing account and billing period scopes of the import now point here, and the
 * records the import that held each one wrote for exactly that scope are gone: a re-issued bill
 * replaces the old one, never adds to it. The scope rows are created then locked in one order, so
 * two imports of a scope take turns (the second replaces the first) and never deadlock each other.
 */
async function takeOverScopes(trx: Knex.Transaction, importId: string): Promise<number> {
  await trx.raw(`
    CREATE TEMP TABLE cost_import_scope_keys ON COMMIT DROP AS
    SELECT DISTINCT r.provider_name, coalesce(r.billing_account_id, '') AS billing_account_id, r.billing_period_start
      FROM cost_import_rows r WHERE r.import_id = ?`, [importId]);
  await trx.raw(`
    INSERT INTO cost_import_scopes (provider_name, billing_account_id, billing_period_start, import_id)
    SELECT provider_name, billing_account_id, billing_period_start, ? FROM cost_import_scope_keys
     ORDER BY provider_name, billing_account_id, billing_period_start
    ON CONFLICT DO NOTHING`, [importId]);
  const { rows: previous } = await trx.raw(`
    SELECT s.provider_name, s.billing_account_id, s.billing_period_start, s.import_id
      FROM cost_import_scopes s
      JOIN cost_import_scope_keys k USING (provider_name, billing_account_id, billing_period_start)
     ORDER BY s.provider_name, s.billing_account_id, s.billing_period_start
       FOR UPDATE OF s`) as { rows: { import_id: string }[] };
  const replaced = previous.filter((scope) => scope.import_id !== importId);
  let removed = 0;
  if (replaced.length > 0) {
    const { rowCount } = await trx.raw(`
      DELETE FROM cost_records c
       USING cost_import_scopes s
        JOIN cost_import_scope_keys k USING (provider_name, billing_account_id, billing_period_start)
       WHERE s.import_id <> :importId
         AND c.cost_import_id = s.import_id AND c.provider_name = s.provider_name
         AND coalesce(c.billing_account_id, '') = s.billing_account_id AND c.billing_period_start = s.billing_period_start`,
    { importId }) as { rowCount: number };
    removed = rowCount;
    await trx.raw(`
      UPDATE cost_import_scopes s SET import_id = ?, updated_at = now()
        FROM cost_import_scope_keys k
       WHERE (s.provider_name, s.billing_account_id, s.billing_period_start) = (k.provider_name, k.billing_account_id, k.billing_period_start)
         AND s.import_id <> ?`, [importId, importId]);
  }
  return removed;
}

/** The staged rows as cost records, every cost as numeric (exact), placed; then the staged rows go. */
async function writeRecords(trx: Knex.Transaction, importId: string): Promise<void> {
  await trx.raw(`
    INSERT INTO cost_records (
      source_key, cost_import_id, billing_period_start, billing_period_end, charge_period_start, charge_period_end,
      charge_category, charge_class, charge_description, provider_name, publisher_name, invoice_issuer_name,
      billing_account_id, sub_account_id, service_name, service_category, resource_id, resource_name, resource_type, region_name,
      billed_cost, effective_cost, list_cost, contracted_cost, consumed_quantity, billing_currency, tags,
      ci_id, cost_centre_id, application_id, business_service_id)
    SELECT 'focus:' || r.import_id || ':' || r.row_number, r.import_id, r.billing_period_start, r.billing_period_end, r.charge_period_start, r.charge_period_end,
           r.charge_category, r.charge_class, r.charge_description, r.provider_name, r.publisher_name, r.invoice_issuer_name,
           r.billing_account_id, r.sub_account_id, r.service_name, r.service_category, r.resource_id, r.resource_name, r.resource_type, r.region_name,
           r.billed_cost, r.effective_cost, r.list_cost, r.contracted_cost, r.consumed_quantity, r.billing_currency, r.tags,
           p.ci_id, p.cost_centre_id, p.application_id, p.business_service_id
      FROM cost_import_rows r
      JOIN cost_import_placements p ON p.tags = r.tags AND p.resource_key = ${RESOURCE_KEY}
     WHERE r.import_id = :importId`,
  { trimmed: TRIMMED_CHARACTERS, importId });
  await trx('cost_import_rows').where({ import_id: importId }).delete();
}

interface TotalRow {
  provider: string;
  currency: string;
  rows: number;
  billed_cost: string;
  effective_cost: string;
  start: Date;
  end: Date;
}

/** Per provider and currency, summed by Postgres from the records written: exact at every place. */
async function totalsOf(trx: Knex.Transaction, importId: string): Promise<{ totals: CostTotal[]; chargePeriod: AppliedCostImport['chargePeriod'] }> {
  const { rows } = await trx.raw(`
    SELECT provider_name AS provider, billing_currency AS currency, count(*)::int AS rows,
           sum(billed_cost)::text AS billed_cost, sum(effective_cost)::text AS effective_cost,
           min(charge_period_start) AS start, max(charge_period_end) AS "end"
      FROM cost_records WHERE cost_import_id = ?
     GROUP BY provider_name, billing_currency ORDER BY provider_name, billing_currency`, [importId]) as { rows: TotalRow[] };
  const totals = rows.map((r) => ({ provider: r.provider, currency: r.currency, rows: r.rows, billedCost: r.billed_cost, effectiveCost: r.effective_cost }));
  if (rows.length === 0) return { totals, chargePeriod: null };
  const start = new Date(Math.min(...rows.map((r) => r.start.getTime())));
  const end = new Date(Math.max(...rows.map((r) => r.end.getTime())));
  return { totals, chargePeriod: { start: start.toISOString(), end: end.toISOString() } };
}

export interface AppliedCounts {
  resourcesCreated: number;
  recordsReplaced: number;
}

/**
 * Writes a staged import (locked by the caller, in its transaction) and marks it completed with
 * its totals. A row Postgres refuses (a check, a value it cannot store) fails the whole statement:
 * the caller's transaction rolls back and nothing is written.
 */
export async function applyStagedCostImport(trx: Knex.Transaction, importId: string): Promise<AppliedCostImport & AppliedCounts> {
  const resourcesCreated = await resourcesAsCis(trx, importId);
  await tagSets(trx, importId);
  await placements(trx, importId);
  const recordsReplaced = await takeOverScopes(trx, importId);
  await writeRecords(trx, importId);
  const { totals, chargePeriod } = await totalsOf(trx, importId);
  const rowsImported = totals.reduce((sum, t) => sum + t.rows, 0);
  const [record] = await trx('cost_imports').where({ id: importId })
    .update({ state: 'completed', totals: JSON.stringify(totals), rows_imported: rowsImported, finished_at: trx.fn.now() })
    .returning(['id', 'state', 'rows_imported', 'rows_refused', 'totals', 'message']) as CostImportRecord[];
  return { outcome: outcomeOf(record), chargePeriod, resourcesCreated, recordsReplaced };
}

/** Ends an import that was not applied as failed with the reason; its staged rows go (the same file may come again), its refusals stay. */
export async function failUnwrittenCostImport(trx: Knex.Transaction, importId: string, message: string): Promise<CostImportRecord | undefined> {
  await trx('cost_imports').where({ id: importId }).whereIn('state', ['staging', 'staged', 'applying'])
    .update({ state: 'failed', message, finished_at: trx.fn.now() });
  await trx('cost_import_rows').where({ import_id: importId }).delete();
  return findCostImportRecord(trx, importId);
}
