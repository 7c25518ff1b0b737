import type { ChangeImpact } from './change-impact';
import { formatMoney } from './money';
import { FALLBACK_TIME_ZONE, formatInstant } from './time-zones';

const tier = (criticality: string) => criticality.replace('tier_', 'tier ');

/**
 * The impact assessment as short sentences, the same in the approval email and on the approval
 * page, so that an approver reads one account of what the change touches; its times in the
 * reader's zone.
 */
export function impactSummaryLines(impact: ChangeImpact, timeZone: string = FALLBACK_TIME_ZONE): string[] {
  const { services, assets, licences, money, schedule } = impact;
  const lines: string[] = [];
  const serviceList = services.businessServices.map((s) => `${s.name} (${tier(s.criticality)})`).join(', ');
  lines.push(
    `Services: ${services.cisReached} configuration item(s) reached within ${impact.maxDepth} hops` +
      `${services.depthLimitReached ? ' (the walk stopped at the depth limit)' : ''}; ` +
      (serviceList ? `business services: ${serviceList}.` : 'no business service reached.'),
  );
  const transitions = assets.declaredTransitions.map((t) => `${t.assetTag} ${t.fromState} -> ${t.toState}${t.toSubstate ? `/${t.toSubstate}` : ''}`);
  lines.push(
    `Assets: ${assets.behindCis.length} behind the reached CIs, ${assets.outOfWarranty} out of warranty, ${assets.outOfContract} out of contract` +
      (transitions.length ? `; declared transitions: ${transitions.join(', ')}.` : '.'),
  );
  if (licences.deltas.length) {
    const deltas = licences.deltas.map(
      (d) =>
        `${d.publisher} ${d.product} +${d.installsAdded}/-${d.installsRemoved}, ${d.consumedAfter} of ${d.entitledUnits} used after` +
        (d.shortfallAfter ? `, short by ${d.shortfallAfter} (true-up ${formatMoney(d.trueUpCostMinor, money.currency)})` : ''),
    );
    lines.push(`Licences: ${deltas.join('; ')}.`);
  }
  const budget =
    money.remainingBeforeMinor === null
      ? `no budget for ${money.period}`
      : money.notComparable
        ? `over budget: ${money.notComparable}`
        : `${formatMoney(money.remainingBeforeMinor, money.currency)} of the ${money.period.slice(0, 7)} budget left before, ` +
          `${formatMoney(money.remainingAfterMinor ?? 0, money.currency)} after${money.overBudget ? ' (over budget)' : ''}`;
  lines.push(
    `Money: ${formatMoney(money.oneOffCostMinor, money.currency)} one-off, ${formatMoney(money.recurringCostMinor, money.currency)} recurring` +
      `${money.costCentre ? ` to ${money.costCentre.code}` : ''}; ${budget}.`,
  );
  const when = schedule.plannedStart
    ? `${formatInstant(schedule.plannedStart, timeZone)} to ${schedule.plannedEnd ? formatInstant(schedule.plannedEnd, timeZone) : 'open'}`
    : 'no planned window';
  const scheduleNotes = [
    schedule.maintenanceWindow ? `inside "${schedule.maintenanceWindow.name}"` : schedule.plannedStart ? 'outside any maintenance window' : null,
    ...schedule.blackouts.map((b) => `overlaps blackout "${b.name}"`),
    ...schedule.conflicts.map((c) => `overlaps ${c.number} "${c.title}" on shared CIs`),
  ].filter(Boolean);
  lines.push(`Schedule: ${when}${scheduleNotes.length ? `; ${scheduleNotes.join('; ')}` : ''}.`);
  return lines;
}
