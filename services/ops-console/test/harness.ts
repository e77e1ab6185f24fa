// Starts the console in-process against the real broker and store, with its own databases and
// a roster of one person per role.
import http from 'node:http';
import type { IHeaders } from 'kafkajs';
import { DEAD_LETTER_TOPIC } from '#libs/kafka';
import { connectKafka, type ServiceContext, type ServiceKafka } from '#libs/service';
import { StaffRoster } from '#libs/staff';
import { dropDatabase, KAFKA_BROKERS, MONGODB_URI, testContext, uniqueId } from '#libs/testing';
import { MongoClient } from 'mongodb';
import { loadOpsConsoleConfig } from '../src/config';
import { startOpsConsole, type OpsConsole } from '../src/service';

export const PASSWORD = 'correct horse battery staple';

export interface Harness {
  ctx: ServiceContext;
  console: OpsConsole;
  staffDb: string;
  db: string;
  ids: { ops: string; supervisor: string; agent: string; privacy: string };
  /** A producer of the test's own, for scenario events and dead letters. */
  kafka: ServiceKafka;
  producerCtx: ServiceContext;
  stop(): Promise<void>;
}

/** `env` adds configuration (a routing address and the console's key); without a key routing's statistics are off. */
export async function startHarness(env: Record<string, string> = {}): Promise<Harness> {
  const staffDb = uniqueId('ops_staff').replace(/-/g, '_');
  const db = uniqueId('ops_console').replace(/-/g, '_');
  const ctx = testContext('ops-console');
  const config = loadOpsConsoleConfig({
    KAFKA_BROKERS: KAFKA_BROKERS.join(','),
    MONGODB_URI,
    MONGODB_DATABASE: db,
    STAFF_DB: staffDb,
    HTTP_PORT: '0',
    OPS_CONSOLE_SESSION_SECRET: 'a-test-secret-that-is-long-enough-0123456789',
    OPS_QUEUE_STATS_INTERVAL_MS: '1000',
    OPS_LAG_INTERVAL_MS: '3000',
    ...env,
  });
  const console = await startOpsConsole(ctx, config, env.AUTH_PRIVATE_KEY_FILE ? {} : { queueStats: null });
  const suffix = uniqueId('p').slice(2).toLowerCase();
  const ids = { ops: `ops.${suffix}`, supervisor: `sup.${suffix}`, agent: `agent.${suffix}`, privacy: `dpo.${suffix}` };
  const client = await MongoClient.connect(MONGODB_URI);
  try {
    const roster = new StaffRoster(client.db(staffDb));
    await roster.upsert({ id: ids.ops, name: 'Olu Ops', role: 'ops' }, PASSWORD);
    await roster.upsert({ id: ids.supervisor, name: 'Sam Supervisor', role: 'supervisor' }, PASSWORD);
    await roster.upsert({ id: ids.agent, name: 'Ada Agent', role: 'agent' }, PASSWORD);
    await roster.upsert({ id: ids.privacy, name: 'Dana Privacy', role: 'privacy' }, PASSWORD);
  } finally {
    await client.close();
  }
  const producerCtx = testContext('ops-console-scenario');
  const kafka = await connectKafka(producerCtx, { KAFKA_BROKERS, KAFKA_TOPIC_PARTITIONS: 3, KAFKA_REPLICATION_FACTOR: 1 });
  return {
    ctx,
    console,
    staffDb,
    db,
    ids,
    kafka,
    producerCtx,
    async stop() {
      await producerCtx.stop();
      await ctx.stop();
      await dropDatabase(staffDb);
      await dropDatabase(db);
    },
  };
}

/** A dead letter exactly as libs/kafka's consumer writes one. */
export async function writeDeadLetter(
  kafka: ServiceKafka,
  original: { topic: string; partition: number; offset: string; key: string; value: Buffer; headers: IHeaders },
  reason: string,
  detail: string,
): Promise<void> {
  await kafka.producer.publishRaw(DEAD_LETTER_TOPIC, original.key, original.value, {
    ...original.headers,
    dlq_reason: reason,
    dlq_detail: detail,
    dlq_topic: original.topic,
    dlq_partition: String(original.partition),
    dlq_offset: original.offset,
    dlq_consumer_group: 'ops-console-test-consumer',
    dlq_time: new Date().toISOString(),
  });
}

export interface SignedIn {
  cookie: string;
  csrf: string;
  role: string;
}

export async function signIn(base: string, id: string, password = PASSWORD): Promise<{ status: number; body: Record<string, unknown>; session?: SignedIn }> {
  const res = await fetch(`${base}/api/sign-in`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', origin: base },
    body: JSON.stringify({ id, password }),
  });
  const body = (await res.json()) as Record<string, unknown>;
  const setCookie = res.headers.get('set-cookie');
  if (res.status !== 200 || !setCookie) return { status: res.status, body };
  return { status: res.status, body, session: { cookie: setCookie.split(';')[0]!, csrf: String(body.csrfToken), role: String(body.role) } };
}

/** A sign-in from a given loopback address (all of 127.0.0.0/8 is this machine), as from another client. */
export function signInFrom(
  base: string,
  address: string,
  id: string,
  password = PASSWORD,
): Promise<{ status: number; body: Record<string, unknown>; cookie?: string }> {
  const payload = JSON.stringify({ id, password });
  return new Promise((resolve, reject) => {
    const req = http.request(
      `${base}/api/sign-in`,
      { method: 'POST', localAddress: address, headers: { 'content-type': 'application/json', origin: base, 'content-length': Buffer.byteLength(payload) } },
      (res) => {
        let text = '';
        res.on('data', (d: Buffer) => (text += d.toString()));
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, body: JSON.parse(text) as Record<string, unknown>, cookie: res.headers['set-cookie']?.[0]?.split(';')[0] }),
        );
      },
    );
    req.on('error', reject);
    req.end(payload);
  });
}
