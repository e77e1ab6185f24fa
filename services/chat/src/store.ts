// The chat service's own MongoDB collections: conversations (owner), what routing said of them
// (one document per fact), the visitor's profile, messages kept so a reconnect can resume, and
// the numbers claimed for those messages.
import type { Collection, Db } from 'mongodb';
import { setTimeout as sleep } from 'node:timers/promises';
import { InsertBatcher } from '#libs/store';
import { ConversationNumbers, type NumberDoc } from './numbers';
import type { ChatEntry } from './protocol';

export interface ConversationDoc {
  _id: string;
  visitorId: string;
  reference: string;
  createdAt: Date;
}

/** What routing told about a conversation: every instance writes each of these, with the same values. */
export interface ConversationFacts {
  wait?: { position: number | null; estimatedWaitMs: number };
  ended?: boolean;
  surveyQuestion?: string;
  /** Who resolved the conversation and in which queue, as routing named them on the survey. */
  surveyServedBy?: { agentId: string; queue: string };
  /** The email the visitor proved with a mailed code: the only one published as an identity. */
  verifiedEmail?: string;
}

/**
 * One fact of a conversation, `<conversation>/<fact>`: one field per document, so a write that
 * races another instance's write of a different fact cannot undo it (on the local store a
 * parallel update of one document rewrites all of it; see docs/architecture.md).
 */
interface FactDoc {
  _id: string;
  conversationId: string;
  value: unknown;
}

/** What the visitor typed about themselves (claims), written by the visitor's own sessions only. */
export interface ProfileDoc {
  _id: string;
  name?: string;
  email?: string;
  phone?: string;
}

export interface MessageDoc {
  /** `<conversation>/c/<client message id>` or `<conversation>/o/<outbound message id>`: idempotent writes. */
  _id: string;
  conversationId: string;
  /** 0 while the writer that claimed the message takes its number. */
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

export interface ChatStoreOptions {
  /**
   * How long a message claimed by another writer may stay without its number before this
   * writer numbers it instead (the other one stopped mid-way). Longer than a Kafka publish.
   */
  staleClaimMs?: number;
}

export class ChatStore {
  readonly conversations: Collection<ConversationDoc>;
  readonly profiles: Collection<ProfileDoc>;
  readonly facts: Collection<FactDoc>;
  readonly messages: Collection<MessageDoc>;
  readonly numbers: Collection<NumberDoc>;
  private readonly messageInserts: InsertBatcher<MessageDoc>;
  private readonly numbering: ConversationNumbers;
  private readonly staleClaimMs: number;
  /** Conversations known to exist (deleted only by an erasure, which forgets them). */
  private readonly knownConversations = new Set<string>();

  constructor(db: Db, prefix = 'chat', options: ChatStoreOptions = {}) {
    this.conversations = db.collection<ConversationDoc>(`${prefix}_conversations`);
    this.profiles = db.collection<ProfileDoc>(`${prefix}_profiles`);
    this.facts = db.collection<FactDoc>(`${prefix}_conversation_facts`);
    this.messages = db.collection<MessageDoc>(`${prefix}_messages`);
    this.numbers = db.collection<NumberDoc>(`${prefix}_numbers`);
    this.messageInserts = new InsertBatcher(this.messages);
    this.numbering = new ConversationNumbers(this.numbers);
    this.staleClaimMs = options.staleClaimMs ?? 15_000;
  }

  async init(): Promise<void> {
    await this.messages.createIndex({ conversationId: 1, seq: 1 });
  }

  /** Records what the visitor typed about themselves, creating the conversation if it has no message yet. */
  async saveProfile(owner: ConversationOwner, profile: Omit<ProfileDoc, '_id'>): Promise<void> {
    if (!profile.name && !profile.email && !profile.phone) return;
    await Promise.all([this.profiles.updateOne({ _id: owner.conversationId }, { $set: profile }, { upsert: true }), this.ensureConversation(owner)]);
  }

  async profile(conversationId: string): Promise<Omit<ProfileDoc, '_id'>> {
    return (await this.profiles.findOne({ _id: conversationId }, { projection: { _id: 0 } })) ?? {};
  }

  async getConversation(id: string): Promise<ConversationDoc | null> {
    const found = await this.conversations.findOne({ _id: id });
    if (found) this.rememberConversation(id);
    return found;
  }

  /**
   * Creates the conversation with its first message (a hello alone writes nothing). A
   * conversation never changes once created, so one this instance has seen is not read again.
   */
  async ensureConversation(owner: ConversationOwner): Promise<void> {
    if (this.knownConversations.has(owner.conversationId)) return;
    try {
      await this.conversations.updateOne({ _id: owner.conversationId }, { $setOnInsert: insertDefaults(owner) }, { upsert: true });
    } catch (err) {
      // Two first messages at once: the other upsert created it.
      if ((err as { code?: number }).code !== 11000) throw err;
    }
    this.rememberConversation(owner.conversationId);
  }

  /** Erased conversations are no longer known here: a later message creates the document again. */
  forget(conversationIds: readonly string[]): void {
    for (const id of conversationIds) this.knownConversations.delete(id);
  }

  private rememberConversation(id: string): void {
    this.knownConversations.add(id);
    if (this.knownConversations.size > 50_000) this.knownConversations.delete(this.knownConversations.values().next().value!);
  }

  /** Records one fact; an upsert race with another instance writing the same value is retried once. */
  async setFact<K extends keyof ConversationFacts>(conversationId: string, fact: K, value: NonNullable<ConversationFacts[K]>): Promise<void> {
    const write = () => this.facts.updateOne({ _id: `${conversationId}/${fact}` }, { $set: { conversationId, value } }, { upsert: true });
    try {
      await write();
    } catch (err) {
      if ((err as { code?: number }).code !== 11000) throw err;
      await write();
    }
  }

  async fact<K extends keyof ConversationFacts>(conversationId: string, fact: K): Promise<ConversationFacts[K]> {
    return (await this.facts.findOne({ _id: `${conversationId}/${fact}` }))?.value as ConversationFacts[K];
  }

  /** The conversation's last number given so far (0 for none). */
  lastNumber(conversationId: string): Promise<number> {
    return this.numbering.lastNumber(conversationId);
  }

  /** Whether a visitor message has opened the conversation. */
  isOpened(conversationId: string): Promise<boolean> {
    return this.numbering.isOpened(conversationId);
  }

  /**
   * Claims a message by inserting it unnumbered. `null`: it is this writer's to number (with
   * `number`, then `markNumbered`). Otherwise another writer has it (a resend, another
   * instance): its stored copy comes back once numbered, or `null` if that writer left it
   * unnumbered for longer than `staleClaimMs` (it stopped mid-way) and this one takes over.
   */
  async claim(draft: MessageDoc): Promise<MessageDoc | null> {
    if ((await this.messageInserts.insert({ ...draft, seq: 0 })) === 'inserted') return null;
    const deadline = Date.now() + this.staleClaimMs;
    for (;;) {
      const stored = await this.messages.findOne({ _id: draft._id });
      if (!stored) throw new Error(`message ${draft._id} was reported stored but cannot be read`);
      if (stored.seq > 0) return stored;
      if (Date.now() > deadline) return null;
      await sleep(5);
    }
  }

  /** Takes the message's number, and for a visitor message whether it opens the conversation. */
  async number(draft: MessageDoc): Promise<{ seq: number; newConversation: boolean }> {
    const [seq, newConversation] = await Promise.all([
      this.numbering.claim(draft.conversationId, draft._id),
      draft.from === 'visitor' ? this.numbering.opens(draft.conversationId, draft._id) : false,
    ]);
    return { seq, newConversation };
  }

  /**
   * Writes the number into a claimed message. Only the claimant writes it, except that any
   * writer may set `accepted` on a numbered one: the same values whoever writes.
   */
  async markNumbered(id: string, fields: { seq: number; newConversation: boolean; accepted: boolean }): Promise<void> {
    await this.messages.updateOne({ _id: id }, { $set: fields });
  }

  /** Stores a numbered entry once, whichever instances store it at the same time. */
  async storeOnce(draft: Omit<MessageDoc, 'seq'>): Promise<MessageDoc> {
    const doc = { ...draft, seq: 0 };
    const stored = await this.claim(doc);
    if (stored) return stored;
    const { seq } = await this.number(doc);
    await this.markNumbered(doc._id, { seq, newConversation: false, accepted: doc.accepted });
    return { ...doc, seq, newConversation: false };
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
  return { visitorId: owner.visitorId, reference: owner.reference, createdAt: new Date() };
}

export function toEntry(doc: MessageDoc): ChatEntry {
  const entry: ChatEntry = { type: 'entry', seq: doc.seq, from: doc.from, kind: doc.kind, text: doc.text, at: doc.at.toISOString() };
  if (doc.clientMessageId) entry.clientMessageId = doc.clientMessageId;
  return entry;
}
