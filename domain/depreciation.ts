/** Book value of an asset on a date, in integer minor units, by its depreciation method. */

/** How an asset loses value; the CHECKs of hardware_models and assets allow exactly these (test/process-vocabulary.test.ts). */
export const DEPRECIATION_METHODS = ['straight_line', 'declining_balance', 'none'] as const;
export type DepreciationMethod = (typeof DEPRECIATION_METHODS)[number];

export interface DepreciationInput {
  method: DepreciationMethod;
  costMinor: number;
  salvageMinor: number;
  usefulLifeMonths: number;
  /** Calendar dates, YYYY-MM-DD. */
  purchaseDate: string;
  onDate: string;
}

/** Whole months from one calendar date to another; a month counts once its day is reached. */
export function wholeMonthsBetween(from: string, to: string): number {
  const [fy, fm, fd] = from.split('-').map(Number);
  const [ty, tm, td] = to.split('-').map(Number);
  const months = (ty - fy) * 12 + (tm - fm) - (td < fd ? 1 : 0);
  return Math.max(0, months);
}

function divideRoundingHalfUp(numerator: bigint, denominator: bigint): bigint {
  return (numerator * 2n + denominator) / (denominator * 2n);
}

export function bookValue(input: DepreciationInput): number {
  const cost = BigInt(input.costMinor);
  const salvage = BigInt(Math.min(input.salvageMinor, input.costMinor));
  if (input.method === 'none' || input.usefulLifeMonths <= 0) return input.costMinor;
  const elapsed = BigInt(Math.min(wholeMonthsBetween(input.purchaseDate, input.onDate), input.usefulLifeMonths));
  const life = BigInt(input.usefulLifeMonths);

  if (input.method === 'straight_line') {
    return Number(cost - divideRoundingHalfUp((cost - salvage) * elapsed, life));
  }
  // Double-declining balance, month by month, never below salvage value.
  let value = cost;
  for (let month = 0n; month < elapsed; month++) {
    value -= divideRoundingHalfUp(value * 2n, life);
    if (value <= salvage) return Number(salvage);
  }
  return Number(value);
}
