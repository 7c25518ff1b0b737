import { createHmac } from 'node:crypto';
import { signApprovalToken, verifyApprovalToken, type ApprovalLinkClaims } from './approval-links';

const secret = 'a-test-secret-that-is-long-enough-0123456789';
const claims: ApprovalLinkClaims = {
  approvalId: '6d6f1c8e-4c1a-4d43-9d0e-0e4f1a2b3c4d',
  approverId: '0b0f6c1e-1111-4222-8333-944455556666',
  workflowId: 'change:CHG0001001',
  revision: 0,
  step: 1,
  expiresAt: Date.UTC(2026, 11, 1),
};

describe('approval links', () => {
  it('accepts its own token before it expires and returns the claims', () => {
    const token = signApprovalToken(secret, claims);
    expect(verifyApprovalToken(secret, token, claims.expiresAt - 1)).toEqual({ ok: true, claims });
  });

  it('refuses a token at and after its expiry, still naming what it was for', () => {
    const token = signApprovalToken(secret, claims);
    expect(verifyApprovalToken(secret, token, claims.expiresAt)).toEqual({ ok: false, reason: 'expired', claims });
  });

  it('refuses a token whose claims were altered', () => {
    const [version, , sig] = signApprovalToken(secret, claims).split('.');
    const altered = Buffer.from(JSON.stringify({ ...claims, approverId: 'someone-else' })).toString('base64url');
    expect(verifyApprovalToken(secret, `${version}.${altered}.${sig}`, 0)).toEqual({ ok: false, reason: 'bad_signature' });
  });

  it('refuses a token signed with another secret', () => {
    const forged = signApprovalToken('another-secret-that-is-also-long-enough-xyz', claims);
    expect(verifyApprovalToken(secret, forged, 0).ok).toBe(false);
  });

  it.each(['', 'v1.abc', 'v2.a.b', 'not a token', 'v1..'])('refuses the malformed token %j', (token) => {
    expect(verifyApprovalToken(secret, token, 0)).toMatchObject({ ok: false });
  });

  it('refuses a correctly signed payload that is not a set of claims', () => {
    const payload = Buffer.from(JSON.stringify({ approvalId: 1 })).toString('base64url');
    const sig = createHmac('sha256', secret).update(`v1.${payload}`).digest('base64url');
    expect(verifyApprovalToken(secret, `v1.${payload}.${sig}`, 0)).toEqual({ ok: false, reason: 'malformed' });
  });
});
