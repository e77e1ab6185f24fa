// cc.erasure.v1 for customer-record: the shared reader fills this process's ErasedSubjects, and
// the projection and the search index start only once it has read up to the end the topic had
// at start, so a replay never applies a record of an erased customer, not even for a moment.
// Erasures made later arrive while it tails the topic; the ones made here are published here.
import type { Kafka } from 'kafkajs';
import { ErasureReader } from '#libs/erasure';
import { topics, type EventProducer } from '#libs/kafka';
import type { Logger } from '#libs/observability';
import type { ErasedSubjects } from './erasure';

export class ErasureTopic {
  private readonly reader: ErasureReader;

  constructor(
    kafka: Kafka,
    private readonly producer: EventProducer,
    readonly erased: ErasedSubjects,
    private readonly logger: Logger,
  ) {
    this.reader = new ErasureReader(kafka, logger, 'customer-record', (notices) => {
      for (const n of notices) this.erased.add(n.subjectKey, n.erasedAt);
    });
  }

  /** Starts tailing; resolves once everything the topic held at start is in `erased`. */
  async start(): Promise<void> {
    await this.reader.start();
    this.logger.info({ erasedSubjects: this.erased.size }, 'erasures read; projections may start');
  }

  /** Publishes an erasure's subjects (acknowledged by the broker), and applies them here at once. */
  async publish(erasureId: string, subjectKeys: readonly string[], erasedAt: Date): Promise<void> {
    for (const key of subjectKeys) {
      await this.producer.publish(topics.erasures, key, { subjectKey: key, erasedAt, erasureId }, { id: `${erasureId}:${key.slice(0, 16)}`, time: erasedAt });
      this.erased.add(key, erasedAt);
    }
  }

  stop(): Promise<void> {
    return this.reader.stop();
  }
}
