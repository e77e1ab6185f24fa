// Routing benchmark: the core alone (decisions per second with 100 to 10,000 agents and 200
// queues), the accuracy of its wait estimates over a simulated day on a virtual clock, and end
// to end through the real service (its own process) at 500 and 1,000 contacts/s, a take-over
// under load, and routing with its store stopped (test/bench/routing-e2e.ts).
// Run: npm run bench:routing   (BENCH_CORE=0, BENCH_E2E=0, BENCH_TAKEOVER=0, BENCH_STORE_STOP=0
// skip parts; for the core part, BENCH_AGENTS=10000 picks the sizes, BENCH_SKILLS=50 the skills,
// BENCH_EWT=0 skips the EWT day, BENCH_ENGINE=<dir> times another copy of the core, e.g. the
// one before a change, against the same benchmark)
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { Channel, ContactKind, ContactReceived, IdentityKind, Presence, Tier } from '#libs/proto';
import * as thisCore from '../../services/routing/src/core/engine';
import type { Effect } from '../../services/routing/src/core/engine';
import { DEFAULT_POLICY, type ClassificationRule, type RoutingPolicy } from '../../services/routing/src/core/policy';
import { ratedRun, takeOver } from './routing-e2e';
import { percentile } from './stats';

type Engines = typeof thisCore.RoutingEngine;
const other = process.env.BENCH_ENGINE ? ((await import(resolve(process.env.BENCH_ENGINE, 'engine.ts'))) as typeof thisCore).RoutingEngine : undefined;
// BENCH_PAIRED=1 with BENCH_ENGINE: both cores in one process, taking turns on the same workload.
const PAIRED = other !== undefined && process.env.BENCH_PAIRED === '1';
const RoutingEngine: Engines = other && !PAIRED ? other : thisCore.RoutingEngine;

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

const rules: ClassificationRule[] = Array.from({ length: SKILLS }, (_, i) => ({
  id: `topic-${i}`,
  when: { keywords: [`topic${i}`] },
  then: { skill: `s${i}` },
}));

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
  const run = coreRun(RoutingEngine, agentCount);
  run.step(contacts);
  return run.result();
}

/** Both cores on the same workload in one process, taking turns every 1,000 contacts: the machine's load falls on both alike. */
function pairedThroughput(agentCount: number, contacts: number) {
  const runs = [coreRun(thisCore.RoutingEngine, agentCount), coreRun(other!, agentCount)] as const;
  for (let done = 0; done < contacts; done += 1000) for (const run of runs) run.step(Math.min(1000, contacts - done));
  return runs.map((r) => r.result());
}

/** A core with `agentCount` agents, fed contacts `step` by step. */
function coreRun(Engine: Engines, agentCount: number) {
  let now = 1_767_600_000_000;
  const clock = { now: () => now };
  const policy: RoutingPolicy = { ...DEFAULT_POLICY, rules };
  const engine = new Engine(policy, clock);
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
  let seconds = 0;
  let cpuSeconds = 0;
  // Time inside the core's calls, per contact: the contact is built (as the Kafka adapter decodes it) before its clock starts.
  let routingNs = 0n;
  let i = 0;
  const step = (contacts: number) => {
    const started = process.hrtime.bigint();
    const cpuStarted = process.cpuUsage();
    for (const end = i + contacts; i < end; i++) {
      now += 5;
      const received = contact(i, CHANNELS[i % 4]!, Math.floor(random() * SKILLS));
      const t0 = process.hrtime.bigint();
      count(engine.contactReceived(received));
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
      if (i % 1000 === 0) engine.takeChanges();
      const ns = process.hrtime.bigint() - t0;
      routingNs += ns;
      latencies.push(Number(ns) / 1e3);
    }
    seconds += Number(process.hrtime.bigint() - started) / 1e9;
    // CPU time of the process (user + system): on a shared machine, waiting for a core is not routing's cost.
    const cpu = process.cpuUsage(cpuStarted);
    cpuSeconds += (cpu.user + cpu.system) / 1e6;
  };
  const result = () => {
    latencies.sort((a, b) => a - b);
    const contacts = i;
    return {
      agentCount,
      contacts,
      decisions,
      seconds,
      perSecond: decisions / (Number(routingNs) / 1e9),
      contactsPerSecond: contacts / seconds,
      perCpuSecond: decisions / cpuSeconds,
      p50us: percentile(latencies, 50),
      p99us: percentile(latencies, 99),
    };
  };
  return { step, result };
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
  return {
    agents,
    utilisation,
    handleCv,
    conversations: waits.length,
    meanWaitMs: mean(waits),
    maeMs: mean(errors),
    relative: mean(errors) / Math.max(1, mean(waits)),
    waitedShare: waited.length / Math.max(1, waits.length),
  };
}

if (process.env.BENCH_CORE !== '0') {
  // BENCH_AGENTS=10000 (or a comma-separated list) runs only those sizes.
  const sizes = process.env.BENCH_AGENTS ? process.env.BENCH_AGENTS.split(',').map(Number) : [100, 1000, 10_000];
  const rows = sizes.flatMap((n) => (PAIRED ? pairedThroughput : (a: number, c: number) => [coreThroughput(a, c)])(n, n === 10_000 ? 100_000 : 50_000));
  if (PAIRED) console.log(`\nPaired: each size twice, this core first, then ${process.env.BENCH_ENGINE}`);
  console.log(`\nRouting core: decisions (offer + accept) per second, ${SKILLS * 4} queues (${SKILLS} skills × 4 channels), ${SKILLS} classification rules`);
  console.log(
    'agents | contacts | decisions/s (time in the core) | contacts/s (whole loop, with the benchmark) | decisions per CPU second (whole loop) | p50 per contact | p99 per contact',
  );
  for (const r of rows)
    console.log(
      `${r.agentCount} | ${r.contacts} | ${Math.round(r.perSecond)} | ${Math.round(r.contactsPerSecond)} | ${Math.round(r.perCpuSecond)} | ${r.p50us.toFixed(1)} µs | ${r.p99us.toFixed(1)} µs`,
    );

  if (process.env.BENCH_EWT !== '0') {
    console.log('\nEWT accuracy, simulated 8-hour day, one voice queue, log-normal handle times (mean 240 s)');
    console.log('agents | utilisation | handle-time CV | conversations | mean actual wait | mean absolute error | error / mean wait');
    for (const [agents, util, cv] of [
      [20, 0.85, 0.5],
      [20, 0.95, 0.5],
      [50, 0.95, 1.0],
    ] as const) {
      const r = simulatedDay(agents, util, 240_000, cv);
      console.log(
        `${r.agents} | ${r.utilisation} | ${r.handleCv} | ${r.conversations} | ${(r.meanWaitMs / 1000).toFixed(1)} s | ${(r.maeMs / 1000).toFixed(1)} s | ${(r.relative * 100).toFixed(0)} %`,
      );
    }
  }
}

if (process.env.BENCH_E2E !== '0') {
  const seconds = Number(process.env.BENCH_SECONDS ?? 20);
  const agents = Number(process.env.BENCH_AGENTS ?? 240);
  console.log(`\nEnd to end, routing in its own process, real Kafka (transactions), ${agents} agents, ${seconds} s per rate`);
  console.log(
    'offered/s | sent | offers | accepted | doubled | accepted/s | contact → offer p50 / p99 | contact → accept acknowledged p50 / p99 | transactions (mean)',
  );
  for (const rate of (process.env.BENCH_RATES ?? '500,1000').split(',').map(Number)) {
    const r = await ratedRun(rate, seconds, agents);
    console.log(
      `${r.rate} | ${r.sent} | ${r.offered} | ${r.accepted} | ${r.doubled} | ${Math.round(r.perSecond)} | ${r.offerP50} ms / ${r.offerP99} ms | ${r.acceptP50} ms / ${r.acceptP99} ms | ${r.commits} (${r.commitMeanMs.toFixed(1)} ms)`,
    );
  }
}

if (process.env.BENCH_TAKEOVER !== '0') {
  const rate = Number(process.env.BENCH_TAKEOVER_RATE ?? 200);
  console.log(`\nTake-over under load: two routing processes, ${rate} contacts/s for 30 s, the active one signalled 10 s in`);
  console.log('signal | sent | assigned | lost (never queued) | assigned twice | standby ready after | first offer from the standby after');
  for (const signal of (process.env.BENCH_SIGNALS ?? 'SIGKILL,SIGTERM').split(',') as NodeJS.Signals[]) {
    const r = await takeOver(signal, rate, 30, 80);
    console.log(
      `${r.signal} | ${r.sent} | ${r.accepted} | ${r.lost} | ${r.doubled} | ${(r.activeAfterMs / 1000).toFixed(2)} s | ${(r.routingAfterMs / 1000).toFixed(2)} s`,
    );
  }
}

if (process.env.BENCH_STORE_STOP !== '0') {
  const pid = Number(process.env.BENCH_STORE_PID ?? readFileSync('.local/run/ferretdb.pid', 'utf8').trim());
  const rate = Number(process.env.BENCH_STORE_STOP_RATE ?? 500);
  console.log(`\nThe store stopped (SIGSTOP of FerretDB, pid ${pid}) for 60 s of an 80 s run at ${rate}/s, against the same run without it`);
  console.log('run | accepted/s | contact → offer p50 / p99 (whole run) | while stopped: contacts, p50 / p99');
  const plain = await ratedRun(rate, 80, 480);
  console.log(`store running | ${Math.round(plain.perSecond)} | ${plain.offerP50} ms / ${plain.offerP99} ms | —`);
  const stopped = await ratedRun(rate, 80, 480, { pid, fromS: 10, forS: 60 });
  const during = stopped.storeStopped!;
  console.log(
    `store stopped 10-70 s | ${Math.round(stopped.perSecond)} | ${stopped.offerP50} ms / ${stopped.offerP99} ms | ${during.contacts}, ${during.offerP50} ms / ${during.offerP99} ms`,
  );
}
