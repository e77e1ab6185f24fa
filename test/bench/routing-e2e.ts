// Routing end to end: routing runs as its own process(es) against the real Kafka; a load process
// of its own writes ContactReceived records to cc.contact.inbound.v1 at a fixed rate; desks in
// this process watch WatchAssignments and accept every offer at once. Latency runs from the
// publish call (its wall-clock time travels in the conversation id) to the offer arriving on
// the agent's stream, and to the accept acknowledged. Decisions are counted from the committed
// events on cc.conversation.events.v1, not from the service's word.
import { credentials, Metadata, type ClientReadableStream, type ServiceError } from '@grpc/grpc-js';
import { topics } from '#libs/kafka';
import {
  Channel,
  ContactKind,
  ContactReceived,
  ConversationEvent,
  IdentityKind,
  Presence,
  RoutingServiceClient,
  Tier,
  type WatchAssignmentsResponse,
} from '#libs/proto';
import { connectKafka } from '#libs/service';
import { recordTopics, testContext, testMetadata, uniqueId } from '#libs/testing';
import { spawnRouting, type RoutingProcess } from '../../services/routing/test/routing-process';
import { loadArguments, reportLoad, runLoad } from './load-process';
import { percentile, sleep } from './stats';

const BROKERS = process.env.KAFKA_BROKERS ?? '127.0.0.1:9092';
const wallNow = () => performance.timeOrigin + performance.now();

interface LoadArgs {
  rate: number;
  seconds: number;
  prefix: string;
  skill: string;
}

/** In the load process: contacts at `rate` per second for `seconds`, paced every 10 ms against the clock. */
async function publishLoad({ rate, seconds, prefix, skill }: LoadArgs) {
  const ctx = testContext('routing-bench-load');
  const kafka = await connectKafka(ctx, { KAFKA_BROKERS: BROKERS.split(','), KAFKA_TOPIC_PARTITIONS: 3, KAFKA_REPLICATION_FACTOR: 1 });
  const total = Math.round(rate * seconds);
  const sends: Promise<unknown>[] = [];
  let failed = 0;
  const started = performance.now();
  for (let n = 0; n < total;) {
    const due = Math.min(total, Math.floor(((performance.now() - started) / 1000) * rate));
    for (; n < due; n++) {
      const id = `${prefix}-${n}-${wallNow().toFixed(1)}`;
      const message = ContactReceived.fromPartial({
        contactId: `${id}-m`,
        conversationId: id,
        channel: Channel.CHANNEL_CHAT,
        kind: ContactKind.CONTACT_KIND_MESSAGE,
        receivedAt: new Date(),
        sender: { kind: IdentityKind.IDENTITY_KIND_CHAT_VISITOR, value: `visitor-${n}` },
        newConversation: true,
        text: `hello, a question about ${skill} please`,
        language: 'en',
      });
      sends.push(kafka.producer.publish(topics.contactInbound, id, message).catch(() => failed++));
    }
    await sleep(10);
  }
  await Promise.all(sends);
  const result = { latencies: [], failed, seconds: (performance.now() - started) / 1000 };
  await ctx.stop();
  return result;
}

/** When the publish of a conversation started (wall clock), from its id. */
const sentAt = (conversationId: string) => Number(conversationId.slice(conversationId.lastIndexOf('-') + 1));

/** Agents with room for everything, accepting every offer of the run at once, on whichever instance they are pointed at. */
class Desks {
  readonly toOffer: number[] = [];
  /** Each offer's publish time (wall clock) and latency, to split a run into phases. */
  readonly offers: { sent: number; ms: number }[] = [];
  readonly toAccepted: number[] = [];
  readonly offered = new Set<string>();
  readonly accepted = new Set<string>();
  failedAccepts = 0;
  private client?: RoutingServiceClient;
  private streams: ClientReadableStream<WatchAssignmentsResponse>[] = [];

  constructor(
    private readonly agents: number,
    private readonly skill: string,
    private readonly prefix: string,
  ) {}

  /** Registers the agents (first time) and opens their streams on `port`. */
  async connect(port: number, register: boolean): Promise<void> {
    this.close();
    const client = (this.client = new RoutingServiceClient(`127.0.0.1:${port}`, credentials.createInsecure()));
    const unary = <Req>(method: (req: Req, md: Metadata, cb: (err: ServiceError | null) => void) => unknown, req: Req, md: Metadata) =>
      new Promise<void>((resolve, reject) => method.call(client, req, md, (err) => (err ? reject(err) : resolve())));
    const supervisor = await testMetadata({ id: 'bench-supervisor', role: 'supervisor' }, 'routing');
    for (let a = 0; a < this.agents; a++) {
      const agentId = `${this.prefix}-agent-${a}`;
      const md = await testMetadata({ id: agentId, role: 'agent' }, 'routing');
      if (register)
        await unary(
          client.registerAgent,
          {
            agentId,
            name: `Agent ${a}`,
            tier: Tier.TIER_FRONT_OFFICE,
            skills: [{ name: this.skill, level: 3 }],
            languages: ['en'],
            capacity: [{ channel: Channel.CHANNEL_CHAT, capacity: 100, active: 0 }],
            totalCapacity: 100,
          },
          supervisor,
        );
      const stream = client.watchAssignments({}, md);
      stream.on('data', (u: WatchAssignmentsResponse) => {
        if (u.update?.$case !== 'offer') return;
        const id = u.update.offer.conversationId;
        if (!id.startsWith(`${this.prefix}-`) || this.offered.has(id)) return;
        this.offered.add(id);
        this.toOffer.push(wallNow() - sentAt(id));
        this.offers.push({ sent: sentAt(id), ms: wallNow() - sentAt(id) });
        unary(client.acceptOffer, { conversationId: id }, md).then(
          () => {
            this.accepted.add(id);
            this.toAccepted.push(wallNow() - sentAt(id));
          },
          () => this.failedAccepts++,
        );
      });
      stream.on('error', () => undefined);
      this.streams.push(stream);
      if (register) await unary(client.setPresence, { agentId, presence: Presence.PRESENCE_AVAILABLE }, md);
    }
  }

  reset(): void {
    this.toOffer.length = 0;
    this.toAccepted.length = 0;
    this.offers.length = 0;
    this.failedAccepts = 0;
  }

  close(): void {
    for (const s of this.streams) s.cancel();
    this.streams = [];
    this.client?.close();
  }
}

function routingEnv(group: string, skill: string, extra: Record<string, string> = {}): Record<string, string> {
  return {
    KAFKA_BROKERS: BROKERS,
    ROUTING_CONSUMER_GROUP: group,
    ROUTING_RULES_JSON: JSON.stringify([{ id: skill, when: { keywords: [skill] }, then: { skill } }]),
    ...extra,
  };
}

const warnings = (line: string) => {
  if (/"level":"(warn|error|fatal)"/.test(line) && !/Limiting retries/.test(line)) console.error(`routing: ${line.slice(0, 300)}`);
};

/** Committed assignments (or another step) per conversation of the run, read from the events topic. */
async function assignmentsRecorder(prefix: string) {
  const recorder = await recordTopics([topics.conversationEvents.name]);
  const count = (step = 'assigned') => {
    const seen = new Map<string, number>();
    for (const r of recorder.records) {
      const key = r.message.key?.toString() ?? '';
      if (!key.startsWith(`${prefix}-`) || !r.message.value) continue;
      if (ConversationEvent.decode(r.message.value).step?.$case === step) seen.set(key, (seen.get(key) ?? 0) + 1);
    }
    return seen;
  };
  return { count, close: () => recorder.close() };
}

export interface RateRow {
  rate: number;
  sent: number;
  offered: number;
  accepted: number;
  doubled: number;
  perSecond: number;
  offerP50: number;
  offerP99: number;
  acceptP50: number;
  acceptP99: number;
  commits: number;
  commitMeanMs: number;
  /** Contacts published while the store was stopped: offer latency p50/p99 and how many. */
  storeStopped?: { contacts: number; offerP50: number; offerP99: number };
}

/** The store process to stop (SIGSTOP, as a store that hangs) from `fromS` for `forS` seconds of the run. */
export interface StoreStop {
  pid: number;
  fromS: number;
  forS: number;
}

/** One routing process; warm-up at a fifth of the rate, then `seconds` at `rate`. */
export async function ratedRun(rate: number, seconds: number, agents: number, stop?: StoreStop): Promise<RateRow> {
  const prefix = uniqueId('bench');
  const skill = `s${prefix.replace(/-/g, '').slice(5, 15)}`;
  const routing = await spawnRouting(routingEnv(uniqueId('routing-bench'), skill), warnings);
  const desks = new Desks(agents, skill, prefix);
  const assignments = await assignmentsRecorder(prefix);
  try {
    await waitActive(routing);
    await desks.connect(routing.grpcPort, true);
    await runLoad(import.meta.url, { rate: rate / 5, seconds: 2, prefix: `${prefix}-warm`, skill });
    await waitUntil(() => desks.accepted.size >= (rate / 5) * 2, 30_000);
    desks.reset();
    const before = { count: await routing.metric('cc_routing_commit_seconds_count'), sum: await routing.metric('cc_routing_commit_seconds_sum') };
    const started = performance.now();
    const window = stop ? { from: wallNow() + stop.fromS * 1000, to: wallNow() + (stop.fromS + stop.forS) * 1000 } : undefined;
    const stopping = stop ? stopStore(stop) : Promise.resolve();
    const load = await runLoad(import.meta.url, { rate, seconds, prefix: `${prefix}-run`, skill });
    await stopping;
    const sent = Math.round(rate * seconds) - load.failed;
    const ours = () => [...desks.accepted].filter((id) => id.startsWith(`${prefix}-run-`)).length;
    await waitUntil(() => ours() >= sent, 90_000);
    const elapsed = (performance.now() - started) / 1000;
    const after = { count: await routing.metric('cc_routing_commit_seconds_count'), sum: await routing.metric('cc_routing_commit_seconds_sum') };
    await sleep(1000);
    const doubled = [...assignments.count().values()].filter((n) => n > 1).length;
    const commits = after.count - before.count;
    const during = window ? desks.offers.filter((o) => o.sent >= window.from && o.sent < window.to).map((o) => o.ms) : [];
    return {
      ...(window ? { storeStopped: { contacts: during.length, offerP50: percentile(during, 50), offerP99: percentile(during, 99) } } : {}),
      rate,
      sent,
      offered: [...desks.offered].filter((id) => id.startsWith(`${prefix}-run-`)).length,
      accepted: ours(),
      doubled,
      perSecond: ours() / elapsed,
      offerP50: percentile(desks.toOffer, 50),
      offerP99: percentile(desks.toOffer, 99),
      acceptP50: percentile(desks.toAccepted, 50),
      acceptP99: percentile(desks.toAccepted, 99),
      commits,
      commitMeanMs: ((after.sum - before.sum) / Math.max(1, commits)) * 1000,
    };
  } finally {
    desks.close();
    await assignments.close();
    await routing.kill('SIGTERM');
  }
}

export interface TakeOverRow {
  signal: string;
  sent: number;
  accepted: number;
  /** Contacts never queued by either instance. */
  lost: number;
  doubled: number;
  /** From the signal to the standby's /activez 200. */
  activeAfterMs: number;
  /** From the signal to the first offer the new instance delivered. */
  routingAfterMs: number;
}

/** Two routing processes under load at `rate`; the active one gets `signal` a third of the way in. */
export async function takeOver(signal: NodeJS.Signals, rate: number, seconds: number, agents: number): Promise<TakeOverRow> {
  const prefix = uniqueId('bench');
  const skill = `s${prefix.replace(/-/g, '').slice(5, 15)}`;
  const group = uniqueId('routing-bench');
  const a = await spawnRouting(routingEnv(group, skill), warnings);
  await waitActive(a);
  const b = await spawnRouting(routingEnv(group, skill), warnings);
  const desks = new Desks(agents, skill, prefix);
  const assignments = await assignmentsRecorder(prefix);
  try {
    await desks.connect(a.grpcPort, true);
    const loading = runLoad(import.meta.url, { rate, seconds, prefix, skill });
    await sleep((seconds * 1000) / 3);
    const signalled = wallNow();
    await a.kill(signal);
    await waitUntil(() => b.isActive(), 60_000, 20);
    const activeAfterMs = wallNow() - signalled;
    const offeredBefore = desks.offered.size;
    await desks.connect(b.grpcPort, false);
    await waitUntil(() => desks.offered.size > offeredBefore, 30_000, 5);
    const routingAfterMs = wallNow() - signalled;
    const load = await loading;
    const sent = Math.round(rate * seconds) - load.failed;
    // Drained: every contact assigned on the topic, or nothing new for 20 s.
    let last = -1;
    let since = performance.now();
    while (assignments.count().size < sent && performance.now() - since < 20_000) {
      const now = assignments.count().size;
      if (now !== last) [last, since] = [now, performance.now()];
      await sleep(500);
    }
    const assigned = assignments.count();
    // Lost: accepted by Kafka but never queued by either instance.
    return {
      signal,
      sent,
      accepted: assigned.size,
      lost: sent - assignments.count('queued').size,
      doubled: [...assigned.values()].filter((n) => n > 1).length,
      activeAfterMs,
      routingAfterMs,
    };
  } finally {
    desks.close();
    await assignments.close();
    await a.kill('SIGKILL');
    await b.kill('SIGTERM');
  }
}

async function stopStore({ pid, fromS, forS }: StoreStop): Promise<void> {
  await sleep(fromS * 1000);
  process.kill(pid, 'SIGSTOP');
  try {
    await sleep(forS * 1000);
  } finally {
    process.kill(pid, 'SIGCONT');
  }
}

async function waitActive(routing: RoutingProcess): Promise<void> {
  await waitUntil(() => routing.isActive(), 60_000);
}

async function waitUntil(probe: () => boolean | Promise<boolean>, timeoutMs: number, everyMs = 50): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!(await probe())) {
    if (performance.now() > deadline) return;
    await sleep(everyMs);
  }
}

const load = loadArguments<LoadArgs>();
if (load) void publishLoad(load).then(reportLoad);
