import { ApplicationFailure } from '@temporalio/activity';
import type { Knex } from 'knex';
import {
  applyDelegation,
  escalationTarget,
  planApprovalSteps,
  unknownConditionKeys,
  type ApprovalRule,
  type Delegation,
  type PlannedStep,
  type RoutingSubject,
} from '../domain/approval-routing';
import { describeApprovalSubject, requesterOf, summaryText } from '../model/approval-subjects';
import { processOwners } from '../model/directory';
import type {
  ApprovalTaskInput,
  CloseApprovalsInput,
  EscalateInput,
  OpenStepInput,
  OpenedApproval,
  RecordDecisionInput,
  RecordedDecision,
} from '../workflows/approvals/contract';
import { auditEntryOf, recordOnce } from './audit';
import { APPROVAL_LINK_PLACEHOLDER, queueEmail } from './email';

export interface ApprovalActivityDeps {
  db: Knex;
  publicUrl: string;
}

const SYSTEM = 'system:approvals';

class ApprovalNoLongerOpen extends Error {}

/** Delegations in force now: who hands their approval tasks to whom. */
export function activeDelegations(db: Knex): Promise<Delegation[]> {
  return db('delegations')
    .where('starts_at', '<=', db.fn.now())
    .where('ends_at', '>', db.fn.now())
    .orderBy('starts_at')
    .select('delegator_id as delegatorId', 'delegate_id as delegateId');
}

/** Who the approver kinds resolve to for one subject; the rest (groups, delegations, process owners) is loaded here. */
export interface SubjectApprovers {
  requesterId: string;
  managerId: string | null;
  costCentreOwnerId: string | null;
  assetOwnerIds: string[];
  serviceOwnerIds: string[];
}

/**
 * The approval plan for a subject: the active rules of the process, resolved to people with the
 * pure routing rule. Reads in order on the caller's transaction (one connection).
 */
export async function planFromRules(
  trx: Knex,
  process: 'change' | 'procurement',
  subject: RoutingSubject,
  approvers: SubjectApprovers,
): Promise<{ rules: ApprovalRule[]; plan: PlannedStep[]; rulesWithUnknownConditions: string[] }> {
  const ruleRows = await trx('approval_rules').where({ process, active: true }).orderBy(['step_order', 'name']);
  const rules: ApprovalRule[] = ruleRows.map((r) => ({
    id: r.id,
    name: r.name,
    stepOrder: r.step_order,
    appliesWhen: r.applies_when,
    approverKind: r.approver_kind,
    groupId: r.group_id,
    policy: r.policy,
    quorum: r.quorum,
    onExpiry: r.on_expiry,
  }));
  const groupIds = rules.map((r) => r.groupId).filter((id): id is string => id !== null);
  const members = await trx('group_members as gm').join('people as p', 'p.id', 'gm.person_id').whereIn('gm.group_id', groupIds)
    .where('p.active', true).orderBy('p.name').select('gm.group_id', 'p.id');
  const delegations = await activeDelegations(trx);
  const owners = await processOwners(trx);
  const groupMembers: Record<string, string[]> = {};
  for (const m of members) (groupMembers[m.group_id] ??= []).push(m.id);
  const plan = planApprovalSteps(rules, subject, {
    requesterId: approvers.requesterId,
    managerOf: { [approvers.requesterId]: approvers.managerId },
    costCentreOwnerId: approvers.costCentreOwnerId,
    assetOwnerIds: approvers.assetOwnerIds,
    serviceOwnerIds: approvers.serviceOwnerIds,
    groupMembers,
    delegations,
    fallbackApproverIds: owners.map((p) => p.id),
  });
  return { rules, plan, rulesWithUnknownConditions: rules.filter((r) => unknownConditionKeys(r.appliesWhen).length > 0).map((r) => r.name) };
}

/** The approval machinery every workflow that asks people to approve shares: steps, tasks, decisions, escalation. */
export function createApprovalActivities({ db, publicUrl }: ApprovalActivityDeps) {
  return {
    /** Creates one approval row per approver of a step; a step nobody can take is recorded and returns none. */
    async openApprovalStep(input: OpenStepInput): Promise<OpenedApproval[]> {
      const { step } = input;
      return recordOnce(
        db,
        auditEntryOf(input, SYSTEM, 'approval_step_opened', { revision: input.revision, step: step.index, name: step.name, policy: step.policy, required: step.required, notes: step.notes }),
        async (trx) => {
          if (step.approvers.length === 0) return { result: [] };
          const rows = await trx('approvals')
            .insert(
              step.approvers.map((a) => ({
                subject_type: input.subjectType,
                subject_id: input.subjectId,
                workflow_id: input.workflowId,
                revision: input.revision,
                step_order: step.index,
                step_name: step.name,
                step_policy: step.policy,
                step_required: step.required,
                approver_id: a.approverId,
                delegated_from_id: a.delegatedFromId,
                due_at: input.dueAt,
              })),
            )
            .returning(['id', 'approver_id', 'delegated_from_id']);
          const emails = new Map<string, string>(
            (await trx('people').whereIn('id', rows.map((r) => r.approver_id)).select('id', 'email')).map((p) => [p.id, p.email]),
          );
          return {
            result: rows.map((r) => ({ approvalId: r.id, approverId: r.approver_id, approverEmail: emails.get(r.approver_id), delegatedFromId: r.delegated_from_id })),
          };
        },
      );
    },

    /** Emails an approver their task (or a reminder of it) with a link bound to this approval, signed when it is sent. */
    async sendApprovalTask(input: ApprovalTaskInput): Promise<boolean> {
      const approval = await db('approvals as a')
        .join('people as p', 'p.id', 'a.approver_id')
        .leftJoin('people as d', 'd.id', 'a.delegated_from_id')
        .where('a.id', input.approvalId)
        .first('a.*', 'p.name as approver_name', 'p.email as approver_email', 'd.name as delegated_from_name');
      if (!approval) throw ApplicationFailure.nonRetryable(`approval ${input.approvalId} does not exist`, 'ApprovalNotFound');
      if (approval.state !== 'requested') return false;
      const subject = await describeApprovalSubject(db, approval.subject_type, approval.subject_id);
      if (!subject) throw ApplicationFailure.nonRetryable(`${approval.subject_type} ${approval.subject_id} does not exist`, 'SubjectNotFound');
      const reminder = input.kind === 'reminder';
      const text = [
        `Hello ${approval.approver_name},`,
        '',
        reminder
          ? `A reminder: ${subject.number} still waits for your decision.`
          : `Your approval is requested for ${subject.number}, step ${approval.step_order} "${approval.step_name}".`,
        ...(approval.delegated_from_name ? [`You receive this as the delegate of ${approval.delegated_from_name}.`] : []),
        ...(approval.escalated_from_id ? ['It was escalated to you because the first approver did not answer in time.'] : []),
        '',
        ...summaryText(subject),
        '',
        `Approve or reject (with a comment): ${APPROVAL_LINK_PLACEHOLDER}`,
        `The link is yours alone, works once, and expires at ${(approval.due_at as Date).toISOString()}.`,
        `You can also decide through the API: POST ${publicUrl}${subject.path}/approvals/${approval.id}/decision`,
      ].join('\n');
      await queueEmail(db, {
        idempotencyKey: input.idempotencyKey,
        template: reminder ? 'approval_reminder' : 'approval_task',
        to: [approval.approver_email],
        subject: `${reminder ? 'Reminder: approval' : 'Approval'} needed: ${subject.number} ${subject.title}`,
        text,
        // Signed when the email is sent, so that the outbox stores no live token.
        approvalLinkFor: approval.id,
        subjectType: approval.subject_type,
        subjectId: subject.id,
        workflowId: subject.workflowId,
      });
      if (reminder) await db('approvals').where({ id: approval.id }).whereNull('reminded_at').update({ reminded_at: db.fn.now() });
      return true;
    },

    /** Records a decision on an open approval; returns the approval's state instead when it was no longer open. */
    async recordApprovalDecision(input: RecordDecisionInput): Promise<RecordedDecision> {
      const approval = await db('approvals').where({ id: input.approvalId }).first();
      if (!approval) throw ApplicationFailure.nonRetryable(`approval ${input.approvalId} does not exist`, 'ApprovalNotFound');
      if (approval.state !== 'requested' && approval.state !== input.decision) return { applied: false, state: approval.state };
      return recordOnce(
        db,
        {
          idempotencyKey: input.idempotencyKey,
          actor: input.actor,
          subjectType: approval.subject_type,
          subjectId: approval.subject_id,
          action: `approval_${input.decision}`,
          workflowId: approval.workflow_id,
          details: {
            approvalId: approval.id,
            step: approval.step_order,
            stepName: approval.step_name,
            approverId: approval.approver_id,
            delegatedFromId: approval.delegated_from_id,
            comment: input.comment,
            via: input.via,
          },
        },
        async (trx) => {
          const updated = await trx('approvals')
            .where({ id: input.approvalId, state: 'requested' })
            .update({ state: input.decision, decided_at: trx.fn.now(), comment: input.comment, decided_via: input.via });
          // Escalated a moment ago: roll back, leaving no audit row for a decision that did not count.
          if (updated === 0) throw new ApprovalNoLongerOpen();
          return { result: { applied: true, state: input.decision } };
        },
      ).catch(async (error) => {
        if (!(error instanceof ApprovalNoLongerOpen)) throw error;
        const now = await db('approvals').where({ id: input.approvalId }).first('state');
        return { applied: false, state: now.state as string };
      });
    },

    /** Hands an unanswered approval to the approver's manager; none when there is nobody eligible. */
    async escalateApproval(input: EscalateInput): Promise<OpenedApproval | null> {
      const approval = await db('approvals as a')
        .join('people as p', 'p.id', 'a.approver_id')
        .where('a.id', input.approvalId)
        .first('a.*', 'p.manager_id');
      if (!approval) throw ApplicationFailure.nonRetryable(`approval ${input.approvalId} does not exist`, 'ApprovalNotFound');
      approval.requester_id = await requesterOf(db, approval.subject_type, approval.subject_id);
      return recordOnce(
        db,
        {
          idempotencyKey: input.idempotencyKey,
          actor: SYSTEM,
          subjectType: approval.subject_type,
          subjectId: approval.subject_id,
          action: 'approval_escalated',
          workflowId: approval.workflow_id,
          details: { approvalId: approval.id, step: approval.step_order, from: approval.approver_id },
        },
        async (trx) => {
          const target = escalationTarget(approval.approver_id, { managerOf: { [approval.approver_id]: approval.manager_id }, requesterId: approval.requester_id });
          if (approval.state !== 'requested' || !target) {
            return { result: null, details: { skipped: approval.state !== 'requested' ? `approval is ${approval.state}` : 'the approver has no eligible manager' } };
          }
          const taker = applyDelegation(target, await activeDelegations(trx), approval.requester_id);
          const inStep = await trx('approvals')
            .where({ workflow_id: approval.workflow_id, revision: approval.revision, step_order: approval.step_order, approver_id: taker.approverId })
            .first('id');
          if (inStep) return { result: null, details: { skipped: 'the manager already has a task in this step' } };
          const taken = await trx('approvals').where({ id: approval.id, state: 'requested' }).update({ state: 'escalated', decided_at: trx.fn.now() });
          if (taken === 0) return { result: null, details: { skipped: 'decided just now' } };
          const [row] = await trx('approvals')
            .insert({
              subject_type: approval.subject_type,
              subject_id: approval.subject_id,
              workflow_id: approval.workflow_id,
              revision: approval.revision,
              step_order: approval.step_order,
              step_name: approval.step_name,
              step_policy: approval.step_policy,
              step_required: approval.step_required,
              approver_id: taker.approverId,
              delegated_from_id: taker.delegatedFromId,
              escalated_from_id: approval.id,
              due_at: input.dueAt,
            })
            .returning(['id', 'approver_id', 'delegated_from_id']);
          const approver = await trx('people').where({ id: row.approver_id }).first('email');
          return {
            result: { approvalId: row.id, approverId: row.approver_id, approverEmail: approver.email, delegatedFromId: row.delegated_from_id },
            details: { to: taker.approverId },
          };
        },
      );
    },

    /** Ends the approvals still open in a step (or a whole revision): skipped, cancelled or expired. */
    async closeOpenApprovals(input: CloseApprovalsInput): Promise<number> {
      return recordOnce(
        db,
        auditEntryOf(input, SYSTEM, `approvals_${input.to}`, { revision: input.revision, step: input.step ?? null }),
        async (trx) => {
          const q = trx('approvals').where({ workflow_id: input.workflowId, state: 'requested' });
          if (input.step !== undefined) q.where({ revision: input.revision, step_order: input.step });
          const closed = await q.update({ state: input.to, decided_at: trx.fn.now() });
          return { result: closed };
        },
      );
    },
  };
}

export type ApprovalActivities = ReturnType<typeof createApprovalActivities>;
