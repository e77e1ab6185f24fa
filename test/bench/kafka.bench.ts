// npm run bench:kafka — publish-to-consume throughput and latency through libs/kafka on the
// local broker, side by side with kcat (librdkafka) on the same broker as the baseline of what
// the broker itself allows here.
//
//   BENCH_EVENTS      events in each throughput run (default 50000)
//   BENCH_RATE        events/s in the latency run (default 1000)
//   BENCH_SECONDS     length of the latency run (default 10)
import { spawn, spawnSync, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { cpus, totalmem } from 'node:os';
import readline from 'node:readline';
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

async function libRun(kafka: Kafka, topicName: string, count: number, pace?: number): Promise<{ seconds: number; latencies: number[] }> {
  const producer = new EventProducer(kafka, { source: 'bench', publishTimeoutMs: 30_000 });
  await producer.connect();
  const spec = benchTopic(topicName);
  const latencies: number[] = [];
  let received = 0;
  let done!: () => void;
  const allReceived = new Promise<void>((r) => (done = r));
  const consumer = new EventConsumer(kafka, { groupId: `bench-${topicName}`, logger, producer, partitionsConsumedConcurrently: 3 });
  consumer.on(spec, (e) => {
    latencies.push(Date.now() - e.value.receivedAt!.getTime());
    if (++received === count) done();
  });
  await consumer.start();
  await sleep(500);
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
  await allReceived;
  const seconds = (Date.now() - started) / 1000;
  await consumer.stop();
  await producer.disconnect();
  return { seconds, latencies };
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
  const names = ['lib-tp', 'kcat-tp', 'lib-lat', 'kcat-lat'].map((n) => `cc.bench.${n}.${run}`);
  for (const n of names) await createTopic(admin, n);
  console.log(`machine: ${cpus().length} cores, ${Math.round(totalmem() / 2 ** 30)} GB; broker ${BROKERS}; payload ${PAYLOAD_BYTES} bytes`);
  try {
    console.log(`\nthroughput: ${EVENTS} events published as fast as possible, time until the last is consumed`);
    const throughput = [row('libs/kafka', EVENTS, await libRun(kafka, names[0]!, EVENTS)), row('kcat', EVENTS, await kcatRun(kcat, names[1]!, EVENTS))];
    console.table(throughput);
    console.log(`ratio kcat/libs throughput: ${(throughput[1]!['events/s'] / throughput[0]!['events/s']).toFixed(2)}x`);

    const paced = RATE * SECONDS;
    console.log(`\nlatency: ${RATE} events/s for ${SECONDS} s, publish-to-consume round trip`);
    const latency = [row('libs/kafka', paced, await libRun(kafka, names[2]!, paced, RATE)), row('kcat', paced, await kcatRun(kcat, names[3]!, paced, RATE))];
    console.table(latency);
  } finally {
    await deleteTopics(admin, names);
  }
  process.exit(0);
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
