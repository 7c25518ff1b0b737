/**
 * How Northwind runs its processes: approval rules for changes and procurement, the standard
 * change models, SLA targets, the weekly maintenance window and the quarter-end change freeze.
 */
import type { GroupName } from './organisation';

export const APPROVAL_RULES: {
  process: 'change' | 'procurement'; stepOrder: number; name: string; appliesWhen: Record<string, unknown>;
  approverKind: 'manager' | 'cost_centre_owner' | 'service_owner' | 'group'; group?: GroupName;
  policy: 'any' | 'all' | 'quorum'; quorum?: number; onExpiry?: 'reject' | 'escalate';
}[] = [
  { process: 'change', stepOrder: 1, name: 'Manager', appliesWhen: {}, approverKind: 'manager', policy: 'any' },
  { process: 'change', stepOrder: 2, name: 'Service owners', appliesWhen: { minCriticality: 'tier_1' }, approverKind: 'service_owner', policy: 'all' },
  { process: 'change', stepOrder: 3, name: 'CAB', appliesWhen: { minRiskLevel: 'high' }, approverKind: 'group', group: 'Change Advisory Board', policy: 'quorum', quorum: 2 },
  { process: 'change', stepOrder: 3, name: 'Emergency CAB', appliesWhen: { changeType: 'emergency' }, approverKind: 'group', group: 'Emergency CAB', policy: 'any', onExpiry: 'escalate' },
  { process: 'change', stepOrder: 4, name: 'Finance', appliesWhen: { minCostMinor: 500_000 }, approverKind: 'group', group: 'Finance', policy: 'any' },
  { process: 'procurement', stepOrder: 1, name: 'Manager', appliesWhen: {}, approverKind: 'manager', policy: 'any' },
  { process: 'procurement', stepOrder: 2, name: 'Cost centre owner', appliesWhen: { minCostMinor: 100_000 }, approverKind: 'cost_centre_owner', policy: 'any' },
  { process: 'procurement', stepOrder: 3, name: 'Finance', appliesWhen: { anyOf: [{ minCostMinor: 1_000_000 }, { overBudget: true }] }, approverKind: 'group', group: 'Finance', policy: 'any' },
  { process: 'procurement', stepOrder: 4, name: 'Security', appliesWhen: { anyOf: [{ newVendor: true }, { offCatalogue: true }] }, approverKind: 'group', group: 'Security', policy: 'any' },
];

export const CHANGE_MODELS: { name: string; description: string; riskCeiling: 'low' | 'moderate' }[] = [
  { name: 'Add memory to a server', riskCeiling: 'moderate',
    description: 'Install vendor-approved DIMMs in a rack server inside a maintenance window, after its workloads have been moved off; verify with the vendor diagnostics.' },
  { name: 'Replace a failed laptop', riskCeiling: 'low',
    description: 'Swap a user\'s failed laptop for an available one from stock, restore the profile, and send the failed unit for repair or disposal.' },
  { name: 'Patch an application server', riskCeiling: 'low',
    description: 'Apply the monthly operating-system security patches to one application server of a redundant pair and reboot it, one node at a time.' },
];

/** How long a process may sit in a state before it breaches its SLA, in minutes. */
export const SLA_TARGETS: { process: 'change' | 'procurement' | 'asset_lifecycle'; state: string; minutes: number }[] = [
  { process: 'change', state: 'new', minutes: 60 },
  { process: 'change', state: 'assess', minutes: 4 * 60 },
  { process: 'change', state: 'authorize', minutes: 3 * 24 * 60 },
  { process: 'change', state: 'review', minutes: 5 * 24 * 60 },
  { process: 'procurement', state: 'budget_check', minutes: 3 * 24 * 60 },
  { process: 'procurement', state: 'authorize', minutes: 5 * 24 * 60 },
  { process: 'procurement', state: 'ordering', minutes: 21 * 24 * 60 },
  { process: 'procurement', state: 'partially_received', minutes: 21 * 24 * 60 },
  { process: 'asset_lifecycle', state: 'in_maintenance', minutes: 14 * 24 * 60 },
  { process: 'asset_lifecycle', state: 'in_transit', minutes: 7 * 24 * 60 },
  { process: 'asset_lifecycle', state: 'missing', minutes: 3 * 24 * 60 },
];

/** Saturday (UTC weekday 6) 22:00 to Sunday 04:00 UTC, for the weeks ahead. */
export const MAINTENANCE_WINDOW = { name: 'Weekly maintenance window', weekday: 6, startHour: 22, hours: 6, weeks: 8 };

/** No changes in the last week of a quarter and the first two days of the next. */
export const QUARTER_END_FREEZE = { daysBefore: 7, daysAfter: 2 };
