// The reports' consumer: the conversation and SLA topics from their beginning, in a consumer
// group of this instance's own that commits nothing, into the in-memory fold. Every start (and
// every instance) rebuilds the same figures from the topics.
import type { Kafka } from 'kafkajs';
import { topics } from '#libs/kafka';
import type { Logger } from '#libs/observability';
import { deleteGroup, startThrowAwayConsumer } from './kafka-io';
import { describeRecord } from './records';
import { ReportFold } from './reports';

export interface ReportFeed {
  fold: ReportFold;
  stop(): Promise<void>;
}

export async function startReportFeed(kafka: Kafka, log: Logger): Promise<ReportFeed> {
  const fold = new ReportFold();
  const topicNames = [topics.conversationEvents.name, topics.sla.name];
  const { groupId, consumer } = await startThrowAwayConsumer(kafka, 'ops-console-reports-', topicNames, true, (raw) => {
    const record = describeRecord(raw);
    // A record that does not decode is the dead-letter screen's business; the reports skip it, said once per record.
    if (record.error) log.warn({ topic: raw.topic, partition: raw.partition, offset: raw.offset, error: record.error }, 'record left out of the reports');
    else fold.add(record);
  });
  return {
    fold,
    stop: async () => {
      await consumer.disconnect();
      await deleteGroup(kafka, groupId);
    },
  };
}
