// Routing benchmark: the core alone (decisions per second with 100 to 10,000 agents and 200
// queues), the accuracy of its wait estimates over a simulated day on a virtual clock, and end
// to end through the real service (its own process) at 500 contacts/s.
// Run: npm run bench:routing   (BENCH_E2E=0 skips the end-to-end part; for the core part,
// BENCH_AGENTS=10000 picks the sizes, BENCH_SKILLS=50 the skills, BENCH_EWT=0 skips the EWT day)
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { credentials, Metadata, type ServiceError } from '@grpc/grpc-js';
import { MongoClient } from 'mongodb';
import { topics } from '../../libs/kafka';
import { Channel, ContactKind, ContactReceived, IdentityKind, Presence, RoutingServiceClient, Tier, type WatchAssignmentsResponse } from '../../libs/proto';
import { connectKafka } from '../../libs/service';
import { testAuthEnv, testMetadata, testContext, uniqueId } from '../../libs/testing';
import { RoutingEngine, type Effect } from '../../services/routing/src/core/engine';
import { DEFAULT_POLICY, type ClassificationRule, type RoutingPolicy } from '../../services/routing/src/core/policy';
import { percentile, sleep } from './stats';

// Queues per tier: skills × 4 channels; one classification rule a skill.
const SKILLS = Number(process.env.BENCH_SKILLS ?? 50);
const CHANNELS = [Channel.CHANNEL_VOICE, Channel.CHANNEL_CHAT, Channel.CHANNEL_SMS, Channel.CHANNEL_EMAIL];

// Deterministic pseudo-random numbers (mulberry32), so runs compare.
function rng(seed: number) {
  return () => {
    seed |= 0;
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const rules: ClassificationRule[] = Array.from({ length: SKILLS }, (_, i) => ({ id: `topic-${i}`, when: { keywords: [`topic${i}`] }, then: { skill: `s${i}` } }));

function contact(id: number, channel: Channel, skill: number): ContactReceived {
  return ContactReceived.fromPartial({
    contactId: `m${id}`,
    conversationId: `c${id}`,
    channel,
    kind: ContactKind.CONTACT_KIND_MESSAGE,
    sender: { kind: IdentityKind.IDENTITY_KIND_EMAIL, value: `customer${id % 50_000}@example.com` },
    text: `hello, a question about topic${skill} please`,
    language: 'en',
  });
}

function coreThroughput(agentCount: number, contacts: number) {
  let now = 1_767_600_000_000;
  const clock = { now: () => now };
  const policy: RoutingPolicy = { ...DEFAULT_POLICY, rules };
  const engine = new RoutingEngine(policy, clock);
  const random = rng(agentCount);
  for (let a = 0; a < agentCount; a++) {
    const skills: Record<string, number> = {};
    for (let k = 0; k < 3; k++) skills[`s${Math.floor(random() * SKILLS)}`] = 1 + Math.floor(random() * 5);
    engine.registerAgent({ id: `a${a}`, name: `Agent ${a}`, tier: Tier.TIER_FRONT_OFFICE, skills, languages: ['en'] });
    engine.setPresence(`a${a}`, Presence.PRESENCE_AVAILABLE);
  }
  engine.takeChanges();
  const open: { conv: string; agent: string }[] = [];
  const latencies: number[] = [];
  let decisions = 0;
  const count = (effects: Effect[]) => {
    for (const e of effects) {
      if (e.type === 'conversation' && e.event.step?.$case === 'offered') {
        decisions++;
        engine.accept(e.event.step.offered.agentId, e.event.conversationId);
        open.push({ conv: e.event.conversationId, agent: e.event.step.offered.agentId });
      }
    }
  };
  // Keep about 60 % of capacity busy: resolve the oldest conversation when above that.
  const busyTarget = Math.floor(agentCount * 3 * 0.6);
  let oldest = 0;
  const started = process.hrtime.bigint();
  for (let i = 0; i < contacts; i++) {
    now += 5;
    const t0 = process.hrtime.bigint();
    count(engine.contactReceived(contact(i, CHANNELS[i % 4]!, Math.floor(random() * SKILLS))));
    while (open.length - oldest > busyTarget) {
      const done = open[oldest++]!;
      count(engine.resolve(done.agent, done.conv, 'done'));
    }
    // Resolved entries are dropped in chunks: shifting one at a time would time the array, not routing.
    if (oldest > 10_000) {
      open.splice(0, oldest);
      oldest = 0;
    }
    if (i % 200 === 0) count(engine.tick());
    latencies.push(Number(process.hrtime.bigint() - t0) / 1e3);
    if (i % 1000 === 0) engine.takeChanges();
  }
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  latencies.sort((a, b) => a - b);
  return { agentCount, contacts, decisions, seconds, perSecond: decisions / seconds, contactsPerSecond: contacts / seconds, p50us: percentile(latencies, 50), p99us: percentile(latencies, 99) };
}

/** A simulated 8-hour day on one voice queue: Poisson arrivals, log-normal handle times. */
function simulatedDay(agents: number, utilisation: number, handleMeanMs: number, handleCv: number) {
  let now = 1_767_600_000_000;
  const start = now;
  const clock = { now: () => now };
  const engine = new RoutingEngine({ ...DEFAULT_POLICY, rules: [], maxMissedOffers: 1000 }, clock);
  const random = rng(7);
  for (let a = 0; a < agents; a++) {
    engine.registerAgent({ id: `a${a}`, name: `a${a}`, tier: Tier.TIER_FRONT_OFFICE, skills: { general: 3 }, languages: ['en'] });
    engine.setPresence(`a${a}`, Presence.PRESENCE_AVAILABLE);
  }
  const arrivalRatePerMs = (utilisation * agents) / handleMeanMs;
  const sigma = Math.sqrt(Math.log(1 + handleCv * handleCv));
  const mu = Math.log(handleMeanMs) - (sigma * sigma) / 2;
  const handle = () => Math.exp(mu + sigma * Math.sqrt(-2 * Math.log(random() || 1e-12)) * Math.cos(2 * Math.PI * random()));
  const ends: { at: number; agent: string; conv: string }[] = [];
  const estimates = new Map<string, number>();
  const errors: number[] = [];
  const waits: number[] = [];
  const handleEffects = (effects: Effect[]) => {
    for (const e of effects) {
      if (e.type !== 'conversation') continue;
      const step = e.event.step;
      if (step?.$case === 'queued') estimates.set(e.event.conversationId, step.queued.estimatedWaitMs);
      if (step?.$case === 'offered') handleEffects(engine.accept(step.offered.agentId, e.event.conversationId));
      if (step?.$case === 'assigned') {
        const est = estimates.get(e.event.conversationId) ?? 0;
        errors.push(Math.abs(est - step.assigned.waitedMs));
        waits.push(step.assigned.waitedMs);
        ends.push({ at: now + handle(), agent: step.assigned.agentId, conv: e.event.conversationId });
        ends.sort((a, b) => a.at - b.at);
      }
    }
  };
  let nextArrival = now - Math.log(random() || 1e-12) / arrivalRatePerMs;
  let id = 0;
  while (now < start + 8 * 3600_000) {
    const nextEnd = ends[0]?.at ?? Infinity;
    if (nextArrival <= nextEnd) {
      now = Math.round(nextArrival);
      handleEffects(engine.tick());
      handleEffects(engine.contactReceived(contact(id++, Channel.CHANNEL_VOICE, 0)));
      nextArrival = now - Math.log(random() || 1e-12) / arrivalRatePerMs;
    } else {
      const end = ends.shift()!;
      now = Math.round(end.at);
      handleEffects(engine.tick());
      handleEffects(engine.resolve(end.agent, end.conv, 'done'));
    }
  }
  const mean = (a: number[]) => a.reduce((s, v) => s + v, 0) / Math.max(1, a.length);
  const waited = errors.filter((_, i) => waits[i]! > 0);
  return { agents, utilisation, handleCv, conversations: waits.length, meanWaitMs: mean(waits), maeMs: mean(errors), relative: mean(errors) / Math.max(1, mean(waits)), waitedShare: waited.length / Math.max(1, waits.length) };
}

if (process.env.BENCH_CORE !== '0') {
// BENCH_AGENTS=10000 (or a comma-separated list) runs only those sizes.
const sizes = process.env.BENCH_AGENTS ? process.env.BENCH_AGENTS.split(',').map(Number) : [100, 1000, 10_000];
const rows = sizes.map((n) => coreThroughput(n, n === 10_000 ? 100_000 : 50_000));
console.log(`\nRouting core: decisions (offer + accept) per second, ${SKILLS * 4} queues (${SKILLS} skills × 4 channels), ${SKILLS} classification rules`);
console.log('agents | contacts | decisions/s | contacts/s | p50 per contact | p99 per contact');
for (const r of rows) console.log(`${r.agentCount} | ${r.contacts} | ${Math.round(r.perSecond)} | ${Math.round(r.contactsPerSecond)} | ${r.p50us.toFixed(1)} µs | ${r.p99us.toFixed(1)} µs`);

if (process.env.BENCH_EWT !== '0') {
console.log('\nEWT accuracy, simulated 8-hour day, one voice queue, log-normal handle times (mean 240 s)');
console.log('agents | utilisation | handle-time CV | conversations | mean actual wait | mean absolute error | error / mean wait');
for (const [agents, util, cv] of [
  [20, 0.85, 0.5],
  [20, 0.95, 0.5],
  [50, 0.95, 1.0],
] as const) {
  const r = simulatedDay(agents, util, 240_000, cv);
  console.log(`${r.agents} | ${r.utilisation} | ${r.handleCv} | ${r.conversations} | ${(r.meanWaitMs / 1000).toFixed(1)} s | ${(r.maeMs / 1000).toFixed(1)} s | ${(r.relative * 100).toFixed(0)} %`);
}
}
}

/**
 * End to end: routing runs as its own process against the real Kafka and MongoDB. Contacts are
 * written to cc.contact.inbound.v1 at RATE per second; latency runs from the publish call to
 * the offer arriving on the agent's WatchAssignments stream, and to the accept acknowledged
 * (the desk accepts at once). Agents have room for everything, so nothing waits in a queue.
 */
async function endToEnd() {
  const RATE = Number(process.env.BENCH_RATE ?? 500);
  const SECONDS = Number(process.env.BENCH_SECONDS ?? 20);
  const AGENTS = Number(process.env.BENCH_AGENTS ?? 120);
  const database = `contactcenter_routing_bench_${process.pid}`;
  const mongoUri = process.env.MONGODB_URI ?? 'mongodb://127.0.0.1:27017';
  const brokers = (process.env.KAFKA_BROKERS ?? '127.0.0.1:9092').split(',');
  // The inbound topic may carry other contacts; a skill of the run's own keeps the agents on ours.
  const skill = `bench${uniqueId('').replace(/-/g, '').slice(0, 8)}`;
  const child = spawn(process.execPath, ['--import', 'tsx', 'services/routing/src/main.ts'], {
    env: {
      ...process.env,
      GRPC_PORT: '0',
      HTTP_PORT: '0',
      LOG_LEVEL: 'info',
      MONGODB_DATABASE: database,
      ...testAuthEnv('routing'),
      ROUTING_CONSUMER_GROUP: uniqueId('routing-bench'),
      ROUTING_RULES_JSON: JSON.stringify([{ id: skill, when: { keywords: [skill] }, then: { skill } }]),
    },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let httpPort = 0;
  const grpcPort = await new Promise<number>((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`routing exited with ${code}`)));
    createInterface({ input: child.stdout! }).on('line', (line) => {
      try {
        const log = JSON.parse(line) as { msg?: string; grpc?: number; http?: number; level?: string | number };
        if (log.msg === 'routing listening' && log.grpc) {
          httpPort = log.http ?? 0;
          resolve(log.grpc);
        }
        if (process.env.BENCH_CHILD_LOG) console.error(`child: ${line.slice(0, 400)}`);
        if (log.level === 'warn' || log.level === 'error' || (typeof log.level === 'number' && log.level >= 40)) console.error(`routing: ${line.slice(0, 300)}`);
      } catch {
        /* not a log line */
      }
    });
  });
  /** Mean time of one routing write (snapshot + publish) and how many, from the service's metrics. */
  const commits = async () => {
    const text = await (await fetch(`http://127.0.0.1:${httpPort}/metrics`)).text();
    const value = (name: string) => Number(new RegExp(`^${name}(?:\\{[^}]*\\})? ([0-9.e+-]+)$`, 'm').exec(text)?.[1] ?? Number.NaN);
    return { count: value('cc_routing_commit_seconds_count'), sum: value('cc_routing_commit_seconds_sum') };
  };
  const ctx = testContext('routing-bench');
  const kafka = await connectKafka(ctx, { KAFKA_BROKERS: brokers, KAFKA_TOPIC_PARTITIONS: 3, KAFKA_REPLICATION_FACTOR: 1 });
  const client = new RoutingServiceClient(`127.0.0.1:${grpcPort}`, credentials.createInsecure());
  const metadataFor = (id: string, role: 'agent' | 'supervisor') => testMetadata({ id, role }, 'routing');
  const unary = <Req>(method: (req: Req, md: Metadata, cb: (err: ServiceError | null) => void) => unknown, req: Req, md: Metadata) =>
    new Promise<void>((resolve, reject) => method.call(client, req, md, (err) => (err ? reject(err) : resolve())));

  const written = new Map<string, number>();
  const toOffer: number[] = [];
  const toAccepted: number[] = [];
  let offers = 0;
  let failedAccepts = 0;
  const streams: { cancel(): void }[] = [];
  try {
    const supervisor = await metadataFor('bench-supervisor', 'supervisor');
    for (let a = 0; a < AGENTS; a++) {
      const agentId = `bench-agent-${a}`;
      await unary(client.registerAgent, { agentId, name: `Agent ${a}`, tier: Tier.TIER_FRONT_OFFICE, skills: [{ name: skill, level: 3 }], languages: ['en'], capacity: [{ channel: Channel.CHANNEL_CHAT, capacity: 100, active: 0 }], totalCapacity: 100 }, supervisor);
      const md = await metadataFor(agentId, 'agent');
      const stream = client.watchAssignments({}, md);
      stream.on('data', (u: WatchAssignmentsResponse) => {
        if (u.update?.$case !== 'offer') return;
        const id = u.update.offer.conversationId;
        const t0 = written.get(id);
        if (t0 === undefined) return;
        offers++;
        toOffer.push(performance.now() - t0);
        unary(client.acceptOffer, { conversationId: id }, md).then(
          () => toAccepted.push(performance.now() - t0),
          () => failedAccepts++,
        );
      });
      stream.on('error', () => undefined);
      streams.push(stream);
      await unary(client.setPresence, { agentId, presence: Presence.PRESENCE_AVAILABLE }, md);
    }
    await sleep(1000);

    const publish = (n: number) => {
      const id = `bench-conv-${process.pid}-${n}`;
      const message = ContactReceived.fromPartial({
        contactId: `bench-msg-${process.pid}-${n}`,
        conversationId: id,
        channel: Channel.CHANNEL_CHAT,
        kind: ContactKind.CONTACT_KIND_MESSAGE,
        receivedAt: new Date(),
        sender: { kind: IdentityKind.IDENTITY_KIND_CHAT_VISITOR, value: `visitor-${n}` },
        newConversation: true,
        text: `hello, a question about ${skill} please`,
        language: 'en',
      });
      written.set(id, performance.now());
      return kafka.producer.publish(topics.contactInbound, id, message);
    };
    // Warm-up (not counted): a few hundred contacts at a fifth of the rate.
    let n = 0;
    const warm: Promise<unknown>[] = [];
    for (; n < RATE; n++) {
      warm.push(publish(n));
      if (n % 10 === 9) await sleep(100);
    }
    await Promise.all(warm);
    while (offers < RATE) await sleep(50);
    await sleep(1000);
    toOffer.length = 0;
    toAccepted.length = 0;
    offers = 0;

    const before = await commits();
    const total = RATE * SECONDS;
    const first = n;
    const started = performance.now();
    const sends: Promise<unknown>[] = [];
    // Paced every 10 ms against the clock, so a late timer catches up instead of slowing the rate.
    while (n < first + total) {
      const due = first + Math.min(total, Math.floor(((performance.now() - started) / 1000) * RATE));
      for (; n < due; n++) sends.push(publish(n));
      await sleep(10);
    }
    await Promise.all(sends);
    const sendSeconds = (performance.now() - started) / 1000;
    const deadline = performance.now() + 90_000;
    while (toAccepted.length + failedAccepts < total && performance.now() < deadline) await sleep(100);
    const seconds = (performance.now() - started) / 1000;
    const after = await commits();
    const writes = after.count - before.count;
    return { writes, writeMeanMs: ((after.sum - before.sum) / Math.max(1, writes)) * 1000, rate: RATE, agents: AGENTS, total, sentPerSecond: total / sendSeconds, offers, accepted: toAccepted.length, failedAccepts, deliveredPerSecond: toAccepted.length / seconds, offerP50: percentile(toOffer, 50), offerP99: percentile(toOffer, 99), acceptP50: percentile(toAccepted, 50), acceptP99: percentile(toAccepted, 99) };
  } finally {
    for (const s of streams) s.cancel();
    client.close();
    await ctx.stop();
    child.kill('SIGTERM');
    await new Promise((r) => child.once('exit', r));
    const mongo = new MongoClient(mongoUri);
    await mongo.connect();
    await mongo.db(database).dropDatabase();
    await mongo.close();
  }
}

if (process.env.BENCH_E2E !== '0') {
  const r = await endToEnd();
  console.log(`\nEnd to end, routing in its own process, real Kafka and MongoDB: ${r.agents} agents, ${r.total} contacts offered at ${r.rate}/s`);
  console.log('sent/s | offers delivered | accepted | failed accepts | accepted/s | contact → offer on stream p50 / p99 | contact → accept acknowledged p50 / p99');
  console.log(`${Math.round(r.sentPerSecond)} | ${r.offers} | ${r.accepted} | ${r.failedAccepts} | ${Math.round(r.deliveredPerSecond)} | ${r.offerP50} ms / ${r.offerP99} ms | ${r.acceptP50} ms / ${r.acceptP99} ms`);
  console.log(`routing writes (snapshot to MongoDB + publish to Kafka): ${r.writes}, mean ${r.writeMeanMs.toFixed(1)} ms each`);
}
