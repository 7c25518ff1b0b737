import type { Knex } from 'knex';
import type { ChangeImpact, ChangeType } from '../domain/change-impact';
import type { RiskAssessment, RiskLevel } from '../domain/change-risk';
import type { ChangeState, ChangeSubmission, CloseCode } from '../domain/change-request';
import { approvalsOf } from './approvals';
import { likeContaining } from './directory';
import { byIdOrKey, nextBusinessKey } from './keys';
import { paginate, type Page } from './page';
import { serviceDependencies } from './service-map';

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

/** By id or by number (CHG0001001). */
export async function findChangeRow(db: Knex, idOrNumber: string): Promise<ChangeRow | undefined> {
  return db<ChangeRow>('change_requests')
    .where(byIdOrKey(idOrNumber, 'number'))
    .first();
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

/** Replaces the parts of a change's scope that a new scope names. */
export async function writeScope(
  trx: Knex.Transaction,
  changeId: string,
  scope: Partial<Pick<ChangeSubmission, 'affectedCiIds' | 'assetActions' | 'licenceChanges'>>,
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

export interface ChangeRegistration {
  changeId: string;
  number: string;
  workflowId: string;
  type: ChangeType;
  requesterId: string;
  submission: ChangeSubmission;
}

/** Inserts the change row and its scope as submitted; a change already registered stays as it is. */
export async function registerChangeRow(trx: Knex.Transaction, { changeId, number, workflowId, type, requesterId, submission }: ChangeRegistration): Promise<void> {
  const inserted = await trx('change_requests')
    .insert({
      id: changeId,
      number,
      workflow_id: workflowId,
      type,
      change_model_id: submission.changeModelId,
      requester_id: requesterId,
      cost_centre_id: submission.costCentreId,
      title: submission.title,
      description: submission.description,
      planned_start: submission.plannedStart,
      planned_end: submission.plannedEnd,
      one_off_cost_minor: submission.oneOffCostMinor,
      recurring_cost_minor: submission.recurringCostMinor,
      currency: submission.currency,
    })
    .onConflict('id')
    .ignore()
    .returning('id');
  if (inserted.length) await writeScope(trx, changeId, submission);
}

/** The next change number (CHG0001001), reserved before the change is registered. */
export function reserveChangeNumber(db: Knex): Promise<string> {
  return nextBusinessKey(db, 'CHG', 'change_number_seq');
}

/** Every id a scope names must exist: the ids that do not, by the field that named them. */
export async function unknownScopeReferences(
  db: Knex,
  scope: Partial<Pick<ChangeSubmission, 'affectedCiIds' | 'assetActions' | 'licenceChanges'>>,
): Promise<{ path: string; message: string }[]> {
  const missing = async (table: string, field: string, ids: string[] | undefined) => {
    const wanted = [...new Set(ids ?? [])];
    if (!wanted.length) return [];
    const found = new Set((await db(table).whereIn('id', wanted).select('id')).map((r) => r.id));
    return wanted.filter((id) => !found.has(id)).map((id) => ({ path: field, message: `unknown id ${id}` }));
  };
  return [
    ...(await missing('configuration_items', 'affectedCiIds', scope.affectedCiIds)),
    ...(await missing('assets', 'assetActions', scope.assetActions?.map((a) => a.assetId))),
    ...(await missing('software_products', 'licenceChanges', scope.licenceChanges?.map((l) => l.productId))),
  ];
}

export function findActiveChangeModel(db: Knex, id: string): Promise<{ id: string; name: string } | undefined> {
  return db('change_models').where({ id, active: true }).first('id', 'name');
}

export interface ChangeFilters {
  requesterId?: string;
  state?: ChangeState;
  type?: ChangeType;
}

export function listChanges(db: Knex, filters: ChangeFilters, page: { limit: number; offset: number }): Promise<Page<Change>> {
  const q = db<ChangeRow>('change_requests').select('*').orderBy('created_at', 'desc').orderBy('number', 'desc');
  if (filters.requesterId) q.where('requester_id', filters.requesterId);
  if (filters.state) q.where('state', filters.state);
  if (filters.type) q.where('type', filters.type);
  return paginate(q, page, toChange);
}

/** A CI a requester may put in a change's scope, as the scope picker lists it. */
export interface ScopeCi {
  id: string;
  number: string;
  name: string;
  ciClass: string;
}

/**
 * Live CIs for a change's scope: by part of the name or number, by class, and by business
 * service (the service itself and the CIs it depends on, directly or through others); at most `limit`.
 */
export async function searchScopeCis(db: Knex, filters: { q?: string; ciClass?: string; serviceId?: string }, limit: number): Promise<ScopeCi[]> {
  const q = db('configuration_items as ci').whereNull('ci.retired_at').orderBy('ci.name').limit(limit)
    .select('ci.id', 'ci.number', 'ci.name', 'ci.ci_class as ciClass');
  if (filters.q) q.where((w) => w.whereILike('ci.name', likeContaining(filters.q!)).orWhereILike('ci.number', likeContaining(filters.q!)));
  if (filters.ciClass) q.where('ci.ci_class', filters.ciClass);
  if (filters.serviceId) {
    const { sql, bindings } = serviceDependencies(filters.serviceId);
    const serviceId = filters.serviceId;
    q.where((w) => w.where('ci.id', serviceId).orWhereRaw(`ci.id IN (${sql})`, bindings));
  }
  return q;
}

/** The CIs with these ids, in the order given; unknown ids are left out. */
export async function scopeCisByIds(db: Knex, ids: string[]): Promise<ScopeCi[]> {
  if (!ids.length) return [];
  const rows: ScopeCi[] = await db('configuration_items').whereIn('id', ids).select('id', 'number', 'name', 'ci_class as ciClass');
  const byId = new Map(rows.map((r) => [r.id, r]));
  return ids.flatMap((id) => byId.get(id) ?? []);
}

/** The ids of the assets with these tags, by tag. */
export async function assetIdsByTag(db: Knex, tags: string[]): Promise<Map<string, string>> {
  if (!tags.length) return new Map();
  const rows = await db('assets').whereIn('asset_tag', tags).select('id', 'asset_tag');
  return new Map(rows.map((r) => [r.asset_tag as string, r.id as string]));
}

/**
 * Software products a change may add or remove installs of: the live ones, and the ones its scope
 * already names (`named`), so that revising keeps a licence change of a product retired since.
 */
export function listSoftwareProductChoices(db: Knex, named: string[] = []): Promise<{ id: string; publisher: string; name: string }[]> {
  return db('software_products').where((w) => w.whereNull('retired_at').orWhereIn('id', named)).orderBy(['publisher', 'name']).select('id', 'publisher', 'name');
}
