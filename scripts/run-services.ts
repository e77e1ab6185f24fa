// Runs every service as its own process and prefixes their output. A service that exits on its
// own is started again after a back-off (scripts/restart-policy.ts), so a crash shows how the
// system recovers; a configuration error, or a service that keeps failing, stops everything.
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import readline from 'node:readline';
import { fileURLToPath } from 'node:url';
import { ensureKeyPairs, isIssuer, type KeyFiles } from '#libs/auth';
import { describeExit, formatDelay, RestartPolicy, type RestartPolicyOptions } from './restart-policy';

export interface ServiceSpec {
  name: string;
  command: string;
  args: string[];
  /** Variables of this service alone, over the common environment. */
  env?: NodeJS.ProcessEnv;
}

export interface SupervisionOptions {
  policy?: RestartPolicyOptions;
  /** Where the services' prefixed output goes (stdout by default)… */
  write?: (text: string) => void;
  /** …and the supervisor's own lines: exits, restarts (stderr by default). */
  report?: (text: string) => void;
  env?: NodeJS.ProcessEnv;
  /** How long stop() waits for the services before killing them. */
  stopGraceMs?: number;
}

export interface Supervision {
  /** Stops every service (SIGTERM, then SIGKILL after the grace period); `done` then resolves with `code`. */
  stop(code: number): void;
  /** Resolves with the exit code once everything has stopped. */
  done: Promise<number>;
}

export function supervise(specs: ServiceSpec[], options: SupervisionOptions = {}): Supervision {
  const write = options.write ?? ((text: string) => void process.stdout.write(text));
  const report = options.report ?? ((text: string) => void process.stderr.write(text));
  const width = Math.max(...specs.map((s) => s.name.length));
  const children = new Map<string, ChildProcess>();
  const pendingRestarts = new Map<string, NodeJS.Timeout>();
  const policies = new Map(specs.map((s) => [s.name, new RestartPolicy(options.policy)]));
  let stopping = false;
  let exitCode = 0;
  let finish!: (code: number) => void;
  const done = new Promise<number>((resolve) => (finish = resolve));

  function start(spec: ServiceSpec): void {
    pendingRestarts.delete(spec.name);
    const child = spawn(spec.command, spec.args, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...(options.env ?? process.env), ...spec.env } });
    children.set(spec.name, child);
    policies.get(spec.name)!.started(Date.now());
    for (const stream of [child.stdout, child.stderr]) {
      readline.createInterface({ input: stream! }).on('line', (line) => write(`${spec.name.padEnd(width)} | ${line}\n`));
    }
    child.on('error', (err) => report(`${spec.name} could not be started: ${err.message}\n`));
    child.on('exit', (code, signal) => {
      children.delete(spec.name);
      if (stopping) {
        if (children.size === 0) finish(exitCode);
        return;
      }
      const exit = { code, signal };
      const decision = policies.get(spec.name)!.exited(exit, Date.now());
      if (decision.action === 'stop') {
        report(`${spec.name} exited (${describeExit(exit)}): ${decision.reason}; stopping everything\n`);
        stop(1);
        return;
      }
      report(`${spec.name} exited (${describeExit(exit)}); restarting in ${formatDelay(decision.delayMs)} (restart ${decision.restart})\n`);
      pendingRestarts.set(
        spec.name,
        setTimeout(() => start(spec), decision.delayMs),
      );
    });
  }

  function stop(code: number): void {
    if (stopping) return;
    stopping = true;
    exitCode = code;
    for (const timer of pendingRestarts.values()) clearTimeout(timer);
    pendingRestarts.clear();
    for (const child of children.values()) child.kill('SIGTERM');
    if (children.size === 0) {
      finish(code);
      return;
    }
    setTimeout(() => {
      for (const child of children.values()) child.kill('SIGKILL');
      finish(code || 1);
    }, options.stopGraceMs ?? 20_000).unref();
  }

  for (const spec of specs) start(spec);
  return { stop, done };
}

/** The services that verify tokens (they trust the public keys) and those that sign them (their own private key). */
const VERIFIERS = new Set(['customer-record', 'routing']);

/** What a service gets of the local key pairs: the public keys if it verifies, its own private key if it issues. */
export function keyEnvironment(service: string, keys: KeyFiles): NodeJS.ProcessEnv {
  return {
    AUTH_PUBLIC_KEYS_DIR: VERIFIERS.has(service) ? keys.publicKeysDir : undefined,
    AUTH_PRIVATE_KEY_FILE: isIssuer(service) ? keys.privateKeyFile(service) : undefined,
  };
}

const services: { name: string; listens: string }[] = [
  { name: 'email', listens: 'SMTP 127.0.0.1:2525, health http://127.0.0.1:8101' },
  { name: 'sms-voice', listens: 'Twilio webhooks http://127.0.0.1:8102' },
  { name: 'chat', listens: 'widget and WebSocket http://127.0.0.1:8103' },
  { name: 'customer-record', listens: 'gRPC 127.0.0.1:50051, health http://127.0.0.1:8104' },
  { name: 'routing', listens: 'gRPC 127.0.0.1:50052, health http://127.0.0.1:8105' },
  { name: 'agent-desk', listens: 'web http://127.0.0.1:8080' },
  { name: 'ops-console', listens: 'web http://127.0.0.1:8090' },
];

function main(): void {
  const width = Math.max(...services.map((s) => s.name.length));
  process.stdout.write(
    `\nstarting ${services.length} services:\n${services.map((s) => `  ${s.name.padEnd(width)}  ${s.listens}`).join('\n')}\n` +
      'A service that exits is started again (1 s, doubling to 30 s); Ctrl-C stops everything.\n' +
      'Sign in to the agent desk after adding people: npm run staff -- add --id ana --name "Ana" --role agent (see docs/agent-desk.md).\n\n',
  );
  // One key pair per issuer, made on the first start and kept in .local/keys (private keys 0600).
  const keys = ensureKeyPairs(path.resolve('.local/keys'));
  const supervision = supervise(
    services.map(({ name }) => ({
      name,
      command: process.execPath,
      args: ['--import', 'tsx', `services/${name}/src/main.ts`],
      env: keyEnvironment(name, keys),
    })),
  );
  process.on('SIGINT', () => supervision.stop(0));
  process.on('SIGTERM', () => supervision.stop(0));
  void supervision.done.then((code) => process.exit(code));
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) main();
