// A resolve that died between its two writes (the identity claimed, its customer not written,
// as when the store is killed) must not stop the sender's next contact: it completes the customer.
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { topics } from '#libs/kafka';
import { Channel, ContactKind, ContactReceived, IdentityKind } from '#libs/proto';
import { connectKafka, type ServiceContext, type ServiceKafka } from '#libs/service';
import { KAFKA_BROKERS, testContext, uniqueId, waitFor } from '#libs/testing';
import { identityKey, type NormalisedIdentity } from '#libs/contact';
import { dropDatabase, startHarness, type Harness } from './harness';

let h: Harness;
let ctx: ServiceContext;
let kafka: ServiceKafka;

beforeAll(async () => {
  h = await startHarness();
  ctx = testContext('half-written');
  kafka = await connectKafka(ctx, { KAFKA_BROKERS, KAFKA_TOPIC_PARTITIONS: 3, KAFKA_REPLICATION_FACTOR: 1 });
});

afterAll(async () => {
  await ctx?.stop();
  await h?.stop();
  if (h) await dropDatabase(h.database);
});

it("projects a contact whose sender's identity was claimed by a resolve that never wrote the customer", { timeout: 120_000 }, async () => {
  const sender: NormalisedIdentity = { kind: IdentityKind.IDENTITY_KIND_EMAIL, value: `${uniqueId('half')}@example.com`, namespace: '' };
  const customerId = randomUUID();
  await h.service.store.identities.insertOne({
    _id: identityKey(sender),
    kind: sender.kind,
    value: sender.value,
    namespace: sender.namespace,
    customerId,
    linkedAt: new Date(),
  } as never);
  const contact = ContactReceived.fromPartial({
    contactId: uniqueId('contact'),
    conversationId: uniqueId('conv'),
    channel: Channel.CHANNEL_EMAIL,
    kind: ContactKind.CONTACT_KIND_MESSAGE,
    receivedAt: new Date(),
    sender,
    newConversation: true,
    text: 'hello again',
  });
  await kafka.producer.publish(topics.contactInbound, contact.conversationId, contact);
  const customer = await waitFor(() => h.service.store.customers.findOne({ _id: customerId }).then((c) => c ?? undefined), 60_000, 'the customer completed');
  expect(customer.identities).toEqual([sender]);
  await waitFor(
    async () => (await h.service.store.findConversation(contact.conversationId))?.customerId === customerId,
    30_000,
    'the conversation on that customer',
  );
});
