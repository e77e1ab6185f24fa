import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Db } from 'mongodb';
import { MONGODB_URI, testContext, uniqueId } from '../testing';
import { connectMongo } from './mongo';
import type { ServiceContext } from './runtime';

describe('MongoDB driver through the local store', () => {
  let ctx: ServiceContext;
  let db: Db;
  const collection = uniqueId('foundation');

  beforeAll(async () => {
    ctx = testContext('mongo-test');
    ({ db } = await connectMongo(ctx, { MONGODB_URI, MONGODB_DATABASE: 'contactcenter_test' }));
  });
  afterAll(async () => {
    await db.collection(collection).drop();
    await ctx.stop();
  });

  it('writes, upserts idempotently, enforces a unique index and reads back', async () => {
    const docs = db.collection<{ _id: string; email: string; visits: number }>(collection);
    await docs.createIndex({ email: 1 }, { unique: true });
    await docs.insertOne({ _id: 'c1', email: 'ana@example.com', visits: 1 });
    for (let i = 0; i < 2; i++) await docs.updateOne({ _id: 'c2' }, { $setOnInsert: { email: 'bo@example.com', visits: 1 } }, { upsert: true });
    await expect(docs.insertOne({ _id: 'c3', email: 'ana@example.com', visits: 0 })).rejects.toThrow(/duplicate key/i);
    expect(await docs.find({}).sort({ _id: 1 }).toArray()).toEqual([
      { _id: 'c1', email: 'ana@example.com', visits: 1 },
      { _id: 'c2', email: 'bo@example.com', visits: 1 },
    ]);
  });
});
