import { createHash, randomUUID } from 'node:crypto';
import type { Request } from 'express';
import type { Database } from '../platform/database';
import { claimIdempotencyKey } from '../model/submissions';
import { HttpError, badRequest } from './errors';

/** Longest Idempotency-Key accepted: enough for a uuid or a pipeline's run and step names. */
const MAX_KEY_LENGTH = 200;

/** JSON with object keys in a fixed order, so that the same body always gives the same fingerprint. */
function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>).filter(([, v]) => v !== undefined).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value ?? null);
}

/** What a request asks for, as a hash: the same operation on the same subject with the same body gives the same fingerprint. */
export function requestFingerprint(request: { method: string; route: string; subject: string; body: unknown }): string {
  return createHash('sha256').update(canonicalJson([request.method.toUpperCase(), request.route, request.subject, request.body])).digest('hex');
}

/** The caller's Idempotency-Key, checked for length; undefined when the request has none. */
export function idempotencyKeyOf(req: Request): string | undefined {
  const key = req.get('idempotency-key');
  if (key === undefined) return undefined;
  if (key.length === 0 || key.length > MAX_KEY_LENGTH) {
    throw badRequest(`Idempotency-Key: give 1 to ${MAX_KEY_LENGTH} characters`, [{ path: 'Idempotency-Key', message: 'bad length' }]);
  }
  return key;
}

/**
 * Binds the caller's Idempotency-Key to this request (method, route, subject, body): a key first
 * sent with another request is refused with 422, rather than answered with that request's result.
 */
export async function bindIdempotencyKey(db: Database, callerId: string, key: string, req: Request, subject: string): Promise<void> {
  const fingerprint = requestFingerprint({ method: req.method, route: String(req.route?.path ?? req.path), subject, body: req.body ?? null });
  if ((await claimIdempotencyKey(db, callerId, key, fingerprint)) !== fingerprint) {
    throw new HttpError(422, 'idempotency_key_reused', 'this Idempotency-Key was already used for a different request; use a new key for a new request');
  }
}

/**
 * The id a command is known by in its workflow (the update id, and the key its activities write
 * under): the caller's Idempotency-Key, bound to this request and scoped to the caller, so that
 * a retry is answered with the first outcome and another person's same key is another command.
 * A web form, which cannot send the header, carries its own key (a uuid minted with the form), so
 * a double click or a resend is one command too. Without a key, every request is a new command.
 */
export async function commandRequestId(db: Database, callerId: string, req: Request, subject: string, formKey?: string): Promise<string> {
  const key = formKey === undefined ? idempotencyKeyOf(req) : `web:${formKey}`;
  if (key === undefined) return randomUUID();
  await bindIdempotencyKey(db, callerId, key, req, subject);
  return `${callerId}:${key}`;
}
