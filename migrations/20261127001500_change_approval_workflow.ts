import type { Knex } from 'knex';

/**
 * What the change approval workflow needs beyond the base model: scope revisions, licence
 * changes a change declares, implementation and review records, and approvals that can be
 * reminded, escalated and decided through a link or the API.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('change_requests', (t) => {
    t.integer('revision').notNullable().defaultTo(0).comment('bumped when the scope changes; approvals belong to one revision');
    t.text('idempotency_key').unique('change_requests_idempotency_unique').comment('the Idempotency-Key the change was created with');
    t.jsonb('implementation').comment('started, completed or failed, with notes and the backout performed');
    t.jsonb('review').comment('post-implementation review');
    t.timestamp('approved_at', { useTz: true });
    t.timestamp('closed_at', { useTz: true });
  });

  await knex.schema.createTable('change_licence_changes', (t) => {
    t.comment('Software installs a change adds or removes, for the licence impact.');
    t.uuid('change_request_id').notNullable().references('change_requests.id').onDelete('CASCADE').withKeyName('change_licence_changes_change_fk');
    t.uuid('product_id').notNullable().references('software_products.id').withKeyName('change_licence_changes_product_fk');
    t.integer('installs_added').notNullable().defaultTo(0);
    t.integer('installs_removed').notNullable().defaultTo(0);
    t.primary(['change_request_id', 'product_id']);
    t.check('installs_added >= 0 AND installs_removed >= 0 AND installs_added + installs_removed > 0', [], 'change_licence_changes_units_check');
  });

  await knex.raw('ALTER TABLE approvals DROP CONSTRAINT approvals_state_check');
  await knex.raw('ALTER TABLE approvals DROP CONSTRAINT approvals_step_approver_unique');
  await knex.schema.alterTable('approvals', (t) => {
    t.integer('revision').notNullable().defaultTo(0).comment('the scope revision of the subject this approval was asked for');
    t.text('step_policy').notNullable().defaultTo('any');
    t.integer('step_required').notNullable().defaultTo(1).comment('approvals the step needs');
    t.uuid('escalated_from_id').references('approvals.id').withKeyName('approvals_escalated_from_fk')
      .comment('the approval this one took over when its approver did not answer in time');
    t.timestamp('reminded_at', { useTz: true });
    t.text('decided_via');
    t.unique(['workflow_id', 'revision', 'step_order', 'approver_id'], { indexName: 'approvals_step_approver_unique' });
    t.check(`state IN ('requested', 'approved', 'rejected', 'cancelled', 'expired', 'skipped', 'escalated')`, [], 'approvals_state_check');
    t.check(`decided_via IS NULL OR decided_via IN ('link', 'api')`, [], 'approvals_decided_via_check');
    t.check(`step_policy IN ('any', 'all', 'quorum')`, [], 'approvals_step_policy_check');
  });
  await knex.raw(`CREATE INDEX approvals_pending_due_index ON approvals (due_at) WHERE state = 'requested'`);
  await knex.raw(`CREATE INDEX change_requests_open_window_index ON change_requests (planned_start, planned_end) WHERE state <> 'closed'`);
  // The impact assessment sums the open orders of a cost centre's purchase requests.
  await knex.raw('CREATE INDEX purchase_requests_cost_centre_index ON purchase_requests (cost_centre_id)');
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('DROP INDEX purchase_requests_cost_centre_index');
  await knex.raw('DROP INDEX change_requests_open_window_index');
  await knex.raw('DROP INDEX approvals_pending_due_index');
  await knex.raw('ALTER TABLE approvals DROP CONSTRAINT approvals_state_check');
  await knex.raw('ALTER TABLE approvals DROP CONSTRAINT approvals_step_approver_unique');
  await knex.schema.alterTable('approvals', (t) => {
    t.dropChecks(['approvals_decided_via_check', 'approvals_step_policy_check']);
    t.dropForeign(['escalated_from_id'], 'approvals_escalated_from_fk');
    t.dropColumns('revision', 'step_policy', 'step_required', 'escalated_from_id', 'reminded_at', 'decided_via');
  });
  await knex.raw(`DELETE FROM approvals WHERE state = 'escalated'`);
  await knex.raw(`ALTER TABLE approvals ADD CONSTRAINT approvals_state_check CHECK (state IN ('requested', 'approved', 'rejected', 'cancelled', 'expired', 'skipped'))`);
  await knex.raw('ALTER TABLE approvals ADD CONSTRAINT approvals_step_approver_unique UNIQUE (workflow_id, step_order, approver_id)');
  await knex.schema.dropTable('change_licence_changes');
  await knex.schema.alterTable('change_requests', (t) => {
    t.dropColumns('revision', 'idempotency_key', 'implementation', 'review', 'approved_at', 'closed_at');
  });
}
