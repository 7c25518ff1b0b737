import { z } from 'zod';
import { listConfigurationItems, listContracts } from '../../model/directory';
import { licencePositions, listEntitlements } from '../../model/licences';
import type { Database } from '../../platform/database';
import { OVERSEERS } from '../auth';
import { pageQuery } from '../pagination';
import type { RouteRegistry } from '../routes-registry';

/** Read-only lists of the shared model: configuration items, entitlements, contracts (people and groups: ./people.ts). */
export function registerDirectoryRoutes(routes: RouteRegistry, db: Database): void {
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
    async ({ query }) => listConfigurationItems(db, { ciClass: query.ciClass, status: query.status, criticality: query.criticality, q: query.q }, query),
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
    async ({ query }) => listEntitlements(db, { productId: query.product, position: query.position }, query),
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
    async ({ query }) => listContracts(db, { vendorId: query.vendor, kind: query.kind, endingBefore: query.endingBefore }, query),
  );
}
