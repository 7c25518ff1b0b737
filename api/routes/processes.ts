import type { Client } from '@temporalio/client';
import { z } from 'zod';
import { PROCESS_KINDS } from '../../domain/processes';
import { approvalsOf } from '../../model/approvals';
import { findCostCentreByCode } from '../../model/directory';
import {
  PROCESS_SORTS,
  findProcess,
  listProcesses,
  processDashboard,
  processState,
  processTimeline,
  type ProcessFilters,
} from '../../model/processes';
import type { Database } from '../../platform/database';
import type { ProcessStateWatcher } from '../../platform/process-state-watcher';
import { lifecycleStatusQuery } from '../../workflows/asset-lifecycle/contract';
import { changeStatusQuery } from '../../workflows/change-request/contract';
import { purchaseStatusQuery } from '../../workflows/purchase-request/contract';
import { stewardCaseStatusQuery } from '../../workflows/steward-case/contract';
import { renewalDecisionStatusQuery } from '../../workflows/renewal-decision/contract';
import { retryStalledStepUpdate } from '../../workflows/attention/contract';
import { OVERSEERS, hasAnyRole, maySeeRequest, type Principal } from '../auth';
import { badRequest, forbidden, notFound, serviceUnavailable } from '../errors';
import { pageQuery } from '../pagination';
import type { RouteRegistry } from '../routes-registry';
import { commandRequestId } from '../idempotency';
import { nudgeProcess, reassignProcessApproval } from '../process-owner-actions';
import { commandWithinDeadline, liveStatusWithinDeadline } from '../workflow-calls';

const flag = z.enum(['true', 'false']).transform((v) => v === 'true');

export const listProcessesQuery = pageQuery.extend({
  type: z.enum(PROCESS_KINDS).optional(),
  state: z.string().trim().min(1).max(40).optional(),
  requester: z.uuid().optional().describe('person id of the requester'),
  waitingFor: z.uuid().optional().describe('person id of an approver the process waits for'),
  minAgeDays: z.coerce.number().int().min(0).max(3650).optional().describe('started at least this many days ago'),
  slaBreached: flag.optional(),
  open: flag.optional().describe('true: not finished; false: finished'),
  costCentre: z.string().trim().min(1).max(32).optional().describe('cost centre code'),
  service: z.uuid().optional().describe('id of a business service a change reaches'),
  q: z.string().trim().min(1).max(100).optional().describe('business number prefix or words of the title'),
  needsAttention: flag.optional().describe('true: a step ran out of retries and waits to be tried again; false: none'),
  sort: z.enum(PROCESS_SORTS).default('newest'),
});

const STATUS_QUERIES = {
  change: changeStatusQuery,
  procurement: purchaseStatusQuery,
  asset_lifecycle: lifecycleStatusQuery,
  reconciliation: stewardCaseStatusQuery,
  renewal: renewalDecisionStatusQuery,
} as const;

/** The filters a person may use: process owners and asset managers see all, others what they asked for or must decide. */
export async function processFiltersFor(db: Database, principal: Principal, query: z.output<typeof listProcessesQuery>): Promise<ProcessFilters> {
  const filters: ProcessFilters = {
    type: query.type,
    state: query.state,
    requesterId: query.requester,
    waitingForId: query.waitingFor,
    minAgeDays: query.minAgeDays,
    slaBreached: query.slaBreached,
    open: query.open,
    serviceId: query.service,
    q: query.q,
    needsAttention: query.needsAttention,
  };
  if (query.costCentre) {
    const costCentre = await findCostCentreByCode(db, query.costCentre);
    if (!costCentre) throw badRequest(`costCentre: no cost centre ${query.costCentre}`, [{ path: 'costCentre', message: 'unknown cost centre' }]);
    filters.costCentreId = costCentre.id;
  }
  if (!hasAnyRole(principal, OVERSEERS)) {
    const asked = query.requester ?? (query.waitingFor ? undefined : principal.id);
    if (asked && asked !== principal.id) throw forbidden('you can list the processes you requested or must decide');
    if (query.waitingFor && query.waitingFor !== principal.id) throw forbidden('you can list the processes waiting for you');
    filters.requesterId = asked;
  }
  return filters;
}

const processQuery = z.object({
  waitFor: z
    .string().trim().regex(/^[a-z_]+(,[a-z_]+)*$/, 'comma-separated states, e.g. implement,closed').optional()
    .describe('answer once the process is in one of these states (include the final one, e.g. implement,closed), or after waitSeconds'),
  waitSeconds: z.coerce.number().int().min(1).max(60).default(20).describe('how long waitFor may hold the request (the API holds it 30 s at most: ask again)'),
});

/** What moving a pending approval asks for; the process page checks its form with it too. */
export const reassignApprovalBody = z.object({
  toPersonId: z.uuid('choose the person who takes the approval over').describe('the active person who takes the approval over'),
  reason: z.string().trim()
    .min(1, 'say why the approval moves: it is kept in the audit log')
    .max(500, 'say why in at most 500 characters')
    .describe('why it moves, kept in the audit log'),
});

export function registerProcessRoutes(routes: RouteRegistry, { db, temporal, processStates }: { db: Database; temporal: Client; processStates: ProcessStateWatcher }): void {
  routes.add(
    {
      method: 'get', path: '/processes', tag: 'processes', access: 'authenticated',
      summary: 'Every change, purchase and asset lifecycle, filtered and sorted: state, who it waits for and since when, SLA',
      query: listProcessesQuery,
      responses: { 200: 'a page of processes', 400: 'bad filter', 403: 'someone else\'s processes' },
    },
    async ({ query, principal }) => listProcesses(db, await processFiltersFor(db, principal, query), query),
  );

  routes.add(
    {
      method: 'get', path: '/processes/dashboard', tag: 'processes', access: ['process_owner', 'asset_manager', 'admin'],
      summary: 'Counts by type and state, SLA breaches, ageing of open processes and weekly throughput',
      query: z.object({ weeks: z.coerce.number().int().min(1).max(52).default(8) }),
      responses: { 200: 'the dashboard figures' },
    },
    async ({ query }) => processDashboard(db, query.weeks),
  );

  routes.add(
    {
      method: 'get', path: '/processes/:workflowId', tag: 'processes', access: 'authenticated',
      summary: 'One process: its row, the live state from the workflow, the approvals and the timeline of events and emails; waitFor holds the answer until it reaches a state',
      params: z.object({ workflowId: z.string().min(3).max(100).describe('e.g. change:CHG0001001, purchase:PR0001001, asset:AST0001001') }),
      query: processQuery,
      responses: {
        200: 'the process', 400: 'bad waitFor', 403: 'not yours to see', 404: 'no such process',
        503: 'waitFor: as many requests as this API holds are waiting already; ask again after Retry-After',
      },
    },
    async ({ params, query, principal }) => {
      let process = await findProcess(db, params.workflowId);
      if (!process) throw notFound(`no process ${params.workflowId}`);
      let approvals = await approvalsOf(db, process.subjectId);
      const approverIds = approvals.map((a) => a.approver.id);
      if (!(await maySeeRequest(db, principal, { subjectId: process.subjectId, requesterId: process.requester?.id ?? null }, approverIds))) throw forbidden('you can see the processes you requested or must decide');
      const states = query.waitFor?.split(',');
      if (states && !states.includes(process.state)) {
        const { workflowId } = process;
        const waited = await processStates.waitFor(workflowId, states, query.waitSeconds * 1000, () => processState(db, workflowId));
        // Answering at once with a state not asked for would have the caller ask again at once: it waits instead.
        if (waited === 'refused') throw serviceUnavailable('too many requests are waiting for a process state on this API; ask again shortly', 2);
        process = (await findProcess(db, workflowId))!;
        approvals = await approvalsOf(db, process.subjectId);
      }
      const [live, timeline] = await Promise.all([
        liveStatusWithinDeadline(temporal, () => temporal.workflow.getHandle(process!.workflowId).query(STATUS_QUERIES[process!.process] as never)),
        processTimeline(db, process.workflowId, process.subjectId),
      ]);
      return { process, live: live.status, ...(live.statusUnavailable ? { liveUnavailable: live.statusUnavailable } : {}), approvals, timeline };
    },
  );

  routes.add(
    {
      method: 'post', path: '/processes/:workflowId/retry', tag: 'processes', access: ['process_owner', 'admin'],
      summary: 'Try again at once the step of a process that needs attention (its retries ran out), once its cause is fixed',
      params: z.object({ workflowId: z.string().min(3).max(100).describe('e.g. change:CHG0001001, purchase:PR0001001') }),
      responses: { 200: 'the step is being tried again', 404: 'no such process', 409: 'nothing in the process waits for a retry, or it has finished' },
    },
    async ({ params, principal }) => {
      const process = await findProcess(db, params.workflowId);
      if (!process) throw notFound(`no process ${params.workflowId}`);
      return commandWithinDeadline(temporal, 'retrying the stalled step', () =>
        temporal.workflow.getHandle(process.workflowId).executeUpdate(retryStalledStepUpdate, { args: [{ actorEmail: principal.email }] }));
    },
  );

  const workflowIdParam = z.string().min(3).max(100).describe('e.g. change:CHG0001001, purchase:PR0001001');

  routes.add(
    {
      method: 'post', path: '/processes/:workflowId/nudge', tag: 'processes', access: ['process_owner', 'admin'],
      summary: 'Remind every approver the process waits for: their task email is sent again, marked as a reminder (send an Idempotency-Key to send it once)',
      params: z.object({ workflowId: workflowIdParam }),
      responses: { 200: 'who was reminded', 404: 'no such process', 409: 'no approval of the process waits for anyone' },
    },
    async ({ params, principal, req }) =>
      nudgeProcess(db, temporal, params.workflowId, principal, await commandRequestId(db, principal.id, req, `nudge:${params.workflowId}`)),
  );

  routes.add(
    {
      method: 'post', path: '/processes/:workflowId/approvals/:approvalId/reassign', tag: 'processes', access: ['process_owner', 'admin'],
      summary: 'Move a pending approval to another active person (never the requester, nor someone already asked in the step), saying why; they get the task email',
      params: z.object({ workflowId: workflowIdParam, approvalId: z.uuid() }),
      body: reassignApprovalBody,
      responses: {
        200: 'the approval moved; the new approval\'s id', 400: 'bad body, or nobody has that id', 403: 'the person chosen requested the process',
        404: 'no such process or approval', 409: 'the approval is not pending, or the person is inactive or already asked in the step',
      },
    },
    async ({ params, body, principal, req }) =>
      reassignProcessApproval(db, temporal, params.workflowId, { approvalId: params.approvalId, ...body! }, principal,
        await commandRequestId(db, principal.id, req, `reassign:${params.approvalId}`)),
  );
}
