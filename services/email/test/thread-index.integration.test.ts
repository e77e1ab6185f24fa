// The email thread index against the real store: every Message-ID of a conversation is kept,
// also when many are recorded at once (the store may lose concurrent updates of one document),
// and the thread reads back oldest first.
import { MongoClient } from 'mongodb';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { dropDatabase, MONGODB_URI, uniqueId } from '#libs/testing';
import { EmailStore } from '../src/store';
import { claimerOf } from '#libs/delivery';

const database = uniqueId('email_threads').replace(/-/g, '_');
let mongo: MongoClient;
let store: EmailStore;

beforeAll(async () => {
  mongo = await new MongoClient(MONGODB_URI).connect();
  store = new EmailStore(mongo.db(database), claimerOf(uniqueId('email')));
  await store.ensureIndexes();
});

afterAll(async () => {
  await mongo?.close();
  await dropDatabase(database);
});

it('keeps every Message-ID of a conversation recorded at once, and the thread oldest first', async () => {
  const conversationId = uniqueId('conv');
  const first = `<${uniqueId('m')}@customer.test>`;
  await store.addMessage(conversationId, first);
  await new Promise((r) => setTimeout(r, 5));
  const together = Array.from({ length: 20 }, () => `<${uniqueId('m')}@customer.test>`);
  await Promise.all(together.map((id) => store.addMessage(conversationId, id)));
  await new Promise((r) => setTimeout(r, 5));
  const last = `<${uniqueId('m')}@cc.test>`;
  await store.addMessage(conversationId, last);
  // A Message-ID already recorded keeps its conversation.
  await store.addMessage(uniqueId('other-conv'), first);

  const thread = await store.threadOf(conversationId);
  expect(thread[0]).toBe(first);
  expect(thread.at(-1)).toBe(last);
  expect(new Set(thread.slice(1, -1))).toEqual(new Set(together));
  expect(await store.conversationOfMessage(first)).toBe(conversationId);
});
