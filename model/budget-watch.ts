import type { Knex } from 'knex';
import type { BudgetFigures } from '../domain/budget';
import type { BudgetAlertThreshold } from '../domain/cost-allocation';
import { exactAmount } from '../domain/money';
import { periodStart } from '../domain/months';
import { budgetFiguresSql, toBudgetFigures, type BudgetFiguresRow } from './budgets';
import type { Page } from './page';

/**
 * The month of every cost centre as the budget watch, GET /finops/budgets and the FinOps page read
 * it: its owner, its budget figures (budgetFiguresSql, the one text that reads them) and the alerts
 * it was sent that month. A month is YYYY-MM; its budget row's period_start is its first day.
 */

export interface BudgetAlertSent {
  threshold: BudgetAlertThreshold;
  sentAt: string;
}

export interface CostCentreMonth {
  costCentreId: string;
  code: string;
  name: string;
  /** The cost centre's owner, active or not; null when it names none. */
  owner: { id: string; name: string; email: string; active: boolean } | null;
  /** As budgetFiguresSql reads them; toBudgetFigures refuses figures beyond a number's exact integers. */
  figures: BudgetFiguresRow;
  alerts: BudgetAlertSent[];
}

/** Which cost centres: a page in code order (after a code, or from an offset), or these ids (one at a time when a batch cannot be read). */
export type CostCentreSelection =
  | { budgetedOnly: boolean; afterCode: string; limit: number; offset?: number }
  | { ids: readonly string[] };

// The month helpers the budget watch's callers read from here are domain/months.ts's, the one set.
export { monthTitle, periodAt, periodStart, shiftPeriod } from '../domain/months';

interface MonthRow extends BudgetFiguresRow {
  id: string;
  code: string;
  name: string;
  owner_id: string | null;
  owner_name: string | null;
  owner_email: string | null;
  owner_active: boolean | null;
  alerts: { threshold: BudgetAlertThreshold; sentAt: string }[];
}

const HAS_BUDGET = 'EXISTS (SELECT 1 FROM budgets b WHERE b.cost_centre_id = c.id AND b.period_start = :period::date)';
/** The cost centres a month lists: the live ones, and the retired ones that still have a budget that month. */
const LISTED = `(c.retired_at IS NULL OR ${HAS_BUDGET})`;

/**
 * The month of the selected cost centres, in one statement. A page of every cost centre holds the
 * live ones and the retired ones that still have a budget that month. Spent and committed count
 * money in the budget's currency only; a cost centre without a budget has none, so they read 0.
 */
export async function costCentreMonths(db: Knex, period: string, selection: CostCentreSelection): Promise<CostCentreMonth[]> {
  const bindings: Record<string, unknown> = { period: periodStart(period) };
  let where: string;
  let limit = '';
  if ('ids' in selection) {
    where = 'c.id = ANY(:ids::uuid[])';
    bindings.ids = [...selection.ids];
  } else {
    where = `c.code > :afterCode AND ${selection.budgetedOnly ? HAS_BUDGET : LISTED}`;
    bindings.afterCode = selection.afterCode;
    bindings.limit = selection.limit;
    bindings.offset = selection.offset ?? 0;
    limit = 'LIMIT :limit OFFSET :offset';
  }
  const { rows } = await db.raw<{ rows: MonthRow[] }>(
    `SELECT c.id, c.code, c.name, o.id AS owner_id, o.name AS owner_name, o.email AS owner_email, o.active AS owner_active,
            ${budgetFiguresSql('c.id', ':period::date', 'NULL::char(3)')},
            coalesce((SELECT json_agg(json_build_object('threshold', a.threshold, 'sentAt', a.sent_at) ORDER BY a.threshold)
                        FROM budget_alerts a WHERE a.cost_centre_id = c.id AND a.period_start = :period::date), '[]'::json) AS alerts
       FROM cost_centres c
       LEFT JOIN people o ON o.id = c.owner_id
      WHERE ${where}
      ORDER BY c.code
      ${limit}`,
    bindings,
  );
  return rows.map((r) => ({
    costCentreId: r.id,
    code: r.code,
    name: r.name,
    owner: r.owner_id ? { id: r.owner_id, name: r.owner_name!, email: r.owner_email!, active: r.owner_active! } : null,
    figures: { budget: r.budget, budget_currency: r.budget_currency, spent: r.spent, committed: r.committed },
    alerts: r.alerts,
  }));
}

/** The ids of the cost centres with a budget in the month, a page in code order (what the watch walks). */
export async function budgetedCostCentres(db: Knex, period: string, afterCode: string, limit: number): Promise<{ id: string; code: string }[]> {
  return db('cost_centres as c')
    .whereRaw(HAS_BUDGET, { period: periodStart(period) })
    .where('c.code', '>', afterCode)
    .orderBy('c.code')
    .limit(limit)
    .select('c.id', 'c.code');
}

/** One cost centre's month as the API and the page show it; the money figures are null without a budget. */
export interface BudgetLine {
  costCentre: { id: string; code: string; name: string };
  owner: { name: string; email: string; active: boolean } | null;
  /** The budget's currency, which every figure of the line is in; null without a budget. */
  currency: string | null;
  budgetMinor: number | null;
  /** Cost records charged in the month, in the budget's currency. */
  actualMinor: number | null;
  /** Open purchase orders in the budget's currency, less what they received. */
  committedMinor: number | null;
  /** Budget less actual less committed; negative when over. */
  remainingMinor: number | null;
  /** (Actual + committed) / budget in whole percent, rounded down so that 79.99% never reads 80%; null for a budget of 0 or less. */
  shareUsedPercent: number | null;
  alerts: BudgetAlertSent[];
}

/** Actual plus committed, exactly. */
export const usedMinor = (figures: BudgetFigures) => BigInt(figures.spentMinor) + BigInt(figures.committedMinor);

/** (Actual + committed) / budget in whole percent, rounded down; null without a budget above 0. */
export function shareUsedPercent(figures: BudgetFigures): number | null {
  if (figures.budgetMinor === null || figures.budgetMinor <= 0) return null;
  return exactAmount(Number((usedMinor(figures) * 100n) / BigInt(figures.budgetMinor)), 'share of the budget used');
}

/** A month read as the line people see; a figure beyond a number's exact integers is refused (RangeError). */
export function budgetLine(period: string, month: CostCentreMonth): BudgetLine {
  const figures = toBudgetFigures(periodStart(period), month.figures);
  const owner = month.owner && { name: month.owner.name, email: month.owner.email, active: month.owner.active };
  const costCentre = { id: month.costCentreId, code: month.code, name: month.name };
  if (figures.budgetMinor === null) {
    return { costCentre, owner, currency: null, budgetMinor: null, actualMinor: null, committedMinor: null, remainingMinor: null, shareUsedPercent: null, alerts: month.alerts };
  }
  const remaining = BigInt(figures.budgetMinor) - usedMinor(figures);
  return {
    costCentre,
    owner,
    currency: figures.budgetCurrency,
    budgetMinor: figures.budgetMinor,
    actualMinor: figures.spentMinor,
    committedMinor: figures.committedMinor,
    remainingMinor: exactAmount(Number(remaining), 'remaining budget'),
    shareUsedPercent: shareUsedPercent(figures),
    alerts: month.alerts,
  };
}

/** A page of the month's lines in code order, and how many cost centres the month lists in all. */
export async function budgetLinePage(db: Knex, period: string, page: { limit: number; offset: number }): Promise<Page<BudgetLine>> {
  const [months, [{ count }]] = await Promise.all([
    costCentreMonths(db, period, { budgetedOnly: false, afterCode: '', ...page }),
    db('cost_centres as c').whereRaw(LISTED, { period: periodStart(period) }).count<{ count: string }[]>({ count: '*' }),
  ]);
  return { items: months.map((month) => budgetLine(period, month)), page: { ...page, total: Number(count) } };
}

/** Every cost centre's line for the month, in code order, a batch at a time. */
export async function* budgetLineBatches(db: Knex, period: string, batchSize = 500): AsyncGenerator<BudgetLine[]> {
  let afterCode = '';
  for (;;) {
    const months = await costCentreMonths(db, period, { budgetedOnly: false, afterCode, limit: batchSize });
    if (months.length > 0) yield months.map((month) => budgetLine(period, month));
    if (months.length < batchSize) return;
    afterCode = months[months.length - 1].code;
  }
}

/** Records that a cost centre was told of a threshold in a month; false when it was already (another run took it first). */
export async function recordBudgetAlert(
  trx: Knex,
  alert: { costCentreId: string; period: string; threshold: BudgetAlertThreshold; budgetMinor: number; usedMinor: bigint; currency: string; ownerId: string | null },
): Promise<boolean> {
  const inserted = await trx('budget_alerts')
    .insert({
      cost_centre_id: alert.costCentreId,
      period_start: periodStart(alert.period),
      threshold: alert.threshold,
      budget_minor: alert.budgetMinor,
      spent_minor: alert.usedMinor.toString(),
      currency: alert.currency,
      owner_id: alert.ownerId,
    })
    .onConflict(['cost_centre_id', 'period_start', 'threshold'])
    .ignore()
    .returning('threshold');
  return inserted.length > 0;
}
