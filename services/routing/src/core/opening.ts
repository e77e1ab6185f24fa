// A queue opening, and a supervisor replacing the calendars: what was held back is offered,
// and SLA and step timers are set again for the new hours.
import type { CalendarSet } from '#libs/calendars';
import type { Core } from './context';
import { tryAssign } from './dispatch';
import { openedQueues } from './hours';
import { resumeSla } from './sla';
import { rescheduleStep } from './targets';

/** Offers the conversations of every held queue that opened by `now`, most urgent first. */
export function offerOpened(core: Core, now: number): void {
  for (const name of openedQueues(core, now)) {
    const queue = core.waiting.queues.get(name);
    if (!queue) continue;
    for (const entry of [...queue.entries]) tryAssign(core, entry.conv, now);
  }
}

export function replaceCalendars(core: Core, set: CalendarSet, changedBy: string): void {
  core.calendars.replace(set, { by: changedBy, at: core.clock.now() });
  core.out.calendarsChanged();
  const now = core.clock.now();
  for (const conv of core.conversations.values()) {
    // A timer set for the old hours may be late for the new ones: set from the start again, each re-checks when it fires.
    if (conv.state === 'queued' || conv.state === 'offered' || conv.state === 'assigned') resumeSla(core, conv);
    if (conv.state === 'queued') rescheduleStep(core, conv);
  }
  for (const name of core.waiting.queues.keys()) core.held.add(name);
  offerOpened(core, now);
}
