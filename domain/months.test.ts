import { monthTitle, periodAt, periodOf, periodSpan, periodStart, PERIOD_PATTERN, previousPeriod, shiftPeriod } from './months';

describe('months', () => {
  it('names a month as [its first day, the next first day), within the years a period may name', () => {
    expect(periodSpan('2031-03')).toEqual({ period: '2031-03', start: '2031-03-01', next: '2031-04-01' });
    expect(periodSpan('2031-12')!.next).toBe('2032-01-01');
    expect(periodSpan('2032-02')!.next).toBe('2032-03-01');
    for (const bad of ['2031-13', '2031-00', '2031-3', '1999-01', '2200-01', ' 2031-03', '2031-03-01']) expect(periodSpan(bad)).toBeUndefined();
    expect(PERIOD_PATTERN.test('2031-03')).toBe(true);
    expect(periodStart('2031-03')).toBe('2031-03-01');
  });

  it('moves by months across years, and tells the month of an instant in UTC or in a zone', () => {
    expect(shiftPeriod('2031-01', -1)).toBe('2030-12');
    expect(shiftPeriod('2031-12', 1)).toBe('2032-01');
    expect(shiftPeriod('2031-05', -17)).toBe('2029-12');
    expect(previousPeriod(new Date('2031-04-01T02:00:00Z'))).toBe('2031-03');
    expect(previousPeriod(new Date('2031-01-15T00:00:00Z'))).toBe('2030-12');
    expect(periodOf(new Date('2031-03-31T23:59:59Z'))).toBe('2031-03');
    // Midnight of April 1st in UTC is still March in New York.
    expect(periodAt(new Date('2031-04-01T00:30:00Z'), 'America/New_York')).toBe('2031-03');
    expect(periodAt(new Date('2031-04-01T00:30:00Z'), 'UTC')).toBe('2031-04');
    expect(monthTitle('2032-05')).toBe('May 2032');
  });
});
