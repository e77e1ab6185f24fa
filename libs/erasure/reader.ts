// Tails cc.erasure.v1 for one process (libs/kafka's CompactedTail): what the topic held at start
// is handed over in one call before `start` resolves, so a service can drop everything erased
// before it serves or projects anything; erasures made later are handed over batch by batch.
import type { Kafka } from 'kafkajs';
import { CompactedTail, topics, type TailRecord } from '#libs/kafka';
import type { Logger } from '#libs/observability';
import type { ErasureNotice } from './subjects';

/** A notice and where it stands on the topic. */
export interface ReadNotice extends ErasureNotice {
  partition: number;
  offset: bigint;
}

/**
 * Told the erasures read: `initial` for everything the topic held at start (one call, maybe
 * empty), then each later batch; `ends`, where each partition ended at start. A rejection has the
 * batch read again.
 */
export type ErasureHandler = (notices: ReadNotice[], initial: boolean, ends: ReadonlyMap<number, bigint>) => Promise<void> | void;

export class ErasureReader {
  private readonly tail: CompactedTail;

  constructor(
    kafka: Kafka,
    private readonly logger: Logger,
    /** Names the reader's own group (`<prefix>-erasures-<uuid>`), deleted on stop. */
    groupPrefix: string,
    onErasures: ErasureHandler,
  ) {
    this.tail = new CompactedTail(kafka, logger, topics.erasures.name, `${groupPrefix}-erasures`, async (records, initial, ends) => {
      const notices = noticesOf(records);
      await onErasures(notices, initial, ends);
      if (initial) this.logger.info({ erasures: notices.length }, 'erasures read');
    });
  }

  /** Starts tailing; resolves once everything the topic held at start was handed over. */
  start(): Promise<void> {
    return this.tail.start();
  }

  stop(): Promise<void> {
    return this.tail.stop();
  }
}

function noticesOf(records: TailRecord[]): ReadNotice[] {
  const notices: ReadNotice[] = [];
  for (const { value, partition, offset } of records) {
    if (!value) continue;
    const record = topics.erasures.codec.decode(value);
    if (record.subjectKey && record.erasedAt) notices.push({ subjectKey: record.subjectKey, erasedAt: record.erasedAt, partition, offset });
  }
  return notices;
}
