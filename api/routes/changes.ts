import type { Client } from '@temporalio/client';
import type { Request } from 'express';
import { z } from 'zod';
import { ASSET_STATES, IN_STOCK_SUBSTATES, RETIREMENT_REASONS } from '../../domain/asset-lifecycle';
import { CHANGE_TYPES } from '../../domain/change-impact';
import { CHANGE_STATES } from '../../domain/change-request';
import { amountBeyondBound } from '../../domain/money';
import { segregationRefusal } from '../../domain/segregation';
import { findApproval } from '../../model/approvals';
import {
  changeDetail,
  findActiveChangeModel,
  findChangeRow,
  listChanges,
  reserveChangeNumber,
  unknownScopeReferences,
  type ChangeRow,
} from '../../model/changes';
import { findCostCentreByCode } from '../../model/directory';
import { listChangeModelRecords } from '../../model/process-settings';
import type { ApprovalTimingSettings } from '../../platform/config';
import type { Database } from '../../platform/database';
import type { ProcessStateWatcher } from '../../platform/process-state-watcher';
import { businessNumberKey, processStateKey, processTypeKey, requesterKey } from '../../workflows/search-attributes';
import {
  CHANGE_PROCESS,
  cancelUpdate,
  changeStatusQuery,
  changeWorkflowId,
  implementationUpdate,
  reviewUpdate,
  reviseScopeUpdate,
  type ChangeStatus,
  type ChangeSubmission,
} from '../../workflows/change-request/contract';
import type { changeRequestWorkflow } from '../../workflows/change-request/workflow';
import { decideApproval, decisionBody } from '../approval-decisions';
import { OVERSEERS, hasAnyRole, maySeeRequest, type Principal, type Role } from '../auth';
import { badRequest, forbidden, notFound, segregationRefused } from '../errors';
import { pageQuery } from '../pagination';
import type { RouteRegistry } from '../routes-registry';
import { commandRequestId } from '../idempotency';
import { answerSubmission, submit, type Submitted } from '../submissions';
import type { Submission } from '../../model/submissions';
import { commandWithinDeadline, liveStatusWithinDeadline } from '../workflow-calls';

export interface ChangeRouteDeps {
  db: Database;
  temporal: Client;
  processStates: ProcessStateWatcher;
  taskQueue: string;
  approvalTimings: ApprovalTimingSettings;
}

/** Who records a change's implementation, and who its post-implementation review: the API and the change page alike. */
export const IMPLEMENTERS: readonly Role[] = ['asset_manager', 'admin'];
export const REVIEWERS: readonly Role[] = ['asset_manager', 'process_owner', 'admin'];

const minor = z.number().int().min(0).max(1e13);
const instant = z.iso.datetime({ offset: true });

/** A scope names each CI, asset and product once: a repeat says two things about one item, and the scope tables key on it. */
function eachOnce<T>(keyOf: (item: T) => string, field?: string) {
  return (items: T[], ctx: z.RefinementCtx) => {
    const seen = new Set<string>();
    items.forEach((item, index) => {
      const key = keyOf(item);
      if (seen.has(key)) ctx.addIssue({ code: 'custom', path: field ? [index, field] : [index], message: `${key} is named more than once` });
      seen.add(key);
    });
  };
}

const scopeFields = {
  title: z.string().trim().min(3).max(200),
  description: z.string().max(10_000),
  affectedCiIds: z.array(z.uuid()).min(1).max(500).superRefine(eachOnce((id: string) => id)).describe('the configuration items the change touches'),
  assetActions: z
    .array(z.strictObject({ assetId: z.uuid(), toState: z.enum(ASSET_STATES), toSubstate: z.enum([...IN_STOCK_SUBSTATES, ...RETIREMENT_REASONS]).optional() }))
    .max(200)
    .superRefine(eachOnce((action: { assetId: string }) => action.assetId, 'assetId'))
    .describe('lifecycle transitions to run when the change succeeds'),
  licenceChanges: z
    .array(z.strictObject({ productId: z.uuid(), installsAdded: z.number().int().min(0).max(100_000), installsRemoved: z.number().int().min(0).max(100_000) }))
    .max(100)
    .superRefine(eachOnce((change: { productId: string }) => change.productId, 'productId'))
    .describe('software installs the change adds or removes'),
  plannedStart: instant.nullable(),
  plannedEnd: instant.nullable(),
  oneOffCostMinor: minor,
  recurringCostMinor: minor,
};

const windowCheck = (v: { plannedStart?: string | null; plannedEnd?: string | null }, ctx: z.RefinementCtx) => {
  if (v.plannedStart && v.plannedEnd && Date.parse(v.plannedEnd) <= Date.parse(v.plannedStart)) {
    ctx.addIssue({ code: 'custom', path: ['plannedEnd'], message: 'must be after plannedStart' });
  }
  if (Boolean(v.plannedStart) !== Boolean(v.plannedEnd) && v.plannedStart !== undefined && v.plannedEnd !== undefined) {
    ctx.addIssue({ code: 'custom', path: ['plannedEnd'], message: 'give both plannedStart and plannedEnd, or neither' });
  }
};

export const createChangeBody = z
  .strictObject({
    type: z.enum(CHANGE_TYPES),
    changeModelId: z.uuid().optional().describe('required for a standard change: the pre-approved model it follows'),
    title: scopeFields.title.optional().describe('defaults to the model name for a standard change'),
    description: scopeFields.description.default(''),
    costCentre: z.string().trim().min(1).max(32).optional().describe('cost centre code that pays for it'),
    currency: z.string().regex(/^[A-Z]{3}$/).default('EUR'),
    affectedCiIds: scopeFields.affectedCiIds,
    assetActions: scopeFields.assetActions.default([]),
    licenceChanges: scopeFields.licenceChanges.default([]),
    plannedStart: instant.optional(),
    plannedEnd: instant.optional(),
    oneOffCostMinor: minor.default(0),
    recurringCostMinor: minor.default(0),
  })
  .superRefine((v, ctx) => {
    if (v.type === 'standard' && !v.changeModelId) ctx.addIssue({ code: 'custom', path: ['changeModelId'], message: 'a standard change follows a change model' });
    if (v.type !== 'standard' && v.changeModelId) ctx.addIssue({ code: 'custom', path: ['changeModelId'], message: 'only standard changes follow a model' });
    if (v.type !== 'standard' && !v.title) ctx.addIssue({ code: 'custom', path: ['title'], message: 'required' });
    windowCheck({ plannedStart: v.plannedStart ?? null, plannedEnd: v.plannedEnd ?? null }, ctx);
    const costs = amountBeyondBound(v.oneOffCostMinor + v.recurringCostMinor, v.currency, 'the one-off and recurring costs together');
    if (costs) ctx.addIssue({ code: 'custom', path: ['recurringCostMinor'], message: costs });
  });

export const reviseScopeBody = z
  .strictObject({
    title: scopeFields.title.optional(),
    description: scopeFields.description.optional(),
    affectedCiIds: scopeFields.affectedCiIds.optional(),
    assetActions: scopeFields.assetActions.optional(),
    licenceChanges: scopeFields.licenceChanges.optional(),
    plannedStart: scopeFields.plannedStart.optional(),
    plannedEnd: scopeFields.plannedEnd.optional(),
    oneOffCostMinor: minor.optional(),
    recurringCostMinor: minor.optional(),
  })
  .superRefine((v, ctx) => {
    if (Object.keys(v).length === 0) ctx.addIssue({ code: 'custom', path: [], message: 'name at least one field to change' });
    windowCheck(v, ctx);
  });

const changeParams = z.object({ id: z.string().min(1).max(64).describe('change id (uuid) or number (CHG0001001)') });

const listChangesQuery = pageQuery.extend({
  state: z.enum(CHANGE_STATES).optional(),
  type: z.enum(CHANGE_TYPES).optional(),
  mine: z.enum(['true', 'false']).optional().describe('only changes I requested'),
});

export type CreateChangeBody = z.infer<typeof createChangeBody>;
export type ReviseScopeBody = z.infer<typeof reviseScopeBody>;

export const cancelChangeBody = z.strictObject({ reason: z.string().trim().min(1).max(2000) });

export const implementationBody = z
  .strictObject({
    event: z.enum(['started', 'completed', 'failed']),
    notes: z.string().trim().min(1).max(5000),
    withIssues: z.boolean().optional(),
    backout: z.string().trim().min(1).max(5000).optional(),
  })
  .superRefine((v, ctx) => {
    if (v.event === 'failed' && !v.backout) ctx.addIssue({ code: 'custom', path: ['backout'], message: 'say how the change was backed out' });
    if (v.event !== 'completed' && v.withIssues !== undefined) ctx.addIssue({ code: 'custom', path: ['withIssues'], message: 'only for completed' });
  });

export const reviewChangeBody = z.strictObject({ notes: z.string().trim().min(1).max(5000) });

/** Every id the scope names must exist; a 400 names the ones that do not. */
async function checkReferences(db: Database, scope: Parameters<typeof unknownScopeReferences>[1]): Promise<void> {
  const problems = await unknownScopeReferences(db, scope);
  if (problems.length) throw badRequest(problems.map((p) => `${p.path}: ${p.message}`).join('; '), problems);
}

/**
 * What a create body asks for, as the workflow's submission: every id it names checked, the model
 * and the cost centre resolved; a 400 names the field of each problem. The API, the web form and
 * its preview read a body through this alone.
 */
export async function changeSubmissionOf(db: Database, body: CreateChangeBody): Promise<ChangeSubmission> {
  await checkReferences(db, body);
  const model = body.changeModelId ? await findActiveChangeModel(db, body.changeModelId) : undefined;
  if (body.changeModelId && !model) throw badRequest(`changeModelId: no active change model ${body.changeModelId}`, [{ path: 'changeModelId', message: 'unknown model' }]);
  const costCentre = body.costCentre ? await findCostCentreByCode(db, body.costCentre) : undefined;
  if (body.costCentre && !costCentre) throw badRequest(`costCentre: no cost centre ${body.costCentre}`, [{ path: 'costCentre', message: 'unknown cost centre' }]);
  return {
    changeModelId: body.changeModelId ?? null,
    title: body.title ?? model!.name,
    description: body.description,
    costCentreId: costCentre?.id ?? null,
    currency: body.currency,
    affectedCiIds: body.affectedCiIds,
    assetActions: body.assetActions,
    licenceChanges: body.licenceChanges,
    plannedStart: body.plannedStart ?? null,
    plannedEnd: body.plannedEnd ?? null,
    oneOffCostMinor: body.oneOffCostMinor,
    recurringCostMinor: body.recurringCostMinor,
  };
}

/**
 * Submits a change as POST /changes does: reserve the number, start its workflow, wait a bounded
 * time for the workflow to register it (api/submissions.ts). A web form gives its own
 * idempotency key, as it cannot send the header.
 */
export async function submitChange(
  { db, temporal, processStates, taskQueue, approvalTimings }: ChangeRouteDeps,
  principal: Principal,
  body: CreateChangeBody,
  req: Request,
  idempotencyKey?: string,
): Promise<Submitted> {
  const submission = await changeSubmissionOf(db, body);
  return submit({ db, temporal, processStates }, {
    requesterId: principal.id,
    req,
    idempotencyKey,
    process: CHANGE_PROCESS,
    reserveNumber: () => reserveChangeNumber(db),
    workflowIdOf: changeWorkflowId,
    start: (reserved) => startChangeWorkflow({ temporal, taskQueue, approvalTimings }, principal, body.type, submission, reserved),
  });
}

/** Starts the workflow of a change reserved already (or finds it running): POST /changes, and an optimisation finding's action. */
export function startChangeWorkflow(
  { temporal, taskQueue, approvalTimings }: Pick<ChangeRouteDeps, 'temporal' | 'taskQueue' | 'approvalTimings'>,
  requester: { id: string; email: string },
  type: CreateChangeBody['type'],
  submission: ChangeSubmission,
  { subjectId, number, workflowId }: Pick<Submission, 'subjectId' | 'number' | 'workflowId'>,
) {
  return temporal.workflow.start<typeof changeRequestWorkflow>('changeRequestWorkflow', {
    workflowId,
    taskQueue,
    workflowIdConflictPolicy: 'USE_EXISTING',
    args: [{ changeId: subjectId, number, type, requesterId: requester.id, requesterEmail: requester.email, timings: approvalTimings, submission }],
    typedSearchAttributes: [
      { key: processTypeKey, value: CHANGE_PROCESS },
      { key: processStateKey, value: 'new' },
      { key: businessNumberKey, value: number },
      { key: requesterKey, value: requester.email },
    ],
  });
}

type CommandDeps = Pick<ChangeRouteDeps, 'db' | 'temporal'>;

/** Whether this person may revise or cancel the change: its requester or an overseer. */
export const mayReviseOrCancel = (principal: Principal, row: ChangeRow) => row.requester_id === principal.id || hasAnyRole(principal, OVERSEERS);

function requireRequesterOrOverseer(principal: Principal, row: ChangeRow, what: string): void {
  if (!mayReviseOrCancel(principal, row)) throw forbidden(`only the requester or a process owner can ${what}`);
}

const command = <T>(temporal: Client, row: ChangeRow, what: string, send: () => Promise<T>) => commandWithinDeadline(temporal, `${what} ${row.number}`, send);

/**
 * The commands below take the key a web form carries (`formKey`, a uuid minted with the form) in
 * place of the Idempotency-Key header a form cannot send: a double click or a resend of the form is
 * one command, answered with the first outcome.
 */

/** Revises the scope before implementation (PATCH /changes/:id): the change goes back to assess. */
export async function reviseChange({ db, temporal }: CommandDeps, principal: Principal, row: ChangeRow, body: ReviseScopeBody, req: Request, formKey?: string) {
  requireRequesterOrOverseer(principal, row, 'change the scope');
  const costs = amountBeyondBound(
    (body.oneOffCostMinor ?? row.one_off_cost_minor) + (body.recurringCostMinor ?? row.recurring_cost_minor), row.currency, 'the one-off and recurring costs together');
  if (costs) throw badRequest(`recurringCostMinor: ${costs}`, [{ path: 'recurringCostMinor', message: costs }]);
  await checkReferences(db, body);
  const requestId = await commandRequestId(db, principal.id, req, row.workflow_id, formKey);
  return command(temporal, row, 'revising the scope of', () =>
    temporal.workflow.getHandle(row.workflow_id).executeUpdate(reviseScopeUpdate, { args: [{ ...body, actorEmail: principal.email, requestId }], updateId: requestId }));
}

/** Cancels the change until its implementation starts (POST /changes/:id/cancel). */
export async function cancelChange({ db, temporal }: CommandDeps, principal: Principal, row: ChangeRow, body: z.infer<typeof cancelChangeBody>, req: Request, formKey?: string) {
  requireRequesterOrOverseer(principal, row, 'cancel it');
  const requestId = await commandRequestId(db, principal.id, req, row.workflow_id, formKey);
  return command(temporal, row, 'cancelling', () =>
    temporal.workflow.getHandle(row.workflow_id).executeUpdate(cancelUpdate, { args: [{ actorEmail: principal.email, reason: body.reason, requestId }], updateId: requestId }));
}

/** Records implementation started, completed or failed (POST /changes/:id/implementation); never by the requester. */
export async function recordChangeImplementation({ db, temporal }: CommandDeps, principal: Principal, row: ChangeRow, body: z.infer<typeof implementationBody>, req: Request, formKey?: string) {
  const sod = segregationRefusal('implementation', principal.id, row.requester_id);
  if (sod) throw segregationRefused(sod);
  const requestId = await commandRequestId(db, principal.id, req, row.workflow_id, formKey);
  return command(temporal, row, 'recording the implementation of', () =>
    temporal.workflow.getHandle(row.workflow_id).executeUpdate(implementationUpdate, { args: [{ ...body, actorEmail: principal.email, requestId }], updateId: requestId }));
}

/** Records the post-implementation review (POST /changes/:id/review); never by the requester. */
export async function recordChangeReview({ db, temporal }: CommandDeps, principal: Principal, row: ChangeRow, body: z.infer<typeof reviewChangeBody>, req: Request, formKey?: string) {
  const sod = segregationRefusal('review', principal.id, row.requester_id);
  if (sod) throw segregationRefused(sod);
  const requestId = await commandRequestId(db, principal.id, req, row.workflow_id, formKey);
  return command(temporal, row, 'recording the review of', () =>
    temporal.workflow.getHandle(row.workflow_id).executeUpdate(reviewUpdate, { args: [{ notes: body.notes, actorEmail: principal.email, requestId }], updateId: requestId }));
}

export function registerChangeRoutes(routes: RouteRegistry, deps: ChangeRouteDeps): void {
  const { db, temporal } = deps;
  async function loadChange(id: string): Promise<ChangeRow> {
    const row = await findChangeRow(db, id);
    if (!row) throw notFound(`no change request ${id}`);
    return row;
  }
  async function loadVisibleChange(id: string, principal: Principal): Promise<ChangeRow> {
    const row = await loadChange(id);
    if (!(await maySeeRequest(db, principal, { subjectId: row.id, requesterId: row.requester_id }))) throw forbidden('you can see the changes you requested or are asked to approve');
    return row;
  }
  const liveStatus = (row: ChangeRow) => liveStatusWithinDeadline<ChangeStatus>(temporal, () => temporal.workflow.getHandle(row.workflow_id).query(changeStatusQuery));

  routes.add(
    {
      method: 'post', path: '/changes', tag: 'changes', access: 'authenticated',
      summary: 'Submit a change request (standard from a model, normal or emergency); it is assessed and routed at once',
      body: createChangeBody,
      responses: {
        201: 'the change request, registered by its workflow',
        202: 'the workflow started but has not registered the change yet (no worker answered in time): follow Location',
        400: 'bad input or unknown references',
      },
    },
    async ({ body, principal, req, res }) => {
      const submitted = await submitChange(deps, principal, body, req);
      const { reserved } = submitted;
      return answerSubmission(res, submitted, `/changes/${reserved.number}`, async () => changeDetail(db, (await findChangeRow(db, reserved.subjectId))!));
    },
  );

  routes.add(
    {
      method: 'get', path: '/changes', tag: 'changes', access: 'authenticated',
      summary: 'List change requests; requesters see their own, process owners and asset managers all',
      query: listChangesQuery,
      responses: { 200: 'a page of change requests' },
    },
    async ({ query, principal }) => {
      const requesterId = !hasAnyRole(principal, OVERSEERS) || query.mine === 'true' ? principal.id : undefined;
      return listChanges(db, { requesterId, state: query.state, type: query.type }, query);
    },
  );

  routes.add(
    {
      method: 'get', path: '/changes/:id', tag: 'changes', access: 'authenticated',
      summary: 'A change request with its scope, impact, risk and reasons, approvals, live workflow status and history',
      params: changeParams,
      responses: { 200: 'the change request', 403: 'not yours to see', 404: 'no such change' },
    },
    async ({ params, principal }) => {
      const row = await loadVisibleChange(params.id, principal);
      const [detail, live] = await Promise.all([changeDetail(db, row), liveStatus(row)]);
      return { ...detail, ...live };
    },
  );

  routes.add(
    {
      method: 'patch', path: '/changes/:id', tag: 'changes', access: 'authenticated',
      summary: 'Change the scope before implementation; the change goes back to assess and its approvals start over',
      params: changeParams,
      body: reviseScopeBody,
      responses: { 200: 'the live status after the revision', 400: 'bad input', 403: 'not yours', 409: 'implementation has started' },
    },
    async ({ params, body, principal, req }) => {
      return reviseChange(deps, principal, await loadChange(params.id), body, req);
    },
  );

  routes.add(
    {
      method: 'post', path: '/changes/:id/cancel', tag: 'changes', access: 'authenticated',
      summary: 'Cancel a change until its implementation starts',
      params: changeParams,
      body: cancelChangeBody,
      responses: { 200: 'the change, closed as cancelled', 403: 'not yours', 409: 'implementation has started or it is closed' },
    },
    async ({ params, body, principal, req }) => {
      return cancelChange(deps, principal, await loadChange(params.id), body, req);
    },
  );

  routes.add(
    {
      method: 'post', path: '/changes/:id/approvals/:approvalId/decision', tag: 'changes', access: 'authenticated',
      summary: 'Approve or reject an approval assigned to you (the same decision as the emailed link)',
      params: changeParams.extend({ approvalId: z.uuid() }),
      body: decisionBody,
      responses: {
        200: 'the decision and where the step stands',
        403: 'not your approval, or your own change (segregation of duties)',
        404: 'no such approval on this change',
        409: 'already decided, or the step is over',
      },
    },
    async ({ params, body, principal }) => {
      const row = await loadChange(params.id);
      if ((await findApproval(db, params.approvalId))?.subject_id !== row.id) throw notFound(`no approval ${params.approvalId} on ${row.number}`);
      return decideApproval(db, temporal, { approvalId: params.approvalId, actorId: principal.id, decision: body.decision, comment: body.comment, via: 'api' });
    },
  );

  routes.add(
    {
      method: 'post', path: '/changes/:id/implementation', tag: 'changes', access: IMPLEMENTERS,
      summary: 'Record that implementation started, completed (optionally with issues) or failed (with the backout)',
      params: changeParams,
      body: implementationBody,
      responses: { 200: 'the live status', 409: 'not in implement, or out of order' },
    },
    async ({ params, body, principal, req }) => {
      return recordChangeImplementation(deps, principal, await loadChange(params.id), body, req);
    },
  );

  routes.add(
    {
      method: 'post', path: '/changes/:id/review', tag: 'changes', access: REVIEWERS,
      summary: 'Record the post-implementation review that unsuccessful and emergency changes need before closure',
      params: changeParams,
      body: reviewChangeBody,
      responses: { 200: 'the closed change', 409: 'not in review' },
    },
    async ({ params, body, principal, req }) => {
      return recordChangeReview(deps, principal, await loadChange(params.id), body, req);
    },
  );

  routes.add(
    {
      method: 'get', path: '/change-models', tag: 'changes', access: 'authenticated',
      summary: 'The pre-approved models standard changes follow, with their risk ceilings and versions',
      query: z.object({
        includeInactive: z.enum(['true', 'false']).optional().transform((value) => value === 'true')
          .describe('also the models that take no new standard changes'),
      }),
      responses: { 200: 'the active change models (and the inactive ones when asked)', 400: 'bad filter' },
    },
    async ({ query }) => ({ items: await listChangeModelRecords(db, { includeInactive: query.includeInactive }) }),
  );
}
