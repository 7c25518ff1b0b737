/**
 * Approvals as every process has them: what can be approved, and who may decide an approval now.
 * The API asks first, so that a wrong click gets a plain answer without waking the workflow; the
 * workflow's validator asks again against its own state, and both answer with the same refusal.
 */

export const APPROVAL_SUBJECT_TYPES = ['change_request', 'purchase_request', 'reconciliation_case', 'contract_renewal'] as const;
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
  /** Who took the approval over when it moved (state reassigned: its approver was deactivated, or a process owner moved it). */
  movedToName?: string | null;
  /** Whether its approver is active: an approval that moved from an active one was moved by a process owner. */
  approverActive?: boolean;
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
    const why = approval.approverActive ? 'a process owner reassigned it' : 'its approver is no longer active';
    return { rule: 'approval_moved', message: `this approval moved${to}: ${why}; nothing was changed`, state: approval.state };
  }
  // No time in the words: they are shown as they are, on pages and in notices, where an instant is
  // written in the reader's zone; the page with the approval shows when it was decided.
  if (approval.state !== 'requested') {
    return { rule: 'already_decided', message: `this approval is already ${approval.state}; nothing was changed`, state: approval.state };
  }
  return null;
}
