import type { Knex } from 'knex';

/**
 * What the procurement workflow needs beyond the base model: contract prices, where each line's
 * price came from, licence seats reused instead of bought, and the link from an asset or an
 * entitlement back to the receipt that made it.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('contract_prices', (t) => {
    t.comment('Negotiated unit prices under a contract; a price in force beats the catalogue list price.');
    t.uuid('id').primary().defaultTo(knex.raw('gen_random_uuid()'));
    t.uuid('contract_id').notNullable().references('contracts.id').onDelete('CASCADE').withKeyName('contract_prices_contract_fk');
    t.uuid('hardware_model_id').references('hardware_models.id').withKeyName('contract_prices_model_fk');
    t.uuid('software_product_id').references('software_products.id').withKeyName('contract_prices_product_fk');
    t.bigInteger('unit_price_minor').notNullable();
    t.specificType('currency', 'char(3)').notNullable();
    t.check('(hardware_model_id IS NULL) <> (software_product_id IS NULL)', [], 'contract_prices_item_check');
    t.check('unit_price_minor >= 0', [], 'contract_prices_amount_check');
    t.index(['hardware_model_id'], 'contract_prices_model_index');
    t.index(['software_product_id'], 'contract_prices_product_index');
  });

  await knex.schema.alterTable('purchase_requests', (t) => {
    t.text('idempotency_key').unique('purchase_requests_idempotency_unique').comment('the Idempotency-Key the request was created with');
    t.jsonb('assessment').comment('pricing, budget position and licence reuse offer, as the workflow last computed them');
    t.text('outcome').comment('why it ended: rejected, cancelled, satisfied from spare licences, received');
    t.timestamp('closed_at', { useTz: true });
  });

  await knex.schema.alterTable('purchase_request_lines', (t) => {
    t.uuid('contract_id').references('contracts.id').withKeyName('purchase_request_lines_contract_fk').comment('the contract whose price applies');
    t.text('price_source').notNullable().defaultTo('quoted');
    t.integer('reused_units').notNullable().defaultTo(0).comment('seats taken from spare entitlements instead of bought');
    t.check(`price_source IN ('contract', 'list', 'quoted')`, [], 'purchase_request_lines_price_source_check');
    t.check('reused_units >= 0 AND reused_units <= quantity', [], 'purchase_request_lines_reused_check');
  });

  await knex.schema.alterTable('purchase_orders', (t) => {
    t.bigInteger('received_minor').notNullable().defaultTo(0)
      .comment('value received so far; an open order commits amount_minor - received_minor (the rest is in cost records)');
    t.timestamp('closed_at', { useTz: true });
  });

  await knex.schema.alterTable('receipts', (t) => {
    t.index(['purchase_order_id'], 'receipts_order_index');
  });

  await knex.schema.alterTable('assets', (t) => {
    t.uuid('receipt_id').references('receipts.id').withKeyName('assets_receipt_fk').comment('the receipt the asset was received on');
  });

  await knex.schema.alterTable('software_entitlements', (t) => {
    t.uuid('receipt_id').unique('software_entitlements_receipt_unique').references('receipts.id').withKeyName('software_entitlements_receipt_fk');
  });

  await knex.schema.alterTable('software_consumptions', (t) => {
    t.text('source_key').unique('software_consumptions_source_key_unique').comment('idempotency key of the activity that assigned the seat');
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable('software_consumptions', (t) => {
    t.dropUnique(['source_key'], 'software_consumptions_source_key_unique');
    t.dropColumn('source_key');
  });
  await knex.schema.alterTable('software_entitlements', (t) => {
    t.dropForeign(['receipt_id'], 'software_entitlements_receipt_fk');
    t.dropUnique(['receipt_id'], 'software_entitlements_receipt_unique');
    t.dropColumn('receipt_id');
  });
  await knex.schema.alterTable('assets', (t) => {
    t.dropForeign(['receipt_id'], 'assets_receipt_fk');
    t.dropColumn('receipt_id');
  });
  await knex.schema.alterTable('receipts', (t) => {
    t.dropIndex(['purchase_order_id'], 'receipts_order_index');
  });
  await knex.schema.alterTable('purchase_orders', (t) => {
    t.dropColumns('received_minor', 'closed_at');
  });
  await knex.schema.alterTable('purchase_request_lines', (t) => {
    t.dropChecks(['purchase_request_lines_price_source_check', 'purchase_request_lines_reused_check']);
    t.dropForeign(['contract_id'], 'purchase_request_lines_contract_fk');
    t.dropColumns('contract_id', 'price_source', 'reused_units');
  });
  await knex.schema.alterTable('purchase_requests', (t) => {
    t.dropUnique(['idempotency_key'], 'purchase_requests_idempotency_unique');
    t.dropColumns('idempotency_key', 'assessment', 'outcome', 'closed_at');
  });
  await knex.schema.dropTable('contract_prices');
}
