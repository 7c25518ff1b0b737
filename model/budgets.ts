import type { Knex } from 'knex';

export interface BudgetFacts {
  /** First day of the budget month. */
  period: string;
  budgetMinor: number | null;
  /** Actuals: FOCUS cost records of the cost centre charged in the month, in minor units. */
  spentMinor: number;
  /** Open purchase orders of the cost centre, less what they have already received. */
  committedMinor: number;
}

/**
 * A cost centre's budget, actuals and commitments for a month, in one query. The change impact
 * assessment (model/change-impact.ts) computes the same figures inline, so both read one rule:
 * budget minus spent minus committed.
 */
export async function budgetFacts(db: Knex, costCentreId: string, currency: string, on: Date): Promise<BudgetFacts> {
  const period = `${on.toISOString().slice(0, 7)}-01`;
  const { rows } = await db.raw<{ rows: { budget: string | null; spent: string; committed: string }[] }>(
    `SELECT (SELECT b.amount_minor FROM budgets b WHERE b.cost_centre_id = :cc AND b.period_start = :period::date) AS budget,
            coalesce((SELECT round(sum(r.billed_cost) * 100)::bigint FROM cost_records r
                       WHERE r.cost_centre_id = :cc AND r.billing_currency = :currency
                         AND r.charge_period_start >= (:period::date::timestamp AT TIME ZONE 'UTC')
                         AND r.charge_period_start < ((:period::date + interval '1 month')::timestamp AT TIME ZONE 'UTC')), 0) AS spent,
            coalesce((SELECT sum(o.amount_minor - o.received_minor) FROM purchase_orders o
                        JOIN purchase_requests q ON q.id = o.purchase_request_id
                       WHERE q.cost_centre_id = :cc AND o.currency = :currency AND o.state NOT IN ('closed', 'cancelled')), 0) AS committed`,
    { cc: costCentreId, period, currency },
  );
  const [row] = rows;
  const toNumber = (value: string | number) => {
    const n = Number(value);
    if (!Number.isSafeInteger(n)) throw new RangeError(`budget figure ${value} is not a safe integer`);
    return n;
  };
  return {
    period,
    budgetMinor: row.budget === null ? null : toNumber(row.budget),
    spentMinor: toNumber(row.spent),
    committedMinor: toNumber(row.committed),
  };
}
