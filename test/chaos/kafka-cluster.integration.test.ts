// A three-node Kafka cluster of the test's own (scripts/infra.sh, LOCAL_KAFKA_BROKERS=3): the
// project's producer writes at a steady rate while the leader of a partition is killed with
// kill -9 and started again; every record the producer reported as acknowledged must be
// readable exactly once afterwards.
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { ConfigResourceTypes, type Kafka } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureTopics, waitForTopicLeaders } from '#libs/kafka/admin';
import { createKafka } from '#libs/kafka/client';
import { EventProducer } from '#libs/kafka/producer';
import { topics } from '#libs/kafka/topics';
import { testContext, uniqueId, waitFor } from '#libs/testing';

const run = promisify(execFile);
const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const TOPIC = topics.contactInbound.name;

/** Six consecutive free loopback ports (three nodes, a client and a controller port each). */
async function freePortBlock(): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const base = 20_000 + 2 * Math.floor(Math.random() * 15_000);
    const servers: net.Server[] = [];
    try {
      for (let port = base; port < base + 6; port++) {
        const server = net.createServer();
        servers.push(server);
        await new Promise<void>((resolve, reject) => server.once('error', reject).listen(port, '127.0.0.1', resolve));
      }
      return base;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EADDRINUSE') throw err;
    } finally {
      await Promise.all(servers.filter((s) => s.listening).map((s) => new Promise((r) => s.close(r))));
    }
  }
  throw new Error('found no six consecutive free ports on 127.0.0.1');
}

describe('a three-node Kafka cluster started by scripts/infra.sh', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'cc-kafka-cluster-'));
  let env: NodeJS.ProcessEnv;
  let brokers: string[] = [];
  const ctx = testContext('kafka-cluster-test');
  let kafka: Kafka;

  async function infra(...args: string[]): Promise<string> {
    try {
      const { stderr } = await run('bash', [path.join(ROOT, 'scripts/infra.sh'), ...args], { env, timeout: 400_000 });
      return stderr;
    } catch (err) {
      const { stderr, message } = err as { stderr?: string; message: string };
      throw new Error(`scripts/infra.sh ${args.join(' ')} failed: ${message}\n${stderr ?? ''}`);
    }
  }

  beforeAll(async () => {
    const base = await freePortBlock();
    // KAFKA_BROKERS would mean "use that broker"; the store is the tests' own and is only pinged.
    const { KAFKA_BROKERS: _ignored, ...rest } = process.env;
    env = { ...rest, LOCAL_INFRA_DIR: dir, LOCAL_KAFKA_BROKERS: '3', LOCAL_KAFKA_PORT: String(base), LOCAL_KAFKA_HEAP: '384m' };
    const output = await infra('up');
    brokers = [0, 2, 4].map((offset) => `127.0.0.1:${base + offset}`);
    expect(output).toContain(`KAFKA_BROKERS=${brokers.join(',')} KAFKA_REPLICATION_FACTOR=3`);
    kafka = createKafka({ brokers, clientId: uniqueId('cluster-test'), logger: ctx.logger });
  }, 420_000);

  afterAll(async () => {
    try {
      await infra('down');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 120_000);

  it('lists each node, and creates topics with three copies and min.insync.replicas=2', async () => {
    const status = await run('bash', [path.join(ROOT, 'scripts/infra.sh'), 'status'], { env });
    for (const [i, address] of brokers.entries()) expect(status.stdout).toMatch(new RegExp(`kafka-${i + 1}: running \\(pid \\d+\\) on ${address}`));
    await ensureTopics(kafka, { partitions: 3, replicationFactor: 3 }, [TOPIC]);
    const admin = kafka.admin();
    await admin.connect();
    try {
      const [metadata] = await waitForTopicLeaders(admin, [TOPIC]);
      expect(metadata?.partitions.map((p) => p.replicas.length)).toEqual([3, 3, 3]);
      // The node asked may not have heard of a topic just created (UNKNOWN_TOPIC_OR_PARTITION): ask again.
      const described = await waitFor(
        () =>
          admin
            .describeConfigs({
              resources: [{ type: ConfigResourceTypes.TOPIC, name: TOPIC, configNames: ['min.insync.replicas'] }],
              includeSynonyms: false,
            })
            .catch((err: Error & { type?: string; cause?: { type?: string } }) => {
              if ((err.type ?? err.cause?.type) === 'UNKNOWN_TOPIC_OR_PARTITION') return undefined;
              throw err;
            }),
        20_000,
        'the topic config from every node',
      );
      expect(described.resources[0]?.configEntries.find((e) => e.configName === 'min.insync.replicas')?.configValue).toBe('2');
    } finally {
      await admin.disconnect();
    }
  }, 60_000);

  it('keeps every acknowledged record, exactly once, when a partition leader is killed with -9 and restarted', async () => {
    await ensureTopics(kafka, { partitions: 3, replicationFactor: 3 }, [TOPIC]);
    const admin = kafka.admin();
    await admin.connect();
    const [metadata] = await waitForTopicLeaders(admin, [TOPIC]);
    const victim = metadata!.partitions.find((p) => p.partitionId === 0)!.leader;

    const producer = new EventProducer(kafka, { source: 'contactcenter/test/cluster', publishTimeoutMs: 20_000 });
    await producer.connect();
    const prefix = uniqueId('rec');
    // id → when it was published and when the broker acknowledged it.
    const acknowledged = new Map<string, { sent: number; acked: number }>();
    const failures: string[] = [];
    const writes: Promise<void>[] = [];
    let sequence = 0;
    // About 250 records a second, five at a time, whatever the broker is doing.
    const ticker = setInterval(() => {
      for (let i = 0; i < 5; i++) {
        const id = `${prefix}-${sequence++}`;
        const sent = Date.now();
        writes.push(
          producer.publishRaw(TOPIC, id, Buffer.from(id), { ce_id: id }).then(
            () => void acknowledged.set(id, { sent, acked: Date.now() }),
            (err: Error) => void failures.push(err.message),
          ),
        );
      }
    }, 20);
    const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
    try {
      await sleep(4000);
      const killedAt = Date.now();
      await infra('kill-broker', String(victim));
      // Down for longer than the 9 s after which the controller fences it.
      await sleep(12_000);
      await infra('start-broker', String(victim));
      const restartedAt = Date.now();
      await sleep(5000);
      clearInterval(ticker);
      await Promise.all(writes);

      const acks = [...acknowledged.values()];
      const after = acks.filter((a) => a.sent > restartedAt);
      process.stdout.write(
        `cluster fault run: sent ${sequence}, acknowledged ${acks.length}, failed ${failures.length} (${[...new Set(failures)].slice(0, 2).join('; ')}); ` +
          `down ${restartedAt - killedAt} ms; written while down and acknowledged ${acks.filter((a) => a.sent > killedAt && a.acked < restartedAt).length}, ` +
          `the first ${Math.min(...acks.filter((a) => a.sent > killedAt).map((a) => a.acked)) - killedAt} ms after the kill; ` +
          `written after the restart ${after.length}, slowest ack ${Math.max(0, ...after.map((a) => a.acked - a.sent))} ms\n`,
      );
      expect(acks.filter((a) => a.acked < killedAt).length).toBeGreaterThan(100);
      // Two of three copies are enough: records written while the node is down are acknowledged
      // (once the controller has fenced it, 9 s after its last heartbeat).
      expect(acks.filter((a) => a.sent > killedAt && a.acked < restartedAt).length).toBeGreaterThan(0);
      // After a failover the broker can refuse the producer's id ("out of order sequence
      // number"); the producer then starts anew, so writes after the restart go through.
      expect(after.length).toBeGreaterThan(0);
    } finally {
      clearInterval(ticker);
      await producer.disconnect();
    }

    // Read the whole topic up to its end and count each of this test's ids.
    const ends = new Map((await admin.fetchTopicOffsets(TOPIC)).map((p) => [p.partition, Number(p.high)]));
    await admin.disconnect();
    const seen = new Map<string, number>();
    const reached = new Map<number, number>();
    const consumer = kafka.consumer({ groupId: uniqueId('cluster-reader'), maxWaitTimeInMs: 100 });
    await consumer.connect();
    try {
      await consumer.subscribe({ topic: TOPIC, fromBeginning: true });
      await consumer.run({
        eachMessage: async ({ partition, message }) => {
          reached.set(partition, Number(message.offset) + 1);
          const id = message.value?.toString() ?? '';
          if (id.startsWith(`${prefix}-`)) seen.set(id, (seen.get(id) ?? 0) + 1);
        },
      });
      await waitFor(() => [...ends].every(([p, end]) => end === 0 || (reached.get(p) ?? 0) >= end), 60_000, 'the reader to reach the end of every partition');
    } finally {
      await consumer.disconnect();
    }

    const missing = [...acknowledged.keys()].filter((id) => !seen.has(id));
    const doubled = [...seen].filter(([, n]) => n > 1).map(([id]) => id);
    expect({ missing: missing.slice(0, 10), missingCount: missing.length }).toEqual({ missing: [], missingCount: 0 });
    expect(doubled).toEqual([]);
  }, 300_000);
});
