import pg from 'pg';

const CHANNEL = 'assetflow_process_state';

/** Called with the state the process entered, or null when announcements may have been lost. */
type StateListener = (state: string | null) => void;

/**
 * Lets a request wait until a process reaches a state, without polling: one connection per API
 * process LISTENs to the announcements the process index makes on every state change
 * (migration 20261127001800), and wakes the requests waiting on that workflow.
 */
export class ProcessStateWatcher {
  private connection: Promise<pg.Client> | null = null;
  private readonly listeners = new Map<string, Set<StateListener>>();

  constructor(private readonly databaseUrl: string) {}

  /**
   * Resolves once the workflow's process is in one of `states` (any state: it exists), or when `timeoutMs` has passed;
   * the caller reads the state again either way. `currentState` is read after listening starts,
   * so a state reached in between is not missed.
   */
  async waitFor(workflowId: string, states: readonly string[] | 'any', timeoutMs: number, currentState: () => Promise<string | undefined>): Promise<void> {
    await this.listen();
    await new Promise<void>((resolve) => {
      let listeners = this.listeners.get(workflowId);
      if (!listeners) this.listeners.set(workflowId, (listeners = new Set()));
      const done = () => {
        clearTimeout(timer);
        listeners.delete(onState);
        if (listeners.size === 0) this.listeners.delete(workflowId);
        resolve();
      };
      const onState: StateListener = (state) => {
        if (state === null || states === 'any' || states.includes(state)) done();
      };
      const timer = setTimeout(done, timeoutMs);
      listeners.add(onState);
      currentState().then((state) => state !== undefined && onState(state), done);
    });
  }

  async close(): Promise<void> {
    const connection = this.connection;
    this.connection = null;
    this.wakeEveryone();
    if (connection) await (await connection.catch(() => null))?.end().catch(() => undefined);
  }

  private listen(): Promise<pg.Client> {
    if (!this.connection) {
      const client = new pg.Client({ connectionString: this.databaseUrl });
      client.on('notification', ({ payload }) => {
        const { workflowId, state } = JSON.parse(payload ?? '{}') as { workflowId?: string; state?: string };
        if (!workflowId || !state) return;
        for (const listener of [...(this.listeners.get(workflowId) ?? [])]) listener(state);
      });
      // A lost connection may have missed announcements: everyone waiting reads the state again,
      // and the next wait connects anew.
      client.on('error', () => this.forget(connection));
      client.on('end', () => this.forget(connection));
      const connection = client.connect().then(async () => {
        await client.query(`LISTEN ${CHANNEL}`);
        return client;
      });
      connection.catch(() => this.forget(connection));
      this.connection = connection;
    }
    return this.connection;
  }

  private forget(connection: Promise<pg.Client>): void {
    if (this.connection !== connection) return;
    this.connection = null;
    this.wakeEveryone();
  }

  private wakeEveryone(): void {
    for (const [workflowId, listeners] of this.listeners) {
      for (const listener of [...listeners]) listener(null);
      this.listeners.delete(workflowId);
    }
  }
}
