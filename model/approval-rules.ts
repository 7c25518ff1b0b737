/**
 * Approval rules as versioned data: process owners and admins read, create and change them (a
 * change needs the version read; retiring is `active: false`, nothing is deleted), and every save
 * is kept as a version by the table's triggers (20261201000300) and audited here. A condition is
 * checked with the process's condition language (domain/approval-routing.ts ruleConditionFor)
 * before it is saved, so that a saved rule is a rule routing can apply.
 *
 * Planning lives here too, so that the activities that route a request and the preview that shows
 * who would approve one find the same approvers the same way: planFromRules with the facts of a
 * change (changeApprovers), of a purchase request (purchaseApprovers) or of a request not made yet.
 */
import type { Knex } from 'knex';
import {
  approverKindsFor,
  changeRoutingSubject,
  planApprovalSteps,
  ruleConditionFor,
  unknownConditionKeys,
  unroutedOverBudget,
  type ApprovalPolicy,
  type ApprovalProcess,
  type ApprovalRule,
  type ApproverKind,
  type ExpiryAction,
  type PlannedStep,
  type RoutingSubject,
  type RuleCondition,
} from '../domain/approval-routing';
import type { ChangeImpact, ChangeType, Criticality } from '../domain/change-impact';
import type { RiskLevel } from '../domain/change-risk';
import { changedFields, changesNothing } from '../domain/directory';
import { purchaseRoutingSubject, type PurchaseAssessment } from '../domain/procurement';
import { isUniqueViolation } from '../platform/database';
import { activeDelegations } from './approvals';
import { insertAuditRow } from './audit-rows';
import { DEFAULT_IMPACT_DEPTH } from './change-impact';
import { processOwners } from './directory';
import { isUuid } from './keys';
import { paginate, type Page } from './page';

// ---------------------------------------------------------------------------------------------
// Refusals
// ---------------------------------------------------------------------------------------------

export interface RuleProblem {
  /** Where in the request, e.g. "appliesWhen.anyOf.1.minRisk" or "proposed.0.group". */
  path: string;
  message: string;
}

export type ApprovalRuleRefusal =
  | { rule: 'not_found'; message: string }
  | { rule: 'version_mismatch'; message: string; currentVersion: number }
  | { rule: 'invalid_rule'; message: string; problems: RuleProblem[] }
  | { rule: 'rule_name_taken'; message: string }
  | { rule: 'not_assessed'; message: string };

/** Thrown by the writes and the preview when a rule refuses them; a write's transaction rolls back, so nothing is written. */
export class ApprovalRuleRefused extends Error {
  constructor(readonly refusal: ApprovalRuleRefusal) {
    super(refusal.message);
    this.name = 'ApprovalRuleRefused';
  }
}

function refuseProblems(problems: RuleProblem[]): void {
  if (problems.length === 0) return;
  throw new ApprovalRuleRefused({ rule: 'invalid_rule', message: problems.map((p) => `${p.path}: ${p.message}`).join('; '), problems });
}

// ---------------------------------------------------------------------------------------------
// Reading
// ---------------------------------------------------------------------------------------------

/** A rule as people write it: references by name (the group), the condition as JSON. */
export interface ApprovalRuleBody {
  process: ApprovalProcess;
  stepOrder: number;
  name: string;
  appliesWhen: RuleCondition;
  approverKind: ApproverKind;
  /** The group's name, for approverKind group; null otherwise. */
  group: string | null;
  policy: ApprovalPolicy;
  /** Approvals needed, for the quorum policy; null otherwise. */
  quorum: number | null;
  onExpiry: ExpiryAction;
  active: boolean;
}

export interface ApprovalRuleDetail extends ApprovalRuleBody {
  id: string;
  version: number;
  groupId: string | null;
  updatedBy: string;
  updatedAt: string;
}

export interface ApprovalRuleVersion {
  version: number;
  savedBy: string;
  savedAt: string;
  rule: ApprovalRuleBody;
}

interface RuleRow {
  id: string;
  process: ApprovalProcess;
  step_order: number;
  name: string;
  applies_when: RuleCondition;
  approver_kind: ApproverKind;
  group_id: string | null;
  policy: ApprovalPolicy;
  quorum: number | null;
  on_expiry: ExpiryAction;
  active: boolean;
  version: number;
  updated_by: string;
  updated_at: Date | string;
}

const bodyOf = (row: RuleRow, groupName: string | null): ApprovalRuleBody => ({
  process: row.process,
  stepOrder: row.step_order,
  name: row.name,
  appliesWhen: row.applies_when,
  approverKind: row.approver_kind,
  group: groupName,
  policy: row.policy,
  quorum: row.quorum,
  onExpiry: row.on_expiry,
  active: row.active,
});

const detailOf = (row: RuleRow & { group_name: string | null }): ApprovalRuleDetail => ({
  id: row.id,
  version: row.version,
  ...bodyOf(row, row.group_name),
  groupId: row.group_id,
  updatedBy: row.updated_by,
  updatedAt: new Date(row.updated_at).toISOString(),
});

const rulesWithGroups = (db: Knex) => db('approval_rules as r').leftJoin('groups as g', 'g.id', 'r.group_id').select('r.*', 'g.name as group_name');

/** Rules by process, step and name; filtered by process and by whether they are active. */
export function listApprovalRules(
  db: Knex,
  filters: { process?: ApprovalProcess; active?: boolean },
  page: { limit: number; offset: number },
): Promise<Page<ApprovalRuleDetail>> {
  const q = rulesWithGroups(db).orderBy(['r.process', 'r.step_order', 'r.name', 'r.id']);
  if (filters.process) q.where('r.process', filters.process);
  if (filters.active !== undefined) q.where('r.active', filters.active);
  return paginate(q, page, detailOf);
}

export async function findApprovalRule(db: Knex, id: string): Promise<ApprovalRuleDetail | undefined> {
  if (!isUuid(id)) return undefined;
  const row = await rulesWithGroups(db).where('r.id', id).first();
  return row ? detailOf(row) : undefined;
}

/** Every saved version of a rule, newest first, as it was saved (its group by today's name); undefined for no such rule. */
export async function approvalRuleVersions(db: Knex, id: string): Promise<ApprovalRuleVersion[] | undefined> {
  if (!(await findApprovalRule(db, id))) return undefined;
  const rows = await db('approval_rule_versions').where({ rule_id: id }).orderBy('version', 'desc').select('version', 'rule', 'saved_by', 'saved_at');
  const groupIds = [...new Set(rows.map((r) => (r.rule as RuleRow).group_id).filter((g): g is string => g !== null))];
  const groups = new Map<string, string>((await db('groups').whereIn('id', groupIds).select('id', 'name')).map((g) => [g.id, g.name]));
  return rows.map((r) => {
    const rule = r.rule as RuleRow;
    return {
      version: r.version,
      savedBy: r.saved_by,
      savedAt: new Date(r.saved_at).toISOString(),
      rule: bodyOf(rule, rule.group_id ? (groups.get(rule.group_id) ?? null) : null),
    };
  });
}

// ---------------------------------------------------------------------------------------------
// Checking and writing
// ---------------------------------------------------------------------------------------------

/** A rule's fields as given: all of them for a new rule, those to change for an update. */
export interface ApprovalRuleFields {
  stepOrder?: number;
  name?: string;
  appliesWhen?: unknown;
  approverKind?: ApproverKind;
  group?: string | null;
  policy?: ApprovalPolicy;
  quorum?: number | null;
  onExpiry?: ExpiryAction;
  active?: boolean;
}

export type ApprovalRuleCreate = ApprovalRuleFields & { process: ApprovalProcess; stepOrder: number; name: string; approverKind: ApproverKind };

/** Object keys in one order, so that a condition compares equal however its keys were written. */
function canonical(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(canonical);
  if (typeof value === 'object' && value !== null) {
    return Object.fromEntries(Object.keys(value).sort().map((key) => [key, canonical((value as Record<string, unknown>)[key])]));
  }
  return value;
}

/**
 * The rule `fields` make of `base` (nothing, for a new rule), checked: its condition in the
 * process's language, a group for (and only for) a group rule, a quorum for (and only for) the
 * quorum policy. Changing the kind or the policy drops the group or quorum that no longer applies.
 * Problems are reported at `at` + the field.
 */
async function checkedRule(
  trx: Knex,
  process: ApprovalProcess,
  fields: ApprovalRuleFields,
  base: ApprovalRuleDetail | undefined,
  at: string,
): Promise<{ body: ApprovalRuleBody; groupId: string | null; problems: RuleProblem[] }> {
  const problems: RuleProblem[] = [];
  const path = (field: string) => `${at}${field}`;
  const appliesWhen = fields.appliesWhen === undefined ? (base?.appliesWhen ?? {}) : fields.appliesWhen;
  for (const problem of ruleConditionFor(process).problemsOf(appliesWhen)) {
    problems.push({ path: [path('appliesWhen'), ...problem.path].join('.'), message: problem.message });
  }
  const approverKind = fields.approverKind ?? base?.approverKind ?? 'manager';
  const kinds = approverKindsFor(process);
  if (!kinds.includes(approverKind)) {
    problems.push({ path: path('approverKind'), message: `a ${process} rule may use the approver kinds ${kinds.join(', ')}: its subject has no requester, cost centre or owners` });
  }
  const policy = fields.policy ?? base?.policy ?? 'any';
  let group = fields.group === undefined ? (approverKind === 'group' ? (base?.group ?? null) : null) : fields.group;
  let groupId: string | null = null;
  if (approverKind === 'group') {
    if (group === null) {
      problems.push({ path: path('group'), message: 'a group rule needs the name of the group whose members approve' });
    } else {
      const found = await trx('groups').whereRaw('lower(name) = lower(?)', [group]).first('id', 'name');
      if (found) [groupId, group] = [found.id, found.name];
      else problems.push({ path: path('group'), message: `no group called "${group}"` });
    }
  } else if (fields.group) {
    problems.push({ path: path('group'), message: `only a group rule names a group; a ${approverKind} rule finds its approvers itself` });
  }
  let quorum = fields.quorum === undefined ? (policy === 'quorum' ? (base?.quorum ?? null) : null) : fields.quorum;
  if (policy === 'quorum' && quorum === null) problems.push({ path: path('quorum'), message: 'the quorum policy needs the number of approvals required' });
  if (policy !== 'quorum' && fields.quorum != null) problems.push({ path: path('quorum'), message: `only the quorum policy takes a quorum; ${policy} decides without one` });
  if (policy !== 'quorum') quorum = null;
  return {
    body: {
      process,
      stepOrder: fields.stepOrder ?? base?.stepOrder ?? 1,
      name: fields.name ?? base?.name ?? '',
      appliesWhen: canonical(appliesWhen) as RuleCondition,
      approverKind,
      group: approverKind === 'group' ? group : null,
      policy,
      quorum,
      onExpiry: fields.onExpiry ?? base?.onExpiry ?? 'reject',
      active: fields.active ?? base?.active ?? true,
    },
    groupId,
    problems,
  };
}

const columnsOf = (body: ApprovalRuleBody, groupId: string | null) => ({
  step_order: body.stepOrder,
  name: body.name,
  applies_when: JSON.stringify(body.appliesWhen),
  approver_kind: body.approverKind,
  group_id: groupId,
  policy: body.policy,
  quorum: body.quorum,
  on_expiry: body.onExpiry,
  active: body.active,
});

/** A rule as the audit log records it: the fields people edit, the group by name, the condition in one key order. */
const snapshotOf = (body: ApprovalRuleBody) => ({
  stepOrder: body.stepOrder,
  name: body.name,
  appliesWhen: canonical(body.appliesWhen) as Record<string, unknown>,
  approverKind: body.approverKind,
  group: body.group,
  policy: body.policy,
  quorum: body.quorum,
  onExpiry: body.onExpiry,
  active: body.active,
});

async function refusingTakenName<T>(body: ApprovalRuleBody, write: () => Promise<T>): Promise<T> {
  try {
    return await write();
  } catch (error) {
    if (isUniqueViolation(error, 'approval_rules_step_unique')) {
      throw new ApprovalRuleRefused({ rule: 'rule_name_taken', message: `step ${body.stepOrder} of the ${body.process} rules already has a rule called "${body.name}"` });
    }
    throw error;
  }
}

/** Creates a rule as version 1, saved by `actor` (a person's email), audited as approval_rule_created. */
export async function createApprovalRule(db: Knex, input: ApprovalRuleCreate, actor: string): Promise<ApprovalRuleDetail> {
  return db.transaction(async (trx) => {
    const { body, groupId, problems } = await checkedRule(trx, input.process, input, undefined, '');
    refuseProblems(problems);
    const [{ id }] = await refusingTakenName(body, () => trx('approval_rules')
      .insert({ process: body.process, ...columnsOf(body, groupId), updated_by: actor })
      .returning('id'));
    const rule = (await findApprovalRule(trx, id))!;
    await insertAuditRow(trx, { actor, subjectType: 'approval_rule', subjectId: id, action: 'approval_rule_created', details: { process: rule.process, version: rule.version, after: snapshotOf(rule) } });
    return rule;
  });
}

/**
 * Changes the fields given if `expectedVersions` holds the rule's current version (else refused
 * with the current one); `active: false` retires it. The version goes up and is kept (the
 * triggers) only when something changed; then the save is audited with the values before and after.
 */
export async function updateApprovalRule(
  db: Knex,
  id: string,
  expectedVersions: readonly number[],
  input: ApprovalRuleFields,
  actor: string,
): Promise<{ rule: ApprovalRuleDetail; changed: boolean }> {
  return db.transaction(async (trx) => {
    const locked = isUuid(id) ? await trx('approval_rules').where({ id }).forUpdate().first('id', 'version') : undefined;
    if (!locked) throw new ApprovalRuleRefused({ rule: 'not_found', message: `no approval rule ${id}` });
    if (!expectedVersions.includes(locked.version)) {
      throw new ApprovalRuleRefused({
        rule: 'version_mismatch',
        currentVersion: locked.version,
        message: `this rule was changed since you read it: the current version is ${locked.version}; read it again and repeat your change`,
      });
    }
    const current = (await findApprovalRule(trx, id))!;
    const { body, groupId, problems } = await checkedRule(trx, current.process, input, current, '');
    refuseProblems(problems);
    const changed = changedFields(snapshotOf(current), snapshotOf(body));
    if (changesNothing(changed)) return { rule: current, changed: false };
    await refusingTakenName(body, () => trx('approval_rules').where({ id }).update({ ...columnsOf(body, groupId), updated_by: actor }));
    const rule = (await findApprovalRule(trx, id))!;
    const action = current.active && !rule.active ? 'approval_rule_retired' : 'approval_rule_updated';
    await insertAuditRow(trx, { actor, subjectType: 'approval_rule', subjectId: id, action, details: { process: rule.process, version: { before: current.version, after: rule.version }, ...changed } });
    return { rule, changed: true };
  });
}

// ---------------------------------------------------------------------------------------------
// Planning
// ---------------------------------------------------------------------------------------------

const ruleOf = (r: RuleRow): ApprovalRule => ({
  id: r.id,
  version: r.version,
  name: r.name,
  stepOrder: r.step_order,
  appliesWhen: r.applies_when,
  approverKind: r.approver_kind,
  groupId: r.group_id,
  policy: r.policy,
  quorum: r.quorum,
  onExpiry: r.on_expiry,
});

/** The rules that route a process's requests now, each with the version in force. */
export async function activeRulesOf(db: Knex, process: ApprovalProcess): Promise<ApprovalRule[]> {
  const rows: RuleRow[] = await db('approval_rules').where({ process, active: true }).orderBy(['step_order', 'name']);
  return rows.map(ruleOf);
}

/** Who the approver kinds resolve to for one subject; the rest (groups, delegations, process owners) is loaded by planFromRules. */
export interface SubjectApprovers {
  requesterId: string;
  managerId: string | null;
  costCentreOwnerId: string | null;
  assetOwnerIds: string[];
  serviceOwnerIds: string[];
}

/**
 * The approval plan for a subject: the rules (the process's active rules unless given), resolved to
 * people with the pure routing rule. Reads in order on the caller's transaction (one connection).
 */
export async function planFromRules(
  trx: Knex,
  process: ApprovalProcess,
  subject: RoutingSubject,
  approvers: SubjectApprovers,
  rulesToPlan?: ApprovalRule[],
): Promise<{ rules: ApprovalRule[]; plan: PlannedStep[]; rulesWithUnknownConditions: string[] }> {
  const rules = rulesToPlan ?? (await activeRulesOf(trx, process));
  const groupIds = rules.map((r) => r.groupId).filter((id): id is string => id !== null);
  // A deactivated group keeps its members, but a rule pointing at it finds nobody in it.
  const members = await trx('group_members as gm').join('people as p', 'p.id', 'gm.person_id')
    .join('groups as g', 'g.id', 'gm.group_id').whereIn('gm.group_id', groupIds)
    .where({ 'p.active': true, 'g.active': true }).orderBy('p.name').select('gm.group_id', 'p.id');
  const delegations = await activeDelegations(trx);
  const owners = await processOwners(trx);
  const groupMembers: Record<string, string[]> = {};
  for (const m of members) (groupMembers[m.group_id] ??= []).push(m.id);
  // Nobody inactive is asked: a manager or owner who left counts as none, and the routing falls back.
  const named = [approvers.managerId, approvers.costCentreOwnerId, ...approvers.assetOwnerIds, ...approvers.serviceOwnerIds].filter((id): id is string => id !== null);
  const active = new Set<string>(await trx('people').whereIn('id', named).where('active', true).pluck('id'));
  const ifActive = (id: string | null) => (id !== null && active.has(id) ? id : null);
  const plan = planApprovalSteps(rules, subject, {
    requesterId: approvers.requesterId,
    managerOf: { [approvers.requesterId]: ifActive(approvers.managerId) },
    costCentreOwnerId: ifActive(approvers.costCentreOwnerId),
    assetOwnerIds: approvers.assetOwnerIds.filter((id) => active.has(id)),
    serviceOwnerIds: approvers.serviceOwnerIds.filter((id) => active.has(id)),
    groupMembers,
    delegations,
    fallbackApproverIds: owners.map((p) => p.id),
  });
  return { rules, plan, rulesWithUnknownConditions: rules.filter((r) => unknownConditionKeys(r.appliesWhen).length > 0).map((r) => r.name) };
}

/** A change's approvers: its requester's manager, its cost centre's owner, and the owners its stored impact found; undefined for no such change. */
export async function changeApprovers(db: Knex, changeId: string): Promise<SubjectApprovers | undefined> {
  const change = await db('change_requests as c')
    .join('people as r', 'r.id', 'c.requester_id')
    .leftJoin('cost_centres as cc', 'cc.id', 'c.cost_centre_id')
    .where('c.id', changeId)
    .first('c.requester_id', 'r.manager_id', 'cc.owner_id as cost_centre_owner_id', 'c.impact');
  if (!change) return undefined;
  const impact = change.impact as ChangeImpact;
  const assetOwners: string[] = await db('assets').whereIn('id', impact.assets.behindCis.map((a) => a.assetId)).whereNotNull('managed_by_id')
    .distinct('managed_by_id').pluck('managed_by_id');
  return {
    requesterId: change.requester_id,
    managerId: change.manager_id,
    costCentreOwnerId: change.cost_centre_owner_id,
    assetOwnerIds: assetOwners,
    serviceOwnerIds: impact.services.businessServices.map((s) => s.ownerId).filter((id): id is string => id !== null),
  };
}

/** A purchase request's approvers: its requester's manager and its cost centre's owner; undefined for no such request. */
export async function purchaseApprovers(db: Knex, purchaseRequestId: string): Promise<SubjectApprovers | undefined> {
  const request = await db('purchase_requests as p')
    .join('people as r', 'r.id', 'p.requester_id')
    .join('cost_centres as cc', 'cc.id', 'p.cost_centre_id')
    .where('p.id', purchaseRequestId)
    .first('p.requester_id', 'r.manager_id', 'cc.owner_id as cost_centre_owner_id');
  if (!request) return undefined;
  return { requesterId: request.requester_id, managerId: request.manager_id, costCentreOwnerId: request.cost_centre_owner_id, assetOwnerIds: [], serviceOwnerIds: [] };
}

// ---------------------------------------------------------------------------------------------
// Preview: who would approve this
// ---------------------------------------------------------------------------------------------

/** A request not made yet: who asks, what they charge, and the facts the rules ask about. */
export interface HypotheticalSubject {
  requesterEmail: string;
  costCentre?: string;
  costMinor: number;
  changeType?: ChangeType;
  riskLevel?: RiskLevel;
  /** Found from the affected CIs when not given. */
  highestCriticality?: Criticality;
  overBudget?: boolean;
  newVendor?: boolean;
  offCatalogue?: boolean;
  /** For a change: the CIs it would touch (by name and class), whose services' and assets' owners may approve. */
  affectedCis?: { name: string; ciClass: string }[];
}

/** A rule proposed for the preview: one with an id replaces that rule, one without is added. */
export type ProposedRule = ApprovalRuleFields & { id?: string };

export interface PreviewRequest {
  process: ApprovalProcess;
  /** An existing change (CHG…) or purchase request (PR…) of the process; or else `subject`. */
  number?: string;
  subject?: HypotheticalSubject;
  proposed?: ProposedRule[];
}

interface PersonRef {
  name: string;
  email: string;
}

export interface PreviewStep {
  step: number;
  rule: { id: string | null; name: string; version: number | 'proposed' };
  policy: ApprovalPolicy;
  required: number;
  onExpiry: ExpiryAction;
  approvers: (PersonRef & { delegatedFrom: PersonRef | null })[];
  notes: string[];
}

export interface ApprovalPreview {
  process: ApprovalProcess;
  number: string | null;
  requester: PersonRef;
  subject: RoutingSubject;
  steps: PreviewStep[];
  /** A purchase request over budget that no rule routes is refused rather than planned. */
  refusal: string | null;
  rulesWithUnknownConditions: string[];
}

/**
 * The owners of what depends on the CIs and of the assets behind them, for a change not made yet: the
 * impact assessment's walk (model/change-impact.ts: live reverse edges, the same bounded depth),
 * which reads a stored change's scope and so cannot serve a hypothetical one.
 */
async function ownersAround(db: Knex, ciIds: string[]): Promise<{ serviceOwnerIds: string[]; assetOwnerIds: string[]; highestCriticality: Criticality | null }> {
  const { rows } = await db.raw<{ rows: { ci_class: string; criticality: Criticality | null; owner_id: string | null; asset_owner_id: string | null }[] }>(`
    WITH RECURSIVE reached (id, depth) AS (
      SELECT unnest(?::uuid[]), 0
      UNION
      SELECT r.from_ci_id, w.depth + 1 FROM reached w JOIN ci_relationships r ON r.to_ci_id = w.id AND r.retired_at IS NULL WHERE w.depth < ?
    )
    SELECT DISTINCT c.id, c.ci_class, c.criticality, c.owner_id, a.managed_by_id AS asset_owner_id
      FROM (SELECT DISTINCT id FROM reached) x
      JOIN configuration_items c ON c.id = x.id
      LEFT JOIN assets a ON a.id = c.asset_id`, [`{${ciIds.join(',')}}`, DEFAULT_IMPACT_DEPTH]);
  const services = rows.filter((r) => r.ci_class === 'business_service');
  const criticalities = services.map((s) => s.criticality).filter((c): c is Criticality => c !== null).sort();
  return {
    serviceOwnerIds: [...new Set(services.map((s) => s.owner_id).filter((id): id is string => id !== null))],
    assetOwnerIds: [...new Set(rows.map((r) => r.asset_owner_id).filter((id): id is string => id !== null))],
    highestCriticality: criticalities[0] ?? null,
  };
}

/** The routing facts of an existing request, from what its workflow stored when it assessed it. */
async function existingRequest(db: Knex, process: ApprovalProcess, number: string): Promise<{ subject: RoutingSubject; approvers: SubjectApprovers }> {
  if (process === 'change') {
    const change = await db('change_requests').where({ number }).first('id', 'type', 'risk_level', 'impact', 'one_off_cost_minor', 'recurring_cost_minor');
    if (!change) throw new ApprovalRuleRefused({ rule: 'not_found', message: `no change ${number}` });
    if (!change.impact || !change.risk_level) throw new ApprovalRuleRefused({ rule: 'not_assessed', message: `${number} is not assessed yet: its approvers are not known until it is` });
    const impact = change.impact as ChangeImpact;
    const subject = changeRoutingSubject({
      type: change.type,
      riskLevel: change.risk_level,
      highestCriticality: impact.services.highestCriticality,
      oneOffCostMinor: change.one_off_cost_minor,
      recurringCostMinor: change.recurring_cost_minor,
      overBudget: impact.money.overBudget,
    });
    return { subject, approvers: (await changeApprovers(db, change.id))! };
  }
  const request = await db('purchase_requests').where({ number }).first('id', 'assessment');
  if (!request) throw new ApprovalRuleRefused({ rule: 'not_found', message: `no purchase request ${number}` });
  if (!request.assessment) throw new ApprovalRuleRefused({ rule: 'not_assessed', message: `${number} is not checked yet: its approvers are not known until it is` });
  const assessment = request.assessment as PurchaseAssessment;
  const subject = purchaseRoutingSubject({ totalMinor: assessment.totalMinor ?? 0, overBudget: assessment.overBudget, offCatalogue: assessment.offCatalogue, newVendor: assessment.newVendor });
  return { subject, approvers: (await purchaseApprovers(db, request.id))! };
}

/** The routing facts of a request not made yet; each name that finds nothing is a problem at its path. */
async function hypotheticalRequest(db: Knex, process: ApprovalProcess, given: HypotheticalSubject): Promise<{ subject: RoutingSubject; approvers: SubjectApprovers }> {
  const problems: RuleProblem[] = [];
  const requester = await db('people').whereRaw('lower(email) = lower(?)', [given.requesterEmail]).first('id', 'manager_id');
  if (!requester) problems.push({ path: 'subject.requesterEmail', message: `no person with the email ${given.requesterEmail}` });
  const costCentre = given.costCentre ? await db('cost_centres').whereRaw('upper(code) = upper(?)', [given.costCentre]).first('owner_id') : undefined;
  if (given.costCentre && !costCentre) problems.push({ path: 'subject.costCentre', message: `no cost centre ${given.costCentre}` });
  const ciIds: string[] = [];
  for (const [i, ci] of (given.affectedCis ?? []).entries()) {
    const found = await db('configuration_items').whereRaw('lower(name) = lower(?)', [ci.name]).where('ci_class', ci.ciClass).first('id');
    if (found) ciIds.push(found.id);
    else problems.push({ path: `subject.affectedCis.${i}`, message: `no ${ci.ciClass} CI called "${ci.name}"` });
  }
  refuseProblems(problems);
  const { id: requesterId, manager_id: managerId } = requester!;
  const around = ciIds.length ? await ownersAround(db, ciIds) : { serviceOwnerIds: [], assetOwnerIds: [], highestCriticality: null };
  const subject: RoutingSubject = process === 'change'
    ? {
        changeType: given.changeType ?? 'normal',
        riskLevel: given.riskLevel ?? 'low',
        highestCriticality: given.highestCriticality ?? around.highestCriticality,
        costMinor: given.costMinor,
        overBudget: given.overBudget ?? false,
      }
    : purchaseRoutingSubject({ totalMinor: given.costMinor, overBudget: given.overBudget ?? false, offCatalogue: given.offCatalogue ?? false, newVendor: given.newVendor ?? false });
  return {
    subject,
    approvers: {
      requesterId,
      managerId,
      costCentreOwnerId: costCentre?.owner_id ?? null,
      assetOwnerIds: process === 'change' ? around.assetOwnerIds : [],
      serviceOwnerIds: process === 'change' ? around.serviceOwnerIds : [],
    },
  };
}

/** The active rules with the proposed ones in place: each checked as on save, problems at "proposed.<i>.<field>". */
async function rulesWithProposals(db: Knex, process: ApprovalProcess, proposed: ProposedRule[]): Promise<ApprovalRule[]> {
  const current = await activeRulesOf(db, process);
  const problems: RuleProblem[] = [];
  const replaced = new Map<string, ApprovalRule | null>();
  const added: ApprovalRule[] = [];
  for (const [i, { id, ...fields }] of proposed.entries()) {
    const at = `proposed.${i}.`;
    const base = id ? await findApprovalRule(db, id) : undefined;
    if (id && (!base || base.process !== process)) {
      problems.push({ path: `${at}id`, message: `no ${process} rule ${id} to replace` });
      continue;
    }
    if (!base && (fields.name === undefined || fields.approverKind === undefined)) {
      problems.push({ path: at.slice(0, -1), message: 'a new rule needs at least a name and an approverKind' });
      continue;
    }
    const { body, groupId, problems: found } = await checkedRule(db, process, fields, base, at);
    problems.push(...found);
    const rule: ApprovalRule = {
      id: id ?? `proposed-${i + 1}`,
      name: body.name,
      stepOrder: body.stepOrder,
      appliesWhen: body.appliesWhen,
      approverKind: body.approverKind,
      groupId,
      policy: body.policy,
      quorum: body.quorum,
      onExpiry: body.onExpiry,
    };
    if (id) replaced.set(id, body.active ? rule : null);
    else if (body.active) added.push(rule);
  }
  refuseProblems(problems);
  const kept = current.filter((r) => !replaced.has(r.id));
  const replacing = [...replaced.values()].filter((r): r is ApprovalRule => r !== null);
  return [...kept, ...replacing, ...added];
}

/**
 * Who would approve a request, existing (its stored assessment) or not made yet, under the rules
 * as they are or as proposed. Plans exactly as the workflows do, and writes nothing.
 */
export async function previewApprovals(db: Knex, request: PreviewRequest): Promise<ApprovalPreview> {
  const { process } = request;
  const facts = request.number ? await existingRequest(db, process, request.number) : await hypotheticalRequest(db, process, request.subject!);
  const rules = request.proposed?.length ? await rulesWithProposals(db, process, request.proposed) : await activeRulesOf(db, process);
  const { plan, rulesWithUnknownConditions } = await planFromRules(db, process, facts.subject, facts.approvers, rules);
  const ids = [facts.approvers.requesterId, ...plan.flatMap((s) => s.approvers.flatMap((a) => [a.approverId, a.delegatedFromId]))].filter((id): id is string => id !== null);
  const people = new Map<string, PersonRef>((await db('people').whereIn('id', ids).select('id', 'name', 'email')).map((p) => [p.id, { name: p.name, email: p.email }]));
  return {
    process,
    number: request.number ?? null,
    requester: people.get(facts.approvers.requesterId)!,
    subject: facts.subject,
    steps: plan.map((step) => ({
      step: step.index,
      rule: {
        id: step.ruleId.startsWith('proposed-') ? null : step.ruleId,
        name: step.name,
        // A proposed rule has no saved version yet, replacing one or not.
        version: step.ruleVersion ?? 'proposed',
      },
      policy: step.policy,
      required: step.required,
      onExpiry: step.onExpiry,
      approvers: step.approvers.map((a) => ({
        ...people.get(a.approverId)!,
        delegatedFrom: a.delegatedFromId ? people.get(a.delegatedFromId)! : null,
      })),
      notes: step.notes,
    })),
    refusal: process === 'procurement' ? unroutedOverBudget(rules, plan, facts.subject) : null,
    rulesWithUnknownConditions,
  };
}
