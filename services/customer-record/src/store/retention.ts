// The retention sweep against the store. A turn is claimed by inserting its slot's document (a
// unique _id, safe across instances where a compare-and-set on FerretDB is not): the instance
// whose insert wins runs it, the others skip it. Every delete is by cutoff, so a turn cut short
// or run twice deletes nothing it should not.
import type { Collection, Db } from 'mongodb';
import { isDuplicateKey } from '../errors';
import type { RetentionCutoffs } from '../retention';
import type { Collections } from './records';
import type { WriteQueue } from './write-queue';

export interface SweptCounts {
  textsRemoved: number;
  historyEntries: number;
  conversations: number;
  auditEntries: number;
}

interface SweepDoc {
  _id: string;
  by: string;
  startedAt: Date;
  counts?: SweptCounts;
}

export class RetentionStore {
  private readonly sweeps: Collection<SweepDoc>;

  constructor(
    db: Db,
    private readonly c: Collections,
    private readonly writes: WriteQueue,
  ) {
    this.sweeps = db.collection('retention_sweeps');
  }

  /** True when this instance claimed the turn; false when another did. */
  async claim(slot: string, instanceId: string, now: Date): Promise<boolean> {
    try {
      await this.sweeps.insertOne({ _id: slot, by: instanceId, startedAt: now });
      return true;
    } catch (err) {
      if (isDuplicateKey(err)) return false;
      throw err;
    }
  }

  /** Deletes what is past its window; counts only (no ids, no data). */
  sweep(slot: string, cutoffs: RetentionCutoffs): Promise<SweptCounts> {
    return this.writes.exclusive(async () => {
      const { textsBefore, conversationsBefore, auditBefore } = cutoffs;
      const old = await this.c.conversations.find({ lastActivityAt: { $lt: conversationsBefore } }, { projection: { _id: 1 } }).toArray();
      const ids = old.map((o) => o._id);
      const history = await this.c.history.deleteMany({ $or: [{ occurredAt: { $lt: conversationsBefore } }, { conversationId: { $in: ids } }] });
      const conversations = await this.c.conversations.deleteMany({ _id: { $in: ids } });
      await this.c.pending.deleteMany({ _id: { $in: ids } });
      // The customer document's copies of the deleted conversations, so a card does not show them.
      await this.c.customers.updateMany(
        { 'recentConversations.lastActivityAt': { $lt: conversationsBefore } },
        { $pull: { recentConversations: { lastActivityAt: { $lt: conversationsBefore } } } },
      );
      // Texts after the deletes: what goes whole is not emptied first.
      const texts = await this.c.history.updateMany(
        { occurredAt: { $lt: textsBefore }, $or: [{ text: { $ne: '' } }, { subject: { $ne: '' } }, { attachments: { $exists: true } }] },
        { $set: { text: '', subject: '' }, $unset: { attachments: '' } },
      );
      const audit = await this.c.audit.deleteMany({ at: { $lt: auditBefore } });
      await this.sweeps.deleteMany({ startedAt: { $lt: auditBefore } });
      const counts = {
        textsRemoved: texts.modifiedCount,
        historyEntries: history.deletedCount,
        conversations: conversations.deletedCount,
        auditEntries: audit.deletedCount,
      };
      await this.sweeps.updateOne({ _id: slot }, { $set: { counts } });
      if (ids.length || texts.modifiedCount) this.writes.changed('all');
      return counts;
    });
  }
}
