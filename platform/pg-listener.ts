import pg from 'pg';
import { CONNECTION_ACQUIRE_TIMEOUT_MS } from './database';

export interface PgListenerOptions {
  databaseUrl: string;
  channel: string;
  onNotification: (payload: string | undefined) => void;
  /** A connection that listened was lost: announcements may have been missed. (A failed `listen()` rejects instead.) */
  onLost: () => void;
  /** The longest connecting and LISTEN may take: an unreachable Postgres fails in this time instead of hanging. */
  timeoutMs?: number;
}

/** How long closing waits for the server's goodbye: a partitioned one never sends it. */
const GOODBYE_WAIT_MS = 1_000;

interface Connection {
  client: pg.Client;
  listening: Promise<void>;
}

/**
 * One connection LISTENing on one channel, made when first asked for, shared by every caller,
 * and forgotten when lost so that the next `listen()` connects anew. Connecting and closing are
 * bounded, so a network partition delays neither a waiting request's own timer nor a shutdown.
 */
export class PgListener {
  private connection: Connection | null = null;
  private readonly timeoutMs: number;

  constructor(private readonly options: PgListenerOptions) {
    this.timeoutMs = options.timeoutMs ?? CONNECTION_ACQUIRE_TIMEOUT_MS;
  }

  /** Resolves once the channel is listened to; rejects when Postgres cannot be reached in time. */
  listen(): Promise<void> {
    if (!this.connection) {
      const client = new pg.Client({ connectionString: this.options.databaseUrl, connectionTimeoutMillis: this.timeoutMs, query_timeout: this.timeoutMs });
      let listened = false;
      const listening = client.connect()
        .then(() => client.query(`LISTEN ${this.options.channel}`))
        .then(() => { listened = true; });
      const connection: Connection = { client, listening };
      client.on('notification', ({ payload }) => this.options.onNotification(payload));
      client.on('error', () => this.forget(connection, listened));
      client.on('end', () => this.forget(connection, listened));
      listening.catch(() => this.forget(connection, false));
      this.connection = connection;
    }
    return this.connection.listening;
  }

  /** Stops listening; the next `listen()` connects anew. */
  async close(): Promise<void> {
    const connection = this.connection;
    this.connection = null;
    if (connection) await end(connection.client);
  }

  private forget(connection: Connection, wasListening: boolean): void {
    if (this.connection !== connection) return;
    this.connection = null;
    void end(connection.client);
    // A connection that never listened missed nothing: its `listen()` rejects, and the caller decides.
    if (wasListening) this.options.onLost();
  }
}

/** Ends the client (one still connecting is cut off at once), not waiting long for the goodbye. */
async function end(client: pg.Client): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<void>((resolve) => { timer = setTimeout(resolve, GOODBYE_WAIT_MS); });
  await Promise.race([client.end().catch(() => undefined), late]);
  clearTimeout(timer);
}
