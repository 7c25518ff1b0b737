import type { Knex } from 'knex';

export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('audit_log', (t) => {
    t.comment('Append-only record of every transition and effect (COBIT evidence). Updates, deletes and truncation are refused.');
    t.bigIncrements('id').primary();
    t.timestamp('occurred_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.text('idempotency_key').notNullable().unique('audit_log_idempotency_unique')
      .comment('one row per activity execution, however often it retries');
    t.text('actor').notNullable().comment('person email, or system:<component>');
    t.text('subject_type').notNullable();
    t.uuid('subject_id').notNullable();
    t.text('action').notNullable();
    t.text('from_state');
    t.text('to_state');
    t.jsonb('details').notNullable().defaultTo('{}');
    t.text('workflow_id');
    t.index(['subject_type', 'subject_id', 'id'], 'audit_log_subject_index');
    t.index(['workflow_id'], 'audit_log_workflow_index');
  });
  await knex.raw(`
    CREATE FUNCTION audit_log_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      RAISE EXCEPTION 'audit_log is append-only';
    END $$`);
  await knex.raw(`
    CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE OR TRUNCATE ON audit_log
    FOR EACH STATEMENT EXECUTE FUNCTION audit_log_refuse_change()`);
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('audit_log');
  await knex.raw('DROP FUNCTION audit_log_refuse_change()');
}
