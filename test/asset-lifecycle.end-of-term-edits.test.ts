/**
 * An asset's warranty and lease reminders follow edits of its dates: a PATCH of the record or an
 * import tells its running lifecycle workflow, which plans its timers again. The time-skipping
 * test server lets weeks pass in seconds; the worker, Postgres and the SMTP sink stay real.
 */
import { startLifecycleWorkflows } from '../scripts/start-lifecycle-workflows';
import { assetLifecycleWorkflowId, endOfTermDatesChangedSignal, lifecycleStatusQuery } from '../workflows/asset-lifecycle/contract';
import { auditRows, createAsset, createPerson, eventually, type TestPerson } from './support/fixtures';
import { send, startStack, type Stack } from './support/stack';

let stack: Stack;
let manager: TestPerson;

beforeAll(async () => {
  stack = await startStack({ timeSkipping: true, reminders: { warrantyDaysBefore: 30, leaseDaysBefore: 14 } });
  manager = await createPerson(stack.database.db, ['asset_manager'], 'Eda Enddate');
});

afterAll(async () => {
  await stack?.stop();
});

const DAY_MS = 24 * 60 * 60 * 1000;

/** The date `days` from now on the test server's clock, which earlier sleeps have moved on. */
async function inDays(days: number): Promise<string> {
  return new Date((await stack.env.currentTimeMs()) + days * DAY_MS).toISOString().slice(0, 10);
}

/** An in-use asset the manager looks after, with its lifecycle workflow running. */
async function runningAsset(dates: { warrantyEnd?: string; leaseEnd?: string }) {
  const asset = await createAsset(stack.database.db, { state: 'in_use', assignedToId: manager.id, managedById: manager.id, ...dates });
  await startLifecycleWorkflows(stack.database.db, stack.env.client, { taskQueue: stack.taskQueue, reminders: stack.reminders });
  const handle = stack.env.client.workflow.getHandle(assetLifecycleWorkflowId(asset.assetTag));
  const status = () => handle.query(lifecycleStatusQuery);
  const mailFor = () => stack.sink.messages().filter((m) => m.subject.startsWith(`${asset.assetTag}:`)).map((m) => m.subject);
  return { asset, handle, status, mailFor };
}

async function patchAsset(tag: string, body: Record<string, unknown>) {
  const read = await send(stack, manager.apiKey, 'GET', `/assets/${tag}`);
  expect(read.status).toBe(200);
  return send(stack, manager.apiKey, 'PATCH', `/assets/${tag}`, { body, headers: { 'if-match': read.headers.get('etag')! } });
}

it('moves the warranty reminder when PATCH /assets/:ref moves the warranty end: nothing on the old date, the email on the new one', async () => {
  const oldEnd = await inDays(40);
  const newEnd = await inDays(80);
  const { asset, status, mailFor } = await runningAsset({ warrantyEnd: oldEnd });
  expect((await status()).nextReminder).toMatchObject({ kind: 'warranty', endDate: oldEnd });

  const patched = await patchAsset(asset.assetTag, { warrantyEnd: newEnd });
  expect(patched.status).toBe(200);
  expect(patched.body.warrantyEnd).toBe(newEnd);
  await eventually(async () => (await status()).nextReminder?.endDate === newEnd);
  expect((await status()).asset.warrantyEnd).toBe(newEnd);

  // The old reminder was due after 10 days.
  await stack.env.sleep('12 days');
  expect(mailFor()).toEqual([]);

  await stack.env.sleep('40 days');
  const mail = await stack.sink.waitFor((m) => m.subject === `${asset.assetTag}: warranty ends on ${newEnd}`);
  expect(mail.to).toEqual([manager.email]);
  expect(mailFor()).toEqual([`${asset.assetTag}: warranty ends on ${newEnd}`]);
  expect((await status()).remindersSent).toEqual([`warranty:${newEnd}`]);
  const reminders = (await auditRows(stack.database.db, asset.id)).filter((row) => row.action === 'warranty_end_reminder');
  expect(reminders.map((row) => row.details.endDate)).toEqual([newEnd]);
});

it('follows a lease end an import moves, ignores an older version of the dates, and does not send a reminder for a date twice', async () => {
  const firstEnd = await inDays(20);
  const { asset, handle, status, mailFor } = await runningAsset({ leaseEnd: firstEnd });

  // 14 days before the lease end: sent after 6 days.
  await stack.env.sleep('7 days');
  await stack.sink.waitFor((m) => m.subject === `${asset.assetTag}: lease ends on ${firstEnd}`);

  const laterEnd = await inDays(60);
  const uploaded = await send(stack, manager.apiKey, 'POST', '/imports?kind=assets&format=csv', {
    body: `assetTag,leaseEnd\n${asset.assetTag},${laterEnd}\n`, headers: { 'content-type': 'text/csv' },
  });
  expect(uploaded.status).toBe(202);
  const done = await eventually(async () => {
    const read = await send(stack, manager.apiKey, 'GET', `/imports/${uploaded.body.id}`);
    return ['completed', 'refused', 'failed'].includes(read.body.state) ? read.body : undefined;
  }, 60_000);
  expect(done).toMatchObject({ state: 'completed', counts: { updated: 1 } });
  await eventually(async () => (await status()).nextReminder?.endDate === laterEnd);

  // A signal read before the import's write (a lower record version) arrives late: it changes nothing.
  await handle.signal(endOfTermDatesChangedSignal, { warrantyEnd: null, leaseEnd: firstEnd, recordVersion: 1 });
  expect((await status()).asset.leaseEnd).toBe(laterEnd);

  // Back to the date already reminded of: nothing is planned, and nothing is sent again.
  expect((await patchAsset(asset.assetTag, { leaseEnd: firstEnd })).status).toBe(200);
  await eventually(async () => (await status()).asset.leaseEnd === firstEnd);
  expect((await status()).nextReminder).toBeNull();
  await stack.env.sleep('60 days');
  expect(mailFor()).toEqual([`${asset.assetTag}: lease ends on ${firstEnd}`]);
  expect((await status()).remindersSent).toEqual([`lease:${firstEnd}`]);
});

it('saves the dates of an asset whose lifecycle workflow is not running: it reads them when it starts', async () => {
  const asset = await createAsset(stack.database.db, { state: 'in_stock', warrantyEnd: await inDays(100) });
  const later = await inDays(200);
  const patched = await patchAsset(asset.assetTag, { warrantyEnd: later });
  expect(patched.status).toBe(200);
  expect(patched.body.warrantyEnd).toBe(later);

  await startLifecycleWorkflows(stack.database.db, stack.env.client, { taskQueue: stack.taskQueue, reminders: stack.reminders });
  const status = await stack.env.client.workflow.getHandle(assetLifecycleWorkflowId(asset.assetTag)).query(lifecycleStatusQuery);
  expect(status.nextReminder).toMatchObject({ kind: 'warranty', endDate: later });
});
