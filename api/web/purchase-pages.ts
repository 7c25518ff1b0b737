/**
 * Requesters buy from the catalogue and follow their purchases; receivers record deliveries
 * (issue 15). The form keeps everything in its fields (search, basket, cost centre), so it works
 * without JavaScript: Search shows more of the catalogue, Check prices the basket as the
 * workflow's budget check would (model/purchase-preview.ts) and writes nothing, Submit goes
 * through the API's own submission (api/routes/purchases.ts). Every action on a request or an
 * order calls the same command as the API, and a refusal is shown next to the field it names.
 */
import { randomUUID } from 'node:crypto';
import type { Request, Response, Router } from 'express';
import { z } from 'zod';
import { CANCELLABLE_STATES, HARDWARE_CATEGORIES, checkReceipt, lineAmount, serialKey, type PricedLine, type PurchaseAssessment } from '../../domain/procurement';
import { formatMoney } from '../../domain/money';
import { findApproval, type ApprovalRecord } from '../../model/approvals';
import { findHardwareModel, findSoftwareProduct, listHardwareModels, listSoftwareProducts, type HardwareModelEntry, type SoftwareProductEntry } from '../../model/catalogue';
import { listCostCentres } from '../../model/directory';
import { assessPurchase, type PurchaseAssessmentResult } from '../../model/purchase-preview';
import { findPurchaseOrder, findPurchaseRequest, orderLinesAndAssets, type OrderLineView, type PurchaseRequestRow, type ReceivedAssetView } from '../../model/purchases';
import { processTimeline } from '../../model/processes';
import { decideApproval, decisionBody } from '../approval-decisions';
import { OVERSEERS, hasAnyRole, maySeeRequest } from '../auth';
import { toHttpError, type HttpError } from '../errors';
import {
  ORDER_CANCELLERS,
  RECEIVERS,
  purchaseCommands,
  purchaseRequestBody,
  purchaseSubmissionOf,
  reasonBody,
  receiptBody,
  type PurchaseRequestBody,
} from '../routes/purchases';
import { html, join, sendHtml, type SafeHtml } from './html';
import { errorSummary, field, requestKeyField, requestKeyOf, select, str, text, wholeNumber, zodProblems, type FieldErrors } from './forms';
import type { WebKit, WebRoute } from './router';
import { approvalsTable, csrfField, errorPage, label, layout, notice, processHref, queryString, time, timelineTable, type Notice, type TimelineEntry, type ViewContext } from './views';

export const PURCHASE_PAGE_ROUTES: readonly WebRoute[] = [
  { method: 'get', path: '/purchases/new', access: 'signed_in' },
  { method: 'post', path: '/purchases/new', access: 'signed_in' },
  { method: 'get', path: '/purchase-requests/:id', access: 'signed_in' },
  { method: 'post', path: '/purchase-requests/:id/cancel', access: 'signed_in' },
  { method: 'post', path: '/purchase-requests/:id/licence-reuse', access: 'signed_in' },
  { method: 'post', path: '/purchase-requests/:id/decision', access: 'signed_in' },
  { method: 'post', path: '/purchase-orders/:id/receipts', access: RECEIVERS },
  { method: 'post', path: '/purchase-orders/:id/cancel', access: ORDER_CANCELLERS },
];

const requestHref = (number: string) => `/ui/purchase-requests/${encodeURIComponent(number)}`;
const assetHref = (assetTag: string) => `/ui/assets/${encodeURIComponent(assetTag)}`;
const money = (minor: number | null | undefined, currency: string) => (minor === null || minor === undefined ? '–' : formatMoney(minor, currency));

/** A line's amount as the budget check reckons it (less its spare seats), or said plainly when it is beyond the largest amount accepted. */
function lineAmountText(line: PricedLine, currency: string): string {
  try {
    return formatMoney(lineAmount(line), currency);
  } catch (error) {
    if (error instanceof RangeError) return 'beyond the largest amount accepted';
    throw error;
  }
}

/** A refusal the page shows next to its form (4xx, and 503/504 that say to try again); anything else goes to the error page. */
function refusalOf(error: unknown): HttpError {
  const known = toHttpError(error);
  if (!known || known.status === 500) throw error;
  return known;
}

const NO_REQUEST_KEY = 'This form lacks its key (it is not one of this page\u2019s forms): use the form on the page. Nothing was changed.';

/**
 * A refused command as its form says it: the message, and the key the form keeps. Unanswered in
 * time (503, 504) the command may still be made, so the form keeps its key and sending it again is
 * the same command; after any other answer the form gets a new key.
 */
function commandRefusal(error: unknown, requestKey: string): { known: HttpError; message: string; requestKey?: string } {
  const known = refusalOf(error);
  const message = known.code === 'idempotency_key_reused'
    ? 'this form was already sent with other values, so nothing new was done; send it again to do this as well'
    : known.message;
  return { known, message, requestKey: known.status >= 503 ? requestKey : undefined };
}

// ---------------------------------------------------------------------------------------------
// Buying from the catalogue
// ---------------------------------------------------------------------------------------------

const CATALOGUE_PAGE = 20;
const SOFTWARE = 'software';
const ITEM_FIELD = /^qty-(hw|sw)-([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})$/;

type CatalogueItem = { key: string; kind: 'hardware'; entry: HardwareModelEntry } | { key: string; kind: 'software'; entry: SoftwareProductEntry };

interface BasketPick {
  /** hw-<uuid> or sw-<uuid>: the quantity field is qty-<key>. */
  key: string;
  quantity: string;
}

interface BuyValues {
  q: string;
  category: string;
  costCentre: string;
  currency: string;
  justification: string;
  programme: string;
  /** The items given a quantity, in the order of the form: the basket first, then new picks. */
  picks: BasketPick[];
  /** Minted with the form and sent as its Idempotency-Key: the same form submitted twice makes one request. */
  submissionKey: string;
}

const BUY_LABELS: Record<string, string> = { costCentre: 'Cost centre', currency: 'Currency', justification: 'Justification', programme: 'Programme', basket: 'Basket' };

function buyValuesOf(body: Record<string, unknown>): BuyValues {
  const picks: BasketPick[] = [];
  for (const [name, value] of Object.entries(body)) {
    const match = ITEM_FIELD.exec(name);
    const quantity = (str(value) ?? '').trim();
    // A quantity of 0 takes the item out of the basket.
    if (match && quantity !== '' && quantity !== '0') picks.push({ key: `${match[1]}-${match[2]}`, quantity });
  }
  return {
    q: text(body, 'q').trim(), category: text(body, 'category'), costCentre: text(body, 'costCentre'), currency: text(body, 'currency') || 'EUR',
    justification: text(body, 'justification'), programme: text(body, 'programme').trim(), picks,
    submissionKey: z.uuid().safeParse(str(body.submissionKey)).success ? str(body.submissionKey)! : randomUUID(),
  };
}

/** The API's body for the picks; a quantity that is not a whole number goes to the schema as typed, to be named. */
function requestBodyOf(values: BuyValues): Record<string, unknown> {
  return {
    costCentre: values.costCentre,
    justification: values.justification,
    ...(values.programme ? { programme: values.programme } : {}),
    currency: values.currency,
    lines: values.picks.map((p) => ({ [p.key.startsWith('hw-') ? 'hardwareModelId' : 'softwareProductId']: p.key.slice(3), quantity: wholeNumber(p.quantity) })),
  };
}

/** A problem of the body (lines.<i>..., costCentre) as the field of the form it belongs to. */
function buyErrorsOf(problems: { path: string; message: string }[], picks: BasketPick[]): FieldErrors {
  const errors: FieldErrors = {};
  for (const { path, message } of problems) {
    const [first, index] = path.split('.');
    const pick = first === 'lines' && index !== undefined ? picks[Number(index)] : undefined;
    const name = pick ? `qty-${pick.key}` : first === 'lines' ? 'basket' : BUY_LABELS[first] ? first : 'form';
    const shown = first === 'lines' && !pick && /choose at least one|too small|>=1/i.test(message) ? 'Choose at least one item: give it a quantity.' : message;
    errors[name] = errors[name] ? `${errors[name]}; ${shown}` : shown;
  }
  return errors;
}

const itemName = (item: CatalogueItem) => (item.kind === 'hardware' ? `${item.entry.manufacturer} ${item.entry.name}` : `${item.entry.publisher} ${item.entry.name}`);

function priceToday(item: CatalogueItem): SafeHtml {
  const p = item.entry.priceToday;
  if ('refusal' in p) return html`<span>${p.refusal}</span>`;
  const contract = p.contractId && item.entry.contractPrices.find((c) => c.contractId === p.contractId);
  return html`<strong>${formatMoney(p.unitPriceMinor, item.entry.listPrice.currency)}</strong> <span class="meta">(${contract ? `contract ${contract.contractNumber}` : label(p.source)} price)</span>`;
}

function contractPrices(item: CatalogueItem): SafeHtml {
  const prices = item.entry.contractPrices;
  if (!prices.length) return html`<span class="meta">none</span>`;
  return join(prices.map((c) => html`${formatMoney(c.unitPriceMinor, c.currency)} <span class="meta">(${c.contractNumber}, ${c.vendor.name}, until ${c.endsOn})</span>`), html`<br>`);
}

function itemRow(item: CatalogueItem, quantity: string, errors: FieldErrors): SafeHtml {
  const name = `qty-${item.key}`;
  const id = `buy-${name}`;
  const error = errors[name];
  const what = item.kind === 'hardware' ? label(item.entry.category) : `software, ${label(item.entry.licenceMetric)}`;
  return html`<tr>
<th scope="row">${itemName(item)}</th><td>${what}</td><td>${item.entry.vendor?.name ?? '–'}</td>
<td class="num">${formatMoney(item.entry.listPrice.amountMinor, item.entry.listPrice.currency)}</td><td>${contractPrices(item)}</td><td>${priceToday(item)}</td>
<td><label class="sr-only" for="${id}">Quantity of ${itemName(item)}</label>${error && html`<p id="${id}-error" class="notice error">${error}</p>`}<input id="${id}" name="${name}" value="${quantity}" inputmode="numeric" size="4"${error && html` aria-invalid="true" aria-describedby="${id}-error"`}></td>
</tr>`;
}

function catalogueTable(id: string, caption: string, items: CatalogueItem[], quantities: Map<string, string>, errors: FieldErrors): SafeHtml {
  return html`<table id="${id}">
<caption>${caption}</caption>
<thead><tr><th scope="col">Item</th><th scope="col">Kind</th><th scope="col">Vendor</th><th scope="col" class="num">List price</th><th scope="col">Contract prices in force</th><th scope="col">You pay today</th><th scope="col">Quantity</th></tr></thead>
<tbody>
${join(items.map((item) => itemRow(item, quantities.get(item.key) ?? '', errors)), '\n')}
</tbody></table>`;
}

/** The budget as the check found it: before and after, and said plainly when it cannot be compared. */
function budgetList(a: PurchaseAssessment): SafeHtml {
  const month = a.period.slice(0, 7);
  const currency = a.budgetCurrency ?? a.currency;
  if (a.budgetMinor === null) {
    return html`<dl class="summary" id="budget">
<dt>Month</dt><dd>${month}</dd>
<dt>Budget</dt><dd>none was set for this month: any spend counts as over budget</dd>
<dt>Over budget</dt><dd id="over-budget">${a.overBudget ? 'yes: finance is asked to approve' : 'no'}</dd>
</dl>`;
  }
  return html`<dl class="summary" id="budget">
<dt>Month</dt><dd>${month}</dd>
<dt>Budget</dt><dd>${money(a.budgetMinor, currency)}</dd>
<dt>Spent</dt><dd>${money(a.spentMinor, currency)}</dd>
<dt>Committed</dt><dd>${money(a.committedMinor, currency)} <span class="meta">(open orders, less what they received)</span></dd>
<dt>Left before</dt><dd id="budget-before">${money(a.remainingBeforeMinor, currency)}</dd>
<dt>Left after</dt><dd id="budget-after">${a.notComparable ? 'not compared' : money(a.remainingAfterMinor, currency)}</dd>
<dt>Over budget</dt><dd id="over-budget">${a.overBudget ? 'yes' : 'no'}</dd>
</dl>
${a.notComparable && html`<p class="notice error" id="budget-currency">${a.notComparable}.</p>`}`;
}

function checkSection(result: PurchaseAssessmentResult, items: Map<string, CatalogueItem>): SafeHtml {
  const { assessment: a } = result;
  const rows = result.lines.map((l) => {
    const item = items.get(l.lineId);
    const contract = l.contractId && item?.entry.contractPrices.find((c) => c.contractId === l.contractId);
    const source = contract ? `contract ${contract.contractNumber}` : label(l.priceSource);
    return html`<tr><td>${l.lineNumber}</td><th scope="row">${l.description}</th><td class="num">${l.quantity}</td>
<td class="num">${l.refusal ? '–' : formatMoney(l.unitPriceMinor, a.currency)}</td><td>${l.refusal ?? source}</td>
<td class="num">${l.refusal ? '–' : lineAmountText(l, a.currency)}</td></tr>`;
  });
  const offers = a.reuseOffer.map((o) => {
    const line = result.lines.find((l) => l.lineId === o.lineId);
    return html`<li>${o.offeredUnits} spare seat${o.offeredUnits === 1 ? '' : 's'} of ${line?.description ?? 'this product'} (line ${line?.lineNumber ?? '?'})</li>`;
  });
  return html`<section aria-labelledby="check-heading" id="check">
<h2 id="check-heading">Check: what this request would cost</h2>
<p class="meta">Priced and checked exactly as the workflow's budget check would price it now; nothing was saved.</p>
${result.problem && html`<p class="notice error" role="alert" id="check-problem">This request cannot be bought as it stands: ${result.problem}.</p>`}
<table id="priced-lines">
<caption>Priced lines</caption>
<thead><tr><th scope="col">Line</th><th scope="col">Item</th><th scope="col" class="num">Quantity</th><th scope="col" class="num">Unit price</th><th scope="col">Price from</th><th scope="col" class="num">Amount</th></tr></thead>
<tbody>
${join(rows, '\n')}
</tbody>
<tfoot><tr><th scope="row" colspan="5">Total</th><td class="num" id="check-total"><strong>${a.totalMinor === null ? 'beyond the largest amount accepted' : formatMoney(a.totalMinor, a.currency)}</strong></td></tr></tfoot>
</table>
<h3>Budget of the cost centre</h3>
${budgetList(a)}
<h3>Spare licences</h3>
${offers.length
    ? html`<p id="reuse-offer">Spare seats already exist; once submitted, the request offers them to you and you accept or decline on its page:</p><ul>${offers}</ul>`
    : html`<p id="reuse-offer">No spare seats of what you ask for${result.lines.some((l) => l.softwareProductId) ? '' : ' (no software lines)'}.</p>`}
</section>`;
}

interface BuyPage {
  values: BuyValues;
  costCentres: { code: string; name: string }[];
  basket: CatalogueItem[];
  results: CatalogueItem[];
  totals: { hardware: number; software: number };
  errors: FieldErrors;
  check?: PurchaseAssessmentResult;
  notice?: Notice;
}

function buyPage(ctx: ViewContext, input: BuyPage): SafeHtml {
  const { values, errors } = input;
  const quantities = new Map(values.picks.map((p) => [p.key, p.quantity]));
  const labels: Record<string, string> = { ...BUY_LABELS };
  for (const item of input.basket) labels[`qty-${item.key}`] = `Quantity of ${itemName(item)}`;
  const categories: [string, string][] = [['', 'Everything'], ...HARDWARE_CATEGORIES.map((c): [string, string] => [c, label(c)]), [SOFTWARE, 'Software']];
  const currencies = [...new Set(['EUR', values.currency, ...[...input.basket, ...input.results].map((i) => i.entry.listPrice.currency)])];
  const shown = input.results.filter((r) => !quantities.has(r.key));
  const more = (input.totals.hardware > CATALOGUE_PAGE || input.totals.software > CATALOGUE_PAGE)
    && html`<p class="meta">Showing up to ${CATALOGUE_PAGE} hardware models and ${CATALOGUE_PAGE} software products of ${input.totals.hardware} and ${input.totals.software} found: narrow the search.</p>`;
  const body = html`<p class="meta"><a href="/ui/requests/new">← New request</a></p>
<h1>Buy from the catalogue</h1>
${notice(input.notice)}
${errorSummary('buy', errors, labels)}
<form method="post" action="/ui/purchases/new" novalidate>
${csrfField(ctx.csrf)}<input type="hidden" name="submissionKey" value="${values.submissionKey}">
<fieldset><legend>Find in the catalogue</legend>
<div class="filters">
${field({ id: 'buy-q', name: 'q', label: 'Name contains', value: values.q, errors, attrs: html` size="30" maxlength="100"` })}
${select({ id: 'buy-category', name: 'category', label: 'Category', value: values.category, errors, options: categories })}
</div>
<div class="actions"><button type="submit" name="action" value="search" class="secondary">Search</button></div>
</fieldset>
<section aria-labelledby="basket-heading" id="buy-basket" tabindex="-1">
<h2 id="basket-heading">Your basket</h2>
${errors.basket && html`<p class="notice error" id="buy-basket-error">${errors.basket}</p>`}
${input.basket.length
    ? html`${catalogueTable('basket', 'Items with a quantity (set it to 0 to take one out)', input.basket, quantities, errors)}`
    : html`<p>Nothing yet: give an item below a quantity, then Check.</p>`}
</section>
<section aria-labelledby="catalogue-heading">
<h2 id="catalogue-heading">Catalogue</h2>
<p class="meta">Active items only. "You pay today" is the price the budget check chooses: a contract price of the item's vendor in force, else the list price.</p>
${more}
${shown.length ? catalogueTable('catalogue', 'Catalogue items found', shown, quantities, errors) : html`<p>No other items match.</p>`}
</section>
<fieldset><legend>The request</legend>
${select({ id: 'buy-costCentre', name: 'costCentre', label: 'Cost centre', value: values.costCentre, errors, options: [['', 'Choose the cost centre that pays'], ...input.costCentres.map((c): [string, string] => [c.code, `${c.code}: ${c.name}`])] })}
${select({ id: 'buy-currency', name: 'currency', label: 'Currency', value: values.currency, errors, options: currencies.map((c): [string, string] => [c, c]) })}
<label for="buy-justification">Justification</label>
${errors.justification && html`<p id="buy-justification-error" class="notice error">${errors.justification}</p>`}
<textarea id="buy-justification" name="justification" rows="3" maxlength="5000"${errors.justification && html` aria-invalid="true" aria-describedby="buy-justification-error"`}>${values.justification}</textarea>
${field({ id: 'buy-programme', name: 'programme', label: 'Programme (optional)', value: values.programme, errors, attrs: html` size="40" maxlength="200"` })}
</fieldset>
${input.check && checkSection(input.check, new Map([...input.basket.map((i): [string, CatalogueItem] => [i.key, i])]))}
<div class="actions">
<button type="submit" name="action" value="check" class="secondary">Check</button>
<button type="submit" name="action" value="submit">Submit</button>
</div>
</form>`;
  return layout(ctx, 'Buy from the catalogue', body);
}

// ---------------------------------------------------------------------------------------------
// A purchase request
// ---------------------------------------------------------------------------------------------

type Detail = Awaited<ReturnType<ReturnType<typeof purchaseCommands>['detail']>>;

interface OrderView { id: string; number: string; state: string; vendor: string; amountMinor: number; receivedMinor: number; currency: string; issuedAt: Date | null }
interface LineView { id: string; lineNumber: number; description: string; quantity: number; reusedUnits: number; unitPriceMinor: number; priceSource: string }
interface ReceiptView { id: string; order: string; lineId: string; quantity: number; serialNumbers: string[] | null; receivedAt: Date }

/**
 * A command form shown again after it was refused: `requestKey` is kept only when the command may
 * still be made (unanswered in time), so sending it again is the same command; else the form gets
 * a new key, and what is sent next is a new command.
 */
interface CommandFormState {
  errors: FieldErrors;
  requestKey?: string;
}

interface ReceiptFormState extends CommandFormState {
  orderId: string;
  values: Record<string, string>;
}

interface RequestForms {
  cancel?: CommandFormState & { reason: string };
  reuse?: CommandFormState;
  decision?: { approvalId: string; comment: string; errors: FieldErrors };
  receipt?: ReceiptFormState;
  cancelOrder?: CommandFormState & { orderId: string; reason: string };
}

interface RequestPage {
  detail: Detail;
  linesByOrder: Map<string, OrderLineView[]>;
  assets: ReceivedAssetView[];
  timeline: TimelineEntry[];
  forms: RequestForms;
  notice?: Notice;
}

const DONE: Record<string, string> = {
  submitted: 'Your purchase request was submitted: it is priced, checked against the budget and sent for approval.',
  cancelled: 'The request is cancelled (or will be as soon as its current step allows).',
  accepted: 'You accepted the spare licences: they are assigned to you and the order shrinks.',
  declined: 'You declined the spare licences: the request goes on as asked.',
  received: 'The delivery is recorded: its units are assets in stock.',
  'order-cancelled': 'The order is cancelled; its commitment is released.',
  approved: 'You approved this request.',
  rejected: 'You rejected this request.',
};

const formError = (errors: FieldErrors, id: string) => errors.form && html`<p class="notice error" role="alert" id="${id}">${errors.form}</p>`;

function textArea(id: string, name: string, labelText: string, value: string, errors: FieldErrors, options: { rows?: number; hint?: string; required?: boolean } = {}): SafeHtml {
  const error = errors[name];
  const described = [options.hint && `${id}-hint`, error && `${id}-error`].filter(Boolean).join(' ');
  return html`<label for="${id}">${labelText}</label>
${error && html`<p id="${id}-error" class="notice error" role="alert">${error}</p>`}
<textarea id="${id}" name="${name}" rows="${options.rows ?? 2}" maxlength="20000"${options.required && html` required`}${error && html` aria-invalid="true"`}${described && html` aria-describedby="${described}"`}>${value}</textarea>
${options.hint && html`<p id="${id}-hint" class="meta">${options.hint}</p>`}`;
}

function receiptForm(ctx: ViewContext, order: OrderView, lines: OrderLineView[], state: ReceiptFormState | undefined): SafeHtml {
  const open = lines.filter((l) => l.orderedUnits > l.receivedUnits);
  const mine = state?.orderId === order.id ? state : undefined;
  const values = mine?.values ?? {};
  const errors = mine?.errors ?? {};
  const inputs = open.map((l) => {
    const remaining = l.orderedUnits - l.receivedUnits;
    const what = `line ${l.lineNumber}: ${l.description} (${remaining} of ${l.orderedUnits} still to come)`;
    if (l.kind === 'hardware') {
      return textArea(`receipt-${order.number}-serials-${l.lineId}`, `serials-${l.lineId}`, `Serial numbers received, ${what}`, values[`serials-${l.lineId}`] ?? '', errors, {
        rows: 3, hint: 'One per unit received: one per line, or separated by commas, spaces or semicolons. Leave empty when none of this line came.',
      });
    }
    return field({
      id: `receipt-${order.number}-quantity-${l.lineId}`, name: `quantity-${l.lineId}`, label: `Units received, ${what}`, value: values[`quantity-${l.lineId}`] ?? '', errors,
      hint: l.kind === 'software' ? 'Seats; software takes no serial numbers.' : 'Units; no serial numbers.', attrs: html` inputmode="numeric" size="6"`,
    });
  });
  return html`<form method="post" action="/ui/purchase-orders/${encodeURIComponent(order.number)}/receipts" aria-labelledby="receive-${order.number}-heading">
<h4 id="receive-${order.number}-heading">Record a delivery on ${order.number}</h4>
${csrfField(ctx.csrf)}${requestKeyField(mine?.requestKey)}
${formError(errors, `receipt-${order.number}-error`)}
${join(inputs, '\n')}
<div class="actions"><button type="submit">Record delivery</button></div>
</form>`;
}

function ordersSection(ctx: ViewContext, input: RequestPage): SafeHtml {
  const { detail } = input;
  if (!detail.orders.length) return html`<p>No purchase order was issued yet.</p>`;
  const receiver = hasAnyRole(ctx.user, RECEIVERS);
  const canceller = hasAnyRole(ctx.user, ORDER_CANCELLERS);
  return join((detail.orders as OrderView[]).map((order) => {
    const lines = input.linesByOrder.get(order.id) ?? [];
    const rows = lines.map((l) => html`<tr><td>${l.lineNumber}</td><th scope="row">${l.description}</th><td>${l.kind}</td><td class="num">${l.orderedUnits}</td><td class="num">${l.receivedUnits}</td><td class="num">${l.orderedUnits - l.receivedUnits}</td></tr>`);
    const receivable = receiver && (order.state === 'issued' || order.state === 'partially_received') && lines.some((l) => l.orderedUnits > l.receivedUnits);
    const cancelState = input.forms.cancelOrder?.orderId === order.id ? input.forms.cancelOrder : undefined;
    const cancel = canceller && order.state === 'issued' && html`<form method="post" action="/ui/purchase-orders/${encodeURIComponent(order.number)}/cancel" aria-labelledby="cancel-${order.number}-heading">
<h4 id="cancel-${order.number}-heading">Cancel ${order.number}</h4>
${csrfField(ctx.csrf)}${requestKeyField(cancelState?.requestKey)}
${formError(cancelState?.errors ?? {}, `cancel-${order.number}-error`)}
${textArea(`cancel-${order.number}-reason`, 'reason', 'Reason for cancelling the order', cancelState?.reason ?? '', cancelState?.errors ?? {}, { hint: 'Only an order nothing was received on can be cancelled.' })}
<div class="actions"><button type="submit" class="reject">Cancel order</button></div>
</form>`;
    return html`<article id="order-${order.number}" aria-labelledby="order-${order.number}-heading">
<h3 id="order-${order.number}-heading">${order.number} from ${order.vendor}</h3>
<dl class="summary">
<dt>State</dt><dd id="order-${order.number}-state">${label(order.state)}</dd>
<dt>Amount</dt><dd>${money(order.amountMinor, order.currency)}</dd>
<dt>Received</dt><dd>${money(order.receivedMinor, order.currency)}</dd>
<dt>Issued</dt><dd>${time(order.issuedAt && new Date(order.issuedAt).toISOString(), ctx.timeZone)}</dd>
</dl>
<table>
<caption>Lines of ${order.number}</caption>
<thead><tr><th scope="col">Line</th><th scope="col">Item</th><th scope="col">Kind</th><th scope="col" class="num">Ordered</th><th scope="col" class="num">Received</th><th scope="col" class="num">Still to come</th></tr></thead>
<tbody>${join(rows, '\n')}</tbody>
</table>
${receivable && receiptForm(ctx, order, lines, input.forms.receipt)}
${cancel}
</article>`;
  }), '\n');
}

function receiptsSection(ctx: ViewContext, input: RequestPage): SafeHtml {
  const { detail, assets } = input;
  if (!detail.receipts.length) return html`<p>Nothing was received yet.</p>`;
  const lineOf = new Map((detail.lines as LineView[]).map((l) => [l.id, l]));
  const rows = (detail.receipts as ReceiptView[]).map((r) => {
    const line = lineOf.get(r.lineId);
    const made = assets.filter((a) => a.receiptId === r.id);
    return html`<tr><td class="when">${time(new Date(r.receivedAt).toISOString(), ctx.timeZone)}</td><td>${r.order}</td><td>${line ? `${line.lineNumber}. ${line.description}` : ''}</td><td class="num">${r.quantity}</td>
<td>${r.serialNumbers?.join(', ') ?? ''}</td><td>${join(made.map((a) => html`<a href="${assetHref(a.assetTag)}">${a.assetTag}</a>`), ', ')}</td></tr>`;
  });
  const assetRows = assets.map((a) => html`<tr><th scope="row"><a href="${assetHref(a.assetTag)}">${a.assetTag}</a></th><td>${a.serialNumber ?? ''}</td><td class="asset-state">${label(a.state)}${a.substate && ` (${label(a.substate)})`}</td></tr>`);
  return html`<table id="receipts">
<caption>Deliveries, oldest first</caption>
<thead><tr><th scope="col">Received</th><th scope="col">Order</th><th scope="col">Line</th><th scope="col" class="num">Units</th><th scope="col">Serial numbers</th><th scope="col">Assets</th></tr></thead>
<tbody>${join(rows, '\n')}</tbody>
</table>
${assets.length > 0 && html`<table id="received-assets">
<caption>Assets received</caption>
<thead><tr><th scope="col">Asset</th><th scope="col">Serial number</th><th scope="col">State</th></tr></thead>
<tbody>${join(assetRows, '\n')}</tbody>
</table>`}`;
}

function requestPage(ctx: ViewContext, input: RequestPage): SafeHtml {
  const d = input.detail;
  const currency = d.currency as string;
  const mine = d.requester?.id === ctx.user.id;
  const approvals = d.approvals as ApprovalRecord[];
  const pending = approvals.filter((a) => a.approver.id === ctx.user.id && a.state === 'requested');
  const assessment = d.assessment as PurchaseAssessment | null;
  const cancellable = (mine || hasAnyRole(ctx.user, OVERSEERS)) && (CANCELLABLE_STATES as readonly string[]).includes(d.state) && !d.status?.cancellationRequested;
  const lines = d.lines as LineView[];
  const lineRows = lines.map((l) =>
    html`<tr><td>${l.lineNumber}</td><th scope="row">${l.description}</th><td class="num">${l.quantity}</td><td class="num">${l.reusedUnits}</td>
<td class="num">${formatMoney(l.unitPriceMinor, currency)}</td><td>${label(l.priceSource)}</td><td class="num">${lineAmountText(l, currency)}</td></tr>`);
  const forms = input.forms;
  const decision = pending.length > 0 && html`<section aria-labelledby="decide-heading" id="decide">
<h2 id="decide-heading">Your decision</h2>
${join(pending.map((a) => {
    const errors = forms.decision?.approvalId === a.id ? forms.decision.errors : {};
    return html`<form method="post" action="${requestHref(d.number)}/decision">
${csrfField(ctx.csrf)}<input type="hidden" name="approvalId" value="${a.id}">
<p>Step ${a.step} "${a.stepName}" asks you to decide${a.dueAt && html`, due ${time(a.dueAt, ctx.timeZone)}`}.</p>
${formError(errors, `decide-${a.id}-error`)}
${textArea(`decide-${a.id}-comment`, 'comment', 'Comment', forms.decision?.approvalId === a.id ? forms.decision.comment : '', errors)}
<div class="actions"><button type="submit" name="decision" value="approved">Approve</button><button type="submit" name="decision" value="rejected" class="reject">Reject</button></div>
</form>`;
  }), '\n')}
</section>`;
  const reuse = mine && d.status?.reuseOfferOpen && assessment && html`<section aria-labelledby="reuse-heading" id="reuse">
<h2 id="reuse-heading">Spare licences are offered to you</h2>
<ul>${assessment.reuseOffer.map((o) => html`<li>${o.offeredUnits} spare seat${o.offeredUnits === 1 ? '' : 's'} for line ${lines.find((l) => l.id === o.lineId)?.lineNumber ?? '?'}: ${lines.find((l) => l.id === o.lineId)?.description ?? ''}</li>`)}</ul>
<p>Accept and the seats are assigned to you and the order shrinks; decline and the request goes on as asked.</p>
<form method="post" action="${requestHref(d.number)}/licence-reuse">
${csrfField(ctx.csrf)}${requestKeyField(forms.reuse?.requestKey)}
${formError(forms.reuse?.errors ?? {}, 'reuse-error')}
<div class="actions"><button type="submit" name="accept" value="yes">Accept the spare seats</button><button type="submit" name="accept" value="no" class="secondary">Decline</button></div>
</form>
</section>`;
  const cancel = cancellable && html`<section aria-labelledby="cancel-heading" id="cancel">
<h2 id="cancel-heading">Cancel this request</h2>
<form method="post" action="${requestHref(d.number)}/cancel">
${csrfField(ctx.csrf)}${requestKeyField(forms.cancel?.requestKey)}
${formError(forms.cancel?.errors ?? {}, 'cancel-error')}
${textArea('cancel-reason', 'reason', 'Reason', forms.cancel?.reason ?? '', forms.cancel?.errors ?? {}, { hint: 'Possible until a purchase order is issued.' })}
<div class="actions"><button type="submit" class="reject">Cancel request</button></div>
</form>
</section>`;
  const body = html`<p class="meta"><a href="/ui/my-requests">← My requests</a> · <a href="${processHref(d.workflowId)}">Process view</a></p>
<h1>${d.number}: ${d.justification}</h1>
${notice(input.notice)}
${d.statusUnavailable && html`<p class="notice error">${d.statusUnavailable}.</p>`}
<dl class="summary">
<dt>State</dt><dd id="purchase-state">${label(d.state)}${d.outcome && ` (${label(d.outcome)})`}${d.status?.cancellationRequested && ' – cancellation requested'}</dd>
<dt>Requester</dt><dd>${d.requester?.name ?? '–'}</dd>
<dt>Cost centre</dt><dd>${d.costCentre}</dd>
${d.programme && html`<dt>Programme</dt><dd>${d.programme}</dd>`}
<dt>Total</dt><dd id="purchase-total">${d.totalMinor === null ? 'not priced yet' : formatMoney(Number(d.totalMinor), currency)}</dd>
<dt>Submitted</dt><dd>${time(new Date(d.createdAt).toISOString(), ctx.timeZone)}</dd>
${d.closedAt && html`<dt>Ended</dt><dd>${time(new Date(d.closedAt).toISOString(), ctx.timeZone)}</dd>`}
${d.status?.waitingFor.length ? html`<dt>Waiting for</dt><dd id="waiting-for">${d.status.waitingFor.join(', ')}</dd>` : ''}
</dl>
${decision}
${reuse}
<section aria-labelledby="lines-heading"><h2 id="lines-heading">Lines</h2>
<table id="lines">
<caption class="sr-only">Lines and prices</caption>
<thead><tr><th scope="col">Line</th><th scope="col">Item</th><th scope="col" class="num">Quantity</th><th scope="col" class="num">From spare seats</th><th scope="col" class="num">Unit price</th><th scope="col">Price from</th><th scope="col" class="num">Amount</th></tr></thead>
<tbody>${join(lineRows, '\n')}</tbody>
</table></section>
<section aria-labelledby="budget-heading"><h2 id="budget-heading">Budget</h2>
${assessment ? html`<p class="meta">As the budget check found it when the request was checked.</p>\n${budgetList(assessment)}` : html`<p>The budget check has not run yet.</p>`}</section>
<section aria-labelledby="approvals-heading"><h2 id="approvals-heading">Approvals</h2>${approvalsTable(approvals, ctx.timeZone)}</section>
<section aria-labelledby="orders-heading"><h2 id="orders-heading">Purchase orders</h2>${ordersSection(ctx, input)}</section>
<section aria-labelledby="receipts-heading"><h2 id="receipts-heading">Deliveries and assets</h2>${receiptsSection(ctx, input)}</section>
${cancel}
<section aria-labelledby="timeline-heading"><h2 id="timeline-heading">Timeline</h2>
<p class="meta">Events and emails, oldest first.</p>${timelineTable(input.timeline, ctx.timeZone)}</section>`;
  return layout(ctx, d.number, body);
}

// ---------------------------------------------------------------------------------------------
// Deliveries: the form's serial lists as a receipt, and its refusals as the fields they name
// ---------------------------------------------------------------------------------------------

const RECEIPT_FIELD = /^(serials|quantity)-([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})$/;

/** Serial numbers typed or pasted: one per line, or separated by commas, spaces or semicolons. */
const serialsIn = (typed: string) => typed.split(/[\s,;]+/).filter((s) => s !== '');

interface ReceiptDraft {
  values: Record<string, string>;
  lines: { lineId: string; field: string; quantity: number | string; serialNumbers: string[] }[];
}

function receiptDraftOf(body: Record<string, unknown>): ReceiptDraft {
  const values: Record<string, string> = {};
  const lines: ReceiptDraft['lines'] = [];
  for (const [name, value] of Object.entries(body)) {
    const match = RECEIPT_FIELD.exec(name);
    const typed = str(value) ?? '';
    if (!match) continue;
    values[name] = typed;
    if (typed.trim() === '') continue;
    const [, kind, lineId] = match;
    if (kind === 'serials') {
      const serialNumbers = serialsIn(typed);
      lines.push({ lineId, field: name, quantity: serialNumbers.length, serialNumbers });
    } else {
      lines.push({ lineId, field: name, quantity: wholeNumber(typed), serialNumbers: [] });
    }
  }
  return { values, lines };
}

/** Where a receipt refusal belongs: the line it names, or the line holding the serials it names; else the whole form. */
function receiptErrorsOf(known: HttpError, draft: ReceiptDraft, orderLines: OrderLineView[]): FieldErrors {
  const details = (known.details ?? {}) as { lineId?: string; serials?: string[] };
  // The API names a line by its id; the page by its number and item, as the form does.
  const message = known.message.replace(/Line ([0-9a-f-]{36})/g, (named, id: string) => {
    const line = orderLines.find((l) => l.lineId === id);
    return line ? `Line ${line.lineNumber} (${line.description})` : named;
  });
  const fields = new Set<string>();
  if (details.lineId) {
    const line = draft.lines.find((l) => l.lineId === details.lineId);
    if (line && orderLines.some((l) => l.lineId === details.lineId)) fields.add(line.field);
  }
  for (const serial of details.serials ?? []) {
    for (const line of draft.lines) if (line.serialNumbers.some((s) => serialKey(s) === serialKey(serial))) fields.add(line.field);
  }
  if (!fields.size) return { form: message };
  return Object.fromEntries([...fields].map((f) => [f, message]));
}

// ---------------------------------------------------------------------------------------------
// Routes
// ---------------------------------------------------------------------------------------------

export function registerPurchasePages(router: Router, kit: WebKit): void {
  const { db, temporal } = kit.deps;
  const purchases = purchaseCommands(kit.deps);

  async function catalogueItem(key: string): Promise<CatalogueItem | undefined> {
    const id = key.slice(3);
    if (key.startsWith('hw-')) {
      const entry = await findHardwareModel(db, id);
      return entry && !entry.retiredAt ? { key, kind: 'hardware', entry } : undefined;
    }
    const entry = await findSoftwareProduct(db, id);
    return entry && !entry.retiredAt ? { key, kind: 'software', entry } : undefined;
  }

  async function renderBuy(res: Response, ctx: ViewContext, status: number, values: BuyValues, extra: { errors?: FieldErrors; check?: PurchaseAssessmentResult; notice?: Notice } = {}) {
    const filter = { q: values.q || undefined };
    const hardwareWanted = values.category !== SOFTWARE;
    const softwareWanted = values.category === '' || values.category === SOFTWARE;
    const page = { limit: CATALOGUE_PAGE, offset: 0 };
    const none = { items: [], page: { ...page, total: 0 } };
    const [hardware, software, costCentres, basket] = await Promise.all([
      hardwareWanted ? listHardwareModels(db, { ...filter, category: values.category || undefined }, page) : none,
      softwareWanted ? listSoftwareProducts(db, filter, page) : none,
      listCostCentres(db),
      Promise.all(values.picks.map((p) => catalogueItem(p.key))),
    ]);
    const results: CatalogueItem[] = [
      ...hardware.items.map((entry): CatalogueItem => ({ key: `hw-${entry.id}`, kind: 'hardware', entry })),
      ...software.items.map((entry): CatalogueItem => ({ key: `sw-${entry.id}`, kind: 'software', entry })),
    ];
    const errors: FieldErrors = { ...extra.errors };
    // An item retired (or never there) since the form was shown drops out of the basket, said plainly.
    const gone = values.picks.filter((_p, i) => !basket[i]);
    if (gone.length) errors.basket = `${gone.length === 1 ? 'An item' : `${gone.length} items`} in your basket left the catalogue and ${gone.length === 1 ? 'was' : 'were'} taken out.`;
    const live = basket.filter((b): b is CatalogueItem => b !== undefined);
    sendHtml(res, status, buyPage(ctx, {
      values: { ...values, picks: values.picks.filter((_p, i) => basket[i]) }, costCentres, basket: live, results,
      totals: { hardware: hardware.page.total, software: software.page.total }, errors, check: extra.check, notice: extra.notice,
    }));
  }

  router.get('/purchases/new', async (req, res) => {
    const ctx = await kit.context(res, 'new-request');
    const values = buyValuesOf({ q: str(req.query.q), category: str(req.query.category), costCentre: str(req.query.costCentre) });
    await renderBuy(res, ctx, 200, values);
  });

  router.post('/purchases/new', async (req, res) => {
    const ctx = await kit.context(res, 'new-request');
    const body = (req.body ?? {}) as Record<string, unknown>;
    const values = buyValuesOf(body);
    const action = str(body.action);
    if (action !== 'check' && action !== 'submit') {
      await renderBuy(res, ctx, 200, values);
      return;
    }
    const parsed = purchaseRequestBody.safeParse(requestBodyOf(values));
    if (!parsed.success) {
      await renderBuy(res, ctx, 400, values, { errors: buyErrorsOf(zodProblems(parsed.error), values.picks) });
      return;
    }
    const refused = async (error: unknown) => {
      const known = refusalOf(error);
      const problems = Array.isArray(known.details) ? (known.details as { path: string; message: string }[]) : [{ path: 'form', message: known.message }];
      await renderBuy(res, ctx, known.status, values, { errors: buyErrorsOf(problems, values.picks) });
    };
    if (action === 'check') {
      let check: PurchaseAssessmentResult;
      try {
        check = await previewOf(parsed.data, values.picks);
      } catch (error) {
        await refused(error);
        return;
      }
      await renderBuy(res, ctx, 200, values, { check });
      return;
    }
    try {
      const { reserved, registered } = await purchases.submit(ctx.user, req, parsed.data, values.submissionKey);
      if (registered) {
        res.redirect(303, `${requestHref(reserved.number)}${queryString({ done: 'submitted' })}`);
        return;
      }
      sendHtml(res, 202, errorPage(ctx, `${reserved.number} was submitted`,
        `Its workflow has not registered it yet (no worker answered in time); it will be at ${requestHref(reserved.number)} as soon as one does.`,
        [[requestHref(reserved.number), `Open ${reserved.number}`], ['/ui/my-requests', 'My requests']]));
    } catch (error) {
      if (toHttpError(error)?.code !== 'idempotency_key_reused') {
        await refused(error);
        return;
      }
      // Sent again after it was submitted, with other values: a new key makes the next Submit a new request.
      await renderBuy(res, ctx, 422, { ...values, submissionKey: randomUUID() }, {
        errors: { form: 'This form was already submitted with other values (see My requests), so nothing new was submitted. Submit again to make another request.' },
      });
    }
  });

  /** The check of lines not yet submitted, each line known by its basket key. */
  async function previewOf(body: PurchaseRequestBody, picks: BasketPick[]): Promise<PurchaseAssessmentResult> {
    const { submission, costCentreCode } = await purchaseSubmissionOf(db, body);
    return assessPurchase(db, {
      costCentreId: submission.costCentreId,
      costCentreCode,
      currency: submission.currency,
      lines: submission.lines.map((l, i) => ({ ...l, lineId: picks[i].key, reusedUnits: 0 })),
    }, new Date());
  }

  // --- a request ---------------------------------------------------------------------------------

  /** The request of the path, or a 404 page (and undefined). */
  async function requestOf(res: Response, ctx: ViewContext, id: string): Promise<PurchaseRequestRow | undefined> {
    const row = id.length <= 64 ? await findPurchaseRequest(db, id) : undefined;
    if (!row) sendHtml(res, 404, errorPage(ctx, 'Not found', `There is no purchase request ${id}.`, [['/ui/my-requests', 'My requests']]));
    return row;
  }

  async function renderRequest(res: Response, ctx: ViewContext, status: number, row: PurchaseRequestRow, forms: RequestForms = {}, pageNotice?: Notice) {
    const [detail, { linesByOrder, assets }, timeline] = await Promise.all([
      purchases.detail(row),
      orderLinesAndAssets(db, row.id),
      processTimeline(db, row.workflow_id, row.id),
    ]);
    const approverIds = (detail.approvals as ApprovalRecord[]).map((a) => a.approver.id);
    if (!(await maySeeRequest(db, ctx.user, { subjectId: row.id, requesterId: row.requester_id }, approverIds))) {
      sendHtml(res, 403, errorPage(ctx, 'Not yours to see', 'You can see the purchase requests you made or are asked to approve.', [['/ui/my-requests', 'My requests']]));
      return;
    }
    sendHtml(res, status, requestPage(ctx, { detail, linesByOrder, assets, timeline: timeline as TimelineEntry[], forms, notice: pageNotice }));
  }

  router.get('/purchase-requests/:id', async (req, res) => {
    const ctx = await kit.context(res, 'my-requests');
    const row = await requestOf(res, ctx, String(req.params.id));
    if (!row) return;
    const done = DONE[str(req.query.done) ?? ''];
    await renderRequest(res, ctx, 200, row, {}, done ? { kind: 'ok', text: done } : undefined);
  });

  const afterCommand = (res: Response, row: { number: string }, done: string, anchor = '') =>
    res.redirect(303, `${requestHref(row.number)}${queryString({ done })}${anchor}`);

  router.post('/purchase-requests/:id/cancel', async (req, res) => {
    const ctx = await kit.context(res, 'my-requests');
    const body = (req.body ?? {}) as Record<string, unknown>;
    const reason = text(body, 'reason');
    const requestKey = requestKeyOf(body);
    const row = await requestOf(res, ctx, String(req.params.id));
    if (!row) return;
    const parsed = reasonBody.safeParse({ reason });
    if (!parsed.success) {
      await renderRequest(res, ctx, 400, row, { cancel: { reason, requestKey, errors: { reason: 'Say why the request is cancelled.' } } });
      return;
    }
    if (!requestKey) {
      await renderRequest(res, ctx, 400, row, { cancel: { reason, errors: { form: NO_REQUEST_KEY } } });
      return;
    }
    try {
      await purchases.cancel(ctx.user, req, row.id, parsed.data.reason, requestKey);
    } catch (error) {
      const refused = commandRefusal(error, requestKey);
      await renderRequest(res, ctx, refused.known.status, row, { cancel: { reason, requestKey: refused.requestKey, errors: { form: `Nothing was changed: ${refused.message}` } } });
      return;
    }
    afterCommand(res, row, 'cancelled');
  });

  router.post('/purchase-requests/:id/licence-reuse', async (req, res) => {
    const ctx = await kit.context(res, 'my-requests');
    const body = (req.body ?? {}) as Record<string, unknown>;
    const answer = str(body.accept);
    const requestKey = requestKeyOf(body);
    const row = await requestOf(res, ctx, String(req.params.id));
    if (!row) return;
    if (answer !== 'yes' && answer !== 'no') {
      await renderRequest(res, ctx, 400, row, { reuse: { requestKey, errors: { form: 'Choose Accept or Decline; nothing was changed.' } } });
      return;
    }
    if (!requestKey) {
      await renderRequest(res, ctx, 400, row, { reuse: { errors: { form: NO_REQUEST_KEY } } }, { kind: 'error', text: NO_REQUEST_KEY });
      return;
    }
    try {
      await purchases.answerReuseOffer(ctx.user, req, row.id, answer === 'yes', requestKey);
    } catch (error) {
      const refused = commandRefusal(error, requestKey);
      const message = `Nothing was changed: ${refused.message}`;
      await renderRequest(res, ctx, refused.known.status, row, { reuse: { requestKey: refused.requestKey, errors: { form: message } } }, { kind: 'error', text: message });
      return;
    }
    afterCommand(res, row, answer === 'yes' ? 'accepted' : 'declined');
  });

  router.post('/purchase-requests/:id/decision', async (req, res) => {
    const ctx = await kit.context(res, 'my-requests');
    const body = (req.body ?? {}) as Record<string, unknown>;
    const approvalId = text(body, 'approvalId');
    const comment = text(body, 'comment');
    const row = await requestOf(res, ctx, String(req.params.id));
    if (!row) return;
    const parsed = decisionBody.safeParse({ decision: str(body.decision), comment: comment.trim() || undefined });
    const again = (status: number, message: string) =>
      renderRequest(res, ctx, status, row, { decision: { approvalId, comment, errors: { form: message } } }, { kind: 'error', text: message });
    if (!parsed.success || !z.uuid().safeParse(approvalId).success) {
      await again(400, 'Choose Approve or Reject (a comment has at most 2000 characters); nothing was changed.');
      return;
    }
    if ((await findApproval(db, approvalId))?.subject_id !== row.id) {
      await again(404, `There is no such approval on ${row.number}; nothing was changed.`);
      return;
    }
    try {
      await decideApproval(db, temporal, { approvalId, actorId: ctx.user.id, decision: parsed.data.decision, comment: parsed.data.comment, via: 'api' });
    } catch (error) {
      const known = refusalOf(error);
      await again(known.status, `Nothing was changed: ${known.message}`);
      return;
    }
    afterCommand(res, row, parsed.data.decision);
  });

  // --- orders ------------------------------------------------------------------------------------

  /** The page context for a holder of one of these roles, or a 403 page (and undefined) for anyone else. */
  async function contextFor(res: Response, roles: readonly Parameters<typeof hasAnyRole>[1][number][], what: string): Promise<ViewContext | undefined> {
    const ctx = await kit.context(res, 'my-requests');
    if (hasAnyRole(ctx.user, roles)) return ctx;
    sendHtml(res, 403, errorPage(ctx, 'Not for your role', what, [['/ui/my-requests', 'My requests']]));
    return undefined;
  }

  async function orderOf(req: Request, res: Response, ctx: ViewContext) {
    const id = String(req.params.id);
    const order = id.length <= 64 ? await findPurchaseOrder(db, id) : undefined;
    const row = order && (await findPurchaseRequest(db, order.purchase_request_id));
    if (!order || !row) {
      sendHtml(res, 404, errorPage(ctx, 'Not found', `There is no purchase order ${id}; nothing was changed.`, [['/ui/my-requests', 'My requests']]));
      return undefined;
    }
    return { order, row };
  }

  router.post('/purchase-orders/:id/receipts', async (req, res) => {
    const ctx = await contextFor(res, RECEIVERS, 'Deliveries are recorded by asset managers and admins.');
    if (!ctx) return;
    const found = await orderOf(req, res, ctx);
    if (!found) return;
    const { order, row } = found;
    const body = (req.body ?? {}) as Record<string, unknown>;
    const draft = receiptDraftOf(body);
    const requestKey = requestKeyOf(body);
    const orderLines = (await orderLinesAndAssets(db, row.id)).linesByOrder.get(order.id) ?? [];
    const again = (status: number, errors: FieldErrors, keep?: string) =>
      renderRequest(res, ctx, status, row, { receipt: { orderId: order.id, values: draft.values, errors, requestKey: keep } }, { kind: 'error', text: `Nothing was recorded on ${order.number}: see the delivery form.` });
    if (!requestKey) {
      await again(400, { form: NO_REQUEST_KEY });
      return;
    }
    if (!draft.lines.length) {
      // What the receipt check says of a receipt that lists nothing, or of an order that takes none.
      const empty = checkReceipt({ orderState: order.state, lines: [], receipt: [], knownSerials: [] });
      await again(400, { form: empty?.message ?? 'The receipt lists nothing received.' });
      return;
    }
    const parsed = receiptBody.safeParse({ lines: draft.lines.map(({ lineId, quantity, serialNumbers }) => ({ lineId, quantity, serialNumbers })) });
    if (!parsed.success) {
      const errors: FieldErrors = {};
      for (const { path, message } of zodProblems(parsed.error)) {
        const line = draft.lines[Number(path.split('.')[1])];
        const name = line?.field ?? 'form';
        errors[name] = name.startsWith('serials-') ? `Serial numbers: ${message}` : `Give a whole number of units, at least one (${message}).`;
      }
      await again(400, errors);
      return;
    }
    try {
      await purchases.recordReceipt(ctx.user, req, order.id, parsed.data, requestKey);
    } catch (error) {
      const refused = commandRefusal(error, requestKey);
      const errors = refused.known.code === 'idempotency_key_reused' ? { form: refused.message } : receiptErrorsOf(refused.known, draft, orderLines);
      await again(refused.known.status, errors, refused.requestKey);
      return;
    }
    afterCommand(res, row, 'received', `#order-${order.number}`);
  });

  router.post('/purchase-orders/:id/cancel', async (req, res) => {
    const ctx = await contextFor(res, ORDER_CANCELLERS, 'Orders are cancelled by asset managers, process owners and admins.');
    if (!ctx) return;
    const found = await orderOf(req, res, ctx);
    if (!found) return;
    const { order, row } = found;
    const body = (req.body ?? {}) as Record<string, unknown>;
    const reason = text(body, 'reason');
    const requestKey = requestKeyOf(body);
    const parsed = reasonBody.safeParse({ reason });
    if (!parsed.success) {
      await renderRequest(res, ctx, 400, row, { cancelOrder: { orderId: order.id, reason, requestKey, errors: { reason: 'Say why the order is cancelled.' } } });
      return;
    }
    if (!requestKey) {
      await renderRequest(res, ctx, 400, row, { cancelOrder: { orderId: order.id, reason, errors: { form: NO_REQUEST_KEY } } });
      return;
    }
    try {
      await purchases.cancelOrder(ctx.user, req, order.id, parsed.data.reason, requestKey);
    } catch (error) {
      const refused = commandRefusal(error, requestKey);
      await renderRequest(res, ctx, refused.known.status, row, {
        cancelOrder: { orderId: order.id, reason, requestKey: refused.requestKey, errors: { form: `Nothing was changed: ${refused.message}` } },
      });
      return;
    }
    afterCommand(res, row, 'order-cancelled', `#order-${order.number}`);
  });
}
