// The email service's own collections: its thread index, stored attachments, the claims
// that keep each outbound mail to one send, and the surveys sent and answered.
import type { Collection, Db } from 'mongodb';
import type { Claimer, DeliveryRecord } from '#libs/delivery';
import { MongoDeliveryClaims } from '#libs/delivery/mongo';
import type { ErasureSet } from '#libs/erasure';
import { IdentityKind } from '#libs/proto';
import { InsertBatcher, keptOf } from '#libs/store';
import { AttachmentFiles } from '#libs/store/attachments';
import { SurveyRecords } from '#libs/survey/mongo';
import type { ThreadIndex } from './threading';

interface ThreadMessage {
  _id: string; // Message-ID
  conversationId: string;
  at: Date;
}

export interface EmailConversation {
  _id: string; // conversation id
  reference: string;
  customerAddress: string;
  subject: string;
  /** The Message-ID of the mail that opened the conversation ('' for one opened otherwise). */
  openingMessageId: string;
  createdAt: Date;
}

export class EmailStore implements ThreadIndex {
  private readonly messages: Collection<ThreadMessage>;
  private readonly conversations: Collection<EmailConversation>;
  private readonly attachments: AttachmentFiles;
  /** One record per outbound message id, inserted before the mail is handed to the server. */
  readonly deliveries: MongoDeliveryClaims;
  /** The survey mails sent and the answer (reply or link) each conversation got. */
  readonly surveys: SurveyRecords;

  /** `claimer`: this process, written on the claims of the mail it sends. */
  constructor(db: Db, claimer: Claimer) {
    this.deliveries = new MongoDeliveryClaims(db.collection<DeliveryRecord>('email_deliveries'), claimer);
    this.surveys = new SurveyRecords(db, 'email');
    this.messages = db.collection('email_thread_messages');
    this.conversations = db.collection('email_conversations');
    this.attachments = new AttachmentFiles(db, 'email_attachments', 'email');
    this.messageInserts = new InsertBatcher(this.messages);
    this.conversationInserts = new InsertBatcher(this.conversations);
  }

  // Inserts from concurrent mails share store round trips.
  private readonly messageInserts: InsertBatcher<ThreadMessage>;
  private readonly conversationInserts: InsertBatcher<EmailConversation>;

  async ensureIndexes(): Promise<void> {
    await this.conversations.createIndex({ reference: 1 }, { unique: true });
    await this.messages.createIndex({ conversationId: 1, at: 1 }, { name: 'thread_messages_by_conversation' });
  }

  /** The Message-IDs of a conversation's thread, oldest first, for References on our replies. */
  async threadOf(conversationId: string, max = 100): Promise<string[]> {
    const newest = await this.messages
      .find({ conversationId }, { projection: { _id: 1 } })
      .sort({ at: -1 })
      .limit(max)
      .toArray();
    return newest.map((m) => m._id).reverse();
  }

  async conversationOfMessage(messageId: string): Promise<string | undefined> {
    return (await this.messages.findOne({ _id: messageId }))?.conversationId;
  }

  async conversationOfReference(reference: string): Promise<{ conversationId: string } | undefined> {
    const found = await this.conversations.findOne({ reference }, { projection: { _id: 1 } });
    return found ? { conversationId: found._id } : undefined;
  }

  async conversation(conversationId: string): Promise<EmailConversation | undefined> {
    return (await this.conversations.findOne({ _id: conversationId })) ?? undefined;
  }

  async referenceOf(conversationId: string): Promise<string | undefined> {
    return (await this.conversation(conversationId))?.reference;
  }

  /** Records a new conversation; false when its reference is already taken (pick another). */
  async createConversation(conversation: EmailConversation): Promise<boolean> {
    if ((await this.conversationInserts.insert(conversation)) === 'inserted') return true;
    // Either this conversation is already there (a retry) or another one has the reference.
    return !!(await this.conversations.findOne({ _id: conversation._id }));
  }

  /**
   * Remembers a Message-ID (inbound or ours) as part of a conversation's thread. Insert-only, one
   * document per Message-ID, since the store may lose concurrent updates of one document: a
   * Message-ID already recorded keeps the conversation it was first given.
   */
  async addMessage(conversationId: string, messageId: string): Promise<void> {
    if (!messageId) return;
    await this.messageInserts.insert({ _id: messageId, conversationId, at: new Date() });
  }

  /** Keeps an attachment's content once per distinct content, used by the conversation; returns where it is. */
  storeAttachment(sha256: string, contentType: string, content: Buffer, conversationId?: string): Promise<string> {
    return this.attachments.store(sha256, contentType, content, conversationId);
  }

  /** A reply's file (uploaded before the reply) is used by the reply's conversation. */
  attachmentUsed(sha256: string, conversationId: string): Promise<void> {
    return this.attachments.used(sha256, conversationId);
  }

  attachment(sha256: string): Promise<{ contentType: string; content: Buffer } | undefined> {
    return this.attachments.find(sha256);
  }

  /**
   * Deletes what the service keeps of erased conversations and of conversations whose customer
   * address was erased (made at or before the erasure): the conversation (address, subject,
   * reference), its Message-IDs, its survey and answer, and the attachments (mailed in or
   * replied with) no other conversation uses. A pass over each collection: erasures are rare,
   * and the store can only hash what it reads.
   */
  async erase(erased: ErasureSet): Promise<Record<string, number>> {
    const conversations = await keptOf(this.conversations.find({}, { projection: { _id: 1, customerAddress: 1, createdAt: 1 } }), (c) =>
      conversationErased(erased, c),
    );
    const gone = new Set(conversations.map((c) => c._id));
    const isErased = (conversationId: string, at: Date) => gone.has(conversationId) || erased.erasedSince('conversation', conversationId, at.getTime());
    const messages = await keptOf(this.messages.find({}, { projection: { _id: 1, conversationId: 1, at: 1 } }), (m) => isErased(m.conversationId, m.at));
    const messageIds = messages.map((m) => m._id);
    const [c, m, surveys, files] = await Promise.all([
      gone.size ? this.conversations.deleteMany({ _id: { $in: [...gone] } }) : undefined,
      messageIds.length ? this.messages.deleteMany({ _id: { $in: messageIds } }) : undefined,
      this.surveys.erase(isErased),
      this.attachments.erase(isErased),
    ]);
    return { conversations: c?.deletedCount ?? 0, threadMessages: m?.deletedCount ?? 0, ...surveys, ...files };
  }
}

function conversationErased(erased: ErasureSet, c: Pick<EmailConversation, '_id' | 'customerAddress' | 'createdAt'>): boolean {
  const at = c.createdAt.getTime();
  if (erased.erasedSince('conversation', c._id, at)) return true;
  if (!c.customerAddress) return false;
  const byAddress = erased.identityErasedAt({ kind: IdentityKind.IDENTITY_KIND_EMAIL, value: c.customerAddress, namespace: '' });
  return byAddress !== undefined && at <= byAddress;
}
