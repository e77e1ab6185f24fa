// The visitors connected to this instance, by conversation: only these ever receive that
// conversation's frames (every instance reads every outbound record; the one holding the
// socket delivers it). A visitor with two tabs open is two sessions of one conversation.
import type { ServerFrame } from './protocol';

export interface Recipient {
  send(frame: ServerFrame): void;
}

export class ConnectedVisitors<S extends Recipient = Recipient> {
  private readonly byConversation = new Map<string, Set<S>>();

  join(conversationId: string, session: S): void {
    let sessions = this.byConversation.get(conversationId);
    if (!sessions) this.byConversation.set(conversationId, (sessions = new Set()));
    sessions.add(session);
  }

  leave(conversationId: string, session: S): void {
    const sessions = this.byConversation.get(conversationId);
    sessions?.delete(session);
    if (sessions && sessions.size === 0) this.byConversation.delete(conversationId);
  }

  /** The conversation's sessions on this instance (none when nobody is connected here). */
  of(conversationId: string): Iterable<S> {
    return this.byConversation.get(conversationId) ?? [];
  }

  deliver(conversationId: string, frame: ServerFrame): void {
    for (const session of this.of(conversationId)) session.send(frame);
  }
}
