import type { Knex } from 'knex';

const INVENTORY_SOURCES = ['discovery', 'mdm', 'cloud_inventory', 'hr', 'manual'];
const CI_CLASSES_BEFORE = ['business_service', 'application', 'database', 'server', 'virtual_machine', 'network_device', 'storage', 'cloud_resource', 'load_balancer'];
const CI_CLASSES_AFTER = [...CI_CLASSES_BEFORE, 'computer', 'mobile_device'];
const IDENTIFYING_ATTRIBUTES = ['serialNumber', 'assetTag', 'cloudResourceId', 'hostname', 'domain', 'macAddress'];

const quoted = (values: string[]) => values.map((v) => `'${v}'`).join(', ');

/**
 * Discovered inventory (issue 16): feeds from named sources arrive as batches on the import
 * machinery, are identified by rules per CI class and reconciled attribute by attribute by source
 * authority; every attribute keeps who set it and when; what cannot be decided becomes a case for
 * a data steward, decided in the approval inbox. Rules and sources are data, seeded with defaults.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('inventory_sources', (t) => {
    t.comment('Where discovered data comes from, and after how many days unseen a record it reported becomes a missing candidate.');
    t.text('name').primary();
    t.text('title').notNullable();
    t.integer('unseen_after_days').comment('null: this source never says a record has gone missing');
    t.integer('position').notNullable();
    t.integer('version').notNullable().defaultTo(1);
    t.check('unseen_after_days IS NULL OR unseen_after_days > 0', [], 'inventory_sources_unseen_check');
  });
  await knex('inventory_sources').insert([
    { name: 'discovery', title: 'Network discovery', unseen_after_days: 14, position: 1 },
    { name: 'mdm', title: 'Mobile device management', unseen_after_days: 30, position: 2 },
    { name: 'cloud_inventory', title: 'Cloud inventory', unseen_after_days: 3, position: 3 },
    { name: 'hr', title: 'HR feed', unseen_after_days: null, position: 4 },
    { name: 'manual', title: 'Entered by people', unseen_after_days: null, position: 5 },
  ]);

  await knex.schema.createTable('identification_rules', (t) => {
    t.comment('How a discovered row finds its record, per CI class in priority order: the first rule whose attributes the row has and that finds records decides.');
    t.uuid('id').primary().defaultTo(knex.raw('gen_random_uuid()'));
    t.text('ci_class').notNullable();
    t.integer('priority').notNullable().comment('1 is tried first');
    t.specificType('attributes', 'text[]').notNullable().comment('matched together: serialNumber, assetTag, cloudResourceId, hostname, domain, macAddress');
    t.boolean('active').notNullable().defaultTo(true);
    t.integer('version').notNullable().defaultTo(1);
    t.unique(['ci_class', 'priority'], { indexName: 'identification_rules_priority_unique' });
    t.check(`ci_class IN (${quoted(CI_CLASSES_AFTER)})`, [], 'identification_rules_class_check');
    t.check(`cardinality(attributes) > 0 AND attributes <@ ARRAY[${quoted(IDENTIFYING_ATTRIBUTES)}]::text[]`, [], 'identification_rules_attributes_check');
  });
  const hardware = [['serialNumber'], ['assetTag'], ['hostname', 'domain'], ['macAddress']];
  const virtual = [['cloudResourceId'], ['hostname', 'domain'], ['macAddress']];
  const byName = [['hostname', 'domain']];
  const defaults: Record<string, string[][]> = {
    server: hardware, network_device: hardware, storage: hardware, computer: hardware, mobile_device: [['serialNumber'], ['assetTag'], ['macAddress']],
    virtual_machine: virtual, cloud_resource: [['cloudResourceId']], load_balancer: [['cloudResourceId'], ['hostname', 'domain']],
    database: byName, application: byName,
  };
  await knex('identification_rules').insert(Object.entries(defaults).flatMap(([ciClass, rules]) =>
    rules.map((attributes, at) => ({ ci_class: ciClass, priority: at + 1, attributes: knex.raw('?::text[]', [`{${attributes.join(',')}}`]) }))));

  await knex.schema.createTable('reconciliation_rules', (t) => {
    t.comment('Which sources may set an attribute, strongest first, and after how many days a weaker source may change a value the stronger one no longer confirms. The * rule covers attributes without one.');
    t.uuid('id').primary().defaultTo(knex.raw('gen_random_uuid()'));
    t.text('attribute').notNullable().unique('reconciliation_rules_attribute_unique');
    t.specificType('sources', 'text[]').notNullable();
    t.integer('staleness_days').notNullable();
    t.integer('version').notNullable().defaultTo(1);
    t.check(`cardinality(sources) > 0 AND sources <@ ARRAY[${quoted(INVENTORY_SOURCES)}]::text[]`, [], 'reconciliation_rules_sources_check');
    t.check('staleness_days >= 0', [], 'reconciliation_rules_staleness_check');
  });
  const authorities: [string, string[], number][] = [
    ['*', ['manual', 'discovery', 'cloud_inventory', 'mdm', 'hr'], 30],
    ['location', ['manual', 'mdm', 'discovery'], 60],
    ['model', ['mdm', 'discovery', 'manual'], 90],
    ['hostname', ['discovery', 'cloud_inventory', 'mdm', 'manual'], 7],
    ['domain', ['discovery', 'cloud_inventory', 'mdm', 'manual'], 7],
    ['macAddress', ['discovery', 'mdm', 'manual'], 7],
    ['operationalStatus', ['manual', 'cloud_inventory', 'discovery'], 7],
  ];
  await knex('reconciliation_rules').insert(authorities.map(([attribute, sources, days]) =>
    ({ attribute, sources: knex.raw('?::text[]', [`{${sources.join(',')}}`]), staleness_days: days })));

  await knex.raw(`ALTER TABLE configuration_items DROP CONSTRAINT configuration_items_class_check`);
  await knex.raw(`ALTER TABLE configuration_items ADD CONSTRAINT configuration_items_class_check CHECK (ci_class IN (${quoted(CI_CLASSES_AFTER)}))`);
  await knex.schema.alterTable('configuration_items', (t) => {
    t.text('hostname').comment('lower case, without the domain');
    t.text('dns_domain').comment('lower case, without a trailing dot');
    t.text('mac_address').comment('twelve lower-case hex digits');
    t.text('cloud_resource_id');
    t.text('discovery_state').notNullable().defaultTo('verified').comment('discovered: created from a feed and not yet verified by a person');
    t.check(`discovery_state IN ('verified', 'discovered')`, [], 'configuration_items_discovery_state_check');
  });
  // Identifiers are unique among live records, so two batches racing to create one host meet here; a
  // retired record keeps its identifiers for history, and a new device may reuse them.
  await knex.raw(`CREATE UNIQUE INDEX configuration_items_fqdn_unique ON configuration_items (lower(hostname), lower(coalesce(dns_domain, ''))) WHERE hostname IS NOT NULL AND retired_at IS NULL`);
  await knex.raw(`CREATE INDEX configuration_items_hostname_index ON configuration_items (lower(hostname)) WHERE hostname IS NOT NULL AND retired_at IS NULL`);
  await knex.raw(`CREATE UNIQUE INDEX configuration_items_mac_unique ON configuration_items (mac_address) WHERE mac_address IS NOT NULL AND retired_at IS NULL`);
  await knex.raw(`CREATE UNIQUE INDEX configuration_items_cloud_resource_unique ON configuration_items (cloud_resource_id) WHERE cloud_resource_id IS NOT NULL AND retired_at IS NULL`);

  await knex.schema.createTable('attribute_provenance', (t) => {
    t.comment('Which source set each attribute of a record (a CI and the asset behind it), when, and when it last confirmed it.');
    t.uuid('ci_id').notNullable().references('configuration_items.id').onDelete('CASCADE').withKeyName('attribute_provenance_ci_fk');
    t.text('attribute').notNullable();
    t.text('source').notNullable().references('inventory_sources.name').withKeyName('attribute_provenance_source_fk');
    t.timestamp('set_at', { useTz: true }).notNullable();
    t.timestamp('confirmed_at', { useTz: true }).notNullable().comment('the newest time the source reported this value');
    t.uuid('import_id').references('imports.id').onDelete('SET NULL').withKeyName('attribute_provenance_import_fk');
    t.primary(['ci_id', 'attribute']);
  });

  await knex.schema.createTable('ci_sightings', (t) => {
    t.comment('When each source first and last reported a record; the unseen watch reads it.');
    t.uuid('ci_id').notNullable().references('configuration_items.id').onDelete('CASCADE').withKeyName('ci_sightings_ci_fk');
    t.text('source').notNullable().references('inventory_sources.name').withKeyName('ci_sightings_source_fk');
    t.timestamp('first_seen_at', { useTz: true }).notNullable();
    t.timestamp('last_seen_at', { useTz: true }).notNullable();
    t.uuid('last_import_id').references('imports.id').onDelete('SET NULL').withKeyName('ci_sightings_import_fk');
    t.timestamp('missing_candidate_since', { useTz: true }).comment('set when the unseen watch told the lifecycle workflow; cleared by the next sighting');
    t.primary(['ci_id', 'source']);
    t.index(['source', 'last_seen_at'], 'ci_sightings_last_seen_index');
  });
  await knex.raw(`CREATE INDEX ci_sightings_missing_candidate_index ON ci_sightings (ci_id) WHERE missing_candidate_since IS NOT NULL`);

  await knex.schema.alterTable('imports', (t) => {
    t.text('source').references('inventory_sources.name').withKeyName('imports_source_fk').comment('inventory batches: the feed that sent it');
    t.text('batch_key').comment('the sender names a batch (a scan id, a file name): the same key again is the same batch');
    t.timestamp('observed_at', { useTz: true }).comment('when the source saw what the batch reports; provenance and sightings take this time');
    t.check(`(kind = 'inventory') = (source IS NOT NULL AND observed_at IS NOT NULL)`, [], 'imports_inventory_check');
  });
  await knex.raw(`CREATE UNIQUE INDEX imports_batch_key_unique ON imports (source, batch_key) WHERE batch_key IS NOT NULL AND NOT dry_run AND state <> 'failed'`);

  await knex.raw(`ALTER TABLE import_rows DROP CONSTRAINT import_rows_verdict_check`);
  await knex.raw(`ALTER TABLE import_rows ADD CONSTRAINT import_rows_verdict_check CHECK (verdict IS NULL OR verdict IN ('create', 'update', 'unchanged', 'refuse', 'hold'))`);
  await knex.raw(`ALTER TABLE import_rows DROP CONSTRAINT import_rows_outcome_check`);
  await knex.raw(`ALTER TABLE import_rows ADD CONSTRAINT import_rows_outcome_check CHECK (outcome IS NULL OR outcome IN ('created', 'updated', 'unchanged', 'refused', 'held'))`);
  await knex.schema.alterTable('import_rows', (t) => {
    t.jsonb('identification').comment('inventory rows: how the record was found (rule, records) or why it is held');
    t.jsonb('left_alone').comment('inventory rows: attributes offered and not written, with the reason');
  });

  await knex.schema.alterTable('software_consumptions', (t) => {
    t.uuid('ci_id').references('configuration_items.id').withKeyName('software_consumptions_ci_fk')
      .comment('the record it was discovered on (a virtual machine has no asset)');
    t.text('discovered_by').references('inventory_sources.name').withKeyName('software_consumptions_source_fk')
      .comment('the feed that found the installation; null when a person or a workflow recorded it');
    t.timestamp('last_seen_at', { useTz: true }).comment('when a feed last listed it');
    t.jsonb('reported_by').notNullable().defaultTo('{}')
      .comment('per feed that reported it: when it last did and whether it listed it; reclaimed when no feed still lists it');
    t.check(`jsonb_typeof(reported_by) = 'object'`, [], 'software_consumptions_reported_by_check');
  });
  await knex.raw(`ALTER TABLE software_consumptions DROP CONSTRAINT software_consumptions_target_check`);
  await knex.raw(`ALTER TABLE software_consumptions ADD CONSTRAINT software_consumptions_target_check
    CHECK ((kind = 'installation' AND (asset_id IS NOT NULL OR ci_id IS NOT NULL)) OR (kind = 'assignment' AND person_id IS NOT NULL))`);
  // One live installation of a product per record: two feeds reporting it, or two batches at once, meet here.
  await knex.raw(`CREATE UNIQUE INDEX software_consumptions_installed_once ON software_consumptions (product_id, ci_id)
    WHERE kind = 'installation' AND reclaimed_at IS NULL AND ci_id IS NOT NULL`);
  await knex.raw(`CREATE INDEX software_consumptions_ci_index ON software_consumptions (ci_id) WHERE ci_id IS NOT NULL`);

  await knex.raw(`CREATE SEQUENCE reconciliation_case_number_seq START 1001`);
  await knex.schema.createTable('reconciliation_cases', (t) => {
    t.comment('Records that may be one thing, held for a data steward: merge, keep both, or ignore; kept and ignored pairs are not asked again.');
    t.uuid('id').primary().defaultTo(knex.raw('gen_random_uuid()'));
    t.text('number').notNullable().unique('reconciliation_cases_number_unique')
      .defaultTo(knex.raw(`'RCN' || lpad(nextval('reconciliation_case_number_seq')::text, 7, '0')`));
    t.specificType('ci_ids', 'uuid[]').notNullable().comment('the records, sorted');
    t.text('pair_key').notNullable().comment('the sorted ids joined: the same records make the same case');
    t.text('reason').notNullable();
    t.uuid('import_id').references('imports.id').onDelete('SET NULL').withKeyName('reconciliation_cases_import_fk');
    t.integer('row_number');
    t.jsonb('row').comment('the discovered row that found them');
    t.text('state').notNullable().defaultTo('open');
    t.uuid('survivor_ci_id').references('configuration_items.id').onDelete('SET NULL').withKeyName('reconciliation_cases_survivor_fk');
    t.text('workflow_id').unique('reconciliation_cases_workflow_unique');
    t.uuid('decided_by_id').references('people.id').withKeyName('reconciliation_cases_decided_by_fk');
    t.timestamp('decided_at', { useTz: true });
    t.text('comment');
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.check(`cardinality(ci_ids) >= 2`, [], 'reconciliation_cases_records_check');
    t.check(`state IN ('open', 'merged', 'kept_both', 'ignored', 'cancelled')`, [], 'reconciliation_cases_state_check');
    t.check(`state <> 'merged' OR survivor_ci_id IS NOT NULL`, [], 'reconciliation_cases_survivor_check');
    t.index(['state', 'created_at'], 'reconciliation_cases_state_index');
  });
  await knex.raw(`CREATE UNIQUE INDEX reconciliation_cases_pair_unique ON reconciliation_cases (pair_key) WHERE state IN ('open', 'kept_both', 'ignored')`);

  await knex.raw(`ALTER TABLE approvals DROP CONSTRAINT approvals_subject_type_check`);
  await knex.raw(`ALTER TABLE approvals ADD CONSTRAINT approvals_subject_type_check CHECK (subject_type IN ('change_request', 'purchase_request', 'reconciliation_case'))`);
  for (const [table, constraint, before] of [
    ['approval_rules', 'approval_rules_process_check', ['change', 'procurement']],
    ['processes', 'processes_process_check', ['change', 'procurement', 'asset_lifecycle']],
    ['sla_targets', 'sla_targets_process_check', ['change', 'procurement', 'asset_lifecycle']],
  ] as const) {
    await knex.raw(`ALTER TABLE ${table} DROP CONSTRAINT ${constraint}`);
    await knex.raw(`ALTER TABLE ${table} ADD CONSTRAINT ${constraint} CHECK (process IN (${quoted([...before, 'reconciliation'])}))`);
  }
  const [stewards] = await knex('groups').insert({ name: 'Data stewards' }).onConflict('name').ignore().returning('id');
  const stewardGroupId = stewards?.id ?? (await knex('groups').where({ name: 'Data stewards' }).first('id')).id;
  await knex('approval_rules').insert({
    process: 'reconciliation', step_order: 1, name: 'Data steward', approver_kind: 'group', group_id: stewardGroupId, policy: 'any', on_expiry: 'escalate',
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex('approvals').where({ subject_type: 'reconciliation_case' }).delete();
  await knex('approval_rule_versions').whereIn('rule_id', knex('approval_rules').where({ process: 'reconciliation' }).select('id')).delete();
  await knex('approval_rules').where({ process: 'reconciliation' }).delete();
  await knex('processes').where({ process: 'reconciliation' }).delete();
  await knex('sla_targets').where({ process: 'reconciliation' }).delete();
  await knex('groups').where({ name: 'Data stewards' }).delete();
  await knex('imports').where({ kind: 'inventory' }).delete();
  for (const [table, constraint, before] of [
    ['approval_rules', 'approval_rules_process_check', ['change', 'procurement']],
    ['processes', 'processes_process_check', ['change', 'procurement', 'asset_lifecycle']],
    ['sla_targets', 'sla_targets_process_check', ['change', 'procurement', 'asset_lifecycle']],
  ] as const) {
    await knex.raw(`ALTER TABLE ${table} DROP CONSTRAINT ${constraint}`);
    await knex.raw(`ALTER TABLE ${table} ADD CONSTRAINT ${constraint} CHECK (process IN (${quoted([...before])}))`);
  }
  await knex.raw(`ALTER TABLE approvals DROP CONSTRAINT approvals_subject_type_check`);
  await knex.raw(`ALTER TABLE approvals ADD CONSTRAINT approvals_subject_type_check CHECK (subject_type IN ('change_request', 'purchase_request'))`);
  await knex.schema.dropTable('reconciliation_cases');
  await knex.raw('DROP SEQUENCE reconciliation_case_number_seq');
  await knex.raw('DROP INDEX software_consumptions_installed_once');
  await knex('software_consumptions').whereNull('asset_id').where({ kind: 'installation' }).delete();
  await knex.raw(`ALTER TABLE software_consumptions DROP CONSTRAINT software_consumptions_target_check`);
  await knex.raw(`ALTER TABLE software_consumptions ADD CONSTRAINT software_consumptions_target_check
    CHECK ((kind = 'installation' AND asset_id IS NOT NULL) OR (kind = 'assignment' AND person_id IS NOT NULL))`);
  await knex.schema.alterTable('software_consumptions', (t) => {
    t.dropColumn('ci_id');
    t.dropColumn('discovered_by');
    t.dropColumn('last_seen_at');
    t.dropColumn('reported_by');
  });
  await knex.schema.alterTable('import_rows', (t) => {
    t.dropColumn('identification');
    t.dropColumn('left_alone');
  });
  await knex.raw(`ALTER TABLE import_rows DROP CONSTRAINT import_rows_outcome_check`);
  await knex.raw(`ALTER TABLE import_rows ADD CONSTRAINT import_rows_outcome_check CHECK (outcome IS NULL OR outcome IN ('created', 'updated', 'unchanged', 'refused'))`);
  await knex.raw(`ALTER TABLE import_rows DROP CONSTRAINT import_rows_verdict_check`);
  await knex.raw(`ALTER TABLE import_rows ADD CONSTRAINT import_rows_verdict_check CHECK (verdict IS NULL OR verdict IN ('create', 'update', 'unchanged', 'refuse'))`);
  await knex.raw('DROP INDEX imports_batch_key_unique');
  await knex.schema.alterTable('imports', (t) => {
    t.dropChecks(['imports_inventory_check']);
    t.dropColumn('source');
    t.dropColumn('batch_key');
    t.dropColumn('observed_at');
  });
  await knex.schema.dropTable('ci_sightings');
  await knex.schema.dropTable('attribute_provenance');
  for (const index of ['configuration_items_fqdn_unique', 'configuration_items_hostname_index', 'configuration_items_mac_unique', 'configuration_items_cloud_resource_unique']) {
    await knex.raw(`DROP INDEX ${index}`);
  }
  await knex.schema.alterTable('configuration_items', (t) => {
    t.dropChecks(['configuration_items_discovery_state_check']);
    t.dropColumn('hostname');
    t.dropColumn('dns_domain');
    t.dropColumn('mac_address');
    t.dropColumn('cloud_resource_id');
    t.dropColumn('discovery_state');
  });
  await knex.raw(`ALTER TABLE configuration_items DROP CONSTRAINT configuration_items_class_check`);
  await knex.raw(`ALTER TABLE configuration_items ADD CONSTRAINT configuration_items_class_check CHECK (ci_class IN (${quoted(CI_CLASSES_BEFORE)}))`);
  await knex.schema.dropTable('reconciliation_rules');
  await knex.schema.dropTable('identification_rules');
  await knex.schema.dropTable('inventory_sources');
}
