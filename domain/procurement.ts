/**
 * The procurement rules: pricing, totals, budget position, licence reuse, purchase orders, receipts and
 * warranty, as pure functions the workflow, its activities and the API share. Money is integer minor units.
 */
import type { RoutingSubject } from './approval-routing';
import type { BudgetFigures, BudgetPosition } from './budget';
import { amountBeyondBound, boundedAmount, formatMoney } from './money';

/** What an agreement with a vendor is for; the CHECK of contracts allows exactly these. */
export const CONTRACT_KINDS = ['purchase', 'lease', 'maintenance', 'software_licence', 'support', 'cloud'] as const;

/** The kinds of hardware the catalogue holds. */
export const HARDWARE_CATEGORIES = ['laptop', 'desktop', 'server', 'network', 'storage', 'monitor', 'phone'] as const;

export const PURCHASE_STATES = [
  'submitted',
  'budget_check',
  'authorize',
  'ordering',
  'partially_received',
  'received',
  'closed',
  'rejected',
  'cancelled',
] as const;

export type PurchaseState = (typeof PURCHASE_STATES)[number];

/** Where a purchase request ends: fully received and closed, rejected, or cancelled. */
export const PURCHASE_FINAL_STATES = ['closed', 'rejected', 'cancelled'] as const satisfies readonly PurchaseState[];
export type PurchaseFinalState = (typeof PURCHASE_FINAL_STATES)[number];

/** A requester can cancel until a purchase order is issued; after that only an order can be cancelled. */
export const CANCELLABLE_STATES = ['submitted', 'budget_check', 'authorize'] as const satisfies readonly PurchaseState[];

export type PriceSource = 'contract' | 'list' | 'quoted';

export interface ContractPrice {
  contractId: string;
  unitPriceMinor: number;
  currency: string;
  /** Calendar dates, YYYY-MM-DD, both days included. */
  startsOn: string;
  endsOn: string;
}

export interface PriceInput {
  /** The purchase request's currency. */
  currency: string;
  /** YYYY-MM-DD */
  onDate: string;
  /** The catalogue list price; null for an off-catalogue item. */
  list: { unitPriceMinor: number; currency: string } | null;
  contractPrices: ContractPrice[];
  /** What the requester was quoted; only an off-catalogue item has no better source. */
  quotedUnitPriceMinor?: number;
}

export type ChosenPrice = { unitPriceMinor: number; source: PriceSource; contractId: string | null } | { refusal: string };

/**
 * A negotiated price in force beats the list price, and the cheapest such contract wins (ties to the
 * lowest contract id, so repeated pricing is stable). Prices in another currency are never converted.
 * A catalogue item is priced from the catalogue even when the requester quoted a price.
 */
export function chooseUnitPrice({ currency, onDate, list, contractPrices, quotedUnitPriceMinor }: PriceInput): ChosenPrice {
  const [contract] = contractPrices
    .filter((p) => p.currency === currency && p.startsOn <= onDate && onDate <= p.endsOn)
    .sort((a, b) => a.unitPriceMinor - b.unitPriceMinor || (a.contractId < b.contractId ? -1 : a.contractId > b.contractId ? 1 : 0));
  const price = (unitPriceMinor: number, source: PriceSource, contractId: string | null, what: string): ChosenPrice => {
    const beyond = amountBeyondBound(unitPriceMinor, currency, what);
    return beyond ? { refusal: beyond } : { unitPriceMinor, source, contractId };
  };
  if (contract) return price(contract.unitPriceMinor, 'contract', contract.contractId, `the contract price of ${contract.contractId}`);
  if (list) {
    if (list.currency !== currency) return { refusal: `no price in ${currency}` };
    return price(list.unitPriceMinor, 'list', null, 'the list price');
  }
  if (quotedUnitPriceMinor === undefined) return { refusal: 'no quoted price for an item not in the catalogue' };
  return price(quotedUnitPriceMinor, 'quoted', null, 'the quoted price');
}

export interface PricedLine {
  quantity: number;
  /** Seats taken from spare entitlements: not bought, so not paid for. */
  reusedUnits: number;
  unitPriceMinor: number;
}

/** What a line costs, for lines pricedTotal has accepted: also what a receipt of some of its units is worth. */
export function lineAmount({ quantity, reusedUnits, unitPriceMinor }: PricedLine): number {
  const units = quantity - reusedUnits;
  if (units < 0) throw new RangeError(`${reusedUnits} reused units exceed the quantity of ${quantity}`);
  return boundedAmount(units * unitPriceMinor, 'line amount');
}

export type PricedTotal = { totalMinor: number } | { refusal: string };

/**
 * The request's total, or why it cannot be bought as asked: a line, or all of them together, beyond
 * MAX_AMOUNT_MINOR. Catalogue prices can make a line exceed it that the API accepted, so this is a
 * refusal the budget check reports, not an error.
 */
export function pricedTotal(lines: (PricedLine & { lineNumber: number; description: string })[], currency: string): PricedTotal {
  let totalMinor = 0;
  for (const line of lines) {
    const units = line.quantity - line.reusedUnits;
    const amount = units * line.unitPriceMinor;
    const beyond = amountBeyondBound(amount, currency, `line ${line.lineNumber} (${line.description}), ${units} x ${formatMoney(line.unitPriceMinor, currency)},`);
    if (beyond) return { refusal: beyond };
    totalMinor += amount;
  }
  const beyond = amountBeyondBound(totalMinor, currency, `the request, ${lines.length} lines together,`);
  return beyond ? { refusal: beyond } : { totalMinor };
}

/** Where a field of a submission breaks a rule: the field's path in the body and what is wrong. */
export interface SubmissionIssue {
  path: (string | number)[];
  message: string;
}

/**
 * The amounts a submission already fixes (quantity × quoted unit price of items off the catalogue,
 * and their sum) within MAX_AMOUNT_MINOR. Catalogue lines are priced later, by pricedTotal.
 */
export function submittedAmountIssues(lines: { quantity: number; quotedUnitPriceMinor?: number }[], currency: string): SubmissionIssue[] {
  const issues: SubmissionIssue[] = [];
  let quotedMinor = 0;
  for (const [i, { quantity, quotedUnitPriceMinor }] of lines.entries()) {
    if (quotedUnitPriceMinor === undefined) continue;
    const amount = quantity * quotedUnitPriceMinor;
    const beyond = amountBeyondBound(amount, currency, `${quantity} x ${formatMoney(quotedUnitPriceMinor, currency)}`);
    if (beyond) issues.push({ path: ['lines', i, 'quotedUnitPriceMinor'], message: beyond });
    else quotedMinor += amount;
  }
  const beyond = issues.length ? null : amountBeyondBound(quotedMinor, currency, 'the sum of the quoted lines');
  if (beyond) issues.push({ path: ['lines'], message: beyond });
  return issues;
}

export interface ReuseOffer {
  lineId: string;
  productId: string;
  offeredUnits: number;
}

/**
 * Spare seats of a product are offered before any are bought: to the software lines in the order given,
 * each getting no more than it still needs and no more than is left spare.
 */
export function licenceReuseOffer(
  lines: { lineId: string; productId: string | null; quantity: number }[],
  spare: { productId: string; spareUnits: number }[],
): ReuseOffer[] {
  const left = new Map<string, number>();
  for (const s of spare) left.set(s.productId, (left.get(s.productId) ?? 0) + Math.max(0, s.spareUnits));
  const offer: ReuseOffer[] = [];
  for (const { lineId, productId, quantity } of lines) {
    if (productId === null) continue;
    const offeredUnits = Math.min(quantity, left.get(productId) ?? 0);
    if (offeredUnits <= 0) continue;
    left.set(productId, (left.get(productId) ?? 0) - offeredUnits);
    offer.push({ lineId, productId, offeredUnits });
  }
  return offer;
}

export interface OrderLine extends PricedLine {
  lineId: string;
  vendorId: string | null;
}

export interface PlannedOrder {
  vendorId: string;
  amountMinor: number;
  lineIds: string[];
}

/**
 * One purchase order per vendor, vendors in the order their lines first appear. A line fully covered by
 * reused seats is not ordered, so it needs no vendor; any other line without one is a caller's bug, since
 * such requests are refused at the check.
 */
export function ordersByVendor(lines: OrderLine[]): PlannedOrder[] {
  const orders = new Map<string, PlannedOrder>();
  for (const line of lines) {
    if (line.quantity - line.reusedUnits <= 0) continue;
    if (line.vendorId === null) throw new Error(`line ${line.lineId} has no vendor: no purchase order can be placed for it`);
    const order = orders.get(line.vendorId) ?? { vendorId: line.vendorId, amountMinor: 0, lineIds: [] };
    order.amountMinor = boundedAmount(order.amountMinor + lineAmount(line), 'order amount');
    order.lineIds.push(line.lineId);
    orders.set(line.vendorId, order);
  }
  return [...orders.values()];
}

export type OrderState = 'issued' | 'partially_received' | 'received' | 'cancelled' | 'closed';
export type LineKind = 'hardware' | 'software' | 'other';

export interface ReceiptCheckInput {
  orderState: OrderState;
  /** The order's lines, with what is still to buy and what earlier receipts brought. */
  lines: { lineId: string; kind: LineKind; orderedUnits: number; receivedUnits: number }[];
  receipt: { lineId: string; quantity: number; serialNumbers: string[] }[];
  /** Serial numbers already on asset records. */
  knownSerials: string[];
}

export interface ReceiptRefusal {
  rule:
    | 'order_cancelled'
    | 'order_complete'
    | 'line_not_on_order'
    | 'over_receipt'
    | 'serials_required'
    | 'serials_not_expected'
    | 'duplicate_serial'
    | 'serial_known'
    | 'empty_receipt';
  message: string;
  details: Record<string, unknown>;
}

/** The spacing a serial number may be printed with: dropped before serials are compared. */
const SERIAL_SPACING = new Set([' ', '\t', '\n', '\r', '\f', '\v', '\u00a0']);

/**
 * The form in which serial numbers are compared: without spacing, ASCII letters in lower case, as
 * vendors print the same serial either way. The database keeps the same key (assets.serial_key,
 * migration 20261129005000) and holds it unique; only ASCII letters are folded so that Postgres
 * computes exactly this key, whatever the database's locale.
 */
export function serialKey(serial: string): string {
  let key = '';
  for (const ch of serial) {
    if (SERIAL_SPACING.has(ch)) continue;
    key += ch >= 'A' && ch <= 'Z' ? ch.toLowerCase() : ch;
  }
  return key;
}

const units = (n: number) => `${n} unit${n === 1 ? '' : 's'}`;
const serialList = (serials: string[]) => `Serial number${serials.length === 1 ? '' : 's'} ${serials.join(', ')}`;

/**
 * Whether a receipt may be recorded against an order: null when it may, else the first rule it breaks, in
 * the order checked here. A line named twice in one receipt is checked as one delivery of the summed
 * quantity. Serial numbers are compared by serialKey.
 */
export function checkReceipt({ orderState, lines, receipt, knownSerials }: ReceiptCheckInput): ReceiptRefusal | null {
  if (orderState === 'cancelled') {
    return { rule: 'order_cancelled', message: 'This purchase order was cancelled: nothing can be received on it.', details: { orderState } };
  }
  if (orderState === 'received' || orderState === 'closed') {
    return { rule: 'order_complete', message: 'Everything on this purchase order has already been received.', details: { orderState } };
  }
  if (receipt.length === 0) {
    return { rule: 'empty_receipt', message: 'The receipt lists nothing received.', details: {} };
  }
  const nothing = receipt.find((r) => !Number.isInteger(r.quantity) || r.quantity < 1);
  if (nothing) {
    return {
      rule: 'empty_receipt',
      message: `Line ${nothing.lineId} is received with ${nothing.quantity} units: each line of a receipt needs a whole number of units, at least one.`,
      details: { lineId: nothing.lineId, quantity: nothing.quantity },
    };
  }

  const delivered = new Map<string, { quantity: number; serials: string[] }>();
  for (const r of receipt) {
    const entry = delivered.get(r.lineId) ?? { quantity: 0, serials: [] };
    entry.quantity += r.quantity;
    entry.serials.push(...r.serialNumbers.map((s) => s.trim()));
    delivered.set(r.lineId, entry);
  }

  for (const lineId of delivered.keys()) {
    if (!lines.some((l) => l.lineId === lineId)) {
      return { rule: 'line_not_on_order', message: `Line ${lineId} is not on this purchase order.`, details: { lineId } };
    }
  }

  for (const [lineId, { quantity }] of delivered) {
    const { orderedUnits, receivedUnits } = lines.find((l) => l.lineId === lineId)!;
    const remaining = orderedUnits - receivedUnits;
    if (quantity > remaining) {
      return {
        rule: 'over_receipt',
        message: `Line ${lineId} has ${units(remaining)} still to come (${orderedUnits} ordered, ${receivedUnits} received already), not ${quantity}.`,
        details: { lineId, ordered: orderedUnits, received: receivedUnits, remaining, attempted: quantity },
      };
    }
  }

  for (const [lineId, { quantity, serials }] of delivered) {
    const { kind } = lines.find((l) => l.lineId === lineId)!;
    if (kind === 'hardware') {
      const given = serials.filter((s) => serialKey(s) !== '').length;
      if (given !== quantity || given !== serials.length) {
        return {
          rule: 'serials_required',
          message: `Line ${lineId} is hardware: give one serial number for each of the ${units(quantity)} received (${given} given${given !== serials.length ? ', blank ones do not count' : ''}).`,
          details: { lineId, quantity, serialNumbers: given },
        };
      }
    } else if (serials.length > 0) {
      return {
        rule: 'serials_not_expected',
        message: `Line ${lineId} is ${kind === 'software' ? 'software' : 'not hardware'}: it takes no serial numbers.`,
        details: { lineId, kind },
      };
    }
  }

  const all = [...delivered.values()].flatMap((d) => d.serials);
  // Each repeated serial once, as first written.
  const firstWritten = new Map<string, string>();
  const repeated = new Set<string>();
  for (const serial of all) {
    const key = serialKey(serial);
    if (firstWritten.has(key)) repeated.add(firstWritten.get(key)!);
    else firstWritten.set(key, serial);
  }
  if (repeated.size > 0) {
    const serials = [...repeated];
    return { rule: 'duplicate_serial', message: `${serialList(serials)} ${serials.length === 1 ? 'appears' : 'appear'} more than once in this receipt.`, details: { serials } };
  }

  const known = new Set(knownSerials.map(serialKey));
  const alreadyKnown = all.filter((s) => known.has(serialKey(s)));
  return alreadyKnown.length > 0 ? serialsKnownRefusal(alreadyKnown) : null;
}

/**
 * The refusal of serials already on asset records: found by checkReceipt, or by the database's unique
 * index when another receipt recorded them after this one was checked.
 */
export function serialsKnownRefusal(serials: string[]): ReceiptRefusal {
  return {
    rule: 'serial_known',
    message: `${serialList(serials)} ${serials.length === 1 ? 'is' : 'are'} already on an asset record: check the serial numbers against the delivery.`,
    details: { serials },
  };
}

/** An order is received once every line has all its units; an order without lines has received nothing. */
export function orderStateAfter(lines: { orderedUnits: number; receivedUnits: number }[]): 'issued' | 'partially_received' | 'received' {
  if (lines.length > 0 && lines.every((l) => l.receivedUnits >= l.orderedUnits)) return 'received';
  return lines.some((l) => l.receivedUnits > 0) ? 'partially_received' : 'issued';
}

/** The request follows its orders, cancelled ones left out: a closed order was received in full first. */
export function requestStateAfter(orders: { state: OrderState }[]): 'ordering' | 'partially_received' | 'received' {
  const open = orders.filter((o) => o.state !== 'cancelled');
  const done = (o: { state: OrderState }) => o.state === 'received' || o.state === 'closed';
  if (open.length > 0 && open.every(done)) return 'received';
  return open.some((o) => done(o) || o.state === 'partially_received') ? 'partially_received' : 'ordering';
}

/** Calendar months from the receipt date; a day the end month lacks becomes its last day (Jan 31 + 1 = Feb 28). */
export function warrantyEndDate(receivedOn: string, warrantyMonths: number): string {
  const [year, month, day] = receivedOn.split('-').map(Number);
  const lastDay = new Date(Date.UTC(year, month - 1 + warrantyMonths + 1, 0)).getUTCDate();
  return new Date(Date.UTC(year, month - 1 + warrantyMonths, Math.min(day, lastDay))).toISOString().slice(0, 10);
}

/** What the procurement approval rules are tested against: the request's cost and its flags. */
export function purchaseRoutingSubject({ totalMinor, overBudget, offCatalogue, newVendor }: {
  totalMinor: number;
  overBudget: boolean;
  offCatalogue: boolean;
  newVendor: boolean;
}): RoutingSubject {
  return { costMinor: totalMinor, overBudget, offCatalogue, newVendor };
}

/** What the budget check found, stored with the request and shown to its approvers. */
export interface PurchaseAssessment extends BudgetFigures, BudgetPosition {
  /** Null when the lines come to more than MAX_AMOUNT_MINOR: the request is refused for it. */
  totalMinor: number | null;
  currency: string;
  offCatalogue: boolean;
  newVendor: boolean;
  reuseOffer: { lineId: string; productId: string; offeredUnits: number }[];
}

/** A purchase request line as submitted, its catalogue item and vendor checked by the API. */
export interface PurchaseLineSubmission {
  lineNumber: number;
  hardwareModelId: string | null;
  softwareProductId: string | null;
  description: string;
  vendorId: string;
  quantity: number;
  /** The vendor's quote for an item off the catalogue; catalogue lines are priced by the budget check. */
  unitPriceMinor: number;
  priceSource: PriceSource;
}

/** A purchase request as submitted; its workflow registers the request row from it. */
export interface PurchaseSubmission {
  costCentreId: string;
  justification: string;
  programme: string | null;
  currency: string;
  lines: PurchaseLineSubmission[];
}
