/**
 * How queued email is delivered: when a failed hand-off is tried again, when it is given up on,
 * and where an approval task's signed link goes. The link is signed at send time so that no live
 * token is ever stored.
 */

export interface EmailRetryPolicy {
  /** The wait after the first failed attempt; it doubles with each further failure (cappedBackoffMs). */
  firstDelayMs: number;
  /** The longest wait between attempts: a message is tried at least this often until it goes. */
  maxDelayMs: number;
}

export const DEFAULT_EMAIL_RETRY_POLICY: EmailRetryPolicy = { firstDelayMs: 1_000, maxDelayMs: 30_000 };

/** Where a queued message stands while it is still to be sent (`sent` and `undeliverable` are final). */
export const UNSENT_EMAIL_STATUSES = ['pending', 'failed'] as const;

/** A message that cannot be sent as it stands (what it refers to is gone): trying again would fail the same way. */
export class UndeliverableEmail extends Error {
  override name = 'UndeliverableEmail';
}

/**
 * Whether a failed hand-off can never succeed, so the message is given up on (and an operator
 * told) instead of being tried for ever: the mail server refused this recipient or this message
 * for good (a 5xx reply to RCPT TO or DATA), or the message cannot be built. Everything else is
 * tried again: no connection, a 4xx (try later), and a 5xx to the login or the sender, which are
 * the server's or our own configuration and would fail every message until someone fixes them.
 */
export function isUndeliverable(error: unknown): boolean {
  if (error instanceof UndeliverableEmail) return true;
  if (typeof error !== 'object' || error === null) return false;
  const { responseCode, command } = error as { responseCode?: unknown; command?: unknown };
  return typeof responseCode === 'number' && responseCode >= 500 && responseCode < 600 && (command === 'RCPT TO' || command === 'DATA');
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
