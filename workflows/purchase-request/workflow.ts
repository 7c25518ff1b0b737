import {
  ApplicationFailure,
  allHandlersFinished,
  condition,
  patched,
  proxyActivities,
  setHandler,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import type { PurchaseRequestActivities } from '../../activities/purchase-request';
import { isFinalState } from '../../domain/processes';
import { CANCELLABLE_STATES, type PurchaseAssessment, type PurchaseFinalState, type PurchaseState } from '../../domain/procurement';
import { approvalSteps } from '../approvals/steps';
import { oneAtATime } from '../one-at-a-time';
import { processStateKey } from '../search-attributes';
import {
  PurchaseFailure,
  answerReuseOfferUpdate,
  cancelOrderUpdate,
  cancelPurchaseUpdate,
  purchaseStatusQuery,
  recordReceiptUpdate,
  type CancelPurchaseCommand,
  type IssuedOrder,
  type PurchaseCheck,
  type PurchaseNotice,
  type PurchaseRefusal,
  type PurchaseRequestInput,
  type PurchaseResult,
  type PurchaseStatus,
  type ReceiptOutcome,
  type ReuseAnswer,
} from './contract';

const activities = proxyActivities<PurchaseRequestActivities>({
  startToCloseTimeout: '15 seconds',
  retry: { initialInterval: '1 second', maximumInterval: '30 seconds', backoffCoefficient: 2 },
});

const SYSTEM = 'system:procurement-workflow';

function refuse(rule: PurchaseRefusal['rule'], message: string): ApplicationFailure {
  return ApplicationFailure.create({ type: PurchaseFailure.refused, message, details: [{ rule, message }], nonRetryable: true });
}

/**
 * One run per purchase request: price and check the budget, offer spare licences, authorize
 * through the shared approval steps, issue one purchase order per vendor, then take receipts
 * (assets into stock through their lifecycle workflow, entitlements, cost records) until
 * everything has arrived.
 */
export async function purchaseRequestWorkflow(input: PurchaseRequestInput): Promise<PurchaseResult> {
  const { workflowId } = workflowInfo();
  const { purchaseRequestId } = input;
  const base = (key: string) => ({ idempotencyKey: `${workflowId}:${key}`, workflowId, purchaseRequestId });

  let state = 'submitted' as PurchaseState;
  let outcome: string | null = null;
  let assessment: PurchaseAssessment | null = null;
  let reuseOfferOpen = false;
  let reuseAnswer: ReuseAnswer | null = null;
  let cancellation: CancelPurchaseCommand | null = null;
  const orders: (IssuedOrder & { state: string })[] = [];

  // Receipts one at a time: each checks what earlier ones received.
  const exclusively = oneAtATime().run;

  const approvals = approvalSteps({
    workflowId,
    subjectType: 'purchase_request',
    subjectId: purchaseRequestId,
    requesterId: input.requesterId,
    timings: input.timings,
    interrupted: () => cancellation !== null,
    state: () => state,
  });

  const status = (): PurchaseStatus => ({
    purchaseRequestId,
    number: input.number,
    state,
    outcome,
    assessment,
    reuseOfferOpen,
    currentStep: approvals.currentStep(),
    waitingFor: approvals.waitingFor(),
    orders: orders.map((o) => ({ purchaseOrderId: o.purchaseOrderId, number: o.number, vendorId: o.vendorId, state: o.state })),
  });

  async function moveTo(to: PurchaseState, actor = SYSTEM, why?: string): Promise<void> {
    await activities.recordPurchaseState({ ...base(`state:${state}->${to}`), actor, from: state, to, outcome: why });
    state = to;
    if (why) outcome = why;
    upsertSearchAttributes([{ key: processStateKey, value: to }]);
  }
  const notify = (key: string, notice: PurchaseNotice) => activities.notifyPurchaser({ ...base(`notice:${key}`), notice });
  async function end(to: PurchaseFinalState, actor: string, why: string): Promise<void> {
    await moveTo(to, actor, why);
    await notify('closed', { kind: 'closed', state: to, outcome: why });
  }

  setHandler(purchaseStatusQuery, status);

  setHandler(
    answerReuseOfferUpdate,
    async (answer) => {
      reuseAnswer = answer;
      await condition(() => !reuseOfferOpen);
      return status();
    },
    {
      validator: (_answer) => {
        if (!reuseOfferOpen) throw refuse('no_offer', 'there is no licence reuse offer waiting for an answer');
      },
    },
  );

  setHandler(
    cancelPurchaseUpdate,
    async (command) => {
      cancellation = command;
      await condition(() => isFinalState('procurement', state));
      return status();
    },
    {
      validator: (_command) => {
        if (!CANCELLABLE_STATES.includes(state as (typeof CANCELLABLE_STATES)[number]) || cancellation) {
          throw refuse('state', state === 'ordering' || state === 'partially_received'
            ? 'purchase orders have been issued: cancel an order instead'
            : `the request is ${state} and can no longer be cancelled`);
        }
      },
    },
  );

  setHandler(
    cancelOrderUpdate,
    (command) =>
      exclusively(async () => {
        const order = orders.find((o) => o.purchaseOrderId === command.purchaseOrderId)!;
        await activities.cancelPurchaseOrder({ ...base(`order:${order.purchaseOrderId}:cancel`), purchaseOrderId: order.purchaseOrderId, actor: command.actorEmail, reason: command.reason });
        order.state = 'cancelled';
        return status();
      }),
    {
      validator: (command) => {
        const order = orders.find((o) => o.purchaseOrderId === command.purchaseOrderId);
        if (!order) throw refuse('state', 'this purchase order does not belong to the request');
        if (order.state !== 'issued') throw refuse('state', `the order is ${order.state}: only an order with nothing received can be cancelled`);
      },
    },
  );

  setHandler(
    recordReceiptUpdate,
    (receipt) =>
      exclusively(async (): Promise<ReceiptOutcome> => {
        const refusal = await activities.checkPurchaseReceipt({ purchaseRequestId, receipt });
        if (refusal) {
          throw ApplicationFailure.create({ type: PurchaseFailure.receiptRefused, message: refusal.message, details: [refusal], nonRetryable: true });
        }
        const key = `receipt:${receipt.requestId}`;
        const recorded = await activities.recordReceipt({ ...base(key), receipt });
        const assetIds: string[] = [];
        const entitlementIds: string[] = [];
        for (const row of recorded) {
          if (row.kind === 'hardware') {
            for (const serialNumber of row.serialNumbers) {
              const unit = await activities.createReceivedAsset({ ...base(`${key}:asset:${serialNumber}`), receiptId: row.receiptId, serialNumber });
              await activities.stockReceivedAsset({ ...base(`${key}:stock:${serialNumber}`), assetId: unit.assetId, actor: receipt.actorEmail });
              assetIds.push(unit.assetId);
            }
          } else if (row.kind === 'software') {
            entitlementIds.push(await activities.createReceivedEntitlement({ ...base(`${key}:entitlement:${row.receiptId}`), receiptId: row.receiptId }));
          }
          await activities.recordPurchaseCost({ ...base(`${key}:cost:${row.receiptId}`), receiptId: row.receiptId });
        }
        const progress = await activities.updateReceivingProgress({ ...base(`${key}:progress`), purchaseOrderId: receipt.purchaseOrderId });
        const order = orders.find((o) => o.purchaseOrderId === receipt.purchaseOrderId);
        if (order) order.state = progress.orderState;
        if (progress.requestState !== state && progress.requestState !== 'ordering') await moveTo(progress.requestState, receipt.actorEmail);
        await notify(`received:${receipt.requestId}`, { kind: 'received', complete: progress.requestState === 'received' });
        return { receiptIds: recorded.map((r) => r.receiptId), assetIds, entitlementIds, orderState: progress.orderState, requestState: state };
      }),
    {
      validator: (receipt) => {
        if (state !== 'ordering' && state !== 'partially_received') throw refuse('state', `receipts are recorded once ordered, not in ${state}`);
        if (!orders.some((o) => o.purchaseOrderId === receipt.purchaseOrderId)) throw refuse('state', 'this purchase order does not belong to the request');
      },
    },
  );

  const cancelled = () => cancellation !== null;
  async function endCancelled(): Promise<PurchaseResult> {
    const { actorEmail, reason } = cancellation as unknown as CancelPurchaseCommand;
    await approvals.closeAll(0, `${workflowId}:cancel:approvals`);
    await end('cancelled', actorEmail, reason);
    return finish();
  }
  async function finish(): Promise<PurchaseResult> {
    await condition(allHandlersFinished);
    return { purchaseRequestId, state, outcome: outcome ?? state };
  }

  // The workflow writes its request row from the first (ARCHITECTURE.md, "Who writes what");
  // requests submitted before that were registered by the API and carry no submission.
  if (patched('registered-by-its-workflow') && input.submission && input.requesterEmail) {
    const { number, requesterId, requesterEmail, submission } = input;
    await activities.registerPurchaseRequest({ ...base('register'), number, requesterId, requesterEmail, submission });
  }
  await notify('receipt', { kind: 'receipt' });
  await moveTo('budget_check');
  let check: PurchaseCheck = await activities.checkPurchase(base('check'));
  assessment = check.assessment;
  if (check.problem) {
    await end('rejected', SYSTEM, check.problem);
    return finish();
  }
  if (cancelled()) return endCancelled();

  const offered = check.assessment.reuseOffer.reduce((sum, o) => sum + o.offeredUnits, 0);
  if (offered > 0) {
    reuseOfferOpen = true;
    await notify('reuse-offer', { kind: 'reuse_offer', offeredUnits: offered });
    await condition(() => reuseAnswer !== null || cancelled(), input.reuseOfferTimeoutMs);
    const answer = reuseAnswer as ReuseAnswer | null;
    if (answer?.accept && !cancelled()) {
      const reused = await activities.reuseSpareSeats({ ...base('reuse'), actor: answer.actorEmail });
      check = await activities.checkPurchase(base('check-after-reuse'));
      assessment = check.assessment;
      if (reused.fullyCovered) {
        reuseOfferOpen = false;
        await end('closed', answer.actorEmail, `satisfied from spare licences (${reused.seatsAssigned} seat(s) assigned)`);
        return finish();
      }
    }
    reuseOfferOpen = false;
  }
  if (cancelled()) return endCancelled();

  await moveTo('authorize', SYSTEM);
  const plan = await activities.planPurchaseApprovals({ ...base('plan'), subject: check.subject });
  if (plan.refusal) {
    await end('rejected', SYSTEM, plan.refusal);
    return finish();
  }
  const authorization = await approvals.run(plan.steps, 0);
  if (authorization === 'interrupted' || cancelled()) return endCancelled();
  if (authorization === 'rejected') {
    await end('rejected', SYSTEM, 'an approval step rejected the request or ran out of time');
    return finish();
  }
  await notify('approved', { kind: 'approved' });

  await moveTo('ordering');
  const issued = await activities.issuePurchaseOrders(base('orders'));
  orders.push(...issued.map((o) => ({ ...o, state: 'issued' })));
  for (const order of issued) await activities.sendPurchaseOrder({ ...base(`order:${order.purchaseOrderId}:email`), purchaseOrderId: order.purchaseOrderId });
  await notify('ordered', { kind: 'ordered', orders: issued.map((o) => o.number) });

  // Receipts arrive as updates; the request is done when every order not cancelled is received.
  const allCancelled = () => orders.every((o) => o.state === 'cancelled');
  await condition(() => state === 'received' || allCancelled());
  await condition(allHandlersFinished);
  if (state !== 'received') {
    await end('cancelled', SYSTEM, 'every purchase order was cancelled');
    return finish();
  }
  await activities.closePurchaseOrders(base('close-orders'));
  await end('closed', SYSTEM, 'received in full');
  return finish();
}
