/**
 * Requesters submit changes and follow them; implementers record their work (issue 15). The new
 * change form picks its CIs by name, class or business service with a search whose state rides in
 * the form's fields (no script), previews the assessment the workflow would make
 * (model/change-preview.ts) and submits through the same code as POST /changes. The change's page
 * shows what the API's GET /changes/:id shows to the same people, and offers the actions the
 * change's state and the viewer's role allow, each through the same function as its API route, so
 * a refusal reads the same, next to the action.
 */
import { randomUUID } from 'node:crypto';
import type { Request, Response, Router } from 'express';
import { z } from 'zod';
import { ASSET_STATES, IN_STOCK_SUBSTATES, RETIREMENT_REASONS } from '../../domain/asset-lifecycle';
import { CHANGE_TYPES, type ChangeImpact } from '../../domain/change-impact';
import { isBeforeImplementation } from '../../domain/change-request';
import type { RiskAssessment } from '../../domain/change-risk';
import { impactSummaryLines } from '../../domain/impact-summary';
import { amountInputText, formatMoney, parseMoney } from '../../domain/money';
import { instantFromLocalInput, localInputValue } from '../../domain/time-zones';
import { findApproval } from '../../model/approvals';
import { previewChange, type ChangePreview } from '../../model/change-preview';
import {
  assetIdsByTag,
  changeDetail,
  findChangeRow,
  listSoftwareProductChoices,
  scopeCisByIds,
  searchScopeCis,
  type ChangeRow,
  type ScopeCi,
} from '../../model/changes';
import { listCostCentres } from '../../model/directory';
import { CI_CLASSES } from '../../model/master-data/configuration-items';
import { listChangeModelRecords } from '../../model/process-settings';
import { processTimeline } from '../../model/processes';
import { listServices } from '../../model/service-map';
import { findSubmission } from '../../model/submissions';
import { decideApproval, decisionBody } from '../approval-decisions';
import { hasAnyRole, maySeeRequest, type Role } from '../auth';
import { notFound, toHttpError, type HttpError } from '../errors';
import {
  IMPLEMENTERS,
  REVIEWERS,
  cancelChange,
  cancelChangeBody,
  changeSubmissionOf,
  createChangeBody,
  implementationBody,
  mayReviseOrCancel,
  recordChangeImplementation,
  recordChangeReview,
  reviewChangeBody,
  reviseChange,
  reviseScopeBody,
  submitChange,
} from '../routes/changes';
import { errorSummary, field, problemsOfRefusal, select, str, text, zodProblems, type FieldErrors } from './forms';
import { html, join, sendHtml, type SafeHtml } from './html';
import type { WebKit, WebRoute } from './router';
import { approvalsTable, csrfField, errorPage, label, layout, notice, processHref, queryString, time, timelineTable, type Notice, type TimelineEntry, type ViewContext } from './views';


export const CHANGE_PAGE_ROUTES: readonly WebRoute[] = [
  { method: 'get', path: '/requests/new', access: 'signed_in' },
  { method: 'get', path: '/changes/new', access: 'signed_in' },
  { method: 'post', path: '/changes/new', access: 'signed_in' },
  { method: 'get', path: '/changes/:id', access: 'signed_in' },
  { method: 'post', path: '/changes/:id/revise', access: 'signed_in' },
  { method: 'post', path: '/changes/:id/cancel', access: 'signed_in' },
  { method: 'post', path: '/changes/:id/approvals/:approvalId', access: 'signed_in' },
  { method: 'post', path: '/changes/:id/implementation', access: IMPLEMENTERS },
  { method: 'post', path: '/changes/:id/review', access: REVIEWERS },
];

/** Rows of declared asset transitions and licence changes the form offers. */
const ASSET_ROWS = 3;
const LICENCE_ROWS = 3;
/** The most rows of each the scope may name (the API's bounds), so a longer revised scope keeps every row. */
const MOST_ASSET_ROWS = 200;
const MOST_LICENCE_ROWS = 100;

/** Rows the form shows: at least `least`, and as many as the posted form named (one past its highest numbered field). */
function rowCount(body: Record<string, unknown>, field: string, least: number, most: number): number {
  const indexes = Object.keys(body).filter((key) => key.startsWith(field)).map((key) => Number(key.slice(field.length))).filter((i) => Number.isInteger(i) && i >= 0 && i < most);
  return Math.max(least, ...indexes.map((i) => i + 1));
}
const SEARCH_LIMIT = 50;

export const changeHref = (number: string) => `/ui/changes/${encodeURIComponent(number)}`;

// ---------------------------------------------------------------------------------------------
// The scope form: values as typed, read into the API's body
// ---------------------------------------------------------------------------------------------

interface ScopeForm {
  /** Made when the form is first shown: sending the same form twice (a double click, a retry) submits or revises once. */
  submissionKey: string;
  type: string;
  changeModelId: string;
  title: string;
  description: string;
  costCentre: string;
  currency: string;
  /** The chosen CIs' ids, in the order chosen. */
  cis: string[];
  q: string;
  ciClass: string;
  service: string;
  windowStart: string;
  windowEnd: string;
  assets: { tag: string; toState: string; toSubstate: string }[];
  licences: { productId: string; added: string; removed: string }[];
  oneOffCost: string;
  recurringCost: string;
}

const FORM_LABELS: Record<string, string> = {
  type: 'Type', changeModelId: 'Change model', title: 'Title', description: 'Description', costCentre: 'Cost centre', currency: 'Currency',
  cis: 'Configuration items', windowStart: 'Planned start', windowEnd: 'Planned end', oneOffCost: 'One-off cost', recurringCost: 'Recurring cost',
  ...Object.fromEntries(Array.from({ length: MOST_ASSET_ROWS }, (_, i) => [`asset${i}`, `Asset transition ${i + 1}`])),
  ...Object.fromEntries(Array.from({ length: MOST_LICENCE_ROWS }, (_, i) => [`licence${i}`, `Licence change ${i + 1}`])),
};

/** Every value of a repeated field (checkboxes, hidden lists). */
const all = (value: unknown): string[] => (Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : typeof value === 'string' ? [value] : []);
const isUuid = (value: string) => z.uuid().safeParse(value).success;

function scopeFormOf(body: Record<string, unknown>): ScopeForm {
  const chosen = [...all(body.ci), ...all(body.add)].filter(isUuid);
  const removed = str(body.remove);
  const key = text(body, 'submissionKey');
  return {
    submissionKey: isUuid(key) ? key : randomUUID(),
    type: text(body, 'type') || 'normal',
    changeModelId: text(body, 'changeModelId'),
    title: text(body, 'title'),
    description: text(body, 'description'),
    costCentre: text(body, 'costCentre'),
    currency: text(body, 'currency').trim().toUpperCase() || 'EUR',
    cis: [...new Set(chosen)].filter((id) => id !== removed),
    q: text(body, 'q'),
    ciClass: text(body, 'ciClass'),
    service: text(body, 'service'),
    windowStart: text(body, 'windowStart'),
    windowEnd: text(body, 'windowEnd'),
    assets: Array.from({ length: rowCount(body, 'assetTag', ASSET_ROWS, MOST_ASSET_ROWS) }, (_, i) => ({ tag: text(body, `assetTag${i}`).trim(), toState: text(body, `assetToState${i}`), toSubstate: text(body, `assetToSubstate${i}`) })),
    licences: Array.from({ length: rowCount(body, 'product', LICENCE_ROWS, MOST_LICENCE_ROWS) }, (_, i) => ({ productId: text(body, `product${i}`), added: text(body, `installsAdded${i}`), removed: text(body, `installsRemoved${i}`) })),
    oneOffCost: text(body, 'oneOffCost'),
    recurringCost: text(body, 'recurringCost'),
  };
}

const emptyForm = (): ScopeForm => scopeFormOf({});

/** The form row each declared asset transition and licence change came from (empty rows are left out of the body). */
interface RowsOf {
  assets: number[];
  licences: number[];
}

/** The field of the form an API path names (affectedCiIds, assetActions.1.toState, plannedStart...). */
function formFieldOf(path: string, rows?: RowsOf): string {
  const [head, index] = path.split('.');
  const row = (of: number[] | undefined) => (index !== undefined && /^\d+$/.test(index) ? of?.[Number(index)] ?? Number(index) : 0);
  if (head === 'affectedCiIds') return 'cis';
  if (head === 'assetActions') return `asset${row(rows?.assets)}`;
  if (head === 'licenceChanges') return `licence${row(rows?.licences)}`;
  if (head === 'plannedStart') return 'windowStart';
  if (head === 'plannedEnd') return 'windowEnd';
  if (head === 'oneOffCostMinor') return 'oneOffCost';
  if (head === 'recurringCostMinor') return 'recurringCost';
  return head || 'form';
}

function addProblems(errors: FieldErrors, problems: { path: string; message: string }[], rows?: RowsOf): void {
  for (const problem of problems) {
    const name = formFieldOf(problem.path, rows);
    errors[name] = errors[name] ? `${errors[name]}; ${problem.message}` : problem.message;
  }
}

/**
 * The scope the form names, in the API's words: times from the viewer's zone, money in minor
 * units, assets by id; with the problems of what could not be read, by field.
 */
async function scopeOf(kit: WebKit, form: ScopeForm, zone: string) {
  const errors: FieldErrors = {};
  const instant = (name: 'windowStart' | 'windowEnd') => {
    const value = form[name].trim();
    if (!value) return undefined;
    const read = instantFromLocalInput(value, zone);
    if (!read) errors[name] = 'give a date and time';
    return read;
  };
  const money = (name: 'oneOffCost' | 'recurringCost') => {
    const value = form[name].trim();
    if (!value) return 0;
    const read = parseMoney(value, form.currency);
    if (read === undefined) errors[name] = `give an amount in ${form.currency}, such as 1,250.00`;
    return read ?? 0;
  };
  const tags = await assetIdsByTag(kit.deps.db, form.assets.map((a) => a.tag).filter(Boolean));
  const rows: RowsOf = { assets: [], licences: [] };
  const assetActions = form.assets.flatMap((a, i) => {
    if (!a.tag && !a.toState) return [];
    const assetId = tags.get(a.tag);
    if (!a.tag) errors[`asset${i}`] = 'give the asset tag';
    else if (!assetId) errors[`asset${i}`] = `no asset ${a.tag}`;
    if (!a.toState) errors[`asset${i}`] = 'choose the state it moves to';
    if (!assetId || !a.toState) return [];
    rows.assets.push(i);
    return [{ assetId, toState: a.toState, ...(a.toSubstate ? { toSubstate: a.toSubstate } : {}) }];
  });
  const count = (value: string) => (/^\s*\d+\s*$/.test(value) ? Number(value) : value.trim() ? Number.NaN : 0);
  const licenceChanges = form.licences.flatMap((l, i) => {
    if (!l.productId) {
      if (l.added.trim() || l.removed.trim()) errors[`licence${i}`] = 'choose the product';
      return [];
    }
    const added = count(l.added);
    const removed = count(l.removed);
    if (Number.isNaN(added) || Number.isNaN(removed)) errors[`licence${i}`] = 'installs are whole numbers';
    rows.licences.push(i);
    return [{ productId: l.productId, installsAdded: added || 0, installsRemoved: removed || 0 }];
  });
  const scope = {
    title: form.title.trim(),
    description: form.description,
    affectedCiIds: form.cis,
    assetActions,
    licenceChanges,
    plannedStart: instant('windowStart'),
    plannedEnd: instant('windowEnd'),
    oneOffCostMinor: money('oneOffCost'),
    recurringCostMinor: money('recurringCost'),
  };
  return { scope, errors, rows };
}

/** The form's values from a stored change, for the revise form. */
function formOfChange(detail: Awaited<ReturnType<typeof changeDetail>>, zone: string): ScopeForm {
  const form = emptyForm();
  form.type = detail.type;
  form.changeModelId = detail.changeModelId ?? '';
  form.title = detail.title;
  form.description = detail.description;
  form.costCentre = detail.costCentre?.code ?? '';
  form.currency = detail.currency;
  form.cis = detail.affectedCis.map((c: { id: string }) => c.id);
  form.windowStart = detail.plannedStart ? localInputValue(detail.plannedStart, zone) : '';
  form.windowEnd = detail.plannedEnd ? localInputValue(detail.plannedEnd, zone) : '';
  detail.assetActions.forEach((a: { assetTag: string; toState: string; toSubstate: string | null }, i: number) => {
    form.assets[i] = { tag: a.assetTag, toState: a.toState, toSubstate: a.toSubstate ?? '' };
  });
  detail.licenceChanges.forEach((l: { productId: string; installsAdded: number; installsRemoved: number }, i: number) => {
    form.licences[i] = { productId: l.productId, added: String(l.installsAdded), removed: String(l.installsRemoved) };
  });
  // One empty row after the declared ones, to add another.
  if (form.assets.length <= detail.assetActions.length) form.assets.push({ tag: '', toState: '', toSubstate: '' });
  if (form.licences.length <= detail.licenceChanges.length) form.licences.push({ productId: '', added: '', removed: '' });
  form.oneOffCost = detail.oneOffCostMinor ? amountInputText(detail.oneOffCostMinor, detail.currency) : '';
  form.recurringCost = detail.recurringCostMinor ? amountInputText(detail.recurringCostMinor, detail.currency) : '';
  return form;
}

// ---------------------------------------------------------------------------------------------
// Views
// ---------------------------------------------------------------------------------------------

interface FormChoices {
  costCentres: { code: string; name: string }[];
  models: { id: string; name: string }[];
  services: { id: string; name: string; criticality: string | null }[];
  products: { id: string; publisher: string; name: string }[];
}

interface FormView {
  form: ScopeForm;
  errors: FieldErrors;
  chosen: ScopeCi[];
  results?: ScopeCi[];
  preview?: ChangePreview;
  choices: FormChoices;
  /** Revising an existing change: type, model and cost centre stay as they are. */
  revising?: { number: string };
  /** The change this form submitted before, when it was sent again with other values. */
  earlier?: string;
}

const tier = (criticality: string | null) => (criticality ? criticality.replace('tier_', 'tier ') : '');

function hidden(name: string, value: string): SafeHtml {
  return html`<input type="hidden" name="${name}" value="${value}">`;
}

function fieldError(id: string, errors: FieldErrors, name: string): SafeHtml {
  return errors[name] ? html`<p id="${id}-error" class="notice error">${errors[name]}</p>` : html``;
}

function ciPicker(view: FormView): SafeHtml {
  const { form, errors, chosen, results, choices } = view;
  const chosenList = chosen.length
    ? html`<table id="chosen-cis"><caption>Chosen configuration items</caption>
<thead><tr><th scope="col">CI</th><th scope="col">Class</th><th scope="col">Remove</th></tr></thead>
<tbody>${chosen.map((c) => html`<tr><td>${c.name} <span class="meta">${c.number}</span>${hidden('ci', c.id)}</td><td>${label(c.ciClass)}</td>
<td><button type="submit" name="remove" value="${c.id}" class="secondary" aria-label="${`Remove ${c.name}`}">Remove</button></td></tr>`)}</tbody></table>`
    : html`<p id="chosen-cis">No configuration item chosen yet: search below and add the ones the change touches.</p>`;
  const resultList = results === undefined
    ? html``
    : results.length
      ? html`<fieldset id="ci-results"><legend>Search results (${results.length}${results.length === SEARCH_LIMIT ? ', the first ones' : ''}): tick to add</legend>
${results.map((c) => html`<div class="check"><input type="checkbox" id="add-${c.id}" name="add" value="${c.id}"${form.cis.includes(c.id) && html` checked disabled`}>
<label for="add-${c.id}">${c.name} <span class="meta">${c.number}, ${label(c.ciClass)}</span></label></div>`)}
<div class="actions"><button type="submit" name="op" value="add">Add the ticked CIs</button></div></fieldset>`
      : html`<p id="ci-results" role="status">No configuration item matches.</p>`;
  return html`<fieldset id="f-cis"><legend>Configuration items the change touches</legend>
${fieldError('f-cis', errors, 'cis')}
${chosenList}
<div class="filters" role="search" aria-label="Find configuration items">
<div><label for="f-q">Name or number</label><input id="f-q" name="q" type="search" value="${form.q}" maxlength="100"></div>
<div><label for="f-ciClass">Class</label><select id="f-ciClass" name="ciClass"><option value="">any</option>${CI_CLASSES.map((c) => html`<option value="${c}"${c === form.ciClass && html` selected`}>${label(c)}</option>`)}</select></div>
<div><label for="f-service">Behind business service</label><select id="f-service" name="service"><option value="">any</option>${choices.services.map((s) => html`<option value="${s.id}"${s.id === form.service && html` selected`}>${s.name} (${tier(s.criticality)})</option>`)}</select></div>
<div><button type="submit" name="op" value="search" class="secondary">Search CIs</button></div>
</div>
<p class="meta">A business service finds itself and every CI it depends on.</p>
${resultList}
</fieldset>`;
}

function assetRows(view: FormView): SafeHtml {
  const { form, errors } = view;
  const substates = [...IN_STOCK_SUBSTATES, ...RETIREMENT_REASONS];
  return html`<fieldset><legend>Asset transitions to run when the change succeeds (optional)</legend>
${form.assets.map((a, i) => html`<div class="filters" id="f-asset${i}">
${fieldError(`f-asset${i}`, errors, `asset${i}`)}
<div><label for="f-assetTag${i}">Asset tag ${i + 1}</label><input id="f-assetTag${i}" name="assetTag${i}" value="${a.tag}" maxlength="40"${errors[`asset${i}`] && html` aria-invalid="true" aria-describedby="f-asset${i}-error"`}></div>
<div><label for="f-assetToState${i}">To state</label><select id="f-assetToState${i}" name="assetToState${i}"><option value="">–</option>${ASSET_STATES.map((s) => html`<option value="${s}"${s === a.toState && html` selected`}>${label(s)}</option>`)}</select></div>
<div><label for="f-assetToSubstate${i}">Substate</label><select id="f-assetToSubstate${i}" name="assetToSubstate${i}"><option value="">–</option>${substates.map((s) => html`<option value="${s}"${s === a.toSubstate && html` selected`}>${label(s)}</option>`)}</select></div>
</div>`)}
</fieldset>`;
}

function licenceRows(view: FormView): SafeHtml {
  const { form, errors, choices } = view;
  return html`<fieldset><legend>Licence changes (optional)</legend>
${form.licences.map((l, i) => html`<div class="filters" id="f-licence${i}">
${fieldError(`f-licence${i}`, errors, `licence${i}`)}
<div><label for="f-product${i}">Product ${i + 1}</label><select id="f-product${i}" name="product${i}"${errors[`licence${i}`] && html` aria-invalid="true" aria-describedby="f-licence${i}-error"`}><option value="">–</option>${choices.products.map((p) => html`<option value="${p.id}"${p.id === l.productId && html` selected`}>${p.publisher} ${p.name}</option>`)}</select></div>
<div><label for="f-installsAdded${i}">Installs added</label><input id="f-installsAdded${i}" name="installsAdded${i}" value="${l.added}" inputmode="numeric" size="6"></div>
<div><label for="f-installsRemoved${i}">Installs removed</label><input id="f-installsRemoved${i}" name="installsRemoved${i}" value="${l.removed}" inputmode="numeric" size="6"></div>
</div>`)}
</fieldset>`;
}

function scopeFormBody(ctx: ViewContext, view: FormView, action: string, submitLabel: string): SafeHtml {
  const { form, errors, choices, revising } = view;
  const head = revising
    ? html`${hidden('type', form.type)}${hidden('currency', form.currency)}`
    : html`${select({ id: 'f-type', name: 'type', label: 'Type', value: form.type, errors, options: CHANGE_TYPES.map((t) => [t, label(t)]) })}
${select({ id: 'f-changeModelId', name: 'changeModelId', label: 'Change model (standard changes only)', value: form.changeModelId, errors, options: [['', 'none'], ...choices.models.map((m): [string, string] => [m.id, m.name])] })}`;
  const costCentre = revising
    ? html``
    : html`${select({ id: 'f-costCentre', name: 'costCentre', label: 'Cost centre that pays for it', value: form.costCentre, errors, options: [['', 'none'], ...choices.costCentres.map((c): [string, string] => [c.code, `${c.code} ${c.name}`])] })}
${field({ id: 'f-currency', name: 'currency', label: 'Currency', value: form.currency, errors, attrs: html` maxlength="3" size="4"` })}`;
  return html`<form method="post" action="${action}" novalidate>
${csrfField(ctx.csrf)}
${hidden('submissionKey', form.submissionKey)}
${errorSummary('f', errors, FORM_LABELS)}
${head}
${field({ id: 'f-title', name: 'title', label: 'Title', value: form.title, errors, hint: revising ? undefined : 'A standard change may leave it empty: it takes its model’s name.', attrs: html` maxlength="200" size="60"` })}
<label for="f-description">Description</label>
<textarea id="f-description" name="description" rows="4" maxlength="10000">${form.description}</textarea>
${ciPicker(view)}
<fieldset><legend>Planned window, in your time zone (${ctx.timeZone}); leave both empty for none</legend>
${field({ id: 'f-windowStart', name: 'windowStart', label: `Planned start (${ctx.timeZone})`, value: form.windowStart, errors, type: 'datetime-local' })}
${field({ id: 'f-windowEnd', name: 'windowEnd', label: `Planned end (${ctx.timeZone})`, value: form.windowEnd, errors, type: 'datetime-local' })}
</fieldset>
${assetRows(view)}
${licenceRows(view)}
<fieldset><legend>Costs</legend>
${costCentre}
${field({ id: 'f-oneOffCost', name: 'oneOffCost', label: `One-off cost (${form.currency})`, value: form.oneOffCost, errors, hint: 'In major units, e.g. 1,250.00', attrs: html` inputmode="decimal" size="14"` })}
${field({ id: 'f-recurringCost', name: 'recurringCost', label: `Recurring cost (${form.currency})`, value: form.recurringCost, errors, attrs: html` inputmode="decimal" size="14"` })}
</fieldset>
<div class="actions">
<button type="submit" name="op" value="preview" class="secondary">Preview the impact and risk</button>
<button type="submit" name="op" value="submit">${submitLabel}</button>
</div>
</form>`;
}

function riskSection(risk: RiskAssessment, headingId: string): SafeHtml {
  return html`<section aria-labelledby="${headingId}"><h3 id="${headingId}">Risk: <span id="${headingId}-level">${label(risk.level)}</span> (score ${risk.score})</h3>
${risk.reasons.length
    ? html`<ul class="reasons">${risk.reasons.map((r) => html`<li>${r.text} <span class="meta">(+${r.points})</span></li>`)}</ul>`
    : html`<p>Nothing raises the risk.</p>`}
</section>`;
}

/** The impact as people read it: the summary in sentences, then the services, money and schedule in detail. */
function impactSections(impact: ChangeImpact, zone: string, prefix: string): SafeHtml {
  const { services, money, schedule, assets, licences } = impact;
  const lines = impactSummaryLines(impact).filter((line) => !line.startsWith('Schedule:'));
  const serviceTable = services.businessServices.length
    ? html`<table><caption>Business services reached</caption>
<thead><tr><th scope="col">Service</th><th scope="col">Criticality</th><th scope="col" class="num">Hops away</th></tr></thead>
<tbody>${services.businessServices.map((s) => html`<tr><th scope="row"><a href="${`/ui/cis/${encodeURIComponent(s.id)}`}">${s.name}</a></th><td>${tier(s.criticality)}</td><td class="num">${s.depth}</td></tr>`)}</tbody></table>`
    : html`<p>No business service is reached.</p>`;
  const budget = money.remainingBeforeMinor === null
    ? html`<p>No budget for ${money.period.slice(0, 7)}${money.costCentre ? html` in ${money.costCentre.code}` : ' (no cost centre)'}.</p>`
    : html`<dl class="summary"><dt>Budget left before</dt><dd>${formatMoney(money.remainingBeforeMinor, money.budgetCurrency ?? money.currency)}</dd>
<dt>Budget left after</dt><dd>${money.remainingAfterMinor === null ? '–' : formatMoney(money.remainingAfterMinor, money.budgetCurrency ?? money.currency)}${money.overBudget && html` <strong class="breached">over budget</strong>`}</dd></dl>
${money.notComparable && html`<p>${money.notComparable}</p>`}`;
  const window = schedule.plannedStart
    ? html`${time(schedule.plannedStart, zone)} to ${time(schedule.plannedEnd, zone)}`
    : html`no planned window`;
  const scheduleNotes = [
    schedule.maintenanceWindow
      ? html`inside the maintenance window "${schedule.maintenanceWindow.name}"`
      : schedule.plannedStart ? html`outside any maintenance window` : null,
    ...schedule.blackouts.map((b) => html`overlaps the blackout "${b.name}" (${time(b.startsAt, zone)} to ${time(b.endsAt, zone)})`),
    ...schedule.conflicts.map((c) => html`overlaps <a href="${changeHref(c.number)}">${c.number}</a> "${c.title}" on shared CIs (${time(c.plannedStart, zone)} to ${time(c.plannedEnd, zone)})`),
  ].filter((note): note is SafeHtml => note !== null);
  return html`<section aria-labelledby="${prefix}-impact-heading"><h3 id="${prefix}-impact-heading">Impact</h3>
<ul id="${prefix}-impact-summary">${lines.map((line) => html`<li>${line}</li>`)}</ul>
<p>${services.cisReached} configuration item(s) reached within ${impact.maxDepth} hops${services.depthLimitReached ? ' (the walk stopped at the depth limit)' : ''}.</p>
${serviceTable}
${assets.declaredTransitions.length > 0 && html`<p>Declared transitions: ${join(assets.declaredTransitions.map((t) => html`<a href="${`/ui/assets/${encodeURIComponent(t.assetTag)}`}">${t.assetTag}</a> ${label(t.fromState)} → ${label(t.toState)}${t.toSubstate ? ` (${label(t.toSubstate)})` : ''}`), ', ')}.</p>`}
${licences.deltas.length > 0 && html`<p>Licence true-up after the change: ${formatMoney(licences.trueUpCostMinor, money.currency)}.</p>`}
<h4>Money</h4>
<p>${formatMoney(money.oneOffCostMinor, money.currency)} one-off, ${formatMoney(money.recurringCostMinor, money.currency)} recurring${money.costCentre ? ` to ${money.costCentre.code} ${money.costCentre.name}` : ''}.</p>
${budget}
<h4>Schedule</h4>
<p>${window}${scheduleNotes.length > 0 && html`: ${join(scheduleNotes, '; ')}`}.</p>
</section>`;
}

function previewSection(ctx: ViewContext, preview: ChangePreview): SafeHtml {
  const approvals = preview.approvedByModel
    ? html`<p>Approved by the change model "${preview.approvedByModel.name}": the risk is within its ceiling (${label(preview.approvedByModel.riskCeiling)}); nobody is asked.</p>`
    : preview.approvalSteps.length
      ? html`<ol>${preview.approvalSteps.map((s) => html`<li>${s.name} <span class="meta">(${s.policy}, ${s.required} needed)</span>: ${s.approvers.map((a) => (a.delegatedFrom ? `${a.name} for ${a.delegatedFrom}` : a.name)).join(', ') || 'nobody'}${s.notes.length > 0 && html` <span class="meta">${s.notes.join('; ')}</span>`}</li>`)}</ol>`
      : html`<p>No approval rule applies: the change would be approved without anyone being asked.</p>`;
  return html`<section id="preview" aria-labelledby="preview-heading" class="preview">
<h2 id="preview-heading" tabindex="-1">Preview: what the assessment would say</h2>
<p class="meta" role="status">Computed now by the same assessment the workflow runs; nothing was saved. Submitting assesses it again.</p>
${riskSection(preview.risk, 'preview-risk')}
${impactSections(preview.impact, ctx.timeZone, 'preview')}
<section aria-labelledby="preview-approvals-heading"><h3 id="preview-approvals-heading">Who would be asked to approve</h3>${approvals}</section>
</section>`;
}

function newChangePage(ctx: ViewContext, view: FormView): SafeHtml {
  const body = html`<p class="meta"><a href="/ui/requests/new">← New request</a></p>
<h1>Submit a change</h1>
<p>Name what the change touches and when; preview the impact and risk the assessment will find, then submit. Approvers are asked as the rules say.</p>
${view.earlier && html`<p id="earlier-submission" class="notice ok">Submitted before from this form: <a href="${changeHref(view.earlier)}">${view.earlier}</a>. The form below is a new request.</p>`}
${view.preview && previewSection(ctx, view.preview)}
${scopeFormBody(ctx, view, '/ui/changes/new', 'Submit the change')}`;
  return layout(ctx, 'Submit a change', body);
}

function landingPage(ctx: ViewContext): SafeHtml {
  return layout(ctx, 'New request', html`<h1>New request</h1>
<p>What do you need?</p>
<ul class="choices">
<li><h2><a href="/ui/changes/new">Change something that runs</a></h2>
<p>A change to configuration items (servers, applications, services): you say what it touches and when, see its impact and risk before you submit, and approvers are asked as the rules say.</p></li>
<li><h2><a href="/ui/purchases/new">Buy from the catalogue</a></h2>
<p>Hardware or software at the contract price, with spare licences offered first and the budget left before and after shown.</p></li>
</ul>
<p class="meta">Follow what you asked for in <a href="/ui/my-requests">My requests</a>.</p>`);
}

type Detail = Awaited<ReturnType<typeof changeDetail>>;

interface ActionErrors {
  /** Action name (revise, cancel, implementation, review, decision-<approval id>) -> what the page says of it. */
  [action: string]: string;
}

/** An action's form as the page shows it again: its key (the same key is the same command) and what was typed. */
interface ActionForm {
  key: string;
  values: Record<string, string>;
}

interface DetailView {
  detail: Detail;
  timeline: TimelineEntry[];
  myPendingApprovalIds: string[];
  mayRevise: boolean;
  mayImplement: boolean;
  mayReview: boolean;
  actionErrors: ActionErrors;
  /** Forms shown again after a refusal or a deadline, by action; the others get a new key. */
  forms: Record<string, ActionForm>;
  notice?: Notice;
  revise?: FormView;
}

function actionError(errors: ActionErrors, action: string): SafeHtml {
  return errors[action] ? html`<p id="${action}-error" class="notice error" role="alert">${errors[action]}</p>` : html``;
}

function changePage(ctx: ViewContext, view: DetailView): SafeHtml {
  const d = view.detail;
  const errors = view.actionErrors;
  const number = d.number;
  const base = changeHref(number);
  const impl = (d.implementation ?? {}) as Record<string, { notes?: string; by?: string; at?: string } | undefined>;
  const summary = html`<dl class="summary">
<dt>Number</dt><dd>${number}</dd>
<dt>Type</dt><dd>${label(d.type)}${d.model && html` (model "${d.model.name}")`}</dd>
<dt>State</dt><dd id="change-state">${label(d.state)}${d.closeCode && ` (${label(d.closeCode)})`}</dd>
<dt>Requester</dt><dd>${d.requester?.name ?? '–'}</dd>
<dt>Cost centre</dt><dd>${d.costCentre ? `${d.costCentre.code} ${d.costCentre.name}` : '–'}</dd>
<dt>Planned window</dt><dd>${d.plannedStart ? html`${time(d.plannedStart, ctx.timeZone)} to ${time(d.plannedEnd, ctx.timeZone)}` : 'none'}</dd>
<dt>Costs</dt><dd>${formatMoney(d.oneOffCostMinor, d.currency)} one-off, ${formatMoney(d.recurringCostMinor, d.currency)} recurring</dd>
<dt>Revision</dt><dd>${d.revision}</dd>
<dt>Submitted</dt><dd>${time(d.createdAt, ctx.timeZone)}</dd>
${d.closedAt && html`<dt>Closed</dt><dd>${time(d.closedAt, ctx.timeZone)}</dd>`}
</dl>
<p><a href="${processHref(d.workflowId)}">Process page</a> · <a href="${`${base}/impact-map`}">Service map of its impact</a></p>`;
  const scope = html`<table id="scope-cis"><caption>Configuration items it touches</caption>
<thead><tr><th scope="col">CI</th><th scope="col">Class</th></tr></thead>
<tbody>${d.affectedCis.map((c: { id: string; number: string; name: string; ciClass: string }) => html`<tr><th scope="row"><a href="${`/ui/cis/${encodeURIComponent(c.id)}`}">${c.name}</a> <span class="meta">${c.number}</span></th><td>${label(c.ciClass)}</td></tr>`)}</tbody></table>
${d.assetActions.length > 0 && html`<table id="scope-assets"><caption>Asset transitions it declares</caption>
<thead><tr><th scope="col">Asset</th><th scope="col">Now</th><th scope="col">To</th></tr></thead>
<tbody>${d.assetActions.map((a: { assetTag: string; currentState: string; toState: string; toSubstate: string | null }) => html`<tr><th scope="row"><a href="${`/ui/assets/${encodeURIComponent(a.assetTag)}`}">${a.assetTag}</a></th><td>${label(a.currentState)}</td><td>${label(a.toState)}${a.toSubstate && ` (${label(a.toSubstate)})`}</td></tr>`)}</tbody></table>`}
${d.licenceChanges.length > 0 && html`<table id="scope-licences"><caption>Licence changes</caption>
<thead><tr><th scope="col">Product</th><th scope="col" class="num">Installs added</th><th scope="col" class="num">Installs removed</th></tr></thead>
<tbody>${d.licenceChanges.map((l: { publisher: string; product: string; installsAdded: number; installsRemoved: number }) => html`<tr><th scope="row">${l.publisher} ${l.product}</th><td class="num">${l.installsAdded}</td><td class="num">${l.installsRemoved}</td></tr>`)}</tbody></table>`}`;
  const assessment = d.impact && d.risk
    ? html`${riskSection(d.risk as RiskAssessment, 'risk')}${impactSections(d.impact as ChangeImpact, ctx.timeZone, 'stored')}`
    : html`<p>Not assessed yet: the workflow assesses it in a moment.</p>`;
  const formOf = (action: string): ActionForm => view.forms[action] ?? { key: randomUUID(), values: {} };
  const keyField = (form: ActionForm) => hidden('requestKey', form.key);
  // One person may hold several pending approvals of one change (two steps): each form is its own.
  const decide = view.myPendingApprovalIds.map((id) => {
    const action = `decision-${id}`;
    const form = formOf(action);
    return html`<section aria-labelledby="${`decide-heading-${id}`}" id="${`decide-${id}`}" class="decide"><h2 id="${`decide-heading-${id}`}">Your decision</h2>
${actionError(errors, action)}
<form method="post" action="${`${base}/approvals/${id}`}">
${csrfField(ctx.csrf)}
<label for="${`decision-comment-${id}`}">Comment</label>
<textarea id="${`decision-comment-${id}`}" name="comment" rows="2" maxlength="2000">${form.values.comment ?? ''}</textarea>
<div class="actions"><button type="submit" name="decision" value="approved">Approve</button> <button type="submit" name="decision" value="rejected" class="reject">Reject</button></div>
</form></section>`;
  });
  const actions: SafeHtml[] = [];
  const cancel = formOf('cancel');
  const implementation = formOf('implementation');
  const review = formOf('review');
  if (view.mayRevise) {
    actions.push(html`<section aria-labelledby="revise-heading"><h3 id="revise-heading">Revise the scope</h3>
${actionError(errors, 'revise')}
<p>A revision sends the change back to assessment; its approvals start over. <a href="${`${base}?revise=1#revise-form`}">Revise the scope</a></p></section>
<section aria-labelledby="cancel-heading"><h3 id="cancel-heading">Cancel the change</h3>
${actionError(errors, 'cancel')}
<form method="post" action="${`${base}/cancel`}">
${csrfField(ctx.csrf)}${keyField(cancel)}
<label for="cancel-reason">Reason</label>
<input id="cancel-reason" name="reason" value="${cancel.values.reason ?? ''}" maxlength="2000" size="60" required${errors.cancel && html` aria-invalid="true" aria-describedby="cancel-error"`}>
<div class="actions"><button type="submit" class="reject">Cancel the change</button></div>
</form></section>`);
  }
  if (view.mayImplement) {
    const started = Boolean(impl.started);
    actions.push(html`<section aria-labelledby="implementation-heading"><h3 id="implementation-heading">Implementation</h3>
${actionError(errors, 'implementation')}
${started ? html`<p>Started ${impl.started?.at ? time(impl.started.at, ctx.timeZone) : ''} by ${impl.started?.by ?? ''}.</p>` : ''}
<form method="post" action="${`${base}/implementation`}">
${csrfField(ctx.csrf)}${keyField(implementation)}
<label for="impl-notes">Notes</label>
<textarea id="impl-notes" name="notes" rows="2" maxlength="5000" required>${implementation.values.notes ?? ''}</textarea>
${started
    ? html`<div class="check"><input id="impl-withIssues" name="withIssues" type="checkbox" value="yes"${implementation.values.withIssues === 'yes' && html` checked`}> <label for="impl-withIssues">Completed with issues</label></div>
<label for="impl-backout">Backout (when it failed: how it was backed out)</label>
<textarea id="impl-backout" name="backout" rows="2" maxlength="5000">${implementation.values.backout ?? ''}</textarea>
<div class="actions"><button type="submit" name="event" value="completed">Record completed</button> <button type="submit" name="event" value="failed" class="reject">Record failed</button></div>`
    : html`<div class="actions"><button type="submit" name="event" value="started">Record implementation started</button></div>`}
</form></section>`);
  }
  if (view.mayReview) {
    actions.push(html`<section aria-labelledby="review-heading"><h3 id="review-heading">Post-implementation review</h3>
${actionError(errors, 'review')}
<form method="post" action="${`${base}/review`}">
${csrfField(ctx.csrf)}${keyField(review)}
<label for="review-notes">Review notes</label>
<textarea id="review-notes" name="notes" rows="3" maxlength="5000" required>${review.values.notes ?? ''}</textarea>
<div class="actions"><button type="submit">Record the review</button></div>
</form></section>`);
  }
  // A refused action the change's state no longer offers is still answered where the actions are.
  const offered = new Set([...(view.mayRevise ? ['revise', 'cancel'] : []), ...(view.mayImplement ? ['implementation'] : []), ...(view.mayReview ? ['review'] : []),
    ...view.myPendingApprovalIds.map((id) => `decision-${id}`)]);
  const refusedElsewhere = Object.keys(errors).filter((action) => !offered.has(action));
  const actionsSection = (actions.length > 0 || refusedElsewhere.length > 0) && html`<section aria-labelledby="actions-heading" id="actions"><h2 id="actions-heading">Actions</h2>
${refusedElsewhere.map((action) => actionError(errors, action))}${actions}</section>`;
  const revise = view.revise && html`<section aria-labelledby="revise-form-heading" id="revise-form"><h2 id="revise-form-heading">Revise the scope of ${number}</h2>
${view.revise.preview && previewSection(ctx, view.revise.preview)}
${scopeFormBody(ctx, view.revise, `${base}/revise`, 'Save the revision')}</section>`;
  const body = html`<p class="meta"><a href="/ui/my-requests">← My requests</a></p>
<h1>${number}: ${d.title}</h1>
${notice(view.notice)}
${d.description && html`<p>${d.description}</p>`}
${decide}
<section aria-labelledby="summary-heading"><h2 id="summary-heading">Summary</h2>${summary}</section>
${actionsSection}
${revise}
<section aria-labelledby="scope-heading"><h2 id="scope-heading">Scope</h2>${scope}</section>
<section aria-labelledby="assessment-heading"><h2 id="assessment-heading">Assessment</h2>${assessment}</section>
<section aria-labelledby="approvals-heading"><h2 id="approvals-heading">Approvals</h2>${approvalsTable(d.approvals, ctx.timeZone)}</section>
<section aria-labelledby="timeline-heading"><h2 id="timeline-heading">Timeline</h2>${timelineTable(view.timeline, ctx.timeZone)}</section>`;
  return layout(ctx, `${number}: ${d.title}`, body);
}

function registeringPage(ctx: ViewContext, number: string): SafeHtml {
  return layout(ctx, `${number} submitted`, html`<h1>${number} is submitted</h1>
<p class="notice ok" role="status">Your change ${number} was submitted; its workflow registers it in a moment.</p>
<p><a href="${changeHref(number)}">Open ${number}</a> (reload if it is not there yet) · <a href="/ui/my-requests">My requests</a></p>`);
}

// ---------------------------------------------------------------------------------------------
// Routes
// ---------------------------------------------------------------------------------------------

const DONE: Record<string, string> = {
  revised: 'The scope is revised: the change is assessed again and its approvals start over.',
  cancelled: 'The change is cancelled.',
  started: 'Implementation started is recorded.',
  completed: 'Implementation completed is recorded; the change closes when its declared transitions have run.',
  failed: 'The failed implementation and its backout are recorded; the change waits for its review.',
  reviewed: 'The review is recorded; the change closes.',
  decided: 'Your decision is recorded.',
};

/** A refusal a form shows next to itself (4xx, and 503/504 that say to send it again); anything else goes to the error page. */
function refusalOf(error: unknown): HttpError {
  const known = toHttpError(error);
  if (!known || known.status === 500 || known.status > 504) throw error;
  return known;
}

/** The process may not have recorded the command yet: the same form, sent again with its key, is the same command. */
const isDeadline = (known: HttpError) => known.status === 503 || known.status === 504;

function deadlineMessage(known: HttpError): string {
  return known.status === 503
    ? 'The workflow service cannot be reached just now, so this may not be recorded yet. Send the form again as it is in a moment: it is the same request, recorded once.'
    : 'The process did not answer in time (its worker may be down or busy); it may still record this. Send the form again as it is to see the outcome: it is the same request, recorded once.';
}

const nothingChanged = (message: string) => `Nothing was changed: ${message}`;

/** The key a form carries, when it is one minted with the form. */
const formKeyOf = (body: Record<string, unknown>, name: string) => {
  const key = text(body, name);
  return isUuid(key) ? key : undefined;
};

export function registerChangePages(router: Router, kit: WebKit): void {
  const { db } = kit.deps;
  const routeDeps = () => kit.deps;

  /** The form's choices; the products include the ones the form names, so a product retired since stays selected. */
  async function choices(form?: ScopeForm): Promise<FormChoices> {
    const named = (form?.licences ?? []).map((l) => l.productId).filter(isUuid);
    const [costCentres, models, services, products] = await Promise.all([
      listCostCentres(db),
      listChangeModelRecords(db, { includeInactive: false }),
      listServices(db),
      listSoftwareProductChoices(db, named),
    ]);
    return { costCentres, models: models.map((m) => ({ id: m.id, name: m.name })), services, products };
  }

  async function searchOf(form: ScopeForm, op: string): Promise<ScopeCi[] | undefined> {
    if (op !== 'search') return undefined;
    return searchScopeCis(db, { q: form.q.trim() || undefined, ciClass: (CI_CLASSES as readonly string[]).includes(form.ciClass) ? form.ciClass : undefined, serviceId: isUuid(form.service) ? form.service : undefined }, SEARCH_LIMIT);
  }

  router.get('/requests/new', async (_req, res) => {
    sendHtml(res, 200, landingPage(await kit.context(res, 'new-request')));
  });

  router.get('/changes/new', async (_req, res) => {
    const ctx = await kit.context(res, 'new-request');
    sendHtml(res, 200, newChangePage(ctx, { form: emptyForm(), errors: {}, chosen: [], choices: await choices() }));
  });

  /** The create body the form names, or the problems of each field. */
  async function createBodyOf(form: ScopeForm, zone: string) {
    const { scope, errors, rows } = await scopeOf(kit, form, zone);
    const parsed = createChangeBody.safeParse({
      type: form.type,
      ...(form.changeModelId ? { changeModelId: form.changeModelId } : {}),
      ...(scope.title ? { title: scope.title } : {}),
      description: scope.description,
      ...(form.costCentre ? { costCentre: form.costCentre } : {}),
      currency: form.currency,
      affectedCiIds: scope.affectedCiIds,
      assetActions: scope.assetActions,
      licenceChanges: scope.licenceChanges,
      ...(scope.plannedStart ? { plannedStart: scope.plannedStart } : {}),
      ...(scope.plannedEnd ? { plannedEnd: scope.plannedEnd } : {}),
      oneOffCostMinor: scope.oneOffCostMinor,
      recurringCostMinor: scope.recurringCostMinor,
    });
    if (!parsed.success) addProblems(errors, zodProblems(parsed.error).filter((p) => !errors[formFieldOf(p.path, rows)]), rows);
    if (form.windowStart.trim() && !form.windowEnd.trim() && !errors.windowEnd) errors.windowEnd = 'give both the start and the end, or neither';
    if (!form.windowStart.trim() && form.windowEnd.trim() && !errors.windowStart) errors.windowStart = 'give both the start and the end, or neither';
    return Object.keys(errors).length || !parsed.success ? { errors, rows } : { body: parsed.data, errors, rows };
  }

  const webChangeKey = (submissionKey: string) => `web-change:${submissionKey}`;

  router.post('/changes/new', async (req, res) => {
    const ctx = await kit.context(res, 'new-request');
    const body = (req.body ?? {}) as Record<string, unknown>;
    const form = scopeFormOf(body);
    const op = str(body.op) ?? (str(body.remove) ? 'remove' : '');
    const [results, chosen, formChoices] = await Promise.all([searchOf(form, op), scopeCisByIds(db, form.cis), choices(form)]);
    const render = (status: number, extra: Partial<FormView> = {}) =>
      sendHtml(res, status, newChangePage(ctx, { form, errors: {}, chosen, results, choices: formChoices, ...extra }));
    if (op !== 'preview' && op !== 'submit') {
      await render(op === 'search' || op === 'add' || op === 'remove' ? 200 : 400, op === 'search' || op === 'add' || op === 'remove' ? {} : { errors: { form: 'Choose Search, Preview or Submit.' } });
      return;
    }
    const { body: createBody, errors, rows } = await createBodyOf(form, ctx.timeZone);
    if (!createBody) {
      await render(400, { errors });
      return;
    }
    try {
      if (op === 'preview') {
        const submission = await changeSubmissionOf(db, createBody);
        const preview = await previewChange(db, { type: createBody.type, requesterId: ctx.user.id, submission });
        await render(200, { preview });
        return;
      }
      const submitted = await submitChange(routeDeps(), ctx.user, createBody, req, webChangeKey(form.submissionKey));
      if (submitted.registered) res.redirect(303, changeHref(submitted.reserved.number));
      else sendHtml(res, 202, registeringPage(ctx, submitted.reserved.number));
    } catch (error) {
      const known = refusalOf(error);
      if (known.code === 'idempotency_key_reused') {
        // This form was submitted before with other values: that submission stands, and a new key makes the next Submit a new change.
        const earlier = await findSubmission(db, ctx.user.id, webChangeKey(form.submissionKey));
        const said = earlier
          ? `This form was already submitted, with other values, as ${earlier.number}; nothing new was submitted. Submit again to make another change with these values.`
          : 'This form was already submitted with other values (see My requests); nothing new was submitted. Submit again to make another change with these values.';
        await render(422, { form: { ...form, submissionKey: randomUUID() }, errors: { form: said }, earlier: earlier?.number });
        return;
      }
      if (isDeadline(known)) {
        // The same key again is the same submission: the form stays as it is.
        await render(known.status, { errors: { form: deadlineMessage(known) } });
        return;
      }
      const refused: FieldErrors = {};
      addProblems(refused, problemsOfRefusal(known), rows);
      await render(known.status, { errors: refused });
    }
  });

  // --- one change ------------------------------------------------------------------------------

  async function visibleChange(req: Request, res: Response, ctx: ViewContext): Promise<ChangeRow | undefined> {
    const id = String(req.params.id);
    const row = id.length <= 64 ? await findChangeRow(db, id) : undefined;
    if (!row) {
      sendHtml(res, 404, errorPage(ctx, 'Not found', `There is no change ${id} (a change just submitted may take a moment to be registered).`, [['/ui/my-requests', 'My requests']]));
      return undefined;
    }
    if (!(await maySeeRequest(db, ctx.user, { subjectId: row.id, requesterId: row.requester_id }))) {
      sendHtml(res, 403, errorPage(ctx, 'Not yours to see', 'You can see the changes you requested or are asked to approve.', [['/ui/my-requests', 'My requests']]));
      return undefined;
    }
    return row;
  }

  const mayRevise = (user: ViewContext['user'], row: ChangeRow) => isBeforeImplementation(row.state) && mayReviseOrCancel(user, row);

  async function renderChange(
    res: Response,
    ctx: ViewContext,
    row: ChangeRow,
    status: number,
    extra: { actionErrors?: ActionErrors; forms?: Record<string, ActionForm>; notice?: Notice; revise?: FormView } = {},
  ) {
    const [detail, timeline] = await Promise.all([changeDetail(db, row), processTimeline(db, row.workflow_id, row.id)]);
    const user = ctx.user;
    const notRequester = row.requester_id !== user.id;
    sendHtml(res, status, changePage(ctx, {
      detail,
      timeline: timeline as TimelineEntry[],
      myPendingApprovalIds: detail.approvals.filter((a) => a.approver.id === user.id && a.state === 'requested').map((a) => a.id),
      mayRevise: mayRevise(user, row),
      mayImplement: row.state === 'implement' && notRequester && hasAnyRole(user, IMPLEMENTERS),
      mayReview: row.state === 'review' && notRequester && hasAnyRole(user, REVIEWERS),
      actionErrors: extra.actionErrors ?? {},
      forms: extra.forms ?? {},
      notice: extra.notice,
      revise: extra.revise,
    }));
  }

  async function reviseView(row: ChangeRow, form: ScopeForm, extra: Partial<FormView> = {}): Promise<FormView> {
    const [chosen, formChoices] = await Promise.all([scopeCisByIds(db, form.cis), choices(form)]);
    return { form, errors: {}, chosen, choices: formChoices, revising: { number: row.number }, ...extra };
  }

  router.get('/changes/:id', async (req, res) => {
    const ctx = await kit.context(res, 'my-requests');
    const row = await visibleChange(req, res, ctx);
    if (!row) return;
    const done = DONE[str(req.query.done) ?? ''];
    const revise = str(req.query.revise) === '1' && mayRevise(ctx.user, row)
      ? await reviseView(row, formOfChange(await changeDetail(db, row), ctx.timeZone))
      : undefined;
    await renderChange(res, ctx, row, 200, { notice: done ? { kind: 'ok', text: done } : undefined, revise });
  });

  router.post('/changes/:id/revise', async (req, res) => {
    const ctx = await kit.context(res, 'my-requests');
    const body = (req.body ?? {}) as Record<string, unknown>;
    const op = str(body.op) ?? (str(body.remove) ? 'remove' : '');
    if (!['search', 'add', 'remove', 'preview', 'submit'].includes(op)) {
      sendHtml(res, 400, errorPage(ctx, 'Nothing was changed', 'Choose Search, Preview or Save on the revise form.'));
      return;
    }
    const row = await visibleChange(req, res, ctx);
    if (!row) return;
    // Who may revise, and until when, is settled before any search or preview is run for the form.
    if (!mayReviseOrCancel(ctx.user, row)) {
      await renderChange(res, ctx, row, 403, { actionErrors: { revise: nothingChanged('only the requester or a process owner can change the scope') } });
      return;
    }
    if (!isBeforeImplementation(row.state)) {
      await renderChange(res, ctx, row, 409, { actionErrors: { revise: nothingChanged(`the scope cannot change once the change is in ${row.state}`) } });
      return;
    }
    const form = scopeFormOf(body);
    form.type = row.type;
    form.currency = row.currency;
    const again = async (status: number, extra: Partial<FormView>) => renderChange(res, ctx, row, status, { revise: await reviseView(row, form, extra) });
    if (op === 'search' || op === 'add' || op === 'remove') {
      await again(200, { results: await searchOf(form, op) });
      return;
    }
    const { scope, errors, rows } = await scopeOf(kit, form, ctx.timeZone);
    const revision = {
      ...(scope.title ? { title: scope.title } : {}),
      description: scope.description,
      affectedCiIds: scope.affectedCiIds,
      assetActions: scope.assetActions,
      licenceChanges: scope.licenceChanges,
      plannedStart: scope.plannedStart ?? null,
      plannedEnd: scope.plannedEnd ?? null,
      oneOffCostMinor: scope.oneOffCostMinor,
      recurringCostMinor: scope.recurringCostMinor,
    };
    const parsed = reviseScopeBody.safeParse(revision);
    if (!parsed.success) addProblems(errors, zodProblems(parsed.error).filter((p) => !errors[formFieldOf(p.path, rows)]), rows);
    if (!parsed.success || Object.keys(errors).length) {
      await again(400, { errors });
      return;
    }
    try {
      if (op === 'preview') {
        const detail = await changeDetail(db, row);
        const submission = await changeSubmissionOf(db, createChangeBody.parse({
          type: row.type,
          ...(row.change_model_id ? { changeModelId: row.change_model_id } : {}),
          title: parsed.data.title ?? row.title,
          description: parsed.data.description ?? row.description,
          ...(detail.costCentre ? { costCentre: detail.costCentre.code } : {}),
          currency: row.currency,
          affectedCiIds: parsed.data.affectedCiIds,
          assetActions: parsed.data.assetActions,
          licenceChanges: parsed.data.licenceChanges,
          ...(parsed.data.plannedStart ? { plannedStart: parsed.data.plannedStart, plannedEnd: parsed.data.plannedEnd } : {}),
          oneOffCostMinor: parsed.data.oneOffCostMinor,
          recurringCostMinor: parsed.data.recurringCostMinor,
        }));
        await again(200, { preview: await previewChange(db, { type: row.type, requesterId: row.requester_id, submission, revising: row.id }) });
        return;
      }
      await reviseChange(routeDeps(), ctx.user, row, parsed.data, req, form.submissionKey);
      res.redirect(303, `${changeHref(row.number)}${queryString({ done: 'revised' })}`);
    } catch (error) {
      const known = refusalOf(error);
      if (known.code === 'idempotency_key_reused') {
        // Sent before with other values: that revision stands; a new key makes the next Save a new revision.
        await again(422, {
          form: { ...form, submissionKey: randomUUID() },
          errors: { form: 'This form was already saved with other values, and that revision is recorded (see the timeline); nothing new was saved. Save again to revise the scope as the form now says.' },
        });
        return;
      }
      if (isDeadline(known)) {
        await again(known.status, { errors: { form: deadlineMessage(known) } });
        return;
      }
      if (known.status === 403 || known.status === 409) {
        await renderChange(res, ctx, row, known.status, { actionErrors: { revise: nothingChanged(known.message) } });
        return;
      }
      // A refused revision recorded nothing: the corrected form is a new command.
      const refused: FieldErrors = {};
      addProblems(refused, problemsOfRefusal(known), rows);
      await again(known.status, { form: { ...form, submissionKey: randomUUID() }, errors: refused });
    }
  });

  /**
   * Runs an action of the change's page with the key its form carries; a refusal is shown next to
   * the action, and nothing changed. The form is shown again with what was typed: after a deadline
   * with the same key (sending it again is the same command), after a refusal with a new one.
   */
  async function act<T>(
    req: Request,
    res: Response,
    action: string,
    schema: z.ZodType<T>,
    formOf: (body: Record<string, unknown>) => unknown,
    run: (ctx: ViewContext, row: ChangeRow, input: T, formKey: string | undefined) => Promise<string>,
  ) {
    const ctx = await kit.context(res, 'my-requests');
    const body = (req.body ?? {}) as Record<string, unknown>;
    const parsed = schema.safeParse(formOf(body));
    const row = await visibleChange(req, res, ctx);
    if (!row) return;
    const formKey = formKeyOf(body, 'requestKey');
    const values = Object.fromEntries(['reason', 'notes', 'backout', 'withIssues', 'comment'].map((name) => [name, text(body, name)]));
    const shownAgain = (key: string | undefined) => ({ [action]: { key: key ?? randomUUID(), values } });
    if (!parsed.success) {
      const message = zodProblems(parsed.error).map((p) => (p.path ? `${p.path}: ${p.message}` : p.message)).join('; ');
      await renderChange(res, ctx, row, 400, { actionErrors: { [action]: nothingChanged(message) }, forms: shownAgain(formKey) });
      return;
    }
    try {
      const done = await run(ctx, row, parsed.data, formKey);
      res.redirect(303, `${changeHref(row.number)}${queryString({ done })}`);
    } catch (error) {
      const known = refusalOf(error);
      const message = known.code === 'idempotency_key_reused'
        ? 'This form was already sent with other values, and that is recorded (see the timeline); nothing new was recorded. Send it again to record what it now says.'
        : isDeadline(known) ? deadlineMessage(known) : nothingChanged(known.message);
      await renderChange(res, ctx, row, known.status, { actionErrors: { [action]: message }, forms: shownAgain(isDeadline(known) ? formKey : undefined) });
    }
  }

  router.post('/changes/:id/cancel', async (req, res) => {
    await act(req, res, 'cancel', cancelChangeBody, (body) => ({ reason: text(body, 'reason') }), async (ctx, row, input, formKey) => {
      await cancelChange(routeDeps(), ctx.user, row, input, req, formKey);
      return 'cancelled';
    });
  });

  /** Only implementers and reviewers reach the actions that need their role: a page for others says so. */
  async function roleContext(res: Response, roles: readonly Role[], what: string): Promise<ViewContext | undefined> {
    const ctx = await kit.context(res, 'my-requests');
    if (hasAnyRole(ctx.user, roles)) return ctx;
    sendHtml(res, 403, errorPage(ctx, 'Not for your role', `${what} is recorded by ${roles.map(label).join(', ')}. Nothing was changed.`));
    return undefined;
  }

  router.post('/changes/:id/implementation', async (req, res) => {
    if (!(await roleContext(res, IMPLEMENTERS, 'Implementation'))) return;
    await act(req, res, 'implementation', implementationBody, (body) => {
      const event = text(body, 'event');
      return {
        event,
        notes: text(body, 'notes'),
        ...(event === 'completed' ? { withIssues: str(body.withIssues) === 'yes' } : {}),
        ...(event === 'failed' && text(body, 'backout').trim() ? { backout: text(body, 'backout') } : {}),
      };
    }, async (ctx, row, input, formKey) => {
      await recordChangeImplementation(routeDeps(), ctx.user, row, input, req, formKey);
      return input.event;
    });
  });

  router.post('/changes/:id/review', async (req, res) => {
    if (!(await roleContext(res, REVIEWERS, 'The post-implementation review'))) return;
    await act(req, res, 'review', reviewChangeBody, (body) => ({ notes: text(body, 'notes') }), async (ctx, row, input, formKey) => {
      await recordChangeReview(routeDeps(), ctx.user, row, input, req, formKey);
      return 'reviewed';
    });
  });

  router.post('/changes/:id/approvals/:approvalId', async (req, res) => {
    const approvalId = String(req.params.approvalId);
    // A decision is never keyed: deciding twice must be refused, not answered with the first outcome (api/approval-decisions.ts).
    await act(req, res, `decision-${approvalId}`, decisionBody, (body) => ({ decision: text(body, 'decision'), comment: text(body, 'comment') || undefined }), async (ctx, row, input) => {
      const approval = isUuid(approvalId) ? await findApproval(db, approvalId) : undefined;
      if (approval?.subject_id !== row.id) throw notFound(`there is no such approval on ${row.number}`);
      await decideApproval(db, kit.deps.temporal, { approvalId, actorId: ctx.user.id, decision: input.decision, comment: input.comment, via: 'api' });
      return 'decided';
    });
  });
}
