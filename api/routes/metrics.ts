import type { Registry } from 'prom-client';
import { metricsText } from '../../platform/metrics';
import type { RouteRegistry } from '../routes-registry';

/**
 * Prometheus scrapes this with METRICS_TOKEN as its bearer token (or a process owner's or admin's
 * API key): the figures tell an outsider how busy and how healthy the system is, so they are not
 * public. Left out of the request log.
 */
export function registerMetricsRoutes(routes: RouteRegistry, registry: Registry, scrapeToken?: string): void {
  routes.add(
    {
      method: 'get', path: '/metrics', tag: 'operations', access: ['process_owner', 'admin'], machineToken: scrapeToken,
      summary: 'Prometheus metrics (text exposition format): HTTP latency, processes started, finished and open, approval latency, Node.js. '
        + 'Bearer: a process owner\'s or admin\'s API key, or the METRICS_TOKEN',
      responses: { 200: 'the metrics, text/plain; version=0.0.4', 401: 'no key or token', 403: 'not a process owner or admin' },
    },
    async ({ res }) => {
      const { contentType, body } = await metricsText(registry);
      res.type(contentType).send(body);
    },
  );
}
