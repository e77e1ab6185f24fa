// Kafka edges of the console: the live tail, the dead-letter topic kept in memory, the
// conversation timeline read from the beginning, and consumer lag from the admin API.
import { randomUUID } from 'node:crypto';
import type { Admin, Consumer, Kafka, KafkaMessage } from 'kafkajs';
import { DEAD_LETTER_TOPIC, firstFetchAfterJoin } from '#libs/kafka';
import type { Logger } from '#libs/observability';
import type { GroupLag } from './charts';
import { CONSOLE_TOPICS } from './filter';
import { conversationOf, describeRecord, type DescribedRecord, type RawRecord } from './records';

/** Consumer groups of the console (and the CLI) itself: never shown as lag, always deleted after use. */
const CONSOLE_GROUP_PREFIXES = ['ops-tail-', 'ops-console-'];

const toRaw = (topic: string, partition: number, message: KafkaMessage): RawRecord => ({
  topic,
  partition,
  offset: message.offset,
  key: message.key,
  value: message.value,
  headers: message.headers,
});

export async function deleteGroup(kafka: Kafka, groupId: string): Promise<void> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    await admin.deleteGroups([groupId]);
  } catch {
    // The group may still be shutting down; the broker expires empty groups anyway.
  } finally {
    await admin.disconnect();
  }
}

/** A throw-away consumer group that commits nothing: every instance sees everything. */
export async function startThrowAwayConsumer(
  kafka: Kafka,
  prefix: string,
  topicNames: string[],
  fromBeginning: boolean,
  onRecord: (raw: RawRecord) => void,
): Promise<{ groupId: string; consumer: Consumer }> {
  const groupId = `${prefix}${randomUUID()}`;
  const consumer = kafka.consumer({ groupId, maxWaitTimeInMs: 100, allowAutoTopicCreation: false });
  await consumer.connect();
  await consumer.subscribe({ topics: topicNames, fromBeginning });
  const positioned = firstFetchAfterJoin(consumer);
  await consumer.run({ autoCommit: false, eachMessage: async ({ topic, partition, message }) => onRecord(toRaw(topic, partition, message)) });
  await positioned;
  return { groupId, consumer };
}

export interface LiveTail {
  stop(): Promise<void>;
}

/** Every record of every topic from now on, decoded. */
export async function startLiveTail(kafka: Kafka, log: Logger, onRecord: (record: DescribedRecord, raw: RawRecord) => void): Promise<LiveTail> {
  const { groupId, consumer } = await startThrowAwayConsumer(kafka, 'ops-console-live-', CONSOLE_TOPICS, false, (raw) => {
    try {
      onRecord(describeRecord(raw), raw);
    } catch (err) {
      log.error(
        { topic: raw.topic, partition: raw.partition, offset: raw.offset, err: err instanceof Error ? err.message : String(err) },
        'live record not shown',
      );
    }
  });
  return {
    stop: async () => {
      await consumer.disconnect();
      await deleteGroup(kafka, groupId);
    },
  };
}

/**
 * The dead-letter topic from its beginning, newest `capacity` records kept by position. The
 * topic is small in a healthy pipeline; a flood keeps only the newest.
 */
export class DeadLetterStore {
  private readonly records = new Map<string, RawRecord>();
  private seen = 0;
  private tail?: { groupId: string; consumer: Consumer };

  constructor(
    private readonly kafka: Kafka,
    private readonly capacity = 1000,
  ) {}

  async start(): Promise<void> {
    this.tail = await startThrowAwayConsumer(this.kafka, 'ops-console-dlq-', [DEAD_LETTER_TOPIC], true, (raw) => this.add(raw));
  }

  add(raw: RawRecord): void {
    this.records.set(`${raw.partition}:${raw.offset}`, raw);
    this.seen++;
    if (this.records.size > this.capacity) this.records.delete(this.records.keys().next().value as string);
  }

  get(partition: number, offset: string): RawRecord | undefined {
    return this.records.get(`${partition}:${offset}`);
  }

  /** Newest first by the time they were dead-lettered (arrival order). */
  list(): RawRecord[] {
    return [...this.records.values()].reverse();
  }

  /** Dead letters read since start (the whole topic's count when it fits the capacity). */
  get count(): number {
    return this.seen;
  }

  async stop(): Promise<void> {
    if (!this.tail) return;
    await this.tail.consumer.disconnect();
    await deleteGroup(this.kafka, this.tail.groupId);
  }
}

export interface Timeline {
  records: DescribedRecord[];
  /** False when the time limit ended the read before every partition's end was reached. */
  complete: boolean;
  scanned: number;
  tookMs: number;
}

/**
 * A conversation's every record, read from the beginning of each conversation-keyed topic up to
 * where the topics ended when asked. Costs a full scan (every record of every topic is fetched;
 * only matching keys are decoded), so it is bounded by `timeoutMs` and run on request only.
 */
export async function readConversationTimeline(kafka: Kafka, conversationId: string, timeoutMs = 30_000): Promise<Timeline> {
  const started = Date.now();
  const topicNames = CONSOLE_TOPICS.filter((t) => t !== 'cc.agent.state.v1');
  const admin = kafka.admin();
  await admin.connect();
  const remaining = new Map<string, number>();
  try {
    for (const topic of topicNames) {
      for (const p of await admin.fetchTopicOffsets(topic)) {
        const high = Number(p.high);
        if (high > Number(p.low)) remaining.set(`${topic}:${p.partition}`, high - 1);
      }
    }
  } finally {
    await admin.disconnect();
  }
  const records: DescribedRecord[] = [];
  let scanned = 0;
  if (remaining.size === 0) return { records, complete: true, scanned, tookMs: Date.now() - started };
  let finish!: () => void;
  const done = new Promise<void>((resolve) => (finish = resolve));
  const groupId = `ops-console-timeline-${randomUUID()}`;
  const consumer = kafka.consumer({ groupId, maxWaitTimeInMs: 100, maxBytes: 10 * 1024 * 1024, allowAutoTopicCreation: false });
  await consumer.connect();
  try {
    await consumer.subscribe({ topics: topicNames, fromBeginning: true });
    await consumer.run({
      autoCommit: false,
      eachBatch: async ({ batch }) => {
        const where = `${batch.topic}:${batch.partition}`;
        const last = remaining.get(where);
        if (last === undefined) return;
        for (const message of batch.messages) {
          if (Number(message.offset) > last) break;
          scanned++;
          // Keys are the conversation id on these topics (the original key on dead letters).
          if (message.key?.toString('utf8') !== conversationId) continue;
          const record = describeRecord(toRaw(batch.topic, batch.partition, message));
          if (conversationOf(record) === conversationId) records.push(record);
        }
        if (Number(batch.lastOffset()) >= last) {
          remaining.delete(where);
          if (remaining.size === 0) finish();
        }
      },
    });
    const timer = setTimeout(finish, timeoutMs);
    await done;
    clearTimeout(timer);
  } finally {
    await consumer.disconnect();
    await deleteGroup(kafka, groupId);
  }
  records.sort((a, b) => timeOf(a) - timeOf(b) || a.topic.localeCompare(b.topic) || Number(a.offset) - Number(b.offset));
  return { records, complete: remaining.size === 0, scanned, tookMs: Date.now() - started };
}

function timeOf(record: DescribedRecord): number {
  const t = record.time ? Date.parse(record.time) : NaN;
  return Number.isNaN(t) ? 0 : t;
}

export interface TopicLag {
  group: string;
  topic: string;
  lag: number;
  /** Partitions the group has never committed on: no lag to speak of yet. */
  partitionsWithoutCommit: number;
}

/** Lag of every consumer group on every topic it reads (the console's own groups left out). */
async function lagByGroup(admin: Admin): Promise<Map<string, TopicLag[]>> {
  const { groups } = await admin.listGroups();
  const ends = new Map<string, Map<number, number>>();
  const out = new Map<string, TopicLag[]>();
  for (const { groupId } of groups) {
    if (CONSOLE_GROUP_PREFIXES.some((p) => groupId.startsWith(p))) continue;
    const rows: TopicLag[] = [];
    for (const { topic, partitions } of await admin.fetchOffsets({ groupId })) {
      let topicEnds = ends.get(topic);
      if (!topicEnds) {
        topicEnds = new Map((await admin.fetchTopicOffsets(topic)).map((p) => [p.partition, Number(p.high)]));
        ends.set(topic, topicEnds);
      }
      const committed = partitions.filter((p) => Number(p.offset) >= 0);
      const lag = committed.reduce((sum, p) => sum + Math.max(0, (topicEnds.get(p.partition) ?? 0) - Number(p.offset)), 0);
      rows.push({ group: groupId, topic, lag, partitionsWithoutCommit: partitions.length - committed.length });
    }
    out.set(groupId, rows);
  }
  return out;
}

/** One row per group and topic, as `npm run ops -- lag` prints them. */
export async function topicLag(admin: Admin): Promise<TopicLag[]> {
  return [...(await lagByGroup(admin)).values()].flat();
}

/** Lag per consumer group summed over its topics, for the chart (tests' recorders left out). */
export async function consumerLag(admin: Admin): Promise<GroupLag[]> {
  return [...(await lagByGroup(admin))]
    .filter(([group]) => !group.startsWith('recorder-'))
    .map(([group, rows]) => ({ group, lag: rows.reduce((sum, r) => sum + r.lag, 0) }));
}
