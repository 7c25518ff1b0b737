import type { Knex } from 'knex';

/**
 * Master data that people edit and import: each record carries a version (optimistic concurrency,
 * If-Match) and when it was last changed, and is retired rather than deleted, since changes,
 * purchases, costs and the audit log keep pointing at it. Natural keys that imports match on are
 * unique in the database, so two imports racing on one key end with one record.
 */
const EDITABLE = [
  'cost_centres', 'budgets', 'vendors', 'contracts', 'contract_prices', 'hardware_models', 'software_products',
  'configuration_items', 'ci_relationships', 'software_entitlements',
] as const;

/** Retired rather than deleted; budgets are set to another amount instead, and assets retire through their lifecycle. */
const RETIRABLE = EDITABLE.filter((table) => table !== 'budgets');

/** The natural keys made unique below, and how each names its records. */
const NATURAL_KEYS: [string, string, string][] = [
  ['configuration items (name in any case, and class)', 'configuration_items', `lower(name) || ' / ' || ci_class`],
  ['contract prices (contract and item)', 'contract_prices', `contract_id || ' / ' || coalesce(hardware_model_id, software_product_id)`],
  ['hardware models (manufacturer and name in any case)', 'hardware_models', `lower(manufacturer) || ' / ' || lower(name)`],
  ['software products (publisher and name in any case)', 'software_products', `lower(publisher) || ' / ' || lower(name)`],
  ['cost centres (code in any case)', 'cost_centres', 'upper(code)'],
];

/** Stops the upgrade with the records to merge or rename when existing data shares a natural key. */
async function refuseDuplicates(knex: Knex, what: string, table: string, key: string): Promise<void> {
  const { rows } = await knex.raw<{ rows: { key: string; count: string }[] }>(
    `SELECT ${key} AS key, count(*) AS count FROM ${table} GROUP BY 1 HAVING count(*) > 1 ORDER BY 1 LIMIT 20`);
  if (rows.length > 0) {
    throw new Error(`${what} must be unique before this upgrade; rename or merge these, then start again: ${rows.map((r) => `${r.key} (${r.count} records)`).join('; ')}`);
  }
}

export async function up(knex: Knex): Promise<void> {
  for (const table of EDITABLE) {
    await knex.schema.alterTable(table, (t) => {
      t.integer('version').notNullable().defaultTo(1).comment('bumped by every change; compared with If-Match');
      t.timestamp('updated_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    });
  }
  for (const table of RETIRABLE) {
    await knex.schema.alterTable(table, (t) => {
      t.timestamp('retired_at', { useTz: true }).comment('set when retired; a retired record is kept for what refers to it');
    });
  }

  await knex.schema.alterTable('vendors', (t) => {
    t.text('code').comment('the natural key imports match on; derived from the name when not given');
  });
  await knex.raw(`
    CREATE FUNCTION vendors_default_code() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      IF NEW.code IS NULL OR btrim(NEW.code) = '' THEN
        NEW.code := upper(trim(both '-' from regexp_replace(NEW.name, '[^A-Za-z0-9]+', '-', 'g')));
      END IF;
      RETURN NEW;
    END $$`);
  await knex.raw(`CREATE TRIGGER vendors_default_code BEFORE INSERT OR UPDATE ON vendors FOR EACH ROW EXECUTE FUNCTION vendors_default_code()`);
  await knex.raw(`UPDATE vendors SET code = NULL`);
  // Names that differ only in case or punctuation ("Acme Inc", "ACME, Inc.") derive one code: the later ones get a number.
  await knex.raw(`
    UPDATE vendors v SET code = v.code || '-' || d.n
      FROM (SELECT id, row_number() OVER (PARTITION BY upper(code) ORDER BY name, id) AS n FROM vendors) d
     WHERE d.id = v.id AND d.n > 1`);
  await knex.raw(`ALTER TABLE vendors ALTER COLUMN code SET NOT NULL`);
  await knex.raw(`CREATE UNIQUE INDEX vendors_code_unique ON vendors (upper(code))`);

  await knex.schema.alterTable('assets', (t) => {
    t.integer('details_version').notNullable().defaultTo(0)
      .comment('bumped by edits of columns other than the state; the record version is version + details_version + 1');
  });

  await knex.schema.alterTable('contracts', (t) => {
    t.jsonb('documents').notNullable().defaultTo('[]').comment('references to the signed documents: [{title, url}]');
  });

  // One record per natural key: a CI by name (any letter case) and class, a contract price by contract and item.
  for (const [what, table, key] of NATURAL_KEYS) await refuseDuplicates(knex, what, table, key);
  await knex.raw(`CREATE UNIQUE INDEX configuration_items_name_class_unique ON configuration_items (lower(name), ci_class)`);
  await knex.raw(`CREATE UNIQUE INDEX contract_prices_item_unique ON contract_prices (contract_id, coalesce(hardware_model_id, software_product_id))`);
  await knex.raw(`CREATE UNIQUE INDEX hardware_models_name_ci_unique ON hardware_models (lower(manufacturer), lower(name))`);
  await knex.raw(`CREATE UNIQUE INDEX software_products_name_ci_unique ON software_products (lower(publisher), lower(name))`);
  await knex.raw(`CREATE UNIQUE INDEX cost_centres_code_ci_unique ON cost_centres (upper(code))`);
  // The impact walk follows live relationships only: a partial index still answers it from the index alone.
  await knex.raw('CREATE INDEX ci_relationships_live_dependants_index ON ci_relationships (to_ci_id, from_ci_id) WHERE retired_at IS NULL');
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('DROP INDEX ci_relationships_live_dependants_index');
  for (const index of ['cost_centres_code_ci_unique', 'software_products_name_ci_unique', 'hardware_models_name_ci_unique',
    'contract_prices_item_unique', 'configuration_items_name_class_unique', 'vendors_code_unique']) {
    await knex.raw(`DROP INDEX ${index}`);
  }
  await knex.schema.alterTable('contracts', (t) => t.dropColumn('documents'));
  await knex.schema.alterTable('assets', (t) => t.dropColumn('details_version'));
  await knex.raw('DROP TRIGGER vendors_default_code ON vendors');
  await knex.raw('DROP FUNCTION vendors_default_code()');
  await knex.schema.alterTable('vendors', (t) => t.dropColumn('code'));
  for (const table of RETIRABLE) await knex.schema.alterTable(table, (t) => t.dropColumn('retired_at'));
  for (const table of EDITABLE) await knex.schema.alterTable(table, (t) => t.dropColumns('version', 'updated_at'));
}
