import { ApplicationFailure } from '@temporalio/activity';
import type { Client } from '@temporalio/client';
import type { Knex } from 'knex';
import {
  checkReceipt,
  licenceReuseOffer,
  lineAmount,
  orderStateAfter,
  ordersByVendor,
  purchaseRoutingSubject,
  requestStateAfter,
  serialsKnownRefusal,
  type ReceiptRefusal,
} from '../domain/procurement';
import { formatMoney, minorDigits } from '../domain/money';
import { isFinalState } from '../domain/processes';
import { unroutedOverBudget, type PlannedStep, type RoutingSubject } from '../domain/approval-routing';
import { findAsset, insertReceivedAsset, isSerialOnFileViolation, serialsOnFile } from '../model/assets';
import { licencePositions } from '../model/licences';
import { registerPurchaseRow } from '../model/purchases';
import { assessPurchase } from '../model/purchase-preview';
import type { ReminderSettings } from '../workflows/asset-lifecycle/contract';
import {
  PurchaseFailure,
  type IssuedOrder,
  type NotifyPurchaserInput,
  type OrderInput,
  type ProgressInput,
  type PurchaseActivityBase,
  type PurchaseCheck,
  type PurchaseProgress,
  type PurchaseStateChangeInput,
  type ReceiptCommand,
  type ReceiptEffectInput,
  type ReceiptInput,
  type ReceivedUnit,
  type ReceivedUnitInput,
  type RecordedReceipt,
  type RegisterPurchaseInput,
  type ReuseInput,
  type ReuseResult,
} from '../workflows/purchase-request/contract';
import { planFromRules, purchaseApprovers } from '../model/approval-rules';
import { recordOnce, registerSubmitted } from './audit';
import { queueEmail } from './email';
import { pageLinks } from '../domain/web-links';
import { effectiveReminderLeadTimes } from '../model/process-settings';
import { runLifecycleTransition, type LifecycleTransitionResult } from './lifecycle-transitions';

export interface PurchaseRequestActivityDeps {
  db: Knex;
  publicUrl: string;
  temporal: Client;
  lifecycle: { taskQueue: string; reminders: ReminderSettings };
}

const SYSTEM = 'system:procurement-workflow';
const SUBJECT = 'purchase_request';

interface LineRow {
  id: string;
  line_number: number;
  hardware_model_id: string | null;
  software_product_id: string | null;
  description: string;
  vendor_id: string | null;
  quantity: number;
  unit_price_minor: number;
  price_source: 'contract' | 'list' | 'quoted';
  contract_id: string | null;
  reused_units: number;
}

const kindOf = (line: Pick<LineRow, 'hardware_model_id' | 'software_product_id'>) =>
  line.hardware_model_id ? 'hardware' : line.software_product_id ? 'software' : 'other';

async function requestRow(db: Knex, id: string) {
  const row = await db('purchase_requests as p')
    .join('people as r', 'r.id', 'p.requester_id')
    .join('cost_centres as cc', 'cc.id', 'p.cost_centre_id')
    .where('p.id', id)
    .first('p.*', 'r.name as requester_name', 'r.email as requester_email', 'r.manager_id', 'cc.code as cost_centre_code', 'cc.owner_id as cost_centre_owner_id');
  if (!row) throw ApplicationFailure.nonRetryable(`purchase request ${id} does not exist`, 'PurchaseRequestNotFound');
  return row;
}

function linesOf(db: Knex, purchaseRequestId: string): Promise<LineRow[]> {
  return db('purchase_request_lines').where({ purchase_request_id: purchaseRequestId }).orderBy('line_number');
}

/** Units of each line already received, over every order of the request. */
async function receivedUnits(db: Knex, lineIds: string[]): Promise<Map<string, number>> {
  const rows = await db('receipts').whereIn('purchase_request_line_id', lineIds).groupBy('purchase_request_line_id')
    .select('purchase_request_line_id as lineId', db.raw('sum(quantity)::int AS units'));
  return new Map(rows.map((r) => [r.lineId as string, r.units as number]));
}

export function createPurchaseRequestActivities({ db, publicUrl, temporal, lifecycle }: PurchaseRequestActivityDeps) {
  const links = pageLinks(publicUrl);

  return {
    /** Registers the request as submitted: the first write of its workflow, and the only insert of its row. */
    async registerPurchaseRequest(input: RegisterPurchaseInput): Promise<void> {
      await registerSubmitted(
        db,
        { ...input, actor: input.requesterEmail, subjectType: SUBJECT, subjectId: input.purchaseRequestId, toState: 'submitted', details: { number: input.number } },
        (trx) => registerPurchaseRow(trx, input),
        PurchaseFailure.submissionRefused,
      );
    },

    /**
     * Prices every line (a contract price in force beats the list price), totals the request,
     * checks the cost centre's budget and finds spare seats to offer; stores the result.
     */
    async checkPurchase(input: PurchaseActivityBase): Promise<PurchaseCheck> {
      return recordOnce(
        db,
        { ...input, actor: SYSTEM, subjectType: SUBJECT, subjectId: input.purchaseRequestId, action: 'checked' },
        async (trx) => {
          const request = await requestRow(trx, input.purchaseRequestId);
          const lines = await linesOf(trx, input.purchaseRequestId);
          const { lines: assessed, problem, assessment } = await assessPurchase(trx, {
            costCentreId: request.cost_centre_id,
            costCentreCode: request.cost_centre_code,
            currency: request.currency,
            lines: lines.map((l) => ({
              lineId: l.id, lineNumber: l.line_number, description: l.description, hardwareModelId: l.hardware_model_id, softwareProductId: l.software_product_id,
              vendorId: l.vendor_id, quantity: l.quantity, reusedUnits: l.reused_units, unitPriceMinor: l.unit_price_minor, priceSource: l.price_source,
            })),
          }, new Date());
          for (const line of assessed.filter((l) => l.refusal === null)) {
            await trx('purchase_request_lines').where({ id: line.lineId })
              .update({ unit_price_minor: line.unitPriceMinor, price_source: line.priceSource, contract_id: line.contractId });
          }
          const { totalMinor, overBudget, offCatalogue, newVendor } = assessment;
          await trx('purchase_requests').where({ id: input.purchaseRequestId })
            .update({ total_minor: totalMinor, assessment: JSON.stringify(assessment), updated_at: trx.fn.now() });
          const subject: RoutingSubject = purchaseRoutingSubject({ totalMinor: totalMinor ?? 0, overBudget, offCatalogue, newVendor });
          return { result: { assessment, subject, problem }, details: { totalMinor, overBudget, problem } };
        },
      );
    },

    /** Assigns the offered spare seats to the requester and shrinks the lines they cover. */
    async reuseSpareSeats(input: ReuseInput): Promise<ReuseResult> {
      return recordOnce(
        db,
        { ...input, subjectType: SUBJECT, subjectId: input.purchaseRequestId, action: 'licences_reused' },
        async (trx) => {
          const request = await requestRow(trx, input.purchaseRequestId);
          const lines = await linesOf(trx, input.purchaseRequestId);
          const productIds = lines.map((l) => l.software_product_id).filter((id): id is string => id !== null);
          // Seats may have gone since the offer: offer again against today's position.
          const spare = (await licencePositions(trx, productIds)).map((p) => ({ productId: p.productId, spareUnits: p.spareUnits }));
          const offer = licenceReuseOffer(lines.map((l) => ({ lineId: l.id, productId: l.software_product_id, quantity: l.quantity - l.reused_units })), spare);
          for (const seat of offer) {
            await trx('software_consumptions').insert({
              product_id: seat.productId,
              kind: 'assignment',
              person_id: request.requester_id,
              units: seat.offeredUnits,
              source_key: `${input.idempotencyKey}:${seat.lineId}`,
            });
            await trx('purchase_request_lines').where({ id: seat.lineId }).increment('reused_units', seat.offeredUnits);
          }
          const after = await linesOf(trx, input.purchaseRequestId);
          const seatsAssigned = offer.reduce((sum, s) => sum + s.offeredUnits, 0);
          const result = { seatsAssigned, fullyCovered: after.every((l) => l.reused_units === l.quantity) };
          return { result, details: { offer } };
        },
      );
    },

    /** Resolves the procurement approval rules to people; over budget with no rule that routes it is a refusal. */
    async planPurchaseApprovals(input: PurchaseActivityBase & { subject: RoutingSubject }): Promise<{ steps: PlannedStep[]; refusal: string | null }> {
      return recordOnce(
        db,
        { ...input, actor: SYSTEM, subjectType: SUBJECT, subjectId: input.purchaseRequestId, action: 'approvals_planned' },
        async (trx) => {
          const approvers = await purchaseApprovers(trx, input.purchaseRequestId);
          if (!approvers) throw ApplicationFailure.nonRetryable(`purchase request ${input.purchaseRequestId} does not exist`, 'PurchaseRequestNotFound');
          const { rules, plan, rulesWithUnknownConditions } = await planFromRules(trx, 'procurement', input.subject, approvers);
          const refusal = unroutedOverBudget(rules, plan, input.subject);
          return { result: { steps: plan, refusal }, details: { subject: input.subject, steps: plan.length, refusal, rulesWithUnknownConditions } };
        },
      );
    },

    /** Projects the workflow's state onto the request row, with its audit row. */
    async recordPurchaseState(input: PurchaseStateChangeInput): Promise<void> {
      const final = isFinalState('procurement', input.to);
      await recordOnce(
        db,
        { ...input, subjectType: SUBJECT, subjectId: input.purchaseRequestId, action: 'state_changed', fromState: input.from, toState: input.to, details: { ...input.details, outcome: input.outcome ?? null } },
        async (trx) => {
          await trx('purchase_requests').where({ id: input.purchaseRequestId }).update({
            state: input.to,
            updated_at: trx.fn.now(),
            ...(input.outcome ? { outcome: input.outcome } : {}),
            ...(final ? { closed_at: trx.fn.now() } : {}),
          });
          return { result: null };
        },
      );
    },

    /** One purchase order per vendor for what is left to buy; each commits its amount. */
    async issuePurchaseOrders(input: PurchaseActivityBase): Promise<IssuedOrder[]> {
      return recordOnce(
        db,
        { ...input, actor: SYSTEM, subjectType: SUBJECT, subjectId: input.purchaseRequestId, action: 'orders_issued' },
        async (trx) => {
          const request = await requestRow(trx, input.purchaseRequestId);
          const lines = await linesOf(trx, input.purchaseRequestId);
          const orders = ordersByVendor(lines.map((l) => ({ lineId: l.id, vendorId: l.vendor_id, quantity: l.quantity, reusedUnits: l.reused_units, unitPriceMinor: l.unit_price_minor })));
          const issued: IssuedOrder[] = [];
          for (const order of orders) {
            const [row] = await trx('purchase_orders')
              .insert({ purchase_request_id: input.purchaseRequestId, vendor_id: order.vendorId, amount_minor: order.amountMinor, currency: request.currency })
              .returning(['id', 'number']);
            issued.push({ purchaseOrderId: row.id, number: row.number, vendorId: order.vendorId, amountMinor: order.amountMinor });
          }
          return { result: issued, details: { orders: issued.map((o) => ({ number: o.number, amountMinor: o.amountMinor })) } };
        },
      );
    },

    /** Emails a purchase order to the vendor's contact and to the requester. */
    async sendPurchaseOrder(input: OrderInput): Promise<void> {
      const order = await db('purchase_orders as o').join('vendors as v', 'v.id', 'o.vendor_id').where('o.id', input.purchaseOrderId)
        .first('o.*', 'v.name as vendor_name', 'v.contact_email');
      const request = await requestRow(db, input.purchaseRequestId);
      const lines = (await linesOf(db, input.purchaseRequestId)).filter((l) => l.vendor_id === order.vendor_id && l.quantity > l.reused_units);
      const money = (minor: number) => formatMoney(minor, order.currency);
      await queueEmail(db, {
        idempotencyKey: input.idempotencyKey,
        template: 'purchase_order',
        to: [order.contact_email, request.requester_email].filter((r): r is string => Boolean(r)),
        subject: `Purchase order ${order.number} from Northwind Analytics (${request.number})`,
        text: [
          `Purchase order ${order.number} for ${order.vendor_name}`,
          `Requested by ${request.requester_name}, cost centre ${request.cost_centre_code}; reference ${request.number}.`,
          '',
          ...lines.map((l) => `  ${l.line_number}. ${l.quantity - l.reused_units} x ${l.description} at ${money(l.unit_price_minor)} = ${money((l.quantity - l.reused_units) * l.unit_price_minor)}`),
          '',
          `Total: ${money(order.amount_minor)}`,
          'Quote the order number on the delivery note and the invoice. Hardware: one serial number per unit.',
        ].join('\n'),
        subjectType: SUBJECT,
        subjectId: input.purchaseRequestId,
        workflowId: input.workflowId,
      });
    },

    /** Checks a receipt against the order and what was already received; null when it may be recorded. */
    async checkPurchaseReceipt(input: { purchaseRequestId: string; receipt: ReceiptCommand }): Promise<ReceiptRefusal | null> {
      const { receipt } = input;
      const order = await db('purchase_orders').where({ id: receipt.purchaseOrderId, purchase_request_id: input.purchaseRequestId }).first();
      if (!order) {
        return { rule: 'line_not_on_order', message: 'this purchase order does not belong to the request', details: { purchaseOrderId: receipt.purchaseOrderId } };
      }
      const lines = (await linesOf(db, input.purchaseRequestId)).filter((l) => l.vendor_id === order.vendor_id && l.quantity > l.reused_units);
      const received = await receivedUnits(db, lines.map((l) => l.id));
      const known = await serialsOnFile(db, receipt.lines.flatMap((l) => l.serialNumbers));
      return checkReceipt({
        orderState: order.state,
        lines: lines.map((l) => ({ lineId: l.id, kind: kindOf(l), orderedUnits: l.quantity - l.reused_units, receivedUnits: received.get(l.id) ?? 0 })),
        receipt: receipt.lines,
        knownSerials: known,
      });
    },

    /**
     * Records the receipt, one row per line, and the asset record of each hardware unit, once per
     * request id. The assets are written with the receipt so that a serial another receipt recorded
     * since the check refuses the whole receipt, leaving nothing of it behind.
     */
    async recordReceipt(input: ReceiptInput): Promise<RecordedReceipt[]> {
      const { receipt } = input;
      const serials = receipt.lines.flatMap((l) => l.serialNumbers);
      return recordOnce(
        db,
        {
          ...input,
          actor: receipt.actorEmail,
          subjectType: SUBJECT,
          subjectId: input.purchaseRequestId,
          action: 'receipt_recorded',
          details: { purchaseOrderId: receipt.purchaseOrderId, lines: receipt.lines },
        },
        async (trx) => {
          const lines = await linesOf(trx, input.purchaseRequestId);
          const recorded: RecordedReceipt[] = [];
          for (const [index, line] of receipt.lines.entries()) {
            const [row] = await trx('receipts')
              .insert({
                idempotency_key: `${input.idempotencyKey}:${index}`,
                purchase_order_id: receipt.purchaseOrderId,
                purchase_request_line_id: line.lineId,
                quantity: line.quantity,
                serial_numbers: line.serialNumbers.map((s) => s.trim()),
                received_by_id: receipt.receivedById,
              })
              .returning('id');
            const kind = kindOf(lines.find((l) => l.id === line.lineId)!);
            const serialNumbers = line.serialNumbers.map((s) => s.trim());
            if (kind === 'hardware') for (const serialNumber of serialNumbers) await insertReceivedAsset(trx, row.id, serialNumber);
            recorded.push({ receiptId: row.id, lineId: line.lineId, kind, quantity: line.quantity, serialNumbers });
          }
          return { result: recorded };
        },
      ).catch(async (error: unknown) => {
        const onFile = isSerialOnFileViolation(error) ? await serialsOnFile(db, serials) : [];
        if (onFile.length === 0) throw error;
        const refusal = serialsKnownRefusal(onFile);
        throw ApplicationFailure.create({ type: PurchaseFailure.receiptRefused, message: refusal.message, details: [refusal], nonRetryable: true });
      });
    },

    /**
     * The asset record of one received hardware unit, on order until the lifecycle workflow stocks it:
     * recordReceipt wrote it with the receipt; a receipt recorded before it did so gets it here.
     */
    async createReceivedAsset(input: ReceivedUnitInput): Promise<ReceivedUnit> {
      return recordOnce(
        db,
        { ...input, actor: SYSTEM, subjectType: SUBJECT, subjectId: input.purchaseRequestId, action: 'asset_created', details: { serialNumber: input.serialNumber } },
        async (trx) => {
          const asset = await insertReceivedAsset(trx, input.receiptId, input.serialNumber);
          return { result: { assetId: asset.id, assetTag: asset.asset_tag }, details: { assetTag: asset.asset_tag } };
        },
      );
    },

    /** Moves a received asset into stock through its lifecycle workflow. */
    async stockReceivedAsset(input: PurchaseActivityBase & { assetId: string; actor: string }): Promise<LifecycleTransitionResult> {
      const asset = await findAsset(db, input.assetId);
      if (!asset) throw ApplicationFailure.nonRetryable(`asset ${input.assetId} does not exist`, 'AssetNotFound');
      const request = await db('purchase_requests').where({ id: input.purchaseRequestId }).first('number');
      // A received asset has no workflow yet: it gets one with the reminder days saved now.
      const settings = { taskQueue: lifecycle.taskQueue, reminders: await effectiveReminderLeadTimes(db, lifecycle.reminders) };
      return runLifecycleTransition(temporal, settings, asset, {
        toState: 'in_stock',
        toSubstate: 'available',
        note: `received on ${request.number}`,
        actor: input.actor,
        requestId: input.idempotencyKey,
      });
    },

    /** Turns a received software line into an entitlement (one per receipt row). */
    async createReceivedEntitlement(input: ReceiptEffectInput): Promise<string> {
      return recordOnce(
        db,
        { ...input, actor: SYSTEM, subjectType: SUBJECT, subjectId: input.purchaseRequestId, action: 'entitlement_created' },
        async (trx) => {
          const receipt = await trx('receipts as r')
            .join('purchase_request_lines as l', 'l.id', 'r.purchase_request_line_id')
            .join('purchase_requests as p', 'p.id', 'l.purchase_request_id')
            .join('software_products as s', 's.id', 'l.software_product_id')
            .where('r.id', input.receiptId)
            .first('r.quantity', 'r.received_at', 'l.unit_price_minor', 'l.contract_id', 'l.software_product_id', 'p.currency', 's.licence_metric');
          const [entitlement] = await trx('software_entitlements')
            .insert({
              product_id: receipt.software_product_id,
              metric: receipt.licence_metric,
              quantity: receipt.quantity,
              starts_on: (receipt.received_at as Date).toISOString().slice(0, 10),
              cost_minor: lineAmount({ quantity: receipt.quantity, reusedUnits: 0, unitPriceMinor: receipt.unit_price_minor }),
              currency: receipt.currency,
              contract_id: receipt.contract_id,
              receipt_id: input.receiptId,
            })
            .returning(['id', 'number']);
          return { result: entitlement.id as string, details: { entitlement: entitlement.number, units: receipt.quantity } };
        },
      );
    },

    /** Writes the FOCUS purchase cost rows of a receipt (one per asset, or one for the line) and moves the order's commitment to actuals. */
    async recordPurchaseCost(input: ReceiptEffectInput): Promise<number> {
      return recordOnce(
        db,
        { ...input, actor: SYSTEM, subjectType: SUBJECT, subjectId: input.purchaseRequestId, action: 'purchase_cost_recorded' },
        async (trx) => {
          const receipt = await trx('receipts as r')
            .join('purchase_orders as o', 'o.id', 'r.purchase_order_id')
            .join('vendors as v', 'v.id', 'o.vendor_id')
            .join('purchase_request_lines as l', 'l.id', 'r.purchase_request_line_id')
            .join('purchase_requests as p', 'p.id', 'l.purchase_request_id')
            .where('r.id', input.receiptId)
            .first('r.id', 'r.quantity', 'r.received_at', 'o.id as order_id', 'o.number as order_number', 'v.name as vendor_name',
              'l.description', 'l.unit_price_minor', 'l.hardware_model_id', 'p.currency', 'p.cost_centre_id', 'p.number as request_number');
          const assets = await trx('assets').where({ receipt_id: input.receiptId }).orderBy('serial_number').select('id', 'asset_tag', 'serial_number');
          const at = receipt.received_at as Date;
          const period = { start: new Date(Date.UTC(at.getUTCFullYear(), at.getUTCMonth(), 1)), end: new Date(Date.UTC(at.getUTCFullYear(), at.getUTCMonth() + 1, 1)) };
          // Exact: minor units scaled by the currency's own minor digits in numeric, never through a float.
          const digits = minorDigits(receipt.currency);
          const majorUnits = (minor: number) => trx.raw(`round(?::numeric / ${10 ** digits}, ${digits})`, [minor]);
          const row = (sourceKey: string, units: number, asset?: { id: string; asset_tag: string }) => ({
            source_key: sourceKey,
            billing_period_start: period.start,
            billing_period_end: period.end,
            charge_period_start: at,
            charge_period_end: new Date(at.getTime() + 1000),
            charge_category: 'Purchase',
            charge_description: `${units} x ${receipt.description} on ${receipt.order_number}`,
            provider_name: receipt.vendor_name,
            invoice_issuer_name: receipt.vendor_name,
            service_name: receipt.description,
            service_category: receipt.hardware_model_id ? 'Hardware' : 'Software',
            resource_id: asset?.asset_tag ?? null,
            resource_name: asset?.asset_tag ?? null,
            billed_cost: majorUnits(units * receipt.unit_price_minor),
            effective_cost: majorUnits(units * receipt.unit_price_minor),
            list_cost: null,
            billing_currency: receipt.currency,
            tags: JSON.stringify({ purchaseRequest: receipt.request_number, purchaseOrder: receipt.order_number }),
            asset_id: asset?.id ?? null,
            cost_centre_id: receipt.cost_centre_id,
          });
          const rows = receipt.hardware_model_id
            ? assets.map((a) => row(`receipt:${receipt.id}:${a.serial_number}`, 1, a))
            : [row(`receipt:${receipt.id}`, receipt.quantity)];
          await trx('cost_records').insert(rows);
          const amountMinor = lineAmount({ quantity: receipt.quantity, reusedUnits: 0, unitPriceMinor: receipt.unit_price_minor });
          await trx('purchase_orders').where({ id: receipt.order_id }).increment('received_minor', amountMinor);
          return { result: amountMinor, details: { rows: rows.length, amountMinor, currency: receipt.currency } };
        },
      );
    },

    /** Derives the order's and the request's receiving state from the receipts and writes the order's. */
    async updateReceivingProgress(input: ProgressInput): Promise<PurchaseProgress> {
      const order = await db('purchase_orders').where({ id: input.purchaseOrderId }).first('vendor_id', 'state');
      const lines = (await linesOf(db, input.purchaseRequestId)).filter((l) => l.vendor_id === order.vendor_id && l.quantity > l.reused_units);
      const received = await receivedUnits(db, lines.map((l) => l.id));
      const orderState = orderStateAfter(lines.map((l) => ({ orderedUnits: l.quantity - l.reused_units, receivedUnits: received.get(l.id) ?? 0 })));
      if (order.state !== 'cancelled' && order.state !== 'closed') await db('purchase_orders').where({ id: input.purchaseOrderId }).update({ state: orderState });
      const orders = await db('purchase_orders').where({ purchase_request_id: input.purchaseRequestId }).select('state');
      return { orderState, requestState: requestStateAfter(orders) };
    },

    /** Closes the request's received orders: nothing of them stays committed. */
    async closePurchaseOrders(input: PurchaseActivityBase): Promise<number> {
      return recordOnce(
        db,
        { ...input, actor: SYSTEM, subjectType: SUBJECT, subjectId: input.purchaseRequestId, action: 'orders_closed' },
        async (trx) => {
          const closed = await trx('purchase_orders').where({ purchase_request_id: input.purchaseRequestId, state: 'received' })
            .update({ state: 'closed', closed_at: trx.fn.now() });
          return { result: closed };
        },
      );
    },

    /** Cancels an order nothing was received on; its commitment is released. */
    async cancelPurchaseOrder(input: OrderInput & { actor: string; reason: string }): Promise<void> {
      await recordOnce(
        db,
        { ...input, subjectType: SUBJECT, subjectId: input.purchaseRequestId, action: 'order_cancelled', details: { purchaseOrderId: input.purchaseOrderId, reason: input.reason } },
        async (trx) => {
          const cancelled = await trx('purchase_orders').where({ id: input.purchaseOrderId, state: 'issued', received_minor: 0 })
            .update({ state: 'cancelled', closed_at: trx.fn.now() });
          if (cancelled === 0) throw ApplicationFailure.nonRetryable('only an order with nothing received can be cancelled', 'OrderNotCancellable');
          return { result: null };
        },
      );
    },

    /** Tells the requester at each milestone. */
    async notifyPurchaser(input: NotifyPurchaserInput): Promise<void> {
      const request = await requestRow(db, input.purchaseRequestId);
      const { notice } = input;
      const money = formatMoney(request.total_minor, request.currency);
      const [subject, body] = ((): [string, string] => {
        switch (notice.kind) {
          case 'receipt': return ['Received', 'Your purchase request was received. It is priced and checked against the budget now.'];
          case 'reuse_offer': return ['Spare licences available', `${notice.offeredUnits} spare seat(s) of what you asked for already exist. Accept them on the request's page (below) and the order shrinks; decline there and it goes on as asked.`];
          case 'approved': return ['Approved', `Your purchase request (${money}) was approved; the purchase orders go out now.`];
          case 'ordered': return ['Ordered', `Purchase order(s) ${notice.orders.join(', ')} were sent to the vendor(s).`];
          case 'received': return [notice.complete ? 'Received in full' : 'Partly received', notice.complete ? 'Everything you asked for has arrived.' : 'Part of your order has arrived; the rest is on its way.'];
          case 'closed': return [`Closed (${notice.state})`, `Your purchase request ended as ${notice.state}: ${notice.outcome}.`];
        }
      })();
      await queueEmail(db, {
        idempotencyKey: input.idempotencyKey,
        template: `purchase_${notice.kind}`,
        to: [request.requester_email],
        subject: `${subject}: ${request.number}`,
        text: [`Hello ${request.requester_name},`, '', body, '', `Follow it at ${links.purchaseRequest(request.number)}`].join('\n'),
        subjectType: SUBJECT,
        subjectId: input.purchaseRequestId,
        workflowId: input.workflowId,
      });
    },
  };
}

export type PurchaseRequestActivities = ReturnType<typeof createPurchaseRequestActivities>;
