import type { Client } from '@temporalio/client';
import { WorkflowExecutionAlreadyStartedError } from '@temporalio/client';
import type { Knex } from 'knex';
import { toAsset, type AssetRow } from '../model/assets';
import type { ReminderSettings } from '../workflows/asset-lifecycle/contract';
import { lifecycleStartOptions } from '../workflows/asset-lifecycle/start';

/**
 * Makes sure every asset that is not retired has its lifecycle workflow running, so that its
 * warranty and lease reminders are scheduled. Safe to run again: running workflows are kept.
 */
export async function startLifecycleWorkflows(
  db: Knex,
  client: Client,
  settings: { taskQueue: string; reminders: ReminderSettings },
  onProgress: (done: number, total: number) => void = () => undefined,
): Promise<number> {
  const rows: AssetRow[] = await db('assets').whereNot('state', 'retired').orderBy('asset_tag');
  let done = 0;
  const batchSize = 20;
  for (let i = 0; i < rows.length; i += batchSize) {
    await Promise.all(
      rows.slice(i, i + batchSize).map(async (row) => {
        try {
          await client.workflow.start('assetLifecycleWorkflow', lifecycleStartOptions(toAsset(row), settings));
        } catch (error) {
          if (!(error instanceof WorkflowExecutionAlreadyStartedError)) throw error;
        }
      }),
    );
    done = Math.min(rows.length, i + batchSize);
    onProgress(done, rows.length);
  }
  return rows.length;
}
