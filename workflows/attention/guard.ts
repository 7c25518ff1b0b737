import {
  ActivityFailure,
  ApplicationFailure,
  condition,
  proxyActivities,
  setHandler,
  workflowInfo,
} from '@temporalio/workflow';
import type { AttentionActivities } from '../../activities/attention';
import { ATTENTION_STEP } from '../activity-options';
import { AttentionFailure, retryStalledStepUpdate, type Attention, type AttentionSubject } from './contract';

const activities = proxyActivities<AttentionActivities>(ATTENTION_STEP);

/** Bad data ended a step: no retry can take it, so the process ends with the reason. */
export class StepRefused extends Error {
  constructor(readonly step: string, readonly reason: string, readonly failure: ActivityFailure) {
    super(`${step}: ${reason}`);
    this.name = 'StepRefused';
  }
}

/** The process was cancelled or changed while a step waited for attention: it goes its other way. */
export class StepInterrupted extends Error {
  constructor(readonly step: string) {
    super(`${step} was interrupted while it waited for attention`);
    this.name = 'StepInterrupted';
  }
}

/** The failure an activity ended with, when the activity itself said no attempt can succeed. */
function refusalOf(error: unknown): ApplicationFailure | undefined {
  if (!(error instanceof ActivityFailure)) return undefined;
  const cause = error.cause;
  return cause instanceof ApplicationFailure && cause.nonRetryable ? cause : undefined;
}

/** An activity that used up its retries (or its timeouts): the cause may go away. */
function ranOutOfRetries(error: unknown): error is ActivityFailure {
  return error instanceof ActivityFailure && !refusalOf(error) && error.cause?.name !== 'CancelledFailure';
}

function lastFailureOf(error: ActivityFailure): string {
  const cause = error.cause;
  return `${error.activityType}: ${cause?.message || error.message}`;
}

export interface GuardOptions extends Omit<AttentionSubject, 'workflowId'> {
  /** True when the process was cancelled or changed: a stalled step stops waiting. */
  interrupted: () => boolean;
}

/**
 * Keeps a workflow from being stuck silently. Each step it runs either goes through, or:
 * - bad data (a non-retryable failure) throws StepRefused, and the workflow ends the process with
 *   the reason;
 * - retries that ran out mark the process as needing attention (recorded, on the dashboard, the
 *   process owners emailed once), then the step is tried again after an interval or at once on an
 *   operator's retry command, and the mark is cleared when it goes through.
 * Update handlers do not use it: their caller is waiting, so they fail instead.
 */
export function attentionGuard(options: GuardOptions) {
  const { workflowId } = workflowInfo();
  const subject = { workflowId, subjectType: options.subjectType, subjectId: options.subjectId };
  let attention: Attention | null = null;
  let retryAskedBy: string | null = null;
  let stalls = 0;
  let refusals = 0;

  setHandler(
    retryStalledStepUpdate,
    (command) => {
      retryAskedBy = command.actorEmail;
      return Promise.resolve({ step: attention?.step ?? null });
    },
    {
      validator: (_command) => {
        if (!attention) {
          throw ApplicationFailure.create({ type: AttentionFailure.nothingStalled, message: 'nothing in this process waits for a retry', nonRetryable: true });
        }
      },
    },
  );

  let retryInMs = 0;
  /** Reported (and the owners emailed) once per stall; a retry that fails again only waits again. */
  async function stall(step: string, reason: string): Promise<void> {
    if (attention?.step !== step) {
      stalls += 1;
      ({ retryInMs } = await activities.reportStalledStep({ ...subject, idempotencyKey: `${workflowId}:attention:${stalls}`, step, reason }));
      attention = { step, reason, since: new Date(Date.now()).toISOString(), retryAt: '' };
    }
    attention = { ...attention, reason, retryAt: new Date(Date.now() + retryInMs).toISOString() };
    retryAskedBy = null;
    await condition(() => retryAskedBy !== null || options.interrupted(), retryInMs);
  }

  async function clear(step: string, clearedBy: 'retry' | 'operator' | 'process ended'): Promise<void> {
    await activities.clearStalledStep({ ...subject, idempotencyKey: `${workflowId}:attention:${stalls}:cleared`, step, clearedBy });
    attention = null;
  }

  return {
    /**
     * Runs one step of the workflow's own path. With `refusal: 'fail'` a refusal is rethrown as it
     * came (a submission the model refuses is never registered); with `interruptible: false` a
     * stalled step waits for its retry even when the process was cancelled (the steps that end it).
     */
    async run<T>(step: string, work: () => Promise<T>, how: { refusal?: 'end' | 'fail'; interruptible?: boolean } = {}): Promise<T> {
      const interruptible = how.interruptible ?? true;
      for (;;) {
        try {
          const result = await work();
          if (attention) await clear(step, retryAskedBy ? 'operator' : 'retry');
          return result;
        } catch (error) {
          const refusal = refusalOf(error);
          if (refusal) {
            if (how.refusal === 'fail') throw error;
            throw new StepRefused(step, refusal.message, error as ActivityFailure);
          }
          if (!ranOutOfRetries(error)) throw error;
          if (interruptible && options.interrupted()) throw new StepInterrupted(step);
          await stall(step, lastFailureOf(error));
          if (interruptible && options.interrupted()) {
            await clear(step, 'process ended');
            throw new StepInterrupted(step);
          }
        }
      }
    },

    /** Tells the process owners that bad data ended the process, and how it ended. */
    async reportRefusal(refused: StepRefused, endedAs: string): Promise<void> {
      refusals += 1;
      await activities.reportRefusedStep({ ...subject, idempotencyKey: `${workflowId}:refused:${refusals}`, step: refused.step, reason: refused.reason, endedAs });
    },

    /** The step waiting for attention, for the status query. */
    attention: (): Attention | null => attention,
  };
}

export type AttentionGuard = ReturnType<typeof attentionGuard>;
