import type { Request } from 'express';
import type { Knex } from 'knex';
import { liveKeyWithHash, recordApiKeyUse } from '../model/api-keys';
import { findWebSession, type WebSession } from '../model/web-sessions';
import { hashApiKey } from '../platform/api-keys';
import { bearerOf } from '../platform/secrets';
import type { RateLimit } from '../platform/rate-limits';
import { tooManyRequests, unauthenticated } from './errors';
import { SESSION_COOKIE, hashSessionId, parseCookies } from './web/session';

import { OVERSEERS, type Role } from '../domain/directory';

export { OVERSEERS, ROLES, type Role } from '../domain/directory';

export interface Principal {
  id: string;
  email: string;
  name: string;
  roles: Role[];
  /** The IANA zone the person reads times in; null: the organisation's (TIME_ZONE). */
  timeZone: string | null;
  /** The API key this call came with; undefined in a web session. */
  apiKeyId?: string;
}

export function hasAnyRole(principal: Principal, roles: readonly Role[]): boolean {
  return principal.roles.some((role) => roles.includes(role));
}

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

/** Active people with their roles, one row each. */
function activePeople(db: Knex): Knex.QueryBuilder {
  return db('people as p')
    .leftJoin('person_roles as r', 'r.person_id', 'p.id')
    .where('p.active', true)
    .groupBy('p.id')
    .select('p.id', 'p.email', 'p.name', 'p.time_zone as timeZone', db.raw(`COALESCE(array_agg(r.role) FILTER (WHERE r.role IS NOT NULL), '{}') AS roles`));
}

/** The person an API key belongs to, if the key is live (not revoked, not expired) and the person active. */
export async function principalByApiKey(db: Knex, apiKey: string): Promise<Principal | undefined> {
  const row = await activePeople(db)
    .join(liveKeyWithHash(db, hashApiKey(apiKey)).select('k.id', 'k.person_id').as('key'), 'key.person_id', 'p.id')
    .groupBy('key.id')
    .first('key.id as apiKeyId');
  return row as Principal | undefined;
}

/** The person with this id (a uuid), if active: the web UI checks its session's person on every request. */
export async function principalById(db: Knex, id: string): Promise<Principal | undefined> {
  return (await activePeople(db).where('p.id', id).first()) as Principal | undefined;
}

/** A key's last use is written at most this often per key and API process: a busy integration is not a write per call. */
const KEY_USE_INTERVAL_MS = 60_000;
/** Keys whose last write this process remembers; past it the oldest is forgotten (and may be written again a little early). */
const MAX_REMEMBERED_KEYS = 10_000;
/** Key id to when this process last wrote its use, oldest write first (Map keeps insertion order). */
const keyUseWrittenAt = new Map<string, number>();

/**
 * Records that the principal's API key was used, at most once a minute per key in this process.
 * Only for calls that passed the access check: a refused call writes nothing. Web sessions carry
 * no key and write nothing.
 */
export async function noteKeyUse(db: Knex, principal: Principal | undefined, now = Date.now()): Promise<void> {
  const keyId = principal?.apiKeyId;
  if (!keyId) return;
  const last = keyUseWrittenAt.get(keyId);
  if (last !== undefined && now - last < KEY_USE_INTERVAL_MS) return;
  keyUseWrittenAt.delete(keyId);
  if (keyUseWrittenAt.size >= MAX_REMEMBERED_KEYS) keyUseWrittenAt.delete(keyUseWrittenAt.keys().next().value as string);
  keyUseWrittenAt.set(keyId, now);
  try {
    await recordApiKeyUse(db, keyId);
  } catch (error) {
    // Not written: the next call tries again.
    keyUseWrittenAt.delete(keyId);
    throw error;
  }
}

/** The address a rate limit counts a request against (X-Forwarded-For only as far as TRUST_PROXY trusts it). */
export function clientOf(req: Request): string {
  return req.ip ?? req.socket.remoteAddress ?? 'unknown';
}

/** Refuses a client whose failed credentials used up the window, whatever credential it sends now. */
async function refuseWhileLimited(limit: RateLimit, req: Request): Promise<void> {
  const verdict = await limit.check(clientOf(req));
  if (!verdict.allowed) {
    throw tooManyRequests('too many failed API keys or sign-ins from your address; wait before trying again', verdict.retryAfterSeconds);
  }
}

/**
 * Resolves the bearer API key to an active person and their roles. Only failures count against
 * the client's limit: a person with a valid key is throttled only by bad keys from their own
 * address, and no key at all is a question (401), not a guess.
 */
export async function authenticate(db: Knex, req: Request, failures: RateLimit): Promise<Principal> {
  const header = req.get('authorization');
  if (!header) throw unauthenticated('send your API key as "Authorization: Bearer <key>"');
  await refuseWhileLimited(failures, req);
  const key = bearerOf(header);
  const person = key ? await principalByApiKey(db, key) : undefined;
  if (!person) {
    await failures.take(clientOf(req));
    throw unauthenticated(key ? 'the API key is not valid' : 'the Authorization header must be "Bearer <key>"');
  }
  return person;
}

export interface WebSignedIn {
  user: Principal;
  session: WebSession;
  /** The stored hash of the cookie's session id: signing out deletes the session by it. */
  idHash: string;
}

/**
 * The person signed in to the web UI by this request's session cookie, if the session is live (not
 * expired, nor the key it was signed in with revoked or expired) and the person active.
 */
export async function webSessionOf(db: Knex, req: Request): Promise<WebSignedIn | undefined> {
  const idHash = hashSessionId(parseCookies(req.headers.cookie)[SESSION_COOKIE]);
  if (!idHash) return undefined;
  const session = await findWebSession(db, idHash);
  const user = session && (await principalById(db, session.personId));
  return user ? { user, session: session!, idHash } : undefined;
}
