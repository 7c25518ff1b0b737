/**
 * A bulk import of master data, as the API, the workflow, the activities and the tests see it: the
 * workflow id (one per import), its input, the progress query, the activity inputs with their
 * idempotency keys, and the failure types. The file is staged in import_rows before the workflow
 * starts; the workflow only ever names rows by number.
 */
import { defineQuery } from '@temporalio/workflow';
import type { ImportKind, ImportState, OnInvalidRows, RowCounts } from '../../domain/master-data';

export const importWorkflowId = (importId: string) => `import:${importId}`;

/** Rows per activity: a chunk is checked, or applied in one transaction, at a time. */
export const IMPORT_CHUNK_ROWS = 1_000;

export interface MasterDataImportInput {
  importId: string;
  kind: ImportKind;
  dryRun: boolean;
  onInvalidRows: OnInvalidRows;
  rowsTotal: number;
  /**
   * Where a run that continued as new takes up the work, and the rows applied so far (so the
   * progress does not go back to 0); absent for the first run.
   */
  resume?: { pass: 'check' | 'apply'; from: number; rowsApplied?: number };
}

export interface ImportProgress {
  importId: string;
  state: ImportState;
  rowsTotal: number;
  rowsChecked: number;
  rowsApplied: number;
  /** A step that ran out of retries and waits to be tried again. */
  attention: { step: string; reason: string; since: string; retryAt: string } | null;
}

export const importProgressQuery = defineQuery<ImportProgress>('progress');

// Activity inputs: each carries the key its writes are idempotent by.

/** Rows `from` to `to` (row numbers, both included) of an import. */
export interface ImportChunkInput {
  idempotencyKey: string;
  importId: string;
  kind: ImportKind;
  from: number;
  to: number;
}

export interface ImportChunkResult {
  /** The import's rows checked (or applied) so far, all chunks together. */
  rowsDone: number;
}

export interface CloseCheckInput {
  idempotencyKey: string;
  importId: string;
  kind: ImportKind;
  dryRun: boolean;
  onInvalidRows: OnInvalidRows;
}

export interface CloseCheckResult {
  /** Rows by verdict, once every row is checked (a key named twice in the file refused). */
  counts: RowCounts;
  /** What the import does next (domain/master-data.ts afterCheck). */
  next: 'previewed' | 'refused' | 'apply';
}

export type ImportFinalState = Extract<ImportState, 'previewed' | 'completed' | 'refused' | 'failed'>;

export interface FinishImportInput {
  idempotencyKey: string;
  importId: string;
  workflowId: string;
  state: ImportFinalState;
  /** Why it failed, in words; a refused import's message is written from its counts. */
  message?: string;
}

export interface ImportOutcome {
  state: ImportFinalState;
  counts: RowCounts;
  message: string | null;
}

export const ImportFailure = {
  /** The import row the workflow was started for is not there. */
  importNotFound: 'ImportNotFound',
  /**
   * The import was marked failed before its check began (the API could not tell whether its start
   * reached Temporal): a start that arrives after all writes nothing.
   */
  importAbandoned: 'ImportAbandoned',
} as const;
