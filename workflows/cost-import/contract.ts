/**
 * A cloud bill in FOCUS, as the API, the workflow, the activities and the tests see it. The API
 * reads the file (DuckDB, so a file of a million rows is never whole in the Node heap), checks each
 * row with domain/focus.ts, stages the rows that pass in cost_import_rows and the refused ones in
 * cost_import_refusals, then starts this workflow, which writes the staged rows as cost records:
 * cloud resources become CIs, tags allocate the cost, and a newer file of the same provider,
 * billing account and billing period replaces the records of the older one.
 */
import { defineQuery } from '@temporalio/workflow';
import { periodOf } from '../../domain/months';

export const costImportWorkflowId = (importId: string) => `cost-import:${importId}`;

export const COST_IMPORT_STATES = ['staging', 'staged', 'applying', 'completed', 'failed'] as const;
export type CostImportState = (typeof COST_IMPORT_STATES)[number];

export interface CostImportInput {
  importId: string;
}

/** Per provider and currency: the rows written and their costs, exact decimal text (every place kept). */
export interface CostTotal {
  provider: string;
  currency: string;
  rows: number;
  billedCost: string;
  effectiveCost: string;
}

export interface CostImportOutcome {
  state: Extract<CostImportState, 'completed' | 'failed'>;
  rowsImported: number;
  rowsRefused: number;
  totals: CostTotal[];
  message: string | null;
}

export interface CostImportProgress {
  importId: string;
  state: CostImportState;
  attention: { step: string; reason: string; since: string; retryAt: string } | null;
}

export const costImportProgressQuery = defineQuery<CostImportProgress>('progress');

/** Activity inputs: each carries the key its writes are idempotent by. */
export interface ApplyCostImportInput {
  idempotencyKey: string;
  importId: string;
  workflowId: string;
}

/** What writing the staged rows gave: the outcome, and the span of the charge periods written (ISO), none when nothing was. */
export interface AppliedCostImport {
  outcome: CostImportOutcome;
  chargePeriod: { start: string; end: string } | null;
}

export interface FinishCostImportInput {
  idempotencyKey: string;
  importId: string;
  workflowId: string;
  state: CostImportOutcome['state'];
  message?: string;
}

export const CostImportFailure = {
  importNotFound: 'CostImportNotFound',
  /** The import ended failed before it was applied (the intake gave it up): nothing is written. */
  importAbandoned: 'CostImportAbandoned',
} as const;

/**
 * The months (YYYY-MM, UTC) whose budgets an import may have moved and are still worth an alert:
 * the current and the previous month, each when the import's charge periods touch it. A bill of an
 * older month tells nobody anything they can still act on.
 */
export function budgetPeriodsToWatch(chargePeriod: AppliedCostImport['chargePeriod'], now: Date): string[] {
  if (!chargePeriod) return [];
  const current = Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), 1);
  const previous = Date.UTC(now.getUTCFullYear(), now.getUTCMonth() - 1, 1);
  const start = Date.parse(chargePeriod.start);
  const end = Date.parse(chargePeriod.end);
  return [[previous, current], [current, Date.UTC(now.getUTCFullYear(), now.getUTCMonth() + 1, 1)]]
    .filter(([from, to]) => start < to && end > from)
    .map(([from]) => periodOf(new Date(from)));
}
