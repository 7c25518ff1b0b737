/**
 * The web UI's pages as pure functions from data to HTML. Every value that comes from a person or
 * the database goes through escapeHtml; URLs are built from encoded parts.
 */
import type { ApprovalSubjectSummary } from '../../model/approval-subjects';
import type { ApprovalRecord } from '../../model/changes';
import type { ProcessDashboard, ProcessSummary, ProcessType } from '../../model/processes';
import { OVERSEERS, hasAnyRole, type Principal } from '../auth';
import { escapeHtml as e, page } from '../html';
import { throughputByWeek, throughputChart } from './chart';

export type NavItem = 'dashboard' | 'processes' | 'inbox' | 'my-requests' | 'none';

/** What every signed-in page needs for its header. */
export interface ViewContext {
  user: Principal;
  csrf: string;
  /** The dev mail sink runs: link its page. */
  mailbox: boolean;
  current: NavItem;
  /** Approvals waiting for the user, shown next to "Inbox". */
  inboxCount: number;
  now: number;
}

export interface Notice {
  kind: 'ok' | 'error';
  text: string;
}

export const TYPE_LABELS: Record<ProcessType, string> = { change: 'Change', procurement: 'Purchase', asset_lifecycle: 'Asset lifecycle' };

export const label = (text: string) => text.replace(/_/g, ' ');

export const isOverseer = (user: Principal) => hasAnyRole(user, OVERSEERS);

/** Query string from the non-empty values, with a leading "?" (or nothing). */
export function queryString(values: Record<string, string | number | undefined>): string {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(values)) if (value !== undefined && value !== '') params.set(key, String(value));
  const text = params.toString();
  return text ? `?${text}` : '';
}

export const processHref = (workflowId: string) => `/ui/processes/${encodeURIComponent(workflowId)}`;

/** "2026-11-27 14:03 UTC" in a <time> element that carries the exact instant. */
export function time(iso: string | null | undefined): string {
  if (!iso) return '';
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return e(iso);
  const text = `${d.toISOString().slice(0, 10)} ${d.toISOString().slice(11, 16)} UTC`;
  return `<time datetime="${e(d.toISOString())}">${text}</time>`;
}

/** A duration in words a person reads at a glance: "45 min", "5 h 10 min", "3 d 4 h". */
export function duration(ms: number): string {
  const minutes = Math.max(0, Math.floor(ms / 60_000));
  if (minutes < 1) return 'under a minute';
  if (minutes < 60) return `${minutes} min`;
  const hours = Math.floor(minutes / 60);
  if (hours < 24) return `${hours} h${minutes % 60 ? ` ${minutes % 60} min` : ''}`;
  const days = Math.floor(hours / 24);
  return `${days} d${hours % 24 ? ` ${hours % 24} h` : ''}`;
}

export const notice = (n: Notice | undefined) =>
  n ? `<p class="notice ${n.kind}" role="${n.kind === 'error' ? 'alert' : 'status'}">${e(n.text)}</p>` : '';

export const csrfField = (token: string) => `<input type="hidden" name="csrf" value="${e(token)}">`;

/** Where a person lands after signing in: the dashboard if they may see it, else their inbox or their requests. */
export function homeFor(user: Principal): string {
  if (isOverseer(user)) return '/ui';
  return hasAnyRole(user, ['approver']) ? '/ui/inbox' : '/ui/my-requests';
}

function header(ctx: ViewContext | undefined): string {
  const brand = `<a class="brand" href="${ctx ? homeFor(ctx.user) : '/ui'}">assetflow</a>`;
  if (!ctx) return brand;
  const items: [NavItem | 'mail', string, string][] = [
    ...(isOverseer(ctx.user) ? ([['dashboard', '/ui', 'Dashboard']] as [NavItem, string, string][]) : []),
    ['processes', '/ui/processes', 'Processes'],
    ['inbox', '/ui/inbox', `Inbox${ctx.inboxCount ? ` (${ctx.inboxCount})` : ''}`],
    ['my-requests', '/ui/my-requests', 'My requests'],
    ...(ctx.mailbox ? ([['mail', '/dev/mail', 'Mail (dev sink)']] as [NavItem | 'mail', string, string][]) : []),
  ];
  const links = items
    .map(([key, href, text]) => `<li><a href="${e(href)}"${key === ctx.current ? ' aria-current="page"' : ''}>${e(text)}</a></li>`)
    .join('');
  return `${brand}
<nav aria-label="Main"><ul>${links}</ul></nav>
<div class="who"><span>Signed in as <strong>${e(ctx.user.name)}</strong> <span class="meta">(${e(ctx.user.roles.map(label).join(', ') || 'no role')})</span></span>
<form method="post" action="/ui/sign-out">${csrfField(ctx.csrf)}<button type="submit" class="secondary">Sign out</button></form></div>`;
}

/** A page of the web UI: the shared look of api/html.ts with the site header and navigation. */
export function layout(ctx: ViewContext | undefined, title: string, body: string): string {
  return page(title, body, { header: header(ctx) });
}

// ---------------------------------------------------------------------------------------------
// Sign in, errors
// ---------------------------------------------------------------------------------------------

export interface DemoPerson {
  id: string;
  name: string;
  email: string;
  roles: string[];
}

export function signInPage(input: { token: string; next: string; notice?: Notice; demoPeople?: DemoPerson[] }): string {
  const hidden = `<input type="hidden" name="csrf" value="${e(input.token)}"><input type="hidden" name="next" value="${e(input.next)}">`;
  const demo = input.demoPeople
    ? `<section aria-labelledby="demo-heading">
<h2 id="demo-heading">Or pick a demo person</h2>
<p class="meta">The embedded demo runs: anyone may sign in as one of its people (their keys are af_demo_&lt;first&gt;_&lt;last&gt;).</p>
<form method="post" action="/ui/sign-in">
${hidden}
<label for="personId">Demo person</label>
<select id="personId" name="personId" required>
${input.demoPeople.map((p) => `<option value="${e(p.id)}">${e(p.name)} · ${e(p.roles.map(label).join(', '))}</option>`).join('\n')}
</select>
<div class="actions"><button type="submit">Sign in as this person</button></div>
</form>
</section>`
    : '';
  const body = `<h1>Sign in</h1>
${notice(input.notice)}
<form method="post" action="/ui/sign-in">
${hidden}
<label for="apiKey">API key</label>
<input id="apiKey" name="apiKey" type="password" autocomplete="current-password" size="40" required>
<div class="actions"><button type="submit">Sign in</button></div>
</form>
${demo}`;
  return layout(undefined, 'Sign in', body);
}

export function errorPage(ctx: ViewContext | undefined, title: string, message: string, links: [string, string][] = []): string {
  const more = links.length ? `<ul>${links.map(([href, text]) => `<li><a href="${e(href)}">${e(text)}</a></li>`).join('')}</ul>` : '';
  return layout(ctx, title, `<h1>${e(title)}</h1>\n<p class="notice error" role="alert">${e(message)}</p>\n${more}`);
}

export function signOutPage(ctx: ViewContext): string {
  return layout(ctx, 'Sign out', `<h1>Sign out</h1>
<form method="post" action="/ui/sign-out">${csrfField(ctx.csrf)}<div class="actions"><button type="submit">Sign out</button></div></form>`);
}

// ---------------------------------------------------------------------------------------------
// Process tables
// ---------------------------------------------------------------------------------------------

function slaCell(p: ProcessSummary): string {
  if (p.finishedAt) return '<span class="meta">finished</span>';
  if (!p.slaDueAt) return '<span class="meta">no target</span>';
  if (p.slaBreached) return `<span class="breached">Breached</span> (due ${time(p.slaDueAt)})`;
  return `due ${time(p.slaDueAt)}`;
}

function waitingCells(p: ProcessSummary, now: number): string {
  const names = p.waitingFor.map((w) => e(w.name)).join(', ');
  const since = p.waitingSince ? `${time(p.waitingSince)}<br><span class="meta">${e(duration(now - Date.parse(p.waitingSince)))}</span>` : '';
  return `<td>${names || '<span class="meta">nobody</span>'}</td><td>${since}</td>`;
}

export function processTable(items: ProcessSummary[], now: number, caption: string, options: { captionHidden?: boolean } = {}): string {
  if (!items.length) return '<p>No process matches.</p>';
  const rows = items
    .map(
      (p) => `<tr>
<th scope="row"><a href="${e(processHref(p.workflowId))}">${e(p.businessNumber)}</a></th>
<td>${e(TYPE_LABELS[p.process] ?? p.process)}</td>
<td>${e(p.title)}</td>
<td>${e(label(p.state))}${p.outcome ? ` <span class="meta">(${e(label(p.outcome))})</span>` : ''}</td>
<td>${e(p.requester?.name ?? '')}</td>
${waitingCells(p, now)}
<td>${slaCell(p)}</td>
</tr>`,
    )
    .join('\n');
  return `<table class="processes">
<caption${options.captionHidden ? ' class="sr-only"' : ''}>${e(caption)}</caption>
<thead><tr><th scope="col">Number</th><th scope="col">Type</th><th scope="col">Title</th><th scope="col">State</th><th scope="col">Requester</th><th scope="col">Waiting for</th><th scope="col">Waiting since</th><th scope="col">SLA</th></tr></thead>
<tbody>
${rows}
</tbody>
</table>`;
}

export function pager(pageInfo: { limit: number; offset: number; total: number }, base: string, query: Record<string, string | undefined>): string {
  const { limit, offset, total } = pageInfo;
  if (total === 0) return '';
  const first = Math.min(offset + 1, total);
  const last = Math.min(offset + limit, total);
  const link = (to: number, text: string, rel: string) => `<a href="${e(base + queryString({ ...query, offset: to || undefined, limit: limit === 50 ? undefined : limit }))}" rel="${rel}">${text}</a>`;
  const prev = offset > 0 ? link(Math.max(0, offset - limit), '← Previous', 'prev') : '';
  const next = offset + limit < total ? link(offset + limit, 'Next →', 'next') : '';
  return `<nav class="pager" aria-label="Pages"><span>${first}–${last} of ${total}</span>${prev}${next}</nav>`;
}

// ---------------------------------------------------------------------------------------------
// Dashboard
// ---------------------------------------------------------------------------------------------

const AGE_BUCKETS = ['<1d', '1-7d', '7-30d', '>30d'] as const;
const AGE_LABELS: Record<(typeof AGE_BUCKETS)[number], string> = { '<1d': 'under 1 day', '1-7d': '1 to 7 days', '7-30d': '7 to 30 days', '>30d': 'over 30 days' };

export function dashboardPage(ctx: ViewContext, dash: ProcessDashboard): string {
  const types = [...new Set(dash.byTypeAndState.map((r) => r.process))];
  const stateRows = new Map<string, { process: ProcessType; state: string; open: number; finished: number }>();
  for (const r of dash.byTypeAndState) {
    const key = `${r.process}/${r.state}`;
    const row = stateRows.get(key) ?? { process: r.process, state: r.state, open: 0, finished: 0 };
    if (r.open) row.open += r.count;
    else row.finished += r.count;
    stateRows.set(key, row);
  }
  const listLink = (query: Record<string, string>, text: string | number) => `<a href="${e(`/ui/processes${queryString(query)}`)}">${e(String(text))}</a>`;
  const counts = stateRows.size
    ? `<table>
<caption>Processes by type and state</caption>
<thead><tr><th scope="col">Type</th><th scope="col">State</th><th scope="col" class="num">Open</th><th scope="col" class="num">Finished</th></tr></thead>
<tbody>
${[...stateRows.values()]
  .map((r) => `<tr><td>${e(TYPE_LABELS[r.process] ?? r.process)}</td><th scope="row">${listLink({ type: r.process, state: r.state }, label(r.state))}</th><td class="num">${r.open}</td><td class="num">${r.finished}</td></tr>`)
  .join('\n')}
</tbody></table>`
    : '<p>No processes yet.</p>';

  const breachedTotal = dash.slaBreached.reduce((sum, b) => sum + b.count, 0);
  const breaches = `<table>
<caption>Open processes past their SLA target</caption>
<thead><tr><th scope="col">Type</th><th scope="col" class="num">Breached</th></tr></thead>
<tbody>
${(types.length ? types : (['change', 'procurement'] as ProcessType[]))
  .map((t) => {
    const count = dash.slaBreached.find((b) => b.process === t)?.count ?? 0;
    return `<tr><th scope="row">${e(TYPE_LABELS[t] ?? t)}</th><td class="num">${count ? `<span class="breached">${listLink({ type: t, slaBreached: 'true', sort: 'sla_due' }, count)}</span>` : '0'}</td></tr>`;
  })
  .join('\n')}
</tbody></table>
<p>${breachedTotal ? `<span class="breached">${breachedTotal} open process${breachedTotal === 1 ? ' is' : 'es are'} past the SLA target.</span> ${listLink({ slaBreached: 'true', sort: 'sla_due' }, 'See them all')}` : 'No open process is past its SLA target.'}</p>`;

  const ageing = `<table>
<caption>Open processes by age since they started</caption>
<thead><tr><th scope="col">Type</th>${AGE_BUCKETS.map((b) => `<th scope="col" class="num">${e(AGE_LABELS[b])}</th>`).join('')}</tr></thead>
<tbody>
${[...new Set(dash.ageing.map((a) => a.process))]
  .map((t) => `<tr><th scope="row">${e(TYPE_LABELS[t] ?? t)}</th>${AGE_BUCKETS.map((b) => `<td class="num">${dash.ageing.find((a) => a.process === t && a.bucket === b)?.count ?? 0}</td>`).join('')}</tr>`)
  .join('\n') || `<tr><td colspan="${AGE_BUCKETS.length + 1}">No open processes.</td></tr>`}
</tbody></table>`;

  const weeks = throughputByWeek(dash.throughput);
  const throughputTypes = [...new Set(dash.throughput.map((t) => t.process))];
  const throughputTable = `<table id="throughput-table">
<caption>Started and finished per week (the chart's figures)</caption>
<thead><tr><th scope="col">Week</th>${throughputTypes.map((t) => `<th scope="col" class="num">${e(TYPE_LABELS[t])} started</th><th scope="col" class="num">${e(TYPE_LABELS[t])} finished</th>`).join('')}<th scope="col" class="num">All started</th><th scope="col" class="num">All finished</th></tr></thead>
<tbody>
${weeks
  .map((w) => `<tr><th scope="row">${e(w.week)}</th>${throughputTypes
    .map((t) => {
      const row = dash.throughput.find((r) => r.week === w.week && r.process === t);
      return `<td class="num">${row?.started ?? 0}</td><td class="num">${row?.finished ?? 0}</td>`;
    })
    .join('')}<td class="num">${w.started}</td><td class="num">${w.finished}</td></tr>`)
  .join('\n')}
</tbody></table>`;

  const body = `<h1>Dashboard</h1>
<div class="grid2">
<section aria-labelledby="counts-heading"><h2 id="counts-heading">Counts by type and state</h2>${counts}</section>
<div>
<section aria-labelledby="sla-heading"><h2 id="sla-heading">SLA breaches</h2>${breaches}</section>
<section aria-labelledby="ageing-heading"><h2 id="ageing-heading">Ageing</h2>${ageing}</section>
</div>
</div>
<section aria-labelledby="throughput-heading">
<h2 id="throughput-heading">Throughput, last ${weeks.length} weeks</h2>
${throughputChart(weeks)}
${throughputTable}
</section>`;
  return layout(ctx, 'Dashboard', body);
}

// ---------------------------------------------------------------------------------------------
// The process list
// ---------------------------------------------------------------------------------------------

/** The list's filters as the form sent them (strings), to fill the form again and build links. */
export interface ListFormValues {
  type?: string;
  state?: string;
  waitingFor?: string;
  slaBreached?: string;
  open?: string;
  costCentre?: string;
  q?: string;
  sort?: string;
  limit?: string;
}

export interface ListOptions {
  states: string[];
  /** People to pick as "waiting for" (overseers only). */
  approvers: { id: string; name: string }[];
  costCentres: { code: string; name: string }[];
  sorts: readonly string[];
}

const SORT_LABELS: Record<string, string> = {
  newest: 'newest first',
  oldest: 'oldest first',
  sla_due: 'SLA due soonest',
  waiting_longest: 'waiting longest',
  number: 'number',
};

function select(id: string, name: string, text: string, options: [string, string][], selected: string | undefined): string {
  return `<div><label for="${e(id)}">${e(text)}</label><select id="${e(id)}" name="${e(name)}">${options
    .map(([value, optionText]) => `<option value="${e(value)}"${value === (selected ?? '') ? ' selected' : ''}>${e(optionText)}</option>`)
    .join('')}</select></div>`;
}

export function processesPage(
  ctx: ViewContext,
  input: { values: ListFormValues; options: ListOptions; result?: { items: ProcessSummary[]; page: { limit: number; offset: number; total: number } }; notice?: Notice },
): string {
  const v = input.values;
  const overseer = isOverseer(ctx.user);
  const waitingOptions: [string, string][] = overseer
    ? [['', 'anyone'], ['me', `me (${ctx.user.name})`], ...input.options.approvers.filter((a) => a.id !== ctx.user.id).map((a): [string, string] => [a.id, a.name])]
    : [['', 'nobody in particular (my requests)'], ['me', `me (${ctx.user.name})`]];
  const form = `<form class="filters" method="get" action="/ui/processes" role="search" aria-label="Filter processes">
${select('f-type', 'type', 'Type', [['', 'any'], ...(Object.entries(TYPE_LABELS) as [string, string][])], v.type)}
${select('f-state', 'state', 'State', [['', 'any'], ...input.options.states.map((s): [string, string] => [s, label(s)])], v.state)}
${select('f-waiting', 'waitingFor', 'Waiting for', waitingOptions, v.waitingFor)}
${select('f-open', 'open', 'Open or finished', [['', 'either'], ['true', 'open'], ['false', 'finished']], v.open)}
${select('f-cc', 'costCentre', 'Cost centre', [['', 'any'], ...input.options.costCentres.map((c): [string, string] => [c.code, `${c.code} ${c.name}`])], v.costCentre)}
<div><label for="f-q">Number or title</label><input id="f-q" name="q" type="search" value="${e(v.q ?? '')}" maxlength="100"></div>
${select('f-sort', 'sort', 'Sort', input.options.sorts.map((s): [string, string] => [s, SORT_LABELS[s] ?? label(s)]), v.sort ?? 'newest')}
<div class="check"><input id="f-sla" name="slaBreached" type="checkbox" value="true"${v.slaBreached === 'true' ? ' checked' : ''}> <label for="f-sla">SLA breached only</label></div>
${v.limit ? `<input type="hidden" name="limit" value="${e(v.limit)}">` : ''}
<div><button type="submit">Filter</button> <a href="/ui/processes">Clear</a></div>
</form>`;
  const result = input.result;
  const list = result
    ? `<p role="status">${result.page.total} process${result.page.total === 1 ? '' : 'es'} match.</p>
${processTable(result.items, ctx.now, overseer ? 'Processes' : 'Processes you requested or must decide', { captionHidden: true })}
${pager(result.page, '/ui/processes', { ...v })}`
    : '';
  const intro = overseer ? '' : '<p class="meta">You see the processes you requested, or those waiting for your decision.</p>';
  return layout(ctx, 'Processes', `<h1>Processes</h1>\n${intro}\n${form}\n${notice(input.notice)}\n${list}`);
}

// ---------------------------------------------------------------------------------------------
// One process
// ---------------------------------------------------------------------------------------------

export interface TimelineEntry {
  at: string;
  kind: 'event' | 'email';
  actor?: string;
  action?: string;
  fromState?: string | null;
  toState?: string | null;
  details?: Record<string, unknown>;
  template?: string;
  to?: string[] | string;
  subject?: string;
  status?: string;
}

/** A value of an audit row's details as a person reads it: no quotes and braces unless needed. */
function plain(value: unknown): string {
  if (value === null || value === undefined) return '–';
  if (Array.isArray(value)) return value.length ? value.map(plain).join(', ') : 'none';
  if (typeof value === 'object') {
    return `(${Object.entries(value as Record<string, unknown>).map(([k, v]) => `${k} ${plain(v)}`).join(', ')})`;
  }
  return String(value);
}

function detailsText(details: Record<string, unknown> | undefined): string {
  if (!details) return '';
  const parts = Object.entries(details)
    .filter(([, value]) => value !== null && value !== undefined && value !== '' && !(Array.isArray(value) && !value.length))
    .map(([key, value]) => `${key}: ${plain(value)}`);
  const text = parts.join('; ');
  return text.length > 300 ? `${text.slice(0, 297)}...` : text;
}

function timelineTable(entries: TimelineEntry[]): string {
  if (!entries.length) return '<p>Nothing recorded yet.</p>';
  const rows = entries.map((t) => {
    if (t.kind === 'email') {
      const to = Array.isArray(t.to) ? t.to.join(', ') : t.to ?? '';
      return `<tr><td class="when">${time(t.at)}</td><td>email</td><td>${e(label(t.template ?? ''))}</td><td>to ${e(to)}</td><td class="details">${e(t.subject ?? '')} <span class="meta">(${e(t.status ?? '')})</span></td></tr>`;
    }
    const change = t.fromState || t.toState ? ` <span class="meta">${e(label(t.fromState ?? '–'))} → ${e(label(t.toState ?? '–'))}</span>` : '';
    return `<tr><td class="when">${time(t.at)}</td><td>event</td><td>${e(label(t.action ?? ''))}${change}</td><td>${e(t.actor ?? '')}</td><td class="details">${e(detailsText(t.details))}</td></tr>`;
  });
  return `<table id="timeline">
<caption class="sr-only">Events and emails, oldest first</caption>
<thead><tr><th scope="col">When</th><th scope="col">Kind</th><th scope="col">What</th><th scope="col">Who</th><th scope="col">Details</th></tr></thead>
<tbody>
${rows.join('\n')}
</tbody></table>`;
}

function approvalsTable(approvals: ApprovalRecord[]): string {
  if (!approvals.length) return '<p>No approvals were asked for.</p>';
  const revisions = new Set(approvals.map((a) => a.revision)).size > 1;
  const rows = approvals
    .map(
      (a) => `<tr>${revisions ? `<td>${a.revision}</td>` : ''}<td>${a.step}. ${e(a.stepName)} <span class="meta">(${e(a.stepPolicy)}, ${a.stepRequired} needed)</span></td>` +
        `<td>${e(a.approver.name)}${a.delegatedFrom ? ` <span class="meta">for ${e(a.delegatedFrom.name)}</span>` : ''}</td>` +
        `<td>${e(label(a.state))}</td><td>${a.decidedAt ? `${time(a.decidedAt)}${a.decidedVia ? ` <span class="meta">via ${e(a.decidedVia)}</span>` : ''}` : a.dueAt ? `due ${time(a.dueAt)}` : ''}</td>` +
        `<td>${e(a.comment ?? '')}</td></tr>`,
    )
    .join('\n');
  return `<table id="approvals">
<caption class="sr-only">Approvals</caption>
<thead><tr>${revisions ? '<th scope="col">Revision</th>' : ''}<th scope="col">Step</th><th scope="col">Approver</th><th scope="col">State</th><th scope="col">Decided or due</th><th scope="col">Comment</th></tr></thead>
<tbody>
${rows}
</tbody></table>`;
}

export function subjectSections(subject: ApprovalSubjectSummary, level: 2 | 3): string {
  return subject.sections
    .map((s) => `<section><h${level}>${e(s.title)}</h${level}>\n<ul>${s.items.map((item) => `<li>${e(item)}</li>`).join('')}</ul></section>`)
    .join('\n');
}

export function processDetailPage(
  ctx: ViewContext,
  input: { process: ProcessSummary; subject?: ApprovalSubjectSummary; approvals: ApprovalRecord[]; timeline: TimelineEntry[]; myPendingApprovalIds: string[] },
): string {
  const p = input.process;
  const waiting = p.waitingFor.length
    ? `<p class="waiting" id="waiting-for"><strong>Waiting for: ${e(p.waitingFor.map((w) => w.name).join(', '))}</strong>` +
      `${p.waitingSince ? ` since ${time(p.waitingSince)} (${e(duration(ctx.now - Date.parse(p.waitingSince)))})` : ''}</p>`
    : `<p id="waiting-for">${p.finishedAt ? `Finished ${time(p.finishedAt)}${p.outcome ? `: ${e(label(p.outcome))}` : ''}.` : 'Waiting for nobody: the workflow is at work.'}</p>`;
  const mine = input.myPendingApprovalIds.length
    ? `<p class="notice ok">Your decision is needed here: <a href="/ui/inbox#approval-${e(input.myPendingApprovalIds[0])}">decide in your inbox</a>.</p>`
    : '';
  const summary = `<dl class="summary">
<dt>Type</dt><dd>${e(TYPE_LABELS[p.process] ?? p.process)}</dd>
<dt>State</dt><dd id="process-state">${e(label(p.state))}${p.outcome ? ` (${e(label(p.outcome))})` : ''} <span class="meta">since ${time(p.stateEnteredAt)}</span></dd>
<dt>Requester</dt><dd>${e(p.requester?.name ?? '–')}</dd>
<dt>Cost centre</dt><dd>${e(p.costCentre ?? '–')}</dd>
<dt>Started</dt><dd>${time(p.startedAt)} <span class="meta">(${e(duration(ctx.now - Date.parse(p.startedAt)))} ago)</span></dd>
<dt>SLA</dt><dd>${slaCell(p)}</dd>
<dt>Workflow</dt><dd><code>${e(p.workflowId)}</code></dd>
</dl>`;
  const subject = input.subject
    ? `<p class="meta">${e(input.subject.meta)}</p>\n${input.subject.description ? `<p>${e(input.subject.description)}</p>` : ''}`
    : '';
  const assessment = input.subject
    ? `<section aria-labelledby="assessment-heading"><h2 id="assessment-heading">${p.process === 'change' ? 'Impact assessment' : 'Assessment'}</h2>\n${subjectSections(input.subject, 3)}</section>`
    : '';
  const body = `<p class="meta"><a href="/ui/processes">← Processes</a></p>
<h1>${e(p.businessNumber)}: ${e(p.title)}</h1>
${subject}
${waiting}
${mine}
<section aria-labelledby="summary-heading"><h2 id="summary-heading">Summary</h2>${summary}</section>
<section aria-labelledby="approvals-heading"><h2 id="approvals-heading">Approvals</h2>${approvalsTable(input.approvals)}</section>
${assessment}
<section aria-labelledby="timeline-heading"><h2 id="timeline-heading">Timeline</h2>
<p class="meta">Events and emails, oldest first.</p>${timelineTable(input.timeline)}</section>`;
  return layout(ctx, `${p.businessNumber}`, body);
}

// ---------------------------------------------------------------------------------------------
// Inbox and my requests
// ---------------------------------------------------------------------------------------------

export interface InboxItem {
  id: string;
  step: number;
  stepName: string;
  stepPolicy: string;
  stepRequired: number;
  requestedAt: string;
  dueAt: string | null;
  delegatedFrom: string | null;
  subject: ApprovalSubjectSummary;
}

export function inboxPage(ctx: ViewContext, input: { items: InboxItem[]; total: number; notice?: Notice }): string {
  const items = input.items
    .map((a) => {
      const id = e(a.id);
      return `<article id="approval-${id}" class="approval" aria-labelledby="approval-${id}-title">
<h2 id="approval-${id}-title"><a href="${e(processHref(a.subject.workflowId))}">${e(a.subject.number)}</a>: ${e(a.subject.title)}</h2>
<p class="meta">${e(a.subject.meta)}</p>
<p>Step ${a.step} "${e(a.stepName)}" (${e(a.stepPolicy)}, ${a.stepRequired} needed)${a.delegatedFrom ? `, as delegate of ${e(a.delegatedFrom)}` : ''} · asked ${time(a.requestedAt)} (${e(duration(ctx.now - Date.parse(a.requestedAt)))} ago)${a.dueAt ? ` · due ${time(a.dueAt)}` : ''}</p>
${a.subject.description ? `<p>${e(a.subject.description)}</p>` : ''}
${subjectSections(a.subject, 3)}
<form method="post" action="/ui/inbox/${id}">
${csrfField(ctx.csrf)}
<label for="comment-${id}">Comment</label>
<textarea id="comment-${id}" name="comment" rows="2" maxlength="2000"></textarea>
<div class="actions">
<button type="submit" name="decision" value="approved">Approve</button>
<button type="submit" name="decision" value="rejected" class="reject">Reject</button>
</div>
</form>
</article>`;
    })
    .join('\n');
  const more = input.total > input.items.length ? `<p class="meta">Showing the oldest ${input.items.length} of ${input.total}.</p>` : '';
  const body = `<h1>My approvals</h1>
${notice(input.notice)}
${input.items.length ? `<p>${input.total} approval${input.total === 1 ? '' : 's'} wait${input.total === 1 ? 's' : ''} for your decision, oldest first.</p>${more}\n${items}` : '<p>Nothing waits for your decision.</p>'}`;
  return layout(ctx, 'Inbox', body);
}

export function myRequestsPage(ctx: ViewContext, input: { result: { items: ProcessSummary[]; page: { limit: number; offset: number; total: number } }; open?: string }): string {
  const form = `<form class="filters" method="get" action="/ui/my-requests" aria-label="Filter my requests">
${select('r-open', 'open', 'Open or finished', [['', 'either'], ['true', 'open'], ['false', 'finished']], input.open)}
<div><button type="submit">Show</button></div>
</form>`;
  const body = `<h1>My requests</h1>
<p class="meta">Your changes and purchase requests, newest first.</p>
${form}
${processTable(input.result.items, ctx.now, 'My requests', { captionHidden: true })}
${pager(input.result.page, '/ui/my-requests', { open: input.open })}`;
  return layout(ctx, 'My requests', body);
}
