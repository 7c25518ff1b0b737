import type { Knex } from 'knex';

export async function up(knex: Knex): Promise<void> {
  await knex.raw(`CREATE SEQUENCE asset_tag_seq START 1001`);
  await knex.schema.createTable('assets', (t) => {
    t.comment('Hardware asset records (HAM). State and substate are projected here by the lifecycle workflow.');
    t.uuid('id').primary().defaultTo(knex.raw('gen_random_uuid()'));
    t.text('asset_tag').notNullable().unique('assets_tag_unique')
      .defaultTo(knex.raw(`'AST' || lpad(nextval('asset_tag_seq')::text, 7, '0')`));
    t.text('serial_number').unique('assets_serial_unique');
    t.uuid('model_id').notNullable().references('hardware_models.id').withKeyName('assets_model_fk');
    t.text('state').notNullable();
    t.text('substate');
    t.uuid('assigned_to_id').references('people.id').withKeyName('assets_assigned_to_fk');
    t.uuid('managed_by_id').references('people.id').withKeyName('assets_managed_by_fk')
      .comment('who is reminded of warranty and lease ends');
    t.text('location');
    t.uuid('cost_centre_id').references('cost_centres.id').withKeyName('assets_cost_centre_fk');
    t.uuid('contract_id').references('contracts.id').withKeyName('assets_contract_fk');
    t.bigInteger('purchase_cost_minor').notNullable().defaultTo(0);
    t.specificType('currency', 'char(3)').notNullable();
    t.date('purchase_date');
    t.text('depreciation_method').notNullable().defaultTo('straight_line');
    t.integer('useful_life_months').notNullable().defaultTo(36);
    t.bigInteger('salvage_value_minor').notNullable().defaultTo(0);
    t.date('warranty_end');
    t.date('lease_end');
    t.timestamp('retired_at', { useTz: true });
    t.bigInteger('retirement_book_value_minor');
    t.jsonb('disposal_attestation').comment('who wiped the data, when, how, and the certificate id');
    t.integer('version').notNullable().defaultTo(0).comment('bumped by every transition; compare-and-set guard');
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.timestamp('updated_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.index(['state', 'substate'], 'assets_state_index');
    t.index(['assigned_to_id'], 'assets_assigned_to_index');
    t.index(['cost_centre_id'], 'assets_cost_centre_index');
    t.check(
      `(state = 'in_stock' AND substate IS NOT NULL AND substate IN ('available', 'reserved', 'defective', 'pending_install', 'pending_disposal'))
       OR (state = 'retired' AND substate IS NOT NULL AND substate IN ('disposed', 'sold', 'donated', 'returned_to_vendor', 'lost', 'stolen'))
       OR (state IN ('on_order', 'in_use', 'in_maintenance', 'in_transit', 'missing') AND substate IS NULL)`,
      [],
      'assets_state_check',
    );
    t.check(`depreciation_method IN ('straight_line', 'declining_balance', 'none')`, [], 'assets_depreciation_check');
    t.check(`state <> 'retired' OR retired_at IS NOT NULL`, [], 'assets_retired_at_check');
    t.check(`substate <> 'disposed' OR disposal_attestation IS NOT NULL`, [], 'assets_disposal_attestation_check');
    t.check('purchase_cost_minor >= 0 AND salvage_value_minor >= 0', [], 'assets_money_check');
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('assets');
  await knex.raw('DROP SEQUENCE asset_tag_seq');
}
