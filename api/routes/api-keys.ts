import { z } from 'zod';
import { listApiKeys } from '../../model/api-keys';
import { emailOf } from '../../model/directory';
import { apiKeyName, createOwnKey, expiryProblem, revokeKeyAs } from '../api-keys';
import type { AppDeps } from '../app';
import { notFound } from '../errors';
import { pageQuery } from '../pagination';
import type { RouteRegistry } from '../routes-registry';

const createKeyBody = z
  .strictObject({
    name: apiKeyName.describe('to tell the key apart, e.g. "CI pipeline"; unique among the person\'s keys that are not revoked'),
    expiresAt: z.iso.datetime({ offset: true }).optional().describe('when the key stops working, at most 2 years ahead; without it, never'),
  })
  .superRefine((body, ctx) => {
    const problem = body.expiresAt ? expiryProblem(new Date(body.expiresAt)) : undefined;
    if (problem) ctx.addIssue({ code: 'custom', path: ['expiresAt'], message: problem });
  });

const revokeKeyBody = z.strictObject({
  reason: z.string().trim().min(1).max(500).optional().describe('why, for the audit log'),
});

const keyId = z.object({ id: z.uuid() });
const personId = z.object({ id: z.uuid() });

/**
 * API keys: everyone makes, lists and revokes their own; admins list and revoke anyone's, but make
 * none for someone else (its holder could act as that person).
 */
export function registerApiKeyRoutes(routes: RouteRegistry, deps: AppDeps): void {
  const { db } = deps;

  routes.add(
    {
      method: 'get', path: '/api-keys', tag: 'api keys', access: 'authenticated',
      summary: 'My API keys, newest first (live, expired and revoked; never the key itself)',
      query: pageQuery,
      responses: { 200: 'a page of keys', 400: 'bad page', 401: 'no or bad API key' },
    },
    async ({ principal, query }) => listApiKeys(db, principal.id, query),
  );

  routes.add(
    {
      method: 'post', path: '/api-keys', tag: 'api keys', access: 'authenticated',
      summary: 'Make a new API key of mine; the answer holds the key, shown this once',
      body: createKeyBody,
      responses: {
        201: 'the key record with `key`, the key itself (not shown again)',
        400: 'bad name or expiry',
        409: 'a key of mine that is not revoked has this name (key_name_taken), or I hold too many (too_many_keys)',
      },
    },
    async ({ principal, body, res }) => {
      const { record, key } = await createOwnKey(db, { name: body.name, expiresAt: body.expiresAt, principal });
      res.status(201).set('Cache-Control', 'no-store');
      return { ...record, key };
    },
  );

  routes.add(
    {
      method: 'post', path: '/api-keys/:id/revoke', tag: 'api keys', access: 'authenticated',
      summary: 'Revoke a key at once, and end the web sessions signed in with it: my own, or anyone\'s for an admin',
      params: keyId,
      body: revokeKeyBody,
      responses: {
        200: 'the key, revoked (also when it was revoked already); its web sessions are over',
        400: 'bad body',
        403: 'someone else\'s key and I am no admin (not_your_key): nothing was changed',
        404: 'no such key',
      },
    },
    async ({ principal, params, body }) => revokeKeyAs(db, { id: params.id, principal, reason: body.reason }),
  );

  routes.add(
    {
      method: 'get', path: '/people/:id/api-keys', tag: 'api keys', access: ['admin'],
      summary: 'A person\'s API keys, newest first (an admin may revoke them; nobody makes a key for someone else)',
      params: personId,
      query: pageQuery,
      responses: { 200: 'a page of keys', 404: 'no such person' },
    },
    async ({ params, query }) => {
      if (!(await emailOf(db, params.id))) throw notFound(`no person ${params.id}`);
      return listApiKeys(db, params.id, query);
    },
  );
}
