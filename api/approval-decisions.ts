import { randomUUID } from 'node:crypto';
import type { Client } from '@temporalio/client';
import type { Knex } from 'knex';
import type { Decision } from '../domain/approval-routing';
import { verifyApprovalToken } from '../platform/approval-links';
import { requesterOf } from '../model/approval-subjects';
import { decideUpdate, type DecisionOutcome } from '../workflows/approvals/contract';
import { HttpError, conflict, notFound } from './errors';

export interface DecisionRequest {
  approvalId: string;
  actorId: string;
  decision: Decision;
  comment?: string;
  via: 'link' | 'api';
}

/**
 * Checks a decision against the approval row first, so that a second click, the wrong person or
 * the requester get a plain answer without waking the workflow; the workflow checks again.
 */
export async function decideApproval(db: Knex, temporal: Client, request: DecisionRequest): Promise<DecisionOutcome> {
  const approval = await db('approvals as a')
    .join('people as p', 'p.id', 'a.approver_id')
    .where('a.id', request.approvalId)
    .first('a.*', 'p.name as approver_name');
  if (!approval) throw notFound(`no approval ${request.approvalId}`);
  if ((await requesterOf(db, approval.subject_type, approval.subject_id)) === request.actorId) {
    throw new HttpError(403, 'segregation_of_duties', 'a requester never approves their own request');
  }
  if (approval.approver_id !== request.actorId) {
    throw new HttpError(403, 'not_the_approver', `this approval is assigned to ${approval.approver_name}`);
  }
  if (approval.state !== 'requested') {
    const when = approval.decided_at ? ` on ${(approval.decided_at as Date).toISOString()}` : '';
    throw conflict('already_decided', `this approval is already ${approval.state}${when}; nothing was changed`, { state: approval.state });
  }
  const actor = await db('people').where({ id: request.actorId }).first('email');
  return temporal.workflow.getHandle(approval.workflow_id).executeUpdate(decideUpdate, {
    args: [{ approvalId: request.approvalId, actorId: request.actorId, actorEmail: actor.email, decision: request.decision, comment: request.comment, via: request.via }],
    // A fresh id each time: a repeated click must be refused, not answered with the first result.
    updateId: randomUUID(),
  });
}

/** The approver a link speaks for, once its signature, expiry and approval are checked. */
export function approverFromLink(secret: string, approvalId: string, token: string | undefined): string {
  if (!token) throw new HttpError(403, 'invalid_link', 'the link has no token; open the link from your email as it is');
  const check = verifyApprovalToken(secret, token);
  if (!check.ok) {
    if (check.reason === 'expired') {
      throw new HttpError(410, 'link_expired', `this link expired at ${new Date(check.claims!.expiresAt).toISOString()}; nothing was changed`);
    }
    throw new HttpError(403, 'invalid_link', 'this link is not valid (it was altered or not issued by assetflow); nothing was changed');
  }
  if (check.claims.approvalId !== approvalId) {
    throw new HttpError(403, 'invalid_link', 'this link belongs to another approval; nothing was changed');
  }
  return check.claims.approverId;
}
