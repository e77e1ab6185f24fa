// Erasure in the integration API's collections, against the real broker and store: after an
// erasure record on cc.erasure.v1, the erased conversation's thread and submission and the
// webhook deliveries naming the erased conversation or customer (with their due entries) are
// gone, and the application that was sent them gets one `customer.erased` delivery per erased
// id; another customer's stay, and following again (a restart) records nothing twice.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { erasureHarness, uniqueId, waitFor, type ErasureHarness } from '#libs/testing';
import { eraseApiData } from '../src/erasure';

let harness: ErasureHarness;

beforeAll(async () => {
  harness = await erasureHarness('api');
});

afterAll(() => harness?.close());

const past = () => new Date(Date.now() - 1000);
const collection = (name: string) => harness.db.collection<{ _id: string; [k: string]: unknown }>(name);

async function conversationData(conversationId: string, customerId: string): Promise<string[]> {
  await collection('api_threads').insertOne({ _id: `crm|${uniqueId('thread')}`, conversationId, reference: 'AB12CD', openedAt: past() });
  await collection('api_submissions').insertOne({
    _id: uniqueId('evt'),
    fingerprint: 'f',
    conversationId,
    reference: 'AB12CD',
    newConversation: true,
    receivedAt: past(),
  });
  const ids = [uniqueId('msg'), uniqueId('msg')];
  const payloads = [
    { id: uniqueId('e'), type: 'message.sent', data: { conversationId, text: 'my account number is 12345' } },
    { id: uniqueId('e'), type: 'customer.merged', data: { targetCustomerId: customerId, sourceCustomerId: uniqueId('cust') } },
  ];
  await collection('webhook_deliveries').insertMany(
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
  await collection('webhook_due').insertMany(ids.map((_id) => ({ _id, subscriptionId: 'sub', dueAt: new Date(Date.now() + 3_600_000), attempt: 1 })));
  return ids;
}

const count = async (name: string, filter: object) => collection(name).countDocuments(filter);
const erasedEvents = async () =>
  (await collection('webhook_deliveries').find({ eventType: 'customer.erased' }).toArray()).map((d) => JSON.parse(String(d.payload)) as { data: object });

it('deletes the threads, submissions and webhook deliveries of an erased conversation and customer, and tells the application', async () => {
  const [erasedConv, erasedCustomer, keptConv, keptCustomer] = [uniqueId('conv'), uniqueId('cust'), uniqueId('conv'), uniqueId('cust')];
  await collection('webhook_subscriptions').insertMany([
    {
      _id: 'wh_crm',
      application: 'crm',
      url: 'https://crm.example.org/hooks',
      eventTypes: ['customer.erased'],
      description: '',
      secret: 'whsec_x',
      createdAt: past(),
      createdBy: 'k',
    },
    {
      _id: 'wh_shop',
      application: 'shop',
      url: 'https://shop.example.org/hooks',
      eventTypes: ['customer.erased'],
      description: '',
      secret: 'whsec_y',
      createdAt: past(),
      createdBy: 'k',
    },
  ]);
  const erasedDeliveries = await conversationData(erasedConv, erasedCustomer);
  const keptDeliveries = await conversationData(keptConv, keptCustomer);
  const follow = () => harness.follow({ what: 'integration API', apply: (erased) => eraseApiData(harness.db, erased) });
  await follow();
  expect(await count('api_threads', { conversationId: erasedConv })).toBe(1);

  await harness.erase('conversation', erasedConv);
  await harness.erase('customer', erasedCustomer);
  await waitFor(async () => (await count('webhook_deliveries', { _id: { $in: erasedDeliveries } })) === 0, 20_000, 'the erased deliveries to go');
  expect(await count('api_threads', { conversationId: erasedConv })).toBe(0);
  expect(await count('api_submissions', { conversationId: erasedConv })).toBe(0);
  expect(await count('webhook_due', { _id: { $in: erasedDeliveries } })).toBe(0);
  expect(await count('api_threads', { conversationId: keptConv })).toBe(1);
  expect(await count('api_submissions', { conversationId: keptConv })).toBe(1);
  expect(await count('webhook_deliveries', { _id: { $in: keptDeliveries } })).toBe(2);
  expect(await count('webhook_due', { _id: { $in: keptDeliveries } })).toBe(2);

  // crm was sent both ids (the shop nothing): one event each, due to be sent.
  await waitFor(async () => (await erasedEvents()).length === 2, 20_000, 'the customer.erased events');
  expect((await erasedEvents()).map((e) => e.data)).toEqual(
    expect.arrayContaining([
      { customerId: null, conversationId: erasedConv },
      { customerId: erasedCustomer, conversationId: null },
    ]),
  );
  expect(await count('webhook_deliveries', { eventType: 'customer.erased', subscriptionId: 'wh_shop' })).toBe(0);
  const due = (await collection('webhook_deliveries').find({ eventType: 'customer.erased' }).toArray()).map((d) => d._id);
  expect(await count('webhook_due', { _id: { $in: due } })).toBe(2);

  // A restart applies only the erasures new to the store: nothing erased comes back, nothing is told twice.
  await follow();
  expect(await count('webhook_deliveries', { _id: { $in: erasedDeliveries } })).toBe(0);
  expect(await count('api_threads', { conversationId: erasedConv })).toBe(0);
  expect(await erasedEvents()).toHaveLength(2);
  expect(await count('webhook_deliveries', { _id: { $in: keptDeliveries } })).toBe(2);
});
