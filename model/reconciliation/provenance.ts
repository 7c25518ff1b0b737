/**
 * Where a record's data comes from (issue 16): per attribute of a CI and the asset behind it, the
 * value it holds now, the source that set it, when, when that source last confirmed it and in
 * which batch; and which sources report the record at all, since when and until when. Readers
 * only: the batch engine writes provenance and sightings.
 */
import type { Knex } from 'knex';
import { RECONCILED_ATTRIBUTES, type InventorySource } from '../../domain/reconciliation';

export interface AttributeProvenance {
  attribute: string;
  /** What the record holds now; null when it holds nothing. */
  value: unknown;
  /** Null: the value was entered before reconciliation (by a person, an import of master data or the demo). */
  source: { name: InventorySource; title: string } | null;
  setAt: string | null;
  confirmedAt: string | null;
  /** The batch that set or last confirmed it, while that batch is kept. */
  importId: string | null;
}

export interface Sighting {
  source: InventorySource;
  title: string;
  firstSeenAt: string;
  lastSeenAt: string;
  lastImportId: string | null;
  /** When the unseen watch made the record a missing candidate for this source; null while it is seen. */
  missingCandidateSince: string | null;
}

interface CurrentRecord {
  name: string;
  hostname: string | null;
  dns_domain: string | null;
  mac_address: string | null;
  cloud_resource_id: string | null;
  operational_status: string;
  environment: string;
  asset_id: string | null;
  serial_number: string | null;
  location: string | null;
  manufacturer: string | null;
  model_name: string | null;
  assignee_email: string | null;
}

/** The reconciled attributes as the record holds them now: the CI's columns, and the asset's for a record with one. */
function currentValues(r: CurrentRecord, software: string[]): Record<string, unknown> {
  const values: Record<string, unknown> = {
    name: r.name,
    hostname: r.hostname,
    domain: r.dns_domain,
    macAddress: r.mac_address,
    cloudResourceId: r.cloud_resource_id,
    operationalStatus: r.operational_status,
    environment: r.environment,
    software: software.length ? software : null,
  };
  if (r.asset_id) {
    Object.assign(values, {
      serialNumber: r.serial_number,
      model: r.manufacturer ? `${r.manufacturer} ${r.model_name}` : null,
      location: r.location,
      assignedTo: r.assignee_email,
    });
  }
  return values;
}

/**
 * Each attribute the record holds or a source set, in the order of the reconciled attributes (then
 * any other attribute a source set): its value, and who set it or null when nobody recorded that.
 */
export async function provenanceOf(db: Knex, ciId: string): Promise<AttributeProvenance[]> {
  const [record, software, rows] = await Promise.all([
    db('configuration_items as ci')
      .leftJoin('assets as a', 'a.id', 'ci.asset_id')
      .leftJoin('hardware_models as m', 'm.id', 'a.model_id')
      .leftJoin('people as p', 'p.id', 'a.assigned_to_id')
      .where('ci.id', ciId)
      .first('ci.name', 'ci.hostname', 'ci.dns_domain', 'ci.mac_address', 'ci.cloud_resource_id', 'ci.operational_status', 'ci.environment',
        'ci.asset_id', 'a.serial_number', 'a.location', 'm.manufacturer', 'm.name as model_name', 'p.email as assignee_email') as Promise<CurrentRecord | undefined>,
    // Live installations on the record itself, and on its asset from before installations were kept per record.
    db('software_consumptions as c').join('software_products as s', 's.id', 'c.product_id')
      .where('c.kind', 'installation').whereNull('c.reclaimed_at')
      .where((w) => w.where('c.ci_id', ciId).orWhereIn('c.asset_id', db('configuration_items').where({ id: ciId }).whereNotNull('asset_id').select('asset_id')))
      .distinct('s.name').orderBy('s.name').pluck('s.name') as Promise<string[]>,
    db('attribute_provenance as ap').join('inventory_sources as s', 's.name', 'ap.source')
      .where('ap.ci_id', ciId)
      .select('ap.attribute', 'ap.source', 's.title', 'ap.set_at', 'ap.confirmed_at', 'ap.import_id') as Promise<{
        attribute: string; source: InventorySource; title: string; set_at: Date; confirmed_at: Date; import_id: string | null;
      }[]>,
  ]);
  if (!record) return [];
  const values = currentValues(record, software);
  const bySource = new Map(rows.map((r) => [r.attribute, r]));
  const order = [...RECONCILED_ATTRIBUTES, ...rows.map((r) => r.attribute).filter((a) => !(RECONCILED_ATTRIBUTES as readonly string[]).includes(a)).sort()];
  return order.flatMap((attribute): AttributeProvenance[] => {
    const set = bySource.get(attribute);
    const value = values[attribute] ?? null;
    if (!set && value === null) return [];
    return [{
      attribute,
      value,
      source: set ? { name: set.source, title: set.title } : null,
      setAt: set?.set_at.toISOString() ?? null,
      confirmedAt: set?.confirmed_at.toISOString() ?? null,
      importId: set?.import_id ?? null,
    }];
  });
}

/** The sources that report the record, in the sources' order. */
export async function sightingsOf(db: Knex, ciId: string): Promise<Sighting[]> {
  const rows = await db('ci_sightings as cs').join('inventory_sources as s', 's.name', 'cs.source')
    .where('cs.ci_id', ciId).orderBy('s.position')
    .select('cs.source', 's.title', 'cs.first_seen_at', 'cs.last_seen_at', 'cs.last_import_id', 'cs.missing_candidate_since') as {
      source: InventorySource; title: string; first_seen_at: Date; last_seen_at: Date; last_import_id: string | null; missing_candidate_since: Date | null;
    }[];
  return rows.map((r) => ({
    source: r.source,
    title: r.title,
    firstSeenAt: r.first_seen_at.toISOString(),
    lastSeenAt: r.last_seen_at.toISOString(),
    lastImportId: r.last_import_id,
    missingCandidateSince: r.missing_candidate_since?.toISOString() ?? null,
  }));
}

/** Whether a person has verified the record ('verified'), or a feed created it and nobody has yet ('discovered'). */
export async function discoveryStateOf(db: Knex, ciId: string): Promise<'verified' | 'discovered' | null> {
  const row = await db('configuration_items').where({ id: ciId }).first('discovery_state') as { discovery_state: 'verified' | 'discovered' } | undefined;
  return row?.discovery_state ?? null;
}

export interface RecordName {
  number: string;
  name: string;
}

/** The numbers and names of these CIs, for a report that names them (a page of rows at a time). */
export async function recordsNamed(db: Knex, ciIds: readonly string[]): Promise<Map<string, RecordName>> {
  const ids = [...new Set(ciIds)];
  if (!ids.length) return new Map();
  const rows = await db('configuration_items').whereIn('id', ids).select('id', 'number', 'name') as { id: string; number: string; name: string }[];
  return new Map(rows.map((r) => [r.id, { number: r.number, name: r.name }]));
}
