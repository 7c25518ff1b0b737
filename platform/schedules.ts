import { ScheduleAlreadyRunning, type Client, type ScheduleOptions } from '@temporalio/client';
import { SLA_WATCH_SCHEDULE_ID } from '../workflows/sla-watch/contract';
import { UNSEEN_WATCH_SCHEDULE_ID } from '../workflows/unseen-watch/contract';

export interface SlaWatchScheduleSettings {
  taskQueue: string;
  /** How often the watch runs (SLA_WATCH_EVERY, a minute by default). */
  everyMs: number;
}

/** A run that has not finished in this time has hung: it ends, and the next scheduled run starts over. */
const RUN_TIMEOUT = '5 minutes';

function slaWatchSchedule({ taskQueue, everyMs }: SlaWatchScheduleSettings): ScheduleOptions {
  return {
    scheduleId: SLA_WATCH_SCHEDULE_ID,
    spec: { intervals: [{ every: everyMs }] },
    action: {
      type: 'startWorkflow',
      workflowType: 'slaWatchWorkflow',
      workflowId: 'sla-watch',
      taskQueue,
      args: [{}],
      workflowRunTimeout: RUN_TIMEOUT,
    },
    // A run still going when the next is due has it skipped, not queued: it finds the same breaches.
    // Runs missed while the server was down are not made up; the next one finds what they would have.
    policies: { overlap: 'SKIP', catchupWindow: '1 minute' },
  };
}

/**
 * Creates the SLA watch's schedule, or brings the existing one up to these settings (every worker
 * calls this at startup, so several may race: the losers update). Answers which it did.
 */
export async function ensureSlaWatchSchedule(client: Client, settings: SlaWatchScheduleSettings): Promise<'created' | 'updated'> {
  return keepSchedule(client, slaWatchSchedule(settings));
}

export interface UnseenWatchScheduleSettings {
  taskQueue: string;
  /** How often the watch runs (UNSEEN_WATCH_EVERY, an hour by default). */
  everyMs: number;
}

/** Creates the unseen watch's schedule (missing candidates), or brings the existing one up to these settings; as the SLA watch's. */
export async function ensureUnseenWatchSchedule(client: Client, { taskQueue, everyMs }: UnseenWatchScheduleSettings): Promise<'created' | 'updated'> {
  return keepSchedule(client, {
    scheduleId: UNSEEN_WATCH_SCHEDULE_ID,
    spec: { intervals: [{ every: everyMs }] },
    action: {
      type: 'startWorkflow',
      workflowType: 'unseenWatchWorkflow',
      workflowId: UNSEEN_WATCH_SCHEDULE_ID,
      taskQueue,
      args: [{}],
      // Its batches may signal thousands of lifecycle workflows after a feed's outage.
      workflowRunTimeout: '30 minutes',
    },
    policies: { overlap: 'SKIP', catchupWindow: '1 minute' },
  });
}

async function keepSchedule(client: Client, wanted: ScheduleOptions): Promise<'created' | 'updated'> {
  try {
    await client.schedule.create(wanted);
    return 'created';
  } catch (error) {
    if (!(error instanceof ScheduleAlreadyRunning)) throw error;
  }
  await client.schedule.getHandle(wanted.scheduleId).update((current) => ({
    ...current,
    spec: wanted.spec,
    action: wanted.action,
    policies: { ...current.policies, ...wanted.policies },
  }));
  return 'updated';
}
