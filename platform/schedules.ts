import { ScheduleAlreadyRunning, type Client, type ScheduleOptions } from '@temporalio/client';
import { SLA_WATCH_SCHEDULE_ID } from '../workflows/sla-watch/contract';
import { UNSEEN_WATCH_SCHEDULE_ID } from '../workflows/unseen-watch/contract';
import { COST_ALLOCATION_SCHEDULE_ID } from '../workflows/cost-allocation/contract';
import { BUDGET_WATCH_SCHEDULE_ID } from '../workflows/budget-watch/contract';
import { FINDINGS_SCAN_SCHEDULE_ID } from '../workflows/findings-scan/contract';

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

export interface FinopsScheduleSettings {
  taskQueue: string;
  /** When the monthly allocation runs (COST_ALLOCATION_CRON, UTC). */
  allocationCron: string;
  /** How often the budget watch runs (BUDGET_WATCH_EVERY). */
  budgetWatchEveryMs: number;
  /** How often the findings scan runs (FINDINGS_SCAN_EVERY). */
  findingsScanEveryMs: number;
}

/**
 * Creates the FinOps schedules (the monthly allocation, the budget watch, the findings scan), or
 * brings them up to these settings; as the SLA watch's. Answers what it did to each.
 */
export async function ensureFinopsSchedules(client: Client, settings: FinopsScheduleSettings): Promise<Record<string, 'created' | 'updated'>> {
  const { taskQueue } = settings;
  const allocation = await keepSchedule(client, {
    scheduleId: COST_ALLOCATION_SCHEDULE_ID,
    spec: { cronExpressions: [settings.allocationCron] },
    // The workflow id names no month: the run works out the month before its start.
    action: { type: 'startWorkflow', workflowType: 'costAllocationWorkflow', workflowId: COST_ALLOCATION_SCHEDULE_ID, taskQueue, args: [{}], workflowRunTimeout: '1 hour' },
    // A month missed while the server was down is still allocated when it comes back within a day.
    policies: { overlap: 'SKIP', catchupWindow: '1 day' },
  });
  const budgetWatch = await keepSchedule(client, {
    scheduleId: BUDGET_WATCH_SCHEDULE_ID,
    spec: { intervals: [{ every: settings.budgetWatchEveryMs }] },
    action: { type: 'startWorkflow', workflowType: 'budgetWatchWorkflow', workflowId: BUDGET_WATCH_SCHEDULE_ID, taskQueue, args: [{}], workflowRunTimeout: RUN_TIMEOUT },
    policies: { overlap: 'SKIP', catchupWindow: '1 minute' },
  });
  const findingsScan = await keepSchedule(client, {
    scheduleId: FINDINGS_SCAN_SCHEDULE_ID,
    spec: { intervals: [{ every: settings.findingsScanEveryMs }] },
    action: { type: 'startWorkflow', workflowType: 'findingsScanWorkflow', workflowId: FINDINGS_SCAN_SCHEDULE_ID, taskQueue, args: [{}], workflowRunTimeout: '30 minutes' },
    policies: { overlap: 'SKIP', catchupWindow: '1 minute' },
  });
  return { [COST_ALLOCATION_SCHEDULE_ID]: allocation, [BUDGET_WATCH_SCHEDULE_ID]: budgetWatch, [FINDINGS_SCAN_SCHEDULE_ID]: findingsScan };
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
