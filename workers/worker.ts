import { NativeConnection, Worker, type WorkerOptions } from '@temporalio/worker';
import type { Registry } from 'prom-client';
import type { Activities } from '../activities';
import { activityMetricsInterceptor } from '../platform/activity-metrics';

export interface WorkerSetup {
  connection: NativeConnection;
  namespace: string;
  taskQueue: string;
  activities: Activities;
  /** A pre-built bundle (production) or the workflows' source path (tests, development). */
  workflows: { workflowBundle: { codePath: string } | { code: string } } | { workflowsPath: string };
  tuning?: Pick<WorkerOptions, 'maxConcurrentActivityTaskExecutions' | 'maxConcurrentWorkflowTaskExecutions' | 'maxCachedWorkflows'>;
  /** Activity attempts are timed and failures counted here (assetflow_activity_*); none without it. */
  metrics?: Registry;
}

/** The one place where workflows and activities are put together on a task queue. */
export function createWorker(setup: WorkerSetup): Promise<Worker> {
  return Worker.create({
    connection: setup.connection,
    namespace: setup.namespace,
    taskQueue: setup.taskQueue,
    activities: setup.activities,
    // Activities heartbeat every second (activities/failures.ts); sending them that often keeps a
    // live activity well inside its heartbeat timeout on a busy machine.
    maxHeartbeatThrottleInterval: '1 second',
    // A workflow cached on a worker that died waits this long on that worker's queue before any
    // worker takes it: seconds, not the default ten, so a killed worker holds nothing up for long.
    stickyQueueScheduleToStartTimeout: '2 seconds',
    ...setup.workflows,
    ...setup.tuning,
    ...(setup.metrics ? { interceptors: { activity: [activityMetricsInterceptor(setup.metrics)] } } : {}),
  });
}

export const workflowsPath = require.resolve('../workflows');
