import type { Client } from '@temporalio/client';
import type { Request, Response } from 'express';
import type { Knex } from 'knex';
import { z } from 'zod';
import { openApprovalsOf } from '../../model/approval-inbox';
import { describeApprovalSubject } from '../../model/approval-subjects';
import { approvalsOf } from '../../model/changes';
import { approverFromLink, decideApproval } from '../approval-decisions';
import { OVERSEERS, hasAnyRole } from '../auth';
import { HttpError, badRequest, forbidden, notFound } from '../errors';
import { escapeHtml, page } from '../html';
import { pageQuery } from '../pagination';
import type { RouteRegistry } from '../routes-registry';

export interface ApprovalRouteDeps {
  db: Knex;
  temporal: Client;
  approvalLinkSecret: string;
}

const approvalParams = z.object({ approvalId: z.uuid() });
const decisionFields = {
  decision: z.enum(['approved', 'rejected']),
  comment: z.string().trim().max(2000).optional(),
};

const label = (text: string) => text.replace(/_/g, ' ');

/** The approval page: what is to be approved, the approver's task and form, and the approvals so far. */
async function approvalPage(db: Knex, approvalId: string, token: string, notice?: { kind: 'ok' | 'error'; text: string }): Promise<string> {
  const approval = await db('approvals').where({ id: approvalId }).first();
  if (!approval) throw notFound(`no approval ${approvalId}`);
  const subject = (await describeApprovalSubject(db, approval.subject_type, approval.subject_id))!;
  const approvals = (await approvalsOf(db, approval.subject_id)).filter((a) => a.revision === approval.revision);
  const mine = approvals.find((a) => a.id === approvalId)!;
  const rows = approvals
    .map(
      (a) => `<tr><td>${a.step}. ${escapeHtml(a.stepName)}</td><td>${escapeHtml(a.approver.name)}${a.delegatedFrom ? ` (for ${escapeHtml(a.delegatedFrom.name)})` : ''}</td>` +
        `<td>${escapeHtml(label(a.state))}</td><td>${escapeHtml(a.comment ?? '')}</td></tr>`,
    )
    .join('');
  const form = mine.state === 'requested'
    ? `<form method="post" action="/approvals/${escapeHtml(approvalId)}">
  <input type="hidden" name="token" value="${escapeHtml(token)}">
  <label for="comment">Comment</label>
  <textarea id="comment" name="comment" rows="3" maxlength="2000"></textarea>
  <div class="actions">
    <button type="submit" name="decision" value="approved">Approve</button>
    <button type="submit" name="decision" value="rejected" class="reject">Reject</button>
  </div>
  <p class="meta">This link is yours alone and works once; it expires at ${escapeHtml(mine.dueAt ?? '')}.</p>
</form>`
    : `<p class="decided" role="status">Your decision: <strong>${escapeHtml(label(mine.state))}</strong>${mine.decidedAt ? ` on ${escapeHtml(mine.decidedAt)}` : ''}.</p>`;
  const body = `
${notice ? `<p class="notice ${notice.kind}" role="status">${escapeHtml(notice.text)}</p>` : ''}
<h1>${escapeHtml(subject.number)}: ${escapeHtml(subject.title)}</h1>
<p class="meta">${escapeHtml(subject.meta)} · state <strong id="subject-state">${escapeHtml(label(subject.state))}</strong></p>
<p>${escapeHtml(subject.description)}</p>
<h2>Your task</h2>
<p>Step ${mine.step} "${escapeHtml(mine.stepName)}" (${escapeHtml(mine.stepPolicy)}, ${mine.stepRequired} needed) for ${escapeHtml(mine.approver.name)}${mine.delegatedFrom ? `, as delegate of ${escapeHtml(mine.delegatedFrom.name)}` : ''}.</p>
${form}
${subject.sections.map((section) => `<h2>${escapeHtml(section.title)}</h2>\n<ul>${section.items.map((item) => `<li>${escapeHtml(item)}</li>`).join('')}</ul>`).join('\n')}
<h2>Approvals</h2>
<table><thead><tr><th>Step</th><th>Approver</th><th>State</th><th>Comment</th></tr></thead><tbody>${rows}</tbody></table>`;
  return page(`${subject.number} approval`, body);
}

function sendError(res: Response, error: unknown): void {
  if (!(error instanceof HttpError)) throw error;
  res.status(error.status).type('html').send(page('Approval', `<h1>Nothing was changed</h1><p class="notice error" role="alert">${escapeHtml(error.message)}</p>`));
}

/** Approval links from emails (the token is the credential), the approver's inbox, and delegations. */
export function registerApprovalRoutes(routes: RouteRegistry, { db, temporal, approvalLinkSecret }: ApprovalRouteDeps): void {
  const tokenOf = (req: Request) => (typeof req.query.token === 'string' ? req.query.token : undefined);

  routes.add(
    {
      method: 'get', path: '/approvals/:approvalId', tag: 'approvals', access: 'public',
      summary: 'The page an emailed approval link opens: the change, its impact, and Approve / Reject',
      params: approvalParams,
      query: z.object({ token: z.string().max(2000).optional() }),
      responses: { 200: 'an HTML page', 403: 'forged or altered link', 410: 'expired link' },
    },
    async ({ params, req, res }) => {
      try {
        const token = tokenOf(req);
        approverFromLink(approvalLinkSecret, params.approvalId, token);
        res.type('html').send(await approvalPage(db, params.approvalId, token!));
      } catch (error) {
        sendError(res, error);
      }
    },
  );

  routes.add(
    {
      method: 'post', path: '/approvals/:approvalId', tag: 'approvals', access: 'public',
      summary: 'The approval page\'s form: decide with the link\'s token (HTML answer)',
      params: approvalParams,
      responses: { 200: 'an HTML page with the result', 403: 'forged or altered link, or not yours', 409: 'already decided', 410: 'expired link' },
    },
    async ({ params, req, res }) => {
      try {
        const form = z.object({ token: z.string().max(2000), ...decisionFields }).safeParse(req.body ?? {});
        if (!form.success) throw badRequest('choose Approve or Reject');
        const approverId = approverFromLink(approvalLinkSecret, params.approvalId, form.data.token);
        const outcome = await decideApproval(db, temporal, { approvalId: params.approvalId, actorId: approverId, decision: form.data.decision, comment: form.data.comment, via: 'link' });
        const text = `Thank you: you ${outcome.decision} this request. The step is ${outcome.stepOutcome === 'pending' ? 'waiting for other approvers' : outcome.stepOutcome}.`;
        res.type('html').send(await approvalPage(db, params.approvalId, form.data.token, { kind: 'ok', text }));
      } catch (error) {
        sendError(res, error);
      }
    },
  );

  routes.add(
    {
      method: 'post', path: '/approvals/:approvalId/decision', tag: 'approvals', access: 'public',
      summary: 'Decide with an approval link\'s token (JSON); the token stands for the approver',
      params: approvalParams,
      body: z.strictObject({ token: z.string().max(2000), ...decisionFields }),
      responses: { 200: 'the decision', 403: 'forged, altered or another approval\'s link', 409: 'already decided', 410: 'expired link' },
    },
    async ({ params, body }) => {
      const approverId = approverFromLink(approvalLinkSecret, params.approvalId, body.token);
      return decideApproval(db, temporal, { approvalId: params.approvalId, actorId: approverId, decision: body.decision, comment: body.comment, via: 'link' });
    },
  );

  routes.add(
    {
      method: 'get', path: '/approvals', tag: 'approvals', access: 'authenticated',
      summary: 'My approval inbox: approvals waiting for my decision, oldest first, a page at a time',
      query: pageQuery,
      responses: { 200: 'a page of the open approvals assigned to me' },
    },
    async ({ principal, query }) => {
      const mine = () => openApprovalsOf(db, principal.id);
      // The page first, then what it is about: joining before the limit read every purchase request.
      const pageOfApprovals = mine().orderBy('created_at').orderBy('id').limit(query.limit).offset(query.offset).select('*').as('a');
      const [items, [{ count }]] = await Promise.all([
        db.from(pageOfApprovals)
          .leftJoin('change_requests as c', (j) => j.on('c.id', 'a.subject_id').andOnVal('a.subject_type', 'change_request'))
          .leftJoin('purchase_requests as p', (j) => j.on('p.id', 'a.subject_id').andOnVal('a.subject_type', 'purchase_request'))
          .leftJoin('people as d', 'd.id', 'a.delegated_from_id')
          .orderBy('a.created_at')
          .orderBy('a.id')
          .select('a.id', 'a.subject_type as subjectType', 'a.subject_id as subjectId', 'a.step_order as step', 'a.step_name as stepName',
            'a.due_at as dueAt', 'd.name as delegatedFrom', db.raw('COALESCE(c.number, p.number) AS number'),
            db.raw('COALESCE(c.title, p.justification) AS title'), 'c.risk_level as riskLevel', 'p.total_minor as totalMinor'),
        mine().count<{ count: string }[]>({ count: '*' }),
      ]);
      return { items, page: { limit: query.limit, offset: query.offset, total: Number(count) } };
    },
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
      if (!(await db('people').where({ id: body.delegateId, active: true }).first('id'))) {
        throw badRequest(`delegateId: no active person ${body.delegateId}`, [{ path: 'delegateId', message: 'unknown person' }]);
      }
      const [row] = await db('delegations')
        .insert({ delegator_id: principal.id, delegate_id: body.delegateId, starts_at: body.startsAt, ends_at: body.endsAt })
        .returning(['id', 'delegator_id as delegatorId', 'delegate_id as delegateId', 'starts_at as startsAt', 'ends_at as endsAt']);
      res.status(201);
      return row;
    },
  );

  routes.add(
    {
      method: 'get', path: '/delegations', tag: 'approvals', access: 'authenticated',
      summary: 'Delegations I gave or received (process owners see all) that have not ended',
      responses: { 200: 'the delegations' },
    },
    async ({ principal }) => {
      const q = db('delegations').where('ends_at', '>', db.fn.now()).orderBy('starts_at')
        .select('id', 'delegator_id as delegatorId', 'delegate_id as delegateId', 'starts_at as startsAt', 'ends_at as endsAt');
      if (!hasAnyRole(principal, OVERSEERS)) q.where((w) => w.where('delegator_id', principal.id).orWhere('delegate_id', principal.id));
      return { items: await q };
    },
  );

  routes.add(
    {
      method: 'delete', path: '/delegations/:id', tag: 'approvals', access: 'authenticated',
      summary: 'End a delegation I gave, now',
      params: z.object({ id: z.uuid() }),
      responses: { 200: 'the delegation ended', 403: 'not yours', 404: 'no such delegation' },
    },
    async ({ params, principal }) => {
      const row = await db('delegations').where({ id: params.id }).first();
      if (!row) throw notFound(`no delegation ${params.id}`);
      if (row.delegator_id !== principal.id && !hasAnyRole(principal, OVERSEERS)) throw forbidden('only the person who delegated can end it');
      await db('delegations').where({ id: params.id }).update({ ends_at: db.raw('GREATEST(now(), starts_at + interval \'1 millisecond\')') });
      return { id: params.id, ended: true };
    },
  );
}
