/**
 * What the unseen watch reads and marks (issue 16): the records backed by an asset that every
 * watching feed stopped seeing, the candidates a feed sees again, and who is told. The SQL only
 * narrows the records down, in CI id order and bounded; domain/unseen-records.ts judges each one.
 * A candidacy as the asset's page and API show it is the lifecycle workflow's latest audit row
 * about it, so it reads the same as the workflow's status.
 */
import type { Knex } from 'knex';
import { UNWATCHED_ASSET_STATES, daysUnseenPastPeriod, type Sighting, type UnseenPeriods } from '../../domain/unseen-records';
import type { MissingCandidate } from '../../workflows/asset-lifecycle/contract';
import { toAsset, type Asset, type AssetRow } from '../assets';

/** The audit actions that open and end a missing candidacy. */
export const MISSING_CANDIDATE_ACTION = 'missing_candidate';
export const MISSING_CANDIDACY_ENDED_ACTION = 'missing_candidate_ended';

/** Each source's period (days) after which a record it stopped seeing is a missing candidate; null where it has none. */
export async function unseenPeriods(db: Knex): Promise<UnseenPeriods> {
  const rows: { name: string; unseen_after_days: number | null }[] = await db('inventory_sources').select('name', 'unseen_after_days');
  return Object.fromEntries(rows.map((r) => [r.name, r.unseen_after_days]));
}

export interface WatchedRecord {
  ciId: string;
  asset: Asset;
  sightings: Sighting[];
  /** When it was told as a candidate; null when it was not. */
  candidateSince: string | null;
}

/**
 * A watching source (one with a period) that has seen the record within that period by `now`. A
 * period is days of 24 hours, as the rule counts them (isUnseenTooLong): calendar days would move
 * by an hour across a daylight saving change in the session time zone.
 */
const STILL_SEEN = `EXISTS (SELECT 1 FROM ci_sightings s JOIN inventory_sources src ON src.name = s.source
  WHERE s.ci_id = ci.id AND src.unseen_after_days IS NOT NULL AND s.last_seen_at >= ?::timestamptz - src.unseen_after_days * interval '24 hours')`;
const WATCHED = `EXISTS (SELECT 1 FROM ci_sightings s JOIN inventory_sources src ON src.name = s.source
  WHERE s.ci_id = ci.id AND src.unseen_after_days IS NOT NULL)`;
const TOLD = `EXISTS (SELECT 1 FROM ci_sightings s WHERE s.ci_id = ci.id AND s.missing_candidate_since IS NOT NULL)`;
/**
 * A data steward has an open case about the record: the feed may be reporting it only through the
 * held rows that wait for the case, so losing it says nothing until the case is settled.
 */
const AWAITING_STEWARD = `EXISTS (SELECT 1 FROM reconciliation_cases rc WHERE rc.state = 'open' AND ci.id = ANY (rc.ci_ids))`;

async function withSightings(db: Knex, rows: (AssetRow & { ci_id: string })[]): Promise<WatchedRecord[]> {
  if (rows.length === 0) return [];
  const sightings: { ci_id: string; source: string; last_seen_at: Date; missing_candidate_since: Date | null }[] = await db('ci_sightings')
    .whereIn('ci_id', rows.map((r) => r.ci_id))
    .select('ci_id', 'source', 'last_seen_at', 'missing_candidate_since');
  return rows.map(({ ci_id: ciId, ...asset }) => {
    const own = sightings.filter((s) => s.ci_id === ciId);
    const since = own.map((s) => s.missing_candidate_since).filter((d): d is Date => d !== null).sort((a, b) => a.getTime() - b.getTime())[0];
    return {
      ciId,
      asset: toAsset(asset as AssetRow),
      sightings: own.map((s) => ({ source: s.source, lastSeenAt: s.last_seen_at.toISOString() })),
      candidateSince: since ? since.toISOString() : null,
    };
  });
}

const recordsAfter = (db: Knex, after: string | null, limit: number) => db('configuration_items as ci')
  .join('assets as a', 'a.id', 'ci.asset_id')
  .modify((q) => {
    if (after) q.where('ci.id', '>', after);
  })
  .orderBy('ci.id')
  .limit(limit)
  .select('a.*', 'ci.id as ci_id');

/**
 * Records backed by an asset the watch looks after, not told yet and not waiting for a data
 * steward, that some source with a period reported and none has seen within its period at `now`:
 * at most `limit`, after the CI `after`.
 */
export async function untoldCandidates(db: Knex, input: { now: string; after: string | null; limit: number }): Promise<WatchedRecord[]> {
  const rows = await recordsAfter(db, input.after, input.limit)
    .whereNotIn('a.state', [...UNWATCHED_ASSET_STATES])
    .whereRaw(`NOT ${TOLD}`)
    .whereRaw(`NOT ${AWAITING_STEWARD}`)
    .whereRaw(WATCHED)
    .whereRaw(`NOT ${STILL_SEEN}`, [input.now]);
  return withSightings(db, rows);
}

/** Records told as candidates that a source with a period has seen within it at `now`: at most `limit`, after the CI `after`. */
export async function candidatesSeenAgain(db: Knex, input: { now: string; after: string | null; limit: number }): Promise<WatchedRecord[]> {
  const rows = await recordsAfter(db, input.after, input.limit)
    .whereRaw(TOLD)
    .whereRaw(STILL_SEEN, [input.now]);
  return withSightings(db, rows);
}

/** Marks a record told (every source's sighting, so a later one from any source is compared with it). False when it was told already. */
export async function markMissingCandidate(db: Knex, ciId: string, since: string): Promise<boolean> {
  const told = await db('ci_sightings').where({ ci_id: ciId }).whereNotNull('missing_candidate_since').first('ci_id');
  if (told) return false;
  return (await db('ci_sightings').where({ ci_id: ciId }).whereNull('missing_candidate_since').update({ missing_candidate_since: since })) > 0;
}

/** Ends the mark of a record told as a candidate; the next time every watching source loses it, it is told again. */
export async function clearMissingCandidate(db: Knex, ciId: string): Promise<void> {
  await db('ci_sightings').where({ ci_id: ciId }).whereNotNull('missing_candidate_since').update({ missing_candidate_since: null });
}

/** A source with a period that has lost a record past it. */
export interface LapsedSighting {
  source: string;
  title: string;
  lastSeenAt: string;
  periodDays: number;
  /** Whole days since the source last saw it. */
  daysUnseen: number;
}

/**
 * The sources with a period that lost a live record no asset backs (a virtual machine, a cloud
 * resource, an application), in the sources' order. The watch never makes such a record a missing
 * candidate (there is no asset to move nor a lifecycle workflow to tell), so its page says it
 * instead. Empty for a record an asset backs, whose losses the watch tells.
 */
export async function lapsedSightings(db: Knex, ciId: string, now: string): Promise<LapsedSighting[]> {
  const rows: { source: string; title: string; last_seen_at: Date; unseen_after_days: number }[] = await db('ci_sightings as s')
    .join('inventory_sources as src', 'src.name', 's.source')
    .join('configuration_items as ci', 'ci.id', 's.ci_id')
    .where('s.ci_id', ciId)
    .whereNull('ci.asset_id')
    .whereNull('ci.retired_at')
    .whereNotNull('src.unseen_after_days')
    .orderBy('src.position')
    .select('s.source', 'src.title', 's.last_seen_at', 'src.unseen_after_days');
  return rows.flatMap((r) => {
    const lastSeenAt = r.last_seen_at.toISOString();
    const daysUnseen = daysUnseenPastPeriod(lastSeenAt, r.unseen_after_days, now);
    return daysUnseen === undefined ? [] : [{ source: r.source, title: r.title, lastSeenAt, periodDays: r.unseen_after_days, daysUnseen }];
  });
}

/** Whom a missing candidate is told to: the asset's manager while active, else every active asset manager. */
export async function missingCandidateAddressees(db: Knex, assetId: string): Promise<{ name: string; email: string }[]> {
  const manager = await db('assets as a').join('people as p', 'p.id', 'a.managed_by_id')
    .where({ 'a.id': assetId, 'p.active': true }).first('p.name', 'p.email');
  if (manager) return [manager];
  return db('person_roles as pr').join('people as p', 'p.id', 'pr.person_id')
    .where({ 'pr.role': 'asset_manager', 'p.active': true }).orderBy(['p.name', 'p.id']).select('p.name', 'p.email');
}

/** The asset's missing candidacy as its lifecycle workflow last recorded it; null when none is open. */
export async function missingCandidacyOf(db: Knex, assetId: string): Promise<MissingCandidate | null> {
  const latest: { action: string; details: Partial<MissingCandidate> | null } | undefined = await db('audit_log')
    .where({ subject_type: 'asset', subject_id: assetId })
    .whereIn('action', [MISSING_CANDIDATE_ACTION, MISSING_CANDIDACY_ENDED_ACTION])
    .orderBy('id', 'desc')
    .first('action', 'details');
  if (latest?.action !== MISSING_CANDIDATE_ACTION || !latest.details?.since) return null;
  return { since: latest.details.since, lastSeen: latest.details.lastSeen ?? [] };
}
