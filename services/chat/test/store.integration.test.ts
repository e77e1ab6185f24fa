// The chat store against the real local store: batched message inserts keep "once" semantics.
import { MongoClient } from 'mongodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dropDatabase, MONGODB_URI, uniqueId } from '../../../libs/testing';
import { ChatStore, type MessageDoc } from '../src/store';

describe('chat store', () => {
  const database = uniqueId('chat_store').replace(/-/g, '_');
  let client: MongoClient;
  let store: ChatStore;

  beforeAll(async () => {
    client = await new MongoClient(MONGODB_URI).connect();
    store = new ChatStore(client.db(database));
    await store.init();
  });
  afterAll(async () => {
    await client.close();
    await dropDatabase(database);
  });

  const message = (conversationId: string, n: number, seq: number): MessageDoc => ({
    _id: `${conversationId}/c/m${n}`,
    conversationId,
    seq,
    from: 'visitor',
    kind: 'message',
    text: `message ${n}`,
    at: new Date(),
    accepted: true,
  });

  it('stores concurrent messages together, and a message stored before comes back as it was', async () => {
    const conversationId = uniqueId('conv');
    const first = await Promise.all([1, 2, 3].map((n) => store.insertOnce(message(conversationId, n, n))));
    expect(first.map((d) => d.seq)).toEqual([1, 2, 3]);
    // Resends of 2 and 3 (with new numbers) arrive among 40 new messages.
    const docs = [message(conversationId, 2, 50), ...Array.from({ length: 40 }, (_, i) => message(conversationId, 10 + i, 10 + i)), message(conversationId, 3, 51)];
    const stored = await Promise.all(docs.map((d) => store.insertOnce(d)));
    expect(stored[0]).toMatchObject({ _id: `${conversationId}/c/m2`, seq: 2 });
    expect(stored.at(-1)).toMatchObject({ _id: `${conversationId}/c/m3`, seq: 3 });
    expect(stored.slice(1, -1).map((d) => d.seq)).toEqual(Array.from({ length: 40 }, (_, i) => 10 + i));
    const all = await store.entriesAfter(conversationId, 0);
    expect(all.map((d) => d.seq)).toEqual([1, 2, 3, ...Array.from({ length: 40 }, (_, i) => 10 + i)]);
  });
});
