/**
 * Licences against reality, for the overseers: every product's position, the true-up cost of the
 * over-deployed ones per currency, and the installations and seats beyond the entitlement with the
 * record they are on and who reported them. The same report as GET /licences/unlicensed-installations.
 */
import type { Router } from 'express';
import { formatMoney } from '../../domain/money';
import { licenceReport, type LicenceReport, type UnlicensedInstallation } from '../../model/unlicensed-installations';
import type { ProductLicencePosition } from '../../model/licences';
import { OVERSEERS } from '../auth';
import { unlicensedQuery } from '../routes/licences';
import { html, join, sendHtml, type SafeHtml } from './html';
import type { WebKit, WebRoute } from './router';
import { errorPage, isOverseer, label, layout, pager, queryString, time, type ViewContext } from './views';

export const LICENCE_PAGE_ROUTES: readonly WebRoute[] = [
  { method: 'get', path: '/licences', access: OVERSEERS },
];

const str = (value: unknown) => (typeof value === 'string' ? value : Array.isArray(value) && typeof value[0] === 'string' ? value[0] : undefined);

const productTitle = (p: { publisher: string; product: string }) => `${p.publisher} ${p.product}`;

function totalsSection(report: LicenceReport): SafeHtml {
  const totals = report.trueUpTotals;
  const body = totals.length
    ? html`<ul id="true-up-totals">${totals.map((t) => html`<li><strong>${formatMoney(t.trueUpCostMinor, t.currency)}</strong> <span class="meta">(${t.products} ${t.products === 1 ? 'product' : 'products'} over-deployed)</span></li>`)}</ul>`
    : html`<p id="true-up-totals">No product is over-deployed: nothing to true up.</p>`;
  return html`<section aria-labelledby="true-up-heading"><h2 id="true-up-heading">True-up cost</h2>
<p class="meta">What buying every over-deployed product's shortfall at its unit price would cost, per currency.</p>
${body}</section>`;
}

function positionsTable(positions: ProductLicencePosition[], productId: string | undefined): SafeHtml {
  if (!positions.length) return html`<p>No software product in the catalogue.</p>`;
  const rows = positions.map((p) => {
    const over = p.position === 'over_deployed';
    const unlicensed = over && html` <a href="${`/ui/licences${queryString({ product: p.productId })}#unlicensed`}" aria-label="${`Unlicensed installations of ${productTitle(p)}`}">unlicensed</a>`;
    return html`<tr id="${`position-${p.productId}`}"${p.productId === productId && html` aria-current="true"`}>
<th scope="row">${productTitle(p)}</th>
<td>${label(p.metric)}</td>
<td class="num">${p.entitledUnits}</td>
<td class="num">${p.consumedUnits}</td>
<td class="num">${p.shortfallUnits}</td>
<td>${label(p.position)}${unlicensed}</td>
<td class="num">${formatMoney(p.unitPriceMinor, p.currency)}</td>
<td class="num">${over ? formatMoney(p.trueUpCostMinor, p.currency) : ''}</td>
</tr>`;
  });
  return html`<table id="positions">
<caption>Licence position per product: entitled today against consumed (installations and seats not reclaimed)</caption>
<thead><tr><th scope="col">Product</th><th scope="col">Metric</th><th scope="col" class="num">Entitled</th><th scope="col" class="num">Consumed</th><th scope="col" class="num">Shortfall</th><th scope="col">Position</th><th scope="col" class="num">Unit price</th><th scope="col" class="num">True-up cost</th></tr></thead>
<tbody>
${join(rows, '\n')}
</tbody></table>`;
}

function whereCell(item: UnlicensedInstallation): SafeHtml {
  if (item.person) return html`seat of ${item.person.name} <span class="meta">${item.person.email}</span>`;
  const ci = item.ci && html`<a href="${`/ui/cis/${encodeURIComponent(item.ci.number)}`}">${item.ci.number}</a> ${item.ci.name}`;
  const asset = item.asset && html`<a href="${`/ui/assets/${encodeURIComponent(item.asset.assetTag)}`}">${item.asset.assetTag}</a>`;
  if (ci && asset) return html`${ci} <span class="meta">on</span> ${asset}`;
  return ci || asset || html`<span class="meta">no record</span>`;
}

function reportedCell(item: UnlicensedInstallation, zone: string): SafeHtml {
  const installed = html`installed ${time(item.installedAt, zone)}`;
  const found = item.reportedBy ? html`found by the ${label(item.reportedBy)} feed` : html`recorded by a person or a workflow`;
  const listed = item.listedBy.length
    ? html`; listed by ${join(item.listedBy.map((l) => html`${label(l.source)} (${time(l.at, zone)})`), ', ')}`
    : item.reportedBy && html`; no feed lists it now`;
  return html`${found}${listed}<br><span class="meta">${installed}</span>`;
}

function unlicensedSection(ctx: ViewContext, report: LicenceReport, productId: string | undefined): SafeHtml {
  const { items, page } = report.unlicensed;
  const filtered = productId && html`<p>Showing one product. <a href="/ui/licences#unlicensed">Every product</a></p>`;
  const table = items.length
    ? html`<table id="unlicensed-installations">
<caption>Installations and seats beyond the entitlement, by product; the newest of a product are the unlicensed ones</caption>
<thead><tr><th scope="col">Product</th><th scope="col">Where</th><th scope="col">Reported</th><th scope="col" class="num">Unlicensed units</th><th scope="col" class="num">True-up cost</th></tr></thead>
<tbody>
${join(items.map((item) => html`<tr id="${`unlicensed-${item.consumptionId}`}">
<td>${productTitle(item)}</td>
<td>${whereCell(item)}</td>
<td>${reportedCell(item, ctx.timeZone)}</td>
<td class="num">${item.unlicensedUnits}${item.unlicensedUnits < item.units ? html` <span class="meta">of ${item.units}</span>` : ''}</td>
<td class="num">${formatMoney(item.trueUpCostMinor, item.currency)}</td>
</tr>`), '\n')}
</tbody></table>
${pager(page, '/ui/licences', { product: productId })}`
    : html`<p>No installation is beyond its entitlement.</p>`;
  return html`<section aria-labelledby="unlicensed"><h2 id="unlicensed">Unlicensed installations</h2>
${filtered}
${table}</section>`;
}

function licencesPage(ctx: ViewContext, report: LicenceReport, productId: string | undefined): SafeHtml {
  return layout(ctx, 'Licences', html`<h1>Licences</h1>
<p class="meta">Positions count every live installation, discovered by an inventory feed or recorded by a person or a workflow, once per record.</p>
${totalsSection(report)}
<section aria-labelledby="positions-heading"><h2 id="positions-heading">Positions</h2>
${positionsTable(report.positions, productId)}</section>
${unlicensedSection(ctx, report, productId)}`);
}

export function registerLicencePages(router: Router, kit: WebKit): void {
  const { db } = kit.deps;

  router.get('/licences', async (req, res) => {
    const ctx = await kit.context(res, 'licences');
    if (!isOverseer(ctx.user)) {
      sendHtml(res, 403, errorPage(ctx, 'Not for your role', 'Licence positions are for asset managers, process owners and admins.', [['/ui/my-requests', 'Your requests']]));
      return;
    }
    const parsed = unlicensedQuery.safeParse({ product: str(req.query.product), limit: str(req.query.limit), offset: str(req.query.offset) });
    if (!parsed.success) {
      sendHtml(res, 400, errorPage(ctx, 'No such list', `Check the address: ${parsed.error.issues.map((i) => `${i.path.join('.') || 'query'}: ${i.message}`).join('; ')}`, [['/ui/licences', 'Licences']]));
      return;
    }
    const { product, ...page } = parsed.data;
    sendHtml(res, 200, licencesPage(ctx, await licenceReport(db, { productId: product }, page), product));
  });
}
