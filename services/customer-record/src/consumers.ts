// Customer-record's Kafka input: inbound contacts and conversation events, projected into the
// customers' histories and into who may read which conversation's customer.
import { topics } from '#libs/kafka';
import type { ServiceKafka } from '#libs/service';
import type { CustomerRecordConfig } from './config';
import type { ConversationAccessStore } from './conversation-access';
import type { ErasedSubjects } from './erasure';
import type { BatchProjection } from './projection-batches';

export async function startProjection(
  kafka: ServiceKafka,
  config: CustomerRecordConfig,
  deps: { projection: BatchProjection; access: ConversationAccessStore; erased: ErasedSubjects },
): Promise<void> {
  const { projection, access, erased } = deps;
  // From the beginning: a new deployment rebuilds every history from the topics. Reads come from
  // the store, so the instance serves them while its consumer joins the group, which after a
  // crash waits out the crashed member's session.
  const session = config.PROJECTION_SESSION_TIMEOUT_MS;
  await kafka
    .consumer(
      {
        groupId: config.PROJECTION_GROUP_ID,
        fromBeginning: config.PROJECTION_FROM_BEGINNING,
        sessionTimeoutMs: session,
        heartbeatIntervalMs: Math.floor(session / 6),
      },
      // A new group that starts at the end would skip what is written before it joins: only a
      // group that reads from the beginning (or from its committed offsets) may join meanwhile.
      { readyWhileJoining: config.PROJECTION_FROM_BEGINNING },
    )
    // A fetched batch at a time: the store takes a batch's writes in bulk (projection-batches.ts).
    // Records of erased customers are dropped, on a replay as live (erasure.ts).
    .onBatch(topics.contactInbound, async (batch) => {
      const contacts = batch.filter((c) => !erased.dropsContact(c.value));
      await projection.onContacts(contacts.map((c) => c.value));
      for (const c of contacts) access.changed(c.value.conversationId);
    })
    .onBatch(topics.conversationEvents, async (events) => {
      const values = events.map((e) => e.value).filter((e) => !erased.dropsEvent(e));
      // Access first: a desk may already be waiting for this offer.
      await access.onConversationEvents(values);
      await projection.onConversationEvents(values);
    })
    .start();
}
