/**
 * A month's cost allocation for the overseers: its latest run (and why it failed, when it did), per
 * cost centre (direct and shared) and per business service, with a bar chart per currency, what no
 * cost centre holds, and the totals that reconcile with the sources; process owners run the month
 * again. The same reads and the same run as GET /finops/allocations/:period and
 * POST /finops/allocations/:period/run.
 */
import type { Router } from 'express';
import { periodSpan, previousPeriod, type PeriodSpan } from '../../domain/months';
import { monthAllocation, type MonthAllocation } from '../../model/cost-allocation';
import type { AllocationTotal } from '../../workflows/cost-allocation/contract';
import { hasAnyRole, OVERSEERS } from '../auth';
import { toHttpError } from '../errors';
import { ALLOCATION_RUNNERS, runAllocation } from '../routes/cost-allocation';
import { barChartsByCurrency } from './chart';
import { html, join, sendHtml, type SafeHtml } from './html';
import type { WebKit, WebRoute } from './router';
import { csrfField, errorPage, isOverseer, label, layout, notice, queryString, time, type Notice, type ViewContext } from './views';

export const ALLOCATION_PAGE_ROUTES: readonly WebRoute[] = [
  { method: 'get', path: '/finops/allocations', access: OVERSEERS },
  { method: 'post', path: '/finops/allocations/run', access: ALLOCATION_RUNNERS },
];

const str = (value: unknown) => (typeof value === 'string' ? value : undefined);
const pageHref = (period: string, extra: Record<string, string | undefined> = {}) => `/ui/finops/allocations${queryString({ period, ...extra })}`;

function totalsTable(id: string, caption: string, totals: readonly AllocationTotal[]): SafeHtml {
  if (!totals.length) return html`<p id="${id}">Nothing.</p>`;
  return html`<table id="${id}"><caption>${caption}</caption>
<thead><tr><th scope="col">Category</th><th scope="col">Currency</th><th scope="col" class="num">Amount</th></tr></thead>
<tbody>${join(totals.map((t) => html`<tr><th scope="row">${label(t.category)}</th><td>${t.currency}</td><td class="num">${t.amount}</td></tr>`), '\n')}</tbody></table>`;
}

function costCentreSection(month: MonthAllocation): SafeHtml {
  const rows = month.byCostCentre;
  const chart = barChartsByCurrency(rows.map((r) => ({ label: r.code, currency: r.currency, amount: r.amount })), { id: 'by-cost-centre-chart', title: `Cost per cost centre, ${month.period}` });
  const table = rows.length
    ? html`<table id="by-cost-centre"><caption>Per cost centre and currency: its own costs, what shared cost centres passed to it, and the sum</caption>
<thead><tr><th scope="col">Cost centre</th><th scope="col">Currency</th><th scope="col" class="num">Direct</th><th scope="col" class="num">Shared to it</th><th scope="col" class="num">Total</th></tr></thead>
<tbody>${join(rows.map((r) => html`<tr><th scope="row">${r.code} <span class="meta">${r.name}</span></th><td>${r.currency}</td><td class="num">${r.direct}</td><td class="num">${r.shared}</td><td class="num">${r.amount}</td></tr>`), '\n')}</tbody></table>`
    : html`<p>No cost centre was allocated anything.</p>`;
  return html`<section aria-labelledby="by-cost-centre-heading"><h2 id="by-cost-centre-heading">Per cost centre</h2>
${chart}
${table}</section>`;
}

function serviceSection(month: MonthAllocation): SafeHtml {
  const rows = month.byBusinessService;
  const chart = barChartsByCurrency(rows.map((r) => ({ label: r.name, currency: r.currency, amount: r.amount })), { id: 'by-service-chart', title: `Cost per business service, ${month.period}` });
  const table = rows.length
    ? html`<table id="by-service"><caption>Per business service and currency: depreciation of the assets it depends on, and the costs recorded against it</caption>
<thead><tr><th scope="col">Business service</th><th scope="col">Currency</th><th scope="col" class="num">Amount</th></tr></thead>
<tbody>${join(rows.map((r) => html`<tr><th scope="row"><a href="${`/ui/cis/${encodeURIComponent(r.number)}`}">${r.number}</a> ${r.name}</th><td>${r.currency}</td><td class="num">${r.amount}</td></tr>`), '\n')}</tbody></table>`
    : html`<p>No cost was allocated to a business service.</p>`;
  return html`<section aria-labelledby="by-service-heading"><h2 id="by-service-heading">Per business service</h2>
${chart}
${table}</section>`;
}

/** The latest run when it failed: the month still shows the last completed run, if any, and says so. */
function failedRun(ctx: ViewContext, month: MonthAllocation | undefined): SafeHtml {
  const latest = month?.latestRun;
  if (!latest || latest.state !== 'failed') return html``;
  const kept = month.run ? 'The month below is the last completed run\'s.' : 'No run of this month has completed.';
  return html`<p id="failed-run" class="notice error" role="status">The latest run, ${time(latest.finishedAt ?? latest.startedAt, ctx.timeZone)}, failed: ${latest.message ?? 'no reason was recorded'}. ${kept}</p>`;
}

function allocationPage(ctx: ViewContext, period: PeriodSpan, month: MonthAllocation | undefined, message?: Notice): SafeHtml {
  const runForm = hasAnyRole(ctx.user, ALLOCATION_RUNNERS) && html`<form method="post" action="/ui/finops/allocations/run">${csrfField(ctx.csrf)}
<input type="hidden" name="period" value="${period.period}">
<button type="submit">${month ? 'Run again' : 'Run'}</button> <span class="meta">replaces ${period.period}'s allocation; never doubles it</span></form>`;
  const pick = html`<form method="get" action="/ui/finops/allocations"><label for="period">Month</label>
<input id="period" name="period" type="month" value="${period.period}" pattern="\\d{4}-\\d{2}"> <button type="submit" class="secondary">Show</button></form>`;
  const run = month?.run;
  const body = month && run
    ? html`<p class="meta">Run ${time(run.finishedAt ?? run.startedAt, ctx.timeZone)}: ${run.allocations} rows. Amounts are exact, in their own currency, never converted.
Every row as CSV: <code>GET /finops/allocations/${period.period}?format=csv</code> with an API key.</p>
${costCentreSection(month)}
${serviceSection(month)}
<section aria-labelledby="unallocated-heading"><h2 id="unallocated-heading">Unallocated</h2>
<p class="meta">Seats nobody consumes, contracts with no asset under them, costs recorded without a cost centre.</p>
${totalsTable('unallocated', 'What no cost centre holds, per category and currency', month.unallocated)}</section>
<section aria-labelledby="totals-heading"><h2 id="totals-heading">Reconciliation</h2>
<p class="meta">The sources' totals and the allocated totals: a run that does not match to the last decimal place writes nothing.</p>
${totalsTable('source-totals', 'From the sources, per category and currency', month.sourceTotals)}
${totalsTable('allocated-totals', 'Allocated, per category and currency', month.allocatedTotals)}</section>`
    : html`<p id="not-allocated">${period.period} has not been allocated yet.</p>`;
  return layout(ctx, `Cost allocation ${period.period}`, html`<h1>Cost allocation ${period.period}</h1>
<p><a href="/ui/finops">Back to FinOps</a></p>
${notice(message)}
${failedRun(ctx, month)}
${pick}
${runForm}
${body}`);
}

export function registerAllocationPages(router: Router, kit: WebKit): void {
  const { db } = kit.deps;

  router.get('/finops/allocations', async (req, res) => {
    const ctx = await kit.context(res, 'finops');
    if (!isOverseer(ctx.user)) {
      sendHtml(res, 403, errorPage(ctx, 'Not for your role', 'The cost allocation is for asset managers, process owners and admins.', [['/ui/my-requests', 'Your requests']]));
      return;
    }
    const text = str(req.query.period) ?? previousPeriod(new Date());
    const period = periodSpan(text);
    if (!period) {
      sendHtml(res, 400, errorPage(ctx, 'No such month', `${text} is not a month: write it as YYYY-MM.`, [['/ui/finops/allocations', 'Last month']]));
      return;
    }
    const ran = str(req.query.ran);
    const message: Notice | undefined = ran === 'completed' ? { kind: 'ok', text: `${period.period} was allocated again.` }
      : ran === 'running' ? { kind: 'ok', text: `${period.period} is being allocated; reload the page in a while.` } : undefined;
    sendHtml(res, 200, allocationPage(ctx, period, await monthAllocation(db, period), message));
  });

  router.post('/finops/allocations/run', async (req, res) => {
    const ctx = await kit.context(res, 'finops');
    if (!hasAnyRole(ctx.user, ALLOCATION_RUNNERS)) {
      sendHtml(res, 403, errorPage(ctx, 'Not for your role', 'Process owners and admins run the allocation.', [['/ui/finops/allocations', 'Cost allocation']]));
      return;
    }
    const period = periodSpan(str((req.body as Record<string, unknown> | undefined)?.period) ?? '');
    if (!period) {
      sendHtml(res, 400, errorPage(ctx, 'No such month', 'The form names no month: open the page again.', [['/ui/finops/allocations', 'Cost allocation']]));
      return;
    }
    try {
      const answer = await runAllocation(kit.deps, period);
      res.redirect(303, pageHref(period.period, { ran: answer.state }));
    } catch (error) {
      const known = toHttpError(error);
      if (!known) throw error;
      sendHtml(res, known.status, allocationPage(ctx, period, await monthAllocation(db, period), { kind: 'error', text: known.message }));
    }
  });
}
