import type { Knex } from 'knex';
import { paginate, type Page } from './page';

type PageRequest = { limit: number; offset: number };

/** An ILIKE pattern that matches `text` anywhere, its own %, _ and \ taken literally. */
export const likeContaining = (text: string) => `%${text.replace(/[\\%_]/g, '\\$&')}%`;

export interface PersonEntry {
  id: string;
  name: string;
  email: string;
  title: string | null;
  location: string | null;
  active: boolean;
  managerId: string | null;
  managerName: string | null;
  roles: string[];
}

/**
 * People by name, with their manager and roles; `q` matches part of the name or email, `group` is
 * a group's id or name (any letter case).
 */
export function listPeople(db: Knex, filters: { q?: string; role?: string; active?: boolean; group?: string }, page: PageRequest): Promise<Page<PersonEntry>> {
  const q = db('people as p')
    .leftJoin('people as m', 'm.id', 'p.manager_id')
    .select(
      'p.id', 'p.name', 'p.email', 'p.title', 'p.location', 'p.active',
      'm.id as managerId', 'm.name as managerName',
      db.raw(`ARRAY(SELECT role FROM person_roles r WHERE r.person_id = p.id ORDER BY role) AS roles`),
    )
    .orderBy('p.name');
  if (filters.q) q.where((w) => w.whereILike('p.name', likeContaining(filters.q!)).orWhereILike('p.email', likeContaining(filters.q!)));
  if (filters.role) q.whereExists(db('person_roles as r').whereRaw('r.person_id = p.id').where('r.role', filters.role));
  if (filters.active !== undefined) q.where('p.active', filters.active);
  if (filters.group) {
    q.whereExists(db('group_members as gm').join('groups as g', 'g.id', 'gm.group_id').whereRaw('gm.person_id = p.id')
      .where((w) => w.whereRaw('g.id::text = ?', [filters.group!]).orWhereRaw('lower(g.name) = lower(?)', [filters.group!])));
  }
  return paginate(q, page, (row: PersonEntry) => row);
}

export async function isActivePerson(db: Knex, id: string): Promise<boolean> {
  return Boolean(await db('people').where({ id, active: true }).first('id'));
}

/**
 * The people of the embedded demo: active, and their key is the public af_demo_<login>, so
 * offering them to pick reveals nothing.
 */
function demoPeopleQuery(db: Knex): Knex.QueryBuilder {
  return db('people as p')
    .leftJoin('person_roles as r', 'r.person_id', 'p.id')
    .where('p.active', true)
    .whereExists(db('api_keys as k').whereRaw('k.person_id = p.id').whereNull('k.revoked_at')
      .whereRaw(`k.key_hash = encode(sha256(convert_to('af_demo_' || replace(split_part(p.email, '@', 1), '.', '_'), 'UTF8')), 'hex')`))
    .groupBy('p.id');
}

export function listDemoPeople(db: Knex): Promise<{ id: string; name: string; email: string; roles: string[] }[]> {
  return demoPeopleQuery(db)
    .orderBy('p.name')
    .limit(500)
    .select('p.id', 'p.name', 'p.email', db.raw(`COALESCE(array_agg(r.role ORDER BY r.role) FILTER (WHERE r.role IS NOT NULL), '{}') AS roles`));
}

export async function isDemoPerson(db: Knex, id: string): Promise<boolean> {
  return Boolean(await demoPeopleQuery(db).where('p.id', id).first('p.id'));
}

/** Whom a list of processes can be filtered by as approver: active approvers, and anyone an open process waits for. */
export function listApproverChoices(db: Knex): Promise<{ id: string; name: string }[]> {
  return db('people').where('active', true)
    .where((w) => w.whereIn('id', db('person_roles').where('role', 'approver').select('person_id'))
      .orWhereIn('id', db('processes').whereNull('finished_at').select(db.raw('unnest(waiting_for)'))))
    .orderBy('name').limit(1000).select('id', 'name');
}

export function findCostCentreByCode(db: Knex, code: string): Promise<{ id: string } | undefined> {
  return db('cost_centres').where({ code }).first('id');
}

export function listCostCentres(db: Knex): Promise<{ code: string; name: string }[]> {
  return db('cost_centres').orderBy('code').select('code', 'name');
}

export interface ConfigurationItemEntry {
  id: string;
  number: string;
  name: string;
  ciClass: string;
  operationalStatus: string;
  criticality: string | null;
  environment: string;
  assetTag: string | null;
  ownerName: string | null;
}

/** Configuration items by number; `q` matches part of the name or number. */
export function listConfigurationItems(
  db: Knex,
  filters: { ciClass?: string; status?: string; criticality?: string; q?: string },
  page: PageRequest,
): Promise<Page<ConfigurationItemEntry>> {
  const q = db('configuration_items as ci')
    .leftJoin('assets as a', 'a.id', 'ci.asset_id')
    .leftJoin('people as o', 'o.id', 'ci.owner_id')
    .select(
      'ci.id', 'ci.number', 'ci.name', 'ci.ci_class as ciClass', 'ci.operational_status as operationalStatus',
      'ci.criticality', 'ci.environment', 'a.asset_tag as assetTag', 'o.name as ownerName',
    )
    .orderBy('ci.number');
  if (filters.ciClass) q.where('ci.ci_class', filters.ciClass);
  if (filters.status) q.where('ci.operational_status', filters.status);
  if (filters.criticality) q.where('ci.criticality', filters.criticality);
  if (filters.q) q.where((w) => w.whereILike('ci.name', likeContaining(filters.q!)).orWhereILike('ci.number', likeContaining(filters.q!)));
  return paginate(q, page, (row: ConfigurationItemEntry) => row);
}

export interface ContractEntry {
  id: string;
  number: string;
  kind: string;
  title: string;
  vendorId: string;
  vendorName: string;
  startsOn: string;
  endsOn: string;
  valueMinor: number;
  currency: string;
  autoRenew: boolean;
}

/** Vendor contracts, the soonest ending first. */
export function listContracts(
  db: Knex,
  filters: { vendorId?: string; kind?: string; endingBefore?: string },
  page: PageRequest,
): Promise<Page<ContractEntry>> {
  const q = db('contracts as c')
    .join('vendors as v', 'v.id', 'c.vendor_id')
    .select(
      'c.id', 'c.number', 'c.kind', 'c.title', 'v.id as vendorId', 'v.name as vendorName', 'c.starts_on as startsOn',
      'c.ends_on as endsOn', 'c.value_minor as valueMinor', 'c.currency', 'c.auto_renew as autoRenew',
    )
    .orderBy('c.ends_on');
  if (filters.vendorId) q.where('c.vendor_id', filters.vendorId);
  if (filters.kind) q.where('c.kind', filters.kind);
  if (filters.endingBefore) q.where('c.ends_on', '<', filters.endingBefore);
  return paginate(q, page, (row: ContractEntry) => row);
}

export async function emailOf(db: Knex, personId: string): Promise<string | undefined> {
  return (await db('people').where({ id: personId }).first('email'))?.email;
}

/** The active process owners: whom attention emails go to, and the approvers of last resort when a rule leaves nobody. */
export function processOwners(db: Knex): Promise<{ id: string; email: string }[]> {
  return db('person_roles as pr').join('people as p', 'p.id', 'pr.person_id')
    .where({ 'pr.role': 'process_owner', 'p.active': true }).orderBy(['p.name', 'p.id']).select('p.id', 'p.email');
}
