// Each outbound mail is sent once, over real SMTP, Kafka and the store: redelivered to a new
// instance, with its delivery report failing after the send, with a claim a crash left behind,
// and with a mail server that refuses for a while. And a shutdown with an idle SMTP session
// open still stops the outbound consumer, with its offsets committed, well inside 15 s.
import net from 'node:net';
import { Kafka, logLevel } from 'kafkajs';
import { simpleParser, type ParsedMail } from 'mailparser';
import { MongoClient } from 'mongodb';
import { SMTPServer } from 'smtp-server';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '#libs/config';
import { topics } from '#libs/kafka';
import { listen } from '#libs/observability';
import { Channel, IdentityKind, OutboundKind, OutboundMessage } from '#libs/proto';
import { connectKafka, type ServiceContext, type ServiceKafka } from '#libs/service';
import {
  cuttableSocketFactory,
  dropDatabase,
  KAFKA_BROKERS,
  MONGODB_URI,
  recordTopics,
  testContext,
  uniqueId,
  waitFor,
  deliveryReportFrom,
  metricTotal,
} from '#libs/testing';
import { emailConfig } from '../src/config';
import { messageIdFor } from '../src/outbound-mail';
import { startEmailService } from '../src/service';
import { emailReply, emailTestEnv } from './service-env';

const database = uniqueId('email_once').replace(/-/g, '_');
const MAIL_FROM = 'Support <support@support.test>';
const received: ParsedMail[] = [];
const rcptAttempts: string[] = [];
/** Runs when the sink has a mail for this recipient, before it answers 250. */
const beforeAccepting = new Map<string, () => void>();
const sinks: SMTPServer[] = [];
let sinkPort: number;
let kafka: ServiceKafka;
let mongo: MongoClient;
let recorder: Awaited<ReturnType<typeof recordTopics>>;
const running: ServiceContext[] = [];

/** A mail server that takes everything, except the first try for a busy-once recipient (451). */
async function startSink(port = 0): Promise<number> {
  const refusedOnce = new Set<string>();
  const sink = new SMTPServer({
    authOptional: true,
    disabledCommands: ['AUTH', 'STARTTLS'],
    logger: false,
    onRcptTo(address, _session, cb) {
      rcptAttempts.push(address.address);
      if (address.address.startsWith('busy-once') && !refusedOnce.has(address.address)) {
        refusedOnce.add(address.address);
        return cb(Object.assign(new Error('4.3.2 try again later'), { responseCode: 451 }));
      }
      cb();
    },
    onData(stream, session, cb) {
      simpleParser(stream).then((mail) => {
        received.push(mail);
        beforeAccepting.get(session.envelope.rcptTo[0]?.address ?? '')?.();
        cb();
      }, cb);
    },
  });
  sinks.push(sink);
  return listen(sink.server, port);
}

function configFor(overrides: Record<string, string> = {}) {
  return loadConfig(emailConfig, {
    ...emailTestEnv(database),
    SUPPORT_ADDRESSES: 'help@shop.test',
    SMTP_URL: `smtp://127.0.0.1:${sinkPort}`,
    MAIL_FROM,
    OUTBOUND_MAX_ATTEMPTS: '5',
    EMAIL_OUTBOUND_GROUP: uniqueId('email-once'),
    ...overrides,
  });
}

async function startInstance(overrides: Record<string, string> = {}, options: Parameters<typeof startEmailService>[2] = {}) {
  const ctx = testContext('email-once');
  running.push(ctx);
  const config = configFor(overrides);
  const started = await startEmailService(ctx, config, options);
  return { ctx, config, ...started };
}

const reply = (to: string) => emailReply(to);

const publish = (message: OutboundMessage) => kafka.producer.publish(topics.outbound, message.conversationId, message, { id: message.messageId });
const mailsOf = (message: OutboundMessage) => received.filter((m) => m.messageId === messageIdFor(message.messageId, MAIL_FROM));
const customer = (prefix = 'cust') => `${uniqueId(prefix)}@customer.test`;

const reportFrom = (ctx: ServiceContext, message: OutboundMessage, what?: string) => deliveryReportFrom(recorder, ctx, message.messageId, what);

const settle = (ms = 1500) => new Promise((r) => setTimeout(r, ms));

beforeAll(async () => {
  sinkPort = await startSink();
  recorder = await recordTopics([topics.outbound.name, topics.conversationEvents.name]);
  kafka = await connectKafka(testContext('email-once-kafka'), { KAFKA_BROKERS, KAFKA_TOPIC_PARTITIONS: 3, KAFKA_REPLICATION_FACTOR: 1 });
  mongo = await new MongoClient(MONGODB_URI).connect();
});

afterEach(async () => {
  for (const ctx of running.splice(0)) await ctx.stop();
});

afterAll(async () => {
  await kafka.producer.disconnect();
  await recorder.close();
  for (const sink of sinks) await new Promise<void>((r) => sink.close(() => r()));
  await mongo.close();
  await dropDatabase(database);
});

describe('outbound mail is sent once', () => {
  it('mails a message redelivered to a new instance (fresh consumer group, same store) once, and reports it again', async () => {
    const message = reply(customer());
    const first = await startInstance();
    await publish(message);
    expect((await reportFrom(first.ctx, message)).step).toMatchObject({ deliveryReported: { delivered: true } });
    await first.ctx.stop();

    const second = await startInstance();
    await publish(message);
    expect((await reportFrom(second.ctx, message, 'the second instance report')).step).toMatchObject({ deliveryReported: { delivered: true } });
    await settle();
    expect(mailsOf(message)).toHaveLength(1);
    // Its "sent" count is not looked at: a fresh group also reads other test files' messages.
    expect(await metricTotal(second.ctx, 'cc_email_outbound_total', { outcome: 'already_sent' })).toBe(1);
  });

  it('mails a verification code as a plain mail to its address only, never threaded, and refuses one without an address', async () => {
    const instance = await startInstance();
    const to = customer('verify');
    const code = OutboundMessage.fromPartial({
      messageId: uniqueId('chat-verification'),
      conversationId: uniqueId('chat-conv'),
      channel: Channel.CHANNEL_EMAIL,
      kind: OutboundKind.OUTBOUND_KIND_VERIFICATION_CODE,
      recipient: { kind: IdentityKind.IDENTITY_KIND_EMAIL, value: to },
      subject: 'Your chat verification code',
      text: 'Your code is 012345.',
      conversationReference: 'AB12CD',
    });
    await publish(code);
    expect((await reportFrom(instance.ctx, code)).step).toMatchObject({ deliveryReported: { delivered: true } });
    const [mail] = mailsOf(code);
    expect(mail?.to).toMatchObject({ value: [{ address: to }] });
    expect(mail?.subject).toBe('Your chat verification code');
    expect(mail?.text?.trim()).toBe('Your code is 012345.');
    expect(mail?.inReplyTo).toBeUndefined();
    expect(mail?.headers.get('auto-submitted')).toBe('auto-generated');

    const nowhere = OutboundMessage.fromPartial({ ...code, messageId: uniqueId('chat-verification'), recipient: undefined });
    await publish(nowhere);
    expect((await reportFrom(instance.ctx, nowhere)).step).toMatchObject({
      deliveryReported: { delivered: false, permanent: true, errorCode: 'NO_RECIPIENT' },
    });
  });

  it('retries a delivery report that failed after the send without mailing again', async () => {
    const network = cuttableSocketFactory();
    const to = customer('cut');
    // Kafka goes away while the server takes the mail: the send succeeds, the report cannot be published.
    beforeAccepting.set(to, () => {
      network.cut();
      setTimeout(() => network.restore(), 3000);
    });
    try {
      const instance = await startInstance({ PUBLISH_TIMEOUT_MS: '1500' }, { socketFactory: network.socketFactory });
      const message = reply(to);
      await publish(message);
      expect((await reportFrom(instance.ctx, message)).step).toMatchObject({ deliveryReported: { delivered: true } });
      expect(await metricTotal(instance.ctx, 'cc_kafka_published_total', { topic: topics.conversationEvents.name, outcome: 'failed' })).toBeGreaterThan(0);
      await settle();
      expect(mailsOf(message)).toHaveLength(1);
    } finally {
      beforeAccepting.delete(to);
      network.restore();
    }
  });

  it('does not send a message whose claim a crash left "sending", and reports it as uncertain', async () => {
    const message = reply(customer());
    const deliveries = mongo.db(database).collection<{ _id: string; state: string; claimedAt: Date }>('email_deliveries');
    // As a sender that crashed in the middle of this send, some minutes ago, left it.
    await deliveries.insertOne({ _id: message.messageId, state: 'sending', claimedAt: new Date(Date.now() - 10 * 60_000) });
    const instance = await startInstance();
    await publish(message);
    const report = await reportFrom(instance.ctx, message);
    expect(report.reason?.code).toBe('delivery.uncertain');
    expect(report.step).toMatchObject({ deliveryReported: { delivered: false, errorCode: 'DELIVERY_UNCERTAIN' } });
    expect(await metricTotal(instance.ctx, 'cc_email_outbound_total', { outcome: 'uncertain' })).toBe(1);
    expect((await deliveries.findOne({ _id: message.messageId }))?.state).toBe('uncertain');
    await settle();
    expect(mailsOf(message)).toHaveLength(0);
  });

  it('mails once after the server answered 451 the first time', async () => {
    const to = customer('busy-once');
    const instance = await startInstance();
    const message = reply(to);
    await publish(message);
    expect((await reportFrom(instance.ctx, message)).step).toMatchObject({ deliveryReported: { delivered: true } });
    await settle();
    expect(rcptAttempts.filter((a) => a === to)).toHaveLength(2);
    expect(mailsOf(message)).toHaveLength(1);
  });

  it('mails once after the connection was refused, when the server comes up', async () => {
    const probe = net.createServer();
    const port = await listen(probe, 0);
    await new Promise((r) => probe.close(r));
    const instance = await startInstance({ SMTP_URL: `smtp://127.0.0.1:${port}`, OUTBOUND_MAX_ATTEMPTS: '8' });
    const message = reply(customer());
    await publish(message);
    // The first attempts meet a closed port; then the server starts there.
    await waitFor(() => recorder.records.some((r) => r.topic === topics.outbound.name && r.headers.ce_id === message.messageId), 20_000, 'the outbound record');
    await settle(800);
    expect(mailsOf(message)).toHaveLength(0);
    await startSink(port);
    expect((await reportFrom(instance.ctx, message)).step).toMatchObject({ deliveryReported: { delivered: true } });
    await settle();
    expect(mailsOf(message)).toHaveLength(1);
  });
});

describe('shutdown', () => {
  it('stops within 15 s with an idle SMTP session open, and the outbound consumer has committed its offsets', async () => {
    const instance = await startInstance();
    const message = reply(customer());
    await publish(message);
    await reportFrom(instance.ctx, message);
    const record = await recorder.waitFor((r) => r.topic === topics.outbound.name && r.headers.ce_id === message.messageId);

    // A client that connected and said nothing more.
    const idle = net.connect(instance.smtpPort, '127.0.0.1');
    let heard = '';
    idle.on('data', (d: Buffer) => (heard += d.toString()));
    const closed = new Promise((r) => idle.once('close', r));
    await waitFor(() => heard.startsWith('220'), 10_000, 'the SMTP greeting');

    const started = Date.now();
    await instance.ctx.stop();
    const elapsed = Date.now() - started;
    expect(elapsed).toBeLessThan(12_000);
    await closed;
    expect(heard).toMatch(/^421 /m);
    await expect(
      new Promise((resolve, reject) => net.connect(instance.smtpPort, '127.0.0.1').once('connect', resolve).once('error', reject)),
    ).rejects.toMatchObject({ code: 'ECONNREFUSED' });

    const admin = new Kafka({ clientId: uniqueId('offsets'), brokers: KAFKA_BROKERS, logLevel: logLevel.NOTHING }).admin();
    await admin.connect();
    try {
      const [committed] = await admin.fetchOffsets({ groupId: instance.config.EMAIL_OUTBOUND_GROUP, topics: [topics.outbound.name] });
      const partition = committed!.partitions.find((p) => p.partition === record.partition);
      expect(Number(partition?.offset)).toBeGreaterThan(Number(record.message.offset));
    } finally {
      await admin.disconnect();
    }
  });
});
