// Typed consumers: decode each record into its protobuf message, skip what was already
// handled (same ce_id), and run the handler. A handler failing because a dependency is down
// (transient, see libs/faults) is retried without limit, in order, while the consumer reports
// itself not ready; any other failure is retried a few times and then sent to the dead-letter
// topic with the reason, so one bad record never stops a partition.
import type { Consumer, EachBatchPayload, IHeaders, Kafka, KafkaMessage, PartitionAssigner } from 'kafkajs';
import type { Registry } from 'prom-client';
import type { Counter } from 'prom-client';
import { backoffMs, isTransient, sleepUnless, type BackoffOptions } from '../faults';
import { sharedCounter } from '../observability/metrics';
import type { Logger } from '../observability/logger';
import { errorDetails } from '../observability/logger';
import type { ReadinessState } from '../observability/http';
import { type CloudEventAttributes, readCloudEvent } from './cloudevents';
import { ConsumerHealth, keepBeating, type WaitingRecord } from './consumer-health';
import { LagRefresh } from './lag-refresh';
import type { EventProducer } from './producer';
import { DEAD_LETTER_TOPIC, type TopicSpec } from './topics';

import { InvalidEventError, RetryLaterError } from './errors';

export { InvalidEventError, RetryLaterError };

export interface ConsumedEvent<T> {
  value: T;
  event: CloudEventAttributes;
  topic: string;
  partition: number;
  offset: string;
  key: string | null;
  headers: IHeaders;
}

export type EventHandler<T> = (event: ConsumedEvent<T>) => Promise<void> | void;

/** Where a batch ends. */
export interface BatchPosition {
  topic: string;
  partition: number;
  /** The offset after the batch's last record: what a transaction commits for the group. */
  offset: string;
}

/**
 * Handles the decoded records of one fetched batch of a partition at once (duplicates and
 * undecodable records taken out; possibly none). A failure that is not transient (including
 * InvalidEventError) is retried record by record, so one bad record is dead-lettered alone.
 */
export type BatchHandler<T> = (events: ConsumedEvent<T>[], position: BatchPosition) => Promise<void>;

/** Remembers handled event ids. Services with a store can keep them there to survive restarts. */
export interface DedupStore {
  has(id: string): boolean | Promise<boolean>;
  add(id: string): void | Promise<void>;
}

/** Bounded in-memory memory of recent ids, oldest forgotten first. */
class RecentIds implements DedupStore {
  private readonly ids = new Set<string>();
  constructor(private readonly capacity = 200_000) {}
  has(id: string): boolean {
    return this.ids.has(id);
  }
  add(id: string): void {
    this.ids.add(id);
    if (this.ids.size > this.capacity) this.ids.delete(this.ids.values().next().value as string);
  }
}

export interface EventConsumerOptions {
  groupId: string;
  logger: Logger;
  /** Writes dead letters. */
  producer: EventProducer;
  /** Where a new consumer group starts: true for projections that need the whole log. */
  fromBeginning?: boolean;
  /** Attempts at a record whose handler fails for a reason that is not transient, before it is dead-lettered. */
  maxAttempts?: number;
  backoffMs?: number;
  /** Back-off between attempts while a dependency is down (default 200 ms doubling to 5 s, 20 % jitter). */
  transientBackoff?: BackoffOptions;
  dedup?: DedupStore;
  metrics?: Registry;
  partitionsConsumedConcurrently?: number;
  /**
   * How long the broker may hold a fetch that has nothing to return. Short keeps the round
   * trip low (an idle consumer then asks this often); raise it for many idle consumers.
   */
  maxWaitMs?: number;
  /** Group membership timing; shorter hands partitions over sooner when a member dies. */
  sessionTimeoutMs?: number;
  heartbeatIntervalMs?: number;
  rebalanceTimeoutMs?: number;
  /** Replaces round-robin, e.g. to give every partition to one member. */
  partitionAssigners?: PartitionAssigner[];
  /** How often the lag of a partition held by a waiting record is refreshed from the broker (default 10 s). */
  lagRefreshMs?: number;
  /**
   * False when the handlers commit the group's offsets themselves, inside a Kafka transaction
   * with what they write (`sendOffsets`); the consumer then never commits. Default true.
   */
  commitOffsets?: boolean;
}

export interface RouteOptions {
  /** Records to pass by unread, told by their headers (cheaper than decoding what is not wanted). */
  ignore?: (headers: IHeaders) => boolean;
}

type Route = { spec: TopicSpec<unknown>; handler?: EventHandler<unknown>; batchHandler?: BatchHandler<unknown> } & RouteOptions;

/** What a record's handling needs from its batch: heartbeats, and whether to keep going. */
interface BatchControl {
  heartbeat: () => Promise<void>;
  keepGoing: () => boolean;
}

export class EventConsumer {
  private readonly consumer: Consumer;
  private readonly routes = new Map<string, Route>();
  private readonly dedup: DedupStore;
  private readonly maxAttempts: number;
  private readonly backoffMs: number;
  private readonly log: Logger;
  private readonly counted?: Counter<'topic' | 'outcome' | 'group'>;
  private readonly health: ConsumerHealth;
  private running = false;
  private stopping = false;
  private readonly kafka: Kafka;
  private lagRefresh?: LagRefresh;

  constructor(
    kafka: Kafka,
    private readonly options: EventConsumerOptions,
  ) {
    this.kafka = kafka;
    this.consumer = kafka.consumer({
      groupId: options.groupId,
      // Low latency: answer a fetch as soon as one byte is there, and do not idle long.
      minBytes: 1,
      maxWaitTimeInMs: options.maxWaitMs ?? 5,
      sessionTimeout: options.sessionTimeoutMs ?? 15000,
      heartbeatInterval: options.heartbeatIntervalMs ?? 1500,
      rebalanceTimeout: options.rebalanceTimeoutMs ?? 20000,
      allowAutoTopicCreation: false,
      ...(options.partitionAssigners ? { partitionAssigners: options.partitionAssigners } : {}),
    });
    this.dedup = options.dedup ?? new RecentIds();
    this.maxAttempts = options.maxAttempts ?? 5;
    this.backoffMs = options.backoffMs ?? 200;
    this.log = options.logger.child({ component: 'consumer', group: options.groupId });
    this.health = new ConsumerHealth(options.groupId, this.log, options.metrics);
    this.consumer.on(this.consumer.events.GROUP_JOIN, () => this.health.forgetLag());
    if (options.metrics) {
      this.counted = sharedCounter(options.metrics, {
        name: 'cc_kafka_consumed_total',
        help: 'Records consumed, by consumer group, topic and outcome (handled, duplicate, dead_lettered)',
        labelNames: ['group', 'topic', 'outcome'],
      });
    }
  }

  private get commits(): boolean {
    return this.options.commitOffsets ?? true;
  }

  get isRunning(): boolean {
    return this.running;
  }

  /** Ready while running and no record waits on a dependency; otherwise why not (for /readyz). */
  readiness(): ReadinessState {
    return this.health.readiness(this.running);
  }

  /** The kafkajs consumer, to follow group events (join, heartbeat, crash). */
  get kafkaConsumer(): Consumer {
    return this.consumer;
  }

  on<T>(spec: TopicSpec<T>, handler: EventHandler<T>): this {
    this.routes.set(spec.name, { spec: spec as TopicSpec<unknown>, handler: handler as EventHandler<unknown> });
    return this;
  }

  /** Like `on`, but the handler gets each fetched batch of a partition whole (see BatchHandler). */
  onBatch<T>(spec: TopicSpec<T>, handler: BatchHandler<T>, options: RouteOptions = {}): this {
    this.routes.set(spec.name, { spec: spec as TopicSpec<unknown>, batchHandler: handler as BatchHandler<unknown>, ...options });
    return this;
  }

  /** Connects, subscribes and resolves once the group is joined and its start positions are fixed. */
  async start(): Promise<void> {
    this.stopping = false;
    await this.consumer.connect();
    await this.consumer.subscribe({ topics: [...this.routes.keys()], fromBeginning: this.options.fromBeginning ?? false });
    const positioned = firstFetchAfterJoin(this.consumer);
    await this.consumer.run({
      partitionsConsumedConcurrently: this.options.partitionsConsumedConcurrently ?? 3,
      autoCommit: this.commits,
      eachBatchAutoResolve: false,
      eachBatch: (payload) => this.handleBatch(payload),
    });
    await positioned;
    this.running = true;
    if (this.options.metrics) this.lagRefresh = new LagRefresh(this.kafka, this.health, this.log, this.options.lagRefreshMs ?? 10_000);
  }

  /** Stops fetching, commits what was handled and leaves the group. */
  async stop(): Promise<void> {
    this.running = false;
    // A record waiting on a dependency sees this within half a second and is left for later.
    this.stopping = true;
    await this.lagRefresh?.stop();
    this.lagRefresh = undefined;
    await this.consumer.disconnect();
  }

  private async handleBatch(payload: EachBatchPayload): Promise<void> {
    const { batch, heartbeat, isRunning, isStale } = payload;
    const route = this.routes.get(batch.topic);
    if (!route) throw new Error(`no handler for topic ${batch.topic}`);
    const first = batch.messages[0];
    if (first) this.health.lag(batch.topic, batch.partition, batch.highWatermark, first.offset);
    // Heartbeats go on while a handler is busy (a store that does not answer for seconds), so the
    // group does not evict this member and a waiting record keeps its partition here.
    const beat = keepBeating(heartbeat, this.options.heartbeatIntervalMs ?? 1500);
    const control: BatchControl = { heartbeat, keepGoing: () => !this.stopping && isRunning() && !isStale() && !beat.failed };
    try {
      if (route.batchHandler) await this.handleWholeBatch(payload, route, control);
      else await this.handleBatchInOrder(payload, route, control);
    } finally {
      beat.stop();
    }
    beat.rethrow();
  }

  private async handleBatchInOrder(
    { batch, resolveOffset, heartbeat, commitOffsetsIfNecessary }: EachBatchPayload,
    route: Route,
    control: BatchControl,
  ): Promise<void> {
    for (const message of batch.messages) {
      if (!control.keepGoing()) break;
      try {
        await this.handleMessage(route, batch.topic, batch.partition, message, control);
      } catch (err) {
        if (!(err instanceof RetryLaterError)) throw err;
        // Left unresolved: the next fetch starts from this record again.
        this.log.debug({ topic: batch.topic, partition: batch.partition, offset: message.offset, reason: err.message }, 'record left for later');
        await sleep(100);
        break;
      }
      resolveOffset(message.offset);
      this.health.lag(batch.topic, batch.partition, batch.highWatermark, String(Number(message.offset) + 1));
      await heartbeat();
    }
    if (this.commits) await commitOffsetsIfNecessary();
  }

  /**
   * The batch handler gets every decodable new record of the batch; the batch counts as handled
   * (offsets resolved) only when it succeeds. A permanent failure is retried record by record.
   */
  private async handleWholeBatch({ batch, resolveOffset, commitOffsetsIfNecessary }: EachBatchPayload, route: Route, control: BatchControl): Promise<void> {
    const { topic, partition, messages } = batch;
    const last = messages[messages.length - 1];
    if (!last) return;
    const entries: { consumed: ConsumedEvent<unknown>; message: KafkaMessage }[] = [];
    for (const message of messages) {
      const consumed = await this.decode(route, topic, partition, message);
      if (consumed) entries.push({ consumed, message });
    }
    const position = (offset: string): BatchPosition => ({ topic, partition, offset });
    const whole = { topic, partition, offset: messages[0]!.offset };
    const end = String(Number(last.offset) + 1);
    try {
      const outcome = await this.runHandler(
        whole,
        () =>
          route.batchHandler!(
            entries.map((e) => e.consumed),
            position(end),
          ),
        control,
        async () => 'split' as const,
      );
      if (outcome === 'split') {
        // One record at a time, each dead-lettered alone if it keeps failing.
        for (const { consumed, message } of entries) {
          const where = { topic, partition, offset: message.offset };
          const handled = await this.runHandler(
            where,
            () => route.batchHandler!([consumed], position(String(Number(message.offset) + 1))),
            control,
            (reason, err, attempts) => this.deadLetter(topic, partition, message, reason, err, attempts),
          );
          if (handled === 'handled') await this.remember(consumed);
          resolveOffset(message.offset);
        }
        // A transaction also moves the group past the records just dead-lettered.
        if (!this.commits)
          await this.runHandler(
            whole,
            () => route.batchHandler!([], position(end)),
            control,
            async () => undefined,
          );
      } else {
        for (const { consumed } of entries) await this.remember(consumed);
      }
    } catch (err) {
      if (!(err instanceof RetryLaterError)) throw err;
      this.log.debug({ topic, partition, offset: whole.offset, reason: err.message }, 'batch left for later');
      await sleep(100);
      return;
    }
    resolveOffset(last.offset);
    this.health.lag(topic, partition, batch.highWatermark, end);
    if (this.commits) await commitOffsetsIfNecessary();
  }

  private async handleMessage(route: Route, topic: string, partition: number, message: KafkaMessage, control: BatchControl): Promise<void> {
    const consumed = await this.decode(route, topic, partition, message);
    if (!consumed) return;
    const where = { topic, partition, offset: message.offset };
    const handled = await this.runHandler(
      where,
      () => route.handler!(consumed),
      control,
      (reason, err, attempt) => this.deadLetter(topic, partition, message, reason, err, attempt),
    );
    if (handled === 'handled') await this.remember(consumed);
  }

  /** The record decoded and checked, or undefined when it was dead-lettered or already handled. */
  private async decode(route: Route, topic: string, partition: number, message: KafkaMessage): Promise<ConsumedEvent<unknown> | undefined> {
    const headers = message.headers ?? {};
    if (route.ignore?.(headers)) return undefined;
    let event: CloudEventAttributes;
    let value: unknown;
    try {
      event = readCloudEvent(headers);
      if (event.type !== route.spec.type) throw new Error(`ce_type is ${event.type}, expected ${route.spec.type}`);
      if (!message.value) throw new Error('record has no value');
      value = route.spec.codec.decode(message.value);
    } catch (err) {
      await this.deadLetter(topic, partition, message, 'undecodable', err);
      return undefined;
    }
    if (await this.dedup.has(`${topic}/${event.id}`)) {
      this.counted?.inc({ group: this.options.groupId, topic, outcome: 'duplicate' });
      return undefined;
    }
    return { value, event, topic, partition, offset: message.offset, key: message.key?.toString('utf8') ?? null, headers };
  }

  private async remember(consumed: ConsumedEvent<unknown>): Promise<void> {
    await this.dedup.add(`${consumed.topic}/${consumed.event.id}`);
    this.counted?.inc({ group: this.options.groupId, topic: consumed.topic, outcome: 'handled' });
  }

  /**
   * Runs `attempt` until it succeeds ('handled') or gives up: an invalid record, or one still
   * failing after the attempts, goes to `giveUp` (which says what happened instead). While the
   * failure is transient it waits without limit; the stop of the service ends the wait with
   * RetryLaterError, leaving the record for the next fetch.
   */
  private async runHandler<T>(
    where: { topic: string; partition: number; offset: string },
    attempt: () => Promise<void> | void,
    control: BatchControl,
    giveUp: (reason: 'invalid' | 'handler-failed', err: unknown, attempts?: number) => Promise<T>,
  ): Promise<'handled' | T> {
    let failures = 0;
    let waiting: WaitingRecord | undefined;
    const ended = this.health.handling(where);
    try {
      for (let attempts = 1; ; attempts++) {
        try {
          await attempt();
          if (waiting) this.health.done(waiting, true);
          return 'handled';
        } catch (err) {
          if (err instanceof RetryLaterError) throw err;
          if (err instanceof InvalidEventError) return await giveUp('invalid', err);
          if (isTransient(err)) {
            waiting = this.health.wait(waiting, where, err);
            const wait = backoffMs(waiting.attempts, this.options.transientBackoff ?? { initialMs: this.backoffMs, maxMs: 5000, jitter: 0.2 });
            if (!(await sleepUnless(wait, control.keepGoing))) throw new RetryLaterError(`stopped while waiting for a dependency: ${waiting.error}`);
            continue;
          }
          failures += 1;
          if (failures >= this.maxAttempts) return await giveUp('handler-failed', err, attempts);
          this.log.warn({ ...where, attempt: attempts, ...errorDetails(err) }, 'handler failed; retrying');
          await sleep(Math.min(this.backoffMs * 2 ** (failures - 1), 10_000));
          await control.heartbeat();
        }
      }
    } finally {
      ended();
      if (waiting) this.health.done(waiting, false);
    }
  }

  private async deadLetter(topic: string, partition: number, message: KafkaMessage, reason: string, err: unknown, attempts?: number): Promise<void> {
    const detail = err instanceof Error ? err.message : String(err);
    this.log.error({ topic, partition, offset: message.offset, reason, detail, attempts }, 'record sent to the dead-letter topic');
    const headers: IHeaders = {
      ...(message.headers ?? {}),
      dlq_reason: reason,
      dlq_detail: detail.slice(0, 1000),
      dlq_topic: topic,
      dlq_partition: String(partition),
      dlq_offset: message.offset,
      dlq_consumer_group: this.options.groupId,
      dlq_time: new Date().toISOString(),
    };
    if (attempts) headers.dlq_attempts = String(attempts);
    // If this write fails the batch fails and the record is fetched again: nothing is dropped.
    await this.options.producer.publishRaw(DEAD_LETTER_TOPIC, message.key?.toString('utf8') ?? null, message.value ?? Buffer.alloc(0), headers);
    this.counted?.inc({ group: this.options.groupId, topic, outcome: 'dead_lettered' });
  }
}

/**
 * Resolves after the first fetch that follows joining the group: a new group fixes its start
 * offsets on that fetch, so anything written afterwards is certain to be consumed.
 */
export function firstFetchAfterJoin(consumer: Consumer): Promise<void> {
  return new Promise((resolve) => {
    const removeJoin = consumer.on(consumer.events.GROUP_JOIN, () => {
      removeJoin();
      const removeFetch = consumer.on(consumer.events.FETCH, () => {
        removeFetch();
        resolve();
      });
    });
  });
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
