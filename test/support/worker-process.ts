import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { projectRoot } from '../../platform/project-root';
import type { Stack } from './stack';

/** Builds dist/ once per test file: the worker process runs the built worker and workflow bundle. */
export function buildDist(): void {
  execFileSync('npm', ['run', '--silent', 'build'], { cwd: projectRoot(), stdio: 'inherit' });
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
