import { CompleteAsyncError } from '@temporalio/common';
import type { ActivityInterceptorsFactory } from '@temporalio/worker';
import { Counter, Histogram, type Registry } from 'prom-client';
import { ACTIVITY_DURATION_BUCKETS, classifyActivityFailure, METRIC_NAMES, metricOnce } from './metrics';

export interface ActivityMetrics {
  failures: Counter<'activity' | 'type'>;
  duration: Histogram<'activity' | 'outcome'>;
}

/** The worker's activity metrics in `registry`; the same objects on a second call (a worker restarted on one registry). */
export function activityMetrics(registry: Registry): ActivityMetrics {
  return {
    failures: metricOnce(registry, METRIC_NAMES.activityFailures, () => new Counter({
      name: METRIC_NAMES.activityFailures,
      help: 'Failed activity attempts, by activity type and kind of failure: retryable, non_retryable, timeout, cancelled',
      labelNames: ['activity', 'type'] as const,
      registers: [registry],
    })),
    duration: metricOnce(registry, METRIC_NAMES.activityDuration, () => new Histogram({
      name: METRIC_NAMES.activityDuration,
      help: 'Duration of activity attempts in this worker, by activity type and outcome (completed, failed)',
      labelNames: ['activity', 'outcome'] as const,
      buckets: ACTIVITY_DURATION_BUCKETS,
      registers: [registry],
    })),
  };
}

/**
 * A Temporal activity interceptor that times every attempt and counts the failed ones. Each
 * attempt is seen once, in the worker that ran it, so these are real counters: sum them across
 * workers. An activity that completes asynchronously is neither timed nor counted.
 */
export function activityMetricsInterceptor(registry: Registry): ActivityInterceptorsFactory {
  const { failures, duration } = activityMetrics(registry);
  return (ctx) => ({
    inbound: {
      async execute(input, next) {
        const activity = ctx.info.activityType;
        const end = duration.startTimer({ activity });
        try {
          const result = await next(input);
          end({ outcome: 'completed' });
          return result;
        } catch (error) {
          if (error instanceof CompleteAsyncError) throw error;
          end({ outcome: 'failed' });
          const type = classifyActivityFailure(error, {
            cancelled: ctx.cancellationSignal.aborted,
            cancellation: ctx.cancellationDetails,
            nonRetryableErrorTypes: ctx.info.retryPolicy?.nonRetryableErrorTypes,
          });
          failures.inc({ activity, type });
          throw error;
        }
      },
    },
  });
}
