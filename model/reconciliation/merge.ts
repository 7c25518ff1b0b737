/**
 * Two records a data steward found to be one thing become one (issue 16): everything of the
 * loser moves to the survivor (relationships, changes that name it, cost records, installations,
 * maintenance windows, sightings, the identifiers the survivor lacks and its asset, with their
 * provenance) and the loser stays, retired and pointing at the survivor, for the history rows and
 * audit rows that name it. One call runs in the caller's transaction, so a merge is whole or not at all.
 */
import type { Knex } from 'knex';
import { ASSET_COLUMN_ATTRIBUTES } from './manual-provenance';

/** A merge the data forbids (no retry mends it): the steward is told why and decides again. */
export class MergeRefused extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'MergeRefused';
  }
}

/** What moved from the loser to the survivor, counted; dropped edges are those the survivor had already or that would join it to itself. */
export interface MergeCounts {
  relationshipsMoved: number;
  relationshipsDropped: number;
  changesMoved: number;
  costRecordsMoved: number;
  installationsMoved: number;
  installationsReclaimed: number;
  windowsMoved: number;
  provenanceMoved: number;
  sightingsMerged: number;
  identifiersMoved: number;
  assetMoved: number;
}

export interface MergeResult {
  survivorId: string;
  loserId: string;
  counts: MergeCounts;
  /** The loser's identifiers as they were: cleared from it (identifiers are unique where held) and kept here for the audit row. */
  loserIdentifiers: Record<string, string | null>;
}

const IDENTIFIER_COLUMNS = ['hostname', 'dns_domain', 'mac_address', 'cloud_resource_id'] as const;
/** Columns of the loser the survivor takes when it has none of its own. */
const FILLED_COLUMNS = ['owner_id', 'support_group_id', 'cost_centre_id'] as const;
/** The reconciled attributes the asset behind a record holds: they go where the asset goes. */
const ASSET_ATTRIBUTES: readonly string[] = [...Object.values(ASSET_COLUMN_ATTRIBUTES), 'assignedTo'];

const affected = (result: { rowCount?: number | null }) => result.rowCount ?? 0;

/**
 * Merges `loserId` into `survivorId` on the caller's transaction; `reclaimKey` marks the loser's
 * installations a live installation of the survivor made redundant (kept as history, reclaimed).
 */
export async function mergeRecords(trx: Knex.Transaction, survivorId: string, loserId: string, reclaimKey: string): Promise<MergeResult> {
  if (survivorId === loserId) throw new MergeRefused('a record cannot be merged into itself');
  // Both locked, in id order, so two merges of overlapping records wait for each other instead of crossing.
  const locked = await trx('configuration_items').whereIn('id', [survivorId, loserId]).orderBy('id').forUpdate().select('*');
  const survivor = locked.find((c) => c.id === survivorId);
  const loser = locked.find((c) => c.id === loserId);
  if (!survivor || !loser) throw new MergeRefused('one of the records no longer exists');
  for (const c of [survivor, loser]) {
    if (c.merged_into_id) throw new MergeRefused(`${c.number} was merged into another record already`);
    if (c.retired_at) throw new MergeRefused(`${c.number} is retired: restore it or keep both`);
  }
  if (survivor.ci_class !== loser.ci_class) {
    throw new MergeRefused(`${survivor.number} is a ${survivor.ci_class} and ${loser.number} a ${loser.ci_class}: records of different classes are not one thing`);
  }
  if (survivor.asset_id && loser.asset_id) {
    throw new MergeRefused(`both ${survivor.number} and ${loser.number} have an asset: retire or detach one of the assets first, or keep both`);
  }

  const counts: MergeCounts = {
    relationshipsMoved: 0, relationshipsDropped: 0, changesMoved: 0, costRecordsMoved: 0, installationsMoved: 0, installationsReclaimed: 0,
    windowsMoved: 0, provenanceMoved: 0, sightingsMerged: 0, identifiersMoved: 0, assetMoved: 0,
  };
  const ids = { survivor: survivorId, loser: loserId };

  // Relationships: an edge the survivor has already (even retired) or that would join it to itself stays on the loser, retired.
  // A live edge of the loser brings the survivor's retired twin back to life: the relationship holds.
  const mapped = (column: string) => `CASE WHEN r.${column} = :loser THEN CAST(:survivor AS uuid) ELSE r.${column} END`;
  const twin = `SELECT 1 FROM ci_relationships s WHERE s.from_ci_id = ${mapped('from_ci_id')} AND s.to_ci_id = ${mapped('to_ci_id')} AND s.type = r.type AND s.id <> r.id`;
  await trx.raw(
    `UPDATE ci_relationships s SET retired_at = NULL, version = s.version + 1, updated_at = now()
       FROM ci_relationships r
      WHERE (r.from_ci_id = :loser OR r.to_ci_id = :loser) AND r.retired_at IS NULL AND s.retired_at IS NOT NULL
        AND s.from_ci_id = ${mapped('from_ci_id')} AND s.to_ci_id = ${mapped('to_ci_id')} AND s.type = r.type
        AND s.from_ci_id <> :loser AND s.to_ci_id <> :loser`,
    ids,
  );
  counts.relationshipsDropped = affected(await trx.raw(
    `UPDATE ci_relationships r SET retired_at = coalesce(r.retired_at, now()), version = r.version + 1, updated_at = now()
      WHERE (r.from_ci_id = :loser OR r.to_ci_id = :loser)
        AND (${mapped('from_ci_id')} = ${mapped('to_ci_id')} OR EXISTS (${twin}))`,
    ids,
  ));
  const movable = `(r.from_ci_id = :loser OR r.to_ci_id = :loser) AND ${mapped('from_ci_id')} <> ${mapped('to_ci_id')} AND NOT EXISTS (${twin})`;
  counts.relationshipsMoved = affected(await trx.raw(
    `UPDATE ci_relationships r SET from_ci_id = ${mapped('from_ci_id')}, to_ci_id = ${mapped('to_ci_id')}, version = r.version + 1, updated_at = now()
      WHERE ${movable}`,
    ids,
  ));

  // Changes that named the loser name the survivor; one that named both keeps the loser's row as it was.
  counts.changesMoved = affected(await trx.raw(
    `UPDATE change_affected_cis c SET ci_id = :survivor
      WHERE c.ci_id = :loser AND NOT EXISTS (SELECT 1 FROM change_affected_cis s WHERE s.change_request_id = c.change_request_id AND s.ci_id = :survivor)`,
    ids,
  ));
  counts.costRecordsMoved = await trx('cost_records').where({ ci_id: loserId }).update({ ci_id: survivorId });
  counts.windowsMoved = await trx('schedule_windows').where({ ci_id: loserId }).update({ ci_id: survivorId });

  // A product installed on both is one installation: the loser's is reclaimed (history), then all of the loser's move.
  // A record's installations are those on it and those recorded on the asset behind it (no record named),
  // so both sides count the asset's too: the survivor's before the merge, the loser's that moves with it.
  counts.installationsReclaimed = affected(await trx.raw(
    `UPDATE software_consumptions l SET reclaimed_at = now(), reclaimed_by_key = :key
      WHERE l.kind = 'installation' AND l.reclaimed_at IS NULL
        AND (l.ci_id = :loser OR (l.ci_id IS NULL AND l.asset_id = CAST(:loserAsset AS uuid)))
        AND EXISTS (SELECT 1 FROM software_consumptions s
                     WHERE s.product_id = l.product_id AND s.kind = 'installation' AND s.reclaimed_at IS NULL
                       AND (s.ci_id = :survivor OR (s.ci_id IS NULL AND s.asset_id = CAST(:survivorAsset AS uuid))))`,
    { ...ids, key: reclaimKey, loserAsset: loser.asset_id, survivorAsset: survivor.asset_id },
  ));
  counts.installationsMoved = await trx('software_consumptions').where({ ci_id: loserId }).update({ ci_id: survivorId });

  // Sightings: seen first when either was, last when either was; the loser is not watched for going missing.
  counts.sightingsMerged = affected(await trx.raw(
    `INSERT INTO ci_sightings AS s (ci_id, source, first_seen_at, last_seen_at, last_import_id, missing_candidate_since)
     SELECT :survivor, source, first_seen_at, last_seen_at, last_import_id, missing_candidate_since FROM ci_sightings WHERE ci_id = :loser
     ON CONFLICT (ci_id, source) DO UPDATE SET
       first_seen_at = least(s.first_seen_at, EXCLUDED.first_seen_at),
       last_seen_at = greatest(s.last_seen_at, EXCLUDED.last_seen_at),
       last_import_id = CASE WHEN EXCLUDED.last_seen_at > s.last_seen_at THEN EXCLUDED.last_import_id ELSE s.last_import_id END,
       missing_candidate_since = CASE WHEN EXCLUDED.last_seen_at > s.last_seen_at THEN EXCLUDED.missing_candidate_since ELSE s.missing_candidate_since END`,
    ids,
  ));
  await trx('ci_sightings').where({ ci_id: loserId }).delete();

  // Identifiers are unique where held: the loser lets go of its own before the survivor takes those it lacks.
  const loserIdentifiers = Object.fromEntries(IDENTIFIER_COLUMNS.map((c) => [c, loser[c] as string | null]));
  const taken: Record<string, unknown> = {};
  // Host name and domain go together: they are one name.
  if (!survivor.hostname && loser.hostname) Object.assign(taken, { hostname: loser.hostname, dns_domain: loser.dns_domain });
  if (!survivor.mac_address && loser.mac_address) taken.mac_address = loser.mac_address;
  if (!survivor.cloud_resource_id && loser.cloud_resource_id) taken.cloud_resource_id = loser.cloud_resource_id;
  counts.identifiersMoved = Object.keys(taken).filter((k) => k !== 'dns_domain').length;
  for (const column of FILLED_COLUMNS) if (!survivor[column] && loser[column]) taken[column] = loser[column];
  if (loser.asset_id) {
    taken.asset_id = loser.asset_id;
    counts.assetMoved = 1;
  }

  // Provenance follows the values: the survivor takes the loser's word only for what it takes from the loser
  // (identifiers it lacked, the asset's attributes with the asset), and keeps its own for everything else.
  const takenAttributes = [
    ...(taken.hostname ? ['hostname', 'domain'] : []),
    ...(taken.mac_address ? ['macAddress'] : []),
    ...(taken.cloud_resource_id ? ['cloudResourceId'] : []),
    ...(loser.asset_id ? ASSET_ATTRIBUTES : []),
  ];
  if (takenAttributes.length > 0) {
    await trx('attribute_provenance').where({ ci_id: survivorId }).whereIn('attribute', takenAttributes).delete();
    counts.provenanceMoved = affected(await trx.raw(
      `INSERT INTO attribute_provenance (ci_id, attribute, source, set_at, confirmed_at, import_id)
       SELECT :survivor, attribute, source, set_at, confirmed_at, import_id FROM attribute_provenance WHERE ci_id = :loser AND attribute = ANY(CAST(:attributes AS text[]))`,
      { ...ids, attributes: takenAttributes },
    ));
  }
  // The loser reports nothing any more.
  await trx('attribute_provenance').where({ ci_id: loserId }).delete();

  await trx('configuration_items').where({ id: loserId }).update({
    hostname: null, dns_domain: null, mac_address: null, cloud_resource_id: null, asset_id: null,
    operational_status: 'retired', retired_at: trx.fn.now(), merged_into_id: survivorId,
    version: trx.raw('version + 1'), updated_at: trx.fn.now(),
  });
  // A person decided what the survivor is: it is verified from now on.
  await trx('configuration_items').where({ id: survivorId }).update({
    ...taken, discovery_state: 'verified', version: trx.raw('version + 1'), updated_at: trx.fn.now(),
  });
  return { survivorId, loserId, counts, loserIdentifiers };
}
