import type { Knex } from 'knex';

/**
 * Counters of the API's rate limits (platform/rate-limits.ts), in Postgres so that every API
 * process behind a load balancer counts against the same limit. The shape is the one
 * rate-limiter-flexible's Postgres store reads and writes.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('rate_limits', (t) => {
    t.comment('Rate limit counters shared by all API processes; written by the API only, through rate-limiter-flexible.');
    t.string('key', 255).primary().comment('the limit and whom it counts, e.g. auth-failures:<client address>');
    t.integer('points').notNullable().defaultTo(0);
    t.bigInteger('expire').comment('when the window ends, milliseconds since the epoch');
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('rate_limits');
}
