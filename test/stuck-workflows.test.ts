/**
 * No workflow is stuck silently, on a real Temporal dev server and a real Postgres: bad data ends
 * a step with its reason; a fault that outlasts the retry budget shows the process as needing
 * attention (listed, on the dashboard, the process owners emailed once) until a retry takes the
 * step; a failed update handler does not hold up the next one. Faults are Postgres's own refusals,
 * raised by triggers the tests add and drop.
 */
import { randomUUID } from 'node:crypto';
import { ApplicationFailure } from '@temporalio/activity';
import { Worker } from '@temporalio/worker';
import type { Knex } from 'knex';
import type { ApprovalActivities } from '../activities/approvals';
import type { AttentionActivities } from '../activities/attention';
import type { ChangeRequestActivities } from '../activities/change-request';
import { retryStalledStepUpdate, type ClearAttentionInput, type StalledStepInput } from '../workflows/attention/contract';
import { changeStatusQuery, implementationUpdate, type AssessmentResult, type ChangeRequestInput } from '../workflows/change-request/contract';
import { createApprovalRule, createCi, createHardwareModel, createPerson, eventually, type TestPerson } from './support/fixtures';
import { call, RELAXED_APPROVAL_TIMINGS, startStack, workflowBundle, type Stack } from './support/stack';

/** Short enough to see the automatic retry in a test, long enough to use the operator's first. */
const RETRY_AFTER_MS = 20_000;

let stack: Stack;
let db: Knex;
let manager: TestPerson;
let requester: TestPerson;
let owner: TestPerson;
let receiver: TestPerson;
let vendorId: string;
let laptop: string;
const costCentre = 'CC-STUCK';

beforeAll(async () => {
  stack = await startStack({ stalledStepRetryMs: RETRY_AFTER_MS });
  db = stack.database.db;
  manager = await createPerson(db, ['approver'], 'Mona Manager');
  requester = await createPerson(db, ['requester'], 'Reto Requester', { managerId: manager.id });
  owner = await createPerson(db, ['process_owner'], 'Pia Process-Owner');
  receiver = await createPerson(db, ['asset_manager'], 'Rolf Receiver');
  await createApprovalRule(db, { process: 'procurement', stepOrder: 1, name: 'Manager', approverKind: 'manager' });
  [{ id: vendorId }] = await db('vendors').insert({ name: 'Stuck Supplies', contact_email: 'orders@stuck.example' }).returning('id');
  await db('contracts').insert({ vendor_id: vendorId, kind: 'purchase', title: 'Framework', starts_on: '2026-01-01', ends_on: '2029-01-01', currency: 'EUR' });
  const [{ id: costCentreId }] = await db('cost_centres').insert({ code: costCentre, name: 'Stuck tests' }).returning('id');
  await db('budgets').insert({ cost_centre_id: costCentreId, period_start: `${new Date().toISOString().slice(0, 7)}-01`, amount_minor: 100_000_000, currency: 'EUR' });
  laptop = await createHardwareModel(db, { vendor_id: vendorId, list_price_minor: 100_000 });
});

afterAll(async () => {
  await stack?.stop();
});

const submit = (justification: string, lines: { hardwareModelId: string; quantity: number }[] = [{ hardwareModelId: laptop, quantity: 1 }]) =>
  call(stack, requester.apiKey, 'POST', '/purchase-requests', { costCentre, justification, lines });

const requestRow = (id: string) => db('purchase_requests').where({ id }).first('state', 'outcome', 'number', 'workflow_id');

const untilState = (id: string, state: string, timeoutMs = 30_000) =>
  eventually(async () => {
    const row = await requestRow(id);
    return row?.state === state ? row : undefined;
  }, timeoutMs);

const processOf = async (workflowId: string) => (await call(stack, owner.apiKey, 'GET', `/processes/${encodeURIComponent(workflowId)}`)).body;

const submitChange = async (title: string) => {
  const server = await createCi(db, { ciClass: 'server' });
  return call(stack, requester.apiKey, 'POST', '/changes', { type: 'normal', title, description: 'Kernel upgrade.', affectedCiIds: [server.id] });
};

const mailsTo = (person: TestPerson, subjectPart: string, number: string) =>
  stack.sink.messages().filter((m) => m.to.includes(person.email) && m.subject.includes(subjectPart) && m.subject.includes(number));

async function timed<T>(work: Promise<T>): Promise<{ value: T; ms: number }> {
  const started = Date.now();
  const value = await work;
  return { value, ms: Date.now() - started };
}

describe('bad data', () => {
  it('ends a purchase whose catalogue price overflows its total as rejected, with the reason, and a cancel then says so', async () => {
    const model = await createHardwareModel(db, { vendor_id: vendorId, list_price_minor: 100_000 });
    // Prices change in the catalogue after the API checked the request and before the workflow prices it.
    await stack.stopWorker();
    // With an Idempotency-Key, the number the API reserves is remembered before the workflow runs.
    const submitted = fetch(`${stack.baseUrl}/purchase-requests`, {
      method: 'POST',
      headers: { authorization: `Bearer ${requester.apiKey}`, 'content-type': 'application/json', 'idempotency-key': 'overflowing-laptops' },
      body: JSON.stringify({ costCentre, justification: 'Overflowing laptops', lines: [{ hardwareModelId: model, quantity: 3 }] }),
    });
    const reserved = await eventually(async () => (await db('submissions').where({ requester_id: requester.id }).orderBy('created_at', 'desc').first()) ?? undefined, 10_000)
      .finally(() => db('hardware_models').where({ id: model }).update({ list_price_minor: 4_000_000_000_000_000 }).then(() => stack.startWorker()));
    await submitted;

    const ended = await timed(untilState(reserved.subject_id, 'rejected', 30_000));
    console.log(`overflow: ${reserved.number} ended ${ended.value.state} in ${ended.ms} ms: ${ended.value.outcome}`);
    expect(ended.value.outcome).toMatch(/beyond|exceed|largest|safe/i);
    expect(await db('process_attention').where({ workflow_id: reserved.workflow_id })).toHaveLength(0);

    const cancel = await timed(call(stack, requester.apiKey, 'POST', `/purchase-requests/${reserved.subject_id}/cancel`, { reason: 'no longer needed' }));
    expect(cancel.ms).toBeLessThan(5_000);
    expect(cancel.value.status).toBe(409);
    expect(cancel.value.body.error.message).toMatch(/rejected|finished/);
    await eventually(async () => mailsTo(requester, 'Closed (rejected)', reserved.number).length === 1);
  });

  it('ends a purchase whose write Postgres refuses as bad data, telling the requester and the process owners why', async () => {
    await db.raw(`
      CREATE FUNCTION stuck_refuse_assessment() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        RAISE EXCEPTION 'the assessment of % holds a value out of range', NEW.number USING ERRCODE = '22003';
      END $$;
      CREATE TRIGGER stuck_refuse_assessment BEFORE UPDATE ON purchase_requests FOR EACH ROW
        WHEN (NEW.justification = 'Refused by the database' AND NEW.assessment IS DISTINCT FROM OLD.assessment)
        EXECUTE FUNCTION stuck_refuse_assessment()`);
    try {
      const { status, body } = await submit('Refused by the database');
      expect(status).toBe(201);
      const ended = await timed(untilState(body.id, 'rejected', 20_000));
      console.log(`bad data: ${body.number} ended ${ended.value.state} in ${ended.ms} ms: ${ended.value.outcome}`);
      expect(ended.value.outcome).toBe(`budget check failed: the assessment of ${body.number} holds a value out of range`);
      // Refused for good on the first attempt: nothing was retried, nothing waits for attention.
      expect(await db('audit_log').where({ subject_id: body.id, action: 'checked' })).toHaveLength(0);
      expect((await processOf(ended.value.workflow_id)).process).toMatchObject({ state: 'rejected', needsAttention: null });
      const toOwners = await stack.sink.waitFor((m) => m.to.includes(owner.email) && m.subject === `Ended by bad data: ${body.number} Refused by the database`);
      expect(toOwners.text).toContain('holds a value out of range');
      await eventually(async () => mailsTo(requester, 'Closed (rejected)', body.number).length === 1);
    } finally {
      await db.raw('DROP TRIGGER stuck_refuse_assessment ON purchase_requests; DROP FUNCTION stuck_refuse_assessment()');
    }
  });

  it('closes a change whose assessment Postgres refuses as rejected, with the reason', async () => {
    await db.raw(`
      CREATE FUNCTION stuck_refuse_impact() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        RAISE EXCEPTION 'the impact of % cannot be stored', NEW.number USING ERRCODE = '22P02';
      END $$;
      CREATE TRIGGER stuck_refuse_impact BEFORE UPDATE ON change_requests FOR EACH ROW
        WHEN (NEW.title = 'Refused assessment' AND NEW.impact IS DISTINCT FROM OLD.impact)
        EXECUTE FUNCTION stuck_refuse_impact()`);
    try {
      const { status, body } = await submitChange('Refused assessment');
      expect(status).toBe(201);
      const closed = await eventually(async () => {
        const change = (await call(stack, owner.apiKey, 'GET', `/changes/${body.id}`)).body;
        return change.state === 'closed' ? change : undefined;
      }, 20_000);
      expect(closed.closeCode).toBe('rejected');
      const audit = await db('audit_log').where({ subject_id: body.id, action: 'state_changed', to_state: 'closed' }).first('details');
      expect(audit.details.detail).toBe(`assess failed: the impact of ${body.number} cannot be stored`);
      const rejected = await stack.sink.waitFor((m) => m.to.includes(requester.email) && m.subject.startsWith(`Rejected: ${body.number}`));
      expect(rejected.text).toContain('cannot be stored');
      await stack.sink.waitFor((m) => m.to.includes(owner.email) && m.subject.startsWith(`Ended by bad data: ${body.number}`));
    } finally {
      await db.raw('DROP TRIGGER stuck_refuse_impact ON change_requests; DROP FUNCTION stuck_refuse_impact()');
    }
  });
});

describe('a fault that outlasts the retries', () => {
  it('shows the process as needing attention, emails the owners once, and clears on a retry: the operator\'s at once, or its own after the interval', async () => {
    await db.raw(`
      CREATE FUNCTION stuck_flaky_budget_check() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        RAISE EXCEPTION 'could not serialize access to %', NEW.number USING ERRCODE = '40001';
      END $$;
      CREATE TRIGGER stuck_flaky_budget_check BEFORE UPDATE ON purchase_requests FOR EACH ROW
        WHEN (NEW.justification LIKE 'Flaky%' AND NEW.state = 'budget_check' AND OLD.state <> 'budget_check')
        EXECUTE FUNCTION stuck_flaky_budget_check();
      CREATE TRIGGER stuck_flaky_assessment BEFORE UPDATE ON change_requests FOR EACH ROW
        WHEN (NEW.title = 'Flaky assessment' AND NEW.impact IS DISTINCT FROM OLD.impact)
        EXECUTE FUNCTION stuck_flaky_budget_check()`);
    let faultRemoved = false;
    const removeFault = async () => {
      if (faultRemoved) return;
      faultRemoved = true;
      await db.raw('DROP TRIGGER stuck_flaky_budget_check ON purchase_requests; DROP TRIGGER stuck_flaky_assessment ON change_requests; DROP FUNCTION stuck_flaky_budget_check()');
    };
    try {
      const [byOperator, byItself, cancelled] = await Promise.all(['Flaky: retried by an operator', 'Flaky: retried by itself', 'Flaky: cancelled'].map(async (justification) => {
        const { status, body } = await submit(justification);
        expect(status).toBe(201);
        return { id: body.id as string, number: body.number as string, workflowId: `purchase:${body.number}` };
      }));
      const all = [byOperator, byItself, cancelled];
      const change = (await submitChange('Flaky assessment')).body;

      const flagged = await timed(eventually(async () => {
        const { body } = await call(stack, owner.apiKey, 'GET', '/processes?needsAttention=true&type=procurement');
        return body.items.length === 3 ? body.items : undefined;
      }, 90_000, 500));
      console.log(`needs attention: ${flagged.value.map((p: { businessNumber: string }) => p.businessNumber).join(', ')} after ${flagged.ms} ms`);
      // The budget rides over a short outage: nothing is flagged before about 30 s of retries.
      expect(flagged.ms).toBeGreaterThan(25_000);
      for (const p of flagged.value) {
        expect(p.needsAttention).toMatchObject({ step: 'move to budget_check' });
        expect(p.needsAttention.reason).toContain('could not serialize access');
      }
      const live = await processOf(byOperator.workflowId);
      expect(live.live.attention).toMatchObject({ step: 'move to budget_check' });
      expect(live.timeline.some((e: { action?: string }) => e.action === 'needs_attention')).toBe(true);
      const stalledChange = await eventually(async () => {
        const { body } = await call(stack, owner.apiKey, 'GET', '/processes?needsAttention=true&type=change');
        return body.items[0];
      }, 30_000, 500);
      expect(stalledChange).toMatchObject({ businessNumber: change.number, state: 'assess', needsAttention: { step: 'assess' } });
      const dashboard = await call(stack, owner.apiKey, 'GET', '/processes/dashboard');
      expect(dashboard.body.needsAttention).toEqual([{ process: 'change', count: 1 }, { process: 'procurement', count: 3 }]);
      const changeCancel = await timed(call(stack, requester.apiKey, 'POST', `/changes/${change.id}/cancel`, { reason: 'not now' }));
      expect(changeCancel.value.status).toBe(200);
      expect((await call(stack, owner.apiKey, 'GET', `/changes/${change.id}`)).body).toMatchObject({ state: 'closed', closeCode: 'cancelled' });
      expect(changeCancel.ms).toBeLessThan(5_000);
      for (const p of all) await stack.sink.waitFor((m) => m.to.includes(owner.email) && m.subject.startsWith(`Needs attention: ${p.number}`));

      // A cancel meanwhile is answered at once, and honestly.
      const cancel = await timed(call(stack, requester.apiKey, 'POST', `/purchase-requests/${cancelled.id}/cancel`, { reason: 'bought elsewhere' }));
      expect(cancel.value.status).toBe(200);
      expect(cancel.value.body.state).toBe('cancelled');
      expect(cancel.ms).toBeLessThan(5_000);
      expect((await processOf(cancelled.workflowId)).process.needsAttention).toBeNull();

      // Only process owners and admins retry; nothing is retried while the fault is there to see.
      expect((await call(stack, requester.apiKey, 'POST', `/processes/${encodeURIComponent(byOperator.workflowId)}/retry`)).status).toBe(403);
      await removeFault();
      const retried = await call(stack, owner.apiKey, 'POST', `/processes/${encodeURIComponent(byOperator.workflowId)}/retry`);
      expect(retried.status).toBe(200);
      expect(retried.body).toEqual({ step: 'move to budget_check' });
      const cleared = await timed(untilState(byOperator.id, 'authorize', 10_000));
      expect(cleared.ms).toBeLessThan(5_000);
      expect((await processOf(byOperator.workflowId)).process.needsAttention).toBeNull();
      const again = await call(stack, owner.apiKey, 'POST', `/processes/${encodeURIComponent(byOperator.workflowId)}/retry`);
      expect(again.status).toBe(409);
      expect(again.body.error.code).toBe('nothing_stalled');

      await untilState(byItself.id, 'authorize', RETRY_AFTER_MS + 15_000);
      expect((await processOf(byItself.workflowId)).process.needsAttention).toBeNull();
      const rows = await db('process_attention').whereIn('workflow_id', [...all.map((p) => p.workflowId), `change:${change.number}`]).select('cleared_by');
      expect(rows.map((r) => r.cleared_by).sort()).toEqual(['operator', 'process ended', 'process ended', 'retry']);
      // One email per stall, however many retries failed in between.
      for (const p of all) expect(mailsTo(owner, 'Needs attention', p.number)).toHaveLength(1);
      console.log(`cleared: ${byOperator.number} by the operator's retry in ${cleared.ms} ms, ${byItself.number} by its own retry, ${cancelled.number} cancelled in ${cancel.ms} ms`);
    } finally {
      await removeFault();
    }
  });
});

describe('update handlers', () => {
  it('answers a receipt whose asset Postgres refuses at once, and takes the next receipt', async () => {
    const { body } = await submit('Two docking stations', [{ hardwareModelId: laptop, quantity: 2 }]);
    const approval = await eventually(async () => (await db('approvals').where({ subject_id: body.id, state: 'requested' }).first()) ?? undefined);
    expect((await call(stack, manager.apiKey, 'POST', `/purchase-requests/${body.id}/approvals/${approval.id}/decision`, { decision: 'approved' })).status).toBe(200);
    const order = await eventually(async () => (await db('purchase_orders').where({ purchase_request_id: body.id }).first()) ?? undefined);
    const line = await db('purchase_request_lines').where({ purchase_request_id: body.id }).first('id');
    await untilState(body.id, 'ordering');
    await db.raw(`
      CREATE FUNCTION stuck_taken_serial() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        RAISE EXCEPTION 'duplicate key value violates unique constraint "assets_serial_number_unique"' USING ERRCODE = '23505';
      END $$;
      CREATE TRIGGER stuck_taken_serial BEFORE INSERT ON assets FOR EACH ROW
        WHEN (NEW.serial_number = 'STUCK-TAKEN') EXECUTE FUNCTION stuck_taken_serial()`);
    try {
      const refused = await timed(call(stack, receiver.apiKey, 'POST', `/purchase-orders/${order.number}/receipts`, { lines: [{ lineId: line.id, quantity: 1, serialNumbers: ['STUCK-TAKEN'] }] }));
      console.log(`refused receipt answered ${refused.value.status} ${refused.value.body?.error?.code} in ${refused.ms} ms`);
      // Refused as bad data (422), or as the duplicate serial it stands for (409): an answer, not a hang.
      expect([409, 422]).toContain(refused.value.status);
      expect(refused.ms).toBeLessThan(10_000);
      const next = await timed(call(stack, receiver.apiKey, 'POST', `/purchase-orders/${order.number}/receipts`, { lines: [{ lineId: line.id, quantity: 1, serialNumbers: ['STUCK-FREE'] }] }));
      expect(next.value.status).toBe(200);
      expect(next.value.body.assetIds).toHaveLength(1);
      expect(next.ms).toBeLessThan(10_000);
    } finally {
      await db.raw('DROP TRIGGER stuck_taken_serial ON assets; DROP FUNCTION stuck_taken_serial()');
    }
  });
});

describe('steps stalled side by side', () => {
  it('stall and clear each on their own, keyed by the run, and a refusal after a stall clears it', async () => {
    const assessment: AssessmentResult = {
      revision: 0, plannedStart: null, riskScore: 5, riskLevel: 'low', reasons: [],
      subject: { changeType: 'standard', riskLevel: 'low', costMinor: 0 },
      model: { name: 'Rotate service keys', riskCeiling: 'moderate' },
      declaredTransitions: [{ assetId: 'asset-a', toState: 'in_stock' }, { assetId: 'asset-b', toState: 'in_stock' }],
    };
    // Both assets fail until the test says otherwise: then a goes through, and b meets bad data.
    let mended = false;
    const reported: StalledStepInput[] = [];
    const cleared: ClearAttentionInput[] = [];
    const activities: Partial<ChangeRequestActivities & AttentionActivities & ApprovalActivities> = {
      notifyRequester: async () => undefined,
      assessChange: async () => assessment,
      recordChangeState: async () => undefined,
      recordChangeEvent: async () => undefined,
      closeOpenApprovals: async () => 0,
      reportRefusedStep: async () => undefined,
      runAssetTransition: async ({ action }) => {
        if (!mended) throw new Error(`${action.assetId} is locked`);
        if (action.assetId === 'asset-a') return { assetId: action.assetId, ok: true, message: 'moved' };
        // After a's retry has gone through.
        await new Promise((resolve) => setTimeout(resolve, 1_000));
        throw ApplicationFailure.nonRetryable(`${action.assetId} holds a value out of range`, 'InvalidData');
      },
      reportStalledStep: async (input) => {
        reported.push(input);
        return { retryInMs: 600_000 };
      },
      clearStalledStep: async (input) => {
        cleared.push(input);
      },
    };
    const taskQueue = `stalled-side-by-side-${randomUUID()}`;
    const worker = await Worker.create({ connection: stack.env.nativeConnection, taskQueue, workflowBundle: await workflowBundle(), activities });
    await worker.runUntil(async () => {
      const input: ChangeRequestInput = {
        changeId: randomUUID(), number: 'CHG0009101', type: 'standard', requesterId: randomUUID(), requesterEmail: 'pia@assetflow.test', timings: RELAXED_APPROVAL_TIMINGS,
      };
      const handle = await stack.env.client.workflow.start('changeRequestWorkflow', { taskQueue, workflowId: `change:${input.number}:${randomUUID()}`, args: [input] });
      const { runId } = await handle.describe();
      await eventually(async () => (await handle.query(changeStatusQuery)).state === 'implement' || undefined, 10_000, 200);
      await handle.executeUpdate(implementationUpdate, { args: [{ requestId: randomUUID(), event: 'started', actorEmail: 'ivan@assetflow.test', notes: 'moving' }] });
      // Answered once the change has moved on: after the stalls below.
      const completed = handle.executeUpdate(implementationUpdate, { args: [{ requestId: randomUUID(), event: 'completed', actorEmail: 'ivan@assetflow.test', notes: 'moved' }] })
        .catch(() => undefined);

      await eventually(async () => reported.length === 2 || undefined, 90_000, 500);
      expect(reported.map((r) => r.step).sort()).toEqual(['move asset asset-a', 'move asset asset-b']);
      // A later run of the workflow (continued as new) counts from 1 again: its keys must differ.
      expect(reported.map((r) => r.idempotencyKey).sort()).toEqual([1, 2].map((n) => `${handle.workflowId}:${runId}:attention:${n}`));
      expect((await handle.query(changeStatusQuery)).attention).toMatchObject({ step: reported[0].step });

      mended = true;
      expect(await handle.executeUpdate(retryStalledStepUpdate, { args: [{ actorEmail: 'pia@assetflow.test' }] })).toEqual({ step: reported[0].step });
      expect(await handle.result()).toMatchObject({ closeCode: 'successful_with_issues' });
      await completed;
      const keyOf = (step: string) => reported.find((r) => r.step === step)!.idempotencyKey;
      expect(cleared.map((c) => ({ step: c.step, stallKey: c.stallKey, clearedBy: c.clearedBy }))).toEqual([
        { step: 'move asset asset-a', stallKey: keyOf('move asset asset-a'), clearedBy: 'operator' },
        { step: 'move asset asset-b', stallKey: keyOf('move asset asset-b'), clearedBy: 'refused' },
      ]);
    });
  }, 180_000);

  it('shows the oldest open stall of a process in its index, and the next one once that clears', async () => {
    const { body } = await submit('Index of stalls');
    const workflowId = `purchase:${body.number}`;
    const open = (n: number, step: string) => db('process_attention').insert({ idempotency_key: `${workflowId}:index:${n}`, workflow_id: workflowId, step, reason: `${step} is locked` });
    const clear = (n: number) => db('process_attention').where({ idempotency_key: `${workflowId}:index:${n}` }).update({ cleared_at: db.fn.now(), cleared_by: 'retry' });
    const shown = async () => (await db('processes').where({ workflow_id: workflowId }).first('attention_step')).attention_step;
    await open(1, 'move asset a');
    await open(2, 'move asset b');
    await expect(open(3, 'move asset b')).rejects.toMatchObject({ code: '23505' });
    expect(await shown()).toBe('move asset a');
    await clear(1);
    expect(await shown()).toBe('move asset b');
    await clear(2);
    expect(await shown()).toBeNull();
  });
});
