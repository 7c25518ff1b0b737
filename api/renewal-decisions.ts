import type { Client } from '@temporalio/client';
import type { Knex } from 'knex';
import { isUniqueViolation } from '../platform/database';
import type { ApprovalTimingSettings } from '../platform/config';
import { findContractToRenew, openRenewalDecision, openedByRequest, recordRenewalWorkflow, type OpenedRenewal } from '../model/renewal-decisions';
import { businessNumberKey, processStateKey, processTypeKey } from '../workflows/search-attributes';
import { RENEWAL_PROCESS, renewalDecisionWorkflowId, type RenewalDecisionInput } from '../workflows/renewal-decision/contract';
import { conflict, notFound } from './errors';
import { startWithinDeadline } from './workflow-calls';

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

/** Starts a decision's workflow (the running one wins) and records its id on the decision. */
async function startWorkflow(deps: RenewalDecisionDeps, opened: OpenedRenewal): Promise<string> {
  const workflowId = renewalDecisionWorkflowId(opened.number);
  const input: RenewalDecisionInput = { renewalId: opened.renewalId, number: opened.number, timings: deps.approvalTimings.normal };
  await startWithinDeadline(deps.temporal, () => deps.temporal.workflow.start('renewalDecisionWorkflow', {
    workflowId,
    taskQueue: deps.taskQueue,
    workflowIdConflictPolicy: 'USE_EXISTING',
    args: [input],
    typedSearchAttributes: [
      { key: processTypeKey, value: RENEWAL_PROCESS },
      { key: processStateKey, value: 'open' },
      { key: businessNumberKey, value: opened.number },
    ],
  }));
  await recordRenewalWorkflow(deps.db, opened.renewalId, workflowId);
  return workflowId;
}

/**
 * Opens a renewal decision for a contract and starts its workflow (within a deadline), or answers the
 * open one of that contract (created false). The same request repeated (its idempotency key) answers
 * as the first did. A start that does not go through answers 503 and leaves the decision open without
 * a workflow, as a steward case whose start failed: the retry (with the same key), or any later
 * request for the contract, starts it; until then it is in no process list.
 */
export async function startRenewalDecision(deps: RenewalDecisionDeps, request: RenewalDecisionRequest): Promise<{ number: string; workflowId: string; created: boolean }> {
  const { db } = deps;
  const key = { idempotencyKey: request.idempotencyKey, requestedById: request.requestedBy.id, requestedByEmail: request.requestedBy.email };
  let opened = await openedByRequest(db, key);
  if (!opened) {
    const contract = await findContractToRenew(db, request.contractId);
    if (!contract) throw notFound(`no contract ${request.contractId}`);
    if (contract.retiredAt) throw conflict('contract_retired', `${contract.number} is retired: there is nothing to renew`);
    try {
      opened = await openRenewalDecision(db, contract, request.findingId ?? null, key);
    } catch (error) {
      // The same request sent twice at once: the first one's answer is the answer.
      if (!isUniqueViolation(error, 'audit_log_idempotency_unique')) throw error;
      opened = await openedByRequest(db, key);
      if (!opened) throw error;
    }
  }
  const workflowId = opened.workflowId ?? (await startWorkflow(deps, opened));
  return { number: opened.number, workflowId, created: opened.created };
}
