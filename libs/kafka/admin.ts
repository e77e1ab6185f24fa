// Topics are created at start-up with the configured partitions, never by accident.
import type { Admin, ITopicMetadata, Kafka } from 'kafkajs';
import type { Logger } from '../observability/logger';
import { errorDetails } from '../observability/logger';
import { allTopics, DEAD_LETTER_TOPIC } from './topics';

export interface TopicSettings {
  partitions: number;
  replicationFactor: number;
  /** retention.ms of the non-compacted topics created; the broker's default when absent. */
  retentionMs?: number;
}

export async function ensureTopics(kafka: Kafka, settings: TopicSettings, names?: string[]): Promise<void> {
  const wanted = [...allTopics.map((t) => ({ name: t.name, compacted: t.compacted ?? false })), { name: DEAD_LETTER_TOPIC, compacted: false }].filter(
    (t) => !names || names.includes(t.name),
  );
  await createMissing(
    kafka,
    wanted.map((t) => ({ ...t, ...settings })),
  );
}

/** A service's own topic outside the registry (for example routing's changelog), created if missing. */
export async function ensureTopic(kafka: Kafka, topic: { name: string; compacted: boolean } & TopicSettings): Promise<void> {
  await createMissing(kafka, [topic]);
}

async function createMissing(kafka: Kafka, wanted: ({ name: string; compacted: boolean } & TopicSettings)[]): Promise<void> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const existing = new Set(await admin.listTopics());
    const missing = wanted.filter((t) => !existing.has(t.name));
    if (missing.length === 0) return;
    try {
      await admin.createTopics({
        waitForLeaders: true,
        topics: missing.map((t) => ({
          topic: t.name,
          numPartitions: t.partitions,
          replicationFactor: t.replicationFactor,
          configEntries: topicConfig(t.compacted, t.replicationFactor, t.retentionMs),
        })),
      });
    } catch (err) {
      // On a cluster the broker asked for the new topics' leaders may not know them yet.
      if (!isUnknownTopic(err)) throw err;
      await waitForTopicLeaders(
        admin,
        missing.map((t) => t.name),
      );
    }
  } finally {
    await admin.disconnect();
  }
}

function isUnknownTopic(err: unknown): boolean {
  return err instanceof Error && (err as { type?: string }).type === 'UNKNOWN_TOPIC_OR_PARTITION';
}

/**
 * Waits until every partition of `names` has a leader, as the cluster's metadata tells
 * (bounded), and returns that metadata: on a cluster the next metadata request may go to a
 * broker that does not know the topics yet.
 */
export async function waitForTopicLeaders(admin: Admin, names: string[], timeoutMs = 30_000): Promise<ITopicMetadata[]> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      const { topics } = await admin.fetchTopicMetadata({ topics: names });
      if (topics.every((t) => t.partitions.length > 0 && t.partitions.every((p) => p.leader >= 0))) return topics;
    } catch (err) {
      if (!isUnknownTopic(err) || Date.now() > deadline) throw err;
    }
    if (Date.now() > deadline) throw new Error(`topics ${names.join(', ')} have no leader on every partition after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

/**
 * With three or more copies, an acknowledged write (acks=all) is on at least two of them, so
 * one broker may die without losing it or stopping writes; with fewer, the broker's default.
 */
function topicConfig(compacted: boolean, replicationFactor: number, retentionMs?: number): { name: string; value: string }[] {
  const entries = compacted ? [{ name: 'cleanup.policy', value: 'compact' }] : [];
  // Event topics delete their records after the retention window, erased customers' too.
  if (!compacted && retentionMs) entries.push({ name: 'retention.ms', value: String(retentionMs) });
  if (replicationFactor >= 3) entries.push({ name: 'min.insync.replicas', value: '2' });
  return entries;
}

/**
 * Gives a consumer group a committed offset (the current end) on every partition of `topic`
 * that has none. A group that starts "from the end" otherwise fixes its start per partition
 * only when a member first fetches it, and commits nothing for a partition that stays quiet:
 * a member taking that partition over later would start at the end again and skip what was
 * written in between. Only possible while the group has no members; if another member is
 * already in, it did this itself, so the refusal is ignored. Returns the partitions pinned.
 */
export async function pinGroupStart(kafka: Kafka, groupId: string, topic: string): Promise<number[]> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const [committed] = await admin.fetchOffsets({ groupId, topics: [topic] });
    const missing = (committed?.partitions ?? []).filter((p) => p.offset === '-1').map((p) => p.partition);
    if (missing.length === 0) return [];
    const ends = new Map((await admin.fetchTopicOffsets(topic)).map((p) => [p.partition, p.high]));
    try {
      await admin.setOffsets({ groupId, topic, partitions: missing.map((partition) => ({ partition, offset: ends.get(partition) ?? '0' })) });
    } catch (err) {
      if (
        err instanceof Error &&
        /no running instances|INCONSISTENT_GROUP_PROTOCOL|REBALANCE_IN_PROGRESS/i.test(`${err.message} ${(err as { type?: string }).type ?? ''}`)
      )
        return [];
      throw err;
    }
    return missing;
  } finally {
    await admin.disconnect();
  }
}

/** Deletes a reader's own consumer group when it stops; a failure is logged, and the broker expires the empty group anyway. */
export async function deleteOwnGroup(kafka: Kafka, groupId: string, logger: Pick<Logger, 'warn'>): Promise<void> {
  const admin = kafka.admin();
  try {
    await admin.connect();
    await admin.deleteGroups([groupId]);
  } catch (err) {
    logger.warn({ groupId, ...errorDetails(err) }, 'could not delete the consumer group; the broker expires it');
  } finally {
    await admin.disconnect().catch((err: unknown) => logger.warn(errorDetails(err), 'could not close the admin client'));
  }
}
