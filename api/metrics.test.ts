import type { AddressInfo } from 'node:net';
import express, { Router } from 'express';
import knex, { type Knex } from 'knex';
import { createLogger } from '../platform/logger';
import { createApiMetrics, labelRoute } from './metrics';

/** A database nobody listens at: the HTTP metrics never touch it, the process figures fail to read. */
let unreachable: Knex;
beforeAll(() => {
  const quiet = () => undefined;
  unreachable = knex({
    client: 'pg',
    connection: 'postgres://nobody@127.0.0.1:1/none',
    pool: { min: 0, max: 1 },
    acquireConnectionTimeout: 2_000,
    log: { warn: quiet, error: quiet, debug: quiet, deprecate: quiet },
  });
});
afterAll(async () => {
  await unreachable.destroy();
});

const logger = createLogger('silent', 'test');

async function withServer(app: express.Express, run: (base: string) => Promise<void>): Promise<void> {
  const server = await new Promise<import('node:http').Server>((resolve) => {
    const s = app.listen(0, '127.0.0.1', () => resolve(s));
  });
  try {
    await run(`http://127.0.0.1:${(server.address() as AddressInfo).port}`);
  } finally {
    await new Promise((resolve) => server.close(resolve));
  }
}

describe('HTTP request metrics', () => {
  it('label requests with the route pattern, method and status, never the raw URL', async () => {
    const metrics = createApiMetrics({ db: unreachable, logger });
    const app = express();
    app.use(metrics.httpMiddleware);
    const router = Router();
    router.get('/changes/:id', (req, res) => {
      res.status(req.params.id === 'missing' ? 404 : 200).json({ id: req.params.id });
    });
    router.post('/changes/:id/cancel', () => {
      throw new Error('boom');
    });
    app.use(router);
    app.use('/docs', labelRoute('/docs'), (_req, res) => {
      res.send('docs');
    });
    app.use((_req, res) => {
      res.status(404).json({ error: 'no route' });
    });
    app.use(((_error, _req, res, _next) => {
      res.status(500).json({ error: 'internal' });
    }) as express.ErrorRequestHandler);

    await withServer(app, async (base) => {
      await fetch(`${base}/changes/CHG0001001`);
      await fetch(`${base}/changes/CHG0001002?verbose=1`);
      await fetch(`${base}/changes/missing`);
      await fetch(`${base}/changes/CHG0001001/cancel`, { method: 'POST' });
      await fetch(`${base}/no/such/thing/123`);
      await fetch(`${base}/docs/swagger-ui.css`);
      await fetch(`${base}/changes/CHG0001001`, { method: 'PROPFIND' });
    });

    const text = await metrics.registry.getSingleMetricAsString('assetflow_http_request_duration_seconds');
    const count = (labels: string) => Number(new RegExp(`^assetflow_http_request_duration_seconds_count\\{${labels}\\} (\\d+)$`, 'm').exec(text)?.[1]);
    expect(count('method="GET",route="/changes/:id",status_code="200"')).toBe(2);
    expect(count('method="GET",route="/changes/:id",status_code="404"')).toBe(1);
    expect(count('method="POST",route="/changes/:id/cancel",status_code="500"')).toBe(1);
    expect(count('method="GET",route="unmatched",status_code="404"')).toBe(1);
    expect(count('method="GET",route="/docs",status_code="200"')).toBe(1);
    expect(count('method="OTHER",route="unmatched",status_code="404"')).toBe(1);
    expect(text).not.toMatch(/CHG000|verbose|such|swagger-ui\.css/);
  });
});

describe('process metrics when Postgres cannot be read', () => {
  it('leave the figures out, say so, and still answer the rest', async () => {
    const metrics = createApiMetrics({ db: unreachable, logger });
    const text = await metrics.registry.metrics();
    expect(text).toMatch(/^assetflow_process_metrics_up 0$/m);
    expect(text).toContain('# TYPE assetflow_processes_started_total counter');
    expect(text).not.toMatch(/^assetflow_processes_started_total\{/m);
    expect(text).not.toMatch(/^assetflow_approval_decision_seconds_bucket/m);
    expect(text).toMatch(/^assetflow_process_cpu_seconds_total /m);
  });
});
