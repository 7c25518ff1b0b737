import type { Knex } from 'knex';

export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('cost_centres', (t) => {
    t.comment('Where spend is allocated; each has an owner who answers for its budget.');
    t.uuid('id').primary().defaultTo(knex.raw('gen_random_uuid()'));
    t.text('code').notNullable().unique('cost_centres_code_unique');
    t.text('name').notNullable();
    t.uuid('owner_id').references('people.id').withKeyName('cost_centres_owner_fk');
  });

  await knex.schema.createTable('budgets', (t) => {
    t.comment('Budget of one cost centre for one period (a calendar month).');
    t.uuid('id').primary().defaultTo(knex.raw('gen_random_uuid()'));
    t.uuid('cost_centre_id').notNullable().references('cost_centres.id').onDelete('CASCADE').withKeyName('budgets_cost_centre_fk');
    t.date('period_start').notNullable();
    t.bigInteger('amount_minor').notNullable().comment('integer minor units (cents)');
    t.specificType('currency', 'char(3)').notNullable();
    t.unique(['cost_centre_id', 'period_start'], { indexName: 'budgets_cost_centre_period_unique' });
    t.check('amount_minor >= 0', [], 'budgets_amount_check');
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('budgets');
  await knex.schema.dropTable('cost_centres');
}
