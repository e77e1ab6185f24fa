// The chat store against the real local store: batched message inserts keep "once" semantics,
// and numbers claimed by unique inserts stay exact across two instances.
import { MongoClient } from 'mongodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dropDatabase, MONGODB_URI, uniqueId } from '#libs/testing';
import { ChatStore, type MessageDoc } from '../src/store';

describe('chat store', () => {
  const database = uniqueId('chat_store').replace(/-/g, '_');
  let client: MongoClient;
  let other: MongoClient;
  let store: ChatStore;
  /** A second instance's store: its own connection and its own remembered numbers. */
  let elsewhere: ChatStore;

  beforeAll(async () => {
    client = await new MongoClient(MONGODB_URI).connect();
    other = await new MongoClient(MONGODB_URI).connect();
    store = new ChatStore(client.db(database));
    elsewhere = new ChatStore(other.db(database));
    await store.init();
  });
  afterAll(async () => {
    await client.close();
    await other.close();
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
    const docs = [
      message(conversationId, 2, 50),
      ...Array.from({ length: 40 }, (_, i) => message(conversationId, 10 + i, 10 + i)),
      message(conversationId, 3, 51),
    ];
    const stored = await Promise.all(docs.map((d) => store.insertOnce(d)));
    expect(stored[0]).toMatchObject({ _id: `${conversationId}/c/m2`, seq: 2 });
    expect(stored.at(-1)).toMatchObject({ _id: `${conversationId}/c/m3`, seq: 3 });
    expect(stored.slice(1, -1).map((d) => d.seq)).toEqual(Array.from({ length: 40 }, (_, i) => 10 + i));
    const all = await store.entriesAfter(conversationId, 0);
    expect(all.map((d) => d.seq)).toEqual([1, 2, 3, ...Array.from({ length: 40 }, (_, i) => 10 + i)]);
  });

  it('two instances numbering one conversation at once give 1..N, each number once', async () => {
    const conversationId = uniqueId('conv');
    const drafts = Array.from({ length: 60 }, (_, n) => ({ ...message(conversationId, n, 0), accepted: false }));
    const numbered = await Promise.all(drafts.map((d, n) => (n % 2 ? elsewhere : store).number(d)));
    expect(numbered.map((x) => x.seq).sort((p, q) => p - q)).toEqual(Array.from({ length: 60 }, (_, i) => i + 1));
    expect(numbered.filter((x) => x.newConversation)).toHaveLength(1);
    expect(await store.lastNumber(conversationId)).toBe(60);
    expect(await elsewhere.lastNumber(conversationId)).toBe(60);
  });

  it('an entry both instances store at once gets one number, and the next entry the next one', async () => {
    const conversationId = uniqueId('conv');
    const entry = (id: string) => ({
      _id: `${conversationId}/o/${id}`,
      conversationId,
      from: 'agent' as const,
      kind: 'message' as const,
      text: id,
      at: new Date(),
      accepted: true,
    });
    const [here, there] = await Promise.all([store.storeOnce(entry('r1')), elsewhere.storeOnce(entry('r1'))]);
    expect([here.seq, there.seq]).toEqual([1, 1]);
    const next = await elsewhere.storeOnce(entry('r2'));
    expect(next.seq).toBe(2);
    expect((await store.entriesAfter(conversationId, 0)).map((d) => [d.seq, d.text])).toEqual([
      [1, 'r1'],
      [2, 'r2'],
    ]);
  });

  it("keeps the visitor's profile and every fact when both instances write routing's updates at the same time", async () => {
    const owner = { conversationId: uniqueId('conv'), visitorId: 'v_profile123', reference: 'ABCDEF' };
    await store.ensureConversation(owner);
    const conv = owner.conversationId;
    const writes = [store, elsewhere].flatMap((s) => [
      s.setFact(conv, 'wait', { position: 2, estimatedWaitMs: 30_000 }),
      s.setFact(conv, 'ended', true),
      s.setFact(conv, 'surveyQuestion', 'How did we do?'),
    ]);
    await Promise.all([store.saveProfile(owner, { name: 'Ana Silva', email: 'ana@example.com' }), ...writes]);
    expect(await elsewhere.profile(conv)).toEqual({ name: 'Ana Silva', email: 'ana@example.com' });
    expect(await elsewhere.getConversation(conv)).toMatchObject({ visitorId: 'v_profile123', reference: 'ABCDEF' });
    expect(await store.fact(conv, 'wait')).toEqual({ position: 2, estimatedWaitMs: 30_000 });
    expect(await store.fact(conv, 'ended')).toBe(true);
    expect(await elsewhere.fact(conv, 'surveyQuestion')).toBe('How did we do?');
  });
});
