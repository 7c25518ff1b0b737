/**
 * Months as FinOps names them: a period is YYYY-MM, a calendar month in UTC, [its first day, the next
 * month's first day). The allocation, the budget watch, the cost import's budget window and the pages
 * read months the same way through these. Pure (no clock, no I/O): workflows use them too.
 */

/** YYYY-MM, months 01 to 12. */
export const PERIOD_PATTERN = /^(\d{4})-(0[1-9]|1[0-2])$/;

/** A month: its name and its bounds as days (YYYY-MM-DD), the next month's first day excluded. */
export interface PeriodSpan {
  period: string;
  /** The first day. */
  start: string;
  /** The first day of the next month: the period ends before it. */
  next: string;
}

/** Years a period may name: a month of another century is a typing slip, not a budget or an allocation. */
export const PERIOD_YEARS = { first: 2000, last: 2199 } as const;

const isoDay = (date: Date) => date.toISOString().slice(0, 10);

/** The month named YYYY-MM (years PERIOD_YEARS), or undefined. */
export function periodSpan(period: string): PeriodSpan | undefined {
  const match = PERIOD_PATTERN.exec(period);
  if (!match) return undefined;
  const year = Number(match[1]);
  if (year < PERIOD_YEARS.first || year > PERIOD_YEARS.last) return undefined;
  const month = Number(match[2]) - 1;
  return { period, start: isoDay(new Date(Date.UTC(year, month, 1))), next: isoDay(new Date(Date.UTC(year, month + 1, 1))) };
}

/** The first day of the month, YYYY-MM-DD: a budget's or an allocation's period_start. */
export const periodStart = (period: string) => `${period}-01`;

/** The month an instant falls in, in UTC. */
export const periodOf = (instant: Date) => instant.toISOString().slice(0, 7);

/** The month `months` before (negative) or after the one named. */
export function shiftPeriod(period: string, months: number): string {
  const [year, month] = period.split('-').map(Number);
  return periodOf(new Date(Date.UTC(year, month - 1 + months, 1)));
}

/** The month before the one `instant` falls in (UTC): the month a run at the start of a month allocates. */
export const previousPeriod = (instant: Date) => shiftPeriod(periodOf(instant), -1);

/** The month an instant falls in, in a time zone: the month a page opens on for its reader. */
export function periodAt(instant: Date, timeZone: string): string {
  const parts = new Intl.DateTimeFormat('en-CA', { timeZone, year: 'numeric', month: '2-digit' }).formatToParts(instant);
  return `${parts.find((p) => p.type === 'year')!.value}-${parts.find((p) => p.type === 'month')!.value}`;
}

/** "May 2032". */
export function monthTitle(period: string): string {
  return new Date(`${periodStart(period)}T00:00:00Z`).toLocaleString('en-GB', { month: 'long', year: 'numeric', timeZone: 'UTC' });
}
