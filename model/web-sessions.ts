import type { Knex } from 'knex';

/** A signed-in web UI session, found by the hash of the id its cookie carries. */
export interface WebSession {
  personId: string;
  csrf: string;
  expiresAt: Date;
}

export async function insertWebSession(db: Knex, session: { idHash: string; personId: string; csrf: string; expiresAt: Date }): Promise<void> {
  await db('web_sessions').insert({ id_hash: session.idHash, person_id: session.personId, csrf: session.csrf, expires_at: session.expiresAt });
}

/** The session if it has not expired; the person's being active is checked with their roles (api/auth.ts). */
export async function findWebSession(db: Knex, idHash: string, now = new Date()): Promise<WebSession | undefined> {
  const row = await db('web_sessions').where('id_hash', idHash).where('expires_at', '>', now).first('person_id', 'csrf', 'expires_at');
  return row ? { personId: row.person_id, csrf: row.csrf, expiresAt: row.expires_at } : undefined;
}

export async function deleteWebSession(db: Knex, idHash: string): Promise<void> {
  await db('web_sessions').where('id_hash', idHash).delete();
}

/** Sessions past their expiry are dead already (findWebSession ignores them); this only keeps the table small. */
export async function deleteExpiredWebSessions(db: Knex, now = new Date()): Promise<number> {
  return db('web_sessions').where('expires_at', '<=', now).delete();
}
