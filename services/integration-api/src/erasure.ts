// Erased customers leave the integration API's own collections: the threads and idempotent
// submissions of erased conversations (which conversation an application's thread is) and the
// webhook deliveries whose payload names an erased conversation or customer (the payload holds
// the customer's text as sent), with their due entries so nothing erased is sent again. A pass
// over each collection: erasures are rare, and the store can only hash what it reads.
import type { Db } from 'mongodb';
import type { ErasureSet } from '#libs/erasure';

export async function eraseApiData(db: Db, erased: ErasureSet): Promise<{ threads: number; submissions: number; webhookDeliveries: number }> {
  const byConversation = (id: unknown, at: Date | undefined) => typeof id === 'string' && erased.erasedSince('conversation', id, at?.getTime() ?? 0);
  const threads = db.collection<{ _id: string; conversationId: string; openedAt: Date }>('api_threads');
  const submissions = db.collection<{ _id: string; conversationId: string; receivedAt: Date }>('api_submissions');
  const deliveries = db.collection<{ _id: string; payload: string; recordedAt: Date }>('webhook_deliveries');
  const threadIds = (await threads.find({}, { projection: { _id: 1, conversationId: 1, openedAt: 1 } }).toArray())
    .filter((t) => byConversation(t.conversationId, t.openedAt))
    .map((t) => t._id);
  const submissionIds = (await submissions.find({}, { projection: { _id: 1, conversationId: 1, receivedAt: 1 } }).toArray())
    .filter((s) => byConversation(s.conversationId, s.receivedAt))
    .map((s) => s._id);
  const deliveryIds = (await deliveries.find({}, { projection: { _id: 1, payload: 1, recordedAt: 1 } }).toArray())
    .filter((d) => payloadErased(erased, d.payload, d.recordedAt.getTime()))
    .map((d) => d._id);
  const [t, s, d] = await Promise.all([
    threadIds.length ? threads.deleteMany({ _id: { $in: threadIds } }) : undefined,
    submissionIds.length ? submissions.deleteMany({ _id: { $in: submissionIds } }) : undefined,
    deliveryIds.length ? deliveries.deleteMany({ _id: { $in: deliveryIds } }) : undefined,
  ]);
  if (deliveryIds.length) await db.collection<{ _id: string }>('webhook_due').deleteMany({ _id: { $in: deliveryIds } });
  return { threads: t?.deletedCount ?? 0, submissions: s?.deletedCount ?? 0, webhookDeliveries: d?.deletedCount ?? 0 };
}

/** A payload whose data names an erased conversation, or an erased customer in any `…customerId` field. */
function payloadErased(erased: ErasureSet, payload: string, at: number): boolean {
  let data: unknown;
  try {
    data = (JSON.parse(payload) as { data?: unknown }).data;
  } catch {
    // Payloads are written by this service as JSON; one that is not names nothing to match.
    return false;
  }
  if (!data || typeof data !== 'object') return false;
  for (const [field, value] of Object.entries(data as Record<string, unknown>)) {
    if (typeof value !== 'string' || !value) continue;
    if (field === 'conversationId' && erased.erasedSince('conversation', value, at)) return true;
    if (/customerId$/i.test(field) && erased.erasedSince('customer', value, at)) return true;
  }
  return false;
}
