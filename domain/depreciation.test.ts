import { bookValue, wholeMonthsBetween, type DepreciationInput } from './depreciation';

/** The first of the month, n months after January 2024. */
function monthsAfterJan2024(n: number): string {
  const year = 2024 + Math.floor(n / 12);
  const month = (n % 12) + 1;
  return `${year}-${String(month).padStart(2, '0')}-01`;
}

describe('wholeMonthsBetween', () => {
  it.each([
    ['2024-01-15', '2024-01-15', 0],
    ['2024-01-15', '2024-02-14', 0],
    ['2024-01-15', '2024-02-15', 1],
    ['2024-01-31', '2024-02-29', 0],
    ['2024-01-31', '2024-03-01', 1],
    ['2024-01-31', '2024-03-31', 2],
    ['2023-12-15', '2024-01-15', 1],
    ['2023-11-30', '2024-11-30', 12],
    ['2024-03-10', '2024-01-10', 0],
  ])('%s -> %s is %i whole months', (from, to, months) => {
    expect(wholeMonthsBetween(from, to)).toBe(months);
  });
});

describe('bookValue', () => {
  describe('straight line', () => {
    // 108,000 to depreciate over 36 months: 3,000 a month.
    const laptop = { method: 'straight_line', costMinor: 120_000, salvageMinor: 12_000, usefulLifeMonths: 36, purchaseDate: '2024-01-15' } as const;

    it.each([
      ['at purchase (0 months)', '2024-01-15', 120_000],
      ['a day short of the first month', '2024-02-14', 120_000],
      ['after one month', '2024-02-15', 117_000],
      ['midway (18 months)', '2025-07-15', 66_000],
      ['a day short of end of life (35 months)', '2027-01-14', 15_000],
      ['exactly at end of life (36 months)', '2027-01-15', 12_000],
      ['past end of life', '2031-06-30', 12_000],
      ['before the purchase date', '2023-12-01', 120_000],
    ])('%s on %s is %i', (_, onDate, expected) => {
      expect(bookValue({ ...laptop, onDate })).toBe(expected);
    });

    it.each([
      [1, 667], // 1000 - 333.33 -> 1000 - 333
      [2, 333], // 1000 - 666.67 -> 1000 - 667
      [3, 0],
    ])('rounds to whole minor units: 1000 over 3 months, after %i months is %i', (months, expected) => {
      expect(bookValue({ method: 'straight_line', costMinor: 1000, salvageMinor: 0, usefulLifeMonths: 3, purchaseDate: '2024-01-01', onDate: monthsAfterJan2024(months) })).toBe(expected);
    });

    it('rounds a half unit of depreciation up', () => {
      // 100 over 8 months: 12.5 a month.
      const input = { method: 'straight_line', costMinor: 100, salvageMinor: 0, usefulLifeMonths: 8, purchaseDate: '2024-01-01' } as const;
      expect(bookValue({ ...input, onDate: monthsAfterJan2024(1) })).toBe(87);
      expect(bookValue({ ...input, onDate: monthsAfterJan2024(3) })).toBe(62);
    });

    it('treats a salvage value above cost as cost', () => {
      expect(bookValue({ method: 'straight_line', costMinor: 1000, salvageMinor: 5000, usefulLifeMonths: 12, purchaseDate: '2024-01-01', onDate: '2025-06-01' })).toBe(1000);
    });

    it('returns cost when the useful life is zero', () => {
      expect(bookValue({ method: 'straight_line', costMinor: 1000, salvageMinor: 0, usefulLifeMonths: 0, purchaseDate: '2024-01-01', onDate: '2025-06-01' })).toBe(1000);
    });
  });

  describe('declining balance (double, monthly)', () => {
    // Rate 2/24 a month on the remaining value.
    const server = { method: 'declining_balance', costMinor: 120_000, salvageMinor: 10_000, usefulLifeMonths: 24, purchaseDate: '2024-01-01' } as const;

    it.each([
      [0, 120_000],
      [1, 110_000], // 120000 - 10000
      [2, 100_833], // 110000 - 9166.67 -> 9167
      [3, 92_430], // 100833 - 8402.75 -> 8403
    ])('after %i months is %i', (months, expected) => {
      expect(bookValue({ ...server, onDate: monthsAfterJan2024(months) })).toBe(expected);
    });

    it('floors at the salvage value and stays there', () => {
      // Rate 2/12: 100000 -> 83333 -> 69444 -> 57870, which is below salvage.
      const input = { method: 'declining_balance', costMinor: 100_000, salvageMinor: 60_000, usefulLifeMonths: 12, purchaseDate: '2024-01-01' } as const;
      expect(bookValue({ ...input, onDate: monthsAfterJan2024(1) })).toBe(83_333);
      expect(bookValue({ ...input, onDate: monthsAfterJan2024(2) })).toBe(69_444);
      expect(bookValue({ ...input, onDate: monthsAfterJan2024(3) })).toBe(60_000);
      expect(bookValue({ ...input, onDate: monthsAfterJan2024(12) })).toBe(60_000);
      expect(bookValue({ ...input, onDate: monthsAfterJan2024(60) })).toBe(60_000);
    });

    it('drops to salvage at once when the rate takes the whole value (life of one month)', () => {
      expect(bookValue({ method: 'declining_balance', costMinor: 5000, salvageMinor: 500, usefulLifeMonths: 1, purchaseDate: '2024-01-01', onDate: '2024-02-01' })).toBe(500);
    });

    it('stops depreciating after the useful life', () => {
      const atEnd = bookValue({ ...server, onDate: monthsAfterJan2024(24) });
      expect(bookValue({ ...server, onDate: monthsAfterJan2024(100) })).toBe(atEnd);
      expect(atEnd).toBeGreaterThanOrEqual(server.salvageMinor);
    });
  });

  describe("method 'none'", () => {
    it.each(['2024-01-01', '2026-06-15', '2040-12-31'])('returns cost on %s', (onDate) => {
      expect(bookValue({ method: 'none', costMinor: 250_000, salvageMinor: 10_000, usefulLifeMonths: 36, purchaseDate: '2024-01-01', onDate })).toBe(250_000);
    });
  });

  describe.each(['straight_line', 'declining_balance'] as const)('%s month by month', (method) => {
    const input: Omit<DepreciationInput, 'onDate'> = { method, costMinor: 99_999, salvageMinor: 1_234, usefulLifeMonths: 37, purchaseDate: '2024-01-01' };
    const values = Array.from({ length: 49 }, (_, months) => bookValue({ ...input, onDate: monthsAfterJan2024(months) }));

    it('gives exact integers, never more than cost, never less than salvage', () => {
      for (const value of values) {
        expect(Number.isInteger(value)).toBe(true);
        expect(value).toBeLessThanOrEqual(input.costMinor);
        expect(value).toBeGreaterThanOrEqual(input.salvageMinor);
      }
    });

    it('never rises from one month to the next', () => {
      for (let m = 1; m < values.length; m++) expect(values[m]).toBeLessThanOrEqual(values[m - 1]);
    });
  });
});
