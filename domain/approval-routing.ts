import { CHANGE_TYPES, CRITICALITIES, type ChangeType, type Criticality } from './change-impact';
import { RISK_LEVELS, isRiskAtLeast, type RiskLevel } from './change-risk';
import { MAX_AMOUNT_MINOR } from './money';

/** The processes whose requests approval rules route; a reconciliation rule says who decides a data steward case, a renewal rule a contract renewal. */
export const APPROVAL_PROCESSES = ['change', 'procurement', 'reconciliation', 'renewal'] as const;
export type ApprovalProcess = (typeof APPROVAL_PROCESSES)[number];

export const APPROVER_KINDS = ['manager', 'cost_centre_owner', 'asset_owner', 'service_owner', 'group'] as const;
export type ApproverKind = (typeof APPROVER_KINDS)[number];

/**
 * The approver kinds a process's rules may use: a steward case is raised by a feed, so it has no
 * requester, manager, cost centre or owners, only a group that decides; a renewal concerns a
 * contract, which has no cost centre or owners either: its group (Finance) decides.
 */
export const approverKindsFor = (process: ApprovalProcess): readonly ApproverKind[] => (process === 'reconciliation' || process === 'renewal' ? ['group'] : APPROVER_KINDS);
export const APPROVAL_POLICIES = ['any', 'all', 'quorum'] as const;
export type ApprovalPolicy = (typeof APPROVAL_POLICIES)[number];
export const EXPIRY_ACTIONS = ['reject', 'escalate'] as const;
export type ExpiryAction = (typeof EXPIRY_ACTIONS)[number];
export type Decision = 'approved' | 'rejected';

/** The condition of an approval rule, held as JSON in approval_rules.applies_when. All keys must hold. */
export interface RuleCondition {
  minRiskLevel?: RiskLevel;
  /** tier_2 means tier_1 or tier_2 reached. */
  minCriticality?: Criticality;
  minCostMinor?: number;
  changeType?: ChangeType;
  newVendor?: boolean;
  offCatalogue?: boolean;
  overBudget?: boolean;
  anyOf?: RuleCondition[];
}

export interface ApprovalRule {
  id: string;
  /** The saved version of the rule (approval_rules.version); absent for a rule only proposed. */
  version?: number;
  name: string;
  stepOrder: number;
  appliesWhen: RuleCondition;
  approverKind: ApproverKind;
  groupId: string | null;
  policy: ApprovalPolicy;
  quorum: number | null;
  onExpiry: ExpiryAction;
}

/** What a rule's condition is tested against: a change or a purchase request once assessed. */
export interface RoutingSubject {
  changeType?: ChangeType;
  riskLevel?: RiskLevel;
  highestCriticality?: Criticality | null;
  costMinor: number;
  newVendor?: boolean;
  offCatalogue?: boolean;
  overBudget?: boolean;
}

export interface Delegation {
  delegatorId: string;
  delegateId: string;
}

/** The people each approver kind resolves to for one subject, and the delegations in force. */
export interface ApproverDirectory {
  requesterId: string;
  /** person id -> their manager's id */
  managerOf: Record<string, string | null>;
  costCentreOwnerId: string | null;
  assetOwnerIds: string[];
  serviceOwnerIds: string[];
  groupMembers: Record<string, string[]>;
  delegations: Delegation[];
  /** Who gets a step nobody else can take (e.g. the requester is the only candidate): the process owners. */
  fallbackApproverIds: string[];
}

export interface PlannedApprover {
  approverId: string;
  /** Set when the approver acts for someone who delegated to them. */
  delegatedFromId: string | null;
}

export interface PlannedStep {
  /** 1-based position in the plan; steps run in this order. */
  index: number;
  ruleId: string;
  /** The version of the rule that routed the step; absent in histories recorded before rules were versioned. */
  ruleVersion?: number;
  name: string;
  policy: ApprovalPolicy;
  /** Approvals needed: 1 for any, all approvers for all, min(quorum, approvers) for quorum. */
  required: number;
  onExpiry: ExpiryAction;
  approvers: PlannedApprover[];
  /** Why the approvers are who they are, e.g. "requester excluded (segregation of duties)". */
  notes: string[];
}

export type StepOutcome = 'pending' | 'approved' | 'rejected';

/** tier_1 is the highest. Criticalities come from stored JSON too, so an unknown one is never at least anything. */
export function isCriticalityAtLeast(c: Criticality | null | undefined, min: Criticality): boolean {
  if (c == null) return false;
  const rank = CRITICALITIES.indexOf(c);
  const minRank = CRITICALITIES.indexOf(min);
  return rank >= 0 && minRank >= 0 && rank <= minRank;
}

type ConditionChecks = {
  [K in keyof RuleCondition]-?: (value: NonNullable<RuleCondition[K]>, subject: RoutingSubject) => boolean;
};

/**
 * What each condition key asks of the subject; also the list of keys a rule may use. Conditions are stored
 * JSON, so a malformed value makes its check fail rather than pass.
 */
const CONDITION_CHECKS: ConditionChecks = {
  minRiskLevel: (min, s) => s.riskLevel !== undefined && isRiskAtLeast(s.riskLevel, min),
  minCriticality: (min, s) => isCriticalityAtLeast(s.highestCriticality, min),
  minCostMinor: (min, s) => typeof min === 'number' && s.costMinor >= min,
  changeType: (type, s) => s.changeType === type,
  // A subject that does not say is not a new vendor, not off catalogue, not over budget.
  newVendor: (flag, s) => (s.newVendor ?? false) === flag,
  offCatalogue: (flag, s) => (s.offCatalogue ?? false) === flag,
  overBudget: (flag, s) => (s.overBudget ?? false) === flag,
  anyOf: (alternatives, s) => Array.isArray(alternatives) && alternatives.some((c) => holds(c, s)),
};

function isConditionObject(condition: unknown): condition is RuleCondition {
  return typeof condition === 'object' && condition !== null && !Array.isArray(condition);
}

/**
 * Keys no check knows, nested ones as e.g. "anyOf[1].minRisk", so a bad rule can be reported. A condition
 * that is not an object at all is reported whole, as "(condition)" or e.g. "anyOf[0]".
 */
export function unknownConditionKeys(condition: RuleCondition): string[] {
  return unknownKeysAt(condition, '');
}

function unknownKeysAt(condition: RuleCondition, path: string): string[] {
  if (!isConditionObject(condition)) return [path || '(condition)'];
  return Object.entries(condition).flatMap(([key, value]) => {
    const keyPath = path ? `${path}.${key}` : key;
    if (!Object.hasOwn(CONDITION_CHECKS, key)) return [keyPath];
    if (key === 'anyOf' && Array.isArray(value)) {
      return value.flatMap((c: RuleCondition, i) => unknownKeysAt(c, `${keyPath}[${i}]`));
    }
    return [];
  });
}

function holds(condition: RuleCondition, subject: RoutingSubject): boolean {
  if (!isConditionObject(condition)) return false;
  return Object.entries(condition).every(([key, value]) => {
    if (value === undefined) return true;
    const check = CONDITION_CHECKS[key as keyof RuleCondition] as (value: unknown, subject: RoutingSubject) => boolean;
    return check(value, subject);
  });
}

/**
 * Every key present must hold; {} always applies. A condition with a key anywhere in it that no check
 * knows (a typo, a newer rule format) does not apply rather than have its meaning guessed; since that also
 * skips the rule's approvals, callers report such rules with unknownConditionKeys.
 */
export function ruleApplies(condition: RuleCondition, subject: RoutingSubject): boolean {
  return unknownConditionKeys(condition).length === 0 && holds(condition, subject);
}

/** The yes/no questions a condition can ask of its subject. */
export type ConditionFlag = 'newVendor' | 'offCatalogue' | 'overBudget';

/**
 * Whether a rule's condition asks `flag` with this answer, itself or in one of its alternatives:
 * e.g. whether a rule is there for over-budget requests (a request over budget that no such rule
 * routes is refused rather than approved by people who were never told).
 */
export function conditionAsks(condition: RuleCondition, flag: ConditionFlag, answer: boolean): boolean {
  if (!isConditionObject(condition)) return false;
  if (condition[flag] === answer) return true;
  return Array.isArray(condition.anyOf) && condition.anyOf.some((alternative) => conditionAsks(alternative, flag, answer));
}

/**
 * Over budget, and no step of the plan comes from a rule there for over-budget requests: the
 * request is refused rather than approved by people who were never told. Null when it may go on.
 */
export function unroutedOverBudget(rules: ApprovalRule[], plan: PlannedStep[], subject: RoutingSubject): string | null {
  if (!subject.overBudget) return null;
  const routed = plan.some((step) => {
    const rule = rules.find((r) => r.id === step.ruleId);
    return rule !== undefined && conditionAsks(rule.appliesWhen, 'overBudget', true);
  });
  return routed ? null : 'over budget, and no approval rule routes over-budget requests: rejected';
}

/** What a change's rules are tested against, from its type, its costs and its stored assessment. */
export function changeRoutingSubject(change: {
  type: ChangeType;
  riskLevel: RiskLevel;
  highestCriticality: Criticality | null;
  oneOffCostMinor: number;
  recurringCostMinor: number;
  overBudget: boolean;
}): RoutingSubject {
  return {
    changeType: change.type,
    riskLevel: change.riskLevel,
    highestCriticality: change.highestCriticality,
    costMinor: change.oneOffCostMinor + change.recurringCostMinor,
    overBudget: change.overBudget,
  };
}

// ---------------------------------------------------------------------------------------------
// The condition language, checked when a rule is saved
// ---------------------------------------------------------------------------------------------

/** How deep anyOf may nest, and how many alternatives one may list: beyond that a rule is no longer read by people. */
export const MAX_CONDITION_DEPTH = 3;
export const MAX_ALTERNATIVES = 20;

export interface ConditionProblem {
  /** Where in the condition, e.g. ["anyOf", 1, "minRiskLevel"]; empty for the condition itself. */
  path: (string | number)[];
  message: string;
}

interface ConditionValue {
  expects: string;
  accepts: (value: unknown) => boolean;
}

const oneOf = (values: readonly string[]): ConditionValue => ({
  expects: `one of ${values.join(', ')}`,
  accepts: (value) => typeof value === 'string' && values.includes(value),
});

const yesOrNo: ConditionValue = { expects: 'true or false', accepts: (value) => typeof value === 'boolean' };

/**
 * Every condition key but anyOf: the processes whose routing subject carries what it asks
 * (assessChange's subject for a change, checkPurchase's for a purchase request) and its values.
 */
const CONDITION_KEYS: { [K in Exclude<keyof RuleCondition, 'anyOf'>]-?: { processes: readonly ApprovalProcess[]; value: ConditionValue } } = {
  minRiskLevel: { processes: ['change'], value: oneOf(RISK_LEVELS) },
  minCriticality: { processes: ['change'], value: oneOf(CRITICALITIES) },
  minCostMinor: {
    processes: ['change', 'procurement'],
    value: {
      expects: `a whole number of minor units from 0 to ${MAX_AMOUNT_MINOR}`,
      accepts: (value) => Number.isSafeInteger(value) && (value as number) >= 0 && (value as number) <= MAX_AMOUNT_MINOR,
    },
  },
  changeType: { processes: ['change'], value: oneOf(CHANGE_TYPES) },
  newVendor: { processes: ['procurement'], value: yesOrNo },
  offCatalogue: { processes: ['procurement'], value: yesOrNo },
  overBudget: { processes: ['change', 'procurement'], value: yesOrNo },
};

/** Checks a condition for the rules of one process, before it is saved. */
export interface ConditionCheck {
  /** The keys a rule of the process may use. */
  keys: readonly string[];
  /** Every problem of the condition, each at its place; none when it may be saved. */
  problemsOf(condition: unknown): ConditionProblem[];
}

/**
 * The condition language of a process: exactly the keys its subject can answer, each value one it
 * can take, anyOf a non-empty list nested at most MAX_CONDITION_DEPTH deep. An unknown key is
 * refused with the keys allowed, a bad value with the values allowed.
 */
export function ruleConditionFor(process: ApprovalProcess): ConditionCheck {
  const asked = Object.entries(CONDITION_KEYS).filter(([, spec]) => spec.processes.includes(process)).map(([key]) => key);
  // A subject nothing can be asked of (a steward case: no cost, risk or type) takes only {}; anyOf would choose between nothings.
  const keys = asked.length ? [...asked, 'anyOf'] : [];
  const allowed = keys.length ? `a ${process} rule may use ${keys.join(', ')}` : `a ${process} rule takes no condition: {} always applies`;
  const problemsAt = (condition: unknown, path: (string | number)[], depth: number): ConditionProblem[] => {
    if (!isConditionObject(condition)) {
      return [{ path, message: 'a condition is an object of keys that must all hold, e.g. {"minCostMinor": 100000}; {} always applies' }];
    }
    return Object.entries(condition).flatMap(([key, value]): ConditionProblem[] => {
      const at = [...path, key];
      if (!keys.includes(key)) {
        const known = Object.hasOwn(CONDITION_KEYS, key) ? `${key} is not known of a ${process} request` : `unknown condition key "${key}"`;
        return [{ path: at, message: `${known}: ${allowed}` }];
      }
      if (key === 'anyOf') {
        if (!Array.isArray(value) || value.length === 0 || value.length > MAX_ALTERNATIVES) {
          return [{ path: at, message: `anyOf must be a list of 1 to ${MAX_ALTERNATIVES} conditions, one of which must hold` }];
        }
        if (depth >= MAX_CONDITION_DEPTH) return [{ path: at, message: `anyOf nests at most ${MAX_CONDITION_DEPTH} deep` }];
        return value.flatMap((alternative, i) => problemsAt(alternative, [...at, i], depth + 1));
      }
      const spec = CONDITION_KEYS[key as keyof typeof CONDITION_KEYS];
      return spec.value.accepts(value) ? [] : [{ path: at, message: `${key} must be ${spec.value.expects}, not ${JSON.stringify(value)}` }];
    });
  };
  return { keys, problemsOf: (condition) => problemsAt(condition, [], 0) };
}

function delegationOf(approverId: string, delegations: Delegation[]): Delegation | undefined {
  return delegations.find((d) => d.delegatorId === approverId);
}

/**
 * The first delegation of the approver hands the task to its delegate, who acts for them. Not when the
 * delegate is the requester (no one approves their own request), and not along chains: a delegate's own
 * delegation is not followed.
 */
export function applyDelegation(approverId: string, delegations: Delegation[], requesterId: string): PlannedApprover {
  const delegation = delegationOf(approverId, delegations);
  if (!delegation || delegation.delegateId === requesterId || delegation.delegateId === approverId) {
    return { approverId, delegatedFromId: null };
  }
  return { approverId: delegation.delegateId, delegatedFromId: approverId };
}

function candidatesFor(rule: ApprovalRule, directory: ApproverDirectory, notes: string[]): string[] {
  switch (rule.approverKind) {
    case 'manager': {
      const manager = directory.managerOf[directory.requesterId] ?? null;
      if (manager === null) notes.push('requester has no manager');
      return manager === null ? [] : [manager];
    }
    case 'cost_centre_owner':
      return directory.costCentreOwnerId === null ? [] : [directory.costCentreOwnerId];
    case 'asset_owner':
      return directory.assetOwnerIds;
    case 'service_owner':
      return directory.serviceOwnerIds;
    case 'group':
      return rule.groupId === null ? [] : (directory.groupMembers[rule.groupId] ?? []);
  }
}

const SOD_NOTE = 'requester excluded (segregation of duties)';

/** People who may take a step: without duplicates, without the requester, delegations applied. */
function eligibleApprovers(ids: string[], directory: ApproverDirectory, notes: string[]): PlannedApprover[] {
  const { requesterId, delegations } = directory;
  const unique = [...new Set(ids)];
  if (unique.includes(requesterId) && !notes.includes(SOD_NOTE)) notes.push(SOD_NOTE);
  const approvers: PlannedApprover[] = [];
  for (const id of unique.filter((candidate) => candidate !== requesterId)) {
    if (delegationOf(id, delegations)?.delegateId === requesterId) {
      notes.push(`delegation of ${id} to the requester ignored (segregation of duties)`);
    }
    const approver = applyDelegation(id, delegations, requesterId);
    // Two people who delegated to the same delegate make one task for them, recorded against the first.
    if (!approvers.some((a) => a.approverId === approver.approverId)) approvers.push(approver);
  }
  return approvers;
}

function requiredApprovals(rule: ApprovalRule, approverCount: number, notes: string[]): number {
  switch (rule.policy) {
    case 'any':
      return 1;
    case 'all':
      return approverCount;
    case 'quorum': {
      // A quorum rule without a usable quorum asks everyone rather than letting fewer people decide.
      if (rule.quorum === null || !Number.isInteger(rule.quorum) || rule.quorum < 1) {
        if (approverCount > 0) notes.push('quorum not set: all approvers required');
        return approverCount;
      }
      if (rule.quorum > approverCount && approverCount > 0) {
        const available = `${approverCount} approver${approverCount === 1 ? '' : 's'}`;
        notes.push(`quorum lowered from ${rule.quorum} to ${approverCount}: only ${available}`);
      }
      return Math.min(rule.quorum, approverCount);
    }
  }
}

/**
 * One step per rule that applies, in stepOrder then name order. A step nobody eligible can take goes to
 * the process owners; one they cannot take either keeps no approvers, and the caller rejects it.
 */
export function planApprovalSteps(rules: ApprovalRule[], subject: RoutingSubject, directory: ApproverDirectory): PlannedStep[] {
  return rules
    .filter((rule) => ruleApplies(rule.appliesWhen, subject))
    .sort((a, b) => a.stepOrder - b.stepOrder || a.name.localeCompare(b.name, 'en'))
    .map((rule, i) => {
      const notes: string[] = [];
      let approvers = eligibleApprovers(candidatesFor(rule, directory, notes), directory, notes);
      if (approvers.length === 0) {
        approvers = eligibleApprovers(directory.fallbackApproverIds, directory, notes);
        notes.push(approvers.length > 0 ? 'no eligible approver: routed to the process owners' : 'no approver available');
      }
      return {
        index: i + 1,
        ruleId: rule.id,
        ...(rule.version !== undefined ? { ruleVersion: rule.version } : {}),
        name: rule.name,
        policy: rule.policy,
        required: requiredApprovals(rule, approvers.length, notes),
        onExpiry: rule.onExpiry,
        approvers,
        notes,
      };
    });
}

/** Decisions in the order they were made. A step without approvers can never be approved, so it is rejected. */
export function stepOutcome(
  step: { policy: ApprovalPolicy; required: number; approverCount: number },
  decisions: Decision[],
): StepOutcome {
  const { policy, approverCount } = step;
  if (approverCount <= 0) return 'rejected';
  const approvals = decisions.filter((d) => d === 'approved').length;
  const rejections = decisions.filter((d) => d === 'rejected').length;
  switch (policy) {
    case 'any':
      return decisions[0] ?? 'pending';
    case 'all':
      if (rejections > 0) return 'rejected';
      return approvals >= approverCount ? 'approved' : 'pending';
    case 'quorum': {
      // Never fewer than one approval, whatever a stored step says.
      const required = Math.max(1, step.required);
      if (approvals >= required) return 'approved';
      // Rejected once too few approvers are left undecided to still reach the quorum.
      return rejections > approverCount - required ? 'rejected' : 'pending';
    }
  }
}

/** Who an expired task escalates to: the approver's manager, never the requester. */
export function escalationTarget(approverId: string, directory: Pick<ApproverDirectory, 'managerOf' | 'requesterId'>): string | null {
  const manager = directory.managerOf[approverId] ?? null;
  if (manager === null || manager === directory.requesterId || manager === approverId) return null;
  return manager;
}

/** What deciding who takes over a deactivated approver's task needs to know. */
export interface HandoverFacts {
  requesterId: string;
  /** person id -> their manager's id */
  managerOf: Record<string, string | null>;
  /** Delegations in force. */
  delegations: Delegation[];
  /** The active process owners, in name order: the takers of last resort. */
  processOwnerIds: string[];
  /** The people who are active now; nobody else is given work. */
  activeIds: string[];
  /** The people who already hold an approval in the step: a second one would count them twice. */
  inStepIds: string[];
}

export interface HandoverTarget extends PlannedApprover {
  via: 'delegate' | 'manager' | 'process_owner';
}

/**
 * Who takes over the open task of an approver who is no longer active: their delegate in force,
 * else their manager, else the first process owner. Never the requester (segregation of duties),
 * never someone already asked in the step, never an inactive person; null when nobody is left.
 */
export function handoverTarget(approverId: string, facts: HandoverFacts): HandoverTarget | null {
  const eligible = (id: string | null | undefined): id is string =>
    !!id && id !== approverId && id !== facts.requesterId && facts.activeIds.includes(id) && !facts.inStepIds.includes(id);
  const delegate = delegationOf(approverId, facts.delegations)?.delegateId;
  if (eligible(delegate)) return { approverId: delegate, delegatedFromId: approverId, via: 'delegate' };
  const manager = facts.managerOf[approverId];
  if (eligible(manager)) return { approverId: manager, delegatedFromId: null, via: 'manager' };
  const owner = facts.processOwnerIds.find(eligible);
  return owner ? { approverId: owner, delegatedFromId: null, via: 'process_owner' } : null;
}
