// npm run bench:sms — signed Twilio SMS webhooks accepted per second (200 only after the Kafka
// acknowledgement) with 50 concurrent clients, and their latency. The clients run in a process
// of their own, as Twilio does, so the service's event loop is not shared with the load.
//   BENCH_WEBHOOKS (default 2000), BENCH_CLIENTS (default 50); tracing off and on in one run
//   (BENCH_TRACING=off|on|both, see tracing-arms.ts), after a warm-up of BENCH_WARMUP webhooks (default 300)
import http from 'node:http';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import path from 'node:path';
import { cpus, tmpdir, totalmem } from 'node:os';
import twilio from 'twilio';
import { loadConfig } from '#libs/config';
import { listen } from '#libs/observability';
import { dropDatabase, KAFKA_BROKERS, MONGODB_URI, testContext, uniqueId } from '#libs/testing';
import { smsVoiceConfig } from '../../services/sms-voice/src/config';
import { startSmsVoiceService } from '../../services/sms-voice/src/service';
import { loadArguments, reportLoad, runLoad, type LoadResult } from './load-process';
import { armRows, runTracingArms } from './tracing-arms';

const TOTAL = Number(process.env.BENCH_WEBHOOKS ?? 2000);
const CLIENTS = Number(process.env.BENCH_CLIENTS ?? 50);
const WARMUP = Number(process.env.BENCH_WARMUP ?? 300);

async function main(): Promise<void> {
  const token = randomBytes(16).toString('hex');
  const database = uniqueId('sms_bench').replace(/-/g, '_');
  const probe = http.createServer();
  const port = await listen(probe, 0);
  await new Promise((r) => probe.close(r));
  const base = `http://127.0.0.1:${port}`;
  const ctx = testContext('sms-bench');
  // A spool folder of its own: a running npm start holds the default one.
  const spool = mkdtempSync(path.join(tmpdir(), 'sms-bench-spool-'));
  await startSmsVoiceService(
    ctx,
    loadConfig(smsVoiceConfig, {
      KAFKA_BROKERS: KAFKA_BROKERS.join(','),
      MONGODB_URI,
      MONGODB_DATABASE: database,
      HTTP_PORT: String(port),
      PUBLIC_BASE_URL: base,
      TWILIO_AUTH_TOKEN: token,
      TWILIO_ACCOUNT_SID: `AC${'0'.repeat(32)}`,
      SMS_OUTBOUND_GROUP: uniqueId('bench'),
      SMS_VOICE_SPOOL_DIR: spool,
    }),
  );
  if (WARMUP > 0) await runLoad(import.meta.url, { base, token, total: WARMUP });
  const results = await runTracingArms('sms-voice', ctx.instanceId, () => runLoad(import.meta.url, { base, token, total: TOTAL }));
  console.log(
    `machine: ${cpus().length} cores, ${Math.round(totalmem() / 2 ** 30)} GB; service, clients (a process of their own), Kafka and FerretDB on one machine`,
  );
  console.table(armRows(results, { webhooks: TOTAL, clients: CLIENTS }));
  const failed = results.reduce((n, r) => n + r.result.failed, 0);
  await ctx.stop();
  rmSync(spool, { recursive: true, force: true });
  await dropDatabase(database);
  process.exit(failed ? 1 : 0);
}

/** The clients' process: CLIENTS keep-alive connections posting `total` signed webhooks. */
async function post({ base, token, total }: { base: string; token: string; total: number }): Promise<LoadResult> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: CLIENTS });
  const latencies: number[] = [];
  let failed = 0;
  let next = 0;
  const started = Date.now();
  await Promise.all(
    Array.from({ length: CLIENTS }, async () => {
      for (let i = next++; i < total; i = next++) {
        const params = {
          MessageSid: `SM${randomBytes(16).toString('hex')}`,
          From: `+1415555${String(1000 + (i % 9000))}`,
          To: '+14155550100',
          Body: `Where is my order ${i}?`,
        };
        const body = new URLSearchParams(params).toString();
        const signature = twilio.getExpectedTwilioSignature(token, `${base}/twilio/sms`, params);
        const t0 = performance.now();
        const status = await new Promise<number>((resolve, reject) => {
          const req = http.request(
            `${base}/twilio/sms`,
            { method: 'POST', agent, headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-twilio-signature': signature } },
            (res) => {
              res.resume();
              res.on('end', () => resolve(res.statusCode ?? 0));
            },
          );
          req.on('error', reject);
          req.end(body);
        });
        if (status === 200) latencies.push(performance.now() - t0);
        else failed++;
      }
    }),
  );
  agent.destroy();
  return { latencies, failed, seconds: (Date.now() - started) / 1000 };
}

const load = loadArguments<{ base: string; token: string; total: number }>();
(load ? post(load).then(reportLoad) : main()).catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
