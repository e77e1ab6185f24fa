// Which calendar each queue keeps, and the check a calendar set passes before it is used, from
// the configuration or a supervisor alike. Queues without a calendar are always open.
//
// The set is a JSON object from a queue pattern to a calendar. A pattern is a queue name
// (`tier1/billing/email`) whose segments may be `*`; the most specific pattern that matches
// wins (fewest `*`, then the earlier segments named).
import { afterBusinessMs, businessMs, type Calendar, closingAfter, knownZone, nextOpening, parseRange, WEEKDAYS } from './calendar';

export type CalendarSet = Record<string, Calendar>;

/** A calendar set that does not parse; `problems` says each thing wrong, where. */
export class CalendarError extends Error {
  override name = 'CalendarError';
  constructor(readonly problems: string[]) {
    super(`the calendars do not parse: ${problems.join('; ')}`);
  }
}

const MAX_BYTES = 64 * 1024;
const PATTERN = /^(\*|tier[12])\/([A-Za-z0-9_.-]+|\*)\/(\*|email|sms|voice|chat|api)$/;
const DATE = /^(\d{4})-(\d{2})-(\d{2})$/;

function validDate(text: string): boolean {
  const m = DATE.exec(text);
  if (!m) return false;
  const [y, mo, d] = m.slice(1).map(Number) as [number, number, number];
  const date = new Date(Date.UTC(y, mo - 1, d));
  return date.getUTCFullYear() === y && date.getUTCMonth() === mo - 1 && date.getUTCDate() === d;
}

function checkRanges(where: string, value: unknown, problems: string[]): string[] {
  if (!Array.isArray(value) || value.some((r) => typeof r !== 'string')) {
    problems.push(`${where} must be a list of "HH:MM-HH:MM" ranges`);
    return [];
  }
  const ranges = value as string[];
  const parsed: { from: number; to: number; text: string }[] = [];
  for (const text of ranges) {
    const r = parseRange(text);
    if (!r) problems.push(`${where}: "${text}" is not a range "HH:MM-HH:MM" (00:00 to 24:00)`);
    else if (r.to <= r.from) problems.push(`${where}: "${text}" ends before it starts (a range past midnight is two ranges, one each side)`);
    else parsed.push({ ...r, text });
  }
  parsed.sort((a, b) => a.from - b.from);
  for (let i = 1; i < parsed.length; i++)
    if (parsed[i]!.from < parsed[i - 1]!.to) problems.push(`${where}: "${parsed[i - 1]!.text}" and "${parsed[i]!.text}" overlap`);
  return ranges;
}

function checkCalendar(name: string, value: unknown, problems: string[]): Calendar | undefined {
  const at = `calendar "${name}"`;
  if (!value || typeof value !== 'object' || Array.isArray(value)) {
    problems.push(`${at} must be an object with zone, hours, holidays and exceptions`);
    return undefined;
  }
  const c = value as Record<string, unknown>;
  for (const key of Object.keys(c)) if (!['zone', 'hours', 'holidays', 'exceptions'].includes(key)) problems.push(`${at}: unknown field "${key}"`);
  if (typeof c.zone !== 'string' || !knownZone(c.zone)) problems.push(`${at}: zone ${JSON.stringify(c.zone)} is not a known IANA time zone`);
  const hours = (c.hours ?? {}) as Record<string, unknown>;
  if (typeof hours !== 'object' || Array.isArray(hours)) problems.push(`${at}: hours must be an object from weekday (mon … sun) to ranges`);
  else
    for (const [day, ranges] of Object.entries(hours)) {
      if (!(WEEKDAYS as readonly string[]).includes(day)) problems.push(`${at}: "${day}" is not a weekday (mon, tue, wed, thu, fri, sat, sun)`);
      checkRanges(`${at} hours.${day}`, ranges, problems);
    }
  const holidays = c.holidays ?? [];
  if (!Array.isArray(holidays)) problems.push(`${at}: holidays must be a list of dates YYYY-MM-DD`);
  else for (const d of holidays) if (typeof d !== 'string' || !validDate(d)) problems.push(`${at}: holiday ${JSON.stringify(d)} is not a date YYYY-MM-DD`);
  const exceptions = (c.exceptions ?? {}) as Record<string, unknown>;
  if (typeof exceptions !== 'object' || Array.isArray(exceptions)) problems.push(`${at}: exceptions must be an object from date to ranges`);
  else
    for (const [date, ranges] of Object.entries(exceptions)) {
      if (!validDate(date)) problems.push(`${at}: exception date "${date}" is not a date YYYY-MM-DD`);
      checkRanges(`${at} exceptions.${date}`, ranges, problems);
    }
  return value as Calendar;
}

/** The calendar set in `json`, checked; CalendarError naming every problem. */
export function parseCalendars(json: string): CalendarSet {
  if (Buffer.byteLength(json) > MAX_BYTES) throw new CalendarError([`the calendars are over ${MAX_BYTES} bytes`]);
  let value: unknown;
  try {
    value = JSON.parse(json);
  } catch (err) {
    throw new CalendarError([`not JSON: ${err instanceof Error ? err.message : String(err)}`]);
  }
  if (!value || typeof value !== 'object' || Array.isArray(value)) throw new CalendarError(['must be a JSON object from queue pattern to calendar']);
  const problems: string[] = [];
  const set: CalendarSet = {};
  for (const [pattern, cal] of Object.entries(value)) {
    if (!PATTERN.test(pattern)) problems.push(`"${pattern}" is not a queue pattern (tier/skill/channel, each may be *)`);
    const checked = checkCalendar(pattern, cal, problems);
    if (checked) set[pattern] = checked;
  }
  if (problems.length) throw new CalendarError(problems);
  return set;
}

function specificity(pattern: string): number[] {
  const parts = pattern.split('/');
  return [-parts.filter((p) => p === '*').length, ...parts.map((p) => (p === '*' ? 0 : 1))];
}

/** The answer for an open queue, asked at every offer: one object, never changed. */
const OPEN = Object.freeze({ open: true as const });

/** The calendars routing holds now, and which one each queue keeps (looked up once per queue name). */
export class Calendars {
  private set: CalendarSet = {};
  /** Who set the calendars in force, and when; absent while they are the configured ones. */
  changed: { by: string; at: number } | undefined;
  private ordered: { pattern: string[]; calendar: Calendar }[] = [];
  private readonly byQueue = new Map<string, Calendar | undefined>();
  /** Per queue, whether it is open over [from, until): asked at every offer, worked out once per opening or closing. */
  private readonly known = new Map<string, { from: number; until: number; open: boolean; opensAt: number | undefined }>();

  constructor(set: CalendarSet = {}) {
    this.replace(set);
  }

  get current(): CalendarSet {
    return this.set;
  }

  replace(set: CalendarSet, changed?: { by: string; at: number }): void {
    this.set = set;
    this.changed = changed;
    this.byQueue.clear();
    this.known.clear();
    this.ordered = Object.entries(set)
      .map(([p, calendar]) => ({ key: specificity(p), pattern: p.split('/'), calendar }))
      .sort((a, b) => {
        for (let i = 0; i < a.key.length; i++) if (a.key[i] !== b.key[i]) return b.key[i]! - a.key[i]!;
        return 0;
      });
  }

  of(queue: string): Calendar | undefined {
    const known = this.byQueue.get(queue);
    if (known !== undefined || this.byQueue.has(queue)) return known;
    const parts = queue.split('/');
    const found = this.ordered.find((o) => o.pattern.every((p, i) => p === '*' || p === parts[i]))?.calendar;
    this.byQueue.set(queue, found);
    return found;
  }

  /** Open now; else when it opens next (undefined: not within the horizon). Always open without a calendar. */
  status(queue: string, t: number): { open: true } | { open: false; opensAt: number | undefined; calendar: Calendar } {
    const cal = this.of(queue);
    if (!cal) return OPEN;
    let k = this.known.get(queue);
    if (!k || t < k.from || t >= k.until) {
      const closes = closingAfter(cal, t);
      const opensAt = closes === undefined ? nextOpening(cal, t) : t;
      k = { from: t, until: closes ?? opensAt ?? Number.MAX_SAFE_INTEGER, open: closes !== undefined, opensAt };
      this.known.set(queue, k);
    }
    return k.open ? OPEN : { open: false, opensAt: k.opensAt, calendar: cal };
  }

  /** Open time between two instants: the SLA clock. */
  elapsed(queue: string, from: number, to: number): number {
    const cal = this.of(queue);
    return cal ? businessMs(cal, from, to) : Math.max(0, to - from);
  }

  /** The instant `ms` of open time after `from` (far in the future when the calendar never opens). */
  after(queue: string, from: number, ms: number): number {
    const cal = this.of(queue);
    if (!cal) return from + ms;
    return afterBusinessMs(cal, from, ms) ?? Number.MAX_SAFE_INTEGER;
  }
}
