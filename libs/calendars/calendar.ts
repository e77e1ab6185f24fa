// Opening hours of a queue: a time zone, weekly hours (several ranges a day), holidays and
// exceptions (special hours on one date). Pure: instants are epoch milliseconds, local times
// are worked out with Intl in the calendar's zone, so daylight-saving changes are the zone's.
//
// A range is within one local day ("09:00-12:30", "22:00-24:00"); a night shift is two ranges,
// one each side of midnight. A local time that does not exist (the hour skipped in spring) is
// moved forward by the gap (02:30 becomes 03:30, as Temporal's "compatible"); a repeated one
// (autumn) is its first occurrence.

export const WEEKDAYS = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'] as const;
export type Weekday = (typeof WEEKDAYS)[number];

export interface Calendar {
  /** IANA zone, e.g. "Europe/Paris". */
  zone: string;
  /** "HH:MM-HH:MM" ranges per weekday; a day left out is closed. */
  hours: Partial<Record<Weekday, string[]>>;
  /** Dates (YYYY-MM-DD, local) closed all day. */
  holidays?: string[];
  /** Dates with their own ranges (an empty list: closed); they win over holidays and weekly hours. */
  exceptions?: Record<string, string[]>;
}

/** A range as minutes from local midnight, end exclusive (1440 = midnight at the end of the day). */
interface Minutes {
  from: number;
  to: number;
}

/** How far ahead an opening is looked for: a calendar closed for longer has none. */
const HORIZON_DAYS = 400;
const MINUTE = 60_000;
const DAY = 86_400_000;

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatter(zone: string): Intl.DateTimeFormat {
  let f = formatters.get(zone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone: zone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    });
    formatters.set(zone, f);
  }
  return f;
}

/** True when the zone is one Intl knows. */
export function knownZone(zone: string): boolean {
  try {
    formatter(zone);
    return true;
  } catch {
    // RangeError: an unknown zone is the answer, not a failure.
    return false;
  }
}

interface LocalTime {
  year: number;
  month: number;
  day: number;
  minutes: number;
}

/** The wall time at instant t in the zone, in minutes after midnight. */
export function localMinutes(zone: string, t: number): number {
  return localTime(zone, t).minutes;
}

function localTime(zone: string, t: number): LocalTime & { seconds: number } {
  const parts: Record<string, number> = {};
  for (const p of formatter(zone).formatToParts(new Date(t))) if (p.type !== 'literal') parts[p.type] = Number(p.value);
  return { year: parts.year!, month: parts.month!, day: parts.day!, minutes: parts.hour! * 60 + parts.minute!, seconds: parts.second! };
}

/** The zone's offset from UTC at instant t, in ms (positive east of Greenwich). */
function offsetAt(zone: string, t: number): number {
  const l = localTime(zone, t);
  const asUtc = Date.UTC(l.year, l.month - 1, l.day) + l.minutes * MINUTE + l.seconds * 1000;
  return asUtc - Math.floor(t / 1000) * 1000;
}

/** The instant a local wall time happens in the zone (see the header for gaps and repeats). */
export function instantOf(zone: string, date: { year: number; month: number; day: number }, minutes: number): number {
  const wall = Date.UTC(date.year, date.month - 1, date.day) + minutes * MINUTE;
  const before = offsetAt(zone, wall - DAY / 2);
  const after = offsetAt(zone, wall + DAY / 2);
  // The earlier offset first: it gives the first occurrence of a repeated time.
  for (const offset of before >= after ? [before, after] : [after, before]) {
    const t = wall - offset;
    const l = localTime(zone, t);
    if (Date.UTC(l.year, l.month - 1, l.day) + l.minutes * MINUTE === wall) return t;
  }
  // In a gap: the wall time read with the offset from before the change lands just after it.
  return wall - before;
}

export function parseRange(text: string): Minutes | undefined {
  const m = /^(\d{2}):(\d{2})-(\d{2}):(\d{2})$/.exec(text);
  if (!m) return undefined;
  const [fh, fm, th, tm] = m.slice(1).map(Number) as [number, number, number, number];
  if (fh > 23 || fm > 59 || th > 24 || tm > 59 || (th === 24 && tm !== 0)) return undefined;
  return { from: fh * 60 + fm, to: th * 60 + tm };
}

/** The ranges open on a local date, in order. */
function rangesOn(cal: Calendar, date: { year: number; month: number; day: number }): Minutes[] {
  const key = `${date.year}-${String(date.month).padStart(2, '0')}-${String(date.day).padStart(2, '0')}`;
  const special = cal.exceptions?.[key];
  const texts =
    special ?? (cal.holidays?.includes(key) ? [] : (cal.hours[WEEKDAYS[new Date(Date.UTC(date.year, date.month - 1, date.day)).getUTCDay()]!] ?? []));
  return texts
    .map(parseRange)
    .filter((r): r is Minutes => r !== undefined)
    .sort((a, b) => a.from - b.from);
}

/** The open intervals [start, end) of the local days from the one holding `t`, day by day. */
function* intervalsFrom(cal: Calendar, t: number, days = HORIZON_DAYS): Generator<[number, number]> {
  const l = localTime(cal.zone, t);
  for (let i = 0; i < days; i++) {
    const d = new Date(Date.UTC(l.year, l.month - 1, l.day + i));
    const date = { year: d.getUTCFullYear(), month: d.getUTCMonth() + 1, day: d.getUTCDate() };
    for (const r of rangesOn(cal, date)) yield [instantOf(cal.zone, date, r.from), instantOf(cal.zone, date, r.to)];
  }
}

export function isOpen(cal: Calendar, t: number): boolean {
  return closingAfter(cal, t) !== undefined;
}

/** When open at `t`: the end of the range it is in (ranges that meet count as one). Undefined when closed. */
export function closingAfter(cal: Calendar, t: number): number | undefined {
  let closes: number | undefined;
  for (const [start, end] of intervalsFrom(cal, t, 2)) {
    if (closes === undefined ? start <= t && t < end : start <= closes) closes = Math.max(end, closes ?? end);
    else if (closes !== undefined) break;
  }
  return closes;
}

/** `t` itself when open; else the next opening; undefined when none comes within the horizon. */
export function nextOpening(cal: Calendar, t: number): number | undefined {
  for (const [start, end] of intervalsFrom(cal, t)) if (end > t) return Math.max(start, t);
  return undefined;
}

/** Open time between two instants: what an SLA clock counts. */
export function businessMs(cal: Calendar, from: number, to: number): number {
  if (to <= from) return 0;
  let total = 0;
  for (const [start, end] of intervalsFrom(cal, from)) {
    if (start >= to) break;
    total += Math.max(0, Math.min(end, to) - Math.max(start, from));
  }
  return total;
}

/** The instant at which `ms` of open time has passed since `from`; undefined when the horizon holds less. */
export function afterBusinessMs(cal: Calendar, from: number, ms: number): number | undefined {
  let left = ms;
  for (const [start, end] of intervalsFrom(cal, from)) {
    if (end <= from) continue;
    const s = Math.max(start, from);
    if (end - s >= left) return s + left;
    left -= end - s;
  }
  return undefined;
}

/** "Monday at 09:00" (or "today at 14:00", "tomorrow at 09:00") in the calendar's zone, as the customer is told. */
export function openingInWords(cal: Calendar, opening: number, now: number): string {
  const at = localTime(cal.zone, opening);
  const today = localTime(cal.zone, now);
  const days = Math.round((Date.UTC(at.year, at.month - 1, at.day) - Date.UTC(today.year, today.month - 1, today.day)) / DAY);
  const hhmm = `${String(Math.floor(at.minutes / 60)).padStart(2, '0')}:${String(at.minutes % 60).padStart(2, '0')}`;
  const dayName = new Intl.DateTimeFormat('en-GB', { timeZone: cal.zone, weekday: 'long' }).format(new Date(opening));
  const dateName = new Intl.DateTimeFormat('en-GB', { timeZone: cal.zone, weekday: 'long', day: 'numeric', month: 'long' }).format(new Date(opening));
  const when = days === 0 ? 'today' : days === 1 ? 'tomorrow' : days < 7 ? dayName : dateName;
  return `${when} at ${hhmm}`;
}

/** The weekly hours as a caller hears them: "Monday to Friday 09:00 to 12:00 and 13:00 to 18:00; Saturday 10:00 to 13:00". */
export function hoursInWords(cal: Calendar): string {
  const names = { mon: 'Monday', tue: 'Tuesday', wed: 'Wednesday', thu: 'Thursday', fri: 'Friday', sat: 'Saturday', sun: 'Sunday' };
  const order: Weekday[] = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'];
  const said = (d: Weekday) => (cal.hours[d] ?? []).map((r) => r.replace('-', ' to ')).join(' and ');
  const parts: string[] = [];
  for (let i = 0; i < order.length;) {
    const text = said(order[i]!);
    let j = i;
    while (j + 1 < order.length && said(order[j + 1]!) === text) j++;
    if (text) parts.push(`${names[order[i]!]}${j > i ? ` to ${names[order[j]!]}` : ''} ${text}`);
    i = j + 1;
  }
  return parts.length ? parts.join('; ') : 'closed';
}
