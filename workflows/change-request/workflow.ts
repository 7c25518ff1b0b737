import {
  ApplicationFailure,
  allHandlersFinished,
  condition,
  patched,
  proxyActivities,
  setHandler,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import type { ChangeRequestActivities } from '../../activities/change-request';
import { isBeforeImplementation } from '../../domain/change-request';
import { isRiskAbove } from '../../domain/change-risk';
import { approvalSteps, type Authorization } from '../approvals/steps';
import { processStateKey } from '../search-attributes';
import {
  ChangeFailure,
  cancelUpdate,
  changeStatusQuery,
  implementationUpdate,
  reviewUpdate,
  reviseScopeUpdate,
  type AssessmentResult,
  type CancelCommand,
  type ChangeRefusal,
  type ChangeRequestInput,
  type ChangeResult,
  type ChangeState,
  type ChangeStatus,
  type CloseCode,
  type ImplementationCommand,
  type RequesterNotice,
  type ReviewCommand,
} from './contract';

const activities = proxyActivities<ChangeRequestActivities>({
  startToCloseTimeout: '30 seconds',
  retry: { initialInterval: '1 second', maximumInterval: '30 seconds', backoffCoefficient: 2 },
});

const SYSTEM = 'system:change-workflow';

function refuse(rule: ChangeRefusal['rule'], message: string): ApplicationFailure {
  return ApplicationFailure.create({ type: ChangeFailure.refused, message, details: [{ rule, message }], nonRetryable: true });
}

/**
 * One run per change request: assess, authorize (automatically for a standard change within its
 * model's risk ceiling, else step by step per the approval rules), wait for the planned start,
 * record implementation, run the asset transitions it declared, review when needed, close.
 */
export async function changeRequestWorkflow(input: ChangeRequestInput): Promise<ChangeResult> {
  const { workflowId } = workflowInfo();
  const { changeId } = input;
  const timings = input.type === 'emergency' ? input.timings.emergency : input.timings.normal;
  const base = (key: string) => ({ idempotencyKey: `${workflowId}:${key}`, workflowId, changeId });

  let state = 'new' as ChangeState;
  let closeCode: CloseCode | null = null;
  let revision = 0;
  let assessment: AssessmentResult | null = null;
  let scopeRevised = false;
  let cancellation: CancelCommand | null = null;
  let implementationStarted = false;
  let implementationEnd: ImplementationCommand | null = null;
  let review: ReviewCommand | null = null;

  const status = (): ChangeStatus => ({
    changeId,
    number: input.number,
    state,
    closeCode,
    revision,
    risk: assessment && { score: assessment.riskScore, level: assessment.riskLevel, reasons: assessment.reasons },
    currentStep: approvals.currentStep(),
    waitingFor: approvals.waitingFor(),
    plannedStart: assessment?.plannedStart ?? null,
    implementationStarted,
  });

  // The state being recorded: the change is listed in it (the activity writes the row) a moment
  // before the workflow has taken the step, and a person acting on the list must not be refused.
  let movingTo: ChangeState | null = null;
  const arrived = (at: ChangeState) => state === at || movingTo === at;

  async function moveTo(to: ChangeState, actor = SYSTEM, details?: Record<string, unknown>, code?: CloseCode): Promise<void> {
    const from = state;
    movingTo = to;
    await activities.recordChangeState({ ...base(`r${revision}:state:${from}->${to}`), actor, from, to, closeCode: code, details });
    movingTo = null;
    state = to;
    if (code) closeCode = code;
    upsertSearchAttributes([{ key: processStateKey, value: to }]);
  }

  // Requester notices go out in the order they were raised, but the change does not wait for the
  // mail server: a notice is an email, not a step. Histories recorded before this waited for each.
  const noticesInBackground = patched('requester-notices-in-background');
  let notices: Promise<void> = Promise.resolve();
  let noticeFailure: unknown = null;
  async function notifyRequester(key: string, notice: RequesterNotice): Promise<void> {
    const send = () => activities.notifyRequester({ ...base(key), notice });
    if (!noticesInBackground) return send();
    notices = notices.then(send).catch((error: unknown) => {
      noticeFailure ??= error;
    });
  }

  const interrupted = () => cancellation !== null || scopeRevised;
  const approvals = approvalSteps({
    workflowId,
    subjectType: 'change_request',
    subjectId: changeId,
    requesterId: input.requesterId,
    timings,
    interrupted,
    state: () => state,
  });

  setHandler(changeStatusQuery, status);

  setHandler(
    reviseScopeUpdate,
    async (revisionCommand) => {
      const next = revision + 1;
      await activities.reviseChangeScope({ ...base(`scope:${revisionCommand.requestId}`), revision: next, scope: revisionCommand });
      revision = next;
      scopeRevised = true;
      return status();
    },
    {
      validator: (_revision) => {
        if (!isBeforeImplementation(state)) throw refuse('state', `the scope cannot change once the change is in ${state}`);
      },
    },
  );

  setHandler(
    cancelUpdate,
    async (command) => {
      cancellation = command;
      await condition(() => state === 'closed');
      return status();
    },
    {
      validator: (_cancel) => {
        if (state === 'closed') throw refuse('state', 'the change is already closed');
        if (implementationStarted || !(isBeforeImplementation(state) || state === 'implement')) {
          throw refuse('cancel_after_start', 'implementation has started: record its outcome instead of cancelling');
        }
      },
    },
  );

  setHandler(
    implementationUpdate,
    async (command) => {
      if (state !== 'implement') await condition(() => state === 'implement');
      if (command.event === 'started') {
        implementationStarted = true;
        await activities.recordChangeEvent({
          ...base('implementation:started'),
          actor: command.actorEmail,
          action: 'implementation_started',
          details: { notes: command.notes },
        });
      } else {
        implementationEnd = command;
        await condition(() => state !== 'implement');
      }
      return status();
    },
    {
      validator: (command) => {
        if (!arrived('implement')) throw refuse('state', `implementation can be recorded in implement, not in ${state}`);
        if (command.event === 'started' && implementationStarted) throw refuse('implementation_order', 'implementation has already started');
        if (command.event !== 'started' && !implementationStarted) throw refuse('implementation_order', 'record that implementation started first');
        if (implementationEnd) throw refuse('implementation_order', 'the implementation outcome is already recorded');
      },
    },
  );

  setHandler(
    reviewUpdate,
    async (command) => {
      if (state !== 'review') await condition(() => state === 'review');
      review = command;
      await condition(() => state === 'closed');
      return status();
    },
    {
      validator: (_review) => {
        if (!arrived('review')) throw refuse('state', `a review is recorded in review, not in ${state}`);
        if (review) throw refuse('implementation_order', 'the review is already recorded');
      },
    },
  );


  async function authorize(assessed: AssessmentResult): Promise<Authorization> {
    if (assessed.model && !isRiskAbove(assessed.riskLevel, assessed.model.riskCeiling)) {
      await activities.recordChangeEvent({
        ...base(`r${revision}:approved-by-model`),
        actor: SYSTEM,
        action: 'approved_by_model',
        details: { model: assessed.model.name, riskLevel: assessed.riskLevel, riskCeiling: assessed.model.riskCeiling },
      });
      return 'approved';
    }
    const plan = await activities.planApprovals({ ...base(`r${revision}:plan`), revision, subject: assessed.subject });
    return approvals.run(plan, revision);
  }

  async function close(code: CloseCode, actor: string, detail: string): Promise<void> {
    await moveTo('closed', actor, { detail }, code);
    await notifyRequester('notice:outcome', { kind: 'outcome', closeCode: code, detail });
  }

  // The workflow writes its change row from the first (ARCHITECTURE.md, "Who writes what"); changes
  // submitted before that were registered by the API and carry no submission.
  if (patched('registered-by-its-workflow') && input.submission) {
    const { number, type, requesterId, requesterEmail, submission } = input;
    await activities.registerChange({ ...base('register'), number, type, requesterId, requesterEmail, submission });
  }
  await notifyRequester('notice:receipt', { kind: 'receipt' });

  // Assess and authorize until an approval holds for the current scope and the planned start
  // arrives; a scope revision at any point before implementation starts it over.
  let outcome: 'ready' | 'rejected' | 'cancelled' = 'cancelled';
  while (!cancellation) {
    scopeRevised = false;
    if (state !== 'assess') await moveTo('assess');
    assessment = await activities.assessChange({ ...base(`r${revision}:assess`), revision });
    if (interrupted()) continue;
    await moveTo('authorize', SYSTEM, { riskLevel: assessment.riskLevel, riskScore: assessment.riskScore });
    const authorization = await authorize(assessment);
    if (authorization === 'interrupted') continue;
    if (authorization === 'rejected') {
      outcome = 'rejected';
      break;
    }
    await notifyRequester(`r${revision}:notice:approved`, {
      kind: 'decision',
      decision: 'approved',
      detail: assessment.model ? `approved by the standard change model "${assessment.model.name}"` : 'approved by every approval step',
    });
    await moveTo('scheduled');
    const startsIn = assessment.plannedStart ? Date.parse(assessment.plannedStart) - Date.now() : 0;
    if (startsIn > 0) await condition(interrupted, startsIn);
    if (interrupted()) continue;
    outcome = 'ready';
    break;
  }

  if (cancellation !== null) {
    const { actorEmail, reason } = cancellation as CancelCommand;
    await approvals.closeAll(revision, `${workflowId}:cancel:approvals`);
    await close('cancelled', actorEmail, reason);
  } else if (outcome === 'rejected') {
    await notifyRequester(`r${revision}:notice:rejected`, { kind: 'decision', decision: 'rejected', detail: 'an approval step rejected the change or ran out of time' });
    await close('rejected', SYSTEM, 'not authorized');
  } else {
    await moveTo('implement');
    await condition(() => implementationEnd !== null || cancellation !== null);
    if (cancellation !== null) {
      const { actorEmail, reason } = cancellation as CancelCommand;
      await close('cancelled', actorEmail, reason);
    } else {
      const ended = implementationEnd as unknown as ImplementationCommand;
      let code: CloseCode = ended.event === 'failed' ? 'unsuccessful' : ended.withIssues ? 'successful_with_issues' : 'successful';
      await activities.recordChangeEvent({
        ...base(`implementation:${ended.event}`),
        actor: ended.actorEmail,
        action: `implementation_${ended.event}`,
        details: { notes: ended.notes, withIssues: ended.withIssues ?? false, backout: ended.backout ?? null },
      });
      if (ended.event === 'completed') {
        const results = await Promise.all(
          assessment!.declaredTransitions.map((action) =>
            activities.runAssetTransition({ ...base(`asset:${action.assetId}`), action, actor: ended.actorEmail }),
          ),
        );
        if (results.some((r) => !r.ok) && code === 'successful') code = 'successful_with_issues';
      }
      const needsReview = code === 'unsuccessful' || input.type === 'emergency';
      if (needsReview) {
        await moveTo('review', ended.actorEmail, { proposedCloseCode: code });
        await condition(() => review !== null);
        const reviewed = review as unknown as ReviewCommand;
        await activities.recordChangeEvent({ ...base('review'), actor: reviewed.actorEmail, action: 'reviewed', details: { notes: reviewed.notes } });
        await close(code, reviewed.actorEmail, reviewed.notes);
      } else {
        await close(code, ended.actorEmail, ended.notes);
      }
    }
  }

  await notices;
  if (noticeFailure) throw noticeFailure;
  await condition(allHandlersFinished);
  return { changeId, closeCode: closeCode! };
}
