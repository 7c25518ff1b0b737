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
import { segregationRefusal } from '../../domain/segregation';
import { CANCELLABLE_STATES, type PurchaseAssessment, type PurchaseFinalState, type PurchaseState } from '../../domain/procurement';
import { CROSS_WORKFLOW_STEP, DATABASE_STEP } from '../activity-options';
import { approvalSteps } from '../approvals/steps';
import { StepInterrupted, StepRefused, attentionGuard } from '../attention/guard';
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

const activities = proxyActivities<PurchaseRequestActivities>(DATABASE_STEP);
const crossWorkflow = proxyActivities<PurchaseRequestActivities>(CROSS_WORKFLOW_STEP);

/** How long a cancel waits for the request to end before it answers with where the request stands. */
const CANCEL_ANSWER_WITHIN_MS = 10_000;

const SYSTEM = 'system:procurement-workflow';

/** How long a command on an order being issued waits for the workflow to hear back from issuing it. */
const ORDER_ISSUE_WAIT = '60 seconds';

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

  // An order's row exists a moment before the workflow hears back from issuing it, and people act
  // on the row: a command on an order being issued waits for the issue instead of being refused.
  let issuingOrders = false;
  const mayBeOurs = (purchaseOrderId: string) => issuingOrders || orders.some((o) => o.purchaseOrderId === purchaseOrderId);
  async function ourOrder(purchaseOrderId: string): Promise<IssuedOrder & { state: string }> {
    // Only while issuing: a condition with a timeout starts a timer, which histories without the wait do not have.
    if (issuingOrders) await condition(() => !issuingOrders, ORDER_ISSUE_WAIT);
    const order = orders.find((o) => o.purchaseOrderId === purchaseOrderId);
    if (!order) throw refuse('state', 'this purchase order does not belong to the request');
    return order;
  }

  // Set once the request is being ended: its last steps wait out a stall even though it was cancelled.
  let ending = false;
  const guard = attentionGuard({
    subjectType: 'purchase_request',
    subjectId: purchaseRequestId,
    interrupted: () => cancellation !== null && !ending,
  });

  const approvals = approvalSteps({
    workflowId,
    subjectType: 'purchase_request',
    subjectId: purchaseRequestId,
    requesterId: input.requesterId,
    timings: input.timings,
    interrupted: () => cancellation !== null,
    state: () => state,
    guard,
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
    attention: guard.attention(),
    cancellationRequested: cancellation !== null,
  });

  /** The workflow's own path runs its steps through the guard; an update handler, whose caller waits, does not. */
  type Path = 'own' | 'handler';
  const inPath = <T>(path: Path, name: string, work: () => Promise<T>): Promise<T> =>
    path === 'own' ? guard.run(name, work, { interruptible: !ending }) : work();

  async function moveTo(to: PurchaseState, actor = SYSTEM, why?: string, path: Path = 'own'): Promise<void> {
    await inPath(path, `move to ${to}`, () => activities.recordPurchaseState({ ...base(`state:${state}->${to}`), actor, from: state, to, outcome: why }));
    state = to;
    if (why) outcome = why;
    upsertSearchAttributes([{ key: processStateKey, value: to }]);
  }
  const notify = (key: string, notice: PurchaseNotice, path: Path = 'own') =>
    inPath(path, `notify the requester (${notice.kind})`, () => activities.notifyPurchaser({ ...base(`notice:${key}`), notice }));
  async function end(to: PurchaseFinalState, actor: string, why: string): Promise<void> {
    ending = true;
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
      cancellation ??= command;
      // A request whose step waits for attention may take a while to end: the caller hears where it stands.
      // Histories recorded before this waited for the end, with no timer.
      if (patched('cancel-answers-within-a-bound')) await condition(() => isFinalState('procurement', state), CANCEL_ANSWER_WITHIN_MS);
      else await condition(() => isFinalState('procurement', state));
      return status();
    },
    {
      validator: (_command) => {
        // A cancel repeated (a client that timed out and retried) is answered with where the request stands.
        if (cancellation && !isFinalState('procurement', state)) return;
        if (!CANCELLABLE_STATES.includes(state as (typeof CANCELLABLE_STATES)[number])) {
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
        const order = await ourOrder(command.purchaseOrderId);
        if (order.state !== 'issued') throw refuse('state', `the order is ${order.state}: only an order with nothing received can be cancelled`);
        await activities.cancelPurchaseOrder({ ...base(`order:${order.purchaseOrderId}:cancel`), purchaseOrderId: order.purchaseOrderId, actor: command.actorEmail, reason: command.reason });
        order.state = 'cancelled';
        return status();
      }),
    {
      validator: (command) => {
        if (!mayBeOurs(command.purchaseOrderId)) throw refuse('state', 'this purchase order does not belong to the request');
        const order = orders.find((o) => o.purchaseOrderId === command.purchaseOrderId);
        if (order && order.state !== 'issued') throw refuse('state', `the order is ${order.state}: only an order with nothing received can be cancelled`);
      },
    },
  );

  setHandler(
    recordReceiptUpdate,
    (receipt) =>
      exclusively(async (): Promise<ReceiptOutcome> => {
        await ourOrder(receipt.purchaseOrderId);
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
              await crossWorkflow.stockReceivedAsset({ ...base(`${key}:stock:${serialNumber}`), assetId: unit.assetId, actor: receipt.actorEmail });
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
        if (progress.requestState !== state && progress.requestState !== 'ordering') await moveTo(progress.requestState, receipt.actorEmail, undefined, 'handler');
        await notify(`received:${receipt.requestId}`, { kind: 'received', complete: progress.requestState === 'received' }, 'handler');
        return { receiptIds: recorded.map((r) => r.receiptId), assetIds, entitlementIds, orderState: progress.orderState, requestState: state };
      }),
    {
      validator: (receipt) => {
        const sod = segregationRefusal('receipt', receipt.receivedById, input.requesterId);
        if (sod) throw refuse(sod.rule, sod.message);
        if (state !== 'ordering' && state !== 'partially_received') throw refuse('state', `receipts are recorded once ordered, not in ${state}`);
        if (!mayBeOurs(receipt.purchaseOrderId)) throw refuse('state', 'this purchase order does not belong to the request');
      },
    },
  );

  const cancelled = () => cancellation !== null;
  async function endCancelled(): Promise<PurchaseResult> {
    const { actorEmail, reason } = cancellation as unknown as CancelPurchaseCommand;
    ending = true;
    await approvals.closeAll(0, `${workflowId}:cancel:approvals`);
    await end('cancelled', actorEmail, reason);
    return finish();
  }
  async function finish(): Promise<PurchaseResult> {
    await condition(allHandlersFinished);
    return { purchaseRequestId, state, outcome: outcome ?? state };
  }

  /** The request's own path, from registration to the last receipt. */
  async function proceed(): Promise<PurchaseResult> {
    // The workflow writes its request row from the first (ARCHITECTURE.md, "Who writes what");
    // requests submitted before that were registered by the API and carry no submission.
    if (patched('registered-by-its-workflow') && input.submission && input.requesterEmail) {
      const { number, requesterId, requesterEmail, submission } = input;
      await guard.run('register', () => activities.registerPurchaseRequest({ ...base('register'), number, requesterId, requesterEmail, submission }), { refusal: 'fail' });
    }
    await notify('receipt', { kind: 'receipt' });
    await moveTo('budget_check');
    let check: PurchaseCheck = await guard.run('budget check', () => activities.checkPurchase(base('check')));
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
        const reused = await guard.run('reuse spare seats', () => activities.reuseSpareSeats({ ...base('reuse'), actor: answer.actorEmail }));
        check = await guard.run('budget check', () => activities.checkPurchase(base('check-after-reuse')));
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
    const plan = await guard.run('plan approvals', () => activities.planPurchaseApprovals({ ...base('plan'), subject: check.subject }));
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
    issuingOrders = true;
    let issued: IssuedOrder[];
    try {
      issued = await guard.run('issue purchase orders', () => activities.issuePurchaseOrders(base('orders')));
      orders.push(...issued.map((o) => ({ ...o, state: 'issued' })));
    } finally {
      issuingOrders = false;
    }
    for (const order of issued) {
      await guard.run(`send ${order.number}`, () => activities.sendPurchaseOrder({ ...base(`order:${order.purchaseOrderId}:email`), purchaseOrderId: order.purchaseOrderId }));
    }
    await notify('ordered', { kind: 'ordered', orders: issued.map((o) => o.number) });

    // Receipts arrive as updates; the request is done when every order not cancelled is received.
    const allCancelled = () => orders.every((o) => o.state === 'cancelled');
    await condition(() => state === 'received' || allCancelled());
    await condition(allHandlersFinished);
    if (state !== 'received') {
      await end('cancelled', SYSTEM, 'every purchase order was cancelled');
      return finish();
    }
    await guard.run('close purchase orders', () => activities.closePurchaseOrders(base('close-orders')));
    await end('closed', SYSTEM, 'received in full');
    return finish();
  }

  try {
    return await proceed();
  } catch (error) {
    if (error instanceof StepInterrupted && cancelled()) return endCancelled();
    if (!(error instanceof StepRefused)) throw error;
    if (isFinalState('procurement', state)) {
      await guard.reportRefusal(error, state);
      return finish();
    }
    // Bad data no retry can mend: the request ends, with the reason for the requester and the owners.
    const endedAs = state === 'ordering' || state === 'partially_received' ? 'cancelled' : 'rejected';
    await guard.reportRefusal(error, endedAs);
    await end(endedAs, SYSTEM, `${error.step} failed: ${error.reason}`);
    return finish();
  }
}
