import { ApplicationFailure, condition, patched, proxyActivities, setHandler, upsertSearchAttributes } from '@temporalio/workflow';
import type { ApprovalActivities } from '../../activities/approvals';
import type { ProcessOwnerActivities } from '../../activities/process-owners';
import { stepOutcome, type Decision, type PlannedStep, type StepOutcome } from '../../domain/approval-routing';
import { unmovableApproval } from '../../domain/approval-reassignment';
import { decisionRefusal } from '../../domain/approvals';
import { DATABASE_STEP } from '../activity-options';
import type { AttentionGuard } from '../attention/guard';
import { waitingForKey } from '../search-attributes';
import {
  ApprovalFailure,
  approverDeactivatedSignal,
  decideUpdate,
  nudgeApproversUpdate,
  reassignApprovalUpdate,
  type ApprovalRefusal,
  type ApprovalSubjectType,
  type ApprovalTimings,
  type ApprovalView,
  type DecisionCommand,
  type StepView,
} from './contract';

const activities = proxyActivities<ApprovalActivities & ProcessOwnerActivities>(DATABASE_STEP);

/**
 * Histories in which a process owner nudged or reassigned carry this marker: the commands those
 * updates run exist only in them, and a later change to how they run can tell them apart.
 */
const PROCESS_OWNER_COMMANDS = 'process-owner-nudge-and-reassign';

/**
 * How long a decision on an approval the workflow is still opening waits for the workflow to know
 * it: the row is visible (an inbox, a link) a moment before the opening activity has reported back.
 */
const DECISION_WAITS_FOR_OPENING_MS = 60_000;

function refuse(refusal: ApprovalRefusal): ApplicationFailure {
  return ApplicationFailure.create({ type: ApprovalFailure.refused, message: refusal.message, details: [refusal], nonRetryable: true });
}

export type Authorization = 'approved' | 'rejected' | 'interrupted';

export interface ApprovalStepsOptions {
  workflowId: string;
  subjectType: ApprovalSubjectType;
  subjectId: string;
  requesterId: string;
  timings: ApprovalTimings;
  /** True when the subject was cancelled or changed: the open step ends and its approvals are cancelled. */
  interrupted: () => boolean;
  /** The subject's state, reported with each decision. */
  state: () => string;
  /** Runs the workflow's own steps: a stalled one waits for attention, bad data ends the subject. */
  guard: AttentionGuard;
}

interface ActiveStep {
  planned: PlannedStep;
  dueAt: number;
  approvals: ApprovalView[];
  decisions: Decision[];
}

/**
 * Runs approval steps in order for the workflow that calls it, and answers the `decide` update:
 * each step emails its approvers, then waits for enough decisions, reminding, escalating to the
 * approvers' managers and finally ending the step as its rule says when nobody answers in time.
 */
export function approvalSteps(options: ApprovalStepsOptions) {
  const { workflowId, subjectType, subjectId, timings, guard } = options;
  let step: ActiveStep | null = null;
  // Approval rows being created (a step opening, an escalation) that the workflow does not know yet.
  let opening = 0;
  async function whileOpening<T>(work: () => Promise<T>): Promise<T> {
    opening += 1;
    try {
      return await work();
    } finally {
      opening -= 1;
    }
  }
  const known = (approvalId: string) => step?.approvals.find((a) => a.approvalId === approvalId);
  // The decision that ended the last step run (not every decision does: an "all" step needs several).
  let deciding: DecisionCommand | null = null;

  /** Keeps the AssetflowWaitingFor search attribute on the approvers still to decide. */
  let waitingShown = '';
  function showWaitingFor(): void {
    // Histories recorded before this attribute existed replay without it.
    if (!patched('waiting-for-search-attribute')) return;
    const emails = step ? step.approvals.filter((a) => a.state === 'requested' && a.approverEmail).map((a) => a.approverEmail!) : [];
    const shown = emails.join(',');
    if (shown === waitingShown) return;
    waitingShown = shown;
    upsertSearchAttributes([{ key: waitingForKey, value: emails }]);
  }

  const outcomeOf = (s: ActiveStep): StepOutcome =>
    stepOutcome({ policy: s.planned.policy, required: s.planned.required, approverCount: s.planned.approvers.length }, s.decisions);

  setHandler(
    decideUpdate,
    async (command) => {
      if (!known(command.approvalId)) {
        await condition(() => known(command.approvalId) !== undefined || opening === 0, DECISION_WAITS_FOR_OPENING_MS);
        const refusal = decisionRefusal(command.actorId, options.requesterId, known(command.approvalId));
        if (refusal) throw refuse(refusal);
      }
      const active = step!;
      const approval = known(command.approvalId)!;
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
        throw refuse(decisionRefusal(command.actorId, options.requesterId, approval)!);
      }
      const wasPending = outcomeOf(active) === 'pending';
      active.decisions.push(command.decision);
      if (wasPending && outcomeOf(active) !== 'pending') deciding = command;
      showWaitingFor();
      return { approvalId: command.approvalId, decision: command.decision, stepOutcome: outcomeOf(active), state: options.state() };
    },
    {
      validator: (command) => {
        const refusal = decisionRefusal(command.actorId, options.requesterId, known(command.approvalId));
        // Not known yet while approvals are being opened: the handler waits until it is (the API checked the row).
        if (refusal && !(refusal.rule === 'not_in_step' && opening > 0)) throw refuse(refusal);
      },
    },
  );

  const nothingPending = () =>
    ApplicationFailure.create({ type: ApprovalFailure.nothingPending, message: 'no approval of this process waits for anyone: there is nobody to remind', nonRetryable: true });
  const pendingNow = () => (step ? step.approvals.filter((a) => a.state === 'requested') : []);

  setHandler(
    nudgeApproversUpdate,
    async (command) => {
      patched(PROCESS_OWNER_COMMANDS);
      const waiting = pendingNow();
      // The same task email, as a reminder; keyed by the nudge, so each nudge sends once.
      const sent = await Promise.all(waiting.map((a) =>
        activities.sendApprovalTask({ idempotencyKey: `${workflowId}:approval:${a.approvalId}:nudge:${command.nudgeId}`, approvalId: a.approvalId, kind: 'reminder' })));
      const nudged = waiting.filter((_, i) => sent[i]).map((a) => ({ approvalId: a.approvalId, approverId: a.approverId, approverEmail: a.approverEmail ?? null }));
      if (nudged.length === 0) throw nothingPending();
      await activities.recordNudge({ workflowId, subjectType, subjectId, idempotencyKey: `${workflowId}:nudge:${command.nudgeId}`, actor: command.actorEmail, nudged });
      return { nudged };
    },
    {
      validator: (_command) => {
        if (pendingNow().length === 0) throw nothingPending();
      },
    },
  );

  setHandler(
    reassignApprovalUpdate,
    async (command) => {
      patched(PROCESS_OWNER_COMMANDS);
      const active = step!;
      const approval = known(command.approvalId)!;
      // The database decides a race with a decision or an escalation: the move takes the row only while it is pending.
      const replacement = await whileOpening(() => activities.reassignApproval({
        idempotencyKey: `${workflowId}:approval:${command.approvalId}:reassign:${command.reassignmentId}`,
        approvalId: command.approvalId,
        toPersonId: command.toPersonId,
        reason: command.reason,
        actor: command.actorEmail,
        dueAt: new Date(active.dueAt).toISOString(),
      }));
      approval.state = 'reassigned';
      active.approvals.push({ ...replacement, escalatedFromId: null, reassignedFromId: approval.approvalId, state: 'requested' });
      showWaitingFor();
      await activities.sendApprovalTask({ idempotencyKey: `${workflowId}:approval:${replacement.approvalId}:task`, approvalId: replacement.approvalId, kind: 'task' });
      return { approvalId: approval.approvalId, newApprovalId: replacement.approvalId, fromPersonId: approval.approverId, toPersonId: replacement.approverId };
    },
    {
      validator: (command) => {
        // Who may take it is asked by the moving activity, under lock and with names.
        const refusal = unmovableApproval(known(command.approvalId));
        if (refusal) {
          throw ApplicationFailure.create({ type: ApprovalFailure.reassignmentRefused, message: refusal.message, details: [refusal], nonRetryable: true });
        }
      },
    },
  );

  // People deactivated while the workflow runs, in the order it heard of them: the open step hands
  // their approvals over between its other moves (escalation, reminders), never during one.
  const deactivated: string[] = [];
  setHandler(approverDeactivatedSignal, ({ personId }) => {
    if (!deactivated.includes(personId)) deactivated.push(personId);
  });

  async function runStep(planned: PlannedStep, revision: number): Promise<Authorization> {
    const openedAt = Date.now();
    const stepKey = `${workflowId}:r${revision}:step${planned.index}`;
    const subject = { workflowId, subjectType, subjectId, revision };
    const opened = await whileOpening(() => guard.run(`open approval step ${planned.index}`, () => activities.openApprovalStep({
      ...subject,
      idempotencyKey: `${stepKey}:open`,
      step: planned,
      dueAt: new Date(openedAt + timings.deadlineMs).toISOString(),
    })));
    if (opened.length === 0) return 'rejected';
    const active: ActiveStep = {
      planned,
      dueAt: openedAt + timings.deadlineMs,
      approvals: opened.map((a) => ({ ...a, escalatedFromId: null, state: 'requested' })),
      decisions: [],
    };
    step = active;
    showWaitingFor();
    const sendTask = (approvalId: string, kind: 'task' | 'reminder') =>
      guard.run(`send approval ${kind}`, () => activities.sendApprovalTask({ idempotencyKey: `${workflowId}:approval:${approvalId}:${kind}`, approvalId, kind }));
    await Promise.all(active.approvals.map((a) => sendTask(a.approvalId, 'task')));

    const pending = () => active.approvals.filter((a) => a.state === 'requested');
    async function escalatePending(round: number): Promise<void> {
      for (const approval of pending()) {
        const replacement = await whileOpening(() => guard.run('escalate approval', () => activities.escalateApproval({
          idempotencyKey: `${workflowId}:approval:${approval.approvalId}:escalate${round}`,
          approvalId: approval.approvalId,
          dueAt: new Date(active.dueAt).toISOString(),
        })));
        if (!replacement) continue;
        approval.state = 'escalated';
        active.approvals.push({ ...replacement, escalatedFromId: approval.approvalId, state: 'requested' });
        showWaitingFor();
        await sendTask(replacement.approvalId, 'task');
      }
    }

    async function handOverFromDeactivated(): Promise<void> {
      while (deactivated.length > 0) {
        const personId = deactivated.shift()!;
        for (const approval of pending().filter((a) => a.approverId === personId)) {
          const replacement = await whileOpening(() => guard.run('hand over approval', () => activities.handOverApproval({
            idempotencyKey: `${workflowId}:approval:${approval.approvalId}:handover`,
            approvalId: approval.approvalId,
            dueAt: new Date(active.dueAt).toISOString(),
          })));
          // None: decided meanwhile, or nobody can take it (the process owners were told).
          if (!replacement) continue;
          approval.state = 'reassigned';
          active.approvals.push({ ...replacement, escalatedFromId: null, reassignedFromId: approval.approvalId, state: 'requested' });
          showWaitingFor();
          await sendTask(replacement.approvalId, 'task');
        }
      }
    }

    const timers = [
      { at: openedAt + timings.reminderAfterMs, fire: () => Promise.all(pending().map((a) => sendTask(a.approvalId, 'reminder'))) },
      { at: openedAt + timings.escalationAfterMs, fire: () => escalatePending(1) },
    ];
    let extended = false;
    for (;;) {
      await handOverFromDeactivated();
      const outcome = outcomeOf(active);
      if (outcome !== 'pending' || options.interrupted()) {
        const to = options.interrupted() ? 'cancelled' : 'skipped';
        await guard.run('close approval step', () => activities.closeOpenApprovals({ ...subject, idempotencyKey: `${stepKey}:close`, step: planned.index, to }), { interruptible: false });
        for (const a of pending()) a.state = to;
        showWaitingFor();
        return options.interrupted() ? 'interrupted' : outcome === 'approved' ? 'approved' : 'rejected';
      }
      const next = timers[0]?.at ?? active.dueAt;
      const woken = await condition(() => outcomeOf(active) !== 'pending' || options.interrupted() || deactivated.length > 0, Math.max(1, next - Date.now()));
      if (woken) continue;
      const timer = timers.shift();
      if (timer) {
        await timer.fire();
      } else if (planned.onExpiry === 'escalate' && !extended) {
        extended = true;
        active.dueAt = Date.now() + timings.deadlineMs;
        await escalatePending(2);
      } else {
        await guard.run('expire approval step', () => activities.closeOpenApprovals({ ...subject, idempotencyKey: `${stepKey}:expire`, step: planned.index, to: 'expired' }));
        for (const a of pending()) a.state = 'expired';
        showWaitingFor();
        return 'rejected';
      }
    }
  }

  const view = (s: ActiveStep): StepView => ({
    index: s.planned.index,
    name: s.planned.name,
    policy: s.planned.policy,
    required: s.planned.required,
    onExpiry: s.planned.onExpiry,
    dueAt: new Date(s.dueAt).toISOString(),
    approvals: s.approvals,
    outcome: outcomeOf(s),
  });

  return {
    /** Runs the plan's steps in order until one does not approve. */
    async run(plan: PlannedStep[], revision: number): Promise<Authorization> {
      deciding = null;
      try {
        for (const planned of plan) {
          const result = await runStep(planned, revision);
          if (result !== 'approved') return result;
        }
        return 'approved';
      } finally {
        step = null;
      }
    },
    /** Ends every approval of the workflow still open, e.g. on cancellation. */
    closeAll(revision: number, idempotencyKey: string): Promise<number> {
      return guard.run('cancel open approvals', () => activities.closeOpenApprovals({ workflowId, subjectType, subjectId, revision, idempotencyKey, to: 'cancelled' }), { interruptible: false });
    },
    currentStep: (): StepView | null => (step ? view(step) : null),
    waitingFor: (): string[] => (step ? step.approvals.filter((a) => a.state === 'requested').map((a) => a.approverId) : []),
    /** The decision that ended the last step of the last run, as its approver sent it; null when time ended it. */
    decidedBy: (): DecisionCommand | null => deciding,
  };
}
