// Against the real local broker: what every service relies on.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Channel, ContactKind, ContactReceived, IdentityKind } from '../proto';
import { connectKafka, type ServiceKafka } from '../service/kafka';
import type { ServiceContext } from '../service/runtime';
import { cuttableSocketFactory, KAFKA_BROKERS, recordTopics, testContext, uniqueId, waitFor } from '../testing';
import { KafkaUnavailableError } from './producer';
import { DEAD_LETTER_TOPIC, topics } from './topics';
import { InvalidEventError, RetryLaterError, type ConsumedEvent } from './consumer';

const settings = { KAFKA_BROKERS, KAFKA_TOPIC_PARTITIONS: 3, KAFKA_REPLICATION_FACTOR: 1 };

function contact(conversationId: string): ContactReceived {
  return ContactReceived.fromPartial({
    contactId: uniqueId('contact'),
    conversationId,
    channel: Channel.CHANNEL_EMAIL,
    kind: ContactKind.CONTACT_KIND_MESSAGE,
    receivedAt: new Date('2026-11-22T10:00:00.000Z'),
    sender: { kind: IdentityKind.IDENTITY_KIND_EMAIL, value: 'ana@example.com' },
    senderDisplayName: 'Ana',
    subject: 'Invoice question',
    text: 'Hello, my invoice is wrong.',
    attachments: [{ name: 'invoice.pdf', contentType: 'application/pdf', sizeBytes: 1234, sha256: 'ab'.repeat(32) }],
    channelMetadata: { 'message-id': '<1@example.com>' },
  });
}

describe('Kafka through libs/kafka', () => {
  let ctx: ServiceContext;
  let kafka: ServiceKafka;

  beforeAll(async () => {
    ctx = testContext('kafka-test');
    kafka = await connectKafka(ctx, settings);
  });
  afterAll(() => ctx.stop());

  it('delivers a ContactReceived to another consumer group, equal after decoding, with CloudEvents headers', async () => {
    const conversationId = uniqueId('conv');
    const received: ConsumedEvent<ContactReceived>[] = [];
    await kafka
      .consumer({ groupId: uniqueId('group-a') })
      .on(topics.contactInbound, (e) => {
        if (e.value.conversationId === conversationId) received.push(e);
      })
      .start();
    const sent = contact(conversationId);
    const { id } = await kafka.producer.publish(topics.contactInbound, conversationId, sent);

    const [event] = await waitFor(() => received.length > 0 && received, 15_000, 'the contact');
    expect(event!.value).toEqual(sent);
    expect(event!.key).toBe(conversationId);
    expect(event!.event).toMatchObject({ id, type: 'contactcenter.v1.ContactReceived', specversion: '1.0' });
    expect(event!.event.source).toMatch(/^contactcenter\/kafka-test\//);
    expect(String(event!.headers['content-type'])).toBe('application/protobuf');
  });

  it('splits a burst of large events into requests the broker accepts', async () => {
    const conversationId = uniqueId('conv');
    const big = { ...contact(conversationId), text: 'x'.repeat(20_000) };
    const results = await Promise.all(Array.from({ length: 150 }, () => kafka.producer.publish(topics.contactInbound, conversationId, big)));
    expect(new Set(results.map((r) => r.id)).size).toBe(150);
  });

  it('handles the same ce_id once', async () => {
    const conversationId = uniqueId('conv');
    let handled = 0;
    await kafka
      .consumer({ groupId: uniqueId('group-dedup') })
      .on(topics.contactInbound, (e) => {
        if (e.value.conversationId === conversationId) handled++;
      })
      .start();
    const message = contact(conversationId);
    const id = uniqueId('event');
    await kafka.producer.publish(topics.contactInbound, conversationId, message, { id });
    await kafka.producer.publish(topics.contactInbound, conversationId, message, { id });
    const other = await kafka.producer.publish(topics.contactInbound, conversationId, message);
    expect(other.id).not.toBe(id);

    await waitFor(() => handled >= 2, 15_000, 'two distinct events');
    await new Promise((r) => setTimeout(r, 500));
    expect(handled).toBe(2);
  });

  it('sends undecodable bytes to the dead-letter topic with the reason, and goes on', async () => {
    const dlq = await recordTopics([DEAD_LETTER_TOPIC]);
    const conversationId = uniqueId('conv');
    const good: string[] = [];
    await kafka
      .consumer({ groupId: uniqueId('group-garbage') })
      .on(topics.contactInbound, (e) => {
        if (e.value.conversationId === conversationId) good.push(e.event.id);
      })
      .start();
    const garbage = Buffer.from([0xff, 0xff, 0xff, 0xff, 0x0f, 0x01]);
    await kafka.producer.publishRaw(topics.contactInbound.name, conversationId, garbage, {
      ce_id: uniqueId('garbage'),
      ce_type: topics.contactInbound.type,
      ce_source: 'test',
      ce_time: new Date().toISOString(),
      ce_specversion: '1.0',
    });
    await kafka.producer.publish(topics.contactInbound, conversationId, contact(conversationId));

    const letter = await dlq.waitFor((r) => r.message.key?.toString() === conversationId);
    expect(letter.headers.dlq_reason).toBe('undecodable');
    expect(letter.headers.dlq_detail).toBeTruthy();
    expect(letter.headers.dlq_topic).toBe(topics.contactInbound.name);
    expect(Buffer.compare(letter.message.value!, garbage)).toBe(0);
    await waitFor(() => good.length === 1, 15_000, 'the good record after the bad one');
    await dlq.close();
  });

  it('dead-letters a record without CloudEvents headers, and one whose handler keeps failing', async () => {
    const dlq = await recordTopics([DEAD_LETTER_TOPIC]);
    const headerless = uniqueId('conv');
    const failing = uniqueId('conv');
    let attempts = 0;
    await kafka
      .consumer({ groupId: uniqueId('group-failing'), maxAttempts: 3, backoffMs: 10 })
      .on(topics.contactInbound, (e) => {
        if (e.value.conversationId === failing) {
          attempts++;
          throw new Error('store unavailable');
        }
      })
      .start();
    await kafka.producer.publishRaw(topics.contactInbound.name, headerless, Buffer.from(ContactReceived.encode(contact(headerless)).finish()), {});
    await kafka.producer.publish(topics.contactInbound, failing, contact(failing));

    const noHeaders = await dlq.waitFor((r) => r.message.key?.toString() === headerless);
    expect(noHeaders.headers.dlq_reason).toBe('undecodable');
    expect(noHeaders.headers.dlq_detail).toBe('record has no ce_id header');
    const failed = await dlq.waitFor((r) => r.message.key?.toString() === failing);
    expect(failed.headers.dlq_reason).toBe('handler-failed');
    expect(failed.headers.dlq_detail).toBe('store unavailable');
    expect(failed.headers.dlq_attempts).toBe('3');
    expect(attempts).toBe(3);
    await dlq.close();
  });

  it('fetches a record again when its handler says to retry later, without dead-lettering it', async () => {
    const dlq = await recordTopics([DEAD_LETTER_TOPIC]);
    const conversationId = uniqueId('conv');
    let attempts = 0;
    let handled = 0;
    await kafka
      .consumer({ groupId: uniqueId('group-later'), maxAttempts: 2, backoffMs: 10 })
      .on(topics.contactInbound, (e) => {
        if (e.value.conversationId !== conversationId) return;
        attempts++;
        if (attempts <= 3) throw new RetryLaterError('not the owner yet');
        handled++;
      })
      .start();
    await kafka.producer.publish(topics.contactInbound, conversationId, contact(conversationId));
    await waitFor(() => handled === 1, 15_000, 'the record handled on a later fetch');
    expect(attempts).toBe(4);
    await new Promise((r) => setTimeout(r, 500));
    expect(dlq.records.filter((r) => r.message.key?.toString() === conversationId)).toHaveLength(0);
    expect(handled).toBe(1);
    await dlq.close();
  });
});

describe('batches handled whole', () => {
  it('hands a fetched batch over whole, retries a failing one record by record, dead-letters only the bad one, and commits nothing itself', async () => {
    const ctx = testContext('kafka-batches');
    const kafka = await connectKafka(ctx, settings);
    const group = uniqueId('batches');
    const conversationId = uniqueId('conv');
    const recorder = await recordTopics([DEAD_LETTER_TOPIC]);
    const calls: string[][] = [];
    const handled: string[] = [];
    try {
      // Records of one key, so one partition: "bad" fails the batch it is in, whatever else it holds.
      const texts = ['one', 'two', 'bad', 'four'];
      await kafka
        .consumer({ groupId: group, commitOffsets: false })
        .onBatch(topics.contactInbound, async (events, position) => {
          const ours = events.filter((e) => e.value.conversationId === conversationId);
          if (ours.length === 0) return;
          calls.push(ours.map((e) => e.value.text));
          if (ours.some((e) => e.value.text === 'bad')) throw new InvalidEventError('bad contact');
          expect(Number(position.offset)).toBeGreaterThan(Number(ours[ours.length - 1]!.offset));
          handled.push(...ours.map((e) => e.value.text));
        })
        .start();
      // Published together, they go out in one request, so the consumer fetches them as one batch.
      await Promise.all(texts.map((text) => kafka.producer.publish(topics.contactInbound, conversationId, { ...contact(conversationId), text })));
      await waitFor(() => handled.length === 3, 30_000, 'the good records handled');
      expect(handled).toEqual(['one', 'two', 'four']);
      const letter = await recorder.waitFor((r) => r.message.key?.toString() === conversationId, 20_000);
      expect(letter.headers.dlq_reason).toBe('invalid');
      expect(ContactReceived.decode(letter.message.value!).text).toBe('bad');
      // The batch that held "bad" was tried whole once, then one record at a time.
      expect(calls.some((c) => c.length > 1 && c.includes('bad'))).toBe(true);
      expect(calls.filter((c) => c.length === 1 && c[0] === 'bad')).toHaveLength(1);
      // Offsets are left to the handlers' transactions.
      const admin = kafka.kafka.admin();
      await admin.connect();
      const [committed] = await admin.fetchOffsets({ groupId: group, topics: [topics.contactInbound.name] });
      await admin.disconnect();
      expect(committed!.partitions.every((p) => p.offset === '-1')).toBe(true);
    } finally {
      await recorder.close();
      await ctx.stop();
    }
  });
});

describe('Kafka unreachable', () => {
  it('rejects a publish with KafkaUnavailableError within the timeout, and publishes again once the network is back', async () => {
    const ctx = testContext('kafka-outage');
    const network = cuttableSocketFactory();
    const kafka = await connectKafka(ctx, settings, { publishTimeoutMs: 1500, socketFactory: network.socketFactory });
    const conversationId = uniqueId('conv');
    try {
      network.cut();
      const started = Date.now();
      await expect(kafka.producer.publish(topics.contactInbound, conversationId, contact(conversationId))).rejects.toBeInstanceOf(KafkaUnavailableError);
      expect(Date.now() - started).toBeLessThan(5000);
      network.restore();
      await waitFor(
        () =>
          kafka.producer.publish(topics.contactInbound, conversationId, contact(conversationId)).then(
            () => true,
            () => false,
          ),
        20_000,
        'a publish after the network came back',
      );
    } finally {
      network.restore();
      await ctx.stop();
    }
  });
});
