// Erased customers leave sms-voice's own collections and its spool. A conversation goes when the
// erasure names it, or names the customer's number and the conversation began at or before it:
// its numbers, message and call sids, its call (with its legs and the conversation's look-up),
// its survey and answer; a number pair whose conversation went loses its thread, its openings
// and its WhatsApp reply window. Recordings are made due at once, so the retention sweep asks
// Twilio to delete them (the document goes once Twilio confirmed). Spooled webhooks (on this
// instance's own disk, so looked through at every start) of an erased conversation or number are
// blanked on disk once forwarded. Opt-outs are kept: erasing one would text again someone who
// said STOP. A pass over each collection: erasures are rare, and the store can only hash what it
// reads.
import type { ErasureSet } from '#libs/erasure';
import { IdentityKind } from '#libs/proto';
import { keptOf, passOver } from '#libs/store';
import type { ContactSpool } from './spool';
import type { SmsVoiceStore } from './store';
import { bareNumber } from './whatsapp';

interface SmsVoiceErasureParts {
  store: SmsVoiceStore;
  /** Asks Twilio to delete what is due (the recording retention's sweep). */
  sweepRecordings(): Promise<void>;
  now?: () => Date;
}

type Docs = Awaited<ReturnType<typeof readPairs>>;
type NumberErased = (address: string, at: Date) => boolean;
type Collections = SmsVoiceStore['erasable'];

export async function eraseSmsVoiceData(parts: SmsVoiceErasureParts, erased: ErasureSet): Promise<Record<string, number>> {
  const c = parts.store.erasable;
  const numberErased = numberErasedIn(erased);
  const docs = await readPairs(c);
  const gone = await erasedConversations(c, docs, erased, numberErased);
  const isErased = (conversationId: string, at: Date) => gone.has(conversationId) || erased.erasedSince('conversation', conversationId, at.getTime());
  const goneThreads = docs.threads.filter((t) => gone.has(t.conversationId) || numberErased(customerOf(t._id), t.openedAt)).map((t) => t._id);
  const gonePairs = new Set(goneThreads);
  const ids = [...gone];
  const recordingCounts = await eraseRecordings(parts, await keptOf(c.recordings.find({}), (r) => isErased(r.conversationId, r.recordedAt)));
  const ofGone = (doc: { conversationId: string }) => gone.has(doc.conversationId);
  const [threads, conversationNumbers, threadOpenings, sids, replyWindows, calls, conversationCalls] = await Promise.all([
    deleteIds(c.threads, goneThreads),
    deleteIds(c.numbers, ids),
    // A pair whose thread went starts its chain of openings again.
    deleteIds(
      c.openings,
      idsOf(docs.openings, (o) => gone.has(o.conversationId) || gonePairs.has(pairOf(o._id))),
    ),
    deleteIds(c.sids, idsOf(await keptOf(c.sids.find({}, { projection: { _id: 1, conversationId: 1 } }), ofGone))),
    deleteIds(
      c.replyWindows,
      idsOf(docs.windows, (w) => gonePairs.has(w._id) || numberErased(customerOf(w._id), w.lastInboundAt)),
    ),
    deleteIds(c.calls, idsOf(await keptOf(c.calls.find({}, { projection: { _id: 1, conversationId: 1 } }), ofGone))),
    deleteIds(c.conversationCalls, ids),
  ]);
  const surveys = await parts.store.surveys.erase(isErased);
  return { threads, conversationNumbers, threadOpenings, sids, replyWindows, calls, conversationCalls, ...recordingCounts, ...surveys };
}

/** Blanks the spooled webhooks of erased conversations and numbers. */
export async function eraseSpooled(spool: Pick<ContactSpool, 'erase'>, erased: ErasureSet): Promise<{ spooledRecords: number }> {
  const numberErased = numberErasedIn(erased);
  const spooledRecords = await spool.erase(
    (conversationId, number, at) => erased.erasedSince('conversation', conversationId, at.getTime()) || (!!number && numberErased(number, at)),
  );
  return { spooledRecords };
}

function numberErasedIn(erased: ErasureSet): NumberErased {
  return (address, at) => {
    const when = erased.identityErasedAt({ kind: IdentityKind.IDENTITY_KIND_PHONE, value: bareNumber(address) ?? '', namespace: '' });
    return when !== undefined && at.getTime() <= when;
  };
}

/** What is kept per conversation or number pair; the sids and calls (one per message or call) are only read through. */
async function readPairs(c: Collections) {
  const [threads, numbers, openings, windows] = await Promise.all([
    c.threads.find({}).toArray(),
    c.numbers.find({}).toArray(),
    c.openings.find({}).toArray(),
    c.replyWindows.find({}).toArray(),
  ]);
  return { threads, numbers, openings, windows };
}

/** Conversations erased by id, or by the customer's number when they began at or before its erasure. */
async function erasedConversations(c: Collections, docs: Docs, erased: ErasureSet, numberErased: NumberErased): Promise<Set<string>> {
  // When each conversation began, as far as the store knows: the earliest time a document names.
  const began = new Map<string, Date>();
  const saw = (id: string, at: Date) => {
    const known = began.get(id);
    if (!known || at < known) began.set(id, at);
  };
  for (const d of [...docs.threads, ...docs.openings]) saw(d.conversationId, d.openedAt);
  const byId = (id: string, at: Date) => erased.erasedSince('conversation', id, at.getTime());
  const gone = new Set<string>();
  for await (const s of passOver(c.sids.find({}, { projection: { _id: 0, conversationId: 1, at: 1 } }))) {
    saw(s.conversationId, s.at);
    if (byId(s.conversationId, s.at)) gone.add(s.conversationId);
  }
  for await (const call of passOver(c.calls.find({}, { projection: { _id: 0, conversationId: 1, customer: 1, startedAt: 1 } }))) {
    saw(call.conversationId, call.startedAt);
    if (byId(call.conversationId, call.startedAt) || numberErased(call.customer, call.startedAt)) gone.add(call.conversationId);
  }
  for (const n of docs.numbers) {
    const at = began.get(n._id) ?? new Date(0);
    if (byId(n._id, at) || numberErased(n.customer, at)) gone.add(n._id);
  }
  return gone;
}

/** `customer|company` and `customer|company|after:…` name the customer's address first. */
function customerOf(pairId: string): string {
  return pairId.split('|')[0] ?? '';
}

function pairOf(openingId: string): string {
  return openingId.split('|', 2).join('|');
}

function idsOf<T extends { _id: string }>(docs: T[], erased: (doc: T) => boolean = () => true): string[] {
  return docs.filter(erased).map((d) => d._id);
}

/** Due now, for the sweep to delete at Twilio; those Twilio already deleted leave at once. */
async function eraseRecordings(
  parts: SmsVoiceErasureParts,
  recordings: { _id: string; deletedAt?: Date }[],
): Promise<{ recordings: number; recordingsDue: number }> {
  if (recordings.length === 0) return { recordings: 0, recordingsDue: 0 };
  const c = parts.store.erasable;
  const deleted = recordings.filter((r) => r.deletedAt).map((r) => r._id);
  const due = recordings.filter((r) => !r.deletedAt).map((r) => r._id);
  const removed = await deleteIds(c.recordings, deleted);
  if (due.length) {
    await c.recordings.updateMany({ _id: { $in: due } }, { $set: { deleteAt: parts.now?.() ?? new Date(), erased: true } });
    await parts.sweepRecordings();
  }
  return { recordings: removed, recordingsDue: due.length };
}

async function deleteIds(collection: { deleteMany(filter: { _id: { $in: string[] } }): Promise<{ deletedCount: number }> }, ids: string[]): Promise<number> {
  return ids.length ? (await collection.deleteMany({ _id: { $in: ids } })).deletedCount : 0;
}
