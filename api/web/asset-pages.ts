/**
 * Asset managers see the estate and move an asset through its lifecycle (issue 15). The list is the
 * JSON API's listAssets with its visibility (overseers see every asset, anyone else the ones
 * assigned to them); an asset's page shows its state, history, licences and the CIs it backs to
 * whoever may see it (canSeeAsset), and its costs and where it came from to overseers and to those
 * who answer for it (its manager, its cost centre's owner), not to its assignee. Its moves come
 * from transitionOptions (domain/asset-lifecycle.ts), which judges each with the workflow's own
 * evaluateTransition: an allowed one is a form, a refused one a disabled button with the refusal
 * beside it. A move is posted through transitionAsset, the
 * API's own handling (update-with-start, the form's idempotency key, the command deadline), so a
 * refusal reads on the page as the API answers it, next to the field it is about.
 */
import type { Request, Response, Router } from 'express';
import { z } from 'zod';
import {
  ASSET_STATES,
  SUBSTATES,
  TRANSITION_RULES,
  isFinal,
  transitionOptions,
  type AssetState,
  type TransitionOption,
} from '../../domain/asset-lifecycle';
import { bookValue } from '../../domain/depreciation';
import { formatMoney, minorDigits, parseMoney } from '../../domain/money';
import { instantFromLocalInput, localInputValue } from '../../domain/time-zones';
import {
  assetDetail,
  assetListNames,
  activePersonByEmail,
  assetProvenance,
  assigneeSuggestions,
  findAsset,
  listAssets,
  loadTransitionFacts,
  personNames,
  type Asset,
  type AssetCost,
} from '../../model/assets';
import { listCostCentres } from '../../model/directory';
import { isUuid } from '../../model/keys';
import { missingCandidacyOf } from '../../model/reconciliation/unseen';
import { assetLifecycleWorkflowId, type MissingCandidate } from '../../workflows/asset-lifecycle/contract';
import { hasAnyRole, type Role } from '../auth';
import { toHttpError, type HttpError } from '../errors';
import { commandRequestId } from '../idempotency';
import { assetVisibility, transitionAsset, transitionBody } from '../routes/assets';
import { errorSummary, fieldError, requestKeyField, requestKeyOf, str, zodProblems, type FieldErrors } from './forms';
import { html, join, sendHtml, type SafeHtml } from './html';
import { dataSourcesOf, dataSourcesSection, type DataSources } from './inventory-pages';
import type { WebKit, WebRoute } from './router';
import { csrfField, errorPage, isOverseer, label, layout, notice, pager, processHref, time, type Notice, type ViewContext } from './views';

/** Who moves assets: as POST /assets/:id/transitions. */
const MOVERS: readonly Role[] = ['asset_manager', 'admin'];

export const ASSET_PAGE_ROUTES: readonly WebRoute[] = [
  { method: 'get', path: '/assets', access: 'signed_in' },
  { method: 'get', path: '/assets/:id', access: 'signed_in' },
  { method: 'post', path: '/assets/:id/transitions', access: MOVERS },
];

export const assetHref = (asset: { assetTag: string }) => `/ui/assets/${encodeURIComponent(asset.assetTag)}`;

/** "in stock (available)": what `<dd id="asset-state">` holds. */
export const stateText = (state: string, substate: string | null) => `${label(state)}${substate ? ` (${label(substate)})` : ''}`;

/** "in_stock/available" as the audit log writes a state: "in stock (available)". */
function auditStateText(value: string | null): string {
  if (!value) return '–';
  const [state, substate] = value.split('/');
  return stateText(state, substate ?? null);
}

/** A FOCUS decimal ("1450.000000") as money; its own digits when it has more than the currency's minor units. */
function decimalMoney(decimal: string, currency: string): string {
  const m = /^(-?)(\d+)(?:\.(\d*?)0*)?$/.exec(decimal);
  const fraction = m?.[3] ?? '';
  const minor = m && fraction.length <= minorDigits(currency) ? parseMoney(fraction ? `${m[2]}.${fraction}` : m[2], currency) : undefined;
  return m && minor !== undefined ? formatMoney(m[1] ? -minor : minor, currency) : `${currency} ${decimal}`;
}

// ---------------------------------------------------------------------------------------------
// The list
// ---------------------------------------------------------------------------------------------

const listQuery = z.object({
  q: z.string().trim().max(100).catch(''),
  model: z.string().trim().max(100).catch(''),
  state: z.union([z.literal(''), z.enum(ASSET_STATES)]).catch(''),
  assignee: z.string().trim().max(100).catch(''),
  costCentre: z.string().trim().max(32).catch(''),
  limit: z.coerce.number().int().min(1).max(200).catch(50),
  offset: z.coerce.number().int().min(0).catch(0),
});
type ListValues = z.output<typeof listQuery>;

function listPage(
  ctx: ViewContext,
  input: { values: ListValues; costCentres: { code: string; name: string }[]; assets: Asset[]; page: { limit: number; offset: number; total: number }; names: Awaited<ReturnType<typeof assetListNames>> },
): SafeHtml {
  const { values, names } = input;
  const overseer = isOverseer(ctx.user);
  const option = (value: string, text: string, current: string) => html`<option value="${value}"${value === current && html` selected`}>${text}</option>`;
  const filters = html`<form class="filters" method="get" action="/ui/assets" role="search" aria-label="Search assets">
<div><label for="f-q">Tag or serial</label><input id="f-q" name="q" type="search" value="${values.q}" maxlength="100" aria-describedby="f-q-hint"><span id="f-q-hint" class="sr-only">the beginning of an asset tag or a serial number</span></div>
<div><label for="f-model">Model</label><input id="f-model" name="model" type="search" value="${values.model}" maxlength="100"></div>
<div><label for="f-state">State</label><select id="f-state" name="state">${option('', 'any', values.state)}${ASSET_STATES.map((s) => option(s, label(s), values.state))}</select></div>
${overseer && html`<div><label for="f-assignee">Assignee</label><input id="f-assignee" name="assignee" type="search" value="${values.assignee}" maxlength="100"></div>`}
<div><label for="f-cost-centre">Cost centre</label><select id="f-cost-centre" name="costCentre">${option('', 'any', values.costCentre)}${input.costCentres.map((c) => option(c.code, `${c.code} ${c.name}`, values.costCentre))}</select></div>
<div><button type="submit">Search</button> <a href="/ui/assets">Clear</a></div>
</form>`;
  const rows = input.assets.map((a) => {
    const costCentre = a.costCentreId ? names.costCentres.get(a.costCentreId) : undefined;
    return html`<tr>
<th scope="row"><a href="${assetHref(a)}">${a.assetTag}</a></th>
<td>${a.serialNumber ?? ''}</td>
<td>${names.models.get(a.modelId) ?? ''}</td>
<td>${stateText(a.state, a.substate)}</td>
<td>${a.assignedToId ? names.people.get(a.assignedToId) ?? '' : html`<span class="meta">nobody</span>`}</td>
<td>${costCentre ? costCentre.code : ''}</td>
<td>${a.location ?? ''}</td>
<td>${a.warrantyEnd ?? ''}</td>
</tr>`;
  });
  const table = rows.length
    ? html`<table id="assets"><caption class="sr-only">Assets by tag</caption>
<thead><tr><th scope="col">Tag</th><th scope="col">Serial</th><th scope="col">Model</th><th scope="col">State</th><th scope="col">Assignee</th><th scope="col">Cost centre</th><th scope="col">Location</th><th scope="col">Warranty ends</th></tr></thead>
<tbody>
${join(rows, '\n')}
</tbody></table>`
    : html`<p>No asset matches.</p>`;
  const query = { q: values.q, model: values.model, state: values.state, assignee: values.assignee, costCentre: values.costCentre };
  return layout(ctx, 'Assets', html`<h1>Assets</h1>
<p class="meta">${overseer ? 'The estate\u2019s hardware, by asset tag.' : 'The assets assigned to you.'} Open one to see its history, licences, costs and the CIs it backs${hasAnyRole(ctx.user, MOVERS) ? ', and to move it through its lifecycle' : ''}.</p>
${filters}
<p role="status">${input.page.total} ${input.page.total === 1 ? 'asset matches' : 'assets match'}.</p>
${table}
${pager(input.page, '/ui/assets', Object.fromEntries(Object.entries(query).map(([k, v]) => [k, v || undefined])))}`);
}

// ---------------------------------------------------------------------------------------------
// An asset's page
// ---------------------------------------------------------------------------------------------

/** The fields of a move's form, and what the summary of its problems calls them. */
const MOVE_FIELDS: Record<string, string> = {
  toSubstate: 'Substate',
  assignedToId: 'Assignee',
  note: 'Note',
  performedBy: 'Wiped by',
  performedAt: 'Wiped at',
  method: 'Method',
  certificateId: 'Certificate id',
};
const ATTESTATION_FIELDS = ['performedBy', 'performedAt', 'method', 'certificateId'] as const;

/** The field a lifecycle refusal is about; the rest belong to the form as a whole. */
const FIELD_OF_RULE: Partial<Record<string, string>> = {
  [TRANSITION_RULES.inUseNeedsAssigneeOrCi]: 'assignedToId',
  [TRANSITION_RULES.assigneeOnlyInUse]: 'assignedToId',
  [TRANSITION_RULES.disposalNeedsAttestation]: 'performedBy',
  [TRANSITION_RULES.substateRequired]: 'toSubstate',
  [TRANSITION_RULES.substateInvalid]: 'toSubstate',
  [TRANSITION_RULES.reasonNotAllowed]: 'toSubstate',
};

/** The field of a body path: attestation parts are fields of their own. */
function fieldOfPath(path: string): string {
  const [first, second] = path.split('.');
  if (first === 'dataWipeAttestation') return second && second in MOVE_FIELDS ? second : 'performedBy';
  return first in MOVE_FIELDS ? first : 'form';
}

function errorsOf(problems: { path: string; message: string }[]): FieldErrors {
  const errors: FieldErrors = {};
  for (const { path, message } of problems) {
    const field = fieldOfPath(path);
    errors[field] = errors[field] ? `${errors[field]}; ${message}` : message;
  }
  return errors;
}

/** A refusal of the API as the form's problems: the lifecycle rule's field, the body's paths, or the form. */
function errorsOfRefusal(known: HttpError): FieldErrors {
  if (Array.isArray(known.details)) return errorsOf(known.details as { path: string; message: string }[]);
  const rule = (known.details as { rule?: string } | undefined)?.rule;
  return { [(rule && FIELD_OF_RULE[rule]) ?? 'form']: known.message };
}

/** A move's form after a refusal: its values as posted, its problems, and its key when repeating it must be the same command. */
interface PostedMove {
  toState: AssetState;
  values: Record<string, string>;
  errors: FieldErrors;
  requestKey?: string;
}

interface AssetView {
  /** all: overseers and those who answer for the asset, who see its costs and where it came from; assigned: its assignee, who sees the asset itself. */
  visibility: 'all' | 'assigned';
  asset: Asset;
  detail: Awaited<ReturnType<typeof assetDetail>>;
  provenance: Awaited<ReturnType<typeof assetProvenance>>;
  names: Map<string, string>;
  /** Where the data of the CIs it backs comes from, attribute by attribute (the asset's attributes are kept on its CI). */
  dataSources?: DataSources[];
  options?: TransitionOption[];
  /** The feeds stopped seeing it: shown beside the moves that settle it. */
  missingCandidate?: MissingCandidate | null;
  people?: { id: string; name: string; email: string }[];
  notice?: Notice;
  posted?: PostedMove;
}

const capitalised = (text: string) => text.charAt(0).toUpperCase() + text.slice(1);

const moveButton = (state: AssetState) => (state === 'retired' ? 'Retire' : `Move to ${label(state)}`);

/** Refusals said once each, naming the substates they refuse when they are not all of the state's. */
function refusalsText(toState: AssetState, refused: TransitionOption[]): string {
  const byMessage = new Map<string, string[]>();
  for (const o of refused) byMessage.set(o.refusal!.message, [...(byMessage.get(o.refusal!.message) ?? []), ...(o.toSubstate ? [label(o.toSubstate)] : [])]);
  const all = SUBSTATES[toState].length;
  return [...byMessage].map(([message, substates]) => (substates.length && substates.length < all ? `${substates.join(', ')}: ${message}` : message)).join('; ');
}

const describedBy = (...ids: (string | false | undefined)[]) => {
  const list = ids.filter(Boolean).join(' ');
  return list ? html` aria-describedby="${list}"` : html``;
};

/** One target state: a form for its allowed moves (with the fields they need), or a disabled button with its refusal. */
function moveForm(ctx: ViewContext, view: AssetView, toState: AssetState, options: TransitionOption[]): SafeHtml {
  const prefix = `move-${toState}`;
  const allowed = options.filter((o) => !o.refusal);
  const refused = options.filter((o) => o.refusal);
  const heading = html`<h3 id="${prefix}-heading">${toState === 'retired' ? 'Retire' : capitalised(label(toState))}</h3>`;
  const posted = view.posted?.toState === toState ? view.posted : undefined;
  const errors = posted?.errors ?? {};
  const value = (name: string, fallback = '') => posted?.values[name] ?? fallback;
  if (!allowed.length) {
    return html`<article aria-labelledby="${prefix}-heading">${heading}
${fieldError(`${prefix}-form`, errors, 'form')}
<button type="button" disabled${describedBy(`${prefix}-why`)}>${moveButton(toState)}</button>
<p id="${prefix}-why" class="meta">Not possible: ${refusalsText(toState, refused)}</p></article>`;
  }
  const id = (name: string) => `${prefix}-${name}`;
  const needs = (field: string) => allowed.flatMap((o) => o.needs).find((n) => n.field === field);
  const refusedSubstates = refused.length > 0 && SUBSTATES[toState].length > 0
    && html`<p id="${id('refused')}" class="meta">Not possible: ${refusalsText(toState, refused)}</p>`;
  const substate = SUBSTATES[toState].length > 0 && html`<label for="${id('toSubstate')}">${toState === 'retired' ? 'Reason' : 'Substate'}</label>
${fieldError(id('toSubstate'), errors, 'toSubstate')}
<select id="${id('toSubstate')}" name="toSubstate"${errors.toSubstate && html` aria-invalid="true"`}${describedBy(errors.toSubstate && `${id('toSubstate')}-error`, refusedSubstates && id('refused'))}>
${allowed.map((o) => html`<option value="${o.toSubstate}"${o.toSubstate === value('toSubstate') && html` selected`}>${label(o.toSubstate ?? '')}</option>`)}
</select>
${refusedSubstates}`;
  const assigneeNeed = needs('assignee');
  const currentAssignee = (view.detail.assignedTo as { email: string } | null)?.email ?? '';
  // Any active person, typed by email: a list of everyone would not scale, and a few are suggested.
  const assignee = toState === 'in_use' && html`<label for="${id('assignedToId')}">Assignee's email${!assigneeNeed && html` <span class="meta">(optional)</span>`}</label>
<p id="${id('assignedToId')}-hint" class="meta">${assigneeNeed ? `Needed: ${assigneeNeed.because}. ` : 'Who will use it; left as it is, the asset keeps its assignee. '}Type the email of any active person.</p>
${fieldError(id('assignedToId'), errors, 'assignedToId')}
<input id="${id('assignedToId')}" name="assignee" type="email" value="${value('assignee', currentAssignee)}" maxlength="320" autocomplete="off" list="${id('assignee-suggestions')}"${errors.assignedToId && html` aria-invalid="true"`}${describedBy(`${id('assignedToId')}-hint`, errors.assignedToId && `${id('assignedToId')}-error`)}>
<datalist id="${id('assignee-suggestions')}">
${(view.people ?? []).map((p) => html`<option value="${p.email}">${p.name}</option>`)}
</datalist>`;
  const attestationNeed = needs('dataWipeAttestation');
  const input = (name: (typeof ATTESTATION_FIELDS)[number], type = 'text') => html`<label for="${id(name)}">${MOVE_FIELDS[name]}</label>
${fieldError(id(name), errors, name)}
<input id="${id(name)}" name="${name}" type="${type}" value="${value(name)}"${type === 'text' && html` maxlength="200"`}${errors[name] && html` aria-invalid="true"`}${describedBy(errors[name] && `${id(name)}-error`)}>`;
  const attestation = attestationNeed && html`<fieldset aria-describedby="${id('attestation-hint')}"><legend>Data-wipe attestation</legend>
<p id="${id('attestation-hint')}" class="meta">Needed to retire as disposed: ${attestationNeed.because}. The time is in ${ctx.timeZone}.</p>
${input('performedBy')}${input('performedAt', 'datetime-local')}${input('method')}${input('certificateId')}
</fieldset>`;
  return html`<article aria-labelledby="${prefix}-heading">${heading}
<form method="post" action="${`${assetHref(view.asset)}/transitions`}">
${csrfField(ctx.csrf)}<input type="hidden" name="toState" value="${toState}">${requestKeyField(posted?.requestKey)}
${substate}
${assignee}
${attestation}
<label for="${id('note')}">Note <span class="meta">(optional)</span></label>
${fieldError(id('note'), errors, 'note')}
<textarea id="${id('note')}" name="note" rows="2" maxlength="2000"${describedBy(errors.note && `${id('note')}-error`)}>${value('note')}</textarea>
${fieldError(id('form'), errors, 'form')}
<div class="actions"><button type="submit"${toState === 'retired' && html` class="reject"`}${describedBy(errors.form && `${id('form')}-error`)}>${moveButton(toState)}</button></div>
</form></article>`;
}

/** "Candidate for missing since … — not seen by discovery since …": the unseen watch's candidacy, until a move or a feed settles it. */
function missingCandidateLine(ctx: ViewContext, candidacy: MissingCandidate | null | undefined): SafeHtml {
  if (!candidacy) return html``;
  const lastSeen = join(candidacy.lastSeen.map((s) => html`${s.source} since ${time(s.lastSeenAt, ctx.timeZone)}`), ', nor by ');
  return html`<p id="missing-candidate" class="notice">Candidate for missing since ${time(candidacy.since, ctx.timeZone)} — not seen by ${lastSeen}. Move it to missing to confirm it, or record where it is; a feed that sees it again ends this.</p>`;
}

function movesSection(ctx: ViewContext, view: AssetView): SafeHtml {
  const { asset } = view;
  const intro = html`<h2 id="moves-heading">Lifecycle moves</h2>${missingCandidateLine(ctx, view.missingCandidate)}`;
  const summary = view.posted && errorSummary(`move-${view.posted.toState}`, view.posted.errors, MOVE_FIELDS);
  if (isFinal(asset.state)) {
    return html`<section aria-labelledby="moves-heading">${intro}${summary}<p>This asset is ${stateText(asset.state, asset.substate)}: its lifecycle has ended, and nothing moves it any more.</p></section>`;
  }
  if (!view.options) {
    return html`<section aria-labelledby="moves-heading">${intro}<p class="meta">Asset managers and admins move assets through their lifecycle.</p></section>`;
  }
  const byState = ASSET_STATES.map((state) => [state, view.options!.filter((o) => o.toState === state)] as const);
  return html`<section aria-labelledby="moves-heading">${intro}
<p class="meta">Each move is judged as the asset's lifecycle workflow would judge it: the allowed ones can be made here; a refused one says why.</p>
${summary}
<div class="grid2">
${join(byState.map(([state, options]) => moveForm(ctx, view, state, options)), '\n')}
</div></section>`;
}

/** A detail value as a person reads it: no quotes and braces. */
function plain(value: unknown): string {
  if (value === null || value === undefined) return '–';
  if (Array.isArray(value)) return value.length ? value.map(plain).join(', ') : 'none';
  if (typeof value === 'object') return `(${Object.entries(value as Record<string, unknown>).map(([k, v]) => `${words(k)} ${plain(v)}`).join(', ')})`;
  return String(value);
}

/** "purchaseDate" -> "purchase date". */
const words = (key: string) => key.replace(/([a-z0-9])([A-Z])/g, '$1 $2').replace(/_/g, ' ').toLowerCase();

/** An audit row's details as a person reads them; the result a step returned only where it says more than the rest (the book value). */
function historyDetails(action: string, details: Record<string, unknown> | null, names: Map<string, string>, zone: string): SafeHtml {
  if (!details) return html``;
  const parts = Object.entries(details).filter(([, v]) => v !== null && v !== undefined && v !== '').map(([key, v]) => {
    if (key === 'assignedToId' && typeof v === 'string') return html`assigned to ${names.get(v) ?? v}`;
    if (key === 'note') return html`note: ${String(v)}`;
    if (key === 'dataWipeAttestation' && v && typeof v === 'object') {
      const a = v as { performedBy?: string; performedAt?: string; method?: string; certificateId?: string };
      return html`data wiped by ${a.performedBy ?? ''} ${time(a.performedAt, zone)} (${a.method ?? ''}), certificate ${a.certificateId ?? ''}`;
    }
    if (key === 'reclaimed' && Array.isArray(v)) {
      return html`reclaimed ${v.map((r: { product?: string; units?: number }) => `${r.units ?? '?'} × ${r.product ?? '?'}`).join(', ') || 'nothing'}`;
    }
    if (key === 'costMinor' && typeof v === 'number' && typeof details.currency === 'string') return html`cost ${formatMoney(v, details.currency)}`;
    if (key === 'result') return action === 'book_value_recorded' && typeof v === 'number' && typeof details.currency === 'string' ? html`book value ${formatMoney(v, details.currency)}` : null;
    if (key === 'currency') return null;
    return html`${words(key)}: ${plain(v)}`;
  }).filter((part): part is SafeHtml => part !== null);
  return join(parts, '; ');
}

function assetPage(ctx: ViewContext, view: AssetView): SafeHtml {
  const { asset, detail, provenance } = view;
  const zone = ctx.timeZone;
  const model = detail.model as { manufacturer: string; name: string; category: string } | undefined;
  const title = `${asset.assetTag}${model ? ` — ${model.manufacturer} ${model.name}` : ''}`;
  const money = (minor: number) => formatMoney(minor, asset.purchaseCost.currency);
  const today = localInputValue(new Date(ctx.now), zone).slice(0, 10);
  const book = asset.state === 'retired'
    ? asset.retirementBookValueMinor !== null && html`${money(asset.retirementBookValueMinor)} <span class="meta">(at retirement)</span>`
    : asset.purchaseDate && html`${money(bookValue({
      method: asset.depreciationMethod, costMinor: asset.purchaseCost.amountMinor, salvageMinor: asset.salvageValueMinor,
      usefulLifeMonths: asset.usefulLifeMonths, purchaseDate: asset.purchaseDate, onDate: today,
    }))} <span class="meta">(today, ${label(asset.depreciationMethod)} over ${asset.usefulLifeMonths} months)</span>`;
  const assignee = detail.assignedTo as { name: string; email: string } | null;
  const source = provenance.receipt
    ? html`received ${time(provenance.receipt.receivedAt, zone)} on order ${provenance.receipt.orderNumber} of <a href="${`/ui/purchase-requests/${encodeURIComponent(provenance.receipt.requestNumber)}`}">${provenance.receipt.requestNumber}</a>`
    : html`<span class="meta">registered in the estate, not received through a purchase request</span>`;
  const workflowId = assetLifecycleWorkflowId(asset.assetTag);
  const all = view.visibility === 'all';
  const summary = html`<dl class="summary">
<dt>State</dt><dd id="asset-state">${stateText(asset.state, asset.substate)}</dd>
<dt>Model</dt><dd>${model ? `${model.manufacturer} ${model.name} (${label(model.category)})` : '–'}</dd>
<dt>Serial number</dt><dd>${asset.serialNumber ?? '–'}</dd>
<dt>Assignee</dt><dd>${assignee ? `${assignee.name} (${assignee.email})` : 'nobody'}</dd>
${all && html`<dt>Managed by</dt><dd>${provenance.managedBy ? provenance.managedBy.name : '–'}</dd>`}
<dt>Location</dt><dd>${asset.location ?? '–'}</dd>
<dt>Cost centre</dt><dd>${provenance.costCentre ? `${provenance.costCentre.code} ${provenance.costCentre.name}` : '–'}</dd>
${all && html`<dt>Came from</dt><dd id="asset-source">${source}</dd>`}
<dt>Purchased</dt><dd>${asset.purchaseDate ?? '–'}${all && html` for ${money(asset.purchaseCost.amountMinor)}`}</dd>
<dt>Warranty ends</dt><dd>${asset.warrantyEnd ?? '–'}</dd>
<dt>Lease ends</dt><dd>${asset.leaseEnd ?? '–'}</dd>
${asset.retiredAt && html`<dt>Retired</dt><dd>${time(asset.retiredAt, zone)}</dd>`}
<dt>Lifecycle process</dt><dd><a href="${processHref(workflowId)}">${workflowId}</a></dd>
</dl>`;

  const history = detail.history as { occurredAt: Date; actor: string; action: string; fromState: string | null; toState: string | null; details: Record<string, unknown> | null }[];
  const historyTable = history.length
    ? html`<table id="asset-history"><caption class="sr-only">What happened to the asset, oldest first</caption>
<thead><tr><th scope="col">When</th><th scope="col">What</th><th scope="col">Who</th><th scope="col">Details</th></tr></thead>
<tbody>
${join(history.map((h) => html`<tr><td class="when">${time(new Date(h.occurredAt).toISOString(), zone)}</td><td>${label(h.action)}${(h.fromState || h.toState) && html` <span class="meta">${auditStateText(h.fromState)} → ${auditStateText(h.toState)}</span>`}</td><td>${h.actor}</td><td class="details">${historyDetails(h.action, h.details, view.names, zone)}</td></tr>`), '\n')}
</tbody></table>`
    : html`<p>Nothing has happened to it through its lifecycle yet.</p>`;

  const licences = detail.licences as { publisher: string; product: string; units: number; installedAt: Date; reclaimedAt: Date | null }[];
  const licenceTable = licences.length
    ? html`<table id="asset-licences"><caption class="sr-only">Software installed on the asset</caption>
<thead><tr><th scope="col">Product</th><th scope="col" class="num">Units</th><th scope="col">Installed</th><th scope="col">Reclaimed</th></tr></thead>
<tbody>
${join(licences.map((l) => html`<tr><td>${l.publisher} ${l.product}</td><td class="num">${l.units}</td><td class="when">${time(new Date(l.installedAt).toISOString(), zone)}</td><td>${l.reclaimedAt ? time(new Date(l.reclaimedAt).toISOString(), zone) : html`<span class="meta">still installed</span>`}</td></tr>`), '\n')}
</tbody></table>`
    : html`<p>No software is installed on it.</p>`;

  const costs: AssetCost[] = provenance.costs;
  const costTable = costs.length
    ? html`<table id="asset-costs"><caption class="sr-only">Cost records of the asset</caption>
<thead><tr><th scope="col">Charged</th><th scope="col">Category</th><th scope="col">Description</th><th scope="col">Provider</th><th scope="col" class="num">Billed</th><th scope="col" class="num">Effective</th></tr></thead>
<tbody>
${join(costs.map((c) => html`<tr><td class="when">${time(c.chargePeriodStart, zone)}</td><td>${c.chargeCategory}</td><td>${c.description ?? ''}</td><td>${c.provider}</td><td class="num">${decimalMoney(c.billedCost, c.currency)}</td><td class="num">${decimalMoney(c.effectiveCost, c.currency)}</td></tr>`), '\n')}
</tbody></table>`
    : html`<p>No cost records are allocated to it.</p>`;

  const cis = detail.backedCis as { id: string; number: string; name: string; ciClass: string; operationalStatus: string }[];
  const ciTable = cis.length
    ? html`<table id="asset-cis"><caption class="sr-only">Configuration items this asset is the record behind</caption>
<thead><tr><th scope="col">CI</th><th scope="col">Name</th><th scope="col">Class</th><th scope="col">Status</th></tr></thead>
<tbody>
${join(cis.map((ci) => html`<tr><th scope="row"><a href="${`/ui/cis/${encodeURIComponent(ci.id)}`}">${ci.number}</a></th><td>${ci.name}</td><td>${label(ci.ciClass)}</td><td>${label(ci.operationalStatus)}</td></tr>`), '\n')}
</tbody></table>`
    : html`<p>It backs no configuration item.</p>`;

  return layout(ctx, asset.assetTag, html`<p class="meta"><a href="/ui/assets">← Assets</a></p>
<h1>${title}</h1>
${notice(view.notice)}
<section aria-labelledby="summary-heading"><h2 id="summary-heading">Summary</h2>${summary}</section>
${movesSection(ctx, view)}
<section aria-labelledby="history-heading"><h2 id="history-heading">History</h2>${historyTable}</section>
<section aria-labelledby="licences-heading"><h2 id="licences-heading">Licences</h2>${licenceTable}</section>
${all && html`<section aria-labelledby="costs-heading"><h2 id="costs-heading">Costs</h2>
<dl class="summary"><dt>Purchase cost</dt><dd>${money(asset.purchaseCost.amountMinor)}</dd><dt>Book value</dt><dd id="book-value">${book || '–'}</dd></dl>
${costTable}</section>`}
<section aria-labelledby="cis-heading"><h2 id="cis-heading">Configuration items it backs</h2>${ciTable}</section>
${join((view.dataSources ?? []).map((d) => dataSourcesSection(ctx, d)), '\n')}`);
}

// ---------------------------------------------------------------------------------------------
// Routes
// ---------------------------------------------------------------------------------------------

/** What a move's form posted, as the fields it shows again after a refusal. */
function postedValues(body: Record<string, unknown>): Record<string, string> {
  return Object.fromEntries(['toSubstate', 'assignee', 'note', ...ATTESTATION_FIELDS].map((name) => [name, str(body[name]) ?? '']));
}

/**
 * The API's transition body from a move's form: empty fields are not given; the assignee is the
 * person its email named; the attestation only for a disposal, its time read in the viewer's zone.
 */
function transitionRequestOf(toState: string, values: Record<string, string>, assignedToId: string | undefined, zone: string) {
  const given = (name: string) => values[name]?.trim() || undefined;
  const attested = values.toSubstate === 'disposed' && ATTESTATION_FIELDS.some((name) => given(name));
  return {
    toState,
    toSubstate: given('toSubstate'),
    assignedToId,
    note: given('note'),
    dataWipeAttestation: attested
      ? {
        performedBy: values.performedBy,
        performedAt: instantFromLocalInput(values.performedAt, zone) ?? values.performedAt,
        method: values.method,
        certificateId: values.certificateId,
      }
      : undefined,
  };
}

export function registerAssetPages(router: Router, kit: WebKit): void {
  const { db } = kit.deps;

  const notFound = (res: Response, ctx: ViewContext, ref: string) =>
    sendHtml(res, 404, errorPage(ctx, 'Not found', `There is no asset ${ref}; nothing was changed.`, [['/ui/assets', 'Assets']]));

  /** The asset of the path that this person may see, and how much of it; or an error page (and undefined). */
  async function assetOf(req: Request, res: Response, ctx: ViewContext): Promise<{ asset: Asset; visibility: AssetView['visibility'] } | undefined> {
    const ref = String(req.params.id);
    const asset = ref.length <= 64 ? await findAsset(db, ref) : undefined;
    if (!asset) {
      notFound(res, ctx, ref);
      return undefined;
    }
    const visibility = await assetVisibility(db, ctx.user, asset);
    if (!visibility) {
      sendHtml(res, 403, errorPage(ctx, 'Not yours to see', 'You can see the assets assigned to you, managed by you or charged to a cost centre you own.', [['/ui/assets', 'Your assets']]));
      return undefined;
    }
    return { asset, visibility };
  }

  async function show(res: Response, ctx: ViewContext, status: number, { asset, visibility }: { asset: Asset; visibility: AssetView['visibility'] }, extra: Pick<AssetView, 'notice' | 'posted'> = {}) {
    const mover = hasAnyRole(ctx.user, MOVERS) && !isFinal(asset.state);
    const [detail, provenance, facts, people, missingCandidate] = await Promise.all([
      assetDetail(db, asset),
      assetProvenance(db, asset),
      mover ? loadTransitionFacts(db, asset.id) : undefined,
      mover ? assigneeSuggestions(db) : undefined,
      missingCandidacyOf(db, asset.id),
    ]);
    const assignees = (detail.history as { details: { assignedToId?: unknown } | null }[])
      .map((h) => h.details?.assignedToId).filter((id): id is string => typeof id === 'string' && isUuid(id));
    const view: AssetView = {
      visibility, asset, detail, provenance, names: await personNames(db, assignees), people, missingCandidate, ...extra,
      options: facts && transitionOptions(asset, facts),
      dataSources: await Promise.all((detail.backedCis as { id: string; number: string }[]).map((ci) => dataSourcesOf(db, ci))),
    };
    sendHtml(res, status, assetPage(ctx, view));
  }

  router.get('/assets', async (req, res) => {
    const ctx = await kit.context(res, 'assets');
    const values = listQuery.parse(Object.fromEntries(Object.keys(listQuery.shape).map((key) => [key, str(req.query[key])])));
    const overseer = isOverseer(ctx.user);
    const [costCentres, result] = await Promise.all([
      listCostCentres(db),
      listAssets(db, {
        visibleTo: overseer ? undefined : ctx.user.id,
        state: values.state || undefined,
        costCentreCode: values.costCentre || undefined,
        q: values.q || undefined,
        modelText: values.model || undefined,
        assigneeText: (overseer && values.assignee) || undefined,
      }, values),
    ]);
    const names = await assetListNames(db, result.items);
    sendHtml(res, 200, listPage(ctx, { values, costCentres, assets: result.items, page: result.page, names }));
  });

  router.get('/assets/:id', async (req, res) => {
    const ctx = await kit.context(res, 'assets');
    const seen = await assetOf(req, res, ctx);
    if (!seen) return;
    const { asset } = seen;
    await show(res, ctx, 200, seen, {
      notice: str(req.query.moved) === '1' ? { kind: 'ok', text: `Done: the asset is now ${stateText(asset.state, asset.substate)}.` } : undefined,
    });
  });

  router.post('/assets/:id/transitions', async (req, res) => {
    const ctx = await kit.context(res, 'assets');
    if (!hasAnyRole(ctx.user, MOVERS)) {
      sendHtml(res, 403, errorPage(ctx, 'Not for your role', `Moving an asset is for: ${MOVERS.map(label).join(', ')}. Nothing was changed.`, [['/ui/assets', 'Assets']]));
      return;
    }
    const seen = await assetOf(req, res, ctx);
    if (!seen) return;
    const { asset } = seen;
    const body = (req.body ?? {}) as Record<string, unknown>;
    const toState = (ASSET_STATES as readonly string[]).includes(str(body.toState) ?? '') ? (str(body.toState) as AssetState) : undefined;
    const values = postedValues(body);
    const requestKey = requestKeyOf(body);
    const refuse = (status: number, errors: FieldErrors) =>
      show(res, ctx, status, seen, toState
        ? { posted: { toState, values, errors } }
        : { notice: { kind: 'error', text: `Nothing was changed: ${Object.values(errors).join('; ')}` } });
    if (!toState || !requestKey) {
      await refuse(400, { form: 'this form is not one of this page\u2019s moves (it lacks its state or its key); use the forms below' });
      return;
    }
    const email = values.assignee.trim();
    const assignee = email ? await activePersonByEmail(db, email) : undefined;
    if (email && !assignee) {
      await refuse(400, { assignedToId: `no active person has the email ${email}` });
      return;
    }
    const parsed = transitionBody.safeParse(transitionRequestOf(toState, values, assignee?.id, ctx.timeZone));
    if (!parsed.success) {
      await refuse(400, errorsOf(zodProblems(parsed.error)));
      return;
    }
    try {
      await transitionAsset(kit.deps, asset, parsed.data, {
        principal: ctx.user,
        // The form's key, bound to what it posted: sent twice, it is one move, answered with the first outcome.
        requestId: () => commandRequestId(db, ctx.user.id, req, asset.id, requestKey),
      });
      res.redirect(303, `${assetHref(asset)}?moved=1`);
    } catch (error) {
      const known = toHttpError(error);
      // A step that failed for good may have changed something: that is the error page's to say.
      if (!known || known.status === 500) throw error;
      const current = (await findAsset(db, asset.id)) ?? asset;
      // Unanswered in time, the move may still be made: the form keeps its key, so sending it again is the same move.
      const keep = known.status >= 503 ? requestKey : undefined;
      await show(res, ctx, known.status, { asset: current, visibility: seen.visibility }, { posted: { toState, values, errors: errorsOfRefusal(known), requestKey: keep } });
    }
  });
}
