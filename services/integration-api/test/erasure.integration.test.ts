// Erasure in the integration API's collections, against the real broker and store: after an
// erasure record on cc.erasure.v1, the erased conversation's thread and submission and the
// webhook deliveries naming the erased conversation or customer (with their due entries) are
// gone; another customer's stay.
import { MongoClient, type Db } from 'mongodb';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { followErasures, subjectKey } from '#libs/erasure';
import { topics } from '#libs/kafka';
import { createLogger } from '#libs/observability';
import { connectKafka, type ServiceKafka } from '#libs/service';
import { dropDatabase, MONGODB_URI, KAFKA_BROKERS, testContext, testErasureKey, uniqueId, waitFor } from '#libs/testing';
import { eraseApiData } from '../src/erasure';

const database = uniqueId('api_erasure').replace(/-/g, '_');
const ctx = testContext('api-erasure');
let mongo: MongoClient;
let db: Db;
let kafka: ServiceKafka;
const stops: (() => Promise<void>)[] = [];

beforeAll(async () => {
  mongo = await new MongoClient(MONGODB_URI).connect();
  db = mongo.db(database);
  kafka = await connectKafka(ctx, { KAFKA_BROKERS, KAFKA_TOPIC_PARTITIONS: 3, KAFKA_REPLICATION_FACTOR: 1 });
});

afterAll(async () => {
  for (const stop of stops.reverse()) await stop();
  await ctx.stop();
  await mongo?.close();
  await dropDatabase(database);
});

const past = () => new Date(Date.now() - 1000);

async function conversationData(conversationId: string, customerId: string): Promise<string[]> {
  await db
    .collection<{ _id: string; [k: string]: unknown }>('api_threads')
    .insertOne({ _id: `crm|${uniqueId('thread')}`, conversationId, reference: 'AB12CD', openedAt: past() });
  await db
    .collection<{ _id: string; [k: string]: unknown }>('api_submissions')
    .insertOne({ _id: uniqueId('evt'), fingerprint: 'f', conversationId, reference: 'AB12CD', newConversation: true, receivedAt: past() });
  const ids = [uniqueId('msg'), uniqueId('msg')];
  const payloads = [
    { id: uniqueId('e'), type: 'message.sent', data: { conversationId, text: 'my account number is 12345' } },
    { id: uniqueId('e'), type: 'customer.merged', data: { targetCustomerId: customerId, sourceCustomerId: uniqueId('cust') } },
  ];
  await db.collection<{ _id: string }>('webhook_deliveries').insertMany(
    ids.map((_id, i) => ({
      _id,
      subscriptionId: 'sub',
      application: 'crm',
      eventId: payloads[i]!.id,
      eventType: payloads[i]!.type,
      payload: JSON.stringify(payloads[i]),
      recordedAt: past(),
      status: 'pending',
      attempts: 0,
    })),
  );
  await db
    .collection<{ _id: string }>('webhook_due')
    .insertMany(ids.map((_id) => ({ _id, subscriptionId: 'sub', dueAt: new Date(Date.now() + 3_600_000), attempt: 1 })));
  return ids;
}

const count = async (collection: string, filter: object) => db.collection(collection).countDocuments(filter);

it('deletes the threads, submissions and webhook deliveries of an erased conversation and customer', async () => {
  const [erasedConv, erasedCustomer, keptConv, keptCustomer] = [uniqueId('conv'), uniqueId('cust'), uniqueId('conv'), uniqueId('cust')];
  const erasedDeliveries = await conversationData(erasedConv, erasedCustomer);
  const keptDeliveries = await conversationData(keptConv, keptCustomer);
  const reader = await followErasures(
    { kafka: kafka.kafka, logger: createLogger('api-erasure', 'silent'), name: 'integration-api', secret: testErasureKey(), onStop: () => undefined },
    { what: 'integration API', apply: (erased) => eraseApiData(db, erased) },
  );
  if (reader) stops.push(() => reader.stop());
  expect(await count('api_threads', { conversationId: erasedConv })).toBe(1);

  for (const key of [subjectKey(testErasureKey(), 'conversation', erasedConv), subjectKey(testErasureKey(), 'customer', erasedCustomer)])
    await kafka.producer.publish(topics.erasures, key, { subjectKey: key, erasedAt: new Date(), erasureId: uniqueId('erasure') });
  await waitFor(async () => (await count('webhook_deliveries', { _id: { $in: erasedDeliveries } })) === 0, 20_000, 'the erased deliveries to go');
  expect(await count('api_threads', { conversationId: erasedConv })).toBe(0);
  expect(await count('api_submissions', { conversationId: erasedConv })).toBe(0);
  expect(await count('webhook_due', { _id: { $in: erasedDeliveries } })).toBe(0);
  expect(await count('api_threads', { conversationId: keptConv })).toBe(1);
  expect(await count('api_submissions', { conversationId: keptConv })).toBe(1);
  expect(await count('webhook_deliveries', { _id: { $in: keptDeliveries } })).toBe(2);
  expect(await count('webhook_due', { _id: { $in: keptDeliveries } })).toBe(2);
});
