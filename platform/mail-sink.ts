import fs from 'node:fs';
import path from 'node:path';
import { simpleParser } from 'mailparser';
import { SMTPServer } from 'smtp-server';

export interface SunkMessage {
  id: string;
  receivedAt: string;
  messageId?: string;
  from: string;
  to: string[];
  subject: string;
  text: string;
  html?: string;
}

/** Reads the messages a sink stored in a folder: the API's mail page uses it. */
export function readMailbox(dir: string, limit = 100): SunkMessage[] {
  if (!fs.existsSync(dir)) return [];
  return fs
    .readdirSync(dir)
    .filter((name) => name.endsWith('.json'))
    .sort()
    .reverse()
    .slice(0, limit)
    .map((name) => JSON.parse(fs.readFileSync(path.join(dir, name), 'utf8')) as SunkMessage);
}

/**
 * A local SMTP server that accepts every message and keeps it, so that a newcomer sees the
 * emailed tasks without a mail account and tests read real delivered messages.
 */
export class MailSink {
  private readonly received: SunkMessage[] = [];
  private readonly waiters = new Set<() => void>();
  private readonly refused = new Set<string>();
  private server?: SMTPServer;
  private sequence = 0;
  port = 0;

  constructor(private readonly storeDir?: string) {}

  get url(): string {
    return `smtp://127.0.0.1:${this.port}`;
  }

  async start(port = 0): Promise<void> {
    if (this.storeDir) fs.mkdirSync(this.storeDir, { recursive: true });
    this.server = new SMTPServer({
      authOptional: true,
      disabledCommands: ['STARTTLS'],
      logger: false,
      // Stopping drops the senders' pooled connections soon, as a mail server going away would.
      closeTimeout: 500,
      onRcptTo: (address, _session, callback) => {
        if (!this.refused.has(address.address.toLowerCase())) return callback();
        callback(Object.assign(new Error('5.1.1 no such mailbox'), { responseCode: 550 }));
      },
      onData: (stream, _session, callback) => {
        simpleParser(stream)
          .then((parsed) => {
            this.store({
              id: `${Date.now()}-${String(++this.sequence).padStart(6, '0')}`,
              receivedAt: new Date().toISOString(),
              messageId: parsed.messageId,
              from: parsed.from?.text ?? '',
              to: (Array.isArray(parsed.to) ? parsed.to : parsed.to ? [parsed.to] : []).flatMap((a) =>
                a.value.map((v) => v.address ?? ''),
              ),
              subject: parsed.subject ?? '',
              text: parsed.text ?? '',
              html: typeof parsed.html === 'string' ? parsed.html : undefined,
            });
            callback();
          })
          .catch((error: Error) => callback(error));
      },
    });
    await new Promise<void>((resolve, reject) => {
      this.server!.once('error', reject);
      this.server!.listen(port, '127.0.0.1', () => {
        this.server!.off('error', reject);
        resolve();
      });
    });
    // A sender that goes away mid-conversation (a worker killed while it sends) resets its socket:
    // the server reports it as an error event, which with no listener would end the process.
    this.server.on('error', () => undefined);
    const address = this.server.server.address();
    this.port = typeof address === 'object' && address ? address.port : port;
  }

  private store(message: SunkMessage): void {
    this.received.push(message);
    if (this.storeDir) {
      fs.writeFileSync(path.join(this.storeDir, `${message.id}.json`), JSON.stringify(message, null, 2));
    }
    for (const wake of this.waiters) wake();
  }

  /** Refuses mail to `address` for good (550), as a server with no such mailbox: for tests of undeliverable mail. */
  refuse(address: string): void {
    this.refused.add(address.toLowerCase());
  }

  messages(): SunkMessage[] {
    return [...this.received];
  }

  /** Resolves with the first message that matches, waiting for it to arrive. */
  async waitFor(match: (m: SunkMessage) => boolean, timeoutMs = 30_000): Promise<SunkMessage> {
    const found = this.received.find(match);
    if (found) return found;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters.delete(check);
        reject(new Error(`no matching email arrived within ${timeoutMs} ms`));
      }, timeoutMs);
      const check = () => {
        const hit = this.received.find(match);
        if (hit) {
          clearTimeout(timer);
          this.waiters.delete(check);
          resolve(hit);
        }
      };
      this.waiters.add(check);
    });
  }

  async stop(): Promise<void> {
    if (this.server) await new Promise<void>((resolve) => this.server!.close(() => resolve()));
  }
}
