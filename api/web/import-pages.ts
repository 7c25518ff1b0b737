/**
 * Bulk imports in the web UI: the recent imports, the upload form, the upload itself and an
 * import's page (progress, counts, the row report, the refused rows as a file). The upload is
 * multipart and streamed: the file part goes straight to receiveImport (api/imports.ts), as the
 * body of POST /imports does, so a large file is never held. Its CSRF token is the form's first
 * field and is checked before a byte of the file is read; the check in front of every other POST
 * cannot read a multipart body, so it leaves this one to its handler (checksOwnCsrf).
 *
 * A dry run's staged rows are not applied later: its verdicts were judged against the data as it
 * was then, so applying means uploading the file again without the dry run, which checks it anew.
 */
import { Readable } from 'node:stream';
import type { Request, Response, Router } from 'express';
import busboy from 'busboy';
import { z } from 'zod';
import { IMPORT_FORMATS, ON_INVALID_ROWS, type ImportFormat, type ImportState, type OnInvalidRows, type RowCounts } from '../../domain/master-data';
import { findImport, importRowsPage, listImports, refusedRowProblems, type ImportRowFilter, type ImportRowReport, type ImportSummary } from '../../model/imports';
import { isUuid } from '../../model/keys';
import { MASTER_DATA } from '../../model/master-data';
import type { MasterDataKind } from '../../model/master-data/kind';
import type { Page } from '../../model/page';
import { secretMatches } from '../../platform/secrets';
import { hasAnyRole, type Principal } from '../auth';
import { toHttpError } from '../errors';
import { receiveImport } from '../imports';
import { IMPORT_OVERSEERS, IMPORT_READERS, RUNNING_IMPORT_STATES, streamReport } from '../routes/imports';
import { html, join, sendHtml, type SafeHtml } from './html';
import type { WebKit, WebRoute } from './router';
import { csrfField, errorPage, label, layout, notice, pager, queryString, time, type Notice, type ViewContext } from './views';

export const IMPORT_PAGE_ROUTES: readonly WebRoute[] = [
  { method: 'get', path: '/imports', access: IMPORT_READERS },
  { method: 'get', path: '/imports/new', access: IMPORT_READERS },
  { method: 'post', path: '/imports', access: IMPORT_READERS },
  { method: 'get', path: '/imports/:id', access: IMPORT_READERS },
  { method: 'get', path: '/imports/:id/report', access: IMPORT_READERS },
];

/** The upload form, whose handler checks the CSRF token itself: the router's check in front of every POST lets it through. */
export const checksOwnCsrf = (req: Request) => req.method === 'POST' && req.path === '/imports' && !!req.is('multipart/form-data');

/** Seconds between refreshes of a running import's page. */
const REFRESH_SECONDS = 5;
const ROWS_PAGE = 100;

const str = (value: unknown) => (typeof value === 'string' ? value : Array.isArray(value) && typeof value[0] === 'string' ? value[0] : undefined);

const mayImport = (user: Principal, kind: MasterDataKind) => hasAnyRole(user, kind.writers);
const importableBy = (user: Principal) => [...MASTER_DATA.values()].filter((kind) => mayImport(user, kind));
const mayRead = (user: Principal, summary: ImportSummary) => summary.requestedById === user.id || hasAnyRole(user, IMPORT_OVERSEERS);

const POLICY_TEXT: Record<OnInvalidRows, { title: string; text: string }> = {
  reject_file: {
    title: 'Reject the whole file',
    text: 'If the check refuses any row, nothing is written: fix the rows the report names and upload the file again. '
      + 'A row that passes the check but is refused when it is written (the data changed meanwhile) is left out and the other rows are written; the import then says it was not applied whole.',
  },
  skip_rows: { title: 'Skip the bad rows', text: 'The good rows are written; the refused ones are reported and left out.' },
};

const STATE_TEXT: Record<ImportState, string> = {
  receiving: 'receiving the file',
  checking: 'checking rows',
  applying: 'writing rows',
  previewed: 'dry run done: nothing was written',
  completed: 'completed',
  refused: 'refused: nothing was written',
  failed: 'failed',
};

/**
 * The state in words. Under reject_file a completed import with a refused row was not applied
 * whole (the row passed the check, then the data changed): it must not read as a plain success.
 */
function stateText(summary: ImportSummary): string {
  if (summary.state === 'completed' && summary.onInvalidRows === 'reject_file' && (summary.counts.refused ?? 0) > 0) {
    return `completed, but not whole: ${summary.counts.refused} row(s) refused when written`;
  }
  return STATE_TEXT[summary.state];
}

// ---------------------------------------------------------------------------------------------
// Views
// ---------------------------------------------------------------------------------------------

const kindNamed = (name: string | undefined) => [...MASTER_DATA.values()].find((kind) => kind.name === name);
const kindTitle = (name: string) => kindNamed(name)?.title ?? name;

const OUTCOME_WORDS = [['created', 'created'], ['updated', 'updated'], ['unchanged', 'unchanged'], ['refused', 'refused']] as const;
const VERDICT_WORDS = [['create', 'to create'], ['update', 'to update'], ['unchanged', 'unchanged'], ['refuse', 'refused']] as const;

/** Whether the rows have outcomes (the import wrote, or tried to), else only the check's verdicts. */
const applied = (summary: ImportSummary) => summary.state === 'applying' || summary.state === 'completed' || summary.rowsApplied > 0;

/** What was done ("3 created, 1 refused"), or before anything is written what the check found ("3 to create"). */
function countsText(summary: ImportSummary): string {
  const { counts } = summary;
  const words: readonly (readonly [keyof RowCounts, string])[] = applied(summary) ? OUTCOME_WORDS : VERDICT_WORDS;
  return words.filter(([key]) => counts[key]).map(([key, word]) => `${counts[key]} ${word}`).join(', ') || '–';
}

function importsListPage(ctx: ViewContext, input: { result: Page<ImportSummary>; all: boolean; notice?: Notice }): SafeHtml {
  const rows = input.result.items.map((i) => html`<tr>
<td class="when"><a href="/ui/imports/${i.id}">${time(i.createdAt, ctx.timeZone)}</a></td>
<th scope="row">${kindTitle(i.kind)}</th>
<td>${i.fileName ?? html`<span class="meta">unnamed</span>`} <span class="meta">(${i.format}${i.dryRun ? ', dry run' : ''})</span></td>
<td>${stateText(i)}</td>
<td class="num">${i.rowsTotal}</td>
<td>${countsText(i)}</td>
<td>${i.requestedBy}</td>
</tr>`);
  const table = rows.length
    ? html`<table id="imports"><caption class="sr-only">Imports, newest first</caption>
<thead><tr><th scope="col">When</th><th scope="col">Kind</th><th scope="col">File</th><th scope="col">State</th><th scope="col" class="num">Rows</th><th scope="col">Result</th><th scope="col">By</th></tr></thead>
<tbody>
${join(rows, '\n')}
</tbody></table>`
    : html`<p>No imports yet.</p>`;
  return layout(ctx, 'Imports', html`<h1>Imports</h1>
${notice(input.notice)}
<p><a href="/ui/imports/new">Import a file</a></p>
<p class="meta">${input.all ? 'Every import, newest first.' : 'Your imports, newest first.'}</p>
${table}
${pager(input.result.page, '/ui/imports', {})}`);
}

/** The form's values as sent, to fill it again after a refusal. */
interface UploadValues {
  kind?: string;
  format?: string;
  dryRun: boolean;
  onInvalidRows: OnInvalidRows;
}

function columnsTable(kinds: MasterDataKind[]): SafeHtml {
  const rows = kinds.map((k) => html`<tr><th scope="row">${k.title}</th><td><code>${k.columns.join(', ')}</code></td><td><code>${k.keyColumns.join(' + ')}</code></td></tr>`);
  return html`<details><summary>The columns each list takes</summary>
<table><caption class="sr-only">Columns by kind</caption>
<thead><tr><th scope="col">Kind</th><th scope="col">Columns, in export order</th><th scope="col">Matched on</th></tr></thead>
<tbody>${join(rows, '\n')}</tbody></table>
<p class="meta">A CSV file starts with a header row naming its columns; a JSON lines file has one object per line. An empty cell clears an optional column; a column left out of the file keeps what is stored. An export of the list is a file in this shape.</p>
</details>`;
}

function newImportPage(ctx: ViewContext, input: { kinds: MasterDataKind[]; values: UploadValues; notice?: Notice }): SafeHtml {
  const v = input.values;
  if (!input.kinds.length) {
    return layout(ctx, 'Import a file', html`<p class="meta"><a href="/ui/imports">← Imports</a></p>
<h1>Import a file</h1>
<p>Your roles let you read imports but write no list of master data, so there is nothing you can import.</p>`);
  }
  const policies = ON_INVALID_ROWS.map((policy) => html`<div class="check"><input id="policy-${policy}" name="onInvalidRows" type="radio" value="${policy}"${v.onInvalidRows === policy && html` checked`} aria-describedby="policy-${policy}-hint"> <label for="policy-${policy}">${POLICY_TEXT[policy].title}</label>
<p id="policy-${policy}-hint" class="meta">${POLICY_TEXT[policy].text}</p></div>`);
  // The CSRF field first and the file last: the upload is read in this order, and the token is checked before the file.
  const body = html`<p class="meta"><a href="/ui/imports">← Imports</a></p>
<h1>Import a file</h1>
${notice(input.notice)}
<form method="post" action="/ui/imports" enctype="multipart/form-data">
${csrfField(ctx.csrf)}
<label for="u-kind">What the file holds</label>
<select id="u-kind" name="kind" required>${input.kinds.map((k) => html`<option value="${k.name}"${k.name === v.kind && html` selected`}>${k.title}</option>`)}</select>
<label for="u-format">Format</label>
<select id="u-format" name="format" aria-describedby="u-format-hint">${([['auto', 'from the file name'], ['csv', 'CSV'], ['jsonl', 'JSON lines']] as const).map(
    ([value, text]) => html`<option value="${value}"${value === (v.format ?? 'auto') && html` selected`}>${text}</option>`)}</select>
<p id="u-format-hint" class="meta">From the file name: .csv is CSV; .jsonl, .ndjson and .json are JSON lines.</p>
<div class="check"><input id="u-dry" name="dryRun" type="checkbox" value="yes"${v.dryRun && html` checked`} aria-describedby="u-dry-hint"> <label for="u-dry">Dry run</label></div>
<p id="u-dry-hint" class="meta">Check every row and show what would be created, updated, left unchanged and refused; write nothing.</p>
<fieldset><legend>If some rows are refused</legend>${policies}</fieldset>
<label for="u-file">File</label>
<input id="u-file" name="file" type="file" accept=".csv,.jsonl,.ndjson,.json,text/csv,application/x-ndjson" required>
<div class="actions"><button type="submit">Upload</button></div>
</form>
${columnsTable(input.kinds)}`;
  return layout(ctx, 'Import a file', body);
}

/** The row report's filters: all rows, or those refused, created, updated or left unchanged. */
const ROW_FILTERS = ['refused', 'created', 'updated', 'unchanged'] as const;
type RowFilter = (typeof ROW_FILTERS)[number];

function rowFilterOf(filter: RowFilter | undefined, summary: ImportSummary): ImportRowFilter {
  if (!filter) return {};
  if (filter === 'refused') return { problemsOnly: true };
  if (applied(summary)) return { outcome: filter };
  return { verdict: ({ created: 'create', updated: 'update', unchanged: 'unchanged' } as const)[filter] };
}

function resultText(row: ImportRowReport): string {
  if (row.outcome) return row.outcome;
  if (!row.verdict) return 'not checked yet';
  return row.verdict === 'refuse' ? 'refused' : row.verdict === 'unchanged' ? 'unchanged' : `would ${row.verdict}`;
}

const cellText = (value: unknown) => (value === null || value === undefined ? '' : typeof value === 'object' ? JSON.stringify(value) : String(value));

function rowsTable(rows: ImportRowReport[]): SafeHtml {
  if (!rows.length) return html`<p>No row matches.</p>`;
  const lines = rows.flatMap((row) => {
    const changes = row.changes && Object.entries(row.changes).map(([column, c]) => `${column}: ${cellText(c.from) || '–'} → ${cellText(c.to) || '–'}`).join('; ');
    const problems = row.problems.length ? row.problems : [null];
    return problems.map((p, at) => html`<tr${at === 0 && html` id="row-${row.rowNumber}"`}>
<th scope="row" class="num">${row.rowNumber}</th>
<td>${row.naturalKey ?? ''}</td>
<td>${resultText(row)}</td>
<td>${p?.column ?? ''}</td>
<td class="details">${p ? cellText(p.value) : ''}</td>
<td>${p?.reason ?? ''}</td>
<td class="details">${changes ?? ''}</td>
</tr>`);
  });
  return html`<table id="import-rows"><caption class="sr-only">Rows of the file in file order; a refused row has a line per problem</caption>
<thead><tr><th scope="col" class="num">Row</th><th scope="col">Key</th><th scope="col">Result</th><th scope="col">Column</th><th scope="col">Value</th><th scope="col">Reason</th><th scope="col">Changes</th></tr></thead>
<tbody>
${join(lines, '\n')}
</tbody></table>`;
}

function importPage(ctx: ViewContext, input: { summary: ImportSummary; rows: Page<ImportRowReport>; filter?: RowFilter; refreshing: boolean }): SafeHtml {
  const s = input.summary;
  const running = RUNNING_IMPORT_STATES.includes(s.state);
  const selfHref = (query: Record<string, string | undefined>) => `/ui/imports/${s.id}${queryString(query)}`;
  const progress = running && html`<section aria-labelledby="progress-heading"><h2 id="progress-heading">Progress</h2>
<p><label for="progress-check">Rows checked</label><progress id="progress-check" max="${Math.max(s.rowsTotal, 1)}" value="${s.rowsChecked}">${s.rowsChecked} of ${s.rowsTotal}</progress> ${s.rowsChecked} of ${s.rowsTotal}</p>
${!s.dryRun && html`<p><label for="progress-apply">Rows written</label><progress id="progress-apply" max="${Math.max(s.rowsTotal, 1)}" value="${s.rowsApplied}">${s.rowsApplied} of ${s.rowsTotal}</progress> ${s.rowsApplied} of ${s.rowsTotal}</p>`}
<p class="meta">${input.refreshing
    ? html`This page refreshes every ${REFRESH_SECONDS} seconds while the import runs. <a href="${selfHref({ filter: input.filter, refresh: 'off' })}">Stop refreshing</a>`
    : html`<a href="${selfHref({ filter: input.filter })}">Refresh</a> (every ${REFRESH_SECONDS} seconds)`}</p>
</section>`;
  const dryRunNext = s.state === 'previewed' && html`<p class="notice ok" role="status" id="apply-hint">This was a dry run: nothing was written. To apply the file, <a href="${`/ui/imports/new${queryString({ kind: s.kind, onInvalidRows: s.onInvalidRows, dryRun: 'no' })}`}">upload it again</a> with "Dry run" unchecked: it is checked again against the data as it is then, and written as the report shows.</p>`;
  const summary = html`<dl class="summary">
<dt>State</dt><dd id="import-state">${stateText(s)}${s.message && html` <span class="meta">(${s.message})</span>`}</dd>
<dt>File</dt><dd>${s.fileName ?? 'unnamed'} <span class="meta">(${s.format})</span></dd>
<dt>Dry run</dt><dd>${s.dryRun ? 'yes: check only, write nothing' : 'no'}</dd>
<dt>If rows are refused</dt><dd>${POLICY_TEXT[s.onInvalidRows].title}</dd>
<dt>Rows</dt><dd id="import-counts">${s.rowsTotal} in the file; ${countsText(s)}</dd>
<dt>By</dt><dd>${s.requestedBy}, ${time(s.createdAt, ctx.timeZone)}</dd>
${s.finishedAt && html`<dt>Finished</dt><dd>${time(s.finishedAt, ctx.timeZone)}</dd>`}
</dl>`;
  const filterForm = html`<form class="filters" method="get" action="/ui/imports/${s.id}" aria-label="Filter the rows">
<div><label for="r-filter">Rows</label><select id="r-filter" name="filter">${([['', 'all'], ...ROW_FILTERS.map((f) => [f, f])] as [string, string][]).map(
    ([value, text]) => html`<option value="${value}"${value === (input.filter ?? '') && html` selected`}>${text}</option>`)}</select></div>
<div><button type="submit">Show</button></div>
</form>`;
  const refused = (s.counts.refused ?? 0) + (s.counts.refuse ?? 0);
  const report = html`<section aria-labelledby="rows-heading"><h2 id="rows-heading">Row report</h2>
${refused > 0 && html`<p><a href="${`/ui/imports/${s.id}/report`}" download>The refused rows as CSV</a> <span class="meta">(row number, column, value, reason; a line per problem)</span></p>`}
${filterForm}
${rowsTable(input.rows.items)}
${pager(input.rows.page, `/ui/imports/${s.id}`, { filter: input.filter, refresh: running && !input.refreshing ? 'off' : undefined })}
</section>`;
  return layout(ctx, `Import of ${kindTitle(s.kind).toLowerCase()}`, html`<p class="meta"><a href="/ui/imports">← Imports</a></p>
<h1>Import of ${kindTitle(s.kind).toLowerCase()}</h1>
${dryRunNext}
<section aria-labelledby="summary-heading"><h2 id="summary-heading">Summary</h2>${summary}</section>
${progress}
${report}`);
}

// ---------------------------------------------------------------------------------------------
// The upload
// ---------------------------------------------------------------------------------------------

export type Upload =
  | { outcome: 'file'; fields: Record<string, string>; file: Readable; fileName: string }
  | { outcome: 'no_file'; fields: Record<string, string> }
  | { outcome: 'not_from_this_session' };

/**
 * Reads the form's parts in order up to the file. The first part must be the session's CSRF token,
 * or nothing more is read; the fields before the file are collected, and the file is handed over
 * unread. Whatever follows the file is read and dropped.
 */
export function readUpload(req: Request, csrf: string): Promise<Upload> {
  return new Promise((resolve, reject) => {
    const form = busboy({ headers: req.headers, limits: { files: 1, fields: 10, fieldSize: 1024, parts: 12 } });
    const fields: Record<string, string> = {};
    let verified: boolean | undefined;
    let settled = false;
    const settle = (upload: Upload) => {
      if (settled) return;
      settled = true;
      resolve(upload);
    };
    const refuse = () => {
      settle({ outcome: 'not_from_this_session' });
      req.unpipe(form);
      req.resume();
    };
    form.on('field', (name, value) => {
      if (settled) return;
      verified ??= name === 'csrf' && secretMatches(csrf, value);
      if (!verified) return refuse();
      fields[name] ??= value;
    });
    form.on('file', (name, file, info) => {
      verified ??= false;
      if (!verified) return refuse();
      if (settled || name !== 'file') {
        file.resume();
        return;
      }
      settle({ outcome: 'file', fields, file, fileName: info.filename ?? '' });
    });
    form.on('close', () => settle(verified ? { outcome: 'no_file', fields } : { outcome: 'not_from_this_session' }));
    form.on('error', (error) => {
      if (settled) return;
      settled = true;
      reject(error);
    });
    req.pipe(form);
  });
}

const FORMAT_OF_EXTENSION: Record<string, ImportFormat> = { csv: 'csv', jsonl: 'jsonl', ndjson: 'jsonl', json: 'jsonl' };

export function formatOf(chosen: string | undefined, fileName: string): ImportFormat | undefined {
  if ((IMPORT_FORMATS as readonly string[]).includes(chosen ?? '')) return chosen as ImportFormat;
  return FORMAT_OF_EXTENSION[/\.([a-z]+)$/i.exec(fileName)?.[1]?.toLowerCase() ?? ''];
}

const uploadValuesOf = (fields: Record<string, string>): UploadValues => ({
  kind: fields.kind,
  format: fields.format,
  dryRun: fields.dryRun === 'yes',
  onInvalidRows: (ON_INVALID_ROWS as readonly string[]).includes(fields.onInvalidRows) ? (fields.onInvalidRows as OnInvalidRows) : 'reject_file',
});

// ---------------------------------------------------------------------------------------------
// Routes
// ---------------------------------------------------------------------------------------------

const listQuery = z.object({
  limit: z.coerce.number().int().min(1).max(200).catch(50),
  offset: z.coerce.number().int().min(0).catch(0),
});

export function registerImportPages(router: Router, kit: WebKit): void {
  const { db, temporal, taskQueue } = kit.deps;

  async function importerContext(res: Response): Promise<ViewContext | undefined> {
    const ctx = await kit.context(res, 'imports');
    if (hasAnyRole(ctx.user, IMPORT_READERS)) return ctx;
    sendHtml(res, 403, errorPage(ctx, 'Not for your role', `Imports are for these roles: ${IMPORT_READERS.map(label).join(', ')}.`, [['/ui/my-requests', 'Your requests']]));
    return undefined;
  }

  /** The import of the path if this person may read it; otherwise a 404 or 403 page, and undefined. */
  async function readableImport(req: Request, res: Response, ctx: ViewContext): Promise<ImportSummary | undefined> {
    const id = String(req.params.id);
    const summary = isUuid(id) ? await findImport(db, id) : null;
    if (!summary) {
      sendHtml(res, 404, errorPage(ctx, 'Not found', 'There is no such import.', [['/ui/imports', 'Imports']]));
      return undefined;
    }
    if (!mayRead(ctx.user, summary)) {
      sendHtml(res, 403, errorPage(ctx, 'Not yours to see', 'An import is read by whoever sent it, process owners and admins.', [['/ui/imports', 'Your imports']]));
      return undefined;
    }
    return summary;
  }

  router.get('/imports', async (req, res) => {
    const ctx = await importerContext(res);
    if (!ctx) return;
    const page = listQuery.parse({ limit: str(req.query.limit), offset: str(req.query.offset) });
    const all = hasAnyRole(ctx.user, IMPORT_OVERSEERS);
    const result = await listImports(db, { requestedById: all ? undefined : ctx.user.id }, page);
    sendHtml(res, 200, importsListPage(ctx, { result, all }));
  });

  router.get('/imports/new', async (req, res) => {
    const ctx = await importerContext(res);
    if (!ctx) return;
    const policy = str(req.query.onInvalidRows);
    sendHtml(res, 200, newImportPage(ctx, {
      kinds: importableBy(ctx.user),
      values: {
        kind: str(req.query.kind),
        dryRun: str(req.query.dryRun) !== 'no',
        onInvalidRows: (ON_INVALID_ROWS as readonly string[]).includes(policy ?? '') ? (policy as OnInvalidRows) : 'reject_file',
      },
    }));
  });

  router.post('/imports', async (req, res) => {
    const ctx = await importerContext(res);
    if (!ctx) return;
    const kinds = importableBy(ctx.user);
    const again = (status: number, values: UploadValues, text: string) =>
      sendHtml(res, status, newImportPage(ctx, { kinds, values, notice: { kind: 'error', text: `Nothing was imported. ${text}` } }));
    if (!req.is('multipart/form-data')) {
      again(400, uploadValuesOf({}), 'Send the form as the page makes it (multipart/form-data, with the file).');
      return;
    }
    let upload: Upload;
    try {
      upload = await readUpload(req, kit.signedInOf(res).session.csrf);
    } catch (error) {
      again(400, uploadValuesOf({}), `The upload could not be read: ${(error as Error).message}.`);
      return;
    }
    if (upload.outcome === 'not_from_this_session') {
      sendHtml(res, 403, errorPage(ctx, 'Nothing was changed',
        'This form was not sent from a page of this session (it is stale, or came from another site). Nothing was imported; open the page again and retry.'));
      return;
    }
    const values = uploadValuesOf(upload.fields);
    if (upload.outcome === 'no_file' || !upload.fileName) {
      if (upload.outcome === 'file') upload.file.resume();
      again(400, values, 'Choose a file to upload.');
      return;
    }
    const { file, fileName } = upload;
    const kind = kindNamed(values.kind);
    if (!kind) {
      file.resume();
      again(400, values, 'Choose what the file holds.');
      return;
    }
    if (!mayImport(ctx.user, kind)) {
      file.resume();
      sendHtml(res, 403, errorPage(ctx, 'Not for your role', `Importing ${kind.title.toLowerCase()} needs one of the roles: ${kind.writers.map(label).join(', ')}. Nothing was imported.`, [['/ui/imports/new', 'Import a file']]));
      return;
    }
    const format = formatOf(values.format, fileName);
    if (!format) {
      file.resume();
      again(400, values, `Choose the format: the name ${fileName} does not say whether it is CSV or JSON lines.`);
      return;
    }
    try {
      const summary = await receiveImport({ db, temporal, taskQueue }, {
        kind: kind.name, format, dryRun: values.dryRun, onInvalidRows: values.onInvalidRows, fileName,
        requestedBy: { id: ctx.user.id, email: ctx.user.email }, file,
      });
      res.redirect(303, `/ui/imports/${summary.id}`);
    } catch (error) {
      const known = toHttpError(error);
      if (!known || known.status >= 500) throw error;
      again(known.status, values, `${known.message}.`);
    }
  });

  router.get('/imports/:id', async (req, res) => {
    const ctx = await importerContext(res);
    if (!ctx) return;
    const summary = await readableImport(req, res, ctx);
    if (!summary) return;
    const chosen = str(req.query.filter);
    const filter = (ROW_FILTERS as readonly string[]).includes(chosen ?? '') ? (chosen as RowFilter) : undefined;
    const page = listQuery.parse({ limit: str(req.query.limit) ?? ROWS_PAGE, offset: str(req.query.offset) });
    const rows = await importRowsPage(db, summary.id, rowFilterOf(filter, summary), page);
    const refreshing = RUNNING_IMPORT_STATES.includes(summary.state) && str(req.query.refresh) !== 'off';
    // A header browsers follow (the CSP allows no script); the page says so and offers to stop it.
    if (refreshing) res.set('Refresh', String(REFRESH_SECONDS));
    sendHtml(res, 200, importPage(ctx, { summary, rows, filter, refreshing }));
  });

  router.get('/imports/:id/report', async (req, res) => {
    const ctx = await importerContext(res);
    if (!ctx) return;
    const summary = await readableImport(req, res, ctx);
    if (!summary) return;
    await streamReport(res, refusedRowProblems(db, summary.id), 'csv', summary.id);
  });
}
