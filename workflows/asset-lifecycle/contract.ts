/**
 * The asset lifecycle workflow's contract: what the API, the workflow, its activities and the
 * tests agree on. One long-running workflow per asset serialises its transitions and holds its
 * warranty and lease reminder timers.
 */
import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import type {
  AssetState,
  AssetSubstate,
  DataWipeAttestation,
  TransitionRequest,
} from '../../domain/asset-lifecycle';

export const ASSET_LIFECYCLE_PROCESS = 'asset_lifecycle';

export const assetLifecycleWorkflowId = (assetTag: string): string => `asset:${assetTag}`;

/** The asset as the workflow knows it; the database row is its projection. */
export interface LifecycleAsset {
  state: AssetState;
  substate: AssetSubstate | null;
  assignedToId: string | null;
  version: number;
  warrantyEnd: string | null;
  leaseEnd: string | null;
}

export interface ReminderSettings {
  warrantyDaysBefore: number;
  leaseDaysBefore: number;
}

export interface AssetLifecycleInput {
  assetId: string;
  assetTag: string;
  /** The asset when the workflow (or a continued run) starts. */
  asset: LifecycleAsset;
  reminders: ReminderSettings;
  /** Reminder keys already sent by an earlier run, carried over continue-as-new. */
  remindersSent?: string[];
  /** The record version of the end-of-term dates an earlier run was told, carried over continue-as-new. */
  endOfTermDatesVersion?: number;
  /** A missing candidacy an earlier run was told and has not ended, carried over continue-as-new. */
  missingCandidate?: MissingCandidate;
}

export interface TransitionCommand extends TransitionRequest {
  /** Email of the person asking; recorded as the actor. */
  requestedBy: string;
  /** Makes every write of this transition idempotent; the API uses it as the update id too. */
  requestId: string;
}

export interface TransitionOutcome {
  assetId: string;
  from: { state: AssetState; substate: AssetSubstate | null };
  to: { state: AssetState; substate: AssetSubstate | null };
  assignedToId: string | null;
  bookValueMinor?: number;
  reclaimedConsumptions?: number;
  securityNoticeSent?: boolean;
}

export interface AssetLifecycleStatus {
  assetId: string;
  assetTag: string;
  asset: LifecycleAsset;
  transitionInProgress: boolean;
  remindersSent: string[];
  nextReminder: { kind: string; remindAt: string; endDate: string } | null;
  /** The feeds stopped seeing the asset: a candidate for the missing state until someone decides or a feed sees it again. */
  missingCandidate: MissingCandidate | null;
}

export interface AssetLifecycleResult {
  assetId: string;
  finalState: AssetState;
  finalSubstate: AssetSubstate | null;
}

/**
 * An asset's warranty and lease end as an edit of its record left them (read after the write), with
 * the record version they were read at: signals may arrive out of order, and an older one is ignored.
 */
export interface EndOfTermDatesChange {
  warrantyEnd: string | null;
  leaseEnd: string | null;
  recordVersion: number;
}

/** The sources that watch a record stopped seeing it (the unseen watch): when each last did, newest first. */
export interface MissingCandidate {
  since: string;
  lastSeen: { source: string; lastSeenAt: string }[];
}

/** A source sees a missing candidate again. */
export interface SeenAgain {
  seenAt: string;
  source: string;
}

export const transitionUpdate = defineUpdate<TransitionOutcome, [TransitionCommand]>('transition');
export const lifecycleStatusQuery = defineQuery<AssetLifecycleStatus>('status');
/** The record's warranty or lease end was edited (API, web form, import): the reminders follow the new dates. */
export const endOfTermDatesChangedSignal = defineSignal<[EndOfTermDatesChange]>('endOfTermDatesChanged');
/** Every feed that watches the asset stopped seeing it: it becomes a candidate for the missing state, told once; its state does not change. */
export const missingCandidateSignal = defineSignal<[MissingCandidate]>('missingCandidate');
/** A feed sees the asset again: its missing candidacy, if any, ends. */
export const seenAgainSignal = defineSignal<[SeenAgain]>('seenAgain');

/** Failure types shared by workflow, activities and API (which maps them to HTTP answers). */
export const LifecycleFailure = {
  transitionRefused: 'TransitionRefused',
  assetNotFound: 'AssetNotFound',
  assetChangedElsewhere: 'AssetChangedElsewhere',
} as const;


/** Activity inputs: each carries the idempotency key its writes are keyed by. */
export interface RecordTransitionInput {
  idempotencyKey: string;
  workflowId: string;
  assetId: string;
  expectedVersion: number;
  actor: string;
  from: { state: AssetState; substate: AssetSubstate | null };
  to: { state: AssetState; substate: AssetSubstate | null };
  assignedToId: string | null;
  note?: string;
  dataWipeAttestation?: DataWipeAttestation;
}

export interface RecordTransitionResult {
  version: number;
  retiredAt: string | null;
}

export interface RetirementEffectInput {
  idempotencyKey: string;
  workflowId: string;
  assetId: string;
  actor: string;
}

export interface SecurityNoticeInput extends RetirementEffectInput {
  /** Who had the asset before it was retired: the person security will want to talk to. */
  lastAssignedToId: string | null;
}

export interface ReminderInput {
  idempotencyKey: string;
  workflowId: string;
  assetId: string;
  kind: 'warranty' | 'lease';
  endDate: string;
}
