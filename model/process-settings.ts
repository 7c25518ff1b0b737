/**
 * How the processes run, as data process owners and admins edit: change models, SLA targets,
 * maintenance and blackout windows, and the days before a warranty or lease ends that its
 * reminder goes out. Every record carries a version: an update names the version it was made on
 * and is refused when that is no longer current, checked in the write's own transaction with the
 * row locked; every write is audited with the values before and after.
 *
 * The schemas are shared by the JSON API and the web forms, so both refuse the same input with
 * the same messages.
 */
import { createHash } from 'node:crypto';
import type { Knex } from 'knex';
import { z } from 'zod';
import { ASSET_STATES } from '../domain/asset-lifecycle';
import { CHANGE_STATES } from '../domain/change-request';
import { RISK_LEVELS, type RiskLevel } from '../domain/change-risk';
import type { ReminderLeadTimes } from '../domain/end-of-term-reminders';
import { PROCESS_KINDS, RENEWAL_STATES, isFinalState, type ProcessKind } from '../domain/processes';
import { PURCHASE_STATES } from '../domain/procurement';
import { CASE_STATES } from '../domain/reconciliation';
import { insertAuditRow } from './audit-rows';
import { paginate, type Page } from './page';

// ---------------------------------------------------------------------------------------------
// Refusals
// ---------------------------------------------------------------------------------------------

/** A field of the input and what is wrong with it, as the API's 400 details name them. */
export interface FieldProblem {
  path: string;
  message: string;
}

export type SettingRefusal =
  | { rule: 'not_found'; message: string }
  | { rule: 'version_mismatch'; message: string; currentVersion: number }
  /** A change sent as if it were a create, without the version it was made on. */
  | { rule: 'version_required'; message: string; currentVersion: number }
  | { rule: 'invalid_input'; message: string; problems: FieldProblem[] }
  | { rule: 'name_taken' | 'retired'; message: string };

/** A write this module refused; nothing was written. */
export class SettingRefused extends Error {
  constructor(readonly refusal: SettingRefusal) {
    super(refusal.message);
  }
}

const stale = (what: string, currentVersion: number) => new SettingRefused({
  rule: 'version_mismatch',
  currentVersion,
  message: `this ${what} was changed since you read it: the current version is ${currentVersion}; read it again and repeat your change`,
});

const invalid = (problems: FieldProblem[]) =>
  new SettingRefused({ rule: 'invalid_input', problems, message: problems.map((p) => `${p.path}: ${p.message}`).join('; ') });

/** Differences between two flat records, for an audit row: { field: { from, to } }. */
function changesBetween<T extends object>(before: T, after: T): Record<string, { from: unknown; to: unknown }> {
  const changes: Record<string, { from: unknown; to: unknown }> = {};
  for (const key of Object.keys(after) as (keyof T & string)[]) {
    if (JSON.stringify(before[key] ?? null) !== JSON.stringify(after[key] ?? null)) changes[key] = { from: before[key] ?? null, to: after[key] ?? null };
  }
  return changes;
}

const isoOf = (value: Date | string) => new Date(value).toISOString();

/**
 * audit_log.subject_id is a uuid, and SLA targets and settings are named by text keys: they get a
 * name-based uuid (RFC 9562 version 5), the same for the same key every time, so that the audit
 * history of one target is one subject.
 */
const SETTINGS_NAMESPACE = Buffer.from('0b3c52a6e2f44a0e9d4c7b1f3e5a8c21', 'hex');
export function settingSubjectId(kind: string, key: string): string {
  const hash = createHash('sha1').update(SETTINGS_NAMESPACE).update(`${kind}:${key}`).digest();
  hash[6] = (hash[6] & 0x0f) | 0x50;
  hash[8] = (hash[8] & 0x3f) | 0x80;
  const hex = hash.subarray(0, 16).toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

// ---------------------------------------------------------------------------------------------
// Change models
// ---------------------------------------------------------------------------------------------

const modelName = z.string().trim().min(1, { message: 'required' }).max(200);
const modelDescription = z.string().trim().max(2000);

export const changeModelCreate = z.strictObject({
  name: modelName,
  description: modelDescription.default(''),
  riskCeiling: z.enum(RISK_LEVELS, { message: `one of: ${RISK_LEVELS.join(', ')}` }).default('low')
    .describe('the highest assessed risk a standard change of this model may carry without approval'),
  active: z.boolean().default(true).describe('an inactive model takes no new standard changes'),
});
export type ChangeModelCreate = z.output<typeof changeModelCreate>;

export const changeModelUpdate = z.strictObject({
  name: modelName.optional(),
  description: modelDescription.optional(),
  riskCeiling: z.enum(RISK_LEVELS, { message: `one of: ${RISK_LEVELS.join(', ')}` }).optional(),
  active: z.boolean().optional(),
});
export type ChangeModelUpdate = z.output<typeof changeModelUpdate>;

export interface ChangeModel {
  id: string;
  name: string;
  description: string;
  riskCeiling: RiskLevel;
  active: boolean;
  version: number;
  updatedAt: string;
}

interface ChangeModelRow {
  id: string;
  name: string;
  description: string;
  risk_ceiling: RiskLevel;
  active: boolean;
  version: number;
  updated_at: Date;
}

const toChangeModel = (row: ChangeModelRow): ChangeModel => ({
  id: row.id, name: row.name, description: row.description, riskCeiling: row.risk_ceiling, active: row.active, version: row.version, updatedAt: isoOf(row.updated_at),
});
const changeModelValues = (m: ChangeModel) => ({ name: m.name, description: m.description, riskCeiling: m.riskCeiling, active: m.active });

/** The change models, active ones only unless asked; by name. */
export async function listChangeModelRecords(db: Knex, filter: { includeInactive?: boolean } = {}): Promise<ChangeModel[]> {
  const q = db('change_models').orderBy('name').orderBy('id');
  if (!filter.includeInactive) q.where({ active: true });
  return ((await q) as ChangeModelRow[]).map(toChangeModel);
}

export async function findChangeModel(db: Knex, id: string, lock = false): Promise<ChangeModel | undefined> {
  const q = db('change_models').where({ id }).first();
  if (lock) q.forUpdate();
  const row = (await q) as ChangeModelRow | undefined;
  return row && toChangeModel(row);
}

async function refuseTakenModelName(trx: Knex, name: string, exceptId?: string): Promise<void> {
  const q = trx('change_models').whereRaw('lower(name) = lower(?)', [name]).first('id');
  if (exceptId) q.whereNot({ id: exceptId });
  if (await q) throw new SettingRefused({ rule: 'name_taken', message: `a change model is named ${name} already` });
}

export async function createChangeModel(db: Knex, input: ChangeModelCreate, actor: string): Promise<ChangeModel> {
  return db.transaction(async (trx) => {
    await refuseTakenModelName(trx, input.name);
    const [row] = (await trx('change_models')
      .insert({ name: input.name, description: input.description, risk_ceiling: input.riskCeiling, active: input.active })
      .returning('*')) as ChangeModelRow[];
    const model = toChangeModel(row);
    await insertAuditRow(trx, { actor, subjectType: 'change_model', subjectId: model.id, action: 'created', details: { values: changeModelValues(model) } });
    return model;
  });
}

export async function updateChangeModel(db: Knex, id: string, expectedVersions: number[], patch: ChangeModelUpdate, actor: string): Promise<{ model: ChangeModel; changed: boolean }> {
  return db.transaction(async (trx) => {
    const current = await findChangeModel(trx, id, true);
    if (!current) throw new SettingRefused({ rule: 'not_found', message: `no change model ${id}` });
    if (!expectedVersions.includes(current.version)) throw stale('change model', current.version);
    const before = changeModelValues(current);
    const after = { ...before, ...Object.fromEntries(Object.entries(patch).filter(([, v]) => v !== undefined)) };
    const changes = changesBetween(before, after);
    if (Object.keys(changes).length === 0) return { model: current, changed: false };
    if (changes.name) await refuseTakenModelName(trx, after.name, id);
    const [row] = (await trx('change_models').where({ id })
      .update({ name: after.name, description: after.description, risk_ceiling: after.riskCeiling, active: after.active, version: trx.raw('version + 1'), updated_at: trx.fn.now() })
      .returning('*')) as ChangeModelRow[];
    await insertAuditRow(trx, { actor, subjectType: 'change_model', subjectId: id, action: 'updated', details: { changes } });
    return { model: toChangeModel(row), changed: true };
  });
}

// ---------------------------------------------------------------------------------------------
// SLA targets
// ---------------------------------------------------------------------------------------------

/** The states each process can be in, as the process index names them (domain/ vocabularies). */
export const PROCESS_STATES: Record<ProcessKind, readonly string[]> = {
  change: CHANGE_STATES,
  procurement: PURCHASE_STATES,
  asset_lifecycle: ASSET_STATES,
  reconciliation: CASE_STATES,
  renewal: RENEWAL_STATES,
};

/** The states a target may be set for: those a process can wait in (a final state never breaches). */
export const slaStatesOf = (process: ProcessKind) => PROCESS_STATES[process].filter((state) => !isFinalState(process, state));

/** A year: a target longer than that says nothing a process owner can act on. */
export const MAX_SLA_MINUTES = 525_600;

export const slaTargetInput = z.strictObject({
  process: z.enum(PROCESS_KINDS, { message: `one of: ${PROCESS_KINDS.join(', ')}` }),
  state: z.string().trim().min(1, { message: 'required' }).max(100),
  minutes: z.number({ message: 'not a whole number' }).int({ message: 'not a whole number' })
    .min(1, { message: 'at least 1 minute' }).max(MAX_SLA_MINUTES, { message: `at most ${MAX_SLA_MINUTES} minutes (a year)` })
    .describe('how long a process may stay in the state before it breaches its SLA'),
}).superRefine((input, ctx) => {
  const states = PROCESS_STATES[input.process];
  if (input.state === '*') {
    // The process index looks a target up by the exact state (process_sla_due): a catch-all would be saved and never used.
    ctx.addIssue({ code: 'custom', path: ['state'], message: `a target is set per state; the states of ${input.process} are: ${slaStatesOf(input.process).join(', ')}` });
  } else if (!states.includes(input.state)) {
    ctx.addIssue({ code: 'custom', path: ['state'], message: `${input.state} is not a state of ${input.process}; its states are: ${slaStatesOf(input.process).join(', ')}` });
  } else if (isFinalState(input.process, input.state)) {
    ctx.addIssue({ code: 'custom', path: ['state'], message: `${input.state} is a final state: a process there has no SLA; the states of ${input.process} are: ${slaStatesOf(input.process).join(', ')}` });
  }
});
export type SlaTargetInput = z.output<typeof slaTargetInput>;

export interface SlaTarget {
  process: ProcessKind;
  state: string;
  minutes: number;
  version: number;
  updatedAt: string;
}

interface SlaTargetRow {
  process: ProcessKind;
  state: string;
  target_minutes: number;
  version: number;
  updated_at: Date;
}

const toSlaTarget = (row: SlaTargetRow): SlaTarget => ({ process: row.process, state: row.state, minutes: row.target_minutes, version: row.version, updatedAt: isoOf(row.updated_at) });
const slaSubject = (process: string, state: string) => settingSubjectId('sla_target', `${process}/${state}`);

/** The targets, by process and then by the order of the process's states. */
export async function listSlaTargets(db: Knex, filter: { process?: ProcessKind } = {}): Promise<SlaTarget[]> {
  const q = db('sla_targets');
  if (filter.process) q.where({ process: filter.process });
  const targets = ((await q) as SlaTargetRow[]).map(toSlaTarget);
  const rank = (t: SlaTarget) => PROCESS_KINDS.indexOf(t.process) * 1000 + PROCESS_STATES[t.process].indexOf(t.state);
  return targets.sort((a, b) => rank(a) - rank(b));
}

export async function findSlaTarget(db: Knex, process: string, state: string, lock = false): Promise<SlaTarget | undefined> {
  const q = db('sla_targets').where({ process, state }).first();
  if (lock) q.forUpdate();
  const row = (await q) as SlaTargetRow | undefined;
  return row && toSlaTarget(row);
}

/**
 * Creates the target of a state, or changes it. A change needs the version read (`expected`: the
 * If-Match versions; undefined when none was sent, which only a create may do). A process takes
 * the target when it enters the state: those already in it keep the due time they entered with.
 */
export async function saveSlaTarget(db: Knex, input: SlaTargetInput, expected: number[] | undefined, actor: string): Promise<{ target: SlaTarget; created: boolean; changed: boolean }> {
  return db.transaction(async (trx) => {
    const current = await findSlaTarget(trx, input.process, input.state, true);
    const subjectId = slaSubject(input.process, input.state);
    if (!current) {
      if (expected && !expected.includes(0)) throw stale('SLA target', 0);
      const inserted = (await trx('sla_targets')
        .insert({ process: input.process, state: input.state, target_minutes: input.minutes })
        .onConflict(['process', 'state']).ignore()
        .returning('*')) as SlaTargetRow[];
      // Another create of the same target committed first: this one was made without seeing it.
      if (inserted.length === 0) throw stale('SLA target', (await findSlaTarget(trx, input.process, input.state))?.version ?? 1);
      const target = toSlaTarget(inserted[0]);
      await insertAuditRow(trx, { actor, subjectType: 'sla_target', subjectId, action: 'created', details: { process: input.process, state: input.state, values: { minutes: input.minutes } } });
      return { target, created: true, changed: true };
    }
    if (!expected) throw new SettingRefused({ rule: 'version_required', currentVersion: current.version, message: `${input.process} ${input.state} has a target already (version ${current.version}): send it as If-Match to change it` });
    if (!expected.includes(current.version)) throw stale('SLA target', current.version);
    if (current.minutes === input.minutes) return { target: current, created: false, changed: false };
    const [row] = (await trx('sla_targets').where({ process: input.process, state: input.state })
      .update({ target_minutes: input.minutes, version: trx.raw('version + 1'), updated_at: trx.fn.now() })
      .returning('*')) as SlaTargetRow[];
    await insertAuditRow(trx, {
      actor, subjectType: 'sla_target', subjectId, action: 'updated',
      details: { process: input.process, state: input.state, changes: { minutes: { from: current.minutes, to: input.minutes } } },
    });
    return { target: toSlaTarget(row), created: false, changed: true };
  });
}

/**
 * Removes a state's target (with the version read): processes entering the state from now on have
 * no due time; those in it keep theirs. Audited with the target as it was.
 */
export async function removeSlaTarget(db: Knex, process: ProcessKind, state: string, expected: number[], actor: string): Promise<SlaTarget> {
  return db.transaction(async (trx) => {
    const current = await findSlaTarget(trx, process, state, true);
    if (!current) throw new SettingRefused({ rule: 'not_found', message: `${process} ${state} has no SLA target` });
    if (!expected.includes(current.version)) throw stale('SLA target', current.version);
    await trx('sla_targets').where({ process, state }).delete();
    await insertAuditRow(trx, {
      actor, subjectType: 'sla_target', subjectId: slaSubject(process, state), action: 'removed',
      details: { process, state, before: { minutes: current.minutes, version: current.version } },
    });
    return current;
  });
}

// ---------------------------------------------------------------------------------------------
// Maintenance and blackout windows
// ---------------------------------------------------------------------------------------------

export const WINDOW_KINDS = ['maintenance', 'blackout'] as const;
export type WindowKind = (typeof WINDOW_KINDS)[number];

const instant = z.iso.datetime({ offset: true, message: 'not an ISO instant with an offset (2026-12-24T18:00:00+01:00)' });
const ciReference = z.strictObject({
  name: z.string().trim().min(1, { message: 'required' }).max(200),
  ciClass: z.string().trim().min(1, { message: 'required' }).max(100),
}).describe('the configuration item the window is for, by name and class');

const endsAfterStart = (input: { startsAt?: string; endsAt?: string }, ctx: z.RefinementCtx) => {
  if (input.startsAt && input.endsAt && Date.parse(input.endsAt) <= Date.parse(input.startsAt)) {
    ctx.addIssue({ code: 'custom', path: ['endsAt'], message: 'the window must end after it starts' });
  }
};

export const scheduleWindowCreate = z.strictObject({
  kind: z.enum(WINDOW_KINDS, { message: `one of: ${WINDOW_KINDS.join(', ')}` }).describe('maintenance: changes welcome; blackout: changes refused'),
  name: z.string().trim().min(1, { message: 'required' }).max(200),
  startsAt: instant,
  endsAt: instant,
  ci: ciReference.nullable().default(null).describe('none: the window applies to every CI'),
}).superRefine(endsAfterStart);
export type ScheduleWindowCreate = z.output<typeof scheduleWindowCreate>;

export const scheduleWindowUpdate = z.strictObject({
  kind: z.enum(WINDOW_KINDS, { message: `one of: ${WINDOW_KINDS.join(', ')}` }).optional(),
  name: z.string().trim().min(1, { message: 'required' }).max(200).optional(),
  startsAt: instant.optional(),
  endsAt: instant.optional(),
  ci: ciReference.nullable().optional().describe('null: every CI'),
}).superRefine(endsAfterStart);
export type ScheduleWindowUpdate = z.output<typeof scheduleWindowUpdate>;

export interface ScheduleWindow {
  id: string;
  kind: WindowKind;
  name: string;
  startsAt: string;
  endsAt: string;
  /** null: every CI. */
  ci: { id: string; name: string; ciClass: string } | null;
  version: number;
  updatedAt: string;
  retiredAt: string | null;
}

interface WindowRow {
  id: string;
  kind: WindowKind;
  name: string;
  starts_at: Date;
  ends_at: Date;
  ci_id: string | null;
  ci_name: string | null;
  ci_class: string | null;
  version: number;
  updated_at: Date;
  retired_at: Date | null;
}

const toWindow = (row: WindowRow): ScheduleWindow => ({
  id: row.id,
  kind: row.kind,
  name: row.name,
  startsAt: isoOf(row.starts_at),
  endsAt: isoOf(row.ends_at),
  ci: row.ci_id ? { id: row.ci_id, name: row.ci_name!, ciClass: row.ci_class! } : null,
  version: row.version,
  updatedAt: isoOf(row.updated_at),
  retiredAt: row.retired_at && isoOf(row.retired_at),
});

/** A window's values as its audit row records them: the CI by its natural key. */
const windowValues = (w: ScheduleWindow) => ({
  kind: w.kind, name: w.name, startsAt: w.startsAt, endsAt: w.endsAt, ci: w.ci && { name: w.ci.name, ciClass: w.ci.ciClass },
});

const windows = (db: Knex) => db('schedule_windows as w')
  .leftJoin('configuration_items as ci', 'ci.id', 'w.ci_id')
  .select('w.id', 'w.kind', 'w.name', 'w.starts_at', 'w.ends_at', 'w.ci_id', 'ci.name as ci_name', 'ci.ci_class', 'w.version', 'w.updated_at', 'w.retired_at');

export interface WindowFilter {
  kind?: WindowKind;
  /** Windows that end after this instant. */
  from?: string;
  /** Windows that start before this instant. */
  to?: string;
  includeRetired?: boolean;
}

export function listScheduleWindows(db: Knex, filter: WindowFilter, page: { limit: number; offset: number }): Promise<Page<ScheduleWindow>> {
  const q = windows(db).orderBy('w.starts_at').orderBy('w.id');
  if (filter.kind) q.where('w.kind', filter.kind);
  if (filter.from) q.where('w.ends_at', '>', filter.from);
  if (filter.to) q.where('w.starts_at', '<', filter.to);
  if (!filter.includeRetired) q.whereNull('w.retired_at');
  return paginate<WindowRow, ScheduleWindow>(q, page, toWindow);
}

export async function findScheduleWindow(db: Knex, id: string, lock = false): Promise<ScheduleWindow | undefined> {
  const q = windows(db).where('w.id', id).first();
  if (lock) q.forUpdate('w');
  const row = (await q) as WindowRow | undefined;
  return row && toWindow(row);
}

/** The id of the CI a window names, or the problem with the reference. */
async function ciIdOf(trx: Knex, ci: { name: string; ciClass: string } | null): Promise<string | null> {
  if (!ci) return null;
  const row = await trx('configuration_items').whereRaw('lower(name) = lower(?)', [ci.name]).where({ ci_class: ci.ciClass }).first('id', 'retired_at');
  if (!row) throw invalid([{ path: 'ci', message: `no configuration item ${ci.name} of class ${ci.ciClass}` }]);
  if (row.retired_at) throw invalid([{ path: 'ci', message: `the configuration item ${ci.name} (${ci.ciClass}) is retired` }]);
  return row.id as string;
}

export async function createScheduleWindow(db: Knex, input: ScheduleWindowCreate, actor: string): Promise<ScheduleWindow> {
  return db.transaction(async (trx) => {
    const ciId = await ciIdOf(trx, input.ci);
    const [{ id }] = await trx('schedule_windows')
      .insert({ kind: input.kind, name: input.name, starts_at: input.startsAt, ends_at: input.endsAt, ci_id: ciId })
      .returning('id');
    const window = (await findScheduleWindow(trx, id))!;
    await insertAuditRow(trx, { actor, subjectType: 'schedule_window', subjectId: id, action: 'created', details: { values: windowValues(window) } });
    return window;
  });
}

async function lockedWindow(trx: Knex, id: string, expected: number[]): Promise<ScheduleWindow> {
  const current = await findScheduleWindow(trx, id, true);
  if (!current) throw new SettingRefused({ rule: 'not_found', message: `no schedule window ${id}` });
  if (!expected.includes(current.version)) throw stale('window', current.version);
  if (current.retiredAt) throw new SettingRefused({ rule: 'retired', message: `the window ${current.name} was retired on ${current.retiredAt}; create a new one instead` });
  return current;
}

export async function updateScheduleWindow(db: Knex, id: string, expected: number[], patch: ScheduleWindowUpdate, actor: string): Promise<{ window: ScheduleWindow; changed: boolean }> {
  return db.transaction(async (trx) => {
    const current = await lockedWindow(trx, id, expected);
    const startsAt = patch.startsAt ? isoOf(patch.startsAt) : current.startsAt;
    const endsAt = patch.endsAt ? isoOf(patch.endsAt) : current.endsAt;
    if (Date.parse(endsAt) <= Date.parse(startsAt)) {
      throw invalid([{ path: patch.endsAt ? 'endsAt' : 'startsAt', message: `the window must end after it starts (it would run from ${startsAt} to ${endsAt})` }]);
    }
    const before = windowValues(current);
    const ci = patch.ci === undefined ? before.ci : patch.ci && { name: patch.ci.name, ciClass: patch.ci.ciClass };
    const ciId = patch.ci === undefined ? current.ci?.id ?? null : await ciIdOf(trx, ci);
    const after = { kind: patch.kind ?? current.kind, name: patch.name ?? current.name, startsAt, endsAt, ci };
    const changes = changesBetween(before, after);
    // A CI named in another letter case is the same CI.
    if (changes.ci && ciId === (current.ci?.id ?? null)) delete changes.ci;
    if (Object.keys(changes).length === 0) return { window: current, changed: false };
    await trx('schedule_windows').where({ id })
      .update({ kind: after.kind, name: after.name, starts_at: startsAt, ends_at: endsAt, ci_id: ciId, version: trx.raw('version + 1'), updated_at: trx.fn.now() });
    await insertAuditRow(trx, { actor, subjectType: 'schedule_window', subjectId: id, action: 'updated', details: { changes } });
    return { window: (await findScheduleWindow(trx, id))!, changed: true };
  });
}

/** A retired window no longer counts in a change's assessment; it is kept for the changes it was shown to. */
export async function retireScheduleWindow(db: Knex, id: string, expected: number[], actor: string): Promise<ScheduleWindow> {
  return db.transaction(async (trx) => {
    const current = await lockedWindow(trx, id, expected);
    await trx('schedule_windows').where({ id }).update({ retired_at: trx.fn.now(), version: trx.raw('version + 1'), updated_at: trx.fn.now() });
    await insertAuditRow(trx, { actor, subjectType: 'schedule_window', subjectId: id, action: 'retired', details: { before: windowValues(current) } });
    return (await findScheduleWindow(trx, id))!;
  });
}

// ---------------------------------------------------------------------------------------------
// Reminder days
// ---------------------------------------------------------------------------------------------

const REMINDERS_KEY = 'reminders';

const reminderDays = z.number({ message: 'not a whole number' }).int({ message: 'not a whole number' })
  .min(0, { message: 'at least 0 days' }).max(365, { message: 'at most 365 days' });

export const reminderSettingsInput = z.strictObject({
  warrantyDaysBefore: reminderDays.describe('days before a warranty ends that its asset manager is reminded'),
  leaseDaysBefore: reminderDays.describe('days before a lease ends that its asset manager is reminded'),
});

export interface ReminderSettingsRecord extends ReminderLeadTimes {
  /** 0 while nothing is saved: the values are then the environment's (WARRANTY_REMINDER_DAYS, LEASE_REMINDER_DAYS). */
  version: number;
  source: 'saved' | 'environment';
  updatedBy: string | null;
  updatedAt: string | null;
}

/**
 * The reminder days in force: those saved, else the environment's. A saved row is parsed as the
 * API parses a save, so a row edited by hand into something else fails loudly.
 */
export async function reminderSettings(db: Knex, defaults: ReminderLeadTimes, lock = false): Promise<ReminderSettingsRecord> {
  const q = db('settings').where({ key: REMINDERS_KEY }).first();
  if (lock) q.forUpdate();
  const row = (await q) as { value: unknown; version: number; updated_by: string; updated_at: Date } | undefined;
  if (!row) return { ...defaults, version: 0, source: 'environment', updatedBy: null, updatedAt: null };
  return { ...reminderSettingsInput.parse(row.value), version: row.version, source: 'saved', updatedBy: row.updated_by, updatedAt: isoOf(row.updated_at) };
}

/** What a lifecycle workflow started now takes as its reminder lead times. */
export async function effectiveReminderLeadTimes(db: Knex, defaults: ReminderLeadTimes): Promise<ReminderLeadTimes> {
  const { warrantyDaysBefore, leaseDaysBefore } = await reminderSettings(db, defaults);
  return { warrantyDaysBefore, leaseDaysBefore };
}

/**
 * Saves the reminder days, with the version read: 0 names the environment's defaults (nothing
 * saved yet), so the first save sends If-Match "0" and two first saves cannot both win.
 */
export async function saveReminderSettings(
  db: Knex,
  expected: number[],
  input: ReminderLeadTimes,
  actor: string,
  defaults: ReminderLeadTimes,
): Promise<{ settings: ReminderSettingsRecord; changed: boolean }> {
  return db.transaction(async (trx) => {
    const current = await reminderSettings(trx, defaults, true);
    if (!expected.includes(current.version)) throw stale('setting', current.version);
    const before = { warrantyDaysBefore: current.warrantyDaysBefore, leaseDaysBefore: current.leaseDaysBefore };
    const after = { warrantyDaysBefore: input.warrantyDaysBefore, leaseDaysBefore: input.leaseDaysBefore };
    const changes = changesBetween(before, after);
    if (current.source === 'saved' && Object.keys(changes).length === 0) return { settings: current, changed: false };
    if (current.source === 'environment') {
      const inserted = await trx('settings').insert({ key: REMINDERS_KEY, value: after, updated_by: actor }).onConflict('key').ignore().returning('key');
      // Another first save committed while this one read the defaults.
      if (inserted.length === 0) throw stale('setting', (await reminderSettings(trx, defaults)).version);
    } else {
      await trx('settings').where({ key: REMINDERS_KEY }).update({ value: after, version: trx.raw('version + 1'), updated_by: actor, updated_at: trx.fn.now() });
    }
    await insertAuditRow(trx, {
      actor, subjectType: 'setting', subjectId: settingSubjectId('setting', REMINDERS_KEY), action: current.source === 'environment' ? 'created' : 'updated',
      details: { key: REMINDERS_KEY, changes, before, after },
    });
    return { settings: await reminderSettings(trx, defaults), changed: true };
  });
}
