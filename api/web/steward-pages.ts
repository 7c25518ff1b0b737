/**
 * The data steward's pages (issue 16): the cases, and one case with its records side by side and,
 * for a steward whose decision it waits for, the decision form (merge into a chosen record, keep
 * both, ignore). The form posts through the same command as POST /reconciliation/cases/:number/decision,
 * which decides the steward's approval as the inbox and the emailed link do.
 */
import type { Request, Response, Router } from 'express';
import { z } from 'zod';
import { CASE_STATES, listStewardCases, openCaseApprovalOf, type CaseDetail, type CaseRecord, type CaseSummary } from '../../model/reconciliation/cases';
import type { Page } from '../../model/page';
import { CASE_RESOLUTIONS, type StewardCaseState } from '../../workflows/steward-case/contract';
import { OVERSEERS } from '../auth';
import { toHttpError } from '../errors';
import { caseDecisionBody, decideStewardCase, readableCase } from '../routes/reconciliation-cases';
import { str } from './forms';
import { html, join, sendHtml, type SafeHtml } from './html';
import type { WebKit, WebRoute } from './router';
import { csrfField, errorPage, isOverseer, label, layout, notice, pager, queryString, time, type Notice, type ViewContext } from './views';

export const STEWARD_PAGE_ROUTES: readonly WebRoute[] = [
  { method: 'get', path: '/reconciliation/cases', access: OVERSEERS },
  { method: 'get', path: '/reconciliation/cases/:number', access: 'signed_in' },
  { method: 'post', path: '/reconciliation/cases/:number/decision', access: 'signed_in' },
];

const casePath = (number: string) => `/ui/reconciliation/cases/${encodeURIComponent(number)}`;
const ciPath = (id: string) => `/ui/cis/${encodeURIComponent(id)}`;

function casesPage(ctx: ViewContext, result: Page<CaseSummary>, state: StewardCaseState | undefined): SafeHtml {
  const rows = result.items.map((c) => html`<tr>
  <td><a href="${casePath(c.number)}">${c.number}</a></td>
  <td>${join(c.records.map((r) => html`<a href="${ciPath(r.id)}">${r.number}</a> ${r.name}`), html`<br>`)}</td>
  <td>${c.reason}</td>
  <td>${label(c.state)}</td>
  <td>${time(c.createdAt, ctx.timeZone)}</td>
  <td>${time(c.decidedAt, ctx.timeZone)}</td>
</tr>`);
  const options = CASE_STATES.map((s) => html`<option value="${s}"${s === state ? html` selected` : ''}>${label(s)}</option>`);
  return layout(ctx, 'Steward cases', html`<h1>Steward cases</h1>
<p>Records a feed named as one thing that identification could not tell apart. A data steward merges them, keeps both, or ignores the row; kept and ignored pairs are not asked about again.</p>
<form method="get" action="/ui/reconciliation/cases" class="filters">
  <label for="state">State</label>
  <select id="state" name="state"><option value="">any</option>${options}</select>
  <button type="submit">Show</button>
</form>
${result.items.length === 0
    ? html`<p>No cases${state ? html` ${label(state)}` : ''}.</p>`
    : html`<table><caption>Cases, newest first</caption>
<thead><tr><th scope="col">Case</th><th scope="col">Records</th><th scope="col">Why</th><th scope="col">State</th><th scope="col">Opened</th><th scope="col">Decided</th></tr></thead>
<tbody>${rows}</tbody></table>`}
${pager(result.page, '/ui/reconciliation/cases', { state })}`);
}

/** One attribute of every record, side by side. */
function compareRow(title: string, records: CaseRecord[], value: (r: CaseRecord) => SafeHtml | string): SafeHtml {
  return html`<tr><th scope="row">${title}</th>${records.map((r) => html`<td>${value(r)}</td>`)}</tr>`;
}

function recordsTable(ctx: ViewContext, c: CaseDetail): SafeHtml {
  const records = c.recordDetails;
  const ident = (v: string | null) => v ?? '—';
  const provenance = (r: CaseRecord) => r.provenance.length === 0
    ? '—'
    : html`<ul>${r.provenance.map((p) => html`<li>${label(p.attribute)}: ${label(p.source)}, set ${time(p.setAt, ctx.timeZone)}, confirmed ${time(p.confirmedAt, ctx.timeZone)}</li>`)}</ul>`;
  const sightings = (r: CaseRecord) => r.sightings.length === 0
    ? '—'
    : html`<ul>${r.sightings.map((s) => html`<li>${label(s.source)}: first ${time(s.firstSeenAt, ctx.timeZone)}, last ${time(s.lastSeenAt, ctx.timeZone)}</li>`)}</ul>`;
  return html`<table><caption>The records side by side</caption>
<thead><tr><th scope="col">Attribute</th>${records.map((r) => html`<th scope="col"><a href="${ciPath(r.id)}">${r.number}</a>${r.id === c.proposedSurvivorId && c.state === 'open' ? ' (proposed to stay)' : ''}</th>`)}</tr></thead>
<tbody>
${compareRow('Name', records, (r) => r.name)}
${compareRow('Class', records, (r) => label(r.ciClass))}
${compareRow('Discovery', records, (r) => label(r.discoveryState))}
${compareRow('Status', records, (r) => `${label(r.operationalStatus)}${r.mergedIntoId ? ' (merged)' : ''}`)}
${compareRow('Environment', records, (r) => r.environment)}
${compareRow('Created', records, (r) => time(r.createdAt, ctx.timeZone))}
${compareRow('Host name', records, (r) => ident(r.identifiers.hostname))}
${compareRow('Domain', records, (r) => ident(r.identifiers.domain))}
${compareRow('MAC address', records, (r) => ident(r.identifiers.macAddress))}
${compareRow('Cloud resource id', records, (r) => ident(r.identifiers.cloudResourceId))}
${compareRow('Asset', records, (r) => (r.asset ? html`<a href="/ui/assets/${encodeURIComponent(r.asset.assetTag)}">${r.asset.assetTag}</a> (${label(r.asset.state)})` : 'none'))}
${compareRow('Serial number', records, (r) => ident(r.asset?.serialNumber ?? null))}
${compareRow('Relationships', records, (r) => String(r.counts.relationships))}
${compareRow('Installations', records, (r) => String(r.counts.installations))}
${compareRow('Cost records', records, (r) => String(r.counts.costRecords))}
${compareRow('Changes naming it', records, (r) => String(r.counts.changes))}
${compareRow('Provenance', records, provenance)}
${compareRow('Sightings', records, sightings)}
</tbody></table>`;
}

function decisionForm(ctx: ViewContext, c: CaseDetail, values: { choice?: string; comment?: string }): SafeHtml {
  const chosen = values.choice ?? `merge:${c.proposedSurvivorId}`;
  const radio = (value: string, id: string, text: SafeHtml | string) =>
    html`<div><input type="radio" id="${id}" name="choice" value="${value}"${chosen === value ? html` checked` : ''}> <label for="${id}">${text}</label></div>`;
  return html`<h2 id="decide">Your decision</h2>
<form method="post" action="${casePath(c.number)}/decision">
  ${csrfField(ctx.csrf)}
  <fieldset><legend>What are these records?</legend>
  ${c.recordDetails.map((r, i) => radio(`merge:${r.id}`, `merge-${i}`, html`One thing: merge them into <strong>${r.number} ${r.name}</strong>, which stays`))}
  ${radio('keep_both', 'keep-both', 'Different things: keep both (this pair is not asked about again)')}
  ${radio('ignore', 'ignore', 'Noise: ignore the row that raised it (not asked about again)')}
  </fieldset>
  <label for="comment">Comment</label>
  <textarea id="comment" name="comment" rows="3" maxlength="2000">${values.comment ?? ''}</textarea>
  <div class="actions"><button type="submit">Decide</button></div>
</form>`;
}

function casePage(ctx: ViewContext, c: CaseDetail, input: { mayDecide: boolean; notice?: Notice; values?: { choice?: string; comment?: string } }): SafeHtml {
  const rowCells = c.row ? Object.entries(c.row).filter(([, v]) => v !== null && v !== undefined && v !== '') : [];
  const decided = c.state !== 'open' && c.state !== 'cancelled'
    ? html`<p role="status">${label(c.state)} by ${c.decidedBy?.name ?? 'someone'} ${time(c.decidedAt, ctx.timeZone)}${c.survivorCiId ? html`: <a href="${ciPath(c.survivorCiId)}">${c.recordDetails.find((r) => r.id === c.survivorCiId)?.number ?? 'the survivor'}</a> stays` : ''}${c.comment ? ` ("${c.comment}")` : ''}.</p>`
    : html``;
  const approvals = c.approvals.map((a) => html`<tr><td>${a.revision + 1}</td><td>${a.approverName}</td><td>${label(a.state)}</td><td>${time(a.decidedAt, ctx.timeZone)}</td><td>${a.comment ?? ''}</td></tr>`);
  return layout(ctx, `Steward case ${c.number}`, html`<p class="meta"><a href="/ui/reconciliation/cases">← Steward cases</a></p>
<h1>${c.number}: ${c.records.map((r) => r.number).join(' and ')}</h1>
${notice(input.notice)}
<p class="meta">state <strong>${label(c.state)}</strong> · opened ${time(c.createdAt, ctx.timeZone)}${c.workflowId ? html` · <a href="/ui/processes/${encodeURIComponent(c.workflowId)}">its process</a>` : ''}</p>
<p>${c.reason}.</p>
${c.refusal ? html`<p class="notice error" role="alert">The last decision could not be carried out: ${c.refusal}. Nothing was changed; the stewards are asked again.</p>` : ''}
${c.routingNote ? html`<p class="notice">${c.routingNote}</p>` : ''}
${decided}
${recordsTable(ctx, c)}
<h2>The row that found them</h2>
${c.importId ? html`<p>Row ${c.rowNumber} of <a href="${`/ui/inventory/batches/${encodeURIComponent(c.importId)}?filter=hold#row-${c.rowNumber}`}">its batch</a>.</p>` : html`<p>Its batch is no longer kept.</p>`}
${rowCells.length
    ? html`<table><caption>The row as the feed sent it</caption><thead><tr><th scope="col">Column</th><th scope="col">Value</th></tr></thead>
<tbody>${rowCells.map(([k, v]) => html`<tr><th scope="row">${k}</th><td>${typeof v === 'string' ? v : JSON.stringify(v)}</td></tr>`)}</tbody></table>`
    : ''}
${input.mayDecide && c.state === 'open' ? decisionForm(ctx, c, input.values ?? {}) : ''}
<h2>Approvals</h2>
${approvals.length
    ? html`<table><caption>Who was asked</caption><thead><tr><th scope="col">Round</th><th scope="col">Steward</th><th scope="col">State</th><th scope="col">Decided</th><th scope="col">Comment</th></tr></thead><tbody>${approvals}</tbody></table>`
    : html`<p>Nobody has been asked yet.</p>`}`);
}

/** The form's choice as the decision command's body: "merge:<record>", "keep_both" or "ignore". */
function bodyOfChoice(choice: string | undefined, comment: string | undefined): z.ZodSafeParseResult<z.output<typeof caseDecisionBody>> {
  const [resolution, survivorCiId] = (choice ?? '').split(':');
  return caseDecisionBody.safeParse({ resolution, ...(survivorCiId ? { survivorCiId } : {}), ...(comment?.trim() ? { comment: comment.trim() } : {}) });
}

export function registerStewardPages(router: Router, kit: WebKit): void {
  const { db, temporal } = kit.deps;

  router.get('/reconciliation/cases', async (req, res) => {
    const ctx = await kit.context(res, 'steward-cases');
    if (!isOverseer(ctx.user)) {
      sendHtml(res, 403, errorPage(ctx, 'Not for your role', 'The list of steward cases is for process owners, asset managers and admins; your cases are in your inbox.', [['/ui/inbox', 'Inbox']]));
      return;
    }
    const query = z.object({
      state: z.enum(['open', 'merged', 'kept_both', 'ignored', 'cancelled']).optional().catch(undefined),
      limit: z.coerce.number().int().min(1).max(200).catch(50),
      offset: z.coerce.number().int().min(0).catch(0),
    }).parse({ state: str(req.query.state) || undefined, limit: str(req.query.limit) ?? 50, offset: str(req.query.offset) ?? 0 });
    const result = await listStewardCases(db, { state: query.state }, query);
    sendHtml(res, 200, casesPage(ctx, result, query.state));
  });

  async function renderCase(res: Response, number: string, status: number, input: { notice?: Notice; values?: { choice?: string; comment?: string } } = {}): Promise<void> {
    const ctx = await kit.context(res, 'steward-cases');
    try {
      const found = await readableCase(db, ctx.user, number);
      const mayDecide = (await openCaseApprovalOf(db, found.id, ctx.user.id)) !== undefined;
      sendHtml(res, status, casePage(ctx, found, { mayDecide, ...input }));
    } catch (error) {
      const known = toHttpError(error);
      if (!known || known.status >= 500) throw error;
      sendHtml(res, known.status, errorPage(ctx, known.status === 404 ? 'Not found' : 'Not yours to see', known.message, [['/ui/inbox', 'Inbox']]));
    }
  }

  router.get('/reconciliation/cases/:number', async (req: Request, res: Response) => {
    // Only a resolution the form can send is echoed back: the notice never says what a link made up.
    const decided = z.enum(CASE_RESOLUTIONS).optional().catch(undefined).parse(str(req.query.decided) || undefined);
    await renderCase(res, String(req.params.number), 200, decided ? { notice: { kind: 'ok', text: `You decided: ${label(decided)}. The case is settled as soon as its workflow has carried it out.` } } : {});
  });

  router.post('/reconciliation/cases/:number/decision', async (req: Request, res: Response) => {
    const number = String(req.params.number);
    const body = (req.body ?? {}) as Record<string, unknown>;
    const values = { choice: str(body.choice), comment: str(body.comment) };
    const parsed = bodyOfChoice(values.choice, values.comment);
    if (!parsed.success) {
      await renderCase(res, number, 400, { values, notice: { kind: 'error', text: 'Choose merge (and the record that stays), keep both or ignore; a comment has at most 2000 characters. Nothing was changed.' } });
      return;
    }
    try {
      const outcome = await decideStewardCase(db, temporal, kit.signedInOf(res).user, number, parsed.data);
      res.redirect(303, `${casePath(number)}${queryString({ decided: outcome.resolution })}`);
    } catch (error) {
      const known = toHttpError(error);
      if (!known || known.status >= 500) throw error;
      await renderCase(res, number, known.status, { values, notice: { kind: 'error', text: `Nothing was changed: ${known.message}` } });
    }
  });
}
