/**
 * Approvals as every process has them: what can be approved, and who may decide an approval now.
 * The API asks first, so that a wrong click gets a plain answer without waking the workflow; the
 * workflow's validator asks again against its own state, and both answer with the same refusal.
 */

export const APPROVAL_SUBJECT_TYPES = ['change_request', 'purchase_request'] as const;
export type ApprovalSubjectType = (typeof APPROVAL_SUBJECT_TYPES)[number];

export interface DecisionRefusal {
  rule: 'not_in_step' | 'already_decided' | 'approval_moved' | 'not_the_approver' | 'segregation_of_duties';
  message: string;
  /** The approval's state, when it was already decided. */
  state?: string;
}

export interface ApprovalToDecide {
  approverId: string;
  state: string;
  /** For a friendlier refusal; the workflow knows ids only. */
  approverName?: string;
  decidedAt?: string | null;
  /** Who took the approval over when it moved (state reassigned: its approver was deactivated). */
  movedToName?: string | null;
}

/**
 * Why `actorId` may not decide `approval` (undefined: not part of the step the request waits for),
 * or null when they may. The requester is refused first: no one approves their own request, even
 * one assigned to them by mistake.
 */
export function decisionRefusal(actorId: string, requesterId: string, approval: ApprovalToDecide | undefined): DecisionRefusal | null {
  if (actorId === requesterId) return { rule: 'segregation_of_duties', message: 'a requester never approves their own request' };
  if (!approval) return { rule: 'not_in_step', message: 'this approval is not part of the step the request waits for' };
  if (approval.approverId !== actorId) {
    return { rule: 'not_the_approver', message: `this approval is assigned to ${approval.approverName ?? 'someone else'}` };
  }
  if (approval.state === 'reassigned') {
    const to = approval.movedToName ? ` to ${approval.movedToName}` : '';
    return { rule: 'approval_moved', message: `this approval moved${to}: its approver is no longer active; nothing was changed`, state: approval.state };
  }
  if (approval.state !== 'requested') {
    const when = approval.decidedAt ? ` on ${approval.decidedAt}` : '';
    return { rule: 'already_decided', message: `this approval is already ${approval.state}${when}; nothing was changed`, state: approval.state };
  }
  return null;
}
