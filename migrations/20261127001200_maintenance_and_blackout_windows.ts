import type { Knex } from 'knex';

export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('schedule_windows', (t) => {
    t.comment('Maintenance windows (changes welcome) and blackout windows (changes refused), for all CIs or one.');
    t.uuid('id').primary().defaultTo(knex.raw('gen_random_uuid()'));
    t.text('kind').notNullable();
    t.text('name').notNullable();
    t.timestamp('starts_at', { useTz: true }).notNullable();
    t.timestamp('ends_at', { useTz: true }).notNullable();
    t.uuid('ci_id').references('configuration_items.id').onDelete('CASCADE').withKeyName('schedule_windows_ci_fk')
      .comment('null: applies to every CI');
    t.index(['kind', 'starts_at'], 'schedule_windows_kind_start_index');
    t.check(`kind IN ('maintenance', 'blackout')`, [], 'schedule_windows_kind_check');
    t.check('ends_at > starts_at', [], 'schedule_windows_period_check');
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('schedule_windows');
}
