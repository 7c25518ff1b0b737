import { ApplicationFailure } from '@temporalio/activity';
import type { Knex } from 'knex';
import { planFromRules } from '../model/approval-rules';
import { cancelOpenDecision, letContractLapse, renewContractTerm } from '../model/renewal-decisions';
import type {
  PlannedRenewalStep,
  RenewalActivityBase,
  RenewalCancelInput,
  RenewalDecisionState,
  SettledRenewal,
  SettleRenewalInput,
} from '../workflows/renewal-decision/contract';
import { RENEWAL_PROCESS } from '../workflows/renewal-decision/contract';
import { recordOnce } from './audit';

const SUBJECT = 'contract_renewal';
const SYSTEM = 'system:renewal-decisions';

/** Failure types of the renewal decision activities. */
export const RenewalDecisionFailure = {
  /** Bad data: the decision, its contract or the term it is about is gone, or the decision was settled already. */
  notFound: 'RenewalDecisionNotFound',
  settled: 'RenewalDecisionSettled',
  /**
   * Retried, never final: nobody can be asked (no active renewal rule, nobody active in its group
   * and no process owner to fall back on). Once the retries run out the decision waits for
   * attention and the process owners are told; it is planned again when retried.
   */
  nobodyToAsk: 'NobodyToAsk',
} as const;

async function renewalRow(trx: Knex, renewalId: string, lock = false): Promise<Record<string, any>> {
  const q = trx('contract_renewals').where({ id: renewalId });
  const row = await (lock ? q.forUpdate() : q).first();
  if (!row) throw ApplicationFailure.nonRetryable(`renewal decision ${renewalId} does not exist`, RenewalDecisionFailure.notFound);
  return row;
}

/**
 * The renewal decision activities: who is asked (the approval rules of process renewal, Finance as
 * seeded), and carrying out the decision on the contract, the decision and its finding at once.
 */
export function createRenewalDecisionActivities({ db }: { db: Knex }) {
  return {
    /** Plans the decision's approval steps from the renewal rules; nobody to ask is retried, then waits for attention. */
    async planRenewalApprovals(input: RenewalActivityBase): Promise<PlannedRenewalStep> {
      return recordOnce(
        db,
        { ...input, actor: SYSTEM, subjectType: SUBJECT, subjectId: input.renewalId, action: 'approvals_planned' },
        async (trx) => {
          const r = await renewalRow(trx, input.renewalId);
          const requesterId: string = r.requested_by_id ?? '';
          if (r.state !== 'open') return { result: { renewalState: r.state, requesterId, steps: [] } };
          const approvers = { requesterId, managerId: null, costCentreOwnerId: null, assetOwnerIds: [], serviceOwnerIds: [] };
          const { plan } = await planFromRules(trx, RENEWAL_PROCESS, { costMinor: 0 }, approvers);
          const empty = plan.find((step) => step.approvers.length === 0);
          if (plan.length === 0 || empty) {
            // Never a silent approve: a plan without approvers would pass (no steps) or reject (an empty step) by itself.
            const why = plan.length === 0
              ? 'no active approval rule of process renewal applies'
              : `nobody active can be asked in step ${empty!.name} (its group has no active member and no other process owner can be asked)`;
            throw ApplicationFailure.retryable(`${r.number}: ${why}; add someone to the group or a rule, then retry the step`, RenewalDecisionFailure.nobodyToAsk);
          }
          return { result: { renewalState: r.state, requesterId, steps: plan }, details: { steps: plan.length } };
        },
      );
    },

    /**
     * Carries out the approvers' decision in one transaction: renew writes the next term on the
     * decision (the contract keeps its current term), let lapse stops the contract renewing by
     * itself; the decision records who, when and why, and the finding that asked for it is resolved.
     * A contract whose decided term is gone (its dates edited meanwhile) is bad data: nothing is written.
     */
    async settleRenewalDecision(input: SettleRenewalInput): Promise<SettledRenewal> {
      return recordOnce(
        db,
        { ...input, actor: input.actorEmail, subjectType: SUBJECT, subjectId: input.renewalId, action: 'decided', fromState: 'open', toState: input.outcome },
        async (trx) => {
          const r = await renewalRow(trx, input.renewalId, true);
          if (r.state !== 'open') throw ApplicationFailure.nonRetryable(`${r.number} is ${r.state} already`, RenewalDecisionFailure.settled);
          const write = { ...input, number: r.number };
          const carried = input.outcome === 'renew'
            ? await renewContractTerm(trx, r.contract_id, r.term_ends_on, write)
            : await letContractLapse(trx, r.contract_id, r.term_ends_on, write);
          if ('gone' in carried) throw ApplicationFailure.nonRetryable(`${r.number}: ${carried.gone}`, RenewalDecisionFailure.notFound);
          const { next } = carried;
          await trx('contract_renewals').where({ id: input.renewalId }).update({
            state: input.outcome, decided_by_id: input.actorId, decided_at: trx.fn.now(), comment: input.comment,
            next_starts_on: next?.startsOn ?? null, next_ends_on: next?.endsOn ?? null, next_value_minor: next?.valueMinor ?? null,
          });
          if (r.finding_id) {
            const note = `${r.number}: ${input.outcome === 'renew' ? 'renewed' : 'let lapse'} by ${input.actorEmail}${input.comment ? `: ${input.comment}` : ''}`;
            await trx('optimisation_findings').where({ id: r.finding_id }).whereIn('state', ['open', 'acted'])
              .update({ state: 'resolved', closed_at: trx.fn.now(), closing_note: note.slice(0, 2000) });
          }
          return {
            result: { state: input.outcome, term: carried.term, next },
            details: { number: r.number, contractId: r.contract_id, findingId: r.finding_id, comment: input.comment, term: carried.term, next },
          };
        },
      );
    },

    /**
     * Cancels a decision: withdrawn by a person, asked about too often without a decision, or about
     * a term that is gone. The contract stays as it is and its finding is open again; a decision
     * settled meanwhile stays as it was.
     */
    async cancelRenewalDecision(input: RenewalCancelInput): Promise<{ state: RenewalDecisionState }> {
      return recordOnce(
        db,
        {
          ...input, actor: input.actor?.email ?? SYSTEM, subjectType: SUBJECT, subjectId: input.renewalId, action: 'cancelled', fromState: 'open', toState: 'cancelled',
          details: { rounds: input.rounds, reason: input.reason },
        },
        async (trx) => {
          const state = await cancelOpenDecision(trx, input.renewalId, { actorId: input.actor?.id ?? null, reason: input.reason });
          if (!state) throw ApplicationFailure.nonRetryable(`renewal decision ${input.renewalId} does not exist`, RenewalDecisionFailure.notFound);
          return { result: { state } };
        },
      );
    },
  };
}

export type RenewalDecisionActivities = ReturnType<typeof createRenewalDecisionActivities>;
