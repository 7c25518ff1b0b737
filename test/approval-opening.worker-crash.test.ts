/**
 * A worker killed while it opens an approval step: the approval rows are committed (an approver
 * sees the task in their inbox) but the workflow never heard that the step opened. The step runs
 * again within seconds on the next worker, and a decision made meanwhile is taken, not refused
 * with not_in_step. The kill lands after the commit for certain: a deferred constraint trigger
 * holds the opening's COMMIT on an advisory lock the test holds.
 */
import type { ChildProcess } from 'node:child_process';
import { createApprovalRule, createHardwareModel, createPerson, eventually, type TestPerson } from './support/fixtures';
import { call, startStack, type Stack } from './support/stack';
import { buildDist, kill, startWorkerProcess } from './support/worker-process';

const HOLD = 4_242_001;

let stack: Stack;
let requester: TestPerson;
let manager: TestPerson;
const workers: ChildProcess[] = [];

beforeAll(async () => {
  buildDist();
  stack = await startStack({ worker: false });
  const db = stack.database.db;
  manager = await createPerson(db, ['approver'], 'Hal Held');
  requester = await createPerson(db, ['requester'], 'Kai Killed', { managerId: manager.id });
  await createApprovalRule(db, { process: 'procurement', stepOrder: 1, name: 'Manager', approverKind: 'manager' });
});

afterAll(async () => {
  await Promise.all(workers.map(kill));
  await stack?.stop();
});

function startWorker(): ChildProcess {
  const child = startWorkerProcess(stack);
  workers.push(child);
  return child;
}

it('takes a decision on an approval whose opening the killed worker never reported, and opens the step again within 10 s', async () => {
  const db = stack.database.db;
  const [{ id: vendorId }] = await db('vendors').insert({ name: 'Held Hardware', contact_email: 'orders@held.example' }).returning('id');
  await db('contracts').insert({ vendor_id: vendorId, kind: 'purchase', title: 'Framework', starts_on: '2026-01-01', ends_on: '2029-01-01', currency: 'EUR' });
  const [{ id: costCentreId }] = await db('cost_centres').insert({ code: 'CC-HELD', name: 'Held' }).returning('id');
  await db('budgets').insert({ cost_centre_id: costCentreId, period_start: `${new Date().toISOString().slice(0, 7)}-01`, amount_minor: 10_000_000, currency: 'EUR' });
  const model = await createHardwareModel(db, { vendor_id: vendorId, list_price_minor: 99_000 });
  await db.raw(`
    CREATE FUNCTION held_approval_commit() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      IF EXISTS (SELECT 1 FROM purchase_requests WHERE id = NEW.subject_id AND justification = 'Held at commit') THEN
        PERFORM pg_advisory_xact_lock(${HOLD});
      END IF;
      RETURN NULL;
    END $$;
    CREATE CONSTRAINT TRIGGER held_approval_commit AFTER INSERT ON approvals DEFERRABLE INITIALLY DEFERRED
      FOR EACH ROW EXECUTE FUNCTION held_approval_commit()`);
  const holder = await db.transaction();
  await holder.raw('SELECT pg_advisory_lock(?)', [HOLD]);
  let killedAt = 0;
  try {
    startWorker();
    const { status, body } = await call(stack, requester.apiKey, 'POST', '/purchase-requests', {
      costCentre: 'CC-HELD', justification: 'Held at commit', lines: [{ hardwareModelId: model, quantity: 1 }],
    });
    expect(status).toBe(201);
    // The opening waits in its COMMIT: kill its worker, then let the commit through.
    await eventually(async () => (await db('pg_locks').where({ locktype: 'advisory', granted: false, objid: HOLD })
      .whereRaw('database = (SELECT oid FROM pg_database WHERE datname = current_database())').first()) ?? undefined, 30_000, 20);
    await kill(workers[0]);
    killedAt = Date.now();
    await holder.raw('SELECT pg_advisory_unlock(?)', [HOLD]);
    await holder.commit();
    const approval = await eventually(async () => (await db('approvals').where({ subject_id: body.id }).first()) ?? undefined, 10_000, 20);
    expect(await db('audit_log').where({ subject_id: body.id, action: 'approval_step_opened' })).toHaveLength(1);

    startWorker();
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
    if (!killedAt) await holder.rollback();
    await db.raw('DROP TRIGGER held_approval_commit ON approvals; DROP FUNCTION held_approval_commit()');
  }
});
