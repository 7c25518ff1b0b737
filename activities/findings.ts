import { ApplicationFailure } from '@temporalio/activity';
import type { Knex } from 'knex';
import { FINDING_KINDS, type FindingKind } from '../domain/findings';
import { AttentionFailure } from '../workflows/attention/contract';
import { detectFindings, recordFindings, type ScanOutcome } from '../model/findings';
import type { ScanFindingsInput } from '../workflows/findings-scan/contract';
import { recordOnce } from './audit';

const isKind = (kind: string): kind is FindingKind => (FINDING_KINDS as readonly string[]).includes(kind);

export function createFindingActivities({ db }: { db: Knex }) {
  return {
    /**
     * One kind's detector and the merge of what it found, in one transaction with the scan's audit
     * row: the same key again answers what the first run recorded.
     */
    async scanFindings(input: ScanFindingsInput): Promise<ScanOutcome> {
      const { kind } = input;
      if (!isKind(kind)) throw ApplicationFailure.create({ type: AttentionFailure.invalidData, message: `no finding kind ${kind}`, nonRetryable: true });
      const asOf = new Date(input.asOf);
      if (Number.isNaN(asOf.getTime())) throw ApplicationFailure.create({ type: AttentionFailure.invalidData, message: `asOf ${input.asOf} is not an instant`, nonRetryable: true });
      return recordOnce(
        db,
        { idempotencyKey: input.idempotencyKey, workflowId: input.workflowId, actor: 'system', subjectType: 'findings_scan', subjectId: input.scanId, action: 'findings_scanned', details: { kind, asOf: input.asOf } },
        async (trx) => ({ result: await recordFindings(trx, kind, await detectFindings(trx, kind, asOf), asOf) }),
      );
    },
  };
}

export type FindingActivities = ReturnType<typeof createFindingActivities>;
