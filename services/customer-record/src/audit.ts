// Every read of a customer's data is written here. Entries are buffered for a few
// milliseconds and written in one insertMany, so auditing does not double the cost of a read;
// ListAudit and shutdown flush first, so nothing recorded is missing from what they see.
import { randomUUID } from 'node:crypto';
import type { Collection } from 'mongodb';
import type { Logger } from '../../../libs/observability';
import { errorDetails } from '../../../libs/observability';
import type { AuditDoc } from './store';

export class AuditLog {
  private buffer: AuditDoc[] = [];
  private timer: NodeJS.Timeout | undefined;
  private flushing: Promise<void> = Promise.resolve();

  constructor(
    private readonly collection: Collection<AuditDoc>,
    private readonly logger: Logger,
    private readonly flushAfterMs = 50,
    private readonly maxBuffered = 500,
  ) {}

  record(entry: Omit<AuditDoc, '_id' | 'at'>): void {
    this.buffer.push({ _id: randomUUID(), at: new Date(), ...entry });
    if (this.buffer.length >= this.maxBuffered) void this.flush();
    else this.timer ??= setTimeout(() => void this.flush(), this.flushAfterMs);
  }

  /** Writes what is buffered; resolves when everything recorded so far is stored. */
  flush(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    const batch = this.buffer;
    this.buffer = [];
    this.flushing = this.flushing.then(async () => {
      if (!batch.length) return;
      for (let attempt = 1; ; attempt++) {
        try {
          await this.collection.insertMany(batch, { ordered: false });
          return;
        } catch (err) {
          if (attempt >= 3) {
            this.logger.error({ lost: batch.length, ...errorDetails(err) }, 'audit entries could not be written');
            return;
          }
          await new Promise((r) => setTimeout(r, 100 * attempt));
        }
      }
    });
    return this.flushing;
  }
}
