/**
 * Process owners (and admins) remind the approvers a process waits for, and move a pending
 * approval to someone else, from the process's page. The forms call the same functions as the
 * JSON API (api/process-owner-actions.ts), so a refusal reads the same: a notice at the top of the
 * page, and next to the field it names. Each form carries the id of its command, so a form sent
 * twice (a double click, a reload) is answered from the first and emails nobody twice.
 */
import { randomUUID } from 'node:crypto';
import type { Request, Response, Router } from 'express';
import { z } from 'zod';
import type { Role } from '../../domain/directory';
import { approvalsOf, type ApprovalRecord } from '../../model/approvals';
import { findProcess, type ProcessSummary } from '../../model/processes';
import type { Database } from '../../platform/database';
import { hasAnyRole, type Principal } from '../auth';
import { badRequest, toHttpError, type HttpError } from '../errors';
import { commandRequestId } from '../idempotency';
import { nudgeProcess, personIdByEmail, reassignProcessApproval, reassignSuggestions } from '../process-owner-actions';
import { reassignApprovalBody } from '../routes/processes';
import { sendHtml, html, type SafeHtml } from './html';
import { fieldErrorsOf, str, text, zodProblems, type FieldErrors } from './forms';
import { processPageInput } from './process-page';
import type { WebKit, WebRoute } from './router';
import { csrfField, errorPage, processDetailPage, processHref, type Notice, type ViewContext } from './views';

const PROCESS_OWNER_ACTORS: readonly Role[] = ['process_owner', 'admin'];

export const PROCESS_OWNER_PAGE_ROUTES: readonly WebRoute[] = [
  { method: 'post', path: '/processes/:workflowId/nudge', access: PROCESS_OWNER_ACTORS },
  { method: 'post', path: '/processes/:workflowId/reassign', access: PROCESS_OWNER_ACTORS },
];

const uuid = z.uuid();

/** The form's own key (a uuid minted with it); a fresh one when it carries none, so the command still has a key to be found by. */
const formKeyOf = (body: Record<string, unknown>) => {
  const key = text(body, 'commandId');
  return uuid.safeParse(key).success ? key : randomUUID();
};

interface ReassignForm {
  approvalId: string;
  toPersonEmail: string;
  reason: string;
  errors: FieldErrors;
}

/**
 * What the page says after a command that went through, read back from what it wrote, never from
 * text in the address: the viewer's own nudge by its form key (its audit row names whom it
 * reminded), or the approval a reassign opened.
 */
async function noticeOf(db: Database, viewer: Principal, process: ProcessSummary, query: Request['query'], approvals: ApprovalRecord[]): Promise<Notice | undefined> {
  const nudge = str(query.nudge);
  if (nudge && uuid.safeParse(nudge).success) {
    // The nudge id the workflow keyed its audit row with: the viewer's id and the form key (commandRequestId).
    const row = await db('audit_log')
      .where({ workflow_id: process.workflowId, action: 'approvals_nudged', idempotency_key: `${process.workflowId}:nudge:${viewer.id}:web:${nudge}` })
      .first('details');
    const count = (row?.details as { nudged?: unknown[] } | undefined)?.nudged?.length;
    if (count) return { kind: 'ok', text: `A reminder was sent to ${count} approver${count === 1 ? '' : 's'}.` };
  }
  const moved = approvals.find((a) => a.id === str(query.reassigned) && a.reassignedFromId);
  const from = moved && approvals.find((a) => a.id === moved.reassignedFromId);
  if (moved && from) return { kind: 'ok', text: `The approval moved from ${from.approver.name} to ${moved.approver.name}, who was emailed the task.` };
  return undefined;
}

/** The process owner's section of a process page: a reminder for everyone waiting, and a reassign form per pending approval. */
async function ownerSection(db: Database, ctx: ViewContext, process: ProcessSummary, approvals: ApprovalRecord[], form?: ReassignForm): Promise<SafeHtml> {
  const pending = approvals.filter((a) => a.state === 'requested');
  const action = processHref(process.workflowId);
  if (process.finishedAt || pending.length === 0) {
    return html`<section aria-labelledby="owner-heading"><h2 id="owner-heading">Process owner actions</h2>
<p>No approval waits for anyone: there is nobody to remind or reassign.</p></section>`;
  }
  const suggestions = await reassignSuggestions(db);
  const nudge = html`<form method="post" action="${action}/nudge" class="owner-nudge">
${csrfField(ctx.csrf)}<input type="hidden" name="commandId" value="${randomUUID()}">
<p>Email the task again, marked as a reminder, to ${pending.map((a) => a.approver.name).join(', ')}.</p>
<button type="submit">Send a reminder</button>
</form>`;
  const reassignForms = pending.map((a) => {
    const mine = form?.approvalId === a.id ? form : undefined;
    const errors = mine?.errors ?? {};
    const id = `reassign-${a.id}`;
    const error = (name: string) => errors[name] && html`<p id="${id}-${name}-error" class="notice error" role="alert">${errors[name]}</p>`;
    const invalid = (name: string) => errors[name] && html` aria-invalid="true" aria-describedby="${id}-${name}-error"`;
    const toError = errors.toPersonEmail && ` ${id}-toPersonEmail-error`;
    return html`<form method="post" action="${action}/reassign" class="owner-reassign" aria-labelledby="${id}-title">
<h3 id="${id}-title">Reassign ${a.approver.name}'s approval (step ${a.step}, ${a.stepName})</h3>
${csrfField(ctx.csrf)}<input type="hidden" name="commandId" value="${randomUUID()}"><input type="hidden" name="approvalId" value="${a.id}">
${error('form')}
<label for="${id}-to">Reassign to (email)</label>
${error('toPersonEmail')}
<input id="${id}-to" name="toPersonEmail" type="email" list="reassign-people" autocomplete="off" value="${mine?.toPersonEmail ?? ''}" required${
  errors.toPersonEmail && html` aria-invalid="true"`} aria-describedby="${id}-to-hint${toError ?? ''}">
<p id="${id}-to-hint" class="meta">The email of an active person who did not request this and is not asked in this step already.</p>
<label for="${id}-reason">Reason</label>
${error('reason')}
<textarea id="${id}-reason" name="reason" rows="2" maxlength="500" required${invalid('reason')}>${mine?.reason ?? ''}</textarea>
<div class="actions"><button type="submit">Reassign</button></div>
</form>`;
  });
  const people = suggestions.length > 0 &&
    html`<datalist id="reassign-people">${suggestions.map((p) => html`<option value="${p.email}">${p.name}</option>`)}</datalist>`;
  return html`<section aria-labelledby="owner-heading"><h2 id="owner-heading">Process owner actions</h2>
${nudge}
${reassignForms}
${people}
</section>`;
}

/**
 * The process owner's part of a process page (the router's GET /ui/processes/:workflowId): their
 * section, for process owners and admins, and the notice of the command they just sent.
 */
export async function processOwnerControls(
  db: Database,
  ctx: ViewContext,
  process: ProcessSummary,
  approvals: ApprovalRecord[],
  query: Request['query'],
): Promise<{ ownerActions?: SafeHtml; notice?: Notice }> {
  if (!hasAnyRole(ctx.user, PROCESS_OWNER_ACTORS)) return {};
  const [ownerActions, notice] = await Promise.all([ownerSection(db, ctx, process, approvals), noticeOf(db, ctx.user, process, query, approvals)]);
  return { ownerActions, notice };
}

/** Which field of the reassign form a refusal belongs to: the person chosen, the reason, or the form as a whole. */
function fieldOfRefusal(known: HttpError, actorRequested: boolean): string {
  if (known.code === 'segregation_of_duties' && actorRequested) return 'form';
  if (['unknown_person', 'target_inactive', 'segregation_of_duties', 'already_in_step'].includes(known.code)) return 'toPersonEmail';
  const path = Array.isArray(known.details) ? (known.details as { path?: string }[])[0]?.path : undefined;
  if (path === 'toPersonId') return 'toPersonEmail';
  return path === 'reason' ? path : 'form';
}

/** A refusal as a person reads it on the page: the same words as the API, but for a form key sent again with other values. */
const pageMessageOf = (known: HttpError) => (known.code === 'idempotency_key_reused'
  ? 'this form was already sent with other values: reload the page and fill it in again'
  : known.message);

export function registerProcessOwnerPages(router: Router, kit: WebKit): void {
  const { db, temporal } = kit.deps;

  /** The page again, with the refusal of the command just sent (in its status, a notice, and next to its field). */
  async function renderRefused(res: Response, workflowId: string, known: HttpError, form?: ReassignForm): Promise<void> {
    const ctx = await kit.context(res, 'processes');
    const process = await findProcess(db, workflowId);
    if (!process) {
      sendHtml(res, known.status, errorPage(ctx, 'Not found', known.message, [['/ui/processes', 'All processes']]));
      return;
    }
    const approvals = await approvalsOf(db, process.subjectId);
    sendHtml(res, known.status, processDetailPage(ctx, {
      ...(await processPageInput(db, ctx, process, approvals)),
      ownerActions: await ownerSection(db, ctx, process, approvals, form),
      notice: { kind: 'error', text: `Nothing was changed: ${pageMessageOf(known)}` },
    }));
  }

  /** The person signed in, when they may send these commands; otherwise a 403 page, and undefined. */
  async function processOwnerOf(res: Response, workflowId: string) {
    const { user } = kit.signedInOf(res);
    if (hasAnyRole(user, PROCESS_OWNER_ACTORS)) return user;
    sendHtml(res, 403, errorPage(await kit.context(res, 'processes'), 'Not for your role',
      'Only process owners and admins remind approvers or reassign approvals. Nothing was changed.', [[processHref(workflowId), 'Back to the process']]));
    return undefined;
  }

  /** A refusal the page can show; anything else (a failure on our side) goes to the error handler. */
  const refusalOf = (error: unknown): HttpError => {
    const known = toHttpError(error);
    if (!known || known.status >= 500) throw error;
    return known;
  };

  router.post('/processes/:workflowId/nudge', async (req, res) => {
    const workflowId = String(req.params.workflowId);
    const user = await processOwnerOf(res, workflowId);
    if (!user) return;
    const formKey = formKeyOf(req.body ?? {});
    try {
      await nudgeProcess(db, temporal, workflowId, user, await commandRequestId(db, user.id, req, `nudge:${workflowId}`, formKey));
      res.redirect(303, `${processHref(workflowId)}?nudge=${formKey}`);
    } catch (error) {
      await renderRefused(res, workflowId, refusalOf(error));
    }
  });

  router.post('/processes/:workflowId/reassign', async (req, res) => {
    const workflowId = String(req.params.workflowId);
    const user = await processOwnerOf(res, workflowId);
    if (!user) return;
    const body = (req.body ?? {}) as Record<string, unknown>;
    const form: ReassignForm = { approvalId: text(body, 'approvalId'), toPersonEmail: text(body, 'toPersonEmail').trim(), reason: text(body, 'reason'), errors: {} };
    const toPersonId = form.toPersonEmail ? await personIdByEmail(db, form.toPersonEmail) : undefined;
    const parsed = reassignApprovalBody.safeParse({ toPersonId: toPersonId ?? '', reason: form.reason });
    form.errors = parsed.success ? {} : fieldErrorsOf(zodProblems(parsed.error), (path) => (path === 'toPersonId' ? 'toPersonEmail' : path));
    if (!form.toPersonEmail) form.errors.toPersonEmail = 'type the email of the person who takes the approval over';
    else if (!toPersonId) form.errors.toPersonEmail = `nobody has the email ${form.toPersonEmail}: type the email of an active person`;
    if (!uuid.safeParse(form.approvalId).success) form.errors.form = 'the form names no approval: reload the page and try again';
    if (!parsed.success || Object.keys(form.errors).length > 0) {
      await renderRefused(res, workflowId, badRequest(Object.values(form.errors).join('; ')), form);
      return;
    }
    try {
      const commandId = await commandRequestId(db, user.id, req, `reassign:${form.approvalId}`, formKeyOf(body));
      const outcome = await reassignProcessApproval(db, temporal, workflowId, { approvalId: form.approvalId, ...parsed.data }, user, commandId);
      res.redirect(303, `${processHref(workflowId)}?reassigned=${outcome.newApprovalId}`);
    } catch (error) {
      const known = refusalOf(error);
      const process = await findProcess(db, workflowId);
      const actorRequested = process?.requester?.id === user.id;
      await renderRefused(res, workflowId, known, { ...form, errors: { [fieldOfRefusal(known, actorRequested)]: pageMessageOf(known) } });
    }
  });
}
