import fs from 'node:fs';

export default async function globalTeardown(): Promise<void> {
  const postgres = (globalThis as Record<string, unknown>).__assetflowTestPostgres as
    | { stop(): Promise<void>; dataDir: string }
    | undefined;
  if (!postgres) return;
  await postgres.stop();
  fs.rmSync(postgres.dataDir, { recursive: true, force: true });
}
