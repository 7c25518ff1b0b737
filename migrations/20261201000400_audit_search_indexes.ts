import type { Knex } from 'knex';

/** Audit search (GET /audit) by actor and by period: newest first, without reading the whole log. */
export async function up(knex: Knex): Promise<void> {
  await knex.raw('CREATE INDEX audit_log_actor_index ON audit_log (actor, id)');
  await knex.raw('CREATE INDEX audit_log_occurred_index ON audit_log (occurred_at, id)');
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('DROP INDEX audit_log_occurred_index');
  await knex.raw('DROP INDEX audit_log_actor_index');
}
