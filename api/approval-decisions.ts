import { randomUUID } from 'node:crypto';
import type { Client } from '@temporalio/client';
import { z } from 'zod';
import type { Database } from '../platform/database';
import type { Decision } from '../domain/approval-routing';
import { decisionRefusal } from '../domain/approvals';
import { verifyApprovalToken } from '../platform/approval-links';
import { findApprovalWithApprover } from '../model/approvals';
import { requesterOf } from '../model/approval-subjects';
import { emailOf, isActivePerson } from '../model/directory';
import { decideUpdate, type DecisionOutcome } from '../workflows/approvals/contract';
import { caseRecordIds, proposedSurvivorOf } from '../model/reconciliation/cases';
import { HttpError, approvalRefused, badRequest, notFound } from './errors';
import { commandWithinDeadline } from './workflow-calls';

/** A decision as a person sends it, from the API or a page: approve or reject, with an optional comment. */
export const decisionBody = z.strictObject({ decision: z.enum(['approved', 'rejected']), comment: z.string().trim().max(2000).optional() });

/** What a steward's decision does with a case (approve merges; reject keeps both, or ignores the row), and the record a merge keeps. */
export const caseResolutionFields = {
  resolution: z.enum(['merge', 'keep_both', 'ignore']).optional(),
  survivorCiId: z.uuid().optional(),
};

export interface DecisionRequest {
  approvalId: string;
  actorId: string;
  decision: Decision;
  comment?: string;
  via: 'link' | 'api';
  /** Steward cases only. */
  resolution?: 'merge' | 'keep_both' | 'ignore';
  /** Steward cases only, with a merge. */
  survivorCiId?: string;
}

/** A form that names only a resolution (a steward case's radio buttons) decides as the resolution says: merge approves, the others reject. */
export function withDecisionOfResolution(body: unknown): Record<string, unknown> {
  const fields = { ...(body && typeof body === 'object' ? body as Record<string, unknown> : {}) };
  if (fields.decision === undefined && typeof fields.resolution === 'string') fields.decision = fields.resolution === 'merge' ? 'approved' : 'rejected';
  return fields;
}

/** A resolution fits its decision and its subject: only a steward case has one, approve merges, reject keeps both or ignores. */
async function checkResolution(db: Database, approval: { subject_type: string; subject_id: string }, request: DecisionRequest): Promise<void> {
  const { resolution, survivorCiId } = request;
  if (approval.subject_type !== 'reconciliation_case') {
    if (resolution || survivorCiId) throw badRequest('resolution and survivorCiId are for data steward cases only', [{ path: resolution ? 'resolution' : 'survivorCiId', message: 'not a steward case' }]);
    return;
  }
  const merges = request.decision === 'approved';
  if (resolution && (resolution === 'merge') !== merges) {
    throw badRequest(`resolution: ${merges ? 'approving merges the records' : 'rejecting keeps both or ignores'}`, [{ path: 'resolution', message: `does not go with ${request.decision}` }]);
  }
  if (survivorCiId) {
    if (!merges) throw badRequest('survivorCiId: only a merge keeps one record', [{ path: 'survivorCiId', message: 'only with a merge' }]);
    const records = await caseRecordIds(db, approval.subject_id);
    if (!records?.includes(survivorCiId)) throw badRequest('survivorCiId: not one of the case\'s records', [{ path: 'survivorCiId', message: 'not one of the case\'s records' }]);
  }
}

/**
 * Checks a decision against the approval row first, so that a second click, the wrong person or
 * the requester get a plain answer without waking the workflow; the workflow checks again.
 */
export async function decideApproval(db: Database, temporal: Client, request: DecisionRequest): Promise<DecisionOutcome> {
  const approval = await findApprovalWithApprover(db, request.approvalId);
  if (!approval) throw notFound(`no approval ${request.approvalId}`);
  const requesterId = await requesterOf(db, approval.subject_type, approval.subject_id);
  const refusal = decisionRefusal(request.actorId, requesterId ?? '', {
    approverId: approval.approver_id,
    approverName: approval.approver_name,
    state: approval.state,
    movedToName: approval.moved_to_name,
    approverActive: approval.approver_active,
  });
  if (refusal) throw approvalRefused(refusal);
  await checkResolution(db, approval, request);
  // A merge approved without a choice keeps the record the steward was shown as staying, not one chosen later.
  const survivorCiId = request.survivorCiId
    ?? (approval.subject_type === 'reconciliation_case' && request.decision === 'approved' ? await proposedSurvivorOf(db, approval.subject_id) : undefined);
  // Keys and sessions of an inactive person fail already; a link is the one credential left to refuse.
  if (!(await isActivePerson(db, request.actorId))) throw approverInactive(approval.approver_name);
  const actorEmail = (await emailOf(db, request.actorId))!;
  return commandWithinDeadline(temporal, 'deciding the approval', () =>
    temporal.workflow.getHandle(approval.workflow_id).executeUpdate(decideUpdate, {
      args: [{
        approvalId: request.approvalId, actorId: request.actorId, actorEmail, decision: request.decision, comment: request.comment, via: request.via,
        ...(request.resolution ? { resolution: request.resolution } : {}),
        ...(survivorCiId ? { survivorCiId } : {}),
      }],
      // A fresh id each time: a repeated click must be refused, not answered with the first result.
      updateId: randomUUID(),
    }), 'it may still be recorded: look at the approval before deciding again');
}

const approverInactive = (name: string) =>
  new HttpError(410, 'approver_inactive', `${name} is no longer active, so this link no longer works; their open approvals move to someone else. Nothing was changed`);

/**
 * Refuses a link that can no longer be used although it is genuine: its approval moved to someone
 * else (409), or its approver is no longer active (410). The page then says so instead of offering
 * a decision.
 */
export async function refuseLinkOfMovedApproval(db: Database, approvalId: string, approverId: string): Promise<void> {
  const approval = await findApprovalWithApprover(db, approvalId);
  if (!approval) return;
  if (approval.state === 'reassigned') {
    throw approvalRefused(decisionRefusal(approverId, '', { approverId: approval.approver_id, state: approval.state, movedToName: approval.moved_to_name, approverActive: approval.approver_active })!);
  }
  if (approval.approver_id === approverId && !approval.approver_active) throw approverInactive(approval.approver_name);
}

/** The approver a link speaks for, once its signature, expiry and approval are checked. */
export function approverFromLink(secret: string, approvalId: string, token: string | undefined): string {
  if (!token) throw new HttpError(403, 'invalid_link', 'the link has no token; open the link from your email as it is');
  const check = verifyApprovalToken(secret, token);
  if (!check.ok) {
    if (check.reason === 'expired') {
      throw new HttpError(410, 'link_expired', 'this link has expired; nothing was changed', { expiresAt: new Date(check.claims!.expiresAt).toISOString() });
    }
    throw new HttpError(403, 'invalid_link', 'this link is not valid (it was altered or not issued by assetflow); nothing was changed');
  }
  if (check.claims.approvalId !== approvalId) {
    throw new HttpError(403, 'invalid_link', 'this link belongs to another approval; nothing was changed');
  }
  return check.claims.approverId;
}
