import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';

/**
 * Signed approval links. The token names one approval (and so one approver, one step and one
 * scope revision) and expires with the step. Single use is not the token's job: the approval row
 * and the workflow refuse a second decision.
 */
export interface ApprovalLinkClaims {
  approvalId: string;
  approverId: string;
  workflowId: string;
  revision: number;
  step: number;
  /** Milliseconds since the epoch. */
  expiresAt: number;
}

export type TokenRefusal = 'malformed' | 'bad_signature' | 'expired';

export type TokenCheck = { ok: true; claims: ApprovalLinkClaims } | { ok: false; reason: TokenRefusal; claims?: ApprovalLinkClaims };

const VERSION = 'v1';

function signature(secret: string, payload: string): Buffer {
  return createHmac('sha256', secret).update(`${VERSION}.${payload}`).digest();
}

export function signApprovalToken(secret: string, claims: ApprovalLinkClaims): string {
  const payload = Buffer.from(JSON.stringify(claims)).toString('base64url');
  return `${VERSION}.${payload}.${signature(secret, payload).toString('base64url')}`;
}

function parseClaims(payload: string): ApprovalLinkClaims | undefined {
  try {
    const claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as Partial<ApprovalLinkClaims>;
    const valid =
      typeof claims.approvalId === 'string' &&
      typeof claims.approverId === 'string' &&
      typeof claims.workflowId === 'string' &&
      Number.isInteger(claims.revision) &&
      Number.isInteger(claims.step) &&
      Number.isFinite(claims.expiresAt);
    return valid ? (claims as ApprovalLinkClaims) : undefined;
  } catch {
    return undefined;
  }
}

export function verifyApprovalToken(secret: string, token: string, now = Date.now()): TokenCheck {
  const parts = token.split('.');
  if (parts.length !== 3 || parts[0] !== VERSION) return { ok: false, reason: 'malformed' };
  const [, payload, given] = parts;
  const expected = signature(secret, payload);
  const actual = Buffer.from(given, 'base64url');
  if (actual.length !== expected.length || !timingSafeEqual(actual, expected)) return { ok: false, reason: 'bad_signature' };
  const claims = parseClaims(payload);
  if (!claims) return { ok: false, reason: 'malformed' };
  if (claims.expiresAt <= now) return { ok: false, reason: 'expired', claims };
  return { ok: true, claims };
}

/**
 * The embedded demo's link secret: made once and kept with its data, so that links emailed
 * before a restart still work. A cluster sets APPROVAL_LINK_SECRET for every API and worker.
 */
export function loadOrCreateLinkSecret(dataDir: string): string {
  const file = path.join(dataDir, 'approval-link-secret');
  if (!existsSync(file)) {
    mkdirSync(dataDir, { recursive: true });
    writeFileSync(file, randomBytes(32).toString('base64url'), { mode: 0o600, flag: 'wx' });
  }
  return readFileSync(file, 'utf8').trim();
}
