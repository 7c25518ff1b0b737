import type { Client } from '@temporalio/client';
import type { Knex } from 'knex';
import type { ApprovalTimings } from '../workflows/approvals/contract';
import type { ReminderSettings } from '../workflows/asset-lifecycle/contract';
import { createApprovalActivities } from './approvals';
import { createAttentionActivities } from './attention';
import { createAssetLifecycleActivities } from './asset-lifecycle';
import { createChangeRequestActivities } from './change-request';
import { classifiedActivities } from './failures';
import { createPurchaseRequestActivities } from './purchase-request';
import { createPeopleActivities } from './people';
import { createImportActivities } from './imports';
import { createProcessOwnerActivities } from './process-owners';
import { createSlaBreachActivities } from './sla-breaches';
import { createUnseenRecordActivities } from './unseen-records';
import { createStewardCaseActivities } from './steward-cases';
import { createCostImportActivities } from './cost-imports';
import { createCostAllocationActivities } from './cost-allocation';
import { createBudgetWatchActivities } from './budget-watch';
import { createFindingActivities } from './findings';
import { createRenewalDecisionActivities } from './renewal-decisions';

export interface ActivityDeps {
  db: Knex;
  publicUrl: string;
  securityNoticeEmail: string;
  /** The organisation's time zone (TIME_ZONE): emails write times in the addressee's zone, else this one, else UTC. */
  timeZone?: string;
  /** For activities that drive other workflows, e.g. a change running its asset transitions. */
  temporal: Client;
  lifecycle: { taskQueue: string; reminders: ReminderSettings };
  /** The normal approval clock (APPROVAL_*), for the steward cases inventory batches start. */
  approvalTimings: ApprovalTimings;
  /** How long a step that ran out of retries waits before it is tried again on its own (default 5 minutes). */
  stalledStepRetryMs?: number;
}

/**
 * Every activity the workers register; workflows proxy them by these names. Each heartbeats while
 * it runs and has its failures classified (bad data is final, the rest retried): activities/failures.ts.
 */
export function createActivities(deps: ActivityDeps) {
  return classifiedActivities({
    ...createApprovalActivities(deps),
    ...createAttentionActivities(deps),
    ...createAssetLifecycleActivities(deps),
    ...createChangeRequestActivities(deps),
    ...createPurchaseRequestActivities(deps),
    ...createPeopleActivities(deps),
    ...createImportActivities(deps),
    ...createProcessOwnerActivities(deps),
    ...createSlaBreachActivities(deps),
    ...createUnseenRecordActivities(deps),
    ...createStewardCaseActivities(deps),
    ...createCostImportActivities(deps),
    ...createCostAllocationActivities(deps),
    ...createBudgetWatchActivities(deps),
    ...createFindingActivities(deps),
    ...createRenewalDecisionActivities(deps),
  });
}

export type Activities = ReturnType<typeof createActivities>;
