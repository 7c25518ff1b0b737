import type { Knex } from 'knex';

/**
 * The web UI for everyone: each person reads times in their own time zone, and a process that
 * breaches its SLA target tells the process owners once per breach.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('people', (t) => {
    t.text('time_zone').comment('IANA time zone the person reads times in (Europe/Berlin); null: the organisation default');
  });
  await knex.schema.createTable('sla_breach_notices', (t) => {
    t.text('workflow_id').notNullable();
    t.text('state').notNullable();
    t.timestamp('state_entered_at', { useTz: true }).notNullable().comment('with the state, names the one stay in it that breached');
    t.timestamp('sla_due_at', { useTz: true }).notNullable();
    t.timestamp('notified_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.primary(['workflow_id', 'state', 'state_entered_at']);
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('sla_breach_notices');
  await knex.schema.alterTable('people', (t) => {
    t.dropColumn('time_zone');
  });
}
