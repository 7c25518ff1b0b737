import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import type { Knex } from 'knex';
import { projectRoot } from '../../platform/project-root';
import { eventually } from './fixtures';
import { startStack, type Stack } from './stack';

/** Longer than a build of the project takes on a slow, busy machine. */
const STALE_BUILD_LOCK_MS = 10 * 60_000;

/**
 * Builds dist/ once per test run (the worker process runs the built worker and workflow bundle):
 * the first file that needs it builds under a lock, the others wait for it and find it done. A run
 * is named by global-setup; a file run on its own outside one builds for itself.
 */
export function buildDist(): void {
  const run = process.env.ASSETFLOW_TEST_RUN;
  const build = () => execFileSync('npm', ['run', '--silent', 'build'], { cwd: projectRoot(), stdio: 'inherit' });
  if (!run) {
    build();
    return;
  }
  const marker = path.join(projectRoot(), 'dist', '.built-for-test-run');
  const lock = path.join(projectRoot(), '.dist-build-lock');
  const builtForThisRun = () => fs.existsSync(marker) && fs.readFileSync(marker, 'utf8') === run;
  for (;;) {
    if (builtForThisRun()) return;
    try {
      fs.mkdirSync(lock);
    } catch {
      // Another file is building: wait for it, then look again. A lock left by a run that was killed
      // while it built is older than any build takes, and is taken over.
      const since = Date.now() - (fs.statSync(lock, { throwIfNoEntry: false })?.mtimeMs ?? Date.now());
      if (since > STALE_BUILD_LOCK_MS) fs.rmSync(lock, { recursive: true, force: true });
      else Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 500);
      continue;
    }
    try {
      if (!builtForThisRun()) {
        build();
        fs.writeFileSync(marker, run);
      }
    } finally {
      fs.rmdirSync(lock);
    }
  }
}

/** A stack whose workers run as processes of their own (dist/ built first): none runs until a test starts one. */
export async function startStackForWorkerProcesses(): Promise<Stack> {
  buildDist();
  return startStack({ worker: false });
}

/**
 * A worker as its own process (the built `dist/scripts/worker.js`) on the stack's task queue, so
 * that a test can kill it for real.
 */
export function startWorkerProcess(stack: Stack): ChildProcess {
  return spawn(process.execPath, [path.join(projectRoot(), 'dist', 'scripts', 'worker.js')], {
    env: {
      ...process.env,
      DATABASE_URL: stack.database.url,
      TEMPORAL_ADDRESS: stack.env.address,
      TEMPORAL_TASK_QUEUE: stack.taskQueue,
      SMTP_URL: stack.sink.url,
      PUBLIC_URL: stack.baseUrl,
      SECURITY_NOTICE_EMAIL: stack.securityNoticeEmail,
      APPROVAL_LINK_SECRET: stack.approvalLinkSecret,
      LOG_LEVEL: 'warn',
      // No metrics listener: several worker processes run at once in tests.
      WORKER_METRICS_PORT: '0',
    },
    stdio: ['ignore', 'inherit', 'inherit'],
  });
}

export async function kill(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGKILL');
  await exited;
}

/**
 * The worker processes a test file starts on its stack's task queue, one after another (the next
 * after the previous was killed), all killed before the stack stops.
 */
export class WorkerProcesses {
  private readonly children: ChildProcess[] = [];

  start(stack: Stack): ChildProcess {
    const child = startWorkerProcess(stack);
    this.children.push(child);
    return child;
  }

  async killAll(): Promise<void> {
    await Promise.all(this.children.map(kill));
  }
}

/**
 * A deferred constraint trigger that holds the COMMIT of a transaction inserting a matching row
 * into `table` on the advisory lock `lock`, while the test holds that lock: the test can then kill
 * the worker after the commit for certain. `matches` is SQL on NEW. `hold()` takes the lock;
 * `waitUntilHeld()` answers once a commit waits on it; `release()` lets it through; `drop()`
 * (in a finally) rolls back a lock never released and drops the trigger.
 */
export async function holdCommits(db: Knex, name: string, table: string, matches: string, lock: number) {
  await db.raw(`
    CREATE FUNCTION ${name}() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      IF ${matches} THEN
        PERFORM pg_advisory_xact_lock(${lock});
      END IF;
      RETURN NULL;
    END $$;
    CREATE CONSTRAINT TRIGGER ${name} AFTER INSERT ON ${table} DEFERRABLE INITIALLY DEFERRED
      FOR EACH ROW EXECUTE FUNCTION ${name}()`);
  const holder = await db.transaction();
  await holder.raw('SELECT pg_advisory_lock(?)', [lock]);
  let released = false;
  return {
    async waitUntilHeld(): Promise<void> {
      await eventually(async () => (await db('pg_locks').where({ locktype: 'advisory', granted: false, objid: lock })
        .whereRaw('database = (SELECT oid FROM pg_database WHERE datname = current_database())').first()) ?? undefined, 30_000, 20);
    },
    async release(): Promise<void> {
      await holder.raw('SELECT pg_advisory_unlock(?)', [lock]);
      await holder.commit();
      released = true;
    },
    async drop(): Promise<void> {
      if (!released) await holder.rollback();
      await db.raw(`DROP TRIGGER ${name} ON ${table}; DROP FUNCTION ${name}()`);
    },
  };
}
