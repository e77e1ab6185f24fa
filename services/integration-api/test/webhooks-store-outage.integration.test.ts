// The webhook intake's store connection goes through a proxy that the test cuts while events
// arrive: the consumer waits (the instance is not ready), nothing is dead-lettered, and once the
// store is back every event is delivered.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEAD_LETTER_TOPIC, topics } from '#libs/kafka';
import { Channel, ConversationEvent } from '#libs/proto';
import { connectKafka, type ServiceContext, type ServiceKafka } from '#libs/service';
import { cuttableProxy, KAFKA_BROKERS, recordTopics, storeAddress, testContext, uniqueId, waitFor } from '#libs/testing';
import { json, startApiHarness, type ApiHarness } from './harness';
import { startReceiver, type Receiver } from './webhook-receiver';

describe('webhooks through a store outage', () => {
  let api: ApiHarness;
  let kctx: ServiceContext;
  let kafka: ServiceKafka;
  let receiver: Receiver;
  let proxy: Awaited<ReturnType<typeof cuttableProxy>>;

  beforeAll(async () => {
    const store = storeAddress();
    proxy = await cuttableProxy(store.host, store.port);
    receiver = await startReceiver('ok');
    api = await startApiHarness({ env: { MONGODB_URI: `mongodb://127.0.0.1:${proxy.port}`, WEBHOOK_ALLOW_PRIVATE_TARGETS: 'true', WEBHOOK_SCAN_MS: '500' } });
    kctx = testContext('webhooks-outage-producer');
    kafka = await connectKafka(kctx, { KAFKA_BROKERS, KAFKA_TOPIC_PARTITIONS: 3, KAFKA_REPLICATION_FACTOR: 1 });
  }, 60_000);
  afterAll(async () => {
    proxy.restore();
    await kctx?.stop();
    await api?.stop();
    await receiver?.close();
    await proxy?.close();
  });

  it('waits out the cut without dead letters, not ready meanwhile, and delivers every event after', { timeout: 150_000 }, async () => {
    const { key } = await api.key(['webhooks:manage']);
    expect((await api.call('/v1/webhooks', { ...json({ url: receiver.url, eventTypes: ['conversation.resolved'] }), key })).status).toBe(201);
    await new Promise((r) => setTimeout(r, 1200));
    const dlq = await recordTopics([DEAD_LETTER_TOPIC]);
    const conversationId = uniqueId('conv');
    const publish = (n: number) =>
      kafka.producer.publish(
        topics.conversationEvents,
        conversationId,
        ConversationEvent.fromPartial({
          eventId: `${conversationId}-${n}`,
          conversationId,
          occurredAt: new Date(),
          channel: Channel.CHANNEL_CHAT,
          step: { $case: 'resolved', resolved: { agentId: 'agent-1', disposition: 'answered' } },
        }),
        { id: `${conversationId}-${n}` },
      );
    const mine = () => receiver.received.filter((r) => r.body.includes(conversationId));
    await publish(0);
    await waitFor(() => mine().length === 1, 20_000, 'the first delivery');

    proxy.cut();
    for (let n = 1; n <= 5; n++) await publish(n);
    // The webhook consumer itself says it waits (beside the store's own check).
    const notReady = await waitFor(
      async () => {
        const report = await api.ctx.readiness.evaluate();
        return Object.entries(report.checks).some(([check, ok]) => check.startsWith('kafka-consumer:webhooks') && !ok) && report;
      },
      60_000,
      'the webhook consumer not ready while the store is cut',
    );
    expect(notReady.ready).toBe(false);
    expect(mine()).toHaveLength(1);
    proxy.restore();

    await waitFor(() => new Set(mine().map((r) => r.headers['webhook-id'])).size === 6, 90_000, 'every event delivered after the cut');
    expect(dlq.records.filter((r) => (r.message.key?.toString() ?? '') === conversationId)).toEqual([]);
    await dlq.close();
  });
});
