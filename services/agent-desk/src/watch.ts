// A supervisor's silent view of a live conversation and the floor's list of live calls: what
// may be asked for, and which of customer-record's entries the page has not been sent yet.
// No I/O here; src/watch-live.ts does the reading and the socket.
import type { SearchRow } from '#libs/web';
import { forms, parseForm, supervisorReason } from './forms';
import type { TimelineItem } from './views';

export interface WatchRequest {
  conversationId: string;
  /** Why the supervisor watches: passed on with every read, so customer-record audits it. */
  reason: string;
}

/** The watch socket's query: a conversation id and a reason, each checked with its own message. */
export function watchRequest(params: URLSearchParams): WatchRequest {
  const { conversationId } = parseForm(forms.conversation, { conversationId: params.get('conversationId') ?? '' });
  return { conversationId, reason: `silent view: ${supervisorReason(params.get('reason'))}` };
}

/** Remembers what was sent, so each read of the history passes on only what is new, oldest first. */
export class WatchCursor {
  private readonly sent = new Set<string>();

  fresh(items: readonly TimelineItem[]): TimelineItem[] {
    const out = items.filter((i) => !this.sent.has(i.id));
    for (const i of out) this.sent.add(i.id);
    return [...out].sort((a, b) => a.at - b.at || a.id.localeCompare(b.id));
  }
}

/** What sms-voice says a call is doing; the desk adds 'waiting' (routing has not assigned it) and 'unknown'. */
export type LiveState = 'ringing' | 'bridged' | 'on hold' | 'consulting' | 'waiting' | 'assigned' | 'unknown';

export interface LiveRow {
  conversationId: string;
  queue: string;
  /** Empty while the customer waits for an agent. */
  agentId: string;
  /** When the conversation began (epoch ms). */
  since: number;
  state: LiveState;
}

/** sms-voice's answer for one call (its `/desk/calls/live`). */
export interface CallStatus {
  conversationId: string;
  state: 'ringing' | 'bridged' | 'on hold' | 'consulting' | 'ended';
  agentId: string;
  since: number;
}

const open = (r: SearchRow) => r.state !== 'resolved' && r.state !== 'abandoned';
const oldestFirst = (a: LiveRow, b: LiveRow) => a.since - b.since || a.conversationId.localeCompare(b.conversationId);

/** Open chats for the silent view, the longest-running first: waiting for an agent, or with one. */
export function liveChatRows(rows: readonly SearchRow[]): LiveRow[] {
  return rows
    .filter((r) => r.channel === 'chat' && open(r))
    .map((r): LiveRow => ({
      conversationId: r.conversationId,
      queue: r.queue,
      agentId: r.agentId,
      since: r.startedAt,
      state: r.agentId ? 'assigned' : 'waiting',
    }))
    .sort(oldestFirst);
}

/**
 * Open calls for the monitor list, the longest-running first. customer-record names the queue and
 * agent; sms-voice says what each call is doing, and a call it has ended is left out even while
 * the record is a moment behind. Without sms-voice's answer (`undefined`) the state is unknown.
 */
export function liveCallRows(rows: readonly SearchRow[], calls: readonly CallStatus[] | undefined): LiveRow[] {
  const byConversation = new Map((calls ?? []).map((c) => [c.conversationId, c]));
  return rows
    .filter((r) => r.channel === 'voice' && open(r))
    .flatMap((r): LiveRow[] => {
      const call = byConversation.get(r.conversationId);
      if (call?.state === 'ended') return [];
      const state: LiveState = call ? call.state : 'unknown';
      return [{ conversationId: r.conversationId, queue: r.queue, agentId: r.agentId || call?.agentId || '', since: call?.since || r.startedAt, state }];
    })
    .sort(oldestFirst);
}
