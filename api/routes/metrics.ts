import type { Registry } from 'prom-client';
import { metricsText } from '../../platform/metrics';
import type { RouteRegistry } from '../routes-registry';

/** Prometheus scrapes this: public, like /healthz, and left out of the request log. */
export function registerMetricsRoutes(routes: RouteRegistry, registry: Registry): void {
  routes.add(
    {
      method: 'get', path: '/metrics', tag: 'operations', access: 'public',
      summary: 'Prometheus metrics (text exposition format): HTTP latency, processes started, finished and open, approval latency, Node.js',
      responses: { 200: 'the metrics, text/plain; version=0.0.4' },
    },
    async ({ res }) => {
      const { contentType, body } = await metricsText(registry);
      res.type(contentType).send(body);
    },
  );
}
