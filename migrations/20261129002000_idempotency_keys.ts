import type { Knex } from 'knex';

/**
 * An Idempotency-Key belongs to the caller who sent it, and names one request: this table
 * remembers, per caller and key, a fingerprint of the request it was first sent with (method,
 * route, subject and body), so that the same key sent with another request is refused instead of
 * answered with the first one's result. Written by the API only.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('idempotency_keys', (t) => {
    t.comment('The Idempotency-Keys of each caller, with a fingerprint of the request each was first sent with; written by the API only.');
    t.uuid('caller_id').notNullable().references('people.id').withKeyName('idempotency_keys_caller_fk');
    t.text('idempotency_key').notNullable();
    t.text('request_fingerprint').notNullable().comment('sha256 of the method, route, subject and body');
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.primary(['caller_id', 'idempotency_key']);
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('idempotency_keys');
}
