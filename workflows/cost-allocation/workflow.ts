import type { CostAllocationInput, CostAllocationOutcome } from './contract';

/** Scaffolding of issue 17: built next. */
export async function costAllocationWorkflow(_input: CostAllocationInput): Promise<CostAllocationOutcome> {
  throw new Error('costAllocationWorkflow is not built yet');
}
