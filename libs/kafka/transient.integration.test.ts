// A handler whose dependency is down waits for it, however long, and is never dead-lettered;
// only what can never be processed goes to the dead-letter topic.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TransientError } from '../faults';
import { Channel, ContactKind, ContactReceived, IdentityKind } from '../proto';
import { connectKafka, type ServiceKafka } from '../service/kafka';
import type { ServiceContext } from '../service/runtime';
import { KAFKA_BROKERS, recordTopics, testContext, uniqueId, waitFor } from '../testing';
import { InvalidEventError } from './errors';
import { DEAD_LETTER_TOPIC, topics } from './topics';

const settings = { KAFKA_BROKERS, KAFKA_TOPIC_PARTITIONS: 3, KAFKA_REPLICATION_FACTOR: 1 };

const contact = (conversationId: string) =>
  ContactReceived.fromPartial({
    contactId: uniqueId('contact'),
    conversationId,
    channel: Channel.CHANNEL_CHAT,
    kind: ContactKind.CONTACT_KIND_MESSAGE,
    receivedAt: new Date(),
    sender: { kind: IdentityKind.IDENTITY_KIND_CHAT_VISITOR, value: uniqueId('visitor') },
  });

async function metric(ctx: ServiceContext, name: string, labels: Record<string, string>): Promise<number | undefined> {
  const values = (await ctx.metrics.getSingleMetric(name)?.get())?.values ?? [];
  return values.find((v) => Object.entries(labels).every(([k, l]) => v.labels[k] === l))?.value;
}

describe('transient and permanent handler failures', () => {
  let ctx: ServiceContext;
  let kafka: ServiceKafka;
  beforeAll(async () => {
    ctx = testContext('transient-test');
    kafka = await connectKafka(ctx, settings);
  });
  afterAll(() => ctx.stop());

  it('retries a handler failing with a transient error until it succeeds, not ready meanwhile, never dead-lettered', async () => {
    const dlq = await recordTopics([DEAD_LETTER_TOPIC]);
    const group = uniqueId('group-waits');
    const conversationId = uniqueId('conv');
    let attempts = 0;
    let storeUp = false;
    let handled = 0;
    await kafka
      .consumer({ groupId: group, maxAttempts: 5, transientBackoff: { initialMs: 20, maxMs: 200 }, lagRefreshMs: 200 })
      .on(topics.contactInbound, (e) => {
        if (e.value.conversationId !== conversationId) return;
        attempts++;
        if (!storeUp) throw new TransientError('connect ECONNREFUSED 127.0.0.1:27017 (test store down)');
        handled++;
      })
      .start();
    const check = `kafka-consumer:${group}`;
    expect((await ctx.readiness.evaluate()).checks[check]).toBe(true);
    await kafka.producer.publish(topics.contactInbound, conversationId, contact(conversationId));

    // Well past the five attempts a permanent failure gets.
    await waitFor(() => attempts > 12, 20_000, 'more than twelve attempts');
    const waiting = await ctx.readiness.evaluate();
    expect(waiting.ready).toBe(false);
    expect(waiting.checks[check]).toBe(false);
    expect(waiting.details?.[check]).toMatch(/1 record\(s\) waiting for a dependency for \d+ s .*test store down/);
    expect(await metric(ctx, 'cc_kafka_consumer_waiting', { group, topic: topics.contactInbound.name })).toBe(1);
    // Records arriving behind the waiting one show as lag, though no batch comes meanwhile.
    for (let i = 0; i < 3; i++) await kafka.producer.publish(topics.contactInbound, conversationId, contact(conversationId));
    const lagged = async () =>
      (await ctx.metrics.getSingleMetric('cc_kafka_consumer_lag')?.get())?.values.some((v) => v.labels.group === group && v.value >= 4);
    await waitFor(lagged, 10_000, 'the lag of the held partition counting the records behind the waiting one');

    storeUp = true;
    await waitFor(() => handled === 4, 10_000, 'the records handled once the store is back');
    await waitFor(async () => (await ctx.readiness.evaluate()).checks[check], 5000, 'the consumer ready again');
    expect(await metric(ctx, 'cc_kafka_consumer_waiting', { group, topic: topics.contactInbound.name })).toBe(0);
    expect(await metric(ctx, 'cc_kafka_consumed_total', { group, topic: topics.contactInbound.name, outcome: 'handled' })).toBeGreaterThanOrEqual(1);
    const lag = (await ctx.metrics.getSingleMetric('cc_kafka_consumer_lag')?.get())?.values.filter((v) => v.labels.group === group) ?? [];
    expect(lag.length).toBeGreaterThan(0);
    expect(lag.every((v) => v.value === 0)).toBe(true);
    await new Promise((r) => setTimeout(r, 500));
    expect(handled).toBe(4);
    expect(dlq.records.filter((r) => r.message.key?.toString() === conversationId)).toEqual([]);
    await dlq.close();
  });

  it('dead-letters a permanent failure after its attempts, and invalid content at once', async () => {
    const dlq = await recordTopics([DEAD_LETTER_TOPIC]);
    const broken = uniqueId('conv');
    const invalid = uniqueId('conv');
    const attempts = { broken: 0, invalid: 0 };
    await kafka
      .consumer({ groupId: uniqueId('group-permanent'), maxAttempts: 3, backoffMs: 10 })
      .on(topics.contactInbound, (e) => {
        if (e.value.conversationId === broken) {
          attempts.broken++;
          throw new TypeError("Cannot read properties of undefined (reading 'id')");
        }
        if (e.value.conversationId === invalid) {
          attempts.invalid++;
          throw new InvalidEventError('contact has no sender');
        }
      })
      .start();
    await kafka.producer.publish(topics.contactInbound, broken, contact(broken));
    await kafka.producer.publish(topics.contactInbound, invalid, contact(invalid));
    const failed = await dlq.waitFor((r) => r.message.key?.toString() === broken);
    expect(failed.headers).toMatchObject({ dlq_reason: 'handler-failed', dlq_attempts: '3' });
    const rejected = await dlq.waitFor((r) => r.message.key?.toString() === invalid);
    expect(rejected.headers).toMatchObject({ dlq_reason: 'invalid', dlq_detail: 'contact has no sender' });
    expect(attempts).toEqual({ broken: 3, invalid: 1 });
    await dlq.close();
  });

  it('stops a consumer whose record is waiting, without dead-lettering it, and the next member handles it', async () => {
    const dlq = await recordTopics([DEAD_LETTER_TOPIC]);
    const group = uniqueId('group-stop');
    const conversationId = uniqueId('conv');
    const own = testContext('transient-stop');
    const ownKafka = await connectKafka(own, settings);
    let attempts = 0;
    // A first record of the same conversation (same partition) is handled and committed, so the
    // group has a position there for the next member.
    const first = contact(conversationId);
    const waiting = contact(conversationId);
    let firstHandled = false;
    await ownKafka
      .consumer({ groupId: group, transientBackoff: { initialMs: 20, maxMs: 100 } })
      .on(topics.contactInbound, (e) => {
        if (e.value.contactId === first.contactId) firstHandled = true;
        if (e.value.contactId !== waiting.contactId) return;
        attempts++;
        throw new TransientError('store down');
      })
      .start();
    await kafka.producer.publish(topics.contactInbound, conversationId, first);
    await waitFor(() => firstHandled, 15_000, 'the first record');
    await kafka.producer.publish(topics.contactInbound, conversationId, waiting);
    await waitFor(() => attempts > 3, 15_000, 'the record waiting');
    const stopping = Date.now();
    await own.stop();
    expect(Date.now() - stopping).toBeLessThan(10_000);
    const stoppedAt = attempts;

    // The record was not committed: the group's next member gets it.
    let handled = 0;
    await kafka
      .consumer({ groupId: group })
      .on(topics.contactInbound, (e) => {
        if (e.value.contactId === waiting.contactId) handled++;
      })
      .start();
    await waitFor(() => handled === 1, 20_000, 'the next member to handle the record');
    expect(attempts).toBe(stoppedAt);
    expect(dlq.records.filter((r) => r.message.key?.toString() === conversationId)).toEqual([]);
    await dlq.close();
  });
});
