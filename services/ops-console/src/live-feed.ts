// The console's memory of the live tail: the most recent events for a newly opened stream to
// start with, the same per conversation (a busy pipeline pushes a conversation out of the
// recent events within seconds), and the open streams each new event goes to.
import { matchesFilter, type StreamFilter } from './filter';
import { conversationOf, type DescribedRecord } from './records';

export interface LiveEvent {
  record: DescribedRecord;
  receivedAt: number;
}

interface LiveFeedLimits {
  /** How many recent events a newly opened stream starts with. */
  recent: number;
  /** How many conversations' recent events are remembered, the least recently active forgotten first. */
  conversations: number;
  perConversation: number;
}

const DEFAULT_LIMITS: LiveFeedLimits = { recent: 1000, conversations: 5000, perConversation: 100 };

interface Subscriber {
  filter: StreamFilter;
  send(event: LiveEvent): void;
}

export class LiveFeed {
  private readonly recent: LiveEvent[] = [];
  private readonly byConversation = new Map<string, LiveEvent[]>();
  private readonly subscribers = new Set<Subscriber>();

  constructor(private readonly limits: LiveFeedLimits = DEFAULT_LIMITS) {}

  /** Remembers an event and sends it to every open stream whose filter it matches. */
  add(record: DescribedRecord, receivedAt: number): LiveEvent {
    const event: LiveEvent = { record, receivedAt };
    this.recent.push(event);
    if (this.recent.length > this.limits.recent) this.recent.shift();
    const conversationId = conversationOf(record);
    if (conversationId) this.remember(conversationId, event);
    for (const s of this.subscribers) if (matchesFilter(record, s.filter)) s.send(event);
    return event;
  }

  /** The remembered events a stream with this filter starts with, oldest first. */
  backlog(filter: StreamFilter): LiveEvent[] {
    const start = filter.conversationId ? (this.byConversation.get(filter.conversationId) ?? []) : this.recent;
    return start.filter((e) => matchesFilter(e.record, filter));
  }

  /** Sends every new event the filter matches until the returned function is called. */
  subscribe(filter: StreamFilter, send: (event: LiveEvent) => void): () => void {
    const subscriber = { filter, send };
    this.subscribers.add(subscriber);
    return () => this.subscribers.delete(subscriber);
  }

  /** Forgets every remembered event `erased` says is an erased customer's; how many went (each once, wherever it was kept). */
  forget(erased: (event: LiveEvent) => boolean): number {
    const gone = new Set<LiveEvent>();
    const keep = (e: LiveEvent) => {
      if (!erased(e)) return true;
      gone.add(e);
      return false;
    };
    this.recent.splice(0, this.recent.length, ...this.recent.filter(keep));
    for (const [conversationId, events] of this.byConversation) {
      const left = events.filter(keep);
      if (left.length) this.byConversation.set(conversationId, left);
      else this.byConversation.delete(conversationId);
    }
    return gone.size;
  }

  private remember(conversationId: string, event: LiveEvent): void {
    const events = this.byConversation.get(conversationId) ?? [];
    // Deleted and set again: the map's order is then least recently active first.
    this.byConversation.delete(conversationId);
    events.push(event);
    if (events.length > this.limits.perConversation) events.shift();
    this.byConversation.set(conversationId, events);
    if (this.byConversation.size > this.limits.conversations) this.byConversation.delete(this.byConversation.keys().next().value as string);
  }
}
