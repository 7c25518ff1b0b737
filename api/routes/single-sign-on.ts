import { z } from 'zod';
import { ROLES } from '../../domain/directory';
import { emailOf } from '../../model/directory';
import { listPersonSessions, listRoleMappings, replaceRoleMappings, revokePersonSessions, unlinkProviderAccount } from '../../model/single-sign-on';
import type { AppDeps } from '../app';
import { notFound } from '../errors';
import type { RouteRegistry } from '../routes-registry';

const roleMapping = z.strictObject({
  claimValue: z.string().trim().min(1).max(200).describe('a value of the group claim, exactly as the provider sends it'),
  role: z.enum(ROLES),
});

const personParams = z.object({ id: z.uuid() });

/**
 * What single sign-on grants, kept as data admins edit (which group claim values give which
 * role), the web sessions of a person, which admins can end at once, and the provider account a
 * person signs in with, which admins can unlink (their account at the provider was recreated).
 */
export function registerSingleSignOnRoutes(routes: RouteRegistry, deps: AppDeps): void {
  const { db } = deps;

  routes.add(
    {
      method: 'get', path: '/sso/role-mappings', tag: 'single sign-on', access: ['admin'],
      summary: 'The roles each value of the identity provider\'s group claim gives at sign-in',
      responses: { 200: 'every mapping', 401: 'no or bad API key', 403: 'not an admin' },
    },
    async () => ({ items: await listRoleMappings(db) }),
  );

  routes.add(
    {
      method: 'put', path: '/sso/role-mappings', tag: 'single sign-on', access: ['admin'],
      summary: 'Replace every role mapping; each person\'s roles follow at their next sign-in',
      body: z.strictObject({ items: z.array(roleMapping).max(1000) }),
      responses: { 200: 'the mappings now', 400: 'bad mapping (unknown role, empty claim value)', 401: 'no or bad API key', 403: 'not an admin' },
    },
    async ({ body, principal }) => ({ items: await replaceRoleMappings(db, body.items, principal.email) }),
  );

  routes.add(
    {
      method: 'get', path: '/people/:id/sessions', tag: 'single sign-on', access: ['admin'],
      summary: 'A person\'s live web UI sessions: when each started, when it expires, how they signed in',
      params: personParams,
      responses: { 200: 'the sessions, newest first', 400: 'bad id', 401: 'no or bad API key', 403: 'not an admin', 404: 'no such person' },
    },
    async ({ params }) => {
      if (!(await emailOf(db, params.id))) throw notFound(`there is no person ${params.id}`);
      return { items: await listPersonSessions(db, params.id) };
    },
  );

  routes.add(
    {
      method: 'post', path: '/people/:id/sessions/revoke', tag: 'single sign-on', access: ['admin'],
      summary: 'End every web UI session of a person at once (their API keys are not touched)',
      params: personParams,
      body: z.strictObject({}),
      responses: { 200: 'how many sessions ended', 400: 'bad id or body', 401: 'no or bad API key', 403: 'not an admin', 404: 'no such person' },
    },
    async ({ params, principal }) => {
      if (!(await emailOf(db, params.id))) throw notFound(`there is no person ${params.id}`);
      return { revoked: await revokePersonSessions(db, params.id, principal.email) };
    },
  );

  routes.add(
    {
      method: 'post', path: '/people/:id/sso-link/remove', tag: 'single sign-on', access: ['admin'],
      summary: 'Unlink a person from the identity provider account they sign in with; their next sign-in links them again by verified email',
      params: personParams,
      body: z.strictObject({}),
      responses: { 200: 'the account unlinked, or null when there was none', 400: 'bad id or body', 401: 'no or bad API key', 403: 'not an admin', 404: 'no such person' },
    },
    async ({ params, principal }) => {
      if (!(await emailOf(db, params.id))) throw notFound(`there is no person ${params.id}`);
      return { unlinked: await unlinkProviderAccount(db, params.id, principal.email) };
    },
  );
}
