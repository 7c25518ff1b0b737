/**
 * Making and revoking API keys, for the API's routes, the web UI's page and the operator's command
 * alike: the rules on a key's name and expiry, who may revoke which key, and the HTTP answer to a
 * refusal.
 */
import { z } from 'zod';
import { ApiKeyRefused, createApiKey, findApiKey, revokeApiKey, type ApiKeyRecord } from '../model/api-keys';
import type { Database } from '../platform/database';
import { hasAnyRole, type Principal } from './auth';
import { HttpError, conflict, notFound } from './errors';

/** How far ahead a key may expire. A key that never expires is chosen by leaving the expiry out. */
const MAX_KEY_LIFETIME_YEARS = 2;

/** What is wrong with this expiry, if anything: it must lie in the future, at most two years ahead. */
export function expiryProblem(expiresAt: Date, now = new Date()): string | undefined {
  if (expiresAt.getTime() <= now.getTime()) return 'must be in the future';
  const latest = new Date(now);
  latest.setUTCFullYear(latest.getUTCFullYear() + MAX_KEY_LIFETIME_YEARS);
  if (expiresAt.getTime() > latest.getTime()) return `must be at most ${MAX_KEY_LIFETIME_YEARS} years ahead`;
  return undefined;
}

/** A key's name as its holder types it; one person's unrevoked keys have different names, whatever the letter case. */
export const apiKeyName = z.string().trim().min(1).max(100);

/** Own keys: anyone may revoke them; someone else's: admins only. */
export const mayRevoke = (principal: Principal, key: ApiKeyRecord) => key.personId === principal.id || hasAnyRole(principal, ['admin']);

/** The HTTP answer to a key that was not created (nothing was written). */
function keyRefusedError(refusal: ApiKeyRefused): HttpError {
  switch (refusal.reason) {
    case 'unknown_person':
      return notFound(refusal.message);
    case 'person_inactive':
      return conflict('person_inactive', refusal.message);
    default:
      return conflict(refusal.reason, refusal.message);
  }
}

/**
 * Makes a key of the principal's own: nobody mints a key for someone else, since its holder could
 * then act as them (the operator's `npm run admin -- create-api-key` is the break-glass). The
 * answer carries the key, the only time it is shown, so no cache may keep it.
 */
export async function createOwnKey(
  db: Database,
  input: { name: string; expiresAt?: string | Date; principal: Principal },
): Promise<{ record: ApiKeyRecord; key: string }> {
  try {
    return await createApiKey(db, {
      personId: input.principal.id,
      name: input.name,
      expiresAt: input.expiresAt ? new Date(input.expiresAt) : null,
      actor: input.principal.email,
    });
  } catch (error) {
    if (error instanceof ApiKeyRefused) throw keyRefusedError(error);
    throw error;
  }
}

/**
 * Revokes a key for the principal: their own, or anyone's for an admin; the web sessions signed in
 * with it end with it. Someone else's key is refused before anything is written; a revoked key is
 * answered as it is.
 */
export async function revokeKeyAs(db: Database, input: { id: string; principal: Principal; reason?: string }): Promise<ApiKeyRecord> {
  const key = await findApiKey(db, input.id);
  if (!key) throw notFound(`no API key ${input.id}`);
  if (!mayRevoke(input.principal, key)) throw new HttpError(403, 'not_your_key', 'this key is someone else\'s: only its holder and admins may revoke it');
  const revoked = await revokeApiKey(db, { id: input.id, actor: input.principal.email, reason: input.reason });
  if (!revoked) throw notFound(`no API key ${input.id}`);
  return revoked.record;
}
