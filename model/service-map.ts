/**
 * The service map as the CI pages read it: a CI and its relationships both ways, the asset behind
 * it, the changes that name it; its neighbourhood (what depends on it and what it depends on, a
 * few relationships away); and the CIs a change reaches, from the impact assessment's own walk
 * (model/change-impact.ts reachedByChange), with the relationships the walk followed.
 */
import type { Knex } from 'knex';
import { DEFAULT_IMPACT_DEPTH, reachedByChange } from './change-impact';
import { isUuid } from './keys';
import { likeContaining } from './directory';
import { paginate, type Page } from './page';

export interface CiSummary {
  id: string;
  number: string;
  name: string;
  ciClass: string;
  criticality: string | null;
  operationalStatus: string;
}

/** A CI placed on a map: relationships away from the start (negative: what the start depends on). */
export interface PlacedCi extends CiSummary {
  depth: number;
}

export interface PlacedEdge {
  from: string;
  to: string;
  type: string;
}

const SUMMARY_COLUMNS = ['ci.id', 'ci.number', 'ci.name', 'ci.ci_class as ciClass', 'ci.criticality', 'ci.operational_status as operationalStatus'];

/** The CIs a reference names: its id, its number (CI0001234) or its name in any case (one per class, so maybe several). */
export async function findCisByRef(db: Knex, ref: string): Promise<CiSummary[]> {
  const q = db('configuration_items as ci').select(SUMMARY_COLUMNS).orderBy('ci.ci_class');
  if (isUuid(ref)) q.where('ci.id', ref);
  else q.where((w) => w.whereRaw('lower(ci.name) = lower(?)', [ref]).orWhere('ci.number', ref.toUpperCase()));
  return q;
}

/**
 * The CIs a business service depends on, directly or through others, to the impact walk's depth
 * (a cycle stays finite): a subquery of ids, the service left out.
 */
export const serviceDependencies = (serviceId: string): { sql: string; bindings: [string, number] } => ({
  sql: `SELECT id FROM (
       WITH RECURSIVE below (id, depth) AS (
         SELECT ?::uuid, 0
         UNION
         SELECT r.to_ci_id, b.depth + 1 FROM below b
           JOIN ci_relationships r ON r.from_ci_id = b.id AND r.retired_at IS NULL
          WHERE b.depth < ?)
       SELECT id FROM below WHERE depth > 0) dependencies`,
  bindings: [serviceId, DEFAULT_IMPACT_DEPTH],
});

export interface CiListFilters {
  q?: string;
  ciClass?: string;
  status?: string;
  criticality?: string;
  /** Only the CIs this business service depends on. */
  serviceId?: string;
}

export interface CiListEntry extends CiSummary {
  environment: string;
  ownerName: string | null;
  assetTag: string | null;
}

/** CIs by name, with the filters of the CI list page. */
export function listCis(db: Knex, filters: CiListFilters, page: { limit: number; offset: number }): Promise<Page<CiListEntry>> {
  const q = db('configuration_items as ci')
    .leftJoin('assets as a', 'a.id', 'ci.asset_id')
    .leftJoin('people as o', 'o.id', 'ci.owner_id')
    .select([...SUMMARY_COLUMNS, 'ci.environment', 'o.name as ownerName', 'a.asset_tag as assetTag'])
    .orderBy(['ci.name', 'ci.ci_class']);
  if (filters.q) q.where((w) => w.whereILike('ci.name', likeContaining(filters.q!)).orWhereILike('ci.number', likeContaining(filters.q!)));
  if (filters.ciClass) q.where('ci.ci_class', filters.ciClass);
  if (filters.status) q.where('ci.operational_status', filters.status);
  if (filters.criticality) q.where('ci.criticality', filters.criticality);
  if (filters.serviceId) {
    const { sql, bindings } = serviceDependencies(filters.serviceId);
    q.whereRaw(`ci.id IN (${sql})`, bindings);
  }
  return paginate(q, page, (row: CiListEntry) => row);
}

/** The business services, for the list's filter. */
export function listServices(db: Knex): Promise<{ id: string; name: string; criticality: string | null }[]> {
  return db('configuration_items').where({ ci_class: 'business_service' }).whereNull('retired_at').orderBy('name').select('id', 'name', 'criticality');
}

export interface Relationship {
  id: string;
  type: string;
  other: CiSummary;
}

/** Each direction lists at most this many relationships (a hub has thousands); the count says how many there are. */
export const RELATIONSHIPS_SHOWN = 200;

/**
 * Who reads a CI's page: an overseer sees every change that names the CI, anyone else only those
 * they requested or hold an approval on (api/auth.ts maySeeRequest's rule, in SQL).
 */
export interface ChangeViewer {
  personId: string;
  overseer: boolean;
}

/** What the CI page shows besides the map; the changes naming it, those the viewer may see. */
export async function ciDetail(db: Knex, id: string, viewer: ChangeViewer) {
  const namingChanges = db('change_affected_cis as x').join('change_requests as c', 'c.id', 'x.change_request_id').where('x.ci_id', id);
  if (!viewer.overseer) {
    namingChanges.where((w) => w.where('c.requester_id', viewer.personId)
      .orWhereExists(db('approvals as ap').whereRaw('ap.subject_id = c.id').where('ap.approver_id', viewer.personId).select(db.raw('1'))));
  }
  const related = (direction: 'out' | 'in') => {
    const [mine, theirs] = direction === 'out' ? ['from_ci_id', 'to_ci_id'] : ['to_ci_id', 'from_ci_id'];
    return db('ci_relationships as r').join('configuration_items as ci', 'ci.id', `r.${theirs}`)
      .where(`r.${mine}`, id).whereNull('r.retired_at')
      .orderBy(['r.type', 'ci.name']).limit(RELATIONSHIPS_SHOWN)
      .select('r.id as relationshipId', 'r.type', ...SUMMARY_COLUMNS);
  };
  const countOf = async (column: string) =>
    Number((await db('ci_relationships').where(column, id).whereNull('retired_at').count({ n: '*' }))[0].n);
  const [ci, outgoing, incoming, outgoingCount, incomingCount, changes] = await Promise.all([
    db('configuration_items as ci')
      .leftJoin('people as o', 'o.id', 'ci.owner_id')
      .leftJoin('groups as g', 'g.id', 'ci.support_group_id')
      .leftJoin('cost_centres as cc', 'cc.id', 'ci.cost_centre_id')
      .leftJoin('assets as a', 'a.id', 'ci.asset_id')
      .where('ci.id', id)
      .first([...SUMMARY_COLUMNS, 'ci.environment', 'ci.retired_at as retiredAt', 'o.name as ownerName', 'o.email as ownerEmail',
        'g.name as supportGroup', 'cc.code as costCentreCode', 'cc.name as costCentreName',
        'a.id as assetId', 'a.asset_tag as assetTag', 'a.state as assetState', 'a.substate as assetSubstate']),
    related('out'),
    related('in'),
    countOf('from_ci_id'),
    countOf('to_ci_id'),
    // Open changes first, then the latest closed ones.
    namingChanges
      .orderByRaw(`(c.state = 'closed'), coalesce(c.planned_start, c.created_at) DESC`).limit(50)
      .select('c.id', 'c.number', 'c.title', 'c.state', 'c.close_code as closeCode', 'c.planned_start as plannedStart', 'c.planned_end as plannedEnd', 'c.closed_at as closedAt'),
  ]);
  if (!ci) return undefined;
  const relationship = (row: Record<string, unknown>): Relationship => {
    const { relationshipId, type, ...other } = row;
    return { id: relationshipId as string, type: type as string, other: other as unknown as CiSummary };
  };
  return {
    ci,
    /** This CI <type> the other: what it depends on. */
    outgoing: outgoing.map(relationship),
    outgoingCount,
    /** The other <type> this CI: what depends on it. */
    incoming: incoming.map(relationship),
    incomingCount,
    changes: changes as { id: string; number: string; title: string; state: string; closeCode: string | null; plannedStart: Date | null; plannedEnd: Date | null; closedAt: Date | null }[],
  };
}

/** The CIs of a map with their rows, and the relationships between consecutive depths (the ones a walk follows). */
async function placedGraph(db: Knex, placed: { id: string; depth: number }[]): Promise<{ cis: PlacedCi[]; edges: PlacedEdge[] }> {
  if (!placed.length) return { cis: [], edges: [] };
  const bindings = [placed.map((p) => p.id), placed.map((p) => p.depth)];
  const placedCte = 'WITH p AS (SELECT * FROM unnest(?::uuid[], ?::int[]) AS p (id, depth))';
  const [cis, edges] = await Promise.all([
    db.raw<{ rows: PlacedCi[] }>(`${placedCte}
      SELECT c.id, c.number, c.name, c.ci_class AS "ciClass", c.criticality, c.operational_status AS "operationalStatus", p.depth
        FROM p JOIN configuration_items c ON c.id = p.id
       ORDER BY p.depth, c.name, c.number`, bindings),
    db.raw<{ rows: PlacedEdge[] }>(`${placedCte}
      SELECT r.from_ci_id AS "from", r.to_ci_id AS "to", r.type
        FROM ci_relationships r JOIN p f ON f.id = r.from_ci_id JOIN p t ON t.id = r.to_ci_id
       WHERE r.retired_at IS NULL AND f.depth = t.depth + 1
       ORDER BY r.type, r.from_ci_id, r.to_ci_id`, bindings),
  ]);
  return { cis: cis.rows, edges: edges.rows };
}

/** A neighbourhood holds at most this many CIs (the nearest), so a hub's page stays bounded. */
export const NEIGHBOURHOOD_LIMIT = 3000;
export const MAX_NEIGHBOURHOOD_DEPTH = 4;

/**
 * A CI's neighbourhood: what depends on it up to `depth` relationships away (positive depths) and
 * what it depends on (negative), each CI at its nearest distance, the nearest NEIGHBOURHOOD_LIMIT.
 */
export async function ciNeighbourhood(db: Knex, ciId: string, depth: number): Promise<{ cis: PlacedCi[]; edges: PlacedEdge[]; truncated: boolean }> {
  if (!Number.isInteger(depth) || depth < 1 || depth > MAX_NEIGHBOURHOOD_DEPTH) throw new RangeError(`depth must be 1 to ${MAX_NEIGHBOURHOOD_DEPTH}, not ${depth}`);
  const { rows } = await db.raw<{ rows: { id: string; depth: number }[] }>(`
    WITH RECURSIVE
    up (id, depth) AS (
      SELECT ?::uuid, 0
      UNION
      SELECT r.from_ci_id, u.depth + 1 FROM up u JOIN ci_relationships r ON r.to_ci_id = u.id AND r.retired_at IS NULL WHERE u.depth < ?
    ),
    down (id, depth) AS (
      SELECT ?::uuid, 0
      UNION
      SELECT r.to_ci_id, d.depth + 1 FROM down d JOIN ci_relationships r ON r.from_ci_id = d.id AND r.retired_at IS NULL WHERE d.depth < ?
    ),
    near AS (
      SELECT id, min(depth) AS depth FROM up GROUP BY id
      UNION ALL
      SELECT id, -min(depth) FROM down WHERE id NOT IN (SELECT id FROM up) GROUP BY id
    )
    SELECT id, depth FROM near ORDER BY abs(depth), depth DESC, id LIMIT ?`, [ciId, depth, ciId, depth, NEIGHBOURHOOD_LIMIT + 1]);
  const truncated = rows.length > NEIGHBOURHOOD_LIMIT;
  return { ...(await placedGraph(db, rows.slice(0, NEIGHBOURHOOD_LIMIT))), truncated };
}

/**
 * The CIs a change reaches and the relationships its walk followed: the assessment's walk
 * (reachedByChange) to the depth its stored assessment used, the workflow's default before one.
 */
export async function changeImpactGraph(db: Knex, changeId: string, maxDepth = DEFAULT_IMPACT_DEPTH): Promise<{ cis: PlacedCi[]; edges: PlacedEdge[] }> {
  return placedGraph(db, await reachedByChange(db, changeId, maxDepth));
}
