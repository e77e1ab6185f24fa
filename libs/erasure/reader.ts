// Tails cc.erasure.v1 for one process. Every instance reads the whole compacted topic with a
// group of its own (it never commits): what the topic held at start is handed over in one call
// before `start` resolves, so a service can drop everything erased before it serves or
// projects anything; erasures made later are handed over batch by batch while it tails.
import { randomUUID } from 'node:crypto';
import type { Consumer, Kafka } from 'kafkajs';
import { retry } from '#libs/faults';
import { deleteOwnGroup, topics } from '#libs/kafka';
import { errorDetails, type Logger } from '#libs/observability';
import type { ErasureNotice } from './subjects';

/**
 * Told the erasures read: `initial` for everything the topic held at start (one call, maybe
 * empty), then each later batch. A rejection has the batch read again.
 */
export type ErasureHandler = (notices: ErasureNotice[], initial: boolean) => Promise<void> | void;

export class ErasureReader {
  private readonly consumer: Consumer;
  private readonly groupId: string;
  /** The next offset read, per partition. */
  private readonly read = new Map<number, bigint>();
  private ends: Map<number, bigint> | null = null;
  private initial: ErasureNotice[] | null = [];
  private caughtUp: (() => void) | null = null;

  constructor(
    private readonly kafka: Kafka,
    private readonly logger: Logger,
    /** Names the reader's own group (`<prefix>-erasures-<uuid>`), deleted on stop. */
    groupPrefix: string,
    private readonly onErasures: ErasureHandler,
  ) {
    this.groupId = `${groupPrefix}-erasures-${randomUUID()}`;
    this.consumer = kafka.consumer({ groupId: this.groupId, allowAutoTopicCreation: false, maxWaitTimeInMs: 50 });
  }

  /** Starts tailing; resolves once everything the topic held at start was handed over. */
  async start(): Promise<void> {
    this.ends = await this.topicEnds();
    const done = new Promise<void>((resolve) => (this.caughtUp = resolve));
    await this.consumer.connect();
    await this.consumer.subscribe({ topics: [topics.erasures.name], fromBeginning: true });
    // An empty topic has nothing to read up to: the (empty) initial hand-over is made here.
    if (this.ends.size === 0) await this.handOverInitialIfRead();
    await this.consumer.run({ autoCommit: false, eachBatch: async ({ batch }) => this.batch(batch.partition, batch.messages) });
    await done;
  }

  async stop(): Promise<void> {
    await this.consumer.disconnect();
    await deleteOwnGroup(this.kafka, this.groupId, this.logger);
  }

  private async batch(partition: number, messages: { offset: string; value: Buffer | null }[]): Promise<void> {
    const notices: ErasureNotice[] = [];
    for (const message of messages) {
      if (!message.value) continue;
      const record = topics.erasures.codec.decode(message.value);
      if (record.subjectKey && record.erasedAt) notices.push({ subjectKey: record.subjectKey, erasedAt: record.erasedAt });
    }
    const last = messages.at(-1);
    if (this.initial === null) {
      if (notices.length) await this.handOver(notices, false);
    } else {
      this.initial.push(...notices);
    }
    if (last) this.read.set(partition, BigInt(last.offset) + 1n);
    await this.handOverInitialIfRead();
  }

  /** Once every partition is read up to where it ended at start, the initial erasures go in one call. */
  private async handOverInitialIfRead(): Promise<void> {
    if (this.initial === null || !this.ends) return;
    for (const [partition, end] of this.ends) if ((this.read.get(partition) ?? 0n) < end) return;
    await this.handOver(this.initial, true);
    this.logger.info({ erasures: this.initial.length }, 'erasures read');
    this.initial = null;
    this.caughtUp?.();
  }

  private async handOver(notices: ErasureNotice[], initial: boolean): Promise<void> {
    try {
      await this.onErasures(notices, initial);
    } catch (err) {
      // Read again by kafkajs (nothing is committed): logged here with how many, never the keys.
      this.logger.error({ ...errorDetails(err), erasures: notices.length, initial }, 'could not apply erasures; reading them again');
      throw err;
    }
  }

  private async topicEnds(): Promise<Map<number, bigint>> {
    const admin = this.kafka.admin();
    await admin.connect();
    try {
      // Just after the topic is created (a new broker) its partitions may have no leader yet.
      const offsets = await retry(() => admin.fetchTopicOffsets(topics.erasures.name), {
        onRetry: (err, attempt, waitMs) => this.logger.warn({ ...errorDetails(err), attempt, waitMs }, 'erasure topic end offsets not known yet; asking again'),
      });
      // Partitions with nothing to read (never written, or emptied) are not waited for.
      return new Map(offsets.filter((p) => BigInt(p.high) > BigInt(p.low)).map((p) => [p.partition, BigInt(p.high)]));
    } finally {
      await admin.disconnect();
    }
  }
}
