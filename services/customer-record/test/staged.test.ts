// The staged collection answers reads and writes by _id in memory as the store would, and turns
// what changed into one bulk write: checked against a collection that only records its calls.
import type { AnyBulkWriteOperation, Collection } from 'mongodb';
import { describe, expect, it } from 'vitest';
import { StagedCollection, UnstageableWriteError } from '../src/store/staged';

type Doc = { _id: string; n?: number; tags?: string[]; name?: string };

function fakeCollection(stored: Doc[]) {
  const reads: string[] = [];
  const writes: AnyBulkWriteOperation<Doc>[][] = [];
  const byId = new Map(stored.map((d) => [d._id, d]));
  const collection = {
    collectionName: 'fake',
    findOne: async (filter: { _id: string }) => {
      reads.push(filter._id);
      return byId.get(filter._id) ?? null;
    },
    bulkWrite: async (ops: AnyBulkWriteOperation<Doc>[]) => void writes.push(ops),
  } as unknown as Collection<Doc>;
  return { collection, reads, writes };
}

describe('a staged collection', () => {
  it('reads each document once, then answers from memory', async () => {
    const fake = fakeCollection([{ _id: 'a', n: 1 }]);
    const staged = new StagedCollection(fake.collection);
    await staged.prefetch(['a', 'b', 'a']);
    expect(await staged.findOne({ _id: 'a' })).toEqual({ _id: 'a', n: 1 });
    expect(await staged.findOne({ _id: 'b' })).toBeNull();
    expect(await staged.countDocuments({ _id: 'a' })).toBe(1);
    expect(fake.reads.sort()).toEqual(['a', 'b']);
  });

  it('applies $setOnInsert, $set and $addToSet as the store does, and writes only what changed', async () => {
    const fake = fakeCollection([{ _id: 'old', n: 1, tags: ['x'], name: 'Ana' }]);
    const staged = new StagedCollection(fake.collection);
    expect(await staged.updateOne({ _id: 'new' }, { $setOnInsert: { n: 0 } }, { upsert: true })).toMatchObject({ upsertedCount: 1 });
    expect(await staged.updateOne({ _id: 'new' }, { $setOnInsert: { n: 5 } }, { upsert: true })).toMatchObject({ upsertedCount: 0, matchedCount: 1 });
    await staged.updateOne({ _id: 'old' }, { $addToSet: { tags: 'x' } });
    await staged.updateOne({ _id: 'old' }, { $addToSet: { tags: 'y' } });
    await staged.updateOne({ _id: 'old', name: 'Bea' }, { $set: { n: 99 } });
    expect(await staged.findOne({ _id: 'old' })).toEqual({ _id: 'old', n: 1, tags: ['x', 'y'], name: 'Ana' });
    expect(await staged.findOne({ _id: 'new' })).toEqual({ _id: 'new', n: 0 });
    await staged.flush(false);
    expect(fake.writes).toEqual([
      [
        { updateOne: { filter: { _id: 'new' }, update: { $setOnInsert: { n: 0 } }, upsert: true } },
        { updateOne: { filter: { _id: 'old' }, update: { $set: { tags: ['x', 'y'] } } } },
      ],
    ]);
  });

  it('refuses a second insert of the same document, and inserts new ones whole', async () => {
    const fake = fakeCollection([]);
    const staged = new StagedCollection(fake.collection);
    await staged.insertOne({ _id: 'c', n: 1 });
    await expect(staged.insertOne({ _id: 'c', n: 2 })).rejects.toMatchObject({ code: 11000 });
    await staged.flush(true);
    expect(fake.writes).toEqual([[{ insertOne: { document: { _id: 'c', n: 1 } } }]]);
    expect(fake.reads).toEqual([]);
  });

  it('keeps what a caller does to a document it read out of the stage', async () => {
    const staged = new StagedCollection(fakeCollection([{ _id: 'a', tags: ['x'] }]).collection);
    const read = await staged.findOne({ _id: 'a' });
    read!.tags!.push('changed by the caller');
    expect(await staged.findOne({ _id: 'a' })).toEqual({ _id: 'a', tags: ['x'] });
  });

  it('deletes what was stored, and says what it cannot stage', async () => {
    const fake = fakeCollection([{ _id: 'a' }]);
    const staged = new StagedCollection(fake.collection);
    expect(await staged.deleteOne({ _id: 'a' })).toEqual({ deletedCount: 1 });
    expect(await staged.findOne({ _id: 'a' })).toBeNull();
    await staged.flush(false);
    expect(fake.writes).toEqual([[{ deleteOne: { filter: { _id: 'a' } } }]]);
    await expect(staged.updateOne({ _id: 'a' }, { $inc: { n: 1 } } as never)).rejects.toBeInstanceOf(UnstageableWriteError);
    await expect(staged.updateOne({ _id: 'a' }, { $set: { 'a.b': 1 } })).rejects.toBeInstanceOf(UnstageableWriteError);
    await expect(staged.findOne({ name: 'x' } as never)).rejects.toBeInstanceOf(UnstageableWriteError);
  });
});
