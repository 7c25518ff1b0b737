/**
 * The monthly cost allocation: what each cost centre and business service cost in a month, from
 * the depreciation of assets in use, amortised licences and contracts, cloud and other cost records,
 * and the shared cost centres split by their allocation rules. A Temporal Schedule runs it for the
 * month just ended (platform/schedules.ts, COST_ALLOCATION_CRON); the API runs any month on demand.
 * A month run again replaces its allocations in one transaction: never doubled.
 */
import { defineQuery } from '@temporalio/workflow';

export const COST_ALLOCATION_SCHEDULE_ID = 'cost-allocation';

/** One workflow per month run on demand at a time: a second request while it runs answers the running one. */
export const costAllocationWorkflowId = (period: string) => `cost-allocation:${period}`;

export interface CostAllocationInput {
  /** The month, YYYY-MM; absent (the schedule): the month before the run started. */
  period?: string;
}

/** Per category and currency: exact decimal text. */
export interface AllocationTotal {
  category: string;
  currency: string;
  amount: string;
}

export interface CostAllocationOutcome {
  runId: string;
  period: string;
  allocations: number;
  /** What the sources hold for the month, and what was allocated: equal, to the last place. */
  sourceTotals: AllocationTotal[];
  allocatedTotals: AllocationTotal[];
}

export interface AllocateMonthInput {
  idempotencyKey: string;
  /** YYYY-MM */
  period: string;
  workflowId: string;
}

export const costAllocationStatusQuery = defineQuery<{ period: string; state: 'running' | 'completed' | 'failed' }>('status');
