import type { Knex } from 'knex';
import { NOT_CHARGED_TO_A_BUDGET, budgetPosition } from '../domain/budget';
import type { ChangeImpact } from '../domain/change-impact';
import { budgetFiguresSql } from './budgets';

/** How many relationships away from an affected CI the service walk goes by default. */
export const DEFAULT_IMPACT_DEPTH = 6;
/** A walk deeper than this says nothing an approver can use; the bound also keeps the binding an int. */
export const MAX_IMPACT_DEPTH = 100;

/** Timestamps as JavaScript writes them (Date#toISOString), whatever the session time zone. */
const iso = (expression: string) => `to_char((${expression}) AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`;

const windowRef = (alias: string) => `jsonb_build_object(
  'id', ${alias}.id, 'name', ${alias}.name, 'startsAt', ${iso(`${alias}.starts_at`)}, 'endsAt', ${iso(`${alias}.ends_at`)}, 'ciId', ${alias}.ci_id)`;

/**
 * The change's affected CIs and the service walk from them (described below), as CTEs over `input`
 * (change_id, max_depth): the assessment and the service map of a change (model/service-map.ts)
 * read the same walk.
 */
const SERVICE_WALK = `affected AS (
  SELECT a.ci_id AS id FROM change_affected_cis a JOIN input i ON a.change_request_id = i.change_id
),
walk (depth, frontier, seen) AS (
  SELECT 0, array_agg(id), array_agg(id) FROM affected
  UNION ALL
  SELECT w.depth + 1, found.ids, w.seen || found.ids
    FROM walk w
   CROSS JOIN LATERAL (
     SELECT array_agg(DISTINCT r.from_ci_id) AS ids
       FROM unnest(w.frontier) AS f (id)
       JOIN ci_relationships r ON r.to_ci_id = f.id AND r.retired_at IS NULL
      WHERE NOT EXISTS (SELECT 1 FROM unnest(w.seen) AS s (id) WHERE s.id = r.from_ci_id)) found
   WHERE w.depth < (SELECT max_depth FROM input) AND found.ids IS NOT NULL
),
reached AS (
  SELECT f.id, w.depth FROM walk w CROSS JOIN LATERAL unnest(w.frontier) AS f (id)
),
`;

/**
 * The whole assessment in one statement, so that it costs one round trip however large the
 * service map is. Every section is a CTE over `input` (the two bindings) and `cr` (the change).
 *
 * Services: a breadth-first walk over the REVERSE edges of the service map (retired edges left out). Relationships read
 * "<from> <type> <to>" (an application runs_on a server), so what depends on a reached CI is the
 * `from` side of the edges that point at it: a changed server reaches the applications that run
 * on it and the services that depend on those, never the other way round.
 *
 * The recursive CTE carries one row per level: the CIs first reached at that depth (`frontier`)
 * and every CI reached so far (`seen`). Each level expands only the frontier and keeps only CIs
 * not seen before, so every CI is expanded once, at its minimal depth, whatever the cycles and
 * however many paths lead to it; the walk ends at maxDepth or when a level finds nothing new.
 * (A row-per-CI walk with UNION prunes repeated (ci, depth) pairs only, so a CI reachable at
 * several depths is expanded at each of them: up to maxDepth + 1 times on dense graphs. Measured
 * on a 100,000-CI estate (scripts/generate-estate.ts) from a shared hub reaching 23,000 CIs: 35,000
 * rows and 1.3 to 1.4 times the time of the frontier walk at depth 6, twice its time at depth 20.)
 *
 * Calendar days (warranty ends, licence terms, the budget month) are UTC days. Money is integer
 * minor units: cost_records.billed_cost is decimal major units, summed and converted to the
 * currency's minor units, and only rows in the budget's currency count (model/budgets.ts; a change in
 * another currency is not compared with the budget), while licence prices are taken as they are:
 * the true-up is priced in the product's unit price, assumed to be the change's currency.
 */
const IMPACT_SQL = `
WITH RECURSIVE
input AS (
  SELECT ?::uuid AS change_id, ?::int AS max_depth
),
cr AS (
  SELECT c.*,
         (coalesce(c.planned_start, now()) AT TIME ZONE 'UTC')::date AS start_day,
         (coalesce(c.planned_end, c.planned_start, now()) AT TIME ZONE 'UTC')::date AS end_day,
         date_trunc('month', coalesce(c.planned_start, now()) AT TIME ZONE 'UTC')::date AS period
    FROM change_requests c JOIN input i ON c.id = i.change_id
),
${SERVICE_WALK}reached_cis AS (
  SELECT c.id, c.number, c.name, c.ci_class, c.criticality, c.owner_id, c.asset_id, r.depth
    FROM reached r JOIN configuration_items c ON c.id = r.id
),
services AS (
  SELECT jsonb_build_object(
    'affectedCiIds', coalesce((SELECT jsonb_agg(rc.id ORDER BY rc.number) FROM reached_cis rc WHERE rc.depth = 0), '[]'::jsonb),
    'cisReached', (SELECT count(*) FROM reached),
    -- A CI first reached at the depth limit has a dependent the walk did not reach: the result is a lower bound.
    -- (NOT IN over a CTE plans as a hashed subplan; NOT EXISTS became a nested loop over the CTE.)
    'depthLimitReached', EXISTS (
      SELECT 1 FROM reached r JOIN ci_relationships e ON e.to_ci_id = r.id AND e.retired_at IS NULL
       WHERE r.depth = (SELECT max_depth FROM input)
         AND e.from_ci_id NOT IN (SELECT id FROM reached)),
    'cis', coalesce((
      SELECT jsonb_agg(jsonb_build_object('id', n.id, 'number', n.number, 'name', n.name, 'ciClass', n.ci_class, 'depth', n.depth)
                       ORDER BY n.depth, n.number)
        FROM (SELECT * FROM reached_cis ORDER BY depth, number LIMIT 200) n), '[]'::jsonb),
    'businessServices', coalesce((
      SELECT jsonb_agg(jsonb_build_object('id', s.id, 'number', s.number, 'name', s.name, 'ciClass', s.ci_class, 'depth', s.depth,
                                          'criticality', s.criticality, 'ownerId', s.owner_id)
                       ORDER BY s.criticality, s.depth, s.number)
        FROM reached_cis s WHERE s.ci_class = 'business_service'), '[]'::jsonb),
    -- tier_1 is the most critical and sorts first.
    'highestCriticality', (SELECT min(s.criticality) FROM reached_cis s WHERE s.ci_class = 'business_service')
  ) AS doc
),
behind AS (
  SELECT a.id AS asset_id, a.asset_tag, rc.id AS ci_id, rc.depth, a.state, a.warranty_end, k.id AS contract_id, k.ends_on,
         coalesce(a.warranty_end >= cr.end_day, false) AS under_warranty,
         coalesce(k.ends_on >= cr.end_day, false) AS under_contract
    FROM reached_cis rc
    JOIN assets a ON a.id = rc.asset_id
    LEFT JOIN contracts k ON k.id = a.contract_id
   CROSS JOIN cr
),
assets_doc AS (
  SELECT jsonb_build_object(
    'behindCis', coalesce((
      SELECT jsonb_agg(jsonb_build_object(
               'assetId', b.asset_id, 'assetTag', b.asset_tag, 'ciId', b.ci_id, 'state', b.state,
               'warrantyEnd', b.warranty_end, 'underWarranty', b.under_warranty,
               'contractId', b.contract_id, 'contractEndsOn', b.ends_on, 'underContract', b.under_contract)
             ORDER BY b.depth, b.asset_tag)
        FROM behind b), '[]'::jsonb),
    'outOfWarranty', (SELECT count(*) FROM behind WHERE NOT under_warranty),
    'outOfContract', (SELECT count(*) FROM behind WHERE NOT under_contract),
    'declaredTransitions', coalesce((
      SELECT jsonb_agg(jsonb_build_object('assetId', a.id, 'assetTag', a.asset_tag, 'fromState', a.state,
                                          'toState', t.to_state, 'toSubstate', t.to_substate)
                       ORDER BY a.asset_tag)
        FROM change_asset_actions t
        JOIN input i ON t.change_request_id = i.change_id
        JOIN assets a ON a.id = t.asset_id), '[]'::jsonb)
  ) AS doc
),
licence_position AS MATERIALIZED (
  SELECT p.id, p.publisher, p.name, l.installs_added, l.installs_removed, p.unit_price_minor,
         coalesce((SELECT sum(e.quantity) FROM software_entitlements e
                    WHERE e.product_id = p.id AND e.retired_at IS NULL AND e.starts_on <= cr.start_day
                      AND (e.ends_on IS NULL OR e.ends_on >= cr.start_day)), 0)::bigint AS entitled,
         coalesce((SELECT sum(u.units) FROM software_consumptions u
                    WHERE u.product_id = p.id AND u.reclaimed_at IS NULL), 0)::bigint AS consumed
    FROM change_licence_changes l
    JOIN cr ON l.change_request_id = cr.id
    JOIN software_products p ON p.id = l.product_id
),
licence_delta AS (
  SELECT lp.*, after.consumed_after,
         greatest(after.consumed_after - lp.entitled, 0) AS shortfall,
         greatest(after.consumed_after - lp.entitled, 0) * lp.unit_price_minor AS true_up
    FROM licence_position lp
   CROSS JOIN LATERAL (SELECT greatest(lp.consumed + lp.installs_added - lp.installs_removed, 0)::bigint AS consumed_after) after
),
licences_doc AS (
  SELECT jsonb_build_object(
    'deltas', coalesce(jsonb_agg(jsonb_build_object(
                'productId', d.id, 'publisher', d.publisher, 'product', d.name,
                'installsAdded', d.installs_added, 'installsRemoved', d.installs_removed,
                'entitledUnits', d.entitled, 'consumedBefore', d.consumed, 'consumedAfter', d.consumed_after,
                'shortfallAfter', d.shortfall, 'unitPriceMinor', d.unit_price_minor, 'trueUpCostMinor', d.true_up)
              ORDER BY d.publisher, d.name), '[]'::jsonb),
    'trueUpCostMinor', coalesce(sum(d.true_up), 0)::bigint
  ) AS doc
    FROM licence_delta d
),
budget_figures AS MATERIALIZED (
  SELECT cr.*, cc.code AS cc_code, cc.name AS cc_name, cc.owner_id AS cc_owner_id,
         ${budgetFiguresSql('cr.cost_centre_id', 'cr.period', 'cr.currency')}
    FROM cr LEFT JOIN cost_centres cc ON cc.id = cr.cost_centre_id
),
money_doc AS (
  SELECT jsonb_build_object(
    'currency', m.currency,
    'oneOffCostMinor', m.one_off_cost_minor,
    'recurringCostMinor', m.recurring_cost_minor,
    'costCentre', CASE WHEN m.cost_centre_id IS NULL THEN NULL
                       ELSE jsonb_build_object('id', m.cost_centre_id, 'code', m.cc_code, 'name', m.cc_name, 'ownerId', m.cc_owner_id) END,
    'period', m.period,
    'budgetMinor', m.budget,
    'budgetCurrency', m.budget_currency,
    'spentMinor', m.spent,
    'committedMinor', m.committed
  ) AS doc
    FROM budget_figures m
),
conflicts AS (
  SELECT o.id, o.number, o.title, o.state, o.planned_start, o.planned_end,
         jsonb_agg(theirs.ci_id ORDER BY theirs.ci_id) AS shared_ci_ids
    FROM cr
    JOIN change_affected_cis mine ON mine.change_request_id = cr.id
    JOIN change_affected_cis theirs ON theirs.ci_id = mine.ci_id AND theirs.change_request_id <> cr.id
    JOIN change_requests o ON o.id = theirs.change_request_id
   WHERE o.state <> 'closed'
     AND o.planned_start < cr.planned_end AND o.planned_end > cr.planned_start
   GROUP BY o.id
),
schedule_doc AS (
  SELECT jsonb_build_object(
    'plannedStart', ${iso('cr.planned_start')},
    'plannedEnd', ${iso('cr.planned_end')},
    'conflicts', coalesce((
      SELECT jsonb_agg(jsonb_build_object(
               'changeId', x.id, 'number', x.number, 'title', x.title, 'state', x.state,
               'plannedStart', ${iso('x.planned_start')}, 'plannedEnd', ${iso('x.planned_end')}, 'sharedCiIds', x.shared_ci_ids)
             ORDER BY x.planned_start, x.number)
        FROM conflicts x), '[]'::jsonb),
    'blackouts', coalesce((
      SELECT jsonb_agg(${windowRef('w')} ORDER BY w.starts_at, w.id)
        FROM schedule_windows w
       WHERE w.kind = 'blackout' AND w.retired_at IS NULL
         AND w.starts_at < cr.planned_end AND w.ends_at > cr.planned_start
         AND (w.ci_id IS NULL OR w.ci_id IN (SELECT id FROM reached))), '[]'::jsonb),
    'maintenanceWindow', (
      SELECT ${windowRef('w')}
        FROM schedule_windows w
       WHERE w.kind = 'maintenance' AND w.retired_at IS NULL
         AND w.starts_at <= cr.planned_start AND w.ends_at >= cr.planned_end
         AND (w.ci_id IS NULL OR w.ci_id IN (SELECT id FROM affected))
       ORDER BY w.starts_at, w.id
       LIMIT 1)
  ) AS doc
    FROM cr
)
SELECT jsonb_build_object(
  'assessedAt', ${iso('now()')},
  'maxDepth', (SELECT max_depth FROM input),
  'services', (SELECT doc FROM services),
  'assets', (SELECT doc FROM assets_doc),
  'licences', (SELECT doc FROM licences_doc),
  'money', (SELECT doc FROM money_doc),
  'schedule', (SELECT doc FROM schedule_doc)
) AS impact
  FROM cr`;

/** Every number in an assessment is a count or integer minor units; refuse one JSON could not carry exactly. */
function assertSafeIntegers(value: unknown, path: string): void {
  if (typeof value === 'number') {
    if (!Number.isSafeInteger(value)) throw new RangeError(`impact ${path} = ${value} is not a safe integer`);
  } else if (Array.isArray(value)) {
    value.forEach((item, i) => assertSafeIntegers(item, `${path}[${i}]`));
  } else if (value !== null && typeof value === 'object') {
    for (const [key, item] of Object.entries(value)) assertSafeIntegers(item, `${path}.${key}`);
  }
}

function checkDepth(maxDepth: number): void {
  if (!Number.isInteger(maxDepth) || maxDepth < 0 || maxDepth > MAX_IMPACT_DEPTH) {
    throw new RangeError(`maxDepth must be an integer from 0 to ${MAX_IMPACT_DEPTH}, not ${maxDepth}`);
  }
}

/**
 * The impact assessment of a change request (domain/change-impact.ts), computed by one SQL
 * statement: one round trip to Postgres whatever the size of the service map. The JSON comes
 * back already in the ChangeImpact shape; pg parses jsonb columns itself.
 */
export async function assessChangeImpact(
  db: Knex,
  changeRequestId: string,
  options: { maxDepth?: number } = {},
): Promise<ChangeImpact> {
  const maxDepth = options.maxDepth ?? DEFAULT_IMPACT_DEPTH;
  checkDepth(maxDepth);
  const { rows } = await db.raw<{ rows: { impact: ChangeImpact }[] }>(IMPACT_SQL, [changeRequestId, maxDepth]);
  if (rows.length === 0) throw new Error(`change request ${changeRequestId} not found`);
  const impact = rows[0].impact;
  assertSafeIntegers(impact, 'impact');
  const { money } = impact;
  const position = money.costCentre
    ? budgetPosition({ ...money, budgetCurrency: money.budgetCurrency ?? null }, money.oneOffCostMinor + money.recurringCostMinor, money.currency)
    : NOT_CHARGED_TO_A_BUDGET;
  return { ...impact, money: { ...money, ...position } };
}

/** The statement, for EXPLAIN in benchmarks: bind the change request id and the depth. */
export const CHANGE_IMPACT_SQL = IMPACT_SQL;

/**
 * Every CI the change's service walk reaches, with its depth: the walk of the assessment, without
 * the assessment's cap on the CIs it lists (the service map draws and lists them all).
 */
export async function reachedByChange(db: Knex, changeRequestId: string, maxDepth = DEFAULT_IMPACT_DEPTH): Promise<{ id: string; depth: number }[]> {
  checkDepth(maxDepth);
  const { rows } = await db.raw<{ rows: { id: string; depth: number }[] }>(`
WITH RECURSIVE
input AS (SELECT ?::uuid AS change_id, ?::int AS max_depth),
${SERVICE_WALK.trimEnd().replace(/,$/, '')}
SELECT id, depth FROM reached`, [changeRequestId, maxDepth]);
  return rows;
}
