import { createHash, randomBytes } from 'node:crypto';

/** Only the hash of an API key is stored; the bearer token is compared by its hash. */
export function hashApiKey(apiKey: string): string {
  return createHash('sha256').update(apiKey, 'utf8').digest('hex');
}

export function generateApiKey(): string {
  return `af_${randomBytes(24).toString('base64url')}`;
}

/** What a list of keys shows to tell them apart: "af_" and the next 8 characters, which reveal nothing useful of 32 random bytes. */
export function apiKeyPrefix(apiKey: string): string {
  return apiKey.slice(0, 11);
}
