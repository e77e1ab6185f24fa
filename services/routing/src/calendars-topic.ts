// The calendars a supervisor set, as routing publishes them on cc.calendars.v1 for the email
// service's acknowledgement: one compacted record per routing deployment, the whole set.
import { eventId } from '#libs/contact';
import { topics, type TopicSpec } from '#libs/kafka';
import { CalendarsChanged } from '#libs/proto';
import type { CalendarsRecord } from './core/engine';
import type { DecisionRecord } from './decision-log';

/** The record to publish for the calendars in force; undefined while they are the configured ones. */
export function calendarsPublication(record: CalendarsRecord | undefined, deployment: string): DecisionRecord | undefined {
  if (!record) return undefined;
  const message = CalendarsChanged.fromPartial({
    calendarsJson: JSON.stringify(record.set),
    changedBy: record.changedBy,
    changedAt: new Date(record.changedAt),
  });
  return {
    topic: topics.calendars as TopicSpec<unknown>,
    key: deployment,
    message,
    // The same change published again (at a take-over) is one record downstream.
    id: eventId('routing', deployment, 'calendars', record.changedAt),
    time: message.changedAt,
  };
}
