// The projection's store connection goes through a proxy that the test cuts for a few seconds
// while contacts arrive: nothing is dead-lettered, and every contact is projected once after.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEAD_LETTER_TOPIC, topics } from '#libs/kafka';
import { ContactReceived, IdentityKind } from '#libs/proto';
import { connectKafka, type ServiceContext, type ServiceKafka } from '#libs/service';
import { cuttableProxy, KAFKA_BROKERS, recordTopics, storeAddress, testContext, uniqueId, waitFor } from '#libs/testing';
import { dropDatabase, startHarness, type Harness, emailContact } from './harness';

const contact = () => emailContact({ sender: { kind: IdentityKind.IDENTITY_KIND_EMAIL, value: `${uniqueId('outage')}@example.com`, namespace: '' } });

describe('customer-record through a store outage', () => {
  let h: Harness;
  let kctx: ServiceContext;
  let kafka: ServiceKafka;
  let proxy: Awaited<ReturnType<typeof cuttableProxy>>;

  beforeAll(async () => {
    const store = storeAddress();
    proxy = await cuttableProxy(store.host, store.port);
    h = await startHarness({ env: { MONGODB_URI: `mongodb://127.0.0.1:${proxy.port}` } });
    kctx = testContext('customer-record-outage-producer');
    kafka = await connectKafka(kctx, { KAFKA_BROKERS, KAFKA_TOPIC_PARTITIONS: 3, KAFKA_REPLICATION_FACTOR: 1 });
  });
  afterAll(async () => {
    proxy.restore();
    await kctx.stop();
    await h.stop();
    await proxy.close();
    await dropDatabase(h.database);
  });

  it('a store cut of a few seconds under incoming contacts leaves no dead letter and projects each contact once', { timeout: 150_000 }, async () => {
    const dlq = await recordTopics([DEAD_LETTER_TOPIC]);
    const sent: ContactReceived[] = [];
    const send = async () => {
      const c = contact();
      sent.push(c);
      await kafka.producer.publish(topics.contactInbound, c.conversationId, c);
    };
    // The contact's own entries (routing instances of other tests may queue these conversations
    // too, and their events add entries of another kind).
    const projected = async (c: ContactReceived) =>
      (await h.service.store.history.find({ conversationId: c.conversationId }).toArray()).filter((e) => e._id.startsWith('contact:')).length;
    await send();
    await waitFor(async () => (await projected(sent[0]!)) === 1, 45_000, 'the first contact projected');

    proxy.cut();
    const cutAt = Date.now();
    while (Date.now() - cutAt < 4000) {
      await send();
      await new Promise((r) => setTimeout(r, 100));
    }
    await waitFor(async () => !(await h.ctx.readiness.evaluate()).ready, 15_000, 'customer-record not ready while the store is cut');
    proxy.restore();

    await waitFor(async () => (await h.ctx.readiness.evaluate()).ready, 30_000, 'customer-record ready again');
    for (const c of sent) await waitFor(async () => (await projected(c)) > 0, 45_000, `contact ${c.contactId} projected`);
    await new Promise((r) => setTimeout(r, 500));
    const counts = await Promise.all(sent.map(projected));
    expect(counts).toEqual(sent.map(() => 1));
    expect(sent.length).toBeGreaterThan(20);
    const ours = new Set(sent.map((c) => c.conversationId));
    expect(dlq.records.filter((r) => ours.has(r.message.key?.toString() ?? ''))).toEqual([]);
    await dlq.close();
  });
});
