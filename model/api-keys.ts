import type { Knex } from 'knex';
import { insertAuditRow } from './audit-rows';
import { isUniqueViolation } from '../platform/database';
import { apiKeyPrefix, generateApiKey, hashApiKey } from '../platform/api-keys';
import { paginate, type Page } from './page';
import { deleteWebSessionsOfApiKey } from './web-sessions';

/**
 * Keys a person holds at once (revoked ones do not count, expired ones do until revoked): enough
 * for every integration of one person, few enough that a leaked account cannot mint keys at will.
 */
export const MAX_UNREVOKED_KEYS_PER_PERSON = 25;

/** live: it opens the API; expired or revoked: it never will again. */
export type ApiKeyStatus = 'live' | 'expired' | 'revoked';

/** A key as its holder and admins see it: never the key, never its hash. */
export interface ApiKeyRecord {
  id: string;
  personId: string;
  name: string;
  /** The key's first characters, to recognise it by. */
  prefix: string;
  createdAt: string;
  /** A person's email, or system:<component>. */
  createdBy: string;
  expiresAt: string | null;
  lastUsedAt: string | null;
  revokedAt: string | null;
  revokedBy: string | null;
  status: ApiKeyStatus;
}

interface ApiKeyRow {
  id: string;
  person_id: string;
  name: string;
  prefix: string;
  created_at: Date;
  created_by: string;
  expires_at: Date | null;
  last_used_at: Date | null;
  revoked_at: Date | null;
  revoked_by: string | null;
}

const COLUMNS = ['id', 'person_id', 'name', 'prefix', 'created_at', 'created_by', 'expires_at', 'last_used_at', 'revoked_at', 'revoked_by'];

const iso = (d: Date | null) => (d ? d.toISOString() : null);

function toRecord(row: ApiKeyRow, now = Date.now()): ApiKeyRecord {
  return {
    id: row.id,
    personId: row.person_id,
    name: row.name,
    prefix: row.prefix,
    createdAt: row.created_at.toISOString(),
    createdBy: row.created_by,
    expiresAt: iso(row.expires_at),
    lastUsedAt: iso(row.last_used_at),
    revokedAt: iso(row.revoked_at),
    revokedBy: row.revoked_by,
    status: row.revoked_at ? 'revoked' : row.expires_at && row.expires_at.getTime() <= now ? 'expired' : 'live',
  };
}

/** Why a key was not created; nothing was written. */
export type ApiKeyRefusal = 'key_name_taken' | 'too_many_keys' | 'unknown_person' | 'person_inactive';

export class ApiKeyRefused extends Error {
  constructor(readonly reason: ApiKeyRefusal, message: string) {
    super(message);
  }
}

/**
 * Stores a key a person may now use (only its hash and first characters); the key itself is the
 * caller's to show once. `createdBy` is the actor: a person's email, or system:<component>.
 */
export async function insertApiKey(
  db: Knex,
  key: { personId: string; name: string; apiKey: string; createdBy: string; expiresAt?: Date | null },
): Promise<{ id: string; prefix: string; createdAt: Date; expiresAt: Date | null }> {
  const [row] = await db('api_keys')
    .insert({
      person_id: key.personId,
      name: key.name,
      prefix: apiKeyPrefix(key.apiKey),
      key_hash: hashApiKey(key.apiKey),
      created_by: key.createdBy,
      expires_at: key.expiresAt ?? null,
    })
    .returning(['id', 'prefix', 'created_at', 'expires_at']);
  return { id: row.id, prefix: row.prefix, createdAt: row.created_at, expiresAt: row.expires_at };
}

/** The live keys (not revoked, not expired) whose hash is this: the condition a bearer key must meet. */
export function liveKeyWithHash(db: Knex, keyHash: string): Knex.QueryBuilder {
  return db('api_keys as k')
    .where('k.key_hash', keyHash)
    .whereNull('k.revoked_at')
    .where((w) => w.whereNull('k.expires_at').orWhere('k.expires_at', '>', db.fn.now()));
}

/** A person's keys, newest first, a page at a time. */
export function listApiKeys(db: Knex, personId: string, page: { limit: number; offset: number }): Promise<Page<ApiKeyRecord>> {
  const now = Date.now();
  const query = db('api_keys').where({ person_id: personId }).orderBy('created_at', 'desc').orderBy('id', 'desc').select(COLUMNS);
  return paginate<ApiKeyRow, ApiKeyRecord>(query, page, (row) => toRecord(row, now));
}

export async function findApiKey(db: Knex, id: string): Promise<ApiKeyRecord | undefined> {
  const row = await db('api_keys').where({ id }).first<ApiKeyRow | undefined>(COLUMNS);
  return row && toRecord(row);
}

/** An audit row of a key, written in the transaction of the change it records. */
function auditKey(
  trx: Knex.Transaction,
  entry: { actor: string; keyId: string; action: string; fromState?: ApiKeyStatus; toState: ApiKeyStatus; details: Record<string, unknown> },
): Promise<void> {
  return insertAuditRow(trx, {
    actor: entry.actor, subjectType: 'api_key', subjectId: entry.keyId, action: entry.action,
    fromState: entry.fromState, toState: entry.toState, details: entry.details,
  });
}

const isLiveNameTaken = (error: unknown) => isUniqueViolation(error, 'api_keys_live_name_unique');

/**
 * Makes a new key for an active person, with its audit row, in one transaction (or in the caller's,
 * when `db` is one). Throws ApiKeyRefused, having written nothing, for an unknown or inactive
 * person, a name one of their unrevoked keys has, or one key too many. The answer holds the key:
 * the only time it exists outside the holder's hands.
 */
export async function createApiKey(
  db: Knex,
  input: { personId: string; name: string; expiresAt: Date | null; actor: string },
): Promise<{ record: ApiKeyRecord; key: string }> {
  try {
    return await db.transaction(async (trx) => {
      // Locks the person's row: two creations for one person take turns, so the bound holds.
      const person = await trx('people').where({ id: input.personId }).forNoKeyUpdate().first('id', 'active');
      if (!person) throw new ApiKeyRefused('unknown_person', `no person ${input.personId}`);
      if (!person.active) throw new ApiKeyRefused('person_inactive', 'this person is deactivated: they cannot hold a new key');
      const [{ count }] = await trx('api_keys').where({ person_id: input.personId }).whereNull('revoked_at').count<{ count: string }[]>({ count: '*' });
      if (Number(count) >= MAX_UNREVOKED_KEYS_PER_PERSON) {
        throw new ApiKeyRefused('too_many_keys', `a person holds at most ${MAX_UNREVOKED_KEYS_PER_PERSON} keys that are not revoked (expired ones count until revoked); revoke one first`);
      }
      const key = generateApiKey();
      const { id } = await insertApiKey(trx, { personId: input.personId, name: input.name, apiKey: key, createdBy: input.actor, expiresAt: input.expiresAt });
      const row = await trx('api_keys').where({ id }).first<ApiKeyRow>(COLUMNS);
      const record = toRecord(row);
      await auditKey(trx, {
        actor: input.actor,
        keyId: id,
        action: 'api_key_created',
        toState: record.status,
        details: { personId: record.personId, name: record.name, prefix: record.prefix, expiresAt: record.expiresAt },
      });
      return { record, key };
    });
  } catch (error) {
    if (isLiveNameTaken(error)) {
      throw new ApiKeyRefused('key_name_taken', `there is a key named "${input.name}" already that is not revoked (an expired key keeps its name until revoked): choose another name or revoke it`);
    }
    throw error;
  }
}

/**
 * Revokes a key at once, and ends the web sessions signed in with it, with its audit row, in one
 * transaction. A key revoked already is answered as it is, with no second audit row (`revokedNow`
 * false); an unknown id answers undefined.
 */
export async function revokeApiKey(
  db: Knex,
  input: { id: string; actor: string; reason?: string },
): Promise<{ record: ApiKeyRecord; revokedNow: boolean } | undefined> {
  return db.transaction(async (trx) => {
    const row = await trx('api_keys').where({ id: input.id }).forUpdate().first<ApiKeyRow | undefined>(COLUMNS);
    if (!row) return undefined;
    const before = toRecord(row);
    if (before.status === 'revoked') return { record: before, revokedNow: false };
    const [updated] = await trx('api_keys')
      .where({ id: input.id })
      .update({ revoked_at: trx.fn.now(), revoked_by: input.actor })
      .returning<ApiKeyRow[]>(COLUMNS);
    const record = toRecord(updated);
    const sessionsEnded = await deleteWebSessionsOfApiKey(trx, record.id);
    await auditKey(trx, {
      actor: input.actor,
      keyId: record.id,
      action: 'api_key_revoked',
      fromState: before.status,
      toState: record.status,
      details: {
        personId: record.personId,
        name: record.name,
        prefix: record.prefix,
        expiresAt: record.expiresAt,
        reason: input.reason ?? null,
        sessionsEnded,
        before: { status: before.status, revokedAt: before.revokedAt, revokedBy: before.revokedBy },
        after: { status: record.status, revokedAt: record.revokedAt, revokedBy: record.revokedBy },
      },
    });
    return { record, revokedNow: true };
  });
}

/** Remembers that a key opened the API just now (callers write this at most once a minute per key). */
export async function recordApiKeyUse(db: Knex, keyId: string): Promise<void> {
  await db('api_keys').where({ id: keyId }).update({ last_used_at: db.fn.now() });
}
