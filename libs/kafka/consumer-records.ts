// A record on its way in: decoded and checked into a ConsumedEvent (or dead-lettered as
// undecodable), skipped when its event was handled already, remembered once handled; and the
// dead letter itself: the record as it came, with headers saying why it was given up.
import type { IHeaders, KafkaMessage } from 'kafkajs';
import type { Counter } from 'prom-client';
import type { Logger } from '../observability/logger';
import { type CloudEventAttributes, readCloudEvent } from './cloudevents';
import type { ConsumedEvent, Route } from './consumer-types';
import { RecentIds, type DedupStore } from './dedup';
import type { EventProducer } from './producer';
import { DEAD_LETTER_TOPIC } from './topics';

export type ConsumedCounter = Counter<'topic' | 'outcome' | 'group'>;

interface RecordsDeps {
  groupId: string;
  log: Logger;
  /** Writes dead letters. */
  producer: EventProducer;
  dedup: DedupStore;
  counted?: ConsumedCounter;
}

export class ConsumedRecords {
  /**
   * Records this process dead-lettered, by place: a batch handled whole dead-letters its
   * undecodable records before the batch succeeds, and a batch fetched again must not repeat them.
   */
  private readonly deadLettered = new RecentIds(10_000);

  constructor(private readonly deps: RecordsDeps) {}

  /** The record decoded and checked, or undefined when it was dead-lettered or already handled. */
  async decode(route: Route, topic: string, partition: number, message: KafkaMessage): Promise<ConsumedEvent<unknown> | undefined> {
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
    if (await this.deps.dedup.has(`${topic}/${event.id}`)) {
      this.deps.counted?.inc({ group: this.deps.groupId, topic, outcome: 'duplicate' });
      return undefined;
    }
    return { value, event, topic, partition, offset: message.offset, key: message.key?.toString('utf8') ?? null, headers };
  }

  async remember(consumed: ConsumedEvent<unknown>): Promise<void> {
    await this.deps.dedup.add(`${consumed.topic}/${consumed.event.id}`);
    this.deps.counted?.inc({ group: this.deps.groupId, topic: consumed.topic, outcome: 'handled' });
  }

  async deadLetter(topic: string, partition: number, message: KafkaMessage, reason: string, err: unknown, attempts?: number): Promise<void> {
    const place = `${topic}/${partition}/${message.offset}`;
    if (this.deadLettered.has(place)) return;
    const { groupId, log, producer, counted } = this.deps;
    const detail = err instanceof Error ? err.message : String(err);
    log.error({ topic, partition, offset: message.offset, reason, detail, attempts }, 'record sent to the dead-letter topic');
    const headers: IHeaders = {
      ...(message.headers ?? {}),
      dlq_reason: reason,
      dlq_detail: detail.slice(0, 1000),
      dlq_topic: topic,
      dlq_partition: String(partition),
      dlq_offset: message.offset,
      dlq_consumer_group: groupId,
      dlq_time: new Date().toISOString(),
    };
    if (attempts) headers.dlq_attempts = String(attempts);
    // If this write fails the batch fails and the record is fetched again: nothing is dropped.
    await producer.publishRaw(DEAD_LETTER_TOPIC, message.key?.toString('utf8') ?? null, message.value ?? Buffer.alloc(0), headers);
    this.deadLettered.add(place);
    counted?.inc({ group: groupId, topic, outcome: 'dead_lettered' });
  }
}
