/**
 * The unseen watch: a short workflow a Temporal Schedule starts every hour (platform/schedules.ts,
 * UNSEEN_WATCH_EVERY). Its activities tell each asset's lifecycle workflow, once, that every feed
 * watching one of its records stopped seeing it (a missing candidate), and that a feed sees a
 * candidate again.
 */
import type { MissingCandidate, SeenAgain } from '../asset-lifecycle/contract';

export const UNSEEN_WATCH_SCHEDULE_ID = 'unseen-watch';

/** Records one activity call tells at most. */
export const UNSEEN_WATCH_BATCH = 500;

/** Batches of each kind one run goes through at most; whatever is left the next run finds. */
export const UNSEEN_WATCH_BATCHES_PER_RUN = 40;

export interface UnseenWatchInput {
  /** Records per batch (UNSEEN_WATCH_BATCH when absent). */
  batchLimit?: number;
}

export interface UnseenWatchOutcome {
  /** Records found unseen past every watching source's period, not told before. */
  candidates: number;
  /** Of those, the ones this run told. */
  told: number;
  /** Candidates a source sees again, whose candidacy this run ended. */
  seenAgain: number;
}

/** One batch: records after `after` (a CI id, in id order), judged at `now`, the run's one instant. */
export interface UnseenBatchInput {
  now: string;
  after: string | null;
  limit: number;
}

export interface UnseenBatchOutcome {
  /** Records the batch looked at; fewer than the limit: none are left. */
  found: number;
  /** Of those, the ones it told their lifecycle workflow about. */
  told: number;
  /** The last record it looked at: the next batch starts after it. */
  last: string | null;
}

/** The lifecycle workflow's notice of a new candidacy: the audit row and the email, once per key. */
export interface MissingCandidateNoticeInput {
  idempotencyKey: string;
  workflowId: string;
  assetId: string;
  candidacy: MissingCandidate;
}

export type MissingCandidacyEnd =
  | { seenAgain: SeenAgain }
  | { movedTo: string; by: string };

export interface MissingCandidacyEndInput {
  idempotencyKey: string;
  workflowId: string;
  assetId: string;
  since: string;
  endedBy: MissingCandidacyEnd;
}
