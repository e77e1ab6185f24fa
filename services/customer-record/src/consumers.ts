// Customer-record's Kafka input: inbound contacts and conversation events, projected into the
// customers' histories and into who may read which conversation's customer.
import { topics } from '#libs/kafka';
import { connectKafka, type ServiceContext } from '#libs/service';
import type { CustomerRecordConfig } from './config';
import type { ConversationAccessStore } from './conversation-access';
import type { Projection } from './projection';

export async function startProjection(
  ctx: ServiceContext,
  config: CustomerRecordConfig,
  deps: { projection: Projection; access: ConversationAccessStore },
): Promise<void> {
  const { projection, access } = deps;
  const kafka = await connectKafka(ctx, config);
  // From the beginning: a new deployment rebuilds every history from the topics.
  await kafka
    .consumer({ groupId: config.PROJECTION_GROUP_ID, fromBeginning: config.PROJECTION_FROM_BEGINNING })
    .on(topics.contactInbound, async ({ value }) => {
      await projection.onContact(value);
      access.changed(value.conversationId);
    })
    .on(topics.conversationEvents, async ({ value }) => {
      // Access first: a desk may already be waiting for this offer.
      await access.onConversationEvent(value);
      await projection.onConversationEvent(value);
    })
    .start();
}
