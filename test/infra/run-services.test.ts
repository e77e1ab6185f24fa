// The start command's supervision on tiny child scripts (never the real services).
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { waitFor } from '#libs/testing';
import { ensureKeyPairs } from '#libs/auth';
import { keyEnvironment, supervise, type Supervision } from '../../scripts/run-services';

const dir = mkdtempSync(path.join(os.tmpdir(), 'cc-supervise-'));
let running: Supervision | undefined;

afterEach(async () => {
  running?.stop(0);
  await running?.done;
  running = undefined;
});
process.on('exit', () => rmSync(dir, { recursive: true, force: true }));

/** A child script: prints its pid, then exits with `code` on its first `failures` runs, and afterwards stays up until SIGTERM. */
function script(name: string, failures: number, code: number): { name: string; command: string; args: string[] } {
  const counter = path.join(dir, `${name}.runs`);
  const file = path.join(dir, `${name}.mjs`);
  writeFileSync(
    file,
    `import fs from 'node:fs';
const runs = (fs.existsSync(${JSON.stringify(counter)}) ? Number(fs.readFileSync(${JSON.stringify(counter)}, 'utf8')) : 0) + 1;
fs.writeFileSync(${JSON.stringify(counter)}, String(runs));
// The handler is in place before the line that says it runs: a stop may follow that line at once.
process.on('SIGTERM', () => { console.log('stopped'); process.exit(0); });
console.log('pid ' + process.pid + ' run ' + runs);
if (runs <= ${failures}) process.exit(${code});
setInterval(() => {}, 1000);
`,
  );
  return { name, command: process.execPath, args: [file] };
}

function capture(): { lines: string[]; write: (text: string) => void } {
  const lines: string[] = [];
  return { lines, write: (text) => lines.push(...text.trimEnd().split('\n')) };
}

const fast = { initialDelayMs: 100, maxDelayMs: 400, stableAfterMs: 60_000 };

describe('supervising services', () => {
  it('restarts a crashing service with a doubling delay until it stays up, and says so', async () => {
    const out = capture();
    running = supervise([script('flaky', 2, 1)], { policy: fast, write: out.write, report: out.write });
    await waitFor(() => out.lines.some((l) => /^flaky \| pid \d+ run 3$/.test(l)), 15_000, 'the third run');
    expect(out.lines.filter((l) => l.startsWith('flaky exited'))).toEqual([
      'flaky exited (code 1); restarting in 0.1 s (restart 1)',
      'flaky exited (code 1); restarting in 0.2 s (restart 2)',
    ]);
  });

  it('restarts a service killed with SIGKILL, and Ctrl-C still stops everything', async () => {
    const out = capture();
    running = supervise([script('routing', 0, 0), script('chat', 0, 0)], { policy: fast, write: out.write, report: out.write });
    const first = await waitFor(() => out.lines.find((l) => l.startsWith('routing | pid ')), 15_000, 'routing to start');
    await new Promise((r) => setTimeout(r, 200));
    process.kill(Number(first.split(' ')[3]), 'SIGKILL');
    await waitFor(() => out.lines.includes('routing exited (SIGKILL); restarting in 0.1 s (restart 1)'), 15_000, 'the restart notice');
    await waitFor(() => out.lines.some((l) => l.startsWith('routing | pid ') && l.endsWith('run 2')), 15_000, 'routing to run again');
    running.stop(0);
    expect(await running.done).toBe(0);
    expect(out.lines.filter((l) => l.endsWith('| stopped')).sort()).toEqual(['chat    | stopped', 'routing | stopped']);
  });

  it('stops everything on a configuration error instead of restarting it', async () => {
    const out = capture();
    running = supervise([script('email', 5, 2), script('ops-console', 0, 0)], { policy: fast, write: out.write, report: out.write });
    expect(await running.done).toBe(1);
    expect(out.lines).toContain('email exited (code 2): configuration error (exit code 2); fix the configuration and start again; stopping everything');
    expect(readFileSync(path.join(dir, 'email.runs'), 'utf8')).toBe('1');
    expect(out.lines.some((l) => l.includes('restarting'))).toBe(false);
  });

  it('hands each service its own private key only, and the public keys to the verifiers', async () => {
    const keys = ensureKeyPairs(path.join(dir, 'keys'));
    expect(keyEnvironment('customer-record', keys)).toEqual({ AUTH_PUBLIC_KEYS_DIR: keys.publicKeysDir, AUTH_PRIVATE_KEY_FILE: undefined });
    expect(keyEnvironment('routing', keys)).toEqual({ AUTH_PUBLIC_KEYS_DIR: keys.publicKeysDir, AUTH_PRIVATE_KEY_FILE: keys.privateKeyFile('routing') });
    expect(keyEnvironment('sms-voice', keys)).toEqual({ AUTH_PUBLIC_KEYS_DIR: keys.publicKeysDir, AUTH_PRIVATE_KEY_FILE: keys.privateKeyFile('sms-voice') });
    // email and chat check the desk's tokens on their attachment content path.
    expect(keyEnvironment('email', keys)).toEqual({ AUTH_PUBLIC_KEYS_DIR: keys.publicKeysDir, AUTH_PRIVATE_KEY_FILE: undefined });
    expect(keyEnvironment('chat', keys)).toEqual({ AUTH_PUBLIC_KEYS_DIR: keys.publicKeysDir, AUTH_PRIVATE_KEY_FILE: undefined });
    // A service's own variables reach it; one set to nothing is not inherited from the shell.
    const file = path.join(dir, 'env.mjs');
    writeFileSync(
      file,
      "console.log('key=' + (process.env.AUTH_PRIVATE_KEY_FILE ?? 'none')); process.on('SIGTERM', () => process.exit(0)); setInterval(() => {}, 1000);",
    );
    const out = capture();
    const base = { ...process.env, AUTH_PRIVATE_KEY_FILE: '/somewhere/else.pem' };
    running = supervise(
      [
        { name: 'chat', command: process.execPath, args: [file], env: keyEnvironment('chat', keys) },
        { name: 'routing', command: process.execPath, args: [file], env: keyEnvironment('routing', keys) },
      ],
      { policy: fast, write: out.write, report: out.write, env: base },
    );
    await waitFor(() => out.lines.filter((l) => l.includes('key=')).length === 2, 15_000, 'both to print their key file');
    expect(out.lines.filter((l) => l.includes('key=')).sort()).toEqual(['chat    | key=none', `routing | key=${keys.privateKeyFile('routing')}`]);
  });
});
