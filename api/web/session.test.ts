import {
  PRE_SESSION_TTL_MS,
  SESSION_TTL_MS,
  csrfMatches,
  deriveSessionKeys,
  localPath,
  newPreSession,
  newSession,
  parseCookies,
  setCookieHeader,
  verifyPreSession,
  verifySession,
} from './session';

const keys = deriveSessionKeys('a-secret-of-at-least-thirty-two-characters');
const otherKeys = deriveSessionKeys('another-secret-of-at-least-thirty-two-chars');
const personId = '5f0c7a2e-7d53-4a7c-9d7e-2c1f6b9a1e11';
const now = Date.parse('2026-11-27T10:00:00Z');

describe('session cookie', () => {
  it('round-trips the person, an expiry eight hours on and a CSRF token', () => {
    const { cookie, claims } = newSession(keys, personId, now);
    expect(claims).toEqual({ personId, expiresAt: now + SESSION_TTL_MS, csrf: expect.any(String) });
    expect(claims.csrf.length).toBeGreaterThanOrEqual(32);
    expect(verifySession(keys, cookie, now + 1000)).toEqual({ ok: true, claims });
  });

  it('gives every session its own CSRF token', () => {
    expect(newSession(keys, personId, now).claims.csrf).not.toBe(newSession(keys, personId, now).claims.csrf);
  });

  it('refuses a cookie whose payload was altered (another person, a later expiry)', () => {
    const { cookie } = newSession(keys, personId, now);
    const [payload, signature] = cookie.split('.');
    const claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8'));
    for (const forged of [{ ...claims, personId: '00000000-0000-4000-8000-000000000000' }, { ...claims, expiresAt: claims.expiresAt + 86_400_000 }]) {
      const tampered = `${Buffer.from(JSON.stringify(forged)).toString('base64url')}.${signature}`;
      expect(verifySession(keys, tampered, now)).toEqual({ ok: false, reason: 'bad_signature' });
    }
  });

  it('refuses a cookie whose signature was altered or made with another key', () => {
    const { cookie } = newSession(keys, personId, now);
    const flipped = cookie.slice(0, -2) + (cookie.endsWith('AA') ? 'BA' : 'AA');
    expect(verifySession(keys, flipped, now)).toEqual({ ok: false, reason: 'bad_signature' });
    expect(verifySession(otherKeys, cookie, now)).toEqual({ ok: false, reason: 'bad_signature' });
  });

  it('refuses an expired cookie, even with a valid signature', () => {
    const { cookie } = newSession(keys, personId, now);
    expect(verifySession(keys, cookie, now + SESSION_TTL_MS)).toEqual({ ok: false, reason: 'expired' });
    expect(verifySession(keys, cookie, now + SESSION_TTL_MS - 1).ok).toBe(true);
  });

  it('refuses malformed cookies', () => {
    for (const value of [undefined, '', 'abc', 'a.b.c', '.sig', 'payload.']) {
      expect(verifySession(keys, value, now)).toMatchObject({ ok: false });
    }
  });

  it('does not take a pre-session token for a session: the keys differ', () => {
    const pre = newPreSession(keys, now);
    expect(verifySession(keys, pre.cookie, now)).toEqual({ ok: false, reason: 'bad_signature' });
  });
});

describe('CSRF token', () => {
  it('matches only the exact token of the session', () => {
    const { claims } = newSession(keys, personId, now);
    expect(csrfMatches(claims.csrf, claims.csrf)).toBe(true);
    expect(csrfMatches(claims.csrf, newSession(keys, personId, now).claims.csrf)).toBe(false);
    expect(csrfMatches(claims.csrf, claims.csrf.slice(1))).toBe(false);
    expect(csrfMatches(claims.csrf, `${claims.csrf}x`)).toBe(false);
    expect(csrfMatches(claims.csrf, undefined)).toBe(false);
    expect(csrfMatches(claims.csrf, '')).toBe(false);
    expect(csrfMatches(claims.csrf, [claims.csrf])).toBe(false);
    expect(csrfMatches('', '')).toBe(false);
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

  it('does not take a session cookie for a pre-session', () => {
    const { cookie, claims } = newSession(keys, personId, now);
    expect(verifyPreSession(keys, cookie, claims.csrf, now)).toBe(false);
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
