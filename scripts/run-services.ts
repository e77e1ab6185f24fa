// Runs every service as its own process, prefixes their output, and stops them all together.
import { spawn, type ChildProcess } from 'node:child_process';
import readline from 'node:readline';

const services: { name: string; listens: string }[] = [
  { name: 'email', listens: 'SMTP 127.0.0.1:2525, health http://127.0.0.1:8101' },
  { name: 'sms-voice', listens: 'Twilio webhooks http://127.0.0.1:8102' },
  { name: 'chat', listens: 'widget and WebSocket http://127.0.0.1:8103' },
  { name: 'customer-record', listens: 'gRPC 127.0.0.1:50051, health http://127.0.0.1:8104' },
  { name: 'routing', listens: 'gRPC 127.0.0.1:50052, health http://127.0.0.1:8105' },
  { name: 'agent-desk', listens: 'web http://127.0.0.1:8080' },
  { name: 'ops-console', listens: 'web http://127.0.0.1:8090' },
];

const width = Math.max(...services.map((s) => s.name.length));
const children = new Map<string, ChildProcess>();
let stopping = false;

for (const { name } of services) {
  const child = spawn(process.execPath, ['--import', 'tsx', `services/${name}/src/main.ts`], { stdio: ['ignore', 'pipe', 'pipe'], env: process.env });
  children.set(name, child);
  for (const stream of [child.stdout, child.stderr]) {
    readline.createInterface({ input: stream! }).on('line', (line) => process.stdout.write(`${name.padEnd(width)} | ${line}\n`));
  }
  child.on('exit', (code, signal) => {
    children.delete(name);
    if (!stopping) {
      process.stderr.write(`${name} exited (${signal ?? `code ${code}`}); stopping everything\n`);
      stop(1);
    } else if (children.size === 0) {
      process.exit(exitCode);
    }
  });
}

process.stdout.write(`\nstarting ${services.length} services:\n${services.map((s) => `  ${s.name.padEnd(width)}  ${s.listens}`).join('\n')}\nCtrl-C stops everything.\nSign in to the agent desk after adding people: npm run staff -- add --id ana --name "Ana" --role agent (see docs/agent-desk.md).\n\n`);

let exitCode = 0;
function stop(code: number): void {
  if (stopping) return;
  stopping = true;
  exitCode = code;
  for (const child of children.values()) child.kill('SIGTERM');
  if (children.size === 0) process.exit(code);
  setTimeout(() => {
    for (const child of children.values()) child.kill('SIGKILL');
    process.exit(code || 1);
  }, 20_000).unref();
}
process.on('SIGINT', () => stop(0));
process.on('SIGTERM', () => stop(0));
