// Every read of a customer's data is written here before it is answered. Entries recorded
// within a few milliseconds of each other are written in one insertMany, so auditing does not
// double the cost of a read under load; each caller waits for its own batch's write, and when
// that write fails or takes too long the caller gets AuditUnavailableError and answers nothing.
import { randomUUID } from 'node:crypto';
import type { Collection } from 'mongodb';
import type { Logger } from '#libs/observability';
import { errorDetails } from '#libs/observability';
import { isDuplicateKey } from './errors';
import type { AuditDoc } from './store/records';

/** The audit entry could not be stored: the read it covers must not be answered. */
export class AuditUnavailableError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'AuditUnavailableError';
  }
}

export interface AuditOptions {
  /** How long entries gather before one write. */
  flushAfterMs?: number;
  maxBuffered?: number;
  /** How long a batch's write may take before its reads are refused. */
  writeTimeoutMs?: number;
}

type Pending = { doc: AuditDoc; settle: (err?: Error) => void };

export class AuditLog {
  private buffer: Pending[] = [];
  private timer: NodeJS.Timeout | undefined;
  private flushing: Promise<void> = Promise.resolve();
  private readonly flushAfterMs: number;
  private readonly maxBuffered: number;
  private readonly writeTimeoutMs: number;

  constructor(
    private readonly collection: Collection<AuditDoc>,
    private readonly logger: Logger,
    options: AuditOptions = {},
  ) {
    this.flushAfterMs = options.flushAfterMs ?? 5;
    this.maxBuffered = options.maxBuffered ?? 500;
    this.writeTimeoutMs = options.writeTimeoutMs ?? 2000;
  }

  /** Resolves once the entry is stored; rejects with AuditUnavailableError when it cannot be. */
  record(entry: Omit<AuditDoc, '_id' | 'at'>): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const doc: AuditDoc = { _id: randomUUID(), at: new Date(), ...entry };
      this.buffer.push({ doc, settle: (err) => (err ? reject(err) : resolve()) });
      if (this.buffer.length >= this.maxBuffered) void this.flush();
      else this.timer ??= setTimeout(() => void this.flush(), this.flushAfterMs);
    });
  }

  /** Writes what is buffered; resolves when everything recorded so far was written or refused. */
  flush(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    const batch = this.buffer;
    this.buffer = [];
    this.flushing = this.flushing.then(async () => {
      if (!batch.length) return;
      try {
        await this.write(batch.map((p) => p.doc));
        for (const p of batch) p.settle();
      } catch (err) {
        this.logger.error({ refused: batch.length, ...errorDetails(err) }, 'audit entries could not be written; their reads are refused');
        const refusal = new AuditUnavailableError('the audit log cannot be written just now, so the read is refused; try again shortly');
        for (const p of batch) p.settle(refusal);
      }
    });
    return this.flushing;
  }

  private async write(docs: AuditDoc[]): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`audit write took longer than ${this.writeTimeoutMs} ms`)), this.writeTimeoutMs);
    });
    try {
      await Promise.race([this.insert(docs), timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  private async insert(docs: AuditDoc[]): Promise<void> {
    try {
      await this.collection.insertMany(docs, { ordered: false });
    } catch (err) {
      // Entries already stored by an earlier attempt are fine; anything else is a failure.
      const writeErrors = (err as { writeErrors?: unknown[] }).writeErrors;
      if (Array.isArray(writeErrors) && writeErrors.length && writeErrors.every(isDuplicateKey)) return;
      throw err;
    }
  }
}
