/**
 * The processes assetflow runs, by the names the process index, SLA targets and metrics use, and
 * the states each one ends in.
 */
import { ASSET_FINAL_STATES } from './asset-lifecycle';
import { CHANGE_FINAL_STATES } from './change-request';
import { PURCHASE_FINAL_STATES } from './procurement';
import { CASE_FINAL_STATES } from './reconciliation';

export const PROCESS_KINDS = ['change', 'procurement', 'asset_lifecycle', 'reconciliation', 'renewal'] as const;
export type ProcessKind = (typeof PROCESS_KINDS)[number];

export const FINAL_STATES: Record<ProcessKind, readonly string[]> = {
  change: CHANGE_FINAL_STATES,
  procurement: PURCHASE_FINAL_STATES,
  asset_lifecycle: ASSET_FINAL_STATES,
  reconciliation: CASE_FINAL_STATES,
  renewal: ['renew', 'let_lapse', 'cancelled'],
};

/** A contract renewal decision (issue 17): open while its approvers are asked, then renewed, let lapse or cancelled. */
export const RENEWAL_STATES = ['open', 'renew', 'let_lapse', 'cancelled'] as const;
export type RenewalState = (typeof RENEWAL_STATES)[number];

export function isFinalState(process: ProcessKind, state: string): boolean {
  return FINAL_STATES[process].includes(state);
}
