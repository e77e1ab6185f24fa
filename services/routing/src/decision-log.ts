// Writes routing's decisions as Kafka transactions: the changelog records of what changed, the
// events the decisions publish and the input offsets they consumed, all or nothing. One fixed
// transactional id serves whichever instance is active, so a new owner's InitProducerId fences
// the old one: an instance that lost ownership without knowing can never commit again.
import { Partitioners, type Kafka, type Message, type Producer, type Transaction } from 'kafkajs';
import { someInChain } from '#libs/faults';
import { cloudEventHeaders, type TopicSpec } from '#libs/kafka';
import { errorDetails, type Logger } from '#libs/observability';
import { ownerRecord, type ChangelogRecord, type OwnerMarker } from './changelog';

/** One event a decision publishes. */
export interface DecisionRecord {
  topic: TopicSpec<unknown>;
  key: string;
  message: unknown;
  id: string;
  time?: Date;
}

/** The next offset to read of one input partition, committed for the routing group. */
export interface InputOffset {
  topic: string;
  partition: number;
  offset: string;
}

export interface DecisionBatch {
  changelog: ChangelogRecord[];
  events: DecisionRecord[];
  offsets: InputOffset[];
}

/** Another instance opened the transactional id after this one: it routes now, this one must stop. */
export class FencedError extends Error {
  constructor(options?: { cause?: unknown }) {
    super('another routing instance took over (this producer was fenced)', options);
    this.name = 'FencedError';
  }
}

/** A transaction that did not commit, for a reason other than fencing (see `cause`: often transient). */
class TransactionFailedError extends Error {
  constructor(cause: unknown) {
    super(`routing transaction did not commit: ${cause instanceof Error ? cause.message : String(cause)}`, { cause });
    this.name = 'TransactionFailedError';
  }
}

const FENCED = new Set(['INVALID_PRODUCER_EPOCH', 'PRODUCER_FENCED', 'TRANSACTIONAL_ID_AUTHORIZATION_FAILED']);

/** True when the broker refused the producer because a newer one holds the transactional id. */
function isFenced(err: unknown): boolean {
  return someInChain(err, (e) => FENCED.has(String((e as { type?: unknown }).type)));
}

/** Records per produce request stay under the broker's 1 MiB batch limit. */
const MAX_REQUEST_BYTES = 700 * 1024;

export interface DecisionLogOptions {
  transactionalId: string;
  changelogTopic: string;
  /** The routing consumer group whose offsets the transactions commit. */
  groupId: string;
  /** ce_source of the events. */
  source: string;
  logger: Logger;
  /** The trace headers of a record about this key (a conversation's id), if it has a trace. */
  traceHeaders?: (key: string) => Record<string, string> | undefined;
}

export class DecisionLog {
  private producer: Producer | undefined;

  constructor(
    private readonly kafka: Kafka,
    private readonly options: DecisionLogOptions,
  ) {}

  /**
   * Takes the transactional id (fencing any earlier holder and aborting its open transaction)
   * and commits the owner marker; resolves once that marker is committed.
   */
  async open(marker: OwnerMarker): Promise<void> {
    await this.close();
    this.producer = this.kafka.producer({
      transactionalId: this.options.transactionalId,
      idempotent: true,
      maxInFlightRequests: 1,
      allowAutoTopicCreation: false,
      createPartitioner: Partitioners.DefaultPartitioner,
      // The broker answers CONCURRENT_TRANSACTIONS to a transaction begun while the previous
      // commit is still completing; kafkajs' default retries (300 ms, doubling) would add up to
      // hundreds of milliseconds per transaction, so it is asked again every 10 ms instead.
      retry: { initialRetryTime: 10, multiplier: 1, maxRetryTime: 100, retries: 40 },
    });
    await this.producer.connect();
    await this.commit({ changelog: [ownerRecord(marker)], events: [], offsets: [] });
  }

  /** One transaction; FencedError if another instance took over, TransactionFailedError otherwise. */
  async commit(batch: DecisionBatch): Promise<void> {
    const producer = this.producer;
    if (!producer) throw new TransactionFailedError(new Error('the decision log is not open'));
    let transaction;
    try {
      transaction = await producer.transaction();
      for (const request of requests(batch, this.options)) await transaction.sendBatch({ acks: -1, topicMessages: request });
      if (batch.offsets.length > 0) await sendOffsets(transaction, this.options.groupId, batch.offsets);
      await transaction.commit();
    } catch (err) {
      // The producer is dropped either way: after a failed transaction its sequence numbers may
      // not match the broker's, and only a new InitProducerId (by whoever owns routing) is clean.
      // An abort that fails too changes nothing: the next InitProducerId aborts the transaction.
      if (transaction?.isActive())
        await transaction.abort().catch((e: unknown) => this.options.logger.warn(errorDetails(e), 'could not abort the failed routing transaction'));
      await this.close();
      throw isFenced(err) ? new FencedError({ cause: err }) : new TransactionFailedError(err);
    }
  }

  async close(): Promise<void> {
    const producer = this.producer;
    this.producer = undefined;
    await producer?.disconnect().catch((err: unknown) => this.options.logger.warn(errorDetails(err), 'could not close the routing transactional producer'));
  }
}

/**
 * kafkajs retries CONCURRENT_TRANSACTIONS (the previous commit still completing) when sending
 * records but not when adding offsets, so a transaction of offsets alone would fail on it.
 */
async function sendOffsets(transaction: Transaction, groupId: string, offsets: InputOffset[]): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      await transaction.sendOffsets({ consumerGroupId: groupId, topics: offsetsByTopic(offsets) });
      return;
    } catch (err) {
      if ((err as { type?: string }).type !== 'CONCURRENT_TRANSACTIONS' || attempt >= 20) throw err;
      await new Promise((r) => setTimeout(r, Math.min(10 * attempt, 100)));
    }
  }
}

function requests(batch: DecisionBatch, options: DecisionLogOptions): { topic: string; messages: Message[] }[][] {
  const messages: { topic: string; message: Message; size: number }[] = [];
  for (const r of batch.changelog) {
    messages.push({ topic: options.changelogTopic, message: { key: r.key, value: r.value }, size: r.key.length + (r.value?.length ?? 0) + 64 });
  }
  for (const r of batch.events) {
    const value = Buffer.from(r.topic.codec.encode(r.message).finish());
    const headers = cloudEventHeaders(r.topic.type, options.source, r.id, r.time);
    const traced = options.traceHeaders?.(r.key);
    if (traced) Object.assign(headers, traced);
    messages.push({ topic: r.topic.name, message: { key: r.key, value, headers }, size: value.length + r.key.length + 300 });
  }
  const out: { topic: string; messages: Message[] }[][] = [];
  let current = new Map<string, Message[]>();
  let bytes = 0;
  const cut = () => {
    if (current.size) out.push([...current].map(([topic, list]) => ({ topic, messages: list })));
    current = new Map();
    bytes = 0;
  };
  for (const m of messages) {
    if (bytes > 0 && bytes + m.size > MAX_REQUEST_BYTES) cut();
    const list = current.get(m.topic) ?? [];
    list.push(m.message);
    current.set(m.topic, list);
    bytes += m.size;
  }
  cut();
  return out;
}

function offsetsByTopic(offsets: InputOffset[]): { topic: string; partitions: { partition: number; offset: string }[] }[] {
  const byTopic = new Map<string, { partition: number; offset: string }[]>();
  for (const o of offsets) {
    const list = byTopic.get(o.topic) ?? [];
    list.push({ partition: o.partition, offset: o.offset });
    byTopic.set(o.topic, list);
  }
  return [...byTopic].map(([topic, partitions]) => ({ topic, partitions }));
}
