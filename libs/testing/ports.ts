// Ports for servers a test starts as separate processes. Port 0 would hand out a port from the
// kernel's ephemeral range, where any outgoing connection (a Kafka client, say) may take it as its
// local port before the child process binds it. These come from below that range instead, chosen
// at random so that test files running side by side rarely pick the same one, and checked free.
import net from 'node:net';

const LOWEST = 20_000;
const BELOW_EPHEMERAL = 32_768;
const handedOut = new Set<number>();

function isFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = net.createServer();
    probe.once('error', () => resolve(false));
    probe.listen(port, '127.0.0.1', () => probe.close(() => resolve(true)));
  });
}

/** A loopback port free just now, outside the ephemeral range, not handed out before by this process. */
export async function freePort(): Promise<number> {
  for (let attempt = 0; attempt < 100; attempt++) {
    const port = LOWEST + Math.floor(Math.random() * (BELOW_EPHEMERAL - LOWEST));
    if (handedOut.has(port) || !(await isFree(port))) continue;
    handedOut.add(port);
    return port;
  }
  throw new Error(`no free loopback port between ${LOWEST} and ${BELOW_EPHEMERAL - 1} after 100 tries`);
}

/** A free port for each name. */
export async function freePorts<K extends string>(names: readonly K[]): Promise<Record<K, number>> {
  const ports = {} as Record<K, number>;
  for (const name of names) ports[name] = await freePort();
  return ports;
}
