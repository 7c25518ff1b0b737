import type { Client } from '@temporalio/client';
import type { Request } from 'express';
import { z } from 'zod';
import { PURCHASE_STATES, checkReceipt, submittedAmountIssues, type PurchaseLineSubmission, type PurchaseSubmission } from '../../domain/procurement';
import { segregationRefusal } from '../../domain/segregation';
import { findApproval } from '../../model/approvals';
import { findCostCentreByCode } from '../../model/directory';
import {
  catalogueItem,
  findPurchaseOrder,
  findPurchaseRequest,
  findVendor,
  listPurchaseRequests,
  purchaseDetail,
  reservePurchaseNumber,
  type PurchaseRequestRow,
} from '../../model/purchases';
import type { Database } from '../../platform/database';
import type { ProcessStateWatcher } from '../../platform/process-state-watcher';
import type { ApprovalTimings } from '../../workflows/approvals/contract';
import { businessNumberKey, processStateKey, processTypeKey, requesterKey } from '../../workflows/search-attributes';
import {
  PURCHASE_PROCESS,
  answerReuseOfferUpdate,
  cancelOrderUpdate,
  cancelPurchaseUpdate,
  purchaseStatusQuery,
  purchaseWorkflowId,
  recordReceiptUpdate,
  type PurchaseStatus,
  type ReceiptOutcome,
} from '../../workflows/purchase-request/contract';
import type { purchaseRequestWorkflow } from '../../workflows/purchase-request/workflow';
import { decideApproval, decisionBody } from '../approval-decisions';
import { OVERSEERS, hasAnyRole, maySeeRequest, type Principal, type Role } from '../auth';
import { badRequest, conflict, forbidden, notFound, segregationRefused } from '../errors';
import { pageQuery } from '../pagination';
import type { RouteRegistry } from '../routes-registry';
import { commandRequestId } from '../idempotency';
import { answerSubmission, submit, type Submitted } from '../submissions';
import { commandWithinDeadline, liveStatusWithinDeadline } from '../workflow-calls';

export interface PurchaseRouteDeps {
  db: Database;
  temporal: Client;
  processStates: ProcessStateWatcher;
  taskQueue: string;
  approvalTimings: { normal: ApprovalTimings };
  reuseOfferTimeoutMs: number;
}

const lineBody = z
  .strictObject({
    hardwareModelId: z.uuid().optional(),
    softwareProductId: z.uuid().optional(),
    description: z.string().trim().min(1).max(500).optional().describe('required for an item not in the catalogue'),
    quantity: z.number().int().min(1).max(10_000),
    vendorId: z.uuid().optional().describe('defaults to the catalogue item\'s vendor; required for an item not in the catalogue'),
    quotedUnitPriceMinor: z.number().int().min(0).max(1e12).optional().describe('the vendor\'s quote, for an item not in the catalogue'),
  })
  .superRefine((l, ctx) => {
    if (l.hardwareModelId && l.softwareProductId) ctx.addIssue({ code: 'custom', path: ['softwareProductId'], message: 'a line is hardware or software, not both' });
    const catalogue = Boolean(l.hardwareModelId || l.softwareProductId);
    if (!catalogue && !l.description) ctx.addIssue({ code: 'custom', path: ['description'], message: 'describe an item that is not in the catalogue' });
    if (!catalogue && !l.vendorId) ctx.addIssue({ code: 'custom', path: ['vendorId'], message: 'name the vendor of an item that is not in the catalogue' });
    if (!catalogue && l.quotedUnitPriceMinor === undefined) ctx.addIssue({ code: 'custom', path: ['quotedUnitPriceMinor'], message: 'give the quoted unit price of an item that is not in the catalogue' });
  });

/** The body of POST /purchase-requests, also what the web UI's purchase form is checked against. */
export const purchaseRequestBody = z
  .strictObject({
    costCentre: z.string().trim().min(1).max(32).describe('cost centre code that pays'),
    justification: z.string().trim().min(3).max(5000),
    programme: z.string().trim().min(1).max(200).optional().describe('portfolio programme (COBIT BAI01)'),
    currency: z.string().regex(/^[A-Z]{3}$/).default('EUR'),
    lines: z.array(lineBody).min(1).max(100),
  })
  .superRefine((b, ctx) => {
    for (const issue of submittedAmountIssues(b.lines, b.currency)) ctx.addIssue({ code: 'custom', ...issue });
  });

/** The body of POST /purchase-orders/:id/receipts, also what the web UI's delivery form is checked against. */
export const receiptBody = z.strictObject({
  lines: z
    .array(z.strictObject({ lineId: z.uuid(), quantity: z.number().int().min(1).max(10_000), serialNumbers: z.array(z.string().trim().min(1).max(100)).max(10_000).default([]) }))
    .min(1)
    .max(100),
});

/** Why a request or an order is cancelled. */
export const reasonBody = z.strictObject({ reason: z.string().trim().min(1).max(2000) });
export const reuseAnswerBody = z.strictObject({ accept: z.boolean() });
/** An approver's decision, as the emailed link and the inbox take it. */

const requestParams = z.object({ id: z.string().min(1).max(64).describe('purchase request id (uuid) or number (PR0001001)') });

/** Resolves each line's catalogue item and vendor; refuses unknown and retired items, unknown vendors, retired ones and inactive ones. */
async function resolveLines(db: Database, lines: z.output<typeof lineBody>[]): Promise<PurchaseLineSubmission[]> {
  const problems: { path: string; message: string }[] = [];
  const resolved: PurchaseLineSubmission[] = [];
  for (const [i, line] of lines.entries()) {
    const inCatalogue = Boolean(line.hardwareModelId || line.softwareProductId);
    const item = inCatalogue ? await catalogueItem(db, line) : { description: line.description!, vendor_id: null, retired_at: null };
    if (!item) {
      problems.push({ path: `lines.${i}`, message: 'unknown catalogue item' });
      continue;
    }
    if (item.retired_at) problems.push({ path: `lines.${i}`, message: `${item.description} was retired from the catalogue` });
    const vendorId = line.vendorId ?? item.vendor_id;
    const vendor = vendorId ? await findVendor(db, vendorId) : undefined;
    if (!vendor) problems.push({ path: `lines.${i}.vendorId`, message: vendorId ? `unknown vendor ${vendorId}` : 'the catalogue item has no vendor: name one' });
    else if (vendor.retired_at) problems.push({ path: `lines.${i}.vendorId`, message: `vendor ${vendor.name} was retired` });
    else if (!vendor.active) problems.push({ path: `lines.${i}.vendorId`, message: `vendor ${vendor.name} is not active` });
    resolved.push({
      lineNumber: i + 1,
      hardwareModelId: line.hardwareModelId ?? null,
      softwareProductId: line.softwareProductId ?? null,
      description: line.description ?? item.description,
      vendorId: vendorId!,
      quantity: line.quantity,
      unitPriceMinor: inCatalogue ? 0 : line.quotedUnitPriceMinor!,
      priceSource: inCatalogue ? 'list' : 'quoted',
    });
  }
  if (problems.length) throw badRequest(problems.map((p) => `${p.path}: ${p.message}`).join('; '), problems);
  return resolved;
}

export type PurchaseRequestBody = z.output<typeof purchaseRequestBody>;
export type ReceiptBody = z.output<typeof receiptBody>;

/**
 * What a request body asks for, its cost centre, catalogue items and vendors checked: the
 * submission its workflow starts with, and what the web UI's Check prices. Refusals are 400s
 * naming the field (costCentre, lines.<i>, lines.<i>.vendorId).
 */
export async function purchaseSubmissionOf(db: Database, body: PurchaseRequestBody): Promise<{ submission: PurchaseSubmission; costCentreCode: string }> {
  const costCentre = await findCostCentreByCode(db, body.costCentre);
  if (!costCentre) throw badRequest(`costCentre: no cost centre ${body.costCentre}`, [{ path: 'costCentre', message: 'unknown cost centre' }]);
  return {
    submission: {
      costCentreId: costCentre.id,
      justification: body.justification,
      programme: body.programme ?? null,
      currency: body.currency,
      lines: await resolveLines(db, body.lines),
    },
    costCentreCode: body.costCentre,
  };
}

/**
 * What the API and the web UI do with a purchase request, each the same for both: submit it,
 * show it, cancel it, answer its licence reuse offer, and record or cancel its orders. `req`
 * carries the caller's Idempotency-Key, when there is one; a web form, which cannot send the
 * header, passes its own key as `formKey` (see commandRequestId).
 */
export function purchaseCommands(deps: PurchaseRouteDeps) {
  const { db, temporal, processStates, taskQueue } = deps;
  const handle = (row: { workflow_id: string }) => temporal.workflow.getHandle(row.workflow_id);
  const command = <T>(row: { number: string }, what: string, send: () => Promise<T>) => commandWithinDeadline(temporal, `${what} ${row.number}`, send);

  async function findRequest(id: string): Promise<PurchaseRequestRow> {
    const row = await findPurchaseRequest(db, id);
    if (!row) throw notFound(`no purchase request ${id}`);
    return row;
  }

  async function findOrder(id: string) {
    const order = await findPurchaseOrder(db, id);
    if (!order) throw notFound(`no purchase order ${id}`);
    return order;
  }

  return {
    findRequest,
    findOrder,

    /** The request from the database with the workflow's live status (or why it is not there). */
    async detail(row: { id: string; workflow_id: string }) {
      const [request, live] = await Promise.all([
        purchaseDetail(db, row.id),
        liveStatusWithinDeadline<PurchaseStatus>(temporal, () => handle(row).query(purchaseStatusQuery)),
      ]);
      return { ...request, ...live };
    },

    /**
     * Reserves the number and starts the workflow with the checked submission; waits a while for it
     * to register the request. `idempotencyKey` is a web form's, which cannot send the header.
     */
    async submit(principal: Principal, req: Request, body: PurchaseRequestBody, idempotencyKey?: string): Promise<Submitted> {
      const { submission } = await purchaseSubmissionOf(db, body);
      return submit({ db, temporal, processStates }, {
        requesterId: principal.id,
        req,
        idempotencyKey,
        process: PURCHASE_PROCESS,
        reserveNumber: () => reservePurchaseNumber(db),
        workflowIdOf: purchaseWorkflowId,
        start: ({ subjectId, number, workflowId }) =>
          temporal.workflow.start<typeof purchaseRequestWorkflow>('purchaseRequestWorkflow', {
            workflowId,
            taskQueue,
            workflowIdConflictPolicy: 'USE_EXISTING',
            args: [{
              purchaseRequestId: subjectId, number, requesterId: principal.id, requesterEmail: principal.email,
              timings: deps.approvalTimings.normal, reuseOfferTimeoutMs: deps.reuseOfferTimeoutMs, submission,
            }],
            typedSearchAttributes: [
              { key: processTypeKey, value: PURCHASE_PROCESS },
              { key: processStateKey, value: 'submitted' },
              { key: businessNumberKey, value: number },
              { key: requesterKey, value: principal.email },
            ],
          }),
      });
    },

    async cancel(principal: Principal, req: Request, id: string, reason: string, formKey?: string): Promise<PurchaseStatus> {
      const row = await findRequest(id);
      if (row.requester_id !== principal.id && !hasAnyRole(principal, OVERSEERS)) throw forbidden('only the requester or a process owner can cancel it');
      const requestId = await commandRequestId(db, principal.id, req, row.workflow_id, formKey);
      return command(row, 'cancelling', () =>
        handle(row).executeUpdate(cancelPurchaseUpdate, { args: [{ actorEmail: principal.email, reason }], updateId: requestId }));
    },

    async answerReuseOffer(principal: Principal, req: Request, id: string, accept: boolean, formKey?: string): Promise<PurchaseStatus> {
      const row = await findRequest(id);
      if (row.requester_id !== principal.id) throw forbidden('only the requester answers a licence reuse offer');
      const requestId = await commandRequestId(db, principal.id, req, row.workflow_id, formKey);
      return command(row, 'answering the licence reuse offer of', () =>
        handle(row).executeUpdate(answerReuseOfferUpdate, { args: [{ actorEmail: principal.email, accept }], updateId: requestId }));
    },

    async recordReceipt(principal: Principal, req: Request, orderId: string, body: ReceiptBody, formKey?: string): Promise<ReceiptOutcome> {
      const order = await findOrder(orderId);
      const sod = segregationRefusal('receipt', principal.id, order.requester_id);
      if (sod) throw segregationRefused(sod);
      // A cancelled order never changes and never received anything (so no receipt on it is a retry
      // to answer): refuse from its row, without asking a workflow that may have finished (which could
      // only say so, not why). A completed order still answers retries of its receipts through the workflow.
      const cancelled = order.state === 'cancelled' && checkReceipt({ orderState: order.state, lines: [], receipt: body.lines, knownSerials: [] });
      if (cancelled) throw conflict('receipt_refused', cancelled.message, { rule: cancelled.rule, ...cancelled.details });
      const requestId = await commandRequestId(db, principal.id, req, order.workflow_id, formKey);
      return command(order, 'recording a receipt on', () =>
        handle(order).executeUpdate(recordReceiptUpdate, {
          args: [{ purchaseOrderId: order.id, receivedById: principal.id, actorEmail: principal.email, requestId, lines: body.lines }],
          updateId: requestId,
        }));
    },

    async cancelOrder(principal: Principal, req: Request, orderId: string, reason: string, formKey?: string): Promise<PurchaseStatus> {
      const order = await findOrder(orderId);
      const requestId = await commandRequestId(db, principal.id, req, order.workflow_id, formKey);
      return command(order, 'cancelling', () =>
        handle(order).executeUpdate(cancelOrderUpdate, {
          args: [{ actorEmail: principal.email, purchaseOrderId: order.id, reason }],
          updateId: requestId,
        }));
    },
  };
}

/** Who may record a delivery, and who may cancel an order. */
export const RECEIVERS = ['asset_manager', 'admin'] as const satisfies readonly Role[];
export const ORDER_CANCELLERS = ['asset_manager', 'process_owner', 'admin'] as const satisfies readonly Role[];

export function registerPurchaseRoutes(routes: RouteRegistry, deps: PurchaseRouteDeps): void {
  const { db, temporal } = deps;
  const purchases = purchaseCommands(deps);

  routes.add(
    {
      method: 'post', path: '/purchase-requests', tag: 'procurement', access: 'authenticated',
      summary: 'Ask for hardware or software: it is priced, checked against the budget and spare licences, and routed for approval',
      body: purchaseRequestBody,
      responses: {
        201: 'the purchase request, registered by its workflow',
        202: 'the workflow started but has not registered the request yet (no worker answered in time): follow Location',
        400: 'bad input, unknown item or vendor, retired or inactive vendor',
      },
    },
    async ({ body, principal, req, res }) => {
      const submitted = await purchases.submit(principal, req, body);
      const { reserved } = submitted;
      return answerSubmission(res, submitted, `/purchase-requests/${reserved.number}`, () => purchases.detail({ id: reserved.subjectId, workflow_id: reserved.workflowId }));
    },
  );

  routes.add(
    {
      method: 'get', path: '/purchase-requests', tag: 'procurement', access: 'authenticated',
      summary: 'List purchase requests; requesters see their own, process owners and asset managers all',
      query: pageQuery.extend({ state: z.enum(PURCHASE_STATES).optional(), mine: z.enum(['true', 'false']).optional() }),
      responses: { 200: 'a page of purchase requests' },
    },
    async ({ query, principal }) => {
      const requesterId = !hasAnyRole(principal, OVERSEERS) || query.mine === 'true' ? principal.id : undefined;
      return listPurchaseRequests(db, { requesterId, state: query.state }, query);
    },
  );

  routes.add(
    {
      method: 'get', path: '/purchase-requests/:id', tag: 'procurement', access: 'authenticated',
      summary: 'A purchase request with its lines and prices, budget check, approvals, orders, receipts, live status and history',
      params: requestParams,
      responses: { 200: 'the purchase request', 403: 'not yours to see', 404: 'no such request' },
    },
    async ({ params, principal }) => {
      const row = await purchases.findRequest(params.id);
      if (!(await maySeeRequest(db, principal, { subjectId: row.id, requesterId: row.requester_id }))) throw forbidden('you can see the purchase requests you made or are asked to approve');
      return purchases.detail(row);
    },
  );

  routes.add(
    {
      method: 'post', path: '/purchase-requests/:id/cancel', tag: 'procurement', access: 'authenticated',
      summary: 'Cancel a purchase request until a purchase order is issued',
      params: requestParams,
      body: reasonBody,
      responses: { 200: 'the request, cancelled', 403: 'not yours', 409: 'orders were issued, or it has ended' },
    },
    async ({ params, body, principal, req }) => purchases.cancel(principal, req, params.id, body.reason),
  );

  routes.add(
    {
      method: 'post', path: '/purchase-requests/:id/licence-reuse', tag: 'procurement', access: 'authenticated',
      summary: 'Accept or decline the spare licences offered: accepting assigns existing seats and shrinks the order',
      params: requestParams,
      body: reuseAnswerBody,
      responses: { 200: 'the request after the answer', 403: 'not yours', 409: 'no offer is waiting' },
    },
    async ({ params, body, principal, req }) => purchases.answerReuseOffer(principal, req, params.id, body.accept),
  );

  routes.add(
    {
      method: 'post', path: '/purchase-requests/:id/approvals/:approvalId/decision', tag: 'procurement', access: 'authenticated',
      summary: 'Approve or reject an approval assigned to you (the same decision as the emailed link)',
      params: requestParams.extend({ approvalId: z.uuid() }),
      body: decisionBody,
      responses: { 200: 'the decision', 403: 'not your approval, or your own request', 404: 'no such approval', 409: 'already decided' },
    },
    async ({ params, body, principal }) => {
      const row = await purchases.findRequest(params.id);
      if ((await findApproval(db, params.approvalId))?.subject_id !== row.id) throw notFound(`no approval ${params.approvalId} on ${row.number}`);
      return decideApproval(db, temporal, { approvalId: params.approvalId, actorId: principal.id, decision: body.decision, comment: body.comment, via: 'api' });
    },
  );

  const orderParams = z.object({ id: z.string().min(1).max(64).describe('purchase order id (uuid) or number (PO0001001)') });

  routes.add(
    {
      method: 'post', path: '/purchase-orders/:id/receipts', tag: 'procurement', access: RECEIVERS,
      summary: 'Record goods received: hardware units with one serial each become assets in stock, software becomes entitlements',
      params: orderParams,
      body: receiptBody,
      responses: { 200: 'what the receipt created', 404: 'no such order', 409: 'refused: more than ordered, a known serial, a cancelled order (details.rule)' },
    },
    async ({ params, body, principal, req }) => purchases.recordReceipt(principal, req, params.id, body),
  );

  routes.add(
    {
      method: 'post', path: '/purchase-orders/:id/cancel', tag: 'procurement', access: ORDER_CANCELLERS,
      summary: 'Cancel a purchase order nothing was received on; its commitment is released',
      params: orderParams,
      body: reasonBody,
      responses: { 200: 'the request after the cancellation', 404: 'no such order', 409: 'something was received on it' },
    },
    async ({ params, body, principal, req }) => purchases.cancelOrder(principal, req, params.id, body.reason),
  );
}
