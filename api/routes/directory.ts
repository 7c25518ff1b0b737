import { z } from 'zod';
import { CONTRACT_KINDS } from '../../domain/procurement';
import { listConfigurationItems, listContracts } from '../../model/directory';
import { licencePositions, listEntitlements } from '../../model/licences';
import { masterDataKind } from '../../model/master-data';
import { relationshipsOf } from '../../model/master-data/ci-relationships';
import type { Database } from '../../platform/database';
import { OVERSEERS } from '../auth';
import { setETag } from '../concurrency';
import { notFound } from '../errors';
import { pageQuery } from '../pagination';
import type { RouteRegistry } from '../routes-registry';
import { recordOf } from './master-data';

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
      method: 'get', path: '/cis/:ref', tag: 'directory', access: 'authenticated',
      summary: 'One configuration item (its number CI..., or its id) in the columns an import takes, with its live relationships both ways; ETag is its version',
      params: z.object({ ref: z.string().trim().min(1).max(200) }),
      responses: { 200: 'the CI', 401: 'no or bad API key', 404: 'no such CI' },
    },
    async ({ params, res }) => {
      const ci = await masterDataKind('configuration-items').findByRef(db, params.ref, false);
      if (!ci) throw notFound(`no configuration item ${params.ref}`);
      setETag(res, ci.version);
      return { ...recordOf(ci), number: ci.ref, relationships: await relationshipsOf(db, ci.id) };
    },
  );

  routes.add(
    {
      method: 'get', path: '/entitlements', tag: 'licences', access: OVERSEERS,
      summary: 'List software entitlements, each with the compliance position of its product',
      query: pageQuery.extend({
        product: z.uuid().optional(),
        position: z.enum(['compliant', 'over_deployed', 'under_used']).optional().describe('only products in this position'),
        includeRetired: z.enum(['true', 'false']).optional().transform((value) => value === 'true').describe('true: retired entitlements too'),
      }),
      responses: { 200: 'a page of entitlements', 400: 'bad filter', 401: 'no or bad API key', 403: 'not allowed' },
    },
    async ({ query }) => listEntitlements(db, { productId: query.product, position: query.position, includeRetired: query.includeRetired }, query),
  );

  routes.add(
    {
      method: 'get', path: '/entitlements/:ref', tag: 'licences', access: OVERSEERS,
      summary: 'One entitlement (its number ENT..., or its id) in the columns an import takes; ETag is its version',
      params: z.object({ ref: z.string().trim().min(1).max(200) }),
      responses: { 200: 'the entitlement', 401: 'no or bad API key', 403: 'not allowed', 404: 'no such entitlement' },
    },
    async ({ params, res }) => {
      const entitlement = await masterDataKind('entitlements').findByRef(db, params.ref, false);
      if (!entitlement) throw notFound(`no entitlement ${params.ref}`);
      setETag(res, entitlement.version);
      return recordOf(entitlement);
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
        kind: z.enum(CONTRACT_KINDS).optional(),
        endingBefore: z.iso.date().optional(),
      }),
      responses: { 200: 'a page of contracts', 400: 'bad filter', 401: 'no or bad API key', 403: 'not allowed' },
    },
    async ({ query }) => listContracts(db, { vendorId: query.vendor, kind: query.kind, endingBefore: query.endingBefore }, query),
  );

  routes.add(
    {
      method: 'get', path: '/contracts/:ref', tag: 'contracts', access: OVERSEERS,
      summary: 'One vendor contract (its number CNTR..., or its id) in the columns an import takes; ETag is its version',
      params: z.object({ ref: z.string().trim().min(1).max(200) }),
      responses: { 200: 'the contract', 401: 'no or bad API key', 403: 'not allowed', 404: 'no such contract' },
    },
    async ({ params, res }) => {
      const contract = await masterDataKind('contracts').findByRef(db, params.ref, false);
      if (!contract) throw notFound(`no contract ${params.ref}`);
      setETag(res, contract.version);
      return recordOf(contract);
    },
  );
}
