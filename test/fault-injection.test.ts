/**
 * The fault suite: changes and purchases driven end to end through the API while the worker is
 * SIGKILLed during and between activities, Postgres is stopped mid-run, the Temporal dev server
 * is stopped and restarted on its db file, and SMTP is taken away. Afterwards every process has
 * finished, the audit has every step of an undisturbed run and none twice, one approval per
 * approver per step, one email_log row per notice and each message at the sink once by its
 * Message-ID. Each case prints what it injected and what it checked.
 *
 * Duplicates after an SMTP hand-off: a notice's Message-ID is derived from its idempotency key,
 * so a resend (the worker died after the SMTP server took the message but before its email_log
 * row was marked sent) carries the same Message-ID and a mail client shows it once; the cases
 * that kill a process mid-send accept such a repeat and print it, the others require none.
 */
import { Connection, Client } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import { ApiClient, driveChange, drivePurchase, prepareCast, verify, type Cast, type DriveOptions, type Driven, type Footprint } from './support/fault-processes';
import { startFaultStack, type FaultStack } from './support/fault-stack';
import { buildDist } from './support/worker-process';

const CHANGES_PER_CASE = 2;
const PURCHASES_PER_CASE = 2;
const PROCESS_DEADLINE_MS = 90_000;
/** How soon an activity a killed worker was running must run again: its timeout, not 30 s (plus a worker start). */
const RECOVERY_BOUND_MS = 15_000;
const STARTED = temporal.api.enums.v1.PendingActivityState.PENDING_ACTIVITY_STATE_STARTED;

let stack: FaultStack;
let cast: Cast;
let client: Client;
let reference: Map<string, Footprint> | undefined;

jest.setTimeout(240_000);

beforeAll(async () => {
  buildDist();
  stack = await startFaultStack({ workers: 1 });
  cast = await prepareCast(stack.db);
  say(`[fault] own Postgres, Temporal dev server (db file), SMTP sink, API and worker processes; their logs in ${stack.logDir}`);
  client = new Client({ connection: await Connection.connect({ address: stack.temporalAddress }) });
});

afterAll(async () => {
  await client?.connection.close();
  await stack?.stop();
});

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const say = (text: string) => process.stdout.write(`${text}\n`);

/** Holds the drivers at a point until the injector has done its work there. */
class Gate {
  waiting = 0;
  private release!: () => void;
  private readonly opened = new Promise<void>((resolve) => (this.release = resolve));
  async pass(): Promise<void> {
    this.waiting++;
    await this.opened;
  }
  open(): void {
    this.release();
  }
}

interface Injection {
  tracked: Driven[];
  injected: string[];
  /** What the injector itself saw go wrong (e.g. a recovery slower than its bound). */
  problems: string[];
  api: ApiClient;
}

async function pollUntil<T>(what: string, probe: () => Promise<T | undefined | null | false>, timeoutMs = 30_000, intervalMs = 50): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      const value = await probe();
      if (value) return value;
    } catch {
      // What is being watched may be away for the moment.
    }
    if (Date.now() > deadline) throw new Error(`${what} not observed within ${timeoutMs} ms`);
    await sleep(intervalMs);
  }
}

const workflowIdsOf = (tracked: Driven[]) => tracked.map((d) => d.workflowId).filter((id): id is string => Boolean(id));

/**
 * The activities a running worker has picked up and not finished, across the tracked processes.
 * A worker's identity starts with its pid; an activity a killed worker had started stays
 * STARTED until its timeout, so only live workers' activities count.
 */
interface InFlight {
  workflowId: string;
  activityId: string;
  activity: string;
  attempt: number;
}

async function activitiesInFlight(tracked: Driven[]): Promise<InFlight[]> {
  const live = new Set(stack.workers.pids.map(String));
  const found = await Promise.all(
    workflowIdsOf(tracked).map(async (workflowId) => {
      const { raw } = await client.workflow.getHandle(workflowId).describe();
      return (raw.pendingActivities ?? [])
        .filter((a) => a.state === STARTED && live.has((a.lastWorkerIdentity ?? '').split('@')[0]))
        .map((a) => ({ workflowId, activityId: a.activityId ?? '', activity: a.activityType?.name ?? '?', attempt: a.attempt ?? 1 }));
    }),
  );
  return found.flat();
}

/** Whether an activity the killed worker was running has run again (finished, or a new attempt began). */
async function ranAgain(activity: InFlight): Promise<boolean> {
  const { raw } = await client.workflow.getHandle(activity.workflowId).describe();
  const pending = (raw.pendingActivities ?? []).find((a) => a.activityId === activity.activityId);
  return !pending || (pending.attempt ?? 1) > activity.attempt;
}

async function nothingInFlight(tracked: Driven[]): Promise<boolean> {
  const pending = await Promise.all(workflowIdsOf(tracked).map(async (id) => (await client.workflow.getHandle(id).describe()).raw.pendingActivities?.length ?? 0));
  return pending.every((n) => n === 0);
}

/** Reads what people would read while something is away, for `ms`: lists and a detail. */
async function readDuring(api: ApiClient, tracked: Driven[], ms: number): Promise<void> {
  const until = Date.now() + ms;
  while (Date.now() < until) {
    const known = tracked.find((d) => d.id);
    await api.call(cast.processOwner.apiKey, 'GET', '/processes?limit=10');
    if (known) await api.call(cast.processOwner.apiKey, 'GET', `/${known.kind === 'change' ? 'changes' : 'purchase-requests'}/${known.id}`);
    await sleep(500);
  }
}

const answersSince = (api: ApiClient, before: Map<string, number>) =>
  [...api.answers].map(([label, n]) => [label, n - (before.get(label) ?? 0)] as const).filter(([, n]) => n > 0).map(([label, n]) => `${label}×${n}`).join(' ');

async function runCase(
  name: string,
  setup: {
    gates?: { decision?: Gate; fulfilment?: Gate };
    inject?: (injection: Injection) => Promise<void>;
    repeatsHarmless?: boolean;
  },
): Promise<void> {
  const started = Date.now();
  const api = new ApiClient(stack.baseUrl);
  const tracked: Driven[] = [];
  const injection: Injection = { tracked, injected: [], problems: [], api };
  const options: DriveOptions = {
    api,
    db: stack.db,
    cast,
    deadlineMs: PROCESS_DEADLINE_MS,
    beforeDecision: setup.gates?.decision && (() => setup.gates!.decision!.pass()),
    beforeFulfilment: setup.gates?.fulfilment && (() => setup.gates!.fulfilment!.pass()),
    track: (d) => tracked.push(d),
  };
  const tag = name.replace(/\W+/g, '').slice(0, 6) + Date.now().toString(36).slice(-4);
  const drive = Promise.all([
    ...Array.from({ length: CHANGES_PER_CASE }, (_, i) => driveChange(options, `${tag}c${i}`)),
    ...Array.from({ length: PURCHASES_PER_CASE }, (_, i) => drivePurchase(options, `${tag}p${i}`)),
  ]);
  let injectionError: unknown;
  await setup.inject?.(injection).catch((error: unknown) => {
    injectionError = error;
    // Whatever the injector could not do, let the drivers run to their end.
    setup.gates?.decision?.open();
    setup.gates?.fulfilment?.open();
  });
  const driven = await drive;
  const verdict = await verify(stack.db, stack.sink, driven, { reference, repeatsHarmless: setup.repeatsHarmless });
  verdict.problems.push(...injection.problems);
  if (injectionError) verdict.problems.push(`injection failed: ${injectionError instanceof Error ? injectionError.message : String(injectionError)}`);
  const honest = [...api.answers].filter(([label]) => label.startsWith('500') || label === 'client timeout');
  for (const [label, n] of honest) verdict.problems.push(`the API answered ${label} ${n} times (a fault must give 503/504 with Retry-After, within a server-side deadline)`);
  if (!setup.inject) {
    // A dropped keep-alive connection ('no answer') is the client's race, not the API's answer.
    const failures = [...api.answers].filter(([label]) => !/^2\d\d$/.test(label) && label !== 'no answer');
    for (const [label, n] of failures) verdict.problems.push(`undisturbed, yet the API answered ${label} ${n} times`);
  }

  say(`\n[fault] ${name} (${((Date.now() - started) / 1000).toFixed(1)} s, ${driven.filter((d) => d.kind === 'change').length} changes, ${driven.filter((d) => d.kind === 'purchase').length} purchases)`);
  for (const line of injection.injected) say(`  injected: ${line}`);
  say(`  api: ${api.requests} requests: ${answersSince(api, new Map())}`);
  say(`  workers: ${stack.workers.kills} SIGKILLs so far, ${stack.workers.unexpectedExits} exits on their own replaced`);
  for (const line of verdict.lines) say(`  checked: ${line}`);
  for (const problem of verdict.problems) say(`  PROBLEM: ${problem}`);
  if (!setup.inject) reference = verdict.footprints;
  expect(verdict.problems).toEqual([]);
}

it('runs undisturbed: the reference every faulty run is compared with', async () => {
  await runCase('undisturbed (the reference)', {});
});

it('finishes every process when the worker is SIGKILLed during activities', async () => {
  // Receipts wait until the first kill has been recovered from, so that the second finds them.
  const fulfilment = new Gate();
  await runCase('worker SIGKILL during activities', {
    repeatsHarmless: true,
    gates: { fulfilment },
    inject: async ({ tracked, injected, problems }) => {
      /** Kills the worker as soon as `inFlight` sees activities running, then times their recovery. */
      const killDuring = async (trigger: string, inFlight: () => Promise<InFlight[] | 'missed'>) => {
        const interrupted = await pollUntil(trigger, async () => {
          const running = await inFlight();
          return running === 'missed' || running.length > 0 ? running : undefined;
        }, 60_000, 30);
        if (interrupted === 'missed') {
          injected.push(`no kill: ${trigger} was never caught in flight (they all finished between two looks)`);
          return;
        }
        const pids = await stack.workers.killAll();
        const killedAt = Date.now();
        await sleep(1000);
        stack.workers.scale(1);
        await pollUntil('the interrupted activities running again', async () => (await Promise.all(interrupted.map(ranAgain))).every(Boolean), 60_000, 200);
        const recoveryMs = Date.now() - killedAt;
        const names = interrupted.map((a) => `${a.activity} of ${a.workflowId} (attempt ${a.attempt})`).join(', ');
        injected.push(`SIGKILL worker ${pids.join(',')} while ${trigger} ran: ${names}; a new worker 1 s later; they ran again ${(recoveryMs / 1000).toFixed(1)} s after the kill`);
        if (recoveryMs > RECOVERY_BOUND_MS) problems.push(`activities interrupted by a SIGKILL ran again only after ${(recoveryMs / 1000).toFixed(1)} s (bound ${RECOVERY_BOUND_MS / 1000} s): ${names}`);
      };
      await killDuring('an activity', () => activitiesInFlight(tracked));
      fulfilment.open();
      await killDuring('the activities turning a receipt into assets', async () => {
        const purchases = tracked.filter((d) => d.kind === 'purchase' && d.workflowId);
        const received = await stack.db('audit_log').whereIn('workflow_id', workflowIdsOf(purchases)).where({ action: 'receipt_recorded' }).pluck('workflow_id');
        const running = (await activitiesInFlight(purchases)).filter((a) => received.includes(a.workflowId));
        if (running.length) return running;
        const finished = purchases.length === PURCHASES_PER_CASE && purchases.every((d) => d.finishedAt);
        return finished ? 'missed' : [];
      });
    },
  });
});

it('finishes every process when the worker is SIGKILLed between activities, with decisions and receipts sent while no worker runs', async () => {
  const decision = new Gate();
  const fulfilment = new Gate();
  await runCase('worker SIGKILL between activities', {
    repeatsHarmless: true,
    gates: { decision, fulfilment },
    inject: async ({ tracked, injected, api }) => {
      const killWhenIdleAt = async (gate: Gate, point: string) => {
        await pollUntil(`every process waiting for ${point}`, async () => gate.waiting === tracked.length && nothingInFlight(tracked), 60_000, 100);
        const pids = await stack.workers.killAll();
        const before = new Map(api.answers);
        gate.open();
        await sleep(4000);
        injected.push(`SIGKILL worker ${pids.join(',')} while all ${tracked.length} processes waited for ${point} with no activity pending; ${point} sent with no worker for 4 s (answers meanwhile: ${answersSince(api, before) || 'none yet'}); then a new worker`);
        stack.workers.scale(1);
      };
      await killWhenIdleAt(decision, 'a decision');
      await killWhenIdleAt(fulfilment, 'implementation or receipt');
    },
  });
});

it('finishes every process when Postgres is stopped mid-run', async () => {
  await runCase('Postgres stopped mid-run', {
    repeatsHarmless: true,
    inject: async ({ tracked, injected, api }) => {
      await pollUntil('approvals planned for a process', async () => workflowIdsOf(tracked).length > 0 && stack.db('audit_log').whereIn('workflow_id', workflowIdsOf(tracked)).where({ action: 'approvals_planned' }).first('id'), 60_000, 20);
      const before = new Map(api.answers);
      await stack.postgres.stop();
      await readDuring(api, tracked, 8000);
      await stack.postgres.start();
      injected.push(`stopped Postgres for 8 s once approvals were planned (API answers meanwhile: ${answersSince(api, before) || 'none'}); started it again on the same data`);
    },
  });
});

it('finishes every process when the Temporal dev server is stopped and restarted on its db file', async () => {
  await runCase('Temporal server stopped and restarted', {
    inject: async ({ tracked, injected, api }) => {
      await pollUntil('approvals planned for a process', async () => workflowIdsOf(tracked).length > 0 && stack.db('audit_log').whereIn('workflow_id', workflowIdsOf(tracked)).where({ action: 'approvals_planned' }).first('id'), 60_000, 20);
      const exitsBefore = stack.workers.unexpectedExits;
      const before = new Map(api.answers);
      await stack.temporal.stop();
      await readDuring(api, tracked, 5000);
      await stack.temporal.start();
      injected.push(`stopped the Temporal dev server for 5 s once approvals were planned (API answers meanwhile: ${answersSince(api, before) || 'none'}); restarted it on the same port and db file; ${stack.workers.unexpectedExits - exitsBefore} worker exits meanwhile`);
    },
  });
});

it('finishes every process while SMTP is away, then delivers every notice once', async () => {
  let queuedWhileAway = 0;
  await runCase('SMTP away', {
    inject: async ({ tracked, injected }) => {
      await stack.smtp.stop();
      const finished = await pollUntil('every process finished with SMTP away', async () => {
        const rows = await stack.db('processes').whereIn('workflow_id', workflowIdsOf(tracked)).select('state');
        const all = CHANGES_PER_CASE + PURCHASES_PER_CASE;
        return tracked.length === all && rows.length === all && rows.every((row) => row.state === 'closed') && rows.length;
      }, 60_000, 250).catch(() => 0);
      queuedWhileAway = Number((await stack.db('email_log').whereIn('workflow_id', workflowIdsOf(tracked)).whereNot({ status: 'sent' }).count({ n: '*' }))[0].n);
      await stack.smtp.start();
      injected.push(`stopped the SMTP sink before the processes started; ${finished ? `all ${finished} finished without it` : 'NOT all finished without it within 60 s'}; ${queuedWhileAway} notices waited in email_log; the sink back on its port`);
      if (!finished) throw new Error('processes stalled while SMTP was away');
    },
  });
  expect(queuedWhileAway).toBeGreaterThan(0);
});
