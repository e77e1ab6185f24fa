// The acknowledgement's opening hours follow routing: the calendars a supervisor sets in the desk
// arrive on cc.calendars.v1 and replace the held ones at once; EMAIL_CALENDARS_JSON is the seed,
// used until the followed deployment has published any (and again after a tombstone).
import type { Kafka } from 'kafkajs';
import type { Calendars, CalendarSet } from '#libs/calendars';
import { CompactedTail, topics, type TailRecord } from '#libs/kafka';
import type { Logger } from '#libs/observability';
import { readCalendarRecords } from './calendar-records';

export interface CalendarsFeedDeps {
  kafka: Kafka;
  logger: Logger;
  name: string;
  onStop(what: string, stop: () => Promise<void>): void;
}

/** Starts following (resolves once the topic's current hours are held). */
export async function followCalendars(deps: CalendarsFeedDeps, calendars: Calendars, seed: CalendarSet, deployment: string): Promise<void> {
  const apply = (records: TailRecord[], initial: boolean) => {
    const read = readCalendarRecords(records, deployment);
    // Poison records are left behind, never retried: the topic is compacted, a later change replaces them.
    for (const problem of read.ignored) deps.logger.warn({ deployment, problem }, 'a calendars record was ignored; the hours before it stay');
    if (read.latest === undefined) return;
    if (read.latest === null) calendars.replace(seed);
    else calendars.replace(read.latest.set, { by: read.latest.by, at: read.latest.at });
    deps.logger.info(
      { deployment, initial, queues: Object.keys(calendars.current), changedBy: read.latest?.by ?? null },
      'acknowledgement hours follow routing',
    );
  };
  const tail = new CompactedTail(deps.kafka, deps.logger, topics.calendars.name, `${deps.name}-calendars`, apply);
  await tail.start();
  deps.onStop('calendars reader', () => tail.stop());
}
