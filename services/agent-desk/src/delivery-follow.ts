// The Kafka edge of following deliveries: every desk instance reads the conversation events from
// now on, in a group of its own that commits nothing, and keeps the delivery reports of the
// conversations the desk started. Any instance can then answer a writer's page.
import { randomUUID } from 'node:crypto';
import { topics } from '#libs/kafka';
import { connectKafka, type KafkaSettings, type ServiceContext } from '#libs/service';
import { DeliveryBook, followedConversation } from './deliveries';

export async function followDeliveries(ctx: ServiceContext, config: KafkaSettings): Promise<DeliveryBook> {
  const book = new DeliveryBook();
  const kafka = await connectKafka(ctx, config);
  const consumer = kafka.consumer(
    { groupId: `agent-desk-deliveries-${ctx.instanceId}-${randomUUID().slice(0, 8)}`, commitOffsets: false, fromBeginning: false },
    // The desk's pages do not wait for it: only what it shows after a write does.
    { readyWhileJoining: true },
  );
  consumer.on(topics.conversationEvents, ({ value }) => {
    const step = value.step;
    if (step?.$case !== 'deliveryReported' || !followedConversation(value.conversationId)) return;
    const r = step.deliveryReported;
    book.record(value.conversationId, {
      outboundMessageId: r.outboundMessageId,
      delivered: r.delivered,
      code: r.errorCode,
      detail: r.detail,
      permanent: r.permanent,
    });
  });
  await consumer.start();
  return book;
}
