/**
 * Software a feed found installed on a device becomes installations (software_consumptions), so
 * licence positions move with reality: each source's list for a device is whole, so a product it
 * no longer lists is reclaimed (the row stays as history). Built by the installations helper; the
 * batch engine calls these in the check (plan) and the apply (plan again under lock, then apply).
 *
 * A record's installations are those discovered on it (ci_id) and those a person or a workflow
 * recorded on the asset behind it (asset_id, no ci_id): a feed that lists a product already
 * recorded on the asset confirms that installation instead of counting the device twice.
 */
import type { Knex } from 'knex';
import type { AttributeChange, InventorySource } from '../../domain/reconciliation';

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
  /** Live installations to reclaim. */
  reclaimConsumptionIds: string[];
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

interface Installation {
  id: string;
  recordId: string;
  productId: string;
  title: string;
  discoveredBy: string | null;
  lastSeenAt: Date | null;
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
  return rows.map((r) => ({ id: r.id, title: `${r.publisher} ${r.name}`, name: nameKey(r.name), fullName: nameKey(`${r.publisher} ${r.name}`), retired: r.retired }));
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
            f.discovered_by AS "discoveredBy", f.last_seen_at AS "lastSeenAt", f.reclaimed_at AS "reclaimedAt"
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

const sorted = (names: Iterable<string>) => [...new Set(names)].sort((a, b) => a.localeCompare(b));

/** What each row's software list would do to its record's installations; reads only. */
export async function planInstallations(db: Knex, source: InventorySource, seenAt: string, rows: DiscoveredSoftware[]): Promise<Map<number, InstallationPlan>> {
  const keys = [...new Set(rows.flatMap((row) => row.software.map(nameKey)).filter((key) => key !== ''))];
  const recordIds = [...new Set(rows.map((row) => row.ciId).filter((id): id is string => id !== null))];
  const [catalogue, installations] = await Promise.all([productsNamed(db, keys), installationsOf(db, recordIds, seenAt)]);
  const seen = new Date(seenAt).getTime();
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
    // Only what this source itself reported, and only by a report newer than the one that last saw it.
    const reclaim = live.filter((i) => !listed.has(i.productId) && i.discoveredBy === source && (i.lastSeenAt === null || i.lastSeenAt.getTime() <= seen));

    const before = sorted(live.map((i) => i.title));
    const reclaimed = new Set(reclaim.map((i) => i.id));
    const after = sorted([...live.filter((i) => !reclaimed.has(i.id)).map((i) => i.title), ...addProducts.map((p) => p.title)]);
    const differs = before.length !== after.length || before.some((name, at) => name !== after[at]);
    plans.set(row.rowNumber, {
      rowNumber: row.rowNumber,
      change: differs ? { from: before, to: after, source, reason: before.length ? 'same_or_stronger_source' : 'no_value_yet' } : null,
      unknownProducts: [...unknown.values()],
      addProductIds: addProducts.map((p) => p.id),
      reclaimConsumptionIds: reclaim.map((i) => i.id),
      confirmConsumptionIds: confirm.map((i) => i.id),
    });
  }
  return plans;
}

/** Writes the plans of a chunk (the records created by the chunk named now), in its transaction. */
export async function applyInstallations(
  trx: Knex.Transaction,
  source: InventorySource,
  seenAt: string,
  importId: string,
  plans: (InstallationPlan & { ciId: string; assetId: string | null })[],
): Promise<void> {
  const additions = new Map<string, { ciId: string; productId: string; assetId: string | null }>();
  for (const plan of plans) {
    for (const productId of plan.addProductIds) additions.set(`${plan.ciId}:${productId}`, { ciId: plan.ciId, productId, assetId: plan.assetId });
  }
  if (additions.size) {
    // Two feeds, or two batches at once, reporting one product on one record meet on the unique index: one installation.
    await trx.raw(
      `INSERT INTO software_consumptions (product_id, kind, ci_id, asset_id, units, installed_at, discovered_by, last_seen_at)
       SELECT a."productId", 'installation', a."ciId", coalesce(r.asset_id, a."assetId"), 1, ?::timestamptz, ?, ?::timestamptz
         FROM jsonb_to_recordset(?::jsonb) AS a ("ciId" uuid, "productId" uuid, "assetId" uuid)
         JOIN configuration_items r ON r.id = a."ciId"
       ON CONFLICT (product_id, ci_id) WHERE kind = 'installation' AND reclaimed_at IS NULL AND ci_id IS NOT NULL DO NOTHING`,
      [seenAt, source, seenAt, JSON.stringify([...additions.values()])],
    );
  }

  const confirmIds = [...new Set(plans.flatMap((plan) => plan.confirmConsumptionIds))];
  if (confirmIds.length) {
    // The newest report owns a discovered installation; one recorded by a person or a workflow stays theirs.
    await trx.raw(
      `UPDATE software_consumptions
          SET discovered_by = CASE WHEN discovered_by IS NOT NULL AND (last_seen_at IS NULL OR last_seen_at <= ?::timestamptz) THEN ? ELSE discovered_by END,
              last_seen_at = greatest(last_seen_at, ?::timestamptz)
        WHERE id = ANY(?::uuid[]) AND reclaimed_at IS NULL
          AND (last_seen_at IS NULL OR last_seen_at < ?::timestamptz
               OR (discovered_by IS NOT NULL AND discovered_by <> ? AND last_seen_at <= ?::timestamptz))`,
      [seenAt, source, seenAt, confirmIds, seenAt, source, seenAt],
    );
  }

  const reclaimIds = [...new Set(plans.flatMap((plan) => plan.reclaimConsumptionIds))];
  if (reclaimIds.length) {
    await trx('software_consumptions')
      .whereIn('id', reclaimIds)
      .whereNull('reclaimed_at')
      .where({ discovered_by: source })
      .andWhere((q) => q.whereNull('last_seen_at').orWhere('last_seen_at', '<=', seenAt))
      .update({ reclaimed_at: seenAt, reclaimed_by_key: `inventory:${importId}` });
  }
}
