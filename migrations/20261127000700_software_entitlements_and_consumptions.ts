import type { Knex } from 'knex';

export async function up(knex: Knex): Promise<void> {
  await knex.raw(`CREATE SEQUENCE entitlement_number_seq START 1001`);
  await knex.schema.createTable('software_entitlements', (t) => {
    t.comment('Licences owned: how many, on which metric, for which term, at what cost, under which contract.');
    t.uuid('id').primary().defaultTo(knex.raw('gen_random_uuid()'));
    t.text('number').notNullable().unique('software_entitlements_number_unique')
      .defaultTo(knex.raw(`'ENT' || lpad(nextval('entitlement_number_seq')::text, 7, '0')`));
    t.uuid('product_id').notNullable().references('software_products.id').withKeyName('software_entitlements_product_fk');
    t.text('metric').notNullable();
    t.integer('quantity').notNullable();
    t.date('starts_on').notNullable();
    t.date('ends_on');
    t.bigInteger('cost_minor').notNullable().defaultTo(0);
    t.specificType('currency', 'char(3)').notNullable();
    t.uuid('contract_id').references('contracts.id').withKeyName('software_entitlements_contract_fk');
    t.index(['product_id'], 'software_entitlements_product_index');
    t.check('quantity >= 0', [], 'software_entitlements_quantity_check');
    t.check(`metric IN ('per_device', 'per_user', 'per_core', 'subscription', 'site')`, [], 'software_entitlements_metric_check');
  });

  await knex.schema.createTable('software_consumptions', (t) => {
    t.comment('Installations on assets or assignments to people; reclaimed rows stay for history.');
    t.uuid('id').primary().defaultTo(knex.raw('gen_random_uuid()'));
    t.uuid('product_id').notNullable().references('software_products.id').withKeyName('software_consumptions_product_fk');
    t.text('kind').notNullable();
    t.uuid('asset_id').references('assets.id').withKeyName('software_consumptions_asset_fk');
    t.uuid('person_id').references('people.id').withKeyName('software_consumptions_person_fk');
    t.integer('units').notNullable().defaultTo(1);
    t.timestamp('installed_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.timestamp('reclaimed_at', { useTz: true });
    t.text('reclaimed_by_key').comment('idempotency key of the activity that reclaimed it');
    t.index(['product_id'], 'software_consumptions_product_index');
    t.index(['asset_id'], 'software_consumptions_asset_index');
    t.check(`kind IN ('installation', 'assignment')`, [], 'software_consumptions_kind_check');
    t.check(`(kind = 'installation' AND asset_id IS NOT NULL) OR (kind = 'assignment' AND person_id IS NOT NULL)`, [], 'software_consumptions_target_check');
    t.check('units > 0', [], 'software_consumptions_units_check');
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('software_consumptions');
  await knex.schema.dropTable('software_entitlements');
  await knex.raw('DROP SEQUENCE entitlement_number_seq');
}
