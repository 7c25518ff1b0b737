/**
 * Optimisation findings (issue 17): the list with its totals of saving and exposure per currency, one
 * finding, acting on it with one call (it starts the process its kind calls for), dismissing it, and
 * a scan on demand. The findings page (api/web/findings-pages.ts) calls the same functions.
 */
import { z } from 'zod';
import type { Role } from '../../domain/directory';
import { FINDING_KINDS, FINDING_STATES } from '../../domain/findings';
import { findFinding, listFindings } from '../../model/findings';
import { OVERSEERS } from '../auth';
import type { AppDeps } from '../app';
import { notFound } from '../errors';
import { actOnFinding, dismissFinding, scanFindingsNow } from '../finding-actions';
import { pageQuery } from '../pagination';
import type { RouteRegistry } from '../routes-registry';

/** Who acts on findings, dismisses them and scans on demand: those who answer for the processes. */
export const FINDING_ACTORS: readonly Role[] = ['process_owner', 'admin'];

export const findingsQuery = pageQuery.extend({
  state: z.enum(FINDING_STATES).optional(),
  kind: z.enum(FINDING_KINDS).optional(),
});

export const findingParams = z.object({ number: z.string().trim().regex(/^FND\d{7,}$/, 'a finding number, e.g. FND0001001') });

export const dismissFindingBody = z.strictObject({ reason: z.string().trim().min(1).max(2000) });

export const scanFindingsBody = z.strictObject({
  asOf: z.iso.datetime({ offset: true }).optional().describe('judge the estate at this instant; now when left out'),
});

export function registerFindingRoutes(routes: RouteRegistry, deps: AppDeps): void {
  const { db } = deps;

  routes.add(
    {
      method: 'get', path: '/finops/findings', tag: 'finops', access: OVERSEERS,
      summary: 'Optimisation findings, largest amounts first, with the totals of saving and exposure per state and currency of every finding the filters keep (amounts in minor units; totals as exact decimal text)',
      query: findingsQuery,
      responses: { 200: 'a page of findings and the totals', 400: 'bad filter', 401: 'no or bad API key', 403: 'not allowed' },
    },
    async ({ query }) => listFindings(db, { state: query.state, kind: query.kind }, query),
  );

  routes.add(
    {
      method: 'get', path: '/finops/findings/:number', tag: 'finops', access: OVERSEERS,
      summary: 'One finding: what was found, its saving or exposure with the figures behind it, its state and the process acting on it',
      params: findingParams,
      responses: { 200: 'the finding', 401: 'no or bad API key', 403: 'not allowed', 404: 'no such finding' },
    },
    async ({ params }) => {
      const finding = await findFinding(db, params.number);
      if (!finding) throw notFound(`no finding ${params.number}`);
      return finding;
    },
  );

  routes.add(
    {
      method: 'post', path: '/finops/findings/:number/act', tag: 'finops', access: FINDING_ACTORS,
      summary: 'Act on a finding with one call: a change reclaiming licences (unused: the idle installs, and the entitlements reduced by the unused seats at renewal; spare seats nobody holds give a change naming no record that asks for that reduction with the figures; over-deployed: the installs beyond the entitlement), the asset\'s retirement (idle in stock: disposal pending, through its lifecycle; refused and the finding resolved when the asset is no longer idle in stock), a change naming the record (past warranty behind a tier-1 service; cloud cost without an owner), or a renewal decision (contract in its notice period). One process per finding: acting again, by anyone, answers the same one (or finishes starting it). The finding is resolved once the process did it (a change closed successful, a renewal decided, the asset pending disposal) and open again to be acted on anew when it did not (rejected, cancelled, unsuccessful)',
      params: findingParams,
      responses: {
        201: 'the finding, acted, and the process started (it shows in GET /processes)',
        200: 'the finding was acted on already (or its action claimed by a call that did not finish, now started): its process',
        401: 'no or bad API key', 403: 'not allowed', 404: 'no such finding',
        409: 'the finding is dismissed or resolved, its subject changed since the scan (the finding is resolved), or the process refused it (the finding stays open)',
      },
    },
    async ({ params, principal, req, res }) => {
      const acted = await actOnFinding(deps, principal, params.number, req);
      res.status(acted.repeated ? 200 : 201);
      return acted;
    },
  );

  routes.add(
    {
      method: 'post', path: '/finops/findings/:number/dismiss', tag: 'finops', access: FINDING_ACTORS,
      summary: 'Dismiss an open finding with the reason; the scan does not raise it again for 90 days (DISMISSAL_QUIET_DAYS)',
      params: findingParams,
      body: dismissFindingBody,
      responses: { 200: 'the finding, dismissed', 400: 'no reason', 401: 'no or bad API key', 403: 'not allowed', 404: 'no such finding', 409: 'not open, or an action is being started for it' },
    },
    async ({ params, body, principal }) => dismissFinding(deps, principal, params.number, body.reason),
  );

  routes.add(
    {
      method: 'post', path: '/finops/findings/scan', tag: 'finops', access: FINDING_ACTORS,
      summary: 'Scan for findings now (as the schedule does) and answer, within the command deadline, what each kind found, still found and resolved',
      body: scanFindingsBody,
      responses: { 200: 'the scan\'s outcome per kind', 400: 'bad asOf', 401: 'no or bad API key', 403: 'not allowed', 409: 'the scan failed', 503: 'Temporal did not take the start', 504: 'the scan did not finish in time (it goes on)' },
    },
    async ({ body }) => scanFindingsNow(deps, body.asOf),
  );
}
