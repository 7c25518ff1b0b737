/**
 * Runs an inventory batch in a test the way the intake does, without HTTP: stages the rows and
 * starts the import workflow, then waits for its outcome. Rows are the parsed records (as a JSON
 * line would give them).
 */
import type { InventorySource } from '../../domain/reconciliation';
import type { OnInvalidRows } from '../../domain/master-data';
import { findImport, importRowsPage, insertImport, setImportStarted, stageImportRows, type ImportRowReport, type ImportSummary } from '../../model/imports';
import type { Row } from '../../model/master-data/kind';
import { importWorkflowId, type ImportOutcome, type MasterDataImportInput } from '../../workflows/master-data-import/contract';
import type { Stack } from './stack';

export interface TestBatch {
  source: InventorySource;
  rows: Row[];
  /** When the source saw what the rows report (ISO); now when absent. */
  observedAt?: string;
  dryRun?: boolean;
  onInvalidRows?: OnInvalidRows;
  batchKey?: string;
  requestedById: string;
}

export interface TestBatchResult {
  importId: string;
  outcome: ImportOutcome;
  summary: ImportSummary;
  /** Every row's report, in file order. */
  rows: ImportRowReport[];
}

/** Starts a batch and answers its id and workflow id without waiting. */
export async function startInventoryBatch(stack: Stack, batch: TestBatch): Promise<{ importId: string; workflowId: string }> {
  const db = stack.database.db;
  const onInvalidRows = batch.onInvalidRows ?? 'skip_rows';
  const importId = await insertImport(db, {
    kind: 'inventory', format: 'jsonl', fileName: null, dryRun: batch.dryRun ?? false, onInvalidRows, requestedById: batch.requestedById,
    inventory: { source: batch.source, batchKey: batch.batchKey ?? null, observedAt: batch.observedAt ?? new Date().toISOString() },
  });
  await stageImportRows(db, importId, batch.rows.map((record, at) => ({ rowNumber: at + 1, record, problems: [] })));
  const workflowId = importWorkflowId(importId);
  await setImportStarted(db, importId, batch.rows.length, workflowId);
  const input: MasterDataImportInput = { importId, kind: 'inventory', dryRun: batch.dryRun ?? false, onInvalidRows, rowsTotal: batch.rows.length };
  await stack.env.client.workflow.start('masterDataImportWorkflow', { workflowId, taskQueue: stack.taskQueue, args: [input] });
  return { importId, workflowId };
}

/** Runs a batch to its end and answers its outcome, summary and row report. */
export async function runInventoryBatch(stack: Stack, batch: TestBatch): Promise<TestBatchResult> {
  const { importId, workflowId } = await startInventoryBatch(stack, batch);
  const outcome = await stack.env.client.workflow.getHandle(workflowId).result() as ImportOutcome;
  return { importId, outcome, ...(await batchReport(stack, importId)) };
}

/** A batch's summary and every row's report. */
export async function batchReport(stack: Stack, importId: string): Promise<{ summary: ImportSummary; rows: ImportRowReport[] }> {
  const db = stack.database.db;
  const summary = (await findImport(db, importId))!;
  const rows: ImportRowReport[] = [];
  for (let offset = 0; ; offset += 500) {
    const page = await importRowsPage(db, importId, {}, { limit: 500, offset });
    rows.push(...page.items);
    if (page.items.length < 500) break;
  }
  return { summary, rows };
}
