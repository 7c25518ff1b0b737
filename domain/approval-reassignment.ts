/**
 * A process owner moving a pending approval to someone else by hand: the same people are refused
 * as when a deactivated approver's task is handed over (handoverTarget in approval-routing.ts).
 * The API asks first for a plain answer; the workflow's validator asks again with what it knows,
 * and the moving activity once more under lock, so a refusal reads the same wherever it is found.
 */

export interface ReassignmentRefusal {
  rule: 'not_in_step' | 'not_pending' | 'unknown_person' | 'target_inactive' | 'segregation_of_duties' | 'already_in_step';
  message: string;
}

/** The approval states that still count in a step: someone holding one of them is in it, and may not be added again. */
export const COUNTING_APPROVAL_STATES: readonly string[] = ['requested', 'approved', 'rejected'];

export interface ReassignmentFacts {
  /** The approval to move; undefined when the process has no such approval in the step it waits on. */
  approval: { state: string } | undefined;
  requesterId: string | null;
  /** The person asking for the move; null when nobody in the directory has the email it came with. */
  actorId: string | null;
  /** The person it would move to; undefined when nobody has that id. Unknown `active` is checked later. */
  target: { id: string; name: string; active?: boolean } | undefined;
  /** People who hold an approval in the step that still counts (asked, approved or rejected), its current approver included. */
  inStepIds: readonly string[];
}

/** Why the approval may not move to anyone (it is not in the open step, or no longer pending), or null. */
export function unmovableApproval(approval: ReassignmentFacts['approval']): ReassignmentRefusal | null {
  if (!approval) return { rule: 'not_in_step', message: 'this approval is not part of the step the process waits on' };
  if (approval.state !== 'requested') {
    return { rule: 'not_pending', message: `this approval is already ${approval.state}: only a pending approval can be reassigned; nothing was changed` };
  }
  return null;
}

/** Why the approval may not move to the target, or null when it may. */
export function reassignmentRefusal(facts: ReassignmentFacts): ReassignmentRefusal | null {
  const { target } = facts;
  const unmovable = unmovableApproval(facts.approval);
  if (unmovable) return unmovable;
  // Choosing who approves one's own request is as good as approving it.
  if (facts.actorId !== null && facts.actorId === facts.requesterId) {
    return { rule: 'segregation_of_duties', message: 'you requested this, so you may not choose who approves it: ask another process owner or an admin; nothing was changed' };
  }
  if (!target) return { rule: 'unknown_person', message: 'nobody has this id: choose an active person' };
  if (target.active === false) return { rule: 'target_inactive', message: `${target.name} is no longer active: choose an active person; nothing was changed` };
  if (target.id === facts.requesterId) {
    return { rule: 'segregation_of_duties', message: `${target.name} requested this and may not approve it: choose someone else; nothing was changed` };
  }
  if (facts.inStepIds.includes(target.id)) {
    return { rule: 'already_in_step', message: `${target.name} already holds an approval in this step, and would count twice: choose someone else; nothing was changed` };
  }
  return null;
}
