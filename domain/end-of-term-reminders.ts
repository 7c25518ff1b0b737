/** When to remind an asset's manager that its warranty or lease is about to end. */

export type EndOfTermKind = 'warranty' | 'lease';

export interface EndOfTermReminder {
  kind: EndOfTermKind;
  endDate: string;
  /** ISO instant: 08:00 UTC, the configured number of days before the end date. */
  remindAt: string;
  /** Stable per asset, kind and end date: a reminder is sent once even across restarts. */
  key: string;
}

export interface EndOfTermDates {
  warrantyEnd: string | null;
  leaseEnd: string | null;
}

export interface ReminderLeadTimes {
  warrantyDaysBefore: number;
  leaseDaysBefore: number;
}

const DAY_MS = 24 * 60 * 60 * 1000;
const REMINDER_HOUR_UTC = 8;

function reminderFor(kind: EndOfTermKind, endDate: string, daysBefore: number): EndOfTermReminder {
  const endMidnight = Date.parse(`${endDate}T00:00:00Z`);
  const remindAt = new Date(endMidnight - daysBefore * DAY_MS + REMINDER_HOUR_UTC * 60 * 60 * 1000).toISOString();
  return { kind, endDate, remindAt, key: `${kind}:${endDate}` };
}

export function endOfTermReminders(dates: EndOfTermDates, leadTimes: ReminderLeadTimes): EndOfTermReminder[] {
  const reminders: EndOfTermReminder[] = [];
  if (dates.warrantyEnd) reminders.push(reminderFor('warranty', dates.warrantyEnd, leadTimes.warrantyDaysBefore));
  if (dates.leaseEnd) reminders.push(reminderFor('lease', dates.leaseEnd, leadTimes.leaseDaysBefore));
  return reminders.sort((a, b) => a.remindAt.localeCompare(b.remindAt));
}

/**
 * The next reminder still worth sending: not sent yet, and its end date not passed (a reminder
 * for a warranty that already ended would only be noise).
 */
export function nextReminder(reminders: EndOfTermReminder[], sentKeys: readonly string[], nowMs: number): EndOfTermReminder | null {
  return (
    reminders.find((r) => !sentKeys.includes(r.key) && Date.parse(`${r.endDate}T00:00:00Z`) + DAY_MS > nowMs) ?? null
  );
}
