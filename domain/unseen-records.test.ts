import { daysUnseenPastPeriod, missingCandidacy, seenAgain, type UnseenPeriods } from './unseen-records';

const PERIODS: UnseenPeriods = { discovery: 14, mdm: 30, cloud_inventory: 3, hr: null, manual: null };
const NOW = '2026-11-29T12:00:00.000Z';
const daysAgo = (days: number) => new Date(Date.parse(NOW) - days * 86_400_000).toISOString();

describe('missing candidacy', () => {
  it('is a candidate when every watching source has gone unseen past its period, newest sighting first', () => {
    expect(missingCandidacy([
      { source: 'discovery', lastSeenAt: daysAgo(20) },
      { source: 'mdm', lastSeenAt: daysAgo(31) },
      { source: 'hr', lastSeenAt: daysAgo(1) },
    ], PERIODS, NOW)).toEqual({
      candidate: true,
      lastSeen: [{ source: 'discovery', lastSeenAt: daysAgo(20) }, { source: 'mdm', lastSeenAt: daysAgo(31) }],
    });
  });

  it('is no candidate while one watching source still sees it: MDM sees the laptop discovery lost', () => {
    expect(missingCandidacy([
      { source: 'discovery', lastSeenAt: daysAgo(60) },
      { source: 'mdm', lastSeenAt: daysAgo(2) },
    ], PERIODS, NOW)).toEqual({ candidate: false, reason: 'still_seen', seenBy: { source: 'mdm', lastSeenAt: daysAgo(2) } });
  });

  it('is never a candidate when only sources without a period report it', () => {
    expect(missingCandidacy([{ source: 'hr', lastSeenAt: daysAgo(400) }, { source: 'manual', lastSeenAt: daysAgo(400) }], PERIODS, NOW))
      .toEqual({ candidate: false, reason: 'no_watching_source' });
    expect(missingCandidacy([], PERIODS, NOW)).toEqual({ candidate: false, reason: 'no_watching_source' });
    // A source the periods do not name has none.
    expect(missingCandidacy([{ source: 'elsewhere', lastSeenAt: daysAgo(400) }], PERIODS, NOW).candidate).toBe(false);
  });

  it('counts the period exactly: unseen past it, not on it', () => {
    expect(missingCandidacy([{ source: 'discovery', lastSeenAt: daysAgo(14) }], PERIODS, NOW).candidate).toBe(false);
    expect(missingCandidacy([{ source: 'discovery', lastSeenAt: new Date(Date.parse(daysAgo(14)) - 1).toISOString() }], PERIODS, NOW).candidate).toBe(true);
  });

  it('follows the periods as data: a source given a period starts watching, one whose period is removed stops', () => {
    const sightings = [{ source: 'discovery', lastSeenAt: daysAgo(20) }, { source: 'hr', lastSeenAt: daysAgo(1) }];
    expect(missingCandidacy(sightings, { ...PERIODS, hr: 7 }, NOW)).toMatchObject({ candidate: false, reason: 'still_seen' });
    expect(missingCandidacy(sightings, { ...PERIODS, discovery: null }, NOW)).toEqual({ candidate: false, reason: 'no_watching_source' });
    expect(missingCandidacy(sightings, { ...PERIODS, discovery: 30 }, NOW).candidate).toBe(false);
  });
});

describe('seen again', () => {
  it('is the watching sighting within its period, the newest when several', () => {
    expect(seenAgain([
      { source: 'discovery', lastSeenAt: daysAgo(1) },
      { source: 'mdm', lastSeenAt: daysAgo(3) },
    ], PERIODS, NOW)).toEqual({ source: 'discovery', lastSeenAt: daysAgo(1) });
  });

  it('counts a late batch that still falls within the period', () => {
    expect(seenAgain([{ source: 'discovery', lastSeenAt: daysAgo(10) }], PERIODS, NOW)).toEqual({ source: 'discovery', lastSeenAt: daysAgo(10) });
  });

  it('is nothing while it is still a candidate, or when only sources without a period see it', () => {
    expect(seenAgain([{ source: 'discovery', lastSeenAt: daysAgo(20) }], PERIODS, NOW)).toBeUndefined();
    expect(seenAgain([{ source: 'hr', lastSeenAt: daysAgo(0) }], { ...PERIODS, discovery: null }, NOW)).toBeUndefined();
  });
});

describe('days unseen past the period', () => {
  it('counts whole days of 24 hours once the period has passed, and nothing within it or without a period', () => {
    expect(daysUnseenPastPeriod(daysAgo(40), 14, NOW)).toBe(40);
    expect(daysUnseenPastPeriod(new Date(Date.parse(daysAgo(15)) - 3_600_000).toISOString(), 14, NOW)).toBe(15);
    expect(daysUnseenPastPeriod(daysAgo(14), 14, NOW)).toBeUndefined();
    expect(daysUnseenPastPeriod(daysAgo(400), null, NOW)).toBeUndefined();
    expect(daysUnseenPastPeriod(daysAgo(400), undefined, NOW)).toBeUndefined();
  });
});
