// The one way services write to Kafka: idempotent, acks from all in-sync replicas, and
// batched naturally (everything published while a request is in flight goes in the next one),
// so one caller waits about one round trip and many callers share requests.
import { Partitioners, type IHeaders, type Kafka, type Producer } from 'kafkajs';
import type { Registry } from 'prom-client';
import type { Counter, Histogram } from 'prom-client';
import { someInChain } from '../faults';
import { backoffMs } from '../faults/retry';
import type { Logger } from '../observability/logger';
import { sharedCounter, sharedHistogram } from '../observability/metrics';
import { cloudEventHeaders } from './cloudevents';
import type { TopicSpec } from './topics';
import { publishInSpan } from './tracing';

export class KafkaUnavailableError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'KafkaUnavailableError';
  }
}

export interface PublishOptions {
  /** The event's ce_id; give a stable one when the same input may be published again (channel retries). */
  id?: string;
  time?: Date;
  headers?: Record<string, string>;
}

export interface Published {
  id: string;
  topic: string;
}

interface Pending {
  topic: string;
  message: { key: string | null; value: Buffer; headers: IHeaders };
  resolve: () => void;
  reject: (err: Error) => void;
  timer: NodeJS.Timeout;
  settled: boolean;
}

export interface EventProducerOptions {
  /** ce_source of every event, for example "contactcenter/email/host-1". */
  source: string;
  /** How long a publish may wait for the broker before the caller is told it failed. */
  publishTimeoutMs?: number;
  /** Upper bounds of one request: records, and bytes (keep under the broker's message.max.bytes, 1 MiB by default). */
  maxBatch?: number;
  maxBatchBytes?: number;
  metrics?: Registry;
  logger?: Logger;
}

/**
 * Broker answers after which this producer id can write no more (a partition's leader moved and
 * lost the producer's sequence state, the producer id expired): only a new id writes again.
 */
const NEEDS_NEW_PRODUCER_ID = new Set(['OUT_OF_ORDER_SEQUENCE_NUMBER', 'UNKNOWN_PRODUCER_ID', 'INVALID_PRODUCER_EPOCH']);

/** True when the error, or one it wraps, is one of those answers. */
export function needsNewProducerId(err: unknown): boolean {
  return someInChain(err, (e) => NEEDS_NEW_PRODUCER_ID.has(String((e as { type?: unknown }).type)));
}

export class EventProducer {
  private producer: Producer;
  /** Set while the producer is replaced by one with a new producer id; nothing is sent meanwhile. */
  private renewing?: Promise<void>;
  private readonly queue: Pending[] = [];
  private sending = false;
  private connected = false;
  private readonly timeoutMs: number;
  private readonly maxBatch: number;
  private readonly maxBatchBytes: number;
  private readonly published?: Counter<'topic' | 'outcome'>;
  private readonly latency?: Histogram<'topic'>;

  constructor(
    private readonly kafka: Kafka,
    private readonly options: EventProducerOptions,
  ) {
    this.producer = this.newProducer();
    this.timeoutMs = options.publishTimeoutMs ?? 5000;
    this.maxBatch = options.maxBatch ?? 5000;
    this.maxBatchBytes = options.maxBatchBytes ?? 768 * 1024;
    if (options.metrics) {
      this.published = sharedCounter(options.metrics, {
        name: 'cc_kafka_published_total',
        help: 'Records published, by topic and outcome',
        labelNames: ['topic', 'outcome'],
      });
      this.latency = sharedHistogram(options.metrics, {
        name: 'cc_kafka_publish_seconds',
        help: 'Time from publish() to the broker acknowledgement',
        labelNames: ['topic'],
        buckets: [0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1, 5],
      });
    }
  }

  private newProducer(): Producer {
    return this.kafka.producer({
      idempotent: true,
      maxInFlightRequests: 1,
      allowAutoTopicCreation: false,
      // murmur2, as the Java client: the same key lands on the same partition from any client.
      createPartitioner: Partitioners.DefaultPartitioner,
      // An idempotent producer keeps retrying; callers are bounded by publishTimeoutMs instead.
      retry: { initialRetryTime: 100, maxRetryTime: 2000, retries: Number.MAX_SAFE_INTEGER },
    });
  }

  /**
   * Replaces the producer by one with a new producer id, connecting until the broker answers.
   * What failed was refused to its callers (they retry with the same ce_id); what waits in the
   * queue goes out through the new producer.
   */
  private renew(cause: unknown): void {
    if (this.renewing) return;
    this.options.logger?.warn({ err: errorMessage(cause) }, 'producer id refused by the broker; starting a new producer');
    const old = this.producer;
    this.producer = this.newProducer();
    this.renewing = (async () => {
      await old.disconnect().catch((err: unknown) => this.options.logger?.warn({ err: errorMessage(err) }, 'closing the refused producer failed'));
      for (let attempt = 1; this.connected; attempt++) {
        try {
          await this.producer.connect();
          return;
        } catch (err) {
          this.options.logger?.warn({ attempt, err: errorMessage(err) }, 'new producer could not connect; retrying');
          await new Promise((r) => setTimeout(r, backoffMs(attempt)));
        }
      }
    })().finally(() => {
      this.renewing = undefined;
      this.flush();
    });
  }

  get isConnected(): boolean {
    return this.connected;
  }

  async connect(): Promise<void> {
    await this.producer.connect();
    this.connected = true;
  }

  /** Waits for what is queued, then disconnects. */
  async disconnect(): Promise<void> {
    const deadline = Date.now() + this.timeoutMs;
    while ((this.sending || this.queue.length > 0) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    this.connected = false;
    await this.renewing;
    await this.producer.disconnect();
  }

  /** Resolves once the broker acknowledged the record; rejects with KafkaUnavailableError otherwise. */
  async publish<T>(topic: TopicSpec<T>, key: string, message: T, options: PublishOptions = {}): Promise<Published> {
    const headers = cloudEventHeaders(topic.type, this.options.source, options.id, options.time);
    const value = Buffer.from(topic.codec.encode(message).finish());
    await publishInSpan(topic.name, headers, () => this.publishRaw(topic.name, key, value, { ...options.headers, ...headers }));
    return { id: headers.ce_id, topic: topic.name };
  }

  /** Writes bytes as they are (dead letters, replays). */
  publishRaw(topic: string, key: string | null, value: Buffer, headers: IHeaders): Promise<void> {
    const started = process.hrtime.bigint();
    return new Promise<void>((resolve, reject) => {
      const pending: Pending = {
        topic,
        message: { key, value, headers },
        settled: false,
        resolve: () => {
          this.latency?.observe({ topic }, Number(process.hrtime.bigint() - started) / 1e9);
          this.published?.inc({ topic, outcome: 'acknowledged' });
          resolve();
        },
        reject: (err) => {
          this.published?.inc({ topic, outcome: 'failed' });
          reject(err);
        },
        timer: setTimeout(() => {
          const index = this.queue.indexOf(pending);
          if (index >= 0) this.queue.splice(index, 1);
          settle(pending, new KafkaUnavailableError(`Kafka did not acknowledge a write to ${topic} within ${this.timeoutMs} ms`));
        }, this.timeoutMs),
      };
      this.queue.push(pending);
      this.flush();
    });
  }

  private flush(): void {
    if (this.sending || this.renewing || this.queue.length === 0) return;
    this.sending = true;
    let count = 0;
    let bytes = 0;
    while (count < this.queue.length && count < this.maxBatch) {
      bytes += recordSize(this.queue[count]!.message);
      if (count > 0 && bytes > this.maxBatchBytes) break;
      count++;
    }
    const batch = this.queue.splice(0, count);
    const byTopic = new Map<string, Pending['message'][]>();
    for (const p of batch) {
      const list = byTopic.get(p.topic) ?? [];
      list.push(p.message);
      byTopic.set(p.topic, list);
    }
    this.producer
      .sendBatch({ acks: -1, topicMessages: [...byTopic].map(([topic, messages]) => ({ topic, messages })) })
      .then(
        () => batch.forEach((p) => settle(p)),
        (err: unknown) => {
          batch.forEach((p) => settle(p, new KafkaUnavailableError(`Kafka refused a write to ${p.topic}: ${errorMessage(err)}`, { cause: err })));
          if (needsNewProducerId(err)) this.renew(err);
        },
      )
      .finally(() => {
        this.sending = false;
        this.flush();
      });
  }
}

function settle(p: Pending, err?: Error): void {
  if (p.settled) return;
  p.settled = true;
  clearTimeout(p.timer);
  if (err) p.reject(err);
  else p.resolve();
}

function recordSize(message: Pending['message']): number {
  let size = message.value.length + (message.key?.length ?? 0) + 64;
  for (const [name, value] of Object.entries(message.headers)) size += name.length + String(value).length;
  return size;
}

function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
