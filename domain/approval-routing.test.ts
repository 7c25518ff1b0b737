import { CRITICALITIES, type Criticality } from './change-impact';
import {
  MAX_ALTERNATIVES,
  MAX_CONDITION_DEPTH,
  applyDelegation,
  changeRoutingSubject,
  conditionAsks,
  escalationTarget,
  handoverTarget,
  isCriticalityAtLeast,
  planApprovalSteps,
  ruleApplies,
  ruleConditionFor,
  stepOutcome,
  unknownConditionKeys,
  unroutedOverBudget,
  type ApprovalPolicy,
  type ApprovalRule,
  type ApproverDirectory,
  type Decision,
  type HandoverFacts,
  type PlannedStep,
  type RoutingSubject,
  type RuleCondition,
  type StepOutcome,
} from './approval-routing';

const subject: RoutingSubject = {
  changeType: 'normal',
  riskLevel: 'high',
  highestCriticality: 'tier_2',
  costMinor: 1_000_000,
};

describe('isCriticalityAtLeast', () => {
  // Written out independently: tier_1 is the most critical.
  const rank: Record<Criticality, number> = { tier_1: 4, tier_2: 3, tier_3: 2, tier_4: 1 };
  const pairs = CRITICALITIES.flatMap((c) => CRITICALITIES.map((min) => [c, min, rank[c] >= rank[min]] as const));

  it.each(pairs)('%s at least %s: %s', (c, min, expected) => {
    expect(isCriticalityAtLeast(c, min)).toBe(expected);
  });

  it.each(CRITICALITIES)('nothing reached (null or undefined) is never at least %s', (min) => {
    expect(isCriticalityAtLeast(null, min)).toBe(false);
    expect(isCriticalityAtLeast(undefined, min)).toBe(false);
  });

  it('never counts an unknown criticality (from stored JSON) as at least anything', () => {
    expect(isCriticalityAtLeast('tier_0' as Criticality, 'tier_4')).toBe(false);
    expect(isCriticalityAtLeast('tier_1', 'tier_9' as Criticality)).toBe(false);
  });
});

describe('ruleApplies', () => {
  it('applies an empty condition to anything', () => {
    expect(ruleApplies({}, subject)).toBe(true);
    expect(ruleApplies({}, { costMinor: 0 })).toBe(true);
  });

  it.each<[string, RuleCondition, RoutingSubject, boolean]>([
    ['high risk, min moderate', { minRiskLevel: 'moderate' }, subject, true],
    ['high risk, min high', { minRiskLevel: 'high' }, subject, true],
    ['high risk, min very_high', { minRiskLevel: 'very_high' }, subject, false],
    ['no risk level, min low', { minRiskLevel: 'low' }, { costMinor: 0 }, false],

    ['tier_1 reached, min tier_2', { minCriticality: 'tier_2' }, { ...subject, highestCriticality: 'tier_1' }, true],
    ['tier_2 reached, min tier_2', { minCriticality: 'tier_2' }, subject, true],
    ['tier_3 reached, min tier_2', { minCriticality: 'tier_2' }, { ...subject, highestCriticality: 'tier_3' }, false],
    ['no service reached (null), min tier_4', { minCriticality: 'tier_4' }, { ...subject, highestCriticality: null }, false],
    ['no criticality given, min tier_4', { minCriticality: 'tier_4' }, { costMinor: 0 }, false],

    ['cost exactly at the threshold', { minCostMinor: 1_000_000 }, subject, true],
    ['cost one cent below the threshold', { minCostMinor: 1_000_001 }, subject, false],
    ['cost above the threshold', { minCostMinor: 999_999 }, subject, true],
    ['zero cost, threshold 0', { minCostMinor: 0 }, { costMinor: 0 }, true],

    ['normal change, rule for normal', { changeType: 'normal' }, subject, true],
    ['normal change, rule for emergency', { changeType: 'emergency' }, subject, false],
    ['no change type (a purchase), rule for standard', { changeType: 'standard' }, { costMinor: 0 }, false],

    ['new vendor, rule for new vendors', { newVendor: true }, { ...subject, newVendor: true }, true],
    ['known vendor, rule for new vendors', { newVendor: true }, { ...subject, newVendor: false }, false],
    ['vendor not said, rule for new vendors', { newVendor: true }, subject, false],
    ['vendor not said, rule for known vendors', { newVendor: false }, subject, true],
    ['new vendor, rule for known vendors', { newVendor: false }, { ...subject, newVendor: true }, false],

    ['off catalogue, rule for off catalogue', { offCatalogue: true }, { ...subject, offCatalogue: true }, true],
    ['not said, rule for off catalogue', { offCatalogue: true }, subject, false],
    ['not said, rule for catalogue items', { offCatalogue: false }, subject, true],

    ['over budget, rule for over budget', { overBudget: true }, { ...subject, overBudget: true }, true],
    ['within budget, rule for over budget', { overBudget: true }, { ...subject, overBudget: false }, false],
    ['not said, rule for over budget', { overBudget: true }, subject, false],
    ['not said, rule for within budget', { overBudget: false }, subject, true],
  ])('%s: %s', (_, condition, s, expected) => {
    expect(ruleApplies(condition, s)).toBe(expected);
  });

  it('needs every key to hold', () => {
    const condition: RuleCondition = { minRiskLevel: 'moderate', minCriticality: 'tier_2', minCostMinor: 500_000, changeType: 'normal' };
    expect(ruleApplies(condition, subject)).toBe(true);
    expect(ruleApplies(condition, { ...subject, riskLevel: 'low' })).toBe(false);
    expect(ruleApplies(condition, { ...subject, highestCriticality: 'tier_3' })).toBe(false);
    expect(ruleApplies(condition, { ...subject, costMinor: 499_999 })).toBe(false);
    expect(ruleApplies(condition, { ...subject, changeType: 'standard' })).toBe(false);
  });

  it('treats a key set to undefined as absent', () => {
    expect(ruleApplies({ minCostMinor: undefined, changeType: 'normal' }, subject)).toBe(true);
  });

  describe('anyOf', () => {
    const financeOrRisk: RuleCondition = { anyOf: [{ minCostMinor: 5_000_000 }, { minRiskLevel: 'very_high' }, { overBudget: true }] };

    it('applies when one alternative holds', () => {
      expect(ruleApplies(financeOrRisk, { ...subject, costMinor: 5_000_000 })).toBe(true);
      expect(ruleApplies(financeOrRisk, { ...subject, riskLevel: 'very_high' })).toBe(true);
      expect(ruleApplies(financeOrRisk, { ...subject, overBudget: true })).toBe(true);
    });

    it('does not apply when no alternative holds', () => {
      expect(ruleApplies(financeOrRisk, subject)).toBe(false);
    });

    it('does not apply when empty', () => {
      expect(ruleApplies({ anyOf: [] }, subject)).toBe(false);
    });

    it('is one more key that must hold alongside the others', () => {
      const condition: RuleCondition = { changeType: 'emergency', ...financeOrRisk };
      expect(ruleApplies(condition, { ...subject, changeType: 'emergency', overBudget: true })).toBe(true);
      expect(ruleApplies(condition, { ...subject, overBudget: true })).toBe(false);
    });

    it('nests, and an alternative needs all its own keys', () => {
      const condition: RuleCondition = { anyOf: [{ minCostMinor: 0, changeType: 'emergency' }, { anyOf: [{ newVendor: true }] }] };
      expect(ruleApplies(condition, subject)).toBe(false);
      expect(ruleApplies(condition, { ...subject, changeType: 'emergency' })).toBe(true);
      expect(ruleApplies(condition, { ...subject, newVendor: true })).toBe(true);
    });
  });

  describe('conditions it does not understand fail closed', () => {
    // Stored JSON: the type system does not protect these.
    const badly = (json: unknown) => json as RuleCondition;

    it('does not apply a rule with an unknown key, even when every known key holds', () => {
      expect(ruleApplies(badly({ minRisk: 'low' }), subject)).toBe(false);
      expect(ruleApplies(badly({ changeType: 'normal', costCentre: 'IT-OPS' }), subject)).toBe(false);
    });

    it('does not apply a rule with an unknown key inside anyOf, even when another alternative holds', () => {
      expect(ruleApplies(badly({ anyOf: [{ changeType: 'normal' }, { minRisk: 'low' }] }), subject)).toBe(false);
    });

    it('names the unknown keys, nested ones with their path', () => {
      expect(unknownConditionKeys({ changeType: 'normal', minCostMinor: 1 })).toEqual([]);
      expect(unknownConditionKeys({})).toEqual([]);
      expect(
        unknownConditionKeys(badly({ minRisk: 'low', changeType: 'normal', anyOf: [{ newVendor: true }, { costCenter: 'x', anyOf: [{ tier: 1 }] }] })),
      ).toEqual(['minRisk', 'anyOf[1].costCenter', 'anyOf[1].anyOf[0].tier']);
    });

    it('reports a condition that is not an object as a whole', () => {
      expect(unknownConditionKeys(badly(null))).toEqual(['(condition)']);
      expect(unknownConditionKeys(badly({ anyOf: [null, { newVendor: true }] }))).toEqual(['anyOf[0]']);
      expect(ruleApplies(badly(null), subject)).toBe(false);
    });

    it.each<[string, unknown]>([
      ['an unknown risk level', { minRiskLevel: 'extreme' }],
      ['an unknown criticality', { minCriticality: 'tier_0' }],
      ['a cost given as a string', { minCostMinor: '100' }],
      ['a flag given as a string', { newVendor: 'false' }],
      ['anyOf that is not a list', { anyOf: { newVendor: false } }],
    ])('does not apply a rule with %s', (_, condition) => {
      expect(ruleApplies(badly(condition), { ...subject, riskLevel: 'very_high', highestCriticality: 'tier_1' })).toBe(false);
    });
  });
});

describe('applyDelegation', () => {
  it('leaves an approver who has not delegated', () => {
    expect(applyDelegation('ann', [{ delegatorId: 'bob', delegateId: 'cat' }], 'req')).toEqual({ approverId: 'ann', delegatedFromId: null });
  });

  it('hands the task to the delegate and records who they act for', () => {
    expect(applyDelegation('ann', [{ delegatorId: 'ann', delegateId: 'dan' }], 'req')).toEqual({ approverId: 'dan', delegatedFromId: 'ann' });
  });

  it('uses the first matching delegation', () => {
    const delegations = [
      { delegatorId: 'bob', delegateId: 'cat' },
      { delegatorId: 'ann', delegateId: 'dan' },
      { delegatorId: 'ann', delegateId: 'eve' },
    ];
    expect(applyDelegation('ann', delegations, 'req')).toEqual({ approverId: 'dan', delegatedFromId: 'ann' });
  });

  it('keeps the task with the approver when the delegate is the requester', () => {
    expect(applyDelegation('ann', [{ delegatorId: 'ann', delegateId: 'req' }], 'req')).toEqual({ approverId: 'ann', delegatedFromId: null });
  });

  it('does not follow a chain of delegations', () => {
    const delegations = [
      { delegatorId: 'ann', delegateId: 'dan' },
      { delegatorId: 'dan', delegateId: 'eve' },
    ];
    expect(applyDelegation('ann', delegations, 'req')).toEqual({ approverId: 'dan', delegatedFromId: 'ann' });
  });

  it('ignores a delegation to oneself', () => {
    expect(applyDelegation('ann', [{ delegatorId: 'ann', delegateId: 'ann' }], 'req')).toEqual({ approverId: 'ann', delegatedFromId: null });
  });
});

describe('planApprovalSteps', () => {
  const directory: ApproverDirectory = {
    requesterId: 'req',
    managerOf: { req: 'mgr', mgr: 'director', ann: 'mgr' },
    costCentreOwnerId: 'cco',
    assetOwnerIds: ['own-1', 'own-2', 'own-1'],
    serviceOwnerIds: ['svc-1'],
    groupMembers: { cab: ['cab-1', 'cab-2', 'cab-3'], security: ['sec-1', 'req'] },
    delegations: [],
    fallbackApproverIds: ['po-1', 'po-2'],
  };

  function rule(overrides: Partial<ApprovalRule> & Pick<ApprovalRule, 'id'>): ApprovalRule {
    return {
      name: overrides.id,
      stepOrder: 1,
      appliesWhen: {},
      approverKind: 'manager',
      groupId: null,
      policy: 'any',
      quorum: null,
      onExpiry: 'reject',
      ...overrides,
    };
  }

  /** The plan for a single rule, with the directory changed as given. */
  function onlyStep(r: Partial<ApprovalRule>, dir: Partial<ApproverDirectory> = {}) {
    const steps = planApprovalSteps([rule({ id: 'r', ...r })], subject, { ...directory, ...dir });
    expect(steps).toHaveLength(1);
    return steps[0];
  }

  const person = (approverId: string, delegatedFromId: string | null = null) => ({ approverId, delegatedFromId });

  describe('order', () => {
    const rules = [
      rule({ id: 'finance', name: 'Finance', stepOrder: 2, approverKind: 'cost_centre_owner', onExpiry: 'escalate' }),
      rule({ id: 'svc', name: 'Service owners', stepOrder: 1, approverKind: 'service_owner' }),
      rule({ id: 'security', name: 'Security', stepOrder: 0, appliesWhen: { newVendor: true }, approverKind: 'group', groupId: 'security' }),
      rule({ id: 'cab', name: 'CAB', stepOrder: 1, approverKind: 'group', groupId: 'cab', policy: 'quorum', quorum: 2 }),
    ];

    it('makes one step per rule that applies, by stepOrder then name, numbered from 1', () => {
      const steps = planApprovalSteps(rules, subject, directory);
      expect(steps.map((s) => [s.index, s.ruleId, s.name])).toEqual([
        [1, 'cab', 'CAB'],
        [2, 'svc', 'Service owners'],
        [3, 'finance', 'Finance'],
      ]);
    });

    it('carries the rule over to the step', () => {
      const [cab, , finance] = planApprovalSteps(rules, subject, directory);
      expect(cab).toEqual({
        index: 1,
        ruleId: 'cab',
        name: 'CAB',
        policy: 'quorum',
        required: 2,
        onExpiry: 'reject',
        approvers: [person('cab-1'), person('cab-2'), person('cab-3')],
        notes: [],
      });
      expect(finance).toMatchObject({ policy: 'any', required: 1, onExpiry: 'escalate', approvers: [person('cco')] });
    });

    it('leaves the rules it was given in their order', () => {
      const ids = rules.map((r) => r.id);
      planApprovalSteps(rules, subject, directory);
      expect(rules.map((r) => r.id)).toEqual(ids);
    });

    it('plans nothing when no rule applies', () => {
      expect(planApprovalSteps([rule({ id: 'x', appliesWhen: { minRiskLevel: 'very_high' } })], subject, directory)).toEqual([]);
    });
  });

  describe('who each kind of approver is', () => {
    it.each<[ApprovalRule['approverKind'], string | null, string[]]>([
      ['manager', null, ['mgr']],
      ['cost_centre_owner', null, ['cco']],
      ['asset_owner', null, ['own-1', 'own-2']],
      ['service_owner', null, ['svc-1']],
      ['group', 'cab', ['cab-1', 'cab-2', 'cab-3']],
    ])('%s (group %s): %j', (approverKind, groupId, ids) => {
      const step = onlyStep({ approverKind, groupId });
      expect(step.approvers).toEqual(ids.map((id) => person(id)));
      expect(step.notes).toEqual([]);
    });

    it('notes a requester without a manager and routes to the process owners', () => {
      const step = onlyStep({ approverKind: 'manager' }, { managerOf: {} });
      expect(step.approvers).toEqual([person('po-1'), person('po-2')]);
      expect(step.notes).toEqual(['requester has no manager', 'no eligible approver: routed to the process owners']);
    });

    it('routes a group nobody is in to the process owners', () => {
      const step = onlyStep({ approverKind: 'group', groupId: 'empty' });
      expect(step.approvers).toEqual([person('po-1'), person('po-2')]);
      expect(step.notes).toEqual(['no eligible approver: routed to the process owners']);
    });
  });

  describe('segregation of duties', () => {
    it('excludes a requester who is their own manager', () => {
      const step = onlyStep({ approverKind: 'manager' }, { managerOf: { req: 'req' } });
      expect(step.approvers).toEqual([person('po-1'), person('po-2')]);
      expect(step.notes).toEqual(['requester excluded (segregation of duties)', 'no eligible approver: routed to the process owners']);
    });

    it('excludes a requester who owns the cost centre', () => {
      const step = onlyStep({ approverKind: 'cost_centre_owner' }, { costCentreOwnerId: 'req' });
      expect(step.approvers.map((a) => a.approverId)).toEqual(['po-1', 'po-2']);
      expect(step.notes).toContain('requester excluded (segregation of duties)');
    });

    it('excludes a requester who is in the approving group, leaving the other members', () => {
      const step = onlyStep({ approverKind: 'group', groupId: 'security', policy: 'all' });
      expect(step.approvers).toEqual([person('sec-1')]);
      expect(step.required).toBe(1);
      expect(step.notes).toEqual(['requester excluded (segregation of duties)']);
    });

    it('keeps the task with an approver who delegated to the requester', () => {
      const step = onlyStep({ approverKind: 'manager' }, { delegations: [{ delegatorId: 'mgr', delegateId: 'req' }] });
      expect(step.approvers).toEqual([person('mgr')]);
      expect(step.notes).toEqual(['delegation of mgr to the requester ignored (segregation of duties)']);
    });

    it('excludes a requester who is a process owner from the fallback too', () => {
      const step = onlyStep({ approverKind: 'cost_centre_owner' }, { costCentreOwnerId: null, fallbackApproverIds: ['req', 'po-2'] });
      expect(step.approvers).toEqual([person('po-2')]);
      expect(step.notes).toEqual(['requester excluded (segregation of duties)', 'no eligible approver: routed to the process owners']);
    });
  });

  describe('delegation', () => {
    it('records who the delegate acts for', () => {
      const step = onlyStep({ approverKind: 'service_owner' }, { delegations: [{ delegatorId: 'svc-1', delegateId: 'deputy' }] });
      expect(step.approvers).toEqual([person('deputy', 'svc-1')]);
    });

    it('gives one task to a delegate of two approvers, recorded for the first', () => {
      const step = onlyStep(
        { approverKind: 'group', groupId: 'cab', policy: 'all' },
        {
          delegations: [
            { delegatorId: 'cab-1', delegateId: 'deputy' },
            { delegatorId: 'cab-3', delegateId: 'deputy' },
          ],
        },
      );
      expect(step.approvers).toEqual([person('deputy', 'cab-1'), person('cab-2')]);
      expect(step.required).toBe(2);
    });

    it('gives one task to an approver who is also another approver’s delegate', () => {
      const step = onlyStep({ approverKind: 'group', groupId: 'cab', policy: 'all' }, { delegations: [{ delegatorId: 'cab-3', delegateId: 'cab-1' }] });
      expect(step.approvers).toEqual([person('cab-1'), person('cab-2')]);
    });

    it('applies to the process owners when a step falls back to them', () => {
      const step = onlyStep({ approverKind: 'manager' }, { managerOf: {}, delegations: [{ delegatorId: 'po-1', delegateId: 'deputy' }] });
      expect(step.approvers).toEqual([person('deputy', 'po-1'), person('po-2')]);
    });
  });

  describe('no approver at all', () => {
    it.each<[string, string[]]>([
      ['there are no process owners', []],
      ['the requester is the only process owner', ['req']],
    ])('keeps an empty step when %s', (_, fallbackApproverIds) => {
      const step = onlyStep({ approverKind: 'cost_centre_owner', policy: 'quorum', quorum: 2 }, { costCentreOwnerId: null, fallbackApproverIds });
      expect(step.approvers).toEqual([]);
      expect(step.required).toBe(0);
      expect(step.notes[step.notes.length - 1]).toBe('no approver available');
      expect(step.notes).not.toContain('no eligible approver: routed to the process owners');
    });
  });

  describe('approvals required', () => {
    it.each<[ApprovalPolicy, number | null, number, string[]]>([
      ['any', null, 1, []],
      ['all', null, 3, []],
      ['quorum', 2, 2, []],
      ['quorum', 3, 3, []],
      ['quorum', 5, 3, ['quorum lowered from 5 to 3: only 3 approvers']],
      ['quorum', null, 3, ['quorum not set: all approvers required']],
      ['quorum', 0, 3, ['quorum not set: all approvers required']],
    ])('%s (quorum %s) of 3 approvers needs %i', (policy, quorum, required, notes) => {
      const step = onlyStep({ approverKind: 'group', groupId: 'cab', policy, quorum });
      expect(step.required).toBe(required);
      expect(step.notes).toEqual(notes);
    });

    it('lowers a quorum to the one approver left after segregation of duties', () => {
      const step = onlyStep({ approverKind: 'group', groupId: 'security', policy: 'quorum', quorum: 2 });
      expect(step.required).toBe(1);
      expect(step.notes).toEqual(['requester excluded (segregation of duties)', 'quorum lowered from 2 to 1: only 1 approver']);
    });
  });
});

describe('stepOutcome', () => {
  const a: Decision = 'approved';
  const r: Decision = 'rejected';

  it.each<[Decision[], StepOutcome]>([
    [[], 'pending'],
    [[a], 'approved'],
    [[r], 'rejected'],
    [[a, r], 'approved'],
    [[r, a], 'rejected'],
  ])('any of 3: %j is %s', (decisions, outcome) => {
    expect(stepOutcome({ policy: 'any', required: 1, approverCount: 3 }, decisions)).toBe(outcome);
  });

  it.each<[Decision[], StepOutcome]>([
    [[], 'pending'],
    [[a, a], 'pending'],
    [[a, a, a], 'approved'],
    [[r], 'rejected'],
    [[a, a, r], 'rejected'],
  ])('all of 3: %j is %s', (decisions, outcome) => {
    expect(stepOutcome({ policy: 'all', required: 3, approverCount: 3 }, decisions)).toBe(outcome);
  });

  it.each<[Decision[], StepOutcome]>([
    [[], 'pending'],
    [[a], 'pending'],
    [[a, a], 'approved'],
    [[r, a, a], 'approved'],
    // 2 of 4 needed: rejected once more than 4 - 2 = 2 have rejected
    [[r, r], 'pending'],
    [[r, r, a], 'pending'],
    [[r, r, r], 'rejected'],
    [[r, a, r, r], 'rejected'],
  ])('quorum 2 of 4: %j is %s', (decisions, outcome) => {
    expect(stepOutcome({ policy: 'quorum', required: 2, approverCount: 4 }, decisions)).toBe(outcome);
  });

  it.each<[Decision[], StepOutcome]>([
    [[a, a], 'pending'],
    [[a, a, a], 'approved'],
    [[r], 'rejected'],
  ])('quorum 3 of 3: %j is %s', (decisions, outcome) => {
    expect(stepOutcome({ policy: 'quorum', required: 3, approverCount: 3 }, decisions)).toBe(outcome);
  });

  it('never approves a quorum with no approvals, whatever the stored required count', () => {
    expect(stepOutcome({ policy: 'quorum', required: 0, approverCount: 2 }, [])).toBe('pending');
    expect(stepOutcome({ policy: 'quorum', required: 0, approverCount: 2 }, [r, r])).toBe('rejected');
  });

  it.each<ApprovalPolicy>(['any', 'all', 'quorum'])('rejects a %s step with no approvers', (policy) => {
    expect(stepOutcome({ policy, required: 0, approverCount: 0 }, [])).toBe('rejected');
    expect(stepOutcome({ policy, required: 1, approverCount: 0 }, [])).toBe('rejected');
  });
});

describe('escalationTarget', () => {
  const managerOf = { ann: 'mgr', mgr: 'req', bob: null, self: 'self' };

  it('escalates to the approver’s manager', () => {
    expect(escalationTarget('ann', { managerOf, requesterId: 'req' })).toBe('mgr');
  });

  it('has nowhere to go without a manager', () => {
    expect(escalationTarget('bob', { managerOf, requesterId: 'req' })).toBeNull();
    expect(escalationTarget('nobody', { managerOf, requesterId: 'req' })).toBeNull();
  });

  it('never escalates to the requester', () => {
    expect(escalationTarget('mgr', { managerOf, requesterId: 'req' })).toBeNull();
    expect(escalationTarget('mgr', { managerOf, requesterId: 'someone-else' })).toBe('req');
  });

  it('never escalates to the approver themselves', () => {
    expect(escalationTarget('self', { managerOf, requesterId: 'req' })).toBeNull();
  });
});

describe('handoverTarget', () => {
  // gone: the deactivated approver; del: their delegate; mgr: their manager; po1, po2: process owners by name.
  const facts: HandoverFacts = {
    requesterId: 'req',
    managerOf: { gone: 'mgr' },
    delegations: [{ delegatorId: 'gone', delegateId: 'del' }],
    processOwnerIds: ['po1', 'po2'],
    activeIds: ['req', 'del', 'mgr', 'po1', 'po2'],
    inStepIds: ['gone'],
  };
  const without = (id: string) => facts.activeIds.filter((a) => a !== id);

  it('gives the task to the delegate in force, who acts for the approver', () => {
    expect(handoverTarget('gone', facts)).toEqual({ approverId: 'del', delegatedFromId: 'gone', via: 'delegate' });
  });

  it('falls back to the manager when there is no delegation, or the delegate is inactive or asked already', () => {
    const manager = { approverId: 'mgr', delegatedFromId: null, via: 'manager' };
    expect(handoverTarget('gone', { ...facts, delegations: [] })).toEqual(manager);
    expect(handoverTarget('gone', { ...facts, activeIds: without('del') })).toEqual(manager);
    expect(handoverTarget('gone', { ...facts, inStepIds: ['gone', 'del'] })).toEqual(manager);
  });

  it('never hands the task to the requester (segregation of duties)', () => {
    expect(handoverTarget('gone', { ...facts, delegations: [{ delegatorId: 'gone', delegateId: 'req' }] })).toMatchObject({ approverId: 'mgr' });
    expect(handoverTarget('gone', { ...facts, delegations: [], managerOf: { gone: 'req' } })).toMatchObject({ approverId: 'po1', via: 'process_owner' });
    expect(handoverTarget('gone', { ...facts, delegations: [], managerOf: {}, processOwnerIds: ['req', 'po2'] })).toMatchObject({ approverId: 'po2' });
  });

  it('goes to the first eligible process owner when the approver has no manager, or an inactive one', () => {
    const owner = { approverId: 'po1', delegatedFromId: null, via: 'process_owner' };
    expect(handoverTarget('gone', { ...facts, delegations: [], managerOf: { gone: null } })).toEqual(owner);
    expect(handoverTarget('gone', { ...facts, delegations: [], activeIds: without('mgr') })).toEqual(owner);
    expect(handoverTarget('gone', { ...facts, delegations: [], managerOf: {}, inStepIds: ['gone', 'po1'] })).toMatchObject({ approverId: 'po2' });
  });

  it('never hands the task back to the approver, and finds nobody when nobody is left', () => {
    expect(handoverTarget('gone', { ...facts, delegations: [{ delegatorId: 'gone', delegateId: 'gone' }], managerOf: { gone: 'gone' }, processOwnerIds: ['gone'] })).toBeNull();
    expect(handoverTarget('gone', { ...facts, activeIds: ['req'] })).toBeNull();
    expect(handoverTarget('gone', { ...facts, delegations: [], managerOf: {}, processOwnerIds: [] })).toBeNull();
  });
});

describe('conditionAsks', () => {
  it('finds a question asked at the top level or in any alternative', () => {
    expect(conditionAsks({ overBudget: true }, 'overBudget', true)).toBe(true);
    expect(conditionAsks({ minCostMinor: 1, anyOf: [{ newVendor: true }, { anyOf: [{ overBudget: true }] }] }, 'overBudget', true)).toBe(true);
  });

  it('tells the answer asked for apart, and a rule for everything from one for this', () => {
    expect(conditionAsks({ overBudget: false }, 'overBudget', true)).toBe(false);
    expect(conditionAsks({}, 'overBudget', true)).toBe(false);
    expect(conditionAsks({ minCostMinor: 0 }, 'overBudget', true)).toBe(false);
  });

  it('is not fooled by the words appearing elsewhere in a malformed condition', () => {
    expect(conditionAsks({ anyOf: 'overBudget' } as never, 'overBudget', true)).toBe(false);
    expect(conditionAsks(null as never, 'overBudget', true)).toBe(false);
  });
});

describe('ruleConditionFor (the condition language, checked on save)', () => {
  const change = ruleConditionFor('change');
  const procurement = ruleConditionFor('procurement');

  it('allows each process exactly the keys its routing subject carries', () => {
    expect(change.keys).toEqual(['minRiskLevel', 'minCriticality', 'minCostMinor', 'changeType', 'overBudget', 'anyOf']);
    expect(procurement.keys).toEqual(['minCostMinor', 'newVendor', 'offCatalogue', 'overBudget', 'anyOf']);
  });

  it('allows only keys routing knows, so a rule saved is a rule that can apply', () => {
    for (const check of [change, procurement]) {
      for (const key of check.keys) expect(unknownConditionKeys({ [key]: undefined } as RuleCondition)).toEqual([]);
    }
  });

  it.each([
    ['change', {}],
    ['change', { minRiskLevel: 'very_high', minCriticality: 'tier_4', changeType: 'emergency', minCostMinor: 0, overBudget: false }],
    ['change', { anyOf: [{ minRiskLevel: 'high' }, { anyOf: [{ changeType: 'emergency' }, { anyOf: [{ minCostMinor: 500_000 }] }] }] }],
    ['procurement', { anyOf: [{ minCostMinor: 1_000_000 }, { overBudget: true }] }],
    ['procurement', { anyOf: [{ newVendor: true }, { offCatalogue: true }] }],
  ] as const)('accepts a good %s condition: %j', (process, condition) => {
    expect(ruleConditionFor(process).problemsOf(condition)).toEqual([]);
  });

  it('refuses an unknown key with the keys allowed, at its place', () => {
    expect(change.problemsOf({ anyOf: [{ minRiskLevel: 'high' }, { minRisk: 'high' }] })).toEqual([{
      path: ['anyOf', 1, 'minRisk'],
      message: 'unknown condition key "minRisk": a change rule may use minRiskLevel, minCriticality, minCostMinor, changeType, overBudget, anyOf',
    }]);
  });

  it('refuses a key the other process knows but this one cannot answer', () => {
    expect(change.problemsOf({ newVendor: true })).toEqual([{
      path: ['newVendor'],
      message: 'newVendor is not known of a change request: a change rule may use minRiskLevel, minCriticality, minCostMinor, changeType, overBudget, anyOf',
    }]);
    expect(procurement.problemsOf({ minRiskLevel: 'high' })[0].message).toMatch(/^minRiskLevel is not known of a procurement request: .*minCostMinor, newVendor, offCatalogue, overBudget, anyOf$/);
  });

  it.each([
    [{ minRiskLevel: 'severe' }, 'minRiskLevel must be one of low, moderate, high, very_high, not "severe"'],
    [{ minCriticality: 'tier_0' }, 'minCriticality must be one of tier_1, tier_2, tier_3, tier_4, not "tier_0"'],
    [{ changeType: 'urgent' }, 'changeType must be one of standard, normal, emergency, not "urgent"'],
    [{ overBudget: 'yes' }, 'overBudget must be true or false, not "yes"'],
    [{ minCostMinor: -1 }, 'minCostMinor must be a whole number of minor units from 0 to 10000000000000, not -1'],
    [{ minCostMinor: 1.5 }, 'minCostMinor must be a whole number of minor units from 0 to 10000000000000, not 1.5'],
    [{ minCostMinor: '100' }, 'minCostMinor must be a whole number of minor units from 0 to 10000000000000, not "100"'],
    [{ minCostMinor: 10_000_000_000_001 }, 'minCostMinor must be a whole number of minor units from 0 to 10000000000000, not 10000000000001'],
  ])('refuses a bad value with the values allowed: %j', (condition, message) => {
    const [key] = Object.keys(condition);
    expect(change.problemsOf(condition)).toEqual([{ path: [key], message }]);
  });

  it('reports every problem, not only the first', () => {
    expect(procurement.problemsOf({ newVendor: 1, offCatalog: true, anyOf: [{ overBudget: null }] }).map((p) => p.path)).toEqual([
      ['newVendor'], ['offCatalog'], ['anyOf', 0, 'overBudget'],
    ]);
  });

  it.each([
    [{ anyOf: [] }],
    [{ anyOf: { overBudget: true } }],
    [{ anyOf: Array.from({ length: MAX_ALTERNATIVES + 1 }, () => ({ overBudget: true })) }],
  ])(`refuses anyOf that is not a list of 1 to ${MAX_ALTERNATIVES} conditions: %j`, (condition) => {
    expect(procurement.problemsOf(condition)).toEqual([{ path: ['anyOf'], message: `anyOf must be a list of 1 to ${MAX_ALTERNATIVES} conditions, one of which must hold` }]);
  });

  it(`bounds how deep anyOf nests (${MAX_CONDITION_DEPTH})`, () => {
    const nested = (depth: number): unknown => (depth === 0 ? { overBudget: true } : { anyOf: [nested(depth - 1)] });
    expect(procurement.problemsOf(nested(MAX_CONDITION_DEPTH))).toEqual([]);
    expect(procurement.problemsOf(nested(MAX_CONDITION_DEPTH + 1))).toEqual([{
      path: ['anyOf', 0, 'anyOf', 0, 'anyOf', 0, 'anyOf'],
      message: `anyOf nests at most ${MAX_CONDITION_DEPTH} deep`,
    }]);
  });

  it.each([[null], [[]], ['overBudget'], [42]])('refuses a condition that is not an object: %j', (condition) => {
    expect(change.problemsOf(condition)).toEqual([{ path: [], message: expect.stringMatching(/^a condition is an object/) }]);
    expect(change.problemsOf({ anyOf: [condition] })[0].path).toEqual(['anyOf', 0]);
  });
});

describe('rule versions in the plan', () => {
  const directory: ApproverDirectory = {
    requesterId: 'req', managerOf: { req: 'mgr' }, costCentreOwnerId: null, assetOwnerIds: [], serviceOwnerIds: [],
    groupMembers: {}, delegations: [], fallbackApproverIds: [],
  };
  const rule: ApprovalRule = { id: 'r1', name: 'Manager', stepOrder: 1, appliesWhen: {}, approverKind: 'manager', groupId: null, policy: 'any', quorum: null, onExpiry: 'reject' };

  it('names the version of the rule that routed each step, and none for a rule that has no version', () => {
    expect(planApprovalSteps([{ ...rule, version: 3 }], subject, directory)[0].ruleVersion).toBe(3);
    expect(planApprovalSteps([rule], subject, directory)[0]).not.toHaveProperty('ruleVersion');
  });
});

describe('unroutedOverBudget', () => {
  const overBudget = { id: 'finance', name: 'Finance', stepOrder: 1, appliesWhen: { anyOf: [{ minCostMinor: 1 }, { overBudget: true }] }, approverKind: 'group', groupId: 'fin', policy: 'any', quorum: null, onExpiry: 'reject' } as ApprovalRule;
  const manager = { ...overBudget, id: 'manager', name: 'Manager', appliesWhen: {}, approverKind: 'manager', groupId: null } as ApprovalRule;
  const step = (ruleId: string) => ({ index: 1, ruleId, name: ruleId, policy: 'any', required: 1, onExpiry: 'reject', approvers: [], notes: [] }) as PlannedStep;

  it('refuses an over-budget request that no over-budget rule routes', () => {
    expect(unroutedOverBudget([manager, overBudget], [step('manager')], { costMinor: 0, overBudget: true })).toMatch(/no approval rule routes over-budget/);
  });

  it('lets it go on when such a rule is in the plan, or when it is within budget', () => {
    expect(unroutedOverBudget([manager, overBudget], [step('manager'), step('finance')], { costMinor: 0, overBudget: true })).toBeNull();
    expect(unroutedOverBudget([manager], [step('manager')], { costMinor: 0, overBudget: false })).toBeNull();
  });
});

describe('changeRoutingSubject', () => {
  it('adds the one-off and recurring cost and carries the assessment', () => {
    expect(changeRoutingSubject({ type: 'normal', riskLevel: 'high', highestCriticality: null, oneOffCostMinor: 100, recurringCostMinor: 25, overBudget: true }))
      .toEqual({ changeType: 'normal', riskLevel: 'high', highestCriticality: null, costMinor: 125, overBudget: true });
  });
});
