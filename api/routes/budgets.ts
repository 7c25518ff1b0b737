/**
 * Budgets watched (issue 17): every cost centre's month against its budget, and a run of the budget
 * watch on demand. The FinOps page (api/web/finops-pages.ts) shows the same lines.
 */
import { randomUUID } from 'node:crypto';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { WorkflowFailedError } from '@temporalio/client';
import { stringify } from 'csv-stringify';
import type { Request, Response } from 'express';
import { z } from 'zod';
import type { Role } from '../../domain/directory';
import { periodAt, periodSpan, shiftPeriod } from '../../domain/months';
import { budgetLineBatches, budgetLinePage, type BudgetLine } from '../../model/budget-watch';
import type { Database } from '../../platform/database';
import { BUDGET_PERIOD, budgetWatchRunId, type BudgetWatchOutcome } from '../../workflows/budget-watch/contract';
import type { budgetWatchWorkflow } from '../../workflows/budget-watch/workflow';
import { budgetPeriodsToWatch } from '../../workflows/cost-import/contract';
import { OVERSEERS } from '../auth';
import type { AppDeps } from '../app';
import { badRequest, conflict } from '../errors';
import { pageQuery } from '../pagination';
import type { RouteRegistry } from '../routes-registry';
import { commandWithinDeadline, startWithinDeadline } from '../workflow-calls';

/** Who may run the watch on demand: those who answer for the processes. */
export const BUDGET_WATCH_RUNNERS: readonly Role[] = ['process_owner', 'admin'];

export const budgetPeriod = z.string().trim().regex(BUDGET_PERIOD, 'a month as YYYY-MM, e.g. 2032-05');

export const budgetsQuery = pageQuery.extend({
  period: budgetPeriod.optional().describe('the month, YYYY-MM; this month (UTC) when left out'),
  format: z.enum(['json', 'csv']).default('json').describe('json: a page of cost centres (limit, offset); csv: all of them'),
});

const CSV_COLUMNS = [
  'period', 'cost_centre_code', 'cost_centre_name', 'owner_email', 'currency', 'budget_minor', 'actual_minor', 'committed_minor',
  'remaining_minor', 'share_used_percent', 'alert_80_sent_at', 'alert_100_sent_at',
] as const;

function csvRow(period: string, line: BudgetLine): Record<(typeof CSV_COLUMNS)[number], string | number | null> {
  const sentAt = (threshold: number) => line.alerts.find((a) => a.threshold === threshold)?.sentAt ?? null;
  return {
    period,
    cost_centre_code: line.costCentre.code,
    cost_centre_name: line.costCentre.name,
    owner_email: line.owner?.email ?? null,
    currency: line.currency,
    budget_minor: line.budgetMinor,
    actual_minor: line.actualMinor,
    committed_minor: line.committedMinor,
    remaining_minor: line.remainingMinor,
    share_used_percent: line.shareUsedPercent,
    alert_80_sent_at: sentAt(80),
    alert_100_sent_at: sentAt(100),
  };
}

/**
 * Streams the month as CSV, a batch of cost centres at a time. The first batch is read before
 * anything is sent, so that a database that cannot answer is a 503 like anywhere else.
 */
export async function sendBudgetsCsv(req: Request, res: Response, db: Database, period: string): Promise<void> {
  const batches = budgetLineBatches(db, period);
  const first = await batches.next();
  async function* rows() {
    if (first.done) return;
    for (const line of first.value) yield csvRow(period, line);
    for await (const batch of batches) for (const line of batch) yield csvRow(period, line);
  }
  res.status(200).type('text/csv').set('Content-Disposition', `attachment; filename="budgets-${period}.csv"`);
  try {
    await pipeline(Readable.from(rows()), stringify({ header: true, columns: [...CSV_COLUMNS] }), res);
  } catch (error) {
    if (!res.headersSent) throw error;
    req.log.warn({ err: error }, 'budgets export cut short');
    // Never a clean end: the client must see the file as cut, not as all the cost centres.
    res.destroy(error as Error);
  }
}

/**
 * Refuses a month the watch is not run for on demand: the months a cost import charging that month
 * would watch (budgetPeriodsToWatch: this month and the last, UTC). An older month's alerts would
 * tell owners of spend they can no longer act on.
 */
export function refuseUnwatchedPeriod(period: string, now: Date): void {
  const month = periodSpan(period);
  if (month && budgetPeriodsToWatch({ start: month.start, end: month.next }, now).includes(period)) return;
  const current = periodAt(now, 'UTC');
  throw badRequest(
    `the budget watch runs on demand for this month (${current}) or the last (${shiftPeriod(current, -1)}) only, as after a cost import, not for ${period}: `
      + 'alerts for another month would tell owners of spend they can no longer act on; GET /finops/budgets shows any month',
    { period, watched: [shiftPeriod(current, -1), current] },
  );
}

/** Runs the budget watch for a month now and answers its outcome within the command deadline. */
export async function runBudgetWatch(deps: Pick<AppDeps, 'temporal' | 'taskQueue'>, period: string | undefined): Promise<BudgetWatchOutcome & { workflowId: string }> {
  const { temporal, taskQueue } = deps;
  const workflowId = budgetWatchRunId(randomUUID());
  const handle = await startWithinDeadline(temporal, () =>
    temporal.workflow.start<typeof budgetWatchWorkflow>('budgetWatchWorkflow', { workflowId, taskQueue, args: [period ? { period } : {}] }));
  try {
    const outcome = await commandWithinDeadline(temporal, 'running the budget watch', () => handle.result(),
      `the run ${workflowId} goes on, and what it sends is sent once whatever happens: read GET /finops/budgets for the alerts sent`);
    return { workflowId, ...outcome };
  } catch (error) {
    if (error instanceof WorkflowFailedError) {
      throw conflict('budget_watch_failed', `the budget watch run ${workflowId} failed: ${error.cause?.message ?? error.message}; the alerts it sent stay sent, and the next run tries the rest`);
    }
    throw error;
  }
}

export function registerBudgetRoutes(routes: RouteRegistry, deps: AppDeps): void {
  routes.add(
    {
      method: 'get', path: '/finops/budgets', tag: 'finops', access: OVERSEERS,
      summary: 'Every cost centre\'s month, a page in code order: budget, actual (cost records charged in the month at their billed cost, as invoiced: purchases count when bought; GET /finops/allocations/:period has the accrual view), committed (open orders less received), remaining and share used in whole percent, in the budget\'s currency, with the 80% and 100% alerts sent and when; ?format=csv for a file of every cost centre',
      query: budgetsQuery,
      responses: { 200: 'the month\'s lines (JSON), or the CSV file', 400: 'bad period', 401: 'no or bad API key', 403: 'not allowed' },
    },
    async ({ query, req, res }) => {
      const period = query.period ?? periodAt(new Date(), 'UTC');
      if (query.format === 'csv') {
        await sendBudgetsCsv(req, res, deps.db, period);
        return undefined;
      }
      return { period, ...(await budgetLinePage(deps.db, period, { limit: query.limit, offset: query.offset })) };
    },
  );

  routes.add(
    {
      method: 'post', path: '/finops/budget-watch/run', tag: 'finops', access: BUDGET_WATCH_RUNNERS,
      summary: 'Run the budget watch now for this month or the last (UTC; this month when no period is given): each cost centre\'s owner is emailed at 80% and at 100% of budget, once each per month, however often it runs',
      body: z.object({ period: budgetPeriod.optional().describe('the month, YYYY-MM: this month or the last') }).strict(),
      responses: {
        200: 'the run\'s outcome: cost centres with a budget looked at, alerts this run sent', 400: 'bad period, or a month other than this one or the last', 401: 'no or bad API key',
        403: 'not a process owner or admin', 409: 'the run failed (its reason)', 503: 'the workflow service cannot be reached', 504: 'the run did not finish in time (it goes on)',
      },
    },
    async ({ body }) => {
      if (body.period) refuseUnwatchedPeriod(body.period, new Date());
      return runBudgetWatch(deps, body.period);
    },
  );
}
