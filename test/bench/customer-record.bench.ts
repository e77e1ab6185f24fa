// Benchmark: GetCustomerContext over gRPC with 16 concurrent callers, side by side with the
// same read done as plain driver queries (the store's own floor). Loads its own data into a
// database of its own and drops it afterwards.
//   npm run bench:customer-record        (BENCH_SECONDS, BENCH_LOAD_SECONDS to change the budget)
import { credentials, Metadata } from '@grpc/grpc-js';
import { MongoClient } from 'mongodb';
import { fork } from 'node:child_process';
import { cpus, totalmem } from 'node:os';
import { fileURLToPath } from 'node:url';
import { loadConfig } from '#libs/config';
import { Channel, CustomerRecordServiceClient, FlagSource, GetCustomerContextRequest, HistoryEntryKind, IdentityKind } from '#libs/proto';
import { MONGODB_URI, testAuthEnv, testContext, testToken, uniqueId } from '#libs/testing';
import { customerRecordConfig } from '../../services/customer-record/src/config';
import { startCustomerRecord } from '../../services/customer-record/src/service';
import { CustomerStore, type ConversationDoc, type CustomerDoc, type IdentityDoc } from '../../services/customer-record/src/store';
import type { HistoryRecord } from '../../services/customer-record/src/history';
import { percentile } from './stats';

const TARGET_CUSTOMERS = 100_000;
const HISTORY_PER_CUSTOMER = 10;
const CONVERSATIONS_PER_CUSTOMER = 2;
const UNIT = 1_000; // customers per load step
const CONCURRENCY = 16;
const MEASURE_MS = Number(process.env.BENCH_SECONDS ?? 12) * 1000;
const LOAD_BUDGET_MS = Number(process.env.BENCH_LOAD_SECONDS ?? 400) * 1000;

type Result = { label: string; calls: number; p50: number; p99: number; perSecond: number };

// Caller mode: the gRPC callers run in a process of their own, so the service under test
// does not share its event loop with the load.
if (process.env.BENCH_CALLER) {
  const { port, token, customers, label } = JSON.parse(process.env.BENCH_CALLER) as { port: number; token: string; customers: number; label: string };
  const client = new CustomerRecordServiceClient(`127.0.0.1:${port}`, credentials.createInsecure());
  const md = new Metadata();
  md.set('authorization', `Bearer ${token}`);
  const read = (i: number) =>
    new Promise((resolve, reject) =>
      client.getCustomerContext(
        GetCustomerContextRequest.fromPartial({ customerId: `bench-c-${i}`, recentConversations: 5, reason: 'benchmark' }),
        md,
        (err, res) => (err ? reject(err) : resolve(res)),
      ),
    );
  for (let i = 0; i < 200; i++) await read(i % customers);
  const result = await measure(label, () => Math.floor(Math.random() * customers), read);
  client.close();
  process.send!(result);
  process.exit(0);
}

async function inCallerProcess(port: number, token: string, customers: number, label: string): Promise<Result> {
  const child = fork(fileURLToPath(import.meta.url), [], {
    execArgv: ['--import', 'tsx'],
    env: { ...process.env, BENCH_CALLER: JSON.stringify({ port, token, customers, label }) },
  });
  return new Promise((resolve, reject) => {
    child.once('message', (m) => resolve(m as Result));
    child.once('exit', (code) => (code === 0 ? undefined : reject(new Error(`caller process exited with ${code}`))));
  });
}

const database = uniqueId('bench_cr').replace(/-/g, '_');
const mongo = await new MongoClient(MONGODB_URI).connect();
const db = mongo.db(database);

async function measure(
  label: string,
  pick: () => number,
  read: (i: number) => Promise<unknown>,
): Promise<{ label: string; calls: number; p50: number; p99: number; perSecond: number }> {
  const latencies: number[] = [];
  const end = Date.now() + MEASURE_MS;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (Date.now() < end) {
        const t = performance.now();
        await read(pick());
        latencies.push(performance.now() - t);
      }
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  latencies.sort((a, b) => a - b);
  const r = { label, calls: latencies.length, p50: percentile(latencies, 50), p99: percentile(latencies, 99), perSecond: latencies.length / seconds };
  console.log(
    `${label.padEnd(86)} calls ${String(r.calls).padStart(7)}  p50 ${r.p50.toFixed(2)} ms  p99 ${r.p99.toFixed(2)} ms  ${r.perSecond.toFixed(0)} calls/s`,
  );
  return r;
}

const ctx = testContext('customer-record-bench');
try {
  // ---- load ----
  const store = new CustomerStore(db, { minConversations: 3, windowDays: 90 });
  await store.ensureIndexes();
  const now = Date.now();
  const loadStart = performance.now();
  let loaded = 0;
  let historyLoaded = 0;
  while (loaded < TARGET_CUSTOMERS && performance.now() - loadStart < LOAD_BUDGET_MS) {
    const customers: CustomerDoc[] = [];
    const identities: IdentityDoc[] = [];
    const conversations: ConversationDoc[] = [];
    const history: HistoryRecord[] = [];
    for (let i = loaded; i < loaded + UNIT; i++) {
      const id = `bench-c-${i}`;
      const value = `customer${i}@example.com`;
      const starts = Array.from({ length: CONVERSATIONS_PER_CUSTOMER }, (_, k) => new Date(now - (k * 20 + (i % 7)) * 86_400_000));
      const own: ConversationDoc[] = starts.map((startedAt, k) => ({
        _id: `bench-v-${i}-${k}`,
        customerId: id,
        channel: Channel.CHANNEL_EMAIL,
        subject: 'Invoice question',
        startedAt,
        lastActivityAt: startedAt,
        status: 'resolved',
        lastAgentId: 'agent-1',
        messageCount: 3,
      }));
      conversations.push(...own);
      customers.push({
        _id: id,
        displayName: `Customer ${i}`,
        createdAt: new Date(now - 400 * 86_400_000),
        accountId: null,
        mergedInto: null,
        identities: [{ kind: IdentityKind.IDENTITY_KIND_EMAIL, value, namespace: '' }],
        conversationStarts: starts,
        recentConversations: own,
        regularRule: {
          on: false,
          reason: '2 conversations in the last 90 days (regular from 3)',
          source: FlagSource.FLAG_SOURCE_RULE,
          setBy: 'rule',
          setAt: starts[0]!,
        },
        regularOverride: null,
        vipOverride: null,
        institutionalOverride: null,
      });
      identities.push({
        _id: `${IdentityKind.IDENTITY_KIND_EMAIL}|${value}`,
        kind: IdentityKind.IDENTITY_KIND_EMAIL,
        value,
        namespace: '',
        customerId: id,
        linkedAt: new Date(now),
      });
      for (const conv of own)
        for (let h = 0; h < HISTORY_PER_CUSTOMER / CONVERSATIONS_PER_CUSTOMER; h++)
          history.push({
            _id: `event:bench-${conv._id}-${h}`,
            customerId: id,
            conversationId: conv._id,
            channel: Channel.CHANNEL_EMAIL,
            kind: HistoryEntryKind.HISTORY_ENTRY_KIND_MESSAGE_IN,
            occurredAt: new Date(conv.startedAt.getTime() + h * 60_000),
            agentId: '',
            subject: 'Invoice question',
            text: 'Hello, my invoice for last month is wrong, could you check it please?',
            detail: '',
          });
    }
    await Promise.all([
      store.customers.insertMany(customers, { ordered: false }),
      store.identities.insertMany(identities, { ordered: false }),
      store.conversations.insertMany(conversations, { ordered: false }),
    ]);
    for (let b = 0; b < history.length; b += 5_000) await store.history.insertMany(history.slice(b, b + 5_000), { ordered: false });
    loaded += UNIT;
    historyLoaded += history.length;
    if (loaded % 10_000 === 0)
      console.log(`loaded ${loaded} customers, ${historyLoaded} history entries in ${((performance.now() - loadStart) / 1000).toFixed(1)} s`);
  }
  const loadSeconds = (performance.now() - loadStart) / 1000;
  const scaled = loaded < TARGET_CUSTOMERS;
  console.log(
    `load: ${loaded} customers, ${loaded * CONVERSATIONS_PER_CUSTOMER} conversations, ${historyLoaded} history entries in ${loadSeconds.toFixed(1)} s ` +
      `(${Math.round((loaded * (2 + CONVERSATIONS_PER_CUSTOMER) + historyLoaded) / loadSeconds)} documents/s)${scaled ? ` — SCALED DOWN: the ${LOAD_BUDGET_MS / 1000} s load budget ran out before ${TARGET_CUSTOMERS} customers` : ''}`,
  );

  // ---- the service, reads only ----
  const env = (ttl: number) =>
    loadConfig(customerRecordConfig, {
      MONGODB_URI,
      MONGODB_DATABASE: database,
      GRPC_PORT: '0',
      HTTP_PORT: '0',
      ...testAuthEnv('customer-record'),
      PROJECTION_ENABLED: 'false',
      CONTEXT_CACHE_TTL_MS: String(ttl),
      LOG_LEVEL: 'silent',
      CALLER_RATE_LIMIT_PER_MINUTE: '100000000',
    }); // one token stands for 16 agents here
  // A supervisor with a reason: an agent would need each customer's conversation offered first.
  const token = await testToken({ id: 'bench-supervisor', role: 'supervisor' }, 'customer-record', { ttlSeconds: 900 });
  const metadata = new Metadata();
  metadata.set('authorization', `Bearer ${token}`);
  const uniform = () => Math.floor(Math.random() * loaded);
  const hot = () => Math.floor(Math.random() * Math.min(1_000, loaded));

  const results = [];
  for (const [ttl, label, pick] of [
    [0, 'gRPC GetCustomerContext, cache off, uniform over all', uniform],
    [60_000, 'gRPC GetCustomerContext, warm cache, 1,000 hot customers', hot],
  ] as const) {
    const svcCtx = testContext('customer-record-bench-service');
    const svc = await startCustomerRecord(svcCtx, env(ttl));
    const client = new CustomerRecordServiceClient(`127.0.0.1:${svc.grpcPort}`, credentials.createInsecure());
    const read = (i: number) =>
      new Promise((resolve, reject) =>
        client.getCustomerContext(
          GetCustomerContextRequest.fromPartial({ customerId: `bench-c-${i}`, recentConversations: 5, reason: 'benchmark' }),
          metadata,
          (err, res) => (err ? reject(err) : resolve(res)),
        ),
      );
    // Warm up connections and JIT; with the cache on, every hot customer is read once first.
    const warm = ttl > 0 ? Math.min(1_000, loaded) : 20;
    for (let i = 0; i < warm; i += CONCURRENCY) await Promise.all(Array.from({ length: Math.min(CONCURRENCY, warm - i) }, (_, k) => read(i + k)));
    results.push(await measure(`${label} (callers in-process)`, pick, read));
    client.close();
    if (ttl > 0) results.push(await inCallerProcess(svc.grpcPort, token, Math.min(1_000, loaded), `${label} (callers in own process)`));
    await svcCtx.stop();
  }
  // The same read with no service in between: the customer document by _id (it carries the
  // recent conversations), then the account if there is one.
  const driverRead = async (i: number) => {
    const c = await store.customers.findOne({ _id: `bench-c-${i}` });
    if (c?.accountId) await store.accounts.findOne({ _id: c.accountId });
  };
  for (let i = 0; i < 20; i++) await driverRead(i);
  results.push(await measure('driver: same queries, no service, uniform over all', uniform, driverRead));
  console.log(
    `machine: ${cpus().length} cores, ${Math.round(totalmem() / 2 ** 30)} GB; ${CONCURRENCY} concurrent callers; ${MEASURE_MS / 1000} s per row; database ${database} dropped after`,
  );
} finally {
  await db.dropDatabase().catch(() => undefined);
  await mongo.close();
  await ctx.stop();
}
