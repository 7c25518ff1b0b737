/**
 * The change workflow's own ordering rules, with its activities stubbed so a test can hold one
 * step half done: what the process index already shows must be acted on without a refusal.
 */
import { randomUUID } from 'node:crypto';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker } from '@temporalio/worker';
import type { ChangeRequestActivities } from '../activities/change-request';
import { changeStatusQuery, implementationUpdate, type AssessmentResult, type ChangeRequestInput, type StateChangeInput } from '../workflows/change-request/contract';
import { RELAXED_APPROVAL_TIMINGS, workflowBundle } from './support/stack';
import { startDevServer } from './support/temporal';

let env: TestWorkflowEnvironment;

beforeAll(async () => {
  env = await startDevServer();
});

afterAll(async () => {
  await env?.teardown();
});

const standardAssessment: AssessmentResult = {
  revision: 0,
  plannedStart: null,
  riskScore: 5,
  riskLevel: 'low',
  reasons: [],
  subject: { changeType: 'standard', riskLevel: 'low', costMinor: 0 },
  model: { name: 'Rotate service keys', riskCeiling: 'moderate' },
  declaredTransitions: [],
};

/** A deferred promise: the test decides when a stubbed activity returns. */
function gate() {
  let open!: () => void;
  const opened = new Promise<void>((resolve) => (open = resolve));
  return { open, opened };
}

it('accepts "implementation started" while the move into implement is being recorded, and records it after the move', async () => {
  const recorded: string[] = [];
  const implementRecorded = gate();
  const implementReached = gate();
  const activities: Partial<ChangeRequestActivities> = {
    notifyRequester: async () => undefined,
    assessChange: async () => standardAssessment,
    recordChangeState: async (input: StateChangeInput) => {
      if (input.to === 'implement') {
        // The row is written (the index already says implement); the activity has not returned yet.
        implementReached.open();
        await implementRecorded.opened;
      }
      recorded.push(`state:${input.to}`);
    },
    recordChangeEvent: async (input) => {
      recorded.push(`event:${input.action}`);
    },
  };
  const taskQueue = `change-workflow-${randomUUID()}`;
  const worker = await Worker.create({ connection: env.nativeConnection, taskQueue, workflowBundle: await workflowBundle(), activities });
  await worker.runUntil(async () => {
    const input: ChangeRequestInput = {
      changeId: randomUUID(), number: 'CHG0009001', type: 'standard', requesterId: randomUUID(), requesterEmail: 'pia@assetflow.test', timings: RELAXED_APPROVAL_TIMINGS,
    };
    const handle = await env.client.workflow.start('changeRequestWorkflow', { taskQueue, workflowId: `change:${input.number}:${randomUUID()}`, args: [input] });
    await implementReached.opened;
    expect((await handle.query(changeStatusQuery)).state).toBe('scheduled');

    const started = handle.executeUpdate(implementationUpdate, { args: [{ requestId: randomUUID(), event: 'started', actorEmail: 'ivan@assetflow.test', notes: 'rotating' }] });
    // Give the update time to be validated and wait inside the workflow before the move completes.
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(recorded).not.toContain('event:implementation_started');
    implementRecorded.open();

    expect(await started).toMatchObject({ state: 'implement', implementationStarted: true });
    expect(recorded.indexOf('state:implement')).toBeLessThan(recorded.indexOf('event:implementation_started'));
    await expect(handle.executeUpdate(implementationUpdate, { args: [{ requestId: randomUUID(), event: 'started', actorEmail: 'ivan@assetflow.test', notes: 'again' }] }))
      .rejects.toMatchObject({ cause: { message: expect.stringMatching(/already started/) } });
    await handle.executeUpdate(implementationUpdate, { args: [{ requestId: randomUUID(), event: 'completed', actorEmail: 'ivan@assetflow.test', notes: 'rotated' }] });
    expect(await handle.result()).toMatchObject({ closeCode: 'successful' });
  });
});
