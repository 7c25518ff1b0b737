import type { Knex } from 'knex';

export const DEPRECIATION_METHODS = ['straight_line', 'declining_balance', 'none'] as const;
export const LICENCE_METRICS = ['per_device', 'per_user', 'per_core', 'subscription', 'site'] as const;

export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('hardware_models', (t) => {
    t.comment('Catalogue of hardware models with list price, warranty and depreciation policy.');
    t.uuid('id').primary().defaultTo(knex.raw('gen_random_uuid()'));
    t.text('manufacturer').notNullable();
    t.text('name').notNullable();
    t.text('category').notNullable().comment('laptop, desktop, server, network, storage, monitor, phone');
    t.uuid('vendor_id').references('vendors.id').withKeyName('hardware_models_vendor_fk');
    t.bigInteger('list_price_minor').notNullable();
    t.specificType('currency', 'char(3)').notNullable();
    t.integer('warranty_months').notNullable().defaultTo(12);
    t.integer('useful_life_months').notNullable().defaultTo(36);
    t.text('depreciation_method').notNullable().defaultTo('straight_line')
      .checkIn([...DEPRECIATION_METHODS], 'hardware_models_depreciation_check');
    t.unique(['manufacturer', 'name'], { indexName: 'hardware_models_name_unique' });
  });

  await knex.schema.createTable('software_products', (t) => {
    t.comment('Catalogue of software products and how they are licensed.');
    t.uuid('id').primary().defaultTo(knex.raw('gen_random_uuid()'));
    t.text('publisher').notNullable();
    t.text('name').notNullable();
    t.uuid('vendor_id').references('vendors.id').withKeyName('software_products_vendor_fk');
    t.text('licence_metric').notNullable().checkIn([...LICENCE_METRICS], 'software_products_metric_check');
    t.bigInteger('unit_price_minor').notNullable();
    t.specificType('currency', 'char(3)').notNullable();
    t.unique(['publisher', 'name'], { indexName: 'software_products_name_unique' });
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('software_products');
  await knex.schema.dropTable('hardware_models');
}
