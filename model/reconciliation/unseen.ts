/**
 * What the unseen watch reads and marks (issue 16): the records backed by an asset that every
 * watching feed stopped seeing, the candidates a feed sees again, and who is told. The SQL only
 * narrows the records down, in CI id order and bounded; domain/unseen-records.ts judges each one.
 * A candidacy as the asset's page and API show it is the lifecycle workflow's latest audit row
 * about it, so it reads the same as the workflow's status.
 */
import type { Knex } from 'knex';
import { UNWATCHED_ASSET_STATES, type Sighting, type UnseenPeriods } from '../../domain/unseen-records';
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

/** A watching source (one with a period) that has seen the record within that period by `now`. */
const STILL_SEEN = `EXISTS (SELECT 1 FROM ci_sightings s JOIN inventory_sources src ON src.name = s.source
  WHERE s.ci_id = ci.id AND src.unseen_after_days IS NOT NULL AND s.last_seen_at >= ?::timestamptz - make_interval(days => src.unseen_after_days))`;
const WATCHED = `EXISTS (SELECT 1 FROM ci_sightings s JOIN inventory_sources src ON src.name = s.source
  WHERE s.ci_id = ci.id AND src.unseen_after_days IS NOT NULL)`;
const TOLD = `EXISTS (SELECT 1 FROM ci_sightings s WHERE s.ci_id = ci.id AND s.missing_candidate_since IS NOT NULL)`;

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
 * Records backed by an asset the watch looks after, not told yet, that some source with a period
 * reported and none has seen within its period at `now`: at most `limit`, after the CI `after`.
 */
export async function untoldCandidates(db: Knex, input: { now: string; after: string | null; limit: number }): Promise<WatchedRecord[]> {
  const rows = await recordsAfter(db, input.after, input.limit)
    .whereNotIn('a.state', [...UNWATCHED_ASSET_STATES])
    .whereRaw(`NOT ${TOLD}`)
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
