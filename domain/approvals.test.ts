import { decisionRefusal } from './approvals';

const approval = { approverId: 'ann', state: 'requested', approverName: 'Ann Approver' };

describe('decisionRefusal', () => {
  it('lets the assigned approver decide an open approval', () => {
    expect(decisionRefusal('ann', 'rex', approval)).toBeNull();
  });

  it('refuses the requester first, even on an approval assigned to them', () => {
    expect(decisionRefusal('rex', 'rex', { ...approval, approverId: 'rex' })?.rule).toBe('segregation_of_duties');
    expect(decisionRefusal('rex', 'rex', undefined)?.rule).toBe('segregation_of_duties');
  });

  it('refuses an approval outside the step the request waits for', () => {
    expect(decisionRefusal('ann', 'rex', undefined)).toEqual({
      rule: 'not_in_step', message: 'this approval is not part of the step the request waits for',
    });
  });

  it('names the assigned approver when it knows them', () => {
    expect(decisionRefusal('bob', 'rex', approval)?.message).toBe('this approval is assigned to Ann Approver');
    expect(decisionRefusal('bob', 'rex', { approverId: 'ann', state: 'requested' })?.message).toBe('this approval is assigned to someone else');
  });

  it('refuses a second decision with the state of the first, and no raw instant in the words shown to people', () => {
    expect(decisionRefusal('ann', 'rex', { ...approval, state: 'approved' })).toEqual({
      rule: 'already_decided',
      message: 'this approval is already approved; nothing was changed',
      state: 'approved',
    });
    expect(decisionRefusal('ann', 'rex', { ...approval, state: 'escalated' })?.message).toBe('this approval is already escalated; nothing was changed');
  });

  it('refuses an approval that moved when its approver was deactivated, saying to whom', () => {
    expect(decisionRefusal('ann', 'rex', { ...approval, state: 'reassigned', movedToName: 'Mark Manager' })).toEqual({
      rule: 'approval_moved',
      message: 'this approval moved to Mark Manager: its approver is no longer active; nothing was changed',
      state: 'reassigned',
    });
    expect(decisionRefusal('ann', 'rex', { ...approval, state: 'reassigned' })?.message).toBe('this approval moved: its approver is no longer active; nothing was changed');
    expect(decisionRefusal('ann', 'rex', { ...approval, state: 'reassigned', approverActive: true })?.message).toBe('this approval moved: a process owner reassigned it; nothing was changed');
  });

  it('checks the approver before the state: a stranger learns nothing about the decision', () => {
    expect(decisionRefusal('bob', 'rex', { ...approval, state: 'approved' })?.rule).toBe('not_the_approver');
  });
});
