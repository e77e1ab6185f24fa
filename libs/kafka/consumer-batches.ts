// One fetched batch of a partition handled: record by record in order (`on`), or whole by a
// batch handler (`onBatch`) and, when that fails for good, record by record again so only the
// bad record is dead-lettered. A record is resolved only once handled or given up; one left for
// later (RetryLaterError) ends the batch, and the next fetch starts from it again.
import type { EachBatchPayload, KafkaMessage } from 'kafkajs';
import { sleep } from '../faults';
import type { Logger } from '../observability/logger';
import type { HandlerAttempts } from './consumer-attempts';
import type { ConsumerHealth } from './consumer-health';
import type { ConsumedRecords } from './consumer-records';
import type { BatchControl, ConsumedEvent, RecordPlace, Route } from './consumer-types';
import { RetryLaterError } from './errors';
import { processBatchInSpans, processInSpan } from './tracing';

interface BatchDeps {
  records: ConsumedRecords;
  attempts: HandlerAttempts;
  health: ConsumerHealth;
  log: Logger;
  /** Named on the consumer spans. */
  groupId: string;
  /** False when the handlers commit offsets in their own transactions. */
  commits: boolean;
}

type Entry = { consumed: ConsumedEvent<unknown>; message: KafkaMessage };

const after = (offset: string) => String(Number(offset) + 1);

export class BatchHandling {
  constructor(private readonly deps: BatchDeps) {}

  async inOrder({ batch, resolveOffset, heartbeat, commitOffsetsIfNecessary }: EachBatchPayload, route: Route, control: BatchControl): Promise<void> {
    for (const message of batch.messages) {
      if (!control.keepGoing()) break;
      try {
        await this.handleMessage(route, batch.topic, batch.partition, message, control);
      } catch (err) {
        if (!(err instanceof RetryLaterError)) throw err;
        // Left unresolved: the next fetch starts from this record again.
        this.deps.log.debug({ topic: batch.topic, partition: batch.partition, offset: message.offset, reason: err.message }, 'record left for later');
        await sleep(100);
        break;
      }
      resolveOffset(message.offset);
      this.deps.health.lag(batch.topic, batch.partition, batch.highWatermark, after(message.offset));
      await heartbeat();
    }
    if (this.deps.commits) await commitOffsetsIfNecessary();
  }

  /**
   * The batch handler gets every decodable new record of the batch; the batch counts as handled
   * (offsets resolved) only when it succeeds. A permanent failure is retried record by record.
   */
  async whole({ batch, resolveOffset, commitOffsetsIfNecessary }: EachBatchPayload, route: Route, control: BatchControl): Promise<void> {
    const { topic, partition, messages } = batch;
    const last = messages[messages.length - 1];
    if (!last) return;
    const entries: Entry[] = [];
    for (const message of messages) {
      const consumed = await this.deps.records.decode(route, topic, partition, message);
      if (consumed) entries.push({ consumed, message });
    }
    const start: RecordPlace = { topic, partition, offset: messages[0]!.offset };
    const end = after(last.offset);
    try {
      const outcome = await this.deps.attempts.run(
        start,
        () => {
          const events = entries.map((e) => e.consumed);
          return processBatchInSpans(this.deps.groupId, events, () => route.batchHandler!(events, { topic, partition, offset: end }));
        },
        control,
        async () => 'split' as const,
      );
      if (outcome === 'split') await this.oneByOne(route, entries, start, end, resolveOffset, control);
      else for (const { consumed } of entries) await this.deps.records.remember(consumed);
    } catch (err) {
      if (!(err instanceof RetryLaterError)) throw err;
      this.deps.log.debug({ topic, partition, offset: start.offset, reason: err.message }, 'batch left for later');
      await sleep(100);
      return;
    }
    resolveOffset(last.offset);
    this.deps.health.lag(topic, partition, batch.highWatermark, end);
    if (this.deps.commits) await commitOffsetsIfNecessary();
  }

  /** The batch handler given one record at a time, each dead-lettered alone if it keeps failing. */
  private async oneByOne(route: Route, entries: Entry[], start: RecordPlace, end: string, resolveOffset: (offset: string) => void, control: BatchControl) {
    const { records, attempts } = this.deps;
    const { topic, partition } = start;
    for (const { consumed, message } of entries) {
      const handled = await attempts.run(
        { topic, partition, offset: message.offset },
        () => processBatchInSpans(this.deps.groupId, [consumed], () => route.batchHandler!([consumed], { topic, partition, offset: after(message.offset) })),
        control,
        (reason, err, tries) => records.deadLetter(topic, partition, message, reason, err, tries),
      );
      if (handled === 'handled') await records.remember(consumed);
      resolveOffset(message.offset);
    }
    // A transaction also moves the group past the records just dead-lettered.
    if (!this.deps.commits)
      await attempts.run(
        start,
        () => route.batchHandler!([], { topic, partition, offset: end }),
        control,
        async () => undefined,
      );
  }

  private async handleMessage(route: Route, topic: string, partition: number, message: KafkaMessage, control: BatchControl): Promise<void> {
    const { records, attempts } = this.deps;
    const consumed = await records.decode(route, topic, partition, message);
    if (!consumed) return;
    const handled = await attempts.run(
      { topic, partition, offset: message.offset },
      () => processInSpan(this.deps.groupId, consumed, () => route.handler!(consumed)),
      control,
      (reason, err, tries) => records.deadLetter(topic, partition, message, reason, err, tries),
    );
    if (handled === 'handled') await records.remember(consumed);
  }
}
