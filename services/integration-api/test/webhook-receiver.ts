// What an integrator runs to receive webhooks, for the tests and the benchmark: a node:http
// server on 127.0.0.1 that keeps every request (headers, raw body, arrival time) and answers as
// told: 204, 500, never, or 500 to the first attempt of each webhook-id and 204 to the next. The verification is the block in docs/integration-api.md, run as it
// is written there.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

export interface Received {
  headers: Record<string, string>;
  body: string;
  at: number;
}

export interface Receiver {
  url: string;
  received: Received[];
  /** Requests that were never answered and are still open. */
  held: number;
  close(): Promise<void>;
}

export async function startReceiver(answer: 'ok' | 'error' | 'never' | 'second-time'): Promise<Receiver> {
  const received: Received[] = [];
  const seen = new Set<string>();
  const open = new Set<http.ServerResponse>();
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const headers = Object.fromEntries(Object.entries(req.headers).map(([k, v]) => [k, String(v)]));
      received.push({ headers, body: Buffer.concat(chunks).toString('utf8'), at: Date.now() });
      const first = !seen.has(headers['webhook-id'] ?? '');
      seen.add(headers['webhook-id'] ?? '');
      if (answer === 'ok' || (answer === 'second-time' && !first)) res.writeHead(204).end();
      else if (answer === 'error' || answer === 'second-time') res.writeHead(500, { 'content-type': 'text/plain' }).end('down for maintenance');
      else {
        open.add(res);
        res.on('close', () => open.delete(res));
      }
    });
  });
  server.keepAliveTimeout = 30_000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/hooks`,
    received,
    get held() {
      return open.size;
    },
    async close() {
      for (const res of open) res.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

type Verify = (secret: string, headers: Record<string, string>, body: string, toleranceSeconds?: number) => boolean;

/** The verification snippet of docs/integration-api.md, loaded as a module exactly as the page shows it. */
export async function documentedVerifier(): Promise<Verify> {
  const page = readFileSync(new URL('../../../docs/integration-api.md', import.meta.url), 'utf8');
  const block = /<!-- webhook-verification[^>]*-->\n```js\n([\s\S]*?)```/.exec(page)?.[1];
  if (!block) throw new Error('docs/integration-api.md has no webhook verification block');
  const dir = mkdtempSync(join(tmpdir(), 'cc-verify-'));
  try {
    const file = join(dir, 'verify.mjs');
    writeFileSync(file, block);
    return ((await import(pathToFileURL(file).href)) as { verifyWebhook: Verify }).verifyWebhook;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
