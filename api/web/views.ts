/**
 * The web UI's pages as pure functions from data to SafeHtml, built with the `html` template
 * (./html.ts), which escapes every value it is given; URLs are built from encoded parts.
 */
import type { ApprovalSubjectSummary } from '../../model/approval-subjects';
import type { ApprovalRecord, OpenApproval } from '../../model/approvals';
import type { ProcessKind } from '../../domain/processes';
import type { ProcessDashboard, ProcessSummary } from '../../model/processes';
import { OVERSEERS, hasAnyRole, type Principal } from '../auth';
import { IMPORT_READERS } from '../routes/imports';
import { throughputByWeek, throughputChart } from './chart';
import { html, join, page, type SafeHtml } from './html';
import { duration } from '../../domain/durations';
import { formatInstant } from '../../domain/time-zones';

export type NavItem = 'dashboard' | 'processes' | 'inbox' | 'my-requests' | 'people' | 'groups' | 'api-keys'
  | 'master-data' | 'imports' | 'configuration' | 'audit' | 'new-request' | 'assets' | 'cis' | 'profile' | 'licences' | 'inventory' | 'steward-cases' | 'finops' | 'cobit' | 'none';

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
  /** The IANA zone the viewer reads times in (their own, else the organisation's). */
  timeZone: string;
}

export interface Notice {
  kind: 'ok' | 'error';
  text: string;
}

export const TYPE_LABELS: Record<ProcessKind, string> = { change: 'Change', procurement: 'Purchase', asset_lifecycle: 'Asset lifecycle', reconciliation: 'Steward case', renewal: 'Contract renewal' };

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

/** "2026-11-27 15:03 CET (Europe/Berlin)", in the viewer's zone, in a <time> element that carries the exact instant. */
export function time(iso: string | null | undefined, zone: string): SafeHtml {
  if (!iso) return html``;
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return html`${iso}`;
  return html`<time datetime="${d.toISOString()}">${formatInstant(d, zone)}</time>`;
}

export { duration };

export const notice = (n: Notice | undefined): SafeHtml =>
  n ? html`<p class="notice ${n.kind}" role="${n.kind === 'error' ? 'alert' : 'status'}">${n.text}</p>` : html``;

export const csrfField = (token: string) => html`<input type="hidden" name="csrf" value="${token}">`;

/** Where a person lands after signing in: the dashboard if they may see it, else their inbox or their requests. */
export function homeFor(user: Principal): string {
  if (isOverseer(user)) return '/ui';
  return hasAnyRole(user, ['approver']) ? '/ui/inbox' : '/ui/my-requests';
}

function header(ctx: ViewContext | undefined): SafeHtml {
  const brand = html`<a class="brand" href="${ctx ? homeFor(ctx.user) : '/ui'}">assetflow</a>`;
  if (!ctx) return brand;
  const items: [NavItem | 'mail', string, string][] = [
    ...(isOverseer(ctx.user) ? ([['dashboard', '/ui', 'Dashboard']] as [NavItem, string, string][]) : []),
    ['processes', '/ui/processes', 'Processes'],
    ['inbox', '/ui/inbox', `Inbox${ctx.inboxCount ? ` (${ctx.inboxCount})` : ''}`],
    ['my-requests', '/ui/my-requests', 'My requests'],
    ['new-request', '/ui/requests/new', 'New request'],
    ...(isOverseer(ctx.user) ? ([['assets', '/ui/assets', 'Assets'], ['licences', '/ui/licences', 'Licences']] as [NavItem, string, string][]) : []),
    ['cis', '/ui/cis', 'CIs and services'],
    ...(hasAnyRole(ctx.user, ['admin']) ? ([['people', '/ui/people', 'People'], ['groups', '/ui/groups', 'Groups']] as [NavItem, string, string][]) : []),
    ['master-data', '/ui/master-data', 'Master data'],
    ...(hasAnyRole(ctx.user, IMPORT_READERS) ? ([['imports', '/ui/imports', 'Imports']] as [NavItem, string, string][]) : []),
    ...(isOverseer(ctx.user) ? ([['inventory', '/ui/inventory', 'Inventory']] as [NavItem, string, string][]) : []),
    ...(isOverseer(ctx.user) ? ([['steward-cases', '/ui/reconciliation/cases', 'Steward cases']] as [NavItem, string, string][]) : []),
    ...(isOverseer(ctx.user) ? ([['finops', '/ui/finops', 'FinOps'], ['cobit', '/ui/cobit', 'COBIT evidence']] as [NavItem, string, string][]) : []),
    ...(hasAnyRole(ctx.user, ['process_owner', 'admin']) ? ([['configuration', '/ui/configuration', 'Configuration'], ['audit', '/ui/audit', 'Audit']] as [NavItem, string, string][]) : []),
    ['api-keys', '/ui/api-keys', 'API keys'],
    ...(ctx.mailbox ? ([['mail', '/dev/mail', 'Mail (dev sink)']] as [NavItem | 'mail', string, string][]) : []),
  ];
  const links = items.map(([key, href, text]) => html`<li><a href="${href}"${key === ctx.current && html` aria-current="page"`}>${text}</a></li>`);
  return html`${brand}
<nav aria-label="Main"><ul>${links}</ul></nav>
<div class="who"><span>Signed in as <a href="/ui/profile"${ctx.current === 'profile' && html` aria-current="page"`}><strong>${ctx.user.name}</strong></a> <span class="meta">(${ctx.user.roles.map(label).join(', ') || 'no role'})</span></span>
<form method="post" action="/ui/sign-out">${csrfField(ctx.csrf)}<button type="submit" class="secondary">Sign out</button></form></div>`;
}

/** A page of the web UI: the shared page shell (./html.ts) with the site header and navigation. */
export function layout(ctx: ViewContext | undefined, title: string, body: SafeHtml): SafeHtml {
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

export function signInPage(input: { token: string; next: string; notice?: Notice; demoPeople?: DemoPerson[]; singleSignOn?: { providerName: string } }): SafeHtml {
  const hidden = html`<input type="hidden" name="csrf" value="${input.token}"><input type="hidden" name="next" value="${input.next}">`;
  // A link, not a form: the CSP's form-action 'self' would stop a form's redirect on to the provider.
  const singleSignOn = input.singleSignOn && html`<p class="actions"><a href="${`/ui/sign-in/oidc${queryString({ next: input.next || undefined })}`}">Sign in with ${input.singleSignOn.providerName}</a></p>`;
  const demo = input.demoPeople && html`<section aria-labelledby="demo-heading">
<h2 id="demo-heading">Or pick a demo person</h2>
<p class="meta">The embedded demo runs: anyone may sign in as one of its people (their keys are af_demo_&lt;first&gt;_&lt;last&gt;).</p>
<form method="post" action="/ui/sign-in">
${hidden}
<label for="personId">Demo person</label>
<select id="personId" name="personId" required>
${join(input.demoPeople.map((p) => html`<option value="${p.id}">${p.name} · ${p.roles.map(label).join(', ')}</option>`), '\n')}
</select>
<div class="actions"><button type="submit">Sign in as this person</button></div>
</form>
</section>`;
  const body = html`<h1>Sign in</h1>
${notice(input.notice)}
${singleSignOn}
<form method="post" action="/ui/sign-in">
${hidden}
<label for="apiKey">API key</label>
<input id="apiKey" name="apiKey" type="password" autocomplete="current-password" size="40" required>
<div class="actions"><button type="submit">Sign in</button></div>
</form>
${demo}`;
  return layout(undefined, 'Sign in', body);
}

export function errorPage(ctx: ViewContext | undefined, title: string, message: string, links: [string, string][] = []): SafeHtml {
  const more = links.length > 0 && html`<ul>${links.map(([href, text]) => html`<li><a href="${href}">${text}</a></li>`)}</ul>`;
  return layout(ctx, title, html`<h1>${title}</h1>\n<p class="notice error" role="alert">${message}</p>\n${more}`);
}

export function signOutPage(ctx: ViewContext): SafeHtml {
  return layout(ctx, 'Sign out', html`<h1>Sign out</h1>
<form method="post" action="/ui/sign-out">${csrfField(ctx.csrf)}<div class="actions"><button type="submit">Sign out</button></div></form>`);
}

// ---------------------------------------------------------------------------------------------
// Process tables
// ---------------------------------------------------------------------------------------------

function slaCell(p: ProcessSummary, zone: string): SafeHtml {
  if (p.finishedAt) return html`<span class="meta">finished</span>`;
  if (!p.slaDueAt) return html`<span class="meta">no target</span>`;
  if (p.slaBreached) return html`<span class="breached">Breached</span> (due ${time(p.slaDueAt, zone)})`;
  return html`due ${time(p.slaDueAt, zone)}`;
}

function waitingCells(p: ProcessSummary, { now, timeZone }: Clock): SafeHtml {
  const names = p.waitingFor.map((w) => w.name).join(', ');
  const since = p.waitingSince && html`${time(p.waitingSince, timeZone)}<br><span class="meta">${duration(now - Date.parse(p.waitingSince))}</span>`;
  return html`<td>${names || html`<span class="meta">nobody</span>`}</td><td>${since}</td>`;
}

/** What a table needs to show times: the moment of the page and the viewer's zone (a ViewContext is one). */
export type Clock = Pick<ViewContext, 'now' | 'timeZone'>;

export function processTable(items: ProcessSummary[], clock: Clock, caption: string, options: { captionHidden?: boolean } = {}): SafeHtml {
  if (!items.length) return html`<p>No process matches.</p>`;
  const rows = items.map(
    (p) => html`<tr>
<th scope="row"><a href="${processHref(p.workflowId)}">${p.businessNumber}</a></th>
<td>${TYPE_LABELS[p.process] ?? p.process}</td>
<td>${p.title}</td>
<td>${label(p.state)}${p.outcome && html` <span class="meta">(${label(p.outcome)})</span>`}${p.needsAttention && html` <span class="breached" title="${`${p.needsAttention.step}: ${p.needsAttention.reason}`}">needs attention</span>`}</td>
<td>${p.requester?.name ?? ''}</td>
${waitingCells(p, clock)}
<td>${slaCell(p, clock.timeZone)}</td>
</tr>`,
  );
  return html`<table class="processes">
<caption${options.captionHidden && html` class="sr-only"`}>${caption}</caption>
<thead><tr><th scope="col">Number</th><th scope="col">Type</th><th scope="col">Title</th><th scope="col">State</th><th scope="col">Requester</th><th scope="col">Waiting for</th><th scope="col">Waiting since</th><th scope="col">SLA</th></tr></thead>
<tbody>
${join(rows, '\n')}
</tbody>
</table>`;
}

export function pager(pageInfo: { limit: number; offset: number; total: number }, base: string, query: Record<string, string | undefined>): SafeHtml {
  const { limit, offset, total } = pageInfo;
  if (total === 0) return html``;
  const first = Math.min(offset + 1, total);
  const last = Math.min(offset + limit, total);
  const link = (to: number, text: string, rel: string) =>
    html`<a href="${base + queryString({ ...query, offset: to || undefined, limit: limit === 50 ? undefined : limit })}" rel="${rel}">${text}</a>`;
  const prev = offset > 0 && link(Math.max(0, offset - limit), '← Previous', 'prev');
  const next = offset + limit < total && link(offset + limit, 'Next →', 'next');
  return html`<nav class="pager" aria-label="Pages"><span>${first}–${last} of ${total}</span>${prev}${next}</nav>`;
}

// ---------------------------------------------------------------------------------------------
// Dashboard
// ---------------------------------------------------------------------------------------------

const AGE_BUCKETS = ['<1d', '1-7d', '7-30d', '>30d'] as const;
const AGE_LABELS: Record<(typeof AGE_BUCKETS)[number], string> = { '<1d': 'under 1 day', '1-7d': '1 to 7 days', '7-30d': '7 to 30 days', '>30d': 'over 30 days' };

export function dashboardPage(ctx: ViewContext, dash: ProcessDashboard): SafeHtml {
  const types = [...new Set(dash.byTypeAndState.map((r) => r.process))];
  const stateRows = new Map<string, { process: ProcessKind; state: string; open: number; finished: number }>();
  for (const r of dash.byTypeAndState) {
    const key = `${r.process}/${r.state}`;
    const row = stateRows.get(key) ?? { process: r.process, state: r.state, open: 0, finished: 0 };
    if (r.open) row.open += r.count;
    else row.finished += r.count;
    stateRows.set(key, row);
  }
  const listLink = (query: Record<string, string>, text: string | number) => html`<a href="${`/ui/processes${queryString(query)}`}">${text}</a>`;
  const counts = stateRows.size
    ? html`<table>
<caption>Processes by type and state</caption>
<thead><tr><th scope="col">Type</th><th scope="col">State</th><th scope="col" class="num">Open</th><th scope="col" class="num">Finished</th></tr></thead>
<tbody>
${join([...stateRows.values()].map((r) =>
  html`<tr><td>${TYPE_LABELS[r.process] ?? r.process}</td><th scope="row">${listLink({ type: r.process, state: r.state }, label(r.state))}</th><td class="num">${r.open}</td><td class="num">${r.finished}</td></tr>`), '\n')}
</tbody></table>`
    : html`<p>No processes yet.</p>`;

  const breachedTotal = dash.slaBreached.reduce((sum, b) => sum + b.count, 0);
  const breachRows = (types.length ? types : (['change', 'procurement'] as ProcessKind[])).map((t) => {
    const count = dash.slaBreached.find((b) => b.process === t)?.count ?? 0;
    return html`<tr><th scope="row">${TYPE_LABELS[t] ?? t}</th><td class="num">${count ? html`<span class="breached">${listLink({ type: t, slaBreached: 'true', sort: 'sla_due' }, count)}</span>` : '0'}</td></tr>`;
  });
  const breachSummary = breachedTotal
    ? html`<span class="breached">${breachedTotal} open process${breachedTotal === 1 ? ' is' : 'es are'} past the SLA target.</span> ${listLink({ slaBreached: 'true', sort: 'sla_due' }, 'See them all')}`
    : 'No open process is past its SLA target.';
  const breaches = html`<table>
<caption>Open processes past their SLA target</caption>
<thead><tr><th scope="col">Type</th><th scope="col" class="num">Breached</th></tr></thead>
<tbody>
${join(breachRows, '\n')}
</tbody></table>
<p>${breachSummary}</p>`;

  const attentionTotal = dash.needsAttention.reduce((sum, n) => sum + n.count, 0);
  const attention = attentionTotal
    ? html`<table>
<caption>Open processes whose step ran out of retries</caption>
<thead><tr><th scope="col">Type</th><th scope="col" class="num">Needs attention</th></tr></thead>
<tbody>
${join(dash.needsAttention.map((n) => html`<tr><th scope="row">${TYPE_LABELS[n.process] ?? n.process}</th><td class="num"><span class="breached">${listLink({ type: n.process, needsAttention: 'true' }, n.count)}</span></td></tr>`), '\n')}
</tbody></table>
<p><span class="breached">${attentionTotal} process${attentionTotal === 1 ? ' needs' : 'es need'} attention:</span> fix the cause, then retry (POST /processes/:id/retry) or wait for the automatic retry. ${listLink({ needsAttention: 'true' }, 'See them all')}</p>`
    : html`<p>No process needs attention: every step went through or is still within its retries.</p>`;

  const ageingTypes = [...new Set(dash.ageing.map((a) => a.process))];
  const ageingRows = ageingTypes.length
    ? join(ageingTypes.map((t) =>
        html`<tr><th scope="row">${TYPE_LABELS[t] ?? t}</th>${AGE_BUCKETS.map((b) => html`<td class="num">${dash.ageing.find((a) => a.process === t && a.bucket === b)?.count ?? 0}</td>`)}</tr>`), '\n')
    : html`<tr><td colspan="${AGE_BUCKETS.length + 1}">No open processes.</td></tr>`;
  const ageing = html`<table>
<caption>Open processes by age since they started</caption>
<thead><tr><th scope="col">Type</th>${AGE_BUCKETS.map((b) => html`<th scope="col" class="num">${AGE_LABELS[b]}</th>`)}</tr></thead>
<tbody>
${ageingRows}
</tbody></table>`;

  const weeks = throughputByWeek(dash.throughput);
  const throughputTypes = [...new Set(dash.throughput.map((t) => t.process))];
  const weekRows = weeks.map((w) => {
    const cells = throughputTypes.map((t) => {
      const row = dash.throughput.find((r) => r.week === w.week && r.process === t);
      return html`<td class="num">${row?.started ?? 0}</td><td class="num">${row?.finished ?? 0}</td>`;
    });
    return html`<tr><th scope="row">${w.week}</th>${cells}<td class="num">${w.started}</td><td class="num">${w.finished}</td></tr>`;
  });
  const throughputTable = html`<table id="throughput-table">
<caption>Started and finished per week (the chart's figures)</caption>
<thead><tr><th scope="col">Week</th>${throughputTypes.map((t) => html`<th scope="col" class="num">${TYPE_LABELS[t]} started</th><th scope="col" class="num">${TYPE_LABELS[t]} finished</th>`)}<th scope="col" class="num">All started</th><th scope="col" class="num">All finished</th></tr></thead>
<tbody>
${join(weekRows, '\n')}
</tbody></table>`;

  const body = html`<h1>Dashboard</h1>
<div class="grid2">
<section aria-labelledby="counts-heading"><h2 id="counts-heading">Counts by type and state</h2>${counts}</section>
<div>
<section aria-labelledby="attention-heading"><h2 id="attention-heading">Needs attention</h2>${attention}</section>
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
  needsAttention?: string;
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

function select(id: string, name: string, text: string, options: [string, string][], selected: string | undefined): SafeHtml {
  return html`<div><label for="${id}">${text}</label><select id="${id}" name="${name}">${options.map(
    ([value, optionText]) => html`<option value="${value}"${value === (selected ?? '') && html` selected`}>${optionText}</option>`,
  )}</select></div>`;
}

export function processesPage(
  ctx: ViewContext,
  input: { values: ListFormValues; options: ListOptions; result?: { items: ProcessSummary[]; page: { limit: number; offset: number; total: number } }; notice?: Notice },
): SafeHtml {
  const v = input.values;
  const overseer = isOverseer(ctx.user);
  const waitingOptions: [string, string][] = overseer
    ? [['', 'anyone'], ['me', `me (${ctx.user.name})`], ...input.options.approvers.filter((a) => a.id !== ctx.user.id).map((a): [string, string] => [a.id, a.name])]
    : [['', 'nobody in particular (my requests)'], ['me', `me (${ctx.user.name})`]];
  const form = html`<form class="filters" method="get" action="/ui/processes" role="search" aria-label="Filter processes">
${select('f-type', 'type', 'Type', [['', 'any'], ...(Object.entries(TYPE_LABELS) as [string, string][])], v.type)}
${select('f-state', 'state', 'State', [['', 'any'], ...input.options.states.map((s): [string, string] => [s, label(s)])], v.state)}
${select('f-waiting', 'waitingFor', 'Waiting for', waitingOptions, v.waitingFor)}
${select('f-open', 'open', 'Open or finished', [['', 'either'], ['true', 'open'], ['false', 'finished']], v.open)}
${select('f-cc', 'costCentre', 'Cost centre', [['', 'any'], ...input.options.costCentres.map((c): [string, string] => [c.code, `${c.code} ${c.name}`])], v.costCentre)}
<div><label for="f-q">Number or title</label><input id="f-q" name="q" type="search" value="${v.q ?? ''}" maxlength="100"></div>
${select('f-sort', 'sort', 'Sort', input.options.sorts.map((s): [string, string] => [s, SORT_LABELS[s] ?? label(s)]), v.sort ?? 'newest')}
<div class="check"><input id="f-sla" name="slaBreached" type="checkbox" value="true"${v.slaBreached === 'true' && html` checked`}> <label for="f-sla">SLA breached only</label></div>
<div class="check"><input id="f-attention" name="needsAttention" type="checkbox" value="true"${v.needsAttention === 'true' && html` checked`}> <label for="f-attention">Needs attention only</label></div>
${v.limit && html`<input type="hidden" name="limit" value="${v.limit}">`}
<div><button type="submit">Filter</button> <a href="/ui/processes">Clear</a></div>
</form>`;
  const result = input.result;
  const list = result && html`<p role="status">${result.page.total} process${result.page.total === 1 ? '' : 'es'} match.</p>
${processTable(result.items, ctx, overseer ? 'Processes' : 'Processes you requested or must decide', { captionHidden: true })}
${pager(result.page, '/ui/processes', { ...v })}`;
  const intro = !overseer && html`<p class="meta">You see the processes you requested, or those waiting for your decision.</p>`;
  return layout(ctx, 'Processes', html`<h1>Processes</h1>\n${intro}\n${form}\n${notice(input.notice)}\n${list}`);
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

export function timelineTable(entries: TimelineEntry[], zone: string): SafeHtml {
  if (!entries.length) return html`<p>Nothing recorded yet.</p>`;
  const rows = entries.map((t) => {
    if (t.kind === 'email') {
      const to = Array.isArray(t.to) ? t.to.join(', ') : t.to ?? '';
      return html`<tr><td class="when">${time(t.at, zone)}</td><td>email</td><td>${label(t.template ?? '')}</td><td>to ${to}</td><td class="details">${t.subject ?? ''} <span class="meta">(${t.status ?? ''})</span></td></tr>`;
    }
    const change = (t.fromState || t.toState) && html` <span class="meta">${label(t.fromState ?? '–')} → ${label(t.toState ?? '–')}</span>`;
    return html`<tr><td class="when">${time(t.at, zone)}</td><td>event</td><td>${label(t.action ?? '')}${change}</td><td>${t.actor ?? ''}</td><td class="details">${detailsText(t.details)}</td></tr>`;
  });
  return html`<table id="timeline">
<caption class="sr-only">Events and emails, oldest first</caption>
<thead><tr><th scope="col">When</th><th scope="col">Kind</th><th scope="col">What</th><th scope="col">Who</th><th scope="col">Details</th></tr></thead>
<tbody>
${join(rows, '\n')}
</tbody></table>`;
}

export function approvalsTable(approvals: ApprovalRecord[], zone: string): SafeHtml {
  if (!approvals.length) return html`<p>No approvals were asked for.</p>`;
  const revisions = new Set(approvals.map((a) => a.revision)).size > 1;
  const rows = approvals.map((a) => {
    const decided = a.decidedAt
      ? html`${time(a.decidedAt, zone)}${a.decidedVia && html` <span class="meta">via ${a.decidedVia}</span>`}`
      : a.dueAt && html`due ${time(a.dueAt, zone)}`;
    const cells = [
      revisions && html`<td>${a.revision}</td>`,
      html`<td>${a.step}. ${a.stepName} <span class="meta">(${a.stepPolicy}, ${a.stepRequired} needed)</span></td>`,
      html`<td>${a.approver.name}${a.delegatedFrom && html` <span class="meta">for ${a.delegatedFrom.name}</span>`}</td>`,
      html`<td>${label(a.state)}${a.movedTo && html` <span class="meta">moved to ${a.movedTo.name}</span>`}</td><td>${decided}</td>`,
      html`<td>${a.comment ?? ''}</td>`,
    ];
    return html`<tr>${cells}</tr>`;
  });
  return html`<table id="approvals">
<caption class="sr-only">Approvals</caption>
<thead><tr>${revisions && html`<th scope="col">Revision</th>`}<th scope="col">Step</th><th scope="col">Approver</th><th scope="col">State</th><th scope="col">Decided or due</th><th scope="col">Comment</th></tr></thead>
<tbody>
${join(rows, '\n')}
</tbody></table>`;
}

export function subjectSections(subject: ApprovalSubjectSummary, level: 2 | 3): SafeHtml {
  return join(
    subject.sections.map((s) => html`<section><h${level}>${s.title}</h${level}>\n<ul>${s.items.map((item) => html`<li>${item}</li>`)}</ul></section>`),
    '\n',
  );
}

export function processDetailPage(
  ctx: ViewContext,
  input: {
    process: ProcessSummary; subject?: ApprovalSubjectSummary; approvals: ApprovalRecord[]; timeline: TimelineEntry[]; myPendingApprovalIds: string[];
    /** What a process owner or an admin can do here (remind, reassign: api/web/process-owner-pages.ts), and how their last command went. */
    ownerActions?: SafeHtml; notice?: Notice;
  },
): SafeHtml {
  const p = input.process;
  const waiting = p.waitingFor.length
    ? html`<p class="waiting" id="waiting-for"><strong>Waiting for: ${p.waitingFor.map((w) => w.name).join(', ')}</strong>${
      p.waitingSince && html` since ${time(p.waitingSince, ctx.timeZone)} (${duration(ctx.now - Date.parse(p.waitingSince))})`}</p>`
    : html`<p id="waiting-for">${p.finishedAt
      ? html`Finished ${time(p.finishedAt, ctx.timeZone)}${p.outcome && html`: ${label(p.outcome)}`}.`
      : 'Waiting for nobody: the workflow is at work.'}</p>`;
  const mine = input.myPendingApprovalIds.length > 0 &&
    html`<p class="notice ok">Your decision is needed here: <a href="/ui/inbox#approval-${input.myPendingApprovalIds[0]}">decide in your inbox</a>.</p>`;
  const summary = html`<dl class="summary">
<dt>Type</dt><dd>${TYPE_LABELS[p.process] ?? p.process}</dd>
<dt>State</dt><dd id="process-state">${label(p.state)}${p.outcome && ` (${label(p.outcome)})`} <span class="meta">since ${time(p.stateEnteredAt, ctx.timeZone)}</span></dd>
<dt>Requester</dt><dd>${p.requester?.name ?? '–'}</dd>
<dt>Cost centre</dt><dd>${p.costCentre ?? '–'}</dd>
<dt>Started</dt><dd>${time(p.startedAt, ctx.timeZone)} <span class="meta">(${duration(ctx.now - Date.parse(p.startedAt))} ago)</span></dd>
<dt>SLA</dt><dd>${slaCell(p, ctx.timeZone)}</dd>
<dt>Workflow</dt><dd><code>${p.workflowId}</code></dd>
</dl>`;
  const subject = input.subject &&
    html`<p class="meta">${input.subject.meta}</p>\n${input.subject.description && html`<p>${input.subject.description}</p>`}`;
  const assessment = input.subject &&
    html`<section aria-labelledby="assessment-heading"><h2 id="assessment-heading">${p.process === 'change' ? 'Impact assessment' : 'Assessment'}</h2>\n${subjectSections(input.subject, 3)}</section>`;
  const body = html`<p class="meta"><a href="/ui/processes">← Processes</a></p>
<h1>${p.businessNumber}: ${p.title}</h1>
${subject}
${notice(input.notice)}
${waiting}
${mine}
<section aria-labelledby="summary-heading"><h2 id="summary-heading">Summary</h2>${summary}</section>
<section aria-labelledby="approvals-heading"><h2 id="approvals-heading">Approvals</h2>${approvalsTable(input.approvals, ctx.timeZone)}</section>
${input.ownerActions}
${assessment}
<section aria-labelledby="timeline-heading"><h2 id="timeline-heading">Timeline</h2>
<p class="meta">Events and emails, oldest first.</p>${timelineTable(input.timeline, ctx.timeZone)}</section>`;
  return layout(ctx, `${p.businessNumber}`, body);
}

// ---------------------------------------------------------------------------------------------
// Inbox and my requests
// ---------------------------------------------------------------------------------------------

export interface InboxItem extends Omit<OpenApproval, 'subjectType' | 'subjectId'> {
  subject: ApprovalSubjectSummary;
}

export function inboxPage(ctx: ViewContext, input: { items: InboxItem[]; total: number; notice?: Notice }): SafeHtml {
  const items = input.items.map((a) => {
    const id = a.id;
    return html`<article id="approval-${id}" class="approval" aria-labelledby="approval-${id}-title">
<h2 id="approval-${id}-title"><a href="${processHref(a.subject.workflowId)}">${a.subject.number}</a>: ${a.subject.title}</h2>
<p class="meta">${a.subject.meta}</p>
<p>Step ${a.step} "${a.stepName}" (${a.stepPolicy}, ${a.stepRequired} needed)${a.delegatedFrom && `, as delegate of ${a.delegatedFrom}`} · asked ${time(a.requestedAt, ctx.timeZone)} (${duration(ctx.now - Date.parse(a.requestedAt))} ago)${a.dueAt && html` · due ${time(a.dueAt, ctx.timeZone)}`}</p>
${a.subject.description && html`<p>${a.subject.description}</p>`}
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
  });
  const more = input.total > input.items.length && html`<p class="meta">Showing the oldest ${input.items.length} of ${input.total}.</p>`;
  const list = input.items.length
    ? html`<p>${input.total} approval${input.total === 1 ? '' : 's'} wait${input.total === 1 ? 's' : ''} for your decision, oldest first.</p>${more}\n${join(items, '\n')}`
    : html`<p>Nothing waits for your decision.</p>`;
  const body = html`<h1>My approvals</h1>
${notice(input.notice)}
${list}`;
  return layout(ctx, 'Inbox', body);
}

export function myRequestsPage(ctx: ViewContext, input: { result: { items: ProcessSummary[]; page: { limit: number; offset: number; total: number } }; open?: string }): SafeHtml {
  const form = html`<form class="filters" method="get" action="/ui/my-requests" aria-label="Filter my requests">
${select('r-open', 'open', 'Open or finished', [['', 'either'], ['true', 'open'], ['false', 'finished']], input.open)}
<div><button type="submit">Show</button></div>
</form>`;
  const body = html`<h1>My requests</h1>
<p class="meta">Your changes and purchase requests, newest first.</p>
${form}
${processTable(input.result.items, ctx, 'My requests', { captionHidden: true })}
${pager(input.result.page, '/ui/my-requests', { open: input.open })}`;
  return layout(ctx, 'My requests', body);
}
