// Benchmark: the integration API's reads (GET /v1/queues, GET /v1/customers/{id},
// GET /v1/conversations/{id}) at 16 and 64 connections, each beside the same read made over the
// services' gRPC directly as the API makes it (the same calls, the API's own service token), so
// the HTTP layer's cost (key check, rate, audit write, JSON) is the difference in one run. The
// services run in this process against the shared broker and store, with data of their own;
// the load comes from a process of its own, one closed loop per connection.
//   npm run bench:api        (BENCH_SECONDS per row, default 6; BENCH_CONNECTIONS, default 16,64)
import { credentials, Metadata } from '@grpc/grpc-js';
import { fork } from 'node:child_process';
import http from 'node:http';
import { cpus, loadavg, totalmem } from 'node:os';
import { fileURLToPath } from 'node:url';
import { CustomerRecordServiceClient, RoutingServiceClient } from '#libs/proto';
import { testToken, uniqueId, waitFor } from '#libs/testing';
import { startConversationHarness } from '../../services/integration-api/test/conversation-harness';
import { json } from '../../services/integration-api/test/harness';
import { percentile } from './stats';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 6);
const CONCURRENCIES = (process.env.BENCH_CONNECTIONS ?? '16,64').split(',').map(Number);

type Result = { label: string; calls: number; errors: number; firstError: string; p50: number; p99: number; perSecond: number };
interface CallerJob {
  label: string;
  concurrency: number;
  /** An HTTP path on the API, or a gRPC read. */
  http?: { port: number; path: string; key: string };
  grpc?: {
    read: 'queues' | 'customer' | 'conversation';
    routingPort: number;
    recordPort: number;
    id: string;
    customerId: string;
    tokens: { routing: string; record: string };
  };
}

/** One closed loop per connection for SECONDS; errors are counted, not timed. */
async function measure(label: string, concurrency: number, read: () => Promise<void>): Promise<Result> {
  const latencies: number[] = [];
  let errors = 0;
  let firstError = '';
  // Warm up (connections, JIT, caches), untimed; a failure counts as any other.
  for (let i = 0; i < 20; i++) {
    try {
      await read();
    } catch (err) {
      errors++;
      firstError ||= String(err);
    }
  }
  const end = Date.now() + SECONDS * 1000;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (Date.now() < end) {
        const t = performance.now();
        try {
          await read();
          latencies.push(performance.now() - t);
        } catch (err) {
          errors++;
          firstError ||= String(err);
        }
      }
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  return {
    label,
    calls: latencies.length,
    errors,
    firstError,
    p50: percentile(latencies, 50),
    p99: percentile(latencies, 99),
    perSecond: latencies.length / seconds,
  };
}

function httpRead(job: NonNullable<CallerJob['http']>, concurrency: number): () => Promise<void> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: concurrency });
  const headers = { authorization: `Bearer ${job.key}` };
  return () =>
    new Promise((resolve, reject) => {
      const req = http.get({ host: '127.0.0.1', port: job.port, path: job.path, agent, headers }, (res) => {
        res.resume();
        res.on('end', () => (res.statusCode === 200 ? resolve() : reject(new Error(`status ${res.statusCode}`))));
      });
      req.on('error', reject);
    });
}

function grpcRead(job: NonNullable<CallerJob['grpc']>): () => Promise<void> {
  const routing = new RoutingServiceClient(`127.0.0.1:${job.routingPort}`, credentials.createInsecure());
  const record = new CustomerRecordServiceClient(`127.0.0.1:${job.recordPort}`, credentials.createInsecure());
  const md = (token: string) => {
    const m = new Metadata();
    m.set('authorization', `Bearer ${token}`);
    return m;
  };
  const toRouting = md(job.tokens.routing);
  const toRecord = md(job.tokens.record);
  const call = <Req>(client: object, method: (req: Req, md: Metadata, cb: (err: Error | null) => void) => unknown, req: Req, m: Metadata) =>
    new Promise<void>((resolve, reject) => method.call(client, req, m, (err) => (err ? reject(err) : resolve())));
  const reason = 'API key bench (bench): benchmark';
  const history = () =>
    call(
      record,
      record.getHistory,
      {
        customerId: job.customerId,
        pageSize: job.read === 'customer' ? 20 : 200,
        pageToken: '',
        channel: 0,
        conversationId: job.read === 'conversation' ? job.id : '',
        reason,
        withContents: false,
      },
      toRecord,
    );
  if (job.read === 'queues') return () => call(routing, routing.getQueueStats, {}, toRouting);
  // The API's two calls, one after the other, as the route makes them.
  if (job.read === 'customer')
    return async () => (await call(record, record.getCustomer, { customerId: job.customerId, conversationId: '', reason }, toRecord), history());
  return async () => (await call(routing, routing.getConversation, { conversationId: job.id }, toRouting), history());
}

if (process.env.BENCH_CALLER) {
  const job = JSON.parse(process.env.BENCH_CALLER) as CallerJob;
  const read = job.http ? httpRead(job.http, job.concurrency) : grpcRead(job.grpc!);
  process.send!(await measure(job.label, job.concurrency, read));
  process.exit(0);
}

function inCallerProcess(job: CallerJob): Promise<Result> {
  const child = fork(fileURLToPath(import.meta.url), [], { execArgv: ['--import', 'tsx'], env: { ...process.env, BENCH_CALLER: JSON.stringify(job) } });
  return new Promise((resolve, reject) => {
    child.once('message', (m) => resolve(m as Result));
    child.once('exit', (code) => (code === 0 ? undefined : reject(new Error(`caller process exited with ${code}`))));
  });
}

const h = await startConversationHarness({ recordEnv: { LOG_LEVEL: 'silent' } });
try {
  const api = h.api;
  const { key } = await api.key(['contacts:write', 'queues:read', 'customers:read', 'conversations:read'], 100_000_000, 'bench');
  // A conversation routing holds whose customer it knows: the customer-record projection
  // makes the customer with the first thread; a later thread is routed with it known.
  const customerRef = uniqueId('bench-cust');
  const submit = async () => {
    const res = await api.call('/v1/contacts', { ...json({ threadId: uniqueId('thread'), customer: { id: customerRef }, text: 'Where is my parcel?' }), key });
    return ((await res.json()) as { conversationId: string }).conversationId;
  };
  const conversation = await waitFor(
    async () => {
      const id = await submit();
      await new Promise((r) => setTimeout(r, 1000));
      const res = await api.call(`/v1/conversations/${id}`, { key });
      const body = res.status === 200 ? ((await res.json()) as { id: string; customerId: string | null; steps: unknown[] }) : undefined;
      return body && body.customerId && body.steps.length > 0 ? body : undefined;
    },
    60_000,
    'a routed conversation with its customer',
  );
  const customerId = conversation.customerId!;
  const port = Number(new URL(api.base).port);
  // The API's own service tokens (its key is this process's test key), as the API would send them.
  const caller = { id: 'integration-api', role: 'service' as const };
  const tokens = { routing: await testToken(caller, 'routing', { ttlSeconds: 900 }), record: await testToken(caller, 'customer-record', { ttlSeconds: 900 }) };
  const grpc = { routingPort: h.routing.grpcPort, recordPort: h.record.service.grpcPort, id: conversation.id, customerId, tokens };
  const reads = [
    { name: 'GET /v1/queues', path: '/v1/queues', read: 'queues' as const, grpcName: 'routing GetQueueStats' },
    {
      name: 'GET /v1/customers/{id}',
      path: `/v1/customers/${customerId}?reason=benchmark&limit=20`,
      read: 'customer' as const,
      grpcName: 'customer-record GetCustomer + GetHistory',
    },
    {
      name: 'GET /v1/conversations/{id}',
      path: `/v1/conversations/${conversation.id}`,
      read: 'conversation' as const,
      grpcName: 'routing GetConversation + customer-record GetHistory',
    },
  ];
  console.log(
    `machine: ${cpus().length} cores (${cpus()[0]?.model ?? '?'}), ${Math.round(totalmem() / 2 ** 30)} GB, load average ${loadavg()[0]!.toFixed(2)}; ${SECONDS} s per row; conversation ${conversation.id} with ${conversation.steps.length} steps`,
  );
  for (const concurrency of CONCURRENCIES)
    for (const r of reads)
      for (const job of [
        { label: `${r.name} (HTTP, ${concurrency} connections)`, concurrency, http: { port, path: r.path, key } },
        { label: `${r.grpcName} (gRPC direct, ${concurrency} callers)`, concurrency, grpc: { ...grpc, read: r.read } },
      ]) {
        const res = await inCallerProcess(job);
        console.log(
          `${res.label.padEnd(78)} calls ${String(res.calls).padStart(6)}  errors ${res.errors}  p50 ${res.p50} ms  p99 ${res.p99} ms  ${res.perSecond.toFixed(0)}/s${res.firstError ? `  (first error: ${res.firstError})` : ''}`,
        );
      }
} finally {
  await h.stop();
}
process.exit(0);
