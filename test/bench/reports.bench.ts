// Benchmark: the ops console's reports. A rebuild folds every conversation and SLA event from the
// beginning of the topics: how fast the fold goes from the records' bytes (decode, describe,
// fold, as the console's consumer does) beside the fold alone on already-decoded records, and
// how long a report and a report card take to answer from the rebuilt rows, on a full fold
// beside one a tenth its size. In memory, no broker: the consumer's fetches are measured in
// the Kafka benchmark.
//   npm run bench:reports        (BENCH_CONVERSATIONS, default 200000; 30 days, 12 queues, 60 agents)
import { cpus, totalmem } from 'node:os';
import { topics } from '#libs/kafka';
import { Channel, ConversationEvent, SlaEvent, SlaEventKind } from '#libs/proto';
import { describeRecord, type RawRecord } from '../../services/ops-console/src/records';
import { ReportFold } from '../../services/ops-console/src/reports';
import { percentile } from './stats';

const CONVERSATIONS = Number(process.env.BENCH_CONVERSATIONS ?? 200_000);
const DAYS = 30;
const START = Date.UTC(2026, 10, 1);
const CHANNELS = [Channel.CHANNEL_SMS, Channel.CHANNEL_EMAIL, Channel.CHANNEL_CHAT, Channel.CHANNEL_VOICE];
const QUEUES = ['billing', 'orders', 'general'].flatMap((s) => ['sms', 'email', 'chat', 'voice'].map((c) => `tier1/${s}/${c}`));

type Step = NonNullable<ConversationEvent['step']>;

function records(n: number): RawRecord[] {
  const out: RawRecord[] = [];
  let seq = 0;
  const conv = (id: string, channel: Channel, at: number, step: Step) => {
    const e = ConversationEvent.fromPartial({
      eventId: `e${seq++}`,
      conversationId: id,
      channel,
      occurredAt: new Date(at),
      step,
      customerId: `cust-${seq % 50_000}`,
    });
    out.push({
      topic: topics.conversationEvents.name,
      partition: 0,
      offset: String(seq),
      key: Buffer.from(id),
      value: Buffer.from(ConversationEvent.encode(e).finish()),
    });
  };
  for (let i = 0; i < n; i++) {
    const id = `bench-${i}`;
    const qi = i % QUEUES.length;
    const queue = QUEUES[qi]!;
    const channel = CHANNELS[qi % 4]!;
    const agentId = `agent-${i % 60}`;
    const at = START + Math.floor((i / n) * DAYS * 86_400_000);
    const waitedMs = (i * 7919) % 120_000;
    conv(id, channel, at, {
      $case: 'queued',
      queued: { queue, skill: 's', tier: 1, priority: 0, position: 1, estimatedWaitMs: 60_000, risk: 0, complexity: 0 },
    });
    if (i % 10 === 9) {
      conv(id, channel, at + waitedMs, { $case: 'abandoned', abandoned: { waitedMs } });
      continue;
    }
    conv(id, channel, at + waitedMs, { $case: 'assigned', assigned: { agentId, tier: 1, waitedMs } });
    const sla = SlaEvent.fromPartial({
      eventId: `s${seq++}`,
      conversationId: id,
      channel,
      queue,
      occurredAt: new Date(at + waitedMs),
      kind: waitedMs < 60_000 ? SlaEventKind.SLA_EVENT_KIND_MET : SlaEventKind.SLA_EVENT_KIND_BREACH,
      targetMs: 60_000,
    });
    out.push({ topic: topics.sla.name, partition: 0, offset: String(seq), key: Buffer.from(id), value: Buffer.from(SlaEvent.encode(sla).finish()) });
    conv(id, channel, at + waitedMs + 300_000, { $case: 'resolved', resolved: { agentId, disposition: 'done' } });
    if (i % 3 === 0)
      conv(id, channel, at + waitedMs + 360_000, {
        $case: 'surveyAnswered',
        surveyAnswered: { question: 'q', score: 1 + (i % 5), comment: '', agentId, queue },
      });
  }
  return out;
}

function time<T>(fn: () => T): { ms: number; value: T } {
  const t0 = performance.now();
  const value = fn();
  return { ms: performance.now() - t0, value };
}

function queries(fold: ReportFold, label: string): void {
  const lat: Record<string, number[]> = { 'report, day by hour per queue': [], 'report, 7 days by 15 min per agent': [], 'card, agent, 30 days by day': [] };
  for (let i = 0; i < 200; i++) {
    const day = START + (i % DAYS) * 86_400_000;
    lat['report, day by hour per queue']!.push(time(() => fold.report('hour', 'queue', day, day + 86_400_000)).ms);
    lat['report, 7 days by 15 min per agent']!.push(time(() => fold.report('15m', 'agent', START, START + 7 * 86_400_000)).ms);
    lat['card, agent, 30 days by day']!.push(time(() => fold.card('day', 'agent', `agent-${i % 60}`, START, START + DAYS * 86_400_000)).ms);
  }
  for (const [name, xs] of Object.entries(lat)) console.log(`| ${label} | ${name} | ${percentile(xs, 50).toFixed(1)} | ${percentile(xs, 99).toFixed(1)} |`);
}

function rebuild(label: string, raw: RawRecord[]): ReportFold {
  const described = raw.map(describeRecord);
  const alone = time(() => {
    const f = new ReportFold();
    for (const r of described) f.add(r);
    return f;
  });
  const heapBefore = process.memoryUsage().heapUsed;
  const full = time(() => {
    const f = new ReportFold();
    for (const r of raw) f.add(describeRecord(r));
    return f;
  });
  const heapMb = (process.memoryUsage().heapUsed - heapBefore) / 1e6;
  const rate = (ms: number) => Math.round(raw.length / (ms / 1000)).toLocaleString('en');
  console.log(`| ${label} | ${raw.length.toLocaleString('en')} | decode + fold | ${(full.ms / 1000).toFixed(2)} | ${rate(full.ms)} | ${heapMb.toFixed(0)} |`);
  console.log(`| ${label} | ${raw.length.toLocaleString('en')} | fold alone | ${(alone.ms / 1000).toFixed(2)} | ${rate(alone.ms)} | – |`);
  return full.value;
}

console.log(`${cpus().length} cores, ${Math.round(totalmem() / 2 ** 30)} GB, Node ${process.version}`);
console.log('| fold | events | what | seconds | events/s | heap MB |\n| --- | ---: | --- | ---: | ---: | ---: |');
const small = rebuild(`${(CONVERSATIONS / 10).toLocaleString('en')} conversations`, records(CONVERSATIONS / 10));
const large = rebuild(`${CONVERSATIONS.toLocaleString('en')} conversations`, records(CONVERSATIONS));
console.log('\n| fold | query | p50 ms | p99 ms |\n| --- | --- | ---: | ---: |');
queries(small, `${(CONVERSATIONS / 10).toLocaleString('en')} conversations`);
queries(large, `${CONVERSATIONS.toLocaleString('en')} conversations`);
