/**
 * The purchase request workflow's contract: what the API, the workflow, its activities and the
 * tests agree on. One workflow per purchase request carries it from pricing and the budget check
 * through approval and ordering to the last receipt.
 */
import { defineQuery, defineUpdate } from '@temporalio/workflow';
import type { RoutingSubject } from '../../domain/approval-routing';
import type { PurchaseAssessment, PurchaseState, PurchaseSubmission, ReceiptRefusal } from '../../domain/procurement';
import type { ApprovalTimings, StepView } from '../approvals/contract';
import type { Attention } from '../attention/contract';

export const PURCHASE_PROCESS = 'procurement';

export const purchaseWorkflowId = (number: string): string => `purchase:${number}`;

export interface PurchaseRequestInput {
  purchaseRequestId: string;
  number: string;
  requesterId: string;
  timings: ApprovalTimings;
  /** How long a licence reuse offer waits for the requester before the request goes on without it. */
  reuseOfferTimeoutMs: number;
  /** What was submitted; the workflow registers the request row from it. Absent for requests the API registered itself (before 2026-11-29). */
  submission?: PurchaseSubmission;
  /** Present with a submission. */
  requesterEmail?: string;
}

export interface PurchaseStatus {
  purchaseRequestId: string;
  number: string;
  state: PurchaseState;
  outcome: string | null;
  assessment: PurchaseAssessment | null;
  /** Spare seats offered and not yet answered. */
  reuseOfferOpen: boolean;
  currentStep: StepView | null;
  waitingFor: string[];
  orders: { purchaseOrderId: string; number: string; vendorId: string; state: string }[];
  /** A step that ran out of retries and waits to be tried again; null when nothing is stalled. Absent in older workers' answers. */
  attention?: Attention | null;
  /** A cancel was accepted and the request ends as soon as its current step allows. */
  cancellationRequested?: boolean;
}

export interface PurchaseResult {
  purchaseRequestId: string;
  state: PurchaseState;
  outcome: string;
}

export interface ReuseAnswer {
  actorEmail: string;
  accept: boolean;
}

export interface CancelPurchaseCommand {
  actorEmail: string;
  reason: string;
}

export interface CancelOrderCommand {
  actorEmail: string;
  purchaseOrderId: string;
  reason: string;
}

export interface ReceiptLine {
  lineId: string;
  quantity: number;
  serialNumbers: string[];
}

export interface ReceiptCommand {
  purchaseOrderId: string;
  receivedById: string;
  actorEmail: string;
  /** The Idempotency-Key of the request; a retried receipt is recorded once. */
  requestId: string;
  lines: ReceiptLine[];
}

export interface ReceiptOutcome {
  receiptIds: string[];
  assetIds: string[];
  entitlementIds: string[];
  orderState: string;
  requestState: PurchaseState;
}

export const answerReuseOfferUpdate = defineUpdate<PurchaseStatus, [ReuseAnswer]>('answerReuseOffer');
export const cancelPurchaseUpdate = defineUpdate<PurchaseStatus, [CancelPurchaseCommand]>('cancel');
export const cancelOrderUpdate = defineUpdate<PurchaseStatus, [CancelOrderCommand]>('cancelOrder');
export const recordReceiptUpdate = defineUpdate<ReceiptOutcome, [ReceiptCommand]>('recordReceipt');
export const purchaseStatusQuery = defineQuery<PurchaseStatus>('status');

export const PurchaseFailure = {
  refused: 'PurchaseRefused',
  /** The submission broke a rule of the model (e.g. a vendor deleted after the API checked it): the request is never registered. */
  submissionRefused: 'SubmissionRefused',
  receiptRefused: 'ReceiptRefused',
} as const;

export interface PurchaseRefusal {
  rule: 'state' | 'no_offer' | 'segregation_of_duties';
  message: string;
}

export type { ReceiptRefusal };

// Activity inputs: each carries the idempotency key its writes are keyed by.

export interface PurchaseActivityBase {
  idempotencyKey: string;
  workflowId: string;
  purchaseRequestId: string;
}

export interface RegisterPurchaseInput extends PurchaseActivityBase {
  number: string;
  requesterId: string;
  requesterEmail: string;
  submission: PurchaseSubmission;
}

export interface PurchaseCheck {
  assessment: PurchaseAssessment;
  subject: RoutingSubject;
  /** A line whose item has no price in the request's currency, or a vendor that cannot be ordered from. */
  problem: string | null;
}

export interface PurchaseStateChangeInput extends PurchaseActivityBase {
  actor: string;
  from: PurchaseState;
  to: PurchaseState;
  outcome?: string;
  details?: Record<string, unknown>;
}

export interface ReuseInput extends PurchaseActivityBase {
  actor: string;
}

export interface ReuseResult {
  seatsAssigned: number;
  /** Nothing left to buy: every line was covered by spare seats. */
  fullyCovered: boolean;
}

export interface IssuedOrder {
  purchaseOrderId: string;
  number: string;
  vendorId: string;
  amountMinor: number;
}

export interface OrderInput extends PurchaseActivityBase {
  purchaseOrderId: string;
}

export interface ReceiptInput extends PurchaseActivityBase {
  receipt: ReceiptCommand;
}

export interface RecordedReceipt {
  receiptId: string;
  lineId: string;
  kind: 'hardware' | 'software' | 'other';
  quantity: number;
  serialNumbers: string[];
}

export interface ReceivedUnitInput extends PurchaseActivityBase {
  receiptId: string;
  serialNumber: string;
}

export interface ReceivedUnit {
  assetId: string;
  assetTag: string;
}

export interface ReceiptEffectInput extends PurchaseActivityBase {
  receiptId: string;
}

export interface ProgressInput extends PurchaseActivityBase {
  purchaseOrderId: string;
}

export interface PurchaseProgress {
  orderState: 'issued' | 'partially_received' | 'received';
  requestState: 'ordering' | 'partially_received' | 'received';
}

export type PurchaseNotice =
  | { kind: 'receipt' }
  | { kind: 'reuse_offer'; offeredUnits: number }
  | { kind: 'approved' }
  | { kind: 'ordered'; orders: string[] }
  | { kind: 'received'; complete: boolean }
  | { kind: 'closed'; state: PurchaseState; outcome: string };

export interface NotifyPurchaserInput extends PurchaseActivityBase {
  notice: PurchaseNotice;
}
