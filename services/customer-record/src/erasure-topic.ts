// cc.erasure.v1 into this process's ErasedSubjects. Every instance reads the whole compacted topic
// with a group of its own (it never commits), and the projection and the search index start only
// once it has read up to the end the topic had at start: a replay never applies a record of an
// erased customer, not even for a moment. Erasures made later arrive while it tails the topic.
import { randomUUID } from 'node:crypto';
import type { Consumer, Kafka } from 'kafkajs';
import { retry } from '#libs/faults';
import { deleteOwnGroup, topics, type EventProducer } from '#libs/kafka';
import type { Logger } from '#libs/observability';
import type { ErasedSubjects } from './erasure';

export class ErasureTopic {
  private readonly consumer: Consumer;
  private readonly groupId = `customer-record-erasures-${randomUUID()}`;
  /** The next offset read, per partition. */
  private readonly read = new Map<number, bigint>();
  private waiting: (() => boolean)[] = [];

  constructor(
    private readonly kafka: Kafka,
    private readonly producer: EventProducer,
    readonly erased: ErasedSubjects,
    private readonly logger: Logger,
  ) {
    this.consumer = kafka.consumer({ groupId: this.groupId, allowAutoTopicCreation: false, maxWaitTimeInMs: 50 });
  }

  /** Starts tailing; resolves once everything the topic held at start is in `erased`. */
  async start(): Promise<void> {
    const ends = await this.ends();
    await this.consumer.connect();
    await this.consumer.subscribe({ topics: [topics.erasures.name], fromBeginning: true });
    await this.consumer.run({
      autoCommit: false,
      eachBatch: async ({ batch }) => {
        for (const message of batch.messages) {
          if (message.value) {
            const record = topics.erasures.codec.decode(message.value);
            if (record.subjectKey && record.erasedAt) this.erased.add(record.subjectKey, record.erasedAt);
          }
          this.read.set(batch.partition, BigInt(message.offset) + 1n);
        }
        this.wake();
      },
    });
    await new Promise<void>((resolve) => {
      const done = () => [...ends].every(([partition, end]) => (this.read.get(partition) ?? 0n) >= end);
      if (done()) return resolve();
      this.waiting.push(() => {
        if (!done()) return false;
        resolve();
        return true;
      });
    });
    this.logger.info({ erasedSubjects: this.erased.size }, 'erasures read; projections may start');
  }

  /** Publishes an erasure's subjects (acknowledged by the broker), and applies them here at once. */
  async publish(erasureId: string, subjectKeys: readonly string[], erasedAt: Date): Promise<void> {
    for (const key of subjectKeys) {
      await this.producer.publish(topics.erasures, key, { subjectKey: key, erasedAt, erasureId }, { id: `${erasureId}:${key.slice(0, 16)}`, time: erasedAt });
      this.erased.add(key, erasedAt);
    }
  }

  async stop(): Promise<void> {
    await this.consumer.disconnect();
    await deleteOwnGroup(this.kafka, this.groupId, this.logger);
  }

  private async ends(): Promise<Map<number, bigint>> {
    const admin = this.kafka.admin();
    await admin.connect();
    try {
      // Just after the topic is created (a new broker) its partitions may have no leader yet.
      const offsets = await retry(() => admin.fetchTopicOffsets(topics.erasures.name), {
        attempts: 8,
        onRetry: (err, attempt, waitMs) => this.logger.warn({ err, attempt, waitMs }, 'erasure topic end offsets not known yet; asking again'),
      });
      return new Map(offsets.map((p) => [p.partition, BigInt(p.high)]));
    } finally {
      await admin.disconnect();
    }
  }

  private wake(): void {
    this.waiting = this.waiting.filter((w) => !w());
  }
}
