// The webhooks' Kafka consumer: it only records. Each fetched batch's events are matched against
// the subscriptions, and every delivery they make is stored with its due entry before the batch
// returns, so the group's offset moves past a record only once its deliveries are durable. A
// store outage is transient: the consumer waits and retries without limit (not ready meanwhile);
// a record that cannot be decoded goes to the dead-letter topic as on every other consumer.
// Sending is the dispatcher's, so no endpoint ever slows this.
import type { ConsumedEvent } from '#libs/kafka';
import { topics } from '#libs/kafka';
import type { ServiceKafka } from '#libs/service';
import { pendingDelivery, type Delivery, type DeliveryStore, type DueEntry } from './deliveries';
import { conversationEventOf, mergeEventOf, outboundEventOf, slaEventOf, type WebhookEvent } from './events';
import type { SubscriptionCache } from './subscriptions';

export interface IntakeDeps {
  subscriptions: SubscriptionCache;
  store: Pick<DeliveryStore, 'record'>;
  /** Told the due entries just recorded, to send them at once. */
  recorded(items: { entry: DueEntry; delivery: Delivery }[]): void;
  now?: () => Date;
}

/** The deliveries the events make: one per event and subscription to its type. */
function deliveriesFor(events: WebhookEvent[], subscriptions: Pick<SubscriptionCache, 'matching'>, now: Date): Delivery[] {
  return events.flatMap((event) => subscriptions.matching(event).map((s) => pendingDelivery(s, event, now)));
}

export async function startWebhookIntake(kafka: ServiceKafka, groupId: string, deps: IntakeDeps): Promise<void> {
  const now = deps.now ?? (() => new Date());
  const handle =
    <T>(eventOf: (record: ConsumedEvent<T>) => WebhookEvent | undefined) =>
    async (records: ConsumedEvent<T>[]) => {
      const events = records.map(eventOf).filter((e): e is WebhookEvent => e !== undefined);
      if (events.length === 0) return;
      await deps.subscriptions.fresh();
      const deliveries = deliveriesFor(events, deps.subscriptions, now());
      if (deliveries.length === 0) return;
      deps.recorded(await deps.store.record(deliveries));
    };
  await kafka
    .consumer({ groupId })
    .onBatch(topics.conversationEvents, handle(conversationEventOf))
    .onBatch(topics.sla, handle(slaEventOf))
    .onBatch(topics.outbound, handle(outboundEventOf))
    .onBatch(topics.customerMerges, handle(mergeEventOf))
    .start();
}
