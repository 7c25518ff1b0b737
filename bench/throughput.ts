import type { Client } from '@temporalio/client';
import { STANDARD_CHANGE_ACTIVITY_COUNT, type baselineWorkflow } from './baseline-workflow';

export interface ThroughputResult {
  completed: number;
  seconds: number;
  perSecond: number;
  p50Ms: number;
  p95Ms: number;
}

/** Runs `count` jobs with at most `concurrency` in flight; returns the rate and each job's latency. */
async function runConcurrently(count: number, concurrency: number, job: (i: number) => Promise<void>, progress: (done: number) => void): Promise<ThroughputResult> {
  const latencies: number[] = [];
  let next = 0;
  const started = Date.now();
  async function lane(): Promise<void> {
    while (next < count) {
      const i = next++;
      const t0 = Date.now();
      await job(i);
      latencies.push(Date.now() - t0);
      progress(latencies.length);
    }
  }
  await Promise.all(Array.from({ length: concurrency }, lane));
  const seconds = (Date.now() - started) / 1000;
  latencies.sort((a, b) => a - b);
  return {
    completed: latencies.length,
    seconds,
    perSecond: latencies.length / seconds,
    p50Ms: latencies[Math.floor(latencies.length / 2)],
    p95Ms: latencies[Math.ceil(latencies.length * 0.95) - 1],
  };
}

/** The engine's limit: no-op workflows with a standard change's number of activities. */
export function baselineThroughput(client: Client, taskQueue: string, count: number, concurrency: number, progress: (done: number) => void) {
  const run = Date.now().toString(36);
  return runConcurrently(count, concurrency, async (i) => {
    await client.workflow.execute<typeof baselineWorkflow>('baselineWorkflow', {
      taskQueue,
      workflowId: `bench-baseline-${run}-${i}`,
      args: [STANDARD_CHANGE_ACTIVITY_COUNT],
    });
  }, progress);
}

export interface StandardChangeSetup {
  baseUrl: string;
  requesterKey: string;
  implementerKey: string;
  changeModelId: string;
  ciId: string;
}

async function api(baseUrl: string, key: string, method: string, path: string, body?: unknown): Promise<any> {
  const res = await fetch(`${baseUrl}${path}`, {
    method,
    headers: { authorization: `Bearer ${key}`, ...(body ? { 'content-type': 'application/json' } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });
  const answer = await res.json();
  if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${JSON.stringify(answer)}`);
  return answer;
}

/**
 * Standard changes end to end through the HTTP API, as a requester and an implementer would:
 * submit, wait until it is approved by its model and due, record started and completed, closed.
 */
export function standardChangeThroughput(setup: StandardChangeSetup, count: number, concurrency: number, progress: (done: number) => void) {
  return runConcurrently(count, concurrency, async (i) => {
    const change = await api(setup.baseUrl, setup.requesterKey, 'POST', '/changes', {
      type: 'standard', changeModelId: setup.changeModelId, affectedCiIds: [setup.ciId], description: `benchmark change ${i}`,
    });
    // Waits on the process index (woken by its state announcements), as a pipeline would.
    for (;;) {
      const { process } = await api(setup.baseUrl, setup.implementerKey, 'GET', `/processes/${change.workflowId}?waitFor=implement,closed&waitSeconds=30`);
      if (process.state === 'implement') break;
      if (process.state === 'closed') throw new Error(`${change.number} closed before implementation`);
    }
    await api(setup.baseUrl, setup.implementerKey, 'POST', `/changes/${change.id}/implementation`, { event: 'started', notes: 'benchmark' });
    const closed = await api(setup.baseUrl, setup.implementerKey, 'POST', `/changes/${change.id}/implementation`, { event: 'completed', notes: 'benchmark' });
    if (closed.state !== 'closed') throw new Error(`${change.number} ended in ${closed.state}`);
  }, progress);
}
