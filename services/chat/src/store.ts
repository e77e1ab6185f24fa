// The chat service's own MongoDB collections: conversations (sequence counter, visitor profile,
// last known wait) and their numbered messages, kept so a reconnect can resume.
import type { Collection, Db } from 'mongodb';
import { InsertBatcher } from '../../../libs/store';
import type { ChatEntry } from './protocol';

export interface ConversationDoc {
  _id: string;
  visitorId: string;
  reference: string;
  /** Last number given to a message of this conversation, either direction. */
  seq: number;
  /** How many visitor messages were numbered; the first one opens the conversation. */
  customerSeq: number;
  name?: string;
  email?: string;
  createdAt: Date;
  ended: boolean;
  wait?: { position: number | null; estimatedWaitMs: number };
  surveyQuestion?: string;
}

export interface MessageDoc {
  /** `<conversation>/c/<client message id>` or `<conversation>/o/<outbound message id>`: idempotent writes. */
  _id: string;
  conversationId: string;
  seq: number;
  from: ChatEntry['from'];
  kind: ChatEntry['kind'];
  text: string;
  clientMessageId?: string;
  at: Date;
  /** Visitor messages count only once Kafka acknowledged them. */
  accepted: boolean;
  newConversation?: boolean;
}

export class ChatStore {
  readonly conversations: Collection<ConversationDoc>;
  readonly messages: Collection<MessageDoc>;

  constructor(db: Db, prefix = 'chat') {
    this.conversations = db.collection<ConversationDoc>(`${prefix}_conversations`);
    this.messages = db.collection<MessageDoc>(`${prefix}_messages`);
    this.messageInserts = new InsertBatcher(this.messages);
  }

  private readonly messageInserts: InsertBatcher<MessageDoc>;

  async init(): Promise<void> {
    await this.messages.createIndex({ conversationId: 1, seq: 1 });
  }

  /** Records the visitor's name and email, creating the conversation if it has no message yet. */
  async saveProfile(owner: ConversationOwner, profile: { name?: string; email?: string }): Promise<void> {
    if (!profile.name && !profile.email) return;
    await this.conversations.updateOne({ _id: owner.conversationId }, { $set: profile, $setOnInsert: insertDefaults(owner) }, { upsert: true });
  }

  getConversation(id: string): Promise<ConversationDoc | null> {
    return this.conversations.findOne({ _id: id });
  }

  async updateConversation(id: string, set: Partial<Omit<ConversationDoc, '_id'>>): Promise<void> {
    if (Object.keys(set).length) await this.conversations.updateOne({ _id: id }, { $set: set });
  }

  /**
   * Stores a message once; a repeat (resend, or another instance) gets the stored copy back.
   * The conversation is created with its first message (a hello alone writes nothing), and the
   * counter update returns the conversation, saving a read.
   */
  async storeOnce(
    id: string,
    owner: ConversationOwner,
    make: (seq: number, newConversation: boolean) => Omit<MessageDoc, '_id' | 'seq' | 'conversationId'>,
    fromVisitor: boolean,
  ): Promise<{ doc: MessageDoc; conversation: ConversationDoc | null }> {
    const existing = await this.messages.findOne({ _id: id });
    if (existing) return { doc: existing, conversation: null };
    const conversation = await this.conversations.findOneAndUpdate(
      { _id: owner.conversationId },
      { $inc: { seq: 1, customerSeq: fromVisitor ? 1 : 0 }, $setOnInsert: insertDefaults(owner) },
      { returnDocument: 'after', upsert: true },
    );
    if (!conversation) throw new Error(`conversation ${owner.conversationId} could not be numbered`);
    const doc: MessageDoc = { _id: id, conversationId: owner.conversationId, seq: conversation.seq, ...make(conversation.seq, fromVisitor && conversation.customerSeq === 1) };
    try {
      await this.messages.insertOne(doc);
      return { doc, conversation };
    } catch (err) {
      // Another writer stored it first (two instances, or a concurrent resend): theirs wins; the
      // number taken here is left unused, so numbers only increase, with an occasional gap.
      if ((err as { code?: number }).code === 11000) {
        const stored = await this.messages.findOne({ _id: id });
        if (stored) return { doc: stored, conversation };
      }
      throw err;
    }
  }

  /** Takes the conversation's next number (creating the conversation with its first message). */
  async nextNumber(owner: ConversationOwner, fromVisitor: boolean): Promise<ConversationDoc> {
    const conversation = await this.conversations.findOneAndUpdate(
      { _id: owner.conversationId },
      { $inc: { seq: 1, customerSeq: fromVisitor ? 1 : 0 }, $setOnInsert: insertDefaults(owner) },
      { returnDocument: 'after', upsert: true },
    );
    if (!conversation) throw new Error(`conversation ${owner.conversationId} could not be numbered`);
    return conversation;
  }

  /**
   * Inserts a message; if it is already there (a concurrent resend) the stored one is returned.
   * Concurrent messages share one store round trip (see InsertBatcher).
   */
  async insertOnce(doc: MessageDoc): Promise<MessageDoc> {
    if ((await this.messageInserts.insert(doc)) === 'inserted') return doc;
    const stored = await this.messages.findOne({ _id: doc._id });
    if (!stored) throw new Error(`message ${doc._id} was reported stored but cannot be read`);
    return stored;
  }

  /** What a resuming visitor has not seen yet, in order. */
  entriesAfter(conversationId: string, afterSeq: number, limit = 500): Promise<MessageDoc[]> {
    return this.messages
      .find({ conversationId, seq: { $gt: afterSeq }, accepted: true })
      .sort({ seq: 1 })
      .limit(limit)
      .toArray();
  }
}

export interface ConversationOwner {
  conversationId: string;
  visitorId: string;
  reference: string;
}

function insertDefaults(owner: ConversationOwner) {
  return { visitorId: owner.visitorId, reference: owner.reference, createdAt: new Date(), ended: false };
}

export function toEntry(doc: MessageDoc): ChatEntry {
  const entry: ChatEntry = { type: 'entry', seq: doc.seq, from: doc.from, kind: doc.kind, text: doc.text, at: doc.at.toISOString() };
  if (doc.clientMessageId) entry.clientMessageId = doc.clientMessageId;
  return entry;
}
