// A routing instance in a process of its own (services/routing/src/main.ts), for tests and
// benchmarks that kill it with a signal or keep its event loop apart from the load.
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { testAuthEnv, uniqueId } from '#libs/testing';

export interface RoutingProcess {
  instanceId: string;
  grpcPort: number;
  httpPort: number;
  child: ChildProcess;
  /** Resolves with the exit code (null after a signal). */
  exited: Promise<number | null>;
  /** True while /activez answers 200: the active instance. */
  isActive(): Promise<boolean>;
  /** Sends the signal and waits for the exit. */
  kill(signal: NodeJS.Signals): Promise<void>;
  /** A numeric metric from /metrics (the first series of that name), NaN when absent. */
  metric(name: string): Promise<number>;
}

/** Starts routing with the given variables (on top of the test broker, keys and ports 0); LOG_LEVEL stays info, its start is read from the log. */
export async function spawnRouting(env: Record<string, string>, onLine?: (line: string) => void): Promise<RoutingProcess> {
  const instanceId = env.INSTANCE_ID ?? uniqueId('routing-process');
  // ROUTING_PROFILE_DIR=<dir> writes a CPU profile of the process there when it exits.
  const profile = process.env.ROUTING_PROFILE_DIR ? ['--cpu-prof', `--cpu-prof-dir=${process.env.ROUTING_PROFILE_DIR}`] : [];
  const child = spawn(process.execPath, [...profile, '--import', 'tsx', 'services/routing/src/main.ts'], {
    env: { ...process.env, GRPC_PORT: '0', HTTP_PORT: '0', ...testAuthEnv('routing'), ...env, LOG_LEVEL: 'info', INSTANCE_ID: instanceId },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const ports = await new Promise<{ grpc: number; http: number }>((resolve, reject) => {
    void exited.then((code) => reject(new Error(`routing exited with ${code} before listening`)));
    // A process that never starts is not left behind.
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error('routing did not start listening within 60 s'));
    }, 60_000);
    void exited.then(() => clearTimeout(timer));
    createInterface({ input: child.stdout! }).on('line', (line) => {
      onLine?.(line);
      try {
        const log = JSON.parse(line) as { msg?: string; grpc?: number; http?: number };
        if (log.msg === 'routing listening' && log.grpc && log.http) {
          clearTimeout(timer);
          resolve({ grpc: log.grpc, http: log.http });
        }
      } catch {
        /* not a log line */
      }
    });
  });
  const base = `http://127.0.0.1:${ports.http}`;
  return {
    instanceId,
    grpcPort: ports.grpc,
    httpPort: ports.http,
    child,
    exited,
    // Refused (stopped, starting): not active.
    isActive: () =>
      fetch(`${base}/activez`).then(
        (res) => res.status === 200,
        () => false,
      ),
    async kill(signal) {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      await exited;
    },
    async metric(name) {
      const text = await (await fetch(`${base}/metrics`)).text();
      return Number(new RegExp(`^${name}(?:\\{[^}]*\\})? ([0-9.e+-]+)$`, 'm').exec(text)?.[1] ?? Number.NaN);
    },
  };
}
