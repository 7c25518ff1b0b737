/**
 * An inventory batch's rows, checked and applied (issue 16): each row is identified by its class's
 * rules, reconciled attribute by attribute by source authority, and written with its provenance and
 * sightings; a row several records answer to is held, and opens a data steward's case when applied.
 * The check and the apply judge a row by the same function, so the dry run's report is what the
 * real run does. Built by the engine helper; the import activities call these.
 */
import type { Client } from '@temporalio/client';
import type { Knex } from 'knex';
import type { CheckedRow } from '../imports';
import type { ReminderSettings } from '../../workflows/asset-lifecycle/contract';

export interface InventoryApplyDeps {
  db: Knex;
  temporal: Client;
  /** New hardware records get an asset, whose lifecycle workflow starts on this queue. */
  lifecycle: { taskQueue: string; reminders: ReminderSettings };
}

/** Judges rows `from` to `to` of an inventory batch as applying them would; reads only. */
export async function checkInventoryChunk(db: Knex, importId: string, from: number, to: number): Promise<CheckedRow[]> {
  throw new Error(`not built yet: checkInventoryChunk(${importId}, ${from}, ${to}) ${String(db)}`);
}

/**
 * Applies rows `from` to `to` in one transaction that stores each row's outcome (rows with an
 * outcome are not taken again), then, after the commit, starts what the chunk's outcomes call for
 * (lifecycle workflows of new assets, steward cases of held rows). Answers the batch's rows applied.
 */
export async function applyInventoryChunk(deps: InventoryApplyDeps, importId: string, from: number, to: number): Promise<number> {
  throw new Error(`not built yet: applyInventoryChunk(${importId}, ${from}, ${to}) ${String(deps)}`);
}
