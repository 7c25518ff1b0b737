/**
 * FinOps rules of issue 17, pure so the monthly allocation, the budget watch and their tests decide
 * alike: cloud line items keep every decimal place (FOCUS exports carry many) and are added exactly,
 * a shared cost is split by weights so the parts add up to the whole to the last unit, and a budget
 * owner is told at 80% and at 100% once each per month. The monthly allocation
 * (model/cost-allocation.ts, activities/cost-allocation.ts) and the budget watch use them.
 */

import { minorDigits } from './money';
import type { PeriodSpan } from './months';

/** An exact decimal: `units / 10^scale`. Never a float. */
export interface ExactDecimal {
  units: bigint;
  scale: number;
}

/** Most decimal places kept: more than any FOCUS export carries, bounded so a value stays small. */
export const MAX_DECIMAL_PLACES = 18;

const DECIMAL = /^([+-])?(\d+)(?:\.(\d+))?$/;

/** "12.3400056", "-0.5", "7": the value exactly, or undefined when it is not a plain decimal (no exponent, no grouping). */
export function parseDecimal(text: string): ExactDecimal | undefined {
  const match = DECIMAL.exec(text.trim());
  if (!match) return undefined;
  const [, sign, whole, fraction = ''] = match;
  if (fraction.length > MAX_DECIMAL_PLACES || whole.length > 30) return undefined;
  const units = BigInt(whole + fraction) * (sign === '-' ? -1n : 1n);
  return { units, scale: fraction.length };
}

const TEN = 10n;
const scaled = (value: ExactDecimal, scale: number): bigint => value.units * TEN ** BigInt(scale - value.scale);

/** The exact sum, at the largest scale of its terms. */
export function addDecimals(values: Iterable<ExactDecimal>): ExactDecimal {
  let total: ExactDecimal = { units: 0n, scale: 0 };
  for (const value of values) {
    const scale = Math.max(total.scale, value.scale);
    total = { units: scaled(total, scale) + scaled(value, scale), scale };
  }
  return total;
}

/** The decimal as text, every place kept ("1.500" stays "1.500"). */
export function formatDecimal(value: ExactDecimal): string {
  const negative = value.units < 0n;
  const digits = (negative ? -value.units : value.units).toString().padStart(value.scale + 1, '0');
  const whole = digits.slice(0, digits.length - value.scale);
  const fraction = digits.slice(digits.length - value.scale);
  return `${negative ? '-' : ''}${whole}${value.scale > 0 ? `.${fraction}` : ''}`;
}

/**
 * A whole amount (minor units) split by non-negative integer weights (headcount, usage, or 1 each
 * for an even split) so that the parts add up to the amount exactly: each part is its share rounded
 * down, and the units left over go one each to the largest remainders (ties to the earlier weight),
 * so the same input always splits the same way. All weights zero: refused (nothing to split by).
 */
export function splitByWeights(amountMinor: bigint, weights: readonly bigint[]): bigint[] {
  if (weights.some((w) => w < 0n)) throw new RangeError('a weight is negative');
  const totalWeight = weights.reduce((sum, w) => sum + w, 0n);
  if (totalWeight === 0n) throw new RangeError('every weight is zero: there is nothing to split by');
  const negative = amountMinor < 0n;
  const amount = negative ? -amountMinor : amountMinor;
  const parts = weights.map((w) => (amount * w) / totalWeight);
  let left = amount - parts.reduce((sum, p) => sum + p, 0n);
  const byRemainder = weights
    .map((w, at) => ({ at, remainder: (amount * w) % totalWeight }))
    .sort((a, b) => (a.remainder === b.remainder ? a.at - b.at : a.remainder > b.remainder ? -1 : 1));
  for (const { at } of byRemainder) {
    if (left === 0n) break;
    parts[at] += 1n;
    left -= 1n;
  }
  return negative ? parts.map((p) => -p) : parts;
}

/** The shares of a budget at which its owner is told, in percent. */
export const BUDGET_ALERT_THRESHOLDS = [80, 100] as const;
export type BudgetAlertThreshold = (typeof BUDGET_ALERT_THRESHOLDS)[number];

/**
 * The budget alerts due for a cost centre's month: every threshold the spend (committed plus actual,
 * minor units) has reached and that was not sent for this month yet, lowest first. A budget of zero
 * or less alerts nothing (there is no share of nothing); a month that jumps past 100% at once gets
 * both, in order.
 */
export function budgetAlertsDue(input: { budgetMinor: bigint; spentMinor: bigint; sentThisMonth: readonly BudgetAlertThreshold[] }): BudgetAlertThreshold[] {
  if (input.budgetMinor <= 0n) return [];
  return BUDGET_ALERT_THRESHOLDS.filter((threshold) =>
    input.spentMinor * 100n >= input.budgetMinor * BigInt(threshold) && !input.sentThisMonth.includes(threshold));
}

/**
 * A licence without an end date (perpetual) is amortised over 36 months from its start: the useful
 * life the estate gives hardware by default, and the usual life of a perpetual licence before its
 * version is out of support; spreading it over forever would charge no month anything.
 */
export const PERPETUAL_LICENCE_MONTHS = 36;

const isoDay = (date: Date) => date.toISOString().slice(0, 10);

/** The last day (inclusive) of a term that ends on `endsOn`, or runs PERPETUAL_LICENCE_MONTHS from `startsOn` when it has no end. */
export function termLastDay(startsOn: string, endsOn: string | null): string {
  if (endsOn) return endsOn;
  const [year, month, day] = startsOn.split('-').map(Number);
  return isoDay(new Date(Date.UTC(year, month - 1 + PERPETUAL_LICENCE_MONTHS, day - 1)));
}

const DAY_MS = 86_400_000;
const ISO_DAY = /^\d{4}-\d{2}-\d{2}$/;

/** Days since 1970-01-01 of a YYYY-MM-DD day; a day a term cannot have (past 9999, not a date) is refused. */
function dayNumber(iso: string): number {
  const ms = ISO_DAY.test(iso) ? Date.parse(`${iso}T00:00:00Z`) : Number.NaN;
  if (Number.isNaN(ms)) throw new RangeError(`${iso} is not a day between 0000-01-01 and 9999-12-31`);
  return ms / DAY_MS;
}

/**
 * The part of `amountMinor` that falls on the month `period` when it is spread over the term
 * [startsOn, lastDay] by days, in constant time whatever the term's length (a contract that ends
 * on 9999-12-31 costs no more to read than one of a year). With D the term's days and d(x) the days
 * of the term before day x (0 before the term, D after it), the month's part is
 *   floor(A·d(next month's start)/D) − floor(A·d(month's start)/D):
 * the amount accrued by the month's end, rounded down, less that accrued by its start. The parts of
 * all the term's months add up to the amount exactly (the sum telescopes to floor(A·D/D) = A), a
 * month gets the same part whichever month is asked first, and a credit (negative) is split as its
 * opposite. The rounding is cumulative: a month's part is its exact share rounded down or up, so
 * that the running total never drifts by a unit; unlike a largest-remainder split of the months it
 * needs no other month. Outside the term: 0. Days past 9999-12-31 are refused (RangeError).
 */
export function amortisedPart(amountMinor: bigint, term: { startsOn: string; lastDay: string }, period: PeriodSpan): bigint {
  const first = dayNumber(term.startsOn);
  const end = dayNumber(term.lastDay) + 1;
  if (end <= first) return 0n;
  const days = BigInt(end - first);
  const negative = amountMinor < 0n;
  const amount = negative ? -amountMinor : amountMinor;
  const accrued = (day: number) => (amount * BigInt(Math.min(Math.max(day - first, 0), end - first))) / days;
  const part = accrued(dayNumber(period.next)) - accrued(dayNumber(period.start));
  return negative ? -part : part;
}

/** The digits after the point that are zeros dropped: one value, one text ("1.500" and "1.5" are both "1.5"). */
export function canonicalDecimal(value: ExactDecimal): ExactDecimal {
  let { units, scale } = value;
  while (scale > 0 && units % TEN === 0n) {
    units /= TEN;
    scale -= 1;
  }
  return { units, scale };
}

/** A minor-unit amount as the exact decimal of its currency's major unit (12345 EUR cents: 123.45). */
export const minorAsDecimal = (amountMinor: bigint, minorDigits: number): ExactDecimal => ({ units: amountMinor, scale: minorDigits });

export const ALLOCATION_METHODS = ['even', 'headcount', 'usage'] as const;
export type AllocationMethod = (typeof ALLOCATION_METHODS)[number];

/** A rule held as data: the pool cost centre's costs are split onto the targets (none named: every other cost centre). */
export interface AllocationRuleSpec {
  name: string;
  poolCostCentreId: string;
  method: AllocationMethod;
  targetCostCentreIds: readonly string[];
}

/** One row of a month's allocation: exact, in the source's currency. */
export interface AllocationRow {
  category: string;
  sourceType: string;
  sourceId: string | null;
  costCentreId: string | null;
  businessServiceId: string | null;
  sharedFromCostCentreId: string | null;
  amount: ExactDecimal;
  currency: string;
}

/** Rules whose pools feed each other round: no order can share them out, so the run is refused, naming them. */
export class AllocationRuleCycle extends Error {
  constructor(readonly rules: readonly string[]) {
    super(`the allocation rules ${rules.join(', ')} share costs onto each other in a cycle: make one of them not target the other's pool`);
    this.name = 'AllocationRuleCycle';
  }
}

/**
 * The cost centres a rule splits onto, among `everyCostCentreId` (the live ones: a retired cost
 * centre is given no share, whether a rule names it or not). None named means every other cost
 * centre except the pools of the rules in force: a pool's own costs are shared out by its own rule,
 * so giving it a share would only pass the money on (and two such rules would feed each other for ever).
 */
export function ruleTargets(rule: AllocationRuleSpec, everyCostCentreId: readonly string[], pools: ReadonlySet<string>): string[] {
  if (rule.targetCostCentreIds.length > 0) return rule.targetCostCentreIds.filter((id) => everyCostCentreId.includes(id));
  return everyCostCentreId.filter((id) => id !== rule.poolCostCentreId && !pools.has(id));
}

/**
 * The order rules are applied in: a rule whose pool is another rule's target runs after it, so the
 * costs shared onto a pool are passed on with its own (chained pools); otherwise by name, so the
 * same rules always give the same rows. A cycle is refused (AllocationRuleCycle).
 */
export function orderAllocationRules<R extends AllocationRuleSpec>(rules: readonly R[], everyCostCentreId: readonly string[]): R[] {
  const pools = new Set(rules.map((r) => r.poolCostCentreId));
  const byPool = new Map(rules.map((r) => [r.poolCostCentreId, r]));
  const feeders = new Map<string, Set<string>>(rules.map((r) => [r.name, new Set<string>()]));
  for (const rule of rules) {
    for (const target of ruleTargets(rule, everyCostCentreId, pools)) {
      const fed = byPool.get(target);
      if (fed && fed !== rule) feeders.get(fed.name)!.add(rule.name);
    }
  }
  const ordered: R[] = [];
  const left = [...rules].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  while (left.length > 0) {
    const at = left.findIndex((rule) => [...feeders.get(rule.name)!].every((name) => ordered.some((done) => done.name === name)));
    if (at < 0) throw new AllocationRuleCycle(left.map((r) => r.name));
    ordered.push(...left.splice(at, 1));
  }
  return ordered;
}

/** Who may be given a share (the live cost centres), and what the split by headcount weighs: active people per cost centre. */
export interface SharingFacts {
  everyCostCentreId: readonly string[];
  headcount: ReadonlyMap<string, number>;
}

function atScale(value: ExactDecimal, scale: number): bigint {
  return value.units * TEN ** BigInt(scale - value.scale);
}

/**
 * The month's rows after the shared cost centres are split out: each rule, in orderAllocationRules'
 * order, takes every row of its pool (its direct costs and what earlier rules shared onto it) and
 * splits it onto its targets by the rule's method, the parts exact at the row's own scale, or its
 * currency's minor unit when that is finer (ten dollars in three is 3.34, 3.33, 3.33, not 4, 3, 3)
 * (splitByWeights: they add up to the row); the pool keeps nothing, and each part names the pool it
 * was shared from. The weights:
 * - even: one each;
 * - headcount: the targets' active people; nobody anywhere: even (there is nothing else to go by);
 * - usage: the targets' own direct costs of the row's category and currency (before any sharing, so
 *   the order of the rules does not change them), a net credit weighing nothing; nothing: even.
 * A rule with no target left keeps its pool's rows where they are: nothing is lost.
 */
export function shareOut(direct: readonly AllocationRow[], rules: readonly AllocationRuleSpec[], facts: SharingFacts): AllocationRow[] {
  const ordered = orderAllocationRules(rules, facts.everyCostCentreId);
  const pools = new Set(rules.map((r) => r.poolCostCentreId));
  const usage = new Map<string, ExactDecimal>();
  for (const row of direct) {
    if (!row.costCentreId) continue;
    const key = `${row.costCentreId}|${row.category}|${row.currency}`;
    usage.set(key, addDecimals([usage.get(key) ?? { units: 0n, scale: 0 }, row.amount]));
  }
  let rows = [...direct];
  for (const rule of ordered) {
    const targets = ruleTargets(rule, facts.everyCostCentreId, pools);
    if (targets.length === 0) continue;
    const even = targets.map(() => 1n);
    const weightsOf = (row: AllocationRow): bigint[] => {
      if (rule.method === 'headcount') {
        const weights = targets.map((id) => BigInt(facts.headcount.get(id) ?? 0));
        return weights.some((w) => w > 0n) ? weights : even;
      }
      if (rule.method === 'usage') {
        const amounts = targets.map((id) => usage.get(`${id}|${row.category}|${row.currency}`) ?? { units: 0n, scale: 0 });
        const scale = Math.max(...amounts.map((a) => a.scale));
        const weights = amounts.map((a) => (a.units > 0n ? atScale(a, scale) : 0n));
        return weights.some((w) => w > 0n) ? weights : even;
      }
      return even;
    };
    const next: AllocationRow[] = [];
    for (const row of rows) {
      if (row.costCentreId !== rule.poolCostCentreId) {
        next.push(row);
        continue;
      }
      const scale = Math.max(row.amount.scale, minorDigits(row.currency));
      const parts = splitByWeights(atScale(row.amount, scale), weightsOf(row));
      parts.forEach((units, at) => {
        if (units !== 0n) next.push({ ...row, costCentreId: targets[at], sharedFromCostCentreId: rule.poolCostCentreId, amount: { units, scale } });
      });
    }
    rows = next;
  }
  return rows;
}

/** Sums per category and currency, as canonical decimal text, in a stable order: what a run's totals are compared by. */
export function totalsByCategory(rows: Iterable<{ category: string; currency: string; amount: ExactDecimal }>): { category: string; currency: string; amount: string }[] {
  const sums = new Map<string, ExactDecimal>();
  for (const row of rows) {
    const key = `${row.category}|${row.currency}`;
    sums.set(key, addDecimals([sums.get(key) ?? { units: 0n, scale: 0 }, row.amount]));
  }
  return [...sums.entries()]
    .map(([key, sum]) => {
      const [category, currency] = key.split('|');
      return { category, currency, amount: formatDecimal(canonicalDecimal(sum)) };
    })
    .sort((a, b) => (a.category === b.category ? (a.currency < b.currency ? -1 : 1) : a.category < b.category ? -1 : 1));
}
