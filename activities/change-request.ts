import { ApplicationFailure } from '@temporalio/activity';
import type { Client } from '@temporalio/client';
import type { Knex } from 'knex';
import type { PlannedStep } from '../domain/approval-routing';
import { findAsset } from '../model/assets';
import { registerChangeRow, writeScope } from '../model/changes';
import { assessAndStoreChange } from '../model/change-assessment';
import { effectiveReminderLeadTimes } from '../model/process-settings';
import type { ReminderSettings } from '../workflows/asset-lifecycle/contract';
import {
  ChangeFailure,
  type AssessmentResult,
  type AssetTransitionInput,
  type AssetTransitionResult,
  type ChangeEventInput,
  type NotifyRequesterInput,
  type PlanApprovalsInput,
  type RegisterChangeInput,
  type ScopeRevisionInput,
  type StateChangeInput,
} from '../workflows/change-request/contract';
import { changeApprovers, planFromRules } from '../model/approval-rules';
import { describeApprovalSubject } from '../model/approval-subjects';
import { pageLinks } from '../domain/web-links';
import { recordOnce, registerSubmitted } from './audit';
import { runLifecycleTransition } from './lifecycle-transitions';
import { addresseeTimeZone, queueEmail } from './email';

export interface ChangeRequestActivityDeps {
  db: Knex;
  publicUrl: string;
  /** The organisation's time zone (TIME_ZONE), for requesters without one of their own. */
  timeZone?: string;
  temporal: Client;
  lifecycle: { taskQueue: string; reminders: ReminderSettings };
}

const SYSTEM = 'system:change-workflow';
const SUBJECT = 'change_request';

export function createChangeRequestActivities({ db, publicUrl, timeZone, temporal, lifecycle }: ChangeRequestActivityDeps) {
  const links = pageLinks(publicUrl);

  return {
    /** Registers the change as submitted: the first write of its workflow, and the only insert of its row. */
    async registerChange(input: RegisterChangeInput): Promise<void> {
      await registerSubmitted(
        db,
        { ...input, actor: input.requesterEmail, subjectType: SUBJECT, subjectId: input.changeId, toState: 'new', details: { number: input.number } },
        (trx) => registerChangeRow(trx, input),
        ChangeFailure.submissionRefused,
      );
    },

    /** Computes the impact (one query) and the risk, stores both with the change and returns what routing needs. */
    async assessChange(input: { idempotencyKey: string; workflowId: string; changeId: string; revision: number }): Promise<AssessmentResult> {
      return recordOnce(
        db,
        { ...input, actor: SYSTEM, subjectType: SUBJECT, subjectId: input.changeId, action: 'assessed' },
        async (trx) => {
          const assessed = await assessAndStoreChange(trx, input.changeId);
          if (!assessed) throw ApplicationFailure.nonRetryable(`change request ${input.changeId} does not exist`, 'ChangeNotFound');
          const { impact, risk, subject, model } = assessed;
          const result: AssessmentResult = {
            revision: input.revision,
            plannedStart: impact.schedule.plannedStart,
            riskScore: risk.score,
            riskLevel: risk.level,
            reasons: risk.reasons,
            subject,
            model,
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
          const approvers = await changeApprovers(trx, input.changeId);
          if (!approvers) throw ApplicationFailure.nonRetryable(`change request ${input.changeId} does not exist`, 'ChangeNotFound');
          const { plan, rulesWithUnknownConditions } = await planFromRules(trx, 'change', input.subject, approvers);
          return { result: plan, details: { revision: input.revision, subject: input.subject, steps: plan.length, rulesWithUnknownConditions } };
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
      // An asset without a running workflow gets one with the reminder days saved now (the config's until someone saves them).
      const settings = { taskQueue: lifecycle.taskQueue, reminders: await effectiveReminderLeadTimes(db, lifecycle.reminders) };
      const result = await runLifecycleTransition(temporal, settings, asset, {
        toState: input.action.toState,
        toSubstate: input.action.toSubstate ?? null,
        note: `implemented by change ${change.number}`,
        actor: input.actor,
        requestId: input.idempotencyKey,
      });
      await recordOnce(
        db,
        { ...input, idempotencyKey: `${input.idempotencyKey}:recorded`, subjectType: SUBJECT, subjectId: input.changeId, action: 'asset_transition', details: { ...result, ...input.action } },
        async () => ({ result: null }),
      );
      return result;
    },

    /** Tells the requester: a receipt on submission, the authorization decision, the outcome at closure. */
    async notifyRequester(input: NotifyRequesterInput): Promise<void> {
      const requester = await db('change_requests as c').join('people as r', 'r.id', 'c.requester_id').where('c.id', input.changeId).first('r.email');
      if (!requester) throw ApplicationFailure.nonRetryable(`change request ${input.changeId} does not exist`, 'ChangeNotFound');
      // Its window, in the summary line, as the requester reads times.
      const change = (await describeApprovalSubject(db, SUBJECT, input.changeId, await addresseeTimeZone(db, requester.email, timeZone)))!;
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
      await queueEmail(db, {
        idempotencyKey: input.idempotencyKey,
        template: `change_${notice.kind}`,
        to: [change.requesterEmail],
        subject: subjects[notice.kind],
        text: [`Hello ${change.requesterName},`, '', ...body, '', `${change.number}: ${change.title}`, `${change.meta[0].toUpperCase()}${change.meta.slice(1)}.`, '', `Follow it at ${links.change(change.number)}`].join('\n'),
        subjectType: SUBJECT,
        subjectId: change.id,
        workflowId: input.workflowId,
      });
    },
  };
}

export type ChangeRequestActivities = ReturnType<typeof createChangeRequestActivities>;
