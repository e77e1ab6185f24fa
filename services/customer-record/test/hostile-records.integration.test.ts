// customer-record's Kafka edge against hostile records, over the real broker: bytes that are
// not a message, messages with missing, huge or odd fields, headers that lie about the type.
// Each is handled or dead-lettered with a reason, the service stays ready, and an ordinary
// contact published after them is projected as usual.
import fc from 'fast-check';
import { Kafka, logLevel } from 'kafkajs';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { DEAD_LETTER_TOPIC, topics } from '#libs/kafka';
import { Channel, ContactKind, ContactReceived, ConversationEvent, IdentityKind } from '#libs/proto';
import { KAFKA_BROKERS, recordTopics, uniqueId, waitFor } from '#libs/testing';
import type { NormalisedIdentity } from '#libs/contact';
import { dropDatabase, startHarness, type Harness } from './harness';

let h: Harness;
let recorder: Awaited<ReturnType<typeof recordTopics>>;
const kafka = new Kafka({ clientId: uniqueId('hostile'), brokers: KAFKA_BROKERS, logLevel: logLevel.NOTHING });
const producer = kafka.producer();

beforeAll(async () => {
  recorder = await recordTopics([DEAD_LETTER_TOPIC]);
  h = await startHarness();
  await producer.connect();
});

afterAll(async () => {
  await producer.disconnect();
  await recorder?.close();
  await h?.stop();
  if (h) await dropDatabase(h.database);
});

const text = fc.oneof(fc.constant(''), fc.string({ maxLength: 40 }), fc.string({ unit: 'binary', maxLength: 40 }), fc.constant('x'.repeat(70_000)));
const identity = fc.record({ kind: fc.integer({ min: -1, max: 12 }), value: text, namespace: text });

/** One hostile record: its topic, headers and value bytes. */
const hostileRecord = fc.oneof(
  // Bytes that are not the topic's message.
  fc.record({ topic: fc.constant(topics.contactInbound), value: fc.uint8Array({ maxLength: 300 }), type: fc.constant(topics.contactInbound.type) }),
  // A real message under the other topic's type, or no type at all.
  fc.record({
    topic: fc.constant(topics.conversationEvents),
    value: fc.constant(ContactReceived.encode(ContactReceived.fromPartial({ contactId: 'c' })).finish()),
    type: fc.constantFrom(topics.contactInbound.type, ''),
  }),
  // Contacts with whatever fields.
  fc.record({
    topic: fc.constant(topics.contactInbound),
    type: fc.constant(topics.contactInbound.type),
    value: fc
      .record({
        contactId: text,
        conversationId: text,
        channel: fc.integer({ min: -1, max: 9 }),
        kind: fc.integer({ min: -1, max: 9 }),
        sender: identity,
        claimedIdentities: fc.array(identity, { maxLength: 12 }),
        identityHints: fc.array(identity, { maxLength: 12 }),
        subject: text,
        text,
      })
      .map((c) => ContactReceived.encode(ContactReceived.fromPartial(c as never)).finish()),
  }),
  // Conversation events with whatever fields.
  fc.record({
    topic: fc.constant(topics.conversationEvents),
    type: fc.constant(topics.conversationEvents.type),
    value: fc.record({ eventId: text, conversationId: text, customerId: text }).map((e) => ConversationEvent.encode(ConversationEvent.fromPartial(e)).finish()),
  }),
);

it('handles or dead-letters every hostile record with its reason, and goes on projecting', { timeout: 180_000 }, async () => {
  const sent = fc.sample(hostileRecord, { numRuns: 30, seed: 42 }).map((r) => ({ ...r, id: uniqueId('hostile') }));
  for (const r of sent) {
    const headers: Record<string, string> = { ce_id: r.id, ce_source: 'test/hostile', ce_time: new Date().toISOString(), ce_specversion: '1.0' };
    if (r.type) headers.ce_type = r.type;
    await producer.send({ topic: r.topic.name, messages: [{ key: uniqueId('conv'), value: Buffer.from(r.value), headers }] });
  }
  const address = `${uniqueId('after')}@example.com`;
  const ordinary = ContactReceived.fromPartial({
    contactId: uniqueId('contact'),
    conversationId: uniqueId('conv'),
    channel: Channel.CHANNEL_EMAIL,
    kind: ContactKind.CONTACT_KIND_MESSAGE,
    receivedAt: new Date(),
    sender: { kind: IdentityKind.IDENTITY_KIND_EMAIL, value: address },
    newConversation: true,
    text: 'hello',
  });
  await producer.send({
    topic: topics.contactInbound.name,
    messages: [
      {
        key: ordinary.conversationId,
        value: Buffer.from(ContactReceived.encode(ordinary).finish()),
        headers: {
          ce_id: ordinary.contactId,
          ce_source: 'test/hostile',
          ce_type: topics.contactInbound.type,
          ce_time: new Date().toISOString(),
          ce_specversion: '1.0',
        },
      },
    ],
  });
  await waitFor(
    async () =>
      (await h.service.store.findCustomerId({ kind: IdentityKind.IDENTITY_KIND_EMAIL, value: address, namespace: '' } as NormalisedIdentity)) ?? undefined,
    90_000,
    'the ordinary contact projected after the hostile ones',
  );
  expect((await h.ctx.readiness.evaluate()).ready).toBe(true);
  const ours = new Set(sent.map((r) => r.id));
  // What can never be a record of its topic always goes to the dead letters (the other topic may lag).
  const mistyped = sent.filter((r) => r.type !== r.topic.type).map((r) => r.id);
  await waitFor(() => mistyped.every((id) => recorder.records.some((d) => d.headers.ce_id === id)), 60_000, 'every mistyped record dead-lettered');
  const deadLetters = recorder.records.filter((r) => ours.has(r.headers.ce_id ?? ''));
  // Dead letters say why, in one of the consumer's words; none was dead-lettered twice by one
  // consumer group (the projection and the search index read the same topics, each in its own).
  expect(deadLetters.every((r) => ['undecodable', 'invalid', 'handler-failed'].includes(r.headers.dlq_reason ?? ''))).toBe(true);
  expect(new Set(deadLetters.map((r) => `${r.headers.ce_id}|${r.headers.dlq_consumer_group}`)).size).toBe(deadLetters.length);
});
