import type { Knex } from 'knex';
import type { ChangeImpact, ChangeType } from '../domain/change-impact';
import type { RiskAssessment, RiskLevel } from '../domain/change-risk';
import type { ChangeState, CloseCode } from '../workflows/change-request/contract';

export interface ChangeRow {
  id: string;
  number: string;
  type: ChangeType;
  change_model_id: string | null;
  state: ChangeState;
  close_code: CloseCode | null;
  requester_id: string;
  cost_centre_id: string | null;
  title: string;
  description: string;
  planned_start: Date | null;
  planned_end: Date | null;
  one_off_cost_minor: number;
  recurring_cost_minor: number;
  currency: string;
  impact: (ChangeImpact & { risk: RiskAssessment }) | null;
  risk_score: number | null;
  risk_level: RiskLevel | null;
  workflow_id: string;
  revision: number;
  implementation: Record<string, unknown> | null;
  review: Record<string, unknown> | null;
  approved_at: Date | null;
  closed_at: Date | null;
  created_at: Date;
  updated_at: Date;
}

export interface Change {
  id: string;
  number: string;
  type: ChangeType;
  changeModelId: string | null;
  state: ChangeState;
  closeCode: CloseCode | null;
  requesterId: string;
  costCentreId: string | null;
  title: string;
  description: string;
  plannedStart: string | null;
  plannedEnd: string | null;
  oneOffCostMinor: number;
  recurringCostMinor: number;
  currency: string;
  riskScore: number | null;
  riskLevel: RiskLevel | null;
  workflowId: string;
  revision: number;
  implementation: Record<string, unknown> | null;
  review: Record<string, unknown> | null;
  approvedAt: string | null;
  closedAt: string | null;
  createdAt: string;
  updatedAt: string;
}

const iso = (d: Date | null) => (d ? d.toISOString() : null);

export function toChange(row: ChangeRow): Change {
  return {
    id: row.id,
    number: row.number,
    type: row.type,
    changeModelId: row.change_model_id,
    state: row.state,
    closeCode: row.close_code,
    requesterId: row.requester_id,
    costCentreId: row.cost_centre_id,
    title: row.title,
    description: row.description,
    plannedStart: iso(row.planned_start),
    plannedEnd: iso(row.planned_end),
    oneOffCostMinor: row.one_off_cost_minor,
    recurringCostMinor: row.recurring_cost_minor,
    currency: row.currency,
    riskScore: row.risk_score,
    riskLevel: row.risk_level,
    workflowId: row.workflow_id,
    revision: row.revision,
    implementation: row.implementation,
    review: row.review,
    approvedAt: iso(row.approved_at),
    closedAt: iso(row.closed_at),
    createdAt: row.created_at.toISOString(),
    updatedAt: row.updated_at.toISOString(),
  };
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** By id or by number (CHG0001001). */
export async function findChangeRow(db: Knex, idOrNumber: string): Promise<ChangeRow | undefined> {
  return db<ChangeRow>('change_requests')
    .where(UUID.test(idOrNumber) ? { id: idOrNumber } : { number: idOrNumber.toUpperCase() })
    .first();
}

export interface ApprovalRecord {
  id: string;
  revision: number;
  step: number;
  stepName: string;
  stepPolicy: string;
  stepRequired: number;
  approver: { id: string; name: string; email: string };
  delegatedFrom: { id: string; name: string } | null;
  escalatedFromId: string | null;
  state: string;
  dueAt: string | null;
  decidedAt: string | null;
  decidedVia: string | null;
  comment: string | null;
  remindedAt: string | null;
}

export async function approvalsOf(db: Knex, subjectId: string): Promise<ApprovalRecord[]> {
  const rows = await db('approvals as a')
    .join('people as p', 'p.id', 'a.approver_id')
    .leftJoin('people as d', 'd.id', 'a.delegated_from_id')
    .where('a.subject_id', subjectId)
    .orderBy(['a.revision', 'a.step_order', 'a.created_at', 'p.name'])
    .select('a.*', 'p.name as approver_name', 'p.email as approver_email', 'd.name as delegated_from_name');
  return rows.map((r) => ({
    id: r.id,
    revision: r.revision,
    step: r.step_order,
    stepName: r.step_name,
    stepPolicy: r.step_policy,
    stepRequired: r.step_required,
    approver: { id: r.approver_id, name: r.approver_name, email: r.approver_email },
    delegatedFrom: r.delegated_from_id ? { id: r.delegated_from_id, name: r.delegated_from_name } : null,
    escalatedFromId: r.escalated_from_id,
    state: r.state,
    dueAt: iso(r.due_at),
    decidedAt: iso(r.decided_at),
    decidedVia: r.decided_via,
    comment: r.comment,
    remindedAt: iso(r.reminded_at),
  }));
}

/** The change with its scope, stored impact, approvals and history: what a person reads about it. */
export async function changeDetail(db: Knex, row: ChangeRow) {
  const [requester, model, costCentre, affectedCis, assetActions, licenceChanges, approvals, history] = await Promise.all([
    db('people').where({ id: row.requester_id }).first('id', 'name', 'email'),
    row.change_model_id ? db('change_models').where({ id: row.change_model_id }).first('id', 'name', 'risk_ceiling as riskCeiling') : null,
    row.cost_centre_id ? db('cost_centres').where({ id: row.cost_centre_id }).first('id', 'code', 'name') : null,
    db('change_affected_cis as a').join('configuration_items as ci', 'ci.id', 'a.ci_id').where('a.change_request_id', row.id)
      .orderBy('ci.number').select('ci.id', 'ci.number', 'ci.name', 'ci.ci_class as ciClass'),
    db('change_asset_actions as x').join('assets as a', 'a.id', 'x.asset_id').where('x.change_request_id', row.id)
      .orderBy('a.asset_tag').select('a.id as assetId', 'a.asset_tag as assetTag', 'a.state as currentState', 'x.to_state as toState', 'x.to_substate as toSubstate'),
    db('change_licence_changes as l').join('software_products as p', 'p.id', 'l.product_id').where('l.change_request_id', row.id)
      .select('p.id as productId', 'p.publisher', 'p.name as product', 'l.installs_added as installsAdded', 'l.installs_removed as installsRemoved'),
    approvalsOf(db, row.id),
    db('audit_log').where({ subject_type: 'change_request', subject_id: row.id }).orderBy('id')
      .select('occurred_at as occurredAt', 'actor', 'action', 'from_state as fromState', 'to_state as toState', 'details'),
  ]);
  const { risk, ...impact } = row.impact ?? { risk: null };
  return {
    ...toChange(row),
    requester,
    model,
    costCentre,
    affectedCis,
    assetActions,
    licenceChanges,
    risk,
    impact: row.impact ? impact : null,
    approvals,
    history: history.map(({ details, ...entry }) => ({ ...entry, details: stripResult(details) })),
  };
}

/** Audit details carry the activity's stored result for idempotency; readers want the facts only. */
export function stripResult(details: Record<string, unknown>): Record<string, unknown> {
  const { result: _result, ...facts } = details;
  return facts;
}
