import type { Knex } from 'knex';

/**
 * Every change of a process's state is announced on the `assetflow_process_state` channel, after
 * commit, with the workflow id and the new state, so an API request can wait for a state (a
 * pipeline waiting for its change to be authorized) without polling the database.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    CREATE FUNCTION processes_announce_state() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      PERFORM pg_notify('assetflow_process_state', json_build_object('workflowId', NEW.workflow_id, 'state', NEW.state)::text);
      RETURN NULL;
    END
    $$`);
  await knex.raw(`
    CREATE TRIGGER processes_announce_state AFTER INSERT OR UPDATE OF state ON processes
    FOR EACH ROW EXECUTE FUNCTION processes_announce_state()`);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('DROP TRIGGER processes_announce_state ON processes');
  await knex.raw('DROP FUNCTION processes_announce_state()');
}
