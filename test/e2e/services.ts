// Real service processes for end-to-end tests: `node --import tsx services/<name>/src/main.ts`
// with the given environment, ready once its /readyz (or another probe) answers 200; stopped with SIGTERM.
import { spawn, type ChildProcess } from 'node:child_process';
import { waitFor } from '#libs/testing';

/** Every process started and not yet stopped, those still starting too. */
const running = new Set<ServiceProcess>();

/** Stops every process started (for afterAll, also when a start failed half way). */
export async function stopServiceProcesses(): Promise<void> {
  await Promise.all([...running].map((p) => p.stop()));
}

export interface ServiceProcess {
  name: string;
  output: string[];
  stop(): Promise<void>;
}

export { freePort } from '#libs/testing';

export async function startServiceProcess(name: string, env: Record<string, string>, httpPort: number, probe = '/readyz'): Promise<ServiceProcess> {
  const child: ChildProcess = spawn(process.execPath, ['--import', 'tsx', `services/${name}/src/main.ts`], {
    env: { PATH: process.env.PATH ?? '', ...env, HTTP_PORT: String(httpPort) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const output: string[] = [];
  const keep = (chunk: Buffer) => output.push(...chunk.toString('utf8').trimEnd().split('\n'));
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  let exited = false;
  const exit = new Promise<void>((resolve) => child.once('exit', () => ((exited = true), resolve())));
  const ready = async () => {
    if (exited) throw new Error(`${name} exited during start-up:\n${output.slice(-20).join('\n')}`);
    // Refused while the process starts: not ready yet.
    return fetch(`http://127.0.0.1:${httpPort}${probe}`).then(
      (res) => res.status === 200,
      () => false,
    );
  };
  const handle: ServiceProcess = {
    name,
    output,
    async stop() {
      if (!exited) child.kill('SIGTERM');
      await exit;
      running.delete(handle);
    },
  };
  running.add(handle);
  await waitFor(ready, 60_000, `${name} to be ready`);
  return handle;
}
