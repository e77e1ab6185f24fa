// The system under fault: the local Kafka and FerretDB of the suite's own (scripts/test-infra.sh)
// and the services as real processes on fixed ports, so that a killed one comes back where the
// load expects it. Faults are real: kill -9, SIGSTOP.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createWriteStream, readFileSync, type WriteStream } from 'node:fs';
import path from 'node:path';

export const ROOT = path.resolve(import.meta.dirname, '../..');
const INFRA_DIR = process.env.LOCAL_INFRA_DIR ?? '';
/** The services' public ports serve /metrics only with this bearer token. */
const METRICS_TOKEN = randomBytes(24).toString('hex');

export interface ServiceSpec {
  /** Name of this instance, e.g. routing-a. */
  name: string;
  /** Folder under services/. */
  service: string;
  env: Record<string, string>;
  httpPort: number;
}

export { freePorts } from '#libs/testing';

/** One service instance as a child process; its output goes to a log file of its own. */
export class ServiceProcess {
  private child?: ChildProcess;
  private readonly log: WriteStream;
  exits = 0;

  constructor(
    readonly spec: ServiceSpec,
    logDir: string,
  ) {
    this.log = createWriteStream(path.join(logDir, `${spec.name}.log`), { flags: 'a' });
  }

  start(): void {
    // The bundle scripts/chaos.sh built (scripts/build-services.ts), not the sources through tsx:
    // a restart is the time to start the service, not to compile it.
    const child = spawn(process.execPath, ['--enable-source-maps', path.join(ROOT, '.local', 'build', `${this.spec.service}.mjs`)], {
      cwd: ROOT,
      env: { ...process.env, METRICS_TOKEN, ...this.spec.env, INSTANCE_ID: this.spec.name },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout!.pipe(this.log, { end: false });
    child.stderr!.pipe(this.log, { end: false });
    child.once('exit', () => {
      this.exits++;
      if (this.child === child) this.child = undefined;
    });
    this.child = child;
  }

  get running(): boolean {
    return this.child !== undefined;
  }

  /** kill -9, as a crash. */
  async kill(): Promise<void> {
    await signalAndWait(this.child, 'SIGKILL');
  }

  /** At once and without waiting, for when the suite itself ends abnormally. */
  killNow(): void {
    this.child?.kill('SIGKILL');
  }

  /** SIGTERM, as an orchestrator stops a pod. */
  async stop(): Promise<void> {
    await signalAndWait(this.child, 'SIGTERM', 20_000);
  }

  freeze(): void {
    this.child?.kill('SIGSTOP');
  }

  thaw(): void {
    this.child?.kill('SIGCONT');
  }

  /** /readyz answers 200. */
  async ready(): Promise<boolean> {
    return (await this.readiness()).ready;
  }

  /** Whether /readyz answers 200, and what it says when it does not. */
  async readiness(): Promise<{ ready: boolean; detail: string }> {
    try {
      const res = await fetch(`http://127.0.0.1:${this.spec.httpPort}/readyz`, { signal: AbortSignal.timeout(2000) });
      return { ready: res.status === 200, detail: res.status === 200 ? '' : (await res.text()).slice(0, 300) };
    } catch (err) {
      return { ready: false, detail: `not answering: ${(err as Error).message}` };
    }
  }

  /** /activez answers 200: routing's active instance (its standbys are ready too). */
  active(): Promise<boolean> {
    return this.answers('/activez');
  }

  /** /healthz answers 200: the process is up, ready or not. */
  alive(): Promise<boolean> {
    return this.answers('/healthz');
  }

  /** Its readiness and its consumers' metrics, as text. */
  async report(): Promise<string> {
    const get = (p: string) =>
      fetch(`http://127.0.0.1:${this.spec.httpPort}${p}`, { signal: AbortSignal.timeout(5000), headers: { authorization: `Bearer ${METRICS_TOKEN}` } }).then(
        async (r) => `${p} ${r.status}\n${await r.text()}`,
        (err: Error) => `${p} not answering: ${err.message}`,
      );
    const metrics = (await get('/metrics')).split('\n').filter((l) => l.startsWith('cc_kafka_consum') || l.startsWith('/metrics'));
    return `${await get('/readyz')}\n${metrics.join('\n')}\n`;
  }

  private async answers(path: string): Promise<boolean> {
    try {
      const res = await fetch(`http://127.0.0.1:${this.spec.httpPort}${path}`, { signal: AbortSignal.timeout(2000) });
      return res.status === 200;
    } catch {
      // Not listening (killed, starting): not answering.
      return false;
    }
  }
}

async function signalAndWait(child: ChildProcess | undefined, signal: NodeJS.Signals, timeoutMs = 10_000): Promise<void> {
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  child.kill(signal);
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  await exited;
  clearTimeout(timer);
}

/** The local infrastructure's processes, through the pid files scripts/infra.sh keeps. */
export class Infrastructure {
  constructor(private readonly env: Record<string, string | undefined> = process.env) {
    if (!INFRA_DIR) throw new Error('LOCAL_INFRA_DIR is not set: run the fault suite with npm run chaos');
  }

  /** kill -9 of a Kafka node (1 for the single broker). */
  killBroker(node: number): void {
    this.infraSh('kill-broker', String(node));
  }

  startBroker(node: number): void {
    this.infraSh('start-broker', String(node));
  }

  /** kill -9 of FerretDB. */
  killStore(): void {
    process.kill(Number(readFileSync(path.join(INFRA_DIR, 'run', 'ferretdb.pid'), 'utf8').trim()), 'SIGKILL');
  }

  /** Starts what is not running again, as an operator would: scripts/infra.sh up. */
  up(): void {
    this.infraSh('up');
  }

  private infraSh(...args: string[]): void {
    const result = spawnSync('bash', [path.join(ROOT, 'scripts/infra.sh'), ...args], { cwd: ROOT, env: this.infraEnv(), encoding: 'utf8' });
    if (result.status !== 0)
      throw new Error(`scripts/infra.sh ${args.join(' ')} failed (${result.status}): ${result.stderr.trim().split('\n').slice(-3).join(' / ')}`);
  }

  private infraEnv(): NodeJS.ProcessEnv {
    const { KAFKA_BROKERS: _k, MONGODB_URI: _m, ...rest } = this.env;
    return rest;
  }
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
