// Tails a compacted topic for one process. Every instance reads the whole topic with a group of
// its own (it never commits): what the topic held at start is handed over in one call before
// `start` resolves, so a service can act on all of it before it serves anything; records
// written later are handed over batch by batch while it tails. Used for erasures and for the
// queues' opening hours.
import { randomUUID } from 'node:crypto';
import type { Consumer, Kafka } from 'kafkajs';
import { retry } from '../faults/retry';
import { errorDetails, type Logger } from '../observability/logger';
import { deleteOwnGroup } from './admin';

/** One record read: its key and value (null for a tombstone), and where it stands. */
export interface TailRecord {
  key: string;
  value: Buffer | null;
  partition: number;
  offset: bigint;
}

/**
 * Told the records read: `initial` for everything the topic held at start (one call, maybe
 * empty), then each later batch. `ends` is where each partition ended at start. A rejection has
 * the batch read again.
 */
export type TailHandler = (records: TailRecord[], initial: boolean, ends: ReadonlyMap<number, bigint>) => Promise<void> | void;

export class CompactedTail {
  private readonly consumer: Consumer;
  private readonly groupId: string;
  /** The next offset read, per partition. */
  private readonly read = new Map<number, bigint>();
  /** Where each partition ended at start, the empty ones too. */
  private ends: Map<number, bigint> | null = null;
  /** Where each partition began at start: one with nothing to read is read up to its end already. */
  private readonly starts = new Map<number, bigint>();
  private initial: TailRecord[] | null = [];
  private caughtUp: (() => void) | null = null;
  private failed: ((err: unknown) => void) | null = null;

  constructor(
    private readonly kafka: Kafka,
    private readonly logger: Logger,
    private readonly topic: string,
    /** Names the reader's own group (`<prefix>-<uuid>`), deleted on stop. */
    groupPrefix: string,
    private readonly onRecords: TailHandler,
  ) {
    this.groupId = `${groupPrefix}-${randomUUID()}`;
    this.consumer = kafka.consumer({ groupId: this.groupId, allowAutoTopicCreation: false, maxWaitTimeInMs: 50 });
  }

  /** Starts tailing; resolves once everything the topic held at start was handed over. */
  async start(): Promise<void> {
    this.ends = await this.topicEnds();
    const done = new Promise<void>((resolve, reject) => {
      this.caughtUp = resolve;
      this.failed = reject;
    });
    // A batch of transaction markers alone (a topic written in transactions, as routing writes
    // the calendars) reaches no handler; kafkajs still reports how far it read.
    this.consumer.on(this.consumer.events.END_BATCH_PROCESS, ({ payload }) => {
      if (this.initial === null || payload.lastOffset === null) return;
      this.readUpTo(payload.partition, payload.lastOffset);
      this.handOverInitialIfRead().catch((err: unknown) => this.failed?.(err));
    });
    await this.consumer.connect();
    await this.consumer.subscribe({ topics: [this.topic], fromBeginning: true });
    // A topic with nothing to read up to: the (empty) initial hand-over is made here.
    await this.handOverInitialIfRead();
    await this.consumer.run({ autoCommit: false, eachBatch: async ({ batch }) => this.batch(batch.partition, batch.messages, batch.lastOffset()) });
    await done;
  }

  async stop(): Promise<void> {
    await this.consumer.disconnect();
    await deleteOwnGroup(this.kafka, this.groupId, this.logger);
  }

  private async batch(partition: number, messages: { key: Buffer | null; value: Buffer | null; offset: string }[], lastOffset: string): Promise<void> {
    const records = messages.map((m) => ({ key: m.key?.toString() ?? '', value: m.value, partition, offset: BigInt(m.offset) }));
    if (this.initial === null) {
      if (records.length) await this.handOver(records, false);
    } else {
      this.initial.push(...records);
    }
    // The batch's last offset counts a transaction's closing marker too, which is no message.
    this.readUpTo(partition, lastOffset);
    await this.handOverInitialIfRead();
  }

  private readUpTo(partition: number, lastOffset: string): void {
    const next = BigInt(lastOffset) + 1n;
    if (next > (this.read.get(partition) ?? 0n)) this.read.set(partition, next);
  }

  /** Once every partition is read up to where it ended at start, the initial records go in one call. */
  private async handOverInitialIfRead(): Promise<void> {
    if (this.initial === null || !this.ends) return;
    for (const [partition, end] of this.ends) if ((this.read.get(partition) ?? this.starts.get(partition) ?? 0n) < end) return;
    await this.handOver(this.initial, true);
    this.initial = null;
    this.caughtUp?.();
  }

  private async handOver(records: TailRecord[], initial: boolean): Promise<void> {
    try {
      await this.onRecords(records, initial, this.ends ?? new Map());
    } catch (err) {
      // Read again by kafkajs (nothing is committed): logged here with how many, never the keys.
      this.logger.error({ ...errorDetails(err), topic: this.topic, records: records.length, initial }, 'could not apply the records read; reading them again');
      throw err;
    }
  }

  private async topicEnds(): Promise<Map<number, bigint>> {
    const admin = this.kafka.admin();
    await admin.connect();
    try {
      // Just after the topic is created (a new broker) its partitions may have no leader yet.
      const offsets = await retry(() => admin.fetchTopicOffsets(this.topic), {
        onRetry: (err, attempt, waitMs) =>
          this.logger.warn({ ...errorDetails(err), topic: this.topic, attempt, waitMs }, 'topic end offsets not known yet; asking again'),
      });
      // Partitions with nothing to read (never written, or emptied) are not waited for.
      for (const p of offsets) this.starts.set(p.partition, BigInt(p.low));
      return new Map(offsets.map((p) => [p.partition, BigInt(p.high)]));
    } finally {
      await admin.disconnect();
    }
  }
}
