/**
 * What the assessment of a change would say before it is submitted: the impact, the risk with its
 * reasons and who would be asked to approve. It runs the workflow's own steps (registerChangeRow,
 * then assessAndStoreChange as assessChange does, then changeApprovers and planFromRules as
 * planApprovals does) on a provisional change inside one transaction that is always rolled back:
 * nothing is written, no change number is taken and no stored change is touched.
 */
import { randomUUID } from 'node:crypto';
import type { Knex } from 'knex';
import type { RoutingSubject } from '../domain/approval-routing';
import type { ChangeImpact, ChangeType } from '../domain/change-impact';
import { isRiskAbove, type RiskAssessment, type RiskLevel } from '../domain/change-risk';
import type { ChangeSubmission } from '../domain/change-request';
import { changeApprovers, planFromRules } from './approval-rules';
import { assessAndStoreChange } from './change-assessment';
import { registerChangeRow } from './changes';

export interface PreviewApprovalStep {
  step: number;
  name: string;
  policy: string;
  required: number;
  approvers: { name: string; delegatedFrom: string | null }[];
  notes: string[];
}

export interface ChangePreview {
  impact: ChangeImpact;
  risk: RiskAssessment;
  subject: RoutingSubject;
  /** A standard change within its model's risk ceiling is approved by the model, and nobody is asked. */
  approvedByModel: { name: string; riskCeiling: RiskLevel } | null;
  approvalSteps: PreviewApprovalStep[];
}

/** Thrown inside the preview's transaction so that knex rolls it back; never leaves this module. */
class PreviewDone extends Error {
  constructor(readonly preview: ChangePreview) {
    super('preview done');
  }
}

/**
 * The preview of a change not submitted yet, or of a revision of the change `revising`: the
 * revised scope on a provisional copy, so that the change itself is neither locked nor written,
 * and not counted as the copy's schedule conflict.
 */
export async function previewChange(
  db: Knex,
  input: { type: ChangeType; requesterId: string; submission: ChangeSubmission; revising?: string },
): Promise<ChangePreview> {
  const changeId = randomUUID();
  try {
    await db.transaction(async (trx) => {
      // Its number and workflow id are never seen, as the transaction is rolled back.
      await registerChangeRow(trx, {
        changeId,
        number: `PREVIEW-${changeId}`,
        workflowId: `preview:${changeId}`,
        type: input.type,
        requesterId: input.requesterId,
        submission: input.submission,
      });
      // planApprovals reads the owners from the stored impact, so the preview stores it too.
      const { impact, risk, subject, model } = (await assessAndStoreChange(trx, changeId, { sameChangeAs: input.revising }))!;
      const approvedByModel = model && !isRiskAbove(risk.level, model.riskCeiling) ? model : null;
      const approvalSteps = approvedByModel ? [] : await plannedSteps(trx, changeId, subject);
      throw new PreviewDone({ impact, risk, subject, approvedByModel, approvalSteps });
    });
  } catch (error) {
    if (error instanceof PreviewDone) return error.preview;
    throw error;
  }
  throw new Error('the change preview ended without an answer');
}

async function plannedSteps(trx: Knex.Transaction, changeId: string, subject: RoutingSubject): Promise<PreviewApprovalStep[]> {
  const approvers = await changeApprovers(trx, changeId);
  if (!approvers) return [];
  const { plan } = await planFromRules(trx, 'change', subject, approvers);
  const ids = plan.flatMap((s) => s.approvers.flatMap((a) => [a.approverId, a.delegatedFromId])).filter((id): id is string => id !== null);
  const names = new Map<string, string>((await trx('people').whereIn('id', ids).select('id', 'name')).map((p) => [p.id, p.name]));
  return plan.map((s) => ({
    step: s.index,
    name: s.name,
    policy: s.policy,
    required: s.required,
    approvers: s.approvers.map((a) => ({ name: names.get(a.approverId) ?? a.approverId, delegatedFrom: a.delegatedFromId ? names.get(a.delegatedFromId) ?? a.delegatedFromId : null })),
    notes: s.notes,
  }));
}
