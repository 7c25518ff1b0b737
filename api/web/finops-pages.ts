/**
 * The FinOps landing page, for the overseers: a page of the month's budgets (the same lines and
 * pages as GET /finops/budgets), drawn as a bar chart of the share used with 80% and 100% marked,
 * and the way to the month's allocations, the cloud cost imports and the optimisation findings.
 */
import type { Router } from 'express';
import { formatMoney } from '../../domain/money';
import { budgetLinePage, monthTitle, periodAt, shiftPeriod, type BudgetLine } from '../../model/budget-watch';
import type { Page } from '../../model/page';
import { OVERSEERS } from '../auth';
import { budgetsQuery } from '../routes/budgets';
import { barChart, type Bar, type BarTone } from './chart';
import { html, join, sendHtml, type SafeHtml } from './html';
import type { WebKit, WebRoute } from './router';
import { errorPage, isOverseer, layout, pager, queryString, time, type ViewContext } from './views';

export const FINOPS_PAGE_ROUTES: readonly WebRoute[] = [
  { method: 'get', path: '/finops', access: OVERSEERS },
];

/** Bars drawn at most: the highest shares; the table lists every cost centre of the page. */
const CHART_BARS = 60;

const str = (value: unknown) => (typeof value === 'string' ? value : Array.isArray(value) && typeof value[0] === 'string' ? value[0] : undefined);

type Budgeted = BudgetLine & { currency: string; budgetMinor: number; actualMinor: number; committedMinor: number; remainingMinor: number };

const isBudgeted = (line: BudgetLine): line is Budgeted => line.budgetMinor !== null;

/** Where the month stands, in words: the chart and the table say it alike. */
function standing(line: Budgeted): { words: string; tone: BarTone } {
  const share = line.shareUsedPercent;
  if (share === null) return { words: 'budget of 0: no share', tone: line.actualMinor + line.committedMinor > 0 ? 'over' : 'ok' };
  if (line.remainingMinor < 0) return { words: 'over budget', tone: 'over' };
  if (share >= 100) return { words: '100% reached', tone: 'over' };
  if (share >= 80) return { words: '80% reached', tone: 'warning' };
  return { words: 'under 80%', tone: 'ok' };
}

const shareText = (line: Budgeted) => `${line.shareUsedPercent === null ? '–' : `${line.shareUsedPercent}%`}, ${standing(line).words}`;

function shareChart(lines: Budgeted[], period: string): SafeHtml {
  const drawn = [...lines].sort((a, b) => (b.shareUsedPercent ?? 0) - (a.shareUsedPercent ?? 0)).slice(0, CHART_BARS);
  const highest = Math.max(0, ...drawn.map((l) => l.shareUsedPercent ?? 0));
  const max = Math.min(200, Math.max(120, Math.ceil(highest / 10) * 10));
  const bars = drawn.map((line): Bar => ({
    label: line.costCentre.code,
    value: line.shareUsedPercent ?? 0,
    text: shareText(line),
    tone: standing(line).tone,
  }));
  const shown = lines.length > CHART_BARS ? `the ${CHART_BARS} highest shares of ${lines.length} cost centres` : `${lines.length} cost centres`;
  const description = `Share of the budget used (actual and committed) in ${monthTitle(period)}, ${shown}, the highest first; `
    + `lines at 80% and 100%. ${bars.map((b) => `${b.label}: ${b.text}`).join('; ')}.`;
  return barChart(bars, {
    id: 'budget-share-chart',
    title: `Share of budget used, ${monthTitle(period)}`,
    description,
    max,
    markers: [{ at: 80, label: '80%' }, { at: 100, label: '100% (budget)' }],
  });
}

function alertsCell(line: BudgetLine, zone: string): SafeHtml {
  if (!line.alerts.length) return html`<span class="meta">none</span>`;
  return join(line.alerts.map((a) => html`${a.threshold}% ${time(a.sentAt, zone)}`), html`<br>`);
}

function budgetsTable(ctx: ViewContext, lines: Budgeted[], period: string): SafeHtml {
  const rows = lines.map((line) => {
    const money = (minor: number) => formatMoney(minor, line.currency);
    const owner = line.owner
      ? html`${line.owner.name}${line.owner.active ? '' : html` <span class="meta">(inactive: process owners are told)</span>`}`
      : html`<span class="meta">none: process owners are told</span>`;
    return html`<tr id="${`budget-${line.costCentre.code}`}">
<th scope="row">${line.costCentre.code} <span class="meta">${line.costCentre.name}</span></th>
<td>${owner}</td>
<td class="num">${money(line.budgetMinor)}</td>
<td class="num">${money(line.actualMinor)}</td>
<td class="num">${money(line.committedMinor)}</td>
<td class="num">${money(line.remainingMinor)}</td>
<td class="num">${shareText(line)}</td>
<td>${alertsCell(line, ctx.timeZone)}</td>
</tr>`;
  });
  return html`<table id="budgets">
<caption>Budgets of ${monthTitle(period)}: actual is the billed cost of the cost records charged in the month, as invoiced, committed the open purchase orders less what they received, both in the budget's currency</caption>
<thead><tr><th scope="col">Cost centre</th><th scope="col">Owner</th><th scope="col" class="num">Budget</th><th scope="col" class="num">Actual (billed, as invoiced)</th><th scope="col" class="num">Committed</th><th scope="col" class="num">Remaining</th><th scope="col" class="num">Share used</th><th scope="col">Alerts sent</th></tr></thead>
<tbody>
${join(rows, '\n')}
</tbody></table>`;
}

function finopsPage(ctx: ViewContext, period: string, result: Page<BudgetLine>): SafeHtml {
  const lines = result.items;
  const budgeted = lines.filter(isBudgeted);
  const unbudgeted = lines.filter((line) => !isBudgeted(line));
  const month = monthTitle(period);
  const at = (p: string) => `/ui/finops${queryString({ period: p })}`;
  const allocations = `/ui/finops/allocations${queryString({ period })}`;
  const budgets = budgeted.length
    ? html`${shareChart(budgeted, period)}
${budgetsTable(ctx, budgeted, period)}`
    : html`<p>No cost centre ${result.page.offset > 0 ? 'on this page ' : ''}has a budget for ${month}.</p>`;
  const without = unbudgeted.length > 0 && html`<section aria-labelledby="unbudgeted-heading"><h2 id="unbudgeted-heading">No budget for ${month}</h2>
<p class="meta">Their spend is compared with no budget, and nobody is alerted for them.</p>
<p id="unbudgeted">${join(unbudgeted.map((line) => html`${line.costCentre.code} <span class="meta">${line.costCentre.name}</span>`), ', ')}</p></section>`;
  return layout(ctx, `FinOps, ${month}`, html`<h1>FinOps</h1>
<p class="meta">Each cost centre's month against its budget. The owner is emailed when actual and committed reach 80% of the budget and again at 100%, once each per month.</p>
<p class="meta" id="actual-basis">Actual is the billed cost, as invoiced: a purchase counts in full in the month it is bought. The cost allocation counts the effective cost instead and spreads purchases as depreciation and amortisation: <a href="${allocations}">the accrual view of ${month}</a>.</p>
<nav aria-label="FinOps"><ul>
<li><a href="${allocations}">Cost allocations of ${month}</a></li>
<li><a href="/ui/finops/imports">Cloud cost imports</a></li>
<li><a href="/ui/finops/findings">Optimisation findings</a></li>
</ul></nav>
<form class="filters" method="get" action="/ui/finops" role="search" aria-label="Choose the month">
<label for="period">Month (YYYY-MM)</label> <input type="month" id="period" name="period" value="${period}" required>
<button type="submit">Show</button>
</form>
<p><a href="${at(shiftPeriod(period, -1))}" rel="prev">Previous month: ${monthTitle(shiftPeriod(period, -1))}</a> · <a href="${at(shiftPeriod(period, 1))}" rel="next">Next month: ${monthTitle(shiftPeriod(period, 1))}</a></p>
<section aria-labelledby="budgets-heading"><h2 id="budgets-heading">Budgets, ${month}</h2>
${budgets}</section>
${without}
${pager(result.page, '/ui/finops', { period })}`);
}

export function registerFinopsPages(router: Router, kit: WebKit): void {
  const { db } = kit.deps;

  router.get('/finops', async (req, res) => {
    const ctx = await kit.context(res, 'finops');
    if (!isOverseer(ctx.user)) {
      sendHtml(res, 403, errorPage(ctx, 'Not for your role', 'FinOps is for asset managers, process owners and admins.', [['/ui/my-requests', 'Your requests']]));
      return;
    }
    const parsed = budgetsQuery.omit({ format: true }).safeParse({
      period: str(req.query.period) || undefined, limit: str(req.query.limit) || undefined, offset: str(req.query.offset) || undefined,
    });
    if (!parsed.success) {
      const problems = parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ');
      sendHtml(res, 400, errorPage(ctx, 'No such page of budgets', `Check the month and the page: ${problems}`, [['/ui/finops', 'FinOps this month']]));
      return;
    }
    const { limit, offset } = parsed.data;
    const period = parsed.data.period ?? periodAt(new Date(ctx.now), ctx.timeZone);
    sendHtml(res, 200, finopsPage(ctx, period, await budgetLinePage(db, period, { limit, offset })));
  });
}
