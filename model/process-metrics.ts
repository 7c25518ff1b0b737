import type { Knex } from 'knex';
import { CHANGE_STATES, CLOSE_CODES } from '../domain/change-request';
import { isFinalState, type ProcessKind } from '../domain/processes';
import { PURCHASE_FINAL_STATES, PURCHASE_STATES } from '../domain/procurement';

/** The processes the metrics count; asset lifecycles are counted by their assets, not here. */
export type MetricProcessType = Extract<ProcessKind, 'change' | 'procurement'>;

/** Every label value known in advance, so that each series exists (at 0) before its first process. */
export const KNOWN_PROCESS_LABELS = {
  change: {
    outcomes: CLOSE_CODES as readonly string[],
    openStates: CHANGE_STATES.filter((s) => !isFinalState('change', s)) as readonly string[],
  },
  procurement: {
    outcomes: PURCHASE_FINAL_STATES as readonly string[],
    openStates: PURCHASE_STATES.filter((s) => !isFinalState('procurement', s)) as readonly string[],
  },
} satisfies Record<MetricProcessType, unknown>;

export const APPROVAL_DECISIONS = ['approved', 'rejected'] as const;

export interface ProcessMetricsSnapshot {
  started: { type: MetricProcessType; count: number }[];
  /** Change: outcome is the close code. Purchase request: the final state (closed, rejected, cancelled). */
  finished: { type: MetricProcessType; outcome: string; count: number }[];
  open: { type: MetricProcessType; state: string; count: number }[];
  /** Approvals a person decided, in the buckets asked for: counts[i] of those taking <= bounds[i] and > bounds[i-1] seconds, the last entry above every bound. */
  approvalDecisions: { type: MetricProcessType; decision: string; counts: number[]; sumSeconds: number }[];
}

interface Row {
  kind: 'process' | 'approval';
  type: MetricProcessType;
  state: string;
  outcome: string | null;
  bucket: number | null;
  n: number;
  seconds: number | null;
}

/**
 * The process figures for /metrics in one statement: changes and purchase requests grouped by
 * state (and close code), and decided approvals grouped by type, decision and latency bucket.
 * Each table is read once with a GROUP BY; the result is a few dozen rows however many processes.
 */
export async function readProcessMetrics(db: Knex, approvalBounds: readonly number[], timeoutMs = 5_000): Promise<ProcessMetricsSnapshot> {
  const { rows } = await db
    .raw<{ rows: Row[] }>(
      `SELECT 'process' AS kind, 'change' AS type, state, close_code AS outcome, NULL::int AS bucket, count(*)::int AS n, NULL::float8 AS seconds
         FROM change_requests GROUP BY state, close_code
       UNION ALL
       SELECT 'process', 'procurement', state, NULL, NULL, count(*)::int, NULL FROM purchase_requests GROUP BY state
       UNION ALL
       SELECT 'approval', d.type, d.state, NULL, d.bucket, count(*)::int, sum(d.seconds)
         FROM (SELECT CASE a.subject_type WHEN 'change_request' THEN 'change' ELSE 'procurement' END AS type, a.state, s.seconds,
                      (SELECT count(*)::int FROM unnest(?::float8[]) AS b(le) WHERE b.le < s.seconds) AS bucket
                 FROM approvals a
                CROSS JOIN LATERAL (SELECT greatest(extract(epoch FROM a.decided_at - a.created_at), 0)::float8 AS seconds) s
                WHERE a.state IN ('approved', 'rejected') AND a.decided_at IS NOT NULL) d
        GROUP BY d.type, d.state, d.bucket`,
      [[...approvalBounds]],
    )
    .timeout(timeoutMs, { cancel: true });
  return toSnapshot(rows, approvalBounds.length);
}

function toSnapshot(rows: Row[], bounds: number): ProcessMetricsSnapshot {
  const snapshot: ProcessMetricsSnapshot = { started: [], finished: [], open: [], approvalDecisions: [] };
  const started = new Map<MetricProcessType, number>();
  const finished = new Map<string, number>();
  const open = new Map<string, number>();
  const approvals = new Map<string, { counts: number[]; sumSeconds: number }>();
  const key = (...parts: string[]) => parts.join('\u0000');
  for (const type of ['change', 'procurement'] as const) {
    started.set(type, 0);
    for (const outcome of KNOWN_PROCESS_LABELS[type].outcomes) finished.set(key(type, outcome), 0);
    for (const state of KNOWN_PROCESS_LABELS[type].openStates) open.set(key(type, state), 0);
    for (const decision of APPROVAL_DECISIONS) approvals.set(key(type, decision), { counts: new Array<number>(bounds + 1).fill(0), sumSeconds: 0 });
  }
  for (const row of rows) {
    if (row.kind === 'process') {
      started.set(row.type, (started.get(row.type) ?? 0) + row.n);
      const ended = isFinalState(row.type, row.state);
      if (ended) {
        const outcome = row.type === 'change' ? (row.outcome ?? 'unknown') : row.state;
        finished.set(key(row.type, outcome), (finished.get(key(row.type, outcome)) ?? 0) + row.n);
      } else {
        open.set(key(row.type, row.state), (open.get(key(row.type, row.state)) ?? 0) + row.n);
      }
    } else {
      const k = key(row.type, row.state);
      const series = approvals.get(k) ?? { counts: new Array<number>(bounds + 1).fill(0), sumSeconds: 0 };
      series.counts[Math.min(row.bucket ?? bounds, bounds)] += row.n;
      series.sumSeconds += row.seconds ?? 0;
      approvals.set(k, series);
    }
  }
  const split = (k: string) => k.split('\u0000') as [MetricProcessType, string];
  for (const [type, count] of started) snapshot.started.push({ type, count });
  for (const [k, count] of finished) { const [type, outcome] = split(k); snapshot.finished.push({ type, outcome, count }); }
  for (const [k, count] of open) { const [type, state] = split(k); snapshot.open.push({ type, state, count }); }
  for (const [k, series] of approvals) { const [type, decision] = split(k); snapshot.approvalDecisions.push({ type, decision, ...series }); }
  return snapshot;
}
