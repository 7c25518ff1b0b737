/**
 * What process owners (and admins) do to a process: remind the approvers it waits for (nudge), and
 * move a pending approval to someone else (reassign). The JSON API and the process page call these
 * alike, so a refusal reads the same in both; the workflow's step runner does the work.
 */
import type { Client } from '@temporalio/client';
import { COUNTING_APPROVAL_STATES, reassignmentRefusal } from '../domain/approval-reassignment';
import { approvalsOf } from '../model/approvals';
import { listPeople } from '../model/directory';
import { findProcess } from '../model/processes';
import type { Database } from '../platform/database';
import { nudgeApproversUpdate, reassignApprovalUpdate } from '../workflows/approvals/contract';
import type { Principal } from './auth';
import { conflict, notFound, reassignmentRefused } from './errors';
import { commandWithinDeadline } from './workflow-calls';

const nothingWaits = () => conflict('nothing_pending', 'no approval of this process waits for anyone: there is nobody to remind');

export interface NudgeAnswer {
  workflowId: string;
  nudged: { approvalId: string; approver: { id: string; name: string; email: string | null } }[];
}

async function openProcess(db: Database, workflowId: string) {
  const process = await findProcess(db, workflowId);
  if (!process) throw notFound(`no process ${workflowId}`);
  return process;
}

/**
 * Resends the task email, as a reminder, to every approver with a pending approval of the process;
 * 409 when nothing waits for anyone. `commandId` names the nudge: sent again, it is answered with
 * the first outcome and emails nobody twice.
 */
export async function nudgeProcess(db: Database, temporal: Client, workflowId: string, actor: Principal, commandId: string): Promise<NudgeAnswer> {
  const process = await openProcess(db, workflowId);
  const approvals = await approvalsOf(db, process.subjectId);
  // Asked of the rows first, so that a process with nothing pending (an asset, a finished one) does not wake its workflow.
  if (process.finishedAt || !approvals.some((a) => a.state === 'requested')) throw nothingWaits();
  const outcome = await commandWithinDeadline(temporal, 'reminding the approvers', () =>
    temporal.workflow.getHandle(process.workflowId).executeUpdate(nudgeApproversUpdate, {
      args: [{ nudgeId: commandId, actorEmail: actor.email }],
      updateId: `nudge:${commandId}`,
    }), 'the reminders may still be sent: look at the process before asking again');
  const names = new Map(approvals.map((a) => [a.approver.id, a.approver.name]));
  return {
    workflowId: process.workflowId,
    nudged: outcome.nudged.map((n) => ({ approvalId: n.approvalId, approver: { id: n.approverId, name: names.get(n.approverId) ?? '', email: n.approverEmail } })),
  };
}

export interface ReassignRequest {
  approvalId: string;
  toPersonId: string;
  reason: string;
}

export interface ReassignAnswer {
  workflowId: string;
  approvalId: string;
  newApprovalId: string;
  from: { id: string; name: string };
  to: { id: string; name: string };
}

/**
 * Moves a pending approval of the process to another active person, as a deactivated approver's is
 * handed over; refused (nothing changed) when it is not pending or the person may not take it.
 */
export async function reassignProcessApproval(
  db: Database,
  temporal: Client,
  workflowId: string,
  request: ReassignRequest,
  actor: Principal,
  commandId: string,
): Promise<ReassignAnswer> {
  const process = await openProcess(db, workflowId);
  const approvals = await approvalsOf(db, process.subjectId);
  const approval = approvals.find((a) => a.id === request.approvalId);
  if (!approval) throw notFound(`process ${process.workflowId} has no approval ${request.approvalId}`);
  const target = await db('people').where({ id: request.toPersonId }).first('id', 'name', 'active');
  const inStep = approvals.filter((a) => a.revision === approval.revision && a.step === approval.step && COUNTING_APPROVAL_STATES.includes(a.state)).map((a) => a.approver.id);
  const refusal = reassignmentRefusal({ approval, requesterId: process.requester?.id ?? null, actorId: actor.id, target, inStepIds: inStep });
  if (refusal) throw reassignmentRefused(refusal);
  const outcome = await commandWithinDeadline(temporal, 'reassigning the approval', () =>
    temporal.workflow.getHandle(process.workflowId).executeUpdate(reassignApprovalUpdate, {
      args: [{ reassignmentId: commandId, approvalId: request.approvalId, toPersonId: request.toPersonId, reason: request.reason, actorEmail: actor.email }],
      updateId: `reassign:${commandId}`,
    }), 'it may still be moved: look at the process before asking again');
  return {
    workflowId: process.workflowId,
    approvalId: outcome.approvalId,
    newApprovalId: outcome.newApprovalId,
    from: { id: approval.approver.id, name: approval.approver.name },
    to: { id: target!.id, name: target!.name },
  };
}

/** Most people the process page suggests to move an approval to: the list helps typing, it does not limit who may take it. */
const SUGGESTED_PEOPLE = 50;

/** Active approvers by name, suggested on the process page as the email of whom to move an approval to. */
export async function reassignSuggestions(db: Database): Promise<{ name: string; email: string }[]> {
  const page = await listPeople(db, { active: true, role: 'approver' }, { limit: SUGGESTED_PEOPLE, offset: 0 });
  return page.items.map((p) => ({ name: p.name, email: p.email }));
}

/** The id of whoever has this email (in any letter case), active or not: whether they may take an approval is the rule's to say. */
export async function personIdByEmail(db: Database, email: string): Promise<string | undefined> {
  const row = await db('people').whereRaw('lower(email) = lower(?)', [email.trim()]).first('id');
  return row?.id;
}
