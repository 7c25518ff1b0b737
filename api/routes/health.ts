import type { Client } from '@temporalio/client';
import { pingDatabase, type Database } from '../../platform/database';
import type { RouteRegistry } from '../routes-registry';

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
        probe(() => pingDatabase(db)),
        probe(() => temporal.connection.workflowService.getSystemInfo({})),
      ]);
      const healthy = postgres.status === 'up' && temporalStatus.status === 'up';
      res.status(healthy ? 200 : 503);
      return { status: healthy ? 'ok' : 'degraded', postgres, temporal: temporalStatus };
    },
  );
}
