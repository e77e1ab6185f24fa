// What a consumer's users deal with: the consumed event, the two kinds of handler and the
// options; and, inside the consumer, the route a topic's records take.
import type { IHeaders, PartitionAssigner } from 'kafkajs';
import type { Registry } from 'prom-client';
import type { BackoffOptions } from '../faults';
import type { Logger } from '../observability/logger';
import type { CloudEventAttributes } from './cloudevents';
import type { DedupStore } from './dedup';
import type { EventProducer } from './producer';
import type { TopicSpec } from './topics';

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

/** One subscribed topic: its spec and either a record handler (`on`) or a batch handler (`onBatch`). */
export type Route = { spec: TopicSpec<unknown>; handler?: EventHandler<unknown>; batchHandler?: BatchHandler<unknown> } & RouteOptions;

/** What a record's handling needs from its batch: heartbeats, and whether to keep going. */
export interface BatchControl {
  heartbeat: () => Promise<void>;
  keepGoing: () => boolean;
}

/** Where one record (or the start of a batch) is. */
export interface RecordPlace {
  topic: string;
  partition: number;
  offset: string;
}
