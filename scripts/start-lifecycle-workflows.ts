import type { Client } from '@temporalio/client';
import { WorkflowExecutionAlreadyStartedError } from '@temporalio/client';
import type { Knex } from 'knex';
import { toAsset, type AssetRow } from '../model/assets';
import { effectiveReminderLeadTimes } from '../model/process-settings';
import { loadConfig } from '../platform/config';
import { createDatabase } from '../platform/database';
import { required } from '../platform/settings';
import { connectClient, ensureSearchAttributes, retryTransient } from '../platform/temporal';
import type { ReminderSettings } from '../workflows/asset-lifecycle/contract';
import { lifecycleStartOptions } from '../workflows/asset-lifecycle/start';
import { SEARCH_ATTRIBUTE_KEYS } from '../workflows/search-attributes';

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
          await retryTransient(`starting the lifecycle workflow of ${row.asset_tag}`, () =>
            client.workflow.start('assetLifecycleWorkflow', lifecycleStartOptions(toAsset(row), settings)));
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

/** As a one-shot job (`npm run lifecycle:start`): for deployments where `npm start` does not run. */
async function main(): Promise<void> {
  const config = loadConfig();
  const db = createDatabase(required(config.DATABASE_URL, 'DATABASE_URL', 'assets are read from the shared Postgres'), 2);
  const client = await connectClient(required(config.TEMPORAL_ADDRESS, 'TEMPORAL_ADDRESS', 'workflows start on a cluster'), config.TEMPORAL_NAMESPACE);
  try {
    await ensureSearchAttributes(client, SEARCH_ATTRIBUTE_KEYS);
    const count = await startLifecycleWorkflows(db, client, {
      taskQueue: config.TEMPORAL_TASK_QUEUE,
      reminders: await effectiveReminderLeadTimes(db, { warrantyDaysBefore: config.WARRANTY_REMINDER_DAYS, leaseDaysBefore: config.LEASE_REMINDER_DAYS }),
    });
    console.log(`lifecycle workflows running for ${count} assets`);
  } finally {
    await client.connection.close();
    await db.destroy();
  }
}

if (require.main === module) {
  main().catch((error) => {
    console.error(error instanceof Error ? error.message : error);
    process.exit(1);
  });
}
