// Topics are created at start-up with the configured partitions, never by accident.
import type { Kafka } from 'kafkajs';
import { allTopics, DEAD_LETTER_TOPIC } from './topics';

export interface TopicSettings {
  partitions: number;
  replicationFactor: number;
}

export async function ensureTopics(kafka: Kafka, settings: TopicSettings, names?: string[]): Promise<void> {
  const wanted = [
    ...allTopics.map((t) => ({ name: t.name, compacted: t.compacted ?? false })),
    { name: DEAD_LETTER_TOPIC, compacted: false },
  ].filter((t) => !names || names.includes(t.name));
  const admin = kafka.admin();
  await admin.connect();
  try {
    const existing = new Set(await admin.listTopics());
    const missing = wanted.filter((t) => !existing.has(t.name));
    if (missing.length === 0) return;
    await admin.createTopics({
      waitForLeaders: true,
      topics: missing.map((t) => ({
        topic: t.name,
        numPartitions: settings.partitions,
        replicationFactor: settings.replicationFactor,
        configEntries: t.compacted ? [{ name: 'cleanup.policy', value: 'compact' }] : [],
      })),
    });
  } finally {
    await admin.disconnect();
  }
}
