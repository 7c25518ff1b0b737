import { z } from 'zod';
import { LICENCE_METRICS } from '../../domain/licence-compliance';
import {
  findCostCentreDetail, findHardwareModel, findSoftwareProduct, findVendorDetail,
  listCostCentrePage, listHardwareModels, listSoftwareProducts, listVendors,
} from '../../model/catalogue';
import type { Database } from '../../platform/database';
import { setETag } from '../concurrency';
import { notFound } from '../errors';
import { pageQuery } from '../pagination';
import type { RouteRegistry } from '../routes-registry';


const idParams = z.object({ id: z.uuid() });
const search = (what: string) => z.string().trim().min(1).max(100).optional().describe(what);
const activeFilter = z.enum(['true', 'false']).optional().transform((value) => (value === undefined ? undefined : value === 'true'))
  .describe('only active (true) or inactive (false) ones');

const includeRetired = z.enum(['true', 'false']).optional().transform((value) => value === 'true').describe('true: retired items too');

const LIST = { 400: 'bad filter', 401: 'no or bad API key' };
const ONE = { 400: 'the id is not a uuid', 401: 'no or bad API key' };

/**
 * What a purchase request names, for everyone signed in to read: cost centres with their budgets,
 * vendors with their contracts, hardware models and software products with their prices (list,
 * contract prices in force, and the price a request would be charged today by chooseUnitPrice).
 */
export function registerCatalogueRoutes(routes: RouteRegistry, db: Database): void {
  routes.add(
    {
      method: 'get', path: '/cost-centres', tag: 'catalogue', access: 'authenticated',
      summary: 'List cost centres by code, with their owner and this month\'s budget',
      query: pageQuery.extend({ q: search('part of the code or name') }),
      responses: { 200: 'a page of cost centres', ...LIST },
    },
    async ({ query }) => listCostCentrePage(db, { q: query.q }, query),
  );

  routes.add(
    {
      method: 'get', path: '/cost-centres/:code', tag: 'catalogue', access: 'authenticated',
      summary: 'One cost centre (its code in any letter case) with its budgets from 12 months ago onwards',
      params: z.object({ code: z.string().trim().min(1).max(32) }),
      responses: { 200: 'the cost centre', 400: 'bad code', 401: 'no or bad API key', 404: 'no such cost centre' },
    },
    async ({ params }) => {
      const costCentre = await findCostCentreDetail(db, params.code);
      if (!costCentre) throw notFound(`no cost centre ${params.code}`);
      return costCentre;
    },
  );

  routes.add(
    {
      method: 'get', path: '/vendors', tag: 'catalogue', access: 'authenticated',
      summary: 'List vendors by name',
      query: pageQuery.extend({ q: search('part of the name'), active: activeFilter }),
      responses: { 200: 'a page of vendors', ...LIST },
    },
    async ({ query }) => listVendors(db, { q: query.q, active: query.active }, query),
  );

  routes.add(
    {
      method: 'get', path: '/vendors/:id', tag: 'catalogue', access: 'authenticated',
      summary: 'One vendor (its id, or its code in any letter case) with its contracts (number, kind, title, term); ETag is its version',
      params: z.object({ id: z.string().trim().min(1).max(200).describe('the id or the code') }),
      responses: { 200: 'the vendor', 400: 'bad id or code', 401: 'no or bad API key', 404: 'no such vendor' },
    },
    async ({ params, res }) => {
      const vendor = await findVendorDetail(db, params.id);
      if (!vendor) throw notFound(`no vendor ${params.id}`);
      setETag(res, vendor.version);
      return vendor;
    },
  );

  routes.add(
    {
      method: 'get', path: '/catalogue/hardware-models', tag: 'catalogue', access: 'authenticated',
      summary: 'List hardware models with their vendor, list price, contract prices in force and today\'s price',
      query: pageQuery.extend({
        q: search('part of the manufacturer or name'),
        category: search('laptop, desktop, server, network, storage, monitor, phone (any letter case)'),
        vendor: z.uuid().optional(),
        includeRetired,
      }),
      responses: { 200: 'a page of hardware models', ...LIST },
    },
    async ({ query }) => listHardwareModels(db, { q: query.q, category: query.category, vendorId: query.vendor, includeRetired: query.includeRetired }, query),
  );

  routes.add(
    {
      method: 'get', path: '/catalogue/hardware-models/:id', tag: 'catalogue', access: 'authenticated',
      summary: 'One hardware model with its prices; ETag is its version',
      params: idParams,
      responses: { 200: 'the hardware model', ...ONE, 404: 'no such hardware model' },
    },
    async ({ params, res }) => {
      const model = await findHardwareModel(db, params.id);
      if (!model) throw notFound(`no hardware model ${params.id}`);
      setETag(res, model.version);
      return model;
    },
  );

  routes.add(
    {
      method: 'get', path: '/catalogue/software-products', tag: 'catalogue', access: 'authenticated',
      summary: 'List software products with their licence metric, vendor, list price, contract prices in force and today\'s price',
      query: pageQuery.extend({
        q: search('part of the publisher or name'),
        licenceMetric: z.enum(LICENCE_METRICS).optional(),
        vendor: z.uuid().optional(),
        includeRetired,
      }),
      responses: { 200: 'a page of software products', ...LIST },
    },
    async ({ query }) => listSoftwareProducts(db, { q: query.q, licenceMetric: query.licenceMetric, vendorId: query.vendor, includeRetired: query.includeRetired }, query),
  );

  routes.add(
    {
      method: 'get', path: '/catalogue/software-products/:id', tag: 'catalogue', access: 'authenticated',
      summary: 'One software product with its prices; ETag is its version',
      params: idParams,
      responses: { 200: 'the software product', ...ONE, 404: 'no such software product' },
    },
    async ({ params, res }) => {
      const product = await findSoftwareProduct(db, params.id);
      if (!product) throw notFound(`no software product ${params.id}`);
      setETag(res, product.version);
      return product;
    },
  );
}
