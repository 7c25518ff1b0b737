import type { CostImportInput, CostImportOutcome } from './contract';

/** Scaffolding of issue 17: built next. */
export async function costImportWorkflow(_input: CostImportInput): Promise<CostImportOutcome> {
  throw new Error('costImportWorkflow is not built yet');
}
