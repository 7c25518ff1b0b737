import { ApplicationFailure } from '@temporalio/activity';
import type { Knex } from 'knex';
import { COUNTING_APPROVAL_STATES, reassignmentRefusal } from '../domain/approval-reassignment';
import { requesterOf } from '../model/approval-subjects';
import { ApprovalFailure, type NudgeRecordInput, type OpenedApproval, type ReassignInput } from '../workflows/approvals/contract';
import { insertReplacement } from './approvals';
import { auditEntryOf, recordOnce } from './audit';

/** What process owners (and admins) do to a process from its page: reassign a pending approval, nudge its approvers. */
export function createProcessOwnerActivities({ db }: { db: Knex }) {
  return {
    /**
     * Moves a pending approval to the person a process owner chose, as a deactivated approver's is
     * handed over: the old row ends reassigned, the new one names it, one audit row with who and why.
     * Refused for good (nothing written) when the approval is no longer pending or the person may
     * not take it; the target is held (FOR SHARE) until commit, so a deactivation waits, then finds
     * the new task and moves it on.
     */
    async reassignApproval(input: ReassignInput): Promise<OpenedApproval> {
      const approval = await db('approvals').where({ id: input.approvalId }).first();
      if (!approval) throw ApplicationFailure.nonRetryable(`approval ${input.approvalId} does not exist`, 'ApprovalNotFound');
      const requesterId = (await requesterOf(db, approval.subject_type, approval.subject_id)) ?? null;
      // The update names who asked by email, which is unique whatever its letter case.
      const actorRow = await db('people').whereRaw('lower(email) = lower(?)', [input.actor]).first('id');
      const actorId: string | null = actorRow?.id ?? null;
      return recordOnce(
        db,
        {
          idempotencyKey: input.idempotencyKey,
          actor: input.actor,
          subjectType: approval.subject_type,
          subjectId: approval.subject_id,
          workflowId: approval.workflow_id,
          action: 'approval_reassigned',
          details: { approvalId: approval.id, step: approval.step_order, from: approval.approver_id, to: input.toPersonId, movedBy: 'process_owner', reason: input.reason },
        },
        async (trx) => {
          const current = await trx('approvals').where({ id: approval.id }).forUpdate().first('state');
          const target = await trx('people').where({ id: input.toPersonId }).forShare().first('id', 'name', 'active');
          const inStep = await trx('approvals')
            .where({ workflow_id: approval.workflow_id, revision: approval.revision, step_order: approval.step_order })
            .whereIn('state', COUNTING_APPROVAL_STATES)
            .pluck('approver_id');
          const refusal = reassignmentRefusal({ approval: current, requesterId, actorId, target, inStepIds: inStep });
          if (refusal) throw ApplicationFailure.create({ type: ApprovalFailure.reassignmentRefused, message: refusal.message, details: [refusal], nonRetryable: true });
          await trx('approvals').where({ id: approval.id, state: 'requested' }).update({ state: 'reassigned', decided_at: trx.fn.now() });
          const result = await insertReplacement(trx, approval, { approverId: target.id, delegatedFromId: null }, { reassigned_from_id: approval.id }, input.dueAt);
          return { result, details: { newApprovalId: result.approvalId } };
        },
      );
    },

    /** The audit row of a nudge: who asked, and whose approvals were reminded. */
    async recordNudge(input: NudgeRecordInput): Promise<void> {
      await recordOnce(db, auditEntryOf(input, input.actor, 'approvals_nudged', { nudged: input.nudged }), async () => ({ result: null }));
    },
  };
}

export type ProcessOwnerActivities = ReturnType<typeof createProcessOwnerActivities>;
