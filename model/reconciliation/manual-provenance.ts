/**
 * People are a source too (issue 16): what a person writes through the master-data API, its web
 * forms or a master-data import is recorded as set by 'manual', so a feed does not overwrite a
 * person's value within the staleness period the reconciliation rules give it. Provenance is kept
 * per CI, for the CI's attributes and those of the asset behind it.
 */
import type { Knex } from 'knex';
import type { ReconciledAttribute } from '../../domain/reconciliation';

/** The reconciled attributes a configuration_items column holds. */
export const CI_COLUMN_ATTRIBUTES: Readonly<Record<string, ReconciledAttribute>> = {
  name: 'name', hostname: 'hostname', dns_domain: 'domain', mac_address: 'macAddress', cloud_resource_id: 'cloudResourceId',
  operational_status: 'operationalStatus', environment: 'environment',
};

/** The reconciled attributes an assets column holds (its assignee moves through the lifecycle, and so does its provenance). */
export const ASSET_COLUMN_ATTRIBUTES: Readonly<Record<string, ReconciledAttribute>> = {
  serial_number: 'serialNumber', model_id: 'model', location: 'location',
};

/**
 * The attributes whose values differ between `before` (null: a new record, so every value it holds
 * was set) and `after`, by the table's columns.
 */
export function attributesWritten(columns: Readonly<Record<string, ReconciledAttribute>>, before: Record<string, unknown> | null, after: Record<string, unknown>): ReconciledAttribute[] {
  return Object.entries(columns)
    .filter(([column]) => column in after)
    .filter(([column]) => (before
      ? String(before[column] ?? '') !== String(after[column] ?? '')
      : after[column] !== null && after[column] !== undefined && String(after[column]) !== ''))
    .map(([, attribute]) => attribute);
}

/**
 * Of `attributes`, those a row as given holds a value for (its columns are named as the attributes):
 * a value the schema defaulted (a new CI's environment, say) is nobody's word.
 */
export function givenIn(given: Record<string, unknown>, attributes: readonly ReconciledAttribute[]): ReconciledAttribute[] {
  return attributes.filter((attribute) => given[attribute] !== undefined && given[attribute] !== null && String(given[attribute]).trim() !== '');
}

/**
 * Records that a person set these attributes of a CI (or of the asset behind it) at `at`: the
 * provenance of each becomes 'manual', set and confirmed then.
 */
export async function recordManualProvenance(trx: Knex, ciId: string, attributes: readonly ReconciledAttribute[], at: Date | string): Promise<void> {
  if (attributes.length === 0) return;
  const when = typeof at === 'string' ? at : at.toISOString();
  await trx('attribute_provenance')
    .insert([...new Set(attributes)].map((attribute) => ({ ci_id: ciId, attribute, source: 'manual', set_at: when, confirmed_at: when, import_id: null })))
    .onConflict(['ci_id', 'attribute'])
    .merge(['source', 'set_at', 'confirmed_at', 'import_id']);
}

/** Records a person's write of an asset's attributes on every CI the asset backs. */
export async function recordManualAssetProvenance(trx: Knex, assetId: string, attributes: readonly ReconciledAttribute[], at: Date | string): Promise<void> {
  if (attributes.length === 0) return;
  const ciIds = await trx('configuration_items').where({ asset_id: assetId }).pluck('id') as string[];
  for (const ciId of ciIds) await recordManualProvenance(trx, ciId, attributes, at);
}

/**
 * Records a person's linking of a CI to an asset: the asset's serial, model and location become the
 * CI's in a person's word, as an edit of them would (an asset is created, and often edited, before
 * any CI names it, and provenance is kept per CI).
 */
export async function recordManualAssetLink(trx: Knex, ciId: string, assetId: string, at: Date | string): Promise<void> {
  const asset = await trx('assets').where({ id: assetId }).first(Object.keys(ASSET_COLUMN_ATTRIBUTES)) as Record<string, unknown> | undefined;
  if (asset) await recordManualProvenance(trx, ciId, attributesWritten(ASSET_COLUMN_ATTRIBUTES, null, asset), at);
}
