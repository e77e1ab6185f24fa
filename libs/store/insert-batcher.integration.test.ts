import { MongoClient } from 'mongodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dropDatabase, MONGODB_URI, uniqueId } from '../testing';
import { InsertBatcher } from './index';

describe('InsertBatcher (real store)', () => {
  const database = uniqueId('batcher').replace(/-/g, '_');
  let client: MongoClient;

  beforeAll(async () => {
    client = await new MongoClient(MONGODB_URI, { monitorCommands: true }).connect();
  });
  afterAll(async () => {
    await client.close();
    await dropDatabase(database);
  });

  it('writes concurrent documents in few round trips and tells each caller whether its _id was new', async () => {
    const collection = client.db(database).collection<{ _id: string; n: number }>('things');
    await collection.insertOne({ _id: 'k3', n: -1 });
    const batcher = new InsertBatcher(collection);
    const writes: number[] = [];
    client.on('commandStarted', (e) => e.commandName === 'insert' && writes.push(e.requestId));
    const outcomes = await Promise.all([...Array.from({ length: 50 }, (_, n) => batcher.insert({ _id: `k${n}`, n })), batcher.insert({ _id: 'k7', n: 99 })]);
    expect(outcomes.filter((o) => o === 'duplicate')).toHaveLength(2);
    expect(outcomes[3]).toBe('duplicate');
    expect(outcomes[50]).toBe('duplicate');
    expect(await collection.countDocuments()).toBe(50);
    // The first document goes alone; the 50 that queued behind it go together.
    expect(writes.length).toBeLessThanOrEqual(3);
    expect((await collection.findOne({ _id: 'k7' }))?.n).toBe(7);
  });
});
