// Every write of one store goes through here, one at a time. FerretDB (1.24, SQLite) applies
// concurrent updates of one document as unguarded read-modify-writes, so two parallel $push or
// $inc on the same customer lose one; serialising the writes keeps them. Identity claims stay
// safe across processes through the unique index.

/** Told every customer id whose data changed, so caches can drop it. */
export type ChangeListener = (customerIds: string[] | 'all') => void;

export class WriteQueue {
  private queue: Promise<unknown> = Promise.resolve();

  constructor(readonly changed: ChangeListener = () => {}) {}

  exclusive<T>(work: () => Promise<T>): Promise<T> {
    const run = this.queue.then(work, work);
    // The caller gets the failure through `run`; the queue only waits for the work to end.
    this.queue = run.then(
      () => undefined,
      () => undefined,
    );
    return run;
  }
}
