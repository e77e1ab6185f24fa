// The cost of tracing, measured in one run: the same load against the same warm service with
// tracing off and on (spans exported over OTLP/HTTP to a collector in a process of its own that
// drops them), in BENCH_ROUNDS rounds (default 3) whose order alternates (off-on, on-off, …) so
// that a neighbour's load or a warming store does not fall on one arm only. BENCH_TRACING=off or
// on runs one arm only; both by default.
import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { startTracing } from '#libs/tracing';
import type { LoadResult } from './load-process';
import { percentile } from './stats';

export type TracingArm = 'off' | 'on';

export interface ArmResult {
  tracing: TracingArm;
  /** How many runs were pooled. */
  runs: number;
  result: LoadResult;
}

function arms(): TracingArm[] {
  const chosen = process.env.BENCH_TRACING ?? 'both';
  if (chosen === 'off' || chosen === 'on') return [chosen];
  if (chosen === 'both') return ['off', 'on'];
  throw new Error(`BENCH_TRACING must be off, on or both (got "${chosen}")`);
}

interface Sink {
  url: string;
  /** Stops the sink; resolves to what it received. */
  stop: () => Promise<{ requests: number; bytes: number }>;
}

/** Starts the dropping collector. */
function startSink(): Promise<Sink> {
  const child = fork(fileURLToPath(new URL('./otlp-sink.ts', import.meta.url)), [], { execArgv: ['--import', 'tsx'] });
  const stop = () =>
    new Promise<{ requests: number; bytes: number }>((resolve) => {
      child.once('message', (m) => {
        child.disconnect();
        resolve((m as { received: { requests: number; bytes: number } }).received);
      });
      child.send('report');
    });
  return new Promise((resolve, reject) => {
    child.once('message', (m) => resolve({ url: (m as { url: string }).url, stop }));
    child.once('exit', (code) => reject(new Error(`the OTLP sink exited with ${code}`)));
  });
}

/** Runs the load per arm and round; tracing is started in this process (where the service runs) for each "on" run. */
export async function runTracingArms(service: string, instanceId: string, load: () => Promise<LoadResult>): Promise<ArmResult[]> {
  const chosen = arms();
  const rounds = chosen.length === 2 ? Number(process.env.BENCH_ROUNDS ?? 3) : 1;
  const runs: ArmResult[] = [];
  let sink: Sink | undefined;
  try {
    for (let round = 0; round < rounds; round++) {
      for (const tracing of round % 2 === 0 ? chosen : [...chosen].reverse()) {
        if (tracing === 'off') {
          runs.push({ tracing, runs: 1, result: await load() });
          continue;
        }
        sink ??= await startSink();
        const stop = await startTracing(service, instanceId, { OTEL_EXPORTER_OTLP_ENDPOINT: sink.url, OTEL_BSP_SCHEDULE_DELAY: 1000 });
        try {
          runs.push({ tracing, runs: 1, result: await load() });
        } finally {
          await stop?.();
        }
      }
    }
  } finally {
    const received = await sink?.stop();
    if (received) console.log(`OTLP sink: ${received.requests} export requests, ${Math.round(received.bytes / 1024)} KiB of spans received and dropped`);
  }
  return chosen.map((tracing) => {
    const own = runs.filter((r) => r.tracing === tracing).map((r) => r.result);
    return { tracing, runs: own.length, result: pooled(own) };
  });
}

/** The runs of one arm as one: every latency, every failure, the time of all. */
function pooled(results: LoadResult[]): LoadResult {
  return {
    latencies: results.flatMap((r) => r.latencies),
    failed: results.reduce((n, r) => n + r.failed, 0),
    seconds: results.reduce((n, r) => n + r.seconds, 0),
  };
}

/** One table row per arm, and the "on" arm's figures relative to the "off" arm's when both ran. */
export function armRows(results: ArmResult[], extra: Record<string, unknown>): Record<string, unknown>[] {
  const figures = results.map(({ result }) => ({
    'accepted/s': result.latencies.length / result.seconds,
    'p50 ms': percentile(result.latencies, 50),
    'p99 ms': percentile(result.latencies, 99),
  }));
  const rows: Record<string, unknown>[] = results.map(({ tracing, runs, result }, i) => ({
    tracing,
    runs,
    ...extra,
    ...figures[i],
    'accepted/s': Math.round(figures[i]!['accepted/s']),
    failed: result.failed,
  }));
  const [off, on] = figures;
  if (off && on) {
    const ratio = (key: keyof typeof off) => Math.round((on[key] / off[key]) * 1000) / 1000;
    rows.push({ tracing: 'on / off', 'accepted/s': ratio('accepted/s'), 'p50 ms': ratio('p50 ms'), 'p99 ms': ratio('p99 ms') });
  }
  return rows;
}
