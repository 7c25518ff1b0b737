import { createHash } from 'node:crypto';
import type { Knex } from 'knex';
import type { Mailer } from '../platform/mailer';

export interface EmailRequest {
  idempotencyKey: string;
  template: string;
  to: string[];
  subject: string;
  text: string;
  html?: string;
  subjectType?: string;
  subjectId?: string;
  workflowId?: string;
}

/**
 * Sends an email at most once per idempotency key through the email log (an outbox). If the
 * process dies between the SMTP hand-off and marking the row sent, the resend carries the same
 * Message-ID so that the receiving side can drop the duplicate.
 */
export async function deliverEmail(db: Knex, mailer: Mailer, email: EmailRequest): Promise<{ messageId: string; alreadySent: boolean }> {
  const messageId = `<${createHash('sha256').update(email.idempotencyKey).digest('hex').slice(0, 32)}@assetflow>`;
  await db('email_log')
    .insert({
      idempotency_key: email.idempotencyKey,
      template: email.template,
      recipients: email.to,
      subject: email.subject,
      body_text: email.text,
      body_html: email.html ?? null,
      subject_type: email.subjectType ?? null,
      subject_id: email.subjectId ?? null,
      workflow_id: email.workflowId ?? null,
      message_id: messageId,
    })
    .onConflict('idempotency_key')
    .ignore();
  const row = await db('email_log').where({ idempotency_key: email.idempotencyKey }).first('status');
  if (row.status === 'sent') return { messageId, alreadySent: true };

  await db('email_log').where({ idempotency_key: email.idempotencyKey }).increment('attempts', 1);
  try {
    await mailer.send({ to: email.to, subject: email.subject, text: email.text, html: email.html, messageId });
  } catch (error) {
    await db('email_log')
      .where({ idempotency_key: email.idempotencyKey })
      .update({ status: 'failed', last_error: String(error) });
    throw error;
  }
  await db('email_log').where({ idempotency_key: email.idempotencyKey }).update({ status: 'sent', sent_at: db.fn.now(), last_error: null });
  return { messageId, alreadySent: false };
}
