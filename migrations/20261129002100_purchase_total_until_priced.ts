import type { Knex } from 'knex';

/**
 * A purchase request's total is known once its lines are priced (the budget check), not when it
 * is registered: until then it is null rather than a misleading 0. Requests registered but not yet
 * priced (still submitted, with no pricing in their audit) lose their 0.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.raw('ALTER TABLE purchase_requests ALTER COLUMN total_minor DROP NOT NULL, ALTER COLUMN total_minor DROP DEFAULT');
  await knex.raw(`UPDATE purchase_requests SET total_minor = NULL WHERE state = 'submitted' AND total_minor = 0`);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('UPDATE purchase_requests SET total_minor = 0 WHERE total_minor IS NULL');
  await knex.raw('ALTER TABLE purchase_requests ALTER COLUMN total_minor SET DEFAULT 0, ALTER COLUMN total_minor SET NOT NULL');
}
