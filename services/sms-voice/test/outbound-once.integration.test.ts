// Each outbound SMS is sent once, over real Kafka and the store, with the twilio client talking
// to a local server that answers as Twilio's Messages API does: redelivered to a new instance,
// with its delivery report failing after the send, with a claim a crash left behind, and with
// Twilio answering 503/429 or not reachable for a while.
import { mkdtempSync, rmSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { MongoClient } from 'mongodb';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '#libs/config';
import type { DeliveryRecord } from '#libs/delivery';
import { topics } from '#libs/kafka';
import { listen } from '#libs/observability';
import { Channel, OutboundKind, OutboundMessage } from '#libs/proto';
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
  TEST_COMPANY_NUMBER,
} from '#libs/testing';
import { smsVoiceConfig } from '../src/config';
import { startSmsVoiceService } from '../src/service';

const AUTH_TOKEN = randomBytes(16).toString('hex');
const ACCOUNT_SID = `AC${randomBytes(16).toString('hex')}`;
const COMPANY = TEST_COMPANY_NUMBER;
const database = uniqueId('sms_once').replace(/-/g, '_');

interface MessagesPost {
  to: string;
  body: string;
  status: number;
}
const posts: MessagesPost[] = [];
/** Runs when Twilio has created a message for this number, before it answers 201. */
const beforeAnswering = new Map<string, () => void>();
const standIns: http.Server[] = [];
let apiPort: number;
let kafka: ServiceKafka;
let mongo: MongoClient;
let recorder: Awaited<ReturnType<typeof recordTopics>>;
const running: ServiceContext[] = [];

/**
 * Answers POST /2010-04-01/Accounts/{sid}/Messages.json as Twilio does: 201 with the message
 * resource; a body starting busy-once gets 503 and limited-once 429 (Twilio's error bodies) the
 * first time for its number.
 */
async function startTwilioStandIn(port = 0): Promise<number> {
  const refusedOnce = new Set<string>();
  const server = http.createServer((req, res) => {
    let raw = '';
    req.on('data', (c) => (raw += c));
    req.on('end', () => {
      const form = Object.fromEntries(new URLSearchParams(raw));
      const answer = (status: number, value: unknown) => {
        posts.push({ to: form.To ?? '', body: form.Body ?? '', status });
        res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(value));
      };
      if (req.method !== 'POST' || req.url !== `/2010-04-01/Accounts/${ACCOUNT_SID}/Messages.json`) {
        return answer(404, { code: 20404, message: 'The requested resource was not found', status: 404 });
      }
      const once = form.Body?.startsWith('busy-once') ? 503 : form.Body?.startsWith('limited-once') ? 429 : 0;
      if (once && !refusedOnce.has(form.To!)) {
        refusedOnce.add(form.To!);
        return answer(
          once,
          once === 503 ? { code: 20503, message: 'Service unavailable', status: 503 } : { code: 20429, message: 'Too Many Requests', status: 429 },
        );
      }
      beforeAnswering.get(form.To!)?.();
      answer(201, {
        sid: `SM${randomBytes(16).toString('hex')}`,
        account_sid: ACCOUNT_SID,
        to: form.To,
        from: form.From,
        body: form.Body,
        status: 'queued',
        num_segments: '1',
      });
    });
  });
  standIns.push(server);
  return listen(server, port);
}

function configFor(overrides: Record<string, string> = {}) {
  return loadConfig(smsVoiceConfig, {
    KAFKA_BROKERS: KAFKA_BROKERS.join(','),
    MONGODB_URI,
    MONGODB_DATABASE: database,
    HTTP_PORT: '0',
    TWILIO_AUTH_TOKEN: AUTH_TOKEN,
    TWILIO_ACCOUNT_SID: ACCOUNT_SID,
    TWILIO_API_BASE_URL: `http://127.0.0.1:${apiPort}`,
    SMS_OUTBOUND_GROUP: uniqueId('sms-once'),
    SMS_COMPANY_NUMBER: COMPANY,
    OUTBOUND_MAX_ATTEMPTS: '5',
    ...overrides,
  });
}

/** Spool folders of the instances started here: each its own, never the default one a running npm start holds. */
const spools: string[] = [];

async function startInstance(overrides: Record<string, string> = {}, options: Parameters<typeof startSmsVoiceService>[2] = {}) {
  const ctx = testContext('sms-once');
  running.push(ctx);
  const spool = mkdtempSync(path.join(tmpdir(), 'sms-once-spool-'));
  spools.push(spool);
  return { ctx, ...(await startSmsVoiceService(ctx, configFor({ SMS_VOICE_SPOOL_DIR: spool, ...overrides }), options)) };
}

const customer = () => `+1415555${String(Math.floor(Math.random() * 9000) + 1000)}`;

/** An SMS conversation as an inbound text opens it, and a reply to it. */
async function replyTo(store: Awaited<ReturnType<typeof startInstance>>['store'], text = 'Your parcel ships tomorrow.') {
  const to = customer();
  const { conversationId } = await store.claimSms(`SM${randomBytes(16).toString('hex')}`, to, COMPANY, new Date(), 24 * 3600_000);
  const message = OutboundMessage.fromPartial({
    messageId: uniqueId('out'),
    conversationId,
    channel: Channel.CHANNEL_SMS,
    kind: OutboundKind.OUTBOUND_KIND_REPLY,
    text,
  });
  return { to, message };
}

const publish = (message: OutboundMessage) => kafka.producer.publish(topics.outbound, message.conversationId, message, { id: message.messageId });
const created = (to: string) => posts.filter((p) => p.to === to && p.status === 201);

const reportFrom = (ctx: ServiceContext, message: OutboundMessage, what?: string) => deliveryReportFrom(recorder, ctx, message.messageId, what);

const settle = (ms = 1500) => new Promise((r) => setTimeout(r, ms));

beforeAll(async () => {
  apiPort = await startTwilioStandIn();
  recorder = await recordTopics([topics.outbound.name, topics.conversationEvents.name]);
  kafka = await connectKafka(testContext('sms-once-kafka'), { KAFKA_BROKERS, KAFKA_TOPIC_PARTITIONS: 3, KAFKA_REPLICATION_FACTOR: 1 });
  mongo = await new MongoClient(MONGODB_URI).connect();
});

afterEach(async () => {
  for (const ctx of running.splice(0)) await ctx.stop();
});

afterAll(async () => {
  for (const spool of spools) rmSync(spool, { recursive: true, force: true });
  await kafka.producer.disconnect();
  await recorder.close();
  for (const server of standIns) await new Promise((r) => server.close(r));
  await mongo.close();
  await dropDatabase(database);
});

describe('outbound SMS is sent once', () => {
  it('sends a message redelivered to a new instance (fresh consumer group, same store) once, and reports it again', async () => {
    const first = await startInstance();
    const { to, message } = await replyTo(first.store);
    await publish(message);
    expect((await reportFrom(first.ctx, message)).step).toMatchObject({ deliveryReported: { delivered: true } });
    await first.ctx.stop();

    const second = await startInstance();
    await publish(message);
    expect((await reportFrom(second.ctx, message, 'the second instance report')).step).toMatchObject({ deliveryReported: { delivered: true } });
    await settle();
    expect(posts.filter((p) => p.to === to)).toHaveLength(1);
    expect(await metricTotal(second.ctx, 'cc_sms_outbound_total', { outcome: 'already_sent' })).toBe(1);
  });

  it('retries a delivery report that failed after the send without sending again', async () => {
    const network = cuttableSocketFactory();
    const instance = await startInstance({ PUBLISH_TIMEOUT_MS: '1500' }, { socketFactory: network.socketFactory });
    const { to, message } = await replyTo(instance.store);
    // Kafka goes away while Twilio creates the message: the send succeeds, the report cannot be published.
    beforeAnswering.set(to, () => {
      network.cut();
      setTimeout(() => network.restore(), 3000);
    });
    try {
      await publish(message);
      expect((await reportFrom(instance.ctx, message)).step).toMatchObject({ deliveryReported: { delivered: true } });
      expect(await metricTotal(instance.ctx, 'cc_kafka_published_total', { topic: topics.conversationEvents.name, outcome: 'failed' })).toBeGreaterThan(0);
      await settle();
      expect(posts.filter((p) => p.to === to)).toHaveLength(1);
    } finally {
      beforeAnswering.delete(to);
      network.restore();
    }
  });

  it('does not send a message whose claim a crash left "sending", and reports it as uncertain', async () => {
    const instance = await startInstance();
    const { to, message } = await replyTo(instance.store);
    const deliveries = mongo.db(database).collection<{ _id: string; state: string; claimedAt: Date }>('sms_deliveries');
    // As a sender that crashed while Twilio was answering, some minutes ago, left it.
    await deliveries.insertOne({ _id: `${message.messageId}/1`, state: 'sending', claimedAt: new Date(Date.now() - 10 * 60_000) });
    await publish(message);
    const report = await reportFrom(instance.ctx, message);
    expect(report.reason?.code).toBe('delivery.uncertain');
    expect(report.step).toMatchObject({ deliveryReported: { delivered: false, errorCode: 'DELIVERY_UNCERTAIN' } });
    expect(await metricTotal(instance.ctx, 'cc_sms_outbound_total', { outcome: 'uncertain' })).toBe(1);
    await settle();
    expect(posts.filter((p) => p.to === to)).toHaveLength(0);
  });

  it('does not wait out the send window on a claim its own crashed run left a moment ago', async () => {
    const instance = await startInstance();
    const { to, message } = await replyTo(instance.store);
    const deliveries = mongo.db(database).collection<DeliveryRecord>('sms_deliveries');
    // As this instance's process left it when it was killed mid-send, seconds ago.
    const crashed = { instance: instance.ctx.instanceId, run: 'the run before the restart' };
    await deliveries.insertOne({ _id: `${message.messageId}/1`, state: 'sending', claimedAt: new Date(), claimedBy: crashed });
    const published = Date.now();
    await publish(message);
    const report = await reportFrom(instance.ctx, message);
    // Well inside the 60 s window another instance's fresh claim would be waited for.
    expect(Date.now() - published).toBeLessThan(30_000);
    expect(report.step).toMatchObject({ deliveryReported: { delivered: false, errorCode: 'DELIVERY_UNCERTAIN' } });
    await settle();
    expect(posts.filter((p) => p.to === to)).toHaveLength(0);
  });

  it.each(['busy-once', 'limited-once'])('sends once after Twilio answered %s (503 / 429) the first time', async (prefix) => {
    const instance = await startInstance();
    const { to, message } = await replyTo(instance.store, `${prefix}: your parcel ships tomorrow`);
    await publish(message);
    expect((await reportFrom(instance.ctx, message)).step).toMatchObject({ deliveryReported: { delivered: true } });
    await settle();
    expect(posts.filter((p) => p.to === to).map((p) => p.status)).toEqual([prefix === 'busy-once' ? 503 : 429, 201]);
    expect(created(to)).toHaveLength(1);
  });

  it('sends once after the connection to Twilio was refused, when the API comes up', async () => {
    const probe = net.createServer();
    const port = await listen(probe, 0);
    await new Promise((r) => probe.close(r));
    const instance = await startInstance({ TWILIO_API_BASE_URL: `http://127.0.0.1:${port}`, OUTBOUND_MAX_ATTEMPTS: '8' });
    const { to, message } = await replyTo(instance.store);
    await publish(message);
    await waitFor(() => recorder.records.some((r) => r.topic === topics.outbound.name && r.headers.ce_id === message.messageId), 20_000, 'the outbound record');
    await settle(800);
    expect(posts.filter((p) => p.to === to)).toHaveLength(0);
    await startTwilioStandIn(port);
    expect((await reportFrom(instance.ctx, message)).step).toMatchObject({ deliveryReported: { delivered: true } });
    await settle();
    expect(created(to)).toHaveLength(1);
  });
});
