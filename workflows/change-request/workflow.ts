import {
  ApplicationFailure,
  allHandlersFinished,
  condition,
  proxyActivities,
  setHandler,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import type { ChangeRequestActivities } from '../../activities/change-request';
import { stepOutcome, type Decision, type PlannedStep, type StepOutcome } from '../../domain/approval-routing';
import { isRiskAbove } from '../../domain/change-risk';
import { processStateKey } from '../search-attributes';
import {
  ChangeFailure,
  cancelUpdate,
  changeStatusQuery,
  decideUpdate,
  implementationUpdate,
  reviewUpdate,
  reviseScopeUpdate,
  type ApprovalView,
  type AssessmentResult,
  type CancelCommand,
  type ChangeRefusal,
  type ChangeRequestInput,
  type ChangeResult,
  type ChangeState,
  type ChangeStatus,
  type CloseCode,
  type ImplementationCommand,
  type ReviewCommand,
  type StepView,
} from './contract';

const activities = proxyActivities<ChangeRequestActivities>({
  startToCloseTimeout: '30 seconds',
  retry: { initialInterval: '1 second', maximumInterval: '30 seconds', backoffCoefficient: 2 },
});

const SYSTEM = 'system:change-workflow';

function refuse(rule: ChangeRefusal['rule'], message: string): ApplicationFailure {
  return ApplicationFailure.create({ type: ChangeFailure.refused, message, details: [{ rule, message }], nonRetryable: true });
}

/** States in which the scope may still change and the requester may still cancel. */
const BEFORE_IMPLEMENTATION: ChangeState[] = ['new', 'assess', 'authorize', 'scheduled'];

type Authorization = 'approved' | 'rejected' | 'interrupted';

interface ActiveStep {
  planned: PlannedStep;
  dueAt: number;
  approvals: ApprovalView[];
  decisions: Decision[];
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
  let step: ActiveStep | null = null;
  let scopeRevised = false;
  let cancellation: CancelCommand | null = null;
  let implementationStarted = false;
  let implementationEnd: ImplementationCommand | null = null;
  let review: ReviewCommand | null = null;

  const stepView = (s: ActiveStep): StepView => ({
    index: s.planned.index,
    name: s.planned.name,
    policy: s.planned.policy,
    required: s.planned.required,
    onExpiry: s.planned.onExpiry,
    dueAt: new Date(s.dueAt).toISOString(),
    approvals: s.approvals,
    outcome: outcomeOf(s),
  });
  const outcomeOf = (s: ActiveStep): StepOutcome =>
    stepOutcome({ policy: s.planned.policy, required: s.planned.required, approverCount: s.planned.approvers.length }, s.decisions);
  const status = (): ChangeStatus => ({
    changeId,
    number: input.number,
    state,
    closeCode,
    revision,
    risk: assessment && { score: assessment.riskScore, level: assessment.riskLevel, reasons: assessment.reasons },
    currentStep: step && stepView(step),
    waitingFor: step ? step.approvals.filter((a) => a.state === 'requested').map((a) => a.approverId) : [],
    plannedStart: assessment?.plannedStart ?? null,
    implementationStarted,
  });

  async function moveTo(to: ChangeState, actor = SYSTEM, details?: Record<string, unknown>, code?: CloseCode): Promise<void> {
    const from = state;
    await activities.recordChangeState({ ...base(`r${revision}:state:${from}->${to}`), actor, from, to, closeCode: code, details });
    state = to;
    if (code) closeCode = code;
    upsertSearchAttributes([{ key: processStateKey, value: to }]);
  }

  setHandler(changeStatusQuery, status);

  setHandler(
    decideUpdate,
    async (command) => {
      const active = step!;
      const approval = active.approvals.find((a) => a.approvalId === command.approvalId)!;
      // Mark before the first await: a second decision arriving meanwhile sees it taken.
      approval.state = command.decision;
      const recorded = await activities.recordApprovalDecision({
        idempotencyKey: `${workflowId}:decision:${command.approvalId}`,
        approvalId: command.approvalId,
        decision: command.decision,
        comment: command.comment ?? null,
        via: command.via,
        actor: command.actorEmail,
      });
      if (!recorded.applied) {
        // An escalation took the approval first; the escalation path records the replacement.
        approval.state = recorded.state as ApprovalView['state'];
        throw refuse('already_decided', `this approval is already ${recorded.state}`);
      }
      active.decisions.push(command.decision);
      return { approvalId: command.approvalId, decision: command.decision, stepOutcome: outcomeOf(active), state };
    },
    {
      validator: (command) => {
        if (command.actorId === input.requesterId) {
          throw refuse('segregation_of_duties', 'a requester never approves their own change');
        }
        const approval = step?.approvals.find((a) => a.approvalId === command.approvalId);
        if (!step || !approval) throw refuse('not_in_step', 'this approval is not part of the step the change waits for');
        if (approval.approverId !== command.actorId) throw refuse('not_the_approver', 'this approval is assigned to someone else');
        if (approval.state !== 'requested') throw refuse('already_decided', `this approval is already ${approval.state}`);
      },
    },
  );

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
        if (!BEFORE_IMPLEMENTATION.includes(state)) throw refuse('state', `the scope cannot change once the change is in ${state}`);
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
        if (implementationStarted || !(BEFORE_IMPLEMENTATION.includes(state) || state === 'implement')) {
          throw refuse('cancel_after_start', 'implementation has started: record its outcome instead of cancelling');
        }
      },
    },
  );

  setHandler(
    implementationUpdate,
    async (command) => {
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
        if (state !== 'implement') throw refuse('state', `implementation can be recorded in implement, not in ${state}`);
        if (command.event === 'started' && implementationStarted) throw refuse('implementation_order', 'implementation has already started');
        if (command.event !== 'started' && !implementationStarted) throw refuse('implementation_order', 'record that implementation started first');
        if (implementationEnd) throw refuse('implementation_order', 'the implementation outcome is already recorded');
      },
    },
  );

  setHandler(
    reviewUpdate,
    async (command) => {
      review = command;
      await condition(() => state === 'closed');
      return status();
    },
    {
      validator: (_review) => {
        if (state !== 'review') throw refuse('state', `a review is recorded in review, not in ${state}`);
        if (review) throw refuse('implementation_order', 'the review is already recorded');
      },
    },
  );

  const interrupted = () => cancellation !== null || scopeRevised;

  async function runStep(planned: PlannedStep): Promise<Authorization> {
    const openedAt = Date.now();
    let dueAt = openedAt + timings.deadlineMs;
    const stepKey = `r${revision}:step${planned.index}`;
    const opened = await activities.openApprovalStep({ ...base(`${stepKey}:open`), revision, step: planned, dueAt: new Date(dueAt).toISOString() });
    if (opened.length === 0) return 'rejected';
    const active: ActiveStep = {
      planned,
      dueAt,
      approvals: opened.map((a) => ({ ...a, escalatedFromId: null, state: 'requested' })),
      decisions: [],
    };
    step = active;
    const sendTask = (approvalId: string, kind: 'task' | 'reminder') =>
      activities.sendApprovalTask({ idempotencyKey: `${workflowId}:approval:${approvalId}:${kind}`, approvalId, kind });
    await Promise.all(active.approvals.map((a) => sendTask(a.approvalId, 'task')));

    const pending = () => active.approvals.filter((a) => a.state === 'requested');
    async function escalatePending(round: number): Promise<void> {
      for (const approval of pending()) {
        const replacement = await activities.escalateApproval({
          idempotencyKey: `${workflowId}:approval:${approval.approvalId}:escalate${round}`,
          approvalId: approval.approvalId,
          dueAt: new Date(active.dueAt).toISOString(),
        });
        if (!replacement) continue;
        approval.state = 'escalated';
        active.approvals.push({ ...replacement, escalatedFromId: approval.approvalId, state: 'requested' });
        await sendTask(replacement.approvalId, 'task');
      }
    }

    const timers = [
      { at: openedAt + timings.reminderAfterMs, fire: () => Promise.all(pending().map((a) => sendTask(a.approvalId, 'reminder'))) },
      { at: openedAt + timings.escalationAfterMs, fire: () => escalatePending(1) },
    ];
    let extended = false;
    for (;;) {
      const outcome = outcomeOf(active);
      if (outcome !== 'pending' || interrupted()) {
        await activities.closeOpenApprovals({ ...base(`${stepKey}:close`), revision, step: planned.index, to: interrupted() ? 'cancelled' : 'skipped' });
        for (const a of pending()) a.state = interrupted() ? 'cancelled' : 'skipped';
        return interrupted() ? 'interrupted' : outcome === 'approved' ? 'approved' : 'rejected';
      }
      const next = timers[0]?.at ?? active.dueAt;
      const woken = await condition(() => outcomeOf(active) !== 'pending' || interrupted(), Math.max(1, next - Date.now()));
      if (woken) continue;
      const timer = timers.shift();
      if (timer) {
        await timer.fire();
      } else if (planned.onExpiry === 'escalate' && !extended) {
        extended = true;
        active.dueAt = dueAt = Date.now() + timings.deadlineMs;
        await escalatePending(2);
      } else {
        await activities.closeOpenApprovals({ ...base(`${stepKey}:expire`), revision, step: planned.index, to: 'expired' });
        for (const a of pending()) a.state = 'expired';
        return 'rejected';
      }
    }
  }

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
    for (const planned of plan) {
      const result = await runStep(planned);
      if (result !== 'approved') return result;
    }
    return 'approved';
  }

  async function close(code: CloseCode, actor: string, detail: string): Promise<void> {
    step = null;
    await moveTo('closed', actor, { detail }, code);
    await activities.notifyRequester({ ...base('notice:outcome'), notice: { kind: 'outcome', closeCode: code, detail } });
  }

  await activities.notifyRequester({ ...base('notice:receipt'), notice: { kind: 'receipt' } });

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
    step = null;
    if (authorization === 'interrupted') continue;
    if (authorization === 'rejected') {
      outcome = 'rejected';
      break;
    }
    await activities.notifyRequester({
      ...base(`r${revision}:notice:approved`),
      notice: { kind: 'decision', decision: 'approved', detail: assessment.model ? `approved by the standard change model "${assessment.model.name}"` : 'approved by every approval step' },
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
    await activities.closeOpenApprovals({ ...base('cancel:approvals'), revision, to: 'cancelled' });
    await close('cancelled', actorEmail, reason);
  } else if (outcome === 'rejected') {
    await activities.notifyRequester({
      ...base(`r${revision}:notice:rejected`),
      notice: { kind: 'decision', decision: 'rejected', detail: 'an approval step rejected the change or ran out of time' },
    });
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

  await condition(allHandlersFinished);
  return { changeId, closeCode: closeCode! };
}
