// Runs every service as its own process and prefixes their output. A service that exits on its
// own is started again after a back-off (scripts/restart-policy.ts), so a crash shows how the
// system recovers; a configuration error, or a service that keeps failing, stops everything.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { accessSync, constants, mkdirSync } from 'node:fs';
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
const VERIFIERS = new Set(['customer-record', 'routing', 'sms-voice', 'email', 'chat']);

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
  { name: 'integration-api', listens: 'HTTP API http://127.0.0.1:8106 (keys: npm run api-keys, docs/integration-api.md)' },
];

export interface OutboxPlan {
  /** What runs beside the services: Mailpit, the SMS and call outbox, or neither. */
  specs: ServiceSpec[];
  /** Settings of single services, so that they send into the outbox. */
  serviceEnv: Record<string, NodeJS.ProcessEnv>;
  /** Lines for the start-up listing. */
  listing: { name: string; listens: string }[];
}

export interface OutboxPaths {
  /** Mailpit as scripts/infra.sh builds it. */
  mailpitBin: string;
  /** Where Mailpit keeps its messages. */
  dataDir: string;
}

function portSetting(env: NodeJS.ProcessEnv, name: string, fallback: number): number {
  const value = env[name] ?? String(fallback);
  const port = Number(value);
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw new Error(`${name} must be a port number (got "${value}")`);
  return port;
}

/**
 * Where outbound mail and SMS go under npm start: a local outbox (Mailpit for mail, the Twilio
 * stand-in for SMS and calls) unless SMTP_URL or TWILIO_API_BASE_URL names a real one, which is
 * then used as it is and nothing is started for it.
 */
export function outboxPlan(env: NodeJS.ProcessEnv, paths: OutboxPaths): OutboxPlan {
  const plan: OutboxPlan = { specs: [], serviceEnv: {}, listing: [] };
  const consoleUrl = 'http://127.0.0.1:8090';
  let mailUrl: string | undefined;
  if (env.SMTP_URL) {
    plan.listing.push({ name: 'mail outbox', listens: `none: outbound mail goes to SMTP_URL (${redactUrl(env.SMTP_URL)})` });
  } else {
    const smtp = portSetting(env, 'OUTBOX_SMTP_PORT', 2526);
    const web = portSetting(env, 'OUTBOX_MAIL_PORT', 8025);
    mailUrl = `http://127.0.0.1:${web}`;
    plan.specs.push({
      name: 'mailpit',
      command: paths.mailpitBin,
      args: [
        `--listen=127.0.0.1:${web}`,
        `--smtp=127.0.0.1:${smtp}`,
        `--database=${path.join(paths.dataDir, 'mailpit.db')}`,
        // Only these Host names (and IP addresses) are answered: a page of another site cannot reach it by DNS rebinding.
        '--allowed-hosts=localhost',
        '--disable-version-check',
        '--quiet',
      ],
    });
    plan.serviceEnv.email = { SMTP_URL: `smtp://127.0.0.1:${smtp}` };
    plan.listing.push({ name: 'mail outbox', listens: `Mailpit: web ${mailUrl}, SMTP 127.0.0.1:${smtp} (set SMTP_URL to send real mail)` });
  }
  if (env.TWILIO_API_BASE_URL) {
    plan.listing.push({ name: 'SMS outbox', listens: `none: Twilio REST calls go to TWILIO_API_BASE_URL (${env.TWILIO_API_BASE_URL})` });
  } else {
    const port = portSetting(env, 'OUTBOX_SMS_PORT', 8026);
    plan.specs.push({
      name: 'sms-outbox',
      command: process.execPath,
      args: ['--import', 'tsx', 'scripts/outbox/main.ts'],
      env: { OUTBOX_SMS_PORT: String(port), OUTBOX_CONSOLE_URL: consoleUrl, OUTBOX_MAIL_URL: mailUrl },
    });
    plan.serviceEnv['sms-voice'] = { TWILIO_API_BASE_URL: `http://127.0.0.1:${port}` };
    plan.listing.push({
      name: 'SMS outbox',
      listens: `SMS and calls sent http://127.0.0.1:${port} (set TWILIO_API_BASE_URL=https://api.twilio.com to use Twilio)`,
    });
  }
  return plan;
}

/** A URL without its password, for printing. */
function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return '(not a URL)';
  }
}

/** Mailpit's path as scripts/infra.sh builds it, and whether it is there. */
function mailpitBinary(): string {
  const bin = execFileSync('bash', ['scripts/infra.sh', 'mailpit-path'], { encoding: 'utf8' }).trim();
  try {
    accessSync(bin, constants.X_OK);
  } catch {
    throw new Error(`Mailpit is not built at ${bin}: run bash scripts/infra.sh install (or set SMTP_URL to send mail elsewhere)`);
  }
  return bin;
}

function main(): void {
  const dataDir = path.resolve('.local/outbox');
  let outbox: OutboxPlan;
  try {
    outbox = outboxPlan(process.env, { mailpitBin: process.env.SMTP_URL ? '' : mailpitBinary(), dataDir });
  } catch (err) {
    process.stderr.write(`${(err as Error).message}\n`);
    process.exit(2);
  }
  if (outbox.specs.some((s) => s.name === 'mailpit')) mkdirSync(dataDir, { recursive: true });
  const listed = [...services, ...outbox.listing];
  const width = Math.max(...listed.map((s) => s.name.length));
  const line = (s: { name: string; listens: string }) => `  ${s.name.padEnd(width)}  ${s.listens}`;
  process.stdout.write(
    `\nstarting ${services.length} services:\n${services.map(line).join('\n')}\n` +
      `what customers receive:\n${outbox.listing.map(line).join('\n')}\n` +
      'A service that exits is started again (1 s, doubling to 30 s); Ctrl-C stops everything.\n' +
      'Sign in to the agent desk after adding people: npm run staff -- add --id ana --name "Ana" --role agent (see docs/agent-desk.md).\n\n',
  );
  // One key pair per issuer, made on the first start and kept in .local/keys (private keys 0600).
  const keys = ensureKeyPairs(path.resolve('.local/keys'));
  const supervision = supervise([
    ...outbox.specs,
    ...services.map(({ name }) => ({
      name,
      command: process.execPath,
      args: ['--import', 'tsx', `services/${name}/src/main.ts`],
      env: { ...keyEnvironment(name, keys), ...outbox.serviceEnv[name] },
    })),
  ]);
  process.on('SIGINT', () => supervision.stop(0));
  process.on('SIGTERM', () => supervision.stop(0));
  void supervision.done.then((code) => process.exit(code));
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) main();
