// Helpers for the MongoDB-compatible store that more than one service needs.
import { MongoBulkWriteError, type Collection, type Document, type Filter, type FindCursor, type OptionalUnlessRequiredId } from 'mongodb';
import { isTransient } from '../faults';

/**
 * Inserts documents keyed by a unique `_id`, many per round trip: documents arriving while a
 * write is in flight go together in the next `insertMany`. On the local FerretDB writes are
 * serialised, so one write for many callers is what keeps a busy edge fast. Each caller learns
 * whether its document went in or its `_id` was already there (a retry, another instance).
 */
export class InsertBatcher<T extends Document & { _id: string }> {
  private readonly pending: { doc: T; resolve(outcome: 'inserted' | 'duplicate'): void; reject(err: unknown): void }[] = [];
  private writing = false;

  constructor(
    private readonly collection: Collection<T>,
    private readonly maxBatch = 1000,
  ) {}

  insert(doc: T): Promise<'inserted' | 'duplicate'> {
    return new Promise((resolve, reject) => {
      this.pending.push({ doc, resolve, reject });
      if (!this.writing) void this.writePending();
    });
  }

  private async writePending(): Promise<void> {
    this.writing = true;
    while (this.pending.length > 0) {
      const batch = this.pending.splice(0, this.maxBatch);
      let failed = new Map<number, { code?: number; errmsg?: string }>();
      try {
        await this.collection.insertMany(
          batch.map((b) => b.doc as OptionalUnlessRequiredId<T>),
          { ordered: false },
        );
      } catch (err) {
        // A connection lost mid-write also comes as a MongoBulkWriteError, without write errors:
        // nothing says which documents went in, so none is taken as inserted (a retry finds the
        // ones that did as duplicates).
        if (!(err instanceof MongoBulkWriteError) || isTransient(err)) {
          for (const b of batch) b.reject(err);
          continue;
        }
        const writeErrors = Array.isArray(err.writeErrors) ? err.writeErrors : [err.writeErrors];
        failed = new Map(writeErrors.map((e) => [e.index, { code: e.code, errmsg: e.errmsg }]));
      }
      batch.forEach(({ doc, resolve, reject }, i) => {
        const error = failed.get(i);
        if (!error) resolve('inserted');
        else if (error.code === 11000) resolve('duplicate');
        else reject(new Error(`${this.collection.collectionName} ${doc._id} could not be stored: ${error.errmsg ?? `code ${error.code}`}`));
      });
    }
    this.writing = false;
  }
}

/**
 * An upsert by `_id`. Two writers upserting the same new `_id` at once may both try the insert,
 * and the store refuses one with a duplicate key (MongoDB does it too; the store probes say so):
 * the refused one is done again, and finds the document to update.
 */
export async function upsertById<T extends Document & { _id: string }>(collection: Collection<T>, id: string, update: Document): Promise<void> {
  const filter = { _id: id } as Filter<T>;
  try {
    await collection.updateOne(filter, update, { upsert: true });
  } catch (err) {
    if ((err as { code?: number }).code !== 11000) throw err;
    await collection.updateOne(filter, update, { upsert: true });
  }
}

/** Documents a pass over a whole collection reads per round trip: what it holds at once besides what it keeps. */
const PASS_BATCH = 1_000;

/** The cursor of a pass over a whole collection (an erasure's), read `PASS_BATCH` documents at a time. */
export function passOver<T>(cursor: FindCursor<T>): FindCursor<T> {
  return cursor.batchSize(PASS_BATCH);
}

/** The documents of a pass that `keep` keeps: the pass holds only those, whatever the collection's size. */
export async function keptOf<T>(cursor: FindCursor<T>, keep: (doc: T) => boolean): Promise<T[]> {
  const kept: T[] = [];
  for await (const doc of passOver(cursor)) if (keep(doc)) kept.push(doc);
  return kept;
}
