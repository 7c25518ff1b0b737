/**
 * How queued email is delivered: when a failed hand-off is tried again, and where an approval
 * task's signed link goes. The link is signed at send time so that no live token is ever stored.
 */

export interface EmailRetryPolicy {
  /** The wait after the first failed attempt; it doubles with each further failure. */
  firstDelayMs: number;
  /** The longest wait between attempts: a message is tried at least this often until it goes. */
  maxDelayMs: number;
}

export const DEFAULT_EMAIL_RETRY_POLICY: EmailRetryPolicy = { firstDelayMs: 1_000, maxDelayMs: 30_000 };

/** The wait before the next attempt of a message whose `attempts`-th attempt (1 for the first) just failed. */
export function emailRetryDelayMs(attempts: number, policy: EmailRetryPolicy): number {
  const doublings = Math.max(0, Math.min(attempts - 1, 30));
  return Math.min(policy.firstDelayMs * 2 ** doublings, policy.maxDelayMs);
}

/** Stands in a stored message body for the approval link, which is signed only when the message is sent. */
export const APPROVAL_LINK_PLACEHOLDER = '{{approval-link}}';

/** The body as sent: the placeholder replaced by the signed link. */
export function withApprovalLink(body: string, link: string): string {
  return body.split(APPROVAL_LINK_PLACEHOLDER).join(link);
}

/** A signed approval link (`…/approvals/<id>?token=<token>`) anywhere in a text. */
const SIGNED_APPROVAL_LINK = /\/approvals\/[0-9a-f-]{36}\?(?:[^\s]*&)?token=/i;

/** Whether a text carries a live approval token, which must never be stored. */
export function containsApprovalToken(text: string): boolean {
  return SIGNED_APPROVAL_LINK.test(text);
}
