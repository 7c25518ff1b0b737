import fs from 'node:fs';
import path from 'node:path';
import { DefaultLogger, bundleWorkflowCode } from '@temporalio/worker';
import { workflowsPath } from '../workers/worker';

/** Builds the workflow bundle once at build time, so workers start without webpack. */
async function main(): Promise<void> {
  const { code } = await bundleWorkflowCode({ workflowsPath, logger: new DefaultLogger('WARN') });
  const target = path.join(__dirname, '..', 'workflow-bundle.js');
  fs.writeFileSync(target, code);
  console.log(`workflow bundle: ${path.relative(process.cwd(), target)} (${Math.round(code.length / 1024)} KiB)`);
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
