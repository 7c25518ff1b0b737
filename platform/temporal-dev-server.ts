import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { Connection } from '@temporalio/client';
import type { SearchAttributeType } from '@temporalio/common';
import type { Logger } from './logger';
import type { SearchAttributeDefinition } from './temporal';

const CLI_TYPE_NAMES: Record<SearchAttributeType, string> = { KEYWORD: 'Keyword', KEYWORD_LIST: 'KeywordList', INT: 'Int', DATETIME: 'Datetime', TEXT: 'Text', BOOL: 'Bool', DOUBLE: 'Double' };

export interface TemporalDevServerHandle {
  address: string;
  uiUrl: string;
  stop(): Promise<void>;
}

async function waitForServer(address: string, child: ChildProcess, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`temporal dev server exited with code ${child.exitCode}`);
    try {
      const connection = await Connection.connect({ address, connectTimeout: 1000 });
      await connection.workflowService.getSystemInfo({});
      await connection.close();
      return;
    } catch (error) {
      if (Date.now() > deadline) throw new Error(`temporal dev server did not answer at ${address}: ${String(error)}`);
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  }
}

async function assertPortFree(port: number): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    const probe = net.createServer();
    probe.once('error', () => reject(new Error(`port ${port} is taken: is another Temporal server running? Set TEMPORAL_ADDRESS to use it.`)));
    probe.listen(port, '127.0.0.1', () => probe.close(() => resolve()));
  });
}

/**
 * Runs `temporal server start-dev` persisted to a file under the data folder (in memory without
 * one, as the benchmark runs it), with the custom search attributes it is given registered.
 */
export async function startTemporalDevServer(options: {
  cliPath: string;
  dataDir?: string;
  port: number;
  uiPort: number;
  namespace: string;
  searchAttributes: readonly SearchAttributeDefinition[];
  logger: Logger;
}): Promise<TemporalDevServerHandle> {
  const { cliPath, dataDir, port, uiPort, namespace, searchAttributes, logger } = options;
  await assertPortFree(port);
  if (dataDir) fs.mkdirSync(dataDir, { recursive: true });
  const args = [
    'server', 'start-dev',
    ...(dataDir ? ['--db-filename', path.join(dataDir, 'temporal.db')] : []),
    '--ip', '127.0.0.1',
    '--port', String(port),
    '--ui-port', String(uiPort),
    '--namespace', namespace,
    '--log-level', 'warn',
    ...searchAttributes.flatMap((key) => ['--search-attribute', `${key.name}=${CLI_TYPE_NAMES[key.type]}`]),
  ];
  const child = spawn(cliPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout?.on('data', (chunk: Buffer) => logger.debug({ temporal: chunk.toString().trim() }));
  child.stderr?.on('data', (chunk: Buffer) => logger.debug({ temporal: chunk.toString().trim() }));
  const address = `127.0.0.1:${port}`;
  await waitForServer(address, child, 60_000);
  return {
    address,
    uiUrl: `http://127.0.0.1:${uiPort}`,
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}
