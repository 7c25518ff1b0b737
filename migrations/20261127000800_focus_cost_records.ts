import type { Knex } from 'knex';

export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('cost_records', (t) => {
    t.comment('Cost rows in the shape of the FinOps FOCUS specification, allocated to assets, CIs and cost centres.');
    t.uuid('id').primary().defaultTo(knex.raw('gen_random_uuid()'));
    t.text('source_key').notNullable().unique('cost_records_source_key_unique')
      .comment('idempotency key: the import line or the activity that wrote the row');
    t.timestamp('billing_period_start', { useTz: true }).notNullable();
    t.timestamp('billing_period_end', { useTz: true }).notNullable();
    t.timestamp('charge_period_start', { useTz: true }).notNullable();
    t.timestamp('charge_period_end', { useTz: true }).notNullable();
    t.text('charge_category').notNullable();
    t.text('charge_description');
    t.text('provider_name').notNullable();
    t.text('publisher_name');
    t.text('invoice_issuer_name');
    t.text('service_name').notNullable();
    t.text('service_category');
    t.text('resource_id');
    t.text('resource_name');
    t.text('resource_type');
    t.text('region_name');
    t.decimal('billed_cost', 20, 6).notNullable();
    t.decimal('effective_cost', 20, 6).notNullable();
    t.decimal('list_cost', 20, 6);
    t.specificType('billing_currency', 'char(3)').notNullable();
    t.jsonb('tags').notNullable().defaultTo('{}');
    t.uuid('asset_id').references('assets.id').withKeyName('cost_records_asset_fk');
    t.uuid('ci_id').references('configuration_items.id').withKeyName('cost_records_ci_fk');
    t.uuid('cost_centre_id').references('cost_centres.id').withKeyName('cost_records_cost_centre_fk');
    t.index(['cost_centre_id', 'charge_period_start'], 'cost_records_cost_centre_period_index');
    t.index(['asset_id'], 'cost_records_asset_index');
    t.index(['ci_id'], 'cost_records_ci_index');
    t.check(`charge_category IN ('Usage', 'Purchase', 'Tax', 'Credit', 'Adjustment')`, [], 'cost_records_charge_category_check');
    t.check('charge_period_end > charge_period_start', [], 'cost_records_charge_period_check');
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('cost_records');
}
