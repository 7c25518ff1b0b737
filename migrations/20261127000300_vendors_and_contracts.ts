import type { Knex } from 'knex';

export const CONTRACT_KINDS = ['purchase', 'lease', 'maintenance', 'software_licence', 'support', 'cloud'] as const;

export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('vendors', (t) => {
    t.comment('Suppliers of hardware, software and services.');
    t.uuid('id').primary().defaultTo(knex.raw('gen_random_uuid()'));
    t.text('name').notNullable().unique('vendors_name_unique');
    t.text('contact_email');
    t.boolean('active').notNullable().defaultTo(true);
  });

  await knex.raw(`CREATE SEQUENCE contract_number_seq START 1001`);
  await knex.schema.createTable('contracts', (t) => {
    t.comment('Agreements with vendors (COBIT APO09): purchase, lease, maintenance, licence, support.');
    t.uuid('id').primary().defaultTo(knex.raw('gen_random_uuid()'));
    t.text('number').notNullable().unique('contracts_number_unique')
      .defaultTo(knex.raw(`'CNTR' || lpad(nextval('contract_number_seq')::text, 7, '0')`));
    t.uuid('vendor_id').notNullable().references('vendors.id').withKeyName('contracts_vendor_fk');
    t.text('kind').notNullable().checkIn([...CONTRACT_KINDS], 'contracts_kind_check');
    t.text('title').notNullable();
    t.date('starts_on').notNullable();
    t.date('ends_on').notNullable();
    t.bigInteger('value_minor').notNullable().defaultTo(0);
    t.specificType('currency', 'char(3)').notNullable();
    t.boolean('auto_renew').notNullable().defaultTo(false);
    t.integer('renewal_notice_days').notNullable().defaultTo(60);
    t.check('ends_on >= starts_on', [], 'contracts_term_check');
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('contracts');
  await knex.raw('DROP SEQUENCE contract_number_seq');
  await knex.schema.dropTable('vendors');
}
