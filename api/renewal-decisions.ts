import { ApplicationFailure } from '@temporalio/common';
import { WorkflowUpdateFailedError, type Client } from '@temporalio/client';
import type { Knex } from 'knex';
import { isUniqueViolation } from '../platform/database';
import type { ApprovalTimingSettings } from '../platform/config';
import {
  cancelOpenDecision,
  findContractToRenew,
  openRenewalDecision,
  openedByRequest,
  recordRenewalWorkflow,
  type OpenedRenewal,
  type RenewalDecisionDetail,
} from '../model/renewal-decisions';
import { businessNumberKey, processStateKey, processTypeKey } from '../workflows/search-attributes';
import {
  RENEWAL_PROCESS,
  RENEWAL_REFUSED,
  cancelRenewalUpdate,
  renewalDecisionWorkflowId,
  type RenewalDecisionInput,
  type RenewalDecisionState,
} from '../workflows/renewal-decision/contract';
import { conflict, notFound } from './errors';
import { commandWithinDeadline, startWithinDeadline } from './workflow-calls';

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
 * Opens a renewal decision for the latest term of a contract and starts its workflow (within a
 * deadline), or answers the open one of that contract (created false). 409 outside the term's notice
 * period, or when the term was decided already. The same request repeated (its idempotency key) answers
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
      const answer = await openRenewalDecision(db, contract, request.findingId ?? null, key);
      if ('refused' in answer) throw conflict(answer.refused, answer.message);
      opened = answer;
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

/** The message of the workflow's refusal to withdraw (decided already, being carried out), if that is why the update failed. */
function withdrawalRefusal(error: unknown): string | undefined {
  let cause: unknown = error instanceof WorkflowUpdateFailedError ? error.cause : undefined;
  while (cause instanceof Error && !(cause instanceof ApplicationFailure)) cause = cause.cause;
  return cause instanceof ApplicationFailure && cause.type === RENEWAL_REFUSED ? cause.message : undefined;
}

/**
 * Withdraws an open decision (process owners and admins): its workflow cancels the open approvals,
 * leaves the contract as it is and opens its finding again. A decision whose workflow was never
 * started is cancelled here. 409 when it was decided already or its decision is being carried out.
 * The state after: cancelled, or still open when a step of the workflow waits for attention.
 */
export async function withdrawRenewalDecision(
  deps: Pick<RenewalDecisionDeps, 'db' | 'temporal'>, found: RenewalDecisionDetail, by: { id: string; email: string; reason: string; requestId: string },
): Promise<{ number: string; state: RenewalDecisionState }> {
  const decided = () => conflict('renewal_decided', `${found.number} is ${found.state.replace('_', ' ')} already; nothing was changed`);
  if (found.state !== 'open') throw decided();
  const reason = `withdrawn by ${by.email}: ${by.reason}`;
  if (!found.workflowId) {
    const state = await deps.db.transaction(async (trx) => {
      const after = await cancelOpenDecision(trx, found.id, { actorId: by.id, reason });
      if (after === 'cancelled') {
        await trx('audit_log').insert({
          idempotency_key: `renewal-withdrawn:${found.id}`, actor: by.email, subject_type: 'contract_renewal', subject_id: found.id,
          action: 'cancelled', from_state: 'open', to_state: 'cancelled', details: { reason },
        });
      }
      return after;
    });
    if (state !== 'cancelled') throw conflict('renewal_decided', `${found.number} is ${String(state).replace('_', ' ')} already; nothing was changed`);
    return { number: found.number, state };
  }
  const workflowId = found.workflowId;
  try {
    const status = await commandWithinDeadline(deps.temporal, `withdrawing ${found.number}`, () => deps.temporal.workflow.getHandle(workflowId)
      .executeUpdate(cancelRenewalUpdate, { args: [{ actorId: by.id, actorEmail: by.email, reason: by.reason, requestId: by.requestId }], updateId: by.requestId }));
    return { number: found.number, state: status.state };
  } catch (error) {
    const refusal = withdrawalRefusal(error);
    if (refusal) throw conflict('renewal_decided', refusal);
    throw error;
  }
}
