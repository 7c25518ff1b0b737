/**
 * Software a feed found installed on a device becomes installations (software_consumptions), so
 * licence positions move with reality: each source's list for a device is whole, so a product it
 * no longer lists is reclaimed (the row stays as history). Built by the installations helper; the
 * batch engine calls these in the check (plan) and the apply (plan again under lock, then apply).
 */
import type { Knex } from 'knex';
import type { AttributeChange, InventorySource } from '../../domain/reconciliation';

export interface DiscoveredSoftware {
  rowNumber: number;
  /** The record the row is; null when the row creates it (everything it lists is then new). */
  ciId: string | null;
  /** The names the row lists, as sent. */
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

/** What each row's software list would do to its record's installations; reads only. */
export async function planInstallations(db: Knex, source: InventorySource, seenAt: string, rows: DiscoveredSoftware[]): Promise<Map<number, InstallationPlan>> {
  throw new Error(`not built yet: planInstallations(${source}, ${seenAt}, ${rows.length}) ${String(db)}`);
}

/** Writes the plans of a chunk (the records created by the chunk named now), in its transaction. */
export async function applyInstallations(
  trx: Knex.Transaction,
  source: InventorySource,
  seenAt: string,
  importId: string,
  plans: (InstallationPlan & { ciId: string; assetId: string | null })[],
): Promise<void> {
  throw new Error(`not built yet: applyInstallations(${source}, ${seenAt}, ${importId}, ${plans.length}) ${String(trx)}`);
}
