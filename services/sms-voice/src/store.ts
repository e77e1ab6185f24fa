// The sms-voice service's own collections: which conversation a number pair is in, opt-outs,
// handled Twilio sids, calls, and the claims that keep each outbound SMS to one send. Every
// read is by `_id`, the only key the local store looks up without reading a whole collection.
import type { Collection, Db } from 'mongodb';
import { newConversationId } from '#libs/contact';
import type { Claimer, DeliveryRecord } from '#libs/delivery';
import { MongoDeliveryClaims } from '#libs/delivery/mongo';
import { InsertBatcher, upsertById } from '#libs/store';
import { SurveyRecords } from '#libs/survey/mongo';

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
  _id: string; // customer number, E.164 (prefixed whatsapp: for WhatsApp)
  optedOut: boolean;
  at: Date;
}
/** When the customer last wrote on a WhatsApp pair: the 24-hour reply window runs from it. */
interface ReplyWindowStart {
  _id: string; // whatsapp:customer|whatsapp:company
  lastInboundAt: Date;
}
export interface Call {
  _id: string; // CallSid
  conversationId: string;
  customer: string;
  company: string;
  startedAt: Date;
  endedAt?: Date;
  /** The caller chose, outside opening hours, to leave a voicemail: the queue's end records it. */
  voicemail?: boolean;
  /** Set once the caller is in the call's conference and the agent was dialled into it. */
  bridge?: CallBridge;
  /** The caller is on hold (hears the hold music). */
  held?: boolean;
  /** The agent's line is muted. */
  agentMuted?: boolean;
  /** Others dialled into the conference: experts consulted, supervisors monitoring. */
  legs?: DialledLeg[];
  /** Set on the customer's leg of a callback: whom to dial into the conference once they answer. */
  callback?: CallbackLeg;
}

/** A callback attempt's call: the agent who accepted it, where they take calls, and the message that made it. */
export interface CallbackLeg {
  agentId: string;
  /** `client:<agent id>` or the agent's number. */
  agentAddress: string;
  messageId: string;
  attempt: number;
}

export interface DialledLeg {
  staffId: string;
  callSid: string;
  label: 'consult' | 'monitor';
}

/** The conference a call runs as, and the agent's leg in it. */
export interface CallBridge {
  agentId: string;
  agentCallSid: string;
  conferenceSid: string;
  conference: string;
}
/** A call's recording, kept until its retention ends and Twilio was asked to delete it. */
export interface CallRecording {
  _id: string; // RecordingSid
  conversationId: string;
  callSid: string;
  recordedAt: Date;
  /** Absent when recordings are kept without end (VOICE_RECORDING_RETENTION_MS=0). */
  deleteAt?: Date;
  deletedAt?: Date;
  /** Its conversation was erased: once Twilio deleted it, the document goes too. */
  erased?: boolean;
}

/** Which call a voice conversation is, so an agent can be bridged to it by conversation id. */
interface ConversationCall {
  _id: string; // conversation id
  callSid: string;
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
  private readonly replyWindows: Collection<ReplyWindowStart>;
  private readonly calls: Collection<Call>;
  private readonly recordings: Collection<CallRecording>;
  private readonly conversationCalls: Collection<ConversationCall>;
  private readonly conversationCallInserts: InsertBatcher<ConversationCall>;
  /** One record per outbound SMS part, inserted before it is handed to Twilio. */
  readonly deliveries: MongoDeliveryClaims;
  /** The surveys texted (or asked on a call) and the answer each conversation got. */
  readonly surveys: SurveyRecords;

  /** `claimer`: this process, written on the claims of the requests it makes to Twilio. */
  constructor(db: Db, claimer: Claimer) {
    this.deliveries = new MongoDeliveryClaims(db.collection<DeliveryRecord>('sms_deliveries'), claimer);
    this.surveys = new SurveyRecords(db, 'sms');
    this.threads = db.collection('sms_threads');
    this.numbers = db.collection('sms_conversation_numbers');
    this.sids = db.collection('twilio_sids');
    this.sidInserts = new InsertBatcher(this.sids);
    this.numberInserts = new InsertBatcher(this.numbers);
    this.openings = db.collection('sms_thread_openings');
    this.openingInserts = new InsertBatcher(this.openings);
    this.optOuts = db.collection('sms_opt_outs');
    this.replyWindows = db.collection('whatsapp_reply_windows');
    this.calls = db.collection('voice_calls');
    this.recordings = db.collection('voice_recordings');
    this.conversationCalls = db.collection('voice_conversation_calls');
    this.conversationCallInserts = new InsertBatcher(this.conversationCalls);
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
  async claimSms(
    sid: string,
    customer: string,
    company: string,
    now: Date,
    windowMs: number,
  ): Promise<{ conversationId: string; isNew: boolean; retry: boolean }> {
    const threadId = `${customer}|${company}`;
    const [known, thread] = await Promise.all([this.sids.findOne({ _id: sid }), this.threads.findOne({ _id: threadId })]);
    if (known) {
      // A retry may follow a first try that failed half-way: make sure replies can find the numbers.
      await upsertById(this.numbers, known.conversationId, { $setOnInsert: { customer, company } });
      return { conversationId: known.conversationId, isNew: false, retry: true };
    }
    const opens = !thread || now.getTime() - thread.openedAt.getTime() > windowMs;
    const opening = opens ? await this.openConversation(threadId, thread?.conversationId, now) : undefined;
    const conversationId = opening?.conversationId ?? thread!.conversationId;
    const isNew = opening?.won ?? false;
    const [claimed] = await Promise.all([
      this.sidInserts.insert({ _id: sid, conversationId, at: now }),
      // Only a conversation that exists is pointed to, so no message joins one that lost its claim.
      opening ? upsertById(this.threads, threadId, { $set: { conversationId, openedAt: opening.openedAt } }) : undefined,
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

  /**
   * A conversation the company starts on a number pair: answers from the customer join it (for
   * the window, as after an inbound first message). Upserts by `_id`; a redelivery writes the same.
   * The numbers go first, so a thread only ever points at a conversation replies can be sent on.
   */
  async startThread(conversationId: string, customer: string, company: string, now: Date): Promise<void> {
    await upsertById(this.numbers, conversationId, { $setOnInsert: { customer, company } });
    await upsertById(this.threads, `${customer}|${company}`, { $set: { conversationId, openedAt: now } });
  }

  /** The conversation a number pair's messages join now, if any. */
  async conversationOfNumbers(customer: string, company: string): Promise<string | undefined> {
    return (await this.threads.findOne({ _id: `${customer}|${company}` }))?.conversationId;
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

  /** The customer wrote on a WhatsApp pair: a later message (or a retry of an older one) never moves the window back. */
  async customerWrote(customer: string, company: string, at: Date): Promise<void> {
    await upsertById(this.replyWindows, `${customer}|${company}`, { $max: { lastInboundAt: at } });
  }

  async lastInboundAt(customer: string, company: string): Promise<Date | undefined> {
    return (await this.replyWindows.findOne({ _id: `${customer}|${company}` }))?.lastInboundAt;
  }

  /**
   * Records a call the first time its CallSid is seen; a Twilio retry of the webhook gets the call
   * as it was first recorded. The conversation's look-up of its call is written alongside.
   */
  async recordCall(call: Omit<Call, 'endedAt'>): Promise<Call> {
    const existing = await this.calls.findOne({ _id: call._id });
    if (existing) return existing;
    const { _id, ...fields } = call;
    await Promise.all([
      this.calls.updateOne({ _id }, { $setOnInsert: fields }, { upsert: true }),
      this.conversationCallInserts.insert({ _id: call.conversationId, callSid: _id }),
    ]);
    return call;
  }

  /**
   * A callback attempt's call becomes the conversation's call: call controls, consults, monitoring
   * and the survey then act on the customer's new leg. Written once per CallSid, like a call.
   */
  async callingBack(call: Omit<Call, 'endedAt'>): Promise<void> {
    const { _id, ...fields } = call;
    await upsertById(this.calls, _id, { $setOnInsert: fields });
    await upsertById(this.conversationCalls, call.conversationId, { $set: { callSid: _id } });
  }

  /** The call of a CallSid, as recorded when it came in. */
  async callOf(callSid: string): Promise<Call | undefined> {
    return (await this.calls.findOne({ _id: callSid })) ?? undefined;
  }

  /** The call a voice conversation is, ended or not. */
  async callOfConversation(conversationId: string): Promise<Call | undefined> {
    const found = await this.conversationCalls.findOne({ _id: conversationId });
    return found ? this.callOf(found.callSid) : undefined;
  }

  /** The call a voice conversation is, while it has not ended. */
  async ongoingCallOf(conversationId: string): Promise<Call | undefined> {
    const call = await this.callOfConversation(conversationId);
    return call && !call.endedAt ? call : undefined;
  }

  /** The call's agent leg; a first bridge starts off the hold, a transfer keeps the caller as they were. */
  async bridged(callSid: string, bridge: CallBridge, first: boolean): Promise<void> {
    await this.calls.updateOne({ _id: callSid }, { $set: { bridge, agentMuted: false, ...(first ? { held: false } : {}) } });
  }

  async addLeg(callSid: string, leg: DialledLeg): Promise<void> {
    await this.calls.updateOne({ _id: callSid }, { $push: { legs: leg } });
  }

  /** What the agent's last hold or mute left the call in. */
  async setCallState(callSid: string, state: Pick<Call, 'held' | 'agentMuted'>): Promise<void> {
    await this.calls.updateOne({ _id: callSid }, { $set: state });
  }

  async chooseVoicemail(callSid: string): Promise<void> {
    await this.calls.updateOne({ _id: callSid }, { $set: { voicemail: true } });
  }

  /** The collections an erasure reads and deletes from (erasure.ts); nothing else writes through these. */
  get erasable() {
    const { threads, numbers, openings, sids, replyWindows, calls, recordings, conversationCalls } = this;
    return { threads, numbers, openings, sids, replyWindows, calls, recordings, conversationCalls };
  }

  /** An erased conversation's recording whose deletion Twilio confirmed: nothing of it is kept. */
  async forgetRecording(sid: string): Promise<void> {
    await this.recordings.deleteOne({ _id: sid });
  }

  /** Only the call's status callback ends it. */
  /** Kept once per sid: Twilio's retry of the report does not move its deletion date. */
  async keepRecording(recording: CallRecording): Promise<void> {
    const { _id, ...fields } = recording;
    await this.recordings.updateOne({ _id }, { $setOnInsert: fields }, { upsert: true });
  }

  /** Recordings whose retention has ended and whose deletion Twilio has not confirmed, oldest first. */
  async recordingsToDelete(now: Date, limit: number): Promise<CallRecording[]> {
    return this.recordings
      .find({ deleteAt: { $lte: now }, deletedAt: { $exists: false } })
      .sort({ deleteAt: 1 })
      .limit(limit)
      .toArray();
  }

  async recordingDeleted(sid: string, at: Date): Promise<void> {
    await this.recordings.updateOne({ _id: sid }, { $set: { deletedAt: at } });
  }

  async endCall(callSid: string, at: Date): Promise<void> {
    await this.calls.updateOne({ _id: callSid }, { $set: { endedAt: at } });
  }
}
