/**
 * How the processes run, edited in the web UI by process owners and admins: change models, SLA
 * targets, maintenance and blackout windows, and reminder days, on one page with an edit page for
 * a model and for a window. The forms are checked by the same schemas and written by the same
 * model functions as the JSON API (model/process-settings.ts), so a refusal reads the same: it is
 * shown in a summary at the top of the form and next to each field it names. Every edit carries
 * the version it was made on; one made on a version someone changed since writes nothing and
 * shows what is there now.
 */
import type { Request, Response, Router } from 'express';
import { z } from 'zod';
import { RISK_LEVELS } from '../../domain/change-risk';
import { PROCESS_KINDS, type ProcessKind } from '../../domain/processes';
import {
  MAX_SLA_MINUTES,
  WINDOW_KINDS,
  changeModelCreate,
  changeModelUpdate,
  createChangeModel,
  createScheduleWindow,
  findChangeModel,
  findScheduleWindow,
  listChangeModelRecords,
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
  slaStatesOf,
  slaTargetInput,
  updateChangeModel,
  updateScheduleWindow,
  type ChangeModel,
  type ReminderSettingsRecord,
  type ScheduleWindow,
  type SlaTarget,
} from '../../model/process-settings';
import { hasAnyRole } from '../auth';
import { toHttpError, type HttpError } from '../errors';
import { PROCESS_SETTINGS_WRITERS, settingRefusalAnswer } from '../routes/process-settings';
import { html, join, sendHtml, type SafeHtml } from './html';
import { errorSummary, field, fieldErrorsOf, problemsOfRefusal, select, str, text, wholeNumber, zodProblems, type FieldErrors, type FormState } from './forms';
import type { WebKit, WebRoute } from './router';
import { TYPE_LABELS, csrfField, errorPage, label, layout, notice, queryString, time, type Notice, type ViewContext } from './views';

const BASE = '/configuration/process-settings';
const HOME = `/ui${BASE}`;

export const PROCESS_SETTINGS_PAGE_ROUTES: readonly WebRoute[] = [
  { method: 'get', path: BASE, access: PROCESS_SETTINGS_WRITERS },
  { method: 'post', path: `${BASE}/change-models`, access: PROCESS_SETTINGS_WRITERS },
  { method: 'get', path: `${BASE}/change-models/:id`, access: PROCESS_SETTINGS_WRITERS },
  { method: 'post', path: `${BASE}/change-models/:id`, access: PROCESS_SETTINGS_WRITERS },
  { method: 'post', path: `${BASE}/sla-targets`, access: PROCESS_SETTINGS_WRITERS },
  { method: 'post', path: `${BASE}/sla-targets/remove`, access: PROCESS_SETTINGS_WRITERS },
  { method: 'post', path: `${BASE}/windows`, access: PROCESS_SETTINGS_WRITERS },
  { method: 'get', path: `${BASE}/windows/:id`, access: PROCESS_SETTINGS_WRITERS },
  { method: 'post', path: `${BASE}/windows/:id`, access: PROCESS_SETTINGS_WRITERS },
  { method: 'post', path: `${BASE}/windows/:id/retire`, access: PROCESS_SETTINGS_WRITERS },
  { method: 'post', path: `${BASE}/reminders`, access: PROCESS_SETTINGS_WRITERS },
];

// ---------------------------------------------------------------------------------------------
// Forms: values as sent, and the problems of each field
// ---------------------------------------------------------------------------------------------

const uuid = z.uuid();

/** A refusal the form shows next to itself (400, 404, 409, 412); anything else goes to the error page. */
function refusalOf(error: unknown): HttpError {
  const known = settingRefusalAnswer(error) ?? toHttpError(error);
  if (!known || known.status >= 500) throw error;
  return known;
}

const staleText = (what: string, known: HttpError, shownIn = 'The form') =>
  `Someone else changed this ${what} while you were editing (it is now at version ${(known.details as { currentVersion?: number } | undefined)?.currentVersion ?? '?'}), so nothing was saved. ${shownIn} now shows the current values: make your change again.`;

// --- change models -----------------------------------------------------------------------------

interface ModelFormValues {
  name: string;
  description: string;
  riskCeiling: string;
  active: boolean;
}

const MODEL_LABELS = { name: 'Name', description: 'Description', riskCeiling: 'Risk ceiling', active: 'Active' };

const modelFormOf = (body: Record<string, unknown>): ModelFormValues => ({
  name: text(body, 'name'), description: text(body, 'description'), riskCeiling: text(body, 'riskCeiling'), active: str(body.active) === 'yes',
});
const modelFormFrom = (m: ChangeModel): ModelFormValues => ({ name: m.name, description: m.description, riskCeiling: m.riskCeiling, active: m.active });
const modelInput = (v: ModelFormValues) => ({ name: v.name, description: v.description, riskCeiling: v.riskCeiling || undefined, active: v.active });

function modelFields(prefix: string, form: FormState<ModelFormValues>): SafeHtml {
  const { values, errors } = form;
  return html`${errorSummary(prefix, errors, MODEL_LABELS)}
${field({ id: `${prefix}-name`, name: 'name', label: 'Name', value: values.name, errors, required: true, attrs: html` maxlength="200" size="40"` })}
${field({ id: `${prefix}-description`, name: 'description', label: 'Description', value: values.description, errors, attrs: html` maxlength="2000" size="60"` })}
${select({ id: `${prefix}-riskCeiling`, name: 'riskCeiling', label: 'Risk ceiling', value: values.riskCeiling || 'low', errors, options: RISK_LEVELS.map((r) => [r, label(r)]) })}
<p class="meta">A standard change of this model assessed at or below the ceiling is approved by the model; above it, it is routed for approval.</p>
<div class="check"><input id="${prefix}-active" name="active" type="checkbox" value="yes"${values.active && html` checked`} aria-describedby="${prefix}-active-hint"> <label for="${prefix}-active">Active</label></div>
<p id="${prefix}-active-hint" class="meta">An inactive model takes no new standard changes; changes under way keep it.</p>`;
}

// --- SLA targets ---------------------------------------------------------------------------------

interface SlaFormValues {
  /** process/state */
  target: string;
  minutes: string;
  version: string;
}

const SLA_LABELS = { target: 'Process and state', minutes: 'Minutes' };
const slaFieldOf = (path: string) => (path === 'process' || path === 'state' ? 'target' : path);

function slaTargetOptions(): [string, [string, string][]][] {
  return PROCESS_KINDS.map((process: ProcessKind) => [TYPE_LABELS[process], slaStatesOf(process).map((state): [string, string] => [`${process}/${state}`, `${TYPE_LABELS[process]}: ${label(state)}`])]);
}

// --- windows -----------------------------------------------------------------------------------------

interface WindowFormValues {
  kind: string;
  name: string;
  startsAt: string;
  endsAt: string;
  ciName: string;
  ciClass: string;
}

const WINDOW_LABELS = { kind: 'Kind', name: 'Name', startsAt: 'Starts at', endsAt: 'Ends at', ci: 'Configuration item' };

const windowFormOf = (body: Record<string, unknown>): WindowFormValues => ({
  kind: text(body, 'kind'), name: text(body, 'name'), startsAt: text(body, 'startsAt').trim(), endsAt: text(body, 'endsAt').trim(),
  ciName: text(body, 'ciName').trim(), ciClass: text(body, 'ciClass').trim(),
});
const windowFormFrom = (w: ScheduleWindow): WindowFormValues => ({
  kind: w.kind, name: w.name, startsAt: w.startsAt, endsAt: w.endsAt, ciName: w.ci?.name ?? '', ciClass: w.ci?.ciClass ?? '',
});
/** Both CI fields empty: every CI; one of them given: the schema names the other as required. */
const ciOf = (v: WindowFormValues) => (v.ciName || v.ciClass ? { name: v.ciName, ciClass: v.ciClass } : null);
const windowInput = (v: WindowFormValues) => ({ kind: v.kind, name: v.name, startsAt: v.startsAt, endsAt: v.endsAt, ci: ciOf(v) });

function windowFields(prefix: string, form: FormState<WindowFormValues>): SafeHtml {
  const { values, errors } = form;
  const ciError = errors.ci;
  return html`${errorSummary(prefix, errors, { ...WINDOW_LABELS, ci: 'Configuration item' })}
${select({ id: `${prefix}-kind`, name: 'kind', label: 'Kind', value: values.kind || 'maintenance', errors, options: WINDOW_KINDS.map((k) => [k, k === 'maintenance' ? 'Maintenance (changes welcome)' : 'Blackout (changes refused)']) })}
${field({ id: `${prefix}-name`, name: 'name', label: 'Name', value: values.name, errors, required: true, attrs: html` maxlength="200" size="40"` })}
${field({ id: `${prefix}-startsAt`, name: 'startsAt', label: 'Starts at', value: values.startsAt, errors, required: true, hint: 'An instant with its offset, e.g. 2026-12-24T18:00:00+01:00 or 2026-12-24T17:00:00Z.', attrs: html` size="32"` })}
${field({ id: `${prefix}-endsAt`, name: 'endsAt', label: 'Ends at', value: values.endsAt, errors, required: true, hint: 'After the start, in the same form.', attrs: html` size="32"` })}
<fieldset id="${prefix}-ci"${ciError && html` aria-describedby="${prefix}-ci-error"`}><legend>Configuration item (optional)</legend>
${ciError && html`<p id="${prefix}-ci-error" class="notice error">${ciError}</p>`}
<p class="meta" id="${prefix}-ci-hint">Leave both empty for a window that applies to every CI.</p>
<label for="${prefix}-ciName">CI name</label><input id="${prefix}-ciName" name="ciName" value="${values.ciName}" maxlength="200" size="32"${ciError && html` aria-invalid="true"`} aria-describedby="${prefix}-ci-hint">
<label for="${prefix}-ciClass">CI class</label><input id="${prefix}-ciClass" name="ciClass" value="${values.ciClass}" maxlength="100" size="20"${ciError && html` aria-invalid="true"`} aria-describedby="${prefix}-ci-hint">
</fieldset>`;
}

// --- reminders ---------------------------------------------------------------------------------------

interface ReminderFormValues {
  warrantyDaysBefore: string;
  leaseDaysBefore: string;
  version: string;
}

const REMINDER_LABELS = { warrantyDaysBefore: 'Days before a warranty ends', leaseDaysBefore: 'Days before a lease ends' };

const reminderFormFrom = (r: ReminderSettingsRecord): ReminderFormValues => ({
  warrantyDaysBefore: String(r.warrantyDaysBefore), leaseDaysBefore: String(r.leaseDaysBefore), version: String(r.version),
});

// ---------------------------------------------------------------------------------------------
// Views
// ---------------------------------------------------------------------------------------------

interface SettingsData {
  models: ChangeModel[];
  targets: SlaTarget[];
  windows: ScheduleWindow[];
  windowsTotal: number;
  reminders: ReminderSettingsRecord;
}

interface SettingsForms {
  newModel?: FormState<ModelFormValues>;
  sla?: FormState<SlaFormValues>;
  newWindow?: FormState<WindowFormValues>;
  reminders?: FormState<ReminderFormValues>;
}

function modelsSection(ctx: ViewContext, models: ChangeModel[], form: FormState<ModelFormValues>): SafeHtml {
  const rows = models.map((m) => html`<tr>
<th scope="row"><a href="${HOME}/change-models/${m.id}">${m.name}</a></th>
<td>${m.description}</td>
<td>${label(m.riskCeiling)}</td>
<td>${m.active ? 'active' : html`<span class="breached">inactive</span>`}</td>
<td class="num">${m.version}</td>
</tr>`);
  return html`<section aria-labelledby="models-heading">
<h2 id="models-heading">Change models</h2>
${rows.length
    ? html`<table><caption class="sr-only">Change models</caption>
<thead><tr><th scope="col">Name</th><th scope="col">Description</th><th scope="col">Risk ceiling</th><th scope="col">Status</th><th scope="col" class="num">Version</th></tr></thead>
<tbody>${join(rows, '\n')}</tbody></table>`
    : html`<p>No change model yet: every change is normal or emergency.</p>`}
<h3 id="new-model-heading">Add a change model</h3>
<form method="post" action="${HOME}/change-models" aria-labelledby="new-model-heading">
${csrfField(ctx.csrf)}
${modelFields('new-model', form)}
<div class="actions"><button type="submit">Add the change model</button></div>
</form>
</section>`;
}

function slaSection(ctx: ViewContext, targets: SlaTarget[], form: FormState<SlaFormValues>): SafeHtml {
  const rows = targets.map((t, i) => html`<tr>
<th scope="row">${TYPE_LABELS[t.process]}: ${label(t.state)}</th>
<td><form method="post" action="${HOME}/sla-targets" class="filters">
${csrfField(ctx.csrf)}<input type="hidden" name="target" value="${`${t.process}/${t.state}`}"><input type="hidden" name="version" value="${t.version}">
<div><label for="sla-${i}-minutes">Minutes <span class="sr-only">for ${TYPE_LABELS[t.process]} ${label(t.state)}</span></label><input id="sla-${i}-minutes" name="minutes" type="number" min="1" max="${MAX_SLA_MINUTES}" value="${t.minutes}" required></div>
<div><button type="submit">Save</button></div>
</form></td>
<td class="num">${t.version}</td>
<td><form method="post" action="${HOME}/sla-targets/remove">
${csrfField(ctx.csrf)}<input type="hidden" name="target" value="${`${t.process}/${t.state}`}"><input type="hidden" name="version" value="${t.version}">
<button type="submit" class="reject" aria-label="${`Remove the target of ${TYPE_LABELS[t.process]} ${label(t.state)}`}">Remove</button>
</form></td>
</tr>`);
  const { values, errors } = form;
  return html`<section aria-labelledby="sla-heading">
<h2 id="sla-heading">SLA targets</h2>
<p class="meta">How long a process may stay in a state before it breaches its SLA. A process takes the target when it enters the state; processes already in it keep the due time they entered with.</p>
${rows.length
    ? html`<table><caption class="sr-only">SLA targets</caption>
<thead><tr><th scope="col">Process and state</th><th scope="col">Target</th><th scope="col" class="num">Version</th><th scope="col"><span class="sr-only">Remove</span></th></tr></thead>
<tbody>${join(rows, '\n')}</tbody></table>`
    : html`<p>No SLA target yet: no process breaches one.</p>`}
<h3 id="sla-new-heading">Set a target</h3>
<form method="post" action="${HOME}/sla-targets" aria-labelledby="sla-new-heading">
${csrfField(ctx.csrf)}<input type="hidden" name="version" value="${values.version}">
${errorSummary('sla', errors, SLA_LABELS)}
${select({ id: 'sla-target', name: 'target', label: 'Process and state', value: values.target, errors, options: [], groups: slaTargetOptions() })}
${field({ id: 'sla-minutes', name: 'minutes', label: 'Minutes', value: values.minutes, errors, type: 'number', required: true, hint: `1 to ${MAX_SLA_MINUTES} (a year); 1440 is a day.`, attrs: html` min="1" max="${MAX_SLA_MINUTES}"` })}
<div class="actions"><button type="submit">Set the target</button></div>
</form>
</section>`;
}

function windowsSection(ctx: ViewContext, windows: ScheduleWindow[], total: number, form: FormState<WindowFormValues>): SafeHtml {
  const rows = windows.map((w) => html`<tr>
<th scope="row"><a href="${HOME}/windows/${w.id}">${w.name}</a></th>
<td>${w.kind}</td>
<td class="when">${time(w.startsAt, ctx.timeZone)}</td>
<td class="when">${time(w.endsAt, ctx.timeZone)}</td>
<td>${w.ci ? `${w.ci.name} (${w.ci.ciClass})` : html`<span class="meta">every CI</span>`}</td>
</tr>`);
  return html`<section aria-labelledby="windows-heading">
<h2 id="windows-heading">Maintenance and blackout windows</h2>
<p class="meta">A change planned inside a blackout on a CI it reaches is flagged in its assessment; one inside a maintenance window of its CIs is welcome. Retired windows no longer count.</p>
${rows.length
    ? html`<table><caption class="sr-only">Windows that have not ended, by start</caption>
<thead><tr><th scope="col">Name</th><th scope="col">Kind</th><th scope="col">Starts</th><th scope="col">Ends</th><th scope="col">For</th></tr></thead>
<tbody>${join(rows, '\n')}</tbody></table>
${total > windows.length && html`<p class="meta">The first ${windows.length} of ${total}; the API lists them all (GET /schedule-windows).</p>`}`
    : html`<p>No window that has not ended.</p>`}
<h3 id="new-window-heading">Add a window</h3>
<form method="post" action="${HOME}/windows" aria-labelledby="new-window-heading">
${csrfField(ctx.csrf)}
${windowFields('new-window', form)}
<div class="actions"><button type="submit">Add the window</button></div>
</form>
</section>`;
}

function remindersSection(ctx: ViewContext, current: ReminderSettingsRecord, form: FormState<ReminderFormValues>): SafeHtml {
  const { values, errors } = form;
  const source = current.source === 'saved'
    ? html`Saved by ${current.updatedBy} ${time(current.updatedAt, ctx.timeZone)} (version ${current.version}).`
    : html`Nothing saved yet: these are the environment's defaults (WARRANTY_REMINDER_DAYS, LEASE_REMINDER_DAYS).`;
  return html`<section aria-labelledby="reminders-heading">
<h2 id="reminders-heading">Reminder days</h2>
<p class="meta">${source} Asset lifecycles started from now on take the saved days; those already running keep the days they started with until they end.</p>
<form method="post" action="${HOME}/reminders" aria-labelledby="reminders-heading">
${csrfField(ctx.csrf)}<input type="hidden" name="version" value="${values.version}">
${errorSummary('reminders', errors, REMINDER_LABELS)}
${field({ id: 'reminders-warrantyDaysBefore', name: 'warrantyDaysBefore', label: REMINDER_LABELS.warrantyDaysBefore, value: values.warrantyDaysBefore, errors, type: 'number', required: true, hint: '0 to 365; 0 reminds on the day it ends.', attrs: html` min="0" max="365"` })}
${field({ id: 'reminders-leaseDaysBefore', name: 'leaseDaysBefore', label: REMINDER_LABELS.leaseDaysBefore, value: values.leaseDaysBefore, errors, type: 'number', required: true, hint: '0 to 365.', attrs: html` min="0" max="365"` })}
<div class="actions"><button type="submit">Save the reminder days</button></div>
</form>
</section>`;
}

const emptyModelForm = (): FormState<ModelFormValues> => ({ values: { name: '', description: '', riskCeiling: 'low', active: true }, errors: {} });
const emptyWindowForm = (): FormState<WindowFormValues> => ({ values: { kind: 'maintenance', name: '', startsAt: '', endsAt: '', ciName: '', ciClass: '' }, errors: {} });

function settingsPage(ctx: ViewContext, data: SettingsData, forms: SettingsForms, pageNotice?: Notice): SafeHtml {
  return layout(ctx, 'Process settings', html`<p class="meta"><a href="/ui/configuration">← Configuration</a></p>
<h1>Process settings</h1>
${notice(pageNotice)}
<nav aria-label="Sections"><ul>
<li><a href="#models-heading">Change models</a></li><li><a href="#sla-heading">SLA targets</a></li>
<li><a href="#windows-heading">Maintenance and blackout windows</a></li><li><a href="#reminders-heading">Reminder days</a></li>
</ul></nav>
${modelsSection(ctx, data.models, forms.newModel ?? emptyModelForm())}
${slaSection(ctx, data.targets, forms.sla ?? { values: { target: '', minutes: '', version: '' }, errors: {} })}
${windowsSection(ctx, data.windows, data.windowsTotal, forms.newWindow ?? emptyWindowForm())}
${remindersSection(ctx, data.reminders, forms.reminders ?? { values: reminderFormFrom(data.reminders), errors: {} })}`);
}

function modelPage(ctx: ViewContext, input: { model: ChangeModel; form: FormState<ModelFormValues>; version: number; notice?: Notice }): SafeHtml {
  const m = input.model;
  return layout(ctx, m.name, html`<p class="meta"><a href="${HOME}#models-heading">← Process settings</a></p>
<h1>${m.name}</h1>
<p class="meta">Change model · ${m.active ? 'active' : 'inactive'} · version <span id="model-version">${m.version}</span> · changed ${time(m.updatedAt, ctx.timeZone)}</p>
${notice(input.notice)}
<form method="post" action="${HOME}/change-models/${m.id}">
${csrfField(ctx.csrf)}<input type="hidden" name="version" value="${input.version}">
${modelFields('model', input.form)}
<div class="actions"><button type="submit">Save</button></div>
</form>`);
}

function windowPage(ctx: ViewContext, input: { window: ScheduleWindow; form: FormState<WindowFormValues>; version: number; notice?: Notice }): SafeHtml {
  const w = input.window;
  const retired = w.retiredAt
    ? html`<p class="notice error" role="status">Retired ${time(w.retiredAt, ctx.timeZone)}: it no longer counts in change assessments and cannot be changed.</p>`
    : html`<section aria-labelledby="retire-heading"><h2 id="retire-heading">Retire</h2>
<p>A retired window no longer counts in change assessments; it is kept for the changes it was shown to.</p>
<form method="post" action="${HOME}/windows/${w.id}/retire">
${csrfField(ctx.csrf)}<input type="hidden" name="version" value="${w.version}">
<div class="check"><input id="confirm-retire" name="confirm" type="checkbox" value="yes" required> <label for="confirm-retire">Yes, retire ${w.name}</label></div>
<div class="actions"><button type="submit" class="reject">Retire</button></div>
</form></section>`;
  return layout(ctx, w.name, html`<p class="meta"><a href="${HOME}#windows-heading">← Process settings</a></p>
<h1>${w.name}</h1>
<p class="meta">${w.kind} window · version <span id="window-version">${w.version}</span> · changed ${time(w.updatedAt, ctx.timeZone)}</p>
${notice(input.notice)}
${w.retiredAt ? retired : html`<section aria-labelledby="edit-heading"><h2 id="edit-heading">Edit</h2>
<form method="post" action="${HOME}/windows/${w.id}">
${csrfField(ctx.csrf)}<input type="hidden" name="version" value="${input.version}">
${windowFields('window', input.form)}
<div class="actions"><button type="submit">Save</button></div>
</form></section>
${retired}`}`);
}

// ---------------------------------------------------------------------------------------------
// Routes
// ---------------------------------------------------------------------------------------------

/** The version a form edits: 0 names the defaults nobody has saved over yet; an empty field names none. */
const versionField = z.string().regex(/^\d{1,10}$/).transform(Number).pipe(z.number().int().max(2 ** 31 - 1));
const WINDOWS_SHOWN = 100;

const DONE: Record<string, string> = {
  'model-created': 'The change model is added.',
  'target-saved': 'The SLA target is saved; processes entering the state from now on take it.',
  'target-unchanged': 'The SLA target was already that: nothing was changed.',
  'target-removed': 'The SLA target is removed; processes entering the state from now on have none.',
  'window-created': 'The window is added.',
  'reminders-saved': 'The reminder days are saved; lifecycles started from now on take them.',
  'reminders-unchanged': 'The reminder days were already those: nothing was changed.',
};
const ITEM_DONE: Record<string, string> = {
  saved: 'Saved.',
  unchanged: 'Nothing was different, so nothing was changed.',
  retired: 'Retired: it no longer counts in change assessments.',
};

export function registerProcessSettingsPages(router: Router, kit: WebKit): void {
  const { db } = kit.deps;
  const defaults = kit.deps.reminders;

  /** The page context for a process owner or admin, or a 403 page (and undefined) for anyone else. */
  async function writerContext(res: Response): Promise<ViewContext | undefined> {
    const ctx = await kit.context(res, 'configuration');
    if (hasAnyRole(ctx.user, PROCESS_SETTINGS_WRITERS)) return ctx;
    sendHtml(res, 403, errorPage(ctx, 'Not for your role', 'Process settings are kept by process owners and admins.'));
    return undefined;
  }

  async function loadData(now: number): Promise<SettingsData> {
    const [models, targets, windows, reminders] = await Promise.all([
      listChangeModelRecords(db, { includeInactive: true }),
      listSlaTargets(db),
      listScheduleWindows(db, { from: new Date(now).toISOString() }, { limit: WINDOWS_SHOWN, offset: 0 }),
      reminderSettings(db, defaults),
    ]);
    return { models, targets, windows: windows.items, windowsTotal: windows.page.total, reminders };
  }

  async function renderSettings(res: Response, ctx: ViewContext, status: number, forms: SettingsForms = {}, pageNotice?: Notice) {
    sendHtml(res, status, settingsPage(ctx, await loadData(ctx.now), forms, pageNotice));
  }

  const done = (key: string) => `${HOME}${queryString({ done: key })}`;

  router.get(BASE, async (req, res) => {
    const ctx = await writerContext(res);
    if (!ctx) return;
    const text = DONE[str(req.query.done) ?? ''];
    await renderSettings(res, ctx, 200, {}, text ? { kind: 'ok', text } : undefined);
  });

  // --- change models -----------------------------------------------------------------------------

  router.post(`${BASE}/change-models`, async (req, res) => {
    const ctx = await writerContext(res);
    if (!ctx) return;
    const values = modelFormOf(req.body ?? {});
    const again = (status: number, errors: FieldErrors) => renderSettings(res, ctx, status, { newModel: { values, errors } });
    const input = changeModelCreate.safeParse(modelInput(values));
    if (!input.success) {
      await again(400, fieldErrorsOf(zodProblems(input.error)));
      return;
    }
    try {
      const model = await createChangeModel(db, input.data, ctx.user.email);
      res.redirect(303, `${HOME}/change-models/${model.id}${queryString({ done: 'saved' })}`);
    } catch (error) {
      const known = refusalOf(error);
      await again(known.status, fieldErrorsOf(problemsOfRefusal(known)));
    }
  });

  async function modelOf(req: Request, res: Response, ctx: ViewContext): Promise<ChangeModel | undefined> {
    const id = String(req.params.id);
    const model = uuid.safeParse(id).success ? await findChangeModel(db, id) : undefined;
    if (!model) sendHtml(res, 404, errorPage(ctx, 'Not found', 'There is no such change model; nothing was changed.', [[HOME, 'Process settings']]));
    return model;
  }

  router.get(`${BASE}/change-models/:id`, async (req, res) => {
    const ctx = await writerContext(res);
    if (!ctx) return;
    const model = await modelOf(req, res, ctx);
    if (!model) return;
    const text = ITEM_DONE[str(req.query.done) ?? ''];
    sendHtml(res, 200, modelPage(ctx, { model, form: { values: modelFormFrom(model), errors: {} }, version: model.version, notice: text ? { kind: 'ok', text } : undefined }));
  });

  router.post(`${BASE}/change-models/:id`, async (req, res) => {
    const ctx = await writerContext(res);
    if (!ctx) return;
    const model = await modelOf(req, res, ctx);
    if (!model) return;
    const body = (req.body ?? {}) as Record<string, unknown>;
    const values = modelFormOf(body);
    const version = versionField.safeParse(str(body.version));
    if (!version.success) {
      sendHtml(res, 400, modelPage(ctx, { model, form: { values: modelFormFrom(model), errors: {} }, version: model.version, notice: { kind: 'error', text: 'Nothing was saved: the form did not say which version it edits. Edit the form below and save again.' } }));
      return;
    }
    const again = (status: number, errors: FieldErrors) => sendHtml(res, status, modelPage(ctx, { model, form: { values, errors }, version: version.data }));
    const input = changeModelUpdate.safeParse(modelInput(values));
    if (!input.success) {
      again(400, fieldErrorsOf(zodProblems(input.error)));
      return;
    }
    try {
      const { changed } = await updateChangeModel(db, model.id, [version.data], input.data, ctx.user.email);
      res.redirect(303, `${HOME}/change-models/${model.id}${queryString({ done: changed ? 'saved' : 'unchanged' })}`);
    } catch (error) {
      const known = refusalOf(error);
      if (known.code === 'version_mismatch') {
        const current = (await findChangeModel(db, model.id))!;
        sendHtml(res, 412, modelPage(ctx, { model: current, form: { values: modelFormFrom(current), errors: {} }, version: current.version, notice: { kind: 'error', text: staleText('change model', known) } }));
        return;
      }
      again(known.status, fieldErrorsOf(problemsOfRefusal(known)));
    }
  });

  // --- SLA targets -------------------------------------------------------------------------------

  router.post(`${BASE}/sla-targets`, async (req, res) => {
    const ctx = await writerContext(res);
    if (!ctx) return;
    const body = (req.body ?? {}) as Record<string, unknown>;
    const values: SlaFormValues = { target: text(body, 'target'), minutes: text(body, 'minutes'), version: text(body, 'version') };
    const again = (status: number, errors: FieldErrors) => renderSettings(res, ctx, status, { sla: { values, errors } });
    const [process, ...rest] = values.target.split('/');
    const input = slaTargetInput.safeParse({ process, state: rest.join('/'), minutes: wholeNumber(values.minutes) });
    if (!input.success) {
      await again(400, fieldErrorsOf(zodProblems(input.error), slaFieldOf));
      return;
    }
    // No version: a new target (the form below the table); a row's form sends the version it shows.
    const version = values.version === '' ? undefined : versionField.safeParse(values.version);
    if (version && !version.success) {
      await again(400, { form: 'the form did not say which version it edits; edit the target in its row of the table' });
      return;
    }
    try {
      const { changed } = await saveSlaTarget(db, input.data, version && [version.data], ctx.user.email);
      res.redirect(303, done(changed ? 'target-saved' : 'target-unchanged'));
    } catch (error) {
      const known = refusalOf(error);
      if (known.code === 'version_mismatch' || known.code === 'precondition_required') {
        const what = `${TYPE_LABELS[input.data.process]} ${label(input.data.state)}`;
        await renderSettings(res, ctx, known.status, {}, {
          kind: 'error',
          text: known.code === 'precondition_required'
            ? `${what} has a target already, so nothing was saved: change it in its row of the table.`
            : staleText(`SLA target (${what})`, known, 'The table'),
        });
        return;
      }
      await again(known.status, fieldErrorsOf(problemsOfRefusal(known), slaFieldOf));
    }
  });

  router.post(`${BASE}/sla-targets/remove`, async (req, res) => {
    const ctx = await writerContext(res);
    if (!ctx) return;
    const body = (req.body ?? {}) as Record<string, unknown>;
    const [process, ...rest] = text(body, 'target').split('/');
    const kind = z.enum(PROCESS_KINDS).safeParse(process);
    const version = versionField.safeParse(str(body.version));
    if (!kind.success || !version.success) {
      await renderSettings(res, ctx, 400, {}, { kind: 'error', text: 'Nothing was removed: the form did not say which target and version it removes. Use the Remove button of its row.' });
      return;
    }
    try {
      await removeSlaTarget(db, kind.data, rest.join('/'), [version.data], ctx.user.email);
      res.redirect(303, done('target-removed'));
    } catch (error) {
      const known = refusalOf(error);
      await renderSettings(res, ctx, known.status, {}, {
        kind: 'error',
        text: known.code === 'version_mismatch' ? staleText('SLA target', known, 'The table') : `Nothing was removed: ${known.message}`,
      });
    }
  });

  // --- windows -------------------------------------------------------------------------------------

  router.post(`${BASE}/windows`, async (req, res) => {
    const ctx = await writerContext(res);
    if (!ctx) return;
    const values = windowFormOf(req.body ?? {});
    const again = (status: number, errors: FieldErrors) => renderSettings(res, ctx, status, { newWindow: { values, errors } });
    const input = scheduleWindowCreate.safeParse(windowInput(values));
    if (!input.success) {
      await again(400, fieldErrorsOf(zodProblems(input.error)));
      return;
    }
    try {
      await createScheduleWindow(db, input.data, ctx.user.email);
      res.redirect(303, done('window-created'));
    } catch (error) {
      const known = refusalOf(error);
      await again(known.status, fieldErrorsOf(problemsOfRefusal(known)));
    }
  });

  async function windowOf(req: Request, res: Response, ctx: ViewContext): Promise<ScheduleWindow | undefined> {
    const id = String(req.params.id);
    const window = uuid.safeParse(id).success ? await findScheduleWindow(db, id) : undefined;
    if (!window) sendHtml(res, 404, errorPage(ctx, 'Not found', 'There is no such window; nothing was changed.', [[HOME, 'Process settings']]));
    return window;
  }

  const windowStale = async (res: Response, ctx: ViewContext, id: string, known: HttpError) => {
    const current = (await findScheduleWindow(db, id))!;
    sendHtml(res, known.status, windowPage(ctx, {
      window: current,
      form: { values: windowFormFrom(current), errors: {} },
      version: current.version,
      notice: { kind: 'error', text: known.code === 'version_mismatch' ? staleText('window', known) : `Nothing was changed: ${known.message}` },
    }));
  };

  router.get(`${BASE}/windows/:id`, async (req, res) => {
    const ctx = await writerContext(res);
    if (!ctx) return;
    const window = await windowOf(req, res, ctx);
    if (!window) return;
    const text = ITEM_DONE[str(req.query.done) ?? ''];
    sendHtml(res, 200, windowPage(ctx, { window, form: { values: windowFormFrom(window), errors: {} }, version: window.version, notice: text ? { kind: 'ok', text } : undefined }));
  });

  router.post(`${BASE}/windows/:id`, async (req, res) => {
    const ctx = await writerContext(res);
    if (!ctx) return;
    const window = await windowOf(req, res, ctx);
    if (!window) return;
    const body = (req.body ?? {}) as Record<string, unknown>;
    const values = windowFormOf(body);
    const version = versionField.safeParse(str(body.version));
    if (!version.success) {
      sendHtml(res, 400, windowPage(ctx, { window, form: { values: windowFormFrom(window), errors: {} }, version: window.version, notice: { kind: 'error', text: 'Nothing was saved: the form did not say which version it edits. Edit the form below and save again.' } }));
      return;
    }
    const again = (status: number, errors: FieldErrors) => sendHtml(res, status, windowPage(ctx, { window, form: { values, errors }, version: version.data }));
    const input = scheduleWindowUpdate.safeParse(windowInput(values));
    if (!input.success) {
      again(400, fieldErrorsOf(zodProblems(input.error)));
      return;
    }
    try {
      const { changed } = await updateScheduleWindow(db, window.id, [version.data], input.data, ctx.user.email);
      res.redirect(303, `${HOME}/windows/${window.id}${queryString({ done: changed ? 'saved' : 'unchanged' })}`);
    } catch (error) {
      const known = refusalOf(error);
      if (known.code === 'version_mismatch' || known.code === 'retired') {
        await windowStale(res, ctx, window.id, known);
        return;
      }
      again(known.status, fieldErrorsOf(problemsOfRefusal(known)));
    }
  });

  router.post(`${BASE}/windows/:id/retire`, async (req, res) => {
    const ctx = await writerContext(res);
    if (!ctx) return;
    const window = await windowOf(req, res, ctx);
    if (!window) return;
    const form = z.object({ confirm: z.literal('yes'), version: versionField }).safeParse({ confirm: str(req.body?.confirm), version: str(req.body?.version) });
    if (!form.success) {
      sendHtml(res, 400, windowPage(ctx, { window, form: { values: windowFormFrom(window), errors: {} }, version: window.version, notice: { kind: 'error', text: `Nothing was changed: tick "Yes, retire ${window.name}" and press Retire.` } }));
      return;
    }
    try {
      await retireScheduleWindow(db, window.id, [form.data.version], ctx.user.email);
      res.redirect(303, `${HOME}/windows/${window.id}${queryString({ done: 'retired' })}`);
    } catch (error) {
      await windowStale(res, ctx, window.id, refusalOf(error));
    }
  });

  // --- reminders -----------------------------------------------------------------------------------

  router.post(`${BASE}/reminders`, async (req, res) => {
    const ctx = await writerContext(res);
    if (!ctx) return;
    const body = (req.body ?? {}) as Record<string, unknown>;
    const values: ReminderFormValues = { warrantyDaysBefore: text(body, 'warrantyDaysBefore'), leaseDaysBefore: text(body, 'leaseDaysBefore'), version: text(body, 'version') };
    const again = (status: number, errors: FieldErrors, pageNotice?: Notice) => renderSettings(res, ctx, status, { reminders: { values, errors } }, pageNotice);
    const version = versionField.safeParse(values.version);
    if (!version.success) {
      await renderSettings(res, ctx, 400, {}, { kind: 'error', text: 'Nothing was saved: the form did not say which version it edits. Edit the reminder days below and save again.' });
      return;
    }
    const input = reminderSettingsInput.safeParse({ warrantyDaysBefore: wholeNumber(values.warrantyDaysBefore), leaseDaysBefore: wholeNumber(values.leaseDaysBefore) });
    if (!input.success) {
      await again(400, fieldErrorsOf(zodProblems(input.error)));
      return;
    }
    try {
      const { changed } = await saveReminderSettings(db, [version.data], input.data, ctx.user.email, defaults);
      res.redirect(303, done(changed ? 'reminders-saved' : 'reminders-unchanged'));
    } catch (error) {
      const known = refusalOf(error);
      if (known.code === 'version_mismatch') {
        await renderSettings(res, ctx, 412, {}, { kind: 'error', text: staleText('setting', known) });
        return;
      }
      await again(known.status, fieldErrorsOf(problemsOfRefusal(known)));
    }
  });
}
