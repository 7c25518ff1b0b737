import type { Knex } from 'knex';
import type { Delegation as RoutingDelegation } from '../domain/approval-routing';
import type { ApprovalSubjectType } from '../domain/approvals';
import type { Page } from './page';

export interface ApprovalRow {
  id: string;
  subject_type: ApprovalSubjectType;
  subject_id: string;
  workflow_id: string;
  revision: number;
  step_order: number;
  step_name: string;
  step_policy: string;
  step_required: number;
  approver_id: string;
  delegated_from_id: string | null;
  escalated_from_id: string | null;
  reassigned_from_id: string | null;
  rule_id: string | null;
  rule_version: number | null;
  state: string;
  due_at: Date | null;
  decided_at: Date | null;
  decided_via: string | null;
  comment: string | null;
  reminded_at: Date | null;
  created_at: Date;
}

export function findApproval(db: Knex, id: string): Promise<ApprovalRow | undefined> {
  return db<ApprovalRow>('approvals').where({ id }).first();
}

/** A person's inbox: the approvals waiting for their decision (the web UI and the API read the same). */
function openApprovals(db: Knex, personId: string): Knex.QueryBuilder {
  return db('approvals').where({ approver_id: personId, state: 'requested' });
}

export async function countOpenApprovals(db: Knex, personId: string): Promise<number> {
  const [{ count }] = await openApprovals(db, personId).count<{ count: string }[]>({ count: '*' });
  return Number(count);
}

/** An inbox entry as the API lists it: the approval and a line about what it is for. */
export interface ApprovalInboxEntry {
  id: string;
  subjectType: ApprovalSubjectType;
  subjectId: string;
  step: number;
  stepName: string;
  dueAt: Date | null;
  delegatedFrom: string | null;
  number: string;
  title: string;
  riskLevel: string | null;
  totalMinor: number | null;
}

/** A page of a person's inbox, oldest first, with the number of approvals waiting for them. */
export async function approvalInbox(db: Knex, personId: string, page: { limit: number; offset: number }): Promise<Page<ApprovalInboxEntry>> {
  // The page first, then what it is about: joining before the limit read every purchase request.
  const pageOfApprovals = openApprovals(db, personId).orderBy('created_at').orderBy('id').limit(page.limit).offset(page.offset).select('*').as('a');
  const [items, total] = await Promise.all([
    db.from(pageOfApprovals)
      .leftJoin('change_requests as c', (j) => j.on('c.id', 'a.subject_id').andOnVal('a.subject_type', 'change_request'))
      .leftJoin('purchase_requests as p', (j) => j.on('p.id', 'a.subject_id').andOnVal('a.subject_type', 'purchase_request'))
      .leftJoin('reconciliation_cases as rc', (j) => j.on('rc.id', 'a.subject_id').andOnVal('a.subject_type', 'reconciliation_case'))
      .leftJoin('contract_renewals as cr', (j) => j.on('cr.id', 'a.subject_id').andOnVal('a.subject_type', 'contract_renewal'))
      .leftJoin('people as d', 'd.id', 'a.delegated_from_id')
      .orderBy('a.created_at')
      .orderBy('a.id')
      .select('a.id', 'a.subject_type as subjectType', 'a.subject_id as subjectId', 'a.step_order as step', 'a.step_name as stepName',
        'a.due_at as dueAt', 'd.name as delegatedFrom', db.raw('COALESCE(c.number, p.number, rc.number, cr.number) AS number'),
        db.raw('COALESCE(c.title, p.justification, rc.reason, cr.title) AS title'), 'c.risk_level as riskLevel', 'p.total_minor as totalMinor'),
    countOpenApprovals(db, personId),
  ]);
  return { items, page: { limit: page.limit, offset: page.offset, total } };
}

/** An open approval as the web inbox shows it, before its subject is described. */
export interface OpenApproval {
  id: string;
  subjectType: ApprovalSubjectType;
  subjectId: string;
  step: number;
  stepName: string;
  stepPolicy: string;
  stepRequired: number;
  requestedAt: string;
  dueAt: string | null;
  delegatedFrom: string | null;
}

/** The oldest approvals waiting for a person's decision, at most `limit`. */
export async function openApprovalsOf(db: Knex, personId: string, limit: number): Promise<OpenApproval[]> {
  const rows = await db.from(openApprovals(db, personId).as('a'))
    .leftJoin('people as d', 'd.id', 'a.delegated_from_id')
    .orderBy('a.created_at')
    .limit(limit)
    .select('a.id', 'a.subject_type', 'a.subject_id', 'a.step_order', 'a.step_name', 'a.step_policy', 'a.step_required', 'a.created_at', 'a.due_at', 'd.name as delegated_from');
  return rows.map((r) => ({
    id: r.id,
    subjectType: r.subject_type,
    subjectId: r.subject_id,
    step: r.step_order,
    stepName: r.step_name,
    stepPolicy: r.step_policy,
    stepRequired: r.step_required,
    requestedAt: (r.created_at as Date).toISOString(),
    dueAt: r.due_at ? (r.due_at as Date).toISOString() : null,
    delegatedFrom: r.delegated_from,
  }));
}

/** An approval this approver has decided, with the number of what it was for. */
export function findDecisionOf(db: Knex, approvalId: string, approverId: string): Promise<{ state: string; comment: string | null; number: string } | undefined> {
  return db('approvals as a')
    .leftJoin('change_requests as c', (j) => j.on('c.id', 'a.subject_id').andOnVal('a.subject_type', 'change_request'))
    .leftJoin('purchase_requests as p', (j) => j.on('p.id', 'a.subject_id').andOnVal('a.subject_type', 'purchase_request'))
    .leftJoin('reconciliation_cases as rc', (j) => j.on('rc.id', 'a.subject_id').andOnVal('a.subject_type', 'reconciliation_case'))
    .leftJoin('contract_renewals as cr', (j) => j.on('cr.id', 'a.subject_id').andOnVal('a.subject_type', 'contract_renewal'))
    .where({ 'a.id': approvalId, 'a.approver_id': approverId })
    .whereNot('a.state', 'requested')
    .first('a.state', 'a.comment', db.raw('COALESCE(c.number, p.number, rc.number, cr.number) AS number'));
}

/** Delegations in force now: who hands their approval tasks to whom. A delegate no longer active takes nothing. */
export function activeDelegations(db: Knex): Promise<RoutingDelegation[]> {
  return db('delegations')
    .where('starts_at', '<=', db.fn.now())
    .where('ends_at', '>', db.fn.now())
    .whereIn('delegate_id', db('people').where('active', true).select('id'))
    .orderBy('starts_at')
    .select('delegator_id as delegatorId', 'delegate_id as delegateId');
}

export interface Delegation {
  id: string;
  delegatorId: string;
  delegateId: string;
  startsAt: Date;
  endsAt: Date;
}

const DELEGATION_COLUMNS = ['id', 'delegator_id as delegatorId', 'delegate_id as delegateId', 'starts_at as startsAt', 'ends_at as endsAt'];

export async function createDelegation(db: Knex, delegation: { delegatorId: string; delegateId: string; startsAt: string; endsAt: string }): Promise<Delegation> {
  const [row] = await db('delegations')
    .insert({ delegator_id: delegation.delegatorId, delegate_id: delegation.delegateId, starts_at: delegation.startsAt, ends_at: delegation.endsAt })
    .returning(DELEGATION_COLUMNS);
  return row;
}

/** Delegations that have not ended, earliest start first; with `involving`, only those the person gave or received. */
export function listDelegations(db: Knex, filter: { involving?: string } = {}): Promise<Delegation[]> {
  const q = db('delegations').where('ends_at', '>', db.fn.now()).orderBy('starts_at').select(DELEGATION_COLUMNS);
  if (filter.involving) q.where((w) => w.where('delegator_id', filter.involving!).orWhere('delegate_id', filter.involving!));
  return q;
}

export function findDelegation(db: Knex, id: string): Promise<Delegation | undefined> {
  return db('delegations').where({ id }).first(...DELEGATION_COLUMNS);
}

/**
 * Ends a delegation now; one that has not started yet ends just after its start, as the period must
 * not be empty. One that has ended already is left as it is: answers whether it was ended here.
 */
export async function endDelegation(db: Knex, id: string): Promise<boolean> {
  const ended = await db('delegations').where({ id }).where('ends_at', '>', db.fn.now())
    .update({ ends_at: db.raw('GREATEST(now(), starts_at + interval \'1 millisecond\')') });
  return ended > 0;
}

const iso = (d: Date | null) => (d ? d.toISOString() : null);

/** Every approval of a change or purchase request, every revision and step, with the people named. */
export interface ApprovalRecord {
  id: string;
  revision: number;
  step: number;
  stepName: string;
  stepPolicy: string;
  stepRequired: number;
  /** The approval rule, and the version of it, that routed the step; null for approvals opened before rules were versioned. */
  rule: { id: string; name: string; version: number | null } | null;
  approver: { id: string; name: string; email: string };
  delegatedFrom: { id: string; name: string } | null;
  escalatedFromId: string | null;
  reassignedFromId: string | null;
  /** Who took it over when it was reassigned (its approver was deactivated). */
  movedTo: { id: string; name: string } | null;
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
    .leftJoin('approvals as n', 'n.reassigned_from_id', 'a.id')
    .leftJoin('people as np', 'np.id', 'n.approver_id')
    // The rule's name as that version had it: a rule renamed since still shows what routed the step.
    .leftJoin('approval_rule_versions as rv', (j) => j.on('rv.rule_id', 'a.rule_id').andOn('rv.version', 'a.rule_version'))
    .leftJoin('approval_rules as r', 'r.id', 'a.rule_id')
    .where('a.subject_id', subjectId)
    .orderBy(['a.revision', 'a.step_order', 'a.created_at', 'p.name'])
    .select('a.*', 'p.name as approver_name', 'p.email as approver_email', 'd.name as delegated_from_name', 'np.id as moved_to_id', 'np.name as moved_to_name',
      db.raw(`coalesce(rv.rule->>'name', r.name) AS rule_name`));
  return rows.map((r) => ({
    id: r.id,
    revision: r.revision,
    step: r.step_order,
    stepName: r.step_name,
    stepPolicy: r.step_policy,
    stepRequired: r.step_required,
    rule: r.rule_id ? { id: r.rule_id, name: r.rule_name, version: r.rule_version } : null,
    approver: { id: r.approver_id, name: r.approver_name, email: r.approver_email },
    delegatedFrom: r.delegated_from_id ? { id: r.delegated_from_id, name: r.delegated_from_name } : null,
    escalatedFromId: r.escalated_from_id,
    reassignedFromId: r.reassigned_from_id,
    movedTo: r.moved_to_id ? { id: r.moved_to_id, name: r.moved_to_name } : null,
    state: r.state,
    dueAt: iso(r.due_at),
    decidedAt: iso(r.decided_at),
    decidedVia: r.decided_via,
    comment: r.comment,
    remindedAt: iso(r.reminded_at),
  }));
}

/** An approval with its approver's name and whether they are active, and who took it over if it moved, for the checks before a decision. */
export function findApprovalWithApprover(
  db: Knex,
  id: string,
): Promise<(ApprovalRow & { approver_name: string; approver_active: boolean; moved_to_name: string | null }) | undefined> {
  return db('approvals as a').join('people as p', 'p.id', 'a.approver_id')
    .leftJoin('approvals as n', 'n.reassigned_from_id', 'a.id')
    .leftJoin('people as np', 'np.id', 'n.approver_id')
    .where('a.id', id)
    .first('a.*', 'p.name as approver_name', 'p.active as approver_active', 'np.name as moved_to_name');
}
