// WhatsApp through Twilio's Messaging webhooks, end to end: signed webhooks with `whatsapp:`
// addresses in, replies out through the real twilio client against the Twilio stand-in, and
// WhatsApp's 24-hour reply window enforced before anything is sent.
import http from 'node:http';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { MongoClient } from 'mongodb';
import twilio from 'twilio';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '#libs/config';
import { topics } from '#libs/kafka';
import { listen } from '#libs/observability';
import { Channel, IdentityKind, OutboundKind, OutboundMessage, type ContactReceived } from '#libs/proto';
import { connectKafka, type ServiceContext, type ServiceKafka } from '#libs/service';
import {
  deliveryReportFrom,
  dropDatabase,
  KAFKA_BROKERS,
  MONGODB_URI,
  recordTopics,
  testAuthEnv,
  testContext,
  uniqueId,
  waitFor,
  TEST_COMPANY_NUMBER,
} from '#libs/testing';
import { listenOnLoopback, outboxServer } from '../../../scripts/outbox/server';
import { TwilioStandIn } from '../../../scripts/outbox/twilio-api';
import { smsVoiceConfig } from '../src/config';
import { startSmsVoiceService } from '../src/service';

const AUTH_TOKEN = randomBytes(16).toString('hex');
const ACCOUNT_SID = `AC${randomBytes(16).toString('hex')}`;
const COMPANY = TEST_COMPANY_NUMBER;
const TEMPLATE = `HX${randomBytes(16).toString('hex')}`;
const database = uniqueId('whatsapp_test').replace(/-/g, '_');

const standIn = new TwilioStandIn({ maxItems: Infinity });
let outbox: http.Server;
let ctx: ServiceContext;
let port: number;
let kafka: ServiceKafka;
let mongo: MongoClient;
let recorder: Awaited<ReturnType<typeof recordTopics>>;
let spoolDir: string;

/**
 * What the stand-in sent to a customer from this test's own replies: a routing instance of
 * another test on the shared broker may also queue these contacts and send its status updates.
 */
const sentTo = (customer: string, ...bodies: string[]) => standIn.items.filter((i) => i.to === `whatsapp:${customer}` && bodies.includes(i.body));

const customerNumber = () => `+1415556${String(1000 + Math.floor(Math.random() * 8999))}`;

async function webhook(params: Record<string, string>) {
  const url = `http://127.0.0.1:${port}/twilio/sms`;
  const headers = { 'content-type': 'application/x-www-form-urlencoded', 'x-twilio-signature': twilio.getExpectedTwilioSignature(AUTH_TOKEN, url, params) };
  const res = await fetch(url, { method: 'POST', headers, body: new URLSearchParams(params) });
  return { status: res.status, body: await res.text() };
}

/** A WhatsApp message from `customer`: the contact it became. */
async function whatsappFrom(customer: string, body: string): Promise<ContactReceived> {
  const sid = `SM${randomBytes(16).toString('hex')}`;
  expect((await webhook({ MessageSid: sid, From: `whatsapp:${customer}`, To: `whatsapp:${COMPANY}`, Body: body })).status).toBe(200);
  return waitFor(() => recorder.values(topics.contactInbound).find((c) => c.externalId === sid), 20_000, 'the WhatsApp contact');
}

async function reply(conversationId: string, text: string): Promise<OutboundMessage> {
  const message = OutboundMessage.fromPartial({
    messageId: uniqueId('wa-reply'),
    conversationId,
    channel: Channel.CHANNEL_WHATSAPP,
    kind: OutboundKind.OUTBOUND_KIND_REPLY,
    text,
  });
  await kafka.producer.publish(topics.outbound, conversationId, message);
  return message;
}

beforeAll(async () => {
  outbox = outboxServer(standIn, { consoleUrl: 'http://127.0.0.1:8090' });
  const twilioPort = await listenOnLoopback(outbox, 0);
  recorder = await recordTopics([topics.contactInbound.name, topics.conversationEvents.name]);
  mongo = new MongoClient(MONGODB_URI);
  const probe = http.createServer();
  const free = await listen(probe, 0);
  await new Promise((r) => probe.close(r));
  spoolDir = mkdtempSync(path.join(tmpdir(), 'whatsapp-spool-'));
  ctx = testContext('whatsapp-test');
  const config = loadConfig(smsVoiceConfig, {
    ...testAuthEnv('sms-voice'),
    SMS_VOICE_SPOOL_DIR: spoolDir,
    KAFKA_BROKERS: KAFKA_BROKERS.join(','),
    MONGODB_URI,
    MONGODB_DATABASE: database,
    HTTP_PORT: String(free),
    PUBLIC_BASE_URL: `http://127.0.0.1:${free}`,
    TWILIO_AUTH_TOKEN: AUTH_TOKEN,
    TWILIO_ACCOUNT_SID: ACCOUNT_SID,
    TWILIO_API_BASE_URL: `http://127.0.0.1:${twilioPort}`,
    WHATSAPP_REOPEN_TEMPLATE_SID: TEMPLATE,
    SMS_OUTBOUND_GROUP: uniqueId('whatsapp-outbound'),
    SMS_COMPANY_NUMBER: COMPANY,
  });
  ({ port } = await startSmsVoiceService(ctx, config));
  kafka = await connectKafka(testContext('whatsapp-test-kafka'), { KAFKA_BROKERS, KAFKA_TOPIC_PARTITIONS: 3, KAFKA_REPLICATION_FACTOR: 1 });
}, 60_000);

afterAll(async () => {
  await ctx.stop();
  await recorder.close();
  await new Promise((r) => outbox.close(r));
  await dropDatabase(database);
  await mongo.close();
  rmSync(spoolDir, { recursive: true, force: true });
});

describe('WhatsApp messages in', () => {
  it('become contacts on their own channel, from the same customer as their SMS, in a conversation apart from SMS', async () => {
    const customer = customerNumber();
    const contact = await whatsappFrom(customer, 'My order has not arrived');
    expect(contact).toMatchObject({
      channel: Channel.CHANNEL_WHATSAPP,
      sender: { kind: IdentityKind.IDENTITY_KIND_PHONE, value: customer },
      recipient: { kind: IdentityKind.IDENTITY_KIND_PHONE, value: COMPANY },
      text: 'My order has not arrived',
      newConversation: true,
    });
    const smsSid = `SM${randomBytes(16).toString('hex')}`;
    expect((await webhook({ MessageSid: smsSid, From: customer, To: COMPANY, Body: 'Same question by SMS' })).status).toBe(200);
    const sms = await waitFor(() => recorder.values(topics.contactInbound).find((c) => c.externalId === smsSid), 20_000, 'the SMS contact');
    expect(sms.channel).toBe(Channel.CHANNEL_SMS);
    expect(sms.sender?.value).toBe(customer);
    expect(sms.conversationId).not.toBe(contact.conversationId);
    const next = await whatsappFrom(customer, 'Any news?');
    expect(next).toMatchObject({ conversationId: contact.conversationId, newConversation: false });
  });

  it('refuses a pair of one WhatsApp address and one phone number with a 400 that says so', async () => {
    const res = await webhook({ MessageSid: `SM${randomBytes(16).toString('hex')}`, From: `whatsapp:${customerNumber()}`, To: COMPANY, Body: 'hi' });
    expect(res.status).toBe(400);
    expect(res.body).toContain('both be whatsapp: addresses');
  });

  it('confirms STOP itself, and then sends nothing to that customer on WhatsApp', async () => {
    const customer = customerNumber();
    const contact = await whatsappFrom(customer, 'Hello');
    const stop = await webhook({ MessageSid: `SM${randomBytes(16).toString('hex')}`, From: `whatsapp:${customer}`, To: `whatsapp:${COMPANY}`, Body: 'STOP' });
    expect(stop.body).toContain('You will get no more WhatsApp messages from us');
    const message = await reply(contact.conversationId, 'Your parcel ships today.');
    const report = await deliveryReportFrom(recorder, ctx, message.messageId, 'the refusal');
    expect(report.step?.$case === 'deliveryReported' && report.step.deliveryReported).toMatchObject({ delivered: false, errorCode: 'OPTED_OUT' });
    expect(sentTo(customer, 'Your parcel ships today.')).toEqual([]);
  });
});

describe('replies out and the 24-hour window', () => {
  it('sends a reply within the window from the company WhatsApp address to the customer', async () => {
    const customer = customerNumber();
    const contact = await whatsappFrom(customer, 'Where is my refund?');
    const message = await reply(contact.conversationId, 'It was sent yesterday.');
    const report = await deliveryReportFrom(recorder, ctx, message.messageId, 'the delivery report');
    expect(report.step?.$case === 'deliveryReported' && report.step.deliveryReported.delivered).toBe(true);
    expect(report.channel).toBe(Channel.CHANNEL_WHATSAPP);
    expect(sentTo(customer, 'It was sent yesterday.')).toEqual([expect.objectContaining({ kind: 'sms', from: `whatsapp:${COMPANY}` })]);
  });

  it('outside the window sends the approved template instead, once, and reports the reply undelivered with why', async () => {
    const customer = customerNumber();
    const contact = await whatsappFrom(customer, 'Can you call me?');
    // The customer's last message was 25 hours ago.
    await mongo
      .db(database)
      .collection<{ _id: string; lastInboundAt: Date }>('whatsapp_reply_windows')
      .updateOne({ _id: `whatsapp:${customer}|whatsapp:${COMPANY}` }, { $set: { lastInboundAt: new Date(Date.now() - 25 * 3600_000) } });
    const message = await reply(contact.conversationId, 'Sorry for the delay.');
    const report = await deliveryReportFrom(recorder, ctx, message.messageId, 'the refusal');
    const delivery = report.step?.$case === 'deliveryReported' ? report.step.deliveryReported : undefined;
    expect(delivery).toMatchObject({ delivered: false, permanent: true, errorCode: 'WHATSAPP_WINDOW_CLOSED' });
    expect(delivery?.detail).toContain('within 24 hours');
    expect(delivery?.detail).toContain('approved template');
    // Redelivered, the message does not send the template again (another test's routing may
    // queue this contact too, and its status update outside the window sends a template of its own).
    const templates = () => sentTo(customer, `template ${TEMPLATE}`);
    expect(templates().length).toBeGreaterThanOrEqual(1);
    expect(templates()[0]).toMatchObject({ from: `whatsapp:${COMPANY}` });
    const before = templates().length;
    await kafka.producer.publish(topics.outbound, contact.conversationId, message);
    await new Promise((r) => setTimeout(r, 1500));
    expect(templates()).toHaveLength(before);
    expect(sentTo(customer, 'Sorry for the delay.')).toEqual([]);
    // The customer answers: the window is open again and the reply goes out as written.
    await whatsappFrom(customer, 'Yes, go ahead');
    const again = await reply(contact.conversationId, 'Sorry for the delay.');
    const delivered = await deliveryReportFrom(recorder, ctx, again.messageId, 'the delivery report');
    expect(delivered.step?.$case === 'deliveryReported' && delivered.step.deliveryReported.delivered).toBe(true);
    expect(sentTo(customer, 'Sorry for the delay.')).toHaveLength(1);
  });
});
