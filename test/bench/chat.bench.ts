// Chat benchmark: memory per idle connection (5,000 open sockets) and ack latency with 500
// active chatters. The service runs as its own process so its memory is measured alone.
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { MongoClient } from 'mongodb';
import WebSocket from 'ws';
import { percentile, sleep } from './stats';

const IDLE = Number(process.env.BENCH_IDLE ?? 5000);
const CHATTERS = Number(process.env.BENCH_CHATTERS ?? 500);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 15);
const INTERVAL_MS = Number(process.env.BENCH_INTERVAL_MS ?? 1000);
const DATABASE = `contactcenter_chat_bench_${process.pid}`;
const MONGODB_URI = process.env.MONGODB_URI ?? 'mongodb://127.0.0.1:27017';

const rssKb = (pid: number) => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0);

async function main() {
  const child = spawn(process.execPath, ['--import', 'tsx', 'services/chat/src/main.ts'], {
    env: {
      ...process.env,
      HTTP_PORT: '0',
      LOG_LEVEL: 'info',
      MONGODB_DATABASE: DATABASE,
      CHAT_TOKEN_SECRET: 'bench-secret-0123456789-abcdefghijklmnop',
      CHAT_RATE_BURST: '20',
      CHAT_RATE_PER_SECOND: '5',
      // Every simulated visitor comes from this machine's address.
      CHAT_MAX_SOCKETS_PER_ADDRESS: '1000000',
      CHAT_MAX_SOCKETS: '1000000',
      CHAT_MAX_NEW_CONVERSATIONS_PER_ADDRESS: '1000000',
      CHAT_MAX_NEW_CONVERSATIONS: '1000000',
    },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const port = await new Promise<number>((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`chat exited with ${code}`)));
    createInterface({ input: child.stdout! }).on('line', (line) => {
      try {
        const log = JSON.parse(line) as { msg?: string; port?: number };
        if (log.msg === 'chat listening' && log.port) resolve(log.port);
      } catch {
        /* not a log line */
      }
    });
  });
  const url = `ws://127.0.0.1:${port}/chat`;
  const origin = `http://127.0.0.1:${port}`;
  const open = (): Promise<WebSocket> =>
    new Promise((resolve, reject) => {
      const ws = new WebSocket(url, { origin, perMessageDeflate: false });
      ws.once('error', reject);
      ws.once('open', () => {
        ws.send(JSON.stringify({ type: 'hello' }));
        ws.once('message', () => resolve(ws));
      });
    });

  try {
    await sleep(1000);
    const before = rssKb(child.pid!);
    const started = Date.now();
    const idle: WebSocket[] = [];
    for (let i = 0; i < IDLE; i += 100) idle.push(...(await Promise.all(Array.from({ length: Math.min(100, IDLE - i) }, open))));
    const openSeconds = (Date.now() - started) / 1000;
    await sleep(2000);
    const after = rssKb(child.pid!);
    const perConnection = ((after - before) * 1024) / IDLE;
    console.log(
      `idle: ${IDLE} sessions opened in ${openSeconds.toFixed(1)} s; service RSS ${(before / 1024).toFixed(0)} MB -> ${(after / 1024).toFixed(0)} MB = ${(perConnection / 1024).toFixed(1)} kB per idle connection`,
    );
    for (const ws of idle) ws.terminate();
    await sleep(1000);

    const chatters = await Promise.all(Array.from({ length: CHATTERS }, open));
    // Warm-up, not measured: each chatter's first message opens its conversation, so all 500
    // conversations open in the same moment; the measurement is of chatters already talking.
    await Promise.all(
      chatters.map(
        (ws, c) =>
          new Promise<void>((resolve) => {
            const onAck = (data: Buffer) => {
              if ((JSON.parse(data.toString()) as { type: string }).type !== 'ack') return;
              ws.off('message', onAck);
              resolve();
            };
            ws.on('message', onAck);
            ws.send(JSON.stringify({ type: 'message', clientMessageId: `c${c}hello`, text: `hello from chatter ${c}` }));
          }),
      ),
    );
    const latencies: number[] = [];
    let refused = 0;
    const stopAt = Date.now() + SECONDS * 1000;
    await Promise.all(
      chatters.map(async (ws, c) => {
        const pending = new Map<string, bigint>();
        ws.on('message', (data) => {
          const f = JSON.parse(data.toString()) as { type: string; clientMessageId?: string };
          const sent = f.clientMessageId ? pending.get(f.clientMessageId) : undefined;
          if (f.type === 'ack' && sent !== undefined) latencies.push(Number(process.hrtime.bigint() - sent) / 1e6);
          else if (f.type === 'error') {
            refused++;
            if (refused <= 3) console.log('refused:', data.toString());
          }
          if (f.clientMessageId) pending.delete(f.clientMessageId);
        });
        await sleep(Math.random() * INTERVAL_MS);
        for (let n = 0; Date.now() < stopAt; n++) {
          const id = `c${c}m${n}`;
          pending.set(id, process.hrtime.bigint());
          ws.send(JSON.stringify({ type: 'message', clientMessageId: id, text: `message ${n} from chatter ${c}` }));
          await sleep(INTERVAL_MS);
        }
        await sleep(2000);
      }),
    );
    latencies.sort((a, b) => a - b);
    console.log(
      `active: ${CHATTERS} chatters (each conversation opened before measuring), one message each per ${INTERVAL_MS} ms for ${SECONDS} s: ${latencies.length} acked (${(latencies.length / SECONDS).toFixed(0)}/s), ${refused} refused; ack latency p50 ${percentile(latencies, 50).toFixed(1)} ms, p99 ${percentile(latencies, 99).toFixed(1)} ms, max ${(latencies.at(-1) ?? NaN).toFixed(1)} ms`,
    );
    for (const ws of chatters) ws.terminate();
  } finally {
    child.kill('SIGTERM');
    await new Promise((r) => child.once('exit', r));
    const client = await MongoClient.connect(MONGODB_URI);
    await client.db(DATABASE).dropDatabase();
    await client.close();
  }
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
