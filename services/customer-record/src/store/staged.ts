// A batch of the projection's writes made in memory and sent as one bulk write per collection.
// The local store applies writes one at a time, about two milliseconds each, and a contact takes
// some fifteen reads and writes: one by one the projection fell behind a busy contact centre.
// Staged, a fetched batch reads its documents all at once (prefetch) and writes each collection
// in bulk.
//
// `StagedCollection` answers the part of a collection the projection uses, by `_id` only:
// findOne, countDocuments, updateOne with $set / $setOnInsert / $addToSet, insertOne, deleteOne.
import type { AnyBulkWriteOperation, Collection, Document } from 'mongodb';
import { MongoBulkWriteError } from 'mongodb';
import { RetryLaterError } from '#libs/kafka';
import { isDuplicateKey } from '../errors';

type Doc = Document & { _id: string };
type Filter = { _id: string } & Record<string, unknown>;
type Update = { $set?: Document; $setOnInsert?: Document; $addToSet?: Document };

interface Slot<T> {
  doc: T | null;
  /** In the store before this batch. */
  stored: boolean;
  changed: Set<string>;
  deleted: boolean;
}

/** A write the stage cannot express (a filter on another field, an operator it does not know). */
export class UnstageableWriteError extends Error {
  override readonly name = 'UnstageableWriteError';
}

/** Another writer created a document this batch meant to create: the batch is fetched and projected again. */
class StagedConflictError extends RetryLaterError {}

export class StagedCollection<T extends Doc> {
  private readonly slots = new Map<string, Slot<T>>();

  constructor(private readonly collection: Collection<T>) {}

  /**
   * Reads the documents not yet known, all at once; absent ones are remembered as absent. One
   * look-up per `_id` rather than an `$in`: the local store serves only `_id` equality from its
   * index and scans the whole collection for an `$in`.
   */
  async prefetch(ids: Iterable<string>): Promise<void> {
    const wanted = [...new Set(ids)].filter((id) => id && !this.slots.has(id));
    const found = await Promise.all(wanted.map((id) => this.collection.findOne({ _id: id } as never)));
    wanted.forEach((id, i) => {
      if (!this.slots.has(id)) this.slots.set(id, { doc: (found[i] as T | null) ?? null, stored: found[i] !== null, changed: new Set(), deleted: false });
    });
  }

  /** The documents of the batch as they stand now (known ones only). */
  known(): T[] {
    return [...this.slots.values()].flatMap((s) => (s.doc ? [s.doc] : []));
  }

  async findOne(filter: Filter): Promise<T | null> {
    const slot = await this.slot(filter);
    return slot.doc && matches(slot.doc, filter) ? structuredClone(slot.doc) : null;
  }

  async countDocuments(filter: Filter): Promise<number> {
    return (await this.findOne(filter)) ? 1 : 0;
  }

  /**
   * Not read first when unknown: a document the batch did not read is taken as absent, and if
   * another writer holds it after all, the bulk insert fails and the batch is projected again.
   */
  async insertOne(doc: T): Promise<{ insertedId: string }> {
    if (!this.slots.has(doc._id)) this.slots.set(doc._id, { doc: null, stored: false, changed: new Set(), deleted: false });
    const slot = await this.slot({ _id: doc._id });
    if (slot.doc) throw Object.assign(new Error(`E11000 duplicate key error: _id ${doc._id}`), { code: 11000 });
    slot.doc = structuredClone(doc);
    this.created(slot);
    return { insertedId: doc._id };
  }

  async updateOne(
    filter: Filter,
    update: Update,
    options: { upsert?: boolean } = {},
  ): Promise<{ matchedCount: number; modifiedCount: number; upsertedCount: number }> {
    for (const op of Object.keys(update)) if (!['$set', '$setOnInsert', '$addToSet'].includes(op)) throw new UnstageableWriteError(`update operator ${op}`);
    for (const field of [...Object.keys(update.$set ?? {}), ...Object.keys(update.$addToSet ?? {})])
      if (field.includes('.')) throw new UnstageableWriteError(`an update of a nested field ${field}`);
    const slot = await this.slot(filter);
    if (slot.doc && !matches(slot.doc, filter)) return { matchedCount: 0, modifiedCount: 0, upsertedCount: 0 };
    let upserted = 0;
    if (!slot.doc) {
      if (!options.upsert) return { matchedCount: 0, modifiedCount: 0, upsertedCount: 0 };
      slot.doc = { _id: filter._id, ...structuredClone(update.$setOnInsert ?? {}) } as T;
      this.created(slot);
      upserted = 1;
    }
    const doc = slot.doc as Record<string, unknown>;
    for (const [field, value] of Object.entries(update.$set ?? {})) {
      doc[field] = structuredClone(value);
      slot.changed.add(field);
    }
    for (const [field, value] of Object.entries(update.$addToSet ?? {})) {
      const list = Array.isArray(doc[field]) ? (doc[field] as unknown[]) : [];
      if (!list.some((v) => JSON.stringify(v) === JSON.stringify(value))) list.push(structuredClone(value));
      doc[field] = list;
      slot.changed.add(field);
    }
    return { matchedCount: 1 - upserted, modifiedCount: 1 - upserted, upsertedCount: upserted };
  }

  async deleteOne(filter: Filter): Promise<{ deletedCount: number }> {
    const slot = await this.slot(filter);
    if (!slot.doc) return { deletedCount: 0 };
    slot.doc = null;
    slot.deleted = true;
    return { deletedCount: 1 };
  }

  /**
   * Writes what the batch changed in one bulk write. New documents are inserted as they are
   * (`insertNew`) or upserted; a document someone else created meanwhile fails the batch, which
   * is then projected again from the store as it is.
   */
  async flush(insertNew: boolean): Promise<void> {
    const ops: AnyBulkWriteOperation<T>[] = [];
    for (const [id, slot] of this.slots) {
      const filter = { _id: id } as never;
      if (slot.deleted && slot.stored) ops.push({ deleteOne: { filter } });
      else if (slot.doc && !slot.stored) {
        if (insertNew) ops.push({ insertOne: { document: slot.doc } as never });
        else {
          const { _id, ...fields } = slot.doc;
          ops.push({ updateOne: { filter, update: { $setOnInsert: fields } as never, upsert: true } });
        }
      } else if (slot.doc && slot.changed.size) {
        const doc = slot.doc as Record<string, unknown>;
        ops.push({ updateOne: { filter, update: { $set: Object.fromEntries([...slot.changed].map((f) => [f, doc[f]])) } as never } });
      }
    }
    try {
      await bulkWriteInChunks(this.collection, ops);
    } catch (err) {
      if (err instanceof MongoBulkWriteError && isDuplicateKey(err))
        throw new StagedConflictError(`${this.collection.collectionName}: a document of this batch was created by another writer`);
      throw err;
    }
  }

  /** A document made anew; one deleted earlier in the batch is then written whole. */
  private created(slot: Slot<T>): void {
    slot.deleted = false;
    if (slot.stored) for (const field of Object.keys(slot.doc!)) if (field !== '_id') slot.changed.add(field);
  }

  private async slot(filter: Filter): Promise<Slot<T>> {
    if (typeof filter._id !== 'string') throw new UnstageableWriteError('a filter without an _id');
    if (!this.slots.has(filter._id)) await this.prefetch([filter._id]);
    return this.slots.get(filter._id)!;
  }

  /** Stands in for the collection where the store's parts expect one. */
  asCollection(): Collection<T> {
    return this as unknown as Collection<T>;
  }
}

/**
 * The local store (FerretDB 1.24, SQLite) never answers an update command of 100 statements or
 * more, and holds its database meanwhile; 99 take half a second. So bulk writes go in chunks.
 */
const MAX_STATEMENTS = 50;

export async function bulkWriteInChunks<T extends Document>(collection: Collection<T>, ops: AnyBulkWriteOperation<T>[]): Promise<void> {
  for (let i = 0; i < ops.length; i += MAX_STATEMENTS) await collection.bulkWrite(ops.slice(i, i + MAX_STATEMENTS), { ordered: false });
}

function matches(doc: Doc, filter: Filter): boolean {
  return Object.entries(filter).every(([k, v]) => k === '_id' || (doc as Record<string, unknown>)[k] === v);
}
