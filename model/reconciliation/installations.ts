/**
 * Software a feed found installed on a device becomes installations (software_consumptions), so
 * licence positions move with reality. Each source's list for a device is whole, and each source
 * speaks for itself: an installation remembers which feeds reported it, when, and whether they
 * listed it (reported_by). A feed that no longer lists a product takes only its own word back; the
 * installation is reclaimed (the row stays as history) when no feed still lists it, a feed counting
 * as still listing it until its unseen period has passed since it last did. So two feeds that
 * disagree do not reclaim and reinstall a product in turn. The batch engine calls these in the
 * check (plan) and the apply (plan again with the records locked, then apply).
 *
 * A record's installations are those discovered on it (ci_id) and those a person or a workflow
 * recorded on the asset behind it (asset_id, no ci_id): a feed that lists a product already
 * recorded on the asset confirms that installation instead of counting the device twice.
 */
import type { Knex } from 'knex';
import { isUnseenTooLong, type AttributeChange, type InventorySource } from '../../domain/reconciliation';
import { together } from './engine-lookups';

export interface DiscoveredSoftware {
  rowNumber: number;
  /** The record the row is; null when the row creates it (everything it lists is then new). */
  ciId: string | null;
  /**
   * The names the row lists, as sent. Pass only rows that have a software column: a row without
   * one plans nothing, so a source that does not report software never uninstalls.
   */
  software: string[];
}

export interface InstallationPlan {
  rowNumber: number;
  /** The record's installed products (catalogue names) before and after, when they differ; else null. */
  change: AttributeChange | null;
  /** Names the catalogue does not know: reported, not installed. */
  unknownProducts: string[];
  /** Products to install. */
  addProductIds: string[];
  /** Live installations to reclaim: this source no longer lists them and no other source still does. */
  reclaimConsumptionIds: string[];
  /** Live installations this source no longer lists while another still does (or a person recorded them): they stay. */
  withdrawConsumptionIds: string[];
  /** Live installations the row confirms (their last_seen_at moves). */
  confirmConsumptionIds: string[];
}

interface CatalogueProduct {
  id: string;
  /** "Publisher Name": how plans and reports name a product, unambiguous in the catalogue. */
  title: string;
  name: string;
  fullName: string;
  retired: boolean;
}

/** One feed's latest word on an installation: when it reported the record, and whether it listed the product. */
interface SourceReport {
  at: string;
  listed: boolean;
}

interface Installation {
  id: string;
  recordId: string;
  productId: string;
  title: string;
  discoveredBy: string | null;
  reportedBy: Record<string, SourceReport>;
  /** Set on installations reclaimed after the batch saw the device (read for late batches only). */
  reclaimedAt: Date | null;
}

/** A listed name in the one form it is compared in. */
const nameKey = (name: string) => name.trim().replace(/\s+/g, ' ').toLowerCase();

/** The catalogue entries any of the names may mean: by "publisher name" or by name, retired ones too. */
async function productsNamed(db: Knex, keys: string[]): Promise<CatalogueProduct[]> {
  if (!keys.length) return [];
  const rows: { id: string; publisher: string; name: string; retired: boolean }[] = await db('software_products')
    .select('id', 'publisher', 'name', db.raw('retired_at IS NOT NULL AS retired'))
    .whereRaw(`lower(name) = ANY(?::text[]) OR lower(publisher || ' ' || name) = ANY(?::text[])`, [keys, keys]);
  return rows.map((r) => ({ id: r.id, title: productTitle(r.publisher, r.name), name: nameKey(r.name), fullName: nameKey(`${r.publisher} ${r.name}`), retired: r.retired }));
}

/**
 * The records' live installations, and those reclaimed after `seenAt` (a late batch must not
 * install again what a newer report or a retirement took away).
 */
async function installationsOf(db: Knex, recordIds: string[], seenAt: string): Promise<Installation[]> {
  if (!recordIds.length) return [];
  // Two plain joins rather than one joined on either column, so each can use its own index or a hash join.
  const { rows } = await db.raw<{ rows: Installation[] }>(
    `WITH records AS (SELECT id, asset_id FROM configuration_items WHERE id = ANY(:recordIds::uuid[])),
          found AS (
            SELECT r.id AS record_id, c.* FROM records r JOIN software_consumptions c ON c.ci_id = r.id
            UNION ALL
            SELECT r.id AS record_id, c.* FROM records r JOIN software_consumptions c ON c.asset_id = r.asset_id AND c.ci_id IS NULL)
     SELECT f.id, f.record_id AS "recordId", f.product_id AS "productId", p.publisher || ' ' || p.name AS title,
            f.discovered_by AS "discoveredBy", f.reported_by AS "reportedBy", f.reclaimed_at AS "reclaimedAt"
       FROM found f JOIN software_products p ON p.id = f.product_id
      WHERE f.kind = 'installation' AND (f.reclaimed_at IS NULL OR f.reclaimed_at > :seenAt::timestamptz)`,
    { recordIds, seenAt },
  );
  return rows;
}

/**
 * The catalogue product a listed name means: "publisher name" before the bare name; a product in
 * use before a retired one; a retired product only to confirm an installation the record has; an
 * ambiguous name (two publishers' products of that name) means none.
 */
function resolve(key: string, catalogue: CatalogueProduct[], installed: Set<string>): CatalogueProduct | undefined {
  const byFullName = catalogue.filter((p) => p.fullName === key);
  const candidates = byFullName.length ? byFullName : catalogue.filter((p) => p.name === key);
  const live = candidates.filter((p) => !p.retired);
  if (live.length === 1) return live[0];
  if (live.length > 1) return undefined;
  const retired = candidates.filter((p) => installed.has(p.id));
  return retired.length === 1 ? retired[0] : undefined;
}

/** Each source's unseen period in days; a source without one never stops counting as listing what it listed. */
async function unseenPeriods(db: Knex): Promise<Map<string, number | undefined>> {
  const rows: { name: string; unseen_after_days: number | null }[] = await db('inventory_sources').select('name', 'unseen_after_days');
  return new Map(rows.map((r) => [r.name, r.unseen_after_days ?? undefined]));
}

const sorted = (names: Iterable<string>) => [...new Set(names)].sort((a, b) => a.localeCompare(b));

/** What each row's software list would do to its record's installations; reads only. */
export async function planInstallations(db: Knex, source: InventorySource, seenAt: string, rows: DiscoveredSoftware[]): Promise<Map<number, InstallationPlan>> {
  const keys = [...new Set(rows.flatMap((row) => row.software.map(nameKey)).filter((key) => key !== ''))];
  const recordIds = [...new Set(rows.map((row) => row.ciId).filter((id): id is string => id !== null))];
  // The apply plans on its transaction's one connection: the reads go one after the other there.
  const [catalogue, installations, periods] = await together(db, [() => productsNamed(db, keys), () => installationsOf(db, recordIds, seenAt), () => unseenPeriods(db)] as const);
  const seen = Date.parse(seenAt);
  // Another feed still lists it while its last listing is within its unseen period of this report.
  const listedByAnother = (i: Installation) => Object.entries(i.reportedBy)
    .some(([other, report]) => other !== source && report.listed && !isUnseenTooLong(report.at, periods.get(other), seenAt));
  const byRecord = new Map<string, Installation[]>();
  for (const installation of installations) {
    const list = byRecord.get(installation.recordId);
    if (list) list.push(installation);
    else byRecord.set(installation.recordId, [installation]);
  }

  const plans = new Map<number, InstallationPlan>();
  for (const row of rows) {
    const ofRecord = (row.ciId !== null && byRecord.get(row.ciId)) || [];
    const live = ofRecord.filter((i) => i.reclaimedAt === null);
    const installedProducts = new Set(live.map((i) => i.productId));
    const reclaimedSince = new Set(ofRecord.filter((i) => i.reclaimedAt !== null).map((i) => i.productId));

    const listed = new Map<string, CatalogueProduct>();
    const unknown = new Map<string, string>();
    for (const name of row.software) {
      const key = nameKey(name);
      if (key === '') continue;
      const product = resolve(key, catalogue, installedProducts);
      if (product) listed.set(product.id, product);
      else if (!unknown.has(key)) unknown.set(key, name.trim());
    }

    const addProducts = [...listed.values()].filter((p) => !installedProducts.has(p.id) && !reclaimedSince.has(p.id));
    const confirm = live.filter((i) => listed.has(i.productId));
    // A source takes back only its own listing, and only by a report not older than the one that listed it.
    const stopped = live.filter((i) => {
      const own = i.reportedBy[source];
      return !listed.has(i.productId) && own?.listed === true && Date.parse(own.at) <= seen;
    });
    // What a person or a workflow recorded is theirs: a feed never reclaims it.
    const reclaim = stopped.filter((i) => i.discoveredBy !== null && !listedByAnother(i));
    const withdraw = stopped.filter((i) => !reclaim.includes(i));

    const before = sorted(live.map((i) => i.title));
    const reclaimed = new Set(reclaim.map((i) => i.id));
    const after = sorted([...live.filter((i) => !reclaimed.has(i.id)).map((i) => i.title), ...addProducts.map((p) => p.title)]);
    const differs = before.length !== after.length || before.some((name, at) => name !== after[at]);
    plans.set(row.rowNumber, {
      rowNumber: row.rowNumber,
      change: differs ? { from: before, to: after, source, reason: 'listed_by_sources' } : null,
      unknownProducts: [...unknown.values()],
      addProductIds: addProducts.map((p) => p.id),
      reclaimConsumptionIds: reclaim.map((i) => i.id),
      withdrawConsumptionIds: withdraw.map((i) => i.id),
      confirmConsumptionIds: confirm.map((i) => i.id),
    });
  }
  return plans;
}

/**
 * Writes the plans of a chunk (the records created by the chunk named now), in its transaction. The
 * plans must have been made with the records locked (the engine plans again under its lock): whether
 * another feed still lists an installation is decided there. Every write is guarded by this source's
 * own report, so the same plans twice write nothing more and a late plan writes nothing.
 */
export async function applyInstallations(
  trx: Knex.Transaction,
  source: InventorySource,
  seenAt: string,
  importId: string,
  plans: (InstallationPlan & { ciId: string; assetId: string | null })[],
): Promise<void> {
  const at = new Date(seenAt).toISOString();
  const report = (listed: boolean) => JSON.stringify({ [source]: { at, listed } });
  // This source has not reported the installation yet, or did so before this report.
  const ownReportOlder = (table: string) => `(${table}.reported_by -> :source::text) IS NULL OR (${table}.reported_by -> :source::text ->> 'at')::timestamptz < :at::timestamptz`;

  const additions = new Map<string, { ciId: string; productId: string; assetId: string | null }>();
  for (const plan of plans) {
    for (const productId of plan.addProductIds) additions.set(`${plan.ciId}:${productId}`, { ciId: plan.ciId, productId, assetId: plan.assetId });
  }
  if (additions.size) {
    // Two feeds, or two batches at once, reporting one product on one record meet on the unique index:
    // one installation, which both are then recorded as listing.
    await trx.raw(
      `INSERT INTO software_consumptions (product_id, kind, ci_id, asset_id, units, installed_at, discovered_by, last_seen_at, reported_by)
       SELECT a."productId", 'installation', a."ciId", coalesce(r.asset_id, a."assetId"), 1, :at::timestamptz, :source, :at::timestamptz, :listed::jsonb
         FROM jsonb_to_recordset(:additions::jsonb) AS a ("ciId" uuid, "productId" uuid, "assetId" uuid)
         JOIN configuration_items r ON r.id = a."ciId"
       ON CONFLICT (product_id, ci_id) WHERE kind = 'installation' AND reclaimed_at IS NULL AND ci_id IS NOT NULL
       DO UPDATE SET reported_by = software_consumptions.reported_by || excluded.reported_by,
                     last_seen_at = greatest(software_consumptions.last_seen_at, excluded.last_seen_at)
        WHERE ${ownReportOlder('software_consumptions')}`,
      { at, source, listed: report(true), additions: JSON.stringify([...additions.values()]) },
    );
  }

  const confirmIds = [...new Set(plans.flatMap((plan) => plan.confirmConsumptionIds))];
  if (confirmIds.length) {
    await trx.raw(
      `UPDATE software_consumptions c
          SET reported_by = c.reported_by || :listed::jsonb, last_seen_at = greatest(c.last_seen_at, :at::timestamptz)
        WHERE c.id = ANY(:ids::uuid[]) AND c.reclaimed_at IS NULL AND (${ownReportOlder('c')})`,
      { at, source, listed: report(true), ids: confirmIds },
    );
  }

  const reclaimIds = [...new Set(plans.flatMap((plan) => plan.reclaimConsumptionIds))];
  const stoppedIds = [...new Set([...reclaimIds, ...plans.flatMap((plan) => plan.withdrawConsumptionIds)])];
  if (stoppedIds.length) {
    // This source no longer lists them; those no other source still lists are reclaimed.
    await trx.raw(
      `UPDATE software_consumptions c
          SET reported_by = c.reported_by || :unlisted::jsonb,
              reclaimed_at = CASE WHEN c.id = ANY(:reclaimIds::uuid[]) AND c.discovered_by IS NOT NULL THEN :at::timestamptz END,
              reclaimed_by_key = CASE WHEN c.id = ANY(:reclaimIds::uuid[]) AND c.discovered_by IS NOT NULL THEN :key END
        WHERE c.id = ANY(:ids::uuid[]) AND c.reclaimed_at IS NULL
          AND (c.reported_by -> :source::text ->> 'listed')::boolean AND (c.reported_by -> :source::text ->> 'at')::timestamptz <= :at::timestamptz`,
      { at, source, unlisted: report(false), reclaimIds, ids: stoppedIds, key: `inventory:${importId}` },
    );
  }
}

/** A product as people read it: the publisher before the name, unless the name starts with it already ("Red Hat Enterprise Linux"). */
function productTitle(publisher: string, name: string): string {
  return name.toLowerCase().startsWith(publisher.toLowerCase()) ? name : `${publisher} ${name}`;
}
