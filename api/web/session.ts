import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { secretMatches } from '../../platform/secrets';

/**
 * Sessions of the web UI are held by the server (the web_sessions table, model/web-sessions.ts):
 * the cookie carries only a random id, stored hashed, so signing out, deactivating the person or
 * the expiry end a session in every API process at once, and a copied cookie dies with it. Before
 * sign-in a short-lived signed pre-session cookie (no server state) and a hidden token in the
 * sign-in form must match (double submit), so that another site cannot sign a browser in as
 * someone else.
 */
export const SESSION_COOKIE = 'af_session';
export const PRE_SESSION_COOKIE = 'af_presession';
export const SESSION_TTL_MS = 8 * 3_600_000;
export const PRE_SESSION_TTL_MS = 30 * 60_000;

interface PreSessionClaims {
  nonce: string;
  expiresAt: number;
}

export interface SessionKeys {
  preSession: Buffer;
}

/** A key of its own, so that a pre-session cannot stand for an approval link or the other way round. */
export function deriveSessionKeys(secret: string): SessionKeys {
  return { preSession: createHmac('sha256', secret).update('web-pre-session').digest() };
}

const mac = (key: Buffer, payload: string) => createHmac('sha256', key).update(payload).digest();

function sign(key: Buffer, claims: object): string {
  const payload = Buffer.from(JSON.stringify(claims)).toString('base64url');
  return `${payload}.${mac(key, payload).toString('base64url')}`;
}

/** The payload of a signed value when its signature holds; `undefined` for malformed, `null` for a bad signature. */
function unsign(key: Buffer, value: string): unknown | undefined | null {
  const parts = value.split('.');
  if (parts.length !== 2 || !parts[0] || !parts[1]) return undefined;
  const [payload, given] = parts;
  const expected = mac(key, payload);
  const actual = Buffer.from(given, 'base64url');
  if (actual.length !== expected.length || !timingSafeEqual(actual, expected)) return null;
  try {
    return JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as unknown;
  } catch {
    return undefined;
  }
}

const randomToken = () => randomBytes(24).toString('base64url');

const sha256 = (text: string) => createHash('sha256').update(text, 'utf8').digest('hex');

/** A new session: the id the cookie carries (256 random bits), the hash the server keeps, its CSRF token and expiry. */
export function newSession(now = Date.now()): { id: string; idHash: string; csrf: string; expiresAt: Date } {
  const id = randomBytes(32).toString('base64url');
  return { id, idHash: sha256(id), csrf: randomToken(), expiresAt: new Date(now + SESSION_TTL_MS) };
}

/** The stored form of a session id; `undefined` for a cookie value no session id can have. */
export function hashSessionId(id: string | undefined): string | undefined {
  return id && /^[A-Za-z0-9_-]{43}$/.test(id) ? sha256(id) : undefined;
}

/** A pre-session: the cookie to set and the token the sign-in form carries. */
export function newPreSession(keys: SessionKeys, now = Date.now()): { cookie: string; token: string } {
  const claims: PreSessionClaims = { nonce: randomToken(), expiresAt: now + PRE_SESSION_TTL_MS };
  return { cookie: sign(keys.preSession, claims), token: claims.nonce };
}

/** The sign-in form's token must match the nonce of a pre-session cookie we signed and that has not expired. */
export function verifyPreSession(keys: SessionKeys, cookie: string | undefined, formToken: unknown, now = Date.now()): boolean {
  if (!cookie || typeof formToken !== 'string') return false;
  const claims = unsign(keys.preSession, cookie) as Partial<PreSessionClaims> | undefined | null;
  if (!claims || typeof claims !== 'object' || typeof claims.nonce !== 'string' || !Number.isFinite(claims.expiresAt)) return false;
  if (claims.expiresAt! <= now) return false;
  return secretMatches(claims.nonce, formToken);
}

export function parseCookies(header: string | undefined): Record<string, string> {
  const cookies: Record<string, string> = {};
  for (const part of (header ?? '').split(';')) {
    const eq = part.indexOf('=');
    if (eq < 0) continue;
    const name = part.slice(0, eq).trim();
    if (!name || name in cookies) continue;
    let value = part.slice(eq + 1).trim();
    if (value.startsWith('"') && value.endsWith('"')) value = value.slice(1, -1);
    try {
      cookies[name] = decodeURIComponent(value);
    } catch {
      cookies[name] = value;
    }
  }
  return cookies;
}

export interface CookieOptions {
  /** Omit for a cookie that ends with the browser session; 0 deletes it. */
  maxAgeMs?: number;
  secure: boolean;
  path?: string;
}

/** A Set-Cookie value: always HttpOnly and SameSite=Lax; Secure over HTTPS. */
export function setCookieHeader(name: string, value: string, options: CookieOptions): string {
  const parts = [`${name}=${encodeURIComponent(value)}`, `Path=${options.path ?? '/'}`, 'HttpOnly', 'SameSite=Lax'];
  if (options.maxAgeMs !== undefined) {
    parts.push(`Max-Age=${Math.max(0, Math.floor(options.maxAgeMs / 1000))}`);
    if (options.maxAgeMs <= 0) parts.push('Expires=Thu, 01 Jan 1970 00:00:00 GMT');
  }
  if (options.secure) parts.push('Secure');
  return parts.join('; ');
}

/**
 * Where to go after signing in: only a path on this site (no scheme, no host, no `//` or `/\`
 * that a browser would read as another host), else the fallback.
 */
export function localPath(next: unknown, fallback: string): string {
  if (typeof next !== 'string' || next.length > 2000) return fallback;
  if (!/^\/(?![/\\])/.test(next)) return fallback;
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f\\]/.test(next)) return fallback;
  return next;
}
