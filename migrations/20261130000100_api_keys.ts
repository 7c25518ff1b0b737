import type { Knex } from 'knex';

/**
 * API keys of their own: a person may hold several, each named, with an optional expiry, revoked
 * rather than deleted (the audit log names them). Only a key's hash is stored, with its first
 * characters to recognise it by. The single key per person that people.api_key_hash held becomes
 * that person's key named "default". A web session signed in with a key names it, and ends with it.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('api_keys', (t) => {
    t.comment('Bearer keys of the API; the key itself is shown once when created and never stored.');
    t.uuid('id').primary().defaultTo(knex.raw('gen_random_uuid()'));
    t.uuid('person_id').notNullable().references('people.id').withKeyName('api_keys_person_fk');
    t.text('name').notNullable();
    t.text('prefix').notNullable().defaultTo('').comment('the first characters of the key, to recognise it in a list; empty for keys from before this table');
    t.text('key_hash').notNullable().unique('api_keys_key_hash_unique').comment('sha256 of the key');
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.text('created_by').notNullable().comment('person email, or system:<component>');
    t.timestamp('expires_at', { useTz: true });
    t.timestamp('last_used_at', { useTz: true }).comment('updated at most once a minute per API process');
    t.timestamp('revoked_at', { useTz: true });
    t.text('revoked_by');
    t.index(['person_id'], 'api_keys_person_index');
    t.check(`length(name) BETWEEN 1 AND 100`, [], 'api_keys_name_check');
    t.check(`(revoked_at IS NULL) = (revoked_by IS NULL)`, [], 'api_keys_revoked_check');
  });
  // Two live keys of one person with the same name could not be told apart in a list.
  await knex.raw('CREATE UNIQUE INDEX api_keys_live_name_unique ON api_keys (person_id, lower(name)) WHERE revoked_at IS NULL');
  await knex.raw(`
    INSERT INTO api_keys (person_id, name, key_hash, created_by, created_at)
    SELECT id, 'default', api_key_hash, 'system:migration', created_at FROM people WHERE api_key_hash IS NOT NULL`);
  await knex.schema.alterTable('people', (t) => {
    t.dropUnique(['api_key_hash'], 'people_api_key_hash_unique');
    t.dropColumn('api_key_hash');
  });
  await knex.schema.alterTable('web_sessions', (t) => {
    t.uuid('api_key_id').references('api_keys.id').onDelete('CASCADE').withKeyName('web_sessions_api_key_fk')
      .comment('the key the session was signed in with: revoking it ends the session, and so does its expiry; none after single sign-on or the demo pick');
    t.index(['api_key_id'], 'web_sessions_api_key_index');
  });
  // The sessions open now were signed in with their person's one key (now "default") or picked in the demo: bound to that key, they end with it.
  await knex.raw(`
    UPDATE web_sessions s SET api_key_id = k.id
      FROM api_keys k
     WHERE k.person_id = s.person_id AND k.created_by = 'system:migration'`);
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable('web_sessions', (t) => {
    t.dropColumn('api_key_id');
  });
  await knex.schema.alterTable('people', (t) => {
    t.text('api_key_hash').unique('people_api_key_hash_unique').comment('sha256 of the bearer API key; the key itself is never stored');
  });
  await knex.raw(`
    UPDATE people p SET api_key_hash = k.key_hash
      FROM (SELECT DISTINCT ON (person_id) person_id, key_hash FROM api_keys
             WHERE revoked_at IS NULL AND (expires_at IS NULL OR expires_at > now())
             ORDER BY person_id, created_at) k
     WHERE p.id = k.person_id`);
  await knex.schema.dropTable('api_keys');
}
