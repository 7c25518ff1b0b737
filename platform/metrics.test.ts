import { ApplicationFailure } from '@temporalio/common';
import { Registry } from 'prom-client';
import {
  classifyActivityFailure,
  createMetricsRegistry,
  methodLabel,
  PrecomputedHistogram,
  routeLabel,
  serveMetrics,
  UNMATCHED_ROUTE,
} from './metrics';

describe('route label', () => {
  it('is the Express route pattern, never the raw URL', () => {
    expect(routeLabel('', '/changes/:id')).toBe('/changes/:id');
    expect(routeLabel('', '/purchase-requests/:id/approvals/:approvalId/decision')).toBe('/purchase-requests/:id/approvals/:approvalId/decision');
    expect(routeLabel(undefined, '/healthz')).toBe('/healthz');
  });

  it('joins a router mount path and its route, without doubled or trailing slashes', () => {
    expect(routeLabel('/dev', '/mail/:id')).toBe('/dev/mail/:id');
    expect(routeLabel('/mnt', '/')).toBe('/mnt');
    expect(routeLabel('', '/')).toBe('/');
    expect(routeLabel('/a/', '/b/')).toBe('/a/b');
  });

  it('is "unmatched" when no route answered', () => {
    expect(routeLabel('', undefined)).toBe(UNMATCHED_ROUTE);
    expect(routeLabel('/whatever', undefined)).toBe(UNMATCHED_ROUTE);
    expect(routeLabel('', [])).toBe(UNMATCHED_ROUTE);
    expect(UNMATCHED_ROUTE).toBe('unmatched');
  });

  it('keeps other route shapes bounded by the code that declares them', () => {
    expect(routeLabel('', ['/a', '/b/'])).toBe('/a|/b');
    expect(routeLabel('/m', ['/a', '/b'])).toBe('/m/a|/m/b');
    expect(routeLabel('', /^\/x\/\d+$/)).toBe('/^\\/x\\/\\d+$/');
  });
});

describe('method label', () => {
  it('keeps the usual methods and folds the rest into OTHER', () => {
    expect(methodLabel('get')).toBe('GET');
    expect(methodLabel('DELETE')).toBe('DELETE');
    expect(methodLabel('PROPFIND')).toBe('OTHER');
    expect(methodLabel('X-INVENTED-' + Math.random())).toBe('OTHER');
    expect(methodLabel(undefined)).toBe('OTHER');
  });
});

describe('activity failure kind', () => {
  const notCancelled = { cancelled: false };

  it('is retryable for an ordinary error or a retryable ApplicationFailure', () => {
    expect(classifyActivityFailure(new Error('connection reset'), notCancelled)).toBe('retryable');
    expect(classifyActivityFailure(ApplicationFailure.retryable('try again', 'Busy'), notCancelled)).toBe('retryable');
    expect(classifyActivityFailure('a string thrown', notCancelled)).toBe('retryable');
  });

  it('is non_retryable when the failure says so or the retry policy lists its type', () => {
    expect(classifyActivityFailure(ApplicationFailure.nonRetryable('no such asset', 'AssetNotFound'), notCancelled)).toBe('non_retryable');
    expect(classifyActivityFailure(ApplicationFailure.retryable('refused', 'TransitionRefused'), { cancelled: false, nonRetryableErrorTypes: ['TransitionRefused'] }))
      .toBe('non_retryable');
    class TypeError2 extends Error { override name = 'InvalidInput'; }
    expect(classifyActivityFailure(new TypeError2('bad'), { cancelled: false, nonRetryableErrorTypes: ['InvalidInput'] })).toBe('non_retryable');
  });

  it('is timeout or cancelled when Temporal cancelled the attempt, whatever the activity threw', () => {
    expect(classifyActivityFailure(new Error('aborted'), { cancelled: true, cancellation: { timedOut: true } })).toBe('timeout');
    expect(classifyActivityFailure(ApplicationFailure.nonRetryable('x'), { cancelled: true, cancellation: { timedOut: false } })).toBe('cancelled');
    expect(classifyActivityFailure(new Error('aborted'), { cancelled: true })).toBe('cancelled');
  });
});

describe('registries', () => {
  it('are one per call, with the default Node metrics prefixed assetflow_', async () => {
    const a = createMetricsRegistry();
    const b = createMetricsRegistry();
    expect(a).not.toBe(b);
    const text = await a.metrics();
    expect(text).toMatch(/^assetflow_process_cpu_seconds_total \d/m);
    expect(text).toMatch(/^assetflow_nodejs_heap_size_used_bytes \d/m);
    expect(text).not.toMatch(/^process_cpu_seconds_total/m);
  });
});

describe('a precomputed histogram', () => {
  it('exposes buckets counted elsewhere as a cumulative Prometheus histogram', async () => {
    const registry = new Registry();
    let reads = 0;
    new PrecomputedHistogram({
      name: 'test_latency_seconds',
      help: 'latency',
      labelNames: ['kind'] as const,
      buckets: [1, 10, 100],
      registers: [registry],
      read: async () => {
        reads++;
        return [
          { labels: { kind: 'a' }, counts: [2, 0, 3, 1], sum: 321.5 },
          { labels: { kind: 'b' }, counts: [0, 0, 0, 0], sum: 0 },
        ];
      },
    });
    const text = await registry.metrics();
    expect(reads).toBe(1);
    expect(text).toContain('# TYPE test_latency_seconds histogram');
    expect(text).toContain('test_latency_seconds_bucket{le="1",kind="a"} 2');
    expect(text).toContain('test_latency_seconds_bucket{le="10",kind="a"} 2');
    expect(text).toContain('test_latency_seconds_bucket{le="100",kind="a"} 5');
    expect(text).toContain('test_latency_seconds_bucket{le="+Inf",kind="a"} 6');
    expect(text).toContain('test_latency_seconds_sum{kind="a"} 321.5');
    expect(text).toContain('test_latency_seconds_count{kind="a"} 6');
    expect(text).toContain('test_latency_seconds_count{kind="b"} 0');

    const json = await registry.getMetricsAsJSON();
    const family = json.find((m) => m.name === 'test_latency_seconds')!;
    expect(family.type).toBe('histogram');
    expect(family.values).toContainEqual({ metricName: 'test_latency_seconds_count', labels: { kind: 'a' }, value: 6 });
  });
});

describe('the metrics listener', () => {
  it('serves GET /metrics and nothing else', async () => {
    const registry = createMetricsRegistry();
    const server = await serveMetrics(registry, { port: 0, host: '127.0.0.1' });
    try {
      const base = `http://127.0.0.1:${server.port}`;
      const res = await fetch(`${base}/metrics`);
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toBe('text/plain; version=0.0.4; charset=utf-8');
      expect(await res.text()).toContain('assetflow_process_start_time_seconds');
      expect((await fetch(`${base}/`)).status).toBe(404);
      expect((await fetch(`${base}/metrics`, { method: 'POST' })).status).toBe(404);
    } finally {
      await server.close();
    }
  });

  it('asks for the scrape token when one is configured', async () => {
    const token = 'a-scrape-token-of-at-least-thirty-two-chars';
    const server = await serveMetrics(createMetricsRegistry(), { port: 0, host: '127.0.0.1', token });
    try {
      const scrape = (bearer?: string) => fetch(`http://127.0.0.1:${server.port}/metrics`, { headers: bearer ? { authorization: `Bearer ${bearer}` } : {} });
      expect((await scrape()).status).toBe(401);
      expect((await scrape(`${token}x`)).status).toBe(401);
      expect((await scrape(token.slice(1))).status).toBe(401);
      const res = await scrape(token);
      expect(res.status).toBe(200);
      expect(await res.text()).toContain('assetflow_process_start_time_seconds');
    } finally {
      await server.close();
    }
  });
});
