import { ApplicationFailure } from '@temporalio/activity';
import type { Knex } from 'knex';
import { processOwners } from '../model/directory';
import { DirectoryRefused } from '../domain/directory';
import { deactivatePersonRow, openApprovalsOfPerson, type Deactivation } from '../model/person-deactivation';
import {
  PersonDeactivationFailure,
  type DeactivateOutcome,
  type DeactivatePersonInput,
  type HandoverStallInput,
  type HandoverStalledInput,
  type UnreachableApprovalInput,
} from '../workflows/person-deactivation/contract';
import { recordOnce } from './audit';
import { queueEmail } from './email';
import { pageLinks } from '../domain/web-links';

export interface PeopleActivityDeps {
  db: Knex;
  publicUrl: string;
}

const SYSTEM = 'system:person-deactivation';

/** Most processes the needs-attention email links one by one; the list of processes waiting for the person has them all. */
const LINKED_PROCESSES = 10;

class AlreadyInactive extends Error {
  constructor(readonly outcome: Deactivation) {
    super('already inactive');
  }
}

/** The activities of deactivating a person: the deactivation itself, and finding and recording what their handover reaches. */
export function createPeopleActivities({ db, publicUrl }: PeopleActivityDeps) {
  const links = pageLinks(publicUrl);
  return {
    /**
     * Ends a person's access in one transaction with its `person_deactivated` audit row: the row,
     * their API keys, their web sessions (the trigger on people.active). A person inactive already
     * is answered as they are, with nothing written; a refusal is final (PersonDeactivationRefused).
     */
    async deactivatePerson(input: DeactivatePersonInput): Promise<DeactivateOutcome> {
      const entry = { idempotencyKey: input.idempotencyKey, actor: input.actor, subjectType: 'person', subjectId: input.personId, action: 'person_deactivated', workflowId: input.workflowId };
      try {
        return await recordOnce(db, entry, async (trx) => {
          const done = await deactivatePersonRow(trx, { personId: input.personId, actorId: input.actorId, actor: input.actor, expectedVersion: input.expectedVersion, reason: input.reason });
          if (!done.deactivated) throw new AlreadyInactive(done);
          return {
            result: done,
            details: {
              before: { active: true, version: done.version - 1 },
              after: { active: false, version: done.version },
              reason: input.reason ?? null,
              keysRevoked: done.keysRevoked,
            },
          };
        });
      } catch (error) {
        if (error instanceof AlreadyInactive) return error.outcome;
        if (error instanceof DirectoryRefused) {
          throw ApplicationFailure.create({ type: PersonDeactivationFailure.refused, message: error.message, details: [error.refusal], nonRetryable: true });
        }
        throw error;
      }
    },

    /** The approvals still waiting for a person, with the workflow each belongs to. */
    async openApprovalsOf(input: { personId: string }): Promise<{ approvalId: string; workflowId: string }[]> {
      return openApprovalsOfPerson(db, input.personId);
    },

    /** Records, once, that an open approval of a deactivated person could not be moved because its workflow is gone. */
    async recordUnreachableApproval(input: UnreachableApprovalInput): Promise<void> {
      const approval = await db('approvals').where({ id: input.approvalId }).first('subject_type', 'subject_id', 'workflow_id', 'state');
      if (!approval) throw ApplicationFailure.nonRetryable(`approval ${input.approvalId} does not exist`, 'ApprovalNotFound');
      await recordOnce(
        db,
        {
          idempotencyKey: input.idempotencyKey,
          actor: SYSTEM,
          subjectType: approval.subject_type,
          subjectId: approval.subject_id,
          action: 'approval_handover_unreachable',
          workflowId: approval.workflow_id,
          details: { approvalId: input.approvalId, approverId: input.personId, state: approval.state, reason: input.reason },
        },
        async () => ({ result: null }),
      );
    },

    /**
     * Records that a step of a person's handover ran out of its retries, and tells the process
     * owners once: the person is deactivated, their approvals wait, and assetflow keeps trying.
     */
    async reportHandoverStalled(input: HandoverStalledInput): Promise<void> {
      const entry = { idempotencyKey: input.idempotencyKey, actor: SYSTEM, subjectType: 'person', subjectId: input.personId, action: 'needs_attention', workflowId: input.workflowId };
      await recordOnce(db, { ...entry, details: { step: input.step, reason: input.reason } }, async (trx) => {
        const person = await trx('people').where({ id: input.personId }).first('name', 'email');
        const owners = await processOwners(trx);
        if (owners.length > 0) {
          // Pages a process owner can open (the person's page is for admins): the processes that wait for them.
          const waiting = [...new Set((await openApprovalsOfPerson(trx, input.personId)).map((a) => a.workflowId))];
          const listed = waiting.slice(0, LINKED_PROCESSES).map((workflowId) => `- ${links.process(workflowId)}`);
          const more = waiting.length > listed.length ? [`- and ${waiting.length - listed.length} more`] : [];
          await queueEmail(trx, {
            idempotencyKey: input.idempotencyKey,
            template: 'handover_needs_attention',
            to: owners.map((o) => o.email),
            subject: `Needs attention: the approvals of ${person.name}, who was deactivated`,
            text: [
              'Hello,',
              '',
              `${person.name} (${person.email}) was deactivated, but the step "${input.step}" of moving their open`,
              'approvals to someone else could not be taken: its retries ran out.',
              `Last failure: ${input.reason}`,
              '',
              'assetflow keeps trying it, at least every 30 seconds; until it goes through, their approvals wait for them.',
              '',
              `Every open process waiting for them: ${links.of(`/ui/processes?waitingFor=${encodeURIComponent(input.personId)}&open=true`)}`,
              ...(listed.length > 0 ? ['', 'The processes waiting for them, where you can reassign their approvals:', ...listed, ...more] : []),
            ].join('\n'),
            subjectType: 'person',
            subjectId: input.personId,
            workflowId: input.workflowId,
          });
        }
        return { result: null, details: { notified: owners.map((o) => o.email) } };
      });
    },

    /** Records that a stalled step of a person's handover went through in the end. */
    async clearHandoverStall(input: HandoverStallInput): Promise<void> {
      const entry = { idempotencyKey: input.idempotencyKey, actor: SYSTEM, subjectType: 'person', subjectId: input.personId, action: 'attention_cleared', workflowId: input.workflowId };
      await recordOnce(db, { ...entry, details: { step: input.step, clearedBy: 'retry' } }, async () => ({ result: null }));
    },
  };
}

export type PeopleActivities = ReturnType<typeof createPeopleActivities>;
