import type { Client } from '@temporalio/client';
import type { Knex } from 'knex';
import type { ApprovalTimingSettings } from '../platform/config';

export interface RenewalDecisionDeps {
  db: Knex;
  temporal: Client;
  taskQueue: string;
  approvalTimings: ApprovalTimingSettings;
}

export interface RenewalDecisionRequest {
  contractId: string;
  /** The finding acted upon, when a finding asked for it. */
  findingId?: string;
  requestedBy: { id: string; email: string };
  idempotencyKey: string;
}

/**
 * Opens a renewal decision for a contract and starts its workflow (within a deadline), or answers the
 * open one of that contract. Scaffolding of issue 17: built next.
 */
export async function startRenewalDecision(_deps: RenewalDecisionDeps, _request: RenewalDecisionRequest): Promise<{ number: string; workflowId: string; created: boolean }> {
  throw new Error('startRenewalDecision is not built yet');
}
