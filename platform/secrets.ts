import { createHash, timingSafeEqual } from 'node:crypto';

const digest = (text: string) => createHash('sha256').update(text, 'utf8').digest();

/**
 * Whether a secret someone sent (a token, a CSRF value) is the one expected, in constant time:
 * both are hashed first, so the timing shows neither the content nor the length. Nothing matches
 * an empty secret, and anything but a string (a repeated form field) matches nothing.
 */
export function secretMatches(expected: string, given: unknown): boolean {
  if (!expected || typeof given !== 'string') return false;
  return timingSafeEqual(digest(expected), digest(given));
}

/** The token of an "Authorization: Bearer <token>" header, if the header has that form. */
export function bearerOf(header: string | undefined): string | undefined {
  return /^Bearer\s+(\S+)$/i.exec(header ?? '')?.[1];
}
