/**
 * The SLA watch: a short workflow a Temporal Schedule starts every minute (platform/schedules.ts),
 * whose one activity tells the process owners, once per breach, of each open process that has
 * outstayed its SLA target in its current state.
 */

export const SLA_WATCH_SCHEDULE_ID = 'sla-watch';

/** How many breaches one run tells at most; the rest wait for the next run, the longest overdue first. */
export const SLA_WATCH_BATCH = 200;

export interface SlaWatchInput {
  /** At most this many breaches per run (SLA_WATCH_BATCH when absent). */
  batchLimit?: number;
}

export interface SlaWatchOutcome {
  /** Breaches found without a notice. */
  found: number;
  /** Of those, the ones this run told (another run may have taken one first). */
  notified: number;
}

export interface NotifySlaBreachesInput {
  limit: number;
}
