import type { Knex } from 'knex';

/**
 * "Changes in authorize, the nearest SLA breach first" is the process owner's working list: with
 * the due time in the index, a page is read in order instead of sorting every process in the
 * state (8,750 of 100,000 in the bench).
 */
export async function up(knex: Knex): Promise<void> {
  await knex.raw('CREATE INDEX processes_state_sla_index ON processes (process, state, sla_due_at, workflow_id)');
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('DROP INDEX processes_state_sla_index');
}
