import type { Client } from '@temporalio/client';
import type { Knex } from 'knex';
import type { Mailer } from '../platform/mailer';
import type { ReminderSettings } from '../workflows/asset-lifecycle/contract';
import { createApprovalActivities } from './approvals';
import { createAssetLifecycleActivities } from './asset-lifecycle';
import { createChangeRequestActivities } from './change-request';
import { createPurchaseRequestActivities } from './purchase-request';

export interface ActivityDeps {
  db: Knex;
  mailer: Mailer;
  publicUrl: string;
  securityNoticeEmail: string;
  approvalLinkSecret: string;
  /** For activities that drive other workflows, e.g. a change running its asset transitions. */
  temporal: Client;
  lifecycle: { taskQueue: string; reminders: ReminderSettings };
}

/** Every activity the workers register; workflows proxy them by these names. */
export function createActivities(deps: ActivityDeps) {
  return {
    ...createApprovalActivities(deps),
    ...createAssetLifecycleActivities(deps),
    ...createChangeRequestActivities(deps),
    ...createPurchaseRequestActivities(deps),
  };
}

export type Activities = ReturnType<typeof createActivities>;
