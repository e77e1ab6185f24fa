// The sms-voice service's own collections: which conversation a number pair is in, opt-outs,
// handled Twilio sids and calls.
import { randomUUID } from 'node:crypto';
import { MongoServerError, type Collection, type Db } from 'mongodb';

interface Thread {
  _id: string; // customer|company
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
  private readonly sids: Collection<HandledSid>;
  private readonly optOuts: Collection<OptOut>;
  readonly calls: Collection<Call>;

  constructor(db: Db) {
    this.threads = db.collection('sms_threads');
    this.sids = db.collection('twilio_sids');
    this.optOuts = db.collection('sms_opt_outs');
    this.calls = db.collection('voice_calls');
  }

  /**
   * Claims a Twilio sid for a conversation, once: returns the conversation it already had when
   * this is a Twilio retry. Insert-only, since the store may lose concurrent updates.
   */
  async claimSid(sid: string, conversationId: () => Promise<string>): Promise<{ conversationId: string; retry: boolean }> {
    const known = await this.sids.findOne({ _id: sid });
    if (known) return { conversationId: known.conversationId, retry: true };
    const chosen = await conversationId();
    try {
      await this.sids.insertOne({ _id: sid, conversationId: chosen, at: new Date() });
      return { conversationId: chosen, retry: false };
    } catch (err) {
      if (!(err instanceof MongoServerError && err.code === 11000)) throw err;
      const winner = await this.sids.findOne({ _id: sid });
      return { conversationId: winner?.conversationId ?? chosen, retry: true };
    }
  }

  async conversationOfSid(sid: string): Promise<string | undefined> {
    return (await this.sids.findOne({ _id: sid }))?.conversationId;
  }

  async rememberSid(sid: string, conversationId: string): Promise<void> {
    await this.sids.updateOne({ _id: sid }, { $setOnInsert: { conversationId, at: new Date() } }, { upsert: true });
  }

  /**
   * The conversation of this customer with this company number: the one opened within the
   * window, otherwise a new one. One read by _id; a write only when a conversation opens.
   */
  async conversationFor(customer: string, company: string, now: Date, windowMs: number): Promise<{ conversationId: string; isNew: boolean }> {
    const _id = `${customer}|${company}`;
    const thread = await this.threads.findOne({ _id });
    if (thread && now.getTime() - thread.openedAt.getTime() <= windowMs) return { conversationId: thread.conversationId, isNew: false };
    const conversationId = `conv-${randomUUID()}`;
    await this.threads.updateOne({ _id }, { $set: { conversationId, openedAt: now } }, { upsert: true });
    return { conversationId, isNew: true };
  }

  async companyNumberOf(conversationId: string): Promise<{ customer: string; company: string } | undefined> {
    const thread = await this.threads.findOne({ conversationId });
    if (!thread) return undefined;
    const [customer, company] = thread._id.split('|') as [string, string];
    return { customer, company };
  }

  async setOptOut(customer: string, optedOut: boolean): Promise<void> {
    await this.optOuts.updateOne({ _id: customer }, { $set: { optedOut, at: new Date() } }, { upsert: true });
  }

  async isOptedOut(customer: string): Promise<boolean> {
    return (await this.optOuts.findOne({ _id: customer }))?.optedOut ?? false;
  }
}
