import type { Knex } from 'knex';

export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('approval_rules', (t) => {
    t.comment('Approval routing as data: when a step applies, who approves it and with which policy.');
    t.uuid('id').primary().defaultTo(knex.raw('gen_random_uuid()'));
    t.text('process').notNullable();
    t.integer('step_order').notNullable();
    t.text('name').notNullable();
    t.jsonb('applies_when').notNullable().defaultTo('{}').comment('condition on the assessed subject, e.g. {"minRiskLevel":"high"}');
    t.text('approver_kind').notNullable();
    t.uuid('group_id').references('groups.id').withKeyName('approval_rules_group_fk');
    t.text('policy').notNullable().defaultTo('any');
    t.integer('quorum');
    t.text('on_expiry').notNullable().defaultTo('reject');
    t.boolean('active').notNullable().defaultTo(true);
    t.unique(['process', 'step_order', 'name'], { indexName: 'approval_rules_step_unique' });
    t.check(`process IN ('change', 'procurement')`, [], 'approval_rules_process_check');
    t.check(`approver_kind IN ('manager', 'cost_centre_owner', 'asset_owner', 'service_owner', 'group')`, [], 'approval_rules_kind_check');
    t.check(`approver_kind <> 'group' OR group_id IS NOT NULL`, [], 'approval_rules_group_check');
    t.check(`policy IN ('any', 'all', 'quorum')`, [], 'approval_rules_policy_check');
    t.check(`policy <> 'quorum' OR (quorum IS NOT NULL AND quorum > 0)`, [], 'approval_rules_quorum_check');
    t.check(`on_expiry IN ('reject', 'escalate')`, [], 'approval_rules_expiry_check');
  });

  await knex.schema.createTable('approvals', (t) => {
    t.comment('One row per approver per step of a change or purchase request.');
    t.uuid('id').primary().defaultTo(knex.raw('gen_random_uuid()'));
    t.text('subject_type').notNullable();
    t.uuid('subject_id').notNullable();
    t.text('workflow_id').notNullable();
    t.integer('step_order').notNullable();
    t.text('step_name').notNullable();
    t.uuid('approver_id').notNullable().references('people.id').withKeyName('approvals_approver_fk');
    t.uuid('delegated_from_id').references('people.id').withKeyName('approvals_delegated_from_fk');
    t.text('state').notNullable().defaultTo('requested');
    t.timestamp('due_at', { useTz: true });
    t.timestamp('decided_at', { useTz: true });
    t.text('comment');
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.unique(['workflow_id', 'step_order', 'approver_id'], { indexName: 'approvals_step_approver_unique' });
    t.index(['approver_id', 'state'], 'approvals_inbox_index');
    t.index(['subject_type', 'subject_id'], 'approvals_subject_index');
    t.check(`subject_type IN ('change_request', 'purchase_request')`, [], 'approvals_subject_type_check');
    t.check(`state IN ('requested', 'approved', 'rejected', 'cancelled', 'expired', 'skipped')`, [], 'approvals_state_check');
  });

  await knex.schema.createTable('delegations', (t) => {
    t.comment('An approver hands their tasks to another person for a period.');
    t.uuid('id').primary().defaultTo(knex.raw('gen_random_uuid()'));
    t.uuid('delegator_id').notNullable().references('people.id').withKeyName('delegations_delegator_fk');
    t.uuid('delegate_id').notNullable().references('people.id').withKeyName('delegations_delegate_fk');
    t.timestamp('starts_at', { useTz: true }).notNullable();
    t.timestamp('ends_at', { useTz: true }).notNullable();
    t.check('delegator_id <> delegate_id', [], 'delegations_not_self_check');
    t.check('ends_at > starts_at', [], 'delegations_period_check');
    t.index(['delegator_id', 'starts_at'], 'delegations_delegator_index');
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('delegations');
  await knex.schema.dropTable('approvals');
  await knex.schema.dropTable('approval_rules');
}
