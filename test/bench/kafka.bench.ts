// npm run bench:kafka — publish-to-consume throughput and latency through libs/kafka on the
// local broker, side by side with kcat (librdkafka) on the same broker as the baseline of what
// the broker itself allows here. libs/kafka is run twice: producer and consumer in one process,
// and, as kcat runs, the consumer in a process of its own (this file with `--consume`).
//
//   BENCH_EVENTS      events in each throughput run (default 50000)
//   BENCH_RATE        events/s in the latency run (default 1000)
//   BENCH_SECONDS     length of the latency run (default 10)
import { spawn, spawnSync, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { cpus, totalmem } from 'node:os';
import readline from 'node:readline';
import { fileURLToPath } from 'node:url';
import { Kafka, logLevel } from 'kafkajs';
import { createKafka, EventConsumer, EventProducer, topics, type TopicSpec } from '#libs/kafka';
import { Channel, ContactKind, ContactReceived, IdentityKind } from '#libs/proto';
import { createLogger } from '#libs/observability';
import { percentile, sleep } from './stats';

const BROKERS = process.env.KAFKA_BROKERS ?? '127.0.0.1:9092';
const EVENTS = Number(process.env.BENCH_EVENTS ?? 50_000);
const RATE = Number(process.env.BENCH_RATE ?? 1000);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
const run = `${Date.now()}`;
const logger = createLogger('bench', 'warn');

function ensureKcat(): string {
  const found = spawnSync('sh', ['-c', 'command -v kcat || command -v kafkacat'], { encoding: 'utf8' }).stdout.trim();
  if (found) return found;
  console.error('installing kcat from Debian packages (apt-get install kcat)');
  const apt = (args: string[]) => spawnSync('apt-get', args, { stdio: 'inherit', env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } });
  apt(['update', '-qq']);
  if (apt(['install', '-y', '-qq', 'kcat']).status !== 0) throw new Error('could not install kcat; install it with apt-get install kcat');
  return 'kcat';
}

function sampleContact(i: number, sentAt: Date): ContactReceived {
  return ContactReceived.fromPartial({
    contactId: `bench-${run}-${i}`,
    conversationId: `conv-${i % 997}`,
    channel: Channel.CHANNEL_CHAT,
    kind: ContactKind.CONTACT_KIND_MESSAGE,
    receivedAt: sentAt,
    sender: { kind: IdentityKind.IDENTITY_KIND_CHAT_VISITOR, value: `visitor-${i % 5000}` },
    text: 'Hello, I would like to know where my parcel is; the tracking page has not changed for three days.',
    channelMetadata: { seq: String(i) },
  });
}

const PAYLOAD_BYTES = ContactReceived.encode(sampleContact(0, new Date())).finish().length;

async function createTopic(kafka: Kafka, name: string): Promise<void> {
  const admin = kafka.admin();
  await admin.connect();
  await admin.createTopics({ topics: [{ topic: name, numPartitions: 3, replicationFactor: 1 }], waitForLeaders: true });
  await admin.disconnect();
}

async function deleteTopics(kafka: Kafka, names: string[]): Promise<void> {
  const admin = kafka.admin();
  await admin.connect();
  await admin.deleteTopics({ topics: names }).catch(() => undefined);
  await admin.disconnect();
}

/** A copy of the inbound topic spec pointing at a bench topic, so nothing real is disturbed. */
const benchTopic = (name: string): TopicSpec<ContactReceived> => ({ ...topics.contactInbound, name });

interface Consumed {
  /** When the last event arrived (this machine's clock, shared by both processes). */
  lastAt: number;
  latencies: number[];
}

/** Consumes `count` events of the topic through EventConsumer; `ready` resolves once it is assigned. */
async function consumeThroughLibs(
  kafka: Kafka,
  producer: EventProducer,
  topicName: string,
  count: number,
): Promise<{ ready: Promise<void>; consumed: Promise<Consumed> }> {
  const latencies: number[] = [];
  let done!: (c: Consumed) => void;
  const consumed = new Promise<Consumed>((r) => (done = r));
  const consumer = new EventConsumer(kafka, { groupId: `bench-${topicName}`, logger, producer, partitionsConsumedConcurrently: 3 });
  consumer.on(benchTopic(topicName), (e) => {
    const now = Date.now();
    latencies.push(now - e.value.receivedAt!.getTime());
    if (latencies.length === count) done({ lastAt: now, latencies });
  });
  await consumer.start();
  return { ready: sleep(500).then(() => undefined), consumed: consumed.finally(() => consumer.stop()) };
}

/** The consumer as a process of its own: prints "ready", then one JSON line with what it consumed. */
function consumerProcess(topicName: string, count: number): { ready: Promise<void>; consumed: Promise<Consumed> } {
  const child = spawn(process.execPath, ['--import', 'tsx', fileURLToPath(import.meta.url), '--consume', topicName, String(count)], {
    env: process.env,
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const lines = readline.createInterface({ input: child.stdout })[Symbol.asyncIterator]();
  const next = async (what: string): Promise<string> => {
    const line = await lines.next();
    if (line.done) throw new Error(`the consumer process ended before ${what} (exit code ${child.exitCode})`);
    return line.value;
  };
  const ready = next('it was ready').then(() => undefined);
  return { ready, consumed: ready.then(async () => JSON.parse(await next('it consumed every event')) as Consumed) };
}

async function libRun(kafka: Kafka, topicName: string, count: number, pace?: number, ownProcess = false): Promise<{ seconds: number; latencies: number[] }> {
  const producer = new EventProducer(kafka, { source: 'bench', publishTimeoutMs: 30_000 });
  await producer.connect();
  const spec = benchTopic(topicName);
  const consumer = ownProcess ? consumerProcess(topicName, count) : await consumeThroughLibs(kafka, producer, topicName, count);
  await consumer.ready;
  const started = Date.now();
  const inFlight: Promise<unknown>[] = [];
  for (let i = 0; i < count; i++) {
    if (pace) {
      const due = started + (i * 1000) / pace;
      if (due > Date.now()) await sleep(due - Date.now());
    }
    inFlight.push(producer.publish(spec, `conv-${i % 997}`, sampleContact(i, new Date())));
    if (inFlight.length >= 10_000) await Promise.all(inFlight.splice(0));
  }
  await Promise.all(inFlight);
  const { lastAt, latencies } = await consumer.consumed;
  await producer.disconnect();
  return { seconds: (lastAt - started) / 1000, latencies };
}

function kcatConsumer(kcat: string, topicName: string, count: number): { child: ChildProcessWithoutNullStreams; lines: AsyncIterable<string> } {
  const child = spawn(kcat, ['-C', '-b', BROKERS, '-t', topicName, '-o', 'end', '-c', String(count), '-q', '-u', '-f', '%s\n', '-X', 'fetch.wait.max.ms=50']);
  return { child, lines: readline.createInterface({ input: child.stdout }) };
}

function kcatProducer(kcat: string, topicName: string, lingerMs: number): ChildProcessWithoutNullStreams {
  return spawn(kcat, ['-P', '-b', BROKERS, '-t', topicName, '-X', 'acks=all', '-X', 'enable.idempotence=true', '-X', `linger.ms=${lingerMs}`]);
}

/** A printable payload of the same size as the protobuf event, starting with the send time. */
const textPayload = (sentAt: number) => `${sentAt}:`.padEnd(PAYLOAD_BYTES, 'x');

async function kcatRun(kcat: string, topicName: string, count: number, pace?: number): Promise<{ seconds: number; latencies: number[] }> {
  const consumer = kcatConsumer(kcat, topicName, count);
  await sleep(1500); // kcat has no "assigned" signal; give it time to reach the end offsets
  const producer = kcatProducer(kcat, topicName, pace ? 0 : 5);
  const latencies: number[] = [];
  const started = Date.now();
  const consumed = (async () => {
    for await (const line of consumer.lines) {
      latencies.push(Date.now() - Number(line.slice(0, line.indexOf(':'))));
      if (latencies.length === count) break;
    }
  })();
  for (let i = 0; i < count; i++) {
    if (pace) {
      const due = started + (i * 1000) / pace;
      if (due > Date.now()) await sleep(due - Date.now());
    }
    if (!producer.stdin.write(`${textPayload(Date.now())}\n`)) await new Promise((r) => producer.stdin.once('drain', r));
  }
  producer.stdin.end();
  await consumed;
  const seconds = (Date.now() - started) / 1000;
  consumer.child.kill();
  return { seconds, latencies };
}

function row(name: string, count: number, r: { seconds: number; latencies: number[] }) {
  return {
    client: name,
    events: count,
    'events/s': Math.round(count / r.seconds),
    'p50 ms': percentile(r.latencies, 50),
    'p99 ms': percentile(r.latencies, 99),
  };
}

async function main(): Promise<void> {
  const kcat = ensureKcat();
  const kafka = createKafka({ brokers: BROKERS.split(','), clientId: 'bench', logger });
  const admin = new Kafka({ brokers: BROKERS.split(','), clientId: 'bench-admin', logLevel: logLevel.NOTHING });
  const names = ['lib-tp', 'lib2-tp', 'kcat-tp', 'lib-lat', 'lib2-lat', 'kcat-lat'].map((n) => `cc.bench.${n}.${run}`);
  const [libTp, lib2Tp, kcatTp, libLat, lib2Lat, kcatLat] = names as [string, string, string, string, string, string];
  for (const n of names) await createTopic(admin, n);
  console.log(`machine: ${cpus().length} cores, ${Math.round(totalmem() / 2 ** 30)} GB; broker ${BROKERS}; payload ${PAYLOAD_BYTES} bytes`);
  try {
    console.log(`\nthroughput: ${EVENTS} events published as fast as possible, time until the last is consumed`);
    const throughput = [
      row('libs/kafka, one process', EVENTS, await libRun(kafka, libTp, EVENTS)),
      row('libs/kafka, consumer process', EVENTS, await libRun(kafka, lib2Tp, EVENTS, undefined, true)),
      row('kcat', EVENTS, await kcatRun(kcat, kcatTp, EVENTS)),
    ];
    console.table(throughput);
    for (const lib of throughput.slice(0, 2)) console.log(`ratio kcat / ${lib.client}: ${(throughput[2]!['events/s'] / lib['events/s']).toFixed(2)}x`);

    const paced = RATE * SECONDS;
    console.log(`\nlatency: ${RATE} events/s for ${SECONDS} s, publish-to-consume round trip`);
    const latency = [
      row('libs/kafka, one process', paced, await libRun(kafka, libLat, paced, RATE)),
      row('libs/kafka, consumer process', paced, await libRun(kafka, lib2Lat, paced, RATE, true)),
      row('kcat', paced, await kcatRun(kcat, kcatLat, paced, RATE)),
    ];
    console.table(latency);
  } finally {
    await deleteTopics(admin, names);
  }
  process.exit(0);
}

/** `--consume <topic> <count>`: the consumer process of the two-process run. */
async function consumeMain(topicName: string, count: number): Promise<void> {
  const kafka = createKafka({ brokers: BROKERS.split(','), clientId: 'bench-consumer', logger });
  const producer = new EventProducer(kafka, { source: 'bench' });
  await producer.connect();
  const { ready, consumed } = await consumeThroughLibs(kafka, producer, topicName, count);
  await ready;
  console.log('ready');
  console.log(JSON.stringify(await consumed));
  await producer.disconnect();
  process.exit(0);
}

const consumeAt = process.argv.indexOf('--consume');
(consumeAt > 0 ? consumeMain(process.argv[consumeAt + 1]!, Number(process.argv[consumeAt + 2])) : main()).catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
