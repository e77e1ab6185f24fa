// Two instances of the integration API share the store and the webhook consumer group, as in a
// deployment with replicas. Each sees every due delivery in its scans of the store, so without
// the claims both would send it: every attempt must reach the receiver exactly once, a retry
// whichever instance makes it, and both instances must have made some.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { topics } from '#libs/kafka';
import { Channel, ConversationEvent } from '#libs/proto';
import { connectKafka, type ServiceContext, type ServiceKafka } from '#libs/service';
import { dropDatabase, KAFKA_BROKERS, testContext, uniqueId, waitFor } from '#libs/testing';
import { json, startApiHarness, type ApiHarness } from './harness';
import { startReceiver, type Receiver } from './webhook-receiver';

const EVENTS = 40;

describe('webhooks from two instances', () => {
  const database = uniqueId('api_shared').replace(/-/g, '_');
  let instances: ApiHarness[] = [];
  let kctx: ServiceContext;
  let kafka: ServiceKafka;
  let receiver: Receiver;

  beforeAll(async () => {
    receiver = await startReceiver('second-time');
    const env = {
      MONGODB_DATABASE: database,
      WEBHOOK_GROUP_ID: uniqueId('webhooks'),
      WEBHOOK_ALLOW_PRIVATE_TARGETS: 'true',
      WEBHOOK_FIRST_RETRY_MS: '300',
      // Scans often, so that each instance holds the other's due entries when they come due.
      WEBHOOK_SCAN_MS: '200',
    };
    instances = [await startApiHarness({ env }), await startApiHarness({ env })];
    kctx = testContext('webhooks-instances-producer');
    kafka = await connectKafka(kctx, { KAFKA_BROKERS, KAFKA_TOPIC_PARTITIONS: 3, KAFKA_REPLICATION_FACTOR: 1 });
  }, 60_000);
  afterAll(async () => {
    await kctx?.stop();
    await Promise.all(instances.map((i) => i.stop()));
    await dropDatabase(database);
    await receiver?.close();
  });

  it('sends every attempt once, whichever instance holds it', { timeout: 90_000 }, async () => {
    const [first] = instances;
    const { key } = await first!.key(['webhooks:manage']);
    expect((await first!.call('/v1/webhooks', { ...json({ url: receiver.url, eventTypes: ['conversation.resolved'] }), key })).status).toBe(201);
    // Both consumers must see the subscription before the events arrive (they re-read it every second).
    await new Promise((r) => setTimeout(r, 1500));
    const run = uniqueId('conv');
    await Promise.all(
      Array.from({ length: EVENTS }, (_, n) => {
        const conversationId = `${run}-${n}`;
        return kafka.producer.publish(
          topics.conversationEvents,
          conversationId,
          ConversationEvent.fromPartial({
            eventId: `${conversationId}-resolved`,
            conversationId,
            occurredAt: new Date(),
            channel: Channel.CHANNEL_CHAT,
            step: { $case: 'resolved', resolved: { agentId: 'agent-1', disposition: 'answered' } },
          }),
          { id: `${conversationId}-resolved` },
        );
      }),
    );
    const mine = () => receiver.received.filter((r) => r.body.includes(run));
    const attemptsOf = () => {
      const byId = new Map<string, number>();
      for (const r of mine()) byId.set(r.headers['webhook-id']!, (byId.get(r.headers['webhook-id']!) ?? 0) + 1);
      return byId;
    };
    await waitFor(
      () => attemptsOf().size === EVENTS && [...attemptsOf().values()].every((n) => n >= 2),
      60_000,
      'a failed first and a delivered second attempt of every event',
    );
    // Time for a doubled attempt to arrive, had one been made.
    await new Promise((r) => setTimeout(r, 2000));
    expect([...attemptsOf().values()].filter((n) => n !== 2)).toEqual([]);

    const made = await Promise.all(
      instances.map(async (i) =>
        ((await i.ctx.metrics.getSingleMetric('cc_webhook_attempts_total')?.get())?.values ?? []).reduce((sum, v) => sum + v.value, 0),
      ),
    );
    // Other tests' resolved conversations may reach this subscription too: at least these were made.
    expect(made.reduce((a, b) => a + b)).toBeGreaterThanOrEqual(2 * EVENTS);
    expect(Math.min(...made)).toBeGreaterThan(0);
  });
});
