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

export interface LiveCallRow {
  conversationId: string;
  queue: string;
  /** Empty while the caller waits for an agent. */
  agentId: string;
  /** When the call began (epoch ms). */
  since: number;
}

/** Open voice conversations for the monitor form, the longest-running first. */
export function liveCallRows(rows: readonly SearchRow[]): LiveCallRow[] {
  return rows
    .filter((r) => r.channel === 'voice' && r.state !== 'resolved' && r.state !== 'abandoned')
    .map((r) => ({ conversationId: r.conversationId, queue: r.queue, agentId: r.agentId, since: r.startedAt }))
    .sort((a, b) => a.since - b.since || a.conversationId.localeCompare(b.conversationId));
}
