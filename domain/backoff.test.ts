import { cappedBackoffMs } from './backoff';

describe('cappedBackoffMs', () => {
  it('waits the first delay after the first failure and doubles it after each further one', () => {
    expect([1, 2, 3, 4, 5].map((attempt) => cappedBackoffMs(attempt, 1_000, 30_000))).toEqual([1_000, 2_000, 4_000, 8_000, 16_000]);
  });

  it('never waits longer than the longest delay, however many attempts failed', () => {
    expect(cappedBackoffMs(6, 1_000, 30_000)).toBe(30_000);
    expect(cappedBackoffMs(10_000, 1_000, 30_000)).toBe(30_000);
  });

  it('treats an attempt never made like the first failure', () => {
    expect(cappedBackoffMs(0, 1_000, 30_000)).toBe(1_000);
  });
});
