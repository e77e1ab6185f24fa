// What the webhook endpoints answer, as openapi.json describes it. No I/O.
import type { Delivery } from './deliveries';
import type { Subscription } from './subscriptions';

const iso = (d: Date | null | undefined) => (d ? d.toISOString() : null);

export function subscriptionView(s: Subscription) {
  return { id: s._id, url: s.url, eventTypes: s.eventTypes, description: s.description, createdAt: s.createdAt.toISOString() };
}

export function deliveryView(d: Delivery) {
  const last = d.lastAttempt;
  return {
    id: d._id,
    eventId: d.eventId,
    eventType: d.eventType,
    status: d.status,
    recordedAt: d.recordedAt.toISOString(),
    attempts: d.attempts,
    lastAttempt: last ? { at: last.at.toISOString(), durationMs: last.durationMs, statusCode: last.statusCode ?? null, error: last.error ?? null } : null,
    nextAttemptAt: iso(d.nextAttemptAt),
    deliveredAt: iso(d.deliveredAt),
    failedAt: iso(d.failedAt),
    replayedAt: iso(d.replayedAt),
  };
}

/** One delivery with the body it sends, byte for byte. */
export function deliveryDetail(d: Delivery) {
  return { ...deliveryView(d), payload: d.payload };
}
