import type { Knex } from 'knex';

export async function up(knex: Knex): Promise<void> {
  await knex.raw(`CREATE SEQUENCE ci_number_seq START 1001`);
  await knex.schema.createTable('configuration_items', (t) => {
    t.comment('ITIL configuration items; business services are CIs with a criticality. An asset backs at most one CI (SACM).');
    t.uuid('id').primary().defaultTo(knex.raw('gen_random_uuid()'));
    t.text('number').notNullable().unique('configuration_items_number_unique')
      .defaultTo(knex.raw(`'CI' || lpad(nextval('ci_number_seq')::text, 7, '0')`));
    t.text('name').notNullable();
    t.text('ci_class').notNullable();
    t.text('operational_status').notNullable().defaultTo('operational');
    t.text('criticality').comment('business services only: tier_1 (most critical) to tier_4');
    t.uuid('owner_id').references('people.id').withKeyName('configuration_items_owner_fk');
    t.uuid('support_group_id').references('groups.id').withKeyName('configuration_items_support_group_fk');
    t.uuid('asset_id').unique('configuration_items_asset_unique').references('assets.id').withKeyName('configuration_items_asset_fk');
    t.uuid('cost_centre_id').references('cost_centres.id').withKeyName('configuration_items_cost_centre_fk');
    t.string('environment').notNullable().defaultTo('production');
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.index(['ci_class'], 'configuration_items_class_index');
    t.check(
      `ci_class IN ('business_service', 'application', 'database', 'server', 'virtual_machine', 'network_device', 'storage', 'cloud_resource', 'load_balancer')`,
      [], 'configuration_items_class_check');
    t.check(`operational_status IN ('operational', 'non_operational', 'repair_in_progress', 'retired')`, [], 'configuration_items_status_check');
    t.check(
      `(ci_class = 'business_service' AND criticality IS NOT NULL AND criticality IN ('tier_1', 'tier_2', 'tier_3', 'tier_4'))
       OR (ci_class <> 'business_service' AND criticality IS NULL)`,
      [], 'configuration_items_criticality_check');
  });

  await knex.schema.createTable('ci_relationships', (t) => {
    t.comment('Typed edges of the service map, read as "<from> <type> <to>": an application runs on a server.');
    t.uuid('id').primary().defaultTo(knex.raw('gen_random_uuid()'));
    t.uuid('from_ci_id').notNullable().references('configuration_items.id').onDelete('CASCADE').withKeyName('ci_relationships_from_fk');
    t.uuid('to_ci_id').notNullable().references('configuration_items.id').onDelete('CASCADE').withKeyName('ci_relationships_to_fk');
    t.text('type').notNullable();
    t.unique(['from_ci_id', 'to_ci_id', 'type'], { indexName: 'ci_relationships_edge_unique' });
    t.index(['to_ci_id'], 'ci_relationships_to_index');
    t.check(`type IN ('depends_on', 'runs_on', 'hosted_on', 'uses')`, [], 'ci_relationships_type_check');
    t.check('from_ci_id <> to_ci_id', [], 'ci_relationships_no_self_check');
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('ci_relationships');
  await knex.schema.dropTable('configuration_items');
  await knex.raw('DROP SEQUENCE ci_number_seq');
}
