import type { RequestHandler } from 'express';
import type { Knex } from 'knex';
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import type { Logger } from '../platform/logger';
import {
  APPROVAL_DECISION_BUCKETS,
  HTTP_DURATION_BUCKETS,
  METRIC_NAMES,
  PrecomputedHistogram,
  createMetricsRegistry,
  methodLabel,
  routeLabel,
} from '../platform/metrics';
import { readProcessMetrics, type ProcessMetricsSnapshot } from '../model/process-metrics';

export interface ApiMetrics {
  registry: Registry;
  /** Times every request; put it before the routes. */
  httpMiddleware: RequestHandler;
}

/** Where middleware that is not an Express route (static files under a mount path) leaves its route label. */
const ROUTE_LABEL_LOCAL = 'metricsRoute';

/** Labels the requests a mounted middleware answers (e.g. /docs and its assets) with one route. */
export function labelRoute(label: string): RequestHandler {
  return (_req, res, next) => {
    res.locals[ROUTE_LABEL_LOCAL] = label;
    next();
  };
}

/**
 * The API's metrics: HTTP latency measured here, and the process figures read from Postgres at
 * scrape time.
 *
 * Why from Postgres: the API is stateless and several API processes may run, each seeing a part of
 * the traffic, and processes are started by one process and finished by a worker. Counting in
 * memory would give every process its own partial, restart-reset count. The database has the one
 * true figure, so each scrape reads it (one statement, a GROUP BY per table). Every API process
 * therefore reports the same numbers: aggregate them across instances with max(), not sum().
 *
 * Started and finished are exposed as counters (type counter, _total) although they are set, not
 * incremented: they are cumulative counts over all history, which only grow (rows are not deleted
 * and a closed process stays closed), exactly what a counter is - like the kernel counters an
 * exporter reads from /proc. So rate() and increase() work on them; a restored, smaller database
 * reads as a counter reset, which is what it is. Open processes go up and down: a gauge.
 */
export function createApiMetrics(options: { db: Knex; logger: Logger; registry?: Registry }): ApiMetrics {
  const registry = options.registry ?? createMetricsRegistry();
  const { db, logger } = options;

  const httpDuration = new Histogram({
    name: METRIC_NAMES.httpRequestDuration,
    help: 'Duration of HTTP requests to the API, by method, route pattern (unmatched when no route answered) and status code',
    labelNames: ['method', 'route', 'status_code'] as const,
    buckets: HTTP_DURATION_BUCKETS,
    registers: [registry],
  });

  // One query per scrape: the first collector to run starts it, the others (same scrape) share it.
  let pending: Promise<ProcessMetricsSnapshot | undefined> | undefined;
  const snapshot = (): Promise<ProcessMetricsSnapshot | undefined> => {
    pending ??= readProcessMetrics(db, APPROVAL_DECISION_BUCKETS)
      .catch((error: unknown) => {
        logger.warn({ err: error }, 'metrics: could not read the process figures from Postgres');
        return undefined;
      })
      .finally(() => {
        pending = undefined;
      });
    return pending;
  };

  new Gauge({
    name: METRIC_NAMES.processMetricsUp,
    help: '1 when this scrape read the process and approval figures from Postgres, 0 when it could not (they are then left out)',
    registers: [registry],
    async collect() {
      this.set((await snapshot()) ? 1 : 0);
    },
  });

  new Counter({
    name: METRIC_NAMES.processesStarted,
    help: 'Processes started, by type (change, procurement); read from Postgres at scrape time, the same in every API process',
    labelNames: ['type'] as const,
    registers: [registry],
    async collect() {
      const figures = await snapshot();
      this.reset();
      for (const { type, count } of figures?.started ?? []) this.inc({ type }, count);
    },
  });

  new Counter({
    name: METRIC_NAMES.processesFinished,
    help: 'Processes ended, by type and outcome (a change\'s close code; a purchase request\'s final state: closed, rejected, cancelled); read from Postgres at scrape time',
    labelNames: ['type', 'outcome'] as const,
    registers: [registry],
    async collect() {
      const figures = await snapshot();
      this.reset();
      for (const { type, outcome, count } of figures?.finished ?? []) this.inc({ type, outcome }, count);
    },
  });

  new Gauge({
    name: METRIC_NAMES.processesOpen,
    help: 'Processes not yet ended, by type and state; read from Postgres at scrape time',
    labelNames: ['type', 'state'] as const,
    registers: [registry],
    async collect() {
      const figures = await snapshot();
      this.reset();
      for (const { type, state, count } of figures?.open ?? []) this.set({ type, state }, count);
    },
  });

  new PrecomputedHistogram({
    name: METRIC_NAMES.approvalDecision,
    help: 'Time from an approval task\'s creation to a person\'s decision, by type (change, procurement) and decision; over every decided approval, read from Postgres at scrape time',
    labelNames: ['type', 'decision'] as const,
    buckets: APPROVAL_DECISION_BUCKETS,
    registers: [registry],
    read: async () =>
      ((await snapshot())?.approvalDecisions ?? []).map(({ type, decision, counts, sumSeconds }) => ({
        labels: { type, decision },
        counts,
        sum: sumSeconds,
      })),
  });

  const httpMiddleware: RequestHandler = (req, res, next) => {
    const end = httpDuration.startTimer();
    res.once('finish', () => {
      const route = (res.locals[ROUTE_LABEL_LOCAL] as string | undefined) ?? routeLabel(req.baseUrl, req.route?.path);
      end({ method: methodLabel(req.method), route, status_code: String(res.statusCode) });
    });
    next();
  };

  return { registry, httpMiddleware };
}
