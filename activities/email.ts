import { createHash } from 'node:crypto';
import { ApplicationFailure } from '@temporalio/activity';
import type { Knex } from 'knex';
import { APPROVAL_LINK_PLACEHOLDER, containsApprovalToken } from '../domain/email-delivery';
import { viewerTimeZone } from '../domain/time-zones';
import { timeZoneOfAddress } from '../model/people';

export { APPROVAL_LINK_PLACEHOLDER };

export interface EmailRequest {
  idempotencyKey: string;
  template: string;
  to: string[];
  subject: string;
  /** Where the approver's signed link belongs, write APPROVAL_LINK_PLACEHOLDER and name the approval in `approvalLinkFor`. */
  text: string;
  html?: string;
  /** The approval whose signed link the dispatcher puts in place of the placeholder when it sends. */
  approvalLinkFor?: string;
  subjectType?: string;
  subjectId?: string;
  workflowId?: string;
}

/**
 * The zone an email's times are written in for its addressee: their own (people.time_zone), else
 * the organisation's (TIME_ZONE), else UTC.
 */
export async function addresseeTimeZone(db: Knex, email: string, organisationZone: string | undefined): Promise<string> {
  return viewerTimeZone(await timeZoneOfAddress(db, email), organisationZone);
}

/** Stable per logical email: every attempt to send it, by any worker, carries the same Message-ID. */
export function messageIdFor(idempotencyKey: string): string {
  return `<${createHash('sha256').update(idempotencyKey).digest('hex').slice(0, 32)}@assetflow>`;
}

/**
 * Queues an email in the outbox (`email_log`), once per idempotency key; the email dispatcher of
 * any worker sends it (activities/email-dispatcher.ts). Only a database write, so no workflow
 * step waits for SMTP and an outage delays mail without stopping any process. The stored body
 * never holds a live approval token: such a body is refused as a programming error.
 */
export async function queueEmail(db: Knex, email: EmailRequest): Promise<{ messageId: string }> {
  if (containsApprovalToken(email.text) || containsApprovalToken(email.html ?? '')) {
    throw ApplicationFailure.nonRetryable(`email ${email.idempotencyKey} carries a signed approval link: queue the placeholder instead`, 'TokenInEmailBody');
  }
  const messageId = messageIdFor(email.idempotencyKey);
  await db('email_log')
    .insert({
      idempotency_key: email.idempotencyKey,
      template: email.template,
      recipients: email.to,
      subject: email.subject,
      body_text: email.text,
      body_html: email.html ?? null,
      approval_link_id: email.approvalLinkFor ?? null,
      subject_type: email.subjectType ?? null,
      subject_id: email.subjectId ?? null,
      workflow_id: email.workflowId ?? null,
      message_id: messageId,
    })
    .onConflict('idempotency_key')
    .ignore();
  return { messageId };
}
