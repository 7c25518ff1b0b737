import nodemailer from 'nodemailer';

export interface OutgoingEmail {
  to: string[];
  subject: string;
  text: string;
  html?: string;
  /** Stable per logical email, so a resend after a crash carries the same Message-ID. */
  messageId: string;
}

export interface Mailer {
  send(email: OutgoingEmail): Promise<void>;
  close(): void;
}

export function createMailer(smtpUrl: string, from: string): Mailer {
  // Pooled: a new SMTP session per email (greeting, EHLO, TLS) costs more than the email itself.
  // `?pool=false` in SMTP_URL turns it off. Bounded waits: a mail server that hangs fails the
  // attempt (the outbox tries again later) well within the dispatcher's claim on the message.
  const transport = nodemailer.createTransport({
    pool: true,
    url: smtpUrl,
    connectionTimeout: 5_000,
    greetingTimeout: 5_000,
    socketTimeout: 15_000,
  });
  return {
    async send(email) {
      await transport.sendMail({ from, to: email.to, subject: email.subject, text: email.text, html: email.html, messageId: email.messageId });
    },
    close: () => transport.close(),
  };
}
