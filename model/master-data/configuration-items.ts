import type { Knex } from 'knex';
import { z } from 'zod';
import { CRITICALITIES } from '../../domain/change-impact';
import { cells, type ColumnProblem } from '../../domain/master-data';
import { normaliseIdentifier, type IdentifyingAttribute } from '../../domain/reconciliation';
import { attributesWritten, CI_COLUMN_ATTRIBUTES, givenIn, recordManualAssetLink, recordManualProvenance } from '../reconciliation/manual-provenance';
import { isUuid } from '../keys';
import type { Lookups, MasterDataKind, Row, Stored } from './kind';
import { activePersonId, costCentreByCode, streamedInOrder, listPage, nextVersion, type Reference } from './shared';

/** The classes of CI the table's check constraint allows; business services carry a criticality. */
export const CI_CLASSES = [
  'business_service', 'application', 'database', 'server', 'virtual_machine', 'network_device', 'storage', 'cloud_resource', 'load_balancer',
  'computer', 'mobile_device',
] as const;

/** What a row may set; retired is what retiring the CI sets, with the date. */
const OPERATIONAL_STATUSES = ['operational', 'non_operational', 'repair_in_progress'] as const;

/**
 * Configuration items, matched on name (any letter case) and class, as the unique index is; URLs
 * name them by number (CI0001234) or id. A CI may name the asset it runs on: one CI per asset.
 */
interface CiRecord {
  id: string;
  number: string;
  name: string;
  ci_class: string;
  operational_status: string;
  criticality: string | null;
  environment: string;
  owner_email: string | null;
  support_group: string | null;
  cost_centre: string | null;
  asset_tag: string | null;
  hostname: string | null;
  dns_domain: string | null;
  mac_address: string | null;
  cloud_resource_id: string | null;
  version: number;
  retired_at: Date | null;
}

const select = (db: Knex) => db('configuration_items as ci')
  .leftJoin('people as o', 'o.id', 'ci.owner_id')
  .leftJoin('groups as g', 'g.id', 'ci.support_group_id')
  .leftJoin('cost_centres as cc', 'cc.id', 'ci.cost_centre_id')
  .leftJoin('assets as a', 'a.id', 'ci.asset_id')
  .select('ci.id', 'ci.number', 'ci.name', 'ci.ci_class', 'ci.operational_status', 'ci.criticality', 'ci.environment',
    'o.email as owner_email', 'g.name as support_group', 'cc.code as cost_centre', 'a.asset_tag',
    'ci.hostname', 'ci.dns_domain', 'ci.mac_address', 'ci.cloud_resource_id', 'ci.version', 'ci.retired_at');

const toRow = (r: CiRecord): Row => ({
  name: r.name, ciClass: r.ci_class, operationalStatus: r.operational_status, criticality: r.criticality, environment: r.environment,
  ownerEmail: r.owner_email, supportGroup: r.support_group, costCentre: r.cost_centre, assetTag: r.asset_tag,
  hostname: r.hostname, domain: r.dns_domain, macAddress: r.mac_address, cloudResourceId: r.cloud_resource_id,
});
const toStored = (r: CiRecord): Stored => ({
  id: r.id, ref: r.number, version: r.version, retiredAt: r.retired_at?.toISOString() ?? null, row: toRow(r),
});

const locked = (query: Knex.QueryBuilder, lock: boolean) => (lock ? query.forUpdate('ci') : query);

const sameText = (a: unknown, b: unknown) => typeof a === 'string' && typeof b === 'string' && a.toLowerCase() === b.toLowerCase();

/** The active support group a name names (any letter case), memoised per Lookups. */
function activeGroupId(lookups: Lookups, name: string): Promise<string | null> {
  return lookups.once(`group:${name.toLowerCase()}`, async (db) =>
    ((await db('groups').whereRaw('lower(name) = lower(?)', [name]).where('active', true).first('id'))?.id as string | undefined) ?? null);
}

interface AssetOfCi extends Reference {
  /** The CI that already runs on it, if any. */
  backs: { id: string; number: string; name: string; ciClass: string } | null;
}

/** The asset a tag names, with the CI it backs; memoised per Lookups. */
function assetByTag(lookups: Lookups, tag: string): Promise<AssetOfCi | null> {
  return lookups.once(`asset-of-ci:${tag}`, async (db) => {
    const row = await db('assets as a').leftJoin('configuration_items as ci', 'ci.asset_id', 'a.id').where('a.asset_tag', tag)
      .first('a.id', 'a.state', 'ci.id as ci_id', 'ci.number as ci_number', 'ci.name as ci_name', 'ci.ci_class');
    if (!row) return null;
    return {
      id: row.id as string,
      retired: row.state === 'retired',
      backs: row.ci_id ? { id: row.ci_id as string, number: row.ci_number as string, name: row.ci_name as string, ciClass: row.ci_class as string } : null,
    };
  });
}

/**
 * The references of a row resolved to ids: unknown ones are refused by column, and so is a
 * retired cost centre or asset the record does not already name.
 */
async function references(lookups: Lookups, row: Row, existing: Stored | null): Promise<{ ids: Record<string, string | null> } | { problems: ColumnProblem[] }> {
  const problems: ColumnProblem[] = [];
  const ownerEmail = row.ownerEmail as string | null;
  const ownerId = ownerEmail ? await activePersonId(lookups, ownerEmail) : null;
  if (ownerEmail && !ownerId) problems.push({ column: 'ownerEmail', value: ownerEmail, reason: 'no active person has this email' });

  const groupName = row.supportGroup as string | null;
  const groupId = groupName ? await activeGroupId(lookups, groupName) : null;
  if (groupName && !groupId) problems.push({ column: 'supportGroup', value: groupName, reason: 'no active group has this name' });

  const code = row.costCentre as string | null;
  const costCentre = code ? await costCentreByCode(lookups, code) : null;
  if (code && !costCentre) problems.push({ column: 'costCentre', value: code, reason: 'no cost centre has this code' });
  else if (costCentre?.retired && !sameText(existing?.row.costCentre, code)) problems.push({ column: 'costCentre', value: code, reason: 'this cost centre is retired' });

  const tag = row.assetTag as string | null;
  const asset = tag ? await assetByTag(lookups, tag) : null;
  if (tag && !asset) problems.push({ column: 'assetTag', value: tag, reason: 'no asset has this tag' });
  else if (asset?.backs && asset.backs.id !== existing?.id) {
    const other = asset.backs;
    problems.push({ column: 'assetTag', value: tag, reason: `the asset already backs ${other.number} ${other.name} (${other.ciClass}); an asset backs one CI` });
  } else if (asset?.retired && existing?.row.assetTag !== tag) problems.push({ column: 'assetTag', value: tag, reason: 'this asset is retired' });

  if (problems.length > 0) return { problems };
  return { ids: { owner_id: ownerId, support_group_id: groupId, cost_centre_id: costCentre?.id ?? null, asset_id: asset?.id ?? null } };
}

/** A business service is ranked by its criticality, and only a business service is. */
function criticalityProblem(row: Row): ColumnProblem | null {
  if (row.ciClass === 'business_service' && !row.criticality) {
    return { column: 'criticality', value: null, reason: `required for a business service: one of ${CRITICALITIES.join(', ')}` };
  }
  if (row.ciClass !== 'business_service' && row.criticality) {
    return { column: 'criticality', value: row.criticality, reason: 'only a business service has a criticality: leave it empty' };
  }
  return null;
}

/**
 * An identifier cell: stored in the one form feeds are compared in (normaliseIdentifier), so a
 * person's "00:1A:2B:3C:4D:5E" and discovery's "001a.2b3c.4d5e" are one MAC address.
 */
const identifier = (attribute: IdentifyingAttribute, max: number, refusal: string) => cells.optional.text(max)
  .refine((value) => value === null || normaliseIdentifier(attribute, value) !== undefined, { message: refusal })
  .transform((value) => (value === null ? null : normaliseIdentifier(attribute, value) ?? null));

/** The columns a CI's identifiers are stored in. */
const IDENTIFIER_COLUMNS = { hostname: 'hostname', domain: 'dns_domain', macAddress: 'mac_address', cloudResourceId: 'cloud_resource_id' } as const;

/** DNS bounds (RFC 1035): a host name is one label of at most 63 characters. */
const MAX_HOST_LABEL = 63;

/** Whether the row gives `column` another value than the stored record holds (a new record: any value). */
function changes(row: Row, existing: Stored | null, column: keyof typeof IDENTIFIER_COLUMNS): boolean {
  const stored = existing ? normaliseIdentifier(column, existing.row[column] as string | null) ?? null : null;
  return (row[column] ?? null) !== stored;
}

/**
 * A host name a person writes is one label, its domain apart. Checked only when the row changes it:
 * a record a feed named before these rules held is still edited in its other columns.
 */
function hostnameProblems(row: Row, existing: Stored | null): ColumnProblem[] {
  const hostname = row.hostname as string | null;
  if (hostname === null || !changes(row, existing, 'hostname')) return [];
  if (hostname.includes('.')) return [{ column: 'hostname', value: hostname, reason: 'a host name without its domain: put the domain (corp.example) in domain' }];
  if (hostname.length > MAX_HOST_LABEL) return [{ column: 'hostname', value: hostname, reason: `a host name has at most ${MAX_HOST_LABEL} characters` }];
  return [];
}

/**
 * Identifiers are unique where held among live CIs (the database's indexes say so too): another
 * live CI holding the row's host name and domain, MAC address or cloud resource id is named, column
 * by column. Only the identifiers the row changes are checked, so an edit of a CI's other columns
 * is never refused for what it already holds.
 */
async function identifierProblems(db: Knex, row: Row, existing: Stored | null): Promise<ColumnProblem[]> {
  const hostname = changes(row, existing, 'hostname') || changes(row, existing, 'domain') ? row.hostname as string | null : null;
  const mac = changes(row, existing, 'macAddress') ? row.macAddress as string | null : null;
  const cloudId = changes(row, existing, 'cloudResourceId') ? row.cloudResourceId as string | null : null;
  if (!hostname && !mac && !cloudId) return [];
  const holders = await db('configuration_items')
    .whereNull('retired_at')
    .where((w) => {
      if (hostname) w.orWhere((h) => h.whereRaw('lower(hostname) = ?', [hostname]).whereRaw(`lower(coalesce(dns_domain, '')) = ?`, [(row.domain as string | null) ?? '']));
      if (mac) w.orWhere('mac_address', mac);
      if (cloudId) w.orWhere('cloud_resource_id', cloudId);
    })
    .modify((q) => (existing ? q.whereNot('id', existing.id) : q))
    .select('number', 'name', 'hostname', 'dns_domain', 'mac_address', 'cloud_resource_id') as { number: string; name: string; hostname: string | null; dns_domain: string | null; mac_address: string | null; cloud_resource_id: string | null }[];
  const problems: ColumnProblem[] = [];
  const heldBy = (column: string, value: unknown, other: { number: string; name: string }, what: string) =>
    problems.push({ column, value, reason: `${other.number} ${other.name} has this ${what}; an identifier names one CI` });
  for (const other of holders) {
    if (hostname && other.hostname?.toLowerCase() === hostname && (other.dns_domain ?? '').toLowerCase() === ((row.domain as string | null) ?? '')) {
      heldBy('hostname', hostname, other, row.domain ? `host name in ${row.domain as string}` : 'host name (without a domain)');
    }
    if (mac && other.mac_address === mac) heldBy('macAddress', mac, other, 'MAC address');
    if (cloudId && other.cloud_resource_id === cloudId) heldBy('cloudResourceId', cloudId, other, 'cloud resource id');
  }
  return problems;
}

/** The open changes (not closed) that name the CI as affected, by number. */
export async function openChangesNaming(db: Knex, ciId: string): Promise<string[]> {
  return db('change_affected_cis as a').join('change_requests as c', 'c.id', 'a.change_request_id')
    .where('a.ci_id', ciId).whereNot('c.state', 'closed').orderBy('c.number').pluck('c.number');
}

export const configurationItems: MasterDataKind = {
  name: 'configuration-items',
  title: 'Configuration items',
  subjectType: 'configuration_item',
  path: '/cis',
  readsElsewhere: true,
  writers: ['asset_manager', 'admin'],
  columns: [
    'name', 'ciClass', 'operationalStatus', 'criticality', 'environment', 'ownerEmail', 'supportGroup', 'costCentre', 'assetTag',
    'hostname', 'domain', 'macAddress', 'cloudResourceId',
  ],
  keyColumns: ['name', 'ciClass'],
  sortColumns: ['number', 'name', 'ciClass'],
  schema: z.object({
    name: cells.text(200),
    ciClass: cells.oneOf(CI_CLASSES),
    operationalStatus: cells.optional.oneOf(OPERATIONAL_STATUSES).transform((status) => status ?? 'operational'),
    criticality: cells.optional.oneOf(CRITICALITIES),
    environment: cells.optional.text(64).transform((environment) => environment ?? 'production'),
    ownerEmail: cells.optional.email,
    supportGroup: cells.optional.text(200),
    costCentre: cells.optional.text(32).transform((code) => code?.toUpperCase() ?? null),
    assetTag: cells.optional.text(64).transform((tag) => tag?.toUpperCase() ?? null),
    // One label of at most 63 characters, checked in resolve where the stored value is known (hostnameProblems).
    hostname: identifier('hostname', 253, 'not a host name'),
    domain: identifier('domain', 253, 'not a domain'),
    macAddress: identifier('macAddress', 64, 'not a MAC address: twelve hex digits, as 00:1a:2b:3c:4d:5e'),
    cloudResourceId: identifier('cloudResourceId', 500, 'not a cloud resource id'),
  }),

  async findByKey(lookups, key, lock) {
    const query = select(lookups.db).whereRaw('lower(ci.name) = lower(?)', [key.name as string]).where('ci.ci_class', key.ciClass as string);
    const row = await locked(query, lock).first();
    return row ? toStored(row) : null;
  },

  async findByRef(db, ref, lock) {
    const query = isUuid(ref) ? select(db).where('ci.id', ref) : select(db).whereRaw('upper(ci.number) = upper(?)', [ref]);
    const row = await locked(query, lock).first();
    return row ? toStored(row) : null;
  },

  async resolve(lookups, row, existing) {
    const criticality = criticalityProblem(row);
    const resolved = await references(lookups, row, existing);
    const hostname = hostnameProblems(row, existing);
    const identifiers = hostname.length > 0 ? [] : await identifierProblems(lookups.db, row, existing);
    const problems = [...(criticality ? [criticality] : []), ...('problems' in resolved ? resolved.problems : []), ...hostname, ...identifiers];
    if (problems.length > 0 || 'problems' in resolved) return { problems };
    return {
      values: {
        name: row.name, ci_class: row.ciClass, operational_status: row.operationalStatus, criticality: row.criticality,
        environment: row.environment, ...resolved.ids,
        ...Object.fromEntries(Object.entries(IDENTIFIER_COLUMNS).map(([column, tableColumn]) => [tableColumn, row[column] ?? null])),
      },
    };
  },

  // A person wrote it (the API, a form, a master-data import): the attributes they gave are theirs
  // in the provenance, so a weaker feed leaves them alone; so are those of an asset they link it to.
  async insert(trx, values, given) {
    const [{ id }] = await trx('configuration_items').insert(values).returning('id');
    const now = new Date();
    await recordManualProvenance(trx, id, givenIn(given, attributesWritten(CI_COLUMN_ATTRIBUTES, null, values)), now);
    if (values.asset_id) await recordManualAssetLink(trx, id, values.asset_id as string, now);
    return id;
  },

  async update(trx, id, values) {
    const before = await trx('configuration_items').where({ id }).first([...Object.keys(CI_COLUMN_ATTRIBUTES), 'asset_id']);
    await trx('configuration_items').where({ id }).update({ ...values, ...nextVersion(trx) });
    const now = new Date();
    await recordManualProvenance(trx, id, attributesWritten(CI_COLUMN_ATTRIBUTES, before ?? null, values), now);
    if (values.asset_id && values.asset_id !== before?.asset_id) await recordManualAssetLink(trx, id, values.asset_id as string, now);
  },

  async retire(trx, stored) {
    const changes = await openChangesNaming(trx, stored.id);
    if (changes.length > 0) {
      return { column: 'name', value: stored.row.name, reason: `open changes name this CI as affected: ${changes.join(', ')}; retire it when they are closed` };
    }
    await trx('configuration_items').where({ id: stored.id }).update({ operational_status: 'retired', retired_at: trx.fn.now(), ...nextVersion(trx) });
    return null;
  },

  list(db, filter, page) {
    return listPage<CiRecord>({
      query: select(db), searchColumns: ['ci.number', 'ci.name'],
      sortable: { number: 'ci.number', name: 'ci.name', ciClass: 'ci.ci_class' },
      defaultSort: 'number', idColumn: 'ci.id', retiredColumn: 'ci.retired_at',
    }, filter, page, toStored);
  },

  exportRows(db) {
    return streamedInOrder<CiRecord>(select(db).whereNull('ci.retired_at').orderBy('ci.ci_class'), 'ci.name', 'ci.id', toRow);
  },
};
