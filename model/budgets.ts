import type { Knex } from 'knex';
import type { BudgetFigures } from '../domain/budget';
import { MINOR_DIGITS, USUAL_MINOR_DIGITS } from '../domain/money';

/**
 * A currency's minor units per major unit as an SQL expression of the currency (a column or a
 * parameter), generated from domain/money.ts's table so that SQL and TypeScript read one source.
 */
export function minorUnitsPerMajorSql(currency: string): string {
  const per = (digits: number) => (10n ** BigInt(digits)).toString();
  const cases = Object.entries(MINOR_DIGITS).map(([code, digits]) => {
    if (!/^[A-Z]{3}$/.test(code)) throw new Error(`the currency code ${code} of the minor digits table is not three capital letters`);
    return `WHEN '${code}' THEN ${per(digits)}`;
  });
  return `(CASE ${currency} ${cases.join(' ')} ELSE ${per(USUAL_MINOR_DIGITS)} END)`;
}

/**
 * The month's figures of one cost centre as four columns (budget, its currency, spent, committed),
 * for a SELECT list. The one text that reads them: budgetFacts below and the change impact
 * statement (model/change-impact.ts) both embed it, so a change and a purchase request see the same
 * month. Arguments are SQL expressions for the cost centre id, the first day of the month (a date)
 * and the request's currency. Spent and committed count only money in the budget's currency (in
 * the request's when the month has no budget): amounts are never converted, so money in another
 * currency is not comparable with the budget (domain/budget.ts says what follows from that). Spent
 * is the billed cost (as invoiced, purchases included), exact decimals summed and then rounded once
 * to the currency's minor units.
 */
export function budgetFiguresSql(costCentre: string, period: string, currency: string): string {
  const budget = (column: string) => `(SELECT b.${column} FROM budgets b WHERE b.cost_centre_id = ${costCentre} AND b.period_start = ${period})`;
  const counted = `coalesce(${budget('currency')}, ${currency})`;
  return `${budget('amount_minor')} AS budget,
         ${budget('currency')} AS budget_currency,
         coalesce((SELECT round(sum(r.billed_cost * ${minorUnitsPerMajorSql('r.billing_currency')}))::bigint FROM cost_records r
                    WHERE r.cost_centre_id = ${costCentre} AND r.billing_currency = ${counted}
                      AND r.charge_period_start >= (${period}::timestamp AT TIME ZONE 'UTC')
                      AND r.charge_period_start < ((${period} + interval '1 month')::timestamp AT TIME ZONE 'UTC')), 0)::bigint AS spent,
         -- open orders, less what they received (which is in the cost records by then)
         coalesce((SELECT sum(o.amount_minor - o.received_minor) FROM purchase_orders o
                     JOIN purchase_requests q ON q.id = o.purchase_request_id
                    WHERE q.cost_centre_id = ${costCentre} AND o.currency = ${counted}
                      AND o.state NOT IN ('closed', 'cancelled')), 0)::bigint AS committed`;
}

const toMinor = (value: string | number): number => {
  const n = Number(value);
  if (!Number.isSafeInteger(n)) throw new RangeError(`budget figure ${value} is not a safe integer`);
  return n;
};

export interface BudgetFiguresRow {
  budget: string | number | null;
  budget_currency: string | null;
  spent: string | number;
  committed: string | number;
}

/** Budget, its currency, spent and committed as budgetFiguresSql reads them, as numbers. */
export function toBudgetFigures(period: string, row: BudgetFiguresRow): BudgetFigures {
  return {
    period,
    budgetMinor: row.budget === null ? null : toMinor(row.budget),
    budgetCurrency: row.budget_currency,
    spentMinor: toMinor(row.spent),
    committedMinor: toMinor(row.committed),
  };
}

/** A cost centre's budget, actuals and commitments for the month of `on`, in one query. */
export async function budgetFacts(db: Knex, costCentreId: string, currency: string, on: Date): Promise<BudgetFigures> {
  const period = `${on.toISOString().slice(0, 7)}-01`;
  const { rows } = await db.raw<{ rows: BudgetFiguresRow[] }>(
    `SELECT ${budgetFiguresSql(':cc::uuid', ':period::date', ':currency')}`,
    { cc: costCentreId, period, currency },
  );
  return toBudgetFigures(period, rows[0]);
}
