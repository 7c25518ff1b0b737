/**
 * Times as a person reads them: in their own IANA time zone, with the zone named, so a change
 * window in an email or on a page is never raw ISO text and never ambiguous. Pure (Intl only).
 */

/** The zone for a person without one of their own. */
export const FALLBACK_TIME_ZONE = 'UTC';

const SUPPORTED = new Set<string>([...Intl.supportedValuesOf('timeZone'), 'UTC']);

/** Every IANA zone this runtime knows, for a form's choice. */
export const TIME_ZONES: readonly string[] = [...SUPPORTED].sort();

export function isTimeZone(zone: unknown): zone is string {
  return typeof zone === 'string' && SUPPORTED.has(zone);
}

/** The person's zone if it is a known one, else the fallback given (the organisation's), else UTC. */
export function viewerTimeZone(personZone: string | null | undefined, fallback: string = FALLBACK_TIME_ZONE): string {
  if (isTimeZone(personZone)) return personZone;
  return isTimeZone(fallback) ? fallback : FALLBACK_TIME_ZONE;
}

const formatters = new Map<string, Intl.DateTimeFormat>();

function partsIn(zone: string, date: Date): Record<string, string> {
  let formatter = formatters.get(zone);
  if (!formatter) {
    formatter = new Intl.DateTimeFormat('en-GB', {
      timeZone: zone, year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', hourCycle: 'h23', timeZoneName: 'short',
    });
    formatters.set(zone, formatter);
  }
  return Object.fromEntries(formatter.formatToParts(date).map((p) => [p.type, p.value]));
}

/**
 * "2026-11-27 15:03 CET (Europe/Berlin)": the wall-clock time in the zone, its abbreviation or
 * offset, and the zone's own name unless it is UTC.
 */
export function formatInstant(instant: string | Date, zone: string): string {
  const date = instant instanceof Date ? instant : new Date(instant);
  if (Number.isNaN(date.getTime())) return String(instant);
  const z = isTimeZone(zone) ? zone : FALLBACK_TIME_ZONE;
  const p = partsIn(z, date);
  const named = z === 'UTC' ? '' : ` (${z})`;
  return `${p.year}-${p.month}-${p.day} ${p.hour}:${p.minute} ${p.timeZoneName}${named}`;
}

/** The value of an <input type="datetime-local"> showing this instant in the zone: "2026-11-27T15:03". */
export function localInputValue(instant: string | Date, zone: string): string {
  const date = instant instanceof Date ? instant : new Date(instant);
  const p = partsIn(isTimeZone(zone) ? zone : FALLBACK_TIME_ZONE, date);
  return `${p.year}-${p.month}-${p.day}T${p.hour}:${p.minute}`;
}

const LOCAL_INPUT = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2}))?$/;

/**
 * The instant a wall-clock time in a zone names ("2026-11-27T15:03" in Europe/Berlin is
 * 14:03Z), as ISO text; undefined for text that is not a datetime-local value. In a DST gap the
 * clock time does not exist and the later side is taken; in an overlap, the earlier instant.
 */
export function instantFromLocalInput(value: string, zone: string): string | undefined {
  const m = LOCAL_INPUT.exec(value.trim());
  if (!m) return undefined;
  const [, y, mo, d, h, mi, s] = m;
  const wall = Date.UTC(+y, +mo - 1, +d, +h, +mi, +(s ?? 0));
  const check = new Date(wall);
  if (check.getUTCFullYear() !== +y || check.getUTCMonth() !== +mo - 1 || check.getUTCDate() !== +d || +h > 23 || +mi > 59) return undefined;
  const z = isTimeZone(zone) ? zone : FALLBACK_TIME_ZONE;
  const offsetAt = (utcMs: number) => {
    const p = partsIn(z, new Date(utcMs));
    const asUtc = Date.UTC(+p.year, +p.month - 1, +p.day, +p.hour, +p.minute);
    return asUtc - Math.floor(utcMs / 60_000) * 60_000;
  };
  // Two passes settle the offset on either side of a transition.
  let guess = wall - offsetAt(wall);
  guess = wall - offsetAt(guess);
  const candidates = [guess, wall - offsetAt(guess - 3_600_000), wall - offsetAt(guess + 3_600_000)]
    .filter((utc) => localInputValue(new Date(utc), z) === `${y}-${mo}-${d}T${h}:${mi}`)
    .sort((a, b) => a - b);
  return new Date(candidates[0] ?? guess).toISOString();
}
