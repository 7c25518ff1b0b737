/**
 * The monthly cost allocation's queries: the sources of a month read set-based (assets in use with
 * the business services above them, entitlements and their consumptions per cost centre, contracts
 * and their assets per cost centre, cost records summed per cost centre, service, category and
 * currency), the month's rows replaced, the run recorded, and the reports people read. The split
 * itself is domain/cost-allocation.ts's; directAllocationRows maps these rows onto it.
 */
import type { Knex } from 'knex';
import {
  amortisedPart,
  canonicalDecimal,
  formatDecimal,
  minorAsDecimal,
  PERPETUAL_LICENCE_MONTHS,
  parseDecimal,
  splitByWeights,
  termLastDay,
  totalsByCategory,
  type AllocationMethod,
  type AllocationRow,
  type AllocationRuleSpec,
  type ExactDecimal,
} from '../domain/cost-allocation';
import { bookValue, type DepreciationMethod } from '../domain/depreciation';
import { minorDigits } from '../domain/money';
import type { PeriodSpan } from '../domain/months';
import { isUniqueViolation } from '../platform/database';
import type { AllocationTotal, CostAllocationOutcome } from '../workflows/cost-allocation/contract';
import { insertAuditRow } from './audit-rows';

/**
 * States in which an asset is deployed and so wears out for someone: in use, and in maintenance
 * (repaired in place, still serving its cost centre). On order, in stock, in transit and missing
 * serve nobody; stock waiting on a shelf is not a cost of any cost centre's month. A retired asset
 * counts for the month it was retired in, which it served until then. The state is today's (the
 * lifecycle keeps no dated history a month can be read back from), which is exact for the month
 * just ended, the one the schedule runs.
 */
export const DEPRECIATING_STATES = ['in_use', 'in_maintenance'] as const;

/**
 * Contracts whose value is a running cost of the assets under them. Software licence and cloud
 * contracts are not amortised: their entitlements and bills carry that money; purchase contracts
 * are paid through their assets, which are depreciated. Each term of such a contract (the view
 * contract_terms: the contract's own, and each renewed after it) is amortised over its own days.
 */
export const AMORTISED_CONTRACT_KINDS = ['maintenance', 'support', 'lease'] as const;

const monthBounds = (period: PeriodSpan) => ({ start: period.start, next: period.next });

interface AssetSource {
  id: string;
  cost_centre_id: string | null;
  currency: string;
  purchase_cost_minor: number;
  salvage_value_minor: number;
  useful_life_months: number;
  depreciation_method: DepreciationMethod;
  purchase_date: string;
  services: string[];
}

interface EntitlementSource {
  id: string;
  product_id: string;
  quantity: number;
  starts_on: string;
  ends_on: string | null;
  cost_minor: number;
  currency: string;
}

interface ConsumptionSource {
  product_id: string;
  cost_centre_id: string | null;
  units: string;
}

/** One term of a contract: its own, or one renewed after it (renewal_id). */
interface ContractTermSource {
  contract_id: string;
  renewal_id: string | null;
  starts_on: string;
  ends_on: string;
  value_minor: number;
  currency: string;
}

interface ContractAssetsSource {
  contract_id: string;
  cost_centre_id: string | null;
  assets: string;
}

interface CostRecordGroup {
  category: 'cloud' | 'other_cost';
  cost_centre_id: string | null;
  business_service_id: string | null;
  currency: string;
  amount: string;
}

export interface AllocationSources {
  assets: AssetSource[];
  entitlements: EntitlementSource[];
  consumptions: ConsumptionSource[];
  contractTerms: ContractTermSource[];
  contractAssets: ContractAssetsSource[];
  costRecords: CostRecordGroup[];
  rules: (AllocationRuleSpec & { id: string })[];
  /** The live cost centres: a retired one is given no share of a pool. */
  everyCostCentreId: string[];
  headcount: Map<string, number>;
}

/**
 * Cost records charged in the month that the allocation counts, at their effective cost (FOCUS's
 * amortised view). Purchases are not counted: an asset bought is depreciated, a licence or contract
 * paid for is amortised over its term, and a cloud commitment bought is already spread over the
 * usage rows' EffectiveCost by the provider; counting the invoice as well would count the money twice.
 */
const COUNTED_COST_RECORDS = `charge_period_start >= (:start::date::timestamp AT TIME ZONE 'UTC')
   AND charge_period_start < (:next::date::timestamp AT TIME ZONE 'UTC')
   AND charge_category <> 'Purchase'`;

const COST_RECORD_CATEGORY = `CASE WHEN cost_import_id IS NOT NULL THEN 'cloud' ELSE 'other_cost' END`;

/** Everything the month's allocation is made of, read in a handful of set-based statements. */
export async function readAllocationSources(trx: Knex, period: PeriodSpan): Promise<AllocationSources> {
  const bounds = monthBounds(period);
  // The services above each asset's CI: a walk up the reverse edges of the service map; UNION drops
  // rows already found, so a cycle in the map ends the walk.
  const assets = await trx.raw<{ rows: AssetSource[] }>(
    `WITH RECURSIVE depreciating AS (
       SELECT a.id, a.cost_centre_id, a.currency, a.purchase_cost_minor, a.salvage_value_minor, a.useful_life_months,
              a.depreciation_method, a.purchase_date::text AS purchase_date
         FROM assets a
        WHERE a.purchase_date < :next::date AND a.depreciation_method <> 'none' AND a.purchase_cost_minor > 0
          AND (a.state = ANY (:states::text[])
               OR (a.state = 'retired' AND a.retired_at >= (:start::date::timestamp AT TIME ZONE 'UTC')
                   AND a.retired_at < (:next::date::timestamp AT TIME ZONE 'UTC')))
     ),
     walk (asset_id, ci_id) AS (
       SELECT c.asset_id, c.id FROM configuration_items c JOIN depreciating d ON d.id = c.asset_id
       UNION
       SELECT w.asset_id, r.from_ci_id FROM walk w JOIN ci_relationships r ON r.to_ci_id = w.ci_id AND r.retired_at IS NULL
     ),
     services AS (
       SELECT w.asset_id, array_agg(DISTINCT s.id ORDER BY s.id) AS services
         FROM walk w JOIN configuration_items s ON s.id = w.ci_id AND s.ci_class = 'business_service' AND s.retired_at IS NULL
        GROUP BY w.asset_id
     )
     SELECT d.*, coalesce(s.services, '{}') AS services FROM depreciating d LEFT JOIN services s ON s.asset_id = d.id ORDER BY d.id`,
    { ...bounds, states: pgArray(DEPRECIATING_STATES) },
  );
  // A prefilter only (amortisedPart decides): a term without an end runs PERPETUAL_LICENCE_MONTHS.
  const lastDay = `coalesce(e.ends_on, (e.starts_on + interval '${PERPETUAL_LICENCE_MONTHS} months')::date)`;
  const entitlements = await trx.raw<{ rows: EntitlementSource[] }>(
    `SELECT e.id, e.product_id, e.quantity, e.starts_on::text AS starts_on, e.ends_on::text AS ends_on, e.cost_minor, e.currency
       FROM software_entitlements e
      WHERE e.starts_on < :next::date AND ${lastDay} >= :start::date
      ORDER BY e.id`,
    bounds,
  );
  // Consumptions live at some time in the month, per product and the cost centre that consumes:
  // an installation's asset (else the CI it was found on), an assignment's person.
  const consumptions = await trx.raw<{ rows: ConsumptionSource[] }>(
    `SELECT c.product_id, CASE WHEN c.kind = 'assignment' THEN p.cost_centre_id ELSE coalesce(a.cost_centre_id, ci.cost_centre_id) END AS cost_centre_id,
            sum(c.units)::text AS units
       FROM software_consumptions c
       LEFT JOIN assets a ON a.id = c.asset_id
       LEFT JOIN configuration_items ci ON ci.id = c.ci_id
       LEFT JOIN people p ON p.id = c.person_id
      WHERE c.product_id IN (SELECT product_id FROM software_entitlements e WHERE e.starts_on < :next::date AND ${lastDay} >= :start::date)
        AND c.installed_at < (:next::date::timestamp AT TIME ZONE 'UTC')
        AND (c.reclaimed_at IS NULL OR c.reclaimed_at >= (:start::date::timestamp AT TIME ZONE 'UTC'))
      GROUP BY 1, 2
      ORDER BY 1, 2 NULLS LAST`,
    bounds,
  );
  const contractTerms = await trx.raw<{ rows: ContractTermSource[] }>(
    `SELECT contract_id, renewal_id, starts_on::text AS starts_on, ends_on::text AS ends_on, value_minor, currency
       FROM contract_terms
      WHERE kind IN ('${AMORTISED_CONTRACT_KINDS.join("', '")}') AND value_minor <> 0
        AND starts_on < :next::date AND ends_on >= :start::date
      ORDER BY contract_id, starts_on, renewal_id NULLS FIRST`,
    bounds,
  );
  const contractAssets = await trx.raw<{ rows: ContractAssetsSource[] }>(
    `SELECT a.contract_id, a.cost_centre_id, count(*)::text AS assets
       FROM assets a
      WHERE a.contract_id = ANY(:ids::uuid[])
        AND a.state <> 'on_order'
        AND (a.retired_at IS NULL OR a.retired_at >= (:start::date::timestamp AT TIME ZONE 'UTC'))
      GROUP BY 1, 2
      ORDER BY 1, 2 NULLS LAST`,
    { ids: pgArray([...new Set(contractTerms.rows.map((c) => c.contract_id))]), start: bounds.start },
  );
  const costRecords = await trx.raw<{ rows: CostRecordGroup[] }>(
    `SELECT ${COST_RECORD_CATEGORY} AS category, cost_centre_id, business_service_id, billing_currency AS currency, sum(effective_cost)::text AS amount
       FROM cost_records
      WHERE ${COUNTED_COST_RECORDS}
      GROUP BY 1, 2, 3, 4
      ORDER BY 1, 2 NULLS LAST, 3 NULLS LAST, 4`,
    bounds,
  );
  const rules = await trx('allocation_rules').where({ active: true }).orderBy('name')
    .select('id', 'name', 'pool_cost_centre_id', 'method', 'target_cost_centre_ids');
  const everyCostCentreId = (await trx('cost_centres').whereNull('retired_at').orderBy('id').select('id')).map((r: { id: string }) => r.id);
  const headcount = await trx('people').where({ active: true }).whereNotNull('cost_centre_id')
    .groupBy('cost_centre_id').select('cost_centre_id', trx.raw('count(*)::int AS people'));
  return {
    assets: assets.rows,
    entitlements: entitlements.rows,
    consumptions: consumptions.rows,
    contractTerms: contractTerms.rows,
    contractAssets: contractAssets.rows,
    costRecords: costRecords.rows,
    rules: rules.map((r: { id: string; name: string; pool_cost_centre_id: string; method: AllocationMethod; target_cost_centre_ids: string[] }) => ({
      id: r.id, name: r.name, poolCostCentreId: r.pool_cost_centre_id, method: r.method, targetCostCentreIds: r.target_cost_centre_ids,
    })),
    everyCostCentreId,
    headcount: new Map(headcount.map((h: { cost_centre_id: string; people: number }) => [h.cost_centre_id, h.people])),
  };
}

/** Values as a Postgres array literal, for `= ANY (?::type[])`: knex would spread a JS array into a list. Only for uuids and plain words. */
const pgArray = (values: readonly string[]) => `{${values.join(',')}}`;

const decimalOf = (text: string, what: string): ExactDecimal => {
  const value = parseDecimal(text);
  if (!value) throw new RangeError(`${what} ${text} is not a plain decimal`);
  return value;
};

/** A month's amount of one source, split over cost centres by weights; the part with no cost centre is unallocated. */
function splitOver(
  base: Omit<AllocationRow, 'costCentreId' | 'amount'>,
  amountMinor: bigint,
  holders: readonly { costCentreId: string | null; weight: bigint }[],
): AllocationRow[] {
  if (amountMinor === 0n) return [];
  const scale = minorDigits(base.currency);
  const weighed = holders.filter((h) => h.weight > 0n);
  if (weighed.length === 0) return [{ ...base, costCentreId: null, amount: minorAsDecimal(amountMinor, scale) }];
  return splitByWeights(amountMinor, weighed.map((h) => h.weight))
    .map((part, at) => ({ ...base, costCentreId: weighed[at].costCentreId, amount: minorAsDecimal(part, scale) }))
    .filter((row) => row.amount.units !== 0n);
}

export interface DirectAllocation {
  rows: AllocationRow[];
  /**
   * Depreciation, licences and contracts per category and currency, summed per source before any
   * split: with costRecordTotals, what the written rows must add up to.
   */
  sourceTotals: AllocationTotal[];
}

/**
 * The month's rows before the shared cost centres are split out, one per source and holder:
 * - depreciation: book value at the month's start less at the next month's start
 *   (domain/depreciation.ts), on the asset's cost centre, split evenly over the business services
 *   that depend on its CI (none: no service);
 * - licence: the entitlement's cost amortised by days over its term (amortisedPart), split by the
 *   units its product's consumptions hold per cost centre; the seats nobody consumes are
 *   unallocated. Consumptions belong to a product, not an entitlement, so every entitlement of a
 *   product in force is split in the same proportions;
 * - contract: each term of a maintenance, support or lease contract (its own and each renewed after
 *   it: a renewal decided before the current term ends leaves that term's months as they were)
 *   amortised the same way over the term's own days and value, split by the count of the assets
 *   under the contract per cost centre; none: unallocated;
 * - cloud and other costs: the cost records summed per cost centre, service and currency, as recorded.
 */
export function directAllocationRows(sources: AllocationSources, period: PeriodSpan): DirectAllocation {
  const rows: AllocationRow[] = [];
  const sourceAmounts: { category: string; currency: string; amount: ExactDecimal }[] = [];
  const counted = (category: string, currency: string, amountMinor: bigint) =>
    sourceAmounts.push({ category, currency, amount: minorAsDecimal(amountMinor, minorDigits(currency)) });

  for (const asset of sources.assets) {
    const valueOn = (onDate: string) => BigInt(bookValue({
      method: asset.depreciation_method,
      costMinor: asset.purchase_cost_minor,
      salvageMinor: asset.salvage_value_minor,
      usefulLifeMonths: asset.useful_life_months,
      purchaseDate: asset.purchase_date,
      onDate,
    }));
    const amount = valueOn(period.start) - valueOn(period.next);
    if (amount === 0n) continue;
    counted('depreciation', asset.currency, amount);
    const services: (string | null)[] = asset.services.length > 0 ? asset.services : [null];
    const scale = minorDigits(asset.currency);
    splitByWeights(amount, services.map(() => 1n)).forEach((part, at) => {
      if (part === 0n) return;
      rows.push({
        category: 'depreciation', sourceType: 'asset', sourceId: asset.id, costCentreId: asset.cost_centre_id,
        businessServiceId: services[at], sharedFromCostCentreId: null, amount: minorAsDecimal(part, scale), currency: asset.currency,
      });
    });
  }

  const consumersOf = new Map<string, { costCentreId: string | null; units: bigint }[]>();
  for (const c of sources.consumptions) {
    const list = consumersOf.get(c.product_id) ?? [];
    list.push({ costCentreId: c.cost_centre_id, units: BigInt(c.units) });
    consumersOf.set(c.product_id, list);
  }
  const entitledOf = new Map<string, bigint>();
  for (const e of sources.entitlements) entitledOf.set(e.product_id, (entitledOf.get(e.product_id) ?? 0n) + BigInt(e.quantity));
  for (const e of sources.entitlements) {
    const amount = amortisedPart(BigInt(e.cost_minor), { startsOn: e.starts_on, lastDay: termLastDay(e.starts_on, e.ends_on) }, period);
    if (amount === 0n) continue;
    counted('licence', e.currency, amount);
    const consumers = consumersOf.get(e.product_id) ?? [];
    const consumed = consumers.reduce((sum, c) => sum + c.units, 0n);
    const unconsumed = (entitledOf.get(e.product_id) ?? 0n) - consumed;
    const holders = [
      ...consumers.map((c) => ({ costCentreId: c.costCentreId, weight: c.units })),
      { costCentreId: null, weight: unconsumed > 0n ? unconsumed : 0n },
    ];
    rows.push(...splitOver({ category: 'licence', sourceType: 'entitlement', sourceId: e.id, businessServiceId: null, sharedFromCostCentreId: null, currency: e.currency }, amount, holders));
  }

  const assetsUnder = new Map<string, { costCentreId: string | null; weight: bigint }[]>();
  for (const a of sources.contractAssets) {
    const list = assetsUnder.get(a.contract_id) ?? [];
    list.push({ costCentreId: a.cost_centre_id, weight: BigInt(a.assets) });
    assetsUnder.set(a.contract_id, list);
  }
  for (const term of sources.contractTerms) {
    const amount = amortisedPart(BigInt(term.value_minor), { startsOn: term.starts_on, lastDay: term.ends_on }, period);
    if (amount === 0n) continue;
    counted('contract', term.currency, amount);
    const base = { category: 'contract', sourceType: 'contract', sourceId: term.contract_id, businessServiceId: null, sharedFromCostCentreId: null, currency: term.currency };
    rows.push(...splitOver(base, amount, assetsUnder.get(term.contract_id) ?? []));
  }

  for (const group of sources.costRecords) {
    rows.push({
      category: group.category, sourceType: 'cost_record', sourceId: null, costCentreId: group.cost_centre_id,
      businessServiceId: group.business_service_id, sharedFromCostCentreId: null, amount: decimalOf(group.amount, 'cost'), currency: group.currency,
    });
  }
  return { rows, sourceTotals: totalsByCategory(sourceAmounts) };
}

/** The cost records' part of the source totals, summed straight from the records (not from the groups the rows are made of). */
export async function costRecordTotals(trx: Knex, period: PeriodSpan): Promise<AllocationTotal[]> {
  const { rows } = await trx.raw<{ rows: { category: string; currency: string; amount: string }[] }>(
    `SELECT ${COST_RECORD_CATEGORY} AS category, billing_currency AS currency, sum(effective_cost)::text AS amount
       FROM cost_records WHERE ${COUNTED_COST_RECORDS} GROUP BY 1, 2`,
    monthBounds(period),
  );
  return totalsByCategory(rows.map((r) => ({ ...r, amount: decimalOf(r.amount, 'cost') })));
}

/**
 * The isolation the allocation runs at: every source read from one snapshot, so the cost records
 * summed into rows and summed again as the totals they are checked against are the same records,
 * even when a cost import commits in between (on the first of the month the bills arrive as the
 * schedule runs). A serialization failure at this level is retried like any other transient fault.
 */
export const ALLOCATION_ISOLATION = 'repeatable read' as const;

/**
 * Two runs at once would each delete and insert a month: they take turns on this lock, held to the
 * transaction's end. It must be the transaction's first statement: a repeatable read transaction
 * takes its snapshot at its first query, and LOCK TABLE (unlike SELECT pg_advisory_xact_lock) is
 * not one, so the snapshot is taken once the lock is held and sees what the run before committed;
 * a snapshot taken while waiting would miss that run's rows and the month would be doubled. The
 * lock is on the table, so runs of different months take turns too (a month takes minutes at most
 * and the schedule runs one); readers of allocation_runs are not blocked.
 */
export async function lockAllocations(trx: Knex.Transaction): Promise<void> {
  await trx.raw('LOCK TABLE allocation_runs IN SHARE ROW EXCLUSIVE MODE');
}

interface RunRow {
  id: string;
  period_start: string;
  state: string;
  workflow_id: string | null;
  source_totals: AllocationTotal[];
  allocated_totals: AllocationTotal[];
  allocations: number;
  message: string | null;
  started_at: Date;
  finished_at: Date | null;
}

const outcomeOf = (run: RunRow): CostAllocationOutcome => ({
  runId: run.id,
  period: run.period_start.slice(0, 7),
  allocations: run.allocations,
  sourceTotals: run.source_totals,
  allocatedTotals: run.allocated_totals,
});

/** The outcome of the run an idempotency key started, when it completed. */
export async function runOutcomeByKey(trx: Knex, idempotencyKey: string): Promise<CostAllocationOutcome | undefined> {
  const run = await trx('allocation_runs').where({ idempotency_key: idempotencyKey, state: 'completed' }).first<RunRow | undefined>();
  return run ? outcomeOf(run) : undefined;
}

const INSERT_BATCH = 1_000;

/**
 * The month's allocations replaced by `rows` under a new run, and that run's totals summed from
 * what was written (in SQL, not from `rows`). The caller holds the month's lock.
 */
export async function replaceMonth(
  trx: Knex.Transaction,
  input: { period: PeriodSpan; idempotencyKey: string; workflowId: string; rows: readonly AllocationRow[]; beat: () => void },
): Promise<{ runId: string; allocatedTotals: AllocationTotal[] }> {
  // A run this key tried before and recorded as failed (recordFailedRun) is tried again under its row.
  const [{ id: runId }] = await trx('allocation_runs')
    .insert({ period_start: input.period.start, idempotency_key: input.idempotencyKey, workflow_id: input.workflowId })
    .onConflict('idempotency_key')
    .merge({ state: 'running', message: null, started_at: trx.fn.now(), finished_at: null })
    .returning('id');
  await trx('cost_allocations').where({ period_start: input.period.start }).delete();
  for (let at = 0; at < input.rows.length; at += INSERT_BATCH) {
    await trx('cost_allocations').insert(input.rows.slice(at, at + INSERT_BATCH).map((row) => ({
      run_id: runId,
      period_start: input.period.start,
      category: row.category,
      source_type: row.sourceType,
      source_id: row.sourceId,
      cost_centre_id: row.costCentreId,
      business_service_id: row.businessServiceId,
      shared_from_cost_centre_id: row.sharedFromCostCentreId,
      amount: formatDecimal(row.amount),
      currency: row.currency,
    })));
    input.beat();
  }
  const { rows: sums } = await trx.raw<{ rows: { category: string; currency: string; amount: string }[] }>(
    'SELECT category, currency, sum(amount)::text AS amount FROM cost_allocations WHERE run_id = ? GROUP BY 1, 2',
    [runId],
  );
  return { runId, allocatedTotals: totalsByCategory(sums.map((s) => ({ ...s, amount: decimalOf(s.amount, 'allocated') }))) };
}

/** The run completed with its totals, and its audit row under the run's key. */
export async function completeRun(
  trx: Knex.Transaction,
  input: { runId: string; idempotencyKey: string; workflowId: string; allocations: number; sourceTotals: AllocationTotal[]; allocatedTotals: AllocationTotal[] },
): Promise<CostAllocationOutcome> {
  const [run] = await trx('allocation_runs').where({ id: input.runId })
    .update({
      state: 'completed',
      allocations: input.allocations,
      source_totals: JSON.stringify(input.sourceTotals),
      allocated_totals: JSON.stringify(input.allocatedTotals),
      finished_at: trx.fn.now(),
    })
    .returning('*');
  await trx('audit_log').insert({
    idempotency_key: input.idempotencyKey,
    actor: 'system:cost-allocation',
    subject_type: 'allocation_run',
    subject_id: input.runId,
    action: 'cost_allocation_completed',
    details: { period: run.period_start, allocations: input.allocations, allocatedTotals: input.allocatedTotals },
    workflow_id: input.workflowId,
  });
  return outcomeOf(run);
}

/**
 * A run refused for good (its rules go round, it does not reconcile, a source holds what cannot be
 * amortised), recorded as failed with the reason a person reads: its own transaction rolled back
 * and took its row with it, so this is written on its own. A key that completed meanwhile is left
 * as it is.
 */
export async function recordFailedRun(db: Knex, input: { period: PeriodSpan; idempotencyKey: string; workflowId: string; message: string }): Promise<void> {
  await db('allocation_runs')
    .insert({ period_start: input.period.start, idempotency_key: input.idempotencyKey, workflow_id: input.workflowId, state: 'failed', message: input.message, finished_at: db.fn.now() })
    .onConflict('idempotency_key')
    .merge({ state: 'failed', message: input.message, finished_at: db.fn.now() })
    .where('allocation_runs.state', '<>', 'completed');
}

/**
 * Whether two lists of totals name the same amounts. A total of zero is the same as none: a split
 * drops parts of nothing, so a pool whose costs cancel out leaves no rows behind.
 */
export function sameTotals(a: readonly AllocationTotal[], b: readonly AllocationTotal[]): boolean {
  const keys = (totals: readonly AllocationTotal[]) => totals
    .map((t) => ({ ...t, value: canonicalDecimal(decimalOf(t.amount, 'total')) }))
    .filter((t) => t.value.units !== 0n)
    .map((t) => `${t.category}|${t.currency}|${formatDecimal(t.value)}`)
    .sort();
  const left = keys(a);
  const right = keys(b);
  return left.length === right.length && left.every((k, at) => k === right[at]);
}

// ---- reading a month ---------------------------------------------------------------------------

export interface AllocationAmount {
  currency: string;
  amount: string;
}

export interface RunSummary {
  id: string;
  state: string;
  workflowId: string | null;
  startedAt: string;
  finishedAt: string | null;
  allocations: number;
  message: string | null;
}

export interface MonthAllocation {
  period: string;
  /** The latest completed run, whose rows the month holds; null when none completed. */
  run: RunSummary | null;
  /** The latest run, completed or failed (with its reason): newer than `run` when a later run failed. */
  latestRun: RunSummary;
  sourceTotals: AllocationTotal[];
  allocatedTotals: AllocationTotal[];
  byCostCentre: { costCentreId: string; code: string; name: string; currency: string; direct: string; shared: string; amount: string }[];
  byBusinessService: { businessServiceId: string; number: string; name: string; currency: string; amount: string }[];
  unallocated: { category: string; currency: string; amount: string }[];
}

const summaryOf = (run: RunRow): RunSummary => ({
  id: run.id, state: run.state, workflowId: run.workflow_id, startedAt: run.started_at.toISOString(),
  finishedAt: run.finished_at?.toISOString() ?? null, allocations: run.allocations, message: run.message,
});

const latestRunOf = (db: Knex, period: PeriodSpan, states: readonly string[]) => db('allocation_runs')
  .where({ period_start: period.start }).whereIn('state', states)
  .orderBy([{ column: 'finished_at', order: 'desc' }, { column: 'started_at', order: 'desc' }]).first<RunRow | undefined>();

/**
 * The month's latest run (completed or failed, with its reason) and what the latest completed run
 * allocated, per cost centre, per business service, and what no cost centre holds; undefined when
 * the month was never run.
 */
export async function monthAllocation(db: Knex, period: PeriodSpan): Promise<MonthAllocation | undefined> {
  const latest = await latestRunOf(db, period, ['completed', 'failed']);
  if (!latest) return undefined;
  const run = latest.state === 'completed' ? latest : await latestRunOf(db, period, ['completed']);
  if (!run) {
    return { period: period.period, run: null, latestRun: summaryOf(latest), sourceTotals: [], allocatedTotals: [], byCostCentre: [], byBusinessService: [], unallocated: [] };
  }
  const byCostCentre = await db.raw<{ rows: MonthAllocation['byCostCentre'] }>(
    `SELECT cc.id AS "costCentreId", cc.code, cc.name, a.currency,
            coalesce(sum(a.amount) FILTER (WHERE a.shared_from_cost_centre_id IS NULL), 0)::text AS direct,
            coalesce(sum(a.amount) FILTER (WHERE a.shared_from_cost_centre_id IS NOT NULL), 0)::text AS shared,
            sum(a.amount)::text AS amount
       FROM cost_allocations a JOIN cost_centres cc ON cc.id = a.cost_centre_id
      WHERE a.period_start = ?
      GROUP BY cc.id, cc.code, cc.name, a.currency
      ORDER BY cc.code, a.currency`,
    [period.start],
  );
  const byBusinessService = await db.raw<{ rows: MonthAllocation['byBusinessService'] }>(
    `SELECT s.id AS "businessServiceId", s.number, s.name, a.currency, sum(a.amount)::text AS amount
       FROM cost_allocations a JOIN configuration_items s ON s.id = a.business_service_id
      WHERE a.period_start = ?
      GROUP BY s.id, s.number, s.name, a.currency
      ORDER BY s.name, a.currency`,
    [period.start],
  );
  const unallocated = await db.raw<{ rows: MonthAllocation['unallocated'] }>(
    `SELECT category, currency, sum(amount)::text AS amount FROM cost_allocations
      WHERE period_start = ? AND cost_centre_id IS NULL GROUP BY 1, 2 ORDER BY 1, 2`,
    [period.start],
  );
  const canonical = (text: string) => formatDecimal(canonicalDecimal(decimalOf(text, 'amount')));
  return {
    period: period.period,
    run: summaryOf(run),
    latestRun: summaryOf(latest),
    sourceTotals: run.source_totals,
    allocatedTotals: run.allocated_totals,
    byCostCentre: byCostCentre.rows.map((r) => ({ ...r, direct: canonical(r.direct), shared: canonical(r.shared), amount: canonical(r.amount) })),
    byBusinessService: byBusinessService.rows.map((r) => ({ ...r, amount: canonical(r.amount) })),
    unallocated: unallocated.rows.map((r) => ({ ...r, amount: canonical(r.amount) })),
  };
}

export const ALLOCATION_CSV_COLUMNS = ['period', 'category', 'source_type', 'source_id', 'cost_centre', 'business_service', 'shared_from', 'amount', 'currency'] as const;

/** The month's rows for a CSV, in batches (a large estate has many), by id. */
export async function* monthAllocationRows(db: Knex, period: PeriodSpan, batch = 5_000): AsyncGenerator<Record<(typeof ALLOCATION_CSV_COLUMNS)[number], string | null>[]> {
  let after = 0;
  for (;;) {
    const { rows } = await db.raw<{ rows: (Record<(typeof ALLOCATION_CSV_COLUMNS)[number], string | null> & { id: string })[] }>(
      `SELECT a.id, to_char(a.period_start, 'YYYY-MM') AS period, a.category, a.source_type, a.source_id, cc.code AS cost_centre,
              s.number AS business_service, pool.code AS shared_from, a.amount::text AS amount, a.currency
         FROM cost_allocations a
         LEFT JOIN cost_centres cc ON cc.id = a.cost_centre_id
         LEFT JOIN configuration_items s ON s.id = a.business_service_id
         LEFT JOIN cost_centres pool ON pool.id = a.shared_from_cost_centre_id
        WHERE a.period_start = ? AND a.id > ?
        ORDER BY a.id LIMIT ?`,
      [period.start, after, batch],
    );
    if (rows.length === 0) return;
    after = Number(rows[rows.length - 1].id);
    yield rows.map(({ id: _id, ...row }) => row);
    if (rows.length < batch) return;
  }
}

// ---- the rules ---------------------------------------------------------------------------------

export interface AllocationRuleView {
  id: string;
  name: string;
  method: AllocationMethod;
  pool: string;
  targets: string[];
  active: boolean;
  version: number;
  updatedAt: string;
}

export async function listAllocationRules(db: Knex): Promise<AllocationRuleView[]> {
  const { rows } = await db.raw<{ rows: (Omit<AllocationRuleView, 'updatedAt'> & { updatedAt: Date })[] }>(
    `SELECT r.id, r.name, r.method, pool.code AS pool, r.active, r.version, r.updated_at AS "updatedAt",
            coalesce((SELECT array_agg(t.code ORDER BY t.code) FROM cost_centres t WHERE t.id = ANY (r.target_cost_centre_ids)), '{}') AS targets
       FROM allocation_rules r JOIN cost_centres pool ON pool.id = r.pool_cost_centre_id
      ORDER BY r.name`,
  );
  return rows.map((r) => ({ ...r, updatedAt: r.updatedAt.toISOString() }));
}

export type AllocationRuleRefusal =
  | { rule: 'version_mismatch'; currentVersion: number; message: string }
  | { rule: 'unknown_cost_centre' | 'retired_cost_centre'; codes: string[]; message: string }
  | { rule: 'pool_is_target' | 'pool_has_rule' | 'rule_exists' | 'version_required'; message: string };

export class AllocationRuleRefused extends Error {
  constructor(readonly refusal: AllocationRuleRefusal) {
    super(refusal.message);
    this.name = 'AllocationRuleRefused';
  }
}

export interface AllocationRuleWrite {
  method: AllocationMethod;
  pool: string;
  targets: string[];
  active: boolean;
}

/**
 * Creates the rule named `name` (no version expected) or replaces it when `expectedVersions` holds
 * its current version; cost centres by code, in any case, and live (a retired one is refused: it is
 * given no share). Audited with before and after. Two requests at once that create the same rule,
 * or rules of the same pool, meet the database's unique constraints: the second is refused as the
 * check before it would have refused it, not failed.
 */
export async function saveAllocationRule(
  db: Knex,
  name: string,
  write: AllocationRuleWrite,
  expectedVersions: readonly number[] | undefined,
  actor: string,
): Promise<{ rule: AllocationRuleView; created: boolean }> {
  const created = await db.transaction(async (trx) => {
    const codes = [write.pool, ...write.targets].map((code) => code.toUpperCase());
    const found = await trx('cost_centres').whereRaw(`upper(code) IN (${codes.map(() => '?').join(', ')})`, codes).select('id', 'code', 'retired_at');
    const idOf = new Map(found.map((f: { id: string; code: string }) => [f.code.toUpperCase(), f.id]));
    const unknown = codes.filter((code) => !idOf.has(code));
    if (unknown.length > 0) throw new AllocationRuleRefused({ rule: 'unknown_cost_centre', codes: unknown, message: `no cost centre has the code ${unknown.join(', ')}` });
    const retired = found.filter((f: { retired_at: Date | null }) => f.retired_at !== null).map((f: { code: string }) => f.code);
    if (retired.length > 0) throw new AllocationRuleRefused({ rule: 'retired_cost_centre', codes: retired, message: `the cost centre ${retired.join(', ')} is retired: a rule shares onto live cost centres only` });
    const poolId = idOf.get(write.pool.toUpperCase())!;
    const targetIds = [...new Set(write.targets.map((code) => idOf.get(code.toUpperCase())!))];
    if (targetIds.includes(poolId)) throw new AllocationRuleRefused({ rule: 'pool_is_target', message: 'a pool cannot be one of its own targets' });
    const existing = await trx('allocation_rules').where({ name }).forUpdate().first();
    const fields = { method: write.method, pool_cost_centre_id: poolId, target_cost_centre_ids: targetIds, active: write.active, updated_at: trx.fn.now() };
    const other = await trx('allocation_rules').where({ pool_cost_centre_id: poolId }).whereNot({ name }).first('name');
    if (other) throw new AllocationRuleRefused({ rule: 'pool_has_rule', message: `the rule ${other.name} already shares ${write.pool}: a pool has one rule` });
    if (!existing) {
      const [row] = await trx('allocation_rules').insert({ name, ...fields, version: 1 }).returning('id');
      await insertAuditRow(trx, { actor, subjectType: 'allocation_rule', subjectId: row.id, action: 'allocation_rule_created', details: { name, after: write } });
      return true;
    }
    if (!expectedVersions) throw new AllocationRuleRefused({ rule: 'version_required', message: 'the rule exists: send the version you read as If-Match' });
    if (!expectedVersions.includes(existing.version)) {
      throw new AllocationRuleRefused({ rule: 'version_mismatch', currentVersion: existing.version, message: `this rule was changed since you read it: the current version is ${existing.version}; read it again and repeat your change` });
    }
    await trx('allocation_rules').where({ id: existing.id }).update({ ...fields, version: existing.version + 1 });
    await insertAuditRow(trx, { actor, subjectType: 'allocation_rule', subjectId: existing.id, action: 'allocation_rule_changed', details: { name, before: { method: existing.method, active: existing.active, version: existing.version }, after: write } });
    return false;
  }).catch((error: unknown) => {
    if (isUniqueViolation(error, 'allocation_rules_pool_unique')) {
      throw new AllocationRuleRefused({ rule: 'pool_has_rule', message: `another rule shares ${write.pool} since a moment ago: a pool has one rule` });
    }
    if (isUniqueViolation(error, 'allocation_rules_name_unique')) {
      throw new AllocationRuleRefused({ rule: 'rule_exists', message: `the rule ${name} was created a moment ago: read it and send its version as If-Match to change it` });
    }
    throw error;
  });
  const rule = (await listAllocationRules(db)).find((r) => r.name === name)!;
  return { rule, created };
}

/** Deletes the rule when `expectedVersions` holds its version; false when there is no such rule. */
export async function deleteAllocationRule(db: Knex, name: string, expectedVersions: readonly number[], actor: string): Promise<boolean> {
  return db.transaction(async (trx) => {
    const existing = await trx('allocation_rules').where({ name }).forUpdate().first();
    if (!existing) return false;
    if (!expectedVersions.includes(existing.version)) {
      throw new AllocationRuleRefused({ rule: 'version_mismatch', currentVersion: existing.version, message: `this rule was changed since you read it: the current version is ${existing.version}; read it again and repeat your change` });
    }
    await trx('allocation_rules').where({ id: existing.id }).delete();
    await insertAuditRow(trx, { actor, subjectType: 'allocation_rule', subjectId: existing.id, action: 'allocation_rule_deleted', details: { name, version: existing.version } });
    return true;
  });
}
