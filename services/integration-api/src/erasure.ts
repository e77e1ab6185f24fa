// Erased customers leave the integration API's own collections: the threads and idempotent
// submissions of erased conversations (which conversation an application's thread is) and the
// webhook deliveries whose payload names an erased conversation or customer (the payload holds
// the customer's text as sent), with their due entries so nothing erased is sent again. Before
// they go, each application that was sent an erased id (a delivery, its own thread) is sent a
// `customer.erased` event naming it, so it can delete its copy. A pass over each collection:
// erasures are rare, and the store can only hash what it reads.
import type { Db } from 'mongodb';
import type { ErasureSet } from '#libs/erasure';
import { keptOf, passOver } from '#libs/store';
import { erasedIdsOf, recordErasedEvents, type ErasedCopy } from './webhooks/erasure-events';

export async function eraseApiData(db: Db, erased: ErasureSet, now = new Date()): Promise<Record<string, number>> {
  const conversationErasedAt = (id: string, at: Date | undefined) => {
    const when = erased.erasedAtOf('conversation', id);
    return when !== undefined && (at?.getTime() ?? 0) <= when ? when : undefined;
  };
  const threads = db.collection<{ _id: string; conversationId: string; openedAt: Date }>('api_threads');
  const submissions = db.collection<{ _id: string; conversationId: string; receivedAt: Date }>('api_submissions');
  const deliveries = db.collection<{ _id: string; application: string; payload: string; recordedAt: Date }>('webhook_deliveries');
  const copies: ErasedCopy[] = [];
  const threadIds: string[] = [];
  for await (const t of passOver(threads.find({}, { projection: { _id: 1, conversationId: 1, openedAt: 1 } }))) {
    const erasedAt = conversationErasedAt(t.conversationId, t.openedAt);
    if (erasedAt === undefined) continue;
    threadIds.push(t._id);
    copies.push({ application: t._id.split('|')[0]!, kind: 'conversation', id: t.conversationId, erasedAt });
  }
  const submissionIds = (
    await keptOf(
      submissions.find({}, { projection: { _id: 1, conversationId: 1, receivedAt: 1 } }),
      (s) => conversationErasedAt(s.conversationId, s.receivedAt) !== undefined,
    )
  ).map((s) => s._id);
  const deliveryIds: string[] = [];
  for await (const d of passOver(deliveries.find({}, { projection: { _id: 1, application: 1, payload: 1, recordedAt: 1 } }))) {
    const named = erasedIdsOf(erased, d.payload, d.recordedAt.getTime());
    if (named.length === 0) continue;
    deliveryIds.push(d._id);
    copies.push(...named.map((n) => ({ ...n, application: d.application })));
  }
  // Told before the copies' record goes: a crash in between applies the erasure again at start.
  const erasedEvents = await recordErasedEvents(db, copies, now);
  const [t, s, d] = await Promise.all([
    threadIds.length ? threads.deleteMany({ _id: { $in: threadIds } }) : undefined,
    submissionIds.length ? submissions.deleteMany({ _id: { $in: submissionIds } }) : undefined,
    deliveryIds.length ? deliveries.deleteMany({ _id: { $in: deliveryIds } }) : undefined,
  ]);
  if (deliveryIds.length) await db.collection<{ _id: string }>('webhook_due').deleteMany({ _id: { $in: deliveryIds } });
  return { threads: t?.deletedCount ?? 0, submissions: s?.deletedCount ?? 0, webhookDeliveries: d?.deletedCount ?? 0, erasedEvents };
}
