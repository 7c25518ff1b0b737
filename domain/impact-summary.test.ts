import type { ChangeImpact } from './change-impact';
import { impactSummaryLines } from './impact-summary';

const base: ChangeImpact = {
  assessedAt: '2026-11-27T09:00:00Z',
  maxDepth: 6,
  services: { affectedCiIds: ['c1'], cisReached: 1, depthLimitReached: false, cis: [], businessServices: [], highestCriticality: null },
  assets: { behindCis: [], outOfWarranty: 0, outOfContract: 0, declaredTransitions: [] },
  licences: { deltas: [], trueUpCostMinor: 0 },
  money: {
    currency: 'EUR', oneOffCostMinor: 0, recurringCostMinor: 0, costCentre: null, period: '2026-11-01',
    budgetMinor: null, spentMinor: 0, committedMinor: 0, remainingBeforeMinor: null, remainingAfterMinor: null, overBudget: false,
  },
  schedule: { plannedStart: null, plannedEnd: null, conflicts: [], blackouts: [], maintenanceWindow: null },
};

describe('the impact summary an approver reads', () => {
  it('says plainly when a change touches little', () => {
    expect(impactSummaryLines(base)).toEqual([
      'Services: 1 configuration item(s) reached within 6 hops; no business service reached.',
      'Assets: 0 behind the reached CIs, 0 out of warranty, 0 out of contract.',
      'Money: EUR 0.00 one-off, EUR 0.00 recurring; no budget for 2026-11-01.',
      'Schedule: no planned window.',
    ]);
  });

  it('names services, transitions, licence shortfalls, budget overruns and every schedule problem', () => {
    const lines = impactSummaryLines({
      ...base,
      services: {
        ...base.services,
        cisReached: 40,
        depthLimitReached: true,
        businessServices: [{ id: 's', number: 'CI1', name: 'Billing', ciClass: 'business_service', depth: 2, criticality: 'tier_1', ownerId: null }],
        highestCriticality: 'tier_1',
      },
      assets: { ...base.assets, declaredTransitions: [{ assetId: 'a', assetTag: 'AST1', fromState: 'in_use', toState: 'retired', toSubstate: 'disposed' }] },
      licences: {
        deltas: [{
          productId: 'p', publisher: 'Adobe', product: 'Acrobat', installsAdded: 3, installsRemoved: 0, entitledUnits: 10,
          consumedBefore: 9, consumedAfter: 12, shortfallAfter: 2, unitPriceMinor: 24_000, trueUpCostMinor: 48_000,
        }],
        trueUpCostMinor: 48_000,
      },
      money: {
        ...base.money, oneOffCostMinor: 150_000, costCentre: { id: 'cc', code: 'CC-1000', name: 'IT', ownerId: null },
        budgetMinor: 200_000, remainingBeforeMinor: 100_000, remainingAfterMinor: -50_000, overBudget: true,
      },
      schedule: {
        plannedStart: '2026-12-20T22:00:00Z', plannedEnd: '2026-12-20T23:00:00Z',
        conflicts: [{ changeId: 'x', number: 'CHG0001009', title: 'Patch', state: 'scheduled', plannedStart: '', plannedEnd: '', sharedCiIds: ['c1'] }],
        blackouts: [{ id: 'b', name: 'Year-end freeze', startsAt: '', endsAt: '', ciId: null }],
        maintenanceWindow: null,
      },
    });
    expect(lines).toEqual([
      'Services: 40 configuration item(s) reached within 6 hops (the walk stopped at the depth limit); business services: Billing (tier 1).',
      'Assets: 0 behind the reached CIs, 0 out of warranty, 0 out of contract; declared transitions: AST1 in_use -> retired/disposed.',
      'Licences: Adobe Acrobat +3/-0, 12 of 10 used after, short by 2 (true-up EUR 480.00).',
      'Money: EUR 1,500.00 one-off, EUR 0.00 recurring to CC-1000; EUR 1,000.00 of the 2026-11 budget left before, EUR -500.00 after (over budget).',
      'Schedule: 2026-12-20 22:00 UTC to 2026-12-20 23:00 UTC; outside any maintenance window; overlaps blackout "Year-end freeze"; overlaps CHG0001009 "Patch" on shared CIs.',
    ]);
  });

  it("writes the planned window in the reader's zone, named", () => {
    const lines = impactSummaryLines({ ...base, schedule: { ...base.schedule, plannedStart: '2026-12-20T22:00:00Z', plannedEnd: '2026-12-21T02:00:00Z' } }, 'Europe/Berlin');
    expect(lines.at(-1)).toBe('Schedule: 2026-12-20 23:00 CET (Europe/Berlin) to 2026-12-21 03:00 CET (Europe/Berlin); outside any maintenance window.');
  });

  it('says why a cost in another currency than the budget was not compared with it', () => {
    const notComparable = 'the 2026-11 budget is kept in EUR (EUR 1,000.00 left), and USD 15.00 in USD is never compared with it: ask in EUR';
    const impact: ChangeImpact = {
      ...base,
      money: { ...base.money, currency: 'USD', oneOffCostMinor: 1_500, budgetMinor: 100_000, budgetCurrency: 'EUR', remainingBeforeMinor: 100_000, overBudget: true, notComparable },
    };
    expect(impactSummaryLines(impact)).toContain(`Money: USD 15.00 one-off, USD 0.00 recurring; over budget: ${notComparable}.`);
  });
});
