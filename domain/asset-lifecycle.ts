/**
 * The hardware asset lifecycle: states, substates, which moves are allowed and what must hold
 * for each. Pure: the lifecycle workflow, its activities and the API all decide with these.
 */

export const ASSET_STATES = ['on_order', 'in_stock', 'in_use', 'in_maintenance', 'in_transit', 'missing', 'retired'] as const;
export type AssetState = (typeof ASSET_STATES)[number];

/** Retirement ends an asset's lifecycle (and its workflow), whatever the reason. */
export const ASSET_FINAL_STATES = ['retired'] as const satisfies readonly AssetState[];

export const IN_STOCK_SUBSTATES = ['available', 'reserved', 'defective', 'pending_install', 'pending_disposal'] as const;
export const RETIREMENT_REASONS = ['disposed', 'sold', 'donated', 'returned_to_vendor', 'lost', 'stolen'] as const;
export type InStockSubstate = (typeof IN_STOCK_SUBSTATES)[number];
export type RetirementReason = (typeof RETIREMENT_REASONS)[number];
export type AssetSubstate = InStockSubstate | RetirementReason;

export const SUBSTATES: Record<AssetState, readonly AssetSubstate[]> = {
  on_order: [],
  in_stock: IN_STOCK_SUBSTATES,
  in_use: [],
  in_maintenance: [],
  in_transit: [],
  missing: [],
  retired: RETIREMENT_REASONS,
};

/** From each state, the states an asset may move to. A move within in_stock changes the substate. */
export const ALLOWED_TRANSITIONS: Record<AssetState, readonly AssetState[]> = {
  on_order: ['in_stock', 'in_transit', 'retired'],
  in_stock: ['in_stock', 'in_use', 'in_maintenance', 'in_transit', 'missing', 'retired'],
  in_use: ['in_stock', 'in_maintenance', 'in_transit', 'missing', 'retired'],
  in_maintenance: ['in_stock', 'in_use', 'in_transit', 'retired'],
  in_transit: ['in_stock', 'in_use', 'in_maintenance', 'missing'],
  missing: ['in_stock', 'in_use', 'retired'],
  retired: [],
};

/** Reasons an asset that has not arrived, or has gone missing, can be retired for. */
const RETIREMENT_REASONS_FROM: Partial<Record<AssetState, readonly RetirementReason[]>> = {
  on_order: ['returned_to_vendor'],
  missing: ['lost', 'stolen'],
};

export interface DataWipeAttestation {
  performedBy: string;
  performedAt: string;
  method: string;
  certificateId: string;
}

export interface AssetSnapshot {
  state: AssetState;
  substate: AssetSubstate | null;
  assignedToId: string | null;
}

export interface TransitionRequest {
  toState: AssetState;
  toSubstate?: AssetSubstate | null;
  assignedToId?: string | null;
  note?: string;
  dataWipeAttestation?: DataWipeAttestation;
}

export interface CiReference {
  number: string;
  name: string;
}

/** What the database knows about the asset's place in the service map. */
export interface TransitionFacts {
  /** CIs this asset is the record behind (SACM link). */
  backedCis: CiReference[];
  /** Operational CIs that still run on, are hosted on, or are themselves this asset. */
  operationalCisOnAsset: CiReference[];
}

export const TRANSITION_RULES = {
  notAllowed: 'transition_not_allowed',
  noChange: 'no_change',
  substateRequired: 'substate_required',
  substateInvalid: 'substate_invalid',
  reasonNotAllowed: 'retirement_reason_not_allowed',
  inUseNeedsAssigneeOrCi: 'in_use_needs_assignee_or_ci',
  assigneeOnlyInUse: 'assignee_only_in_use',
  retireWithOperationalCi: 'retire_with_operational_ci',
  disposalNeedsAttestation: 'disposal_needs_data_wipe_attestation',
} as const;
export type TransitionRule = (typeof TRANSITION_RULES)[keyof typeof TRANSITION_RULES];

export interface TransitionRefusal {
  rule: TransitionRule;
  message: string;
  details?: Record<string, unknown>;
}

const label = (state: AssetState, substate?: AssetSubstate | null) => (substate ? `${state}/${substate}` : state);

/**
 * Checks what can be decided from the asset and the request alone: the table, substates, the
 * assignee and the disposal attestation. Used to refuse at once, before any work is done.
 */
export function checkTransitionRequest(asset: AssetSnapshot, request: TransitionRequest): TransitionRefusal | null {
  const { toState } = request;
  const toSubstate = request.toSubstate ?? null;
  if (!ALLOWED_TRANSITIONS[asset.state].includes(toState)) {
    return {
      rule: TRANSITION_RULES.notAllowed,
      message: `an asset cannot move from ${asset.state} to ${toState}; allowed from ${asset.state}: ${ALLOWED_TRANSITIONS[asset.state].join(', ') || 'none (final state)'}`,
      details: { from: asset.state, to: toState, allowed: ALLOWED_TRANSITIONS[asset.state] },
    };
  }
  const substates = SUBSTATES[toState];
  if (substates.length > 0 && toSubstate === null) {
    return {
      rule: TRANSITION_RULES.substateRequired,
      message: `moving to ${toState} needs a substate: one of ${substates.join(', ')}`,
      details: { allowed: substates },
    };
  }
  if (toSubstate !== null && !substates.includes(toSubstate)) {
    return {
      rule: TRANSITION_RULES.substateInvalid,
      message: substates.length
        ? `${toSubstate} is not a substate of ${toState}; use one of ${substates.join(', ')}`
        : `${toState} has no substates`,
      details: { allowed: substates },
    };
  }
  if (toState === asset.state && toSubstate === asset.substate) {
    return { rule: TRANSITION_RULES.noChange, message: `the asset is already ${label(toState, toSubstate)}` };
  }
  const reasons = RETIREMENT_REASONS_FROM[asset.state];
  if (toState === 'retired' && reasons && !reasons.includes(toSubstate as RetirementReason)) {
    return {
      rule: TRANSITION_RULES.reasonNotAllowed,
      message: `an asset that is ${asset.state} can only be retired as ${reasons.join(' or ')}`,
      details: { allowed: reasons },
    };
  }
  if (request.assignedToId && toState !== 'in_use') {
    return { rule: TRANSITION_RULES.assigneeOnlyInUse, message: `only an asset moving to in_use can be assigned to a person` };
  }
  if (toSubstate === 'disposed' && !request.dataWipeAttestation) {
    return {
      rule: TRANSITION_RULES.disposalNeedsAttestation,
      message: 'disposal needs a data-wipe attestation: who wiped it, when, by which method, and the certificate id',
    };
  }
  return null;
}

/** Checks the request against the service map as well; the full decision. */
export function evaluateTransition(
  asset: AssetSnapshot,
  request: TransitionRequest,
  facts: TransitionFacts,
): TransitionRefusal | null {
  const refusal = checkTransitionRequest(asset, request);
  if (refusal) return refusal;
  const assignee = request.assignedToId ?? asset.assignedToId;
  if (request.toState === 'in_use' && !assignee && facts.backedCis.length === 0) {
    return {
      rule: TRANSITION_RULES.inUseNeedsAssigneeOrCi,
      message: 'an asset in use needs an assignee or a configuration item it backs',
    };
  }
  if (request.toState === 'retired' && facts.operationalCisOnAsset.length > 0) {
    const named = facts.operationalCisOnAsset.map((ci) => `${ci.number} ${ci.name}`).join(', ');
    return {
      rule: TRANSITION_RULES.retireWithOperationalCi,
      message: `cannot retire: operational configuration items still run on this asset: ${named}`,
      details: { cis: facts.operationalCisOnAsset },
    };
  }
  return null;
}

/** What a form must add to a move for it to go through: someone to use the asset, or the data-wipe attestation. */
export type TransitionNeed = 'assignee' | 'dataWipeAttestation';

/** One move an asset could be asked to make, and what the lifecycle would answer. */
export interface TransitionOption {
  toState: AssetState;
  toSubstate: AssetSubstate | null;
  /** What the request must carry for the move to be allowed, each with the refusal it answers (empty when the move is refused). */
  needs: { field: TransitionNeed; because: string }[];
  /** The refusal the workflow gives, even with what it needs added; null when the move is allowed. */
  refusal: TransitionRefusal | null;
}

/** The refusals a request can answer by carrying more: the field that does, and a stand-in for it. */
const ANSWERED_BY: Partial<Record<TransitionRule, { need: TransitionNeed; add: Partial<TransitionRequest> }>> = {
  [TRANSITION_RULES.inUseNeedsAssigneeOrCi]: { need: 'assignee', add: { assignedToId: 'someone' } },
  [TRANSITION_RULES.disposalNeedsAttestation]: {
    need: 'dataWipeAttestation',
    add: { dataWipeAttestation: { performedBy: 'someone', performedAt: '1970-01-01T00:00:00Z', method: 'any', certificateId: 'any' } },
  },
};

/**
 * Every move the asset could be asked for (each state, and each substate where the state has
 * them), judged by evaluateTransition itself, the workflow's decision: allowed, with what the
 * request must carry (an assignee, an attestation), or the refusal it would give.
 */
export function transitionOptions(asset: AssetSnapshot, facts: TransitionFacts): TransitionOption[] {
  return ASSET_STATES.flatMap((toState) => {
    const substates: readonly (AssetSubstate | null)[] = SUBSTATES[toState].length ? SUBSTATES[toState] : [null];
    return substates.map((toSubstate): TransitionOption => {
      let request: TransitionRequest = { toState, toSubstate };
      const needs: TransitionOption['needs'] = [];
      for (;;) {
        const refusal = evaluateTransition(asset, request, facts);
        const answer = refusal && ANSWERED_BY[refusal.rule];
        if (!refusal) return { toState, toSubstate, needs, refusal: null };
        if (!answer || needs.some((n) => n.field === answer.need)) return { toState, toSubstate, needs: [], refusal };
        needs.push({ field: answer.need, because: refusal.message });
        request = { ...request, ...answer.add };
      }
    });
  });
}

export interface TransitionEffects {
  reclaimLicences: boolean;
  computeBookValue: boolean;
  securityNotice: boolean;
  /** The assignee after the move: kept, set, or cleared when the asset leaves its user. */
  assignedToId: string | null;
}

export function transitionEffects(asset: AssetSnapshot, request: TransitionRequest): TransitionEffects {
  const retiring = request.toState === 'retired';
  const keepsUser = ['in_use', 'in_maintenance', 'in_transit', 'missing'].includes(request.toState);
  return {
    reclaimLicences: retiring,
    computeBookValue: retiring,
    securityNotice: retiring && (request.toSubstate === 'lost' || request.toSubstate === 'stolen'),
    assignedToId: request.toState === 'in_use' ? (request.assignedToId ?? asset.assignedToId) : keepsUser ? asset.assignedToId : null,
  };
}

export function isFinal(state: AssetState): boolean {
  return ALLOWED_TRANSITIONS[state].length === 0;
}

/** The states an asset keeps its user in (transitionEffects): only these may be registered with an assignee. */
const STATES_WITH_A_USER: readonly AssetState[] = ['in_use', 'in_maintenance', 'in_transit', 'missing'];

/** Why an asset cannot be registered as it is: the field at fault and the rule. */
export interface RegistrationRefusal {
  field: 'state' | 'substate' | 'assignee';
  message: string;
}

/**
 * Whether an asset already in the estate may be registered (imported) in its current state, by
 * the lifecycle's own rules: the substates of its state, in use only with an assignee (no CI can
 * back an asset not yet registered), an assignee only in a state that keeps one. A retired asset
 * is not registered: retirement records its date, book value and, for a disposal, the data-wipe
 * attestation, which only the lifecycle does.
 */
export function checkRegistration(asset: AssetSnapshot): RegistrationRefusal | null {
  if (asset.state === 'retired') {
    return { field: 'state', message: 'a retired asset is not registered: register it in its last state, then retire it through the lifecycle' };
  }
  const substates = SUBSTATES[asset.state];
  if (substates.length > 0 && asset.substate === null) {
    return { field: 'substate', message: `an asset ${asset.state} needs a substate: one of ${substates.join(', ')}` };
  }
  if (asset.substate !== null && !substates.includes(asset.substate)) {
    return {
      field: 'substate',
      message: substates.length ? `${asset.substate} is not a substate of ${asset.state}; use one of ${substates.join(', ')}` : `${asset.state} has no substates`,
    };
  }
  if (asset.state === 'in_use' && !asset.assignedToId) {
    return { field: 'assignee', message: 'an asset in use needs an assignee' };
  }
  if (asset.assignedToId && !STATES_WITH_A_USER.includes(asset.state)) {
    return { field: 'assignee', message: `an asset ${asset.state} has no assignee; only one ${STATES_WITH_A_USER.join(', ')} has` };
  }
  return null;
}
