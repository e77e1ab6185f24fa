// The search index's Kafka input. Each index file has its own consumer group (named after the
// file's id), so every instance reads every partition into its own index; the positions the file
// holds decide what is applied, and the group's committed offsets only say where to fetch from.
import { topics, type ConsumedEvent } from '#libs/kafka';
import type { ServiceKafka } from '#libs/service';
import type { ConversationIndex } from './conversation-index';

const records = <T>(events: ConsumedEvent<T>[]) => events.map((e) => ({ offset: e.offset, value: e.value }));

export async function startSearchIndexing(kafka: ServiceKafka, index: ConversationIndex, group: { groupId: string; fromBeginning: boolean }): Promise<void> {
  await kafka
    // From the beginning (PROJECTION_FROM_BEGINNING): a new index file rebuilds from the topics.
    .consumer(group)
    .onBatch(topics.contactInbound, (events, at) => index.apply({ kind: 'contacts', ...at, nextOffset: at.offset, records: records(events) }))
    .onBatch(topics.conversationEvents, (events, at) => index.apply({ kind: 'events', ...at, nextOffset: at.offset, records: records(events) }))
    .start();
}
