// What the spool holds and in what order, with no I/O: its bounds, which contacts go to it
// instead of straight to Kafka, and which records the forwarder sends next.

export interface SpoolLimits {
  /** 0 turns the spool off: a contact Kafka does not take is refused (503), as without a spool. */
  maxRecords: number;
  maxBytes: number;
}

export interface SpoolEntry<P> {
  id: string;
  key: string;
  size: number;
  /** Where the record sits on disk; unset until its write is durable. */
  position?: P;
}

export type Admission<P> = { kind: 'reserved'; entry: SpoolEntry<P> } | { kind: 'duplicate'; entry: SpoolEntry<P> } | { kind: 'full'; reason: string };

/**
 * The records waiting for Kafka, oldest first. A record takes its place when its write starts
 * (so concurrent webhooks cannot overrun the bounds together) and is forwarded only once its
 * write is durable; records are forwarded in the order they were written.
 */
export class SpoolQueue<P> {
  private readonly entries: SpoolEntry<P>[] = [];
  private readonly ids = new Map<string, SpoolEntry<P>>();
  private readonly perKey = new Map<string, number>();
  private totalBytes = 0;

  constructor(private readonly limits: SpoolLimits) {}

  get enabled(): boolean {
    return this.limits.maxRecords > 0;
  }

  get depth(): number {
    return this.entries.length;
  }

  get bytes(): number {
    return this.totalBytes;
  }

  /** Room for at least one more record of `size` bytes. */
  hasRoom(size = 1): boolean {
    return this.entries.length < this.limits.maxRecords && this.totalBytes + size <= this.limits.maxBytes;
  }

  /** A record of this conversation still waits: a newer one must queue behind it to keep their order. */
  holdsConversation(key: string): boolean {
    return (this.perKey.get(key) ?? 0) > 0;
  }

  /** Takes a place for a new record, unless the same event already waits or the spool is full. */
  reserve(id: string, key: string, size: number): Admission<P> {
    const known = this.ids.get(id);
    if (known) return { kind: 'duplicate', entry: known };
    if (!this.enabled) return { kind: 'full', reason: 'the spool is turned off (SMS_VOICE_SPOOL_MAX_RECORDS=0)' };
    if (this.entries.length >= this.limits.maxRecords) return { kind: 'full', reason: `the spool holds its maximum of ${this.limits.maxRecords} records` };
    if (this.totalBytes + size > this.limits.maxBytes)
      return { kind: 'full', reason: `the spool holds ${this.totalBytes} of its ${this.limits.maxBytes} bytes` };
    return { kind: 'reserved', entry: this.add({ id, key, size }) };
  }

  /** Records found on disk at start-up: kept whatever the bounds (they were accepted already). */
  restore(id: string, key: string, size: number, position: P): SpoolEntry<P> | undefined {
    if (this.ids.has(id)) return undefined; // a Twilio retry spooled twice; one copy is enough
    return this.add({ id, key, size, position });
  }

  /** The record's write is durable: the forwarder may send it. */
  written(entry: SpoolEntry<P>, position: P): void {
    entry.position = position;
  }

  /** The record's write failed: it gives its place back. */
  release(entry: SpoolEntry<P>): void {
    const index = this.entries.indexOf(entry);
    if (index >= 0) this.entries.splice(index, 1);
    this.forget(entry);
  }

  /** The oldest durable records, up to the bounds of one forwarding round; stops at the first still being written. */
  next(maxRecords: number, maxBytes: number): SpoolEntry<P>[] {
    const chunk: SpoolEntry<P>[] = [];
    let bytes = 0;
    for (const entry of this.entries) {
      if (entry.position === undefined || chunk.length >= maxRecords) break;
      if (chunk.length > 0 && bytes + entry.size > maxBytes) break;
      chunk.push(entry);
      bytes += entry.size;
    }
    return chunk;
  }

  /** The first `count` records reached Kafka. */
  forwarded(count: number): void {
    for (const entry of this.entries.splice(0, count)) this.forget(entry);
  }

  private add(entry: SpoolEntry<P>): SpoolEntry<P> {
    this.entries.push(entry);
    this.ids.set(entry.id, entry);
    this.perKey.set(entry.key, (this.perKey.get(entry.key) ?? 0) + 1);
    this.totalBytes += entry.size;
    return entry;
  }

  private forget(entry: SpoolEntry<P>): void {
    if (this.ids.get(entry.id) === entry) this.ids.delete(entry.id);
    const left = (this.perKey.get(entry.key) ?? 1) - 1;
    if (left > 0) this.perKey.set(entry.key, left);
    else this.perKey.delete(entry.key);
    this.totalBytes -= entry.size;
  }
}

/**
 * Whether a new contact goes straight to Kafka or into the spool. It queues behind a spooled
 * record of its conversation (order within a conversation is kept), and while the broker is
 * known to be down and the forwarder is retrying, it is spooled at once rather than making
 * Twilio wait for a publish that will time out.
 */
export function routeOf<P>(queue: SpoolQueue<P>, key: string, brokerDown: boolean): 'publish' | 'spool' {
  if (!queue.enabled) return 'publish';
  if (queue.holdsConversation(key)) return 'spool';
  return brokerDown && queue.depth > 0 ? 'spool' : 'publish';
}

/** The forwarder's pause after a failed round: 0.5 s, doubling, at most 5 s (each round already waited for its publish timeout). */
export function retryDelayMs(failedRounds: number): number {
  return Math.min(500 * 2 ** Math.max(0, failedRounds - 1), 5000);
}
