/**
 * Data steward cases: records that may be one thing, held from a batch for a person. A case is
 * remembered by its records (pair key): the same records are not asked about again while a case is
 * open, nor after a steward kept them apart or ignored it. Built by the steward helper; the batch
 * engine calls these.
 */
import type { Client } from '@temporalio/client';
import type { Knex } from 'knex';
import type { Row } from '../master-data/kind';

export interface NewStewardCase {
  ciIds: string[];
  reason: string;
  importId: string;
  rowNumber: number;
  row: Row;
}

/** Opens a case for these records in the caller's transaction, or answers the one that has them already. */
export async function openStewardCase(trx: Knex.Transaction, values: NewStewardCase): Promise<{ caseId: string; caseNumber: string; state: string }> {
  throw new Error(`not built yet: openStewardCase(${values.ciIds.join(',')}) ${String(trx)}`);
}

/**
 * Starts the steward workflow of every open case rows `from` to `to` of an import opened; after
 * the chunk's commit, and again harmlessly on a retry (the workflow id is the case's).
 */
export async function startStewardCaseWorkflows(db: Knex, temporal: Client, taskQueue: string, importId: string, from: number, to: number): Promise<void> {
  throw new Error(`not built yet: startStewardCaseWorkflows(${importId}, ${from}, ${to}, ${taskQueue}) ${String(db)} ${String(temporal)}`);
}

/** Of the pair keys of cases among these records, those a steward settled as kept apart or ignored. */
export async function settledPairKeys(db: Knex, ciIds: readonly string[]): Promise<Set<string>> {
  throw new Error(`not built yet: settledPairKeys(${ciIds.length}) ${String(db)}`);
}
