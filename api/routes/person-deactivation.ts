import { z } from 'zod';
import type { AppDeps } from '../app';
import { optionalExpectedVersion, setETag } from '../concurrency';
import { commandRequestId } from '../idempotency';
import { deactivatePersonNow, reactivatePersonNow } from '../person-deactivation';
import type { RouteRegistry } from '../routes-registry';

const personParams = z.object({ id: z.uuid().describe('person id') });

export function registerPersonDeactivationRoutes(routes: RouteRegistry, deps: AppDeps): void {
  routes.add(
    {
      method: 'post', path: '/people/:id/deactivate', tag: 'people', access: ['admin'],
      summary: 'Deactivate a person: their keys and sessions end at once, their emailed links are refused, their open approvals move',
      params: personParams,
      body: z.strictObject({ reason: z.string().trim().max(500).optional().describe('why, for the audit log') }),
      responses: {
        200: 'the person, inactive, and how many open approvals move (to their delegate, manager or a process owner)',
        400: 'bad input',
        403: 'not an admin',
        404: 'no such person',
        409: 'yourself (cannot_deactivate_self) or the last active admin (last_admin): nothing was changed',
        412: 'If-Match names a version that is not current (version_mismatch): nothing was changed',
        503: 'the workflow service is down: nothing was changed',
        504: 'no worker answered in time: repeat with the same Idempotency-Key',
      },
    },
    async ({ params, body, principal, req, res }) => {
      const requestId = await commandRequestId(deps.db, principal.id, req, `person:${params.id}:deactivate`);
      const deactivated = await deactivatePersonNow(deps, {
        personId: params.id, actor: principal, expectedVersion: optionalExpectedVersion(req), reason: body.reason, requestId,
      });
      setETag(res, deactivated.person.version);
      return deactivated;
    },
  );

  routes.add(
    {
      method: 'post', path: '/people/:id/reactivate', tag: 'people', access: ['admin'],
      summary: 'Make a deactivated person active again; their old keys stay revoked (give them a new one)',
      params: personParams,
      body: z.strictObject({}),
      responses: { 200: 'the person, active', 400: 'bad input', 403: 'not an admin', 404: 'no such person', 412: 'If-Match names a version that is not current' },
    },
    async ({ params, principal, req, res }) => {
      const reactivated = await reactivatePersonNow(deps, { personId: params.id, actor: principal, expectedVersion: optionalExpectedVersion(req) });
      setETag(res, reactivated.person.version);
      return reactivated;
    },
  );
}
