/**
 * The evidence a COBIT auditor asks for, per objective (issue 17): each objective is a few small
 * tables of figures read from the one model, for the API (JSON and CSV) and the web UI alike.
 * Every query is an aggregate, a list cut at LIST_LIMIT with its full count, or (the BAI09 asset
 * register) paged. Money is never mixed across currencies and never a float: integer minor units
 * as decimal text (sums of bigint columns may pass what a JavaScript number holds exactly), and
 * cloud costs as the exact numeric text Postgres adds them to.
 */
import type { Knex } from 'knex';
import { bookValue, type DepreciationMethod } from '../domain/depreciation';
import { UNOWNED_CLOUD_COST_DAYS } from '../domain/findings';
import { unownedCloudCosts } from './findings';
import { CONSUMED_UNITS_SQL, ENTITLED_UNITS_SQL, licencePositions, type ProductLicencePosition } from './licences';
import { listUnlicensedInstallations } from './unlicensed-installations';
import { paginate, type Page } from './page';

export const COBIT_OBJECTIVES = ['apo05', 'apo09', 'bai01', 'bai06', 'bai09', 'bai10', 'dss05'] as const;
export type CobitObjective = (typeof COBIT_OBJECTIVES)[number];

export interface ObjectiveInfo {
  objective: CobitObjective;
  /** As COBIT writes it: APO05. */
  code: string;
  title: string;
  /** What the objective's sections evidence, in one sentence. */
  evidences: string;
}

export const OBJECTIVES: Record<CobitObjective, ObjectiveInfo> = {
  apo05: { objective: 'apo05', code: 'APO05', title: 'Managed portfolio', evidences: 'What the organisation owns and runs, what it is worth, and what it costs per business service and cost centre.' },
  apo09: { objective: 'apo09', code: 'APO09', title: 'Managed service agreements', evidences: 'The contracts and licence agreements in force, those inside their notice period, the renewal decisions taken, and licence compliance.' },
  bai01: { objective: 'bai01', code: 'BAI01', title: 'Managed programmes', evidences: 'Per programme, what was requested, ordered and deployed.' },
  bai06: { objective: 'bai06', code: 'BAI06', title: 'Managed IT changes', evidences: 'Changes per month by type and outcome over the last twelve months, their success rate and the share of emergencies.' },
  bai09: { objective: 'bai09', code: 'BAI09', title: 'Managed assets', evidences: 'The asset register, assets through their lifecycle from acquisition to disposal, and the licences covering installations.' },
  bai10: { objective: 'bai10', code: 'BAI10', title: 'Managed configuration', evidences: 'Configuration items by class and verification, their relationships, records the feeds stopped seeing, and open steward cases.' },
  dss05: { objective: 'dss05', code: 'DSS05', title: 'Managed security services', evidences: 'Records without an owner, unlicensed installations, assets in use past their warranty, and assets lost or stolen.' },
};

/**
 * How a column reads: counts are numbers; `minor` is integer minor units as text in the row's
 * `currency`; `decimal` exact decimal text (cloud costs) in the row's `currency`; `percent` text
 * with one decimal place; `date` YYYY-MM-DD; `instant` ISO 8601.
 */
export type ColumnKind = 'text' | 'count' | 'minor' | 'decimal' | 'percent' | 'date' | 'instant';
export interface EvidenceColumn {
  key: string;
  title: string;
  kind: ColumnKind;
}
export type EvidenceValue = string | number | null;
export type EvidenceRow = Record<string, EvidenceValue>;

export interface EvidenceSection {
  key: string;
  title: string;
  columns: EvidenceColumn[];
  rows: EvidenceRow[];
  /** What the figures cover or why there are none (no allocation run for the month, a list cut short). */
  note?: string;
}

export interface Evidence extends ObjectiveInfo {
  generatedAt: string;
  /** APO05: the month whose allocation the cost sections show, YYYY-MM; null when no month was ever allocated. */
  period?: string | null;
  sections: EvidenceSection[];
}

/** Longest list a section shows; its note says how many there are in all. */
export const LIST_LIMIT = 100;

const col = (key: string, title: string, kind: ColumnKind = 'text'): EvidenceColumn => ({ key, title, kind });
const countCol = (key: string, title: string) => col(key, title, 'count');
const iso = (value: Date | null) => value?.toISOString() ?? null;
const today = () => new Date().toISOString().slice(0, 10);
/** Says a list was cut: `order` is how the rows shown were chosen (newest first). */
const cutNote = (shown: number, total: number, what: string, order: string) =>
  (total > shown ? `${shown} of the ${total} ${what} shown, ${order}.` : undefined);
const notes = (...parts: (string | undefined)[]) => parts.filter(Boolean).join(' ') || undefined;

async function rowsOf<T>(db: Knex, sql: string, bindings: readonly Knex.Value[] = []): Promise<T[]> {
  return (await db.raw<{ rows: T[] }>(sql, bindings)).rows;
}

// ---------------------------------------------------------------------------------------------
// APO05 portfolio
// ---------------------------------------------------------------------------------------------

/**
 * Purchase cost and today's book value of the assets not retired, per currency, in one statement
 * that sends Node one row per currency. It is domain/depreciation.ts's bookValue written in SQL
 * (the evidence test holds the two together): whole months as wholeMonthsBetween counts them up to
 * the useful life, halves rounded up, straight line on cost less salvage value, declining balance
 * at twice the straight rate month by month and never below salvage value (worked once per group
 * of assets that depreciate alike, at most a useful life of steps each); an asset without a
 * purchase date, or that does not depreciate, keeps its cost. Numeric throughout, so exact.
 */
async function portfolioValue(db: Knex): Promise<EvidenceRow[]> {
  return rowsOf<EvidenceRow>(db, `
    WITH RECURSIVE today AS (SELECT ?::date AS d),
    a AS (
      SELECT a.currency, a.depreciation_method AS method, a.purchase_cost_minor::numeric AS cost,
             least(a.salvage_value_minor, a.purchase_cost_minor)::numeric AS salvage, a.useful_life_months::numeric AS life,
             CASE WHEN a.purchase_date IS NULL OR a.depreciation_method = 'none' OR a.useful_life_months <= 0 THEN 0
                  ELSE least(a.useful_life_months, greatest(0,
                         (extract(year FROM t.d) - extract(year FROM a.purchase_date)) * 12
                         + extract(month FROM t.d) - extract(month FROM a.purchase_date)
                         - CASE WHEN extract(day FROM t.d) < extract(day FROM a.purchase_date) THEN 1 ELSE 0 END))::int
             END AS elapsed
        FROM assets a CROSS JOIN today t
       WHERE a.state <> 'retired'
    ), g AS (
      SELECT currency, method, cost, salvage, life, elapsed, count(*) AS assets FROM a GROUP BY 1, 2, 3, 4, 5, 6
    ), declining AS (
      SELECT currency, cost, salvage, life, elapsed, assets, 0 AS month, cost AS value
        FROM g WHERE method = 'declining_balance' AND elapsed > 0
      UNION ALL
      SELECT currency, cost, salvage, life, elapsed, assets, month + 1, greatest(salvage, value - div(value * 4 + life, life * 2))
        FROM declining WHERE month < elapsed AND value > salvage
    ), valued AS (
      SELECT currency, assets, cost,
             CASE WHEN method = 'straight_line' AND elapsed > 0 THEN cost - div((cost - salvage) * elapsed * 2 + life, life * 2) ELSE cost END AS book
        FROM g WHERE method <> 'declining_balance' OR elapsed = 0
      UNION ALL
      SELECT currency, assets, cost, value FROM declining WHERE month = elapsed OR value = salvage
    )
    SELECT currency, sum(assets)::int AS assets, sum(cost * assets)::text AS "purchaseCostMinor", sum(book * assets)::text AS "bookValueMinor"
      FROM valued GROUP BY 1 ORDER BY 1`, [today()]);
}

/** The month whose allocation APO05 shows: the one asked for, else the latest with a completed run. */
async function allocationRun(db: Knex, period: string | undefined): Promise<{ period: string | null; runId: string | null }> {
  const month = period
    ?? (await rowsOf<{ month: string | null }>(db, `SELECT to_char(max(period_start), 'YYYY-MM') AS month FROM allocation_runs WHERE state = 'completed'`))[0].month;
  if (!month) return { period: null, runId: null };
  const [run] = await rowsOf<{ id: string }>(db, `
    SELECT id FROM allocation_runs
     WHERE state = 'completed' AND period_start = to_date(?, 'YYYY-MM')
     ORDER BY finished_at DESC NULLS LAST, started_at DESC LIMIT 1`, [month]);
  return { period: month, runId: run?.id ?? null };
}

async function apo05(db: Knex, options: { period?: string }): Promise<Pick<Evidence, 'period' | 'sections'>> {
  const run = await allocationRun(db, options.period);
  const [assets, cis, value, byService, byCostCentre] = await Promise.all([
    rowsOf<EvidenceRow>(db, `
      SELECT m.category, a.state, count(*)::int AS assets
        FROM assets a JOIN hardware_models m ON m.id = a.model_id
       GROUP BY 1, 2 ORDER BY 1, 2`),
    rowsOf<EvidenceRow>(db, `
      SELECT ci_class AS "ciClass", operational_status AS status, count(*)::int AS cis
        FROM configuration_items WHERE retired_at IS NULL
       GROUP BY 1, 2 ORDER BY 1, 2`),
    portfolioValue(db),
    run.runId
      ? rowsOf<EvidenceRow>(db, `
        SELECT coalesce(s.number, '') AS "serviceNumber", coalesce(s.name, 'no business service') AS service, ca.currency,
               sum(ca.amount)::text AS amount
          FROM cost_allocations ca LEFT JOIN configuration_items s ON s.id = ca.business_service_id
         WHERE ca.run_id = ?
         GROUP BY s.id, s.number, s.name, ca.currency ORDER BY ca.currency, sum(ca.amount) DESC, 2`, [run.runId])
      : [],
    run.runId
      ? rowsOf<EvidenceRow>(db, `
        SELECT coalesce(cc.code, '') AS "costCentreCode", coalesce(cc.name, 'no cost centre') AS "costCentre", ca.currency,
               sum(ca.amount)::text AS amount,
               coalesce(sum(ca.amount) FILTER (WHERE ca.shared_from_cost_centre_id IS NOT NULL), 0)::text AS shared
          FROM cost_allocations ca LEFT JOIN cost_centres cc ON cc.id = ca.cost_centre_id
         WHERE ca.run_id = ?
         GROUP BY cc.id, cc.code, cc.name, ca.currency ORDER BY ca.currency, sum(ca.amount) DESC, 1`, [run.runId])
      : [],
  ]);
  const costNote = !run.period
    ? 'No month has been allocated yet: run the monthly allocation first.'
    : !run.runId
      ? `No allocation run has completed for ${run.period}.`
      : `From the allocation of ${run.period}: depreciation, licences, contracts, cloud and other costs, shared costs split by their rules.`;
  return {
    period: run.period,
    sections: [
      { key: 'assets', title: 'Assets by class and state', columns: [col('category', 'Class'), col('state', 'State'), countCol('assets', 'Assets')], rows: assets },
      { key: 'cis', title: 'Configuration items by class and status (not retired)', columns: [col('ciClass', 'Class'), col('status', 'Status'), countCol('cis', 'CIs')], rows: cis },
      {
        key: 'value', title: 'Value of the assets not retired, per currency',
        columns: [col('currency', 'Currency'), countCol('assets', 'Assets'), col('purchaseCostMinor', 'Purchase cost', 'minor'), col('bookValueMinor', 'Book value today', 'minor')],
        rows: value,
      },
      {
        key: 'cost_by_service', title: 'Cost by business service',
        columns: [col('serviceNumber', 'Number'), col('service', 'Business service'), col('currency', 'Currency'), col('amount', 'Cost', 'decimal')],
        rows: byService, note: costNote,
      },
      {
        key: 'cost_by_cost_centre', title: 'Cost by cost centre',
        columns: [col('costCentreCode', 'Code'), col('costCentre', 'Cost centre'), col('currency', 'Currency'), col('amount', 'Cost', 'decimal'), col('shared', 'Of it shared from a pool', 'decimal')],
        rows: byCostCentre, note: costNote,
      },
    ],
  };
}

// ---------------------------------------------------------------------------------------------
// APO09 agreements
// ---------------------------------------------------------------------------------------------

/**
 * The contracts not retired, each with where it stands today by its terms (contract_terms: its own
 * and those renewed after it): not started before its first term, ended after its latest, inside
 * the renewal notice period before its latest term ends, else active. A contract whose next term
 * was decided is not ending within its notice any more.
 */
const CONTRACTS_WITH_STATUS_SQL = `
  SELECT c.id, c.kind, c.currency, c.value_minor,
         CASE WHEN t.last_ends_on < CURRENT_DATE THEN 'ended'
              WHEN t.first_starts_on > CURRENT_DATE THEN 'not_started'
              WHEN t.last_ends_on - c.renewal_notice_days <= CURRENT_DATE THEN 'ending_within_notice'
              ELSE 'active' END AS status
    FROM contracts c
    CROSS JOIN LATERAL (SELECT min(ct.starts_on) AS first_starts_on, max(ct.ends_on) AS last_ends_on
                          FROM contract_terms ct WHERE ct.contract_id = c.id) t
   WHERE c.retired_at IS NULL`;

/**
 * The products a licence section lists, at most LIST_LIMIT: those with the largest shortfall first,
 * then by publisher and name; with how many qualify in all. Their positions come from the one rule.
 */
async function productPositions(db: Knex, which: 'all' | 'consumed' | 'over_deployed'): Promise<{ positions: ProductLicencePosition[]; total: number }> {
  const where = { all: 'TRUE', consumed: 'consumed > 0', over_deployed: 'consumed > entitled' }[which];
  const chosen = await rowsOf<{ id: string; total: number }>(db, `
    SELECT id, count(*) OVER ()::int AS total
      FROM (SELECT p.id, p.publisher, p.name, ${ENTITLED_UNITS_SQL} AS entitled, ${CONSUMED_UNITS_SQL} AS consumed
              FROM software_products p) p
     WHERE ${where}
     ORDER BY greatest(consumed - entitled, 0) DESC, publisher, name, id LIMIT ${LIST_LIMIT}`);
  if (!chosen.length) return { positions: [], total: 0 };
  const rank = new Map(chosen.map((c, i) => [c.id, i]));
  const positions = await licencePositions(db, chosen.map((c) => c.id));
  return { positions: positions.sort((a, b) => rank.get(a.productId)! - rank.get(b.productId)!), total: chosen[0].total };
}

/** A product's true-up cost (shortfall times unit price) as exact text: the product may pass what a number holds. */
const trueUpText = (p: ProductLicencePosition) => (BigInt(p.shortfallUnits) * BigInt(p.unitPriceMinor)).toString();

const PRODUCT_ORDER = 'the largest shortfall first';

async function apo09(db: Knex): Promise<Pick<Evidence, 'sections'>> {
  const [contracts, agreements, renewalStates, renewals, renewalCount, compliance] = await Promise.all([
    rowsOf<EvidenceRow>(db, `
      SELECT c.kind, c.status, c.currency, count(*)::int AS contracts, sum(c.value_minor)::text AS "valueMinor"
        FROM (${CONTRACTS_WITH_STATUS_SQL}) c
       GROUP BY 1, 2, 3 ORDER BY 1, 2, 3`),
    rowsOf<EvidenceRow & { total: number }>(db, `
      SELECT p.publisher || ' ' || p.name AS product, e.metric, e.currency, count(*)::int AS entitlements,
             coalesce(sum(e.quantity) FILTER (WHERE e.starts_on <= CURRENT_DATE AND (e.ends_on IS NULL OR e.ends_on >= CURRENT_DATE)), 0)::int AS "unitsInTerm",
             sum(e.cost_minor)::text AS "costMinor",
             coalesce(string_agg(DISTINCT c.number, ', '), '') AS contracts,
             count(*) FILTER (WHERE e.contract_id IS NULL)::int AS "withoutContract",
             count(*) OVER ()::int AS total
        FROM software_entitlements e
        JOIN software_products p ON p.id = e.product_id
        LEFT JOIN contracts c ON c.id = e.contract_id
       WHERE e.retired_at IS NULL
       GROUP BY p.id, p.publisher, p.name, e.metric, e.currency ORDER BY 1, 2, 3 LIMIT ${LIST_LIMIT}`),
    rowsOf<EvidenceRow>(db, `
      SELECT state, count(*)::int AS renewals FROM contract_renewals GROUP BY 1 ORDER BY 1`),
    rowsOf<{ number: string; contract: string; title: string; state: string; decidedBy: string | null; decidedAt: Date | null; createdAt: Date;
      nextStartsOn: string | null; nextEndsOn: string | null; currency: string | null; nextValueMinor: string | null }>(db, `
      SELECT r.number, c.number AS contract, r.title, r.state, p.name AS "decidedBy", r.decided_at AS "decidedAt", r.created_at AS "createdAt",
             t.starts_on AS "nextStartsOn", t.ends_on AS "nextEndsOn", t.currency, t.value_minor::text AS "nextValueMinor"
        FROM contract_renewals r
        JOIN contracts c ON c.id = r.contract_id
        LEFT JOIN contract_terms t ON t.renewal_id = r.id
        LEFT JOIN people p ON p.id = r.decided_by_id
       ORDER BY r.created_at DESC, r.number DESC LIMIT ${LIST_LIMIT}`),
    rowsOf<{ total: number }>(db, `SELECT count(*)::int AS total FROM contract_renewals`),
    productPositions(db, 'all'),
  ]);
  return {
    sections: [
      {
        key: 'contracts', title: 'Contracts by kind and status (not retired)',
        columns: [col('kind', 'Kind'), col('status', 'Status'), col('currency', 'Currency'), countCol('contracts', 'Contracts'), col('valueMinor', 'Value', 'minor')],
        rows: contracts,
        note: 'By the latest term of each contract, renewals decided included; ending within notice: inside the renewal notice period before that term ends.',
      },
      {
        key: 'licence_agreements', title: 'Licence agreements: entitlements per product with their contracts',
        columns: [col('product', 'Product'), col('metric', 'Metric'), col('currency', 'Currency'), countCol('entitlements', 'Entitlements'), countCol('unitsInTerm', 'Units in term'),
          col('costMinor', 'Cost', 'minor'), col('contracts', 'Contracts'), countCol('withoutContract', 'Without a contract')],
        rows: agreements.map(({ total: _total, ...row }) => row),
        note: cutNote(agreements.length, agreements[0]?.total ?? 0, 'product, metric and currency groups', 'by product'),
      },
      { key: 'renewal_states', title: 'Renewal decisions by state', columns: [col('state', 'State'), countCol('renewals', 'Renewals')], rows: renewalStates },
      {
        key: 'renewals', title: 'Renewal decisions, newest first',
        columns: [col('number', 'Number'), col('contract', 'Contract'), col('title', 'Title'), col('state', 'State'), col('decidedBy', 'Decided by'), col('decidedAt', 'Decided', 'instant'),
          col('createdAt', 'Asked', 'instant'), col('nextStartsOn', 'Renewed from', 'date'), col('nextEndsOn', 'Renewed to', 'date'), col('currency', 'Currency'),
          col('nextValueMinor', 'Value of the renewed term', 'minor')],
        rows: renewals.map((r) => ({ ...r, decidedAt: iso(r.decidedAt), createdAt: iso(r.createdAt) })),
        note: notes('The renewed term is shown for a contract renewed.', cutNote(renewals.length, renewalCount[0].total, 'renewal decisions', 'newest first')),
      },
      {
        key: 'compliance', title: 'Licence compliance per product',
        columns: [col('product', 'Product'), col('metric', 'Metric'), countCol('entitledUnits', 'Entitled'), countCol('consumedUnits', 'Consumed'), countCol('shortfallUnits', 'Shortfall'),
          col('position', 'Position'), col('currency', 'Currency'), col('trueUpCostMinor', 'True-up cost', 'minor')],
        rows: compliance.positions.map((p) => ({
          product: `${p.publisher} ${p.product}`, metric: p.metric, entitledUnits: p.entitledUnits, consumedUnits: p.consumedUnits,
          shortfallUnits: p.shortfallUnits, position: p.position, currency: p.currency, trueUpCostMinor: trueUpText(p),
        })),
        note: cutNote(compliance.positions.length, compliance.total, 'products', PRODUCT_ORDER),
      },
    ],
  };
}

// ---------------------------------------------------------------------------------------------
// BAI01 programmes
// ---------------------------------------------------------------------------------------------

async function bai01(db: Knex): Promise<Pick<Evidence, 'sections'>> {
  const [programmes, amounts] = await Promise.all([
    rowsOf<EvidenceRow>(db, `
      WITH r AS (
        SELECT programme, count(*)::int AS requested,
               count(*) FILTER (WHERE state IN ('rejected', 'cancelled'))::int AS "rejectedOrCancelled"
          FROM purchase_requests WHERE programme IS NOT NULL GROUP BY 1
      ), o AS (
        SELECT pr.programme, count(*)::int AS ordered
          FROM purchase_orders po JOIN purchase_requests pr ON pr.id = po.purchase_request_id
         WHERE pr.programme IS NOT NULL AND po.state <> 'cancelled' GROUP BY 1
      ), d AS (
        SELECT pr.programme, count(*)::int AS received, count(*) FILTER (WHERE a.state = 'in_use')::int AS "inUse"
          FROM assets a
          JOIN receipts rc ON rc.id = a.receipt_id
          JOIN purchase_orders po ON po.id = rc.purchase_order_id
          JOIN purchase_requests pr ON pr.id = po.purchase_request_id
         WHERE pr.programme IS NOT NULL GROUP BY 1
      )
      SELECT r.programme, r.requested, r."rejectedOrCancelled", coalesce(o.ordered, 0) AS ordered,
             coalesce(d.received, 0) AS "assetsReceived", coalesce(d."inUse", 0) AS "assetsInUse"
        FROM r LEFT JOIN o ON o.programme = r.programme LEFT JOIN d ON d.programme = r.programme
       ORDER BY r.programme`),
    rowsOf<EvidenceRow>(db, `
      WITH r AS (
        SELECT programme, currency, sum(total_minor) AS requested
          FROM purchase_requests WHERE programme IS NOT NULL GROUP BY 1, 2
      ), o AS (
        SELECT pr.programme, po.currency, sum(po.amount_minor) AS ordered, sum(po.received_minor) AS received
          FROM purchase_orders po JOIN purchase_requests pr ON pr.id = po.purchase_request_id
         WHERE pr.programme IS NOT NULL AND po.state <> 'cancelled' GROUP BY 1, 2
      )
      SELECT coalesce(r.programme, o.programme) AS programme, coalesce(r.currency, o.currency) AS currency,
             coalesce(r.requested, 0)::text AS "requestedMinor", coalesce(o.ordered, 0)::text AS "orderedMinor",
             coalesce(o.received, 0)::text AS "receivedMinor"
        FROM r FULL JOIN o ON o.programme = r.programme AND o.currency = r.currency
       ORDER BY 1, 2`),
  ]);
  return {
    sections: [
      {
        key: 'programmes', title: 'Requested, ordered and deployed per programme',
        columns: [col('programme', 'Programme'), countCol('requested', 'Requests'), countCol('rejectedOrCancelled', 'Rejected or cancelled'), countCol('ordered', 'Orders'),
          countCol('assetsReceived', 'Assets received'), countCol('assetsInUse', 'Assets in use')],
        rows: programmes,
        note: 'Purchase requests that name a programme; orders not cancelled; assets received on their orders and those now in use.',
      },
      {
        key: 'programme_amounts', title: 'Amounts per programme and currency',
        columns: [col('programme', 'Programme'), col('currency', 'Currency'), col('requestedMinor', 'Requested', 'minor'), col('orderedMinor', 'Ordered', 'minor'), col('receivedMinor', 'Received', 'minor')],
        rows: amounts,
      },
    ],
  };
}

// ---------------------------------------------------------------------------------------------
// BAI06 changes
// ---------------------------------------------------------------------------------------------

const SUCCESSFUL = `close_code IN ('successful', 'successful_with_issues')`;
const IMPLEMENTED = `close_code IN ('successful', 'successful_with_issues', 'unsuccessful')`;
/** One decimal place of a share, as text; empty when there is nothing to divide by. */
const percentSql = (part: string, whole: string) => `CASE WHEN ${whole} > 0 THEN round(100.0 * ${part} / ${whole}, 1)::text END`;

/** The first day of the month eleven months back (UTC): twelve calendar months with this one. */
const TWELVE_MONTHS = `date_trunc('month', now() AT TIME ZONE 'UTC') - interval '11 months'`;

async function bai06(db: Knex): Promise<Pick<Evidence, 'sections'>> {
  const [byMonth, summary] = await Promise.all([
    rowsOf<EvidenceRow>(db, `
      SELECT to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM') AS month, type, count(*)::int AS changes,
             count(*) FILTER (WHERE state <> 'closed')::int AS open,
             count(*) FILTER (WHERE close_code = 'successful')::int AS successful,
             count(*) FILTER (WHERE close_code = 'successful_with_issues')::int AS "successfulWithIssues",
             count(*) FILTER (WHERE close_code = 'unsuccessful')::int AS unsuccessful,
             count(*) FILTER (WHERE close_code = 'rejected')::int AS rejected,
             count(*) FILTER (WHERE close_code = 'cancelled')::int AS cancelled
        FROM change_requests WHERE created_at >= (${TWELVE_MONTHS}) AT TIME ZONE 'UTC'
       GROUP BY 1, 2 ORDER BY 1, 2`),
    rowsOf<EvidenceRow>(db, `
      WITH c AS (SELECT * FROM change_requests WHERE created_at >= (${TWELVE_MONTHS}) AT TIME ZONE 'UTC')
      SELECT type, count(*)::int AS changes,
             count(*) FILTER (WHERE ${IMPLEMENTED})::int AS implemented,
             count(*) FILTER (WHERE ${SUCCESSFUL})::int AS successful,
             ${percentSql(`count(*) FILTER (WHERE ${SUCCESSFUL})`, `count(*) FILTER (WHERE ${IMPLEMENTED})`)} AS "successRate",
             ${percentSql('count(*)', '(SELECT count(*) FROM c)')} AS share
        FROM c GROUP BY ROLLUP (type)
       ORDER BY type NULLS LAST`),
  ]);
  return {
    sections: [
      {
        key: 'changes_by_month', title: 'Changes per month by type and outcome (last 12 months, by month submitted, UTC)',
        columns: [col('month', 'Month'), col('type', 'Type'), countCol('changes', 'Changes'), countCol('open', 'Open'), countCol('successful', 'Successful'),
          countCol('successfulWithIssues', 'Successful with issues'), countCol('unsuccessful', 'Unsuccessful'), countCol('rejected', 'Rejected'), countCol('cancelled', 'Cancelled')],
        rows: byMonth,
      },
      {
        key: 'outcomes', title: 'Success rate and share per type (last 12 months)',
        columns: [col('type', 'Type'), countCol('changes', 'Changes'), countCol('implemented', 'Implemented'), countCol('successful', 'Successful'),
          col('successRate', 'Success rate (%)', 'percent'), col('share', 'Share of all changes (%)', 'percent')],
        rows: summary.map((r) => ({ ...r, type: r.type ?? 'all' })),
        note: 'Success rate: successful (with or without issues) of those implemented; the emergency row\'s share is the emergency share.',
      },
    ],
  };
}

// ---------------------------------------------------------------------------------------------
// BAI09 managed assets
// ---------------------------------------------------------------------------------------------

async function bai09(db: Knex): Promise<Pick<Evidence, 'sections'>> {
  const [lifecycle, disposals, coverage] = await Promise.all([
    rowsOf<EvidenceRow>(db, `
      SELECT state, coalesce(substate, '') AS substate, count(*)::int AS assets
        FROM assets GROUP BY 1, 2
       ORDER BY array_position(ARRAY['on_order', 'in_stock', 'in_use', 'in_maintenance', 'in_transit', 'missing', 'retired'], state), 2`),
    rowsOf<EvidenceRow>(db, `
      SELECT substate AS reason, currency, count(*)::int AS assets,
             count(*) FILTER (WHERE disposal_attestation IS NOT NULL)::int AS "withAttestation",
             coalesce(sum(retirement_book_value_minor), 0)::text AS "bookValueAtRetirementMinor"
        FROM assets WHERE state = 'retired'
       GROUP BY 1, 2 ORDER BY 1, 2`),
    productPositions(db, 'consumed'),
  ]);
  return {
    sections: [
      {
        key: 'lifecycle', title: 'Assets per lifecycle state, from order to retirement',
        columns: [col('state', 'State'), col('substate', 'Substate'), countCol('assets', 'Assets')], rows: lifecycle,
      },
      {
        key: 'disposals', title: 'Retired assets by reason, with disposal attestations',
        columns: [col('reason', 'Reason'), col('currency', 'Currency'), countCol('assets', 'Assets'), countCol('withAttestation', 'With attestation'), col('bookValueAtRetirementMinor', 'Book value at retirement', 'minor')],
        rows: disposals,
        note: 'A disposal needs a data-wipe attestation (who, when, how, certificate).',
      },
      {
        key: 'licence_coverage', title: 'Licences covering installations and seats, per product consumed',
        columns: [col('product', 'Product'), col('metric', 'Metric'), countCol('consumedUnits', 'Consumed'), countCol('coveredUnits', 'Covered by an entitlement'), countCol('uncoveredUnits', 'Not covered')],
        rows: coverage.positions.map((p) => ({
          product: `${p.publisher} ${p.product}`, metric: p.metric, consumedUnits: p.consumedUnits,
          coveredUnits: p.consumedUnits - p.shortfallUnits, uncoveredUnits: p.shortfallUnits,
        })),
        note: cutNote(coverage.positions.length, coverage.total, 'products consumed', PRODUCT_ORDER),
      },
    ],
  };
}

export interface RegisterEntry {
  assetTag: string;
  model: string;
  category: string;
  state: string;
  substate: string | null;
  assignee: string | null;
  costCentre: string | null;
  purchaseDate: string | null;
  currency: string;
  purchaseCostMinor: string;
  /** Today's book value (domain/depreciation.ts); the cost when the purchase date is not known; at retirement for a retired asset. */
  bookValueMinor: string;
}

export const REGISTER_COLUMNS: EvidenceColumn[] = [
  col('assetTag', 'Asset tag'), col('model', 'Model'), col('category', 'Class'), col('state', 'State'), col('substate', 'Substate'),
  col('assignee', 'Assignee'), col('costCentre', 'Cost centre'), col('purchaseDate', 'Purchase date', 'date'), col('currency', 'Currency'),
  col('purchaseCostMinor', 'Purchase cost', 'minor'), col('bookValueMinor', 'Book value', 'minor'),
];

/** A register row as read: the entry's columns, with what its book value is worked out from in place of the money. */
interface RegisterRow extends Omit<RegisterEntry, 'purchaseCostMinor' | 'bookValueMinor'> {
  cost: number;
  salvage: number;
  life: number;
  method: DepreciationMethod;
  retirementValue: number | null;
}

const registerQuery = (db: Knex) => db('assets as a')
  .join('hardware_models as m', 'm.id', 'a.model_id')
  .leftJoin('people as p', 'p.id', 'a.assigned_to_id')
  .leftJoin('cost_centres as cc', 'cc.id', 'a.cost_centre_id')
  .select(
    'a.asset_tag as assetTag', db.raw(`m.manufacturer || ' ' || m.name AS model`), 'm.category', 'a.state', 'a.substate',
    'p.name as assignee', 'cc.code as costCentre', 'a.purchase_date as purchaseDate', 'a.currency',
    'a.purchase_cost_minor as cost', 'a.salvage_value_minor as salvage', 'a.useful_life_months as life',
    'a.depreciation_method as method', 'a.retirement_book_value_minor as retirementValue',
  )
  .orderBy('a.asset_tag');

function registerEntry(r: RegisterRow, onDate: string): RegisterEntry {
  const value = r.state === 'retired' && r.retirementValue !== null
    ? r.retirementValue
    : r.purchaseDate
      ? bookValue({ method: r.method, costMinor: r.cost, salvageMinor: r.salvage, usefulLifeMonths: r.life, purchaseDate: r.purchaseDate, onDate })
      : r.cost;
  return {
    assetTag: r.assetTag, model: r.model, category: r.category, state: r.state, substate: r.substate, assignee: r.assignee,
    costCentre: r.costCentre, purchaseDate: r.purchaseDate, currency: r.currency, purchaseCostMinor: String(r.cost), bookValueMinor: String(value),
  };
}

/** A page of the asset register, by asset tag. */
export async function assetRegister(db: Knex, page: { limit: number; offset: number }): Promise<Page<RegisterEntry>> {
  const onDate = today();
  return paginate(registerQuery(db), page, (r: RegisterRow) => registerEntry(r, onDate));
}

/** The whole register, a batch at a time by asset tag (keyset), for the CSV download. */
export async function* assetRegisterBatches(db: Knex, batchSize = 1000): AsyncGenerator<RegisterEntry[]> {
  const onDate = today();
  let after = '';
  for (;;) {
    const rows: RegisterRow[] = await registerQuery(db).where('a.asset_tag', '>', after).limit(batchSize);
    if (!rows.length) return;
    yield rows.map((r) => registerEntry(r, onDate));
    if (rows.length < batchSize) return;
    after = rows[rows.length - 1].assetTag;
  }
}

// ---------------------------------------------------------------------------------------------
// BAI10 configuration
// ---------------------------------------------------------------------------------------------

async function bai10(db: Knex): Promise<Pick<Evidence, 'sections'>> {
  const [cis, relationships, unseen, cases] = await Promise.all([
    rowsOf<EvidenceRow>(db, `
      SELECT ci.ci_class AS "ciClass", ci.discovery_state AS "discoveryState", count(*)::int AS cis,
             count(*) FILTER (WHERE EXISTS (SELECT 1 FROM ci_relationships r WHERE r.from_ci_id = ci.id AND r.retired_at IS NULL)
                                 OR EXISTS (SELECT 1 FROM ci_relationships r WHERE r.to_ci_id = ci.id AND r.retired_at IS NULL))::int AS "withRelationships"
        FROM configuration_items ci WHERE ci.retired_at IS NULL
       GROUP BY 1, 2 ORDER BY 1, 2`),
    rowsOf<EvidenceRow>(db, `
      SELECT type, count(*)::int AS relationships FROM ci_relationships WHERE retired_at IS NULL GROUP BY 1 ORDER BY 1`),
    rowsOf<EvidenceRow>(db, `
      SELECT src.name AS source, src.title, src.unseen_after_days AS "unseenAfterDays", count(s.ci_id)::int AS records,
             count(s.ci_id) FILTER (WHERE s.last_seen_at < now() - src.unseen_after_days * interval '24 hours')::int AS "notSeen",
             count(s.ci_id) FILTER (WHERE s.missing_candidate_since IS NOT NULL)::int AS "missingCandidates"
        FROM inventory_sources src
        LEFT JOIN ci_sightings s ON s.source = src.name
         AND EXISTS (SELECT 1 FROM configuration_items ci WHERE ci.id = s.ci_id AND ci.retired_at IS NULL)
       WHERE src.unseen_after_days IS NOT NULL
       GROUP BY src.name, src.title, src.unseen_after_days, src.position ORDER BY src.position`),
    rowsOf<EvidenceRow>(db, `
      SELECT state, count(*)::int AS cases, min(created_at) AS "oldest"
        FROM reconciliation_cases GROUP BY 1 ORDER BY 1`),
  ]);
  return {
    sections: [
      {
        key: 'cis', title: 'Configuration items by class and verification (not retired)',
        columns: [col('ciClass', 'Class'), col('discoveryState', 'Verification'), countCol('cis', 'CIs'), countCol('withRelationships', 'With relationships')],
        rows: cis, note: 'discovered: created by an inventory feed and not yet verified by a person.',
      },
      { key: 'relationships', title: 'Relationships by type', columns: [col('type', 'Type'), countCol('relationships', 'Relationships')], rows: relationships },
      {
        key: 'not_seen', title: 'Records the feeds stopped seeing',
        columns: [col('source', 'Source'), col('title', 'Feed'), countCol('unseenAfterDays', 'Unseen after (days)'), countCol('records', 'Records seen'),
          countCol('notSeen', 'Not seen for longer'), countCol('missingCandidates', 'Missing candidates')],
        rows: unseen,
      },
      {
        key: 'steward_cases', title: 'Steward cases by state',
        columns: [col('state', 'State'), countCol('cases', 'Cases'), col('oldest', 'Oldest', 'instant')],
        rows: cases.map((r) => ({ ...r, oldest: iso(r.oldest as unknown as Date | null) })),
      },
    ],
  };
}

// ---------------------------------------------------------------------------------------------
// DSS05 security
// ---------------------------------------------------------------------------------------------

/** Missing (not found where it should be), or retired as lost or stolen: domain/asset-lifecycle.ts's names. */
const LOST_OR_STOLEN = `(a.state = 'missing' OR (a.state = 'retired' AND a.substate IN ('lost', 'stolen')))`;

/** CI classes whose records must name an owner: what people run and answer for. */
const OWNED_CI_CLASSES = ['business_service', 'application', 'database'];

/** The over-deployed products (cut at LIST_LIMIT) and how many installations and seats are beyond their entitlement. */
async function unlicensedProducts(db: Knex): Promise<{ positions: ProductLicencePosition[]; total: number; installations: number }> {
  const [products, installations] = await Promise.all([
    productPositions(db, 'over_deployed'),
    listUnlicensedInstallations(db, {}, { limit: 1, offset: 0 }),
  ]);
  return { ...products, installations: installations.page.total };
}

async function dss05(db: Knex): Promise<Pick<Evidence, 'sections'>> {
  const [unowned, cloud, licences, endOfSupport, lost, lostTotal] = await Promise.all([
    rowsOf<EvidenceRow>(db, `
      SELECT 'CIs without an owner' AS "check", ci_class AS scope, count(*)::int AS records
        FROM configuration_items WHERE retired_at IS NULL AND owner_id IS NULL AND ci_class = ANY (?::text[])
       GROUP BY ci_class
      UNION ALL
      SELECT 'assets in use without an assignee', 'in_use', count(*)::int FROM assets WHERE state = 'in_use' AND assigned_to_id IS NULL
      UNION ALL
      SELECT 'assets without a cost centre', 'not retired', count(*)::int FROM assets WHERE state <> 'retired' AND cost_centre_id IS NULL
       ORDER BY 1, 2`, [`{${OWNED_CI_CLASSES.join(',')}}`]),
    // The optimisation findings' rule (model/findings.ts), summed per currency.
    rowsOf<EvidenceRow>(db, `
      SELECT u.currency, count(*)::int AS resources, sum(u.cost::numeric)::text AS "effectiveCost", min(u.until) AS until
        FROM (?) AS u
       GROUP BY 1 ORDER BY 1`, [unownedCloudCosts(db, new Date())]),
    unlicensedProducts(db),
    rowsOf<EvidenceRow>(db, `
      SELECT m.category, count(*)::int AS assets, min(a.warranty_end) AS "oldestWarrantyEnd",
             count(*) FILTER (WHERE EXISTS (SELECT 1 FROM configuration_items ci WHERE ci.asset_id = a.id AND ci.retired_at IS NULL))::int AS "backingCis"
        FROM assets a JOIN hardware_models m ON m.id = a.model_id
       WHERE a.state = 'in_use' AND a.warranty_end < CURRENT_DATE
       GROUP BY 1 ORDER BY 1`),
    rowsOf<{ assetTag: string; model: string; state: string; substate: string | null; assignee: string | null; costCentre: string | null; since: Date }>(db, `
      SELECT a.asset_tag AS "assetTag", m.manufacturer || ' ' || m.name AS model, a.state, a.substate, p.name AS assignee, cc.code AS "costCentre",
             coalesce(a.retired_at, a.updated_at) AS since
        FROM assets a JOIN hardware_models m ON m.id = a.model_id
        LEFT JOIN people p ON p.id = a.assigned_to_id
        LEFT JOIN cost_centres cc ON cc.id = a.cost_centre_id
       WHERE ${LOST_OR_STOLEN}
       ORDER BY since DESC, a.asset_tag DESC LIMIT ${LIST_LIMIT}`),
    rowsOf<{ total: number }>(db, `SELECT count(*)::int AS total FROM assets a WHERE ${LOST_OR_STOLEN}`),
  ]);
  return {
    sections: [
      { key: 'unowned', title: 'Records without an owner', columns: [col('check', 'Check'), col('scope', 'Scope'), countCol('records', 'Records')], rows: unowned },
      {
        key: 'unowned_cloud_cost', title: `Cloud resources with cost and no owner (the ${UNOWNED_CLOUD_COST_DAYS} days to the latest charge imported)`,
        columns: [col('currency', 'Currency'), countCol('resources', 'Resources'), col('effectiveCost', 'Effective cost', 'decimal')],
        rows: cloud.map(({ until: _until, ...row }) => row),
        note: cloud.length ? `Charges to ${iso(cloud[0].until as unknown as Date)}: resources with no owner and no cost centre whose cost no tag allocated; the optimisation findings list each.` : undefined,
      },
      {
        key: 'unlicensed', title: 'Unlicensed: products installed beyond their entitlement',
        columns: [col('product', 'Product'), col('metric', 'Metric'), countCol('entitledUnits', 'Entitled'), countCol('consumedUnits', 'Consumed'), countCol('shortfallUnits', 'Beyond entitlement'),
          col('currency', 'Currency'), col('trueUpCostMinor', 'True-up cost', 'minor')],
        rows: licences.positions.map((p) => ({
          product: `${p.publisher} ${p.product}`, metric: p.metric, entitledUnits: p.entitledUnits, consumedUnits: p.consumedUnits,
          shortfallUnits: p.shortfallUnits, currency: p.currency, trueUpCostMinor: trueUpText(p),
        })),
        note: notes(
          `${licences.installations} installations and seats are beyond their entitlement (GET /licences/unlicensed-installations lists them).`,
          cutNote(licences.positions.length, licences.total, 'products installed beyond their entitlement', PRODUCT_ORDER),
        ),
      },
      {
        key: 'end_of_support', title: 'Assets in use past their warranty end',
        columns: [col('category', 'Class'), countCol('assets', 'Assets'), col('oldestWarrantyEnd', 'Oldest warranty end', 'date'), countCol('backingCis', 'Backing a CI')],
        rows: endOfSupport,
      },
      {
        key: 'lost_or_stolen', title: 'Assets missing, lost or stolen, newest first',
        columns: [col('assetTag', 'Asset tag'), col('model', 'Model'), col('state', 'State'), col('substate', 'Substate'), col('assignee', 'Last assignee'), col('costCentre', 'Cost centre'), col('since', 'Since', 'instant')],
        rows: lost.map((r) => ({ ...r, since: iso(r.since) })),
        note: cutNote(lost.length, lostTotal[0].total, 'assets missing, lost or stolen', 'newest first'),
      },
    ],
  };
}

// ---------------------------------------------------------------------------------------------

const BUILDERS: Record<CobitObjective, (db: Knex, options: { period?: string }) => Promise<Pick<Evidence, 'sections' | 'period'>>> = {
  apo05, apo09, bai01, bai06, bai09, bai10, dss05,
};

/** The evidence of one objective; `period` (YYYY-MM) is the allocation month APO05 shows. */
export async function objectiveEvidence(db: Knex, objective: CobitObjective, options: { period?: string } = {}): Promise<Evidence> {
  const generatedAt = new Date().toISOString();
  const built = await BUILDERS[objective](db, options);
  return { ...OBJECTIVES[objective], generatedAt, ...built };
}

export interface Headline {
  objective: CobitObjective;
  /** The figure a card shows, and what it counts. */
  figure: string;
  label: string;
}

/** One figure per objective for the overview, in one statement. */
export async function objectiveHeadlines(db: Knex): Promise<Headline[]> {
  const [h] = await rowsOf<Record<string, number | string | null>>(db, `
    SELECT (SELECT count(*)::int FROM assets WHERE state <> 'retired') AS assets,
           (SELECT count(*)::int FROM (${CONTRACTS_WITH_STATUS_SQL}) c WHERE c.status = 'ending_within_notice') AS ending,
           (SELECT count(DISTINCT programme)::int FROM purchase_requests WHERE programme IS NOT NULL) AS programmes,
           (SELECT ${percentSql(`count(*) FILTER (WHERE ${SUCCESSFUL})`, `count(*) FILTER (WHERE ${IMPLEMENTED})`)}
              FROM change_requests WHERE created_at >= (${TWELVE_MONTHS}) AT TIME ZONE 'UTC') AS "successRate",
           (SELECT count(*)::int FROM assets) AS register,
           (SELECT count(*)::int FROM configuration_items WHERE retired_at IS NULL AND discovery_state = 'discovered') AS discovered,
           (SELECT count(*)::int FROM assets a WHERE ${LOST_OR_STOLEN}) AS lost`);
  return [
    { objective: 'apo05', figure: String(h.assets), label: 'assets not retired' },
    { objective: 'apo09', figure: String(h.ending), label: 'contracts inside their renewal notice period' },
    { objective: 'bai01', figure: String(h.programmes), label: 'programmes with purchase requests' },
    h.successRate === null
      ? { objective: 'bai06', figure: '0', label: 'changes implemented in the last 12 months' }
      : { objective: 'bai06', figure: `${h.successRate}%`, label: 'of the changes implemented in the last 12 months successful' },
    { objective: 'bai09', figure: String(h.register), label: 'assets in the register' },
    { objective: 'bai10', figure: String(h.discovered), label: 'discovered CIs not yet verified' },
    { objective: 'dss05', figure: String(h.lost), label: 'assets missing, lost or stolen' },
  ];
}
