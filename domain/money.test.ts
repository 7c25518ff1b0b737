import { amountInputText, formatMoney, parseMoney } from './money';

describe('amounts people type', () => {
  it('reads major units into exact minor units', () => {
    expect(parseMoney('1,234.5', 'EUR')).toBe(123_450);
    expect(parseMoney(' 80 ', 'EUR')).toBe(8_000);
    expect(parseMoney('0.07', 'USD')).toBe(7);
    expect(parseMoney('1500', 'JPY')).toBe(1_500);
    expect(parseMoney('0.1', 'EUR')! + parseMoney('0.2', 'EUR')!).toBe(30);
    expect(parseMoney('100000000000', 'EUR')).toBe(10_000_000_000_000);
  });

  it('refuses what is not an amount it can hold exactly', () => {
    for (const text of ['', '-5', '1.234', '12,34', '1e3', 'ten', '100000000000.01', '12.5', '99999999999999999999']) {
      expect(parseMoney(text, text === '12.5' ? 'JPY' : 'EUR')).toBeUndefined();
    }
  });

  it('writes back what it read', () => {
    expect(formatMoney(parseMoney('1,234.56', 'EUR')!, 'EUR')).toBe('EUR 1,234.56');
    expect(amountInputText(123_450, 'EUR')).toBe('1234.50');
    expect(amountInputText(7, 'USD')).toBe('0.07');
    expect(amountInputText(1_500, 'JPY')).toBe('1500');
    expect(parseMoney(amountInputText(10_000_000_000_000, 'EUR'), 'EUR')).toBe(10_000_000_000_000);
  });
});
