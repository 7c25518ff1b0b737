/**
 * The monthly cost allocation in the API: run a month (the same workflow the schedule starts, one
 * at a time per month), read a month's latest run per cost centre, business service and what no
 * cost centre holds (JSON or CSV), and keep the allocation rules that split shared cost centres.
 */
import { once } from 'node:events';
import { ActivityFailure, ApplicationFailure, WorkflowFailedError, type Client } from '@temporalio/client';
import { stringify } from 'csv-stringify';
import { z } from 'zod';
import { ALLOCATION_METHODS } from '../../domain/cost-allocation';
import { periodSpan, type PeriodSpan } from '../../domain/months';
import {
  ALLOCATION_CSV_COLUMNS,
  AllocationRuleRefused,
  deleteAllocationRule,
  listAllocationRules,
  monthAllocation,
  monthAllocationRows,
  saveAllocationRule,
} from '../../model/cost-allocation';
import { costAllocationWorkflowId, type CostAllocationOutcome } from '../../workflows/cost-allocation/contract';
import { OVERSEERS } from '../auth';
import type { AppDeps } from '../app';
import { expectedVersions, setETag, versionsOf } from '../concurrency';
import { badRequest, conflict, HttpError, notFound, preconditionRequired, versionMismatch } from '../errors';
import type { RouteRegistry } from '../routes-registry';
import { commandWithinDeadline, startWithinDeadline } from '../workflow-calls';

/** Who runs a month again and keeps the rules; the overseers read. */
export const ALLOCATION_RUNNERS = ['process_owner', 'admin'] as const;

export const periodParams = z.strictObject({
  period: z.string().transform((text, ctx) => {
    const period = periodSpan(text);
    if (!period) {
      ctx.addIssue({ code: 'custom', message: 'a month as YYYY-MM (2000 to 2199)' });
      return z.NEVER;
    }
    return period;
  }).describe('the month, YYYY-MM'),
});

const ruleName = z.strictObject({ name: z.string().trim().min(1).max(100) });

const costCentreCode = z.string().trim().min(1).max(32);

export const allocationRuleBody = z.strictObject({
  method: z.enum(ALLOCATION_METHODS).describe('even: one share each; headcount: by active people; usage: by the targets\' own direct costs of the same category and currency'),
  pool: costCentreCode.describe('the code of the shared cost centre whose costs are split'),
  targets: z.array(costCentreCode).max(500).default([]).describe('codes of the cost centres it is split onto; none: every other cost centre that is not itself a pool'),
  active: z.boolean().default(true).describe('false keeps the rule without applying it'),
});

export type AllocationRunAnswer = { state: 'completed'; outcome: CostAllocationOutcome } | { state: 'running'; workflowId: string; period: string };

/**
 * Runs the month's allocation: one workflow per month at a time (its id is the month's), so a run
 * asked for while one runs answers that one; once it has finished, a new run replaces the month.
 * Waits for the outcome within the command deadline; past it, answers that it is running.
 */
export async function runAllocation(deps: { temporal: Client; taskQueue: string }, period: PeriodSpan): Promise<AllocationRunAnswer> {
  const workflowId = costAllocationWorkflowId(period.period);
  const handle = await startWithinDeadline(deps.temporal, () => deps.temporal.workflow.start('costAllocationWorkflow', {
    taskQueue: deps.taskQueue,
    workflowId,
    args: [{ period: period.period }],
    workflowIdReusePolicy: 'ALLOW_DUPLICATE',
    workflowIdConflictPolicy: 'USE_EXISTING',
  }));
  try {
    const outcome = await commandWithinDeadline(deps.temporal, `the allocation of ${period.period}`, () => handle.result() as Promise<CostAllocationOutcome>);
    return { state: 'completed', outcome };
  } catch (error) {
    if (error instanceof HttpError && error.status === 504) return { state: 'running', workflowId, period: period.period };
    if (error instanceof WorkflowFailedError) {
      // The activity's own failure says why (a cycle of rules), not the wrapper around it.
      const cause: Error | undefined = error.cause instanceof ActivityFailure ? error.cause.cause ?? error.cause : error.cause;
      const type = cause instanceof ApplicationFailure ? cause.type : cause?.name;
      throw conflict('allocation_failed', `the allocation of ${period.period} failed: ${cause?.message ?? error.message}`, { workflowId, failure: type });
    }
    throw error;
  }
}

function ruleRefusal(error: unknown): unknown {
  if (!(error instanceof AllocationRuleRefused)) return error;
  const refusal = error.refusal;
  switch (refusal.rule) {
    case 'version_mismatch': return versionMismatch(refusal.currentVersion, refusal.message);
    case 'version_required': return preconditionRequired(refusal.message);
    case 'unknown_cost_centre': return badRequest(refusal.message, refusal.codes.map((code) => ({ path: 'targets', message: `no cost centre has the code ${code}` })));
    case 'retired_cost_centre': return badRequest(refusal.message, refusal.codes.map((code) => ({ path: 'targets', message: `the cost centre ${code} is retired` })));
    case 'pool_is_target': return badRequest(refusal.message, [{ path: 'targets', message: refusal.message }]);
    case 'pool_has_rule':
    case 'rule_exists': return conflict(refusal.rule, refusal.message);
  }
}

export function registerCostAllocationRoutes(routes: RouteRegistry, deps: AppDeps): void {
  const { db } = deps;

  routes.add(
    {
      method: 'post', path: '/finops/allocations/:period/run', tag: 'finops', access: ALLOCATION_RUNNERS,
      summary: 'Allocate a month (again): its rows are replaced, never doubled; one run per month at a time (a run asked for while one runs answers that one)',
      params: periodParams,
      responses: { 200: 'the run\'s outcome: source and allocated totals per category and currency, equal to the last place', 202: 'still running: the workflow id', 400: 'not a month', 401: 'no or bad API key', 403: 'not a process owner or admin', 409: 'the run failed (a cycle of allocation rules)', 503: 'Temporal cannot be reached' },
    },
    async ({ params, res }) => {
      const answer = await runAllocation(deps, params.period);
      if (answer.state === 'running') res.status(202);
      return answer;
    },
  );

  routes.add(
    {
      method: 'get', path: '/finops/allocations/:period', tag: 'finops', access: OVERSEERS,
      summary: 'The month\'s latest run (completed, or failed with its reason) and its latest completed allocation: totals per category and currency, per cost centre (direct and shared), per business service, and what no cost centre holds; ?format=csv: every row',
      params: periodParams,
      query: z.strictObject({ format: z.enum(['json', 'csv']).default('json') }),
      responses: { 200: 'the month\'s allocation (run null when no run completed: latestRun says why), or its rows as CSV', 400: 'not a month', 401: 'no or bad API key', 403: 'not allowed', 404: 'the month was never run' },
    },
    async ({ params, query, req, res }) => {
      const month = await monthAllocation(db, params.period);
      if (!month) throw notFound(`${params.period.period} has not been allocated: run it first`);
      if (query.format === 'json') return month;
      if (!month.run) throw notFound(`${params.period.period} has no completed allocation: its latest run failed: ${month.latestRun.message ?? 'no reason recorded'}`);
      res.status(200).type('text/csv').set('Content-Disposition', `attachment; filename="allocation-${params.period.period}.csv"`);
      const csv = stringify({ header: true, columns: [...ALLOCATION_CSV_COLUMNS] });
      csv.pipe(res);
      try {
        for await (const batch of monthAllocationRows(db, params.period)) {
          for (const row of batch) if (!csv.write(row)) await once(csv, 'drain');
        }
      } catch (error) {
        csv.unpipe(res);
        if (!res.headersSent) throw error;
        // Part of the file went out: only a connection cut short tells the reader it is not whole
        // (a normal end would pass a part for the whole month).
        req.log.warn({ err: error }, 'allocation export cut short');
        res.destroy(error instanceof Error ? error : new Error(String(error)));
        return undefined;
      }
      csv.end();
      await once(res, 'finish');
      return undefined;
    },
  );

  routes.add(
    {
      method: 'get', path: '/finops/allocation-rules', tag: 'finops', access: OVERSEERS,
      summary: 'The rules that split shared cost centres, with their version',
      responses: { 200: 'the rules', 401: 'no or bad API key', 403: 'not allowed' },
    },
    async () => ({ items: await listAllocationRules(db) }),
  );

  routes.add(
    {
      method: 'put', path: '/finops/allocation-rules/:name', tag: 'finops', access: ALLOCATION_RUNNERS,
      summary: 'Create a rule (no If-Match) or change it (If-Match: the version read); active: false keeps it without applying it',
      params: ruleName,
      body: allocationRuleBody,
      responses: { 200: 'changed', 201: 'created', 400: 'bad body, unknown or retired cost centre', 401: 'no or bad API key', 403: 'not a process owner or admin', 409: 'the pool has another rule (pool_has_rule), or the rule was created meanwhile (rule_exists)', 412: 'changed since read', 428: 'the rule exists: If-Match needed' },
    },
    async ({ params, body, principal, req, res }) => {
      const ifMatch = req.get('if-match')?.trim();
      const versions = ifMatch ? versionsOf(ifMatch) : undefined;
      const saved = await saveAllocationRule(db, params.name, body, versions, principal.email).catch((error: unknown) => { throw ruleRefusal(error); });
      setETag(res, saved.rule.version);
      res.status(saved.created ? 201 : 200);
      return saved.rule;
    },
  );

  routes.add(
    {
      method: 'delete', path: '/finops/allocation-rules/:name', tag: 'finops', access: ALLOCATION_RUNNERS,
      summary: 'Delete a rule (If-Match: the version read); months already allocated keep their rows',
      params: ruleName,
      responses: { 204: 'deleted', 401: 'no or bad API key', 403: 'not a process owner or admin', 404: 'no such rule', 412: 'changed since read', 428: 'If-Match needed' },
    },
    async ({ params, principal, req, res }) => {
      const deleted = await deleteAllocationRule(db, params.name, expectedVersions(req), principal.email).catch((error: unknown) => { throw ruleRefusal(error); });
      if (!deleted) throw notFound(`no allocation rule is named ${params.name}`);
      res.status(204).end();
      return undefined;
    },
  );
}
