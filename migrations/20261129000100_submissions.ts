import type { Knex } from 'knex';

/**
 * A change or purchase request row is written by its workflow alone (ARCHITECTURE.md, "Who writes
 * what"): the API reserves the number and starts the workflow, whose first activity registers the
 * row. What the API still has to remember is which number a requester's Idempotency-Key reserved,
 * before any row exists: that is this table, written by the API alone. The keys the request rows
 * carried move here.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('submissions', (t) => {
    t.comment('Idempotency-Keys of submitted requests and the number each reserved; written by the API only.');
    t.uuid('requester_id').notNullable().references('people.id').withKeyName('submissions_requester_fk');
    t.text('idempotency_key').notNullable().comment("the requester's Idempotency-Key");
    t.text('process').notNullable();
    t.uuid('subject_id').notNullable().unique('submissions_subject_unique').comment('the id the request row is registered with');
    t.text('number').notNullable();
    t.text('workflow_id').notNullable();
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.primary(['requester_id', 'idempotency_key']);
    t.check(`process IN ('change', 'procurement')`, [], 'submissions_process_check');
  });
  // Keys were stored as "<requester id>:<key>".
  for (const [table, process] of [['change_requests', 'change'], ['purchase_requests', 'procurement']] as const) {
    await knex.raw(
      `INSERT INTO submissions (requester_id, idempotency_key, process, subject_id, number, workflow_id, created_at)
       SELECT requester_id, substr(idempotency_key, length(requester_id::text) + 2), ?, id, number, workflow_id, created_at
         FROM ?? WHERE idempotency_key IS NOT NULL AND workflow_id IS NOT NULL`,
      [process, table],
    );
  }
  await knex.schema.alterTable('change_requests', (t) => {
    t.dropUnique(['idempotency_key'], 'change_requests_idempotency_unique');
    t.dropColumn('idempotency_key');
  });
  await knex.schema.alterTable('purchase_requests', (t) => {
    t.dropUnique(['idempotency_key'], 'purchase_requests_idempotency_unique');
    t.dropColumn('idempotency_key');
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable('change_requests', (t) => {
    t.text('idempotency_key').unique('change_requests_idempotency_unique').comment('the Idempotency-Key the change was created with');
  });
  await knex.schema.alterTable('purchase_requests', (t) => {
    t.text('idempotency_key').unique('purchase_requests_idempotency_unique').comment('the Idempotency-Key the request was created with');
  });
  for (const table of ['change_requests', 'purchase_requests']) {
    await knex.raw(
      `UPDATE ?? r SET idempotency_key = s.requester_id || ':' || s.idempotency_key FROM submissions s WHERE s.subject_id = r.id`,
      [table],
    );
  }
  await knex.schema.dropTable('submissions');
}
