/**
 * Prometheus metrics: the one place that names them, and the pieces the API and the worker share.
 *
 * Every process builds its own Registry (prom-client's global default registry is never used), so a
 * test can create several apps and workers in one process without "already registered" errors, and
 * reads exactly the metrics of the app or worker it made.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { ApplicationFailure } from '@temporalio/common';
import { collectDefaultMetrics, Histogram, Registry, type HistogramConfiguration } from 'prom-client';
import { bearerOf, secretMatches } from './secrets';

export const METRIC_PREFIX = 'assetflow_';

export const METRIC_NAMES = {
  /** API: request duration by method, route pattern and status code. */
  httpRequestDuration: 'assetflow_http_request_duration_seconds',
  /** API, from Postgres at scrape time: processes ever started, by type. */
  processesStarted: 'assetflow_processes_started_total',
  /** API, from Postgres at scrape time: processes ended, by type and outcome. */
  processesFinished: 'assetflow_processes_finished_total',
  /** API, from Postgres at scrape time: processes not ended, by type and state. */
  processesOpen: 'assetflow_processes_open',
  /** API, from Postgres at scrape time: decided_at - created_at of approvals a person decided. */
  approvalDecision: 'assetflow_approval_decision_seconds',
  /** API: 1 when the last scrape could read the process figures from Postgres, 0 when not. */
  processMetricsUp: 'assetflow_process_metrics_up',
  /** Worker: failed activity attempts, by activity type and kind of failure. */
  activityFailures: 'assetflow_activity_failures_total',
  /** Worker: activity attempt duration, by activity type and outcome. */
  activityDuration: 'assetflow_activity_duration_seconds',
} as const;

export const HTTP_DURATION_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
/** Activities write a row or send a mail (milliseconds) but some drive another workflow (seconds). */
export const ACTIVITY_DURATION_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300];
/** 1 min, 5 min, 15 min, 30 min, 1 h, 2 h, 4 h, 8 h, 1 d, 2 d, 3 d, 7 d: approvals take minutes to days. */
export const APPROVAL_DECISION_BUCKETS = [60, 300, 900, 1800, 3600, 7200, 14400, 28800, 86400, 172800, 259200, 604800];

/** A fresh registry with Node's default metrics (CPU, memory, event loop, GC), named assetflow_*. */
export function createMetricsRegistry(): Registry {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: METRIC_PREFIX });
  return registry;
}

/** The metric of that name in the registry, made by `create` the first time: creating twice throws in prom-client. */
export function metricOnce<M>(registry: Registry, name: string, create: () => M): M {
  return (registry.getSingleMetric(name) as M | undefined) ?? create();
}

// --- HTTP labels ---------------------------------------------------------------------------------

export const UNMATCHED_ROUTE = 'unmatched';

const KNOWN_METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']);

/** The method as a label; anything unusual is OTHER, so a client cannot invent label values. */
export function methodLabel(method: string | undefined): string {
  const upper = (method ?? '').toUpperCase();
  return KNOWN_METHODS.has(upper) ? upper : 'OTHER';
}

/**
 * The route label of a request: the pattern of the Express route that answered it (its router's
 * mount path + the route path, e.g. /changes/:id), never the raw URL, so ids and query strings do
 * not multiply the series. A request no route matched (404, a body that failed to parse before
 * routing, static files) is "unmatched".
 */
export function routeLabel(baseUrl: string | undefined, routePath: unknown): string {
  if (routePath instanceof RegExp) return `${baseUrl ?? ''}${String(routePath)}`;
  if (Array.isArray(routePath) && routePath.length > 0) return routePath.map((p) => routeLabel(baseUrl, p)).join('|');
  if (typeof routePath !== 'string') return UNMATCHED_ROUTE;
  const joined = `${baseUrl ?? ''}${routePath}`.replace(/\/{2,}/g, '/');
  if (joined === '') return '/';
  return joined.length > 1 && joined.endsWith('/') ? joined.slice(0, -1) : joined;
}

// --- Activity failures ---------------------------------------------------------------------------

/**
 * How an activity attempt failed, as far as the worker can tell:
 * - timeout: Temporal cancelled the attempt because it timed out (heartbeat or start-to-close);
 * - cancelled: cancelled for another reason (the workflow asked, worker shutdown, pause, reset);
 * - non_retryable: an ApplicationFailure marked non-retryable, or whose type the retry policy lists;
 * - retryable: anything else; Temporal will retry it while the retry policy allows.
 * A timeout the worker never hears of (no heartbeat) is not seen here: the server records it.
 */
export type ActivityFailureKind = 'retryable' | 'non_retryable' | 'timeout' | 'cancelled';

export interface ActivityFailureFacts {
  /** The attempt's cancellation signal fired. */
  cancelled: boolean;
  /** Why, when Temporal said (ActivityCancellationDetails). */
  cancellation?: { timedOut?: boolean };
  /** RetryPolicy.nonRetryableErrorTypes of the activity, when the server sent it. */
  nonRetryableErrorTypes?: readonly string[];
}

export function classifyActivityFailure(error: unknown, facts: ActivityFailureFacts): ActivityFailureKind {
  if (facts.cancellation?.timedOut) return 'timeout';
  if (facts.cancelled) return 'cancelled';
  // Temporal turns a plain Error into an ApplicationFailure whose type is the error's name.
  const type = error instanceof ApplicationFailure ? error.type : error instanceof Error ? error.name : undefined;
  if (error instanceof ApplicationFailure && error.nonRetryable) return 'non_retryable';
  if (type && facts.nonRetryableErrorTypes?.includes(type)) return 'non_retryable';
  return 'retryable';
}

// --- Histograms computed elsewhere ---------------------------------------------------------------

export interface PrecomputedHistogramSeries<T extends string> {
  labels: Partial<Record<T, string>>;
  /** Observations per bucket, not cumulative: counts[i] are those <= buckets[i] and > buckets[i-1]; one more entry for above the last bound. */
  counts: readonly number[];
  sum: number;
}

type HistogramSnapshot<T extends string> = Awaited<ReturnType<Histogram<T>['get']>>;

/**
 * A histogram whose buckets are counted somewhere else (for approval latency: by SQL over every
 * decided approval) and read at scrape time. prom-client's Histogram can only observe values one
 * by one, so this subclass keeps its name, help, buckets and registration and replaces only what it
 * reports. The exposition is a real histogram (TYPE histogram, _bucket{le}, _sum, _count): since the
 * counts cover all history they only grow, and rate() and histogram_quantile() work as usual.
 */
export class PrecomputedHistogram<T extends string> extends Histogram<T> {
  private readonly family: { name: string; help: string; aggregator: HistogramSnapshot<T>['aggregator']; bounds: readonly number[] };
  private readonly read: () => Promise<PrecomputedHistogramSeries<T>[]>;

  constructor(config: HistogramConfiguration<T> & { buckets: number[]; read: () => Promise<PrecomputedHistogramSeries<T>[]> }) {
    const { read, ...histogram } = config;
    super(histogram);
    this.family = { name: config.name, help: config.help, aggregator: config.aggregator ?? 'sum', bounds: [...config.buckets] };
    this.read = read;
  }

  override async get(): Promise<HistogramSnapshot<T>> {
    type Labels = HistogramSnapshot<T>['values'][number]['labels'];
    const { name, help, aggregator, bounds } = this.family;
    const values: HistogramSnapshot<T>['values'] = [];
    for (const series of await this.read()) {
      let cumulative = 0;
      for (const [i, le] of bounds.entries()) {
        cumulative += series.counts[i] ?? 0;
        values.push({ metricName: `${name}_bucket`, labels: { le, ...series.labels } as Labels, value: cumulative });
      }
      const count = series.counts.reduce((a, b) => a + b, 0);
      values.push({ metricName: `${name}_bucket`, labels: { le: '+Inf', ...series.labels } as Labels, value: count });
      values.push({ metricName: `${name}_sum`, labels: series.labels as Labels, value: series.sum });
      values.push({ metricName: `${name}_count`, labels: series.labels as Labels, value: count });
    }
    // prom-client's typings declare `type` a numeric enum (at runtime it is the string) and a
    // `collect` its own metrics do not answer with; nothing reads it.
    const type = 'histogram' as unknown as HistogramSnapshot<T>['type'];
    return { name, help, type, aggregator, values, collect: () => undefined };
  }

  /** prom-client's registry prefers this internal method of Histogram when it exists; answer the same. */
  getForPromString(): Promise<HistogramSnapshot<T>> {
    return this.get();
  }
}

// --- Serving -------------------------------------------------------------------------------------

export async function metricsText(registry: Registry): Promise<{ contentType: string; body: string }> {
  return { contentType: registry.contentType, body: await registry.metrics() };
}

export interface MetricsServer {
  port: number;
  close(): Promise<void>;
}

/**
 * A listener for processes without an HTTP server of their own (the worker): GET /metrics, nothing
 * else. `token` (METRICS_TOKEN), when set, must come as the scrape's bearer token.
 */
export async function serveMetrics(
  registry: Registry,
  options: { port: number; host: string; token?: string; onError?: (error: unknown) => void },
): Promise<MetricsServer> {
  const server = http.createServer((req, res) => {
    const path = (req.url ?? '').split('?')[0];
    if (path !== '/metrics' || (req.method !== 'GET' && req.method !== 'HEAD')) {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('only GET /metrics here\n');
      return;
    }
    if (options.token && !secretMatches(options.token, bearerOf(req.headers.authorization))) {
      res.writeHead(401, { 'content-type': 'text/plain', 'www-authenticate': 'Bearer' }).end('send the METRICS_TOKEN as "Authorization: Bearer <token>"\n');
      return;
    }
    metricsText(registry).then(
      ({ contentType, body }) => res.writeHead(200, { 'content-type': contentType }).end(req.method === 'HEAD' ? undefined : body),
      (error: unknown) => {
        options.onError?.(error);
        res.writeHead(500, { 'content-type': 'text/plain' }).end('metrics failed\n');
      },
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  return {
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        server.closeIdleConnections(); // a scraper's kept-alive connection
      }),
  };
}
