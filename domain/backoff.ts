/**
 * The wait before trying again after the `attempt`-th failure (1 for the first): `firstMs`, doubled
 * with each further failure, never more than `maxMs`. An attempt below 1 counts as the first.
 */
export function cappedBackoffMs(attempt: number, firstMs: number, maxMs: number): number {
  // Past 30 doublings any sane first wait is over any sane cap; bounding it keeps 2 ** n finite.
  const doublings = Math.max(0, Math.min(attempt - 1, 30));
  return Math.min(firstMs * 2 ** doublings, maxMs);
}
