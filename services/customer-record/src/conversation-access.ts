// Projection of routing's conversation events into "who may read which conversation's
// customer", one document per conversation by _id (the one indexed look-up FerretDB serves
// fast). The API waits here, briefly, when a desk asks a moment before an offer is projected.
import type { Collection, Db } from 'mongodb';
import { InvalidEventError } from '#libs/kafka';
import type { ConversationEvent } from '#libs/proto';
import { applyEvent, emptyAccess, type ConversationAccess } from './access';

export class ConversationAccessStore {
  readonly collection: Collection<ConversationAccess>;
  /** Writes of one conversation one at a time (FerretDB loses concurrent updates of a document). */
  private readonly locks = new Map<string, Promise<unknown>>();
  private readonly waiters = new Map<string, Set<() => void>>();

  constructor(db: Db) {
    this.collection = db.collection('conversation_access');
  }

  find(conversationId: string): Promise<ConversationAccess | null> {
    return this.collection.findOne({ _id: conversationId });
  }

  async onConversationEvent(e: ConversationEvent): Promise<void> {
    if (!e.eventId || !e.conversationId) throw new InvalidEventError('conversation event has no event_id or conversation_id');
    await this.locked(e.conversationId, async () => {
      const current = (await this.find(e.conversationId)) ?? emptyAccess(e.conversationId);
      const next = applyEvent(current, e);
      if (!next) return;
      await this.collection.replaceOne({ _id: next._id }, next, { upsert: true });
    });
    this.changed(e.conversationId);
  }

  /** Tells waiting reads that something about this conversation was projected (the contact, too). */
  changed(conversationId: string): void {
    const set = this.waiters.get(conversationId);
    if (!set) return;
    this.waiters.delete(conversationId);
    for (const wake of set) wake();
  }

  /** Resolves at the next change of the conversation or after `ms`, whichever comes first. */
  nextChange(conversationId: string, ms: number): Promise<void> {
    return new Promise((resolve) => {
      let set = this.waiters.get(conversationId);
      if (!set) this.waiters.set(conversationId, (set = new Set()));
      const wake = () => {
        clearTimeout(timer);
        set.delete(wake);
        if (!set.size && this.waiters.get(conversationId) === set) this.waiters.delete(conversationId);
        resolve();
      };
      const timer = setTimeout(wake, ms);
      set.add(wake);
    });
  }

  private locked<T>(key: string, work: () => Promise<T>): Promise<T> {
    const before = this.locks.get(key) ?? Promise.resolve();
    const run = before.then(work, work);
    const tail = run.catch(() => undefined);
    this.locks.set(key, tail);
    void tail.then(() => {
      if (this.locks.get(key) === tail) this.locks.delete(key);
    });
    return run;
  }
}
