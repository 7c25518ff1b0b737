import type { Knex } from 'knex';

/**
 * A step whose retries ran out: the workflow records it here (one open row per step of a process
 * at most: steps running side by side may stall together) and clears it when the step goes
 * through. The process index shows the oldest open one, so process owners can list and count the
 * processes that need them; the index stays written by triggers.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('process_attention', (t) => {
    t.comment('Steps that ran out of retries, written by the workflow of the process; open until the step goes through.');
    t.bigIncrements('id').primary();
    t.text('idempotency_key').notNullable().unique('process_attention_idempotency_unique');
    t.text('workflow_id').notNullable();
    t.text('step').notNullable().comment('the step that could not be taken, e.g. check, orders, assess');
    t.text('reason').notNullable().comment('the last failure of the step');
    t.timestamp('flagged_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.timestamp('cleared_at', { useTz: true });
    t.text('cleared_by').comment('what cleared it: the automatic retry, an operator, a refusal of the step, or the end of the process');
  });
  await knex.raw('CREATE UNIQUE INDEX process_attention_open_unique ON process_attention (workflow_id, step) WHERE cleared_at IS NULL');

  await knex.schema.alterTable('processes', (t) => {
    t.text('attention_step').comment('the step that ran out of retries longest ago and is still open; null when nothing needs attention');
    t.text('attention_reason');
    t.timestamp('attention_since', { useTz: true });
  });
  await knex.raw('CREATE INDEX processes_attention_index ON processes (attention_since) WHERE attention_since IS NOT NULL');

  await knex.raw(`
    CREATE FUNCTION processes_attention_from_steps() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      UPDATE processes p SET
        attention_step = a.step,
        attention_reason = a.reason,
        attention_since = a.flagged_at
        FROM (SELECT NULL) AS nothing
        LEFT JOIN LATERAL (
          SELECT step, reason, flagged_at FROM process_attention
           WHERE workflow_id = NEW.workflow_id AND cleared_at IS NULL
           ORDER BY flagged_at, id LIMIT 1
        ) a ON true
       WHERE p.workflow_id = NEW.workflow_id;
      RETURN NULL;
    END $$;

    CREATE TRIGGER process_attention_process_index AFTER INSERT OR UPDATE ON process_attention
      FOR EACH ROW EXECUTE FUNCTION processes_attention_from_steps();
  `);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('DROP TRIGGER process_attention_process_index ON process_attention');
  await knex.raw('DROP FUNCTION processes_attention_from_steps()');
  await knex.schema.alterTable('processes', (t) => {
    t.dropIndex([], 'processes_attention_index');
    t.dropColumn('attention_step');
    t.dropColumn('attention_reason');
    t.dropColumn('attention_since');
  });
  await knex.schema.dropTable('process_attention');
}
