import { Context } from '@temporalio/activity';
import { ActivityCancellationDetails, ApplicationFailure, CancelledFailure } from '@temporalio/common';
import { MockActivityEnvironment } from '@temporalio/testing';
import { DefaultLogger } from '@temporalio/worker';
import type { Registry } from 'prom-client';
import { activityMetrics, activityMetricsInterceptor } from './activity-metrics';
import { createMetricsRegistry, METRIC_NAMES } from './metrics';

/** Runs `fn` as the activity `activityType` through the metrics interceptor, the way a worker does. */
function runActivity(registry: Registry, activityType: string, fn: () => Promise<unknown>, before?: (env: MockActivityEnvironment) => void) {
  const env = new MockActivityEnvironment(
    { activityType, retryPolicy: { nonRetryableErrorTypes: ['AssetNotFound'] } },
    { interceptors: [activityMetricsInterceptor(registry)], logger: new DefaultLogger('ERROR') },
  );
  before?.(env);
  return env.run(fn);
}

async function value(registry: Registry, name: string, labels: Record<string, string>, metricName = name): Promise<number | undefined> {
  const metric = registry.getSingleMetric(name)!;
  const { values } = await metric.get();
  return (values as { labels: Record<string, unknown>; value: number; metricName?: string }[]).find(
    (v) => (v.metricName ?? name) === metricName && Object.entries(labels).every(([k, l]) => v.labels[k] === l),
  )?.value;
}

describe('the activity metrics interceptor', () => {
  let registry: Registry;
  beforeEach(() => {
    registry = createMetricsRegistry();
  });

  it('counts a failed attempt by activity and kind, and rethrows the failure unchanged', async () => {
    const failure = ApplicationFailure.retryable('mail server busy', 'SmtpBusy');
    await expect(runActivity(registry, 'sendApprovalTask', async () => { throw failure; })).rejects.toBe(failure);
    await expect(runActivity(registry, 'sendApprovalTask', async () => { throw failure; })).rejects.toBe(failure);

    expect(await value(registry, METRIC_NAMES.activityFailures, { activity: 'sendApprovalTask', type: 'retryable' })).toBe(2);
    expect(await value(registry, METRIC_NAMES.activityDuration, { activity: 'sendApprovalTask', outcome: 'failed' }, `${METRIC_NAMES.activityDuration}_count`)).toBe(2);
    expect(await registry.metrics()).toContain('assetflow_activity_failures_total{activity="sendApprovalTask",type="retryable"} 2');
  });

  it('tells non-retryable failures apart, by flag or by the retry policy', async () => {
    await expect(runActivity(registry, 'recordTransition', async () => { throw ApplicationFailure.nonRetryable('refused', 'TransitionRefused'); })).rejects.toThrow('refused');
    await expect(runActivity(registry, 'loadTransitionFacts', async () => { throw ApplicationFailure.retryable('gone', 'AssetNotFound'); })).rejects.toThrow('gone');

    expect(await value(registry, METRIC_NAMES.activityFailures, { activity: 'recordTransition', type: 'non_retryable' })).toBe(1);
    expect(await value(registry, METRIC_NAMES.activityFailures, { activity: 'loadTransitionFacts', type: 'non_retryable' })).toBe(1);
    expect(await value(registry, METRIC_NAMES.activityFailures, { activity: 'loadTransitionFacts', type: 'retryable' })).toBeUndefined();
  });

  it('counts an attempt Temporal timed out as a timeout', async () => {
    await expect(
      runActivity(registry, 'stockReceivedAsset', () => Context.current().cancelled, (env) =>
        env.cancel('TIMED_OUT', new ActivityCancellationDetails({ timedOut: true })),
      ),
    ).rejects.toBeInstanceOf(CancelledFailure);
    expect(await value(registry, METRIC_NAMES.activityFailures, { activity: 'stockReceivedAsset', type: 'timeout' })).toBe(1);
  });

  it('times a completed attempt and counts no failure', async () => {
    await expect(runActivity(registry, 'assessChange', async () => 'done')).resolves.toBe('done');
    expect(await value(registry, METRIC_NAMES.activityDuration, { activity: 'assessChange', outcome: 'completed' }, `${METRIC_NAMES.activityDuration}_count`)).toBe(1);
    expect(await value(registry, METRIC_NAMES.activityFailures, { activity: 'assessChange' })).toBeUndefined();
  });

  it('shares its metrics when a worker is made again on the same registry', () => {
    expect(() => activityMetricsInterceptor(registry)).not.toThrow();
    expect(activityMetrics(registry).failures).toBe(activityMetrics(registry).failures);
  });
});
