import { randomBytes, randomUUID } from 'node:crypto';
import type { Knex } from 'knex';
import type { MailSink } from '../../platform/mail-sink';
import { createApprovalRule, createCi, createPerson, createPurchasableHardware, type TestPerson } from './fixtures';

/**
 * Changes and purchases driven end to end through the HTTP API as their people would, while
 * faults are injected around them, and the checks that nothing was lost or done twice. Shared by
 * the fault suite (test/fault-*.test.ts) and `npm run soak` (bench/soak.ts).
 */

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export interface Cast {
  requester: TestPerson;
  manager: TestPerson;
  implementer: TestPerson;
  receiver: TestPerson;
  processOwner: TestPerson;
  ciId: string;
  costCentre: string;
  hardwareModelId: string;
}

/** The people and master data every driven process uses: one approval step each, by the manager. */
export async function prepareCast(db: Knex): Promise<Cast> {
  const manager = await createPerson(db, ['approver'], 'Fay Manager');
  const requester = await createPerson(db, ['requester'], 'Rory Requester', { managerId: manager.id });
  const implementer = await createPerson(db, ['asset_manager'], 'Ida Implementer');
  const receiver = await createPerson(db, ['asset_manager'], 'Rex Receiver');
  const processOwner = await createPerson(db, ['process_owner'], 'Otto Owner');
  await createApprovalRule(db, { process: 'change', stepOrder: 1, name: 'Manager', approverKind: 'manager' });
  await createApprovalRule(db, { process: 'procurement', stepOrder: 1, name: 'Manager', approverKind: 'manager' });
  const ci = await createCi(db, { name: `srv-fault-${randomBytes(3).toString('hex')}`, ciClass: 'server' });
  const costCentre = `CC-FAULT-${randomBytes(2).toString('hex').toUpperCase()}`;
  const hardwareModelId = await createPurchasableHardware(db, {
    vendor: 'Fault Computers',
    costCentre: { code: costCentre, name: 'Fault injection' },
    // Generous, so that however many purchases a soak places, none is routed over budget.
    budgetMinor: 1_000_000_000_000,
    listPriceMinor: 99_900,
  });
  return { requester, manager, implementer, receiver, processOwner, ciId: ci.id, costCentre, hardwareModelId };
}

export interface Answer {
  status: number;
  body: any;
  retryAfterSeconds?: number;
}

/**
 * The API as the driven people see it: every answer is counted by status and error code, a
 * network failure or a client-side timeout counts as status 0.
 */
export class ApiClient {
  readonly answers = new Map<string, number>();
  requests = 0;
  /** Answers that took longer than the client waits: the API set no deadline of its own. */
  clientTimeouts = 0;

  constructor(private readonly baseUrl: string, private readonly timeoutMs = 20_000) {}

  private count(label: string): void {
    this.answers.set(label, (this.answers.get(label) ?? 0) + 1);
  }

  async call(apiKey: string | undefined, method: string, path: string, body?: unknown, idempotencyKey?: string): Promise<Answer> {
    this.requests++;
    try {
      const res = await fetch(`${this.baseUrl}${path}`, {
        method,
        headers: {
          ...(apiKey ? { authorization: `Bearer ${apiKey}` } : {}),
          ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
          ...(idempotencyKey ? { 'idempotency-key': idempotencyKey } : {}),
        },
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(this.timeoutMs),
      });
      const text = await res.text();
      let parsed: any;
      try {
        parsed = text ? JSON.parse(text) : undefined;
      } catch {
        parsed = { text };
      }
      this.count(res.status < 400 ? String(res.status) : `${res.status} ${parsed?.error?.code ?? '?'}`);
      const retryAfter = res.headers.get('retry-after');
      return { status: res.status, body: parsed, retryAfterSeconds: retryAfter ? Number(retryAfter) : undefined };
    } catch (error) {
      const timedOut = error instanceof Error && error.name === 'TimeoutError';
      if (timedOut) this.clientTimeouts++;
      this.count(timedOut ? 'client timeout' : 'no answer');
      return { status: 0, body: { error: { code: timedOut ? 'client_timeout' : 'network', message: String(error) } } };
    }
  }
}

/** What the API may honestly answer while something it depends on is away: try again later. */
export const isTransient = (answer: Answer) => answer.status === 0 || answer.status === 429 || answer.status >= 500;

export interface Driven {
  kind: 'change' | 'purchase';
  label: string;
  id?: string;
  number?: string;
  workflowId?: string;
  expectedFinalState: string;
  finalState?: string;
  startedAt: number;
  finishedAt?: number;
  /** Serials received on the purchase: the assets it must have created, once each. */
  serials: string[];
  /** Refusals that a correct product would not give (a 4xx that is not the answer to a retry). */
  refusals: string[];
  error?: string;
}

export interface DriveOptions {
  api: ApiClient;
  db: Knex;
  cast: Cast;
  /** Gives up on a process after this long. */
  deadlineMs: number;
  /** Opened before a decision is sent (the fault suite holds decisions until it has injected). */
  beforeDecision?: () => Promise<void>;
  /** Opened before implementation or a receipt is recorded. */
  beforeFulfilment?: () => Promise<void>;
  /** Changes that fail implementation and go through a review before closing. */
  failImplementation?: boolean;
  /** Decides with the link in the approver's email (read from this sink) instead of an API key. */
  decideByLink?: MailSink;
  pollMs?: number;
  /** Told about each process as soon as it is created, so that an injector can watch it. */
  track?: (driven: Driven) => void;
}

class GaveUp extends Error {}

function deadlineOf(driven: Driven, options: DriveOptions): number {
  return driven.startedAt + options.deadlineMs;
}

/** Polls `probe` until it answers something truthy; a failing probe (Postgres away) counts as not yet. */
async function until<T>(driven: Driven, options: DriveOptions, what: string, probe: () => Promise<T | undefined | null | false>): Promise<T> {
  for (;;) {
    try {
      const value = await probe();
      if (value) return value;
    } catch {
      // The observer's database or the API may be away for the moment: look again.
    }
    if (Date.now() > deadlineOf(driven, options)) throw new GaveUp(`${driven.label}: ${what} not reached within ${options.deadlineMs} ms`);
    await sleep(options.pollMs ?? 250);
  }
}

/**
 * Sends one command until it is answered, as a careful client does: the same Idempotency-Key on
 * every attempt; transient answers (503, 504, 429, no answer) are retried; a refusal after an
 * earlier attempt may be the first attempt's effect, so `alreadyDone` is asked before it counts.
 */
async function command(
  driven: Driven,
  options: DriveOptions,
  what: string,
  send: (idempotencyKey: string) => Promise<Answer>,
  alreadyDone: () => Promise<boolean>,
): Promise<Answer> {
  const key = randomUUID();
  for (;;) {
    const answer = await send(key);
    if (answer.status >= 200 && answer.status < 300) return answer;
    if (!isTransient(answer)) {
      if (await alreadyDone().catch(() => false)) return answer;
      const refusal = `${what}: ${answer.status} ${answer.body?.error?.code ?? ''} ${answer.body?.error?.message ?? ''}`.trim();
      if (!driven.refusals.includes(refusal)) driven.refusals.push(refusal);
      // A conflict may be the process being a step behind: it is counted, and tried again.
      if (answer.status !== 409) throw new GaveUp(`${driven.label}: ${refusal}`);
    }
    if (Date.now() > deadlineOf(driven, options)) throw new GaveUp(`${driven.label}: ${what} not accepted within ${options.deadlineMs} ms (last ${answer.status})`);
    await sleep(Math.min(2000, Math.max(300, (answer.retryAfterSeconds ?? 0) * 1000)));
  }
}

async function submit(driven: Driven, options: DriveOptions, path: string, body: unknown): Promise<void> {
  const answer = await command(driven, options, `POST ${path}`, (key) => options.api.call(options.cast.requester.apiKey, 'POST', path, body, key), async () => false);
  driven.id = answer.body.id;
  driven.number = answer.body.number;
  driven.workflowId = answer.body.workflowId;
  driven.label = `${driven.kind} ${driven.number}`;
}

async function decide(driven: Driven, options: DriveOptions, decisionPath: (approvalId: string) => string): Promise<void> {
  const { db, cast } = options;
  const approval = await until<{ id: string }>(driven, options, 'an open approval', () =>
    db('approvals').where({ workflow_id: driven.workflowId, state: 'requested', approver_id: cast.manager.id }).first('id'),
  );
  await options.beforeDecision?.();
  const token = options.decideByLink && (await tokenFromEmail(driven, options, options.decideByLink, approval.id));
  await command(
    driven, options, token ? 'decision by link' : 'decision',
    (key) =>
      token
        ? options.api.call(undefined, 'POST', `/approvals/${approval.id}/decision`, { token, decision: 'approved', comment: 'fault suite, by link' }, key)
        : options.api.call(cast.manager.apiKey, 'POST', decisionPath(approval.id), { decision: 'approved', comment: 'fault suite' }, key),
    async () => (await db('approvals').where({ id: approval.id }).first('state'))?.state === 'approved',
  );
}

/** The token of the approval link the approver was emailed, once the email has arrived. */
async function tokenFromEmail(driven: Driven, options: DriveOptions, sink: MailSink, approvalId: string): Promise<string> {
  return until(driven, options, 'the approval email', async () => {
    for (const message of sink.messages()) {
      const link = new RegExp(`https?://\\S+/approvals/${approvalId}\\?token=([^\\s&]+)`).exec(message.text);
      if (link) return decodeURIComponent(link[1]);
    }
    return undefined;
  });
}

async function stateOf(options: DriveOptions, apiKey: string, path: string): Promise<string | undefined> {
  const answer = await options.api.call(apiKey, 'GET', path);
  return answer.status === 200 ? answer.body.state : undefined;
}

/**
 * Runs a process's `steps`, then waits until `read` says it is closed. A process given up on is
 * not thrown: its reason is kept on it, with the time it finished.
 */
async function untilClosed(driven: Driven, options: DriveOptions, read: () => Promise<string | undefined>, steps: () => Promise<void>): Promise<Driven> {
  try {
    await steps();
    driven.finalState = await until(driven, options, 'closed', async () => {
      const state = await read();
      return state === 'closed' ? state : undefined;
    });
  } catch (error) {
    driven.error = error instanceof Error ? error.message : String(error);
  }
  driven.finishedAt = Date.now();
  return driven;
}

export async function driveChange(options: DriveOptions, tag: string): Promise<Driven> {
  const { cast, db } = options;
  const driven: Driven = { kind: 'change', label: `change ${tag}`, expectedFinalState: 'closed', startedAt: Date.now(), serials: [], refusals: [] };
  options.track?.(driven);
  const read = () => stateOf(options, cast.processOwner.apiKey, `/changes/${driven.id}`);
  return untilClosed(driven, options, read, async () => {
    await submit(driven, options, '/changes', { type: 'normal', title: `Fault change ${tag}`, description: 'Patch the server under faults.', affectedCiIds: [cast.ciId] });
    await decide(driven, options, (approvalId) => `/changes/${driven.id}/approvals/${approvalId}/decision`);
    await until(driven, options, 'implement', async () => (await read()) === 'implement');
    await options.beforeFulfilment?.();
    const implementation = (event: string, extra: Record<string, unknown>) =>
      command(
        driven, options, `implementation ${event}`,
        (key) => options.api.call(cast.implementer.apiKey, 'POST', `/changes/${driven.id}/implementation`, { event, notes: `fault suite: ${event}`, ...extra }, key),
        async () => (await db('audit_log').where({ workflow_id: driven.workflowId }).whereRaw(`details::text LIKE ?`, [`%fault suite: ${event}%`]).first('id')) !== undefined,
      );
    await implementation('started', {});
    if (options.failImplementation) {
      await implementation('failed', { backout: 'Restored the snapshot.' });
      await until(driven, options, 'review', async () => (await read()) === 'review');
      await command(
        driven, options, 'review',
        (key) => options.api.call(cast.processOwner.apiKey, 'POST', `/changes/${driven.id}/review`, { notes: 'fault suite review' }, key),
        async () => (await read()) === 'closed',
      );
    } else {
      await implementation('completed', {});
    }
  });
}

export async function drivePurchase(options: DriveOptions, tag: string, quantity = 2): Promise<Driven> {
  const { cast, db } = options;
  const driven: Driven = {
    kind: 'purchase', label: `purchase ${tag}`, expectedFinalState: 'closed', startedAt: Date.now(),
    serials: Array.from({ length: quantity }, (_, i) => `FAULT-${tag}-${i + 1}`.toUpperCase()), refusals: [],
  };
  options.track?.(driven);
  const read = () => stateOf(options, cast.processOwner.apiKey, `/purchase-requests/${driven.id}`);
  return untilClosed(driven, options, read, async () => {
    await submit(driven, options, '/purchase-requests', {
      costCentre: cast.costCentre, justification: `Fault purchase ${tag}`, lines: [{ hardwareModelId: cast.hardwareModelId, quantity }],
    });
    await decide(driven, options, (approvalId) => `/purchase-requests/${driven.id}/approvals/${approvalId}/decision`);
    const order = await until<{ id: string; number: string }>(driven, options, 'an order', () => db('purchase_orders').where({ purchase_request_id: driven.id }).first('id', 'number'));
    const line = await until<{ id: string }>(driven, options, 'its line', () => db('purchase_request_lines').where({ purchase_request_id: driven.id }).first('id'));
    await options.beforeFulfilment?.();
    await command(
      driven, options, 'receipt',
      (key) => options.api.call(cast.receiver.apiKey, 'POST', `/purchase-orders/${order.number}/receipts`, { lines: [{ lineId: line.id, quantity, serialNumbers: driven.serials }] }, key),
      async () => (await db('receipts').where({ purchase_order_id: order.id }).first('id')) !== undefined,
    );
  });
}

/** What one process left behind, in a form two runs of the same process can be compared by. */
export interface Footprint {
  auditSteps: string[];
  emailTemplates: string[];
}

export interface Verdict {
  problems: string[];
  lines: string[];
  /** Per kind, the footprint of an undisturbed process of that kind. */
  footprints: Map<string, Footprint>;
  /** Writes found twice per natural key. */
  doubled: { auditSteps: number; approvals: number; notices: number; deliveries: number; assets: number };
}

const multiset = (items: string[]) => items.reduce((m, item) => m.set(item, (m.get(item) ?? 0) + 1), new Map<string, number>());

/** What `actual` lacks of `expected`, counting repeats. */
function missing(expected: string[], actual: string[]): string[] {
  const have = multiset(actual);
  const lacking: string[] = [];
  for (const item of expected) {
    const left = have.get(item) ?? 0;
    if (left > 0) have.set(item, left - 1);
    else lacking.push(item);
  }
  return lacking;
}

/**
 * The checks after a run: every process reached its final state; the audit has no step twice
 * and every step an undisturbed process of its kind has; one approval per approver per step; one
 * email_log row per notice, all sent, and the sink received each by its Message-ID once (or, when
 * `repeatsHarmless`, maybe again with the same Message-ID, which a mail client shows once).
 */
export async function verify(
  db: Knex,
  sink: MailSink,
  driven: Driven[],
  options: { reference?: Map<string, Footprint>; repeatsHarmless?: boolean; mailDeadlineMs?: number } = {},
): Promise<Verdict> {
  const problems: string[] = [];
  const lines: string[] = [];
  const footprints = new Map<string, Footprint>();
  const doubled = { auditSteps: 0, approvals: 0, notices: 0, deliveries: 0, assets: 0 };

  for (const d of driven) {
    if (d.error) problems.push(d.error);
    if (d.finalState !== d.expectedFinalState) problems.push(`${d.label} ended in ${d.finalState ?? 'no final state'}, expected ${d.expectedFinalState}`);
    problems.push(...d.refusals.map((refusal) => `${d.label}: refused ${refusal}`));
  }
  const finished = driven.filter((d) => d.finalState === d.expectedFinalState);
  const durations = finished.map((d) => (d.finishedAt! - d.startedAt) / 1000);
  lines.push(`processes: ${finished.length}/${driven.length} reached their final state${durations.length ? `, slowest after ${Math.max(...durations).toFixed(1)} s` : ''}`);

  const known = driven.filter((d) => d.workflowId);
  const workflowIds = known.map((d) => d.workflowId!);
  const assets = await db('assets').whereIn('serial_number', driven.flatMap((d) => d.serials)).select('id', 'serial_number', 'state');
  const assetIds = assets.map((a) => a.id as string);

  // The audit: one row per step, and the steps an undisturbed process of the kind has.
  const audit = await db('audit_log')
    .where((q) => q.whereIn('workflow_id', workflowIds).orWhereIn('subject_id', assetIds))
    .select('workflow_id', 'subject_type', 'subject_id', 'action', 'from_state', 'to_state', 'details');
  // A step done twice by a retried activity under a new key records the same details twice.
  const stepKey = (row: any) => {
    const { result: _result, ...details } = row.details ?? {};
    return [row.subject_type, row.action, row.from_state ?? '', row.to_state ?? '', JSON.stringify(Object.entries(details).sort(([a], [b]) => a.localeCompare(b)))].join(':');
  };
  const doubledSteps = [...multiset(audit.map((row) => `${row.workflow_id}|${row.subject_id}|${stepKey(row)}`))].filter(([, n]) => n > 1);
  doubled.auditSteps = doubledSteps.length;
  for (const [key, n] of doubledSteps) problems.push(`audit step recorded ${n} times: ${key}`);

  const emails = await waitForMail(db, workflowIds, options.mailDeadlineMs ?? 30_000);
  const assetsOf = (d: Driven) => new Set(assets.filter((a) => d.serials.includes(a.serial_number)).map((a) => a.id as string));
  let missingSteps = 0;
  for (const d of known) {
    const own = assetsOf(d);
    const footprint: Footprint = {
      auditSteps: audit.filter((row) => row.workflow_id === d.workflowId || own.has(row.subject_id)).map(stepKeyWithoutIds),
      emailTemplates: emails.filter((row) => row.workflow_id === d.workflowId).map((row) => row.template as string),
    };
    const kind = d.kind;
    if (!footprints.has(kind)) footprints.set(kind, footprint);
    const reference = options.reference?.get(kind);
    if (!reference) continue;
    for (const step of missing(reference.auditSteps, footprint.auditSteps)) {
      missingSteps++;
      problems.push(`${d.label}: audit lacks the step ${step}`);
    }
    // An approver who decides from the inbox before the task email goes out gets no task email.
    const expectedEmails = reference.emailTemplates.filter((template) => template !== 'approval_task');
    for (const template of missing(expectedEmails, footprint.emailTemplates)) problems.push(`${d.label}: no ${template} email`);
    const extra = missing(footprint.auditSteps, reference.auditSteps);
    if (extra.length) lines.push(`${d.label}: steps beyond an undisturbed run: ${extra.join(', ')}`);
  }
  lines.push(`audit: ${audit.length} rows, ${doubledSteps.length} steps recorded twice, ${options.reference ? `${missingSteps} steps missing against an undisturbed run` : 'steps not compared (no reference run given)'}`);

  const approvals = await db('approvals').whereIn('workflow_id', workflowIds).select('workflow_id', 'step_order', 'approver_id', 'state');
  const doubledApprovals = [...multiset(approvals.map((a) => `${a.workflow_id}|${a.step_order}|${a.approver_id}`))].filter(([, n]) => n > 1);
  doubled.approvals = doubledApprovals.length;
  for (const [key, n] of doubledApprovals) problems.push(`${n} approval rows for one approver in one step: ${key}`);
  lines.push(`approvals: ${approvals.length} rows, ${approvals.filter((a) => a.state === 'approved').length} approved, ${doubledApprovals.length} doubled`);

  // Email: one row per notice, every row sent, and each arrived at the sink by its Message-ID.
  const doubledNotices = [...multiset(emails.map((e) => `${e.workflow_id}|${e.template}|${[...e.recipients].sort().join(',')}|${e.subject}`))].filter(([, n]) => n > 1);
  doubled.notices = doubledNotices.length;
  for (const [key, n] of doubledNotices) problems.push(`${n} email_log rows for one notice: ${key}`);
  const unsent = emails.filter((e) => e.status !== 'sent');
  for (const e of unsent) problems.push(`email ${e.template} to ${e.recipients.join(',')} is ${e.status}${e.last_error ? ` (${e.last_error})` : ''}`);
  const arrivals = multiset(sink.messages().map((m) => m.messageId ?? ''));
  let repeated = 0;
  let absent = 0;
  for (const e of emails.filter((row) => row.status === 'sent')) {
    const n = arrivals.get(e.message_id) ?? 0;
    if (n === 0) {
      absent++;
      problems.push(`email ${e.template} ${e.message_id} is marked sent but never reached the sink`);
    } else if (n > 1) {
      repeated += n - 1;
      doubled.deliveries++;
      if (!options.repeatsHarmless) problems.push(`email ${e.template} ${e.message_id} reached the sink ${n} times`);
    }
  }
  lines.push(
    `email: ${emails.length} notices in email_log, ${emails.length - unsent.length} sent, ${doubledNotices.length} doubled; sink received ${emails.length - absent - unsent.length} of them by Message-ID` +
      `${repeated ? `, ${repeated} again with the same Message-ID${options.repeatsHarmless ? ' (a resend after a hand-off whose row was not yet marked sent: harmless)' : ''}` : ', each once'}`,
  );

  // Goods: one asset per received serial, in stock, with one cost record each; one receipt per order.
  const purchases = known.filter((d) => d.kind === 'purchase');
  const serials = purchases.flatMap((d) => d.serials);
  if (purchases.length) {
    const costRecords = assetIds.length ? await db('cost_records').whereIn('asset_id', assetIds).select('asset_id') : [];
    const receipts = await db('receipts').join('purchase_orders', 'purchase_orders.id', 'receipts.purchase_order_id').whereIn('purchase_orders.purchase_request_id', purchases.map((d) => d.id!)).select('receipts.id');
    doubled.assets = Math.max(0, assets.length - serials.length);
    if (assets.length !== serials.length) problems.push(`${assets.length} assets for ${serials.length} received serials`);
    const notInStock = assets.filter((a) => a.state !== 'in_stock');
    if (notInStock.length) problems.push(`assets not in stock: ${notInStock.map((a) => `${a.serial_number} ${a.state}`).join(', ')}`);
    const costsPerAsset = multiset(costRecords.map((c) => c.asset_id as string));
    const wrongCosts = assetIds.filter((id) => costsPerAsset.get(id) !== 1);
    if (wrongCosts.length) problems.push(`${wrongCosts.length} assets without exactly one cost record`);
    if (receipts.length !== purchases.length) problems.push(`${receipts.length} receipts for ${purchases.length} orders`);
    lines.push(`goods: ${assets.length} assets for ${serials.length} serials, ${costRecords.length} cost records, ${receipts.length} receipts for ${purchases.length} orders`);
  }
  return { problems, lines, footprints, doubled };
}

function stepKeyWithoutIds(row: any): string {
  return [row.subject_type, row.action, row.from_state ?? '', row.to_state ?? ''].join(':');
}

/** Every notice of these processes, once the outbox has had a bounded time to send them all. */
async function waitForMail(db: Knex, workflowIds: string[], deadlineMs: number): Promise<any[]> {
  const deadline = Date.now() + deadlineMs;
  for (;;) {
    const rows = await db('email_log').whereIn('workflow_id', workflowIds).select('workflow_id', 'template', 'recipients', 'subject', 'status', 'message_id', 'last_error');
    if (rows.every((row) => row.status === 'sent') || Date.now() > deadline) return rows;
    await sleep(250);
  }
}
