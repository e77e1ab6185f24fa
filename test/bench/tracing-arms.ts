// The cost of tracing, measured in one run: the same load against the same warm service with
// tracing off, then on (spans exported over OTLP/HTTP to a collector in a process of its own
// that drops them). BENCH_TRACING=off or on runs one arm only; both by default.
import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { startTracing } from '#libs/tracing';
import type { LoadResult } from './load-process';
import { percentile } from './stats';

export type TracingArm = 'off' | 'on';

export interface ArmResult {
  tracing: TracingArm;
  result: LoadResult;
}

function arms(): TracingArm[] {
  const chosen = process.env.BENCH_TRACING ?? 'both';
  if (chosen === 'off' || chosen === 'on') return [chosen];
  if (chosen === 'both') return ['off', 'on'];
  throw new Error(`BENCH_TRACING must be off, on or both (got "${chosen}")`);
}

/** Starts the dropping collector; resolves to its URL and what stops it. */
function startSink(): Promise<{ url: string; stop: () => void }> {
  const child = fork(fileURLToPath(new URL('./otlp-sink.ts', import.meta.url)), [], { execArgv: ['--import', 'tsx'] });
  return new Promise((resolve, reject) => {
    child.once('message', (m) => resolve({ url: (m as { url: string }).url, stop: () => child.disconnect() }));
    child.once('exit', (code) => reject(new Error(`the OTLP sink exited with ${code}`)));
  });
}

/** Runs the load once per arm, tracing started in this process (where the service runs) for the "on" arm. */
export async function runTracingArms(service: string, instanceId: string, load: () => Promise<LoadResult>): Promise<ArmResult[]> {
  const results: ArmResult[] = [];
  for (const tracing of arms()) {
    if (tracing === 'off') {
      results.push({ tracing, result: await load() });
      continue;
    }
    const sink = await startSink();
    const stop = await startTracing(service, instanceId, { OTEL_EXPORTER_OTLP_ENDPOINT: sink.url, OTEL_BSP_SCHEDULE_DELAY: 1000 });
    try {
      results.push({ tracing, result: await load() });
    } finally {
      await stop?.();
      sink.stop();
    }
  }
  return results;
}

/** One table row per arm, and the "on" arm's figures relative to the "off" arm's when both ran. */
export function armRows(results: ArmResult[], extra: Record<string, unknown>): Record<string, unknown>[] {
  const rows: Record<string, unknown>[] = results.map(({ tracing, result }) => ({
    tracing,
    ...extra,
    'accepted/s': Math.round(result.latencies.length / result.seconds),
    'p50 ms': percentile(result.latencies, 50),
    'p99 ms': percentile(result.latencies, 99),
    failed: result.failed,
  }));
  const [off, on] = rows;
  if (rows.length === 2 && off && on) {
    const ratio = (key: string) => Math.round((Number(on[key]) / Number(off[key])) * 1000) / 1000;
    rows.push({ tracing: 'on / off', 'accepted/s': ratio('accepted/s'), 'p50 ms': ratio('p50 ms'), 'p99 ms': ratio('p99 ms') });
  }
  return rows;
}
