// Benchmark: webhook delivery, from a ConversationEvent published to Kafka to the POST received
// by a local receiver (node:http on 127.0.0.1), through the real integration API (its consumer,
// the store's delivery log and due queue, the delivery loop). Two arms in one run: a healthy
// subscription alone, and the same with a dead subscription beside it (a receiver that never
// answers, to the same events). Each arm: latency of events published at a steady rate
// (p50/p99), then throughput of a burst drained.
//   npm run bench:webhooks        (BENCH_EVENTS, default 200, at BENCH_RATE per second, default 40; BENCH_BURST, default 300)
import { cpus, totalmem } from 'node:os';
import { topics } from '#libs/kafka';
import { Channel, ConversationEvent, Tier } from '#libs/proto';
import { connectKafka } from '#libs/service';
import { KAFKA_BROKERS, testContext, uniqueId, waitFor } from '#libs/testing';
import { json, startApiHarness } from '../../services/integration-api/test/harness';
import { startReceiver, type Receiver } from '../../services/integration-api/test/webhook-receiver';
import { percentile, sleep } from './stats';

const EVENTS = Number(process.env.BENCH_EVENTS ?? 200);
const RATE = Number(process.env.BENCH_RATE ?? 40);
const BURST = Number(process.env.BENCH_BURST ?? 300);

const event = (conversationId: string, n: number) =>
  ConversationEvent.fromPartial({
    eventId: `${conversationId}-${n}`,
    conversationId,
    channel: Channel.CHANNEL_CHAT,
    occurredAt: new Date(),
    step: { $case: 'assigned', assigned: { agentId: `agent-${n % 20}`, tier: Tier.TIER_FRONT_OFFICE, waitedMs: 1000 } },
  });

async function main() {
  const api = await startApiHarness({ env: { WEBHOOK_ALLOW_PRIVATE_TARGETS: 'true', LOG_LEVEL: 'silent' } });
  const kctx = testContext('bench-webhooks');
  const kafka = await connectKafka(kctx, { KAFKA_BROKERS, KAFKA_TOPIC_PARTITIONS: 3, KAFKA_REPLICATION_FACTOR: 1 });
  const { key } = await api.key(['webhooks:manage'], 1_000_000);
  const subscribe = async (url: string) => {
    const res = await api.call('/v1/webhooks', { ...json({ url, eventTypes: ['conversation.assigned'] }), key });
    if (res.status !== 201) throw new Error(`subscribe: ${res.status} ${await res.text()}`);
    return ((await res.json()) as { id: string }).id;
  };
  const rows: string[] = [];

  async function arm(label: string, withDead: boolean) {
    const healthy = await startReceiver('ok');
    const dead = withDead ? await startReceiver('never') : undefined;
    const ids = [await subscribe(healthy.url), ...(dead ? [await subscribe(dead.url)] : [])];
    await sleep(1500); // the consumer reads subscriptions at most a second old
    const arrivals = (r: Receiver, conversationId: string) => r.received.filter((x) => x.body.includes(`"conversationId":"${conversationId}"`));

    const steady = uniqueId('bench-conv');
    const sentAt = new Map<string, number>();
    for (let n = 0; n < EVENTS; n++) {
      const e = event(steady, n);
      sentAt.set(e.eventId, Date.now());
      void kafka.producer.publish(topics.conversationEvents, steady, e, { id: e.eventId });
      await sleep(1000 / RATE);
    }
    await waitFor(() => arrivals(healthy, steady).length >= EVENTS, 120_000, 'the steady events');
    const latencies = arrivals(healthy, steady).map((r) => r.at - sentAt.get((JSON.parse(r.body) as { id: string }).id)!);

    const burst = uniqueId('bench-burst');
    const started = Date.now();
    await Promise.all(
      Array.from({ length: BURST }, (_, n) => kafka.producer.publish(topics.conversationEvents, burst, event(burst, n), { id: `${burst}-${n}` })),
    );
    await waitFor(() => arrivals(healthy, burst).length >= BURST, 300_000, 'the burst');
    const seconds = (Math.max(...arrivals(healthy, burst).map((r) => r.at)) - started) / 1000;

    const line = `| ${label} | ${EVENTS} at ${RATE}/s | ${percentile(latencies, 50)} | ${percentile(latencies, 99)} | ${Math.max(...latencies)} | ${BURST} | ${(BURST / seconds).toFixed(0)} |${dead ? ` dead receiver holding ${dead.held} requests` : ''}`;
    console.log(line);
    rows.push(line);
    for (const id of ids) await api.call(`/v1/webhooks/${id}`, { method: 'DELETE', key });
    await healthy.close();
    await dead?.close();
  }

  console.log(`webhooks bench: ${cpus().length} cores (${cpus()[0]?.model ?? '?'}), ${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.version}`);
  console.log('| arm | steady events | p50 ms | p99 ms | max ms | burst | burst deliveries/s |');
  console.log('| --- | --- | --- | --- | --- | --- | --- |');
  await arm('healthy subscription alone', false);
  await arm('healthy beside a dead one (never answers)', true);
  await kctx.stop();
  await api.stop();
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
