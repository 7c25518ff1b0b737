import { reassignmentRefusal, type ReassignmentFacts } from './approval-reassignment';

const facts: ReassignmentFacts = {
  approval: { state: 'requested' },
  requesterId: 'rex',
  actorId: 'pat',
  target: { id: 'tia', name: 'Tia Taker', active: true },
  inStepIds: ['ann', 'bob'],
};

describe('reassignmentRefusal', () => {
  it('lets a pending approval move to an active person outside the step who did not ask', () => {
    expect(reassignmentRefusal(facts)).toBeNull();
    expect(reassignmentRefusal({ ...facts, target: { id: 'tia', name: 'Tia Taker' } })).toBeNull();
  });

  it('refuses an approval the step does not hold, or one no longer pending', () => {
    expect(reassignmentRefusal({ ...facts, approval: undefined })?.rule).toBe('not_in_step');
    expect(reassignmentRefusal({ ...facts, approval: { state: 'approved' } })).toEqual({
      rule: 'not_pending',
      message: 'this approval is already approved: only a pending approval can be reassigned; nothing was changed',
    });
  });

  it('refuses nobody, an inactive person, the requester and someone already in the step, naming them', () => {
    expect(reassignmentRefusal({ ...facts, target: undefined })?.rule).toBe('unknown_person');
    expect(reassignmentRefusal({ ...facts, target: { ...facts.target!, active: false } })?.message).toBe('Tia Taker is no longer active: choose an active person; nothing was changed');
    expect(reassignmentRefusal({ ...facts, requesterId: 'tia' })?.rule).toBe('segregation_of_duties');
    expect(reassignmentRefusal({ ...facts, inStepIds: ['ann', 'tia'] })?.rule).toBe('already_in_step');
  });

  it('refuses the requester moving their own approval, to whomever, and lets anyone else or a caller outside the directory', () => {
    expect(reassignmentRefusal({ ...facts, actorId: 'rex' })).toEqual({
      rule: 'segregation_of_duties',
      message: 'you requested this, so you may not choose who approves it: ask another process owner or an admin; nothing was changed',
    });
    expect(reassignmentRefusal({ ...facts, actorId: 'rex', target: undefined })?.rule).toBe('segregation_of_duties');
    expect(reassignmentRefusal({ ...facts, actorId: null })).toBeNull();
    expect(reassignmentRefusal({ ...facts, actorId: null, requesterId: null })).toBeNull();
  });

  it('asks about the approval before the person, and about the requester before the step', () => {
    expect(reassignmentRefusal({ ...facts, approval: { state: 'expired' }, target: undefined })?.rule).toBe('not_pending');
    expect(reassignmentRefusal({ ...facts, requesterId: 'ann', target: { id: 'ann', name: 'Ann' } })?.rule).toBe('segregation_of_duties');
  });
});
