import type { Knex } from 'knex';
import { z } from 'zod';
import { licencePositions } from '../../model/licences';
import { OVERSEERS, ROLES } from '../auth';
import { pageQuery, paginate } from '../pagination';
import type { RouteRegistry } from '../routes-registry';

const likePrefix = (text: string) => `%${text.replace(/[\\%_]/g, '\\$&')}%`;

/** Read-only lists of the shared model: people, configuration items, entitlements, contracts. */
export function registerDirectoryRoutes(routes: RouteRegistry, db: Knex): void {
  routes.add(
    {
      method: 'get', path: '/people', tag: 'directory', access: 'authenticated',
      summary: 'List people with their manager and roles',
      query: pageQuery.extend({
        q: z.string().trim().min(1).max(100).optional().describe('part of a name or email'),
        role: z.enum(ROLES).optional(),
      }),
      responses: { 200: 'a page of people', 400: 'bad filter', 401: 'no or bad API key' },
    },
    async ({ query }) => {
      const q = db('people as p')
        .leftJoin('people as m', 'm.id', 'p.manager_id')
        .select(
          'p.id', 'p.name', 'p.email', 'p.title', 'p.location', 'p.active',
          'm.id as managerId', 'm.name as managerName',
          db.raw(`ARRAY(SELECT role FROM person_roles r WHERE r.person_id = p.id ORDER BY role) AS roles`),
        )
        .orderBy('p.name');
      if (query.q) q.where((w) => w.whereILike('p.name', likePrefix(query.q!)).orWhereILike('p.email', likePrefix(query.q!)));
      if (query.role) q.whereExists(db('person_roles as r').whereRaw('r.person_id = p.id').where('r.role', query.role));
      return paginate(q, query, (row) => row);
    },
  );

  routes.add(
    {
      method: 'get', path: '/cis', tag: 'directory', access: 'authenticated',
      summary: 'List configuration items; business services carry their criticality',
      query: pageQuery.extend({
        ciClass: z.enum(['business_service', 'application', 'database', 'server', 'virtual_machine', 'network_device', 'storage', 'cloud_resource', 'load_balancer']).optional(),
        status: z.enum(['operational', 'non_operational', 'repair_in_progress', 'retired']).optional(),
        criticality: z.enum(['tier_1', 'tier_2', 'tier_3', 'tier_4']).optional(),
        q: z.string().trim().min(1).max(100).optional().describe('part of the name or number'),
      }),
      responses: { 200: 'a page of CIs', 400: 'bad filter', 401: 'no or bad API key' },
    },
    async ({ query }) => {
      const q = db('configuration_items as ci')
        .leftJoin('assets as a', 'a.id', 'ci.asset_id')
        .leftJoin('people as o', 'o.id', 'ci.owner_id')
        .select(
          'ci.id', 'ci.number', 'ci.name', 'ci.ci_class as ciClass', 'ci.operational_status as operationalStatus',
          'ci.criticality', 'ci.environment', 'a.asset_tag as assetTag', 'o.name as ownerName',
        )
        .orderBy('ci.number');
      if (query.ciClass) q.where('ci.ci_class', query.ciClass);
      if (query.status) q.where('ci.operational_status', query.status);
      if (query.criticality) q.where('ci.criticality', query.criticality);
      if (query.q) q.where((w) => w.whereILike('ci.name', likePrefix(query.q!)).orWhereILike('ci.number', likePrefix(query.q!)));
      return paginate(q, query, (row) => row);
    },
  );

  routes.add(
    {
      method: 'get', path: '/entitlements', tag: 'licences', access: OVERSEERS,
      summary: 'List software entitlements, each with the compliance position of its product',
      query: pageQuery.extend({
        product: z.uuid().optional(),
        position: z.enum(['compliant', 'over_deployed', 'under_used']).optional().describe('only products in this position'),
      }),
      responses: { 200: 'a page of entitlements', 400: 'bad filter', 401: 'no or bad API key', 403: 'not allowed' },
    },
    async ({ query }) => {
      const positions = new Map((await licencePositions(db, query.product ? [query.product] : undefined)).map((p) => [p.productId, p]));
      const q = db('software_entitlements as e')
        .join('software_products as p', 'p.id', 'e.product_id')
        .leftJoin('contracts as c', 'c.id', 'e.contract_id')
        .select(
          'e.id', 'e.number', 'e.product_id as productId', 'p.publisher', 'p.name as product', 'e.metric', 'e.quantity',
          'e.starts_on as startsOn', 'e.ends_on as endsOn', 'e.cost_minor as costMinor', 'e.currency', 'c.number as contractNumber',
        )
        .orderBy('e.number');
      if (query.product) q.where('e.product_id', query.product);
      if (query.position) {
        q.whereIn('e.product_id', [...positions.values()].filter((p) => p.position === query.position).map((p) => p.productId));
      }
      return paginate(q, query, (row: { productId: string }) => ({ ...row, compliance: positions.get(row.productId) }));
    },
  );

  routes.add(
    {
      method: 'get', path: '/licence-positions', tag: 'licences', access: OVERSEERS,
      summary: 'The effective licence position of every product: entitled, consumed, shortfall, true-up cost',
      responses: { 200: 'one row per product', 401: 'no or bad API key', 403: 'not allowed' },
    },
    async () => ({ items: await licencePositions(db) }),
  );

  routes.add(
    {
      method: 'get', path: '/contracts', tag: 'contracts', access: OVERSEERS,
      summary: 'List vendor contracts',
      query: pageQuery.extend({
        vendor: z.uuid().optional(),
        kind: z.enum(['purchase', 'lease', 'maintenance', 'software_licence', 'support', 'cloud']).optional(),
        endingBefore: z.iso.date().optional(),
      }),
      responses: { 200: 'a page of contracts', 400: 'bad filter', 401: 'no or bad API key', 403: 'not allowed' },
    },
    async ({ query }) => {
      const q = db('contracts as c')
        .join('vendors as v', 'v.id', 'c.vendor_id')
        .select(
          'c.id', 'c.number', 'c.kind', 'c.title', 'v.id as vendorId', 'v.name as vendorName', 'c.starts_on as startsOn',
          'c.ends_on as endsOn', 'c.value_minor as valueMinor', 'c.currency', 'c.auto_renew as autoRenew',
        )
        .orderBy('c.ends_on');
      if (query.vendor) q.where('c.vendor_id', query.vendor);
      if (query.kind) q.where('c.kind', query.kind);
      if (query.endingBefore) q.where('c.ends_on', '<', query.endingBefore);
      return paginate(q, query, (row) => row);
    },
  );
}
