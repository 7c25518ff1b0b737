/** Money is integer minor units with an ISO currency; these helpers only format, never compute in floats. */

/** The currencies whose minor unit is not the hundredth; every other has USUAL_MINOR_DIGITS. */
export const MINOR_DIGITS: Readonly<Record<string, number>> = { JPY: 0, KRW: 0 };
export const USUAL_MINOR_DIGITS = 2;

export function minorDigits(currency: string): number {
  return MINOR_DIGITS[currency] ?? USUAL_MINOR_DIGITS;
}

/** 123456, 'EUR' -> 'EUR 1,234.56' */
export function formatMoney(amountMinor: number, currency: string): string {
  const digits = minorDigits(currency);
  const sign = amountMinor < 0 ? '-' : '';
  const abs = BigInt(Math.abs(amountMinor));
  const scale = 10n ** BigInt(digits);
  const whole = (abs / scale).toString().replace(/\B(?=(\d{3})+(?!\d))/g, ',');
  const fraction = digits ? `.${(abs % scale).toString().padStart(digits, '0')}` : '';
  return `${currency} ${sign}${whole}${fraction}`;
}

/**
 * The largest amount any money figure may reach, given or derived (a line total, a request total,
 * a change's costs together, what a receipt is worth): 10^13 minor units, a hundred billion in a
 * currency with cents. Far beyond any real purchase, yet small enough that a month of such figures
 * (budget minus spent minus committed minus the request) adds up exactly in a JavaScript number,
 * whose safe integers end near 9 × 10^15.
 */
export const MAX_AMOUNT_MINOR = 10_000_000_000_000;

function withinAmountBound(amountMinor: number): boolean {
  return Number.isSafeInteger(amountMinor) && Math.abs(amountMinor) <= MAX_AMOUNT_MINOR;
}

/**
 * For amounts a check has already bounded, and figures derived from them: one beyond the bound is a
 * caller's bug, not a requester's mistake, and past 2^53 it would silently lose cents.
 */
export function boundedAmount(amountMinor: number, what: string): number {
  if (!withinAmountBound(amountMinor)) throw new RangeError(`${what} ${amountMinor} is beyond the largest amount of ${MAX_AMOUNT_MINOR} minor units`);
  return amountMinor;
}

/**
 * For sums of stored figures (a month's budget less what it spent and committed): no bound of ours
 * applies to them, but past 2^53 they would silently lose cents.
 */
export function exactAmount(amountMinor: number, what: string): number {
  if (!Number.isSafeInteger(amountMinor)) throw new RangeError(`${what} ${amountMinor} is beyond the integers a number holds exactly`);
  return amountMinor;
}

/** Why an amount cannot be accepted, naming it as `what`; null when it is within the bound. */
export function amountBeyondBound(amountMinor: number, currency: string, what: string): string | null {
  if (withinAmountBound(amountMinor)) return null;
  const shown = Number.isInteger(amountMinor) ? formatMoney(amountMinor, currency) : `${currency} ${amountMinor}`;
  return `${what} comes to ${shown}, beyond the largest amount accepted (${formatMoney(MAX_AMOUNT_MINOR, currency)})`;
}

/**
 * An amount typed by a person in major units ("1,234.5", "1234.56", "80") as integer minor units
 * of the currency, read digit by digit (never through a float); undefined for text that is not an
 * amount, that is negative, or that has more decimals than the currency has.
 */
export function parseMoney(text: string, currency: string): number | undefined {
  const digits = minorDigits(currency);
  const m = /^(\d{1,3}(?:,\d{3})+|\d+)(?:\.(\d+))?$/.exec(text.trim());
  if (!m) return undefined;
  const fraction = m[2] ?? '';
  if (fraction.length > digits) return undefined;
  const minor = BigInt(m[1].replace(/,/g, '') + fraction.padEnd(digits, '0'));
  return minor <= BigInt(MAX_AMOUNT_MINOR) ? Number(minor) : undefined;
}

/** Integer minor units as a person types the amount (123450, 'EUR' -> '1234.50'): what parseMoney reads back. */
export function amountInputText(amountMinor: number, currency: string): string {
  const digits = minorDigits(currency);
  const sign = amountMinor < 0 ? '-' : '';
  const abs = BigInt(Math.abs(amountMinor));
  const scale = 10n ** BigInt(digits);
  return `${sign}${abs / scale}${digits ? `.${(abs % scale).toString().padStart(digits, '0')}` : ''}`;
}
