import { ApplicationFailure } from '@temporalio/activity';
import { WithStartWorkflowOperation, WorkflowUpdateFailedError, type Client } from '@temporalio/client';
import type { Knex } from 'knex';
import {
  applyDelegation,
  escalationTarget,
  planApprovalSteps,
  unknownConditionKeys,
  type ApprovalRule,
  type PlannedStep,
} from '../domain/approval-routing';
import type { ChangeImpact } from '../domain/change-impact';
import { riskFactorsOf, scoreChangeRisk, type RiskLevel } from '../domain/change-risk';
import { impactSummaryLines } from '../domain/impact-summary';
import { findAsset } from '../model/assets';
import { assessChangeImpact } from '../model/change-impact';
import { signApprovalToken } from '../platform/approval-links';
import type { Mailer } from '../platform/mailer';
import { transitionUpdate, LifecycleFailure, type ReminderSettings } from '../workflows/asset-lifecycle/contract';
import { lifecycleStartOptions } from '../workflows/asset-lifecycle/start';
import type {
  ApprovalTaskInput,
  AssessmentResult,
  AssetTransitionInput,
  AssetTransitionResult,
  ChangeEventInput,
  CloseApprovalsInput,
  EscalateInput,
  NotifyRequesterInput,
  OpenStepInput,
  OpenedApproval,
  PlanApprovalsInput,
  RecordDecisionInput,
  ScopeRevisionInput,
  StateChangeInput,
} from '../workflows/change-request/contract';
import { recordOnce } from './audit';
import { deliverEmail } from './email';

export interface ChangeRequestActivityDeps {
  db: Knex;
  mailer: Mailer;
  publicUrl: string;
  approvalLinkSecret: string;
  temporal: Client;
  lifecycle: { taskQueue: string; reminders: ReminderSettings };
}

const SYSTEM = 'system:change-workflow';
const SUBJECT = 'change_request';

interface ChangeForMail {
  id: string;
  number: string;
  title: string;
  description: string;
  type: string;
  state: string;
  requester_id: string;
  requester_name: string;
  requester_email: string;
  planned_start: Date | null;
  planned_end: Date | null;
  risk_score: number | null;
  risk_level: RiskLevel | null;
  impact: (ChangeImpact & { risk?: { reasons: { text: string; points: number }[] } }) | null;
  workflow_id: string;
}

async function changeForMail(db: Knex, changeId: string): Promise<ChangeForMail> {
  const row = await db('change_requests as c')
    .join('people as r', 'r.id', 'c.requester_id')
    .where('c.id', changeId)
    .first('c.*', 'r.name as requester_name', 'r.email as requester_email');
  if (!row) throw ApplicationFailure.nonRetryable(`change request ${changeId} does not exist`, 'ChangeNotFound');
  return row as ChangeForMail;
}

const window = (c: ChangeForMail) =>
  c.planned_start ? `${c.planned_start.toISOString()} to ${c.planned_end?.toISOString() ?? 'open'}` : 'as soon as approved';

function changeSummary(change: ChangeForMail): string[] {
  const reasons = change.impact?.risk?.reasons ?? [];
  return [
    `${change.number} (${change.type} change): ${change.title}`,
    `Requested by ${change.requester_name} <${change.requester_email}>; window: ${window(change)}.`,
    '',
    change.description,
    '',
    `Risk: ${change.risk_level ?? 'not assessed'}${change.risk_score === null ? '' : ` (score ${change.risk_score})`}`,
    ...reasons.map((r) => `  - ${r.text} (+${r.points})`),
    '',
    'Impact:',
    ...(change.impact ? impactSummaryLines(change.impact).map((line) => `  - ${line}`) : ['  - not assessed yet']),
  ];
}

export function createChangeRequestActivities({ db, mailer, publicUrl, approvalLinkSecret, temporal, lifecycle }: ChangeRequestActivityDeps) {
  const changeLink = (number: string) => `${publicUrl}/changes/${number}`;

  return {
    /** Computes the impact (one query) and the risk, stores both with the change and returns what routing needs. */
    async assessChange(input: { idempotencyKey: string; workflowId: string; changeId: string; revision: number }): Promise<AssessmentResult> {
      return recordOnce(
        db,
        { ...input, actor: SYSTEM, subjectType: SUBJECT, subjectId: input.changeId, action: 'assessed' },
        async (trx) => {
          const change = await trx('change_requests as c')
            .leftJoin('change_models as m', 'm.id', 'c.change_model_id')
            .where('c.id', input.changeId)
            .first('c.type', 'c.one_off_cost_minor', 'c.recurring_cost_minor', 'm.name as model_name', 'm.risk_ceiling');
          if (!change) throw ApplicationFailure.nonRetryable(`change request ${input.changeId} does not exist`, 'ChangeNotFound');
          const impact = await assessChangeImpact(trx, input.changeId);
          const risk = scoreChangeRisk(riskFactorsOf(impact, change.type));
          await trx('change_requests')
            .where({ id: input.changeId })
            .update({ impact: JSON.stringify({ ...impact, risk }), risk_score: risk.score, risk_level: risk.level, updated_at: trx.fn.now() });
          const result: AssessmentResult = {
            revision: input.revision,
            plannedStart: impact.schedule.plannedStart,
            riskScore: risk.score,
            riskLevel: risk.level,
            reasons: risk.reasons,
            subject: {
              changeType: change.type,
              riskLevel: risk.level,
              highestCriticality: impact.services.highestCriticality,
              costMinor: change.one_off_cost_minor + change.recurring_cost_minor,
              overBudget: impact.money.overBudget,
            },
            model: change.type === 'standard' && change.model_name ? { name: change.model_name, riskCeiling: change.risk_ceiling } : null,
            declaredTransitions: impact.assets.declaredTransitions.map((t) => ({ assetId: t.assetId, toState: t.toState, toSubstate: t.toSubstate })),
          };
          return { result, details: { revision: input.revision, riskScore: risk.score, riskLevel: risk.level } };
        },
      );
    },

    /** Resolves the approval rules that apply to who approves each step, once per scope revision. */
    async planApprovals(input: PlanApprovalsInput): Promise<PlannedStep[]> {
      return recordOnce(
        db,
        { ...input, actor: SYSTEM, subjectType: SUBJECT, subjectId: input.changeId, action: 'approvals_planned' },
        async (trx) => {
          const change = await trx('change_requests as c')
            .join('people as r', 'r.id', 'c.requester_id')
            .leftJoin('cost_centres as cc', 'cc.id', 'c.cost_centre_id')
            .where('c.id', input.changeId)
            .first('c.requester_id', 'r.manager_id', 'cc.owner_id as cost_centre_owner_id', 'c.impact');
          const impact = change.impact as ChangeImpact;
          const ruleRows = await trx('approval_rules').where({ process: 'change', active: true }).orderBy(['step_order', 'name']);
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
          // One connection in a transaction: these run one after another.
          const members = await trx('group_members as gm').join('people as p', 'p.id', 'gm.person_id').whereIn('gm.group_id', groupIds)
            .where('p.active', true).orderBy('p.name').select('gm.group_id', 'p.id');
          const assetOwners = await trx('assets').whereIn('id', impact.assets.behindCis.map((a) => a.assetId)).whereNotNull('managed_by_id')
            .distinct('managed_by_id');
          const delegations = await activeDelegations(trx);
          const processOwners = await trx('person_roles as pr').join('people as p', 'p.id', 'pr.person_id')
            .where({ 'pr.role': 'process_owner', 'p.active': true }).orderBy('p.name').select('p.id');
          const groupMembers: Record<string, string[]> = {};
          for (const m of members) (groupMembers[m.group_id] ??= []).push(m.id);
          const plan = planApprovalSteps(rules, input.subject, {
            requesterId: change.requester_id,
            managerOf: { [change.requester_id]: change.manager_id },
            costCentreOwnerId: change.cost_centre_owner_id,
            assetOwnerIds: assetOwners.map((a) => a.managed_by_id),
            serviceOwnerIds: impact.services.businessServices.map((s) => s.ownerId).filter((id): id is string => id !== null),
            groupMembers,
            delegations,
            fallbackApproverIds: processOwners.map((p) => p.id),
          });
          const badRules = rules.filter((r) => unknownConditionKeys(r.appliesWhen).length > 0).map((r) => r.name);
          return { result: plan, details: { revision: input.revision, subject: input.subject, steps: plan.length, rulesWithUnknownConditions: badRules } };
        },
      );
    },

    /** Creates one approval row per approver of a step; a step nobody can take is recorded and returns none. */
    async openApprovalStep(input: OpenStepInput): Promise<OpenedApproval[]> {
      const { step } = input;
      return recordOnce(
        db,
        {
          ...input,
          actor: SYSTEM,
          subjectType: SUBJECT,
          subjectId: input.changeId,
          action: 'approval_step_opened',
          details: { revision: input.revision, step: step.index, name: step.name, policy: step.policy, required: step.required, notes: step.notes },
        },
        async (trx) => {
          if (step.approvers.length === 0) return { result: [] };
          const rows = await trx('approvals')
            .insert(
              step.approvers.map((a) => ({
                subject_type: SUBJECT,
                subject_id: input.changeId,
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
          return { result: rows.map((r) => ({ approvalId: r.id, approverId: r.approver_id, delegatedFromId: r.delegated_from_id })) };
        },
      );
    },

    /** Emails an approver their task (or a reminder of it) with a signed link bound to this approval. */
    async sendApprovalTask(input: ApprovalTaskInput): Promise<boolean> {
      const approval = await db('approvals as a')
        .join('people as p', 'p.id', 'a.approver_id')
        .leftJoin('people as d', 'd.id', 'a.delegated_from_id')
        .where('a.id', input.approvalId)
        .first('a.*', 'p.name as approver_name', 'p.email as approver_email', 'd.name as delegated_from_name');
      if (!approval) throw ApplicationFailure.nonRetryable(`approval ${input.approvalId} does not exist`, 'ApprovalNotFound');
      if (approval.state !== 'requested') return false;
      const change = await changeForMail(db, approval.subject_id);
      const token = signApprovalToken(approvalLinkSecret, {
        approvalId: approval.id,
        approverId: approval.approver_id,
        workflowId: approval.workflow_id,
        revision: approval.revision,
        step: approval.step_order,
        expiresAt: (approval.due_at as Date).getTime(),
      });
      const link = `${publicUrl}/approvals/${approval.id}?token=${token}`;
      const reminder = input.kind === 'reminder';
      const text = [
        `Hello ${approval.approver_name},`,
        '',
        reminder
          ? `A reminder: ${change.number} still waits for your decision.`
          : `Your approval is requested for ${change.number}, step ${approval.step_order} "${approval.step_name}".`,
        ...(approval.delegated_from_name ? [`You receive this as the delegate of ${approval.delegated_from_name}.`] : []),
        ...(approval.escalated_from_id ? ['It was escalated to you because the first approver did not answer in time.'] : []),
        '',
        ...changeSummary(change),
        '',
        `Approve or reject (with a comment): ${link}`,
        `The link is yours alone, works once, and expires at ${(approval.due_at as Date).toISOString()}.`,
        `You can also decide through the API: POST ${publicUrl}/changes/${change.number}/approvals/${approval.id}/decision`,
      ].join('\n');
      await deliverEmail(db, mailer, {
        idempotencyKey: input.idempotencyKey,
        template: reminder ? 'approval_reminder' : 'approval_task',
        to: [approval.approver_email],
        subject: `${reminder ? 'Reminder: approval' : 'Approval'} needed: ${change.number} ${change.title}`,
        text,
        subjectType: SUBJECT,
        subjectId: change.id,
        workflowId: change.workflow_id,
      });
      if (reminder) await db('approvals').where({ id: approval.id }).whereNull('reminded_at').update({ reminded_at: db.fn.now() });
      return true;
    },

    /** Records a decision on an open approval; returns the approval's state instead when it was no longer open. */
    async recordApprovalDecision(input: RecordDecisionInput): Promise<{ applied: boolean; state: string }> {
      const approval = await db('approvals').where({ id: input.approvalId }).first();
      if (!approval) throw ApplicationFailure.nonRetryable(`approval ${input.approvalId} does not exist`, 'ApprovalNotFound');
      if (approval.state !== 'requested' && approval.state !== input.decision) return { applied: false, state: approval.state };
      return recordOnce(
        db,
        {
          idempotencyKey: input.idempotencyKey,
          actor: input.actor,
          subjectType: SUBJECT,
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
        .join('change_requests as c', 'c.id', 'a.subject_id')
        .where('a.id', input.approvalId)
        .first('a.*', 'p.manager_id', 'c.requester_id');
      if (!approval) throw ApplicationFailure.nonRetryable(`approval ${input.approvalId} does not exist`, 'ApprovalNotFound');
      return recordOnce(
        db,
        {
          idempotencyKey: input.idempotencyKey,
          actor: SYSTEM,
          subjectType: SUBJECT,
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
          return {
            result: { approvalId: row.id, approverId: row.approver_id, delegatedFromId: row.delegated_from_id },
            details: { to: taker.approverId },
          };
        },
      );
    },

    /** Ends the approvals still open in a step (or a whole revision): skipped, cancelled or expired. */
    async closeOpenApprovals(input: CloseApprovalsInput): Promise<number> {
      return recordOnce(
        db,
        { ...input, actor: SYSTEM, subjectType: SUBJECT, subjectId: input.changeId, action: `approvals_${input.to}`, details: { revision: input.revision, step: input.step ?? null } },
        async (trx) => {
          const q = trx('approvals').where({ workflow_id: input.workflowId, state: 'requested' });
          if (input.step !== undefined) q.where({ revision: input.revision, step_order: input.step });
          const closed = await q.update({ state: input.to, decided_at: trx.fn.now() });
          return { result: closed };
        },
      );
    },

    /** Projects the workflow's state onto the change row, with its audit row. */
    async recordChangeState(input: StateChangeInput): Promise<void> {
      await recordOnce(
        db,
        { ...input, subjectType: SUBJECT, subjectId: input.changeId, action: 'state_changed', fromState: input.from, toState: input.to, details: { ...input.details, closeCode: input.closeCode ?? null } },
        async (trx) => {
          await trx('change_requests')
            .where({ id: input.changeId })
            .update({
              state: input.to,
              close_code: input.closeCode ?? null,
              updated_at: trx.fn.now(),
              ...(input.to === 'scheduled' ? { approved_at: trx.fn.now() } : {}),
              ...(input.to === 'closed' ? { closed_at: trx.fn.now() } : {}),
            });
          return { result: null };
        },
      );
    },

    /** Records an event of the change that is not a state change: approved by its model, implementation, review. */
    async recordChangeEvent(input: ChangeEventInput): Promise<void> {
      await recordOnce(db, { ...input, subjectType: SUBJECT, subjectId: input.changeId }, async (trx) => {
        const at = new Date().toISOString();
        if (input.action.startsWith('implementation_')) {
          await trx('change_requests')
            .where({ id: input.changeId })
            .update({
              implementation: trx.raw(`COALESCE(implementation, '{}'::jsonb) || ?::jsonb`, [
                JSON.stringify({ [input.action.replace('implementation_', '')]: { ...input.details, by: input.actor, at } }),
              ]),
              updated_at: trx.fn.now(),
            });
        } else if (input.action === 'reviewed') {
          await trx('change_requests').where({ id: input.changeId }).update({ review: { ...input.details, by: input.actor, at }, updated_at: trx.fn.now() });
        }
        return { result: null };
      });
    },

    /** Writes a new scope for the change; what the revision leaves out stays as it was. */
    async reviseChangeScope(input: ScopeRevisionInput): Promise<void> {
      const { scope } = input;
      await recordOnce(
        db,
        { ...input, actor: scope.actorEmail, subjectType: SUBJECT, subjectId: input.changeId, action: 'scope_revised', details: { revision: input.revision, scope } },
        async (trx) => {
          await trx('change_requests')
            .where({ id: input.changeId })
            .update({
              revision: input.revision,
              updated_at: trx.fn.now(),
              ...(scope.title !== undefined ? { title: scope.title } : {}),
              ...(scope.description !== undefined ? { description: scope.description } : {}),
              ...(scope.plannedStart !== undefined ? { planned_start: scope.plannedStart } : {}),
              ...(scope.plannedEnd !== undefined ? { planned_end: scope.plannedEnd } : {}),
              ...(scope.oneOffCostMinor !== undefined ? { one_off_cost_minor: scope.oneOffCostMinor } : {}),
              ...(scope.recurringCostMinor !== undefined ? { recurring_cost_minor: scope.recurringCostMinor } : {}),
            });
          await writeScope(trx, input.changeId, scope);
          return { result: null };
        },
      );
    },

    /** Runs a transition the change declared through the asset's lifecycle workflow; a refusal is reported, not thrown. */
    async runAssetTransition(input: AssetTransitionInput): Promise<AssetTransitionResult> {
      const asset = await findAsset(db, input.action.assetId);
      if (!asset) return { assetId: input.action.assetId, ok: false, message: 'the asset no longer exists' };
      const change = await db('change_requests').where({ id: input.changeId }).first('number');
      let result: AssetTransitionResult;
      try {
        await temporal.workflow.executeUpdateWithStart(transitionUpdate, {
          args: [{
            toState: input.action.toState as never,
            toSubstate: (input.action.toSubstate ?? undefined) as never,
            note: `implemented by change ${change.number}`,
            requestedBy: input.actor,
            requestId: input.idempotencyKey,
          }],
          updateId: input.idempotencyKey,
          startWorkflowOperation: new WithStartWorkflowOperation('assetLifecycleWorkflow', lifecycleStartOptions(asset, lifecycle)),
        });
        result = { assetId: asset.id, ok: true, message: `${asset.assetTag} moved to ${input.action.toState}` };
      } catch (error) {
        const refusal = refusalOf(error);
        if (!refusal) throw error;
        result = { assetId: asset.id, ok: false, message: `${asset.assetTag}: ${refusal}` };
      }
      await recordOnce(
        db,
        { ...input, idempotencyKey: `${input.idempotencyKey}:recorded`, subjectType: SUBJECT, subjectId: input.changeId, action: 'asset_transition', details: { ...result, ...input.action } },
        async () => ({ result: null }),
      );
      return result;
    },

    /** Tells the requester: a receipt on submission, the authorization decision, the outcome at closure. */
    async notifyRequester(input: NotifyRequesterInput): Promise<void> {
      const change = await changeForMail(db, input.changeId);
      const { notice } = input;
      const subjects = {
        receipt: `Received: ${change.number} ${change.title}`,
        decision: `${notice.kind === 'decision' && notice.decision === 'approved' ? 'Approved' : 'Rejected'}: ${change.number} ${change.title}`,
        outcome: `Closed (${notice.kind === 'outcome' ? notice.closeCode.replace(/_/g, ' ') : ''}): ${change.number} ${change.title}`,
      };
      const body =
        notice.kind === 'receipt'
          ? ['Your change request was received. It is assessed now; you will hear when it is approved or rejected.']
          : notice.kind === 'decision'
            ? [`Your change request was ${notice.decision}: ${notice.detail}.`]
            : [`Your change request is closed as ${notice.closeCode.replace(/_/g, ' ')}.`, `Note: ${notice.detail}`];
      await deliverEmail(db, mailer, {
        idempotencyKey: input.idempotencyKey,
        template: `change_${notice.kind}`,
        to: [change.requester_email],
        subject: subjects[notice.kind],
        text: [`Hello ${change.requester_name},`, '', ...body, '', `Follow it at ${changeLink(change.number)}`].join('\n'),
        subjectType: SUBJECT,
        subjectId: change.id,
        workflowId: input.workflowId,
      });
    },
  };
}

class ApprovalNoLongerOpen extends Error {}

function activeDelegations(db: Knex): Promise<{ delegatorId: string; delegateId: string }[]> {
  return db('delegations')
    .where('starts_at', '<=', db.fn.now())
    .where('ends_at', '>', db.fn.now())
    .orderBy('starts_at')
    .select('delegator_id as delegatorId', 'delegate_id as delegateId');
}

/** Replaces the parts of a change's scope that a new scope names. */
export async function writeScope(
  trx: Knex.Transaction,
  changeId: string,
  scope: Pick<ScopeRevisionInput['scope'], 'affectedCiIds' | 'assetActions' | 'licenceChanges'>,
): Promise<void> {
  if (scope.affectedCiIds) {
    await trx('change_affected_cis').where({ change_request_id: changeId }).delete();
    if (scope.affectedCiIds.length) {
      await trx('change_affected_cis').insert([...new Set(scope.affectedCiIds)].map((ci) => ({ change_request_id: changeId, ci_id: ci })));
    }
  }
  if (scope.assetActions) {
    await trx('change_asset_actions').where({ change_request_id: changeId }).delete();
    if (scope.assetActions.length) {
      await trx('change_asset_actions').insert(
        scope.assetActions.map((a) => ({ change_request_id: changeId, asset_id: a.assetId, to_state: a.toState, to_substate: a.toSubstate ?? null })),
      );
    }
  }
  if (scope.licenceChanges) {
    await trx('change_licence_changes').where({ change_request_id: changeId }).delete();
    if (scope.licenceChanges.length) {
      await trx('change_licence_changes').insert(
        scope.licenceChanges.map((l) => ({ change_request_id: changeId, product_id: l.productId, installs_added: l.installsAdded, installs_removed: l.installsRemoved })),
      );
    }
  }
}

function refusalOf(error: unknown): string | undefined {
  if (!(error instanceof WorkflowUpdateFailedError)) return undefined;
  let cause: unknown = error.cause;
  while (cause instanceof Error && !(cause instanceof ApplicationFailure)) cause = cause.cause;
  return cause instanceof ApplicationFailure && cause.type === LifecycleFailure.transitionRefused ? cause.message : undefined;
}

export type ChangeRequestActivities = ReturnType<typeof createChangeRequestActivities>;
