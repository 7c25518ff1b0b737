import { ApplicationFailure, Context } from '@temporalio/activity';
import type { Knex } from 'knex';
import { AllocationRuleCycle, parseDecimal, shareOut, totalsByCategory } from '../domain/cost-allocation';
import { isInvalidData, reasonOf } from '../domain/failure-classes';
import { periodSpan } from '../domain/months';
import {
  ALLOCATION_ISOLATION, completeRun, costRecordTotals, directAllocationRows, lockAllocations, readAllocationSources, recordFailedRun, replaceMonth, runOutcomeByKey, sameTotals,
} from '../model/cost-allocation';
import type { AllocateMonthInput, CostAllocationOutcome } from '../workflows/cost-allocation/contract';

/** Failure types of the allocation a workflow (and a person reading it) can tell apart. */
export const COST_ALLOCATION_FAILURES = {
  badPeriod: 'AllocationPeriodInvalid',
  ruleCycle: 'AllocationRuleCycle',
  doesNotReconcile: 'AllocationDoesNotReconcile',
  badSource: 'AllocationSourceInvalid',
} as const;

function beat(): void {
  try {
    Context.current().heartbeat();
  } catch {
    // Called outside an activity (a script): nobody to tell.
  }
}

/**
 * What ends a run for good, with the reason a person reads: the failures this activity raises as
 * final, and bad data in a source (a term past 9999, a value Postgres refuses). Anything else (a
 * connection lost, a serialization failure of the repeatable read) is retried and not recorded.
 */
function finalFailure(error: unknown): ApplicationFailure | undefined {
  if (error instanceof ApplicationFailure) return error.nonRetryable ? error : undefined;
  if (isInvalidData(error)) return ApplicationFailure.create({ type: COST_ALLOCATION_FAILURES.badSource, message: reasonOf(error), nonRetryable: true, cause: error });
  return undefined;
}

/** The monthly allocation's one activity. */
export function createCostAllocationActivities({ db }: { db: Knex }) {
  return {
    /**
     * Allocates the month in one repeatable read transaction: the allocation lock first (two runs
     * take turns, so the second replaces the first's rows and nothing is doubled), then the run this
     * key completed is answered as it was; otherwise the sources are read from one snapshot, the
     * direct rows split by the allocation rules, the month's rows replaced, and the totals compared:
     * what was written must add up to what the sources hold, to the last decimal place, per category
     * and currency. A run refused for good is recorded as failed, with its reason, on its own.
     */
    async allocateMonth(input: AllocateMonthInput): Promise<CostAllocationOutcome> {
      const period = periodSpan(input.period);
      if (!period) throw ApplicationFailure.create({ type: COST_ALLOCATION_FAILURES.badPeriod, message: `${input.period} is not a month (YYYY-MM)`, nonRetryable: true });
      try {
        return await db.transaction(async (trx) => {
          await lockAllocations(trx);
          const earlier = await runOutcomeByKey(trx, input.idempotencyKey);
          if (earlier) return earlier;
          const sources = await readAllocationSources(trx, period);
          beat();
          const direct = directAllocationRows(sources, period);
          let rows;
          try {
            rows = shareOut(direct.rows, sources.rules, { everyCostCentreId: sources.everyCostCentreId, headcount: sources.headcount });
          } catch (error) {
            // The rules as people set them go round: no retry changes that, a person must.
            if (error instanceof AllocationRuleCycle) throw ApplicationFailure.create({ type: COST_ALLOCATION_FAILURES.ruleCycle, message: error.message, nonRetryable: true, details: [error.rules] });
            throw error;
          }
          // The cost records' totals straight from the records, not from the groups the rows were made
          // of; the same snapshot, so a cost import committed meanwhile is in neither.
          const sourceTotals = totalsByCategory([...direct.sourceTotals, ...(await costRecordTotals(trx, period))]
            .map((total) => ({ ...total, amount: parseDecimal(total.amount)! })));
          const { runId, allocatedTotals } = await replaceMonth(trx, { period, idempotencyKey: input.idempotencyKey, workflowId: input.workflowId, rows, beat });
          if (!sameTotals(sourceTotals, allocatedTotals)) {
            // Not bad data: every split is exact by construction and every read is of one snapshot,
            // so a difference is a bug in the allocation. Nothing is written (the transaction rolls
            // back) and no retry can fix it.
            throw ApplicationFailure.create({
              type: COST_ALLOCATION_FAILURES.doesNotReconcile,
              message: `the allocation of ${period.period} does not add up to its sources: a bug, nothing was written`,
              nonRetryable: true,
              details: [{ sourceTotals, allocatedTotals }],
            });
          }
          return completeRun(trx, { runId, idempotencyKey: input.idempotencyKey, workflowId: input.workflowId, allocations: rows.length, sourceTotals, allocatedTotals });
        }, { isolationLevel: ALLOCATION_ISOLATION });
      } catch (error) {
        const final = finalFailure(error);
        if (!final) throw error;
        await recordFailedRun(db, { period, idempotencyKey: input.idempotencyKey, workflowId: input.workflowId, message: final.message });
        throw final;
      }
    },
  };
}

export type CostAllocationActivities = ReturnType<typeof createCostAllocationActivities>;
