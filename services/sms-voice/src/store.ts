// The sms-voice service's own collections: which conversation a number pair is in, opt-outs,
// handled Twilio sids, calls, and the claims that keep each outbound SMS to one send.
import type { Collection, Db } from 'mongodb';
import { newConversationId } from '../../../libs/contact';
import type { DeliveryRecord } from '../../../libs/delivery';
import { MongoDeliveryClaims } from '../../../libs/delivery/mongo';
import { InsertBatcher } from '../../../libs/store';

interface Thread {
  _id: string; // customer|company
  conversationId: string;
  openedAt: Date;
}
interface ConversationNumbers {
  _id: string; // conversation id
  customer: string;
  company: string;
}
/** Which conversation opened after another for a number pair (after:none for the first). */
interface ThreadOpening {
  _id: string; // customer|company|after:<previous conversation id>
  conversationId: string;
  openedAt: Date;
}
interface HandledSid {
  _id: string; // MessageSid or CallSid
  conversationId: string;
  at: Date;
}
interface OptOut {
  _id: string; // customer number, E.164
  optedOut: boolean;
  at: Date;
}
export interface Call {
  _id: string; // CallSid
  conversationId: string;
  customer: string;
  company: string;
  startedAt: Date;
  endedAt?: Date;
}

export class SmsVoiceStore {
  private readonly threads: Collection<Thread>;
  private readonly numbers: Collection<ConversationNumbers>;
  private readonly sids: Collection<HandledSid>;
  // Inserts from concurrent webhooks share store round trips.
  private readonly sidInserts: InsertBatcher<HandledSid>;
  private readonly numberInserts: InsertBatcher<ConversationNumbers>;
  private readonly openings: Collection<ThreadOpening>;
  private readonly openingInserts: InsertBatcher<ThreadOpening>;
  private readonly optOuts: Collection<OptOut>;
  readonly calls: Collection<Call>;
  /** One record per outbound SMS part, inserted before it is handed to Twilio. */
  readonly deliveries: MongoDeliveryClaims;

  constructor(db: Db) {
    this.deliveries = new MongoDeliveryClaims(db.collection<DeliveryRecord>('sms_deliveries'));
    this.threads = db.collection('sms_threads');
    this.numbers = db.collection('sms_conversation_numbers');
    this.sids = db.collection('twilio_sids');
    this.sidInserts = new InsertBatcher(this.sids);
    this.numberInserts = new InsertBatcher(this.numbers);
    this.openings = db.collection('sms_thread_openings');
    this.openingInserts = new InsertBatcher(this.openings);
    this.optOuts = db.collection('sms_opt_outs');
    this.calls = db.collection('voice_calls');
  }

  /**
   * The conversation an inbound SMS joins, claimed once per MessageSid: a Twilio retry gets the
   * conversation it had the first time. Messages between the same two numbers within the
   * window join the open conversation; otherwise a new one opens. Insert-only, since the store
   * may lose concurrent updates of one document: the conversation that follows another for a
   * number pair is claimed by a unique insert keyed by the one before it, so two first messages
   * arriving at once open one conversation, not two. Two round trips to the store (three when a
   * conversation opens), the inserts batched with other webhooks'.
   */
  async claimSms(sid: string, customer: string, company: string, now: Date, windowMs: number): Promise<{ conversationId: string; isNew: boolean; retry: boolean }> {
    const threadId = `${customer}|${company}`;
    const [known, thread] = await Promise.all([this.sids.findOne({ _id: sid }), this.threads.findOne({ _id: threadId })]);
    if (known) {
      // A retry may follow a first try that failed half-way: make sure replies can find the numbers.
      await this.numbers.updateOne({ _id: known.conversationId }, { $setOnInsert: { customer, company } }, { upsert: true });
      return { conversationId: known.conversationId, isNew: false, retry: true };
    }
    const opens = !thread || now.getTime() - thread.openedAt.getTime() > windowMs;
    const opening = opens ? await this.openConversation(threadId, thread?.conversationId, now) : undefined;
    const conversationId = opening?.conversationId ?? thread!.conversationId;
    const isNew = opening?.won ?? false;
    const [claimed] = await Promise.all([
      this.sidInserts.insert({ _id: sid, conversationId, at: now }),
      // Only a conversation that exists is pointed to, so no message joins one that lost its claim.
      opening ? this.threads.updateOne({ _id: threadId }, { $set: { conversationId, openedAt: opening.openedAt } }, { upsert: true }) : undefined,
      isNew ? this.numberInserts.insert({ _id: conversationId, customer, company }) : undefined,
    ]);
    if (claimed === 'inserted') return { conversationId, isNew, retry: false };
    // A concurrent retry of the same sid won: its conversation is the one.
    const winner = await this.sids.findOne({ _id: sid });
    return { conversationId: winner?.conversationId ?? conversationId, isNew: false, retry: true };
  }

  /** Claims the conversation that follows `previous` for a number pair; a concurrent opener's claim wins. */
  private async openConversation(threadId: string, previous: string | undefined, now: Date): Promise<{ conversationId: string; openedAt: Date; won: boolean }> {
    const _id = `${threadId}|after:${previous ?? 'none'}`;
    const mine = { _id, conversationId: newConversationId(), openedAt: now };
    if ((await this.openingInserts.insert(mine)) === 'inserted') return { ...mine, won: true };
    const theirs = await this.openings.findOne({ _id });
    if (!theirs) throw new Error(`the opening of conversation ${_id} was claimed but cannot be read`);
    return { conversationId: theirs.conversationId, openedAt: theirs.openedAt, won: false };
  }

  async conversationOfSid(sid: string): Promise<string | undefined> {
    return (await this.sids.findOne({ _id: sid }))?.conversationId;
  }

  async rememberSid(sid: string, conversationId: string): Promise<void> {
    await this.sids.updateOne({ _id: sid }, { $setOnInsert: { conversationId, at: new Date() } }, { upsert: true });
  }

  /** The two numbers of an SMS conversation, for replies. */
  async numbersOf(conversationId: string): Promise<{ customer: string; company: string } | undefined> {
    const found = await this.numbers.findOne({ _id: conversationId });
    return found ? { customer: found.customer, company: found.company } : undefined;
  }

  async setOptOut(customer: string, optedOut: boolean): Promise<void> {
    await this.optOuts.updateOne({ _id: customer }, { $set: { optedOut, at: new Date() } }, { upsert: true });
  }

  async isOptedOut(customer: string): Promise<boolean> {
    return (await this.optOuts.findOne({ _id: customer }))?.optedOut ?? false;
  }
}
