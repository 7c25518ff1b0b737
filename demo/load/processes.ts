/** Loads how processes run: approval rules, change models, SLA targets, maintenance windows and the next change freeze. */
import type { Knex } from 'knex';
import { APPROVAL_RULES, CHANGE_MODELS, MAINTENANCE_WINDOW, QUARTER_END_FREEZE, SLA_TARGETS } from '../data/processes';
import { addDays, insertRows, required, type Context, type Row } from './support';

const HOUR_MS = 3_600_000;

/** The first quarter-end freeze that has not started yet. */
function nextQuarterEndFreeze(now: Date): { name: string; startsAt: Date; endsAt: Date } {
  for (let quarter = Math.floor(now.getUTCMonth() / 3); ; quarter++) {
    const nextQuarterStart = new Date(Date.UTC(now.getUTCFullYear(), quarter * 3 + 3, 1));
    const startsAt = addDays(nextQuarterStart, -QUARTER_END_FREEZE.daysBefore);
    if (startsAt > now) {
      const year = startsAt.getUTCFullYear();
      return {
        name: `Q${Math.floor(startsAt.getUTCMonth() / 3) + 1} ${year} quarter-end change freeze`,
        startsAt,
        endsAt: addDays(nextQuarterStart, QUARTER_END_FREEZE.daysAfter),
      };
    }
  }
}

/** The weekly maintenance windows, starting with the first one still ahead. */
function maintenanceWindows(today: Date, now: Date): Row[] {
  const { name, weekday, startHour, hours, weeks } = MAINTENANCE_WINDOW;
  let firstDay = addDays(today, (weekday - today.getUTCDay() + 7) % 7);
  if (firstDay.getTime() + startHour * HOUR_MS <= now.getTime()) firstDay = addDays(firstDay, 7);
  return Array.from({ length: weeks }, (_, week) => {
    const startsAt = new Date(addDays(firstDay, week * 7).getTime() + startHour * HOUR_MS);
    return { kind: 'maintenance', name, starts_at: startsAt.toISOString(), ends_at: new Date(startsAt.getTime() + hours * HOUR_MS).toISOString() };
  });
}

export async function insertProcessConfiguration(trx: Knex.Transaction, ctx: Context, now: Date): Promise<void> {
  await insertRows(trx, 'approval_rules', APPROVAL_RULES.map((r) => ({
    process: r.process,
    step_order: r.stepOrder,
    name: r.name,
    applies_when: JSON.stringify(r.appliesWhen),
    approver_kind: r.approverKind,
    group_id: r.group ? required(ctx.group, r.group) : null,
    policy: r.policy,
    quorum: r.quorum ?? null,
    on_expiry: r.onExpiry ?? 'reject',
    updated_by: 'system:demo',
  })));
  // IT Operations runs what everyone uses; the demo people carry no cost centre, so no headcount to split by.
  await insertRows(trx, 'allocation_rules', [{ name: 'IT shared services', pool_cost_centre_id: required(ctx.costCentre, 'CC-1000'), method: 'even' }]);
  await insertRows(trx, 'change_models', CHANGE_MODELS.map((m) => ({ name: m.name, description: m.description, risk_ceiling: m.riskCeiling })));
  await insertRows(trx, 'sla_targets', SLA_TARGETS.map((t) => ({ process: t.process, state: t.state, target_minutes: t.minutes })));

  const windows = maintenanceWindows(ctx.today, now);
  const freeze = nextQuarterEndFreeze(now);
  windows.push({ kind: 'blackout', name: freeze.name, starts_at: freeze.startsAt.toISOString(), ends_at: freeze.endsAt.toISOString() });
  await insertRows(trx, 'schedule_windows', windows);
}
