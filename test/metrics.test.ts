/**
 * Prometheus metrics on the real stack: GET /metrics on the API (HTTP latency by route pattern,
 * process counts and approval latency read from Postgres at scrape time) and the worker's activity
 * metrics from its interceptor.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import type { Knex } from 'knex';
import { createAsset, createPerson, type TestPerson } from './support/fixtures';
import { call, startStack, type Stack } from './support/stack';

let stack: Stack;
let requester: TestPerson;
let assetManager: TestPerson;
let processOwner: TestPerson;

beforeAll(async () => {
  stack = await startStack();
  requester = await createPerson(stack.database.db, ['requester'], 'Mira Metrics');
  assetManager = await createPerson(stack.database.db, ['asset_manager'], 'Ada Asset');
  processOwner = await createPerson(stack.database.db, ['process_owner'], 'Otto Owner');
});

afterAll(async () => {
  await stack?.stop();
});

async function scrape(): Promise<{ status: number; contentType: string | null; text: string }> {
  const res = await fetch(`${stack.baseUrl}/metrics`, { headers: { authorization: `Bearer ${processOwner.apiKey}` } });
  return { status: res.status, contentType: res.headers.get('content-type'), text: await res.text() };
}

/** The value of one sample, its labels given exactly as exposed (in order); undefined when absent. */
function sample(text: string, name: string, labels = ''): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${name}${labels ? `{${labels}}` : ''} `));
  return line === undefined ? undefined : Number(line.slice(line.lastIndexOf(' ') + 1));
}

async function costCentre(db: Knex): Promise<string> {
  const code = `CC-M-${randomBytes(3).toString('hex')}`;
  const [{ id }] = await db('cost_centres').insert({ code, name: `Team ${code}` }).returning('id');
  return id;
}

describe('GET /metrics on the API', () => {
  it('is Prometheus text for process owners and labels HTTP latency by route pattern, not by URL', async () => {
    expect((await call(stack, undefined, 'GET', '/healthz')).status).toBe(200);
    expect((await call(stack, undefined, 'GET', '/no/such/route/42')).status).toBe(404);
    expect((await call(stack, requester.apiKey, 'GET', '/change-models')).status).toBe(200);
    const unknownChange = randomUUID();
    expect((await call(stack, requester.apiKey, 'GET', `/changes/${unknownChange}`)).status).toBe(404);
    expect((await call(stack, undefined, 'GET', '/change-models')).status).toBe(401);

    const { status, contentType, text } = await scrape();
    expect(status).toBe(200);
    expect(contentType).toBe('text/plain; version=0.0.4; charset=utf-8');

    expect(text).toContain('# TYPE assetflow_http_request_duration_seconds histogram');
    const count = (labels: string) => sample(text, 'assetflow_http_request_duration_seconds_count', labels);
    expect(count('method="GET",route="/healthz",status_code="200"')).toBeGreaterThanOrEqual(1);
    expect(count('method="GET",route="unmatched",status_code="404"')).toBe(1);
    expect(count('method="GET",route="/change-models",status_code="200"')).toBe(1);
    expect(count('method="GET",route="/change-models",status_code="401"')).toBe(1);
    expect(count('method="GET",route="/changes/:id",status_code="404"')).toBe(1);
    expect(sample(text, 'assetflow_http_request_duration_seconds_bucket', 'le="+Inf",method="GET",route="/change-models",status_code="200"')).toBe(1);
    // No raw URL, id or path of an unknown route becomes a label value.
    expect(text).not.toContain(unknownChange);
    expect(text).not.toContain('/no/such/route');

    // The process figures, the approval latency and Node's own metrics are there from the start.
    expect(sample(text, 'assetflow_process_metrics_up')).toBe(1);
    expect(text).toContain('# TYPE assetflow_processes_started_total counter');
    expect(text).toContain('# TYPE assetflow_processes_finished_total counter');
    expect(text).toContain('# TYPE assetflow_processes_open gauge');
    expect(text).toContain('# TYPE assetflow_approval_decision_seconds histogram');
    for (const type of ['change', 'procurement']) expect(sample(text, 'assetflow_processes_started_total', `type="${type}"`)).toBeGreaterThanOrEqual(0);
    expect(sample(text, 'assetflow_processes_finished_total', 'type="change",outcome="successful"')).toBeGreaterThanOrEqual(0);
    expect(sample(text, 'assetflow_processes_open', 'type="procurement",state="authorize"')).toBeGreaterThanOrEqual(0);
    expect(text).toMatch(/^assetflow_process_resident_memory_bytes \d+/m);

    // A scrape is not logged as an error and is itself measured under its route.
    const again = await scrape();
    expect(sample(again.text, 'assetflow_http_request_duration_seconds_count', 'method="GET",route="/metrics",status_code="200"')).toBeGreaterThanOrEqual(1);
  });

  it('reads process counts and approval latency from Postgres at scrape time', async () => {
    const db = stack.database.db;
    const before = (await scrape()).text;
    const value = (text: string, name: string, labels: string) => sample(text, name, labels) ?? 0;

    // A change closed as successful and one still waiting for approval.
    const [closed] = await db('change_requests')
      .insert({ type: 'normal', state: 'closed', close_code: 'successful', requester_id: requester.id, title: 'Patch web-01', closed_at: db.fn.now() })
      .returning(['id']);
    await db('change_requests').insert({ type: 'normal', state: 'authorize', requester_id: requester.id, title: 'Resize db-02' });
    // A purchase request rejected, and one being ordered.
    const cc = await costCentre(db);
    await db('purchase_requests').insert([
      { requester_id: requester.id, cost_centre_id: cc, state: 'rejected', outcome: 'over budget', justification: 'Monitors', currency: 'EUR', closed_at: db.fn.now() },
      { requester_id: requester.id, cost_centre_id: cc, state: 'ordering', justification: 'Docks', currency: 'EUR' },
    ]);
    // An approval of the closed change, decided 90 s after it was asked for; one still open (not counted).
    const approval = {
      subject_type: 'change_request', subject_id: closed.id, workflow_id: `change:metrics-${randomBytes(3).toString('hex')}`,
      step_name: 'Manager', approver_id: assetManager.id,
    };
    await db('approvals').insert([
      { ...approval, step_order: 1, state: 'approved', created_at: db.raw(`now() - interval '90 seconds'`), decided_at: db.fn.now() },
      { ...approval, step_order: 2, state: 'requested', created_at: db.raw(`now() - interval '1 hour'`) },
    ]);

    const after = (await scrape()).text;
    const delta = (name: string, labels: string) => value(after, name, labels) - value(before, name, labels);

    expect(delta('assetflow_processes_started_total', 'type="change"')).toBe(2);
    expect(delta('assetflow_processes_started_total', 'type="procurement"')).toBe(2);
    expect(delta('assetflow_processes_finished_total', 'type="change",outcome="successful"')).toBe(1);
    expect(delta('assetflow_processes_finished_total', 'type="change",outcome="cancelled"')).toBe(0);
    expect(delta('assetflow_processes_finished_total', 'type="procurement",outcome="rejected"')).toBe(1);
    expect(delta('assetflow_processes_open', 'type="change",state="authorize"')).toBe(1);
    expect(delta('assetflow_processes_open', 'type="procurement",state="ordering"')).toBe(1);

    // 90 s: above the 60 s bucket, inside the 300 s one.
    const bucket = (le: string) => delta('assetflow_approval_decision_seconds_bucket', `le="${le}",type="change",decision="approved"`);
    expect(bucket('60')).toBe(0);
    expect(bucket('300')).toBe(1);
    expect(bucket('+Inf')).toBe(1);
    expect(delta('assetflow_approval_decision_seconds_count', 'type="change",decision="approved"')).toBe(1);
    const sum = delta('assetflow_approval_decision_seconds_sum', 'type="change",decision="approved"');
    expect(sum).toBeGreaterThanOrEqual(89);
    expect(sum).toBeLessThan(120);
    expect(delta('assetflow_approval_decision_seconds_count', 'type="procurement",decision="approved"')).toBe(0);
  });
});

describe('the worker\'s metrics', () => {
  it('time the activities a transition runs, by activity type', async () => {
    const laptop = await createAsset(stack.database.db, { state: 'in_stock', substate: 'available' });
    const res = await call(stack, assetManager.apiKey, 'POST', `/assets/${laptop.assetTag}/transitions`, { toState: 'in_use', assignedToId: requester.id });
    expect(res.status).toBe(200);

    const text = await stack.workerMetrics.metrics();
    expect(text).toContain('# TYPE assetflow_activity_duration_seconds histogram');
    expect(sample(text, 'assetflow_activity_duration_seconds_count', 'activity="recordTransition",outcome="completed"')).toBeGreaterThanOrEqual(1);
    expect(text).toContain('# TYPE assetflow_activity_failures_total counter');
    expect(text).toMatch(/^assetflow_process_cpu_seconds_total /m);
  });
});
