import {
  ActivityFailure,
  ApplicationFailure,
  condition,
  proxyActivities,
  setHandler,
  workflowInfo,
} from '@temporalio/workflow';
import type { AttentionActivities } from '../../activities/attention';
import { cappedBackoffMs } from '../../domain/backoff';
import { ATTENTION_STEP } from '../activity-options';
import { AttentionFailure, retryStalledStepUpdate, type Attention, type AttentionSubject, type ClearAttentionInput, type StalledStepResult } from './contract';

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

/** However often a stalled step fails again, it is tried at least once an hour. */
const LONGEST_STALLED_WAIT_MS = 60 * 60_000;

/** One step that ran out of retries, as recorded; the runs of that step that wait on it. */
interface Stall {
  attention: Attention;
  /** The key it was reported with, which its clearing names. */
  key: string;
  /** Shared by runs of the step that stall while it is being reported, so it is reported once. */
  report: Promise<StalledStepResult>;
  holders: Set<number>;
}

/**
 * Keeps a workflow from being stuck silently. Each step it runs either goes through, or:
 * - bad data (a non-retryable failure) throws StepRefused, and the workflow ends the process with
 *   the reason;
 * - retries that ran out mark the step as needing attention (recorded, on the dashboard, the
 *   process owners emailed once), then the step is tried again after an interval that doubles
 *   with each failure, or at once on an operator's retry command, and the mark is cleared when it
 *   goes through.
 * Steps running side by side stall and clear each on its own; runs of one step at the same time
 * (a task email to each approver) share its stall, cleared when the last of them is done.
 * Update handlers do not use it: their caller is waiting, so they fail instead.
 */
export function attentionGuard(options: GuardOptions) {
  // Keys name the run too: a workflow that continued as new counts its stalls from 0 again.
  const { workflowId, runId } = workflowInfo();
  const subject = { workflowId, subjectType: options.subjectType, subjectId: options.subjectId };
  /** Open stalls by step, oldest first. */
  const stalls = new Map<string, Stall>();
  let retryCommands = 0;
  let reported = 0;
  let runs = 0;
  let refusals = 0;

  const oldest = (): Stall | undefined => stalls.values().next().value;

  setHandler(
    retryStalledStepUpdate,
    (_command) => {
      retryCommands += 1;
      return Promise.resolve({ step: oldest()?.attention.step ?? null });
    },
    {
      validator: (_command) => {
        if (stalls.size === 0) {
          throw ApplicationFailure.create({ type: AttentionFailure.nothingStalled, message: 'nothing in this process waits for a retry', nonRetryable: true });
        }
      },
    },
  );

  /**
   * Waits for the next try of a stalled step: reported (and the owners emailed) once per stall; a
   * retry that fails again only waits again, twice as long. True when an operator's retry woke it.
   */
  async function stall(run: number, step: string, reason: string, failures: number): Promise<boolean> {
    let current = stalls.get(step);
    if (!current) {
      reported += 1;
      const key = `${workflowId}:${runId}:attention:${reported}`;
      const report = activities.reportStalledStep({ ...subject, idempotencyKey: key, step, reason });
      current = { attention: { step, reason, since: new Date(Date.now()).toISOString(), retryAt: '' }, key, report, holders: new Set() };
      stalls.set(step, current);
    }
    current.holders.add(run);
    // Read before waiting for the report: the validator takes a retry from the moment the stall is known.
    const asked = retryCommands;
    const { retryInMs } = await current.report;
    const waitMs = cappedBackoffMs(failures, retryInMs, Math.max(retryInMs, LONGEST_STALLED_WAIT_MS));
    current.attention = { ...current.attention, reason, retryAt: new Date(Date.now() + waitMs).toISOString() };
    await condition(() => retryCommands !== asked || options.interrupted(), waitMs);
    return retryCommands !== asked;
  }

  /** A run of a stalled step is done with it; the stall is cleared when no other run of the step waits on it. */
  async function release(run: number, step: string, clearedBy: ClearAttentionInput['clearedBy']): Promise<void> {
    const current = stalls.get(step);
    if (!current?.holders.delete(run) || current.holders.size > 0) return;
    stalls.delete(step);
    await activities.clearStalledStep({ ...subject, idempotencyKey: `${current.key}:cleared`, stallKey: current.key, step, clearedBy });
  }

  return {
    /**
     * Runs one step of the workflow's own path. With `refusal: 'fail'` a refusal is rethrown as it
     * came (a submission the model refuses is never registered); with `interruptible: false` a
     * stalled step waits for its retry even when the process was cancelled (the steps that end it).
     */
    async run<T>(step: string, work: () => Promise<T>, how: { refusal?: 'end' | 'fail'; interruptible?: boolean } = {}): Promise<T> {
      const interruptible = how.interruptible ?? true;
      const run = ++runs;
      let failures = 0;
      let byOperator = false;
      for (;;) {
        try {
          const result = await work();
          await release(run, step, byOperator ? 'operator' : 'retry');
          return result;
        } catch (error) {
          const refusal = refusalOf(error);
          if (refusal) {
            await release(run, step, 'refused');
            if (how.refusal === 'fail') throw error;
            throw new StepRefused(step, refusal.message, error as ActivityFailure);
          }
          if (!ranOutOfRetries(error)) {
            await release(run, step, 'process ended');
            throw error;
          }
          if (interruptible && options.interrupted()) {
            await release(run, step, 'process ended');
            throw new StepInterrupted(step);
          }
          failures += 1;
          byOperator = await stall(run, step, lastFailureOf(error), failures);
          if (interruptible && options.interrupted()) {
            await release(run, step, 'process ended');
            throw new StepInterrupted(step);
          }
        }
      }
    },

    /** Tells the process owners that bad data ended the process, and how it ended. */
    async reportRefusal(refused: StepRefused, endedAs: string): Promise<void> {
      refusals += 1;
      await activities.reportRefusedStep({ ...subject, idempotencyKey: `${workflowId}:${runId}:refused:${refusals}`, step: refused.step, reason: refused.reason, endedAs });
    },

    /** The step waiting for attention longest, for the status query. */
    attention: (): Attention | null => oldest()?.attention ?? null,
  };
}

export type AttentionGuard = ReturnType<typeof attentionGuard>;
