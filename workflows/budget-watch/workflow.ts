import type { BudgetWatchInput, BudgetWatchOutcome } from './contract';

/** Scaffolding of issue 17: built next. */
export async function budgetWatchWorkflow(_input: BudgetWatchInput): Promise<BudgetWatchOutcome> {
  throw new Error('budgetWatchWorkflow is not built yet');
}
