// Outbound webhooks as an integrator meets them: subscriptions made over the API, real
// ConversationEvent, OutboundMessage and CustomerMerged records on Kafka, real receivers on
// 127.0.0.1, every delivery verified with the snippet of docs/integration-api.md; a receiver that
// never answers and one that answers 500 are retried while a healthy one gets its deliveries at
// once; the log, replays, and one application not seeing another's.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { topics } from '#libs/kafka';
import { Channel, ConversationEvent, CustomerMerged, IdentityKind, OutboundKind, OutboundMessage, Tier } from '#libs/proto';
import { connectKafka, type ServiceContext, type ServiceKafka } from '#libs/service';
import { KAFKA_BROKERS, testContext, uniqueId, waitFor } from '#libs/testing';
import { json, startApiHarness, type ApiHarness } from './harness';
import { documentedVerifier, startReceiver, type Receiver } from './webhook-receiver';

type Created = { id: string; secret: string; url: string; eventTypes: string[] };
type LogPage = {
  deliveries: { id: string; status: string; attempts: number; eventId: string; lastAttempt: { statusCode: number | null; error: string | null } | null }[];
  nextCursor: string | null;
};

describe('outbound webhooks', () => {
  let api: ApiHarness;
  let kctx: ServiceContext;
  let kafka: ServiceKafka;
  let healthy: Receiver;
  let dead: Receiver;
  let failing: Receiver;
  let verify: Awaited<ReturnType<typeof documentedVerifier>>;
  let shop: { key: string };
  let crm: { key: string };

  beforeAll(async () => {
    [healthy, dead, failing] = await Promise.all([startReceiver('ok'), startReceiver('never'), startReceiver('error')]);
    verify = await documentedVerifier();
    api = await startApiHarness({
      env: {
        WEBHOOK_ALLOW_PRIVATE_TARGETS: 'true',
        WEBHOOK_GROUP_ID: uniqueId('webhooks'),
        // Longer than any healthy delivery may take here: had the dead receiver held the others up, their latencies would show it.
        WEBHOOK_TIMEOUT_MS: '4000',
        WEBHOOK_FIRST_RETRY_MS: '200',
        WEBHOOK_RETRY_FOR_MS: '8000',
        WEBHOOK_SCAN_MS: '500',
      },
    });
    kctx = testContext('webhook-events');
    kafka = await connectKafka(kctx, { KAFKA_BROKERS, KAFKA_TOPIC_PARTITIONS: 3, KAFKA_REPLICATION_FACTOR: 1 });
    shop = await api.key(['webhooks:manage'], 100_000, 'shop');
    crm = await api.key(['webhooks:manage'], 100_000, 'crm');
  }, 60_000);
  afterAll(async () => {
    await api?.stop();
    await kctx?.stop();
    await Promise.all([healthy, dead, failing].map((r) => r?.close()));
  });

  const subscribe = async (key: string, url: string, eventTypes: string[]) => {
    const res = await api.call('/v1/webhooks', { ...json({ url, eventTypes }), key });
    expect(res.status, await res.clone().text()).toBe(201);
    return (await res.json()) as Created;
  };
  const log = async (key: string, id: string, query = '') => (await (await api.call(`/v1/webhooks/${id}/deliveries${query}`, { key })).json()) as LogPage;
  const bodyOf = (r: { body: string }) => JSON.parse(r.body) as { id: string; type: string; data: Record<string, unknown> };

  const assigned = (conversationId: string, n: number) =>
    ConversationEvent.fromPartial({
      eventId: `${conversationId}-assigned-${n}`,
      conversationId,
      channel: Channel.CHANNEL_CHAT,
      customerId: 'cust-1',
      occurredAt: new Date(),
      step: { $case: 'assigned', assigned: { agentId: `agent-${n}`, tier: Tier.TIER_FRONT_OFFICE, waitedMs: 1000 } },
    });

  it('delivers signed events at once to a healthy subscription while a dead and a failing one are retried', async () => {
    const types = ['conversation.assigned'];
    const good = await subscribe(shop.key, healthy.url, types);
    const stuck = await subscribe(shop.key, dead.url, types);
    const erring = await subscribe(shop.key, failing.url, types);
    expect(good.secret).toMatch(/^whsec_/);
    // The consumer sees a new subscription within a second.
    await new Promise((r) => setTimeout(r, 1200));
    const conversationId = uniqueId('conv');
    const sentAt = new Map<string, number>();
    for (let n = 0; n < 12; n++) {
      const event = assigned(conversationId, n);
      sentAt.set(event.eventId, Date.now());
      await kafka.producer.publish(topics.conversationEvents, conversationId, event, { id: event.eventId });
      await new Promise((r) => setTimeout(r, 100));
    }
    const mine = () => healthy.received.filter((r) => (bodyOf(r).data.conversationId as string) === conversationId);
    await waitFor(() => mine().length >= 12, 20_000, 'twelve deliveries to the healthy receiver');
    const latencies = mine().map((r) => r.at - sentAt.get(bodyOf(r).id)!);
    // Meanwhile the dead receiver holds requests open and the failing one answers 500.
    expect(dead.held).toBeGreaterThan(0);
    // Each arrived well within one of the dead receiver's timeouts (a pipeline it blocked would add 4 s per event).
    expect(Math.max(...latencies), `latencies ${latencies.join(', ')} ms`).toBeLessThan(3000);
    for (const r of mine()) {
      expect(verify(good.secret, r.headers, r.body)).toBe(true);
      expect(verify(stuck.secret, r.headers, r.body)).toBe(false);
      expect(verify(good.secret, r.headers, `${r.body} `)).toBe(false);
      expect(r.headers['content-type']).toBe('application/json');
      expect(bodyOf(r)).toMatchObject({ type: 'conversation.assigned', data: { channel: 'chat', tier: 'front-office' } });
    }
    // A timestamp older than the tolerance is refused by the same snippet.
    const old = mine()[0]!;
    expect(verify(good.secret, { ...old.headers, 'webhook-timestamp': String(Math.floor(Date.now() / 1000) - 600) }, old.body)).toBe(false);

    const dueOrFailed = await waitFor(
      async () => {
        const page = await log(shop.key, erring.id, '?limit=100');
        const ours = page.deliveries.filter((d) => d.attempts >= 2);
        return ours.length >= 12 && ours;
      },
      20_000,
      'the failing receiver retried',
    );
    expect(dueOrFailed[0]!.lastAttempt).toMatchObject({ statusCode: 500 });
    // Each event reached the failing receiver more than once, under one webhook-id.
    const ids = failing.received.map((r) => r.headers['webhook-id']);
    expect(ids.filter((id) => id === dueOrFailed[0]!.id).length).toBeGreaterThanOrEqual(2);
    await waitFor(async () => (await log(shop.key, stuck.id, '?limit=100')).deliveries.some((d) => d.attempts >= 2), 20_000, 'the dead receiver retried');
    const stuckPage = await log(shop.key, stuck.id, '?limit=100');
    expect(stuckPage.deliveries.find((d) => d.attempts >= 1)?.lastAttempt?.error).toMatch(/no answer within 4000 ms/);
    // After the (shortened) day of retries the failing deliveries are failed.
    const failed = await waitFor(
      async () => {
        const page = await log(shop.key, erring.id, '?status=failed&limit=100');
        return page.deliveries.length >= 12 && page;
      },
      30_000,
      'the failing deliveries given up',
    );
    expect(failed.deliveries.every((d) => d.status === 'failed' && d.attempts >= 3)).toBe(true);
  }, 90_000);

  it('keeps a log paged by cursor, shows one delivery with its body, and replays one and all since a time', async () => {
    const sub = await subscribe(shop.key, healthy.url, ['conversation.assigned']);
    await new Promise((r) => setTimeout(r, 1200));
    const conversationId = uniqueId('conv');
    for (let n = 0; n < 3; n++)
      await kafka.producer.publish(topics.conversationEvents, conversationId, assigned(conversationId, n), { id: `${conversationId}-${n}` });
    const delivered = await waitFor(
      async () => {
        const page = await log(shop.key, sub.id, '?status=delivered');
        return page.deliveries.length >= 3 && page;
      },
      20_000,
      'three delivered',
    );
    const first = await log(shop.key, sub.id, '?limit=2');
    expect(first.deliveries).toHaveLength(2);
    const second = await log(shop.key, sub.id, `?limit=2&cursor=${first.nextCursor}`);
    expect(second.deliveries).toHaveLength(1);
    expect(second.nextCursor).toBeNull();
    expect(new Set([...first.deliveries, ...second.deliveries].map((d) => d.id)).size).toBe(3);

    const one = delivered.deliveries[0]!;
    const detail = (await (await api.call(`/v1/webhooks/${sub.id}/deliveries/${one.id}`, { key: shop.key })).json()) as { payload: string; status: string };
    expect(detail.status).toBe('delivered');
    const before = healthy.received.filter((r) => r.headers['webhook-id'] === one.id).length;
    const replay = await api.call(`/v1/webhooks/${sub.id}/deliveries/${one.id}/replay`, { method: 'POST', key: shop.key });
    expect(replay.status).toBe(202);
    expect(await replay.json()).toEqual({ replayed: 1, alreadyPending: false });
    const again = await waitFor(
      () =>
        healthy.received.filter((r) => r.headers['webhook-id'] === one.id).length > before &&
        healthy.received.filter((r) => r.headers['webhook-id'] === one.id).at(-1),
      10_000,
      'the replayed delivery',
    );
    expect(again.body).toBe(detail.payload);
    expect(verify(sub.secret, again.headers, again.body)).toBe(true);

    const sinceRes = await api.call(`/v1/webhooks/${sub.id}/replay`, { ...json({ since: new Date(Date.now() - 60_000).toISOString() }), key: shop.key });
    expect(sinceRes.status).toBe(202);
    expect(((await sinceRes.json()) as { replayed: number }).replayed).toBeGreaterThanOrEqual(2);
  }, 60_000);

  it('sends an API conversation’s replies to its own application only, and customer merges to all subscribed', async () => {
    const shopSub = await subscribe(shop.key, healthy.url, ['message.sent', 'customer.merged']);
    const crmSub = await subscribe(crm.key, healthy.url, ['message.sent', 'customer.merged']);
    await new Promise((r) => setTimeout(r, 1200));
    const conversationId = uniqueId('conv');
    const reply = OutboundMessage.fromPartial({
      messageId: uniqueId('out'),
      conversationId,
      channel: Channel.CHANNEL_API,
      kind: OutboundKind.OUTBOUND_KIND_REPLY,
      recipient: { kind: IdentityKind.IDENTITY_KIND_OTHER, value: 'cust-42', namespace: 'api.shop' },
      text: 'Your parcel left today.',
      agentId: 'agent-7',
      createdAt: new Date(),
    });
    await kafka.producer.publish(topics.outbound, conversationId, reply, { id: reply.messageId });
    const mergeId = uniqueId('merge');
    await kafka.producer.publish(
      topics.customerMerges,
      'cust-target',
      CustomerMerged.fromPartial({ mergeId, targetCustomerId: 'cust-target', sourceCustomerId: 'cust-source', mergedAt: new Date(), cause: 'supervisor' }),
      { id: mergeId },
    );
    const received = (type: string, id: string) => healthy.received.filter((r) => bodyOf(r).type === type && bodyOf(r).id === id);
    await waitFor(() => received('customer.merged', mergeId).length >= 2, 20_000, 'the merge at both applications');
    const sent = await waitFor(() => received('message.sent', reply.messageId)[0], 20_000, 'the reply at the shop');
    expect(verify(shopSub.secret, sent.headers, sent.body)).toBe(true);
    expect(bodyOf(sent).data).toMatchObject({ conversationId, kind: 'reply', text: 'Your parcel left today.', customer: { id: 'cust-42' } });
    await new Promise((r) => setTimeout(r, 500));
    expect(received('message.sent', reply.messageId)).toHaveLength(1);
    const merges = received('customer.merged', mergeId);
    expect(merges.some((r) => verify(crmSub.secret, r.headers, r.body))).toBe(true);
    expect((await log(crm.key, crmSub.id)).deliveries.map((d) => d.eventId)).toEqual([mergeId]);
  }, 60_000);

  it('keeps each application’s subscriptions to itself, pages them, rotates the secret and deletes', async () => {
    const mine = await subscribe(crm.key, healthy.url, ['sla.breached']);
    expect((await api.call(`/v1/webhooks/${mine.id}`, { key: shop.key })).status).toBe(404);
    expect((await api.call(`/v1/webhooks/${mine.id}/deliveries`, { key: shop.key })).status).toBe(404);
    expect((await api.call(`/v1/webhooks/${mine.id}`, { method: 'DELETE', key: shop.key })).status).toBe(404);
    const listed = (await (await api.call('/v1/webhooks?limit=100', { key: shop.key })).json()) as { webhooks: { id: string }[] };
    expect(listed.webhooks.map((w) => w.id)).not.toContain(mine.id);
    const read = (await (await api.call(`/v1/webhooks/${mine.id}`, { key: crm.key })).json()) as Record<string, unknown>;
    expect(read).toMatchObject({ id: mine.id, url: healthy.url, eventTypes: ['sla.breached'] });
    expect(read.secret).toBeUndefined();
    const pageOne = (await (await api.call('/v1/webhooks?limit=1', { key: crm.key })).json()) as { webhooks: { id: string }[]; nextCursor: string };
    const pageTwo = (await (await api.call(`/v1/webhooks?limit=100&cursor=${pageOne.nextCursor}`, { key: crm.key })).json()) as { webhooks: { id: string }[] };
    expect([...pageOne.webhooks, ...pageTwo.webhooks].map((w) => w.id)).toContain(mine.id);

    const rotated = (await (await api.call(`/v1/webhooks/${mine.id}/rotate-secret`, { method: 'POST', key: crm.key })).json()) as {
      secret: string;
      previousSecretValidUntil: string;
    };
    expect(rotated.secret).not.toBe(mine.secret);
    expect(new Date(rotated.previousSecretValidUntil).getTime()).toBeGreaterThan(Date.now());
    expect((await api.call(`/v1/webhooks/${mine.id}`, { method: 'DELETE', key: crm.key })).status).toBe(204);
    expect((await api.call(`/v1/webhooks/${mine.id}`, { key: crm.key })).status).toBe(404);
    const noScope = await api.key(['queues:read']);
    expect((await api.call('/v1/webhooks', { key: noScope.key })).status).toBe(403);
    const bad = await api.call('/v1/webhooks', { ...json({ url: 'ftp://example.org/', eventTypes: ['sla.breached'] }), key: crm.key });
    expect(bad.status).toBe(400);
    expect(await bad.json()).toMatchObject({ errors: [{ field: 'url' }] });
    expect((await api.call('/v1/webhooks', { ...json({ url: healthy.url, eventTypes: ['chat.typing'] }), key: crm.key })).status).toBe(400);
  });
});

describe('webhook targets without the development setting', () => {
  let api: ApiHarness;
  beforeAll(async () => {
    api = await startApiHarness({ env: { WEBHOOKS_ENABLED: 'false', WEBHOOK_MAX_SUBSCRIPTIONS_PER_APPLICATION: '2' } });
  }, 60_000);
  afterAll(async () => {
    await api?.stop();
  });

  it('refuses loopback, private and metadata addresses in any notation, and a third subscription', async () => {
    const { key } = await api.key(['webhooks:manage']);
    for (const url of ['http://127.0.0.1:8080/', 'http://2130706433/', 'http://[::ffff:127.0.0.1]/', 'http://169.254.169.254/', 'http://localhost./hooks']) {
      const res = await api.call('/v1/webhooks', { ...json({ url, eventTypes: ['sla.breached'] }), key });
      expect(res.status, url).toBe(400);
      expect(((await res.json()) as { errors: { field: string }[] }).errors[0]!.field).toBe('url');
    }
    for (const url of ['http://8.8.8.8/a', 'http://8.8.4.4/b'])
      expect((await api.call('/v1/webhooks', { ...json({ url, eventTypes: ['sla.breached'] }), key })).status).toBe(201);
    const third = await api.call('/v1/webhooks', { ...json({ url: 'http://1.1.1.1/', eventTypes: ['sla.breached'] }), key });
    expect(third.status).toBe(409);
    expect(await third.json()).toMatchObject({ type: '/problems/webhook-limit' });
  });
});
