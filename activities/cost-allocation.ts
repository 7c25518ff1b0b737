import { ApplicationFailure, Context } from '@temporalio/activity';
import type { Knex } from 'knex';
import { AllocationRuleCycle, allocationPeriod, parseDecimal, shareOut, totalsByCategory } from '../domain/cost-allocation';
import { completeRun, costRecordTotals, directAllocationRows, lockMonth, readAllocationSources, replaceMonth, runOutcomeByKey, sameTotals } from '../model/cost-allocation';
import type { AllocateMonthInput, CostAllocationOutcome } from '../workflows/cost-allocation/contract';

/** Failure types of the allocation a workflow (and a person reading it) can tell apart. */
export const COST_ALLOCATION_FAILURES = {
  badPeriod: 'AllocationPeriodInvalid',
  ruleCycle: 'AllocationRuleCycle',
  doesNotReconcile: 'AllocationDoesNotReconcile',
} as const;

function beat(): void {
  try {
    Context.current().heartbeat();
  } catch {
    // Called outside an activity (a script): nobody to tell.
  }
}

/** The monthly allocation's one activity. */
export function createCostAllocationActivities({ db }: { db: Knex }) {
  return {
    /**
     * Allocates the month in one transaction: the month's lock first (two runs of a month take
     * turns, so the second replaces the first's rows and nothing is doubled), then the run this key
     * completed is answered as it was; otherwise the sources are read, the direct rows split by the
     * allocation rules, the month's rows replaced, and the totals compared: what was written must
     * add up to what the sources hold, to the last decimal place, per category and currency.
     */
    async allocateMonth(input: AllocateMonthInput): Promise<CostAllocationOutcome> {
      const period = allocationPeriod(input.period);
      if (!period) throw ApplicationFailure.create({ type: COST_ALLOCATION_FAILURES.badPeriod, message: `${input.period} is not a month (YYYY-MM)`, nonRetryable: true });
      return db.transaction(async (trx) => {
        await lockMonth(trx, period);
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
        // The cost records' totals straight from the records, not from the groups the rows were made of.
        const sourceTotals = totalsByCategory([...direct.sourceTotals, ...(await costRecordTotals(trx, period))]
          .map((total) => ({ ...total, amount: parseDecimal(total.amount)! })));
        const { runId, allocatedTotals } = await replaceMonth(trx, { period, idempotencyKey: input.idempotencyKey, workflowId: input.workflowId, rows, beat });
        if (!sameTotals(sourceTotals, allocatedTotals)) {
          // Not bad data: every split is exact by construction, so a difference is a bug in the
          // allocation. Nothing is written (the transaction rolls back) and no retry can fix it.
          throw ApplicationFailure.create({
            type: COST_ALLOCATION_FAILURES.doesNotReconcile,
            message: `the allocation of ${period.period} does not add up to its sources: a bug, nothing was written`,
            nonRetryable: true,
            details: [{ sourceTotals, allocatedTotals }],
          });
        }
        return completeRun(trx, { runId, idempotencyKey: input.idempotencyKey, workflowId: input.workflowId, allocations: rows.length, sourceTotals, allocatedTotals });
      });
    },
  };
}

export type CostAllocationActivities = ReturnType<typeof createCostAllocationActivities>;
