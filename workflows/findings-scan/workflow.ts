import type { FindingsScanInput, FindingsScanOutcome } from './contract';

/** Scaffolding of issue 17: built next. */
export async function findingsScanWorkflow(_input: FindingsScanInput): Promise<FindingsScanOutcome> {
  throw new Error('findingsScanWorkflow is not built yet');
}
