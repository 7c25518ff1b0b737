import { log } from '@temporalio/activity';
import type { Knex } from 'knex';
import { duration } from '../domain/durations';
import { formatInstant } from '../domain/time-zones';
import { pageLinks } from '../domain/web-links';
import { processOwners } from '../model/directory';
import { recordSlaBreachNotice, unnoticedSlaBreaches, type SlaBreach } from '../model/sla-breaches';
import type { NotifySlaBreachesInput, SlaWatchOutcome } from '../workflows/sla-watch/contract';
import { recordOnce } from './audit';
import { addresseeTimeZone, queueEmail } from './email';

const ACTOR = 'system:sla-watch';

/** The audit subject of each kind of process. */
const SUBJECT_TYPES = { change: 'change_request', procurement: 'purchase_request', asset_lifecycle: 'asset', reconciliation: 'reconciliation_case', renewal: 'contract_renewal' } as const;

class AlreadyNotified extends Error {}
/** Nobody to tell: nothing is written, so that a later run tells the breach once someone can hear it. */
class NobodyToTell extends Error {}

export interface SlaBreachActivityDeps {
  db: Knex;
  publicUrl: string;
  /** The organisation's time zone (TIME_ZONE), for owners without their own. */
  timeZone?: string;
}

/** The SLA watch's one activity: tells the process owners of each new breach, once. */
export function createSlaBreachActivities({ db, publicUrl, timeZone }: SlaBreachActivityDeps) {
  const links = pageLinks(publicUrl);

  async function emailText(trx: Knex, breach: SlaBreach, owner: { email: string }, now: number): Promise<string> {
    const zone = await addresseeTimeZone(trx, owner.email, timeZone);
    const entered = new Date(breach.stateEnteredAt);
    return [
      `${breach.businessNumber} "${breach.title}" has been in the state "${breach.state.replaceAll('_', ' ')}" since ${formatInstant(entered, zone)}.`,
      `Its SLA target for that state is ${duration(breach.slaDueAt.getTime() - entered.getTime())}, so it was due by ${formatInstant(breach.slaDueAt, zone)}: it is ${duration(now - breach.slaDueAt.getTime())} late.`,
      '',
      `Open the process to see whom it waits for, send a reminder or reassign an approval: ${links.process(breach.workflowId)}`,
      '',
      'You receive this once per breach, as a process owner.',
    ].join('\n');
  }

  /**
   * The notice, an email to each active process owner and the audit row, in one transaction; false
   * when told already, or when there is no active process owner to tell (nothing is written then).
   */
  async function notify(breach: SlaBreach): Promise<boolean> {
    const key = `sla-breach:${breach.workflowId}:${breach.state}:${breach.stateEnteredAt}`;
    return recordOnce(
      db,
      {
        idempotencyKey: key,
        actor: ACTOR,
        subjectType: SUBJECT_TYPES[breach.process],
        subjectId: breach.subjectId,
        workflowId: breach.workflowId,
        action: 'sla_breach_notified',
        details: { state: breach.state, stateEnteredAt: breach.stateEnteredAt, slaDueAt: breach.slaDueAt.toISOString() },
      },
      async (trx) => {
        // Another run told it first: roll back, so its audit row and emails stay the only ones.
        if (!(await recordSlaBreachNotice(trx, breach))) throw new AlreadyNotified();
        const owners = await processOwners(trx);
        if (owners.length === 0) throw new NobodyToTell();
        const now = Date.now();
        for (const owner of owners) {
          await queueEmail(trx, {
            idempotencyKey: `${key}:${owner.id}`,
            template: 'sla_breach',
            to: [owner.email],
            subject: `SLA breached: ${breach.businessNumber} ${breach.title}`,
            text: await emailText(trx, breach, owner, now),
            subjectType: SUBJECT_TYPES[breach.process],
            subjectId: breach.subjectId,
            workflowId: breach.workflowId,
          });
        }
        return { result: true, details: { notified: owners.map((o) => o.email) } };
      },
    ).catch((error: unknown) => {
      // The last process owner left since the run began: the breach waits, as the run's other ones do.
      if (error instanceof AlreadyNotified || error instanceof NobodyToTell) return false;
      throw error;
    });
  }

  return {
    /**
     * Tells the process owners of the breaches not told yet, at most `limit`, the longest overdue
     * first. A breach that fails for good (bad data) fails the run after the others were told;
     * anything else is retried, and whatever a run leaves the next one finds. With no active
     * process owner nothing is written: the breaches are found again, and told once there is one.
     */
    async notifySlaBreaches(input: NotifySlaBreachesInput): Promise<SlaWatchOutcome> {
      const breaches = await unnoticedSlaBreaches(db, input.limit);
      if (breaches.length > 0 && (await processOwners(db)).length === 0) {
        log.warn('SLA breaches are not told: there is no active process owner; they are told once there is one', { breaches: breaches.length });
        return { found: breaches.length, notified: 0 };
      }
      let notified = 0;
      let failure: unknown;
      for (const breach of breaches) {
        try {
          if (await notify(breach)) notified += 1;
        } catch (error) {
          failure ??= error;
        }
      }
      if (failure) throw failure;
      return { found: breaches.length, notified };
    },
  };
}

export type SlaBreachActivities = ReturnType<typeof createSlaBreachActivities>;
