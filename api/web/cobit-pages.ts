/**
 * COBIT evidence for the overseers: the objectives as cards with a headline figure each, one
 * objective's sections as tables (with bars where people would rather compare than read), and the
 * BAI09 asset register, paged. The same model as GET /cobit/evidence; "Download CSV" sends the
 * same CSV as the API.
 */
import type { Request, Response, Router } from 'express';
import { formatMoney } from '../../domain/money';
import {
  COBIT_OBJECTIVES, OBJECTIVES, REGISTER_COLUMNS, assetRegister, objectiveEvidence, objectiveHeadlines,
  type CobitObjective, type Evidence, type EvidenceColumn, type EvidenceRow, type EvidenceSection, type Headline, type RegisterEntry,
} from '../../model/cobit-evidence';
import type { Page } from '../../model/page';
import { OVERSEERS } from '../auth';
import { evidenceQuery, registerQuery, sendEvidenceCsv, sendRegisterCsv, wantsCsv } from '../routes/cobit';
import { barChart, barChartsByCurrency, barLength } from './chart';
import { html, join, sendHtml, type SafeHtml } from './html';
import type { WebKit, WebRoute } from './router';
import { errorPage, isOverseer, label, layout, pager, queryString, time, type ViewContext } from './views';

export const COBIT_PAGE_ROUTES: readonly WebRoute[] = [
  { method: 'get', path: '/cobit', access: OVERSEERS },
  { method: 'get', path: '/cobit/bai09/register', access: OVERSEERS },
  { method: 'get', path: '/cobit/:objective', access: OVERSEERS },
];

const str = (value: unknown) => (typeof value === 'string' ? value : Array.isArray(value) && typeof value[0] === 'string' ? value[0] : undefined);

/** Columns whose values are words of a vocabulary (in_use), shown as words (in use). */
const VOCABULARY = new Set(['state', 'substate', 'status', 'kind', 'category', 'ciClass', 'discoveryState', 'type', 'position', 'metric', 'reason', 'scope', 'source']);

/** Integer minor units as text; a sum past what a number holds exactly is shown as it is, in minor units. */
function minorText(text: string, currency: string): string {
  const amount = Number(text);
  return Number.isSafeInteger(amount) ? formatMoney(amount, currency) : `${currency} ${text} (minor units)`;
}

function cell(column: EvidenceColumn, row: EvidenceRow, zone: string): SafeHtml | string | number {
  const value = row[column.key];
  if (value === null || value === undefined || value === '') return '';
  const currency = String(row.currency ?? '');
  switch (column.kind) {
    case 'minor': return minorText(String(value), currency);
    case 'decimal': return `${currency} ${value}`;
    case 'percent': return `${value}%`;
    case 'instant': return time(String(value), zone);
    case 'count': return value;
    default: return VOCABULARY.has(column.key) ? label(String(value)) : value;
  }
}

const numeric = (column: EvidenceColumn) => column.kind !== 'text' && column.kind !== 'date' && column.kind !== 'instant';

/** A table with its caption; `captionHidden` when a heading right above says the same. */
function table(id: string, caption: string, columns: EvidenceColumn[], rows: EvidenceRow[], zone: string, captionHidden = false): SafeHtml {
  if (!rows.length) return html`<p id="${id}">Nothing to show.</p>`;
  return html`<table id="${id}">
<caption${captionHidden && html` class="sr-only"`}>${caption}</caption>
<thead><tr>${columns.map((c) => html`<th scope="col"${numeric(c) && html` class="num"`}>${c.title}</th>`)}</tr></thead>
<tbody>
${join(rows.map((row) => html`<tr>${columns.map((c, i) => (i === 0
    ? html`<th scope="row">${cell(c, row, zone)}</th>`
    : html`<td${numeric(c) && html` class="num"`}>${cell(c, row, zone)}</td>`))}</tr>`), '\n')}
</tbody></table>`;
}

/** One bar chart per currency of a cost section, largest first (the model's order). */
function costCharts(section: EvidenceSection, labelKey: string, codeKey: string): SafeHtml {
  const rows = section.rows.map((r) => ({ label: [r[codeKey], r[labelKey]].filter(Boolean).join(' '), currency: String(r.currency), amount: String(r.amount) }));
  return barChartsByCurrency(rows, { id: `chart-${section.key}`, title: section.title });
}

/** Bars where people would rather compare than read: cost per service and cost centre, changes per month, lifecycle states. */
function chartOf(section: EvidenceSection): SafeHtml | undefined {
  if (!section.rows.length) return undefined;
  switch (section.key) {
    case 'cost_by_service': return costCharts(section, 'service', 'serviceNumber');
    case 'cost_by_cost_centre': return costCharts(section, 'costCentre', 'costCentreCode');
    case 'changes_by_month': {
      const months = new Map<string, number>();
      for (const r of section.rows) months.set(String(r.month), (months.get(String(r.month)) ?? 0) + Number(r.changes));
      const bars = [...months].map(([month, changes]) => ({ label: month, value: changes, text: `${changes} ${changes === 1 ? 'change' : 'changes'}` }));
      return barChart(bars, { id: 'chart-changes-by-month', title: 'Changes submitted per month' });
    }
    case 'lifecycle': {
      const bars = section.rows.map((r) => ({
        label: label(r.substate ? `${r.state} / ${r.substate}` : String(r.state)),
        value: barLength(String(r.assets)),
        text: `${r.assets} ${r.assets === 1 ? 'asset' : 'assets'}`,
      }));
      return barChart(bars, { id: 'chart-lifecycle', title: 'Assets per lifecycle state' });
    }
    default: return undefined;
  }
}

function sectionHtml(section: EvidenceSection, zone: string): SafeHtml {
  const id = `section-${section.key}`;
  return html`<section aria-labelledby="${`${id}-heading`}"><h2 id="${`${id}-heading`}">${section.title}</h2>
${section.note && html`<p class="meta">${section.note}</p>`}
${chartOf(section)}
${table(section.key, section.title, section.columns, section.rows, zone, true)}</section>`;
}

function periodForm(evidence: Evidence): SafeHtml {
  return html`<form class="filters" method="get" action="/ui/cobit/apo05">
<div><label for="period">Allocation month</label><input id="period" name="period" type="month" value="${evidence.period ?? ''}" pattern="\\d{4}-\\d{2}"></div>
<div><button type="submit" class="secondary">Show</button></div>
</form>`;
}

function objectivePage(ctx: ViewContext, evidence: Evidence, period: string | undefined): SafeHtml {
  const csv = `/ui/cobit/${evidence.objective}${queryString({ period, format: 'csv' })}`;
  const register = evidence.objective === 'bai09' && html`<p><a href="/ui/cobit/bai09/register">The asset register</a></p>`;
  return layout(ctx, `${evidence.code} ${evidence.title}`, html`<p><a href="/ui/cobit">COBIT evidence</a></p>
<h1>${evidence.code} ${evidence.title}</h1>
<p>${evidence.evidences}</p>
<p class="meta">Generated ${time(evidence.generatedAt, ctx.timeZone)}. <a href="${csv}" download>Download CSV</a> (every section in one file)</p>
${evidence.objective === 'apo05' && periodForm(evidence)}
${register}
${join(evidence.sections.map((s) => sectionHtml(s, ctx.timeZone)), '\n')}`);
}

function overviewPage(ctx: ViewContext, headlines: Headline[]): SafeHtml {
  const cards = headlines.map((h) => {
    const o = OBJECTIVES[h.objective];
    return html`<article aria-labelledby="${`card-${o.objective}`}">
<h2 id="${`card-${o.objective}`}"><a href="${`/ui/cobit/${o.objective}`}">${o.code} ${o.title}</a></h2>
<p><strong class="figure">${h.figure}</strong> ${h.label}</p>
<p class="meta">${o.evidences}</p>
</article>`;
  });
  return layout(ctx, 'COBIT evidence', html`<h1>COBIT evidence</h1>
<p>The figures an auditor asks for, per objective, read from the records as they are now. Each objective downloads as CSV; the same evidence is at GET /cobit/evidence in the API.</p>
<div class="grid2">${join(cards, '\n')}</div>`);
}

function registerPage(ctx: ViewContext, register: Page<RegisterEntry>): SafeHtml {
  const rows = register.items.map((entry): EvidenceRow => ({ ...entry }));
  return layout(ctx, 'BAI09 asset register', html`<p><a href="/ui/cobit">COBIT evidence</a> · <a href="/ui/cobit/bai09">BAI09 Managed assets</a></p>
<h1>BAI09 asset register</h1>
<p class="meta">Every asset by tag, with today's book value (at retirement for a retired asset). <a href="/ui/cobit/bai09/register?format=csv" download>Download CSV</a> (the whole register)</p>
${table('register', 'Asset register', REGISTER_COLUMNS, rows, ctx.timeZone)}
${pager(register.page, '/ui/cobit/bai09/register', {})}`);
}

export function registerCobitPages(router: Router, kit: WebKit): void {
  const { db } = kit.deps;

  /** The page context, or undefined when the answer (403) was sent already. */
  async function overseerContext(res: Response): Promise<ViewContext | undefined> {
    const ctx = await kit.context(res, 'cobit');
    if (isOverseer(ctx.user)) return ctx;
    sendHtml(res, 403, errorPage(ctx, 'Not for your role', 'COBIT evidence is for asset managers, process owners and admins.', [['/ui/my-requests', 'Your requests']]));
    return undefined;
  }

  function badAddress(res: Response, ctx: ViewContext, issues: { path: PropertyKey[]; message: string }[]): void {
    sendHtml(res, 400, errorPage(ctx, 'No such evidence', `Check the address: ${issues.map((i) => `${i.path.join('.') || 'query'}: ${i.message}`).join('; ')}`, [['/ui/cobit', 'COBIT evidence']]));
  }

  router.get('/cobit', async (_req, res) => {
    const ctx = await overseerContext(res);
    if (!ctx) return;
    sendHtml(res, 200, overviewPage(ctx, await objectiveHeadlines(db)));
  });

  router.get('/cobit/bai09/register', async (req: Request, res) => {
    const ctx = await overseerContext(res);
    if (!ctx) return;
    const parsed = registerQuery.safeParse({ limit: str(req.query.limit), offset: str(req.query.offset), format: str(req.query.format) });
    if (!parsed.success) return badAddress(res, ctx, parsed.error.issues);
    if (wantsCsv(req, parsed.data.format)) return sendRegisterCsv(req, res, db);
    sendHtml(res, 200, registerPage(ctx, await assetRegister(db, parsed.data)));
  });

  router.get('/cobit/:objective', async (req: Request<{ objective: string }>, res) => {
    const ctx = await overseerContext(res);
    if (!ctx) return;
    const objective = COBIT_OBJECTIVES.find((o) => o === req.params.objective) as CobitObjective | undefined;
    if (!objective) {
      sendHtml(res, 404, errorPage(ctx, 'No such objective', `Evidence is kept for ${COBIT_OBJECTIVES.map((o) => OBJECTIVES[o].code).join(', ')}.`, [['/ui/cobit', 'COBIT evidence']]));
      return;
    }
    const parsed = evidenceQuery.safeParse({ period: str(req.query.period) || undefined, format: str(req.query.format) });
    if (!parsed.success) return badAddress(res, ctx, parsed.error.issues);
    const evidence = await objectiveEvidence(db, objective, { period: parsed.data.period });
    if (wantsCsv(req, parsed.data.format)) return sendEvidenceCsv(res, evidence);
    sendHtml(res, 200, objectivePage(ctx, evidence, parsed.data.period));
  });
}
