import type { Knex } from 'knex';

/**
 * An approval whose approver was deactivated moves to someone else (their delegate, their
 * manager, else a process owner): the old row ends as `reassigned`, and the new one names it.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.raw('ALTER TABLE approvals DROP CONSTRAINT approvals_state_check');
  await knex.schema.alterTable('approvals', (t) => {
    t.uuid('reassigned_from_id').references('approvals.id').withKeyName('approvals_reassigned_from_fk')
      .comment('the approval this one took over when its approver was deactivated');
    t.check(`state IN ('requested', 'approved', 'rejected', 'cancelled', 'expired', 'skipped', 'escalated', 'reassigned')`, [], 'approvals_state_check');
  });
  // One successor per approval: the link page and approvalsOf join on it, and a handover moves an approval once.
  await knex.raw('CREATE UNIQUE INDEX approvals_reassigned_from_unique ON approvals (reassigned_from_id) WHERE reassigned_from_id IS NOT NULL');
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('DROP INDEX approvals_reassigned_from_unique');
  await knex.raw('ALTER TABLE approvals DROP CONSTRAINT approvals_state_check');
  await knex.raw(`UPDATE approvals SET state = 'escalated' WHERE state = 'reassigned'`);
  await knex.schema.alterTable('approvals', (t) => {
    t.dropForeign(['reassigned_from_id'], 'approvals_reassigned_from_fk');
    t.dropColumn('reassigned_from_id');
    t.check(`state IN ('requested', 'approved', 'rejected', 'cancelled', 'expired', 'skipped', 'escalated')`, [], 'approvals_state_check');
  });
}
