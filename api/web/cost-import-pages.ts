/**
 * Cloud bills in the web UI (issue 17): the cost imports with the upload form, and an import's page
 * (state, counts, scopes, totals per provider and currency, the refused rows and their CSV). The
 * upload is multipart and streamed: its file parts (one file, or the parts of one bill) go to
 * receiveCostImport as those of POST /cost-imports do; its CSRF token is the form's first field,
 * checked before any file is read (the router's check in front of every POST leaves it to this
 * handler: costImportChecksOwnCsrf).
 */
import type { Request, Response, Router } from 'express';
import { z } from 'zod';
import { costImportRefusalsPage, listCostImports, type CostImportRefusal, type CostImportSummary } from '../../model/cost-imports';
import type { Page } from '../../model/page';
import type { CostImportState } from '../../workflows/cost-import/contract';
import { hasAnyRole, type Role } from '../auth';
import { receiveCostImport } from '../cost-import-intake';
import { toHttpError } from '../errors';
import { COST_IMPORT_READERS, COST_IMPORT_SENDERS, RUNNING_COST_IMPORT_STATES, costImportOf, readCostUpload, streamRefusalsCsv, type CostUpload } from '../routes/cost-imports';
import { html, join, sendHtml, type SafeHtml } from './html';
import type { WebKit, WebRoute } from './router';
import { csrfField, errorPage, label, layout, notice, pager, time, type Notice, type ViewContext } from './views';

const HOME = '/ui/finops/imports';
const importHref = (number: string) => `${HOME}/${encodeURIComponent(number)}`;

export const COST_IMPORT_PAGE_ROUTES: readonly WebRoute[] = [
  { method: 'get', path: '/finops/imports', access: COST_IMPORT_READERS },
  { method: 'post', path: '/finops/imports', access: COST_IMPORT_SENDERS },
  { method: 'get', path: '/finops/imports/:number', access: COST_IMPORT_READERS },
  { method: 'get', path: '/finops/imports/:number/refused', access: COST_IMPORT_READERS },
];

/** The upload form, whose handler checks the CSRF token itself: the router's check in front of every POST lets it through. */
export const costImportChecksOwnCsrf = (req: Request) => req.method === 'POST' && req.path === '/finops/imports' && !!req.is('multipart/form-data');

const REFRESH_SECONDS = 5;
const REFUSALS_PAGE = 100;

const STATE_TEXT: Record<CostImportState, string> = {
  staging: 'reading the file',
  staged: 'read; waiting to be written',
  applying: 'writing cost records',
  completed: 'completed',
  failed: 'failed: nothing was written',
};

const str = (value: unknown) => (typeof value === 'string' ? value : Array.isArray(value) && typeof value[0] === 'string' ? value[0] : undefined);

const listQuery = z.object({
  limit: z.coerce.number().int().min(1).max(200).catch(50),
  offset: z.coerce.number().int().min(0).catch(0),
});

function importsPage(ctx: ViewContext, input: { result: Page<CostImportSummary>; notice?: Notice; mayImport: boolean }): SafeHtml {
  const rows = input.result.items.map((i) => html`<tr>
<td class="when"><a href="${importHref(i.number)}">${i.number}</a></td>
<td>${time(i.createdAt, ctx.timeZone)}</td>
<td>${i.fileName} <span class="meta">(${i.format}${i.focusVersion ? `, FOCUS ${i.focusVersion}` : ''}${i.source === 'drop_folder' ? ', from the folder' : ''})</span></td>
<td>${STATE_TEXT[i.state]}</td>
<td class="num">${i.rowsTotal}</td>
<td class="num">${i.rowsRefused}</td>
<td class="num">${i.rowsImported}</td>
<td>${i.requestedBy ?? ''}</td>
</tr>`);
  const table = rows.length
    ? html`<table id="cost-imports"><caption class="sr-only">Cost imports, newest first</caption>
<thead><tr><th scope="col">Import</th><th scope="col">When</th><th scope="col">File</th><th scope="col">State</th><th scope="col" class="num">Rows</th><th scope="col" class="num">Refused</th><th scope="col" class="num">Imported</th><th scope="col">By</th></tr></thead>
<tbody>
${join(rows, '\n')}
</tbody></table>`
    : html`<p>No cloud bills imported yet.</p>`;
  // The CSRF field first and the files last: the upload is read in this order, and the token is checked before any file.
  const upload = input.mayImport
    ? html`<section aria-labelledby="upload-heading"><h2 id="upload-heading">Import a cloud bill</h2>
<form method="post" action="${HOME}" enctype="multipart/form-data">
${csrfField(ctx.csrf)}
<label for="c-file">FOCUS file, or every part of one bill</label>
<input id="c-file" name="file" type="file" multiple accept=".csv,.gz,.parquet,text/csv,application/gzip,application/vnd.apache.parquet" required aria-describedby="c-file-hint">
<p id="c-file-hint" class="meta">A FOCUS 1.0 to 1.2 export (AWS, Azure, Google Cloud, Oracle) as CSV, gzipped CSV or Parquet. A bill in parts (part-00001, part-00002, …) is sent as one import: choose all its parts together. The same bill again is not imported twice; a newer import of the same provider, billing account and billing period replaces the older one's costs.</p>
<div class="actions"><button type="submit">Import</button></div>
</form></section>`
    : html`<p class="meta">Cloud bills are imported by asset managers and admins.</p>`;
  return layout(ctx, 'Cloud cost imports', html`<p class="meta"><a href="/ui/finops">← FinOps</a></p>
<h1>Cloud cost imports</h1>
${notice(input.notice)}
${upload}
<section aria-labelledby="list-heading"><h2 id="list-heading">Imports</h2>
${table}
${pager(input.result.page, HOME, {})}
</section>`);
}

function refusalsTable(refusals: CostImportRefusal[]): SafeHtml {
  const lines = refusals.flatMap((refusal) => refusal.problems.map((problem, at) => html`<tr${at === 0 && html` id="row-${refusal.rowNumber}"`}>
<th scope="row" class="num">${refusal.rowNumber}</th>
<td>${problem.column}</td>
<td>${problem.reason}</td>
<td class="details">${at === 0 ? Object.entries(refusal.line).filter(([, value]) => value !== null).map(([column, value]) => `${column}: ${value}`).join('; ') : ''}</td>
</tr>`));
  return html`<table id="refused-rows"><caption class="sr-only">Refused rows in file order, a line per problem</caption>
<thead><tr><th scope="col" class="num">Row</th><th scope="col">Column</th><th scope="col">Reason</th><th scope="col">The row as read</th></tr></thead>
<tbody>
${join(lines, '\n')}
</tbody></table>`;
}

function importPage(ctx: ViewContext, input: { summary: CostImportSummary; refusals: Page<CostImportRefusal>; refreshing: boolean; notice?: Notice }): SafeHtml {
  const s = input.summary;
  const running = RUNNING_COST_IMPORT_STATES.includes(s.state) || s.state === 'staging';
  const scopes = s.scopes.length
    ? html`<ul>${s.scopes.map((scope) => html`<li>${scope.provider}${scope.billingAccountId && html`, account ${scope.billingAccountId}`}, billing period from ${scope.billingPeriodStart.slice(0, 10)}</li>`)}</ul>`
    : html`<p class="meta">None yet.</p>`;
  const totals = s.totals.length
    ? html`<table id="cost-totals"><caption>Totals of the cost records written, per provider and currency (every decimal place kept)</caption>
<thead><tr><th scope="col">Provider</th><th scope="col">Currency</th><th scope="col" class="num">Rows</th><th scope="col" class="num">Billed cost</th><th scope="col" class="num">Effective cost</th></tr></thead>
<tbody>${s.totals.map((t) => html`<tr><th scope="row">${t.provider}</th><td>${t.currency}</td><td class="num">${t.rows}</td><td class="num">${t.billedCost}</td><td class="num">${t.effectiveCost}</td></tr>`)}</tbody></table>`
    : html`<p class="meta">${s.state === 'completed' ? 'No row was written.' : 'Shown once the import has written its cost records.'}</p>`;
  const refresh = running && html`<p class="meta">${input.refreshing
    ? html`This page refreshes every ${REFRESH_SECONDS} seconds while the import runs. <a href="${`${importHref(s.number)}?refresh=off`}">Stop refreshing</a>`
    : html`<a href="${importHref(s.number)}">Refresh</a>`}</p>`;
  const refused = s.rowsRefused > 0
    ? html`<p><a href="${`${importHref(s.number)}/refused`}" download>The refused rows as CSV</a> <span class="meta">(row, column, reason, the row as read; a line per problem)</span></p>
${refusalsTable(input.refusals.items)}
${pager(input.refusals.page, importHref(s.number), { refresh: running && !input.refreshing ? 'off' : undefined })}`
    : html`<p>No row was refused.</p>`;
  return layout(ctx, `Cost import ${s.number}`, html`<p class="meta"><a href="${HOME}">← Cloud cost imports</a></p>
<h1>Cost import ${s.number}</h1>
${notice(input.notice)}
<section aria-labelledby="summary-heading"><h2 id="summary-heading">Summary</h2>
<dl class="summary">
<dt>State</dt><dd id="cost-import-state">${STATE_TEXT[s.state]}${s.message && html` <span class="meta">(${s.message})</span>`}</dd>
<dt>File</dt><dd>${s.fileName} <span class="meta">(${s.format}, ${s.fileBytes.toLocaleString('en')} bytes${s.source === 'drop_folder' ? ', from the watched folder' : ''})</span></dd>
<dt>FOCUS version</dt><dd>${s.focusVersion ?? '–'}</dd>
<dt>Rows</dt><dd id="cost-import-counts">${s.rowsTotal} in the file; ${s.rowsRefused} refused; ${s.rowsImported} imported</dd>
<dt>By</dt><dd>${s.requestedBy ?? ''}, ${time(s.createdAt, ctx.timeZone)}</dd>
${s.finishedAt && html`<dt>Finished</dt><dd>${time(s.finishedAt, ctx.timeZone)}</dd>`}
</dl>
${refresh}
</section>
<section aria-labelledby="scopes-heading"><h2 id="scopes-heading">What it covers</h2>${scopes}</section>
<section aria-labelledby="totals-heading"><h2 id="totals-heading">Totals</h2>${totals}</section>
<section aria-labelledby="refused-heading"><h2 id="refused-heading">Refused rows</h2>${refused}</section>`);
}

export function registerCostImportPages(router: Router, kit: WebKit): void {
  const { db } = kit.deps;

  async function importerContext(res: Response, roles: readonly Role[] = COST_IMPORT_READERS): Promise<ViewContext | undefined> {
    const ctx = await kit.context(res, 'finops');
    if (hasAnyRole(ctx.user, roles)) return ctx;
    const doing = roles === COST_IMPORT_READERS ? 'Cloud cost imports are' : 'Importing cloud bills is';
    sendHtml(res, 403, errorPage(ctx, 'Not for your role', `${doing} for these roles: ${roles.map(label).join(', ')}.`, [['/ui/my-requests', 'Your requests']]));
    return undefined;
  }

  async function importOf(req: Request, res: Response, ctx: ViewContext): Promise<CostImportSummary | undefined> {
    try {
      return await costImportOf(kit.deps, String(req.params.number));
    } catch (error) {
      if (toHttpError(error)?.status !== 404) throw error;
      sendHtml(res, 404, errorPage(ctx, 'Not found', 'There is no such cost import.', [[HOME, 'Cloud cost imports']]));
      return undefined;
    }
  }

  async function listWith(res: Response, ctx: ViewContext, status: number, page: { limit: number; offset: number }, shown?: Notice): Promise<void> {
    sendHtml(res, status, importsPage(ctx, { result: await listCostImports(db, page), notice: shown, mayImport: hasAnyRole(ctx.user, COST_IMPORT_SENDERS) }));
  }

  router.get('/finops/imports', async (req, res) => {
    const ctx = await importerContext(res);
    if (!ctx) return;
    await listWith(res, ctx, 200, listQuery.parse({ limit: str(req.query.limit), offset: str(req.query.offset) }));
  });

  router.post('/finops/imports', async (req, res) => {
    const ctx = await importerContext(res, COST_IMPORT_SENDERS);
    if (!ctx) return;
    const again = (status: number, text: string) => listWith(res, ctx, status, { limit: 50, offset: 0 }, { kind: 'error', text: `Nothing was imported. ${text}` });
    if (!req.is('multipart/form-data')) {
      await again(400, 'Send the form as the page makes it (multipart/form-data, with the file).');
      return;
    }
    let upload: CostUpload;
    try {
      upload = await readCostUpload(req, kit.signedInOf(res).session.csrf);
    } catch (error) {
      await again(400, `The upload could not be read: ${(error as Error).message}.`);
      return;
    }
    if (upload.outcome === 'not_from_this_session') {
      sendHtml(res, 403, errorPage(ctx, 'Nothing was changed',
        'This form was not sent from a page of this session (it is stale, or came from another site). Nothing was imported; open the page again and retry.'));
      return;
    }
    if (upload.outcome === 'no_file') {
      await again(400, 'Choose a file to upload.');
      return;
    }
    try {
      const received = await receiveCostImport(kit.deps, { parts: upload.parts, source: 'api', requestedBy: { id: ctx.user.id, email: ctx.user.email } });
      res.redirect(303, received.repeated ? `${importHref(received.number)}?received=again` : importHref(received.number));
    } catch (error) {
      const known = toHttpError(error);
      if (!known || known.status >= 500) throw error;
      const failed = (known.details as { import?: string } | undefined)?.import;
      await again(known.status, `${known.message}.${failed ? ` It is recorded as ${failed}, failed.` : ''}`);
    }
  });

  router.get('/finops/imports/:number', async (req, res) => {
    const ctx = await importerContext(res);
    if (!ctx) return;
    const summary = await importOf(req, res, ctx);
    if (!summary) return;
    const page = listQuery.parse({ limit: str(req.query.limit) ?? REFUSALS_PAGE, offset: str(req.query.offset) });
    const refusals = await costImportRefusalsPage(db, summary.id, page);
    const refreshing = (RUNNING_COST_IMPORT_STATES.includes(summary.state) || summary.state === 'staging') && str(req.query.refresh) !== 'off';
    // A header browsers follow (the CSP allows no script); the page says so and offers to stop it.
    if (refreshing) res.set('Refresh', String(REFRESH_SECONDS));
    const shown: Notice | undefined = str(req.query.received) === 'again'
      ? { kind: 'ok', text: `This bill was received before, as ${summary.number}: nothing new was imported.` }
      : undefined;
    sendHtml(res, 200, importPage(ctx, { summary, refusals, refreshing, notice: shown }));
  });

  router.get('/finops/imports/:number/refused', async (req, res) => {
    const ctx = await importerContext(res);
    if (!ctx) return;
    const summary = await importOf(req, res, ctx);
    if (!summary) return;
    await streamRefusalsCsv(res, kit.deps, summary);
  });
}
