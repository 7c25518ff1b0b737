import { PgListener } from './pg-listener';

const CHANNEL = 'assetflow_process_state';

/** Called with the state the process entered, or null when announcements may have been lost. */
type StateListener = (state: string | null) => void;

/**
 * How a wait ended: the process `reached` a state asked for, or the wait `timedOut`, or it was
 * `woken` early (the connection was lost, or the process is shutting down), or it was `refused`
 * at once because as many requests as allowed are already waiting. The caller reads the state again.
 */
export type WaitOutcome = 'reached' | 'timedOut' | 'woken' | 'refused';

export interface WaitLimits {
  /** Requests held at once by this API process; beyond it a wait is refused at once. */
  maxWaiting: number;
  /** The longest a request is held, whatever it asked for. */
  maxWaitMs: number;
}

export const DEFAULT_WAIT_LIMITS: WaitLimits = { maxWaiting: 200, maxWaitMs: 30_000 };

/**
 * Lets a request wait until a process reaches a state, without polling: one connection per API
 * process LISTENs to the announcements the process index makes on every state change
 * (migration 20261127001800), and wakes the requests waiting on that workflow.
 */
export class ProcessStateWatcher {
  private readonly connection: PgListener;
  private readonly listeners = new Map<string, Set<StateListener>>();
  private waiting = 0;
  private closed = false;
  private readonly limits: WaitLimits;

  constructor(databaseUrl: string, limits: Partial<WaitLimits> = {}) {
    this.limits = { ...DEFAULT_WAIT_LIMITS, ...limits };
    this.connection = new PgListener({
      databaseUrl,
      channel: CHANNEL,
      onNotification: (payload) => {
        const { workflowId, state } = JSON.parse(payload ?? '{}') as { workflowId?: string; state?: string };
        if (!workflowId || !state) return;
        for (const listener of [...(this.listeners.get(workflowId) ?? [])]) listener(state);
      },
      // A lost connection may have missed announcements: everyone waiting reads the state again,
      // and the next wait connects anew.
      onLost: () => this.wakeEveryone(),
    });
  }

  /**
   * Resolves once the workflow's process is in one of `states` (any state: it exists), or when
   * `timeoutMs` (at most the limit's maxWaitMs) has passed, or at once when too many requests wait
   * already or the watcher is closing; the caller reads the state again either way. `currentState`
   * is read after listening starts, so a state reached in between is not missed.
   */
  async waitFor(workflowId: string, states: readonly string[] | 'any', timeoutMs: number, currentState: () => Promise<string | undefined>): Promise<WaitOutcome> {
    if (this.closed) return 'woken';
    if (this.waiting >= this.limits.maxWaiting) return 'refused';
    this.waiting++;
    try {
      return await new Promise<WaitOutcome>((resolve) => {
        let listeners = this.listeners.get(workflowId);
        if (!listeners) this.listeners.set(workflowId, (listeners = new Set()));
        let settled = false;
        const done = (outcome: WaitOutcome) => {
          if (settled) return;
          settled = true;
          clearTimeout(timer);
          listeners.delete(onState);
          if (listeners.size === 0 && this.listeners.get(workflowId) === listeners) this.listeners.delete(workflowId);
          resolve(outcome);
        };
        const onState: StateListener = (state) => {
          if (state === null) done('woken');
          else if (states === 'any' || states.includes(state)) done('reached');
        };
        // The limit counts from the request, not from the connection: reaching Postgres is part of the wait.
        const timer = setTimeout(() => done('timedOut'), Math.min(timeoutMs, this.limits.maxWaitMs));
        listeners.add(onState);
        this.connection.listen()
          .then(() => currentState())
          .then((state) => state !== undefined && onState(state), () => done('woken'));
      });
    } finally {
      this.waiting--;
    }
  }

  /** Requests waiting now. */
  get waitingCount(): number {
    return this.waiting;
  }

  /** Wakes every waiting request (each answers with what it has) and refuses to hold new ones. */
  async close(): Promise<void> {
    this.closed = true;
    this.wakeEveryone();
    await this.connection.close();
  }

  private wakeEveryone(): void {
    for (const [workflowId, listeners] of this.listeners) {
      for (const listener of [...listeners]) listener(null);
      this.listeners.delete(workflowId);
    }
  }
}
