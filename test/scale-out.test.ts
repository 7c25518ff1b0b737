/**
 * Scale-out as production runs it: two API processes and two worker processes on one real
 * Temporal server (built from its Go module: Postgres persistence and visibility, four history
 * shards; scripts/install-temporal-server.sh) and one Postgres. A long-poll held by one API wakes
 * on a decision made through the other; a worker SIGKILLed while changes are on their way loses
 * nothing and doubles nothing (audit, approvals, emails).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import net from 'node:net';
import path from 'node:path';
import { MailSink } from '../platform/mail-sink';
import { projectRoot } from '../platform/project-root';
import { createTestDatabase, type TestDatabase } from './support/database';
import { createApprovalRule, createCi, createPerson, eventually, type TestPerson } from './support/fixtures';
import { call } from './support/stack';
import { startTemporalServer, type TemporalServer } from './support/temporal-server';
import { buildDist, kill } from './support/worker-process';

let temporal: TemporalServer;
let database: TestDatabase;
let sink: MailSink;
const taskQueue = `scale-out-${randomBytes(4).toString('hex')}`;
const approvalLinkSecret = randomBytes(32).toString('base64url');
const children: ChildProcess[] = [];
let apiA: { baseUrl: string };
let apiB: { baseUrl: string };
let workers: ChildProcess[];
let implementer: TestPerson;

async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

function sharedEnv(publicUrl: string): NodeJS.ProcessEnv {
  return {
    ...process.env,
    DATABASE_URL: database.url,
    TEMPORAL_ADDRESS: temporal.address,
    TEMPORAL_NAMESPACE: temporal.namespace,
    TEMPORAL_TASK_QUEUE: taskQueue,
    SMTP_URL: sink.url,
    PUBLIC_URL: publicUrl,
    APPROVAL_LINK_SECRET: approvalLinkSecret,
    SECURITY_NOTICE_EMAIL: 'security@assetflow.test',
    DEMO_DATA: 'false',
    LOG_LEVEL: 'warn',
  };
}

function startChild(script: 'api' | 'worker', env: NodeJS.ProcessEnv): ChildProcess {
  const child = spawn(process.execPath, [path.join(projectRoot(), 'dist', 'scripts', `${script}.js`)], { env, stdio: ['ignore', 'inherit', 'inherit'] });
  children.push(child);
  return child;
}

async function startApi(): Promise<{ baseUrl: string }> {
  const port = await freePort();
  const baseUrl = `http://127.0.0.1:${port}`;
  const child = startChild('api', { ...sharedEnv(baseUrl), PORT: String(port), HOST: '127.0.0.1' });
  await eventually(async () => {
    if (child.exitCode !== null) throw new Error(`the API process exited with ${child.exitCode}`);
    return fetch(`${baseUrl}/healthz`).then((res) => res.ok, () => false);
  }, 60_000, 200);
  return { baseUrl };
}

// No metrics listener: two workers run on one machine.
const startWorker = () => startChild('worker', { ...sharedEnv(apiA.baseUrl), WORKER_METRICS_PORT: '0' });

async function stopGracefully(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
  await exited;
  clearTimeout(timer);
}

beforeAll(async () => {
  buildDist();
  [temporal, database] = await Promise.all([
    startTemporalServer({ postgresUrl: process.env.TEST_DATABASE_URL!, historyShards: 4 }),
    createTestDatabase(),
  ]);
  sink = new MailSink();
  await sink.start(0);
  [apiA, apiB] = await Promise.all([startApi(), startApi()]);
  workers = [startWorker(), startWorker()];
  const db = database.db;
  implementer = await createPerson(db, ['asset_manager'], 'Irene Implementer');
  await createApprovalRule(db, { stepOrder: 1, name: 'Manager', approverKind: 'manager' });
  console.log(`scale-out stack: Temporal ${temporal.address} (Postgres persistence, ${temporal.historyShards} history shards), API A ${apiA.baseUrl}, API B ${apiB.baseUrl}, 2 workers on ${taskQueue}`);
}, 240_000);

afterAll(async () => {
  await Promise.all(children.map(stopGracefully));
  await sink?.stop();
  await database?.drop();
  await temporal?.stop();
}, 60_000);

async function submitChange(api: { baseUrl: string }, title: string) {
  const db = database.db;
  const manager = await createPerson(db, ['approver'], `Manager ${title}`);
  const requester = await createPerson(db, ['requester'], `Requester ${title}`, { managerId: manager.id });
  const ci = await createCi(db, { ciClass: 'server' });
  const res = await call(api, requester.apiKey, 'POST', '/changes', { type: 'normal', title, affectedCiIds: [ci.id] });
  if (res.status !== 201 && res.status !== 202) throw new Error(`POST /changes answered ${res.status}: ${JSON.stringify(res.body)}`);
  return { manager, requester, change: res.body as { id: string; number: string; workflowId: string } };
}

const processPath = (workflowId: string, query = '') => `/processes/${encodeURIComponent(workflowId)}${query}`;

/** The approval the manager must decide, once the workflow has opened it. */
async function approvalFor(api: { baseUrl: string }, manager: TestPerson, workflowId: string): Promise<string> {
  return eventually(async () => {
    const res = await call(api, manager.apiKey, 'GET', processPath(workflowId));
    return res.status === 200 ? res.body.approvals.find((a: { approver: { id: string }; decision: string | null }) => a.approver.id === manager.id)?.id : undefined;
  }, 90_000, 200);
}

it('wakes a long-poll held by one API when the decision is made through the other', async () => {
  const { manager, change } = await submitChange(apiA, 'Rotate the load balancer certificates');
  const approvalId = await approvalFor(apiA, manager, change.workflowId);

  let answeredAt = 0;
  const polled = call(apiA, manager.apiKey, 'GET', processPath(change.workflowId, '?waitFor=implement,closed&waitSeconds=30')).then((res) => {
    answeredAt = Date.now();
    return res;
  });
  await new Promise((resolve) => setTimeout(resolve, 1_000));
  expect(answeredAt).toBe(0);

  const decided = await call(apiB, manager.apiKey, 'POST', `/changes/${change.id}/approvals/${approvalId}/decision`, { decision: 'approved', comment: 'fine' });
  const decidedAt = Date.now();
  expect(decided.status).toBe(200);
  const woken = await polled;

  expect(woken.status).toBe(200);
  expect(woken.body.process.state).toBe('implement');
  const latency = answeredAt - decidedAt;
  console.log(`long-poll on API A (waitFor=implement, waitSeconds=30) answered ${latency} ms after API B's decision was answered`);
  expect(latency).toBeLessThan(5_000);
});

it('finishes every change once when one of two workers is SIGKILLed mid-way', async () => {
  const db = database.db;
  const count = 8;
  const apis = [apiA, apiB];
  const registered = async () => Number((await db('change_requests').count({ n: '*' }))[0].n);
  const before = await registered();
  const submitted = Promise.all(Array.from({ length: count }, (_, i) => submitChange(apis[i % 2], `Patch the database cluster node ${i + 1}`)));
  // Kill while the submissions are being registered, assessed and routed: some steps are in flight.
  await eventually(async () => (await registered()) - before >= count / 2, 60_000, 20);
  const registeredAtKill = (await registered()) - before;
  await kill(workers[0]);
  console.log(`injected: SIGKILL of worker 1 of 2 with ${registeredAtKill} of ${count} changes registered`);
  const scenarios = await submitted;

  // Decide through the API the change was not submitted to, then implement through the other one.
  await Promise.all(scenarios.map(async ({ manager, change }, i) => {
    const other = apis[(i + 1) % 2];
    const approvalId = await approvalFor(other, manager, change.workflowId);
    const decided = await call(other, manager.apiKey, 'POST', `/changes/${change.id}/approvals/${approvalId}/decision`, { decision: 'approved', comment: 'go' });
    expect(decided.status).toBe(200);
    const ready = await call(apis[i % 2], implementer.apiKey, 'GET', processPath(change.workflowId, '?waitFor=implement,closed&waitSeconds=60'));
    expect(ready.body.process.state).toBe('implement');
    for (const event of ['started', 'completed'] as const) {
      const res = await call(apis[i % 2], implementer.apiKey, 'POST', `/changes/${change.id}/implementation`, { event, notes: `${event} by the night shift` });
      expect(res.status).toBe(200);
    }
  }));

  const ids = scenarios.map((s) => s.change.id);
  const rows = await db('change_requests').whereIn('id', ids).select('id', 'state', 'close_code');
  expect(rows.map((r) => [r.state, r.close_code])).toEqual(ids.map(() => ['closed', 'successful']));

  const audit = await db('audit_log').whereIn('subject_id', ids).select('subject_id', 'action', 'from_state', 'to_state');
  const stepsOf = (id: string) => audit.filter((r) => r.subject_id === id).map((r) => `${r.action}:${r.from_state ?? ''}>${r.to_state ?? ''}`).sort();
  const reference = stepsOf(ids[0]);
  for (const id of ids) {
    const steps = stepsOf(id);
    expect(new Set(steps).size).toBe(steps.length);
    expect(steps).toEqual(reference);
  }

  const approvals = await db('approvals').whereIn('subject_id', ids).select('subject_id', 'state');
  expect(approvals.map((a) => a.subject_id).sort()).toEqual([...ids].sort());
  expect(approvals.every((a) => a.state === 'approved')).toBe(true);

  // The requester hears at receipt, decision and outcome; the manager gets the task.
  const notices = ['approval_task', 'change_decision', 'change_outcome', 'change_receipt'];
  const noticesOf = (logged: { subject_id: string; template: string }[], id: string) => logged.filter((e) => e.subject_id === id).map((e) => e.template).sort();
  const emails = await eventually(async () => {
    const logged = await db('email_log').whereIn('subject_id', ids).select('subject_id', 'template', 'status', 'message_id');
    return logged.every((e) => e.status === 'sent') && ids.every((id) => noticesOf(logged, id).length >= notices.length) ? logged : undefined;
  }, 60_000, 200);
  for (const id of ids) expect(noticesOf(emails, id)).toEqual(notices);
  const bare = (messageId: unknown) => String(messageId ?? '').replace(/^<|>$/g, '');
  const logged = new Set(emails.map((e) => bare(e.message_id)));
  expect(logged.size).toBe(emails.length);
  const delivered = sink.messages().filter((m) => logged.has(bare(m.messageId)));
  expect(new Set(delivered.map((m) => bare(m.messageId)))).toEqual(logged);
  console.log(
    `checked: ${count} changes closed successful; ${audit.length} audit rows (${reference.length} distinct steps per change, none doubled or missing); `
    + `${approvals.length} approvals (one per change); ${emails.length} emails logged and sent (${notices.length} per change), `
    + `${delivered.length} deliveries in the sink (${delivered.length - emails.length} resent with the same Message-ID)`,
  );
}, 240_000);
