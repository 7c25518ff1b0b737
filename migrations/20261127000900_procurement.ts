import type { Knex } from 'knex';

export async function up(knex: Knex): Promise<void> {
  await knex.raw(`CREATE SEQUENCE purchase_request_number_seq START 1001`);
  await knex.raw(`CREATE SEQUENCE purchase_order_number_seq START 1001`);

  await knex.schema.createTable('purchase_requests', (t) => {
    t.comment('Requisitions; the procurement workflow projects its state here.');
    t.uuid('id').primary().defaultTo(knex.raw('gen_random_uuid()'));
    t.text('number').notNullable().unique('purchase_requests_number_unique')
      .defaultTo(knex.raw(`'PR' || lpad(nextval('purchase_request_number_seq')::text, 7, '0')`));
    t.uuid('requester_id').notNullable().references('people.id').withKeyName('purchase_requests_requester_fk');
    t.uuid('cost_centre_id').notNullable().references('cost_centres.id').withKeyName('purchase_requests_cost_centre_fk');
    t.text('state').notNullable().defaultTo('submitted');
    t.text('justification').notNullable();
    t.text('programme').comment('COBIT BAI01 programme the purchase belongs to');
    t.specificType('currency', 'char(3)').notNullable();
    t.bigInteger('total_minor').notNullable().defaultTo(0);
    t.text('workflow_id').unique('purchase_requests_workflow_unique');
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.timestamp('updated_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.index(['requester_id'], 'purchase_requests_requester_index');
    t.check(`state IN ('submitted', 'budget_check', 'authorize', 'ordering', 'partially_received', 'received', 'closed', 'rejected', 'cancelled')`,
      [], 'purchase_requests_state_check');
  });

  await knex.schema.createTable('purchase_request_lines', (t) => {
    t.uuid('id').primary().defaultTo(knex.raw('gen_random_uuid()'));
    t.uuid('purchase_request_id').notNullable().references('purchase_requests.id').onDelete('CASCADE').withKeyName('purchase_request_lines_request_fk');
    t.integer('line_number').notNullable();
    t.uuid('hardware_model_id').references('hardware_models.id').withKeyName('purchase_request_lines_model_fk');
    t.uuid('software_product_id').references('software_products.id').withKeyName('purchase_request_lines_product_fk');
    t.text('description').notNullable();
    t.uuid('vendor_id').references('vendors.id').withKeyName('purchase_request_lines_vendor_fk');
    t.integer('quantity').notNullable();
    t.bigInteger('unit_price_minor').notNullable();
    t.unique(['purchase_request_id', 'line_number'], { indexName: 'purchase_request_lines_number_unique' });
    t.check('quantity > 0 AND unit_price_minor >= 0', [], 'purchase_request_lines_amount_check');
    t.check('NOT (hardware_model_id IS NOT NULL AND software_product_id IS NOT NULL)', [], 'purchase_request_lines_item_check');
  });

  await knex.schema.createTable('purchase_orders', (t) => {
    t.comment('One order per vendor per request; an open order commits its amount against the budget.');
    t.uuid('id').primary().defaultTo(knex.raw('gen_random_uuid()'));
    t.text('number').notNullable().unique('purchase_orders_number_unique')
      .defaultTo(knex.raw(`'PO' || lpad(nextval('purchase_order_number_seq')::text, 7, '0')`));
    t.uuid('purchase_request_id').notNullable().references('purchase_requests.id').withKeyName('purchase_orders_request_fk');
    t.uuid('vendor_id').notNullable().references('vendors.id').withKeyName('purchase_orders_vendor_fk');
    t.text('state').notNullable().defaultTo('issued');
    t.bigInteger('amount_minor').notNullable();
    t.specificType('currency', 'char(3)').notNullable();
    t.timestamp('issued_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.unique(['purchase_request_id', 'vendor_id'], { indexName: 'purchase_orders_request_vendor_unique' });
    t.check(`state IN ('issued', 'partially_received', 'received', 'cancelled', 'closed')`, [], 'purchase_orders_state_check');
  });

  await knex.schema.createTable('receipts', (t) => {
    t.comment('Goods received against an order; one row per received line, serials for hardware units.');
    t.uuid('id').primary().defaultTo(knex.raw('gen_random_uuid()'));
    t.text('idempotency_key').notNullable().unique('receipts_idempotency_unique');
    t.uuid('purchase_order_id').notNullable().references('purchase_orders.id').withKeyName('receipts_order_fk');
    t.uuid('purchase_request_line_id').notNullable().references('purchase_request_lines.id').withKeyName('receipts_line_fk');
    t.integer('quantity').notNullable();
    t.specificType('serial_numbers', 'text[]').notNullable().defaultTo('{}');
    t.uuid('received_by_id').notNullable().references('people.id').withKeyName('receipts_received_by_fk');
    t.timestamp('received_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.check('quantity > 0', [], 'receipts_quantity_check');
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('receipts');
  await knex.schema.dropTable('purchase_orders');
  await knex.schema.dropTable('purchase_request_lines');
  await knex.schema.dropTable('purchase_requests');
  await knex.raw('DROP SEQUENCE purchase_order_number_seq');
  await knex.raw('DROP SEQUENCE purchase_request_number_seq');
}
