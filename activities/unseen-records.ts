import { ApplicationFailure } from '@temporalio/activity';
import type { Client } from '@temporalio/client';
import type { Knex } from 'knex';
import { isFinal } from '../domain/asset-lifecycle';
import { formatInstant } from '../domain/time-zones';
import { missingCandidacy, seenAgain, type Sighting } from '../domain/unseen-records';
import { pageLinks } from '../domain/web-links';
import {
  MISSING_CANDIDACY_ENDED_ACTION,
  MISSING_CANDIDATE_ACTION,
  candidatesSeenAgain,
  clearMissingCandidate,
  markMissingCandidate,
  missingCandidateAddressees,
  unseenPeriods,
  untoldCandidates,
  type WatchedRecord,
} from '../model/reconciliation/unseen';
import {
  LifecycleFailure,
  missingCandidateSignal,
  seenAgainSignal,
  type MissingCandidate,
  type ReminderSettings,
} from '../workflows/asset-lifecycle/contract';
import { lifecycleStartOptions } from '../workflows/asset-lifecycle/start';
import type {
  MissingCandidacyEndInput,
  MissingCandidateNoticeInput,
  UnseenBatchInput,
  UnseenBatchOutcome,
} from '../workflows/unseen-watch/contract';
import { recordOnce } from './audit';
import { addresseeTimeZone, queueEmail } from './email';

const ACTOR = 'system:unseen-watch';

export interface UnseenRecordActivityDeps {
  db: Knex;
  publicUrl: string;
  /** The organisation's time zone (TIME_ZONE), for addressees without their own. */
  timeZone?: string;
  temporal: Client;
  lifecycle: { taskQueue: string; reminders: ReminderSettings };
}

/** "discovery since 2 Nov 2026, 09:00, nor by mdm since …": when each watching source last saw it. */
function lastSeenText(lastSeen: readonly Sighting[], zone: string): string {
  return lastSeen.map((s) => `${s.source} since ${formatInstant(s.lastSeenAt, zone)}`).join(', nor by ');
}

/**
 * The unseen watch's activities, and the notices its lifecycle signals lead to. The watch signals
 * first and marks after: a crash between the two signals again on the next try, and the lifecycle
 * workflow takes a candidacy it already holds once.
 */
export function createUnseenRecordActivities({ db, publicUrl, timeZone, temporal, lifecycle }: UnseenRecordActivityDeps) {
  const links = pageLinks(publicUrl);

  /**
   * Goes through a batch one record at a time: a record that fails leaves the others told and
   * fails the batch after them (its retry finds only what is left); bad data is final.
   */
  async function eachRecord(records: WatchedRecord[], tell: (record: WatchedRecord) => Promise<boolean>): Promise<UnseenBatchOutcome> {
    let told = 0;
    let failure: unknown;
    for (const record of records) {
      try {
        if (await tell(record)) told += 1;
      } catch (error) {
        failure ??= error;
      }
    }
    if (failure) throw failure;
    return { found: records.length, told, last: records.at(-1)?.ciId ?? null };
  }

  return {
    /** Tells the lifecycle workflow of each record every watching source stopped seeing (not told yet) that it is a missing candidate. */
    async tellMissingCandidates(input: UnseenBatchInput): Promise<UnseenBatchOutcome> {
      const [periods, records] = await Promise.all([unseenPeriods(db), untoldCandidates(db, input)]);
      return eachRecord(records, async (record) => {
        const verdict = missingCandidacy(record.sightings, periods, input.now);
        // A batch may have seen it since the query: the rule decides on what is read now.
        if (!verdict.candidate) return false;
        const candidacy: MissingCandidate = { since: input.now, lastSeen: verdict.lastSeen };
        await temporal.workflow.signalWithStart('assetLifecycleWorkflow', {
          ...lifecycleStartOptions(record.asset, lifecycle),
          signal: missingCandidateSignal,
          signalArgs: [candidacy],
        });
        return markMissingCandidate(db, record.ciId, input.now);
      });
    },

    /** Ends the candidacy of each record told as one that a watching source sees again, and clears its mark. */
    async tellSeenAgain(input: UnseenBatchInput): Promise<UnseenBatchOutcome> {
      const [periods, records] = await Promise.all([unseenPeriods(db), candidatesSeenAgain(db, input)]);
      return eachRecord(records, async (record) => {
        const seen = seenAgain(record.sightings, periods, input.now);
        if (!seen) return false;
        // A retired asset's workflow has ended, and its candidacy with it: only the mark is left.
        if (!isFinal(record.asset.state)) {
          await temporal.workflow.signalWithStart('assetLifecycleWorkflow', {
            ...lifecycleStartOptions(record.asset, lifecycle),
            signal: seenAgainSignal,
            signalArgs: [{ seenAt: seen.lastSeenAt, source: seen.source }],
          });
        }
        await clearMissingCandidate(db, record.ciId);
        return true;
      });
    },

    /**
     * The notice of a new candidacy, once per key: the audit row, and an email to the asset's
     * manager (else the asset managers) to confirm it missing or say where it is. Answers whom it told.
     */
    async noticeMissingCandidate(input: MissingCandidateNoticeInput): Promise<string[]> {
      const asset = await db('assets').where({ id: input.assetId }).first('asset_tag', 'serial_number');
      if (!asset) throw ApplicationFailure.nonRetryable(`asset ${input.assetId} does not exist`, LifecycleFailure.assetNotFound);
      const { since, lastSeen } = input.candidacy;
      return recordOnce(
        db,
        {
          idempotencyKey: input.idempotencyKey,
          actor: ACTOR,
          subjectType: 'asset',
          subjectId: input.assetId,
          action: MISSING_CANDIDATE_ACTION,
          workflowId: input.workflowId,
          details: { since, lastSeen },
        },
        async (trx) => {
          const addressees = await missingCandidateAddressees(trx, input.assetId);
          for (const addressee of addressees) {
            const zone = await addresseeTimeZone(trx, addressee.email, timeZone);
            const seenText = lastSeenText(lastSeen, zone);
            await queueEmail(trx, {
              idempotencyKey: `${input.idempotencyKey}:${addressee.email}`,
              template: 'missing_candidate',
              to: [addressee.email],
              subject: `${asset.asset_tag} not seen by ${seenText}`,
              text: [
                `Hello ${addressee.name},`,
                '',
                `${asset.asset_tag} (serial ${asset.serial_number ?? 'unknown'}) has not been seen by ${seenText}: every feed that watches it has stopped seeing it.`,
                'Its state has not changed. Confirm it missing, or record where it is, on its page:',
                links.asset(asset.asset_tag),
                '',
                'A feed that sees it again ends this by itself.',
              ].join('\n'),
              subjectType: 'asset',
              subjectId: input.assetId,
              workflowId: input.workflowId,
            });
          }
          const told = addressees.map((a) => a.email);
          return { result: told, details: told.length ? { told } : { skipped: 'the asset has no manager and there is no asset manager' } };
        },
      );
    },

    /** Records that a candidacy ended: seen again, or settled by a move of the asset. */
    async endMissingCandidacy(input: MissingCandidacyEndInput): Promise<void> {
      await recordOnce(
        db,
        {
          idempotencyKey: input.idempotencyKey,
          actor: 'seenAgain' in input.endedBy ? ACTOR : input.endedBy.by,
          subjectType: 'asset',
          subjectId: input.assetId,
          action: MISSING_CANDIDACY_ENDED_ACTION,
          workflowId: input.workflowId,
          details: { since: input.since, ...input.endedBy },
        },
        async () => ({ result: true }),
      );
    },
  };
}

export type UnseenRecordActivities = ReturnType<typeof createUnseenRecordActivities>;
