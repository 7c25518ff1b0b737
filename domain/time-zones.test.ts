import { formatInstant, instantFromLocalInput, isTimeZone, localInputValue, viewerTimeZone } from './time-zones';

describe('times in the viewer\'s zone', () => {
  it('names the zone and shows its wall-clock time', () => {
    expect(formatInstant('2026-11-27T14:03:00Z', 'Europe/Berlin')).toBe('2026-11-27 15:03 CET (Europe/Berlin)');
    expect(formatInstant('2026-07-01T14:03:00Z', 'Europe/Berlin')).toBe('2026-07-01 16:03 CEST (Europe/Berlin)');
    expect(formatInstant('2026-11-27T14:03:00Z', 'UTC')).toBe('2026-11-27 14:03 UTC');
    expect(formatInstant('2026-11-27T14:03:00Z', 'America/New_York')).toBe('2026-11-27 09:03 GMT-5 (America/New_York)');
  });

  it('falls back to UTC for an unknown zone and keeps text it cannot read', () => {
    expect(formatInstant('2026-11-27T14:03:00Z', 'Mars/Olympus')).toBe('2026-11-27 14:03 UTC');
    expect(formatInstant('soon', 'UTC')).toBe('soon');
    expect(viewerTimeZone(null, 'Europe/Oslo')).toBe('Europe/Oslo');
    expect(viewerTimeZone('Asia/Tokyo', 'Europe/Oslo')).toBe('Asia/Tokyo');
    expect(viewerTimeZone('nowhere', 'also nowhere')).toBe('UTC');
    expect(isTimeZone('Europe/Amsterdam')).toBe(true);
    expect(isTimeZone('Europe/Atlantis')).toBe(false);
  });

  it('reads a datetime-local value in the zone and writes it back the same', () => {
    expect(instantFromLocalInput('2026-11-27T15:03', 'Europe/Berlin')).toBe('2026-11-27T14:03:00.000Z');
    expect(instantFromLocalInput('2026-07-01T16:03', 'Europe/Berlin')).toBe('2026-07-01T14:03:00.000Z');
    expect(instantFromLocalInput('2026-11-27T09:03', 'America/New_York')).toBe('2026-11-27T14:03:00.000Z');
    expect(localInputValue('2026-11-27T14:03:00Z', 'Europe/Berlin')).toBe('2026-11-27T15:03');
    for (const zone of ['Europe/Berlin', 'America/Los_Angeles', 'Asia/Kolkata', 'Australia/Adelaide', 'UTC']) {
      for (const iso of ['2026-03-29T00:30:00.000Z', '2026-10-25T00:30:00.000Z', '2026-01-15T23:45:00.000Z']) {
        expect(instantFromLocalInput(localInputValue(iso, zone), zone)).toBe(iso);
      }
    }
  });

  it('refuses what is not a date and time, and settles clock gaps and overlaps', () => {
    expect(instantFromLocalInput('2026-02-30T10:00', 'UTC')).toBeUndefined();
    expect(instantFromLocalInput('tomorrow', 'UTC')).toBeUndefined();
    expect(instantFromLocalInput('2026-11-27T25:00', 'UTC')).toBeUndefined();
    // 02:30 does not exist in Berlin on 2026-03-29: clocks go from 02:00 to 03:00.
    expect(instantFromLocalInput('2026-03-29T02:30', 'Europe/Berlin')).toBe('2026-03-29T01:30:00.000Z');
    // 02:30 happens twice on 2026-10-25: the first one, still in summer time.
    expect(instantFromLocalInput('2026-10-25T02:30', 'Europe/Berlin')).toBe('2026-10-25T00:30:00.000Z');
  });
});
