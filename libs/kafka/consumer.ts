// Typed consumers: decode each record into its protobuf message, skip what was already
// handled (same ce_id), and run the handler. A handler failing because a dependency is down
// (transient, see libs/faults) is retried without limit, in order, while the consumer reports
// itself not ready; any other failure is retried a few times and then sent to the dead-letter
// topic with the reason, so one bad record never stops a partition. The parts: consumer-types
// (what users see), dedup, consumer-records (decoding, dead letters), consumer-attempts (retry
// or give up), consumer-batches (a fetched batch, in order or whole); this class runs kafkajs.
import type { Consumer, EachBatchPayload, Kafka } from 'kafkajs';
import { sharedCounter } from '../observability/metrics';
import type { Logger } from '../observability/logger';
import type { ReadinessState } from '../observability/http';
import { HandlerAttempts } from './consumer-attempts';
import { BatchHandling } from './consumer-batches';
import { ConsumerHealth, keepBeating } from './consumer-health';
import { ConsumedRecords, type ConsumedCounter } from './consumer-records';
import type { BatchControl, BatchHandler, EventConsumerOptions, EventHandler, Route, RouteOptions } from './consumer-types';
import { RecentIds } from './dedup';
import { LagRefresh } from './lag-refresh';
import type { TopicSpec } from './topics';

import { InvalidEventError, RetryLaterError } from './errors';

export { InvalidEventError, RetryLaterError };
export type { BatchHandler, BatchPosition, ConsumedEvent, EventConsumerOptions, EventHandler, RouteOptions } from './consumer-types';
export type { DedupStore } from './dedup';

export class EventConsumer {
  private readonly consumer: Consumer;
  private readonly routes = new Map<string, Route>();
  private readonly log: Logger;
  private readonly health: ConsumerHealth;
  private readonly batches: BatchHandling;
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
    this.log = options.logger.child({ component: 'consumer', group: options.groupId });
    this.health = new ConsumerHealth(options.groupId, this.log, options.metrics);
    this.consumer.on(this.consumer.events.GROUP_JOIN, () => this.health.forgetLag());
    let counted: ConsumedCounter | undefined;
    if (options.metrics) {
      counted = sharedCounter(options.metrics, {
        name: 'cc_kafka_consumed_total',
        help: 'Records consumed, by consumer group, topic and outcome (handled, duplicate, dead_lettered)',
        labelNames: ['group', 'topic', 'outcome'],
      });
    }
    const { groupId, producer, transientBackoff } = options;
    const records = new ConsumedRecords({ groupId, log: this.log, producer, dedup: options.dedup ?? new RecentIds(), counted });
    const attempts = new HandlerAttempts({
      health: this.health,
      log: this.log,
      maxAttempts: options.maxAttempts ?? 5,
      backoffMs: options.backoffMs ?? 200,
      transientBackoff,
    });
    this.batches = new BatchHandling({ records, attempts, health: this.health, log: this.log, groupId, commits: this.commits });
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
      if (route.batchHandler) await this.batches.whole(payload, route, control);
      else await this.batches.inOrder(payload, route, control);
    } finally {
      beat.stop();
    }
    beat.rethrow();
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
