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
import { segregationRefusal } from '../../domain/segregation';
import { CROSS_WORKFLOW_STEP, DATABASE_STEP } from '../activity-options';
import { approvalSteps, type Authorization } from '../approvals/steps';
import { StepInterrupted, StepRefused, attentionGuard } from '../attention/guard';
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

const activities = proxyActivities<ChangeRequestActivities>(DATABASE_STEP);
const crossWorkflow = proxyActivities<ChangeRequestActivities>(CROSS_WORKFLOW_STEP);

/** How long a cancel waits for the change to close before it answers with where the change stands. */
const CANCEL_ANSWER_WITHIN_MS = 10_000;

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
    attention: guard.attention(),
    cancellationRequested: cancellation !== null,
  });

  // The state being recorded: the change is listed in it (the activity writes the row) a moment
  // before the workflow has taken the step, and a person acting on the list must not be refused.
  let movingTo: ChangeState | null = null;
  const arrived = (at: ChangeState) => state === at || movingTo === at;

  async function moveTo(to: ChangeState, actor = SYSTEM, details?: Record<string, unknown>, code?: CloseCode): Promise<void> {
    const from = state;
    movingTo = to;
    await guard.run(`move to ${to}`, () => activities.recordChangeState({ ...base(`r${revision}:state:${from}->${to}`), actor, from, to, closeCode: code, details }), { interruptible: !ending });
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
    const send = () => guard.run(`notify the requester (${notice.kind})`, () => activities.notifyRequester({ ...base(key), notice }), { interruptible: false });
    if (!noticesInBackground) return send();
    notices = notices.then(send).catch(async (error: unknown) => {
      // A notice bad data spoils is reported to the owners; the change does not end over an email.
      if (error instanceof StepRefused) return guard.reportRefusal(error, 'notice not sent');
      noticeFailure ??= error;
    });
  }

  const interrupted = () => cancellation !== null || scopeRevised;
  // Set once the change is being closed: its last steps wait out a stall even though it was cancelled.
  let ending = false;
  // A new scope starts assessment over only while the change is being assessed and authorized.
  let authorizing = true;
  const guard = attentionGuard({
    subjectType: 'change_request',
    subjectId: changeId,
    interrupted: () => !ending && (cancellation !== null || (scopeRevised && authorizing)),
  });
  const approvals = approvalSteps({
    workflowId,
    subjectType: 'change_request',
    subjectId: changeId,
    requesterId: input.requesterId,
    timings,
    interrupted,
    state: () => state,
    guard,
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
      cancellation ??= command;
      // A change whose step waits for attention may take a while to close: the caller hears where it stands.
      // Histories recorded before this waited for the end, with no timer.
      if (patched('cancel-answers-within-a-bound')) await condition(() => state === 'closed', CANCEL_ANSWER_WITHIN_MS);
      else await condition(() => state === 'closed');
      return status();
    },
    {
      validator: (_cancel) => {
        if (state === 'closed') throw refuse('state', 'the change is already closed');
        // A cancel repeated (a client that timed out and retried) is answered with where the change stands.
        if (cancellation) return;
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
        const sod = segregationRefusal('implementation', command.actorEmail, input.requesterEmail);
        if (sod) throw refuse(sod.rule, sod.message);
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
      validator: (command) => {
        const sod = segregationRefusal('review', command.actorEmail, input.requesterEmail);
        if (sod) throw refuse(sod.rule, sod.message);
        if (!arrived('review')) throw refuse('state', `a review is recorded in review, not in ${state}`);
        if (review) throw refuse('implementation_order', 'the review is already recorded');
      },
    },
  );


  async function authorize(assessed: AssessmentResult): Promise<Authorization> {
    const { model } = assessed;
    if (model && !isRiskAbove(assessed.riskLevel, model.riskCeiling)) {
      await guard.run('approve by the standard model', () => activities.recordChangeEvent({
        ...base(`r${revision}:approved-by-model`),
        actor: SYSTEM,
        action: 'approved_by_model',
        details: { model: model.name, riskLevel: assessed.riskLevel, riskCeiling: model.riskCeiling },
      }));
      return 'approved';
    }
    const plan = await guard.run('plan approvals', () => activities.planApprovals({ ...base(`r${revision}:plan`), revision, subject: assessed.subject }));
    return approvals.run(plan, revision);
  }

  async function close(code: CloseCode, actor: string, detail: string): Promise<void> {
    ending = true;
    await moveTo('closed', actor, { detail }, code);
    await notifyRequester('notice:outcome', { kind: 'outcome', closeCode: code, detail });
  }

  /** The change's own path, from registration to closure. */
  async function proceed(): Promise<void> {
    // The workflow writes its change row from the first (ARCHITECTURE.md, "Who writes what"); changes
    // submitted before that were registered by the API and carry no submission.
    if (patched('registered-by-its-workflow') && input.submission) {
      const { number, type, requesterId, requesterEmail, submission } = input;
      await guard.run('register', () => activities.registerChange({ ...base('register'), number, type, requesterId, requesterEmail, submission }), { refusal: 'fail' });
    }
    await notifyRequester('notice:receipt', { kind: 'receipt' });

    // Assess and authorize until an approval holds for the current scope and the planned start
    // arrives; a scope revision at any point before implementation starts it over.
    let outcome: 'ready' | 'rejected' | 'cancelled' = 'cancelled';
    while (!cancellation) {
      try {
        scopeRevised = false;
        if (state !== 'assess') await moveTo('assess');
        assessment = await guard.run('assess', () => activities.assessChange({ ...base(`r${revision}:assess`), revision }));
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
      } catch (error) {
        if (!(error instanceof StepInterrupted)) throw error;
        // A step that waited for attention was overtaken by a cancel or a new scope: the approvals it left open go.
        if (!cancellation) await approvals.closeAll(revision, `${workflowId}:r${revision}:interrupted:approvals`);
      }
    }
    authorizing = false;

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
        await guard.run(`record implementation ${ended.event}`, () => activities.recordChangeEvent({
          ...base(`implementation:${ended.event}`),
          actor: ended.actorEmail,
          action: `implementation_${ended.event}`,
          details: { notes: ended.notes, withIssues: ended.withIssues ?? false, backout: ended.backout ?? null },
        }));
        if (ended.event === 'completed') {
          const results = await Promise.all(
            assessment!.declaredTransitions.map((action) =>
              guard.run(`move asset ${action.assetId}`, () => crossWorkflow.runAssetTransition({ ...base(`asset:${action.assetId}`), action, actor: ended.actorEmail })),
            ),
          );
          if (results.some((r) => !r.ok) && code === 'successful') code = 'successful_with_issues';
        }
        const needsReview = code === 'unsuccessful' || input.type === 'emergency';
        if (needsReview) {
          await moveTo('review', ended.actorEmail, { proposedCloseCode: code });
          await condition(() => review !== null);
          const reviewed = review as unknown as ReviewCommand;
          await guard.run('record the review', () => activities.recordChangeEvent({ ...base('review'), actor: reviewed.actorEmail, action: 'reviewed', details: { notes: reviewed.notes } }));
          await close(code, reviewed.actorEmail, reviewed.notes);
        } else {
          await close(code, ended.actorEmail, ended.notes);
        }
      }
    }
  }

  try {
    await proceed();
  } catch (error) {
    if (error instanceof StepInterrupted && cancellation !== null) {
      // Cancelled while a step on the way to implementation waited for attention.
      const { actorEmail, reason } = cancellation as CancelCommand;
      await approvals.closeAll(revision, `${workflowId}:cancel:approvals`);
      await close('cancelled', actorEmail, reason);
    } else if (!(error instanceof StepRefused)) {
      throw error;
    } else if (state === 'closed') {
      await guard.reportRefusal(error, closeCode ?? 'closed');
    } else {
      // Bad data no retry can mend: before implementation the change is rejected, after it the
      // outcome stands with the issue; the requester and the owners hear why.
      const ended = implementationEnd as ImplementationCommand | null;
      const code: CloseCode = !ended ? 'rejected' : ended.event === 'failed' ? 'unsuccessful' : 'successful_with_issues';
      const detail = `${error.step} failed: ${error.reason}`;
      await guard.reportRefusal(error, code);
      await approvals.closeAll(revision, `${workflowId}:refused:approvals`);
      if (code === 'rejected') await notifyRequester(`r${revision}:notice:refused`, { kind: 'decision', decision: 'rejected', detail });
      await close(code, SYSTEM, detail);
    }
  }

  await notices;
  if (noticeFailure) throw noticeFailure;
  await condition(allHandlersFinished);
  return { changeId, closeCode: closeCode! };
}
