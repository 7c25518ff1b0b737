import { ApplicationFailure } from '@temporalio/activity';
import type { Knex } from 'knex';
import {
  applyStagedCostImport,
  chargePeriodOf,
  failUnwrittenCostImport,
  findCostImportRecord,
  lockCostImport,
  markCostImportApplying,
  outcomeOf,
} from '../model/cost-import-apply';
import {
  CostImportFailure,
  type AppliedCostImport,
  type ApplyCostImportInput,
  type CostImportOutcome,
  type FinishCostImportInput,
} from '../workflows/cost-import/contract';
import { recordOnce } from './audit';

const SYSTEM = 'system:cost-import';

const noSuchImport = (importId: string) =>
  ApplicationFailure.create({ type: CostImportFailure.importNotFound, message: `no cost import ${importId}`, nonRetryable: true });

/** The steps of a cloud bill's import once its rows are staged: write them all, then end it. */
export function createCostImportActivities({ db }: { db: Knex }) {
  return {
    /**
     * Writes the staged rows as cost records in one transaction (cloud resources as CIs, tags
     * allocating, the scopes replaced, the totals), with its audit row: a rerun with the key, or
     * after the import completed with any key, answers what was written and writes nothing.
     */
    async applyCostImport(input: ApplyCostImportInput): Promise<AppliedCostImport> {
      await markCostImportApplying(db, input.importId);
      return recordOnce(
        db,
        { idempotencyKey: input.idempotencyKey, actor: SYSTEM, subjectType: 'cost_import', subjectId: input.importId, action: 'cost_import_applied', workflowId: input.workflowId },
        async (trx) => {
          const current = await lockCostImport(trx, input.importId);
          if (!current) throw noSuchImport(input.importId);
          if (current.state === 'completed') return { result: { outcome: outcomeOf(current), chargePeriod: await chargePeriodOf(trx, input.importId) } };
          if (current.state === 'failed') {
            throw ApplicationFailure.create({
              type: CostImportFailure.importAbandoned, message: current.message ?? 'the import ended before it was applied', nonRetryable: true,
            });
          }
          // Still staging: the intake has not committed its rows yet, which a retry waits for.
          if (current.state === 'staging') throw new Error(`cost import ${input.importId} is still being staged`);
          const { resourcesCreated, recordsReplaced, ...applied } = await applyStagedCostImport(trx, input.importId);
          return { result: applied, details: { resourcesCreated, recordsReplaced, rowsImported: applied.outcome.rowsImported } };
        },
      );
    },

    /** Ends the import: a completed one answers its outcome; one that could not be applied ends failed with the reason, its staged rows dropped. */
    async finishCostImport(input: FinishCostImportInput): Promise<CostImportOutcome> {
      if (input.state === 'completed') {
        const record = await findCostImportRecord(db, input.importId);
        if (!record) throw noSuchImport(input.importId);
        return outcomeOf(record);
      }
      return recordOnce(
        db,
        { idempotencyKey: input.idempotencyKey, actor: SYSTEM, subjectType: 'cost_import', subjectId: input.importId, action: 'cost_import_failed', workflowId: input.workflowId },
        async (trx) => {
          const record = await failUnwrittenCostImport(trx, input.importId, input.message ?? 'the import could not be applied');
          if (!record) throw noSuchImport(input.importId);
          return { result: outcomeOf(record), details: { message: record.message } };
        },
      );
    },
  };
}

export type CostImportActivities = ReturnType<typeof createCostImportActivities>;
