/**
 * What the engine reads for a chunk of inventory rows, set-based: one statement per identifying
 * attribute set (the chunk's rules and the identifiers unique in the database) over every key the
 * chunk holds, then one for the records found, one for their provenance, one for the models, the
 * people and the names the rows name. Nothing is read per row, so a chunk costs the same few round
 * trips whatever it holds.
 */
import type { Knex } from 'knex';
import { identificationKey, identificationParts, type IdentificationRule, type IdentifyingAttribute, type InventorySource, type Provenance } from '../../domain/reconciliation';
import type { InventoryRow } from './inventory-row';

/** The identifying values of a row (or a record) as identify() reads them. */
export type IdentifyingValues = Partial<Record<IdentifyingAttribute, string | null>>;

export function identifyingValues(row: InventoryRow): IdentifyingValues {
  return {
    serialNumber: row.serialNumber, assetTag: row.assetTag, cloudResourceId: row.cloudResourceId,
    hostname: row.hostname, domain: row.domain, macAddress: row.macAddress,
  };
}

/** The column each identifying attribute is compared with (configuration_items ci, assets a). */
const COLUMN: Record<IdentifyingAttribute, string> = {
  serialNumber: 'a.serial_key',
  assetTag: 'a.asset_tag',
  cloudResourceId: 'ci.cloud_resource_id',
  hostname: 'lower(ci.hostname)',
  domain: `lower(coalesce(ci.dns_domain, ''))`,
  macAddress: 'ci.mac_address',
};

/** Identifiers unique in the database: a value another record holds cannot be written to this one. */
export const HELD_SETS: readonly (readonly IdentifyingAttribute[])[] = [['serialNumber'], ['assetTag'], ['hostname', 'domain'], ['macAddress'], ['cloudResourceId']];

export const setName = (attributes: readonly IdentifyingAttribute[]) => attributes.join('+');

/** A record's key under an attribute set: the compared values joined (the same for a row and a record). */
export const keyOf = (attributes: readonly IdentifyingAttribute[], values: IdentifyingValues): string | undefined => identificationKey({ attributes }, values);

/** What an asset holds of the attributes a feed reports. */
export interface AssetPart {
  assetId: string;
  assetTag: string;
  serialNumber: string | null;
  modelId: string;
  /** "Manufacturer Name". */
  model: string;
  location: string | null;
  /** Lower case. */
  assignedTo: string | null;
  state: string;
}

export interface CurrentRecord {
  id: string;
  number: string;
  name: string;
  ciClass: string;
  hostname: string | null;
  domain: string | null;
  macAddress: string | null;
  cloudResourceId: string | null;
  operationalStatus: string;
  environment: string;
  asset: AssetPart | null;
}

/** Who holds a key: the live CI (null for an asset that backs none, or only a retired one) and its asset. */
export interface Holder {
  ciId: string | null;
  assetId: string | null;
}

export interface HardwareModel {
  id: string;
  display: string;
  currency: string;
}

export interface ChunkLookups {
  /** setName -> key -> holders. */
  holders: Map<string, Map<string, Holder[]>>;
  /** Assets a serial or tag names that back no CI and are not retired: a new record takes them over. */
  freeAssets: Map<string, AssetPart>;
  /** The identifying values of every live record found: a match by a lower rule is checked against them. */
  identifiers: Map<string, IdentifyingValues>;
  records: Map<string, CurrentRecord>;
  provenance: Map<string, Map<string, Provenance>>;
  /** lower("Manufacturer Name") and lower(Name) when only one model has it. */
  models: Map<string, HardwareModel>;
  /** lower(email) -> the active person's id. */
  people: Map<string, string>;
  /** `${class}|${lower(name)}` -> the CI that has the name. */
  names: Map<string, string>;
}

/** The attribute sets the chunk's rows are looked up by: their classes' rules and the held identifiers. */
export function attributeSets(rules: Map<string, IdentificationRule[]>, classes: Iterable<string>): (readonly IdentifyingAttribute[])[] {
  const sets = new Map<string, readonly IdentifyingAttribute[]>(HELD_SETS.map((set) => [setName(set), set]));
  for (const ciClass of classes) for (const rule of rules.get(ciClass) ?? []) sets.set(setName(rule.attributes), rule.attributes);
  return [...sets.values()];
}

const ASSET_COLUMNS = `a.id AS asset_id, a.asset_tag, a.serial_number, a.model_id, m.manufacturer || ' ' || m.name AS model, a.location,
  lower(u.email) AS assigned_to, a.state`;

interface AssetRecord {
  asset_id: string | null;
  asset_tag: string;
  serial_number: string | null;
  model_id: string;
  model: string;
  location: string | null;
  assigned_to: string | null;
  state: string;
}

const assetPart = (r: AssetRecord): AssetPart | null => (r.asset_id === null ? null : {
  assetId: r.asset_id, assetTag: r.asset_tag, serialNumber: r.serial_number, modelId: r.model_id, model: r.model,
  location: r.location, assignedTo: r.assigned_to, state: r.state,
});

/**
 * Every holder of one of `keys` under an attribute set; values bound as one array per attribute.
 * Only live records are found (retired ones keep their identifiers for history); an asset's serial
 * or tag is held whatever becomes of it, so such an asset is a holder, free only when no CI ever
 * ran on it and it is not retired.
 */
async function holdersOf(db: Knex, attributes: readonly IdentifyingAttribute[], tuples: string[][]): Promise<{
  values: string[]; holder: Holder; asset: AssetPart | null; free: boolean; identifiers: IdentifyingValues | null;
}[]> {
  const conditions = attributes.map((attribute, at) => ({ onAsset: COLUMN[attribute].startsWith('a.'), sql: `${COLUMN[attribute]} = k.v${at}` }));
  const onCi = conditions.filter((c) => !c.onAsset).map((c) => c.sql);
  const onAsset = conditions.filter((c) => c.onAsset).map((c) => c.sql);
  const unnest = `unnest(${attributes.map(() => '?::text[]').join(', ')}) AS k(${attributes.map((_, at) => `v${at}`).join(', ')})`;
  // Serials and tags are the asset's: from the asset to the CI that it backs, if any; the rest from the live CI.
  const from = onCi.length === 0
    ? `${unnest} JOIN assets a ON ${onAsset.join(' AND ')} LEFT JOIN configuration_items ci ON ci.asset_id = a.id`
    : `${unnest} JOIN configuration_items ci ON ${onCi.join(' AND ')} AND ci.retired_at IS NULL LEFT JOIN assets a ON a.id = ci.asset_id`;
  const sql = `SELECT ${attributes.map((_, at) => `k.v${at}`).join(', ')}, CASE WHEN ci.retired_at IS NULL THEN ci.id END AS ci_id,
           ci.id IS NULL AND a.retired_at IS NULL AS free, ci.hostname, ci.dns_domain, ci.mac_address, ci.cloud_resource_id, ${ASSET_COLUMNS}
    FROM ${from} LEFT JOIN hardware_models m ON m.id = a.model_id LEFT JOIN people u ON u.id = a.assigned_to_id
    ${onCi.length > 0 && onAsset.length > 0 ? `WHERE ${onAsset.join(' AND ')}` : ''}`;
  const columns = attributes.map((_, at) => tuples.map((tuple) => tuple[at]));
  const rows = (await db.raw(sql, columns)).rows as (AssetRecord & {
    ci_id: string | null; free: boolean; hostname: string | null; dns_domain: string | null; mac_address: string | null; cloud_resource_id: string | null;
  } & Record<string, string>)[];
  return rows.map((r) => ({
    values: attributes.map((_, at) => r[`v${at}`]), holder: { ciId: r.ci_id, assetId: r.asset_id }, asset: assetPart(r), free: r.free,
    identifiers: r.ci_id === null ? null : {
      serialNumber: r.serial_number, assetTag: r.asset_id === null ? null : r.asset_tag, hostname: r.hostname, domain: r.dns_domain,
      macAddress: r.mac_address, cloudResourceId: r.cloud_resource_id,
    },
  }));
}

/** The records `ids` name, with their assets; locked FOR UPDATE (CI rows, in id order) when `lock`. */
export async function currentRecords(db: Knex, ids: readonly string[], lock: boolean): Promise<Map<string, CurrentRecord>> {
  if (ids.length === 0) return new Map();
  const rows = (await db.raw(`
    SELECT ci.id, ci.number, ci.name, ci.ci_class, ci.hostname, ci.dns_domain, ci.mac_address, ci.cloud_resource_id, ci.operational_status, ci.environment,
           ${ASSET_COLUMNS}
      FROM configuration_items ci LEFT JOIN assets a ON a.id = ci.asset_id
      LEFT JOIN hardware_models m ON m.id = a.model_id LEFT JOIN people u ON u.id = a.assigned_to_id
     WHERE ci.id = ANY(?::uuid[]) AND ci.retired_at IS NULL ORDER BY ci.id ${lock ? 'FOR UPDATE OF ci' : ''}`, [[...new Set(ids)]])).rows as (AssetRecord & {
    id: string; number: string; name: string; ci_class: string; hostname: string | null; dns_domain: string | null; mac_address: string | null;
    cloud_resource_id: string | null; operational_status: string; environment: string;
  })[];
  return new Map(rows.map((r) => [r.id, {
    id: r.id, number: r.number, name: r.name, ciClass: r.ci_class, hostname: r.hostname, domain: r.dns_domain, macAddress: r.mac_address,
    cloudResourceId: r.cloud_resource_id, operationalStatus: r.operational_status, environment: r.environment, asset: assetPart(r),
  }]));
}

/** The provenance of the records' attributes: who set each, and when they last confirmed it. */
export async function provenanceOf(db: Knex, ids: readonly string[]): Promise<Map<string, Map<string, Provenance>>> {
  const byRecord = new Map<string, Map<string, Provenance>>();
  if (ids.length === 0) return byRecord;
  const rows = (await db.raw(`SELECT ci_id, attribute, source, confirmed_at FROM attribute_provenance WHERE ci_id = ANY(?::uuid[])`, [[...new Set(ids)]])).rows as
    { ci_id: string; attribute: string; source: InventorySource; confirmed_at: Date }[];
  for (const r of rows) {
    const attributes = byRecord.get(r.ci_id) ?? new Map<string, Provenance>();
    attributes.set(r.attribute, { source: r.source, seenAt: r.confirmed_at.toISOString() });
    byRecord.set(r.ci_id, attributes);
  }
  return byRecord;
}

/** Hardware models named "Manufacturer Name" or by a name only one model has (any letter case); retired models are not taken. */
async function modelsNamed(db: Knex, names: string[]): Promise<Map<string, HardwareModel>> {
  const models = new Map<string, HardwareModel>();
  if (names.length === 0) return models;
  const rows = (await db.raw(`
    SELECT id, manufacturer || ' ' || name AS display, currency, lower(manufacturer || ' ' || name) AS full_name, lower(name) AS short_name
      FROM hardware_models
     WHERE retired_at IS NULL AND (lower(manufacturer || ' ' || name) = ANY(?::text[]) OR lower(name) = ANY(?::text[]))`, [names, names])).rows as
    { id: string; display: string; currency: string; full_name: string; short_name: string }[];
  const shortCount = new Map<string, number>();
  for (const r of rows) shortCount.set(r.short_name, (shortCount.get(r.short_name) ?? 0) + 1);
  for (const r of rows) {
    const model = { id: r.id, display: r.display, currency: r.currency.trim() };
    if (shortCount.get(r.short_name) === 1 && !models.has(r.short_name)) models.set(r.short_name, model);
  }
  for (const r of rows) models.set(r.full_name, { id: r.id, display: r.display, currency: r.currency.trim() });
  return models;
}

async function activePeople(db: Knex, emails: string[]): Promise<Map<string, string>> {
  if (emails.length === 0) return new Map();
  const rows = (await db.raw(`SELECT id, lower(email) AS email FROM people WHERE active AND lower(email) = ANY(?::text[])`, [emails])).rows as { id: string; email: string }[];
  return new Map(rows.map((r) => [r.email, r.id]));
}

/** The names the rows would give, taken by a record of the class; retired ones too, since names stay unique among them. */
async function namesTaken(db: Knex, names: { ciClass: string; name: string }[]): Promise<Map<string, string>> {
  if (names.length === 0) return new Map();
  const rows = (await db.raw(`
    SELECT ci.id, ci.ci_class, lower(ci.name) AS name FROM unnest(?::text[], ?::text[]) AS k(ci_class, name)
      JOIN configuration_items ci ON lower(ci.name) = k.name AND ci.ci_class = k.ci_class`,
  [names.map((n) => n.ciClass), names.map((n) => n.name.toLowerCase())])).rows as { id: string; ci_class: string; name: string }[];
  return new Map(rows.map((r) => [`${r.ci_class}|${r.name}`, r.id]));
}

/** Reads at once on a pool; one after the other on a transaction's single connection. */
export async function together<T extends readonly (() => Promise<unknown>)[]>(db: Knex, reads: T): Promise<{ -readonly [K in keyof T]: Awaited<ReturnType<T[K]>> }> {
  if (!db.isTransaction) return Promise.all(reads.map((read) => read())) as never;
  const answers: unknown[] = [];
  for (const read of reads) answers.push(await read());
  return answers as never;
}

/** A CI name as the names taken are keyed: per class, in any letter case. */
export const classNameKey = (ciClass: string, name: string) => `${ciClass}|${name.toLowerCase()}`;

/**
 * Everything but the records and their provenance (read once the rows are identified): who holds
 * each key the rows have, the models, people and names they name.
 */
export async function chunkLookups(
  db: Knex,
  rows: readonly InventoryRow[],
  sets: readonly (readonly IdentifyingAttribute[])[],
  names: { ciClass: string; name: string }[],
): Promise<Omit<ChunkLookups, 'records' | 'provenance'>> {
  const holders = new Map<string, Map<string, Holder[]>>();
  const freeAssets = new Map<string, AssetPart>();
  const identifiers = new Map<string, IdentifyingValues>();
  const found = await together(db, sets.map((attributes) => async () => {
    const tuples = new Map<string, string[]>();
    for (const row of rows) {
      const parts = identificationParts(attributes, identifyingValues(row));
      if (parts !== undefined) tuples.set(parts.join('\u0000'), parts);
    }
    return { attributes, rows: tuples.size === 0 ? [] : await holdersOf(db, attributes, [...tuples.values()]) };
  }));
  for (const { attributes, rows: held } of found) {
    const byKey = new Map<string, Holder[]>();
    for (const { values, holder, asset, free, identifiers: recordValues } of held) {
      const key = values.join('\u0000');
      byKey.set(key, [...(byKey.get(key) ?? []), holder]);
      if (free && asset) freeAssets.set(asset.assetId, asset);
      if (holder.ciId !== null && recordValues) identifiers.set(holder.ciId, recordValues);
    }
    holders.set(setName(attributes), byKey);
  }
  const modelNames = [...new Set(rows.flatMap((row) => (row.model ? [row.model.toLowerCase()] : [])))];
  const emails = [...new Set(rows.flatMap((row) => (row.assignedTo ? [row.assignedTo] : [])))];
  const [models, people, taken] = await together(db, [() => modelsNamed(db, modelNames), () => activePeople(db, emails), () => namesTaken(db, names)] as const);
  return { holders, freeAssets, identifiers, models, people, names: taken };
}
