import {
  ASSET_STATES,
  IN_STOCK_SUBSTATES,
  RETIREMENT_REASONS,
  TRANSITION_RULES,
  checkRegistration,
  checkTransitionRequest,
  evaluateTransition,
  isFinal,
  transitionEffects,
  transitionOptions,
  type AssetSnapshot,
  type AssetState,
  type AssetSubstate,
  type CiReference,
  type DataWipeAttestation,
  type RetirementReason,
  type TransitionFacts,
  type TransitionRequest,
} from './asset-lifecycle';

const attestation: DataWipeAttestation = {
  performedBy: 'person-it-ops',
  performedAt: '2026-11-20T10:00:00Z',
  method: 'NIST 800-88 purge',
  certificateId: 'WIPE-2026-0042',
};

const noFacts: TransitionFacts = { backedCis: [], operationalCisOnAsset: [] };
const payrollDb: CiReference = { number: 'CI0001234', name: 'payroll-db' };
const mailRelay: CiReference = { number: 'CI0005678', name: 'mail-relay' };

/** An asset in a state, with a substate where the state has them and a user where it is in use. */
function asset(state: AssetState, overrides: Partial<AssetSnapshot> = {}): AssetSnapshot {
  const substate: AssetSubstate | null = state === 'in_stock' ? 'available' : state === 'retired' ? 'disposed' : null;
  return { state, substate, assignedToId: state === 'in_use' ? 'person-1' : null, ...overrides };
}

/** The request that should pass every rule for a move the table allows. */
function validRequest(from: AssetState, to: AssetState): TransitionRequest {
  switch (to) {
    case 'in_stock':
      // The fixture asset in stock is `available`, so a move within in_stock changes the substate.
      return { toState: to, toSubstate: from === 'in_stock' ? 'reserved' : 'available' };
    case 'retired': {
      const reason: RetirementReason = from === 'on_order' ? 'returned_to_vendor' : from === 'missing' ? 'lost' : 'sold';
      return { toState: to, toSubstate: reason };
    }
    case 'in_use':
      return { toState: to, assignedToId: 'person-2' };
    default:
      return { toState: to };
  }
}

/** The lifecycle table, written out independently of the implementation. */
const EXPECTED_ALLOWED: Record<AssetState, AssetState[]> = {
  on_order: ['in_stock', 'in_transit', 'retired'],
  in_stock: ['in_stock', 'in_use', 'in_maintenance', 'in_transit', 'missing', 'retired'],
  in_use: ['in_stock', 'in_maintenance', 'in_transit', 'missing', 'retired'],
  in_maintenance: ['in_stock', 'in_use', 'in_transit', 'retired'],
  in_transit: ['in_stock', 'in_use', 'in_maintenance', 'missing'],
  missing: ['in_stock', 'in_use', 'retired'],
  retired: [],
};

const ALLOWED = 'allowed' as const;
const everyPair = ASSET_STATES.flatMap((from) =>
  ASSET_STATES.map((to) => ({
    from,
    to,
    expected: EXPECTED_ALLOWED[from].includes(to) ? ALLOWED : TRANSITION_RULES.notAllowed,
  })),
);

describe('the transition table', () => {
  it('covers the seven lifecycle states', () => {
    expect(ASSET_STATES).toEqual(['on_order', 'in_stock', 'in_use', 'in_maintenance', 'in_transit', 'missing', 'retired']);
    expect(everyPair).toHaveLength(49);
  });

  it.each(everyPair)('$from -> $to: $expected', ({ from, to, expected }) => {
    const refusal = evaluateTransition(asset(from), validRequest(from, to), noFacts);
    if (expected === ALLOWED) {
      expect(refusal).toBeNull();
    } else {
      expect(refusal?.rule).toBe(expected);
      expect(refusal?.message).toContain(`cannot move from ${from} to ${to}`);
      expect(refusal?.details).toEqual({ from, to, allowed: EXPECTED_ALLOWED[from] });
    }
  });

  it('names the allowed moves in the refusal, and says when a state is final', () => {
    expect(checkTransitionRequest(asset('on_order'), { toState: 'in_use', assignedToId: 'person-2' })?.message).toBe(
      'an asset cannot move from on_order to in_use; allowed from on_order: in_stock, in_transit, retired',
    );
    expect(checkTransitionRequest(asset('retired'), { toState: 'in_stock', toSubstate: 'available' })?.message).toBe(
      'an asset cannot move from retired to in_stock; allowed from retired: none (final state)',
    );
  });

  it.each(ASSET_STATES.map((state) => [state, state === 'retired'] as const))('isFinal(%s) is %s', (state, final) => {
    expect(isFinal(state)).toBe(final);
  });
});

describe('substates', () => {
  it.each([
    ['in_stock', 'in_use', IN_STOCK_SUBSTATES],
    ['retired', 'in_use', RETIREMENT_REASONS],
  ] as const)('moving to %s needs a substate (from %s)', (toState, from, allowed) => {
    for (const toSubstate of [undefined, null]) {
      const refusal = checkTransitionRequest(asset(from), { toState, toSubstate });
      expect(refusal?.rule).toBe(TRANSITION_RULES.substateRequired);
      expect(refusal?.message).toBe(`moving to ${toState} needs a substate: one of ${allowed.join(', ')}`);
      expect(refusal?.details).toEqual({ allowed });
    }
  });

  it.each<[AssetState, AssetState, AssetSubstate, string]>([
    ['in_use', 'in_stock', 'sold', `sold is not a substate of in_stock; use one of ${IN_STOCK_SUBSTATES.join(', ')}`],
    ['in_use', 'retired', 'available', `available is not a substate of retired; use one of ${RETIREMENT_REASONS.join(', ')}`],
    ['in_stock', 'in_use', 'reserved', 'in_use has no substates'],
    ['in_use', 'in_maintenance', 'defective', 'in_maintenance has no substates'],
    ['on_order', 'in_transit', 'pending_install', 'in_transit has no substates'],
  ])('%s -> %s/%s is refused as substate_invalid', (from, toState, toSubstate, message) => {
    const refusal = checkTransitionRequest(asset(from), { toState, toSubstate, assignedToId: toState === 'in_use' ? 'p' : undefined });
    expect(refusal?.rule).toBe(TRANSITION_RULES.substateInvalid);
    expect(refusal?.message).toBe(message);
  });

  it('accepts an explicit null substate for a state without substates', () => {
    expect(checkTransitionRequest(asset('in_use'), { toState: 'in_maintenance', toSubstate: null })).toBeNull();
  });
});

describe('no change', () => {
  it('refuses a move to the same state and substate', () => {
    const refusal = checkTransitionRequest(asset('in_stock', { substate: 'reserved' }), { toState: 'in_stock', toSubstate: 'reserved' });
    expect(refusal?.rule).toBe(TRANSITION_RULES.noChange);
    expect(refusal?.message).toBe('the asset is already in_stock/reserved');
  });

  it.each(IN_STOCK_SUBSTATES.filter((s) => s !== 'available'))('allows in_stock/available -> in_stock/%s', (toSubstate) => {
    expect(evaluateTransition(asset('in_stock'), { toState: 'in_stock', toSubstate }, noFacts)).toBeNull();
  });

  it('treats same-state moves outside in_stock as not allowed by the table, not as no_change', () => {
    expect(checkTransitionRequest(asset('in_use'), { toState: 'in_use', assignedToId: 'person-1' })?.rule).toBe(
      TRANSITION_RULES.notAllowed,
    );
  });
});

describe('retirement reasons', () => {
  const fromOnOrder = RETIREMENT_REASONS.map((reason) => [reason, reason === 'returned_to_vendor'] as const);
  it.each(fromOnOrder)('on_order -> retired/%s allowed: %s', (reason, allowed) => {
    const refusal = checkTransitionRequest(asset('on_order'), { toState: 'retired', toSubstate: reason, dataWipeAttestation: attestation });
    if (allowed) {
      expect(refusal).toBeNull();
    } else {
      expect(refusal?.rule).toBe(TRANSITION_RULES.reasonNotAllowed);
      expect(refusal?.message).toBe('an asset that is on_order can only be retired as returned_to_vendor');
      expect(refusal?.details).toEqual({ allowed: ['returned_to_vendor'] });
    }
  });

  const fromMissing = RETIREMENT_REASONS.map((reason) => [reason, reason === 'lost' || reason === 'stolen'] as const);
  it.each(fromMissing)('missing -> retired/%s allowed: %s', (reason, allowed) => {
    const refusal = checkTransitionRequest(asset('missing'), { toState: 'retired', toSubstate: reason, dataWipeAttestation: attestation });
    if (allowed) {
      expect(refusal).toBeNull();
    } else {
      expect(refusal?.rule).toBe(TRANSITION_RULES.reasonNotAllowed);
      expect(refusal?.message).toBe('an asset that is missing can only be retired as lost or stolen');
    }
  });

  it.each(RETIREMENT_REASONS)('an asset in use may be retired as %s', (reason) => {
    expect(checkTransitionRequest(asset('in_use'), { toState: 'retired', toSubstate: reason, dataWipeAttestation: attestation })).toBeNull();
  });
});

describe('assignee', () => {
  it.each<[AssetState, TransitionRequest]>([
    ['in_use', { toState: 'in_stock', toSubstate: 'available' }],
    ['in_use', { toState: 'in_maintenance' }],
    ['in_use', { toState: 'in_transit' }],
    ['in_use', { toState: 'missing' }],
    ['in_use', { toState: 'retired', toSubstate: 'sold' }],
  ])('%s -> %o with an assignee is refused', (from, request) => {
    const refusal = checkTransitionRequest(asset(from), { ...request, assignedToId: 'person-2' });
    expect(refusal?.rule).toBe(TRANSITION_RULES.assigneeOnlyInUse);
    expect(refusal?.message).toBe('only an asset moving to in_use can be assigned to a person');
  });

  it('allows an explicit null assignee on a move away from in_use', () => {
    expect(checkTransitionRequest(asset('in_use'), { toState: 'in_maintenance', assignedToId: null })).toBeNull();
  });

  it('allows an assignee on a move to in_use', () => {
    expect(checkTransitionRequest(asset('in_stock'), { toState: 'in_use', assignedToId: 'person-2' })).toBeNull();
  });
});

describe('disposal', () => {
  it('needs a data-wipe attestation', () => {
    const refusal = checkTransitionRequest(asset('in_use'), { toState: 'retired', toSubstate: 'disposed' });
    expect(refusal?.rule).toBe(TRANSITION_RULES.disposalNeedsAttestation);
    expect(refusal?.message).toMatch(/^disposal needs a data-wipe attestation/);
  });

  it('is allowed with one', () => {
    expect(
      evaluateTransition(asset('in_stock', { substate: 'pending_disposal' }), { toState: 'retired', toSubstate: 'disposed', dataWipeAttestation: attestation }, noFacts),
    ).toBeNull();
  });

  it.each(RETIREMENT_REASONS.filter((r) => r !== 'disposed'))('retiring as %s needs no attestation', (reason) => {
    expect(checkTransitionRequest(asset('in_use'), { toState: 'retired', toSubstate: reason })).toBeNull();
  });
});

describe('in use needs an assignee or a configuration item it backs', () => {
  const toInUse: TransitionRequest = { toState: 'in_use' };

  it('refuses an unassigned asset that backs no CI', () => {
    const refusal = evaluateTransition(asset('in_stock'), toInUse, noFacts);
    expect(refusal?.rule).toBe(TRANSITION_RULES.inUseNeedsAssigneeOrCi);
    expect(refusal?.message).toBe('an asset in use needs an assignee or a configuration item it backs');
  });

  it('is decided with the service map, not from the request alone', () => {
    expect(checkTransitionRequest(asset('in_stock'), toInUse)).toBeNull();
  });

  it('is satisfied by an assignee in the request', () => {
    expect(evaluateTransition(asset('in_stock'), { toState: 'in_use', assignedToId: 'person-2' }, noFacts)).toBeNull();
  });

  it('is satisfied by the assignee the asset already has', () => {
    expect(evaluateTransition(asset('in_maintenance', { assignedToId: 'person-1' }), toInUse, noFacts)).toBeNull();
  });

  it('is satisfied by a CI the asset backs, with nobody assigned', () => {
    expect(evaluateTransition(asset('in_stock'), toInUse, { backedCis: [payrollDb], operationalCisOnAsset: [] })).toBeNull();
  });
});

describe('retirement with operational CIs on the asset', () => {
  const retire: TransitionRequest = { toState: 'retired', toSubstate: 'sold' };

  it('is refused, naming the CI by number', () => {
    const refusal = evaluateTransition(asset('in_use'), retire, { backedCis: [], operationalCisOnAsset: [payrollDb] });
    expect(refusal?.rule).toBe(TRANSITION_RULES.retireWithOperationalCi);
    expect(refusal?.message).toContain('CI0001234');
    expect(refusal?.message).toBe('cannot retire: operational configuration items still run on this asset: CI0001234 payroll-db');
    expect(refusal?.details).toEqual({ cis: [payrollDb] });
  });

  it('names every operational CI', () => {
    const refusal = evaluateTransition(asset('in_use'), retire, { backedCis: [], operationalCisOnAsset: [payrollDb, mailRelay] });
    expect(refusal?.message).toContain('CI0001234 payroll-db, CI0005678 mail-relay');
  });

  it('is allowed when the asset only backs CIs that are no longer operational', () => {
    expect(evaluateTransition(asset('in_use'), retire, { backedCis: [payrollDb], operationalCisOnAsset: [] })).toBeNull();
  });

  it('does not block moves other than retirement', () => {
    expect(evaluateTransition(asset('in_use'), { toState: 'in_maintenance' }, { backedCis: [], operationalCisOnAsset: [payrollDb] })).toBeNull();
  });

  it('comes after the request checks', () => {
    const refusal = evaluateTransition(asset('in_use'), { toState: 'retired', toSubstate: 'disposed' }, { backedCis: [], operationalCisOnAsset: [payrollDb] });
    expect(refusal?.rule).toBe(TRANSITION_RULES.disposalNeedsAttestation);
  });
});

describe('transitionEffects', () => {
  it.each(RETIREMENT_REASONS.map((reason) => [reason, reason === 'lost' || reason === 'stolen'] as const))(
    'retiring as %s reclaims licences, computes book value, security notice: %s',
    (reason, notice) => {
      const from: AssetState = notice ? 'missing' : 'in_use';
      expect(transitionEffects(asset(from), { toState: 'retired', toSubstate: reason })).toEqual({
        reclaimLicences: true,
        computeBookValue: true,
        securityNotice: notice,
        assignedToId: null,
      });
    },
  );

  it.each<[AssetState, TransitionRequest]>([
    ['in_use', { toState: 'missing' }],
    ['in_use', { toState: 'in_stock', toSubstate: 'defective' }],
    ['in_stock', { toState: 'in_use', assignedToId: 'person-2' }],
  ])('%s -> %o has no retirement effects', (from, request) => {
    expect(transitionEffects(asset(from), request)).toMatchObject({ reclaimLicences: false, computeBookValue: false, securityNotice: false });
  });

  it.each<[string, AssetSnapshot, TransitionRequest, string | null]>([
    ['set on a move to in_use', asset('in_stock'), { toState: 'in_use', assignedToId: 'person-2' }, 'person-2'],
    ['replaced by the request on a move to in_use', asset('missing', { assignedToId: 'person-1' }), { toState: 'in_use', assignedToId: 'person-2' }, 'person-2'],
    ['kept on a move to in_use without one', asset('in_maintenance', { assignedToId: 'person-1' }), { toState: 'in_use' }, 'person-1'],
    ['kept into maintenance', asset('in_use'), { toState: 'in_maintenance' }, 'person-1'],
    ['kept in transit', asset('in_use'), { toState: 'in_transit' }, 'person-1'],
    ['kept when missing', asset('in_use'), { toState: 'missing' }, 'person-1'],
    ['cleared back into stock', asset('in_use'), { toState: 'in_stock', toSubstate: 'available' }, null],
    ['cleared on retirement', asset('in_use'), { toState: 'retired', toSubstate: 'sold' }, null],
    ['null for a CI-backed asset in use', asset('in_stock'), { toState: 'in_use' }, null],
  ])('the assignee is %s', (_, from, request, expected) => {
    expect(transitionEffects(from, request).assignedToId).toBe(expected);
  });
});

describe('registering an asset already in the estate', () => {
  it.each<[string, AssetSnapshot]>([
    ['on order', asset('on_order')],
    ['in stock, available', asset('in_stock')],
    ['in stock, pending disposal', asset('in_stock', { substate: 'pending_disposal' })],
    ['in use with its assignee', asset('in_use')],
    ['in maintenance, its user kept', asset('in_maintenance', { assignedToId: 'person-1' })],
    ['in transit without a user', asset('in_transit')],
    ['missing, last with its user', asset('missing', { assignedToId: 'person-1' })],
  ])('may be registered %s', (_, snapshot) => {
    expect(checkRegistration(snapshot)).toBeNull();
  });

  it.each<[string, AssetSnapshot, 'state' | 'substate' | 'assignee', RegExp]>([
    ['in stock without a substate', asset('in_stock', { substate: null }), 'substate', /needs a substate: one of available/],
    ['in stock with a retirement reason', asset('in_stock', { substate: 'sold' }), 'substate', /sold is not a substate of in_stock/],
    ['in use with a substate', asset('in_use', { substate: 'available' }), 'substate', /in_use has no substates/],
    ['in use without an assignee', asset('in_use', { assignedToId: null }), 'assignee', /in use needs an assignee/],
    ['in stock with an assignee', asset('in_stock', { assignedToId: 'person-1' }), 'assignee', /in_stock has no assignee/],
    ['on order with an assignee', asset('on_order', { assignedToId: 'person-1' }), 'assignee', /on_order has no assignee/],
    ['retired, even with a reason', asset('retired', { substate: 'sold' }), 'state', /retire it through the lifecycle/],
    ['disposed', asset('retired'), 'state', /retire it through the lifecycle/],
  ])('is refused %s, naming the field', (_, snapshot, field, message) => {
    expect(checkRegistration(snapshot)).toEqual({ field, message: expect.stringMatching(message) });
  });
});

describe('transitionOptions: every move and what the lifecycle answers', () => {
  const optionOf = (options: ReturnType<typeof transitionOptions>, toState: AssetState, toSubstate: AssetSubstate | null = null) =>
    options.find((o) => o.toState === toState && o.toSubstate === toSubstate)!;

  it('lists each state once, and each substate of a state that has them', () => {
    const options = transitionOptions(asset('in_stock'), noFacts);
    expect(options.map((o) => (o.toSubstate ? `${o.toState}/${o.toSubstate}` : o.toState))).toEqual([
      'on_order', ...IN_STOCK_SUBSTATES.map((s) => `in_stock/${s}`), 'in_use', 'in_maintenance', 'in_transit', 'missing',
      ...RETIREMENT_REASONS.map((r) => `retired/${r}`),
    ]);
  });

  it('agrees with evaluateTransition on every move from every state, for requests that carry what the option needs', () => {
    const facts: TransitionFacts = { backedCis: [payrollDb], operationalCisOnAsset: [] };
    for (const from of ASSET_STATES) {
      for (const option of transitionOptions(asset(from), facts)) {
        const request: TransitionRequest = {
          toState: option.toState,
          toSubstate: option.toSubstate,
          ...(option.needs.some((n) => n.field === 'assignee') && { assignedToId: 'person-2' }),
          ...(option.needs.some((n) => n.field === 'dataWipeAttestation') && { dataWipeAttestation: attestation }),
        };
        expect(evaluateTransition(asset(from), request, facts)).toEqual(option.refusal);
      }
    }
  });

  it('says an unassigned asset that backs no CI needs an assignee to go into use, and needs nothing when it backs one', () => {
    expect(optionOf(transitionOptions(asset('in_stock'), noFacts), 'in_use')).toEqual({
      toState: 'in_use', toSubstate: null, needs: [{ field: 'assignee', because: 'an asset in use needs an assignee or a configuration item it backs' }], refusal: null,
    });
    expect(optionOf(transitionOptions(asset('in_stock'), { backedCis: [payrollDb], operationalCisOnAsset: [] }), 'in_use').needs).toEqual([]);
    expect(optionOf(transitionOptions(asset('in_maintenance', { assignedToId: 'person-1' }), noFacts), 'in_use').needs).toEqual([]);
  });

  it('says a disposal needs the data-wipe attestation, and no other retirement does', () => {
    const options = transitionOptions(asset('in_use'), noFacts);
    expect(optionOf(options, 'retired', 'disposed')).toMatchObject({ needs: [{ field: 'dataWipeAttestation', because: expect.stringContaining('disposal needs a data-wipe attestation') }], refusal: null });
    for (const reason of RETIREMENT_REASONS.filter((r) => r !== 'disposed')) expect(optionOf(options, 'retired', reason)).toMatchObject({ needs: [], refusal: null });
  });

  it('explains a refused retirement by the operational CIs it names, for every reason, disposal included', () => {
    const options = transitionOptions(asset('in_stock'), { backedCis: [payrollDb], operationalCisOnAsset: [payrollDb, mailRelay] });
    for (const reason of RETIREMENT_REASONS) {
      const option = optionOf(options, 'retired', reason);
      expect(option.needs).toEqual([]);
      expect(option.refusal).toMatchObject({ rule: TRANSITION_RULES.retireWithOperationalCi });
      expect(option.refusal!.message).toContain('CI0001234 payroll-db, CI0005678 mail-relay');
    }
  });

  it('refuses what the table rules out, the reasons a missing asset cannot be retired for, and the move to where it is', () => {
    const missing = transitionOptions(asset('missing'), noFacts);
    expect(optionOf(missing, 'on_order').refusal).toMatchObject({ rule: TRANSITION_RULES.notAllowed });
    expect(optionOf(missing, 'retired', 'sold').refusal).toMatchObject({ rule: TRANSITION_RULES.reasonNotAllowed });
    expect(optionOf(missing, 'retired', 'stolen').refusal).toBeNull();
    expect(optionOf(transitionOptions(asset('in_stock'), noFacts), 'in_stock', 'available').refusal).toMatchObject({ rule: TRANSITION_RULES.noChange });
  });

  it('allows nothing from a final state', () => {
    expect(transitionOptions(asset('retired'), noFacts).every((o) => o.refusal?.rule === TRANSITION_RULES.notAllowed)).toBe(true);
  });
});
