// Quiet hours: the local times at which the company does not start an SMS conversation (a
// message the customer did not ask for should not wake them). Answers to the customer's own
// messages are not held back. No I/O.
import { knownZone, localMinutes, parseRange } from '#libs/calendars';

export interface QuietHours {
  zone: string;
  /** Minutes after local midnight; `from` after `to` runs over midnight (21:00-08:00). */
  from: number;
  to: number;
}

export class QuietHoursError extends Error {
  override name = 'QuietHoursError';
}

/** "21:00-08:00" in a zone Intl knows; throws QuietHoursError naming what is wrong. */
export function parseQuietHours(range: string, zone: string): QuietHours {
  const minutes = parseRange(range);
  if (!minutes || minutes.from === minutes.to) throw new QuietHoursError(`quiet hours "${range}" must be HH:MM-HH:MM with two different times`);
  if (!knownZone(zone)) throw new QuietHoursError(`quiet hours zone "${zone}" is not a known time zone`);
  return { zone, from: minutes.from, to: minutes.to };
}

export function inQuietHours(q: QuietHours, t: number): boolean {
  const m = localMinutes(q.zone, t);
  return q.from < q.to ? m >= q.from && m < q.to : m >= q.from || m < q.to;
}

const hhmm = (m: number) => `${String(Math.floor(m / 60) % 24).padStart(2, '0')}:${String(m % 60).padStart(2, '0')}`;

/** Why a start is refused, with when it may be sent. */
export function quietHoursText(q: QuietHours): string {
  return `quiet hours: the company does not start SMS conversations between ${hhmm(q.from)} and ${hhmm(q.to)} (${q.zone}); send it after ${hhmm(q.to)}`;
}
