/**
 * A worker killed in the middle of a transition: the next worker finishes it, and every write and
 * every email happens once. The worker runs as its own process (the built `dist/scripts/worker.js`)
 * so that it can be killed for real.
 */
import type { ChildProcess } from 'node:child_process';
import { createActivities } from '../activities';
import { auditRows, createAsset, createPerson, installSoftware, type TestPerson } from './support/fixtures';
import { RELAXED_APPROVAL_TIMINGS, call, startStack, type Stack } from './support/stack';
import { buildDist, startWorkerProcess as startWorker } from './support/worker-process';

let stack: Stack;
let assetManager: TestPerson;
const workers: ChildProcess[] = [];

function startWorkerProcess(): ChildProcess {
  const child = startWorker(stack);
  workers.push(child);
  return child;
}

beforeAll(async () => {
  buildDist();
  stack = await startStack({ worker: false });
  assetManager = await createPerson(stack.database.db, ['asset_manager'], 'Carl Crash');
});

afterAll(async () => {
  for (const worker of workers) if (worker.exitCode === null) worker.kill('SIGKILL');
  await stack?.stop();
});

async function waitFor<T>(probe: () => Promise<T | undefined>, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error('timed out waiting');
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

it('finishes a transition once after the worker is killed in the middle of it', async () => {
  const db = stack.database.db;
  const laptop = await createAsset(db, { state: 'in_use', assignedToId: assetManager.id });
  await installSoftware(db, laptop.id, 5, 2);
  const first = startWorkerProcess();

  const response = call(stack, assetManager.apiKey, 'POST', `/assets/${laptop.id}/transitions`, { toState: 'retired', toSubstate: 'stolen' });
  await waitFor(async () => (await auditRows(db, laptop.id)).find((row) => row.action === 'transition'));
  first.kill('SIGKILL');
  await new Promise((resolve) => first.once('exit', resolve));
  const actionsAtKill = (await auditRows(db, laptop.id)).map((row) => row.action);
  expect(actionsAtKill).not.toContain('security_notice_sent');

  startWorkerProcess();
  const res = await response;

  expect(res.status).toBe(200);
  expect(res.body.asset).toMatchObject({ state: 'retired', substate: 'stolen' });
  const actions = (await auditRows(db, laptop.id)).map((row) => row.action);
  expect(actions).toEqual(['transition', 'licences_reclaimed', 'book_value_recorded', 'security_notice_sent']);
  await stack.sink.waitFor((m) => m.subject.includes(laptop.assetTag));
  expect(stack.sink.messages().filter((m) => m.subject.includes(laptop.assetTag))).toHaveLength(1);
  expect(await db('email_log').where({ subject_id: laptop.id })).toHaveLength(1);
});

it('writes once when an activity runs again with the same idempotency key', async () => {
  const db = stack.database.db;
  const activities = createActivities({
    db,
    publicUrl: stack.baseUrl,
    securityNoticeEmail: stack.securityNoticeEmail,
    temporal: stack.env.client,
    lifecycle: { taskQueue: stack.taskQueue, reminders: stack.reminders },
    approvalTimings: RELAXED_APPROVAL_TIMINGS.normal,
  });
  const laptop = await createAsset(db, { state: 'in_use', assignedToId: assetManager.id });
  await installSoftware(db, laptop.id, 3, 1);
  const effect = { workflowId: `asset:${laptop.assetTag}`, assetId: laptop.id, actor: assetManager.email };
  const move = {
    ...effect,
    idempotencyKey: `retry-test:${laptop.id}:transition`,
    expectedVersion: 0,
    from: { state: 'in_use' as const, substate: null },
    to: { state: 'retired' as const, substate: 'lost' as const },
    assignedToId: null,
  };

  // As if the first execution committed but its completion never reached Temporal.
  const [once, again] = [await activities.recordTransition(move), await activities.recordTransition(move)];
  const reclaimed = [
    await activities.reclaimLicences({ ...effect, idempotencyKey: `retry-test:${laptop.id}:reclaim` }),
    await activities.reclaimLicences({ ...effect, idempotencyKey: `retry-test:${laptop.id}:reclaim` }),
  ];
  const notice = { ...effect, idempotencyKey: `retry-test:${laptop.id}:notice`, lastAssignedToId: assetManager.id };
  await activities.sendSecurityNotice(notice);
  await activities.sendSecurityNotice(notice);

  expect(again).toEqual(once);
  expect(reclaimed).toEqual([1, 1]);
  expect((await auditRows(db, laptop.id)).map((row) => row.action)).toEqual(['transition', 'licences_reclaimed', 'security_notice_sent']);
  await stack.sink.waitFor((m) => m.subject.includes(laptop.assetTag));
  expect(stack.sink.messages().filter((m) => m.subject.includes(laptop.assetTag))).toHaveLength(1);
});
