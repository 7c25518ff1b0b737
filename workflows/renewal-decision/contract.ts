/**
 * The contract renewal decision (issue 17): one workflow per decision asks the renewal approvers,
 * through the shared approval steps, whether a contract inside its notice period is renewed or
 * let lapse, and records the decision. Scaffolding: filled in next.
 */
export const RENEWAL_PROCESS = 'renewal';

export const renewalDecisionWorkflowId = (number: string): string => `renewal:${number}`;

export interface RenewalDecisionInput {
  renewalId: string;
  number: string;
}

export interface RenewalDecisionResult {
  renewalId: string;
  state: 'renew' | 'let_lapse' | 'cancelled';
}
