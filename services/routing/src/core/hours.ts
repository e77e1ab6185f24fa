// Opening hours in routing's decisions: a closed queue's conversations wait (no offers) and
// are offered when it opens; wait estimates count the closed time until then; what the
// customer is told says when they will be answered.
import { hoursInWords, openingInWords } from '#libs/calendars';
import { retryPending } from './callback-rules';
import type { Core } from './context';
import type { ConversationRecord } from './records';

function queueOpen(core: Core, queue: string, now: number): boolean {
  return core.calendars.status(queue, now).open;
}

/** Holds the conversation back when its queue is closed (or a callback's retry is not due): true when it may be offered now. */
export function mayOffer(core: Core, conv: ConversationRecord, now: number): boolean {
  if (retryPending(conv, now)) return false;
  if (queueOpen(core, conv.queue, now)) return true;
  core.held.add(conv.queue);
  return false;
}

/** The held queues that opened by `now`: their conversations may be offered again. */
export function openedQueues(core: Core, now: number): string[] {
  const opened: string[] = [];
  for (const queue of core.held) {
    if (!queueOpen(core, queue, now)) continue;
    core.held.delete(queue);
    opened.push(queue);
  }
  return opened;
}

export interface HoursEstimate {
  estimatedWaitMs: number;
  /** When the closed queue opens (epoch ms); 0 while open. */
  closedUntil: number;
  /** What the customer is told of the hours while closed; empty while open. */
  closedNotice: string;
  /** The weekly hours in words, for callers and the chat widget; empty without a calendar. */
  hours: string;
}

/**
 * An estimate of `ms` of open time from now, as time on the clock: the closed time up to the
 * opening (and any closing on the way) is added. A queue that never opens keeps its estimate.
 */
export function withHours(core: Core, queue: string, now: number, ms: number): HoursEstimate {
  const status = core.calendars.status(queue, now);
  const cal = core.calendars.of(queue);
  const hours = cal ? hoursInWords(cal) : '';
  if (status.open) {
    const end = core.calendars.after(queue, now, ms);
    return { estimatedWaitMs: end === Number.MAX_SAFE_INTEGER ? ms : end - now, closedUntil: 0, closedNotice: '', hours };
  }
  if (status.opensAt === undefined)
    return {
      estimatedWaitMs: ms,
      closedUntil: 0,
      closedNotice: 'We are closed now and no opening is planned yet; we will answer you as soon as we open.',
      hours,
    };
  const end = core.calendars.after(queue, status.opensAt, ms);
  return {
    estimatedWaitMs: (end === Number.MAX_SAFE_INTEGER ? status.opensAt + ms : end) - now,
    closedUntil: status.opensAt,
    closedNotice: `We are closed now; we open again ${openingInWords(status.calendar, status.opensAt, now)} (${status.calendar.zone}) and will answer you then.`,
    hours,
  };
}
