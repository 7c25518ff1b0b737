/** Effective licence position of one product: what is owned against what is consumed. */
import { exactAmount } from './money';

/** How a software product is licensed: what one unit of an entitlement covers. */
export const LICENCE_METRICS = ['per_device', 'per_user', 'per_core', 'subscription', 'site'] as const;
export type LicenceMetric = (typeof LICENCE_METRICS)[number];

export type CompliancePosition = 'compliant' | 'over_deployed' | 'under_used';

export interface ComplianceInput {
  entitledUnits: number;
  consumedUnits: number;
  unitPriceMinor: number;
}

export interface ComplianceResult {
  entitledUnits: number;
  consumedUnits: number;
  shortfallUnits: number;
  spareUnits: number;
  position: CompliancePosition;
  /** What buying the shortfall at the unit price would cost. */
  trueUpCostMinor: number;
}

/** Below this share of entitled units in use, a product counts as under-used (an optimisation finding). */
export const UNDER_USE_THRESHOLD_PERCENT = 50;

export function compliancePosition({ entitledUnits, consumedUnits, unitPriceMinor }: ComplianceInput): ComplianceResult {
  const shortfallUnits = Math.max(0, consumedUnits - entitledUnits);
  const spareUnits = Math.max(0, entitledUnits - consumedUnits);
  let position: CompliancePosition = 'compliant';
  if (shortfallUnits > 0) position = 'over_deployed';
  else if (entitledUnits > 0 && consumedUnits * 100 < entitledUnits * UNDER_USE_THRESHOLD_PERCENT) position = 'under_used';
  return { entitledUnits, consumedUnits, shortfallUnits, spareUnits, position, trueUpCostMinor: shortfallUnits * unitPriceMinor };
}

export interface TrueUpTotal {
  currency: string;
  /** What buying every over-deployed product's shortfall would cost, in this currency. */
  trueUpCostMinor: number;
  /** The over-deployed products it covers. */
  products: number;
}

/**
 * The true-up cost of the over-deployed products, one total per currency (prices in different
 * currencies are never added together), currencies in alphabetical order; exact, or a RangeError.
 */
export function trueUpTotals(positions: readonly { currency: string; trueUpCostMinor: number }[]): TrueUpTotal[] {
  const totals = new Map<string, TrueUpTotal>();
  for (const { currency, trueUpCostMinor } of positions) {
    if (trueUpCostMinor <= 0) continue;
    const total = totals.get(currency) ?? { currency, trueUpCostMinor: 0, products: 0 };
    total.trueUpCostMinor = exactAmount(total.trueUpCostMinor + exactAmount(trueUpCostMinor, `the true-up cost of a product in ${currency}`), `the true-up total in ${currency}`);
    total.products += 1;
    totals.set(currency, total);
  }
  return [...totals.values()].sort((a, b) => a.currency.localeCompare(b.currency));
}
