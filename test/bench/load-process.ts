// The load of a benchmark runs in a process of its own, as real senders would, so the service
// under test keeps its event loop to itself. The benchmark file forks itself with BENCH_LOAD set.
import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export interface LoadResult {
  latencies: number[];
  failed: number;
  seconds: number;
}

/** The load's arguments when this process is the load, else undefined. */
export function loadArguments<A>(): A | undefined {
  return process.env.BENCH_LOAD ? (JSON.parse(process.env.BENCH_LOAD) as A) : undefined;
}

/** Forks the benchmark module as the load process and waits for its result. */
export function runLoad<A>(moduleUrl: string, args: A): Promise<LoadResult> {
  const child = fork(fileURLToPath(moduleUrl), [], { execArgv: ['--import', 'tsx'], env: { ...process.env, BENCH_LOAD: JSON.stringify(args) } });
  return new Promise((resolve, reject) => {
    child.once('message', (m) => resolve(m as LoadResult));
    child.once('exit', (code) => (code === 0 ? undefined : reject(new Error(`the load process exited with ${code}`))));
  });
}

/** In the load process: hands the result to the benchmark and exits. */
export function reportLoad(result: LoadResult): void {
  process.send!(result, () => process.exit(0));
}
