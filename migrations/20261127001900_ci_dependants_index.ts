import type { Knex } from 'knex';

/**
 * The impact walk asks "which CIs depend on these?" level by level: an index holding both ends of
 * each relationship answers from the index alone, without visiting the table (measured about a
 * fifth faster on a hub that 23,000 CIs depend on). It also serves the foreign key on to_ci_id,
 * so it replaces the single-column index.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.raw('CREATE INDEX ci_relationships_dependants_index ON ci_relationships (to_ci_id, from_ci_id)');
  await knex.raw('DROP INDEX ci_relationships_to_index');
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('CREATE INDEX ci_relationships_to_index ON ci_relationships (to_ci_id)');
  await knex.raw('DROP INDEX ci_relationships_dependants_index');
}
