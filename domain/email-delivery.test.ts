import { APPROVAL_LINK_PLACEHOLDER, containsApprovalToken, emailRetryDelayMs, withApprovalLink } from './email-delivery';

describe('emailRetryDelayMs', () => {
  const policy = { firstDelayMs: 1_000, maxDelayMs: 30_000 };

  it('waits the first delay after the first failure and doubles it after each further one', () => {
    expect([1, 2, 3, 4, 5].map((attempts) => emailRetryDelayMs(attempts, policy))).toEqual([1_000, 2_000, 4_000, 8_000, 16_000]);
  });

  it('never waits longer than the longest delay, however many attempts failed', () => {
    expect(emailRetryDelayMs(6, policy)).toBe(30_000);
    expect(emailRetryDelayMs(10_000, policy)).toBe(30_000);
  });

  it('treats a message never attempted like one that failed once', () => {
    expect(emailRetryDelayMs(0, policy)).toBe(1_000);
  });
});

describe('approval links in stored messages', () => {
  const id = '0b6c1c8e-4f0a-4d55-9d5e-5b8f6f2b1a11';

  it('puts the signed link where the placeholder stands, every time it stands there', () => {
    const body = `Approve: ${APPROVAL_LINK_PLACEHOLDER}\nor later: ${APPROVAL_LINK_PLACEHOLDER}`;
    const link = `http://x/approvals/${id}?token=v1.a.b`;
    expect(withApprovalLink(body, link)).toBe(`Approve: ${link}\nor later: ${link}`);
  });

  it('recognises a live token in a link, wherever the token stands in its query', () => {
    expect(containsApprovalToken(`see http://host:3000/approvals/${id}?token=v1.abc.def`)).toBe(true);
    expect(containsApprovalToken(`see /approvals/${id.toUpperCase()}?lang=en&token=v1.abc.def`)).toBe(true);
  });

  it('accepts a body with the placeholder or a link without a token', () => {
    expect(containsApprovalToken(`Approve: ${APPROVAL_LINK_PLACEHOLDER}`)).toBe(false);
    expect(containsApprovalToken(`POST http://host/changes/CHG1/approvals/${id}/decision`)).toBe(false);
  });
});
