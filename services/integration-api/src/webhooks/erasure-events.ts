// `customer.erased`: an application that was sent a customer's or conversation's id (in a webhook
// delivery, or as its own API thread) is told when that customer or conversation is erased, so
// it can delete its copies. One event per application and erased id it holds, with an id made
// from the erased subject and the erasure's time, so every instance, and a restart applying the
// erasure again, records the same deliveries once. Recorded in the delivery log with its due
// entry; the dispatcher's scan of the due queue sends it.
import { createHash } from 'node:crypto';
import type { Db } from 'mongodb';
import type { ErasureSet } from '#libs/erasure';
import { DeliveryStore, pendingDelivery } from './deliveries';
import type { WebhookEvent } from './events';
import type { Subscription } from './subscriptions';

/** An erased id an application holds, and when it was erased (ms). */
export interface ErasedCopy {
  application: string;
  kind: 'customer' | 'conversation';
  id: string;
  erasedAt: number;
}

/** The event an application is sent for one erased id (no I/O). */
export function erasedEventOf(copy: ErasedCopy): WebhookEvent {
  const digest = createHash('sha256').update(`${copy.application}|${copy.kind}:${copy.id}|${copy.erasedAt}`).digest('base64url').slice(0, 27);
  return {
    id: `erasure_${digest}`,
    type: 'customer.erased',
    occurredAt: new Date(copy.erasedAt),
    application: copy.application,
    data: copy.kind === 'customer' ? { customerId: copy.id, conversationId: null } : { customerId: null, conversationId: copy.id },
  };
}

/** The erased ids named by a delivery's payload (its `conversationId`, any `…customerId`). */
export function erasedIdsOf(erased: ErasureSet, payload: string, at: number): Omit<ErasedCopy, 'application'>[] {
  let data: unknown;
  try {
    data = (JSON.parse(payload) as { data?: unknown }).data;
  } catch {
    // Payloads are written by this service as JSON; one that is not names nothing to match.
    return [];
  }
  if (!data || typeof data !== 'object') return [];
  const found: Omit<ErasedCopy, 'application'>[] = [];
  for (const [field, value] of Object.entries(data as Record<string, unknown>)) {
    if (typeof value !== 'string' || !value) continue;
    const kind = field === 'conversationId' ? 'conversation' : /customerId$/i.test(field) ? 'customer' : undefined;
    const erasedAt = kind && erased.erasedAtOf(kind, value);
    if (kind && erasedAt !== undefined && at <= erasedAt) found.push({ kind, id: value, erasedAt });
  }
  return found;
}

/** Records a `customer.erased` delivery for each subscription of the application to it; answers how many. */
export async function recordErasedEvents(db: Db, copies: readonly ErasedCopy[], now: Date): Promise<number> {
  if (copies.length === 0) return 0;
  const subscriptions = await db.collection<Subscription>('webhook_subscriptions').find({}).toArray();
  const unique = new Map(copies.map((c) => [`${c.application}|${c.kind}|${c.id}`, c]));
  const deliveries = [...unique.values()].flatMap((copy) => {
    const event = erasedEventOf(copy);
    return subscriptions
      .filter((s) => s.application === copy.application && s.eventTypes.includes('customer.erased'))
      .map((s) => pendingDelivery(s, event, now));
  });
  if (deliveries.length === 0) return 0;
  return (await new DeliveryStore(db).record(deliveries)).length;
}
