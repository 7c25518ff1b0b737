import type { RenewalDecisionInput, RenewalDecisionResult } from './contract';

/** Scaffolding of issue 17: built next. */
export async function renewalDecisionWorkflow(_input: RenewalDecisionInput): Promise<RenewalDecisionResult> {
  throw new Error('renewalDecisionWorkflow is not built yet');
}
