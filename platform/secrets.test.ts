import { randomBytes } from 'node:crypto';
import { bearerOf, secretMatches } from './secrets';

describe('secretMatches', () => {
  it('matches only the exact secret', () => {
    const secret = randomBytes(24).toString('base64url');
    expect(secretMatches(secret, secret)).toBe(true);
    expect(secretMatches(secret, randomBytes(24).toString('base64url'))).toBe(false);
    expect(secretMatches(secret, secret.slice(1))).toBe(false);
    expect(secretMatches(secret, `${secret}x`)).toBe(false);
    expect(secretMatches(secret, undefined)).toBe(false);
    expect(secretMatches(secret, '')).toBe(false);
    expect(secretMatches(secret, [secret])).toBe(false);
    expect(secretMatches('', '')).toBe(false);
  });
});

describe('bearerOf', () => {
  it('reads the token of a Bearer header and nothing else', () => {
    expect(bearerOf('Bearer abc.DEF-123')).toBe('abc.DEF-123');
    expect(bearerOf('bearer   abc')).toBe('abc');
    expect(bearerOf('Basic abc')).toBeUndefined();
    expect(bearerOf('Bearer a b')).toBeUndefined();
    expect(bearerOf('Bearer ')).toBeUndefined();
    expect(bearerOf(undefined)).toBeUndefined();
  });
});
