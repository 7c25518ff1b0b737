/**
 * FinOps rules of issue 17, pure so the monthly allocation, the budget watch and their tests decide
 * alike: cloud line items keep every decimal place (FOCUS exports carry many) and are added exactly,
 * a shared cost is split by weights so the parts add up to the whole to the last unit, and a budget
 * owner is told at 80% and at 100% once each per month. Used by nothing yet.
 */

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
