/** Money is integer minor units with an ISO currency; these helpers only format, never compute in floats. */

const MINOR_DIGITS: Record<string, number> = { JPY: 0, KRW: 0 };

export function minorDigits(currency: string): number {
  return MINOR_DIGITS[currency] ?? 2;
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
