/**
 * Not seen for N days (issue 16): when a record the feeds report becomes a candidate for the
 * missing state. Pure: the sightings and each source's period arrive as data, so the unseen watch
 * and its tests decide alike.
 */
import { isUnseenTooLong } from './reconciliation';

const DAY_MS = 86_400_000;

/** When one source last reported a record. */
export interface Sighting {
  source: string;
  lastSeenAt: string;
}

/** Each source's period in days (inventory_sources.unseen_after_days); null or absent: the source never says a record went missing. */
export type UnseenPeriods = Readonly<Record<string, number | null | undefined>>;

export type MissingCandidacy =
  /** Every watching source has gone unseen past its period: when each last saw it, newest first. */
  | { candidate: true; lastSeen: Sighting[] }
  /** No source that reported it has a period (only HR or people report it): it never goes missing this way. */
  | { candidate: false; reason: 'no_watching_source' }
  /** A watching source still sees it within its period: the newest such sighting. */
  | { candidate: false; reason: 'still_seen'; seenBy: Sighting };

const newestFirst = (a: Sighting, b: Sighting) => Date.parse(b.lastSeenAt) - Date.parse(a.lastSeenAt) || a.source.localeCompare(b.source);

/**
 * Whether a record is a candidate for the missing state at `now`: every source that reported it
 * and has a period has gone unseen past that period, and there is at least one such source. One
 * source losing it is not enough (a laptop MDM still sees is not missing because discovery lost it).
 */
export function missingCandidacy(sightings: readonly Sighting[], periods: UnseenPeriods, now: string): MissingCandidacy {
  const periodOf = (source: string) => periods[source] ?? undefined;
  const watched = sightings.filter((s) => periodOf(s.source) !== undefined).sort(newestFirst);
  if (watched.length === 0) return { candidate: false, reason: 'no_watching_source' };
  const stillSeen = watched.find((s) => !isUnseenTooLong(s.lastSeenAt, periodOf(s.source), now));
  if (stillSeen) return { candidate: false, reason: 'still_seen', seenBy: { source: stillSeen.source, lastSeenAt: stillSeen.lastSeenAt } };
  return { candidate: true, lastSeen: watched.map((s) => ({ source: s.source, lastSeenAt: s.lastSeenAt })) };
}

/**
 * Whether a record told as a candidate has been seen again: a watching source reports it within
 * its period once more (a late batch counts as much as a fresh one). The sighting that says so, or
 * undefined while it is still a candidate, or when no source watches it any more (its candidacy
 * stays as told: nobody has seen it).
 */
export function seenAgain(sightings: readonly Sighting[], periods: UnseenPeriods, now: string): Sighting | undefined {
  const verdict = missingCandidacy(sightings, periods, now);
  return !verdict.candidate && verdict.reason === 'still_seen' ? verdict.seenBy : undefined;
}

/**
 * Whole days (of 24 hours) a source has not seen a record, when that is past the source's period;
 * undefined while within it, or when the source has no period. For records the watch never makes
 * candidates (no asset backs them), so their page can say they were lost.
 */
export function daysUnseenPastPeriod(lastSeenAt: string, periodDays: number | null | undefined, now: string): number | undefined {
  if (!isUnseenTooLong(lastSeenAt, periodDays ?? undefined, now)) return undefined;
  return Math.floor((Date.parse(now) - Date.parse(lastSeenAt)) / DAY_MS);
}

/**
 * Asset states the watch leaves alone: not arrived yet, missing already, or retired. Kept as the
 * watch's query and the lifecycle workflow both read it.
 */
export const UNWATCHED_ASSET_STATES = ['on_order', 'missing', 'retired'] as const;

/** Moves that settle a candidacy: the asset manager confirmed it missing, retired it, or found it and put it in stock. */
export const CANDIDACY_SETTLING_STATES = ['missing', 'retired', 'in_stock'] as const;

export const isWatchedState = (state: string): boolean => !(UNWATCHED_ASSET_STATES as readonly string[]).includes(state);
export const settlesCandidacy = (state: string): boolean => (CANDIDACY_SETTLING_STATES as readonly string[]).includes(state);
