import type { Knex } from 'knex';

/** A signed-in web UI session, found by the hash of the id its cookie carries. */
export interface WebSession {
  personId: string;
  csrf: string;
  expiresAt: Date;
  /** The API key the person signed in with; undefined after single sign-on or the demo pick. */
  apiKeyId?: string;
}

/**
 * Starts a session. One signed in with an API key names it (`apiKeyId`), so that revoking the key
 * or its expiry ends the session; one signed in otherwise (the demo pick, single sign-on) names none.
 */
export async function insertWebSession(
  db: Knex,
  session: { idHash: string; personId: string; csrf: string; expiresAt: Date; signedInVia: 'api_key' | 'demo' | 'oidc'; apiKeyId?: string },
): Promise<void> {
  await db('web_sessions').insert({
    id_hash: session.idHash,
    person_id: session.personId,
    csrf: session.csrf,
    expires_at: session.expiresAt,
    signed_in_via: session.signedInVia,
    api_key_id: session.apiKeyId ?? null,
  });
}

/**
 * The session if it has not expired, nor the key it was signed in with (revoked or past its
 * expiry); the person's being active is checked with their roles (api/auth.ts).
 */
export async function findWebSession(db: Knex, idHash: string, now = new Date()): Promise<WebSession | undefined> {
  const row = await db('web_sessions as s')
    .leftJoin('api_keys as k', 'k.id', 's.api_key_id')
    .where('s.id_hash', idHash)
    .where('s.expires_at', '>', now)
    // A session signed in without a key joins no key row: both conditions hold for it.
    .whereNull('k.revoked_at')
    .where((key) => key.whereNull('k.expires_at').orWhere('k.expires_at', '>', now))
    .first('s.person_id', 's.csrf', 's.expires_at', 's.api_key_id');
  return row ? { personId: row.person_id, csrf: row.csrf, expiresAt: row.expires_at, apiKeyId: row.api_key_id ?? undefined } : undefined;
}

export async function deleteWebSession(db: Knex, idHash: string): Promise<void> {
  await db('web_sessions').where('id_hash', idHash).delete();
}

/** Ends every session signed in with this key (in the transaction that revokes it); answers how many. */
export async function deleteWebSessionsOfApiKey(db: Knex, apiKeyId: string): Promise<number> {
  return db('web_sessions').where('api_key_id', apiKeyId).delete();
}

/**
 * Sessions past their expiry, or signed in with a key past its own, are dead already
 * (findWebSession ignores them); this only keeps the table small.
 */
export async function deleteExpiredWebSessions(db: Knex, now = new Date()): Promise<number> {
  return db('web_sessions')
    .where('expires_at', '<=', now)
    .orWhereIn('api_key_id', db('api_keys').where('expires_at', '<=', now).select('id'))
    .delete();
}
