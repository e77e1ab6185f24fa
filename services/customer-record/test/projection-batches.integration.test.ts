// The projection a batch at a time must leave the store as the projection record by record does:
// the same records, once into a store one by one and once in batches, give the same customers,
// conversations and history (a contact whose verified identity merges two customers included).
import { MongoClient, type Db } from 'mongodb';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createLogger } from '#libs/observability';
import { Channel, ContactKind, ContactReceived, ConversationEvent, IdentityKind } from '#libs/proto';
import { MONGODB_URI, uniqueId } from '#libs/testing';
import { DEFAULT_REGULAR_RULE } from '../src/flags';
import { Projection } from '../src/projection';
import { BatchProjection } from '../src/projection-batches';
import { CustomerStore } from '../src/store';

const silentLogger = createLogger('customer-record', 'silent');
let client: MongoClient;
const databases: Db[] = [];

beforeAll(async () => {
  client = await new MongoClient(MONGODB_URI).connect();
});

afterAll(async () => {
  for (const db of databases) await db.dropDatabase();
  await client.close();
});

async function freshStore(): Promise<CustomerStore> {
  const db = client.db(uniqueId('cr_batch').replace(/-/g, '_'));
  databases.push(db);
  const store = new CustomerStore(db, DEFAULT_REGULAR_RULE);
  await store.ensureIndexes();
  return store;
}

const run = uniqueId('b');
const email = (who: string) => ({ kind: IdentityKind.IDENTITY_KIND_EMAIL, value: `${run}-${who}@example.com`, namespace: '' });
const at = (minute: number) => new Date(Date.UTC(2026, 10, 2, 9, minute));
let n = 0;
const contact = (who: string, conversation: string, minute: number, over: Partial<ContactReceived> = {}) =>
  ContactReceived.fromPartial({
    contactId: `${run}-contact-${++n}`,
    conversationId: `${run}-${conversation}`,
    channel: Channel.CHANNEL_EMAIL,
    kind: ContactKind.CONTACT_KIND_MESSAGE,
    receivedAt: at(minute),
    sender: email(who),
    senderDisplayName: who,
    subject: `about ${conversation}`,
    text: `message ${n}`,
    ...over,
  });
const event = (conversation: string, minute: number, step: ConversationEvent['step']) =>
  ConversationEvent.fromPartial({ eventId: `${run}-event-${++n}`, conversationId: `${run}-${conversation}`, occurredAt: at(minute), step } as never);

// Contacts and events as two topics deliver them: each topic in order, the two interleaved.
const contacts = [
  contact('ana', 'c1', 1),
  contact('ana', 'c1', 2),
  contact('bea', 'c2', 3),
  contact('ana', 'c3', 4),
  contact('ana', 'c1', 5, { kind: ContactKind.CONTACT_KIND_AUTOMATED }),
  // A chat visitor who proved Bea's address: projected on its own, the visitor joins Bea's customer.
  contact('visitor', 'c4', 6, {
    channel: Channel.CHANNEL_CHAT,
    sender: { kind: IdentityKind.IDENTITY_KIND_CHAT_VISITOR, value: `${run}-visitor`, namespace: '' },
    identityHints: [email('bea')],
  }),
  contact('cem', 'c5', 7),
  contact('bea', 'c2', 8),
];
const events = [
  event('c1', 2, { $case: 'assigned', assigned: { agentId: 'agent-1', tier: 1, waitedMs: 1000 } }),
  event('c1', 3, { $case: 'replied', replied: { agentId: 'agent-1', text: 'hello Ana', outboundMessageId: `${run}-out-1`, attachments: [] } }),
  // Before its contact: waits, and joins the customer when the conversation opens.
  event('c5', 6, { $case: 'assigned', assigned: { agentId: 'agent-2', tier: 1, waitedMs: 1000 } }),
  event('c1', 9, { $case: 'resolved', resolved: { agentId: 'agent-1', disposition: 'answered' } }),
  event('c2', 9, { $case: 'replied', replied: { agentId: 'agent-2', text: 'hello Bea', outboundMessageId: `${run}-out-2`, attachments: [] } }),
];

/** The store's content, with customers named by their first identity rather than their random id. */
async function contentOf(store: CustomerStore) {
  const customers = await store.customers.find({}).toArray();
  const name = new Map(customers.map((c) => [c._id, c.identities[0]?.value ?? '?']));
  const named = (id: string) => name.get(id) ?? id;
  return {
    customers: customers
      .map(({ _id, createdAt, mergedInto, recentConversations, ...c }) => ({
        ...c,
        who: named(_id),
        mergedInto: mergedInto && named(mergedInto),
        recentConversations: recentConversations.map((r) => ({ ...r, customerId: named(r.customerId) })),
      }))
      .sort((a, b) => a.who.localeCompare(b.who)),
    conversations: (await store.conversations.find({}).sort({ _id: 1 }).toArray()).map((c) => ({ ...c, customerId: named(c.customerId) })),
    history: (await store.history.find({}).sort({ _id: 1 }).toArray()).map((h) => ({ ...h, customerId: named(h.customerId) })),
    identities: (await store.identities.find({}).sort({ _id: 1 }).toArray()).map(({ linkedAt, ...i }) => ({ ...i, customerId: named(i.customerId) })),
    pending: await store.pending.countDocuments({}),
  };
}

it('leaves the store as the projection record by record does', { timeout: 60_000 }, async () => {
  const one = await freshStore();
  const single = new Projection(one, silentLogger, 'US');
  for (let i = 0; i < Math.max(contacts.length, events.length); i++) {
    if (contacts[i]) await single.onContact(contacts[i]!);
    if (events[i]) await single.onConversationEvent(events[i]!);
  }

  const batched = await freshStore();
  const batches = new BatchProjection(batched, new Projection(batched, silentLogger, 'US'), silentLogger, 'US');
  await batches.onContacts(contacts.slice(0, 1));
  await batches.onConversationEvents(events.slice(0, 3));
  await batches.onContacts(contacts.slice(1, 7));
  await batches.onConversationEvents(events.slice(3));
  await batches.onContacts(contacts.slice(7));

  const expected = await contentOf(one);
  expect(expected.history).toHaveLength(contacts.length + events.length);
  expect(expected.pending).toBe(0);
  expect(expected.identities.find((i) => i.value.endsWith('visitor'))?.customerId).toMatch(/bea/);
  expect(await contentOf(batched)).toEqual(expected);

  // Delivered again (a rebalance, a restart): nothing changes.
  await batches.onContacts(contacts);
  await batches.onConversationEvents(events);
  expect(await contentOf(batched)).toEqual(expected);
});
