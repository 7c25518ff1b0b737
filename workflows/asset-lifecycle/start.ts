import type { WorkflowStartOptions } from '@temporalio/client';
import { businessNumberKey, processStateKey, processTypeKey } from '../search-attributes';
import type { assetLifecycleWorkflow } from './workflow';
import { ASSET_LIFECYCLE_PROCESS, assetLifecycleWorkflowId, type LifecycleAsset, type ReminderSettings } from './contract';

/**
 * How a lifecycle workflow is started for an asset, by the API (update-with-start) and by the
 * start-up sweep alike: the running workflow wins, a finished one may be started again.
 */
export function lifecycleStartOptions(
  asset: LifecycleAsset & { id: string; assetTag: string },
  settings: { taskQueue: string; reminders: ReminderSettings },
): WorkflowStartOptions<typeof assetLifecycleWorkflow> & { workflowIdConflictPolicy: 'USE_EXISTING' } {
  return {
    workflowId: assetLifecycleWorkflowId(asset.assetTag),
    taskQueue: settings.taskQueue,
    workflowIdConflictPolicy: 'USE_EXISTING',
    args: [
      {
        assetId: asset.id,
        assetTag: asset.assetTag,
        asset: {
          state: asset.state,
          substate: asset.substate,
          assignedToId: asset.assignedToId,
          version: asset.version,
          warrantyEnd: asset.warrantyEnd,
          leaseEnd: asset.leaseEnd,
        },
        reminders: settings.reminders,
      },
    ],
    typedSearchAttributes: [
      { key: processTypeKey, value: ASSET_LIFECYCLE_PROCESS },
      { key: processStateKey, value: asset.state },
      { key: businessNumberKey, value: asset.assetTag },
    ],
  };
}
