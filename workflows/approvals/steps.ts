import { ApplicationFailure, condition, patched, proxyActivities, setHandler, upsertSearchAttributes } from '@temporalio/workflow';
import type { ApprovalActivities } from '../../activities/approvals';
import { stepOutcome, type Decision, type PlannedStep, type StepOutcome } from '../../domain/approval-routing';
import { decisionRefusal } from '../../domain/approvals';
import { waitingForKey } from '../search-attributes';
import {
  ApprovalFailure,
  decideUpdate,
  type ApprovalRefusal,
  type ApprovalSubjectType,
  type ApprovalTimings,
  type ApprovalView,
  type StepView,
} from './contract';

const activities = proxyActivities<ApprovalActivities>({
  startToCloseTimeout: '30 seconds',
  retry: { initialInterval: '1 second', maximumInterval: '30 seconds', backoffCoefficient: 2 },
});

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
  const { workflowId, subjectType, subjectId, timings } = options;
  let step: ActiveStep | null = null;

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
        throw refuse(decisionRefusal(command.actorId, options.requesterId, approval)!);
      }
      active.decisions.push(command.decision);
      showWaitingFor();
      return { approvalId: command.approvalId, decision: command.decision, stepOutcome: outcomeOf(active), state: options.state() };
    },
    {
      validator: (command) => {
        const approval = step?.approvals.find((a) => a.approvalId === command.approvalId);
        const refusal = decisionRefusal(command.actorId, options.requesterId, approval);
        if (refusal) throw refuse(refusal);
      },
    },
  );

  async function runStep(planned: PlannedStep, revision: number): Promise<Authorization> {
    const openedAt = Date.now();
    const stepKey = `${workflowId}:r${revision}:step${planned.index}`;
    const subject = { workflowId, subjectType, subjectId, revision };
    const opened = await activities.openApprovalStep({
      ...subject,
      idempotencyKey: `${stepKey}:open`,
      step: planned,
      dueAt: new Date(openedAt + timings.deadlineMs).toISOString(),
    });
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
        showWaitingFor();
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
      if (outcome !== 'pending' || options.interrupted()) {
        const to = options.interrupted() ? 'cancelled' : 'skipped';
        await activities.closeOpenApprovals({ ...subject, idempotencyKey: `${stepKey}:close`, step: planned.index, to });
        for (const a of pending()) a.state = to;
        showWaitingFor();
        return options.interrupted() ? 'interrupted' : outcome === 'approved' ? 'approved' : 'rejected';
      }
      const next = timers[0]?.at ?? active.dueAt;
      const woken = await condition(() => outcomeOf(active) !== 'pending' || options.interrupted(), Math.max(1, next - Date.now()));
      if (woken) continue;
      const timer = timers.shift();
      if (timer) {
        await timer.fire();
      } else if (planned.onExpiry === 'escalate' && !extended) {
        extended = true;
        active.dueAt = Date.now() + timings.deadlineMs;
        await escalatePending(2);
      } else {
        await activities.closeOpenApprovals({ ...subject, idempotencyKey: `${stepKey}:expire`, step: planned.index, to: 'expired' });
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
      return activities.closeOpenApprovals({ workflowId, subjectType, subjectId, revision, idempotencyKey, to: 'cancelled' });
    },
    currentStep: (): StepView | null => (step ? view(step) : null),
    waitingFor: (): string[] => (step ? step.approvals.filter((a) => a.state === 'requested').map((a) => a.approverId) : []),
  };
}
