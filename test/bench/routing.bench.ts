// Routing benchmark: the core alone (decisions per second with 100 to 10,000 agents and 200
// queues), and the accuracy of its wait estimates over a simulated day on a virtual clock.
// Run: npm run bench:routing
import { Channel, ContactKind, ContactReceived, IdentityKind, Presence, Tier } from '../../libs/proto';
import { RoutingEngine, type Effect } from '../../services/routing/src/core/engine';
import { DEFAULT_POLICY, type ClassificationRule, type RoutingPolicy } from '../../services/routing/src/core/policy';
import { percentile } from './stats';

const SKILLS = 50; // × 4 channels = 200 queues per tier
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
  engine.dirtyAgents.clear();
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
    if (i % 1000 === 0) {
      engine.dirtyAgents.clear();
      engine.dirtyConversations.clear();
      engine.dirtyCustomers.clear();
    }
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

const rows = [100, 1000, 10_000].map((n) => coreThroughput(n, n === 10_000 ? 100_000 : 50_000));
console.log('\nRouting core: decisions (offer + accept) per second, 200 queues (50 skills × 4 channels), 50 classification rules');
console.log('agents | contacts | decisions/s | contacts/s | p50 per contact | p99 per contact');
for (const r of rows) console.log(`${r.agentCount} | ${r.contacts} | ${Math.round(r.perSecond)} | ${Math.round(r.contactsPerSecond)} | ${r.p50us.toFixed(1)} µs | ${r.p99us.toFixed(1)} µs`);

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
