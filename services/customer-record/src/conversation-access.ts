// Projection of routing's conversation events into "who may read which conversation's
// customer", one document per conversation by _id (the one indexed look-up FerretDB serves
// fast). The API waits here, briefly, when a desk asks a moment before an offer is projected.
import type { AnyBulkWriteOperation, Collection, Db } from 'mongodb';
import { InvalidEventError } from '#libs/kafka';
import type { ConversationEvent } from '#libs/proto';
import { applyEvent, emptyAccess, type ConversationAccess } from './access';
import { bulkWriteInChunks } from './store/staged';

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

  onConversationEvent(e: ConversationEvent): Promise<void> {
    return this.onConversationEvents([e]);
  }

  /** A batch of events: each conversation read once, and what changed written in one bulk write. */
  async onConversationEvents(events: ConversationEvent[]): Promise<void> {
    const byConversation = new Map<string, ConversationEvent[]>();
    for (const e of events) {
      if (!e.eventId || !e.conversationId) throw new InvalidEventError('conversation event has no event_id or conversation_id');
      const list = byConversation.get(e.conversationId);
      if (list) list.push(e);
      else byConversation.set(e.conversationId, [e]);
    }
    const ids = [...byConversation.keys()];
    if (!ids.length) return;
    await this.locked(ids, async () => {
      // One look-up per _id: the local store scans the whole collection for an $in.
      const found = await Promise.all(ids.map((id) => this.find(id)));
      const stored = new Map(found.flatMap((a) => (a ? [[a._id, a] as const] : [])));
      const writes: AnyBulkWriteOperation<ConversationAccess>[] = [];
      for (const [id, list] of byConversation) {
        let current = stored.get(id) ?? emptyAccess(id);
        let changed = false;
        for (const e of list) {
          const next = applyEvent(current, e);
          if (next) [current, changed] = [next, true];
        }
        if (changed) writes.push({ replaceOne: { filter: { _id: id }, replacement: current, upsert: true } });
      }
      await bulkWriteInChunks(this.collection, writes);
    });
    for (const id of ids) this.changed(id);
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

  /** Runs `work` once no earlier work on any of these conversations is running. */
  private locked<T>(keys: string[], work: () => Promise<T>): Promise<T> {
    const before = Promise.all(keys.map((k) => this.locks.get(k)));
    const run = before.then(work, work);
    // The caller gets the failure through `run`; the lock only waits for the work to end.
    const tail = run.then(
      () => undefined,
      () => undefined,
    );
    for (const k of keys) this.locks.set(k, tail);
    void tail.then(() => {
      for (const k of keys) if (this.locks.get(k) === tail) this.locks.delete(k);
    });
    return run;
  }
}
