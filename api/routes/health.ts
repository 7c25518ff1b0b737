import type { Client } from '@temporalio/client';
import { pingDatabase, type Database } from '../../platform/database';
import type { RouteRegistry } from '../routes-registry';
import { temporalAnswers } from '../workflow-calls';

/** Each probe's bound, so that /healthz answers within 2 s whatever is down. */
const PROBE_TIMEOUT_MS = 1_500;

async function probe(check: () => Promise<unknown>): Promise<{ status: 'up' | 'down'; error?: string }> {
  try {
    await check();
    return { status: 'up' };
  } catch (error) {
    return { status: 'down', error: error instanceof Error ? error.message : String(error) };
  }
}

export function registerHealthRoutes(routes: RouteRegistry, db: Database, temporal: Client): void {
  routes.add(
    {
      method: 'get', path: '/healthz', tag: 'operations', access: 'public',
      summary: 'Whether Postgres and Temporal answer',
      responses: { 200: 'both up', 503: 'one of them is down' },
    },
    async ({ res }) => {
      const [postgres, temporalStatus] = await Promise.all([
        probe(() => pingDatabase(db, PROBE_TIMEOUT_MS)),
        probe(async () => {
          if (!(await temporalAnswers(temporal, PROBE_TIMEOUT_MS))) throw new Error(`Temporal did not answer within ${PROBE_TIMEOUT_MS} ms`);
        }),
      ]);
      const healthy = postgres.status === 'up' && temporalStatus.status === 'up';
      res.status(healthy ? 200 : 503);
      return { status: healthy ? 'ok' : 'degraded', postgres, temporal: temporalStatus };
    },
  );
}
