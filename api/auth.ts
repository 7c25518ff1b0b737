import type { Request } from 'express';
import type { Knex } from 'knex';
import { hashApiKey } from '../platform/api-keys';
import { unauthenticated } from './errors';

export const ROLES = ['requester', 'approver', 'asset_manager', 'process_owner', 'admin'] as const;
export type Role = (typeof ROLES)[number];

export interface Principal {
  id: string;
  email: string;
  name: string;
  roles: Role[];
}

export function hasAnyRole(principal: Principal, roles: readonly Role[]): boolean {
  return principal.roles.some((role) => roles.includes(role));
}

/** Roles that see every record rather than only their own. */
export const OVERSEERS: readonly Role[] = ['asset_manager', 'process_owner', 'admin'];

/**
 * Who may read a change, a purchase or its process: overseers, its requester, and anyone asked to
 * approve it. Give the approver ids when they are loaded already; otherwise one query asks.
 */
export async function maySeeRequest(
  db: Knex,
  principal: Principal,
  request: { subjectId: string; requesterId: string | null },
  approverIds?: string[],
): Promise<boolean> {
  if (hasAnyRole(principal, OVERSEERS) || request.requesterId === principal.id) return true;
  if (approverIds) return approverIds.includes(principal.id);
  return Boolean(await db('approvals').where({ subject_id: request.subjectId, approver_id: principal.id }).first('id'));
}

/** An active person and their roles, found by id or by the hash of their API key. */
async function activePrincipal(db: Knex, where: { 'p.id': string } | { 'p.api_key_hash': string }): Promise<Principal | undefined> {
  const person = await db('people as p')
    .leftJoin('person_roles as r', 'r.person_id', 'p.id')
    .where({ ...where, 'p.active': true })
    .groupBy('p.id')
    .first('p.id', 'p.email', 'p.name', db.raw(`COALESCE(array_agg(r.role) FILTER (WHERE r.role IS NOT NULL), '{}') AS roles`));
  return person as Principal | undefined;
}

/** The person an API key belongs to, if it is valid and the person is active. */
export function principalByApiKey(db: Knex, apiKey: string): Promise<Principal | undefined> {
  return activePrincipal(db, { 'p.api_key_hash': hashApiKey(apiKey) });
}

/** The person with this id (a uuid), if active: the web UI checks its session's person on every request. */
export function principalById(db: Knex, id: string): Promise<Principal | undefined> {
  return activePrincipal(db, { 'p.id': id });
}

/** Resolves the bearer API key to an active person and their roles. */
export async function authenticate(db: Knex, req: Request): Promise<Principal> {
  const header = req.get('authorization');
  if (!header) throw unauthenticated('send your API key as "Authorization: Bearer <key>"');
  const match = /^Bearer\s+(\S+)$/i.exec(header);
  if (!match) throw unauthenticated('the Authorization header must be "Bearer <key>"');
  const person = await principalByApiKey(db, match[1]);
  if (!person) throw unauthenticated('the API key is not valid');
  return person;
}
