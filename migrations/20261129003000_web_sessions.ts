import type { Knex } from 'knex';

/**
 * Web UI sessions held by the server, so that signing out, deactivating the person or the expiry
 * end a session everywhere at once: the cookie carries only a random id, and only its hash is
 * stored (a leaked table row cannot be replayed as a cookie). Written by the API alone.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('web_sessions', (t) => {
    t.comment('Signed-in web UI sessions; written by the API only (sign-in inserts, sign-out and expiry delete).');
    t.text('id_hash').primary().comment('sha256 of the random session id the cookie carries; the id itself is never stored');
    t.uuid('person_id').notNullable().references('people.id').onDelete('CASCADE').withKeyName('web_sessions_person_fk');
    t.text('csrf').notNullable().comment('the token every POST form of this session echoes');
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.timestamp('expires_at', { useTz: true }).notNullable();
    t.index(['person_id'], 'web_sessions_person_idx');
    t.index(['expires_at'], 'web_sessions_expires_idx');
  });
  // A person deactivated by whatever writes people loses every session at once, not only on their next request.
  await knex.raw(`
    CREATE FUNCTION end_sessions_of_deactivated_person() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      DELETE FROM web_sessions WHERE person_id = NEW.id;
      RETURN NEW;
    END $$;
    CREATE TRIGGER people_deactivated_end_sessions
      AFTER UPDATE OF active ON people
      FOR EACH ROW WHEN (OLD.active AND NOT NEW.active)
      EXECUTE FUNCTION end_sessions_of_deactivated_person();
  `);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('DROP TRIGGER IF EXISTS people_deactivated_end_sessions ON people');
  await knex.raw('DROP FUNCTION IF EXISTS end_sessions_of_deactivated_person()');
  await knex.schema.dropTable('web_sessions');
}
