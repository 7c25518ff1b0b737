import type { Client } from '@temporalio/client';
import type { Request, Response } from 'express';
import { z } from 'zod';
import { approvalInbox, approvalsOf, createDelegation, endDelegation, findApproval, findDelegation, listDelegations } from '../../model/approvals';
import { describeApprovalSubject } from '../../model/approval-subjects';
import { viewerTimeZone } from '../../domain/time-zones';
import { isActivePerson } from '../../model/directory';
import type { Database } from '../../platform/database';
import { approverFromLink, caseResolutionFields, decideApproval, refuseLinkOfMovedApproval, withDecisionOfResolution } from '../approval-decisions';
import { OVERSEERS, hasAnyRole } from '../auth';
import { HttpError, badRequest, conflict, forbidden, notFound } from '../errors';
import { pageQuery } from '../pagination';
import type { RouteRegistry } from '../routes-registry';
import { approvalLinkErrorPage, approvalLinkPage } from '../web/approval-page';
import { sendHtml, type SafeHtml } from '../web/html';

export interface ApprovalRouteDeps {
  db: Database;
  temporal: Client;
  approvalLinkSecret: string;
  /** The organisation's time zone (TIME_ZONE): the link's page shows times in the approver's own, else this one. */
  timeZone?: string;
}

const approvalParams = z.object({ approvalId: z.uuid() });
const decisionFields = {
  decision: z.enum(['approved', 'rejected']),
  comment: z.string().trim().max(2000).optional(),
};

/** The approval page: what is to be approved, the approver's task and form, and the approvals so far, in the approver's time zone. */
async function approvalPage(db: Database, organisationZone: string | undefined, approvalId: string, token: string, notice?: { kind: 'ok' | 'error'; text: string }): Promise<SafeHtml> {
  const approval = await findApproval(db, approvalId);
  if (!approval) throw notFound(`no approval ${approvalId}`);
  const approver = await db('people').where({ id: approval.approver_id }).first('time_zone');
  const timeZone = viewerTimeZone(approver?.time_zone, organisationZone);
  const subject = (await describeApprovalSubject(db, approval.subject_type, approval.subject_id, timeZone))!;
  const approvals = (await approvalsOf(db, approval.subject_id)).filter((a) => a.revision === approval.revision);
  return approvalLinkPage({ approvalId, token, subject, approvals, notice, timeZone, stewardCase: approval.subject_type === 'reconciliation_case' });
}

function sendError(res: Response, error: unknown): void {
  if (!(error instanceof HttpError)) throw error;
  sendHtml(res, error.status, approvalLinkErrorPage(error.message));
}

/** Approval links from emails (the token is the credential), the approver's inbox, and delegations. */
export function registerApprovalRoutes(routes: RouteRegistry, { db, temporal, approvalLinkSecret, timeZone }: ApprovalRouteDeps): void {
  const tokenOf = (req: Request) => (typeof req.query.token === 'string' ? req.query.token : undefined);

  routes.add(
    {
      method: 'get', path: '/approvals/:approvalId', tag: 'approvals', access: 'public',
      summary: 'The page an emailed approval link opens: the change, its impact, and Approve / Reject',
      params: approvalParams,
      query: z.object({ token: z.string().max(2000).optional() }),
      responses: { 200: 'an HTML page', 403: 'forged or altered link', 409: 'the approval moved to someone else', 410: 'expired link, or its approver is no longer active' },
    },
    async ({ params, req, res }) => {
      try {
        const token = tokenOf(req);
        await refuseLinkOfMovedApproval(db, params.approvalId, approverFromLink(approvalLinkSecret, params.approvalId, token));
        sendHtml(res, 200, await approvalPage(db, timeZone, params.approvalId, token!));
      } catch (error) {
        sendError(res, error);
      }
    },
  );

  routes.add(
    {
      method: 'post', path: '/approvals/:approvalId', tag: 'approvals', access: 'public', rateLimit: 'linkDecisions',
      summary: 'The approval page\'s form: decide with the link\'s token (HTML answer)',
      params: approvalParams,
      responses: { 200: 'an HTML page with the result', 403: 'forged or altered link, or not yours', 409: 'already decided', 410: 'expired link' },
    },
    async ({ params, req, res }) => {
      try {
        const form = z.object({ token: z.string().max(2000), ...decisionFields, ...caseResolutionFields }).safeParse(withDecisionOfResolution(req.body));
        if (!form.success) throw badRequest('choose Approve or Reject');
        const approverId = approverFromLink(approvalLinkSecret, params.approvalId, form.data.token);
        const { decision, comment, resolution, survivorCiId } = form.data;
        const outcome = await decideApproval(db, temporal, { approvalId: params.approvalId, actorId: approverId, decision, comment, resolution, survivorCiId, via: 'link' });
        const text = `Thank you: you ${outcome.decision} this request. The step is ${outcome.stepOutcome === 'pending' ? 'waiting for other approvers' : outcome.stepOutcome}.`;
        sendHtml(res, 200, await approvalPage(db, timeZone, params.approvalId, form.data.token, { kind: 'ok', text }));
      } catch (error) {
        sendError(res, error);
      }
    },
  );

  routes.add(
    {
      method: 'post', path: '/approvals/:approvalId/decision', tag: 'approvals', access: 'public', rateLimit: 'linkDecisions',
      summary: 'Decide with an approval link\'s token (JSON); the token stands for the approver',
      params: approvalParams,
      body: z.strictObject({ token: z.string().max(2000), ...decisionFields, ...caseResolutionFields }),
      responses: { 200: 'the decision', 403: 'forged, altered or another approval\'s link', 409: 'already decided', 410: 'expired link' },
    },
    async ({ params, body }) => {
      const approverId = approverFromLink(approvalLinkSecret, params.approvalId, body.token);
      return decideApproval(db, temporal, {
        approvalId: params.approvalId, actorId: approverId, decision: body.decision, comment: body.comment, resolution: body.resolution, survivorCiId: body.survivorCiId, via: 'link',
      });
    },
  );

  routes.add(
    {
      method: 'get', path: '/approvals', tag: 'approvals', access: 'authenticated',
      summary: 'My approval inbox: approvals waiting for my decision, oldest first, a page at a time',
      query: pageQuery,
      responses: { 200: 'a page of the open approvals assigned to me' },
    },
    async ({ principal, query }) => approvalInbox(db, principal.id, query),
  );

  const delegationBody = z
    .strictObject({ delegateId: z.uuid(), startsAt: z.iso.datetime({ offset: true }), endsAt: z.iso.datetime({ offset: true }) })
    .refine((v) => Date.parse(v.endsAt) > Date.parse(v.startsAt), { path: ['endsAt'], message: 'must be after startsAt' });

  routes.add(
    {
      method: 'post', path: '/delegations', tag: 'approvals', access: 'authenticated',
      summary: 'Hand the approval tasks assigned to me during a period to another person',
      body: delegationBody,
      responses: { 201: 'the delegation', 400: 'bad period, unknown or inactive delegate, or yourself' },
    },
    async ({ body, principal, res }) => {
      if (body.delegateId === principal.id) throw badRequest('delegateId: you cannot delegate to yourself', [{ path: 'delegateId', message: 'yourself' }]);
      if (!(await isActivePerson(db, body.delegateId))) {
        throw badRequest(`delegateId: no active person ${body.delegateId}`, [{ path: 'delegateId', message: 'unknown person' }]);
      }
      const delegation = await createDelegation(db, { delegatorId: principal.id, delegateId: body.delegateId, startsAt: body.startsAt, endsAt: body.endsAt });
      res.status(201);
      return delegation;
    },
  );

  routes.add(
    {
      method: 'get', path: '/delegations', tag: 'approvals', access: 'authenticated',
      summary: 'Delegations I gave or received (process owners see all) that have not ended',
      responses: { 200: 'the delegations' },
    },
    async ({ principal }) => ({
      items: await listDelegations(db, { involving: hasAnyRole(principal, OVERSEERS) ? undefined : principal.id }),
    }),
  );

  routes.add(
    {
      method: 'delete', path: '/delegations/:id', tag: 'approvals', access: 'authenticated',
      summary: 'End a delegation I gave, now',
      params: z.object({ id: z.uuid() }),
      responses: { 200: 'the delegation ended', 403: 'not yours', 404: 'no such delegation', 409: 'it has ended already (delegation_ended): nothing was changed' },
    },
    async ({ params, principal }) => {
      const delegation = await findDelegation(db, params.id);
      if (!delegation) throw notFound(`no delegation ${params.id}`);
      if (delegation.delegatorId !== principal.id && !hasAnyRole(principal, OVERSEERS)) throw forbidden('only the person who delegated can end it');
      if (!(await endDelegation(db, params.id))) {
        throw conflict('delegation_ended', 'this delegation has ended already; nothing was changed');
      }
      return { id: params.id, ended: true };
    },
  );
}
