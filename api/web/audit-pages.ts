/**
 * The audit log in the web UI, for process owners and admins: the API's filters as a GET form,
 * the matching rows newest first, and the same filters exported as CSV or JSON lines through the
 * session (GET /audit/export needs an API key). Filters are parsed, resolved and searched exactly
 * as by the API (api/routes/audit.ts); times are shown and entered in UTC.
 */
import type { Request, Response, Router } from 'express';
import { referableSubjectTypes, searchAudit, type AuditEntry } from '../../model/audit-search';
import { hasAnyRole } from '../auth';
import { toHttpError } from '../errors';
import { AUDIT_FORMATS, AUDIT_READERS, EXPORT_MAX_DAYS, auditExportQuery, auditFiltersOf, auditSearchQuery, exportRefusal, sendAuditExport, type AuditFormat } from '../routes/audit';
import { html, join, sendHtml, type SafeHtml } from './html';
import type { WebKit, WebRoute } from './router';
import { errorPage, label, layout, notice, processHref, queryString, type Notice, type ViewContext } from './views';

export const AUDIT_PAGE_ROUTES: readonly WebRoute[] = [
  { method: 'get', path: '/audit', access: AUDIT_READERS },
  { method: 'get', path: '/audit/export', access: AUDIT_READERS },
];

/** The form's fields as sent (strings), to fill it again and to build the paging and export links. */
const FIELDS = ['subjectType', 'subject', 'actor', 'actorPart', 'action', 'from', 'to', 'workflowId', 'limit'] as const;
type FormValues = Partial<Record<(typeof FIELDS)[number], string>>;

const str = (value: unknown) => (typeof value === 'string' ? value : Array.isArray(value) && typeof value[0] === 'string' ? value[0] : undefined);

function formValuesOf(req: Request): FormValues {
  const values: FormValues = {};
  for (const key of FIELDS) {
    const value = str(req.query[key])?.trim();
    if (value) values[key] = value;
  }
  return values;
}

/** A datetime-local field's value ("2026-12-01T10:00", seconds optional) is UTC, as the form says; an instant with its offset is taken as it is. */
function instantOf(value: string | undefined): string | undefined {
  if (!value) return undefined;
  if (/^\d{4}-\d{2}-\d{2}$/.test(value)) return `${value}T00:00:00Z`;
  if (/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}$/.test(value)) return `${value}:00Z`;
  if (/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?$/.test(value)) return `${value}Z`;
  return value;
}

/** The form in the API's terms: a subject reference or id, the actor exactly or in part. */
function apiQueryOf(values: FormValues): Record<string, string | undefined> {
  const part = values.actorPart === 'true';
  return {
    subjectType: values.subjectType,
    subject: values.subject,
    actor: part ? undefined : values.actor,
    actorContains: part ? values.actor : undefined,
    action: values.action,
    from: instantOf(values.from),
    to: instantOf(values.to),
    workflowId: values.workflowId,
  };
}

const issuesText = (issues: readonly { path: PropertyKey[]; message: string }[]) => issues.map((i) => `${i.path.map(String).join('.') || 'filter'}: ${i.message}`).join('; ');

/** "2026-12-01 10:00:05 UTC": to the second, the zone named; the element carries the exact instant. */
function utc(iso: string): SafeHtml {
  return html`<time datetime="${iso}">${iso.slice(0, 10)} ${iso.slice(11, 19)} UTC</time>`;
}

const DETAILS_SHOWN = 400;

function detailsCell(details: Record<string, unknown>): SafeHtml {
  const text = JSON.stringify(details);
  if (text === '{}') return html``;
  return html`<code>${text.length > DETAILS_SHOWN ? `${text.slice(0, DETAILS_SHOWN)}…` : text}</code>`;
}

/** Workflows that have a process page. */
const hasProcessPage = (workflowId: string) => /^(change|purchase|asset):/.test(workflowId);

function entriesTable(entries: AuditEntry[]): SafeHtml {
  if (!entries.length) return html`<p>No audit row matches.</p>`;
  const rows = entries.map((e) => {
    const subjectLink = `/ui/audit${queryString({ subjectType: e.subjectType, subject: e.subjectId })}`;
    const states = (e.fromState || e.toState) && html`<br><span class="meta">${label(e.fromState ?? '–')} → ${label(e.toState ?? '–')}</span>`;
    const workflow = e.workflowId && (hasProcessPage(e.workflowId) ? html`<a href="${processHref(e.workflowId)}">${e.workflowId}</a>` : e.workflowId);
    return html`<tr id="audit-${e.id}">
<td class="when">${utc(e.occurredAt)}</td>
<td>${e.actor}</td>
<td>${label(e.subjectType)}<br><a href="${subjectLink}" class="meta" aria-label="${`Rows of ${label(e.subjectType)} ${e.subjectId}`}">${e.subjectId}</a></td>
<td>${label(e.action)}${states}</td>
<td>${workflow}</td>
<td class="details">${detailsCell(e.details)}</td>
</tr>`;
  });
  return html`<table id="audit-rows">
<caption class="sr-only">Audit rows, newest first</caption>
<thead><tr><th scope="col">Time (UTC)</th><th scope="col">Actor</th><th scope="col">Subject</th><th scope="col">Action</th><th scope="col">Workflow</th><th scope="col">Details</th></tr></thead>
<tbody>
${join(rows, '\n')}
</tbody></table>`;
}

function filterForm(values: FormValues): SafeHtml {
  const types = referableSubjectTypes();
  return html`<form class="filters" method="get" action="/ui/audit" role="search" aria-label="Filter the audit log">
<div><label for="a-type">Subject type</label><input id="a-type" name="subjectType" list="a-types" value="${values.subjectType ?? ''}" maxlength="60" size="16">
<datalist id="a-types">${types.map((t) => html`<option value="${t}"></option>`)}</datalist></div>
<div><label for="a-subject">Subject</label><input id="a-subject" name="subject" value="${values.subject ?? ''}" maxlength="254" size="22" aria-describedby="a-subject-hint"></div>
<div><label for="a-actor">Actor</label><input id="a-actor" name="actor" value="${values.actor ?? ''}" maxlength="254" size="22"></div>
<div class="check"><input id="a-part" name="actorPart" type="checkbox" value="true"${values.actorPart === 'true' && html` checked`}> <label for="a-part">Part of the actor</label></div>
<div><label for="a-action">Action</label><input id="a-action" name="action" value="${values.action ?? ''}" maxlength="60" size="16"></div>
<div><label for="a-from">From (UTC, inclusive)</label><input id="a-from" name="from" type="datetime-local" step="1" value="${values.from ?? ''}"></div>
<div><label for="a-to">To (UTC, exclusive)</label><input id="a-to" name="to" type="datetime-local" step="1" value="${values.to ?? ''}"></div>
<div><label for="a-workflow">Workflow</label><input id="a-workflow" name="workflowId" value="${values.workflowId ?? ''}" maxlength="200" size="22"></div>
${values.limit && html`<input type="hidden" name="limit" value="${values.limit}">`}
<div><button type="submit">Search</button> <a href="/ui/audit">Clear</a></div>
</form>
<p id="a-subject-hint" class="meta">Subject: its id, or a change or purchase number, an asset tag or a person's email; with its type, also a group name or a master data reference such as a cost-centre code.</p>`;
}

function pagerOf(values: FormValues, page: { limit: number; offset: number; hasMore: boolean }, shown: number): SafeHtml {
  if (!shown && !page.offset) return html``;
  const link = (offset: number, text: string, rel: string) => html`<a href="${`/ui/audit${queryString({ ...values, offset: offset || undefined })}`}" rel="${rel}">${text}</a>`;
  const newer = page.offset > 0 && link(Math.max(0, page.offset - page.limit), '← Newer', 'prev');
  const older = page.hasMore && link(page.offset + page.limit, 'Older →', 'next');
  return html`<nav class="pager" aria-label="Pages"><span>rows ${page.offset + 1}–${page.offset + shown}, newest first</span>${newer}${older}</nav>`;
}

function exportLinks(values: FormValues, refusal: string | undefined): SafeHtml {
  if (refusal) return html`<p class="meta" id="export">To export, ${refusal}.</p>`;
  const href = (format: AuditFormat) => `/ui/audit/export${queryString({ ...values, limit: undefined, format })}`;
  return html`<p id="export">Export these rows: ${join(AUDIT_FORMATS.map((format) => html`<a href="${href(format)}" download>${format === 'csv' ? 'CSV' : 'JSON lines'}</a>`), ' · ')} <span class="meta">(every match, not only this page; at most ${EXPORT_MAX_DAYS} days unless one subject or workflow)</span></p>`;
}

function auditPage(ctx: ViewContext, input: { values: FormValues; notice?: Notice; result?: { entries: AuditEntry[]; page: { limit: number; offset: number; hasMore: boolean }; exportRefusal?: string } }): SafeHtml {
  const result = input.result && html`${exportLinks(input.values, input.result.exportRefusal)}
${entriesTable(input.result.entries)}
${pagerOf(input.values, input.result.page, input.result.entries.length)}`;
  return layout(ctx, 'Audit', html`<h1>Audit log</h1>
<p class="meta">Every recorded write, newest first: who did what to which subject, and the values before and after. Times are UTC.</p>
${filterForm(input.values)}
${notice(input.notice)}
${result}`);
}

export function registerAuditPages(router: Router, kit: WebKit): void {
  const { db } = kit.deps;

  async function readerContext(res: Response): Promise<ViewContext | undefined> {
    const ctx = await kit.context(res, 'audit');
    if (hasAnyRole(ctx.user, AUDIT_READERS)) return ctx;
    sendHtml(res, 403, errorPage(ctx, 'Not for your role', 'The audit log is for process owners and admins.', [['/ui/my-requests', 'Your requests']]));
    return undefined;
  }

  /** A refusal of the filters (400: bad value, a subject that names nothing) as the page's notice; anything else is the error page's. */
  const refusalText = (error: unknown) => {
    const known = toHttpError(error);
    if (!known || known.status >= 500) throw error;
    return known.message;
  };

  router.get('/audit', async (req, res) => {
    const ctx = await readerContext(res);
    if (!ctx) return;
    const values = formValuesOf(req);
    const parsed = auditSearchQuery.safeParse({ ...apiQueryOf(values), limit: values.limit, offset: str(req.query.offset) });
    if (!parsed.success) {
      sendHtml(res, 400, auditPage(ctx, { values, notice: { kind: 'error', text: `Check the filters: ${issuesText(parsed.error.issues)}` } }));
      return;
    }
    let filters;
    try {
      filters = await auditFiltersOf(db, parsed.data);
    } catch (error) {
      sendHtml(res, 400, auditPage(ctx, { values, notice: { kind: 'error', text: refusalText(error) } }));
      return;
    }
    const { items, page } = await searchAudit(db, filters, parsed.data);
    sendHtml(res, 200, auditPage(ctx, { values, result: { entries: items, page, exportRefusal: exportRefusal(filters) } }));
  });

  router.get('/audit/export', async (req, res) => {
    const ctx = await readerContext(res);
    if (!ctx) return;
    const values = formValuesOf(req);
    const back: [string, string][] = [[`/ui/audit${queryString(values)}`, 'Back to the audit log']];
    const parsed = auditExportQuery.safeParse({ ...apiQueryOf(values), format: str(req.query.format) });
    if (!parsed.success) {
      sendHtml(res, 400, errorPage(ctx, 'Nothing to export', `Check the filters: ${issuesText(parsed.error.issues)}`, back));
      return;
    }
    let filters;
    try {
      filters = await auditFiltersOf(db, parsed.data);
    } catch (error) {
      sendHtml(res, 400, errorPage(ctx, 'Nothing to export', refusalText(error), back));
      return;
    }
    const refusal = exportRefusal(filters);
    if (refusal) {
      sendHtml(res, 400, errorPage(ctx, 'Nothing to export', `To export, ${refusal}.`, back));
      return;
    }
    await sendAuditExport(req, res, db, filters, parsed.data.format);
  });
}
