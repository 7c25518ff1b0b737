/**
 * A worker killed while it opens an approval step: the approval rows are committed (an approver
 * sees the task in their inbox) but the workflow never heard that the step opened. The step runs
 * again within seconds on the next worker, and a decision made meanwhile is taken, not refused
 * with not_in_step. The kill lands after the commit for certain: a deferred constraint trigger
 * holds the opening's COMMIT on an advisory lock the test holds.
 */
import { createManagedRequester, createPurchasableHardware, eventually, type TestPerson } from './support/fixtures';
import { call, type Stack } from './support/stack';
import { holdCommits, kill, startStackForWorkerProcesses, WorkerProcesses } from './support/worker-process';

const HOLD = 4_242_001;

let stack: Stack;
let requester: TestPerson;
let manager: TestPerson;
const workers = new WorkerProcesses();

beforeAll(async () => {
  stack = await startStackForWorkerProcesses();
  ({ requester, manager } = await createManagedRequester(stack.database.db, { requester: 'Kai Killed', manager: 'Hal Held' }));
});

afterAll(async () => {
  await workers.killAll();
  await stack?.stop();
});

it('takes a decision on an approval whose opening the killed worker never reported, and opens the step again within 10 s', async () => {
  const db = stack.database.db;
  const model = await createPurchasableHardware(db, { vendor: 'Held Hardware', costCentre: { code: 'CC-HELD', name: 'Held' }, listPriceMinor: 99_000 });
  const held = await holdCommits(db, 'held_approval_commit', 'approvals',
    "EXISTS (SELECT 1 FROM purchase_requests WHERE id = NEW.subject_id AND justification = 'Held at commit')", HOLD);
  let killedAt = 0;
  try {
    const first = workers.start(stack);
    const { status, body } = await call(stack, requester.apiKey, 'POST', '/purchase-requests', {
      costCentre: 'CC-HELD', justification: 'Held at commit', lines: [{ hardwareModelId: model, quantity: 1 }],
    });
    expect(status).toBe(201);
    // The opening waits in its COMMIT: kill its worker, then let the commit through.
    await held.waitUntilHeld();
    await kill(first);
    killedAt = Date.now();
    await held.release();
    const approval = await eventually(async () => (await db('approvals').where({ subject_id: body.id }).first()) ?? undefined, 10_000, 20);
    expect(await db('audit_log').where({ subject_id: body.id, action: 'approval_step_opened' })).toHaveLength(1);

    workers.start(stack);
    const decided = await call(stack, manager.apiKey, 'POST', `/purchase-requests/${body.id}/approvals/${approval.id}/decision`, { decision: 'approved' });
    console.log(`decision on the approval the workflow did not know yet: ${decided.status} after ${Date.now() - killedAt} ms from the kill`);
    expect(decided.status).toBe(200);
    expect(decided.body).toMatchObject({ approvalId: approval.id, decision: 'approved', stepOutcome: 'approved' });

    const history = await stack.env.client.workflow.getHandle(`purchase:${body.number}`).fetchHistory();
    const opening = history.events!.find((e) => e.activityTaskScheduledEventAttributes?.activityType?.name === 'openApprovalStep')!;
    const rerun = history.events!.find((e) => String(e.activityTaskStartedEventAttributes?.scheduledEventId) === String(opening.eventId));
    const rerunAt = Number(rerun!.eventTime!.seconds) * 1000 + Math.floor((rerun!.eventTime!.nanos ?? 0) / 1e6);
    console.log(`openApprovalStep ran again (attempt ${rerun!.activityTaskStartedEventAttributes!.attempt}) ${rerunAt - killedAt} ms after the kill`);
    expect(rerun!.activityTaskStartedEventAttributes!.attempt).toBe(2);
    expect(rerunAt - killedAt).toBeLessThan(10_000);

    await eventually(async () => (await db('purchase_orders').where({ purchase_request_id: body.id }).first()) ?? undefined);
    expect(await db('approvals').where({ subject_id: body.id })).toHaveLength(1);
    expect(await db('audit_log').where({ subject_id: body.id, action: 'approval_approved' })).toHaveLength(1);
  } finally {
    await held.drop();
  }
});
