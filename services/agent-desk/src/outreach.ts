// Writing first to customers, without I/O: the conversation ids that make a retry the same
// conversation, and a notice's progress, customer by customer, paced to a rate.
import { idDigest } from '#libs/contact';

/** A person's send: the same request again from the same person is the same conversation. */
export function deskConversationId(personId: string, requestId: string): string {
  return `conv-desk-${idDigest(`${personId}\n${requestId}`)}`;
}

/** One customer of a notice: the notice sent again starts nothing new for them. */
export function noticeConversationId(noticeId: string, customerId: string): string {
  return `conv-notice-${idDigest(`${noticeId}\n${customerId}`)}`;
}

export type NoticeOutcome = 'started' | 'already-sent' | 'skipped' | 'failed';

export interface NoticeProgress {
  noticeId: string;
  by: string;
  channel: 'email' | 'sms';
  total: number;
  done: number;
  counts: Record<NoticeOutcome, number>;
  /** Why customers were skipped or failed, by customer id (at most the first 100). */
  problems: { customerId: string; outcome: NoticeOutcome; why: string }[];
  finished: boolean;
}

export function newProgress(noticeId: string, by: string, channel: 'email' | 'sms', total: number): NoticeProgress {
  return { noticeId, by, channel, total, done: 0, counts: { started: 0, 'already-sent': 0, skipped: 0, failed: 0 }, problems: [], finished: total === 0 };
}

export function recordOutcome(p: NoticeProgress, customerId: string, outcome: NoticeOutcome, why = ''): void {
  p.done++;
  p.counts[outcome]++;
  if ((outcome === 'skipped' || outcome === 'failed') && p.problems.length < 100) p.problems.push({ customerId, outcome, why });
  p.finished = p.done >= p.total;
}

/** When the i-th send of a notice may start, `perSecond` at most, from the notice's start. */
export function sendAt(startedAt: number, index: number, perSecond: number): number {
  return startedAt + Math.floor((index * 1000) / perSecond);
}
