/**
 * The inventory pages (issue 16): the batches feeds sent, with their progress; an upload whose dry
 * run is checked by default; a batch's report row by row (the record each row found and the rule
 * that found it, each attribute old -> new with the source and the reconciliation rule that allowed
 * it, what was left alone and who holds it, the software); the rules and sources as data; and on
 * the CI and asset pages, where each attribute's value comes from.
 *
 * The upload is multipart and streamed like /ui/imports/new (its CSRF token is its first field,
 * checked before the file is read) and handed to the intake the API uses (receiveInventoryBatch);
 * "Apply this batch", the rules and the sources are written by the same functions as the JSON API,
 * with the version the form was made on, so a refusal reads the same and shows next to its field.
 */
import type { Request, Response, Router } from 'express';
import { z } from 'zod';
import { OUTCOME_OF_VERDICT, type ImportState, type RowCounts, type RowOutcome, type RowVerdict } from '../../domain/master-data';
import {
  MAX_IDENTIFICATION_RULES,
  RECONCILIATION_ATTRIBUTES,
  discoverableClass,
  identificationRulesInput,
  inventorySourceInput,
  inventorySourceName,
  reconciliationAttribute,
  reconciliationRuleInput,
} from '../../domain/inventory-intake';
import {
  DISCOVERABLE_CLASSES,
  IDENTIFYING_ATTRIBUTES,
  INVENTORY_COLUMNS,
  INVENTORY_SOURCES,
  type AttributeChange,
  type AttributeLeftAlone,
  type InventorySource,
  type RowIdentification,
} from '../../domain/reconciliation';
import { instantFromLocalInput, localInputValue } from '../../domain/time-zones';
import { findImport, importRowsPage, listImports, type ImportRowFilter, type ImportRowReport, type ImportSummary } from '../../model/imports';
import { isUuid } from '../../model/keys';
import type { Page } from '../../model/page';
import { provenanceOf, recordsNamed, sightingsOf, discoveryStateOf, type AttributeProvenance, type RecordName, type Sighting } from '../../model/reconciliation/provenance';
import {
  listIdentificationRules,
  listInventorySources,
  listReconciliationRules,
  removeReconciliationRule,
  saveIdentificationRules,
  saveReconciliationRule,
  updateInventorySource,
  type ClassIdentificationRules,
  type InventorySourceSetting,
  type ReconciliationRuleSetting,
} from '../../model/reconciliation/rule-settings';
import { lapsedSightings, type LapsedSighting } from '../../model/reconciliation/unseen';
import { markCiVerified } from '../../model/reconciliation/verification';
import { findCisByRef } from '../../model/service-map';
import { importProgressQuery, type ImportProgress } from '../../workflows/master-data-import/contract';
import { hasAnyRole, type Role } from '../auth';
import { toHttpError, type HttpError } from '../errors';
import { INVENTORY_READERS, INVENTORY_SENDERS, applyPreviewedBatch, receiveInventoryBatch } from '../inventory-intake';
import { RUNNING_IMPORT_STATES } from '../routes/imports';
import { INVENTORY_RULE_WRITERS } from '../routes/inventory';
import { settingRefusalAnswer } from '../routes/process-settings';
import { liveStatusWithinDeadline } from '../workflow-calls';
import { errorSummary, fieldError, problemsOfRefusal, str, wholeNumber, zodProblems, type FieldErrors } from './forms';
import { html, join, sendHtml, type SafeHtml } from './html';
import { formatOf, readUpload, type Upload } from './import-pages';
import type { WebKit, WebRoute } from './router';
import { csrfField, errorPage, label, layout, notice, pager, queryString, time, type Notice, type ViewContext } from './views';

/** Who sends batches, applies dry runs and verifies records: as the API's writes. */
const INVENTORY_WRITERS: readonly Role[] = INVENTORY_SENDERS;

export const INVENTORY_PAGE_ROUTES: readonly WebRoute[] = [
  { method: 'get', path: '/inventory', access: INVENTORY_READERS },
  { method: 'post', path: '/inventory/batches', access: INVENTORY_WRITERS },
  { method: 'get', path: '/inventory/batches/:id', access: INVENTORY_READERS },
  { method: 'post', path: '/inventory/batches/:id/apply', access: INVENTORY_WRITERS },
  { method: 'get', path: '/inventory/rules', access: INVENTORY_READERS },
  { method: 'post', path: '/inventory/rules/identification/:ciClass', access: INVENTORY_RULE_WRITERS },
  { method: 'post', path: '/inventory/rules/reconciliation', access: INVENTORY_RULE_WRITERS },
  { method: 'post', path: '/inventory/rules/reconciliation/remove', access: INVENTORY_RULE_WRITERS },
  { method: 'post', path: '/inventory/sources/:name', access: INVENTORY_RULE_WRITERS },
  { method: 'post', path: '/cis/:ref/verified', access: INVENTORY_WRITERS },
];

/** The upload, whose handler checks the CSRF token itself (a multipart body), as /ui/imports does. */
export const inventoryChecksOwnCsrf = (req: Request) => req.method === 'POST' && req.path === '/inventory/batches' && !!req.is('multipart/form-data');

const REFRESH_SECONDS = 5;
const ROWS_PAGE = 100;
const HOME = '/ui/inventory';
const RULES = '/ui/inventory/rules';

const batchHref = (id: string) => `/ui/inventory/batches/${id}`;
const ciHref = (number: string) => `/ui/cis/${encodeURIComponent(number)}`;
const caseHref = (number: string) => `/ui/reconciliation/cases/${encodeURIComponent(number)}`;

/** "macAddress" -> "MAC address": the attributes as people name them. */
const ATTRIBUTE_WORDS: Record<string, string> = {
  '*': 'every other attribute', name: 'name', serialNumber: 'serial number', assetTag: 'asset tag', cloudResourceId: 'cloud resource id',
  hostname: 'host name', domain: 'domain', macAddress: 'MAC address', model: 'model', location: 'location', assignedTo: 'assigned to',
  operationalStatus: 'operational status', environment: 'environment', software: 'software', ciClass: 'class',
};
const attributeText = (attribute: string) => ATTRIBUTE_WORDS[attribute] ?? label(attribute);

const CLASS_WORDS: Record<string, string> = { virtual_machine: 'virtual machine', cloud_resource: 'cloud resource', load_balancer: 'load balancer', mobile_device: 'mobile device', network_device: 'network device' };
const classText = (ciClass: string) => CLASS_WORDS[ciClass] ?? label(ciClass);

const STATE_TEXT: Record<ImportState, string> = {
  receiving: 'receiving the file',
  checking: 'checking rows',
  applying: 'writing rows',
  previewed: 'dry run done: nothing was written',
  completed: 'completed',
  refused: 'refused: nothing was written',
  failed: 'failed',
};

/** Rows by outcome once written, else by the check's verdict. */
const applied = (s: ImportSummary) => s.state === 'applying' || s.state === 'completed' || s.rowsApplied > 0;
const OUTCOME_WORDS: [keyof RowCounts, string][] = [['created', 'created'], ['updated', 'updated'], ['unchanged', 'unchanged'], ['held', 'held'], ['refused', 'refused']];
const VERDICT_WORDS: [keyof RowCounts, string][] = [['create', 'to create'], ['update', 'to update'], ['unchanged', 'unchanged'], ['hold', 'to hold'], ['refuse', 'refused']];

function countsText(s: ImportSummary): string {
  return (applied(s) ? OUTCOME_WORDS : VERDICT_WORDS).filter(([key]) => s.counts[key]).map(([key, word]) => `${s.counts[key]} ${word}`).join(', ') || '–';
}

/** A plain value: lists joined, nothing as a dash. */
function plain(value: unknown): string {
  if (value === null || value === undefined || value === '') return '–';
  if (Array.isArray(value)) return value.length ? value.map(plain).join(', ') : 'none';
  if (typeof value === 'object') return JSON.stringify(value);
  return String(value);
}

const dateOf = (iso: string | undefined, zone: string) => (iso ? localInputValue(iso, zone).slice(0, 10) : '?');

// ---------------------------------------------------------------------------------------------
// The batches and the upload
// ---------------------------------------------------------------------------------------------

interface UploadValues {
  source: string;
  format: string;
  dryRun: boolean;
  batchKey: string;
  observedAt: string;
}

const UPLOAD_FIELDS: Record<string, string> = { source: 'Source', format: 'Format', batchKey: 'Batch key', observedAt: 'Observed at', file: 'File' };

interface ListView {
  result: Page<ImportSummary>;
  sources: InventorySourceSetting[];
  filter: { source?: string; state?: string };
  writer: boolean;
  upload: { values: UploadValues; errors: FieldErrors };
  notice?: Notice;
}

const LIST_STATES: ImportState[] = ['checking', 'applying', 'previewed', 'completed', 'refused', 'failed'];

function uploadForm(ctx: ViewContext, view: ListView): SafeHtml {
  const { values: v, errors } = view.upload;
  const described = (name: string, hint?: string) => {
    const ids = [hint, errors[name] && `u-${name}-error`].filter(Boolean).join(' ');
    return html`${errors[name] && html` aria-invalid="true"`}${ids && html` aria-describedby="${ids}"`}`;
  };
  // The CSRF field first and the file last: the upload is read in this order, and the token is checked before the file.
  return html`<section aria-labelledby="upload-heading"><h2 id="upload-heading">Send a batch</h2>
${errorSummary('u', errors, UPLOAD_FIELDS)}
<form method="post" action="/ui/inventory/batches" enctype="multipart/form-data">
${csrfField(ctx.csrf)}
<label for="u-source">Source</label>
${fieldError('u-source', errors, 'source')}
<select id="u-source" name="source" required${described('source')}>${view.sources.map((s) => html`<option value="${s.name}"${s.name === v.source && html` selected`}>${s.title}</option>`)}</select>
<label for="u-format">Format</label>
${fieldError('u-format', errors, 'format')}
<select id="u-format" name="format"${described('format', 'u-format-hint')}>${([['auto', 'from the file name'], ['csv', 'CSV'], ['jsonl', 'JSON lines']] as const).map(
    ([value, text]) => html`<option value="${value}"${value === (v.format || 'auto') && html` selected`}>${text}</option>`)}</select>
<p id="u-format-hint" class="meta">From the file name: .csv is CSV; .jsonl, .ndjson and .json are JSON lines.</p>
<div class="check"><input id="u-dry" name="dryRun" type="checkbox" value="yes"${v.dryRun && html` checked`} aria-describedby="u-dry-hint"> <label for="u-dry">Dry run</label></div>
<p id="u-dry-hint" class="meta">Identify and reconcile every row and show what it would create, update, leave alone or hold; write nothing. The report's page then offers to apply the batch.</p>
<label for="u-batchKey">Batch key <span class="meta">(optional)</span></label>
${fieldError('u-batchKey', errors, 'batchKey')}
<input id="u-batchKey" name="batchKey" type="text" maxlength="255" value="${v.batchKey}"${described('batchKey', 'u-batchKey-hint')}>
<p id="u-batchKey-hint" class="meta">The sender's name for the batch (a scan id, a file name): the same key again is the same batch, not a second one.</p>
<label for="u-observedAt">Observed at <span class="meta">(optional)</span></label>
${fieldError('u-observedAt', errors, 'observedAt')}
<input id="u-observedAt" name="observedAt" type="datetime-local" value="${v.observedAt}"${described('observedAt', 'u-observedAt-hint')}>
<p id="u-observedAt-hint" class="meta">When the source saw what the file reports, in ${ctx.timeZone}; now when left empty. Provenance and sightings take this time.</p>
<label for="u-file">File</label>
${fieldError('u-file', errors, 'file')}
<input id="u-file" name="file" type="file" accept=".csv,.jsonl,.ndjson,.json,text/csv,application/x-ndjson" required${described('file')}>
<div class="actions"><button type="submit">Send</button></div>
</form>
<details><summary>The columns a batch takes</summary>
<p><code>${INVENTORY_COLUMNS.join(', ')}</code></p>
<p class="meta">ciClass is required (${DISCOVERABLE_CLASSES.map(classText).join(', ')}), and at least one identifier (${IDENTIFYING_ATTRIBUTES.map(attributeText).join(', ')}). A host name given as a full name (web01.corp.example) is split into host name and domain. software is the whole list found on the device: a JSON array, or in CSV one cell with the names separated by semicolons.</p>
</details>
</section>`;
}

function listPage(ctx: ViewContext, view: ListView): SafeHtml {
  const titleOf = (name: string) => view.sources.find((s) => s.name === name)?.title ?? name;
  const rows = view.result.items.map((b) => html`<tr>
<td class="when"><a href="${batchHref(b.id)}">${time(b.createdAt, ctx.timeZone)}</a></td>
<th scope="row">${b.inventory ? titleOf(b.inventory.source) : ''}</th>
<td>${b.inventory?.batchKey ?? html`<span class="meta">none</span>`}</td>
<td>${time(b.inventory?.observedAt, ctx.timeZone)}</td>
<td>${STATE_TEXT[b.state]}${b.dryRun && b.state !== 'previewed' && html` <span class="meta">(dry run)</span>`}${RUNNING_IMPORT_STATES.includes(b.state) && html` <span class="meta">${b.rowsChecked} checked, ${b.rowsApplied} written of ${b.rowsTotal}</span>`}</td>
<td class="num">${b.rowsTotal}</td>
<td>${countsText(b)}</td>
</tr>`);
  const option = (value: string, text: string, chosen: string | undefined) => html`<option value="${value}"${value === (chosen ?? '') && html` selected`}>${text}</option>`;
  const filters = html`<form class="filters" method="get" action="${HOME}" aria-label="Filter the batches">
<div><label for="f-source">Source</label><select id="f-source" name="source">${option('', 'any', view.filter.source)}${view.sources.map((s) => option(s.name, s.title, view.filter.source))}</select></div>
<div><label for="f-state">State</label><select id="f-state" name="state">${option('', 'any', view.filter.state)}${LIST_STATES.map((s) => option(s, STATE_TEXT[s], view.filter.state))}</select></div>
<div><button type="submit">Show</button></div>
</form>`;
  const table = rows.length
    ? html`<table id="batches"><caption class="sr-only">Inventory batches, newest first</caption>
<thead><tr><th scope="col">Received</th><th scope="col">Source</th><th scope="col">Batch key</th><th scope="col">Observed</th><th scope="col">State</th><th scope="col" class="num">Rows</th><th scope="col">Result</th></tr></thead>
<tbody>
${join(rows, '\n')}
</tbody></table>`
    : html`<p>No batch matches.</p>`;
  return layout(ctx, 'Inventory', html`<h1>Inventory</h1>
${notice(view.notice)}
<p>Batches from discovery, device management, cloud inventories, HR and people: each row is identified by its class's rules and reconciled by source authority. <a href="${RULES}">Identification and reconciliation rules, and sources</a></p>
${view.writer ? uploadForm(ctx, view) : html`<p class="meta">Asset managers and admins send batches.</p>`}
<section aria-labelledby="batches-heading"><h2 id="batches-heading">Batches</h2>
${filters}
${table}
${pager(view.result.page, HOME, { source: view.filter.source, state: view.filter.state })}
</section>`);
}

// ---------------------------------------------------------------------------------------------
// A batch and its report
// ---------------------------------------------------------------------------------------------

/** Why an attribute was written, in words ("discovery is stronger than mdm for location"). */
function changeReason(attribute: string, change: AttributeChange, zone: string): string {
  const what = attributeText(attribute);
  const before = change.replaced;
  switch (change.reason) {
    case 'no_value_yet':
      return `the record had no ${what} yet`;
    case 'same_or_stronger_source':
      if (!before) return `${change.source} may set the ${what}: nobody recorded who set the value it replaces (entered before reconciliation), or ${change.source} is as strong as its source`;
      return before.source === change.source ? `${change.source} changes its own value` : `${change.source} is stronger than ${before.source} for ${what}`;
    case 'stronger_source_stale':
      return before
        ? `stronger source stale: ${before.source} last confirmed ${dateOf(before.seenAt, zone)}`
        : `stronger source stale: it has not confirmed the ${what} within the staleness period`;
    case 'listed_by_sources':
      return `${what} is not decided by source authority: what ${change.source} lists is installed, and a product is reclaimed once no source still lists it`;
    default:
      return label(String(change.reason));
  }
}

/** Why an offered value was not written, and who holds the value kept. */
function leftAloneReason(attribute: string, left: AttributeLeftAlone, batchSource: string | undefined, observedAt: string | undefined, zone: string): string {
  const what = attributeText(attribute);
  const held = left.heldBy;
  switch (left.reason) {
    case 'same_value':
      return held ? `the same value: ${held.source} holds it` : 'the same value';
    case 'weaker_source':
      return held
        ? `${held.source} is stronger than ${batchSource ?? 'this source'} for ${what}; it last confirmed it ${dateOf(held.seenAt, zone)}`
        : `${batchSource ?? 'this source'} is weaker than the source that set the ${what}`;
    case 'older_than_current':
      return `this batch was observed ${dateOf(observedAt, zone)}, before ${held ? `${held.source} last confirmed the value (${dateOf(held.seenAt, zone)})` : 'the value was last confirmed'}`;
    case 'identifier_held_elsewhere':
      return `another record holds this ${what}`;
    case 'unknown_product':
      return 'not in the software catalogue';
    case 'class_differs':
      return 'the record is of another class: a class is set when a record is created';
    case 'unknown_model':
      return 'the model is not in the catalogue: the record gets no asset until it is';
    case 'no_asset':
      return `the record has no asset to hold the ${what}`;
    case 'unknown_person':
      return 'no active person has this email';
    case 'lifecycle_owned':
      return 'the assignee changes through the asset\u2019s lifecycle: an asset manager moves it there';
    case 'name_taken':
      return 'another record of the class has this name';
    case 'host_and_domain_together':
      return 'a host name and its domain change together, and the other part could not be written';
    default:
      return `${label(String(left.reason))}${held ? ` (held by ${held.source}, confirmed ${dateOf(held.seenAt, zone)})` : ''}`;
  }
}

const asList = (value: unknown): string[] => (Array.isArray(value) ? value.map(String) : []);

function softwareText(change: { from: unknown; to: unknown }): string {
  const before = asList(change.from);
  const after = asList(change.to);
  const added = after.filter((name) => !before.includes(name));
  const removed = before.filter((name) => !after.includes(name));
  return [added.length && `installed: ${added.join(', ')}`, removed.length && `removed: ${removed.join(', ')}`].filter(Boolean).join('; ') || 'no change';
}

function identificationCell(row: ImportRowReport, names: Map<string, RecordName>): SafeHtml {
  const id = row.identification as RowIdentification | null;
  const record = (recordId: string) => {
    const ci = names.get(recordId);
    return ci ? html`<a href="${ciHref(ci.number)}">${ci.name}</a> <span class="meta">${ci.number}</span>` : html`<span class="meta">a record since removed</span>`;
  };
  if (!id) return row.verdict === 'refuse' ? html`<span class="meta">not identified</span>` : html``;
  const by = id.rule?.length ? ` by ${id.rule.map(attributeText).join(' + ')}` : '';
  if (id.outcome === 'match') return html`matched ${record(id.recordIds[0])}${by}`;
  if (id.outcome === 'create') {
    return row.recordId && names.has(row.recordId) ? html`new record: ${record(row.recordId)}` : html`new record`;
  }
  return html`<strong>held</strong>: ${id.reason ?? 'several records answer to it'}${by && html` <span class="meta">(${by.trim()})</span>`} — ${join(id.recordIds.map(record), ', ')}${id.caseNumber && html`; case <a href="${caseHref(id.caseNumber)}">${id.caseNumber}</a>`}`;
}

function changesCell(row: ImportRowReport, zone: string): SafeHtml {
  const entries = Object.entries(row.changes ?? {});
  if (!entries.length) return html``;
  return html`<ul class="changes">${entries.map(([attribute, c]) => {
    const sourced = 'source' in c ? (c as AttributeChange) : undefined;
    const value = attribute === 'software' ? softwareText(c) : `${plain(c.from)} → ${plain(c.to)}`;
    return html`<li><span class="attribute">${attributeText(attribute)}</span>: ${value}${sourced && html` <span class="meta">(${sourced.source}; ${changeReason(attribute, sourced, zone)})</span>`}</li>`;
  })}</ul>`;
}

function leftAloneCell(row: ImportRowReport, summary: ImportSummary, zone: string): SafeHtml {
  const entries = Object.entries(row.leftAlone ?? {}).filter(([, left]) => left.reason !== 'same_value');
  if (!entries.length) return html``;
  const source = summary.inventory?.source;
  const observedAt = summary.inventory?.observedAt;
  return html`<ul class="left-alone">${entries.map(([attribute, left]) => {
    const offered = left.reason === 'unknown_product' ? `unknown products: ${plain(left.offered)}` : `kept ${plain(left.current)}, offered ${plain(left.offered)}`;
    return html`<li><span class="attribute">${attributeText(attribute)}</span>: ${offered} <span class="meta">(${leftAloneReason(attribute, left, source, observedAt, zone)})</span></li>`;
  })}</ul>`;
}

function resultText(row: ImportRowReport): string {
  if (row.outcome) return row.outcome;
  if (!row.verdict) return 'not checked yet';
  return ({ create: 'would create', update: 'would update', unchanged: 'unchanged', refuse: 'refused', hold: 'would hold' } as Record<RowVerdict, string>)[row.verdict];
}

/** What the row says it is: its class and identifiers. */
function rowText(row: ImportRowReport): string {
  const r = row.record ?? {};
  const parts = ['name', 'hostname', 'serialNumber', 'assetTag', 'cloudResourceId', 'macAddress']
    .map((key) => r[key]).filter((value) => value !== null && value !== undefined && value !== '').map(String);
  return `${r.ciClass ? classText(String(r.ciClass)) : '?'}: ${[...new Set(parts)].join(', ') || 'no identifier'}`;
}

function rowsTable(rows: ImportRowReport[], summary: ImportSummary, names: Map<string, RecordName>, zone: string): SafeHtml {
  if (!rows.length) return html`<p>No row matches.</p>`;
  const lines = rows.map((row) => html`<tr id="row-${row.rowNumber}">
<th scope="row" class="num">${row.rowNumber}</th>
<td>${rowText(row)}</td>
<td class="result">${resultText(row)}</td>
<td class="identification">${identificationCell(row, names)}</td>
<td class="details">${changesCell(row, zone)}${row.problems.length > 0 && html`<ul class="problems">${row.problems.map((p) => html`<li>${attributeText(p.column)} ${plain(p.value)}: ${p.reason}</li>`)}</ul>`}</td>
<td class="details">${leftAloneCell(row, summary, zone)}</td>
</tr>`);
  return html`<table id="batch-rows"><caption class="sr-only">The batch's rows in file order: the record each found, what it changed and what it left alone</caption>
<thead><tr><th scope="col" class="num">Row</th><th scope="col">The row</th><th scope="col">Result</th><th scope="col">Record</th><th scope="col">Changes (old → new) and problems</th><th scope="col">Left alone</th></tr></thead>
<tbody>
${join(lines, '\n')}
</tbody></table>`;
}

/** The report's filters: verdicts before anything is written, outcomes after. */
const ROW_FILTERS = ['create', 'update', 'unchanged', 'hold', 'refuse'] as const satisfies readonly RowVerdict[];
type RowFilter = (typeof ROW_FILTERS)[number];

function rowFilterOf(filter: RowFilter | undefined, summary: ImportSummary): ImportRowFilter {
  if (!filter) return {};
  if (filter === 'refuse') return { problemsOnly: true };
  return applied(summary) ? { outcome: OUTCOME_OF_VERDICT[filter] as RowOutcome } : { verdict: filter };
}

interface BatchView {
  summary: ImportSummary;
  sourceTitle: string;
  progress: { rowsChecked: number; rowsApplied: number; attention: ImportProgress['attention']; unavailable?: string };
  rows: Page<ImportRowReport>;
  names: Map<string, RecordName>;
  filter?: RowFilter;
  refreshing: boolean;
  writer: boolean;
  applyErrors?: FieldErrors;
}

function batchPage(ctx: ViewContext, view: BatchView): SafeHtml {
  const s = view.summary;
  const zone = ctx.timeZone;
  const running = RUNNING_IMPORT_STATES.includes(s.state);
  const selfHref = (query: Record<string, string | undefined>) => `${batchHref(s.id)}${queryString(query)}`;
  const p = view.progress;
  const progress = running && html`<section aria-labelledby="progress-heading"><h2 id="progress-heading">Progress</h2>
<p><label for="progress-check">Rows checked</label><progress id="progress-check" max="${Math.max(s.rowsTotal, 1)}" value="${p.rowsChecked}">${p.rowsChecked} of ${s.rowsTotal}</progress> ${p.rowsChecked} of ${s.rowsTotal}</p>
${!s.dryRun && html`<p><label for="progress-apply">Rows written</label><progress id="progress-apply" max="${Math.max(s.rowsTotal, 1)}" value="${p.rowsApplied}">${p.rowsApplied} of ${s.rowsTotal}</progress> ${p.rowsApplied} of ${s.rowsTotal}</p>`}
${p.attention && html`<p class="notice error" role="alert" id="batch-attention">Waiting for attention since ${time(p.attention.since, zone)}: ${p.attention.step} — ${p.attention.reason}. It is tried again ${time(p.attention.retryAt, zone)}.</p>`}
${p.unavailable && html`<p class="meta">${p.unavailable}</p>`}
<p class="meta">${view.refreshing
    ? html`This page refreshes every ${REFRESH_SECONDS} seconds while the batch runs. <a href="${selfHref({ filter: view.filter, refresh: 'off' })}">Stop refreshing</a>`
    : html`<a href="${selfHref({ filter: view.filter })}">Refresh</a> (every ${REFRESH_SECONDS} seconds)`}</p>
</section>`;
  const applyErrors = view.applyErrors ?? {};
  const dryRun = s.dryRun && html`<section aria-labelledby="dry-heading"><h2 id="dry-heading">Dry run</h2>
<p class="notice ok" role="status" id="dry-run-note">${s.state === 'previewed'
    ? 'This was a dry run: nothing was written. The report shows what applying it would do.'
    : 'This is a dry run: it writes nothing.'}</p>
${s.state === 'previewed' && (view.writer
    ? html`<form method="post" action="${`${batchHref(s.id)}/apply`}">
${csrfField(ctx.csrf)}
${fieldError('apply', applyErrors, 'form')}
<p class="meta" id="apply-hint">The same rows become a real batch of the same source, observed at the same time; each row is judged again against the data as it is then.</p>
<div class="actions"><button type="submit" aria-describedby="apply-hint${applyErrors.form ? ' apply-error' : ''}">Apply this batch</button></div>
</form>`
    : html`<p class="meta">Asset managers and admins apply a dry run.</p>`)}
</section>`;
  const summary = html`<dl class="summary">
<dt>State</dt><dd id="batch-state">${STATE_TEXT[s.state]}${s.message && html` <span class="meta">(${s.message})</span>`}</dd>
<dt>Source</dt><dd>${view.sourceTitle}</dd>
<dt>Batch key</dt><dd>${s.inventory?.batchKey ?? html`<span class="meta">none</span>`}</dd>
<dt>Observed at</dt><dd>${time(s.inventory?.observedAt, zone)}</dd>
<dt>File</dt><dd>${s.fileName ?? 'unnamed'} <span class="meta">(${s.format})</span></dd>
<dt>Rows</dt><dd id="batch-counts">${s.rowsTotal} in the batch; ${countsText(s)}</dd>
<dt>Sent by</dt><dd>${s.requestedBy}, ${time(s.createdAt, zone)}</dd>
${s.finishedAt && html`<dt>Finished</dt><dd>${time(s.finishedAt, zone)}</dd>`}
</dl>`;
  const filterForm = html`<form class="filters" method="get" action="${batchHref(s.id)}" aria-label="Filter the rows">
<div><label for="r-filter">Rows</label><select id="r-filter" name="filter">${([['', 'all'], ...ROW_FILTERS.map((f) => [f, applied(s) ? OUTCOME_OF_VERDICT[f] : VERDICT_WORDS.find(([key]) => key === f)![1]])] as [string, string][]).map(
    ([value, text]) => html`<option value="${value}"${value === (view.filter ?? '') && html` selected`}>${text}</option>`)}</select></div>
<div><button type="submit">Show</button></div>
</form>`;
  const title = `Batch from ${view.sourceTitle.toLowerCase()}`;
  return layout(ctx, title, html`<p class="meta"><a href="${HOME}">← Inventory</a></p>
<h1>${title}</h1>
${dryRun}
<section aria-labelledby="summary-heading"><h2 id="summary-heading">Summary</h2>${summary}</section>
${progress}
<section aria-labelledby="rows-heading"><h2 id="rows-heading">Row report</h2>
${filterForm}
${rowsTable(view.rows.items, s, view.names, zone)}
${pager(view.rows.page, batchHref(s.id), { filter: view.filter, refresh: running && !view.refreshing ? 'off' : undefined })}
</section>`);
}

// ---------------------------------------------------------------------------------------------
// Rules and sources
// ---------------------------------------------------------------------------------------------

interface RulesView {
  identification: ClassIdentificationRules[];
  reconciliation: ReconciliationRuleSetting[];
  sources: InventorySourceSetting[];
  writer: boolean;
  notice?: Notice;
  /** The form sent, shown again with its values and problems. */
  posted?: { form: string; values: Record<string, unknown>; errors: FieldErrors };
}

/** The lines an identification form shows: the rules in order, and one empty line to add a rule. */
function identificationLines(list: ClassIdentificationRules, posted: RulesView['posted']): { attributes: string[]; active: boolean; order: string }[] {
  const sent = posted?.form === `identification-${list.ciClass}` ? posted.values.lines as { attributes: string[]; active: boolean; order: string }[] : undefined;
  if (sent) return sent;
  return [...list.rules.map((rule, at) => ({ attributes: [...rule.attributes], active: rule.active, order: String(at + 1) })), { attributes: [], active: true, order: '' }];
}

function identificationSection(ctx: ViewContext, view: RulesView): SafeHtml {
  const blocks = view.identification.map((list) => {
    const id = `ident-${list.ciClass}`;
    const posted = view.posted?.form === `identification-${list.ciClass}` ? view.posted : undefined;
    const errors = posted?.errors ?? {};
    const heading = html`<h3 id="${id}-heading">${capitalised(classText(list.ciClass))}</h3>`;
    if (!view.writer) {
      const items = list.rules.map((rule) => html`<li>${rule.attributes.map(attributeText).join(' + ')}${!rule.active && html` <span class="meta">(not active)</span>`}</li>`);
      return html`<article aria-labelledby="${id}-heading">${heading}${items.length ? html`<ol>${items}</ol>` : html`<p>No rule: every row of this class creates a record.</p>`}</article>`;
    }
    const lines = identificationLines(list, view.posted).map((line, at) => {
      const prefix = `${id}-${at}`;
      const lineError = errors[`rules.${at}`];
      return html`<fieldset${lineError && html` aria-describedby="${prefix}-error"`}><legend>${at < list.rules.length || posted ? `Rule ${at + 1}` : 'A new rule'}</legend>
${lineError && html`<p id="${prefix}-error" class="notice error">${lineError}</p>`}
<label for="${prefix}-order">Order</label><input id="${prefix}-order" name="order-${at}" type="number" min="1" max="99" value="${line.order}" aria-describedby="${id}-order-hint">
${IDENTIFYING_ATTRIBUTES.map((attribute) => html`<div class="check"><input id="${prefix}-${attribute}" name="attributes-${at}" type="checkbox" value="${attribute}"${line.attributes.includes(attribute) && html` checked`}> <label for="${prefix}-${attribute}">${attributeText(attribute)}</label></div>`)}
<div class="check"><input id="${prefix}-active" name="active-${at}" type="checkbox" value="yes"${line.active && html` checked`}> <label for="${prefix}-active">Active</label></div>
</fieldset>`;
    });
    return html`<article aria-labelledby="${id}-heading">${heading}
${errors.form && html`<p id="${id}-error" class="notice error" role="alert">${errors.form}</p>`}
<form method="post" action="${`${RULES.replace('/rules', '/rules/identification')}/${list.ciClass}`}">
${csrfField(ctx.csrf)}<input type="hidden" name="version" value="${String(list.version)}"><input type="hidden" name="lines" value="${lines.length}">
<p id="${id}-order-hint" class="meta">Rules are tried by order, lowest first; a line without attributes is dropped. A rule matches when the record has all its attributes.</p>
${lines}
<div class="actions"><button type="submit">Save the rules for ${classText(list.ciClass)}</button></div>
</form></article>`;
  });
  return html`<section aria-labelledby="ident-heading"><h2 id="ident-heading">Identification rules</h2>
<p class="meta">How a row finds its record, per class: the first rule whose attributes the row has and that finds records decides. One record is a match; several are held for a data steward; none creates a record.</p>
<div class="grid2">${join(blocks, '\n')}</div>
</section>`;
}

const PLACES = ['Strongest', 'Second', 'Third', 'Fourth', 'Fifth'];

/** A select per place, strongest first; an empty place is left out. */
function sourcesSelects(prefix: string, chosen: readonly string[], errors: FieldErrors, sources: InventorySourceSetting[]): SafeHtml {
  const selects = INVENTORY_SOURCES.map((_, at) => html`<div><label for="${prefix}-source-${at}">${PLACES[at]}</label>
<select id="${prefix}-source-${at}" name="source-${at}"${errors.sources && html` aria-describedby="${prefix}-sources-error"`}><option value="">—</option>${sources.map((s) => html`<option value="${s.name}"${chosen[at] === s.name && html` selected`}>${s.title}</option>`)}</select></div>`);
  return html`<fieldset><legend>Sources, strongest first</legend>
${fieldError(`${prefix}-sources`, errors, 'sources')}
<div class="filters">${selects}</div></fieldset>`;
}

function reconciliationSection(ctx: ViewContext, view: RulesView): SafeHtml {
  const titleOf = (name: string) => view.sources.find((s) => s.name === name)?.title ?? name;
  const postedFor = (attribute: string) => (view.posted?.form === `reconciliation-${attribute}` ? view.posted : undefined);
  const rules = [...view.reconciliation].sort((a, b) => (a.attribute === '*' ? 1 : b.attribute === '*' ? -1 : a.attribute.localeCompare(b.attribute)));
  const blocks = rules.map((rule) => {
    const id = `recon-${rule.attribute === '*' ? 'default' : rule.attribute}`;
    const heading = html`<h3 id="${id}-heading">${rule.attribute === '*' ? 'Every other attribute' : capitalised(attributeText(rule.attribute))}</h3>`;
    if (!view.writer) {
      return html`<article aria-labelledby="${id}-heading">${heading}<p>${rule.sources.map(titleOf).join(' > ')}; a weaker source may change a value its stronger one has not confirmed for ${rule.stalenessDays} days.</p></article>`;
    }
    const posted = postedFor(rule.attribute);
    const errors = posted?.errors ?? {};
    const sources = (posted?.values.sources as string[] | undefined) ?? rule.sources;
    const days = (posted?.values.stalenessDays as string | undefined) ?? String(rule.stalenessDays);
    return html`<article aria-labelledby="${id}-heading">${heading}
${errors.form && html`<p class="notice error" role="alert" id="${id}-error">${errors.form}</p>`}
<form method="post" action="/ui/inventory/rules/reconciliation">
${csrfField(ctx.csrf)}<input type="hidden" name="attribute" value="${rule.attribute}"><input type="hidden" name="version" value="${String(rule.version)}">
${sourcesSelects(id, sources, errors, view.sources)}
<label for="${id}-days">Staleness, days</label>
${fieldError(`${id}-days`, errors, 'stalenessDays')}
<input id="${id}-days" name="stalenessDays" type="number" min="0" max="3650" value="${days}" aria-describedby="${id}-days-hint${errors.stalenessDays ? ` ${id}-days-error` : ''}">
<p id="${id}-days-hint" class="meta">After this many days without its stronger source confirming it, a weaker source may change the value.</p>
<div class="actions"><button type="submit">Save</button></div>
</form>
${rule.attribute !== '*' && html`<form method="post" action="/ui/inventory/rules/reconciliation/remove">
${csrfField(ctx.csrf)}<input type="hidden" name="attribute" value="${rule.attribute}"><input type="hidden" name="version" value="${String(rule.version)}">
<div class="actions"><button type="submit" class="reject">Remove the rule for ${attributeText(rule.attribute)}</button></div>
</form>`}
</article>`;
  });
  const unruled = RECONCILIATION_ATTRIBUTES.filter((a) => !view.reconciliation.some((r) => r.attribute === a));
  const posted = view.posted?.form === 'reconciliation-new' ? view.posted : undefined;
  const errors = posted?.errors ?? {};
  const add = view.writer && unruled.length > 0 && html`<article aria-labelledby="recon-new-heading"><h3 id="recon-new-heading">A rule for another attribute</h3>
${errors.form && html`<p class="notice error" role="alert">${errors.form}</p>`}
<form method="post" action="/ui/inventory/rules/reconciliation">
${csrfField(ctx.csrf)}<input type="hidden" name="version" value="">
<label for="recon-new-attribute">Attribute</label>
${fieldError('recon-new-attribute', errors, 'attribute')}
<select id="recon-new-attribute" name="attribute">${unruled.map((a) => html`<option value="${a}"${posted?.values.attribute === a && html` selected`}>${attributeText(a)}</option>`)}</select>
${sourcesSelects('recon-new', (posted?.values.sources as string[] | undefined) ?? [], errors, view.sources)}
<label for="recon-new-days">Staleness, days</label>
${fieldError('recon-new-days', errors, 'stalenessDays')}
<input id="recon-new-days" name="stalenessDays" type="number" min="0" max="3650" value="${(posted?.values.stalenessDays as string | undefined) ?? '30'}">
<div class="actions"><button type="submit">Add the rule</button></div>
</form></article>`;
  return html`<section aria-labelledby="recon-heading"><h2 id="recon-heading">Reconciliation rules</h2>
<p class="meta">Which source may set an attribute, strongest first. A source not listed is weaker than every listed one. A value nobody recorded the source of (entered before reconciliation) may be corrected by any source.</p>
<div class="grid2">${join(blocks, '\n')}${add}</div>
</section>`;
}

function sourcesSection(ctx: ViewContext, view: RulesView): SafeHtml {
  const rows = view.sources.map((s) => {
    const posted = view.posted?.form === `source-${s.name}` ? view.posted : undefined;
    const errors = posted?.errors ?? {};
    const id = `src-${s.name}`;
    const value = (posted?.values.unseenAfterDays as string | undefined) ?? (s.unseenAfterDays === null ? '' : String(s.unseenAfterDays));
    const cell = view.writer
      ? html`<form method="post" action="${`/ui/inventory/sources/${s.name}`}" class="inline">
${csrfField(ctx.csrf)}<input type="hidden" name="version" value="${String(s.version)}">
<label for="${id}-days" class="sr-only">Unseen after, days, for ${s.title}</label>
<input id="${id}-days" name="unseenAfterDays" type="number" min="1" max="3650" value="${value}"${errors.unseenAfterDays || errors.form ? html` aria-invalid="true" aria-describedby="${id}-error"` : html``}>
<button type="submit">Save</button>
${(errors.unseenAfterDays || errors.form) && html`<p id="${id}-error" class="notice error">${errors.unseenAfterDays ?? errors.form}</p>`}
</form>`
      : html`${s.unseenAfterDays === null ? 'never' : `${s.unseenAfterDays} days`}`;
    return html`<tr><th scope="row">${s.title} <span class="meta">${s.name}</span></th><td>${cell}</td></tr>`;
  });
  return html`<section aria-labelledby="sources-heading"><h2 id="sources-heading">Sources</h2>
<p class="meta">After how many days a record a source reported and no longer reports becomes a candidate for the missing state (through its lifecycle workflow, never silently). Empty: this source never says a record has gone.</p>
<table id="sources"><caption class="sr-only">Sources and their unseen period</caption>
<thead><tr><th scope="col">Source</th><th scope="col">Unseen after</th></tr></thead>
<tbody>${join(rows, '\n')}</tbody></table>
</section>`;
}

const capitalised = (text: string) => text.charAt(0).toUpperCase() + text.slice(1);

function rulesPage(ctx: ViewContext, view: RulesView): SafeHtml {
  return layout(ctx, 'Inventory rules', html`<p class="meta"><a href="${HOME}">← Inventory</a></p>
<h1>Identification and reconciliation rules</h1>
${notice(view.notice)}
${!view.writer && html`<p class="meta">Asset managers and admins edit the rules and sources.</p>`}
${identificationSection(ctx, view)}
${reconciliationSection(ctx, view)}
${sourcesSection(ctx, view)}`);
}

// ---------------------------------------------------------------------------------------------
// Where a record's data comes from: sections of the CI and asset pages
// ---------------------------------------------------------------------------------------------

export interface DataSources {
  ciId: string;
  number: string;
  discoveryState: 'verified' | 'discovered' | null;
  attributes: AttributeProvenance[];
  sightings: Sighting[];
  /** Sources that lost a record no asset backs past their period: the watch makes no candidate of it, the page says it. */
  lapsed: LapsedSighting[];
}

/** The provenance and sightings of a CI, for its page and its asset's. */
export async function dataSourcesOf(db: WebKit['deps']['db'], ci: { id: string; number: string }): Promise<DataSources> {
  const [attributes, sightings, discoveryState, lapsed] = await Promise.all([
    provenanceOf(db, ci.id), sightingsOf(db, ci.id), discoveryStateOf(db, ci.id), lapsedSightings(db, ci.id, new Date().toISOString()),
  ]);
  return { ciId: ci.id, number: ci.number, discoveryState, attributes, sightings, lapsed };
}

/** "not yet verified", with the button that verifies it for those who may. */
export function discoveryBadge(ctx: ViewContext, data: DataSources, options: { verifyButton: boolean }): SafeHtml {
  if (data.discoveryState !== 'discovered') return html``;
  const may = options.verifyButton && hasAnyRole(ctx.user, INVENTORY_WRITERS);
  return html`<p id="discovery-state"><strong class="badge">not yet verified</strong> <span class="meta">A feed created this record; nobody has confirmed it is real and right yet.</span></p>
${may && html`<form method="post" action="${`${ciHref(data.number)}/verified`}">${csrfField(ctx.csrf)}<div class="actions"><button type="submit">Mark verified</button></div></form>`}`;
}

/** "Where this data comes from" and "Seen by", headed at `level`. */
export function dataSourcesSection(ctx: ViewContext, data: DataSources, level: 2 | 3 = 2): SafeHtml {
  const zone = ctx.timeZone;
  const heading = (id: string, text: string, at: 2 | 3 | 4) => (at === 2 ? html`<h2 id="${id}">${text}</h2>` : at === 3 ? html`<h3 id="${id}">${text}</h3>` : html`<h4 id="${id}">${text}</h4>`);
  const id = `sources-${data.number}`;
  const rows = data.attributes.map((a) => html`<tr>
<th scope="row">${attributeText(a.attribute)}</th>
<td>${plain(a.value)}</td>
<td>${a.source ? a.source.title : html`<span class="meta">entered before reconciliation</span>`}</td>
<td>${time(a.setAt, zone)}</td>
<td>${time(a.confirmedAt, zone)}</td>
<td>${a.importId ? html`<a href="${batchHref(a.importId)}">batch<span class="sr-only"> that set the ${attributeText(a.attribute)}</span></a>` : ''}</td>
</tr>`);
  const sightings = data.sightings.map((s) => html`<tr><th scope="row">${s.title}</th><td>${time(s.firstSeenAt, zone)}</td><td>${time(s.lastSeenAt, zone)}${s.lastImportId && html` <a href="${batchHref(s.lastImportId)}">batch<span class="sr-only"> of ${s.title} that last saw it</span></a>`}</td><td>${s.missingCandidateSince ? html`missing candidate since ${time(s.missingCandidateSince, zone)}` : lapsedText(data, s.source) ?? html`<span class="meta">seen</span>`}</td></tr>`);
  return html`<section aria-labelledby="${id}-heading">${heading(`${id}-heading`, 'Where this data comes from', level)}
${rows.length ? html`<table class="provenance" id="${`provenance-${data.number}`}"><caption class="sr-only">Each attribute, its value, and the source that set it</caption>
<thead><tr><th scope="col">Attribute</th><th scope="col">Value</th><th scope="col">Source</th><th scope="col">Set</th><th scope="col">Last confirmed</th><th scope="col">Batch</th></tr></thead>
<tbody>${join(rows, '\n')}</tbody></table>` : html`<p>No attribute to show.</p>`}
${heading(`${id}-seen`, 'Seen by', level === 2 ? 3 : 4)}
${sightings.length ? html`<table class="sightings" id="${`sightings-${data.number}`}"><caption class="sr-only">The sources that report this record</caption>
<thead><tr><th scope="col">Source</th><th scope="col">First seen</th><th scope="col">Last seen</th><th scope="col">Missing?</th></tr></thead>
<tbody>${join(sightings, '\n')}</tbody></table>` : html`<p>No feed has reported it.</p>`}
${data.lapsed.length > 0 && html`<p id="${`lapsed-${data.number}`}">${join(data.lapsed.map((l) => html`Not seen by ${l.title} for ${daysText(l.daysUnseen)}, past its ${daysText(l.periodDays)}.`), ' ')} No asset backs this record, so it is never made a candidate for the missing state: retire it if it is gone.</p>`}
</section>`;
}

const daysText = (days: number) => `${days} ${days === 1 ? 'day' : 'days'}`;

/** "not seen for 40 days" in the sightings table, for a source that lost a record no asset backs. */
function lapsedText(data: DataSources, source: string): string | undefined {
  const lapsed = data.lapsed.find((l) => l.source === source);
  return lapsed && `not seen for ${daysText(lapsed.daysUnseen)}`;
}

// ---------------------------------------------------------------------------------------------
// Routes
// ---------------------------------------------------------------------------------------------

const pageQuery = z.object({
  limit: z.coerce.number().int().min(1).max(200).catch(50),
  offset: z.coerce.number().int().min(0).catch(0),
});

const uploadValuesOf = (fields: Record<string, string>, dryRunDefault: boolean): UploadValues => ({
  source: fields.source ?? '',
  format: fields.format ?? 'auto',
  dryRun: fields.dryRun === undefined ? dryRunDefault : fields.dryRun === 'yes',
  batchKey: fields.batchKey ?? '',
  observedAt: fields.observedAt ?? '',
});

/** A refusal the form shows next to itself (4xx); anything else goes to the error page. */
function refusalOf(error: unknown): HttpError {
  const known = settingRefusalAnswer(error) ?? toHttpError(error);
  if (!known || known.status >= 500) throw error;
  return known;
}

/** Problems by field: the first part of a path names the field ("rules.2" keeps its line); the rest belong to the form. */
function errorsOf(problems: { path: string; message: string }[]): FieldErrors {
  const errors: FieldErrors = {};
  for (const { path, message } of problems) {
    const parts = path.split('.');
    const field = parts[0] === 'rules' && parts[1] !== undefined ? `rules.${parts[1]}` : parts[0] || 'form';
    errors[field] = errors[field] ? `${errors[field]}; ${message}` : message;
  }
  return errors;
}

/** A write made on a version someone changed since: said in words a person acts on. */
const staleErrors = (): FieldErrors => ({ form: 'Someone changed this since you opened the page, so nothing was saved. What is there now is shown: make your change again.' });

export function registerInventoryPages(router: Router, kit: WebKit): void {
  const { db, temporal, taskQueue } = kit.deps;

  /** The page context for holders of `roles`; a 403 page (and undefined) for anyone else. */
  async function contextFor(res: Response, roles: readonly Role[] = INVENTORY_READERS): Promise<ViewContext | undefined> {
    const ctx = await kit.context(res, 'inventory');
    if (hasAnyRole(ctx.user, roles)) return ctx;
    const writes = roles !== INVENTORY_READERS;
    sendHtml(res, 403, errorPage(ctx, 'Not for your role', `This is for: ${roles.map(label).join(', ')}.${writes ? ' Nothing was changed.' : ''}`, [['/ui/my-requests', 'Your requests']]));
    return undefined;
  }

  async function renderList(req: Request, res: Response, ctx: ViewContext, status: number, upload?: ListView['upload'], pageNotice?: Notice) {
    const source = str(req.query.source);
    const state = str(req.query.state);
    const filter = {
      source: (INVENTORY_SOURCES as readonly string[]).includes(source ?? '') ? source : undefined,
      state: (LIST_STATES as string[]).includes(state ?? '') ? state : undefined,
    };
    const page = pageQuery.parse({ limit: str(req.query.limit), offset: str(req.query.offset) });
    const [result, sources] = await Promise.all([
      listImports(db, { kind: 'inventory', source: filter.source as InventorySource | undefined, state: filter.state as ImportState | undefined }, page),
      listInventorySources(db),
    ]);
    sendHtml(res, status, listPage(ctx, {
      result, sources, filter, writer: hasAnyRole(ctx.user, INVENTORY_WRITERS), notice: pageNotice,
      upload: upload ?? { values: uploadValuesOf({}, true), errors: {} },
    }));
  }

  router.get('/inventory', async (req, res) => {
    const ctx = await contextFor(res);
    if (!ctx) return;
    await renderList(req, res, ctx, 200);
  });

  router.post('/inventory/batches', async (req, res) => {
    const ctx = await contextFor(res, INVENTORY_WRITERS);
    if (!ctx) return;
    const again = (status: number, values: UploadValues, errors: FieldErrors) => renderList(req, res, ctx, status, { values, errors });
    if (!req.is('multipart/form-data')) {
      await again(400, uploadValuesOf({}, true), { form: 'Send the form as the page makes it (multipart/form-data, with the file).' });
      return;
    }
    let upload: Upload;
    try {
      upload = await readUpload(req, kit.signedInOf(res).session.csrf);
    } catch (error) {
      await again(400, uploadValuesOf({}, true), { file: `the upload could not be read: ${(error as Error).message}` });
      return;
    }
    if (upload.outcome === 'not_from_this_session') {
      sendHtml(res, 403, errorPage(ctx, 'Nothing was changed',
        'This form was not sent from a page of this session (it is stale, or came from another site). Nothing was sent; open the page again and retry.'));
      return;
    }
    const values = uploadValuesOf(upload.fields, false);
    const refuse = async (errors: FieldErrors) => {
      if (upload.outcome === 'file') upload.file.resume();
      await again(400, values, errors);
    };
    if (upload.outcome === 'no_file' || !upload.fileName) return refuse({ file: 'choose a file to send' });
    if (!(INVENTORY_SOURCES as readonly string[]).includes(values.source)) return refuse({ source: 'choose the source the file comes from' });
    const format = formatOf(values.format, upload.fileName);
    if (!format) return refuse({ format: `choose the format: the name ${upload.fileName} does not say whether it is CSV or JSON lines` });
    const observedAt = values.observedAt.trim() ? instantFromLocalInput(values.observedAt, ctx.timeZone) : undefined;
    if (values.observedAt.trim() && !observedAt) return refuse({ observedAt: `a date and time, such as ${localInputValue(new Date(ctx.now), ctx.timeZone)}` });
    try {
      const summary = await receiveInventoryBatch({ db, temporal, taskQueue }, {
        source: values.source as InventorySource, format, dryRun: values.dryRun, batchKey: values.batchKey.trim() || undefined, observedAt,
        fileName: upload.fileName, requestedBy: ctx.user, file: upload.file,
      });
      res.redirect(303, batchHref(summary.id));
    } catch (error) {
      const known = refusalOf(error);
      upload.file.resume();
      // A header the intake refused is about the file; the fields it names are the form's.
      const fields = ['source', 'format', 'batchKey', 'observedAt'];
      const problems = Array.isArray(known.details) ? problemsOfRefusal(known) : [{ path: 'file', message: known.message }];
      await again(known.status, values, errorsOf(problems.map((p) => ({ path: fields.includes(p.path) ? p.path : 'file', message: p.message }))));
    }
  });

  /** The inventory batch of the path; a 404 page (and undefined) for anything else. */
  async function batchOf(req: Request, res: Response, ctx: ViewContext): Promise<ImportSummary | undefined> {
    const id = String(req.params.id);
    const summary = isUuid(id) ? await findImport(db, id) : null;
    if (!summary?.inventory) {
      sendHtml(res, 404, errorPage(ctx, 'Not found', 'There is no such inventory batch.', [[HOME, 'Inventory']]));
      return undefined;
    }
    return summary;
  }

  async function renderBatch(req: Request, res: Response, ctx: ViewContext, summary: ImportSummary, status: number, applyErrors?: FieldErrors) {
    const chosen = str(req.query.filter);
    const filter = (ROW_FILTERS as readonly string[]).includes(chosen ?? '') ? (chosen as RowFilter) : undefined;
    const page = pageQuery.parse({ limit: str(req.query.limit) ?? ROWS_PAGE, offset: str(req.query.offset) });
    const running = RUNNING_IMPORT_STATES.includes(summary.state);
    // The live progress from the workflow, within the status deadline; the database's counts otherwise.
    const live = running && summary.workflowId
      ? await liveStatusWithinDeadline(temporal, () => temporal.workflow.getHandle(summary.workflowId!).query(importProgressQuery))
      : undefined;
    const [rows, sources] = await Promise.all([importRowsPage(db, summary.id, rowFilterOf(filter, summary), page), listInventorySources(db)]);
    const ids = rows.items.flatMap((r) => [...((r.identification as RowIdentification | null)?.recordIds ?? []), ...(r.recordId ? [r.recordId] : [])]);
    const names = await recordsNamed(db, ids);
    const refreshing = running && str(req.query.refresh) !== 'off';
    if (refreshing) res.set('Refresh', String(REFRESH_SECONDS));
    sendHtml(res, status, batchPage(ctx, {
      summary,
      sourceTitle: sources.find((s) => s.name === summary.inventory!.source)?.title ?? summary.inventory!.source,
      progress: {
        rowsChecked: Math.max(live?.status?.rowsChecked ?? 0, summary.rowsChecked),
        rowsApplied: Math.max(live?.status?.rowsApplied ?? 0, summary.rowsApplied),
        attention: live?.status?.attention ?? null,
        unavailable: live?.statusUnavailable,
      },
      rows, names, filter, refreshing, writer: hasAnyRole(ctx.user, INVENTORY_WRITERS), applyErrors,
    }));
  }

  router.get('/inventory/batches/:id', async (req, res) => {
    const ctx = await contextFor(res);
    if (!ctx) return;
    const summary = await batchOf(req, res, ctx);
    if (!summary) return;
    await renderBatch(req, res, ctx, summary, 200);
  });

  router.post('/inventory/batches/:id/apply', async (req, res) => {
    const ctx = await contextFor(res, INVENTORY_WRITERS);
    if (!ctx) return;
    const summary = await batchOf(req, res, ctx);
    if (!summary) return;
    try {
      // Applied once: a second click answers the batch the first one made.
      const batch = await applyPreviewedBatch({ db, temporal, taskQueue }, summary.id, ctx.user);
      res.redirect(303, batchHref(batch.id));
    } catch (error) {
      const known = refusalOf(error);
      await renderBatch(req, res, ctx, summary, known.status, { form: known.message });
    }
  });

  async function renderRules(res: Response, ctx: ViewContext, status: number, extra: Pick<RulesView, 'notice' | 'posted'> = {}) {
    const [identification, reconciliation, sources] = await Promise.all([listIdentificationRules(db), listReconciliationRules(db), listInventorySources(db)]);
    sendHtml(res, status, rulesPage(ctx, { identification, reconciliation, sources, writer: hasAnyRole(ctx.user, INVENTORY_RULE_WRITERS), ...extra }));
  }

  const SAVED: Record<string, string> = {
    identification: 'The identification rules are saved.', reconciliation: 'The reconciliation rule is saved.',
    removed: 'The reconciliation rule is removed: the rule for every other attribute covers it now.', source: 'The source is saved.',
  };

  router.get('/inventory/rules', async (req, res) => {
    const ctx = await contextFor(res);
    if (!ctx) return;
    const saved = SAVED[str(req.query.saved) ?? ''];
    await renderRules(res, ctx, 200, { notice: saved ? { kind: 'ok', text: saved } : undefined });
  });

  /** The version a form was made on (its hidden field), as If-Match names it; undefined when the form lacks it. */
  const versionOf = (body: Record<string, unknown>): number[] | undefined => {
    const value = wholeNumber(str(body.version) ?? '');
    return typeof value === 'number' && value >= 0 ? [value] : undefined;
  };
  const NO_VERSION = 'This form lacks the version it was made on: open the page again. Nothing was saved.';

  router.post('/inventory/rules/identification/:ciClass', async (req, res) => {
    const ctx = await contextFor(res, INVENTORY_RULE_WRITERS);
    if (!ctx) return;
    const ciClass = discoverableClass.safeParse(String(req.params.ciClass));
    if (!ciClass.success) {
      sendHtml(res, 404, errorPage(ctx, 'Not found', `Feeds report no class ${String(req.params.ciClass)}; nothing was saved.`, [[RULES, 'Rules']]));
      return;
    }
    const body = (req.body ?? {}) as Record<string, unknown>;
    const count = Math.min(Math.max(Number(wholeNumber(str(body.lines) ?? '0')) || 0, 0), MAX_IDENTIFICATION_RULES + 1);
    const lines = Array.from({ length: count }, (_, at) => {
      const given = body[`attributes-${at}`];
      const attributes = (Array.isArray(given) ? given : given === undefined ? [] : [given]).map(String);
      return { attributes, active: str(body[`active-${at}`]) === 'yes', order: str(body[`order-${at}`]) ?? '' };
    });
    const posted = (errors: FieldErrors) => ({ form: `identification-${ciClass.data}`, values: { lines }, errors });
    const version = versionOf(body);
    if (!version) {
      await renderRules(res, ctx, 400, { posted: posted({ form: NO_VERSION }) });
      return;
    }
    // The order as typed, then as listed; a line without attributes is no rule.
    const kept = lines.map((line, at) => ({ line, at, order: Number(wholeNumber(line.order)) }))
      .filter(({ line }) => line.attributes.length > 0)
      .sort((a, b) => (Number.isFinite(a.order) ? a.order : Infinity) - (Number.isFinite(b.order) ? b.order : Infinity) || a.at - b.at);
    // A problem of the n-th rule saved is shown on the line it came from.
    const onLines = (problems: { path: string; message: string }[]) => problems.map((p) => {
      const [first, index] = p.path.split('.');
      const line = first === 'rules' && index !== undefined ? kept[Number(index)]?.at : undefined;
      return { path: line === undefined ? 'form' : `rules.${line}`, message: p.message };
    });
    const input = identificationRulesInput.safeParse({ rules: kept.map(({ line }) => ({ attributes: line.attributes, active: line.active })) });
    if (!input.success) {
      await renderRules(res, ctx, 400, { posted: posted(errorsOf(onLines(zodProblems(input.error)))) });
      return;
    }
    try {
      await saveIdentificationRules(db, ciClass.data, input.data, version, ctx.user.email);
      res.redirect(303, `${RULES}?saved=identification#ident-${ciClass.data}-heading`);
    } catch (error) {
      const known = refusalOf(error);
      await renderRules(res, ctx, known.status, { posted: posted(known.status === 412 ? staleErrors() : errorsOf(onLines(problemsOfRefusal(known)))) });
    }
  });

  router.post('/inventory/rules/reconciliation', async (req, res) => {
    const ctx = await contextFor(res, INVENTORY_RULE_WRITERS);
    if (!ctx) return;
    const body = (req.body ?? {}) as Record<string, unknown>;
    const attribute = str(body.attribute) ?? '';
    const sources = INVENTORY_SOURCES.map((_, at) => str(body[`source-${at}`]) ?? '').filter(Boolean);
    const stalenessDays = str(body.stalenessDays) ?? '';
    // A rule's own form carries its version; the form that adds one carries none.
    const adding = !str(body.version);
    const form = adding ? 'reconciliation-new' : `reconciliation-${attribute}`;
    const posted = (errors: FieldErrors) => ({ form, values: { attribute, sources, stalenessDays }, errors });
    const version = adding ? undefined : versionOf(body);
    if (!adding && !version) {
      await renderRules(res, ctx, 400, { posted: posted({ form: NO_VERSION }) });
      return;
    }
    const named = reconciliationAttribute.safeParse(attribute);
    const input = reconciliationRuleInput.safeParse({ sources, stalenessDays: wholeNumber(stalenessDays) });
    if (!named.success || !input.success) {
      const problems = [
        ...(named.success ? [] : [{ path: 'attribute', message: 'choose an attribute' }]),
        ...(input.success ? [] : zodProblems(input.error)),
      ];
      await renderRules(res, ctx, 400, { posted: posted(errorsOf(problems)) });
      return;
    }
    try {
      await saveReconciliationRule(db, named.data, input.data, version, ctx.user.email);
      res.redirect(303, `${RULES}?saved=reconciliation`);
    } catch (error) {
      const known = refusalOf(error);
      await renderRules(res, ctx, known.status, { posted: posted(known.status === 412 || known.status === 428 ? staleErrors() : errorsOf(problemsOfRefusal(known))) });
    }
  });

  router.post('/inventory/rules/reconciliation/remove', async (req, res) => {
    const ctx = await contextFor(res, INVENTORY_RULE_WRITERS);
    if (!ctx) return;
    const body = (req.body ?? {}) as Record<string, unknown>;
    const attribute = str(body.attribute) ?? '';
    const version = versionOf(body);
    const posted = (errors: FieldErrors) => ({ form: `reconciliation-${attribute}`, values: {}, errors });
    if (!version || !attribute) {
      await renderRules(res, ctx, 400, { posted: posted({ form: NO_VERSION }) });
      return;
    }
    try {
      await removeReconciliationRule(db, attribute, version, ctx.user.email);
      res.redirect(303, `${RULES}?saved=removed`);
    } catch (error) {
      const known = refusalOf(error);
      await renderRules(res, ctx, known.status, { posted: posted(known.status === 412 ? staleErrors() : { form: known.message }) });
    }
  });

  router.post('/inventory/sources/:name', async (req, res) => {
    const ctx = await contextFor(res, INVENTORY_RULE_WRITERS);
    if (!ctx) return;
    const name = inventorySourceName.safeParse(String(req.params.name));
    if (!name.success) {
      sendHtml(res, 404, errorPage(ctx, 'Not found', `There is no source ${String(req.params.name)}; nothing was saved.`, [[RULES, 'Rules']]));
      return;
    }
    const body = (req.body ?? {}) as Record<string, unknown>;
    const unseenAfterDays = (str(body.unseenAfterDays) ?? '').trim();
    const posted = (errors: FieldErrors) => ({ form: `source-${name.data}`, values: { unseenAfterDays }, errors });
    const version = versionOf(body);
    if (!version) {
      await renderRules(res, ctx, 400, { posted: posted({ form: NO_VERSION }) });
      return;
    }
    const input = inventorySourceInput.safeParse({ unseenAfterDays: unseenAfterDays === '' ? null : wholeNumber(unseenAfterDays) });
    if (!input.success) {
      await renderRules(res, ctx, 400, { posted: posted(errorsOf(zodProblems(input.error))) });
      return;
    }
    try {
      await updateInventorySource(db, name.data, input.data, version, ctx.user.email);
      res.redirect(303, `${RULES}?saved=source#sources-heading`);
    } catch (error) {
      const known = refusalOf(error);
      await renderRules(res, ctx, known.status, { posted: posted(known.status === 412 ? staleErrors() : errorsOf(problemsOfRefusal(known))) });
    }
  });

  router.post('/cis/:ref/verified', async (req, res) => {
    const ctx = await kit.context(res, 'cis');
    if (!hasAnyRole(ctx.user, INVENTORY_WRITERS)) {
      sendHtml(res, 403, errorPage(ctx, 'Not for your role', `Verifying a record is for: ${INVENTORY_WRITERS.map(label).join(', ')}. Nothing was changed.`, [['/ui/cis', 'CIs']]));
      return;
    }
    const ref = String(req.params.ref);
    const found = ref.length <= 200 ? await findCisByRef(db, ref) : [];
    if (found.length !== 1) {
      sendHtml(res, 404, errorPage(ctx, 'No such CI', `There is no configuration item ${ref}; nothing was changed.`, [['/ui/cis', 'Find a CI']]));
      return;
    }
    await markCiVerified(db, found[0].id, ctx.user);
    res.redirect(303, `${ciHref(found[0].number)}?verified=1`);
  });
}
