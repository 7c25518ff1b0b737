/**
 * The assessment of a change as its workflow stores it: the impact (one query), the risk scored
 * from it, both written on the change row, and what routing needs. The assessChange activity runs
 * it under its audit row; the preview (model/change-preview.ts) runs it on a provisional change in
 * a transaction it rolls back, so that what a requester previews is what the workflow stores.
 */
import type { Knex } from 'knex';
import { changeRoutingSubject, type RoutingSubject } from '../domain/approval-routing';
import type { ChangeImpact, ChangeType } from '../domain/change-impact';
import { riskFactorsOf, scoreChangeRisk, type RiskAssessment, type RiskLevel } from '../domain/change-risk';
import { assessChangeImpact } from './change-impact';

export interface StoredAssessment {
  type: ChangeType;
  impact: ChangeImpact;
  risk: RiskAssessment;
  subject: RoutingSubject;
  /** A standard change's model, whose risk ceiling decides whether anyone is asked to approve. */
  model: { name: string; riskCeiling: RiskLevel } | null;
}

/**
 * Assesses the change and stores the impact and risk with it; undefined when there is no such
 * change. `sameChangeAs` names a change this one stands in for (a revision previewed on a copy),
 * so that it is not counted as the copy's own schedule conflict.
 */
export async function assessAndStoreChange(trx: Knex.Transaction, changeId: string, options: { sameChangeAs?: string } = {}): Promise<StoredAssessment | undefined> {
  const change = await trx('change_requests as c')
    .leftJoin('change_models as m', 'm.id', 'c.change_model_id')
    .where('c.id', changeId)
    .first('c.type', 'c.one_off_cost_minor', 'c.recurring_cost_minor', 'm.name as model_name', 'm.risk_ceiling');
  if (!change) return undefined;
  const assessed = await assessChangeImpact(trx, changeId);
  const impact = options.sameChangeAs
    ? { ...assessed, schedule: { ...assessed.schedule, conflicts: assessed.schedule.conflicts.filter((c) => c.changeId !== options.sameChangeAs) } }
    : assessed;
  const risk = scoreChangeRisk(riskFactorsOf(impact, change.type));
  await trx('change_requests')
    .where({ id: changeId })
    .update({ impact: JSON.stringify({ ...impact, risk }), risk_score: risk.score, risk_level: risk.level, updated_at: trx.fn.now() });
  const subject = changeRoutingSubject({
    type: change.type,
    riskLevel: risk.level,
    highestCriticality: impact.services.highestCriticality,
    oneOffCostMinor: change.one_off_cost_minor,
    recurringCostMinor: change.recurring_cost_minor,
    overBudget: impact.money.overBudget,
  });
  const model = change.type === 'standard' && change.model_name ? { name: change.model_name as string, riskCeiling: change.risk_ceiling as RiskLevel } : null;
  return { type: change.type, impact, risk, subject, model };
}
