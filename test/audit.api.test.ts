/**
 * Audit search and export: GET /audit filters by subject (an id, or a reference it resolves: an
 * asset tag, a person's email, a cost-centre code with its type), actor (exact or part), action,
 * period (from inclusive, to exclusive) and workflow, newest first, paged by offset or by key;
 * GET /audit/export streams every match as CSV or JSON lines, and refuses an unbounded period;
 * only process owners and admins may read it, through the API and the web page.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { parse } from 'csv-parse/sync';
import { createAsset, createCostCentre, createPerson, type TestPerson } from './support/fixtures';
import { send, startStack, type Stack } from './support/stack';
import { browse, signInWithKey, webAgent } from './support/web-agent';

let stack: Stack;
let owner: TestPerson;
let admin: TestPerson;
let requester: TestPerson;
let assetManager: TestPerson;

beforeAll(async () => {
  stack = await startStack({ worker: false });
  const db = stack.database.db;
  owner = await createPerson(db, ['process_owner'], 'Olga Owner');
  admin = await createPerson(db, ['admin'], 'Ada Admin');
  requester = await createPerson(db, ['requester'], 'Remy Requester');
  assetManager = await createPerson(db, ['asset_manager'], 'Asta Manager');
});

afterAll(async () => {
  await stack?.stop();
});

const unique = () => randomBytes(4).toString('hex');

interface Row {
  actor: string;
  subjectType: string;
  subjectId: string;
  action: string;
  at: Date;
  workflowId?: string;
  details?: Record<string, unknown>;
  fromState?: string;
  toState?: string;
}

/** Inserts audit rows as the writers do (append-only; the time given), in this order; answers their ids. */
async function insertRows(rows: Row[]): Promise<number[]> {
  const ids: number[] = [];
  for (let i = 0; i < rows.length; i += 500) {
    const inserted = await stack.database.db('audit_log').insert(rows.slice(i, i + 500).map((r) => ({
      idempotency_key: `test:${randomUUID()}`,
      actor: r.actor,
      subject_type: r.subjectType,
      subject_id: r.subjectId,
      action: r.action,
      occurred_at: r.at,
      workflow_id: r.workflowId ?? null,
      from_state: r.fromState ?? null,
      to_state: r.toState ?? null,
      details: r.details ?? {},
    }))).returning('id');
    ids.push(...inserted.map((x: { id: number }) => x.id));
  }
  return ids;
}

const get = (path: string, key = owner.apiKey) => send(stack, key, 'GET', path);
const q = (values: Record<string, string | number>) => `?${new URLSearchParams(Object.entries(values).map(([k, v]): [string, string] => [k, String(v)])).toString()}`;
const idsOf = (body: { items: { id: number }[] }) => body.items.map((i) => i.id);

describe('GET /audit', () => {
  it('filters by subject: an id with its type, an asset tag or an email on its own, a cost-centre code with its type', async () => {
    const db = stack.database.db;
    const asset = await createAsset(db);
    const code = `AUD-${unique()}`.toUpperCase();
    const costCentreId = await createCostCentre(db, code, 'Audit team', null);
    const at = new Date();
    const [assetRow, costCentreRow, personRow] = await insertRows([
      { actor: 'system:asset-lifecycle', subjectType: 'asset', subjectId: asset.id, action: 'state_changed', fromState: 'in_stock', toState: 'in_use', at },
      { actor: admin.email, subjectType: 'cost_centre', subjectId: costCentreId, action: 'updated', details: { before: { name: 'A' }, after: { name: 'B' } }, at },
      { actor: admin.email, subjectType: 'person', subjectId: requester.id, action: 'updated', at },
    ]);

    const byId = await get(`/audit${q({ subjectType: 'asset', subjectId: asset.id })}`);
    expect(byId.status).toBe(200);
    expect(byId.body.items).toEqual([{
      id: assetRow, occurredAt: at.toISOString(), actor: 'system:asset-lifecycle', subjectType: 'asset', subjectId: asset.id,
      action: 'state_changed', fromState: 'in_stock', toState: 'in_use', workflowId: null, details: {},
    }]);

    const byTag = await get(`/audit${q({ subject: asset.assetTag.toLowerCase() })}`);
    expect(idsOf(byTag.body)).toEqual([assetRow]);
    expect(byTag.body.subject).toEqual({ subjectType: 'asset', subjectId: asset.id });

    const byEmail = await get(`/audit${q({ subject: requester.email.toUpperCase() })}`);
    expect(idsOf(byEmail.body)).toEqual([personRow]);

    const byCode = await get(`/audit${q({ subjectType: 'cost_centre', subject: code.toLowerCase() })}`);
    expect(idsOf(byCode.body)).toEqual([costCentreRow]);
    expect(byCode.body.items[0].details).toEqual({ before: { name: 'A' }, after: { name: 'B' } });

    const noType = await get(`/audit${q({ subject: code })}`);
    expect(noType.status).toBe(400);
    expect(noType.body.error.message).toMatch(/say which subjectType/);
    const nothing = await get(`/audit${q({ subject: 'AST9999999' })}`);
    expect(nothing.status).toBe(400);
    expect(nothing.body.error.details).toEqual([{ path: 'subject', message: 'there is no asset AST9999999' }]);
    const both = await get(`/audit${q({ subject: asset.assetTag, subjectId: asset.id })}`);
    expect(both.status).toBe(400);
  });

  it('filters by actor exactly or by part in any case, by action and by workflow', async () => {
    const tag = unique();
    const actor = `ingrid.${tag}@assetflow.test`;
    const subjectId = randomUUID();
    const at = new Date();
    const [created, approved, other] = await insertRows([
      { actor, subjectType: 'change_request', subjectId, action: 'submitted', workflowId: `change:CHG-${tag}`, at },
      { actor, subjectType: 'change_request', subjectId, action: 'approval_decided', workflowId: `change:CHG-${tag}`, at },
      { actor: `system:${tag}`, subjectType: 'change_request', subjectId, action: 'approval_decided', at },
    ]);

    expect(idsOf((await get(`/audit${q({ actor: actor.toUpperCase() })}`)).body)).toEqual([approved, created]);
    expect(idsOf((await get(`/audit${q({ actorContains: tag.toUpperCase() })}`)).body)).toEqual([other, approved, created]);
    expect(idsOf((await get(`/audit${q({ actorContains: `ingrid.${tag}` })}`)).body)).toEqual([approved, created]);
    expect(idsOf((await get(`/audit${q({ subjectId, action: 'approval_decided' })}`)).body)).toEqual([other, approved]);
    expect(idsOf((await get(`/audit${q({ workflowId: `change:CHG-${tag}`, action: 'submitted' })}`)).body)).toEqual([created]);
    // % and _ are letters, not wildcards.
    expect((await get(`/audit${q({ actorContains: `ingrid_${tag}` })}`)).body.items).toEqual([]);
    expect((await get(`/audit${q({ action: 'Not An Action' })}`)).status).toBe(400);
  });

  it('filters by period: from is inclusive, to exclusive, and to must be after from', async () => {
    const actor = `system:period-${unique()}`;
    const t0 = new Date('2026-06-01T12:00:00.000Z');
    const second = (n: number) => new Date(t0.getTime() + n * 1000);
    const [, atOne, atTwo] = await insertRows([0, 1, 2, 3].map((n) => ({ actor, subjectType: 'asset', subjectId: randomUUID(), action: 'tick', at: second(n) })));

    const page = await get(`/audit${q({ actor, from: second(1).toISOString(), to: second(3).toISOString() })}`);
    expect(page.status).toBe(200);
    expect(idsOf(page.body)).toEqual([atTwo, atOne]);
    expect(page.body.items.map((i: { occurredAt: string }) => i.occurredAt)).toEqual([second(2).toISOString(), second(1).toISOString()]);
    // The same instants written with another offset.
    expect(idsOf((await get(`/audit${q({ actor, from: '2026-06-01T14:00:01+02:00', to: '2026-06-01T14:00:02+02:00' })}`)).body)).toEqual([atOne]);

    expect((await get(`/audit${q({ actor, from: second(2).toISOString(), to: second(2).toISOString() })}`)).status).toBe(400);
    expect((await get(`/audit${q({ actor, from: '2026-06-01 12:00' })}`)).status).toBe(400);
  });

  it('pages newest first by offset and by key (beforeId), without overlap or gaps', async () => {
    const subjectId = randomUUID();
    const ids = await insertRows([1, 2, 3, 4, 5].map((n) => ({ actor: 'system:test', subjectType: 'asset', subjectId, action: `step_${n}`, at: new Date() })));
    const newestFirst = [...ids].reverse();

    const first = await get(`/audit${q({ subjectType: 'asset', subjectId, limit: 2 })}`);
    expect(idsOf(first.body)).toEqual(newestFirst.slice(0, 2));
    expect(first.body.page).toEqual({ limit: 2, offset: 0, hasMore: true, nextBeforeId: newestFirst[1] });
    const third = await get(`/audit${q({ subjectType: 'asset', subjectId, limit: 2, offset: 4 })}`);
    expect(idsOf(third.body)).toEqual(newestFirst.slice(4));
    expect(third.body.page).toMatchObject({ hasMore: false, nextBeforeId: null });

    const walked: number[] = [];
    let beforeId: number | null = null;
    do {
      const page: Awaited<ReturnType<typeof get>> = await get(`/audit${q({ subjectId, limit: 2, ...(beforeId ? { beforeId } : {}) })}`);
      walked.push(...idsOf(page.body));
      beforeId = page.body.page.nextBeforeId;
    } while (beforeId);
    expect(walked).toEqual(newestFirst);
    expect((await get(`/audit${q({ limit: 201 })}`)).status).toBe(400);
  });

  it('is for process owners and admins only', async () => {
    expect((await get('/audit', admin.apiKey)).status).toBe(200);
    for (const person of [requester, assetManager]) {
      const refused = await get('/audit', person.apiKey);
      expect(refused.status).toBe(403);
      expect(refused.body.error.code).toBe('forbidden');
      expect((await get(`/audit/export${q({ subjectId: randomUUID() })}`, person.apiKey)).status).toBe(403);
    }
    expect((await send(stack, undefined, 'GET', '/audit')).status).toBe(401);
  });
});

describe('GET /audit/export', () => {
  const ROWS = 3_500;
  let actor: string;
  let ids: number[];
  const start = new Date('2026-03-01T00:00:00.000Z');

  beforeAll(async () => {
    actor = `system:export-${unique()}`;
    // Details with the characters CSV must quote; one row a second, so that the period filter cuts between rows.
    ids = await insertRows(Array.from({ length: ROWS }, (_, n) => ({
      actor, subjectType: 'asset', subjectId: randomUUID(), action: n % 2 ? 'odd' : 'even', at: new Date(start.getTime() + n * 1000),
      workflowId: `asset:AST${n}`, details: { n, note: 'a "quoted", comma\nline' },
    })));
  });

  const period = { from: start.toISOString(), to: new Date(start.getTime() + 86_400_000).toISOString() };

  it('streams every match as CSV, newest first, in the documented columns, with details as JSON text', async () => {
    const res = await get(`/audit/export${q({ actor, ...period, format: 'csv' })}`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/csv/);
    expect(res.headers.get('content-disposition')).toBe('attachment; filename="audit.csv"');
    const [header, ...lines] = parse(res.text, { relax_column_count: false }) as string[][];
    expect(header).toEqual(['id', 'occurredAt', 'actor', 'subjectType', 'subjectId', 'action', 'fromState', 'toState', 'workflowId', 'details']);
    expect(lines).toHaveLength(ROWS);
    expect(lines.map((l) => Number(l[0]))).toEqual([...ids].reverse());
    const newest = lines[0];
    expect(newest.slice(1, 4)).toEqual([new Date(start.getTime() + (ROWS - 1) * 1000).toISOString(), actor, 'asset']);
    expect(newest.slice(5)).toEqual(['odd', '', '', `asset:AST${ROWS - 1}`, expect.any(String)]);
    expect(JSON.parse(newest[9])).toEqual({ n: ROWS - 1, note: 'a "quoted", comma\nline' });
  });

  it('streams the same filters as JSON lines, and narrows by action and period alike', async () => {
    const res = await get(`/audit/export${q({ actor, action: 'even', from: new Date(start.getTime() + 1000).toISOString(), to: new Date(start.getTime() + 2001 * 1000).toISOString(), format: 'jsonl' })}`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^application\/x-ndjson/);
    const entries = res.text.trimEnd().split('\n').map((line) => JSON.parse(line) as { id: number; action: string; details: { n: number } });
    // Rows 2, 4, ... 2000: from row 1's second (inclusive) to row 2001's (exclusive).
    expect(entries).toHaveLength(1000);
    expect(entries.every((e) => e.action === 'even')).toBe(true);
    expect(entries[0].details.n).toBe(2000);
    expect(entries[entries.length - 1].details.n).toBe(2);
    expect(entries[0]).toEqual(expect.objectContaining({ actor, subjectType: 'asset', workflowId: 'asset:AST2000', fromState: null, toState: null }));
  });

  it('refuses an export with no period or a period over 366 days, unless it names one subject or workflow', async () => {
    const unbounded = await get(`/audit/export${q({ actor })}`);
    expect(unbounded.status).toBe(400);
    expect(unbounded.body.error.message).toMatch(/name a period/);
    const long = await get(`/audit/export${q({ actor, from: '2025-01-01T00:00:00Z', to: '2026-01-03T00:00:00Z' })}`);
    expect(long.status).toBe(400);
    expect(long.body.error.message).toMatch(/366 days/);
    expect((await get(`/audit/export${q({ actor, from: '2025-01-01T00:00:00Z', to: '2026-01-02T00:00:00Z' })}`)).status).toBe(200);

    const oneWorkflow = await get(`/audit/export${q({ workflowId: 'asset:AST7', format: 'jsonl' })}`);
    expect(oneWorkflow.status).toBe(200);
    expect(oneWorkflow.text.trimEnd().split('\n').map((l) => JSON.parse(l).id)).toEqual([ids[7]]);
    const empty = await get(`/audit/export${q({ subjectId: randomUUID() })}`);
    expect(empty.status).toBe(200);
    expect(empty.text).toBe('id,occurredAt,actor,subjectType,subjectId,action,fromState,toState,workflowId,details\n');
  });
});

describe('the audit page', () => {
  it('shows the rows the form filters in UTC, pages them, and exports the same filters through the session', async () => {
    const actor = `system:page-${unique()}`;
    const subjectId = randomUUID();
    const at = new Date('2026-07-04T09:08:07.000Z');
    const ids = await insertRows([1, 2, 3].map((n) => ({ actor, subjectType: 'asset', subjectId, action: 'state_changed', fromState: 'in_stock', toState: `state_${n}`, at, details: { note: `<b>${n}</b>` } })));
    const agent = webAgent(stack.baseUrl);
    expect((await signInWithKey(agent, owner.apiKey)).status).toBe(303);

    const page = await browse(agent, 'GET', `/ui/audit${q({ actor, from: '2026-07-04T09:08', to: '2026-07-04T09:09', limit: 2 })}`);
    expect(page.status).toBe(200);
    expect(page.html).toContain('<time datetime="2026-07-04T09:08:07.000Z">2026-07-04 09:08:07 UTC</time>');
    expect(page.html).toContain(`id="audit-${ids[2]}"`);
    expect(page.html).toContain(`id="audit-${ids[1]}"`);
    expect(page.html).not.toContain(`id="audit-${ids[0]}"`);
    expect(page.html).toContain('&lt;b&gt;3&lt;/b&gt;');
    expect(page.html).not.toContain('<b>3</b>');
    const older = /href="([^"]+)" rel="next"/.exec(page.html)![1].replace(/&amp;/g, '&');
    const second = await browse(agent, 'GET', older);
    expect(second.html).toContain(`id="audit-${ids[0]}"`);
    expect(second.html).not.toContain(`id="audit-${ids[1]}"`);

    const exportHref = /href="(\/ui\/audit\/export[^"]+format=csv)"/.exec(page.html)![1].replace(/&amp;/g, '&');
    const exported = await browse(agent, 'GET', exportHref);
    expect(exported.status).toBe(200);
    expect(exported.headers.get('content-type')).toMatch(/^text\/csv/);
    expect((parse(exported.html) as string[][]).slice(1).map((l) => Number(l[0]))).toEqual([...ids].reverse());

    const unbounded = await browse(agent, 'GET', `/ui/audit${q({ actor })}`);
    expect(unbounded.html).toContain('To export, name a period');
    expect(unbounded.html).not.toContain('/ui/audit/export');
    const bad = await browse(agent, 'GET', `/ui/audit${q({ subject: 'AST9999999' })}`);
    expect(bad.status).toBe(400);
    expect(bad.html).toContain('there is no asset AST9999999');
  });

  it('is refused to a requester', async () => {
    const agent = webAgent(stack.baseUrl);
    expect((await signInWithKey(agent, requester.apiKey)).status).toBe(303);
    expect((await browse(agent, 'GET', '/ui/audit')).status).toBe(403);
    expect((await browse(agent, 'GET', `/ui/audit/export${q({ subjectId: randomUUID() })}`)).status).toBe(403);
  });
});
