// Instants said to people in a queue's zone, naming it ("10:00 Europe/Paris"), or in UTC for a
// queue without a calendar: the same words whatever the machine's locale and zone.
import { localMinutes } from './calendar';

const DAYS = ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday'];
const MONTHS = ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August', 'September', 'October', 'November', 'December'];
const dateParts = new Map<string, Intl.DateTimeFormat>();

function hhmm(minutes: number): string {
  return `${String(Math.floor(minutes / 60)).padStart(2, '0')}:${String(minutes % 60).padStart(2, '0')}`;
}

/** The local date at `ms` in the zone: weekday, day, month and year, as numbers. */
function localDate(ms: number, zone: string): { weekday: number; day: number; month: number; year: number } {
  let f = dateParts.get(zone);
  if (!f) dateParts.set(zone, (f = new Intl.DateTimeFormat('en-US', { timeZone: zone, year: 'numeric', month: 'numeric', day: 'numeric' })));
  const p: Record<string, number> = {};
  for (const part of f.formatToParts(new Date(ms))) if (part.type !== 'literal') p[part.type] = Number(part.value);
  const weekday = new Date(Date.UTC(p.year!, p.month! - 1, p.day!)).getUTCDay();
  return { weekday, day: p.day!, month: p.month!, year: p.year! };
}

/** "10:00 Europe/Paris", or "09:00 UTC" without a zone. */
export function clockAt(ms: number, zone?: string): string {
  return `${hhmm(localMinutes(zone || 'UTC', ms))} ${zone || 'UTC'}`;
}

/** "Tuesday 6 January 2026, 09:06 Europe/Paris", or "…, 08:06 UTC" without a zone. */
export function dateTimeAt(ms: number, zone?: string): string {
  const d = localDate(ms, zone || 'UTC');
  return `${DAYS[d.weekday]} ${d.day} ${MONTHS[d.month - 1]} ${d.year}, ${clockAt(ms, zone)}`;
}
