import fs from 'node:fs';
import path from 'node:path';
import type { Client } from '@temporalio/client';
import { historyToJSON } from '@temporalio/common/lib/proto-utils';

/**
 * With RECORD_HISTORIES set, keeps a finished workflow's history in test/histories/ for
 * test/workflow-replay.test.ts, which replays every recording against today's workflow code.
 */
export async function recordHistory(client: Client, workflowId: string, file: string): Promise<void> {
  if (!process.env.RECORD_HISTORIES) return;
  const handle = client.workflow.getHandle(workflowId);
  await handle.result();
  fs.writeFileSync(path.join(__dirname, '..', 'histories', file), historyToJSON(await handle.fetchHistory()));
}
