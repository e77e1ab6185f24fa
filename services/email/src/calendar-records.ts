// Which opening hours the acknowledgement words, from the records of cc.calendars.v1: the latest
// valid record of the routing deployment the service follows; a record that does not decode or
// whose calendars do not parse is ignored (the hours before it stay) and said why. No I/O.
import { CalendarError, parseCalendars, type CalendarSet } from '#libs/calendars';
import type { TailRecord } from '#libs/kafka';
import { CalendarsChanged } from '#libs/proto';

/** What the records read say: the set to use (null: back to the configured one), and the records ignored with why. */
export interface CalendarsRead {
  latest?: { set: CalendarSet; by: string; at: number } | null;
  ignored: string[];
}

/** The last valid word of `deployment` among `records`, in their order; other deployments' records are not ours. */
export function readCalendarRecords(records: readonly Pick<TailRecord, 'key' | 'value'>[], deployment: string): CalendarsRead {
  const read: CalendarsRead = { ignored: [] };
  for (const record of records) {
    if (record.key !== deployment) continue;
    // A tombstone: the deployment's supervisor set is gone, so the configured hours apply again.
    if (!record.value) {
      read.latest = null;
      continue;
    }
    let message: CalendarsChanged;
    try {
      message = CalendarsChanged.decode(record.value);
    } catch (err) {
      read.ignored.push(`the record does not decode as CalendarsChanged: ${err instanceof Error ? err.message : String(err)}`);
      continue;
    }
    try {
      read.latest = { set: parseCalendars(message.calendarsJson), by: message.changedBy, at: message.changedAt?.getTime() ?? 0 };
    } catch (err) {
      if (!(err instanceof CalendarError)) throw err;
      read.ignored.push(err.message);
    }
  }
  return read;
}
