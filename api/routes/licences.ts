/**
 * Licences against reality (issue 16): the consumptions no entitlement covers, with where they are,
 * who reported them and the true-up cost. The positions themselves are GET /licence-positions
 * (./directory.ts).
 */
import { z } from 'zod';
import { licenceReport } from '../../model/unlicensed-installations';
import { OVERSEERS } from '../auth';
import type { AppDeps } from '../app';
import { pageQuery } from '../pagination';
import type { RouteRegistry } from '../routes-registry';

export const unlicensedQuery = pageQuery.extend({ product: z.uuid().optional().describe('only this product') });

export function registerLicenceRoutes(routes: RouteRegistry, deps: AppDeps): void {
  routes.add(
    {
      method: 'get', path: '/licences/unlicensed-installations', tag: 'licences', access: OVERSEERS,
      summary: 'Installations and seats of over-deployed products beyond their entitlement (the newest are the unlicensed ones), with the record, who reported them, and the true-up cost; trueUpTotals: the true-up cost of every over-deployed product, per currency',
      query: unlicensedQuery,
      responses: { 200: 'a page of unlicensed installations and the true-up totals', 400: 'bad filter', 401: 'no or bad API key', 403: 'not allowed' },
    },
    async ({ query }) => {
      const report = await licenceReport(deps.db, { productId: query.product }, query);
      return { ...report.unlicensed, trueUpTotals: report.trueUpTotals };
    },
  );
}
