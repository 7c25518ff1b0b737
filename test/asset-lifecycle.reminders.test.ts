/**
 * Warranty and lease reminders are durable timers of weeks: the time-skipping test server lets
 * them fire in seconds, while the worker, Postgres and the SMTP sink stay real.
 */
import { startLifecycleWorkflows } from '../scripts/start-lifecycle-workflows';
import { assetLifecycleWorkflowId, lifecycleStatusQuery } from '../workflows/asset-lifecycle/contract';
import { auditRows, createAsset, createPerson } from './support/fixtures';
import { startStack, type Stack } from './support/stack';

let stack: Stack;

beforeAll(async () => {
  stack = await startStack({ timeSkipping: true, reminders: { warrantyDaysBefore: 30, leaseDaysBefore: 14 } });
});

afterAll(async () => {
  await stack?.stop();
});

const inDays = (days: number) => new Date(Date.now() + days * 24 * 60 * 60 * 1000).toISOString().slice(0, 10);

it('emails the asset manager 30 days before the warranty ends and 14 days before the lease ends, once each', async () => {
  const db = stack.database.db;
  const manager = await createPerson(db, ['asset_manager'], 'Wanda Warranty');
  const warrantyEnd = inDays(40);
  const leaseEnd = inDays(60);
  const laptop = await createAsset(db, { state: 'in_use', assignedToId: manager.id, managedById: manager.id, warrantyEnd, leaseEnd });

  await startLifecycleWorkflows(db, stack.env.client, { taskQueue: stack.taskQueue, reminders: stack.reminders });
  const handle = stack.env.client.workflow.getHandle(assetLifecycleWorkflowId(laptop.assetTag));
  expect((await handle.query(lifecycleStatusQuery)).nextReminder).toMatchObject({ kind: 'warranty', endDate: warrantyEnd });
  const forAsset = () => stack.sink.messages().filter((m) => m.subject.startsWith(laptop.assetTag));

  await stack.env.sleep('9 days');
  expect(forAsset()).toHaveLength(0);

  await stack.env.sleep('2 days');
  const warranty = await stack.sink.waitFor((m) => m.subject === `${laptop.assetTag}: warranty ends on ${warrantyEnd}`);
  expect(warranty.to).toEqual([manager.email]);
  expect(warranty.text).toContain('extend the warranty');

  await stack.env.sleep('36 days');
  const lease = await stack.sink.waitFor((m) => m.subject === `${laptop.assetTag}: lease ends on ${leaseEnd}`);
  expect(lease.to).toEqual([manager.email]);

  await stack.env.sleep('30 days');
  expect(forAsset()).toHaveLength(2);
  expect((await auditRows(db, laptop.id)).map((row) => row.action)).toEqual(['warranty_end_reminder', 'lease_end_reminder']);
  expect((await handle.query(lifecycleStatusQuery)).remindersSent).toEqual([`warranty:${warrantyEnd}`, `lease:${leaseEnd}`]);
});
