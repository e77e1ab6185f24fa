// The projection's writes: conversations opened by their first contact, history entries written
// once each, and the conversation summaries (with their copies on the customer document) that
// the entries move on. Everything is an idempotent upsert keyed by the event, so a replay of the
// topics changes nothing.
import type { Channel } from '#libs/proto';
import { evaluateRegular, type RegularRule } from '../flags';
import { changeFromEntry, type ConversationChange, type HistoryRecord } from '../history';
import { MAX_STARTS, newestFirst, type Collections, type ConversationDoc } from './records';
import type { WriteQueue } from './write-queue';

export class ConversationLog {
  constructor(
    private readonly c: Collections,
    private readonly writes: WriteQueue,
    private readonly rule: RegularRule,
  ) {}

  findConversation(conversationId: string): Promise<ConversationDoc | null> {
    return this.c.conversations.findOne({ _id: conversationId });
  }

  /** Opens (or finds) the conversation; true when this call created it. */
  async openConversation(
    conversationId: string,
    customerId: string,
    channel: Channel,
    subject: string,
    startedAt: Date,
  ): Promise<{ conversation: ConversationDoc; created: boolean }> {
    return this.writes.exclusive(async () => {
      const res = await this.c.conversations.updateOne(
        { _id: conversationId },
        {
          $setOnInsert: {
            customerId,
            channel,
            subject: subject.slice(0, 500),
            startedAt,
            status: 'open',
            lastAgentId: '',
            messageCount: 0,
            lastActivityAt: startedAt,
          },
        },
        { upsert: true },
      );
      const created = res.upsertedCount === 1;
      const conversation = (await this.c.conversations.findOne({ _id: conversationId }))!;
      if (created) {
        await this.countStart(conversation, startedAt);
        await this.attachWaitingEntries(conversation);
        this.writes.changed([conversation.customerId]);
      }
      return { conversation, created };
    });
  }

  /** A new conversation counts towards the regular-customer rule and joins the customer's recent ones. */
  private async countStart(conversation: ConversationDoc, startedAt: Date): Promise<void> {
    const c = await this.c.customers.findOne({ _id: conversation.customerId });
    if (!c) return;
    const starts = [...(c.conversationStarts ?? []), startedAt].slice(-MAX_STARTS);
    await this.c.customers.updateOne(
      { _id: c._id },
      {
        $set: {
          conversationStarts: starts,
          recentConversations: newestFirst([conversation, ...(c.recentConversations ?? [])]),
          regularRule: evaluateRegular(starts, latest(starts, startedAt), this.rule),
        },
      },
    );
  }

  /** Entries that arrived before the contact (the other topic) join the customer now, with their effect on the conversation. */
  private async attachWaitingEntries(conversation: ConversationDoc): Promise<void> {
    const waiting = await this.c.pending.findOne({ _id: conversation._id });
    if (!waiting) return;
    for (const id of waiting.entryIds) {
      const entry = await this.c.history.findOne({ _id: id });
      if (!entry || entry.customerId) continue;
      await this.c.history.updateOne({ _id: id }, { $set: { customerId: conversation.customerId } });
      await this.applyToConversation(conversation._id, entry, changeFromEntry(entry));
    }
    await this.c.pending.deleteOne({ _id: conversation._id });
  }

  /** Writes an entry once; applies its effect on the conversation only the first time. */
  async recordEntry(entry: HistoryRecord, change: ConversationChange): Promise<boolean> {
    return this.writes.exclusive(async () => {
      const res = await this.c.history.updateOne({ _id: entry._id }, { $setOnInsert: entry }, { upsert: true });
      if (res.upsertedCount !== 1) return false;
      if (!entry.customerId) {
        await this.c.pending.updateOne({ _id: entry.conversationId }, { $addToSet: { entryIds: entry._id } }, { upsert: true });
        return true;
      }
      await this.applyToConversation(entry.conversationId, entry, change);
      this.writes.changed([entry.customerId]);
      return true;
    });
  }

  /** Updates the conversation summary and its copy on the customer document. */
  private async applyToConversation(conversationId: string, entry: HistoryRecord, change: ConversationChange): Promise<void> {
    const conv = await this.c.conversations.findOne({ _id: conversationId });
    if (!conv) return;
    const updated: ConversationDoc = {
      ...conv,
      status: change.status ?? conv.status,
      lastAgentId: change.agentId || conv.lastAgentId,
      lastActivityAt: entry.occurredAt > conv.lastActivityAt ? entry.occurredAt : conv.lastActivityAt,
      messageCount: conv.messageCount + (change.countsAsMessage ? 1 : 0),
    };
    const { _id, ...fields } = updated;
    await this.c.conversations.updateOne({ _id }, { $set: fields });
    // The customer document carries its recent conversations, so a context is one read.
    const c = await this.c.customers.findOne({ _id: conv.customerId }, { projection: { recentConversations: 1 } });
    if (c?.recentConversations?.some((r) => r._id === _id))
      await this.c.customers.updateOne(
        { _id: conv.customerId },
        { $set: { recentConversations: c.recentConversations.map((r) => (r._id === _id ? updated : r)) } },
      );
  }
}

function latest(starts: Date[], fallback: Date): Date {
  return starts.reduce((a, b) => (b.getTime() > a.getTime() ? b : a), fallback);
}
