import {
  ActivityFailure,
  ApplicationFailure,
  allHandlersFinished,
  condition,
  getExternalWorkflowHandle,
  proxyActivities,
  setHandler,
  workflowInfo,
} from '@temporalio/workflow';
import type { PeopleActivities } from '../../activities/people';
import { ATTENTION_STEP, DATABASE_STEP } from '../activity-options';
import { approverDeactivatedSignal } from '../approvals/contract';
import { PersonDeactivationFailure, deactivateUpdate, type HandoverSummary, type PersonDeactivationInput } from './contract';

const activities = proxyActivities<PeopleActivities>(DATABASE_STEP);

/**
 * A handover step past its bounded retries, and the records that say so: tried until it goes
 * through, at most 30 s apart, like saying a process needs attention. Nobody waits on it.
 */
const untilThrough = proxyActivities<PeopleActivities>(ATTENTION_STEP);

/** How long a run started without its `deactivate` update (never by the API) waits for one before it ends. */
const WAITS_FOR_A_COMMAND_MS = 60_000;

/**
 * How a signal fails when its workflow has completed or never ran: sdk-core names the failure by
 * the server's cause. Any other failure of a signal is not the workflow being gone.
 */
const WORKFLOW_NOT_FOUND = 'ExternalWorkflowExecutionNotFound';

/** The refusal an activity failed with, as the update's own failure, so the API can answer it. */
function refusalOf(error: unknown): ApplicationFailure | undefined {
  const cause = error instanceof ActivityFailure ? error.cause : undefined;
  return cause instanceof ApplicationFailure && cause.type === PersonDeactivationFailure.refused ? cause : undefined;
}

/** An activity that used up its retries (or its timeouts): the cause may go away. */
function ranOutOfRetries(error: unknown): error is ActivityFailure {
  return error instanceof ActivityFailure && !(error.cause instanceof ApplicationFailure && error.cause.nonRetryable);
}

/**
 * Deactivates a person and moves their open approvals. The `deactivate` update ends their access in
 * one transaction and answers the API; then every workflow holding one of their open approvals is
 * told (approverDeactivated), and moves it to their delegate, manager or a process owner itself.
 * A deactivation sent again (an inactive person) runs the handover again, so a lost one is finished.
 */
export async function personDeactivationWorkflow(input: PersonDeactivationInput): Promise<HandoverSummary> {
  const { workflowId, runId } = workflowInfo();
  const summary: HandoverSummary = { workflowsSignalled: 0, approvalsUnreachable: 0 };
  let received = 0;
  let running = 0;
  let handoverDue = false;
  let stalls = 0;

  setHandler(deactivateUpdate, async (command) => {
    received += 1;
    running += 1;
    try {
      const outcome = await activities.deactivatePerson({
        ...command,
        idempotencyKey: `${workflowId}:deactivate:${command.requestId}`,
        workflowId,
        personId: input.personId,
      });
      handoverDue = true;
      return outcome;
    } catch (error) {
      throw refusalOf(error) ?? error;
    } finally {
      running -= 1;
    }
  });

  /**
   * Runs one step of the handover. Past its bounded retries it is not given up: the person is
   * deactivated already, and their approvals would wait for nobody. This workflow has no process
   * row, so the attention guard's list entry and retry command would not reach it: the stall is
   * recorded on the person and the process owners emailed once, and the step is tried until it
   * goes through, which is recorded too.
   */
  async function untilDone<T>(step: string, work: (steps: typeof activities) => Promise<T>): Promise<T> {
    try {
      return await work(activities);
    } catch (error) {
      if (!ranOutOfRetries(error)) throw error;
      stalls += 1;
      const stall = { idempotencyKey: `${workflowId}:${runId}:attention:${stalls}`, workflowId, personId: input.personId, step };
      await untilThrough.reportHandoverStalled({ ...stall, reason: `${error.activityType}: ${error.cause?.message || error.message}` });
      const result = await work(untilThrough);
      await untilThrough.clearHandoverStall({ ...stall, idempotencyKey: `${stall.idempotencyKey}:cleared` });
      return result;
    }
  }

  async function handOver(): Promise<void> {
    const open = await untilDone('find their open approvals', (steps) => steps.openApprovalsOf({ personId: input.personId }));
    const byWorkflow = new Map<string, string[]>();
    for (const { approvalId, workflowId: holder } of open) byWorkflow.set(holder, [...(byWorkflow.get(holder) ?? []), approvalId]);
    for (const [holder, approvalIds] of byWorkflow) {
      try {
        await getExternalWorkflowHandle(holder).signal(approverDeactivatedSignal, { personId: input.personId });
        summary.workflowsSignalled += 1;
      } catch (error) {
        if (!(error instanceof ApplicationFailure && error.type === WORKFLOW_NOT_FOUND)) throw error;
        // Its workflow has ended (or never ran): the approval is closed already or orphaned. Recorded, not retried.
        const reason = error.message;
        for (const approvalId of approvalIds) {
          await untilDone('record an approval nobody can move', (steps) => steps.recordUnreachableApproval({
            idempotencyKey: `${workflowId}:approval:${approvalId}:unreachable`, personId: input.personId, approvalId, reason,
          }));
          summary.approvalsUnreachable += 1;
        }
      }
    }
  }

  for (;;) {
    // Until every deactivation sent has been answered; a refused one leaves nothing to hand over.
    await condition(() => handoverDue || (received > 0 && running === 0), WAITS_FOR_A_COMMAND_MS);
    if (handoverDue) {
      handoverDue = false;
      await handOver();
      continue;
    }
    // A deactivation accepted meanwhile is answered, and its handover run, before the workflow ends. No timer is
    // needed: the only handler waits on one DATABASE_STEP activity, bounded by its timeouts and attempts.
    await condition(allHandlersFinished);
    if (!handoverDue) return summary;
  }
}
