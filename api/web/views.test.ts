import type { ProcessDashboard, ProcessSummary } from '../../model/processes';
import { axisMax, throughputByWeek, throughputChart } from './chart';
import { dashboardPage, duration, processTable, processesPage, queryString, signInPage, type ViewContext } from './views';

const now = Date.parse('2026-11-27T12:00:00Z');
const ctx = (roles: ViewContext['user']['roles']): ViewContext => ({
  user: { id: 'u1', email: 'u@x', name: 'Una <User>', roles, timeZone: 'Europe/Berlin' },
  csrf: 'csrf-token-value-1234567890',
  mailbox: true,
  current: 'processes',
  inboxCount: 2,
  now,
  timeZone: 'Europe/Berlin',
});

const summary = (over: Partial<ProcessSummary> = {}): ProcessSummary => ({
  workflowId: 'change:CHG0001001',
  process: 'change',
  businessNumber: 'CHG0001001',
  title: 'Patch <script>alert(1)</script>',
  state: 'authorize',
  outcome: null,
  requester: { id: 'r1', name: 'Ruth & Co' },
  costCentre: 'IT-OPS',
  waitingFor: [{ id: 'a1', name: 'Walt "W" Waiting' }],
  waitingSince: '2026-11-26T09:00:00.000Z',
  startedAt: '2026-11-26T08:00:00.000Z',
  stateEnteredAt: '2026-11-26T09:00:00.000Z',
  finishedAt: null,
  slaDueAt: '2026-11-27T09:00:00.000Z',
  slaBreached: true,
  needsAttention: null,
  ...over,
});

describe('throughput chart', () => {
  const weeks = throughputByWeek([
    { week: '2026-W47', process: 'change', started: 3, finished: 1 },
    { week: '2026-W47', process: 'procurement', started: 2, finished: 0 },
    { week: '2026-W48', process: 'change', started: 0, finished: 4 },
  ] as never);

  it('sums the processes of a week', () => {
    expect(weeks).toEqual([{ week: '2026-W47', started: 5, finished: 1 }, { week: '2026-W48', started: 0, finished: 4 }]);
  });

  it('draws two bars a week with their values written out and a text description', () => {
    const svg = String(throughputChart(weeks));
    expect(svg.match(/<rect [^>]*class="bar (started|finished)"><title>/g)).toHaveLength(4);
    expect(svg).toContain('role="img"');
    expect(svg).toContain('2026-W47: 5 started, 1 finished; 2026-W48: 0 started, 4 finished');
    expect(svg).toMatch(/<text[^>]*class="value">5<\/text>/);
  });

  it('scales bars to a round axis maximum and survives weeks without any process', () => {
    expect([0, 1, 3, 7, 12, 50, 51].map(axisMax)).toEqual([1, 1, 5, 10, 20, 50, 100]);
    const svg = String(throughputChart([{ week: '2026-W01', started: 0, finished: 0 }]));
    expect(svg).not.toContain('NaN');
    expect(svg).not.toContain('Infinity');
  });
});

describe('pages', () => {
  it('escapes what people typed and marks a breached SLA in words', () => {
    const html = String(processTable([summary()], { now, timeZone: 'Europe/Berlin' }, 'Processes'));
    expect(html).not.toContain('<script>');
    expect(html).toContain('Patch &lt;script&gt;alert(1)&lt;/script&gt;');
    expect(html).toContain('Ruth &amp; Co');
    expect(html).toContain('Walt &quot;W&quot; Waiting');
    expect(html).toContain('<span class="breached">Breached</span>');
    expect(html).toContain('href="/ui/processes/change%3ACHG0001001"');
    expect(html).toContain('<th scope="col">Waiting for</th>');
    expect(html).toContain('1 d 3 h');
  });

  it('writes durations for people', () => {
    expect([30_000, 45 * 60_000, 5 * 3_600_000 + 600_000, 3 * 86_400_000 + 4 * 3_600_000].map(duration)).toEqual([
      'under a minute', '45 min', '5 h 10 min', '3 d 4 h',
    ]);
  });

  it('builds query strings from the non-empty values only', () => {
    expect(queryString({ a: 'x y', b: '', c: undefined, d: 0 })).toBe('?a=x+y&d=0');
    expect(queryString({})).toBe('');
  });

  it('labels every filter and keeps their values, escaped', () => {
    const html = String(processesPage(ctx(['process_owner']), {
      values: { q: '"><img src=x>', state: 'authorize' },
      options: { states: ['assess', 'authorize'], approvers: [{ id: 'a1', name: 'Walt' }], costCentres: [{ code: 'IT-OPS', name: 'IT operations' }], sorts: ['newest', 'sla_due'] },
      result: { items: [summary()], page: { limit: 50, offset: 0, total: 1 } },
    }));
    for (const id of ['f-type', 'f-state', 'f-waiting', 'f-open', 'f-cc', 'f-q', 'f-sort', 'f-sla']) expect(html).toContain(`<label for="${id}">`);
    expect(html).toContain('value="&quot;&gt;&lt;img src=x&gt;"');
    expect(html).toContain('<option value="authorize" selected>authorize</option>');
    expect(html).toContain('Una &lt;User&gt;');
    expect(html).toContain('<a href="/dev/mail">Mail (dev sink)</a>');
    expect(html).toContain('<a href="/ui">Dashboard</a>');
    expect(html).toContain('name="csrf" value="csrf-token-value-1234567890"');
  });

  it('offers a requester only their own requests or what waits for them, and no dashboard link', () => {
    const html = String(processesPage(ctx(['requester']), { values: {}, options: { states: [], approvers: [{ id: 'a1', name: 'Walt' }], costCentres: [], sorts: ['newest'] } }));
    expect(html).not.toContain('>Walt<');
    expect(html).not.toContain('>Dashboard<');
    expect(html).toContain('<option value="me">me (Una &lt;User&gt;)</option>');
  });

  it('shows the dashboard figures in tables next to the chart', () => {
    const dash: ProcessDashboard = {
      byTypeAndState: [
        { process: 'change', state: 'authorize', open: true, count: 3 },
        { process: 'change', state: 'closed', open: false, count: 7 },
      ],
      slaBreached: [{ process: 'change', count: 2 }],
      needsAttention: [],
      ageing: [{ process: 'change', bucket: '1-7d', count: 3 }],
      throughput: [{ week: '2026-W48', process: 'change', started: 3, finished: 7 }],
    };
    const html = String(dashboardPage({ ...ctx(['process_owner']), current: 'dashboard' }, dash));
    expect(html).toContain('<a href="/ui/processes?type=change&amp;slaBreached=true&amp;sort=sla_due">2</a>');
    expect(html).toContain('<svg id="throughput-chart"');
    expect(html).toMatch(/<th scope="row">2026-W48<\/th><td class="num">3<\/td><td class="num">7<\/td>/);
    expect(html).toContain('aria-current="page"');
  });

  it('shows the processes that need attention on the dashboard and in the list', () => {
    const dash: ProcessDashboard = {
      byTypeAndState: [{ process: 'procurement', state: 'budget_check', open: true, count: 1 }],
      slaBreached: [],
      needsAttention: [{ process: 'procurement', count: 1 }],
      ageing: [],
      throughput: [],
    };
    const html = String(dashboardPage({ ...ctx(['process_owner']), current: 'dashboard' }, dash));
    expect(html).toContain('<a href="/ui/processes?type=procurement&amp;needsAttention=true">1</a>');
    expect(html).toContain('1 process needs attention');
    const calm = String(dashboardPage({ ...ctx(['process_owner']), current: 'dashboard' }, { ...dash, needsAttention: [] }));
    expect(calm).toContain('No process needs attention');
    const row = String(processTable([summary({ needsAttention: { step: 'budget check', reason: 'checkPurchase: connection refused', since: '2026-11-27T11:00:00.000Z' } })], { now, timeZone: 'Europe/Berlin' }, 'Processes'));
    expect(row).toContain('title="budget check: checkPurchase: connection refused">needs attention</span>');
  });

  it('renders the sign-in form with its token, and the demo people only when offered', () => {
    const plain = String(signInPage({ token: 'tok', next: '/ui/inbox' }));
    expect(plain).toContain('<label for="apiKey">API key</label>');
    expect(plain).toContain('name="csrf" value="tok"');
    expect(plain).toContain('name="next" value="/ui/inbox"');
    expect(plain).not.toContain('personId');
    const demo = String(signInPage({ token: 'tok', next: '', demoPeople: [{ id: 'p1', name: 'Jan <K>', email: 'j@x', roles: ['approver'] }] }));
    expect(demo).toContain('<label for="personId">Demo person</label>');
    expect(demo).toContain('Jan &lt;K&gt; · approver');
  });
});
