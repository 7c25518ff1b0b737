/**
 * Determinism guard: histories recorded from real runs (test/histories/*.json, at least one of
 * every workflow, exported with `temporal workflow show --output json`) must replay against
 * today's workflow code. A change that would break running workflows fails here; such a change
 * needs workflow versioning (patched()) rather than a new recording.
 */
import fs from 'node:fs';
import path from 'node:path';
import { bundleWorkflowCode, DefaultLogger, Worker } from '@temporalio/worker';
import * as workflows from '../workflows';
import { workflowsPath } from '../workers/worker';

const historiesDir = path.join(__dirname, 'histories');
const recordings = fs.readdirSync(historiesDir).filter((name) => name.endsWith('.json')).sort();
const historyOf = (file: string) => JSON.parse(fs.readFileSync(path.join(historiesDir, file), 'utf8'));

let workflowBundle: { code: string };

beforeAll(async () => {
  workflowBundle = await bundleWorkflowCode({ workflowsPath, logger: new DefaultLogger('WARN') });
});

it('has recorded histories to replay, of every workflow the workers run', () => {
  expect(recordings.length).toBeGreaterThanOrEqual(12);
  const recorded = new Set(recordings.map((file) => historyOf(file).events[0].workflowExecutionStartedEventAttributes.workflowType.name));
  expect([...recorded].sort()).toEqual(Object.keys(workflows).sort());
});

it.each(recordings)('replays %s deterministically', async (file) => {
  const history = historyOf(file);
  await expect(
    Worker.runReplayHistory({ workflowBundle, replayName: file }, history, `replay-${file}`),
  ).resolves.toBeUndefined();
});
