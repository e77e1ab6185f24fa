// Erasure in the email service's thread store, against the real broker and store: an erasure
// on cc.erasure.v1 before the service starts, and one made while it runs (by the customer's
// address), each delete the conversation documents and their Message-IDs; another customer's
// thread stays.
import { MongoClient } from 'mongodb';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { followErasures, subjectKey } from '#libs/erasure';
import { topics } from '#libs/kafka';
import { createLogger } from '#libs/observability';
import { IdentityKind } from '#libs/proto';
import { connectKafka, type ServiceKafka } from '#libs/service';
import { dropDatabase, KAFKA_BROKERS, MONGODB_URI, testContext, testErasureKey, uniqueId, waitFor } from '#libs/testing';
import { EmailStore } from '../src/store';

const database = uniqueId('email_erasure').replace(/-/g, '_');
const ctx = testContext('email-erasure');
let mongo: MongoClient;
let store: EmailStore;
let kafka: ServiceKafka;
const stops: (() => Promise<void>)[] = [];

beforeAll(async () => {
  mongo = await new MongoClient(MONGODB_URI).connect();
  store = new EmailStore(mongo.db(database));
  await store.ensureIndexes();
  kafka = await connectKafka(ctx, { KAFKA_BROKERS, KAFKA_TOPIC_PARTITIONS: 3, KAFKA_REPLICATION_FACTOR: 1 });
});

afterAll(async () => {
  for (const stop of stops.reverse()) await stop();
  await ctx.stop();
  await mongo?.close();
  await dropDatabase(database);
});

async function thread(address: string): Promise<{ conversationId: string; messageId: string }> {
  const conversationId = uniqueId('conv');
  const messageId = `<${uniqueId('m')}@customer.test>`;
  const opened = await store.createConversation({
    _id: conversationId,
    reference: uniqueId('ref'),
    customerAddress: address,
    subject: 'my account number 12345',
    openingMessageId: messageId,
    createdAt: new Date(Date.now() - 1000),
  });
  expect(opened).toBe(true);
  await store.addMessage(conversationId, messageId);
  return { conversationId, messageId };
}

const erase = (key: string) => kafka.producer.publish(topics.erasures, key, { subjectKey: key, erasedAt: new Date(), erasureId: uniqueId('erasure') });
const gone = async (t: { conversationId: string; messageId: string }) =>
  !(await store.conversation(t.conversationId)) && !(await store.conversationOfMessage(t.messageId));

it('deletes the threads of a conversation erased before the start and of an address erased while it runs', async () => {
  const byConversation = await thread(`${uniqueId('ana')}@customer.test`);
  const address = `${uniqueId('bo')}@Customer.test`;
  const byAddress = await thread(address.toLowerCase());
  const kept = await thread(`${uniqueId('cy')}@customer.test`);
  await erase(subjectKey(testErasureKey(), 'conversation', byConversation.conversationId));

  const reader = await followErasures(
    { kafka: kafka.kafka, logger: createLogger('email-erasure', 'silent'), name: 'email', secret: testErasureKey(), onStop: () => undefined },
    { what: 'email threads', apply: (erased) => store.erase(erased) },
  );
  if (reader) stops.push(() => reader.stop());
  // The erasures the topic held are applied before followErasures resolves.
  expect(await gone(byConversation)).toBe(true);
  expect(await gone(byAddress)).toBe(false);

  // customer-record hashes the identity as `<kind>|<normalised value>`: the address in lower case.
  await erase(subjectKey(testErasureKey(), 'identity', `${IdentityKind.IDENTITY_KIND_EMAIL}|${address.toLowerCase()}`));
  await waitFor(() => gone(byAddress), 20_000, 'the erased address’s thread to be deleted');
  expect(await store.conversation(kept.conversationId)).toMatchObject({ subject: 'my account number 12345' });
  expect(await store.conversationOfMessage(kept.messageId)).toBe(kept.conversationId);
});
