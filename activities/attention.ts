import type { Knex } from 'knex';
import type { AttentionSubject, ClearAttentionInput, RefusedStepInput, StalledStepInput, StalledStepResult } from '../workflows/attention/contract';
import { processOwners } from '../model/directory';
import { auditEntryOf, recordOnce } from './audit';
import { queueEmail } from './email';
import { pageLinks } from '../domain/web-links';

export interface AttentionActivityDeps {
  db: Knex;
  publicUrl: string;
  /** How long a step that ran out of retries waits before it is tried again on its own. */
  stalledStepRetryMs?: number;
}

const SYSTEM = 'system:process-attention';
const DEFAULT_RETRY_MS = 5 * 60_000;

/** The process as its index knows it; absent for a request whose row is not registered yet. */
async function processOf(db: Knex, workflowId: string) {
  return db('processes').where({ workflow_id: workflowId }).first('business_number', 'title');
}

/**
 * What a process owner hears about a step that could not be taken: a stalled one (retries ran
 * out, assetflow tries again) or a refused one (bad data ended the step and the process).
 */
export function createAttentionActivities({ db, publicUrl, stalledStepRetryMs = DEFAULT_RETRY_MS }: AttentionActivityDeps) {
  const links = pageLinks(publicUrl);
  async function tellProcessOwners(idempotencyKey: string, subject: AttentionSubject, headline: string, lines: string[]): Promise<void> {
    const { workflowId } = subject;
    const [process, owners] = await Promise.all([processOf(db, workflowId), processOwners(db)]);
    if (owners.length === 0) return;
    const name = process ? `${process.business_number} ${process.title}` : workflowId;
    await queueEmail(db, {
      idempotencyKey,
      template: 'process_attention',
      to: owners.map((o) => o.email),
      subject: `${headline}: ${name}`,
      text: ['Hello,', '', ...lines, '', `Process: ${links.process(workflowId)}`].join('\n'),
      subjectType: subject.subjectType,
      subjectId: subject.subjectId,
      workflowId: subject.workflowId,
    });
  }

  return {
    /** Records that a step ran out of retries (the process needs attention) and tells the process owners once. */
    async reportStalledStep(input: StalledStepInput): Promise<StalledStepResult> {
      const result = await recordOnce(
        db,
        auditEntryOf(input, SYSTEM, 'needs_attention', { step: input.step, reason: input.reason }),
        async (trx) => {
          // An open row of the same step can only be left by an earlier run (the workflow was
          // terminated or reset while it waited): the guard keeps one stall per step in a run.
          await trx('process_attention').where({ workflow_id: input.workflowId, step: input.step }).whereNull('cleared_at')
            .update({ cleared_at: trx.fn.now(), cleared_by: 'a later stall of the step' });
          await trx('process_attention').insert({ idempotency_key: input.idempotencyKey, workflow_id: input.workflowId, step: input.step, reason: input.reason });
          return { result: { retryInMs: stalledStepRetryMs } };
        },
      );
      await tellProcessOwners(`${input.idempotencyKey}:owners`, input, 'Needs attention', [
        `The step "${input.step}" could not be taken: its retries ran out.`,
        `Last failure: ${input.reason}`,
        '',
        `assetflow tries it again on its own in ${Math.round(result.retryInMs / 1000)} s, and after that until it goes through: fix the cause meanwhile.`,
        `Once it is fixed, a process owner can have it retried at once through the API (the processes retry operation, described at ${publicUrl}/docs).`,
      ]);
      return result;
    },

    /** Clears a stall once its step went through (or was refused, or the process ended); other stalled steps stay open. */
    async clearStalledStep(input: ClearAttentionInput): Promise<void> {
      await recordOnce(
        db,
        auditEntryOf(input, SYSTEM, 'attention_cleared', { step: input.step, clearedBy: input.clearedBy }),
        async (trx) => {
          await trx('process_attention').where({ idempotency_key: input.stallKey }).whereNull('cleared_at')
            .update({ cleared_at: trx.fn.now(), cleared_by: input.clearedBy });
          return { result: null };
        },
      );
    },

    /** Tells the process owners that bad data ended a step, and why; the workflow records the ending itself. */
    async reportRefusedStep(input: RefusedStepInput): Promise<void> {
      await tellProcessOwners(input.idempotencyKey, input, 'Ended by bad data', [
        `The step "${input.step}" failed in a way no retry can mend, so the process ended as ${input.endedAs}.`,
        `Reason: ${input.reason}`,
        '',
        'Correct the data (e.g. catalogue prices, master data) before it is submitted again.',
      ]);
    },
  };
}

export type AttentionActivities = ReturnType<typeof createAttentionActivities>;
