import { ApplicationFailure } from '@temporalio/activity';
import type { Knex } from 'knex';
import {
  applyDelegation,
  escalationTarget,
  handoverTarget,
  type HandoverFacts,
  type PlannedApprover,
} from '../domain/approval-routing';
import { COUNTING_APPROVAL_STATES } from '../domain/approval-reassignment';
import { formatInstant, viewerTimeZone } from '../domain/time-zones';
import { pageLinks } from '../domain/web-links';
import { describeApprovalSubject, requesterOf, summaryText } from '../model/approval-subjects';
import { activeDelegations } from '../model/approvals';
import { processOwners } from '../model/directory';
import type {
  ApprovalTaskInput,
  CloseApprovalsInput,
  EscalateInput,
  HandOverInput,
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
  /** The organisation's time zone (TIME_ZONE), for addressees without one of their own. */
  timeZone?: string;
}

const SYSTEM = 'system:approvals';

class ApprovalNoLongerOpen extends Error {}

class NobodyToTakeOver extends Error {}

/**
 * What handoverTarget needs to replace `approverIds`, read on the caller's transaction. The people
 * it may choose are held (FOR SHARE) until it commits: a deactivation of one of them waits for the
 * new task to exist, and then finds it and moves it on.
 *
 * These locks go in id order (after the planned approvers' in approversStillActive), a
 * deactivation's (or a change of roles') in another: the active admins, then its person (FOR
 * UPDATE). When the two cross, Postgres ends one of them with a deadlock (40P01) after
 * deadlock_timeout. That is no bad data (domain/failure-classes.ts): the loser's activity rolls
 * back whole, with no audit row, and is retried; its retry finds the winner committed.
 */
async function handoverFacts(trx: Knex, approverIds: string[], requesterId: string, inStepIds: string[]): Promise<HandoverFacts> {
  const approvers = await trx('people').whereIn('id', approverIds).select('id', 'manager_id');
  const delegations = await activeDelegations(trx);
  const owners = await processOwners(trx);
  const candidates = [
    ...approvers.map((a) => a.manager_id as string | null).filter((id): id is string => id !== null),
    ...delegations.filter((d) => approverIds.includes(d.delegatorId)).map((d) => d.delegateId),
    ...owners.map((o) => o.id),
  ];
  const active = await trx('people').whereIn('id', candidates).where('active', true).orderBy('id').forShare().pluck('id');
  return {
    requesterId,
    managerOf: Object.fromEntries(approvers.map((a) => [a.id, a.manager_id])),
    delegations,
    processOwnerIds: owners.map((o) => o.id),
    activeIds: active,
    inStepIds,
  };
}

/**
 * A step's planned approvers as they can be asked now: anyone deactivated since the plan was made is
 * replaced as handoverTarget says (kept when nobody is left, so the process owners see whom it waits for).
 */
async function approversStillActive(trx: Knex, input: OpenStepInput): Promise<{ approvers: PlannedApprover[]; replaced: { from: string; to: string; via: string }[] }> {
  const ids = input.step.approvers.map((a) => a.approverId);
  // Held until the step's rows commit, as handoverFacts holds its candidates (see there for a deadlock with a deactivation).
  const active = new Set<string>(await trx('people').whereIn('id', ids).where('active', true).orderBy('id').forShare().pluck('id'));
  const gone = ids.filter((id) => !active.has(id));
  if (gone.length === 0) return { approvers: input.step.approvers, replaced: [] };
  const requesterId = (await requesterOf(trx, input.subjectType, input.subjectId)) ?? '';
  const facts = await handoverFacts(trx, gone, requesterId, ids.filter((id) => active.has(id)));
  const approvers: PlannedApprover[] = [];
  const replaced: { from: string; to: string; via: string }[] = [];
  for (const planned of input.step.approvers) {
    const target = active.has(planned.approverId) ? null : handoverTarget(planned.approverId, facts);
    if (!target) {
      approvers.push(planned);
      continue;
    }
    approvers.push({ approverId: target.approverId, delegatedFromId: target.delegatedFromId });
    facts.inStepIds.push(target.approverId);
    replaced.push({ from: planned.approverId, to: target.approverId, via: target.via });
  }
  return { approvers, replaced };
}

/**
 * The approval that takes over another in the same step (escalated to a manager, or handed over
 * from someone deactivated), naming the one it replaces.
 */
export async function insertReplacement(
  trx: Knex.Transaction,
  replaced: Record<string, unknown>,
  taker: { approverId: string; delegatedFromId: string | null },
  replaces: { escalated_from_id: string } | { reassigned_from_id: string },
  dueAt: string,
): Promise<OpenedApproval> {
  const [row] = await trx('approvals')
    .insert({
      subject_type: replaced.subject_type,
      subject_id: replaced.subject_id,
      workflow_id: replaced.workflow_id,
      revision: replaced.revision,
      step_order: replaced.step_order,
      step_name: replaced.step_name,
      step_policy: replaced.step_policy,
      step_required: replaced.step_required,
      rule_id: replaced.rule_id,
      rule_version: replaced.rule_version,
      approver_id: taker.approverId,
      delegated_from_id: taker.delegatedFromId,
      ...replaces,
      due_at: dueAt,
    })
    .returning(['id', 'approver_id', 'delegated_from_id']);
  const approver = await trx('people').where({ id: row.approver_id }).first('email');
  return { approvalId: row.id, approverId: row.approver_id, approverEmail: approver.email, delegatedFromId: row.delegated_from_id };
}

/** The approval machinery every workflow that asks people to approve shares: steps, tasks, decisions, escalation. */
export function createApprovalActivities({ db, publicUrl, timeZone }: ApprovalActivityDeps) {
  const links = pageLinks(publicUrl);
  return {
    /** Creates one approval row per approver of a step; a step nobody can take is recorded and returns none. */
    async openApprovalStep(input: OpenStepInput): Promise<OpenedApproval[]> {
      const { step } = input;
      return recordOnce(
        db,
        auditEntryOf(input, SYSTEM, 'approval_step_opened', {
          revision: input.revision, step: step.index, name: step.name, ruleId: step.ruleId, ruleVersion: step.ruleVersion ?? null, policy: step.policy, required: step.required, notes: step.notes,
        }),
        async (trx) => {
          if (step.approvers.length === 0) return { result: [] };
          const { approvers, replaced } = await approversStillActive(trx, input);
          const rows = await trx('approvals')
            .insert(
              approvers.map((a) => ({
                subject_type: input.subjectType,
                subject_id: input.subjectId,
                workflow_id: input.workflowId,
                revision: input.revision,
                step_order: step.index,
                step_name: step.name,
                step_policy: step.policy,
                step_required: step.required,
                rule_id: step.ruleId,
                // Absent in steps planned before rules were versioned.
                rule_version: step.ruleVersion ?? null,
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
            ...(replaced.length > 0 ? { details: { replacedInactive: replaced } } : {}),
          };
        },
      );
    },

    /**
     * Emails an approver their task (or a reminder of it) with a link bound to this approval, signed
     * when it is sent. False, and nothing sent, when the approval is no longer open or its approver inactive.
     */
    async sendApprovalTask(input: ApprovalTaskInput): Promise<boolean> {
      const approval = await db('approvals as a')
        .join('people as p', 'p.id', 'a.approver_id')
        .leftJoin('people as d', 'd.id', 'a.delegated_from_id')
        .leftJoin('approvals as moved', 'moved.id', 'a.reassigned_from_id')
        .leftJoin('people as m', 'm.id', 'moved.approver_id')
        .where('a.id', input.approvalId)
        .first('a.*', 'p.name as approver_name', 'p.email as approver_email', 'p.active as approver_active', 'p.time_zone as approver_time_zone', 'd.name as delegated_from_name', 'm.name as moved_from_name', 'm.active as moved_from_active');
      if (!approval) throw ApplicationFailure.nonRetryable(`approval ${input.approvalId} does not exist`, 'ApprovalNotFound');
      // Nobody inactive is mailed: an approver deactivated while the step opened has their task handed
      // over, and its taker is mailed instead.
      if (approval.state !== 'requested' || !approval.approver_active) return false;
      const zone = viewerTimeZone(approval.approver_time_zone, timeZone);
      const subject = await describeApprovalSubject(db, approval.subject_type, approval.subject_id, zone);
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
        // Its approver still active: a process owner moved it by hand (the audit row keeps why).
        ...(approval.moved_from_name && !approval.moved_from_active ? [`It was moved to you because ${approval.moved_from_name} is no longer active.`] : []),
        ...(approval.moved_from_name && approval.moved_from_active ? [`A process owner moved it to you from ${approval.moved_from_name}.`] : []),
        '',
        ...summaryText(subject),
        '',
        `Approve or reject (with a comment): ${APPROVAL_LINK_PLACEHOLDER}`,
        `The link is yours alone, works once, and expires at ${formatInstant(approval.due_at as Date, zone)}.`,
        `You can also decide in your approval inbox once signed in: ${links.inbox()}`,
        ...(subject.page ? [`The request and its history: ${links.of(subject.page)}`] : []),
        '',
        `Times are shown in ${zone}; choose your time zone on your profile: ${links.profile()}`,
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
        .leftJoin('people as m', 'm.id', 'p.manager_id')
        .where('a.id', input.approvalId)
        // A manager no longer active is no manager to escalate to.
        .first('a.*', db.raw('CASE WHEN m.active THEN p.manager_id END AS manager_id'));
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
          // Held until commit, like a handover's taker: a deactivation waits, then moves this task on.
          if (!(await trx('people').where({ id: taker.approverId, active: true }).forShare().first('id'))) {
            return { result: null, details: { skipped: 'the manager is no longer active' } };
          }
          const taken = await trx('approvals').where({ id: approval.id, state: 'requested' }).update({ state: 'escalated', decided_at: trx.fn.now() });
          if (taken === 0) return { result: null, details: { skipped: 'decided just now' } };
          const result = await insertReplacement(trx, approval, taker, { escalated_from_id: approval.id }, input.dueAt);
          return { result, details: { to: taker.approverId } };
        },
      );
    },

    /**
     * Moves an open approval whose approver was deactivated to their delegate, manager or a process
     * owner (handoverTarget): the old row ends as reassigned, the new one names it. Null when the
     * approval is no longer open or its approver is active again, or when nobody can take it: then
     * it stays, and the process owners are told once that it waits on someone inactive. A retry of
     * a move that committed answers the approval it made.
     */
    async handOverApproval(input: HandOverInput): Promise<OpenedApproval | null> {
      const approval = await db('approvals').where({ id: input.approvalId }).first();
      if (!approval) throw ApplicationFailure.nonRetryable(`approval ${input.approvalId} does not exist`, 'ApprovalNotFound');
      const requesterId = (await requesterOf(db, approval.subject_type, approval.subject_id)) ?? '';
      const audited = { subjectType: approval.subject_type, subjectId: approval.subject_id, workflowId: approval.workflow_id, actor: SYSTEM };
      const moved = { approvalId: approval.id, step: approval.step_order, from: approval.approver_id, reason: 'approver_deactivated' };
      // The earlier run is looked up before anything else: a retry of a move that committed (its report
      // lost with a worker) answers the approval it made, though the old one is no longer open.
      return recordOnce(db, { ...audited, idempotencyKey: input.idempotencyKey, action: 'approval_reassigned', details: moved }, async (trx) => {
        // Its approver is active again (reactivated before the handover came round): it stays theirs.
        if ((await trx('people').where({ id: approval.approver_id }).first('active')).active) throw new ApprovalNoLongerOpen();
        const taken = await trx('approvals').where({ id: approval.id, state: 'requested' }).update({ state: 'reassigned', decided_at: trx.fn.now() });
        // Decided or closed meanwhile: roll back, leaving no audit row for a move that did not happen.
        if (taken === 0) throw new ApprovalNoLongerOpen();
        const inStep = await trx('approvals')
          .where({ workflow_id: approval.workflow_id, revision: approval.revision, step_order: approval.step_order })
          .whereIn('state', COUNTING_APPROVAL_STATES)
          .pluck('approver_id');
        const target = handoverTarget(approval.approver_id, await handoverFacts(trx, [approval.approver_id], requesterId, [approval.approver_id, ...inStep]));
        if (!target) throw new NobodyToTakeOver();
        const result = await insertReplacement(trx, approval, target, { reassigned_from_id: approval.id }, input.dueAt);
        return { result, details: { to: target.approverId, via: target.via, newApprovalId: result.approvalId } };
      }).catch(async (error: unknown) => {
        if (error instanceof ApprovalNoLongerOpen) return null;
        if (!(error instanceof NobodyToTakeOver)) throw error;
        // Once per approval, whichever deactivation asked: a later one may find someone and move it.
        const reported = `${input.idempotencyKey}:nobody`;
        await recordOnce(db, { ...audited, idempotencyKey: reported, action: 'approval_handover_found_nobody', details: moved }, async (trx) => {
          const subject = await describeApprovalSubject(trx, approval.subject_type, approval.subject_id);
          const approver = await trx('people').where({ id: approval.approver_id }).first('name', 'email');
          const owners = await processOwners(trx);
          if (subject && owners.length > 0) {
            await queueEmail(trx, {
              idempotencyKey: reported,
              template: 'approval_handover_found_nobody',
              to: owners.map((o) => o.email),
              subject: `Waiting on an inactive approver: ${subject.number} ${subject.title}`,
              text: [
                `${subject.number} waits for ${approver.name} (${approver.email}), who is no longer active,`,
                `in step ${approval.step_order} "${approval.step_name}". Nobody else could take the approval over`,
                '(no active delegate or manager, and every process owner is the requester or asked already).',
                'Decide what to do with it: its process page lets a process owner reassign the approval to someone who can decide.',
                links.process(subject.workflowId),
              ].join('\n'),
              subjectType: approval.subject_type,
              subjectId: subject.id,
              workflowId: subject.workflowId,
            });
          }
          return { result: null, details: { notified: owners.map((o) => o.email) } };
        });
        return null;
      });
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
