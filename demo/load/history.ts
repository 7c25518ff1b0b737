/**
 * Loads the demo's recent past (demo/data/history.ts) as recorded history: finished change and
 * purchase requests written as their workflows would have left them, without running one. Each
 * gets its row, its scope or lines, the impact and risk the real assessment computes, the
 * approvals the demo's rules route it to (decided by those people, at plausible times), an audit
 * row for every step, and its place in the process index at the recorded times. Purchases that
 * were delivered are the recent purchases of the estate: the receipt names the asset already
 * loaded, and its cost is a purchase cost record of the month it arrived. No email is queued:
 * nothing of the past is sent again.
 */
import { randomUUID } from 'node:crypto';
import type { Knex } from 'knex';
import { changeRoutingSubject, planApprovalSteps, type ApprovalProcess, type ApprovalRule, type PlannedStep, type RoutingSubject } from '../../domain/approval-routing';
import { budgetPosition } from '../../domain/budget';
import { isRiskAbove, riskFactorsOf, scoreChangeRisk, type RiskLevel } from '../../domain/change-risk';
import { purchaseRoutingSubject, type PurchaseAssessment } from '../../domain/procurement';
import { activeRulesOf } from '../../model/approval-rules';
import { budgetFacts } from '../../model/budgets';
import { assessChangeImpact } from '../../model/change-impact';
import { processOwners } from '../../model/directory';
import { CONTRACT_PRICES, HARDWARE_MODELS } from '../data/catalogue';
import {
  ACCESSORY_STORIES, CANCELLATION_REASONS, CHANGE_ENDINGS, CHANGE_REVIEWERS, CHANGE_STORIES, CHANGE_TEAMS, CHANGE_TYPE_SHARE,
  HISTORY_CHANGES, HISTORY_DAYS, RECEIVERS, REJECTION_COMMENTS, UNBOUGHT_STORIES, type ChangeOutcome, type ChangeStory,
} from '../data/history';
import { CHANGE_MODELS } from '../data/processes';
import { COST_CENTRES, CURRENCY, PEOPLE } from '../data/organisation';
import {
  addDays, DAY_MS, emailOf, formatMicro, insertRows, isoDate, MICRO_PER_MINOR, monthStart, required, type Context, type Random, type Row,
} from './support';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const CHANGE_SYSTEM = 'system:change-workflow';
const PURCHASE_SYSTEM = 'system:purchase-workflow';
const APPROVAL_SYSTEM = 'system:approvals';

export interface HistoryCounts {
  changes: number;
  purchases: number;
  approvals: number;
  auditRows: number;
  receipts: number;
}

interface AuditRow {
  at: Date;
  key: string;
  actor: string;
  subjectType: 'change_request' | 'purchase_request';
  subjectId: string;
  workflowId: string;
  action: string;
  from?: string;
  to?: string;
  details?: Record<string, unknown>;
}

/** What the history writes, gathered so that each table gets one batch. */
class Recorder {
  audit: AuditRow[] = [];
  approvals: Row[] = [];
  /** workflow id -> when it started, entered its last state and finished. */
  processTimes = new Map<string, { started: Date; finished: Date }>();

  event(row: AuditRow): void {
    this.audit.push(row);
  }
}

const pick = <T>(random: Random, items: readonly T[]): T => items[random.int(0, items.length - 1)];
const later = (at: Date, ms: number) => new Date(at.getTime() + ms);

function shuffled<T>(random: Random, items: readonly T[]): T[] {
  const copy = [...items];
  for (let i = copy.length - 1; i > 0; i--) {
    const j = random.int(0, i);
    [copy[i], copy[j]] = [copy[j], copy[i]];
  }
  return copy;
}
const emailOfLogin = (login: string) => emailOf(login);

/** A moment in office hours (07:00 to 16:59 UTC, Monday to Friday) `daysAgo` days before `now`. */
function officeHours(now: Date, daysAgo: number, random: Random): Date {
  let day = addDays(new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate())), -daysAgo);
  while (day.getUTCDay() === 0 || day.getUTCDay() === 6) day = addDays(day, -1);
  return new Date(day.getTime() + random.int(7, 16) * HOUR + random.int(0, 59) * MINUTE);
}

/** The first weekly maintenance window (Saturday 22:00 UTC) at least `leadDays` after `from`. */
function maintenanceWindowAfter(from: Date, leadDays: number): Date {
  let day = addDays(new Date(Date.UTC(from.getUTCFullYear(), from.getUTCMonth(), from.getUTCDate())), leadDays);
  while (day.getUTCDay() !== 6) day = addDays(day, 1);
  return new Date(day.getTime() + 22 * HOUR);
}

/** Numbers from the request's own sequence, in order, so that the live requests continue after them. */
async function reserveNumbers(trx: Knex.Transaction, prefix: string, sequence: string, count: number): Promise<string[]> {
  if (count === 0) return [];
  const { rows } = await trx.raw<{ rows: { last: string }[] }>('SELECT setval(?::regclass, nextval(?::regclass) + ? - 1) AS last', [sequence, sequence, count]);
  const first = Number(rows[0].last) - count + 1;
  return Array.from({ length: count }, (_, i) => `${prefix}${String(first + i).padStart(7, '0')}`);
}

function drawOutcome<T extends string>(random: Random, endings: Partial<Record<T, number>>, otherwise: T): T {
  let roll = random.int(1, 100);
  for (const [ending, percent] of Object.entries(endings) as [T, number][]) {
    if (roll <= percent) return ending;
    roll -= percent;
  }
  return otherwise;
}

interface StepRun {
  /** When the last decision fell (or the step was cancelled). */
  at: Date;
  rejected: boolean;
}

/**
 * Runs the planned approval steps in order from `start`: each opens, its approvers decide (as
 * many as its policy needs), the rest are skipped. `rejectAt` names the step whose first approver
 * rejects; `cancelAt` a moment in the first step when the requester cancels instead.
 */
function runApprovalSteps(
  rec: Recorder, random: Random, ctx: Context,
  subject: { type: 'change_request' | 'purchase_request'; id: string; workflowId: string; system: string },
  plan: PlannedStep[], start: Date,
  options: { decisionMinutes: [number, number]; dueMs: number; rejectStep: number | null; cancelAt: Date | null },
): StepRun {
  const loginOf = new Map([...ctx.person].map(([login, id]) => [id, login]));
  let at = start;
  for (const step of plan) {
    if (step.approvers.length === 0) continue;
    const base = `${subject.workflowId}:r0:step:${step.index}`;
    rec.event({
      at, key: `${base}:open`, actor: APPROVAL_SYSTEM, subjectType: subject.type, subjectId: subject.id, workflowId: subject.workflowId, action: 'approval_step_opened',
      details: { revision: 0, step: step.index, name: step.name, ruleId: step.ruleId, ruleVersion: step.ruleVersion ?? null, policy: step.policy, required: step.required, notes: step.notes },
    });
    const rows = step.approvers.map((a) => ({
      id: randomUUID(), subject_type: subject.type, subject_id: subject.id, workflow_id: subject.workflowId, revision: 0,
      step_order: step.index, step_name: step.name, step_policy: step.policy, step_required: step.required,
      rule_id: step.ruleId, rule_version: step.ruleVersion ?? null, approver_id: a.approverId, delegated_from_id: a.delegatedFromId,
      state: 'requested', due_at: later(at, options.dueMs).toISOString(), decided_at: null as string | null, comment: null as string | null,
      decided_via: null as string | null, created_at: at.toISOString(),
    }));
    rec.approvals.push(...rows);
    const closeRest = (state: 'skipped' | 'cancelled', when: Date) => {
      const open = rows.filter((r) => r.state === 'requested');
      if (open.length === 0) return;
      for (const r of open) Object.assign(r, { state, decided_at: when.toISOString() });
      rec.event({
        at: when, key: `${subject.workflowId}:${state === 'cancelled' ? 'cancel' : `r0:step:${step.index}:close`}:approvals`, actor: APPROVAL_SYSTEM,
        subjectType: subject.type, subjectId: subject.id, workflowId: subject.workflowId, action: `approvals_${state}`, details: { revision: 0, step: state === 'cancelled' ? null : step.index },
      });
    };
    if (options.cancelAt) {
      closeRest('cancelled', options.cancelAt);
      return { at: options.cancelAt, rejected: false };
    }
    const rejecting = options.rejectStep === step.index;
    const deciders = rejecting ? 1 : step.policy === 'any' ? 1 : step.required;
    for (const row of shuffled(random, rows).slice(0, deciders)) {
      at = later(at, random.int(options.decisionMinutes[0], options.decisionMinutes[1]) * MINUTE);
      const decision = rejecting ? 'rejected' : 'approved';
      const via = random.int(1, 4) === 1 ? 'api' : 'link';
      const comment = rejecting ? pick(random, REJECTION_COMMENTS) : null;
      Object.assign(row, { state: decision, decided_at: at.toISOString(), comment, decided_via: via });
      rec.event({
        at, key: `${subject.workflowId}:decision:${row.id}`, actor: emailOfLogin(required(loginOf, row.approver_id)), subjectType: subject.type, subjectId: subject.id,
        workflowId: subject.workflowId, action: `approval_${decision}`,
        details: { approvalId: row.id, step: step.index, stepName: step.name, approverId: row.approver_id, delegatedFromId: row.delegated_from_id, comment, via },
      });
    }
    // Every step left (and the rest of this one) is not asked once a step rejects.
    closeRest('skipped', later(at, 1_000));
    if (rejecting) return { at: later(at, 2_000), rejected: true };
    at = later(at, 5_000);
  }
  return { at, rejected: false };
}

/** Who a request names as its approvers: the people behind its approver kinds. */
/** The processes whose requests the demo history makes: a steward case comes from an inventory feed, a renewal from a finding. */
type DemoProcess = Exclude<ApprovalProcess, 'reconciliation' | 'renewal'>;

interface Approvers { requester: string; costCentreId: string | null; assetIds?: string[]; serviceOwnerIds?: string[] }

/**
 * The approval plan of a request, by the workflows' own routing rule (planApprovalSteps) over the
 * active rules, with what it reads about people (groups, managers, owners, process owners) read
 * once for the whole history rather than once per request. The demo has no delegations and
 * nobody inactive.
 */
async function approvalRouting(trx: Knex.Transaction, ctx: Context) {
  const rules: Record<DemoProcess, ApprovalRule[]> = { change: await activeRulesOf(trx, 'change'), procurement: await activeRulesOf(trx, 'procurement') };
  const groupIds = [...rules.change, ...rules.procurement].map((r) => r.groupId).filter((id): id is string => id !== null);
  const members: { group_id: string; id: string }[] = await trx('group_members as gm').join('people as p', 'p.id', 'gm.person_id')
    .whereIn('gm.group_id', groupIds).orderBy('p.name').select('gm.group_id', 'p.id');
  const groupMembers: Record<string, string[]> = {};
  for (const m of members) (groupMembers[m.group_id] ??= []).push(m.id);
  const fallbackApproverIds = (await processOwners(trx)).map((p) => p.id);
  const managedBy = new Map<string, string>((await trx('assets').whereNotNull('managed_by_id').select('id', 'managed_by_id')).map((a) => [a.id, a.managed_by_id]));
  const managerOf = new Map(PEOPLE.map((p) => [required(ctx.person, p.login), p.manager ? required(ctx.person, p.manager) : null]));
  const ownerOf = new Map(COST_CENTRES.map((cc) => [required(ctx.costCentre, cc.code), required(ctx.person, cc.owner)]));
  return (process: DemoProcess, subject: RoutingSubject, who: Approvers): PlannedStep[] => {
    const requesterId = required(ctx.person, who.requester);
    return planApprovalSteps(rules[process], subject, {
      requesterId,
      managerOf: { [requesterId]: managerOf.get(requesterId) ?? null },
      costCentreOwnerId: who.costCentreId ? ownerOf.get(who.costCentreId) ?? null : null,
      assetOwnerIds: [...new Set((who.assetIds ?? []).map((id) => managedBy.get(id)).filter((id): id is string => id !== undefined))],
      serviceOwnerIds: who.serviceOwnerIds ?? [],
      groupMembers,
      delegations: [],
      fallbackApproverIds,
    });
  };
}

type Routing = Awaited<ReturnType<typeof approvalRouting>>;

// ---------------------------------------------------------------------------------------------
// Changes
// ---------------------------------------------------------------------------------------------

interface CiRow { id: string; name: string; ci_class: string; cost_centre_id: string | null }

interface PlannedChange {
  id: string;
  number: string;
  workflowId: string;
  story: ChangeStory;
  ci: CiRow;
  requester: string;
  implementer: string;
  outcome: ChangeOutcome;
  submittedAt: Date;
  plannedStart: Date | null;
  costMinor: number;
}

function typeOf(random: Random): ChangeStory['type'] {
  const roll = random.int(1, 100);
  if (roll <= CHANGE_TYPE_SHARE.standard) return 'standard';
  return roll <= CHANGE_TYPE_SHARE.standard + CHANGE_TYPE_SHARE.normal ? 'normal' : 'emergency';
}

function planChanges(cis: CiRow[], now: Date, random: Random): Omit<PlannedChange, 'id' | 'number' | 'workflowId'>[] {
  const planned: Omit<PlannedChange, 'id' | 'number' | 'workflowId'>[] = [];
  for (let i = 0; i < HISTORY_CHANGES; i++) {
    const type = typeOf(random);
    const story = pick(random, CHANGE_STORIES.filter((s) => s.type === type));
    const candidates = cis.filter((c) => (story.ciClasses as string[]).includes(c.ci_class) && (!story.namePrefixes || story.namePrefixes.some((p) => c.name.startsWith(p))));
    const ci = pick(random, candidates);
    const team = CHANGE_TEAMS[story.team];
    const requester = pick(random, team);
    const implementer = pick(random, team.filter((login) => login !== requester));
    const outcome = drawOutcome<ChangeOutcome>(random, CHANGE_ENDINGS[type], 'successful');
    // A normal change waits for its maintenance window, up to two weeks: it starts early enough to be over by now.
    const submittedAt = officeHours(now, random.int(type === 'normal' ? 15 : 6, HISTORY_DAYS), random);
    const plannedStart = type === 'normal' ? maintenanceWindowAfter(submittedAt, 4) : null;
    const costMinor = story.costEuros ? random.int(story.costEuros[0], story.costEuros[1]) * 100 : 0;
    planned.push({ story, ci, requester, implementer, outcome, submittedAt, plannedStart, costMinor });
  }
  return planned.sort((a, b) => a.submittedAt.getTime() - b.submittedAt.getTime());
}

async function insertChanges(trx: Knex.Transaction, ctx: Context, rec: Recorder, route: Routing, now: Date, random: Random): Promise<number> {
  const cis: CiRow[] = await trx('configuration_items').orderBy('name').select('id', 'name', 'ci_class', 'cost_centre_id');
  const models = new Map<string, string>((await trx('change_models').select('name', 'id')).map((m) => [m.name, m.id]));
  const itOperations = required(ctx.costCentre, 'CC-1000');
  const drafts = planChanges(cis, now, random);
  const numbers = await reserveNumbers(trx, 'CHG', 'change_number_seq', drafts.length);
  const changes: PlannedChange[] = drafts.map((d, i) => ({ ...d, id: randomUUID(), number: numbers[i], workflowId: `change:${numbers[i]}` }));

  // The rows as their workflows leave them closed; the times and the approvals follow once assessed.
  await insertRows(trx, 'change_requests', changes.map((c) => ({
    id: c.id, number: c.number, workflow_id: c.workflowId, type: c.story.type,
    change_model_id: c.story.model ? required(models, c.story.model) : null,
    state: 'closed', close_code: c.outcome, requester_id: required(ctx.person, c.requester),
    cost_centre_id: c.ci.cost_centre_id ?? itOperations,
    title: c.story.title(c.ci.name), description: c.story.description(c.ci.name),
    planned_start: c.plannedStart?.toISOString() ?? null,
    planned_end: c.plannedStart ? later(c.plannedStart, 2 * HOUR).toISOString() : null,
    one_off_cost_minor: c.costMinor, currency: CURRENCY,
    created_at: c.submittedAt.toISOString(), updated_at: c.submittedAt.toISOString(),
  })));
  await insertRows(trx, 'change_affected_cis', changes.map((c) => ({ change_request_id: c.id, ci_id: c.ci.id })));

  const assessed: Row[] = [];
  const ceilings = new Map<string, RiskLevel>(CHANGE_MODELS.map((m) => [m.name, m.riskCeiling]));
  for (const c of changes) {
    const impact = await assessChangeImpact(trx, c.id);
    const risk = scoreChangeRisk(riskFactorsOf(impact, c.story.type));
    const byModel = c.story.model !== undefined && !isRiskAbove(risk.level, required(ceilings, c.story.model));
    const plan = byModel ? [] : route('change', changeRoutingSubject({
      type: c.story.type, riskLevel: risk.level, highestCriticality: impact.services.highestCriticality,
      oneOffCostMinor: c.costMinor, recurringCostMinor: 0, overBudget: impact.money.overBudget,
    }), {
      requester: c.requester, costCentreId: c.ci.cost_centre_id ?? itOperations,
      assetIds: impact.assets.behindCis.map((a) => a.assetId),
      serviceOwnerIds: impact.services.businessServices.map((sv) => sv.ownerId).filter((id): id is string => id !== null),
    });
    const times = recordChange(rec, ctx, random, c, { byModel, plan, riskLevel: risk.level, riskScore: risk.score });
    if (times.closedAt > now) throw new Error(`demo history: ${c.number} would close in the future`);
    assessed.push({
      id: c.id, impact: { ...impact, risk }, risk_score: risk.score, risk_level: risk.level,
      approved_at: times.approvedAt?.toISOString() ?? null, closed_at: times.closedAt.toISOString(),
      implementation: times.implementation, review: times.review,
    });
  }
  // One statement for all: the process index's trigger takes the services each change reached from it.
  await trx.raw(
    `UPDATE change_requests c
        SET impact = v.impact, risk_score = v.risk_score, risk_level = v.risk_level, approved_at = v.approved_at,
            closed_at = v.closed_at, updated_at = v.closed_at, implementation = v.implementation, review = v.review
       FROM jsonb_to_recordset(?::jsonb) AS v(id uuid, impact jsonb, risk_score int, risk_level text, approved_at timestamptz,
                                              closed_at timestamptz, implementation jsonb, review jsonb)
      WHERE c.id = v.id`,
    [JSON.stringify(assessed)],
  );
  return changes.length;
}

/** Writes the audit trail and approvals of one change from submission to closure; returns its times. */
function recordChange(
  rec: Recorder, ctx: Context, random: Random, c: PlannedChange,
  assessed: { byModel: boolean; plan: PlannedStep[]; riskLevel: RiskLevel; riskScore: number },
): { approvedAt: Date | null; closedAt: Date; implementation: Record<string, unknown> | null; review: Record<string, unknown> | null } {
  const subject = { subjectType: 'change_request' as const, subjectId: c.id, workflowId: c.workflowId };
  const key = (k: string) => `${c.workflowId}:${k}`;
  const requester = emailOfLogin(c.requester);
  const implementer = emailOfLogin(c.implementer);
  let state = 'new';
  const move = (at: Date, to: string, actor = CHANGE_SYSTEM, details: Record<string, unknown> = {}, closeCode: string | null = null) => {
    rec.event({ ...subject, at, key: key(`r0:state:${state}->${to}`), actor, action: 'state_changed', from: state, to, details: { ...details, closeCode } });
    state = to;
  };
  let at = c.submittedAt;
  rec.event({ ...subject, at, key: key('register'), actor: requester, action: 'submitted', to: 'new', details: { number: c.number } });
  move(at = later(at, random.int(2, 20) * 1_000), 'assess');
  rec.event({ ...subject, at: at = later(at, random.int(1, 4) * 1_000), key: key('r0:assess'), actor: CHANGE_SYSTEM, action: 'assessed', details: { revision: 0, riskScore: assessed.riskScore, riskLevel: assessed.riskLevel } });
  move(at = later(at, 500), 'authorize', CHANGE_SYSTEM, { riskLevel: assessed.riskLevel, riskScore: assessed.riskScore });

  const emergency = c.story.type === 'emergency';
  const cancelInAuthorize = c.outcome === 'cancelled' && !assessed.byModel;
  if (assessed.byModel) {
    const model = c.story.model!;
    rec.event({ ...subject, at: at = later(at, 800), key: key('r0:approved-by-model'), actor: CHANGE_SYSTEM, action: 'approved_by_model', details: { model, riskLevel: assessed.riskLevel } });
  } else {
    rec.event({ ...subject, at: at = later(at, 800), key: key('r0:plan'), actor: CHANGE_SYSTEM, action: 'approvals_planned', details: { revision: 0, steps: assessed.plan.length } });
    const withApprovers = assessed.plan.filter((s) => s.approvers.length > 0);
    const run = runApprovalSteps(rec, random, ctx, { type: 'change_request', id: c.id, workflowId: c.workflowId, system: CHANGE_SYSTEM }, assessed.plan, later(at, 1_000), {
      decisionMinutes: emergency ? [4, 40] : [25, 14 * 60],
      dueMs: emergency ? 2 * HOUR : 3 * DAY_MS,
      rejectStep: c.outcome === 'rejected' && withApprovers.length ? pick(random, withApprovers).index : null,
      cancelAt: cancelInAuthorize ? later(at, random.int(2, 20) * HOUR) : null,
    });
    at = run.at;
    if (cancelInAuthorize) {
      const reason = pick(random, CANCELLATION_REASONS);
      move(at = later(at, 1_000), 'closed', requester, { detail: reason }, 'cancelled');
      return { approvedAt: null, closedAt: at, implementation: null, review: null };
    }
    if (run.rejected || c.outcome === 'rejected') {
      move(at = later(at, 1_000), 'closed', CHANGE_SYSTEM, { detail: 'not authorized' }, 'rejected');
      return { approvedAt: null, closedAt: at, implementation: null, review: null };
    }
  }
  move(at = later(at, 2_000), 'scheduled');
  const approvedAt = at;
  // Approvals run past the window only if the plan was long: the change then takes the next one.
  let startAt = c.plannedStart ?? later(at, random.int(emergency ? 5 : 20, emergency ? 30 : 6 * 60) * MINUTE);
  while (startAt <= at) startAt = later(startAt, 7 * DAY_MS);
  move(startAt, 'implement');
  if (c.outcome === 'cancelled') {
    const reason = pick(random, CANCELLATION_REASONS);
    move(at = later(startAt, random.int(1, 6) * HOUR), 'closed', requester, { detail: reason }, 'cancelled');
    return { approvedAt, closedAt: at, implementation: null, review: null };
  }
  const startedAt = later(startAt, random.int(3, 30) * MINUTE);
  const startNotes = 'Started as planned.';
  rec.event({ ...subject, at: startedAt, key: key('implementation:started'), actor: implementer, action: 'implementation_started', details: { notes: startNotes } });
  const endedAt = later(startedAt, random.int(20, 150) * MINUTE);
  const failed = c.outcome === 'unsuccessful';
  const withIssues = c.outcome === 'successful_with_issues';
  const event = failed ? 'failed' : 'completed';
  const notes = failed
    ? 'Verification failed after the change; backed out to the previous state.'
    : withIssues ? 'Done; it took longer than planned and one health check needed a manual restart.' : 'Done and verified.';
  const backout = failed ? 'Restored the previous version and configuration; the service was checked healthy.' : null;
  rec.event({ ...subject, at: endedAt, key: key(`implementation:${event}`), actor: implementer, action: `implementation_${event}`, details: { notes, withIssues, backout } });
  const implementation = {
    started: { notes: startNotes, by: implementer, at: startedAt.toISOString() },
    [event]: { notes, withIssues, backout, by: implementer, at: endedAt.toISOString() },
  };
  if (!failed && !emergency) {
    move(at = later(endedAt, 2_000), 'closed', implementer, { detail: notes }, c.outcome);
    return { approvedAt, closedAt: at, implementation, review: null };
  }
  move(later(endedAt, 2_000), 'review', implementer, { proposedCloseCode: c.outcome });
  const reviewer = emailOfLogin(CHANGE_REVIEWERS.find((login) => login !== c.requester)!);
  const reviewedAt = later(endedAt, random.int(3, 72) * HOUR);
  const reviewNotes = failed
    ? 'Root cause found in the runbook; it is corrected and the change will be submitted again.'
    : 'Emergency justified; the fix is documented and the follow-up change is planned.';
  rec.event({ ...subject, at: reviewedAt, key: key('review'), actor: reviewer, action: 'reviewed', details: { notes: reviewNotes } });
  move(at = later(reviewedAt, 2_000), 'closed', reviewer, { detail: reviewNotes }, c.outcome);
  return { approvedAt, closedAt: at, implementation, review: { notes: reviewNotes, by: reviewer, at: reviewedAt.toISOString() } };
}

// ---------------------------------------------------------------------------------------------
// Purchases
// ---------------------------------------------------------------------------------------------

interface PurchaseLine {
  hardwareModelId: string | null;
  description: string;
  vendorId: string;
  vendorName: string;
  quantity: number;
  unitPriceMinor: number;
  contractId: string | null;
  priceSource: 'contract' | 'list' | 'quoted';
}

interface PlannedPurchase {
  requester: string;
  costCentreId: string;
  justification: string;
  line: PurchaseLine;
  submittedAt: Date;
  ending: 'closed' | 'rejected' | 'cancelled';
  /** Deliveries: when, how many, which assets (hardware tracked as assets) and who received them. */
  receipts: { at: Date; quantity: number; asset?: { id: string; tag: string; serial: string }; receiver: string }[];
}

interface RecentAsset {
  id: string; asset_tag: string; serial_number: string; purchase_cost_minor: string | number; purchase_date: string; model_id: string;
  model_name: string; manufacturer: string; vendor_id: string; vendor_name: string; cost_centre_id: string; contract_id: string | null;
  assignee_login: string | null; location: string;
}

/** The estate's units bought (not leased) since the first cost month: each arrived on the purchase that bought it. */
async function recentPurchasesOfTheEstate(trx: Knex.Transaction, since: Date, today: Date): Promise<RecentAsset[]> {
  const { rows } = await trx.raw<{ rows: RecentAsset[] }>(
    `SELECT a.id, a.asset_tag, a.serial_number, a.purchase_cost_minor, to_char(a.purchase_date, 'YYYY-MM-DD') AS purchase_date, a.model_id,
            m.name AS model_name, m.manufacturer, m.vendor_id, v.name AS vendor_name, a.cost_centre_id, a.contract_id,
            split_part(p.email, '@', 1) AS assignee_login, a.location
       FROM assets a
       JOIN hardware_models m ON m.id = a.model_id
       JOIN vendors v ON v.id = m.vendor_id
       LEFT JOIN contracts c ON c.id = a.contract_id
       LEFT JOIN people p ON p.id = a.assigned_to_id
      WHERE a.purchase_date >= ? AND a.purchase_date < ? AND a.serial_number IS NOT NULL AND coalesce(c.kind, '') <> 'lease'
      ORDER BY a.purchase_date, a.serial_number`,
    [isoDate(since), isoDate(today)],
  );
  return rows;
}

function planPurchases(ctx: Context, recent: RecentAsset[], vendors: Map<string, string>, now: Date, random: Random): PlannedPurchase[] {
  const today = ctx.today;
  const firstCostMonth = monthStart(today, -2);
  const nameOf = new Map(PEOPLE.map((p) => [p.login, p.name]));
  const receiverFor = (requester: string, location: string) => {
    const usual = location.startsWith('Lisbon') ? RECEIVERS.lisbon : RECEIVERS.elsewhere;
    return usual === requester ? (usual === RECEIVERS.elsewhere ? RECEIVERS.stand_in : RECEIVERS.elsewhere) : usual;
  };
  const plans: PlannedPurchase[] = [];

  for (const asset of recent) {
    const receivedAt = new Date(Date.parse(`${asset.purchase_date}T00:00:00Z`) + random.int(9, 15) * HOUR + random.int(0, 59) * MINUTE);
    const lisbon = asset.location.startsWith('Lisbon');
    const requester = asset.assignee_login ?? (lisbon ? RECEIVERS.lisbon : RECEIVERS.elsewhere);
    const model = `${asset.manufacturer} ${asset.model_name}`;
    plans.push({
      requester,
      costCentreId: asset.cost_centre_id,
      justification: asset.assignee_login
        ? `A ${model} for ${nameOf.get(asset.assignee_login) ?? asset.assignee_login}: the old one is out of warranty and failing.`
        : `Stock of ${model} for new starters and replacements (${asset.location.replace(/, stock room$/, '')}).`,
      line: {
        hardwareModelId: asset.model_id, description: model, vendorId: asset.vendor_id, vendorName: asset.vendor_name, quantity: 1,
        unitPriceMinor: Number(asset.purchase_cost_minor), contractId: asset.contract_id, priceSource: asset.contract_id ? 'contract' : 'list',
      },
      submittedAt: officeHours(receivedAt, random.int(9, 20), random),
      ending: 'closed',
      receipts: [{ at: receivedAt, quantity: 1, asset: { id: asset.id, tag: asset.asset_tag, serial: asset.serial_number }, receiver: receiverFor(requester, asset.location) }],
    });
  }

  // Accessories twice each, delivered since the first cost month, some in two deliveries.
  const deliveryDays = Math.max(4, Math.round((today.getTime() - firstCostMonth.getTime()) / DAY_MS));
  for (const story of ACCESSORY_STORIES) {
    for (let round = 0; round < 2; round++) {
      const quantity = random.int(story.quantity[0], story.quantity[1]);
      const firstAt = officeHours(now, random.int(1, deliveryDays - 3), random);
      const split = quantity >= 4 && random.int(1, 3) === 1 ? random.int(1, quantity - 1) : quantity;
      const secondAt = later(firstAt, random.int(2, 6) * DAY_MS);
      const twoDeliveries = split < quantity && secondAt < later(now, -HOUR);
      const receiver = story.requester === RECEIVERS.elsewhere ? RECEIVERS.stand_in : RECEIVERS.elsewhere;
      plans.push({
        requester: story.requester,
        costCentreId: required(ctx.costCentre, story.costCentre),
        justification: story.justification,
        line: {
          hardwareModelId: null, description: story.description, vendorId: required(vendors, story.vendor), vendorName: story.vendor, quantity,
          unitPriceMinor: story.unitPriceMinor, contractId: null, priceSource: 'quoted',
        },
        submittedAt: officeHours(firstAt, random.int(8, 18), random),
        ending: 'closed',
        receipts: twoDeliveries
          ? [{ at: firstAt, quantity: split, receiver }, { at: secondAt, quantity: quantity - split, receiver }]
          : [{ at: firstAt, quantity, receiver }],
      });
    }
  }

  for (const story of UNBOUGHT_STORIES) {
    const model = HARDWARE_MODELS.find((m) => m.key === story.model)!;
    const contractPrice = CONTRACT_PRICES.find((p) => p.model === story.model);
    plans.push({
      requester: story.requester,
      costCentreId: required(ctx.costCentre, story.costCentre),
      justification: story.justification,
      line: {
        hardwareModelId: required(ctx.model, story.model).id, description: `${model.manufacturer} ${model.name}`,
        vendorId: required(vendors, model.vendor), vendorName: model.vendor, quantity: story.quantity,
        unitPriceMinor: contractPrice?.unitPriceMinor ?? model.listPriceMinor,
        contractId: contractPrice ? required(ctx.contract, contractPrice.contract).id : null, priceSource: contractPrice ? 'contract' : 'list',
      },
      submittedAt: officeHours(now, random.int(4, HISTORY_DAYS), random),
      ending: story.ending,
      receipts: [],
    });
  }
  return plans.sort((a, b) => a.submittedAt.getTime() - b.submittedAt.getTime());
}

async function insertPurchases(trx: Knex.Transaction, ctx: Context, rec: Recorder, route: Routing, now: Date, random: Random): Promise<{ purchases: number; receipts: number }> {
  const vendors = new Map<string, string>((await trx('vendors').select('name', 'id')).map((v) => [v.name, v.id]));
  const recent = await recentPurchasesOfTheEstate(trx, monthStart(ctx.today, -2), ctx.today);
  const plans = planPurchases(ctx, recent, vendors, now, random);
  const numbers = await reserveNumbers(trx, 'PR', 'purchase_request_number_seq', plans.length);
  const purchases = plans.map((p, i) => ({ ...p, id: randomUUID(), lineId: randomUUID(), number: numbers[i], workflowId: `purchase:${numbers[i]}` }));
  const totalOf = (p: PlannedPurchase) => p.line.quantity * p.line.unitPriceMinor;

  await insertRows(trx, 'purchase_requests', purchases.map((p) => ({
    id: p.id, number: p.number, workflow_id: p.workflowId, requester_id: required(ctx.person, p.requester), cost_centre_id: p.costCentreId,
    state: p.ending, justification: p.justification, currency: CURRENCY, total_minor: totalOf(p),
    created_at: p.submittedAt.toISOString(), updated_at: p.submittedAt.toISOString(),
  })));
  await insertRows(trx, 'purchase_request_lines', purchases.map((p) => ({
    id: p.lineId, purchase_request_id: p.id, line_number: 1, hardware_model_id: p.line.hardwareModelId, description: p.line.description,
    vendor_id: p.line.vendorId, quantity: p.line.quantity, unit_price_minor: p.line.unitPriceMinor, contract_id: p.line.contractId, price_source: p.line.priceSource,
  })));

  const delivered = purchases.filter((p) => p.ending === 'closed');
  const orderNumbers = await reserveNumbers(trx, 'PO', 'purchase_order_number_seq', delivered.length);
  const orders: Row[] = [];
  const receipts: Row[] = [];
  const costs: Row[] = [];
  const assetReceipts: { assetId: string; receiptId: string }[] = [];
  const updates: { id: string; assessment: PurchaseAssessment; outcome: string; closedAt: Date }[] = [];
  for (const p of purchases) {
    const total = totalOf(p);
    const facts = await budgetFacts(trx, p.costCentreId, CURRENCY, p.submittedAt);
    const position = budgetPosition(facts, total, CURRENCY);
    const offCatalogue = p.line.hardwareModelId === null;
    const assessment: PurchaseAssessment = { totalMinor: total, currency: CURRENCY, ...facts, ...position, offCatalogue, newVendor: false, reuseOffer: [] };
    const routing = purchaseRoutingSubject({ totalMinor: total, overBudget: position.overBudget, offCatalogue, newVendor: false });
    const plan = route('procurement', routing, { requester: p.requester, costCentreId: p.costCentreId });

    const subject = { subjectType: 'purchase_request' as const, subjectId: p.id, workflowId: p.workflowId };
    const key = (k: string) => `${p.workflowId}:${k}`;
    const requester = emailOfLogin(p.requester);
    let state = 'submitted';
    const move = (at: Date, to: string, actor = PURCHASE_SYSTEM, outcome: string | null = null) => {
      rec.event({ ...subject, at, key: key(`state:${state}->${to}`), actor, action: 'state_changed', from: state, to, details: { outcome } });
      state = to;
    };
    let at = p.submittedAt;
    rec.event({ ...subject, at, key: key('register'), actor: requester, action: 'submitted', to: 'submitted', details: { number: p.number } });
    move(at = later(at, random.int(2, 20) * 1_000), 'budget_check');
    rec.event({ ...subject, at: at = later(at, 1_500), key: key('check'), actor: PURCHASE_SYSTEM, action: 'checked', details: { totalMinor: total, overBudget: position.overBudget, problem: null } });
    move(at = later(at, 500), 'authorize');
    rec.event({ ...subject, at: at = later(at, 800), key: key('plan'), actor: PURCHASE_SYSTEM, action: 'approvals_planned', details: { subject: routing, steps: plan.length, refusal: null } });
    const withApprovers = plan.filter((s) => s.approvers.length > 0);
    // Over budget, the finance step is the one that says no; otherwise any step may.
    const rejectStep = p.ending !== 'rejected' || withApprovers.length === 0 ? null
      : (withApprovers.find((s) => s.name === 'Finance') ?? pick(random, withApprovers)).index;
    const run = runApprovalSteps(rec, random, ctx, { type: 'purchase_request', id: p.id, workflowId: p.workflowId, system: PURCHASE_SYSTEM }, plan, later(at, 1_000), {
      decisionMinutes: [30, 16 * 60], dueMs: 3 * DAY_MS, rejectStep,
      cancelAt: p.ending === 'cancelled' ? later(at, random.int(3, 40) * HOUR) : null,
    });
    at = run.at;
    let outcome: string;
    if (p.ending === 'cancelled') {
      outcome = pick(random, CANCELLATION_REASONS);
      move(at = later(at, 1_000), 'cancelled', requester, outcome);
    } else if (p.ending === 'rejected') {
      outcome = 'an approval step rejected the request or ran out of time';
      move(at = later(at, 1_000), 'rejected', PURCHASE_SYSTEM, outcome);
    } else {
      move(at = later(at, 2_000), 'ordering');
      const orderId = randomUUID();
      const orderNumber = orderNumbers[delivered.indexOf(p)];
      rec.event({ ...subject, at: at = later(at, 1_000), key: key('orders'), actor: PURCHASE_SYSTEM, action: 'orders_issued', details: { orders: [{ number: orderNumber, amountMinor: total }] } });
      const issuedAt = at;
      let receivedUnits = 0;
      for (const [index, r] of p.receipts.entries()) {
        if (r.at <= issuedAt) throw new Error(`demo history: ${p.number} would be received before it was ordered`);
        const receiptId = randomUUID();
        const receiptKey = key(`receipt:${index + 1}`);
        const receiver = emailOfLogin(r.receiver);
        receipts.push({
          id: receiptId, idempotency_key: `${receiptKey}:0`, purchase_order_id: orderId, purchase_request_line_id: p.lineId, quantity: r.quantity,
          serial_numbers: r.asset ? [r.asset.serial] : [], received_by_id: required(ctx.person, r.receiver), received_at: r.at.toISOString(),
        });
        rec.event({ ...subject, at: r.at, key: receiptKey, actor: receiver, action: 'receipt_recorded', details: { purchaseOrderId: orderId, lines: [{ lineId: p.lineId, quantity: r.quantity, serialNumbers: r.asset ? [r.asset.serial] : [] }] } });
        if (r.asset) {
          assetReceipts.push({ assetId: r.asset.id, receiptId });
          rec.event({ ...subject, at: later(r.at, 1_000), key: `${receiptKey}:asset:${r.asset.serial}`, actor: PURCHASE_SYSTEM, action: 'asset_created', details: { serialNumber: r.asset.serial, assetTag: r.asset.tag } });
        }
        const amountMinor = r.quantity * p.line.unitPriceMinor;
        costs.push(purchaseCost(p, { receiptId, orderNumber, at: r.at, quantity: r.quantity, amountMinor, asset: r.asset }));
        rec.event({ ...subject, at: later(r.at, 2_000), key: `${receiptKey}:cost:${receiptId}`, actor: PURCHASE_SYSTEM, action: 'purchase_cost_recorded', details: { rows: 1, amountMinor, currency: CURRENCY } });
        receivedUnits += r.quantity;
        move(later(r.at, 3_000), receivedUnits < p.line.quantity ? 'partially_received' : 'received', receiver);
        at = later(r.at, 3_000);
      }
      rec.event({ ...subject, at: at = later(at, 1_000), key: key('close-orders'), actor: PURCHASE_SYSTEM, action: 'orders_closed' });
      outcome = 'received in full';
      move(at = later(at, 1_000), 'closed', PURCHASE_SYSTEM, outcome);
      orders.push({
        id: orderId, number: orderNumber, purchase_request_id: p.id, vendor_id: p.line.vendorId, state: 'closed', amount_minor: total, currency: CURRENCY,
        issued_at: issuedAt.toISOString(), received_minor: total, closed_at: at.toISOString(),
      });
    }
    if (at > now) throw new Error(`demo history: ${p.number} would close in the future`);
    updates.push({ id: p.id, assessment, outcome, closedAt: at });
    rec.processTimes.set(p.workflowId, { started: p.submittedAt, finished: at });
  }

  await trx.raw(
    `UPDATE purchase_requests p SET assessment = v.assessment, outcome = v.outcome, closed_at = v.closed_at, updated_at = v.closed_at
       FROM jsonb_to_recordset(?::jsonb) AS v(id uuid, assessment jsonb, outcome text, closed_at timestamptz)
      WHERE p.id = v.id`,
    [JSON.stringify(updates.map((u) => ({ id: u.id, assessment: u.assessment, outcome: u.outcome, closed_at: u.closedAt.toISOString() })))],
  );
  await insertRows(trx, 'purchase_orders', orders);
  await insertRows(trx, 'receipts', receipts);
  if (assetReceipts.length) {
    await trx.raw(
      `UPDATE assets a SET receipt_id = v.receipt_id FROM jsonb_to_recordset(?::jsonb) AS v(asset_id uuid, receipt_id uuid) WHERE a.id = v.asset_id`,
      [JSON.stringify(assetReceipts.map((r) => ({ asset_id: r.assetId, receipt_id: r.receiptId })))],
    );
  }
  await insertRows(trx, 'cost_records', costs);
  return { purchases: purchases.length, receipts: receipts.length };
}

/** The FOCUS purchase cost of one delivery, as the receipt's cost activity writes it. */
function purchaseCost(
  p: PlannedPurchase & { number: string },
  r: { receiptId: string; orderNumber: string; at: Date; quantity: number; amountMinor: number; asset?: { id: string; tag: string; serial: string } },
): Row {
  return {
    source_key: `demo:receipt:${r.orderNumber}:${r.asset ? r.asset.serial : r.receiptId}`,
    billing_period_start: monthStart(r.at).toISOString(),
    billing_period_end: monthStart(r.at, 1).toISOString(),
    charge_period_start: r.at.toISOString(),
    charge_period_end: later(r.at, 1_000).toISOString(),
    charge_category: 'Purchase',
    charge_description: `${r.quantity} x ${p.line.description} on ${r.orderNumber}`,
    provider_name: p.line.vendorName,
    publisher_name: p.line.vendorName,
    invoice_issuer_name: p.line.vendorName,
    service_name: p.line.description,
    service_category: p.line.hardwareModelId ? 'Hardware' : 'Other',
    resource_id: r.asset?.tag ?? null,
    resource_name: r.asset?.tag ?? null,
    billed_cost: formatMicro(r.amountMinor * MICRO_PER_MINOR),
    effective_cost: formatMicro(r.amountMinor * MICRO_PER_MINOR),
    list_cost: null,
    billing_currency: CURRENCY,
    tags: JSON.stringify({ purchaseRequest: p.number, purchaseOrder: r.orderNumber }),
    asset_id: r.asset?.id ?? null,
    cost_centre_id: p.costCentreId,
  };
}

// ---------------------------------------------------------------------------------------------

/**
 * Writes the history after everything it refers to is loaded (people, catalogue, estate, service
 * map, costs, rules). The process index's triggers stamp the loading time on every row: the
 * recorded times replace it at the end, and the audit rows go in in the order they happened.
 */
export async function insertHistory(trx: Knex.Transaction, ctx: Context, now: Date, random: Random): Promise<HistoryCounts> {
  const rec = new Recorder();
  const route = await approvalRouting(trx, ctx);
  const changes = await insertChanges(trx, ctx, rec, route, now, random);
  const { purchases, receipts } = await insertPurchases(trx, ctx, rec, route, now, random);
  for (const [workflowId, times] of changesTimes(rec)) rec.processTimes.set(workflowId, times);

  await insertRows(trx, 'approvals', rec.approvals);
  rec.audit.sort((a, b) => a.at.getTime() - b.at.getTime());
  await insertRows(trx, 'audit_log', rec.audit.map((e) => ({
    occurred_at: e.at.toISOString(), idempotency_key: e.key, actor: e.actor, subject_type: e.subjectType, subject_id: e.subjectId,
    action: e.action, from_state: e.from ?? null, to_state: e.to ?? null, details: JSON.stringify(e.details ?? {}), workflow_id: e.workflowId,
  })));
  await trx.raw(
    `UPDATE processes p SET started_at = v.started, state_entered_at = v.finished, finished_at = v.finished, sla_due_at = NULL
       FROM jsonb_to_recordset(?::jsonb) AS v(workflow_id text, started timestamptz, finished timestamptz)
      WHERE p.workflow_id = v.workflow_id`,
    [JSON.stringify([...rec.processTimes].map(([workflowId, t]) => ({ workflow_id: workflowId, started: t.started.toISOString(), finished: t.finished.toISOString() })))],
  );
  return { changes, purchases, approvals: rec.approvals.length, auditRows: rec.audit.length, receipts };
}

/** Each change's start and end, read back from its audit trail (submitted and closed). */
function changesTimes(rec: Recorder): Map<string, { started: Date; finished: Date }> {
  const times = new Map<string, { started: Date; finished: Date }>();
  for (const e of rec.audit) {
    if (e.subjectType !== 'change_request') continue;
    if (e.action === 'submitted') times.set(e.workflowId, { started: e.at, finished: e.at });
    if (e.action === 'state_changed' && e.to === 'closed') required(times, e.workflowId).finished = e.at;
  }
  return times;
}
