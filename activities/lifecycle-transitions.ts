import { ApplicationFailure } from '@temporalio/activity';
import { WithStartWorkflowOperation, WorkflowNotFoundError, WorkflowUpdateFailedError, type Client } from '@temporalio/client';
import type { Asset } from '../model/assets';
import {
  LifecycleFailure, assetLifecycleWorkflowId, endOfTermDatesChangedSignal, transitionUpdate, type EndOfTermDatesChange, type ReminderSettings,
} from '../workflows/asset-lifecycle/contract';
import { lifecycleStartOptions } from '../workflows/asset-lifecycle/start';

export interface LifecycleTransitionResult {
  assetId: string;
  ok: boolean;
  message: string;
}

function refusalOf(error: unknown): string | undefined {
  if (!(error instanceof WorkflowUpdateFailedError)) return undefined;
  let cause: unknown = error.cause;
  while (cause instanceof Error && !(cause instanceof ApplicationFailure)) cause = cause.cause;
  // Besides a guard's refusal, anything the asset's workflow refuses for good (an asset gone, one
  // changed elsewhere) is an answer too: thrown, it would be retried by the caller for ever.
  return cause instanceof ApplicationFailure && (cause.type === LifecycleFailure.transitionRefused || cause.nonRetryable) ? cause.message : undefined;
}

/**
 * Moves an asset through its lifecycle workflow on behalf of another process (a change, a
 * receipt), the same path and guards as the API. The request id is the update id, so a retried
 * activity is answered from the first attempt; a refusal is returned, not thrown.
 */
export async function runLifecycleTransition(
  temporal: Client,
  settings: { taskQueue: string; reminders: ReminderSettings },
  asset: Asset,
  move: { toState: string; toSubstate: string | null; note: string; actor: string; requestId: string },
): Promise<LifecycleTransitionResult> {
  try {
    await temporal.workflow.executeUpdateWithStart(transitionUpdate, {
      args: [{
        toState: move.toState as never,
        toSubstate: (move.toSubstate ?? undefined) as never,
        note: move.note,
        requestedBy: move.actor,
        requestId: move.requestId,
      }],
      updateId: move.requestId,
      startWorkflowOperation: new WithStartWorkflowOperation('assetLifecycleWorkflow', lifecycleStartOptions(asset, settings)),
    });
    return { assetId: asset.id, ok: true, message: `${asset.assetTag} moved to ${move.toState}${move.toSubstate ? `/${move.toSubstate}` : ''}` };
  } catch (error) {
    const refusal = refusalOf(error);
    if (!refusal) throw error;
    return { assetId: asset.id, ok: false, message: `${asset.assetTag}: ${refusal}` };
  }
}

/**
 * Tells an asset's running lifecycle workflow its warranty and lease end as now stored. An asset
 * whose workflow is not running is not told: its workflow reads the row when it starts.
 */
export async function tellEndOfTermDates(temporal: Client, assetTag: string, change: EndOfTermDatesChange): Promise<void> {
  try {
    await temporal.workflow.getHandle(assetLifecycleWorkflowId(assetTag)).signal(endOfTermDatesChangedSignal, change);
  } catch (error) {
    if (!(error instanceof WorkflowNotFoundError)) throw error;
  }
}
