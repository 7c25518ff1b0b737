import type { Knex } from 'knex';
import type { OrderState, PurchaseState, PurchaseSubmission } from '../domain/procurement';
import { approvalsOf } from './approvals';
import { byIdOrKey, nextBusinessKey } from './keys';
import { paginate, type Page } from './page';

export interface PurchaseRequestRow {
  id: string;
  number: string;
  state: PurchaseState;
  requester_id: string;
  cost_centre_id: string;
  workflow_id: string;
}

/** By id or by number (PR0001001). */
export function findPurchaseRequest(db: Knex, idOrNumber: string): Promise<PurchaseRequestRow | undefined> {
  return db('purchase_requests').where(byIdOrKey(idOrNumber, 'number')).first();
}

/** A purchase order by id or number (PO0001001), with the workflow of its request. */
export function findPurchaseOrder(
  db: Knex, idOrNumber: string,
): Promise<{ id: string; number: string; state: OrderState; workflow_id: string; requester_id: string; purchase_request_id: string } | undefined> {
  return db('purchase_orders as o').join('purchase_requests as p', 'p.id', 'o.purchase_request_id')
    .where(byIdOrKey(idOrNumber, 'o.number', 'o.id')).first('o.id', 'o.number', 'o.state', 'p.workflow_id', 'p.requester_id', 'o.purchase_request_id');
}

/** The request with its lines and prices, budget check, approvals, orders, receipts and history. */
export async function purchaseDetail(db: Knex, id: string) {
  const [request, lines, approvals, orders, receipts, history] = await Promise.all([
    db('purchase_requests as p').join('people as r', 'r.id', 'p.requester_id').join('cost_centres as cc', 'cc.id', 'p.cost_centre_id').where('p.id', id)
      .first('p.id', 'p.number', 'p.state', 'p.outcome', 'p.justification', 'p.programme', 'p.currency', 'p.total_minor as totalMinor', 'p.assessment',
        'p.workflow_id as workflowId', 'p.created_at as createdAt', 'p.closed_at as closedAt', 'cc.code as costCentre',
        db.raw(`json_build_object('id', r.id, 'name', r.name, 'email', r.email) AS requester`)),
    db('purchase_request_lines').where({ purchase_request_id: id }).orderBy('line_number')
      .select('id', 'line_number as lineNumber', 'hardware_model_id as hardwareModelId', 'software_product_id as softwareProductId', 'description',
        'vendor_id as vendorId', 'quantity', 'reused_units as reusedUnits', 'unit_price_minor as unitPriceMinor', 'price_source as priceSource', 'contract_id as contractId'),
    approvalsOf(db, id),
    db('purchase_orders as o').join('vendors as v', 'v.id', 'o.vendor_id').where('o.purchase_request_id', id).orderBy('o.number')
      .select('o.id', 'o.number', 'o.state', 'v.name as vendor', 'o.amount_minor as amountMinor', 'o.received_minor as receivedMinor', 'o.currency', 'o.issued_at as issuedAt'),
    db('receipts as r').join('purchase_orders as o', 'o.id', 'r.purchase_order_id').where('o.purchase_request_id', id).orderBy('r.received_at')
      .select('r.id', 'o.number as order', 'r.purchase_request_line_id as lineId', 'r.quantity', 'r.serial_numbers as serialNumbers', 'r.received_at as receivedAt'),
    db('audit_log').where({ subject_type: 'purchase_request', subject_id: id }).orderBy('id')
      .select('occurred_at as occurredAt', 'actor', 'action', 'from_state as fromState', 'to_state as toState'),
  ]);
  return { ...request, lines, approvals, orders, receipts, history };
}

export interface PurchaseRequestListItem {
  id: string;
  number: string;
  state: PurchaseState;
  outcome: string | null;
  justification: string;
  currency: string;
  totalMinor: number | null;
  requesterId: string;
  createdAt: Date;
}

export function listPurchaseRequests(
  db: Knex,
  filters: { requesterId?: string; state?: PurchaseState },
  page: { limit: number; offset: number },
): Promise<Page<PurchaseRequestListItem>> {
  const q = db('purchase_requests').orderBy('created_at', 'desc').orderBy('number', 'desc')
    .select('id', 'number', 'state', 'outcome', 'justification', 'currency', 'total_minor as totalMinor', 'requester_id as requesterId', 'created_at as createdAt');
  if (filters.requesterId) q.where('requester_id', filters.requesterId);
  if (filters.state) q.where('state', filters.state);
  return paginate(q, page, (row: PurchaseRequestListItem) => row);
}

/** What a catalogue item is called, who sells it and whether it was retired, or undefined when there is no such item. */
export function catalogueItem(
  db: Knex,
  item: { hardwareModelId?: string; softwareProductId?: string },
): Promise<{ description: string; vendor_id: string | null; retired_at: Date | null } | undefined> {
  return item.hardwareModelId
    ? db('hardware_models').where({ id: item.hardwareModelId }).first(db.raw(`manufacturer || ' ' || name AS description`), 'vendor_id', 'retired_at')
    : db('software_products').where({ id: item.softwareProductId }).first(db.raw(`publisher || ' ' || name AS description`), 'vendor_id', 'retired_at');
}

export function findVendor(db: Knex, id: string): Promise<{ name: string; active: boolean; retired_at: Date | null } | undefined> {
  return db('vendors').where({ id }).first('name', 'active', 'retired_at');
}

export interface PurchaseRegistration {
  purchaseRequestId: string;
  number: string;
  workflowId: string;
  requesterId: string;
  submission: PurchaseSubmission;
}

/** Inserts the request and its lines as submitted; a request already registered stays as it is. */
export async function registerPurchaseRow(trx: Knex.Transaction, { purchaseRequestId, number, workflowId, requesterId, submission }: PurchaseRegistration): Promise<void> {
  const inserted = await trx('purchase_requests')
    .insert({
      id: purchaseRequestId,
      number,
      workflow_id: workflowId,
      requester_id: requesterId,
      cost_centre_id: submission.costCentreId,
      justification: submission.justification,
      programme: submission.programme,
      currency: submission.currency,
    })
    .onConflict('id')
    .ignore()
    .returning('id');
  if (!inserted.length) return;
  await trx('purchase_request_lines').insert(
    submission.lines.map((l) => ({
      purchase_request_id: purchaseRequestId,
      line_number: l.lineNumber,
      hardware_model_id: l.hardwareModelId,
      software_product_id: l.softwareProductId,
      description: l.description,
      vendor_id: l.vendorId,
      quantity: l.quantity,
      unit_price_minor: l.unitPriceMinor,
      price_source: l.priceSource,
    })),
  );
}

/** The next purchase request number (PR0001001), reserved before the request is registered. */
export function reservePurchaseNumber(db: Knex): Promise<string> {
  return nextBusinessKey(db, 'PR', 'purchase_request_number_seq');
}

export interface OrderLineView {
  lineId: string;
  lineNumber: number;
  description: string;
  kind: 'hardware' | 'software' | 'other';
  /** Units still to buy after spare seats were reused. */
  orderedUnits: number;
  receivedUnits: number;
}

export interface ReceivedAssetView {
  receiptId: string;
  id: string;
  assetTag: string;
  serialNumber: string | null;
  state: string;
  substate: string | null;
}

/**
 * Each order's lines as the receipt check counts them (the request's lines of the order's vendor
 * with units left to buy after reuse, and the units received on them), and the assets each receipt
 * created.
 */
export async function orderLinesAndAssets(db: Knex, purchaseRequestId: string): Promise<{ linesByOrder: Map<string, OrderLineView[]>; assets: ReceivedAssetView[] }> {
  const [lines, assets] = await Promise.all([
    db('purchase_orders as o')
      .join('purchase_request_lines as l', (j) => j.on('l.purchase_request_id', 'o.purchase_request_id').andOn('l.vendor_id', 'o.vendor_id'))
      .where('o.purchase_request_id', purchaseRequestId)
      .whereRaw('l.quantity > l.reused_units')
      .orderBy(['o.number', 'l.line_number'])
      .select(
        'o.id as orderId', 'l.id as lineId', 'l.line_number as lineNumber', 'l.description',
        db.raw(`CASE WHEN l.hardware_model_id IS NOT NULL THEN 'hardware' WHEN l.software_product_id IS NOT NULL THEN 'software' ELSE 'other' END AS kind`),
        db.raw('(l.quantity - l.reused_units)::int AS "orderedUnits"'),
        db.raw('(SELECT coalesce(sum(r.quantity), 0)::int FROM receipts r WHERE r.purchase_request_line_id = l.id) AS "receivedUnits"'),
      ),
    db('assets as a').join('receipts as r', 'r.id', 'a.receipt_id').join('purchase_orders as o', 'o.id', 'r.purchase_order_id')
      .where('o.purchase_request_id', purchaseRequestId).orderBy('a.asset_tag')
      .select('r.id as receiptId', 'a.id', 'a.asset_tag as assetTag', 'a.serial_number as serialNumber', 'a.state', 'a.substate'),
  ]);
  const linesByOrder = new Map<string, OrderLineView[]>();
  for (const { orderId, ...line } of lines as (OrderLineView & { orderId: string })[]) linesByOrder.set(orderId, [...(linesByOrder.get(orderId) ?? []), line]);
  return { linesByOrder, assets };
}
