// The search index's Kafka input. Each index file has its own consumer group (named after the
// file's id), so every instance reads every partition into its own index; the positions the file
// holds decide what is applied, and the group's committed offsets only say where to fetch from.
import { topics, type ConsumedEvent } from '#libs/kafka';
import type { ServiceKafka } from '#libs/service';
import type { ErasedSubjects } from '../erasure';
import type { ConversationIndex } from './conversation-index';

export async function startSearchIndexing(
  kafka: ServiceKafka,
  index: ConversationIndex,
  group: { groupId: string; fromBeginning: boolean; sessionTimeoutMs: number },
  erased: ErasedSubjects,
): Promise<void> {
  // Records of erased customers are left out; the batch's position still moves past them.
  const records = <T>(events: ConsumedEvent<T>[], drops: (value: T) => boolean) =>
    events.filter((e) => !drops(e.value)).map((e) => ({ offset: e.offset, value: e.value }));
  await kafka
    // From the beginning (PROJECTION_FROM_BEGINNING): a new index file rebuilds from the topics.
    // A restarted instance's file has the group of its crashed predecessor, whose session the
    // join waits out; searches are answered from the file meanwhile. A new group starting at the
    // end would skip what is written before it joins, so that one is joined before serving.
    .consumer({ ...group, heartbeatIntervalMs: Math.floor(group.sessionTimeoutMs / 6) }, { readyWhileJoining: group.fromBeginning })
    .onBatch(topics.contactInbound, (events, at) =>
      index.apply({ kind: 'contacts', ...at, nextOffset: at.offset, records: records(events, (c) => erased.dropsContact(c)) }),
    )
    .onBatch(topics.conversationEvents, (events, at) =>
      index.apply({ kind: 'events', ...at, nextOffset: at.offset, records: records(events, (e) => erased.dropsEvent(e)) }),
    )
    .start();
}
