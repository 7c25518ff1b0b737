import type { Knex } from 'knex';

export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('email_log', (t) => {
    t.comment('Outbox and delivery log: one row per email a workflow asked for, whatever the retries.');
    t.uuid('id').primary().defaultTo(knex.raw('gen_random_uuid()'));
    t.text('idempotency_key').notNullable().unique('email_log_idempotency_unique');
    t.text('template').notNullable();
    t.specificType('recipients', 'text[]').notNullable();
    t.text('subject').notNullable();
    t.text('body_text').notNullable();
    t.text('body_html');
    t.text('subject_type');
    t.uuid('subject_id');
    t.text('workflow_id');
    t.text('status').notNullable().defaultTo('pending');
    t.text('message_id');
    t.integer('attempts').notNullable().defaultTo(0);
    t.text('last_error');
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.timestamp('sent_at', { useTz: true });
    t.index(['subject_type', 'subject_id'], 'email_log_subject_index');
    t.check(`status IN ('pending', 'sent', 'failed')`, [], 'email_log_status_check');
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('email_log');
}
