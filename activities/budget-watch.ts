import { randomUUID } from 'node:crypto';
import { ApplicationFailure, Context, log } from '@temporalio/activity';
import type { Knex } from 'knex';
import type { BudgetFigures } from '../domain/budget';
import { budgetAlertsDue, type BudgetAlertThreshold } from '../domain/cost-allocation';
import { isInvalidData } from '../domain/failure-classes';
import { formatMoney } from '../domain/money';
import { formatInstant } from '../domain/time-zones';
import { pageLinks } from '../domain/web-links';
import { toBudgetFigures } from '../model/budgets';
import {
  budgetedCostCentres,
  costCentreMonths,
  monthTitle,
  periodStart,
  recordBudgetAlert,
  shareUsedPercent,
  usedMinor,
  type CostCentreMonth,
} from '../model/budget-watch';
import { processOwners } from '../model/directory';
import { BUDGET_PERIOD, BUDGET_WATCH_BATCH, BudgetWatchFailure, type NotifyBudgetAlertsInput } from '../workflows/budget-watch/contract';
import { recordOnce } from './audit';
import { addresseeTimeZone, queueEmail } from './email';

const ACTOR = 'system:budget-watch';
export const BUDGET_ALERT_ACTION = 'budget_alert_sent';

class AlreadySent extends Error {}
/** Nobody to tell: nothing is written, so that a later run sends the alert once someone can hear it. */
class NobodyToTell extends Error {}

export interface BudgetWatchActivityDeps {
  db: Knex;
  publicUrl: string;
  /** The organisation's time zone (TIME_ZONE), for addressees without their own. */
  timeZone?: string;
}

interface Addressee {
  id: string;
  email: string;
  name?: string;
}

/**
 * Who sent an alert: the activity (stable over its retries, so that a retry after a commit still
 * counts what its first attempt sent), or a fresh token when called outside a worker.
 */
function senderToken(): string {
  const info = runningActivity();
  return info?.workflowExecution ? `${info.workflowExecution.workflowId}/${info.workflowExecution.runId}/${info.activityId}` : randomUUID();
}

function runningActivity(): Context['info'] | undefined {
  try {
    return Context.current().info;
  } catch {
    return undefined;
  }
}

/** The budget watch's activity: tells each cost centre's owner when its month reaches 80% and 100% of budget, once each. */
export function createBudgetWatchActivities({ db, publicUrl, timeZone }: BudgetWatchActivityDeps) {
  const links = pageLinks(publicUrl);

  function emailText(input: {
    month: CostCentreMonth; period: string; threshold: BudgetAlertThreshold; figures: BudgetFigures; currency: string;
    addressee: Addressee; byOwner: boolean; zone: string;
  }): string {
    const { month, period, threshold, figures, currency, addressee, byOwner } = input;
    const money = (minor: number | bigint) => formatMoney(Number(minor), currency);
    const remaining = BigInt(figures.budgetMinor!) - usedMinor(figures);
    const reached = threshold === 100 ? 'has used all of its budget' : 'has used 80% of its budget';
    return [
      ...(addressee.name ? [`Hello ${addressee.name},`, ''] : []),
      `Cost centre ${month.code} "${month.name}" ${reached} for ${monthTitle(period)}: ${shareUsedPercent(figures)}% is spent or committed.`,
      '',
      `Budget:    ${money(figures.budgetMinor!)}`,
      `Actual:    ${money(figures.spentMinor)} (costs charged in the month)`,
      `Committed: ${money(figures.committedMinor)} (open purchase orders, less what they received)`,
      `Share used: ${shareUsedPercent(figures)}% (actual and committed against the budget)`,
      `Remaining: ${money(remaining)}`,
      '',
      `As of ${formatInstant(new Date(), input.zone)}. The month's budgets: ${links.of(`/ui/finops?period=${encodeURIComponent(period)}`)}`,
      '',
      byOwner
        ? 'You receive this once per month at 80% and once at 100%, as the cost centre\'s owner.'
        : `You receive this as a process owner: cost centre ${month.code} has no active owner to tell. Give it one in its master data record so that its owner is told next time.`,
    ].join('\n');
  }

  /**
   * The budget_alerts row, the email to the owner (else to each active process owner) and the audit
   * row, in one transaction. True when this activity sent it; false when another run had, or when
   * there is nobody to tell (nothing is written then).
   */
  async function sendAlert(month: CostCentreMonth, period: string, figures: BudgetFigures, threshold: BudgetAlertThreshold, sender: string): Promise<boolean> {
    const key = `budget-alert:${month.costCentreId}:${period}:${threshold}`;
    const currency = figures.budgetCurrency!;
    const used = usedMinor(figures);
    const sentBy = await recordOnce(
      db,
      {
        idempotencyKey: key,
        actor: ACTOR,
        subjectType: 'cost_centre',
        subjectId: month.costCentreId,
        action: BUDGET_ALERT_ACTION,
        workflowId: runningActivity()?.workflowExecution?.workflowId,
        details: {
          period, threshold, currency, budgetMinor: figures.budgetMinor, actualMinor: figures.spentMinor,
          committedMinor: figures.committedMinor, shareUsedPercent: shareUsedPercent(figures),
        },
      },
      async (trx) => {
        const owner = month.owner?.active ? month.owner : null;
        const recorded = await recordBudgetAlert(trx, {
          costCentreId: month.costCentreId, period, threshold, budgetMinor: figures.budgetMinor!, usedMinor: used, currency, ownerId: owner?.id ?? null,
        });
        // Another run sent it first: roll back, so its audit row and email stay the only ones.
        if (!recorded) throw new AlreadySent();
        const addressees: Addressee[] = owner ? [owner] : await processOwners(trx);
        if (addressees.length === 0) throw new NobodyToTell();
        for (const addressee of addressees) {
          const zone = await addresseeTimeZone(trx, addressee.email, timeZone);
          await queueEmail(trx, {
            idempotencyKey: `${key}:${addressee.id}`,
            template: 'budget_alert',
            to: [addressee.email],
            subject: `Budget ${threshold === 100 ? 'used up' : '80% used'}: ${month.code} ${month.name}, ${monthTitle(period)}`,
            text: emailText({ month, period, threshold, figures, currency, addressee, byOwner: owner !== null, zone }),
            subjectType: 'cost_centre',
            subjectId: month.costCentreId,
          });
        }
        return { result: sender, details: { notified: addressees.map((a) => a.email), addressedTo: owner ? 'owner' : 'process_owners' } };
      },
    ).catch((error: unknown) => {
      if (error instanceof AlreadySent || error instanceof NobodyToTell) return undefined;
      throw error;
    });
    return sentBy === sender;
  }

  /** The months of a batch; when one cost centre's figures cannot be read (a sum beyond bigint), the others are read one by one. */
  async function monthsOf(period: string, ids: string[], failures: unknown[]): Promise<CostCentreMonth[]> {
    try {
      return await costCentreMonths(db, period, { ids });
    } catch (error) {
      if (!isInvalidData(error) || ids.length === 1) throw error;
    }
    const months: CostCentreMonth[] = [];
    for (const id of ids) {
      try {
        months.push(...(await costCentreMonths(db, period, { ids: [id] })));
      } catch (error) {
        failures.push(error);
      }
    }
    return months;
  }

  return {
    /**
     * Sends the budget alerts due in a month: for every cost centre with a budget, a batch at a
     * time, each threshold its actual and committed spend reached and that was not sent yet, lowest
     * first. A cost centre that fails (bad data for good, anything else retried) leaves the others
     * told and fails the run after them; whatever a run leaves, the next one finds. With nobody to
     * tell (no active owner nor process owner) nothing is written and a later run tells it.
     */
    async notifyBudgetAlerts(input: NotifyBudgetAlertsInput): Promise<{ budgets: number; alertsSent: number }> {
      if (!BUDGET_PERIOD.test(input.period)) {
        throw ApplicationFailure.nonRetryable(`the budget watch takes a month as YYYY-MM, not "${input.period}"`, BudgetWatchFailure.badPeriod);
      }
      const { period } = input;
      const sender = senderToken();
      const failures: unknown[] = [];
      let budgets = 0;
      let alertsSent = 0;
      let afterCode = '';
      for (;;) {
        const page = await budgetedCostCentres(db, period, afterCode, BUDGET_WATCH_BATCH);
        if (page.length === 0) break;
        for (const month of await monthsOf(period, page.map((p) => p.id), failures)) {
          budgets += 1;
          try {
            const figures = toBudgetFigures(periodStart(period), month.figures);
            if (figures.budgetMinor === null) continue;
            const due = budgetAlertsDue({
              budgetMinor: BigInt(figures.budgetMinor),
              spentMinor: usedMinor(figures),
              sentThisMonth: month.alerts.map((a) => a.threshold),
            });
            for (const threshold of due) {
              if (await sendAlert(month, period, figures, threshold, sender)) alertsSent += 1;
            }
          } catch (error) {
            failures.push(error);
          }
        }
        if (page.length < BUDGET_WATCH_BATCH) break;
        afterCode = page[page.length - 1].code;
      }
      if (failures.length > 0) {
        log.warn('budget alerts of some cost centres could not be sent', { period, failed: failures.length, sent: alertsSent });
        throw failures[0];
      }
      return { budgets, alertsSent };
    },
  };
}

export type BudgetWatchActivities = ReturnType<typeof createBudgetWatchActivities>;
