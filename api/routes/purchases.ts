import { randomUUID } from 'node:crypto';
import type { Client } from '@temporalio/client';
import type { Knex } from 'knex';
import { z } from 'zod';
import { PURCHASE_STATES } from '../../domain/procurement';
import { approvalsOf } from '../../model/changes';
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
} from '../../workflows/purchase-request/contract';
import type { purchaseRequestWorkflow } from '../../workflows/purchase-request/workflow';
import { decideApproval } from '../approval-decisions';
import { OVERSEERS, hasAnyRole, maySeeRequest } from '../auth';
import { badRequest, forbidden, notFound } from '../errors';
import { pageQuery, paginate } from '../pagination';
import type { RouteRegistry } from '../routes-registry';

export interface PurchaseRouteDeps {
  db: Knex;
  temporal: Client;
  taskQueue: string;
  approvalTimings: { normal: ApprovalTimings };
  reuseOfferTimeoutMs: number;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

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

const createBody = z.strictObject({
  costCentre: z.string().trim().min(1).max(32).describe('cost centre code that pays'),
  justification: z.string().trim().min(3).max(5000),
  programme: z.string().trim().min(1).max(200).optional().describe('portfolio programme (COBIT BAI01)'),
  currency: z.string().regex(/^[A-Z]{3}$/).default('EUR'),
  lines: z.array(lineBody).min(1).max(100),
});

const receiptBody = z.strictObject({
  lines: z
    .array(z.strictObject({ lineId: z.uuid(), quantity: z.number().int().min(1).max(10_000), serialNumbers: z.array(z.string().trim().min(1).max(100)).max(10_000).default([]) }))
    .min(1)
    .max(100),
});

const requestParams = z.object({ id: z.string().min(1).max(64).describe('purchase request id (uuid) or number (PR0001001)') });

async function findRequest(db: Knex, id: string) {
  const row = await db('purchase_requests').where(UUID.test(id) ? { id } : { number: id.toUpperCase() }).first();
  if (!row) throw notFound(`no purchase request ${id}`);
  return row;
}

/** Resolves each line's catalogue item and vendor; refuses unknown items, unknown vendors and inactive ones. */
async function resolveLines(db: Knex, lines: z.output<typeof lineBody>[]) {
  const problems: { path: string; message: string }[] = [];
  const resolved = [];
  for (const [i, line] of lines.entries()) {
    const item = line.hardwareModelId
      ? await db('hardware_models').where({ id: line.hardwareModelId }).first(db.raw(`manufacturer || ' ' || name AS description`), 'vendor_id')
      : line.softwareProductId
        ? await db('software_products').where({ id: line.softwareProductId }).first(db.raw(`publisher || ' ' || name AS description`), 'vendor_id')
        : { description: line.description, vendor_id: null };
    if (!item) {
      problems.push({ path: `lines.${i}`, message: 'unknown catalogue item' });
      continue;
    }
    const vendorId = line.vendorId ?? item.vendor_id;
    const vendor = vendorId ? await db('vendors').where({ id: vendorId }).first('active', 'name') : undefined;
    if (!vendor) problems.push({ path: `lines.${i}.vendorId`, message: vendorId ? `unknown vendor ${vendorId}` : 'the catalogue item has no vendor: name one' });
    else if (!vendor.active) problems.push({ path: `lines.${i}.vendorId`, message: `vendor ${vendor.name} is not active` });
    resolved.push({
      line_number: i + 1,
      hardware_model_id: line.hardwareModelId ?? null,
      software_product_id: line.softwareProductId ?? null,
      description: line.description ?? item.description,
      vendor_id: vendorId,
      quantity: line.quantity,
      unit_price_minor: line.hardwareModelId || line.softwareProductId ? 0 : line.quotedUnitPriceMinor!,
      price_source: line.hardwareModelId || line.softwareProductId ? 'list' : 'quoted',
    });
  }
  if (problems.length) throw badRequest(problems.map((p) => `${p.path}: ${p.message}`).join('; '), problems);
  return resolved;
}

export function registerPurchaseRoutes(routes: RouteRegistry, deps: PurchaseRouteDeps): void {
  const { db, temporal, taskQueue } = deps;
  const handle = (row: { workflow_id: string }) => temporal.workflow.getHandle(row.workflow_id);
  const requestIdOf = (req: { get(name: string): string | undefined }) => req.get('idempotency-key') ?? randomUUID();

  async function detail(row: { id: string; workflow_id: string }) {
    const [request, lines, approvals, orders, receipts, history, status] = await Promise.all([
      db('purchase_requests as p').join('people as r', 'r.id', 'p.requester_id').join('cost_centres as cc', 'cc.id', 'p.cost_centre_id').where('p.id', row.id)
        .first('p.id', 'p.number', 'p.state', 'p.outcome', 'p.justification', 'p.programme', 'p.currency', 'p.total_minor as totalMinor', 'p.assessment',
          'p.workflow_id as workflowId', 'p.created_at as createdAt', 'p.closed_at as closedAt', 'cc.code as costCentre',
          db.raw(`json_build_object('id', r.id, 'name', r.name, 'email', r.email) AS requester`)),
      db('purchase_request_lines').where({ purchase_request_id: row.id }).orderBy('line_number')
        .select('id', 'line_number as lineNumber', 'hardware_model_id as hardwareModelId', 'software_product_id as softwareProductId', 'description',
          'vendor_id as vendorId', 'quantity', 'reused_units as reusedUnits', 'unit_price_minor as unitPriceMinor', 'price_source as priceSource', 'contract_id as contractId'),
      approvalsOf(db, row.id),
      db('purchase_orders as o').join('vendors as v', 'v.id', 'o.vendor_id').where('o.purchase_request_id', row.id).orderBy('o.number')
        .select('o.id', 'o.number', 'o.state', 'v.name as vendor', 'o.amount_minor as amountMinor', 'o.received_minor as receivedMinor', 'o.currency', 'o.issued_at as issuedAt'),
      db('receipts as r').join('purchase_orders as o', 'o.id', 'r.purchase_order_id').where('o.purchase_request_id', row.id).orderBy('r.received_at')
        .select('r.id', 'o.number as order', 'r.purchase_request_line_id as lineId', 'r.quantity', 'r.serial_numbers as serialNumbers', 'r.received_at as receivedAt'),
      db('audit_log').where({ subject_type: 'purchase_request', subject_id: row.id }).orderBy('id')
        .select('occurred_at as occurredAt', 'actor', 'action', 'from_state as fromState', 'to_state as toState'),
      handle(row).query(purchaseStatusQuery).catch((): PurchaseStatus | null => null),
    ]);
    return { ...request, lines, approvals, orders, receipts, history, status };
  }

  routes.add(
    {
      method: 'post', path: '/purchase-requests', tag: 'procurement', access: 'authenticated',
      summary: 'Ask for hardware or software: it is priced, checked against the budget and spare licences, and routed for approval',
      body: createBody,
      responses: { 201: 'the purchase request, with its workflow started', 400: 'bad input, unknown item or vendor, inactive vendor' },
    },
    async ({ body, principal, req, res }) => {
      const idempotencyKey = req.get('idempotency-key');
      let row = idempotencyKey ? await db('purchase_requests').where({ idempotency_key: `${principal.id}:${idempotencyKey}` }).first() : undefined;
      const created = !row;
      if (!row) {
        const costCentre = await db('cost_centres').where({ code: body.costCentre }).first('id');
        if (!costCentre) throw badRequest(`costCentre: no cost centre ${body.costCentre}`, [{ path: 'costCentre', message: 'unknown cost centre' }]);
        const lines = await resolveLines(db, body.lines);
        row = await db.transaction(async (trx) => {
          const [inserted] = await trx('purchase_requests')
            .insert({
              requester_id: principal.id,
              cost_centre_id: costCentre.id,
              justification: body.justification,
              programme: body.programme ?? null,
              currency: body.currency,
              idempotency_key: idempotencyKey ? `${principal.id}:${idempotencyKey}` : null,
            })
            .returning(['id', 'number']);
          await trx('purchase_request_lines').insert(lines.map((l) => ({ ...l, purchase_request_id: inserted.id })));
          const [withWorkflow] = await trx('purchase_requests').where({ id: inserted.id }).update({ workflow_id: purchaseWorkflowId(inserted.number) }).returning('*');
          return withWorkflow;
        });
      }
      await temporal.workflow.start<typeof purchaseRequestWorkflow>('purchaseRequestWorkflow', {
        workflowId: row.workflow_id,
        taskQueue,
        workflowIdConflictPolicy: 'USE_EXISTING',
        args: [{ purchaseRequestId: row.id, number: row.number, requesterId: row.requester_id, timings: deps.approvalTimings.normal, reuseOfferTimeoutMs: deps.reuseOfferTimeoutMs }],
        typedSearchAttributes: [
          { key: processTypeKey, value: PURCHASE_PROCESS },
          { key: processStateKey, value: 'submitted' },
          { key: businessNumberKey, value: row.number },
          { key: requesterKey, value: principal.email },
        ],
      });
      res.status(created ? 201 : 200);
      return detail(row);
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
      const q = db('purchase_requests').orderBy('created_at', 'desc').orderBy('number', 'desc')
        .select('id', 'number', 'state', 'outcome', 'justification', 'currency', 'total_minor as totalMinor', 'requester_id as requesterId', 'created_at as createdAt');
      if (!hasAnyRole(principal, OVERSEERS) || query.mine === 'true') q.where('requester_id', principal.id);
      if (query.state) q.where('state', query.state);
      return paginate(q, query, (r) => r);
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
      const row = await findRequest(db, params.id);
      if (!(await maySeeRequest(db, principal, { subjectId: row.id, requesterId: row.requester_id }))) throw forbidden('you can see the purchase requests you made or are asked to approve');
      return detail(row);
    },
  );

  routes.add(
    {
      method: 'post', path: '/purchase-requests/:id/cancel', tag: 'procurement', access: 'authenticated',
      summary: 'Cancel a purchase request until a purchase order is issued',
      params: requestParams,
      body: z.strictObject({ reason: z.string().trim().min(1).max(2000) }),
      responses: { 200: 'the request, cancelled', 403: 'not yours', 409: 'orders were issued, or it has ended' },
    },
    async ({ params, body, principal, req }) => {
      const row = await findRequest(db, params.id);
      if (row.requester_id !== principal.id && !hasAnyRole(principal, OVERSEERS)) throw forbidden('only the requester or a process owner can cancel it');
      return handle(row).executeUpdate(cancelPurchaseUpdate, { args: [{ actorEmail: principal.email, reason: body.reason }], updateId: requestIdOf(req) });
    },
  );

  routes.add(
    {
      method: 'post', path: '/purchase-requests/:id/licence-reuse', tag: 'procurement', access: 'authenticated',
      summary: 'Accept or decline the spare licences offered: accepting assigns existing seats and shrinks the order',
      params: requestParams,
      body: z.strictObject({ accept: z.boolean() }),
      responses: { 200: 'the request after the answer', 403: 'not yours', 409: 'no offer is waiting' },
    },
    async ({ params, body, principal, req }) => {
      const row = await findRequest(db, params.id);
      if (row.requester_id !== principal.id) throw forbidden('only the requester answers a licence reuse offer');
      return handle(row).executeUpdate(answerReuseOfferUpdate, { args: [{ actorEmail: principal.email, accept: body.accept }], updateId: requestIdOf(req) });
    },
  );

  routes.add(
    {
      method: 'post', path: '/purchase-requests/:id/approvals/:approvalId/decision', tag: 'procurement', access: 'authenticated',
      summary: 'Approve or reject an approval assigned to you (the same decision as the emailed link)',
      params: requestParams.extend({ approvalId: z.uuid() }),
      body: z.strictObject({ decision: z.enum(['approved', 'rejected']), comment: z.string().trim().max(2000).optional() }),
      responses: { 200: 'the decision', 403: 'not your approval, or your own request', 404: 'no such approval', 409: 'already decided' },
    },
    async ({ params, body, principal }) => {
      const row = await findRequest(db, params.id);
      if (!(await db('approvals').where({ id: params.approvalId, subject_id: row.id }).first('id'))) throw notFound(`no approval ${params.approvalId} on ${row.number}`);
      return decideApproval(db, temporal, { approvalId: params.approvalId, actorId: principal.id, decision: body.decision, comment: body.comment, via: 'api' });
    },
  );

  async function findOrder(id: string) {
    const order = await db('purchase_orders as o').join('purchase_requests as p', 'p.id', 'o.purchase_request_id')
      .where(UUID.test(id) ? { 'o.id': id } : { 'o.number': id.toUpperCase() }).first('o.*', 'p.workflow_id');
    if (!order) throw notFound(`no purchase order ${id}`);
    return order;
  }
  const orderParams = z.object({ id: z.string().min(1).max(64).describe('purchase order id (uuid) or number (PO0001001)') });

  routes.add(
    {
      method: 'post', path: '/purchase-orders/:id/receipts', tag: 'procurement', access: ['asset_manager', 'admin'],
      summary: 'Record goods received: hardware units with one serial each become assets in stock, software becomes entitlements',
      params: orderParams,
      body: receiptBody,
      responses: { 200: 'what the receipt created', 404: 'no such order', 409: 'refused: more than ordered, a known serial, a cancelled order (details.rule)' },
    },
    async ({ params, body, principal, req }) => {
      const order = await findOrder(params.id);
      const requestId = requestIdOf(req);
      return handle(order).executeUpdate(recordReceiptUpdate, {
        args: [{ purchaseOrderId: order.id, receivedById: principal.id, actorEmail: principal.email, requestId, lines: body.lines }],
        updateId: requestId,
      });
    },
  );

  routes.add(
    {
      method: 'post', path: '/purchase-orders/:id/cancel', tag: 'procurement', access: ['asset_manager', 'process_owner', 'admin'],
      summary: 'Cancel a purchase order nothing was received on; its commitment is released',
      params: orderParams,
      body: z.strictObject({ reason: z.string().trim().min(1).max(2000) }),
      responses: { 200: 'the request after the cancellation', 404: 'no such order', 409: 'something was received on it' },
    },
    async ({ params, body, principal, req }) => {
      const order = await findOrder(params.id);
      return handle(order).executeUpdate(cancelOrderUpdate, {
        args: [{ actorEmail: principal.email, purchaseOrderId: order.id, reason: body.reason }],
        updateId: requestIdOf(req),
      });
    },
  );
}
