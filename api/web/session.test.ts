import { createHash } from 'node:crypto';
import {
  PRE_SESSION_TTL_MS,
  SESSION_TTL_MS,
  deriveSessionKeys,
  hashSessionId,
  localPath,
  newPreSession,
  newSession,
  parseCookies,
  setCookieHeader,
  verifyPreSession,
} from './session';

const keys = deriveSessionKeys('a-secret-of-at-least-thirty-two-characters');
const otherKeys = deriveSessionKeys('another-secret-of-at-least-thirty-two-chars');
const now = Date.parse('2026-11-27T10:00:00Z');

describe('session id', () => {
  it('is 256 random bits the cookie carries, stored only as its sha256, expiring eight hours on, with a CSRF token', () => {
    const session = newSession(now);
    expect(session.id).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(session.idHash).toBe(createHash('sha256').update(session.id).digest('hex'));
    expect(session.idHash).not.toContain(session.id);
    expect(session.expiresAt.getTime()).toBe(now + SESSION_TTL_MS);
    expect(session.csrf.length).toBeGreaterThanOrEqual(32);
  });

  it('gives every session its own id and CSRF token', () => {
    const [a, b] = [newSession(now), newSession(now)];
    expect(a.id).not.toBe(b.id);
    expect(a.csrf).not.toBe(b.csrf);
  });

  it('hashes a cookie value as the server stored it, and refuses values no session id can have', () => {
    const session = newSession(now);
    expect(hashSessionId(session.id)).toBe(session.idHash);
    for (const value of [undefined, '', 'abc', `${session.id}x`, session.id.slice(1), `${session.id.slice(0, 42)}.`, session.idHash]) {
      expect(hashSessionId(value)).toBeUndefined();
    }
  });
});

describe('pre-session (sign-in form)', () => {
  it('accepts the form token that goes with the cookie until it expires', () => {
    const { cookie, token } = newPreSession(keys, now);
    expect(verifyPreSession(keys, cookie, token, now + 1000)).toBe(true);
    expect(verifyPreSession(keys, cookie, token, now + PRE_SESSION_TTL_MS)).toBe(false);
  });

  it('refuses a wrong or missing form token, a missing cookie and a cookie signed with another key', () => {
    const { cookie, token } = newPreSession(keys, now);
    expect(verifyPreSession(keys, cookie, newPreSession(keys, now).token, now)).toBe(false);
    expect(verifyPreSession(keys, cookie, undefined, now)).toBe(false);
    expect(verifyPreSession(keys, undefined, token, now)).toBe(false);
    expect(verifyPreSession(otherKeys, cookie, token, now)).toBe(false);
  });

  it('does not take a session id for a pre-session', () => {
    const { id, csrf } = newSession(now);
    expect(verifyPreSession(keys, id, csrf, now)).toBe(false);
  });
});

describe('cookies', () => {
  it('parses a Cookie header, keeping the first of a repeated name', () => {
    expect(parseCookies('a=1; af_session=x.y; b="q%20r"; a=2')).toEqual({ a: '1', af_session: 'x.y', b: 'q r' });
    expect(parseCookies(undefined)).toEqual({});
    expect(parseCookies('junk; =1; c=%E0')).toEqual({ c: '%E0' });
  });

  it('sets cookies HttpOnly and SameSite=Lax, Secure over HTTPS, and expires them with Max-Age=0', () => {
    expect(setCookieHeader('af_session', 'v', { secure: false, maxAgeMs: SESSION_TTL_MS })).toBe('af_session=v; Path=/; HttpOnly; SameSite=Lax; Max-Age=28800');
    expect(setCookieHeader('af_session', 'v', { secure: true, maxAgeMs: SESSION_TTL_MS })).toMatch(/; Secure$/);
    expect(setCookieHeader('af_presession', '', { secure: false, maxAgeMs: 0, path: '/ui' })).toBe(
      'af_presession=; Path=/ui; HttpOnly; SameSite=Lax; Max-Age=0; Expires=Thu, 01 Jan 1970 00:00:00 GMT',
    );
  });
});

describe('where to go after signing in', () => {
  it('keeps local paths', () => {
    expect(localPath('/ui/processes?state=authorize&type=change', '/ui')).toBe('/ui/processes?state=authorize&type=change');
    expect(localPath('/ui', '')).toBe('/ui');
  });

  it.each(['https://evil.example/', '//evil.example/ui', '/\\evil.example', 'ui', 'javascript:alert(1)', '/ui\r\nSet-Cookie: x=1', '', undefined, 42])(
    'refuses %p',
    (next) => {
      expect(localPath(next, '/ui')).toBe('/ui');
    },
  );
});
