// Helpers for tests that talk to the real broker and store. Each test uses its own ids and
// consumer groups, so tests run side by side and twice in a row without seeing each other.
import { randomUUID } from 'node:crypto';
import net from 'node:net';
import { Kafka, logLevel, type ISocketFactory, type KafkaMessage } from 'kafkajs';
import { MongoClient } from 'mongodb';
import { chromium, type Browser } from 'playwright-core';
import { ensureTopics } from '../kafka/admin';
import { topics } from '../kafka/topics';
import type { ConversationEvent } from '../proto';
import { firstFetchAfterJoin } from '../kafka/consumer';
import type { TopicSpec } from '../kafka/topics';
import { createServiceContext, type ServiceContext } from '../service/runtime';

export const KAFKA_BROKERS = (process.env.KAFKA_BROKERS ?? '127.0.0.1:9092').split(',');
export const MONGODB_URI = process.env.MONGODB_URI ?? 'mongodb://127.0.0.1:27017';

/**
 * The company number every test's sms-voice texts from. Each test's sms-voice reads the shared
 * outbound topic in a consumer group of its own, so it handles the other tests' messages too; with
 * a company number it sends them to its own Twilio stand-in, rather than reporting them
 * undeliverable (NO_COMPANY_NUMBER) on a conversation another test is watching.
 */
export const TEST_COMPANY_NUMBER = '+14155550100';

export function uniqueId(prefix = 'test'): string {
  // The test run's id first (libs/testing/global-setup.ts), so that its teardown finds what the run made.
  const run = process.env.TEST_RUN_ID ?? '';
  return `${prefix}-${run}${randomUUID()
    .replace(/-/g, '')
    .slice(0, 12 - run.length)}`;
}

export function testContext(name = 'test'): ServiceContext {
  return createServiceContext(name, { logLevel: process.env.TEST_LOG_LEVEL ?? 'silent', instanceId: uniqueId(name) });
}

export async function waitFor<T>(probe: () => T | undefined | false | Promise<T | undefined | false>, timeoutMs = 15_000, what = 'condition'): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

export interface RecordedMessage {
  topic: string;
  partition: number;
  message: KafkaMessage;
  headers: Record<string, string>;
}

/**
 * Reads topics from the moment it has joined, in a consumer group of its own, and keeps what
 * arrives so a test can wait for the record it expects.
 */
export async function recordTopics(topicNames: string[]): Promise<{
  records: RecordedMessage[];
  waitFor(predicate: (r: RecordedMessage) => boolean, timeoutMs?: number): Promise<RecordedMessage>;
  /**
   * The values recorded on one topic, decoded; what is not an event of that topic is skipped.
   * With `from`, only what that service instance published (other tests' instances read the
   * same topics and answer too).
   */
  values<T>(spec: TopicSpec<T>, from?: { instanceId: string }): T[];
  close(): Promise<void>;
}> {
  const kafka = new Kafka({ clientId: uniqueId('recorder'), brokers: KAFKA_BROKERS, logLevel: logLevel.NOTHING });
  // On a fresh broker the project's topics exist only once a service has started: create them
  // as a service would, with the default settings, so recording can begin first.
  await ensureTopics(kafka, { partitions: 3, replicationFactor: 1 }, topicNames);
  const consumer = kafka.consumer({ groupId: uniqueId('recorder'), maxWaitTimeInMs: 50 });
  const records: RecordedMessage[] = [];
  await consumer.connect();
  await consumer.subscribe({ topics: topicNames, fromBeginning: false });
  const positioned = firstFetchAfterJoin(consumer);
  await consumer.run({
    eachMessage: async ({ topic, partition, message }) => {
      const headers: Record<string, string> = {};
      for (const [k, v] of Object.entries(message.headers ?? {})) headers[k] = String(Array.isArray(v) ? v[0] : v);
      records.push({ topic, partition, message, headers });
    },
  });
  await positioned;
  return {
    records,
    waitFor: (predicate, timeoutMs = 15_000) => waitFor(() => records.find(predicate), timeoutMs, 'a matching record'),
    values: (spec, from) =>
      records.flatMap((r) =>
        r.topic === spec.name && (!from || (r.headers.ce_source ?? '').endsWith(`/${from.instanceId}`)) ? decodedOrNothing(spec, r) : [],
      ),
    close: () => consumer.disconnect(),
  };
}

/**
 * Other tests on the shared broker write poison records on purpose (dead-letter tests); a test
 * reading a whole topic skips them instead of failing on them.
 */
function decodedOrNothing<T>(spec: TopicSpec<T>, record: RecordedMessage): T[] {
  if (record.headers.ce_type !== undefined && record.headers.ce_type !== spec.type) return [];
  try {
    return [spec.codec.decode(record.message.value ?? Buffer.alloc(0))];
  } catch {
    return [];
  }
}

/** A socket factory whose network can be cut and restored, to test a broker outage from the client's side. */
export function cuttableSocketFactory(): { socketFactory: ISocketFactory; cut(): void; restore(): void } {
  let down = false;
  const open = new Set<net.Socket>();
  const socketFactory: ISocketFactory = ({ host, port, onConnect }) => {
    const socket = net.connect({ host, port });
    if (down) {
      socket.destroy(new Error('network cut by test'));
      return socket;
    }
    socket.once('connect', onConnect);
    open.add(socket);
    socket.once('close', () => open.delete(socket));
    return socket;
  };
  return {
    socketFactory,
    cut() {
      down = true;
      for (const s of open) s.destroy(new Error('network cut by test'));
    },
    restore() {
      down = false;
    },
  };
}

/**
 * A TCP proxy in front of one server, to cut a single client's connection to it (a store or a
 * broker that other tests share). `cut()` destroys every open connection and refuses new ones
 * (accepted, then closed at once, as a server that went away); `restore()` lets them through again.
 */
export async function cuttableProxy(targetHost: string, targetPort: number): Promise<{ port: number; cut(): void; restore(): void; close(): Promise<void> }> {
  let down = false;
  const open = new Set<net.Socket>();
  const track = (socket: net.Socket) => {
    open.add(socket);
    socket.once('close', () => open.delete(socket));
    // Errors on a cut connection are expected; the other side is destroyed with it.
    socket.on('error', () => socket.destroy());
  };
  const server = net.createServer((client) => {
    if (down) {
      client.destroy();
      return;
    }
    const upstream = net.connect({ host: targetHost, port: targetPort });
    track(client);
    track(upstream);
    client.once('close', () => upstream.destroy());
    upstream.once('close', () => client.destroy());
    client.pipe(upstream);
    upstream.pipe(client);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as net.AddressInfo;
  return {
    port,
    cut() {
      down = true;
      for (const s of open) s.destroy();
    },
    restore() {
      down = false;
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of open) s.destroy();
        server.close(() => resolve());
      }),
  };
}

/** The store's host and port (from MONGODB_URI), e.g. to put a `cuttableProxy` in front of it. */
export function storeAddress(uri = MONGODB_URI): { host: string; port: number } {
  const url = new URL(uri);
  return { host: url.hostname, port: Number(url.port || 27017) };
}

/** Drops a test's own database. */
export async function dropDatabase(name: string): Promise<void> {
  const client = new MongoClient(MONGODB_URI);
  try {
    await client.db(name).dropDatabase();
  } finally {
    await client.close();
  }
}

/** Debian's Chromium (scripts/install-browser.sh puts it there), headless, for the browser tests. */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
  });
}

/** The sum of a metric's values in a service's registry, over the series whose labels match. */
export async function metricTotal(ctx: ServiceContext, name: string, labels: Record<string, string>): Promise<number> {
  const metric = await ctx.metrics.getSingleMetric(name)?.get();
  return (metric?.values ?? []).filter((v) => Object.entries(labels).every(([k, x]) => v.labels[k] === x)).reduce((sum, v) => sum + v.value, 0);
}

/** The delivery report of one outbound message that this service instance published (other test files' instances read the topic too). */
export function deliveryReportFrom(
  recorder: Awaited<ReturnType<typeof recordTopics>>,
  ctx: ServiceContext,
  outboundMessageId: string,
  what = 'the delivery report',
): Promise<ConversationEvent> {
  return waitFor(
    () =>
      recorder
        .values(topics.conversationEvents, ctx)
        .find((e): e is ConversationEvent => e.step?.$case === 'deliveryReported' && e.step.deliveryReported.outboundMessageId === outboundMessageId),
    60_000,
    what,
  );
}

export { freePort, freePorts } from './ports';
export { startMailSink, type MailSink } from './mail-sink';
export { refusedTokens, testAuthEnv, testKeys, testMetadata, testToken } from './auth';
export { erasureHarness, publishErasure, type ErasureHarness } from './erasure';
