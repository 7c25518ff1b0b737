import type { Request } from 'express';
import { z } from 'zod';
import { PROCESS_KINDS } from '../../domain/processes';
import {
  SettingRefused,
  WINDOW_KINDS,
  changeModelCreate,
  changeModelUpdate,
  createChangeModel,
  createScheduleWindow,
  findChangeModel,
  findScheduleWindow,
  findSlaTarget,
  listScheduleWindows,
  listSlaTargets,
  reminderSettings,
  reminderSettingsInput,
  removeSlaTarget,
  retireScheduleWindow,
  saveReminderSettings,
  saveSlaTarget,
  scheduleWindowCreate,
  scheduleWindowUpdate,
  slaTargetInput,
  updateChangeModel,
  updateScheduleWindow,
} from '../../model/process-settings';
import { isUniqueViolation } from '../../platform/database';
import type { Role } from '../auth';
import type { AppDeps } from '../app';
import { expectedVersions, setETag, versionsOf } from '../concurrency';
import { HttpError, badRequest, conflict, notFound, preconditionRequired, versionMismatch } from '../errors';
import { pageQuery } from '../pagination';
import type { RouteRegistry } from '../routes-registry';

/** Who changes how the processes run. */
export const PROCESS_SETTINGS_WRITERS: readonly Role[] = ['process_owner', 'admin'];

const idParams = z.object({ id: z.uuid() });
const slaParams = z.object({
  process: z.enum(PROCESS_KINDS, { message: `one of: ${PROCESS_KINDS.join(', ')}` }),
  state: z.string().trim().min(1).max(100),
});
const trueOrFalse = z.enum(['true', 'false']).optional().transform((value) => value === 'true');

/** The HTTP answer of a refused write; undefined for any other error. */
export function settingRefusalAnswer(error: unknown): HttpError | undefined {
  if (isUniqueViolation(error)) return conflict('name_taken', 'another record has this name');
  if (!(error instanceof SettingRefused)) return undefined;
  const { refusal } = error;
  switch (refusal.rule) {
    case 'not_found':
      return notFound(refusal.message);
    case 'version_mismatch':
      return versionMismatch(refusal.currentVersion, refusal.message);
    case 'version_required':
      return preconditionRequired(refusal.message);
    case 'invalid_input':
      return badRequest(refusal.message, refusal.problems);
    default:
      return conflict(refusal.rule, refusal.message);
  }
}

async function answered<T>(write: () => Promise<T>): Promise<T> {
  try {
    return await write();
  } catch (error) {
    throw settingRefusalAnswer(error) ?? error;
  }
}

/**
 * The versions If-Match names, or undefined without one (a PUT that creates). "0" names a setting
 * nobody has saved yet, whose GET answers the defaults with ETag "0".
 */
export function ifMatchVersions(req: Request): number[] | undefined {
  const ifMatch = req.get('if-match')?.trim();
  if (!ifMatch) return undefined;
  if (ifMatch === '*') throw preconditionRequired('If-Match: * would overwrite any version: send the ETag you read');
  return ifMatch === '"0"' ? [0] : versionsOf(ifMatch);
}

const VERSIONED_WRITE = {
  400: 'bad input (details name each field and why)',
  401: 'no or bad API key',
  403: 'not a process owner or admin',
  404: 'no such record',
  412: 'If-Match is not the current version (details: currentVersion); nothing was written',
  428: 'no If-Match',
};

/**
 * How the processes run, as data: change models, SLA targets, maintenance and blackout windows,
 * reminder days. Everyone signed in reads them (requesters plan around blackouts); process owners
 * and admins change them, with the version they read (If-Match) on every change that is not a
 * create, each write audited with the values before and after.
 */
export function registerProcessSettingsRoutes(routes: RouteRegistry, deps: Pick<AppDeps, 'db' | 'reminders'>): void {
  const { db, reminders: reminderDefaults } = deps;
  const writers = PROCESS_SETTINGS_WRITERS;

  // --- change models (GET /change-models, the active ones, is in ./changes.ts) -------------------

  routes.add(
    {
      method: 'get', path: '/change-models/:id', tag: 'configuration', access: 'authenticated',
      summary: 'One change model, active or not; ETag is its version',
      params: idParams,
      responses: { 200: 'the change model', 400: 'the id is not a uuid', 401: 'no or bad API key', 404: 'no such change model' },
    },
    async ({ params, res }) => {
      const model = await findChangeModel(db, params.id);
      if (!model) throw notFound(`no change model ${params.id}`);
      setETag(res, model.version);
      return model;
    },
  );

  routes.add(
    {
      method: 'post', path: '/change-models', tag: 'configuration', access: writers,
      summary: 'Create a change model: the template a standard change follows, with the highest risk it may carry unapproved',
      body: changeModelCreate,
      responses: { 201: 'the change model (ETag, Location)', 400: 'bad input', 401: 'no or bad API key', 403: 'not a process owner or admin', 409: 'name_taken' },
    },
    async ({ body, principal, res }) => {
      const model = await answered(() => createChangeModel(db, body, principal.email));
      setETag(res, model.version);
      res.status(201).location(`/change-models/${model.id}`);
      return model;
    },
  );

  routes.add(
    {
      method: 'patch', path: '/change-models/:id', tag: 'configuration', access: writers,
      summary: 'Update a change model (If-Match: its ETag); an inactive model takes no new standard changes, those under way keep it',
      params: idParams,
      body: changeModelUpdate,
      responses: { 200: 'the change model as now', ...VERSIONED_WRITE, 409: 'name_taken' },
    },
    async ({ params, body, principal, req, res }) => {
      const versions = expectedVersions(req);
      const { model } = await answered(() => updateChangeModel(db, params.id, versions, body, principal.email));
      setETag(res, model.version);
      return model;
    },
  );

  // --- SLA targets -------------------------------------------------------------------------------

  routes.add(
    {
      method: 'get', path: '/sla-targets', tag: 'configuration', access: 'authenticated',
      summary: 'How long a process may stay in each state before it breaches its SLA',
      query: z.object({ process: z.enum(PROCESS_KINDS).optional() }),
      responses: { 200: 'the targets, by process and state', 400: 'bad filter', 401: 'no or bad API key' },
    },
    async ({ query }) => ({ items: await listSlaTargets(db, { process: query.process }) }),
  );

  routes.add(
    {
      method: 'get', path: '/sla-targets/:process/:state', tag: 'configuration', access: 'authenticated',
      summary: 'The target of one state; ETag is its version',
      params: slaParams,
      responses: { 200: 'the target', 400: 'no such process', 401: 'no or bad API key', 404: 'the state has no target' },
    },
    async ({ params, res }) => {
      const target = await findSlaTarget(db, params.process, params.state);
      if (!target) throw notFound(`${params.process} ${params.state} has no SLA target`);
      setETag(res, target.version);
      return target;
    },
  );

  routes.add(
    {
      method: 'put', path: '/sla-targets/:process/:state', tag: 'configuration', access: writers,
      summary: 'Set the target of a state: without If-Match it creates one, with it (the ETag read) it changes one. '
        + 'Processes entering the state from now on take it; those in it keep the due time they entered with',
      params: slaParams,
      body: z.strictObject({ minutes: slaTargetInput.shape.minutes }),
      responses: {
        200: 'the target as now', 201: 'the target, created (ETag)', 400: 'not a state of the process, or minutes out of 1 to 525600',
        401: 'no or bad API key', 403: 'not a process owner or admin',
        412: 'If-Match is not the version of the target (details: currentVersion); nothing was written', 428: 'the state has a target: send its ETag as If-Match to change it',
      },
    },
    async ({ params, body, principal, req, res }) => {
      const input = slaTargetInput.parse({ ...params, minutes: body.minutes });
      const versions = ifMatchVersions(req);
      const { target, created } = await answered(() => saveSlaTarget(db, input, versions, principal.email));
      setETag(res, target.version);
      if (created) res.status(201).location(`/sla-targets/${target.process}/${encodeURIComponent(target.state)}`);
      return target;
    },
  );

  routes.add(
    {
      method: 'delete', path: '/sla-targets/:process/:state', tag: 'configuration', access: writers,
      summary: 'Remove the target of a state (If-Match: its ETag), audited with what it was; processes in the state keep their due time',
      params: slaParams,
      responses: { 200: 'the target as it was', ...VERSIONED_WRITE, 404: 'the state has no target' },
    },
    async ({ params, principal, req }) => {
      const versions = expectedVersions(req);
      const removed = await answered(() => removeSlaTarget(db, params.process, params.state, versions, principal.email));
      return { removed };
    },
  );

  // --- maintenance and blackout windows ------------------------------------------------------------

  routes.add(
    {
      method: 'get', path: '/schedule-windows', tag: 'configuration', access: 'authenticated',
      summary: 'Maintenance windows (changes welcome) and blackouts (changes refused), by start; retired ones left out unless asked',
      query: pageQuery.extend({
        kind: z.enum(WINDOW_KINDS).optional(),
        from: z.iso.datetime({ offset: true }).optional().describe('windows that end after this instant'),
        to: z.iso.datetime({ offset: true }).optional().describe('windows that start before this instant'),
        includeRetired: trueOrFalse,
      }),
      responses: { 200: 'a page of windows', 400: 'bad filter', 401: 'no or bad API key' },
    },
    async ({ query }) => listScheduleWindows(db, { kind: query.kind, from: query.from, to: query.to, includeRetired: query.includeRetired }, query),
  );

  routes.add(
    {
      method: 'get', path: '/schedule-windows/:id', tag: 'configuration', access: 'authenticated',
      summary: 'One window; ETag is its version',
      params: idParams,
      responses: { 200: 'the window', 400: 'the id is not a uuid', 401: 'no or bad API key', 404: 'no such window' },
    },
    async ({ params, res }) => {
      const window = await findScheduleWindow(db, params.id);
      if (!window) throw notFound(`no schedule window ${params.id}`);
      setETag(res, window.version);
      return window;
    },
  );

  routes.add(
    {
      method: 'post', path: '/schedule-windows', tag: 'configuration', access: writers,
      summary: 'Create a maintenance or blackout window, for one CI (by name and class) or, without one, for every CI',
      body: scheduleWindowCreate,
      responses: { 201: 'the window (ETag, Location)', 400: 'bad input: an instant without offset, an end before the start, an unknown CI', 401: 'no or bad API key', 403: 'not a process owner or admin' },
    },
    async ({ body, principal, res }) => {
      const window = await answered(() => createScheduleWindow(db, body, principal.email));
      setETag(res, window.version);
      res.status(201).location(`/schedule-windows/${window.id}`);
      return window;
    },
  );

  routes.add(
    {
      method: 'patch', path: '/schedule-windows/:id', tag: 'configuration', access: writers,
      summary: 'Update a window (If-Match: its ETag): the fields given; ci null makes it apply to every CI',
      params: idParams,
      body: scheduleWindowUpdate,
      responses: { 200: 'the window as now', ...VERSIONED_WRITE, 409: 'retired: a retired window is not changed' },
    },
    async ({ params, body, principal, req, res }) => {
      const versions = expectedVersions(req);
      const { window } = await answered(() => updateScheduleWindow(db, params.id, versions, body, principal.email));
      setETag(res, window.version);
      return window;
    },
  );

  routes.add(
    {
      method: 'post', path: '/schedule-windows/:id/retire', tag: 'configuration', access: writers,
      summary: 'Retire a window (If-Match: its ETag): it no longer counts in change assessments; kept for the changes it was shown to',
      params: idParams,
      responses: { 200: 'the window, retired', ...VERSIONED_WRITE, 409: 'retired already' },
    },
    async ({ params, principal, req, res }) => {
      const versions = expectedVersions(req);
      const window = await answered(() => retireScheduleWindow(db, params.id, versions, principal.email));
      setETag(res, window.version);
      return window;
    },
  );

  // --- reminder days -----------------------------------------------------------------------------------

  routes.add(
    {
      method: 'get', path: '/settings/reminders', tag: 'configuration', access: 'authenticated',
      summary: 'Days before a warranty or lease ends that its reminder goes out; while nothing is saved, the environment\'s (version 0)',
      responses: { 200: 'the reminder days in force (ETag: their version, "0" for the defaults)', 401: 'no or bad API key' },
    },
    async ({ res }) => {
      const settings = await reminderSettings(db, reminderDefaults);
      setETag(res, settings.version);
      return settings;
    },
  );

  routes.add(
    {
      method: 'put', path: '/settings/reminders', tag: 'configuration', access: writers,
      summary: 'Save the reminder days (If-Match: the ETag read; "0" for the first save over the defaults). '
        + 'Lifecycle workflows started from now on take them; running ones keep the days they started with',
      body: reminderSettingsInput,
      responses: { 200: 'the reminder days as now', 400: 'days out of 0 to 365', 401: 'no or bad API key', 403: 'not a process owner or admin', 412: VERSIONED_WRITE[412], 428: 'no If-Match' },
    },
    async ({ body, principal, req, res }) => {
      const versions = ifMatchVersions(req) ?? expectedVersions(req);
      const { settings } = await answered(() => saveReminderSettings(db, versions, body, principal.email, reminderDefaults));
      setETag(res, settings.version);
      return settings;
    },
  );
}
