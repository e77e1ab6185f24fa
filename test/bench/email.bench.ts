// npm run bench:email — mails accepted per second end to end (SMTP 250 only after the Kafka
// acknowledgement) with 20 concurrent senders of 10 kB mails, and the accept latency. The
// senders run in a process of their own, as other mail servers would, so the service's event
// loop is not shared with the load.
//   BENCH_MAILS (default 2000), BENCH_SENDERS (default 20); tracing off and on in one run
//   (BENCH_TRACING=off|on|both, see tracing-arms.ts), after a warm-up of BENCH_WARMUP mails (default 300)
import { cpus, totalmem } from 'node:os';
import nodemailer from 'nodemailer';
import { loadConfig } from '#libs/config';
import { dropDatabase, testContext, uniqueId, KAFKA_BROKERS, MONGODB_URI } from '#libs/testing';
import { emailConfig } from '../../services/email/src/config';
import { startEmailService } from '../../services/email/src/service';
import { loadArguments, reportLoad, runLoad, type LoadResult } from './load-process';
import { armRows, runTracingArms } from './tracing-arms';

const MAILS = Number(process.env.BENCH_MAILS ?? 2000);
const SENDERS = Number(process.env.BENCH_SENDERS ?? 20);
const WARMUP = Number(process.env.BENCH_WARMUP ?? 300);
const BODY = 'Hello, I have a question about my last invoice. '.repeat(205).slice(0, 10_000);

async function main(): Promise<void> {
  const database = uniqueId('email_bench').replace(/-/g, '_');
  const ctx = testContext('email-bench');
  const config = loadConfig(emailConfig, {
    KAFKA_BROKERS: KAFKA_BROKERS.join(','),
    MONGODB_URI,
    MONGODB_DATABASE: database,
    SMTP_PORT: '0',
    HTTP_PORT: '0',
    SUPPORT_DOMAINS: 'support.test',
    SMTP_RATE_PER_SENDER: '1000000',
    SMTP_RATE_PER_IP: '1000000',
    // Every sender connects from 127.0.0.1.
    SMTP_MAX_CLIENTS_PER_IP: String(SENDERS),
    // An inbound-only instance: the acknowledgements are queued on Kafka (that is measured) but
    // sending them is another instance's work.
    EMAIL_OUTBOUND_ENABLED: 'false',
  });
  const { smtpPort } = await startEmailService(ctx, config);
  if (WARMUP > 0) await runLoad(import.meta.url, { smtpPort, mails: WARMUP });
  const results = await runTracingArms('email', ctx.instanceId, () => runLoad(import.meta.url, { smtpPort, mails: MAILS }));
  console.log(
    `machine: ${cpus().length} cores, ${Math.round(totalmem() / 2 ** 30)} GB; service, senders (a process of their own), Kafka and FerretDB on one machine`,
  );
  console.table(armRows(results, { mails: MAILS, senders: SENDERS, 'body bytes': BODY.length }));
  const failed = results.reduce((n, r) => n + r.result.failed, 0);
  await ctx.stop();
  await dropDatabase(database);
  process.exit(failed ? 1 : 0);
}

/** The senders' process: SENDERS pooled SMTP connections sharing `mails` mails. */
async function send({ smtpPort, mails }: { smtpPort: number; mails: number }): Promise<LoadResult> {
  const latencies: number[] = [];
  let next = 0;
  let failed = 0;
  const started = Date.now();
  await Promise.all(
    Array.from({ length: SENDERS }, async () => {
      const transport = nodemailer.createTransport({
        host: '127.0.0.1',
        port: smtpPort,
        secure: false,
        ignoreTLS: true,
        pool: true,
        maxConnections: 1,
        maxMessages: Infinity,
      });
      for (let i = next++; i < mails; i = next++) {
        const t0 = performance.now();
        try {
          await transport.sendMail({ from: `customer${i % 500}@bench.test`, to: 'help@support.test', subject: `Question ${i}`, text: BODY });
          latencies.push(performance.now() - t0);
        } catch {
          failed++;
        }
      }
      transport.close();
    }),
  );
  return { latencies, failed, seconds: (Date.now() - started) / 1000 };
}

const load = loadArguments<{ smtpPort: number; mails: number }>();
(load ? send(load).then(reportLoad) : main()).catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
