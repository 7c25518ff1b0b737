/**
 * Optimisation findings for the overseers: the list with the totals of saving and exposure per
 * currency, and for process owners the forms that act on a finding (one call starts its process) or
 * dismiss it. The same functions as GET /finops/findings and its commands (api/finding-actions.ts).
 */
import { randomUUID } from 'node:crypto';
import type { Response, Router } from 'express';
import { z } from 'zod';
import { FINDING_KINDS, FINDING_STATES } from '../../domain/findings';
import { formatMoney } from '../../domain/money';
import { findFinding, listFindings, pastActionsOf, type Finding, type FindingTotal } from '../../model/findings';
import { hasAnyRole, OVERSEERS } from '../auth';
import { badRequest, toHttpError, type HttpError } from '../errors';
import { actOnFinding, dismissFinding } from '../finding-actions';
import { dismissFindingBody, FINDING_ACTORS, findingParams, findingsQuery } from '../routes/findings';
import { str, text } from './forms';
import { html, join, sendHtml, type SafeHtml } from './html';
import type { WebKit, WebRoute } from './router';
import { csrfField, errorPage, isOverseer, label, layout, notice, pager, processHref, time, type Notice, type ViewContext } from './views';

export const FINDING_PAGE_ROUTES: readonly WebRoute[] = [
  { method: 'get', path: '/finops/findings', access: OVERSEERS },
  { method: 'post', path: '/finops/findings/:number/act', access: FINDING_ACTORS },
  { method: 'post', path: '/finops/findings/:number/dismiss', access: FINDING_ACTORS },
];

const LIST = '/ui/finops/findings';
const uuid = z.uuid();

/** The form's own key (a uuid minted with it): a double click or a resend is one command. */
const formKeyOf = (body: Record<string, unknown>) => {
  const key = text(body, 'commandId');
  return uuid.safeParse(key).success ? key : randomUUID();
};

/** A total may pass the integers a number holds: then it is shown as its exact digits. */
function totalText(total: FindingTotal): string {
  const amount = Number(total.amountMinor);
  return Number.isSafeInteger(amount) ? formatMoney(amount, total.currency) : `${total.currency} ${total.amountMinor} (minor units)`;
}

function totalsSection(totals: FindingTotal[]): SafeHtml {
  const byState = FINDING_STATES.map((state) => [state, totals.filter((t) => t.state === state)] as const).filter(([, rows]) => rows.length > 0);
  const body = byState.length
    ? html`<dl id="finding-totals">${byState.map(([state, rows]) => html`<dt>${label(state)}</dt>${rows.map((t) => html`<dd>${label(t.effect)}: <strong>${totalText(t)}</strong> <span class="meta">(${t.findings} ${t.findings === 1 ? 'finding' : 'findings'})</span></dd>`)}`)}</dl>`
    : html`<p id="finding-totals">No finding matches.</p>`;
  return html`<section aria-labelledby="totals-heading"><h2 id="totals-heading">Totals</h2>
<p class="meta">Savings and exposures of the findings listed, per state and currency: amounts in different currencies or states are never added.</p>
${body}</section>`;
}

function filterForm(filters: { state?: string; kind?: string }): SafeHtml {
  const option = (value: string, selected: string | undefined) => html`<option value="${value}"${value === selected && html` selected`}>${label(value)}</option>`;
  return html`<form method="get" action="${LIST}" class="filters">
<label for="filter-state">State</label> <select id="filter-state" name="state"><option value="">any</option>${FINDING_STATES.map((s) => option(s, filters.state))}</select>
<label for="filter-kind">Kind</label> <select id="filter-kind" name="kind"><option value="">any</option>${FINDING_KINDS.map((k) => option(k, filters.kind))}</select>
<button type="submit">Show</button></form>`;
}

function actForm(finding: Finding, ctx: ViewContext, text: 'Act' | 'Finish starting'): SafeHtml {
  const path = `${LIST}/${encodeURIComponent(finding.number)}`;
  return html`<form method="post" action="${`${path}/act`}">${csrfField(ctx.csrf)}<input type="hidden" name="commandId" value="${randomUUID()}">
<button type="submit" aria-label="${`${text === 'Act' ? 'Act on' : text} ${finding.number}`}">${text}</button></form>`;
}

function actionCell(ctx: ViewContext, finding: Finding): SafeHtml {
  const mayAct = finding.state === 'open' && hasAnyRole(ctx.user, FINDING_ACTORS);
  // Claimed and not started yet (a call that failed half way): acting again finishes starting the same action.
  if (finding.state === 'open' && finding.actionWorkflowId) {
    return html`<span class="meta">Being started (${finding.actionRef})</span>${mayAct && actForm(finding, ctx, 'Finish starting')}`;
  }
  if (finding.actionWorkflowId) {
    return html`<a href="${processHref(finding.actionWorkflowId)}">${finding.actionRef}</a>${finding.closingNote && html` <span class="meta">${finding.closingNote}</span>`}`;
  }
  if (!mayAct) return html`${finding.closingNote ?? ''}`;
  const path = `${LIST}/${encodeURIComponent(finding.number)}`;
  const past = pastActionsOf(finding);
  return html`${past.length > 0 && html`<p class="meta">Acted on before: ${past.map((a) => `${a.ref} (${a.endedAs})`).join(', ')}</p>`}${actForm(finding, ctx, 'Act')}
<form method="post" action="${`${path}/dismiss`}">${csrfField(ctx.csrf)}
<label for="${`reason-${finding.number}`}">Reason to dismiss</label> <input id="${`reason-${finding.number}`}" name="reason" required maxlength="2000">
<button type="submit" aria-label="${`Dismiss ${finding.number}`}">Dismiss</button></form>`;
}

function findingsTable(ctx: ViewContext, items: Finding[]): SafeHtml {
  if (!items.length) return html`<p>No finding matches.</p>`;
  return html`<table id="findings">
<caption>Findings, largest amounts first</caption>
<thead><tr><th scope="col">Finding</th><th scope="col">Kind</th><th scope="col">What was found</th><th scope="col" class="num">Amount</th><th scope="col">State</th><th scope="col">Found</th><th scope="col">Action</th></tr></thead>
<tbody>
${join(items.map((f) => html`<tr id="${`finding-${f.number}`}">
<th scope="row">${f.number}</th>
<td>${label(f.kind)}</td>
<td>${f.title} <span class="meta">${f.subjectRef}</span></td>
<td class="num">${label(f.effect)} ${formatMoney(f.amountMinor, f.currency)}</td>
<td>${label(f.state)}</td>
<td>${time(f.foundAt, ctx.timeZone)}</td>
<td>${actionCell(ctx, f)}</td>
</tr>`), '\n')}
</tbody></table>`;
}

export function registerFindingPages(router: Router, kit: WebKit): void {
  const { db } = kit.deps;

  async function renderList(res: Response, status: number, query: Record<string, unknown>, pageNotice?: Notice): Promise<void> {
    const ctx = await kit.context(res, 'finops');
    if (!isOverseer(ctx.user)) {
      sendHtml(res, 403, errorPage(ctx, 'Not for your role', 'Optimisation findings are for asset managers, process owners and admins.', [['/ui/my-requests', 'Your requests']]));
      return;
    }
    const parsed = findingsQuery.safeParse({ state: str(query.state) || undefined, kind: str(query.kind) || undefined, limit: str(query.limit), offset: str(query.offset) });
    if (!parsed.success) {
      sendHtml(res, 400, errorPage(ctx, 'No such list', `Check the address: ${parsed.error.issues.map((i) => `${i.path.join('.') || 'query'}: ${i.message}`).join('; ')}`, [[LIST, 'Findings']]));
      return;
    }
    const { state, kind, ...page } = parsed.data;
    const result = await listFindings(db, { state, kind }, page);
    sendHtml(res, status, layout(ctx, 'Optimisation findings', html`<h1>Optimisation findings</h1>
${notice(pageNotice)}
<p class="meta">Waste and risk found in the estate, on a schedule and on demand, each with its saving or exposure. Acting on one starts its process: a change reclaiming licences (or, for seats nobody holds, reducing the entitlements at renewal), a retirement, a change naming the record, or a renewal decision. A finding is resolved once its process did it, and open again when the process did not (rejected, cancelled).</p>
${filterForm({ state, kind })}
${totalsSection(result.totals)}
<section aria-labelledby="list-heading"><h2 id="list-heading">Findings</h2>
${findingsTable(ctx, result.items)}
${pager(result.page, LIST, { state, kind })}</section>`));
  }

  /** What the page says after a command that went through, read back from the finding. */
  async function noticeAfter(number: string | undefined): Promise<Notice | undefined> {
    const parsed = findingParams.safeParse({ number });
    const finding = parsed.success ? await findFinding(db, parsed.data.number) : undefined;
    if (finding?.state === 'acted') return { kind: 'ok', text: `${finding.number}: ${finding.actionRef} was started (${finding.actionWorkflowId}).` };
    if (finding?.state === 'dismissed') return { kind: 'ok', text: `${finding.number} was dismissed.` };
    return undefined;
  }

  router.get('/finops/findings', async (req, res) => {
    await renderList(res, 200, req.query, await noticeAfter(str(req.query.done)));
  });

  /** The person signed in, when they may send these commands; otherwise a 403 page, and undefined. */
  async function actorOf(res: Response) {
    const { user } = kit.signedInOf(res);
    if (hasAnyRole(user, FINDING_ACTORS)) return user;
    sendHtml(res, 403, errorPage(await kit.context(res, 'finops'), 'Not for your role', 'Only process owners and admins act on findings or dismiss them. Nothing was changed.', [[LIST, 'Findings']]));
    return undefined;
  }

  /** A refusal the page can show; anything else (a failure on our side) goes to the error handler. */
  const refusalOf = (error: unknown): HttpError => {
    const known = toHttpError(error);
    if (!known || known.status >= 500) throw error;
    return known;
  };

  const refused = (res: Response, known: HttpError) => renderList(res, known.status, {}, { kind: 'error', text: `Nothing was changed: ${known.message}` });

  router.post('/finops/findings/:number/act', async (req, res) => {
    const user = await actorOf(res);
    if (!user) return;
    try {
      const { number } = findingParams.parse({ number: req.params.number });
      await actOnFinding(kit.deps, user, number, req, formKeyOf(req.body ?? {}));
      res.redirect(303, `${LIST}?done=${encodeURIComponent(number)}`);
    } catch (error) {
      await refused(res, error instanceof z.ZodError ? badRequest('no such finding') : refusalOf(error));
    }
  });

  router.post('/finops/findings/:number/dismiss', async (req, res) => {
    const user = await actorOf(res);
    if (!user) return;
    const parsed = z.object({ params: findingParams, body: dismissFindingBody }).safeParse({ params: { number: req.params.number }, body: { reason: text(req.body ?? {}, 'reason') } });
    if (!parsed.success) {
      await refused(res, badRequest('give the reason to dismiss the finding'));
      return;
    }
    try {
      await dismissFinding(kit.deps, user, parsed.data.params.number, parsed.data.body.reason);
      res.redirect(303, `${LIST}?done=${encodeURIComponent(parsed.data.params.number)}`);
    } catch (error) {
      await refused(res, refusalOf(error));
    }
  });
}
