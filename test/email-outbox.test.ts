/**
 * Mail through the outbox, with the SMTP server taken away and brought back: a decision and a
 * purchase go on while no mail can be sent, every notice arrives exactly once when SMTP returns,
 * several dispatchers never send a message twice, a message that can never go is given up on and
 * reported, and no live approval token is stored or logged.
 */
import { Writable } from 'node:stream';
import type { Knex } from 'knex';
import { EmailDispatcher } from '../activities/email-dispatcher';
import { queueEmail } from '../activities/email';
import { APPROVAL_LINK_PLACEHOLDER } from '../domain/email-delivery';
import { verifyApprovalToken } from '../platform/approval-links';
import { createLogger } from '../platform/logger';
import { createMailer } from '../platform/mailer';
import { createApprovalRule, createCi, createHardwareModel, createPerson, eventually, type TestPerson } from './support/fixtures';
import { call, startStack, type Stack } from './support/stack';

let stack: Stack;
let receiver: TestPerson;
let admin: TestPerson;
const logged: string[] = [];

beforeAll(async () => {
  const destination = new Writable({ write(chunk, _encoding, done) { logged.push(String(chunk)); done(); } });
  stack = await startStack({ emailRetry: { firstDelayMs: 200, maxDelayMs: 1_000 }, logger: createLogger('info', 'test', destination) });
  const db = stack.database.db;
  receiver = await createPerson(db, ['asset_manager'], 'Rick Receiver');
  admin = await createPerson(db, ['admin'], 'Ada Admin');
  await createApprovalRule(db, { stepOrder: 1, name: 'Manager', approverKind: 'manager' });
  await createApprovalRule(db, { process: 'procurement', stepOrder: 1, name: 'Manager', approverKind: 'manager' });
});

afterAll(async () => {
  await stack?.stop();
});

const thisMonth = () => `${new Date().toISOString().slice(0, 7)}-01`;

async function purchaseSetup(db: Knex, manager: TestPerson) {
  const requester = await createPerson(db, ['requester'], 'Paula Purchaser', { managerId: manager.id });
  const code = `CC-${Math.floor(Math.random() * 1e6)}`;
  const [{ id: costCentreId }] = await db('cost_centres').insert({ code, name: `Team ${code}`, owner_id: manager.id }).returning('id');
  await db('budgets').insert({ cost_centre_id: costCentreId, period_start: thisMonth(), amount_minor: 10_000_000, currency: 'EUR' });
  const [{ id: vendorId }] = await db('vendors').insert({ name: 'Outage Hardware', contact_email: 'orders@outage.example' }).returning('id');
  const model = await createHardwareModel(db, { vendor_id: vendorId, list_price_minor: 90_000, warranty_months: 24 });
  return { requester, code, model };
}

const emailsOf = (db: Knex, workflowIds: string[]) => db('email_log').whereIn('workflow_id', workflowIds).orderBy('created_at');

const decide = (person: TestPerson, path: string, approvalId: string) =>
  call(stack, person.apiKey, 'POST', `${path}/approvals/${approvalId}/decision`, { decision: 'approved', comment: 'fine' });

const openApproval = (subjectId: string, approverId: string) =>
  eventually(async () => (await stack.database.db('approvals').where({ subject_id: subjectId, approver_id: approverId, state: 'requested' }).first()) ?? undefined);

describe('the outbox while SMTP is down', () => {
  it('lets a decision and a purchase go on, keeps the failures visible, and delivers every notice exactly once when SMTP is back', async () => {
    const db = stack.database.db;
    const manager = await createPerson(db, ['approver'], 'Mona Manager');
    const requester = await createPerson(db, ['requester'], 'Rita Requester', { managerId: manager.id });
    const server = await createCi(db, { name: 'srv-outage-01', ciClass: 'server' });
    const purchase = await purchaseSetup(db, manager);
    const smtpPort = stack.sink.port;
    await stack.sink.stop();
    const outage = { over: false };
    try {
      await deliverAfterOutage(db, { manager, requester, server, purchase, smtpPort, outage });
    } finally {
      // A failure while SMTP was away starts the sink again, so the stack's dispatcher stops cleanly.
      if (!outage.over) await stack.sink.start(smtpPort);
    }
  });
});

async function deliverAfterOutage(
  db: Knex,
  { manager, requester, server, purchase, smtpPort, outage }: {
    manager: TestPerson; requester: TestPerson; server: { id: string }; purchase: Awaited<ReturnType<typeof purchaseSetup>>; smtpPort: number; outage: { over: boolean };
  },
): Promise<void> {

  // A change: submitted, its task emailed (not), approved through the API, on to implementation.
  const change = await call(stack, requester.apiKey, 'POST', '/changes', {
    type: 'normal', title: 'Swap the relay disk', description: 'While the mail server is away.', affectedCiIds: [server.id],
    plannedStart: new Date(Date.now() + 1_000).toISOString(), plannedEnd: new Date(Date.now() + 3_600_000).toISOString(),
  });
  expect(change.status).toBe(201);
  const changeWorkflow = `change:${change.body.number}`;
  const approval = await openApproval(change.body.id, manager.id);
  const task = await eventually(async () =>
    (await db('email_log').where({ workflow_id: changeWorkflow, template: 'approval_task', status: 'failed' }).where('attempts', '>', 0).first()) ?? undefined,
  );
  expect(task.last_error).toMatch(/ECONNREFUSED|ESOCKET|connect/i);
  await eventually(async () => (await db('email_log').where({ id: task.id }).first()).attempts >= 3 || undefined, 10_000);
  expect(task.body_text).toContain(APPROVAL_LINK_PLACEHOLDER);
  expect(task.approval_link_id).toBe(approval.id);
  const decided = await decide(manager, `/changes/${change.body.number}`, approval.id);
  expect(decided.status).toBe(200);
  await eventually(async () => (await call(stack, admin.apiKey, 'GET', `/changes/${change.body.id}`)).body.state === 'implement', 15_000);

  // A purchase: priced, approved, ordered and received, with no mail going out.
  const created = await call(stack, purchase.requester.apiKey, 'POST', '/purchase-requests', {
    costCentre: purchase.code, justification: 'A spare laptop', lines: [{ hardwareModelId: purchase.model, quantity: 1 }],
  });
  expect(created.status).toBe(201);
  const purchaseWorkflow = `purchase:${created.body.number}`;
  expect((await decide(manager, `/purchase-requests/${created.body.id}`, (await openApproval(created.body.id, manager.id)).id)).status).toBe(200);
  const ordered = await eventually(async () => {
    const detail = (await call(stack, receiver.apiKey, 'GET', `/purchase-requests/${created.body.id}`)).body;
    return detail.orders?.length > 0 ? detail : undefined;
  }, 15_000);
  const received = await call(stack, receiver.apiKey, 'POST', `/purchase-orders/${ordered.orders[0].number}/receipts`, {
    lines: [{ lineId: ordered.lines[0].id, quantity: 1, serialNumbers: [`OUT-${Date.now()}`] }],
  });
  expect(received.status).toBe(200);
  await eventually(async () => (await call(stack, receiver.apiKey, 'GET', `/purchase-requests/${created.body.id}`)).body.state === 'closed', 15_000);

  // The closing notice is queued just after the state is projected: waited for, not read once.
  const expected = ['approval_task', 'change_receipt', 'change_decision', 'purchase_order', 'purchase_receipt', 'purchase_closed'];
  const queued = await eventually(async () => {
    const rows = await emailsOf(db, [changeWorkflow, purchaseWorkflow]);
    return expected.every((template) => rows.some((e) => e.template === template)) ? rows : undefined;
  }, 15_000);
  expect(queued.every((e) => e.status !== 'sent')).toBe(true);
  expect(stack.sink.messages()).toHaveLength(0);

  await stack.sink.start(smtpPort);
  outage.over = true;
  const sent = await eventually(async () => {
    const rows = await emailsOf(db, [changeWorkflow, purchaseWorkflow]);
    return rows.length >= queued.length && rows.every((e) => e.status === 'sent') ? rows : undefined;
  }, 20_000);
  for (const email of sent) {
    await stack.sink.waitFor((m) => m.messageId === email.message_id, 5_000);
  }
  // A moment more, so a second copy would have arrived too.
  await new Promise((resolve) => setTimeout(resolve, 1_000));
  const byMessageId = new Map<string, number>();
  for (const m of stack.sink.messages()) byMessageId.set(m.messageId!, (byMessageId.get(m.messageId!) ?? 0) + 1);
  for (const email of sent) expect([email.template, byMessageId.get(email.message_id)]).toEqual([email.template, 1]);

  // The task arrived with a live link, signed at send time; the stored body and the log hold no token.
  const mail = stack.sink.messages().find((m) => m.messageId === task.message_id)!;
  const link = new URL(/(https?:\/\/\S+\/approvals\/[0-9a-f-]+\?token=\S+)/.exec(mail.text)![1]);
  const token = link.searchParams.get('token')!;
  expect(verifyApprovalToken(stack.approvalLinkSecret, token)).toMatchObject({ ok: true, claims: { approvalId: approval.id, approverId: manager.id } });
  expect((await fetch(link)).status).toBeLessThan(500);
  const stored = await db('email_log').select('body_text', 'body_html');
  expect(stored.filter((e) => /token=/.test(`${e.body_text} ${e.body_html ?? ''}`))).toEqual([]);
  const log = logged.join('');
  expect(log).toContain('token=[redacted]');
  expect(log).not.toContain(token);
  expect(log).not.toContain(manager.apiKey);
}

describe('a message that can never be sent', () => {
  it('gives up on a message that can never go, keeps why, and tells the operator', async () => {
    const db = stack.database.db;
    stack.sink.refuse('gone@assetflow.test');
    const stamp = Date.now();
    await queueEmail(db, { idempotencyKey: `refused-test:${stamp}`, template: 'test', to: ['gone@assetflow.test'], subject: 'refused', text: 'hello' });
    await queueEmail(db, {
      idempotencyKey: `no-approval-test:${stamp}`, template: 'approval_task', to: ['x@assetflow.test'], subject: 'no approval',
      text: `Approve: ${APPROVAL_LINK_PLACEHOLDER}`, approvalLinkFor: '0b6c1c8e-4f0a-4d55-9d5e-5b8f6f2b1a11',
    });
    const given = await eventually(async () => {
      const rows = await db('email_log').whereIn('idempotency_key', [`refused-test:${stamp}`, `no-approval-test:${stamp}`]).orderBy('idempotency_key');
      return rows.every((row) => row.status === 'undeliverable') ? rows : undefined;
    }, 10_000);
    expect(given.map((row) => row.last_error)).toEqual([expect.stringContaining('no longer exists'), expect.stringMatching(/550/)]);
    // Well past the retry policy's longest wait: nobody tried them again.
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    const later = await db('email_log').whereIn('id', given.map((row) => row.id));
    expect(later.map((row) => [row.status, row.attempts])).toEqual([['undeliverable', 1], ['undeliverable', 1]]);
    const told = logged.join('').split('\n').filter((line) => line.includes('email undeliverable')).map((line) => JSON.parse(line));
    expect(told.map((line) => line.emailId).sort()).toEqual(given.map((row) => row.id).sort());
    expect(told.every((line) => [50, 'error'].includes(line.level))).toBe(true);
  });
});

describe('several dispatchers on one outbox', () => {
  it('send each queued message once', async () => {
    const db = stack.database.db;
    const mailer = createMailer(stack.sink.url, 'assetflow <assetflow@assetflow.test>');
    const logger = createLogger('silent', 'test');
    const others = [1, 2].map(() => new EmailDispatcher({
      db, databaseUrl: stack.database.url, mailer, logger, publicUrl: stack.baseUrl, approvalLinkSecret: stack.approvalLinkSecret, batchSize: 3,
    }));
    others.forEach((d) => d.start());
    const keys = Array.from({ length: 30 }, (_, i) => `outbox-test:${Date.now()}:${i}`);
    const ids = await Promise.all(keys.map((key) => queueEmail(db, { idempotencyKey: key, template: 'test', to: ['x@assetflow.test'], subject: key, text: 'hello' })));
    await Promise.all(keys.map((key) => queueEmail(db, { idempotencyKey: key, template: 'test', to: ['x@assetflow.test'], subject: key, text: 'hello again' })));
    for (const { messageId } of ids) await stack.sink.waitFor((m) => m.messageId === messageId, 10_000);
    await Promise.all(others.map((d) => d.stop()));
    mailer.close();
    await new Promise((resolve) => setTimeout(resolve, 500));

    const received = stack.sink.messages().filter((m) => keys.includes(m.subject));
    expect(received).toHaveLength(keys.length);
    expect(new Set(received.map((m) => m.messageId)).size).toBe(keys.length);
    expect(received.every((m) => m.text.trim() === 'hello')).toBe(true);
    const rows = await db('email_log').whereIn('idempotency_key', keys);
    expect(rows.every((r) => r.status === 'sent' && r.attempts === 1)).toBe(true);
  });

  it('refuses to queue a body that carries a live approval token', async () => {
    const text = `Approve: http://h/approvals/0b6c1c8e-4f0a-4d55-9d5e-5b8f6f2b1a11?token=v1.a.b`;
    await expect(queueEmail(stack.database.db, { idempotencyKey: `token-test:${Date.now()}`, template: 'test', to: ['x@assetflow.test'], subject: 's', text }))
      .rejects.toThrow(/signed approval link/);
  });

  it('is not shown as a page where the embedded demo does not run the sink', async () => {
    expect((await call(stack, admin.apiKey, 'GET', '/dev/mail.json')).status).toBe(404);
  });
});
