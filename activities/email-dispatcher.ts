import type { Knex } from 'knex';
import { cappedBackoffMs } from '../domain/backoff';
import { DEFAULT_EMAIL_RETRY_POLICY, isUndeliverable, UndeliverableEmail, UNSENT_EMAIL_STATUSES, withApprovalLink, type EmailRetryPolicy } from '../domain/email-delivery';
import { signApprovalToken } from '../platform/approval-links';
import type { Logger } from '../platform/logger';
import type { Mailer } from '../platform/mailer';
import { PgListener } from '../platform/pg-listener';

const CHANNEL = 'assetflow_email_queued';
const MIN_WAIT_MS = 50;

export interface EmailDispatcherOptions {
  db: Knex;
  /** For the one connection that LISTENs for queued messages. */
  databaseUrl: string;
  mailer: Mailer;
  logger: Logger;
  publicUrl: string;
  approvalLinkSecret: string;
  retry?: EmailRetryPolicy;
  /** How often the outbox is looked at when no announcement wakes the dispatcher (a lost one, another worker's lease run out). */
  pollIntervalMs?: number;
  /**
   * How long a claimed message is left to this dispatcher before another may try it: longer than
   * an SMTP hand-off can take (platform/mailer.ts bounds it), short enough that a message whose
   * worker died mid-send goes soon.
   */
  claimLeaseMs?: number;
  /** How many messages are handed to SMTP at once. */
  batchSize?: number;
}

interface ClaimedEmail {
  id: string;
  template: string;
  workflow_id: string | null;
  recipients: string[];
  subject: string;
  body_text: string;
  body_html: string | null;
  message_id: string;
  attempts: number;
  approval_link_id: string | null;
}

/**
 * Sends what the outbox (`email_log`) holds, in every worker process; several may run at once.
 *
 * A message is claimed atomically (FOR UPDATE SKIP LOCKED) by moving its `next_attempt_at` past a
 * lease and counting the attempt, so two dispatchers never hand the same message to SMTP at the
 * same time, and a dispatcher that dies mid-send leaves it to the others when the lease runs out.
 * A failure is recorded on the row (status `failed`, the error, the next attempt after a backoff)
 * and the message is tried again until it goes: it is never dropped, and stays visible meanwhile.
 * A failure that can never succeed (isUndeliverable: the recipient refused for good, the approval
 * gone) makes it `undeliverable` instead: kept with its error, logged as an error, not tried again.
 *
 * Duplicates: a dispatcher that dies after SMTP accepted a message but before the row says `sent`
 * leaves it to be sent again. Every attempt carries the same Message-ID (from the idempotency key),
 * so mail servers and clients that drop a Message-ID they already hold make the resend harmless.
 *
 * Approval links are signed here, at send time, from the approval row: the stored body holds
 * only a placeholder, so no live token is ever written to the database.
 */
export class EmailDispatcher {
  private readonly retry: EmailRetryPolicy;
  private readonly pollIntervalMs: number;
  private readonly claimLeaseMs: number;
  private readonly batchSize: number;
  private readonly listener: PgListener;
  private running: Promise<void> | null = null;
  private stopped = false;
  private woken = false;
  private wake: () => void = () => undefined;

  constructor(private readonly options: EmailDispatcherOptions) {
    this.retry = options.retry ?? DEFAULT_EMAIL_RETRY_POLICY;
    this.pollIntervalMs = options.pollIntervalMs ?? 5_000;
    this.claimLeaseMs = options.claimLeaseMs ?? 30_000;
    this.batchSize = options.batchSize ?? 10;
    this.listener = new PgListener({
      databaseUrl: options.databaseUrl,
      channel: CHANNEL,
      onNotification: () => this.onQueued(),
      // A lost connection may have missed announcements: look at the outbox at once, and listen anew.
      onLost: () => this.onQueued(),
    });
  }

  start(): void {
    this.stopped = false;
    this.running ??= this.run();
  }

  /** Lets the messages being sent finish, then stops; unsent ones stay queued for any dispatcher. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.wake();
    await this.running;
    this.running = null;
    await this.listener.close();
  }

  private async run(): Promise<void> {
    while (!this.stopped) {
      let nextDueInMs = this.pollIntervalMs;
      this.woken = false;
      // Without announcements the outbox is still looked at every poll interval.
      await this.listener.listen().catch((error) => this.options.logger.warn({ err: error }, 'email dispatcher: cannot listen for queued mail; polling'));
      try {
        while (!this.stopped && (await this.sendBatch()) === this.batchSize);
        nextDueInMs = await this.nextDueInMs();
      } catch (error) {
        this.options.logger.warn({ err: error }, 'email dispatcher: the outbox cannot be read; trying again');
      }
      if (!this.stopped && !this.woken) await this.sleep(Math.min(nextDueInMs, this.pollIntervalMs));
    }
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, Math.max(0, ms));
      function done() {
        clearTimeout(timer);
        resolve();
      }
      this.wake = done;
    });
  }

  private onQueued(): void {
    this.woken = true;
    this.wake();
  }

  /** Sends one batch of due messages; answers how many it claimed. */
  private async sendBatch(): Promise<number> {
    const { db } = this.options;
    const claimed = (await db.raw(
      `UPDATE email_log
          SET attempts = attempts + 1, next_attempt_at = now() + make_interval(secs => ?)
        WHERE id IN (SELECT id FROM email_log
                      WHERE status = ANY(?::text[]) AND next_attempt_at <= now()
                      ORDER BY next_attempt_at
                      LIMIT ? FOR UPDATE SKIP LOCKED)
        RETURNING id, template, workflow_id, recipients, subject, body_text, body_html, message_id, attempts, approval_link_id`,
      [this.claimLeaseMs / 1000, [...UNSENT_EMAIL_STATUSES], this.batchSize],
    )).rows as ClaimedEmail[];
    await Promise.all(claimed.map((email) => this.send(email)));
    return claimed.length;
  }

  private async send(email: ClaimedEmail): Promise<void> {
    const { db, mailer, logger } = this.options;
    try {
      const link = email.approval_link_id ? await this.approvalLink(email.approval_link_id) : undefined;
      await mailer.send({
        to: email.recipients,
        subject: email.subject,
        text: link ? withApprovalLink(email.body_text, link) : email.body_text,
        html: email.body_html ? (link ? withApprovalLink(email.body_html, link) : email.body_html) : undefined,
        messageId: email.message_id,
      });
    } catch (error) {
      // Only while the claim is still ours (the attempt count is its fence) and nobody sent it meanwhile.
      const ourClaim = () => db('email_log').where({ id: email.id, attempts: email.attempts }).whereIn('status', UNSENT_EMAIL_STATUSES);
      const about = { emailId: email.id, template: email.template, workflowId: email.workflow_id, attempts: email.attempts, error: describe(error) };
      if (isUndeliverable(error)) {
        await ourClaim().update({ status: 'undeliverable', last_error: describe(error) });
        logger.error(about, 'email undeliverable: it will not be tried again');
        return;
      }
      const delayMs = cappedBackoffMs(email.attempts, this.retry.firstDelayMs, this.retry.maxDelayMs);
      await ourClaim().update({ status: 'failed', last_error: describe(error), next_attempt_at: db.raw('now() + make_interval(secs => ?)', [delayMs / 1000]) });
      logger.warn({ ...about, retryInMs: delayMs }, 'email not sent; it will be tried again');
      return;
    }
    await db('email_log').where({ id: email.id }).update({ status: 'sent', sent_at: db.fn.now(), last_error: null });
    if (email.attempts > 1) {
      // The mail server is back: what waits out a backoff from the outage goes now.
      await db('email_log').where({ status: 'failed' }).where('next_attempt_at', '>', db.fn.now()).update({ next_attempt_at: db.fn.now() });
      this.woken = true;
    }
  }

  private async approvalLink(approvalId: string): Promise<string> {
    const { db, publicUrl, approvalLinkSecret } = this.options;
    const approval = await db('approvals').where({ id: approvalId }).first('id', 'approver_id', 'workflow_id', 'revision', 'step_order', 'due_at');
    if (!approval) throw new UndeliverableEmail(`approval ${approvalId} no longer exists: there is no link to send`);
    const token = signApprovalToken(approvalLinkSecret, {
      approvalId: approval.id,
      approverId: approval.approver_id,
      workflowId: approval.workflow_id,
      revision: approval.revision,
      step: approval.step_order,
      expiresAt: (approval.due_at as Date).getTime(),
    });
    return `${publicUrl}/approvals/${approval.id}?token=${token}`;
  }

  /** Until the earliest unsent message is due; a short floor, so that one due but claimed elsewhere meanwhile is not spun on. */
  private async nextDueInMs(): Promise<number> {
    const row = await this.options.db('email_log').whereIn('status', UNSENT_EMAIL_STATUSES)
      .first(this.options.db.raw(`(EXTRACT(EPOCH FROM min(next_attempt_at) - now()) * 1000)::float8 AS due_in_ms`));
    return row?.due_in_ms == null ? this.pollIntervalMs : Math.max(MIN_WAIT_MS, row.due_in_ms);
  }
}

/** The failure as an operator reads it on the row: what SMTP said, without a stack. */
function describe(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const { code, responseCode } = error as { code?: string; responseCode?: number };
  return [code, responseCode, error.message].filter((part) => part !== undefined && part !== '').join(' ').slice(0, 1000);
}
