import { ApplicationFailure } from '@temporalio/activity';
import { WorkflowNotFoundError, type Client } from '@temporalio/client';
import type { Knex } from 'knex';
import { planApprovalSteps, type PlannedStep } from '../domain/approval-routing';
import { planFromRules } from '../model/approval-rules';
import { activeDelegations } from '../model/approvals';
import { caseRecords, proposedSurvivor } from '../model/reconciliation/cases';
import { MergeRefused, mergeRecords } from '../model/reconciliation/merge';
import type {
  CaseCancelInput,
  CaseRefusalInput,
  PlannedCaseStep,
  SettleCaseInput,
  SettledCase,
  StewardCaseActivityBase,
  StewardCaseState,
} from '../workflows/steward-case/contract';
import { stewardCaseClosedSignal } from '../workflows/steward-case/contract';
import { recordOnce } from './audit';

const SUBJECT = 'reconciliation_case';
const SYSTEM = 'system:steward-cases';

/** Failure types of the steward case activities; each is bad data, final for the decision that met it. */
export const StewardCaseFailure = {
  notFound: 'StewardCaseNotFound',
  mergeRefused: 'MergeRefused',
} as const;

const STATE_OF = { merge: 'merged', keep_both: 'kept_both', ignore: 'ignored' } as const satisfies Record<SettleCaseInput['resolution'], StewardCaseState>;

async function caseRow(trx: Knex, caseId: string, lock = false): Promise<Record<string, any>> {
  const q = trx('reconciliation_cases').where({ id: caseId });
  const row = await (lock ? q.forUpdate() : q).first();
  if (!row) throw ApplicationFailure.nonRetryable(`steward case ${caseId} does not exist`, StewardCaseFailure.notFound);
  return row;
}

/**
 * Locks the case a merge settles and every other open case naming one of its records, in one
 * order (by id), before the merge locks the records: two merges of cases that share a record
 * wait for each other instead of deadlocking, and the cancelling below finds its cases held.
 */
async function lockCasesOfMerge(trx: Knex, caseId: string): Promise<Record<string, any>> {
  const { ci_ids: ciIds } = await caseRow(trx, caseId);
  const locked: Record<string, any>[] = (await trx.raw(
    `SELECT * FROM reconciliation_cases WHERE id = ? OR (state = 'open' AND ci_ids && ?::uuid[]) ORDER BY id FOR UPDATE`,
    [caseId, ciIds],
  )).rows;
  return locked.find((c) => c.id === caseId)!;
}

/**
 * Cancels, with the merge, every other open case that names a record merged away: what it asks is
 * moot (the record is retired into the survivor). Each is audited; its workflow is told after the commit.
 */
async function cancelCasesOfMerged(
  trx: Knex, input: SettleCaseInput, caseNumber: string, survivorCiId: string, loserIds: string[], records: { id: string; number: string }[],
): Promise<SettledCase['cancelledCases']> {
  const numberOf = (id: string) => records.find((r) => r.id === id)?.number ?? id;
  const reason = `${loserIds.map(numberOf).join(' and ')} merged into ${numberOf(survivorCiId)} by ${caseNumber}: nothing is left to decide`;
  const cancelled: { id: string; number: string; workflow_id: string | null }[] = await trx('reconciliation_cases')
    .where({ state: 'open' }).whereNot({ id: input.caseId }).whereRaw('ci_ids && ?::uuid[]', [loserIds])
    .update({ state: 'cancelled', decided_at: trx.fn.now(), comment: reason })
    .returning(['id', 'number', 'workflow_id']);
  if (cancelled.length > 0) {
    await trx('audit_log').insert(cancelled.map((other) => ({
      idempotency_key: `${input.idempotencyKey}:cancelled:${other.id}`, actor: input.actorEmail, subject_type: SUBJECT, subject_id: other.id,
      action: 'cancelled', from_state: 'open', to_state: 'cancelled', workflow_id: input.workflowId,
      details: { reason, byCase: caseNumber, survivorCiId, mergedCiIds: loserIds },
    })));
  }
  return cancelled.map((other) => ({ caseId: other.id, number: other.number, workflowId: other.workflow_id }));
}

/**
 * The steward case activities: who is asked (the data stewards by the approval rules of process
 * reconciliation; the asset managers when no steward is active), and the settling of a decision.
 */
export function createStewardCaseActivities({ db, temporal }: { db: Knex; temporal: Client }) {
  /** Ends the open steps of cases a merge cancelled; again harmlessly on a retry, and a finished workflow needs nothing. */
  async function tellCancelledCases(cases: SettledCase['cancelledCases']): Promise<void> {
    for (const c of cases) {
      if (!c.workflowId) continue;
      try {
        await temporal.workflow.getHandle(c.workflowId).signal(stewardCaseClosedSignal);
      } catch (error) {
        if (!(error instanceof WorkflowNotFoundError)) throw error;
      }
    }
  }

  return {
    /** Plans the case's approval step from the reconciliation rules; a rule whose group has nobody active asks the asset managers. */
    async planStewardCaseApprovals(input: StewardCaseActivityBase): Promise<PlannedCaseStep> {
      return recordOnce(
        db,
        { ...input, actor: SYSTEM, subjectType: SUBJECT, subjectId: input.caseId, action: 'approvals_planned' },
        async (trx) => {
          const c = await caseRow(trx, input.caseId);
          if (c.state !== 'open') return { result: { caseState: c.state, steps: [], note: null } };
          // Nobody asked a case's question: a feed raised it, so no requester is kept out.
          const approvers = { requesterId: '', managerId: null, costCentreOwnerId: null, assetOwnerIds: [], serviceOwnerIds: [] };
          const subject = { costMinor: 0 };
          const { rules, plan } = await planFromRules(trx, 'reconciliation', subject, approvers);
          const staffed = new Set<string>(await trx('group_members as gm').join('people as p', 'p.id', 'gm.person_id').join('groups as g', 'g.id', 'gm.group_id')
            .whereIn('gm.group_id', rules.map((r) => r.groupId).filter((id): id is string => id !== null)).where({ 'p.active': true, 'g.active': true })
            .distinct('gm.group_id').pluck('gm.group_id'));
          const unstaffed = rules.filter((r) => r.approverKind === 'group' && (r.groupId === null || !staffed.has(r.groupId)));
          let note: string | null = null;
          let steps: PlannedStep[] = plan;
          if (unstaffed.length > 0) {
            const assetManagers: string[] = await trx('person_roles as r').join('people as p', 'p.id', 'r.person_id')
              .where({ 'r.role': 'asset_manager', 'p.active': true }).orderBy('p.name').pluck('p.id');
            if (assetManagers.length > 0) {
              const directory = {
                requesterId: '', managerOf: {}, costCentreOwnerId: null, assetOwnerIds: [], serviceOwnerIds: [], groupMembers: {},
                delegations: await activeDelegations(trx), fallbackApproverIds: assetManagers,
              };
              steps = plan.map((step) => {
                const rule = unstaffed.find((r) => r.id === step.ruleId);
                if (!rule) return step;
                const [replanned] = planApprovalSteps([rule], subject, directory);
                return { ...replanned, index: step.index, notes: [...replanned.notes, 'no active member in the data stewards: the asset managers are asked'] };
              });
              note = 'Nobody in the data stewards group is active: the asset managers were asked instead.';
            }
          }
          return { result: { caseState: c.state, steps, note }, details: { steps: steps.length } };
        },
      );
    },

    /**
     * Carries out a steward's decision in one transaction: a merge moves everything of the loser to
     * the survivor and retires the loser; keep both and ignore record the state, so the pair is not
     * asked again. A merge the data forbids is refused for good, and nothing is written.
     */
    async settleStewardCase(input: SettleCaseInput): Promise<SettledCase> {
      const state = STATE_OF[input.resolution];
      const settled = await recordOnce(
        db,
        { ...input, actor: input.actorEmail, subjectType: SUBJECT, subjectId: input.caseId, action: 'settled', fromState: 'open', toState: state },
        async (trx) => {
          const c = input.resolution === 'merge' ? await lockCasesOfMerge(trx, input.caseId) : await caseRow(trx, input.caseId, true);
          if (c.state !== 'open') {
            throw ApplicationFailure.nonRetryable(`the case is ${c.state} already`, StewardCaseFailure.mergeRefused);
          }
          const ciIds = c.ci_ids as string[];
          let survivorCiId: string | null = null;
          const merges: Record<string, unknown>[] = [];
          let moved: Record<string, number> | null = null;
          let cancelledCases: SettledCase['cancelledCases'] = [];
          if (input.resolution === 'merge') {
            const records = await caseRecords(trx, ciIds);
            survivorCiId = input.survivorCiId ?? proposedSurvivor(records);
            if (!ciIds.includes(survivorCiId)) {
              throw ApplicationFailure.nonRetryable('the record chosen to stay is not one of the case\'s records', StewardCaseFailure.mergeRefused);
            }
            moved = {};
            const loserIds = ciIds.filter((id) => id !== survivorCiId);
            try {
              for (const loserId of loserIds) {
                const merged = await mergeRecords(trx, survivorCiId, loserId, input.idempotencyKey);
                merges.push({ loserId, loserNumber: records.find((r) => r.id === loserId)?.number ?? null, counts: merged.counts, loserIdentifiers: merged.loserIdentifiers });
                for (const [what, n] of Object.entries(merged.counts)) moved[what] = (moved[what] ?? 0) + n;
              }
            } catch (error) {
              if (error instanceof MergeRefused) throw ApplicationFailure.nonRetryable(error.message, StewardCaseFailure.mergeRefused);
              throw error;
            }
            // The records' own histories say what became of them.
            for (const m of merges) {
              await trx('audit_log').insert([
                {
                  idempotency_key: `${input.idempotencyKey}:merged:${String(m.loserId)}`, actor: input.actorEmail, subject_type: 'configuration_item', subject_id: m.loserId,
                  action: 'merged_into', details: { caseNumber: c.number, survivorCiId, counts: m.counts, identifiers: m.loserIdentifiers }, workflow_id: input.workflowId,
                },
                {
                  idempotency_key: `${input.idempotencyKey}:merged-from:${String(m.loserId)}`, actor: input.actorEmail, subject_type: 'configuration_item', subject_id: survivorCiId,
                  action: 'merged_from', details: { caseNumber: c.number, loserCiId: m.loserId, counts: m.counts }, workflow_id: input.workflowId,
                },
              ]);
            }
            cancelledCases = await cancelCasesOfMerged(trx, input, c.number as string, survivorCiId, loserIds, records);
          }
          await trx('reconciliation_cases').where({ id: input.caseId }).update({
            state, survivor_ci_id: survivorCiId, decided_by_id: input.actorId, decided_at: trx.fn.now(), comment: input.comment,
          });
          return {
            result: { state, survivorCiId, moved, cancelledCases },
            details: { caseNumber: c.number, resolution: input.resolution, survivorCiId, records: ciIds, comment: input.comment, merges },
          };
        },
      );
      await tellCancelledCases(settled.cancelledCases);
      return settled;
    },

    /**
     * Ends a case the stewards were asked about too often without a decision that could be carried
     * out: cancelled, the records left as they are, the pair free again (a feed reporting it again
     * opens a new case). A case settled meanwhile stays as it was.
     */
    async cancelStewardCase(input: CaseCancelInput): Promise<{ state: StewardCaseState }> {
      return recordOnce(
        db,
        { ...input, actor: SYSTEM, subjectType: SUBJECT, subjectId: input.caseId, action: 'cancelled', fromState: 'open', toState: 'cancelled', details: { rounds: input.rounds, reason: input.reason } },
        async (trx) => {
          const c = await caseRow(trx, input.caseId, true);
          if (c.state !== 'open') return { result: { state: c.state } };
          await trx('reconciliation_cases').where({ id: input.caseId }).update({ state: 'cancelled', decided_at: trx.fn.now(), comment: input.reason });
          return { result: { state: 'cancelled' as const } };
        },
      );
    },

    /** Records on the case why a decision could not be carried out; the steward is asked again. */
    async recordStewardCaseRefusal(input: CaseRefusalInput): Promise<void> {
      await recordOnce(
        db,
        {
          ...input, actor: input.actorEmail, subjectType: SUBJECT, subjectId: input.caseId, action: 'settle_refused',
          details: { round: input.round, resolution: input.resolution, reason: input.reason },
        },
        async () => ({ result: null }),
      );
    },
  };
}

export type StewardCaseActivities = ReturnType<typeof createStewardCaseActivities>;
