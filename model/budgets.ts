import type { Knex } from 'knex';
import type { BudgetFigures } from '../domain/budget';

/**
 * The month's figures of one cost centre as three columns (budget, spent, committed), for a SELECT
 * list. The one text that reads them: budgetFigures below and the change impact statement
 * (model/change-impact.ts) both embed it, so a change and a purchase request see the same month.
 * Arguments are SQL expressions for the cost centre id, the first day of the month (a date) and
 * the currency; only money in that currency counts.
 */
export function budgetFiguresSql(costCentre: string, period: string, currency: string): string {
  return `(SELECT b.amount_minor FROM budgets b WHERE b.cost_centre_id = ${costCentre} AND b.period_start = ${period}) AS budget,
         coalesce((SELECT round(sum(r.billed_cost) * 100)::bigint FROM cost_records r
                    WHERE r.cost_centre_id = ${costCentre} AND r.billing_currency = ${currency}
                      AND r.charge_period_start >= (${period}::timestamp AT TIME ZONE 'UTC')
                      AND r.charge_period_start < ((${period} + interval '1 month')::timestamp AT TIME ZONE 'UTC')), 0)::bigint AS spent,
         -- open orders, less what they received (which is in the cost records by then)
         coalesce((SELECT sum(o.amount_minor - o.received_minor) FROM purchase_orders o
                     JOIN purchase_requests q ON q.id = o.purchase_request_id
                    WHERE q.cost_centre_id = ${costCentre} AND o.currency = ${currency}
                      AND o.state NOT IN ('closed', 'cancelled')), 0)::bigint AS committed`;
}

const toMinor = (value: string | number): number => {
  const n = Number(value);
  if (!Number.isSafeInteger(n)) throw new RangeError(`budget figure ${value} is not a safe integer`);
  return n;
};

/** Budget, spent and committed as budgetFiguresSql reads them, as numbers. */
export function toBudgetFigures(period: string, row: { budget: string | number | null; spent: string | number; committed: string | number }): BudgetFigures {
  return {
    period,
    budgetMinor: row.budget === null ? null : toMinor(row.budget),
    spentMinor: toMinor(row.spent),
    committedMinor: toMinor(row.committed),
  };
}

/** A cost centre's budget, actuals and commitments for the month of `on`, in one query. */
export async function budgetFacts(db: Knex, costCentreId: string, currency: string, on: Date): Promise<BudgetFigures> {
  const period = `${on.toISOString().slice(0, 7)}-01`;
  const { rows } = await db.raw<{ rows: { budget: string | null; spent: string; committed: string }[] }>(
    `SELECT ${budgetFiguresSql(':cc::uuid', ':period::date', ':currency')}`,
    { cc: costCentreId, period, currency },
  );
  return toBudgetFigures(period, rows[0]);
}
