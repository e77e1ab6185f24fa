// The sms-voice service over real HTTP, Kafka and the store. Webhooks are signed exactly as
// Twilio signs them; the twilio client talks to a local server that answers like Twilio's REST API.
import http from 'node:http';
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { XMLParser, XMLValidator } from 'fast-xml-parser';
import twilio from 'twilio';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '#libs/config';
import { topics } from '#libs/kafka';
import { credentials } from '@grpc/grpc-js';
import { listen } from '#libs/observability';
import { Channel, ContactKind, IdentityKind, OutboundKind, OutboundMessage, RoutingServiceClient, type GetWaitEstimateResponse } from '#libs/proto';
import { connectKafka, type ServiceContext, type ServiceKafka } from '#libs/service';
import {
  dropDatabase,
  cuttableSocketFactory,
  deliveryReportFrom,
  KAFKA_BROKERS,
  MONGODB_URI,
  recordTopics,
  testAuthEnv,
  testContext,
  testMetadata,
  uniqueId,
  waitFor,
} from '#libs/testing';
import { routingConfig } from '../../routing/src/config';
import { startRouting } from '../../routing/src/service';
import { smsVoiceConfig } from '../src/config';
import { positionInWords, waitInWords } from '../src/sms';
import { startSmsVoiceService } from '../src/service';
import { SURVEY_AGENT, SURVEY_QUEUE } from '#libs/survey';

const AUTH_TOKEN = randomBytes(16).toString('hex');
const METRICS_TOKEN = randomBytes(24).toString('hex');
const ACCOUNT_SID = `AC${randomBytes(16).toString('hex')}`;
const COMPANY = '+14155550100';
const database = uniqueId('smsvoice_test').replace(/-/g, '_');
const xml = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '@', parseTagValue: false });

interface TwilioRequest {
  method: string;
  path: string;
  form: Record<string, string>;
  authorization?: string;
}
const twilioRequests: TwilioRequest[] = [];
let twilioApi: http.Server;
let ctx: ServiceContext;
let port: number;
let kafka: ServiceKafka;
let recorder: Awaited<ReturnType<typeof recordTopics>>;

/** Answers like Twilio's REST API (2010-04-01): 201 with a resource, or 400 with Twilio's error body. */
function startTwilioStandIn(): http.Server {
  const busy = new Set<string>();
  return http.createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      const form = Object.fromEntries(new URLSearchParams(body));
      twilioRequests.push({ method: req.method!, path: req.url!, form, authorization: req.headers.authorization });
      const json = (status: number, value: unknown) => res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(value));
      if (req.url === `/2010-04-01/Accounts/${ACCOUNT_SID}/Messages.json`) {
        if (form.To === '+15005550001')
          return json(400, {
            code: 21211,
            message: "The 'To' number +15005550001 is not a valid phone number.",
            more_info: 'https://www.twilio.com/docs/errors/21211',
            status: 400,
          });
        if (form.Body?.startsWith('busy-once') && !busy.has(form.To!)) {
          busy.add(form.To!);
          return json(503, { code: 20503, message: 'Service unavailable', status: 503 });
        }
        return json(201, {
          sid: `SM${randomBytes(16).toString('hex')}`,
          account_sid: ACCOUNT_SID,
          to: form.To,
          from: form.From,
          body: form.Body,
          status: 'queued',
          num_segments: '1',
        });
      }
      const call = /^\/2010-04-01\/Accounts\/AC[0-9a-f]+\/Calls\/(CA[0-9a-f]+)\.json$/.exec(req.url!);
      if (call) return json(200, { sid: call[1], status: 'in-progress' });
      if (/^\/2010-04-01\/Accounts\/AC[0-9a-f]+\/Conferences\/[^/]+\/Participants\.json$/.test(req.url!))
        return json(201, { call_sid: `CA${randomBytes(16).toString('hex')}`, conference_sid: `CF${randomBytes(16).toString('hex')}`, status: 'queued' });
      json(404, { code: 20404, message: 'The requested resource was not found', status: 404 });
    });
  });
}

async function post(
  path: string,
  params: Record<string, string>,
  sign: { url?: string; token?: string; omit?: boolean; forwardedFor?: string } = {},
  targetPort = () => port,
) {
  const url = `http://127.0.0.1:${port}${path}`;
  const headers: Record<string, string> = { 'content-type': 'application/x-www-form-urlencoded' };
  if (sign.forwardedFor) headers['x-forwarded-for'] = sign.forwardedFor;
  if (!sign.omit) headers['x-twilio-signature'] = twilio.getExpectedTwilioSignature(sign.token ?? AUTH_TOKEN, sign.url ?? url, params);
  const res = await fetch(`http://127.0.0.1:${targetPort()}${path}`, { method: 'POST', headers, body: new URLSearchParams(params) });
  return { status: res.status, body: await res.text() };
}

const sid = (prefix: 'SM' | 'CA') => `${prefix}${randomBytes(16).toString('hex')}`;
const customer = () => `+1415555${String(Math.floor(Math.random() * 9000) + 1000)}`;

const contacts = () => recorder.values(topics.contactInbound);
const events = () => recorder.values(topics.conversationEvents);

// Each instance owns its spool folder.
const spoolDirs: string[] = [];
function configFor(overrides: Record<string, string> = {}) {
  const spoolDir = mkdtempSync(path.join(tmpdir(), 'sms-voice-spool-'));
  spoolDirs.push(spoolDir);
  return loadConfig(smsVoiceConfig, {
    SMS_VOICE_SPOOL_DIR: spoolDir,
    KAFKA_BROKERS: KAFKA_BROKERS.join(','),
    MONGODB_URI,
    MONGODB_DATABASE: database,
    HTTP_PORT: '0',
    TWILIO_AUTH_TOKEN: AUTH_TOKEN,
    TWILIO_ACCOUNT_SID: ACCOUNT_SID,
    TWILIO_API_BASE_URL: `http://127.0.0.1:${(twilioApi.address() as { port: number }).port}`,
    PUBLIC_BASE_URL: 'http://127.0.0.1:PORT',
    SMS_OUTBOUND_GROUP: uniqueId('sms-outbound'),
    OUTBOUND_MAX_ATTEMPTS: '3',
    SMS_COMPANY_NUMBER: COMPANY,
    ...overrides,
  });
}

beforeAll(async () => {
  twilioApi = startTwilioStandIn();
  await listen(twilioApi, 0);
  recorder = await recordTopics([topics.contactInbound.name, topics.conversationEvents.name]);
  // The public URL must be known before start: take a free port first.
  const probe = http.createServer();
  const free = await listen(probe, 0);
  await new Promise((r) => probe.close(r));
  ctx = testContext('sms-voice-test');
  ({ port } = await startSmsVoiceService(ctx, configFor({ HTTP_PORT: String(free), PUBLIC_BASE_URL: `http://127.0.0.1:${free}`, METRICS_TOKEN })));
  kafka = await connectKafka(testContext('sms-voice-test-kafka'), { KAFKA_BROKERS, KAFKA_TOPIC_PARTITIONS: 3, KAFKA_REPLICATION_FACTOR: 1 });
});

afterAll(async () => {
  await ctx.stop();
  await recorder.close();
  await new Promise((r) => twilioApi.close(r));
  await dropDatabase(database);
  for (const dir of spoolDirs) rmSync(dir, { recursive: true, force: true });
});

describe('inbound SMS', () => {
  it('accepts a signed SMS after Kafka acknowledged it, normalised, with its media listed', async () => {
    const from = customer();
    const messageSid = sid('SM');
    const res = await post('/twilio/sms', {
      MessageSid: messageSid,
      AccountSid: ACCOUNT_SID,
      From: from,
      To: '(415) 555-0100',
      Body: 'Hi, my router blinks red 🚨',
      NumMedia: '1',
      MediaUrl0: 'https://api.twilio.com/2010-04-01/Accounts/AC/Messages/MM/Media/ME1',
      MediaContentType0: 'image/jpeg',
    });
    expect(res.status).toBe(200);
    expect(XMLValidator.validate(res.body)).toBe(true);
    expect(xml.parse(res.body)).toHaveProperty('Response');
    const contact = await waitFor(() => contacts().find((c) => c.externalId === messageSid), 20_000, 'the SMS contact');
    expect(contact).toMatchObject({
      contactId: `sms-${messageSid}`,
      channel: Channel.CHANNEL_SMS,
      kind: ContactKind.CONTACT_KIND_MESSAGE,
      sender: { kind: IdentityKind.IDENTITY_KIND_PHONE, value: from },
      recipient: { kind: IdentityKind.IDENTITY_KIND_PHONE, value: COMPANY },
      text: 'Hi, my router blinks red 🚨',
      newConversation: true,
    });
    expect(contact.attachments).toEqual([
      {
        name: 'media-0',
        contentType: 'image/jpeg',
        sizeBytes: 0,
        sha256: '',
        storageRef: 'https://api.twilio.com/2010-04-01/Accounts/AC/Messages/MM/Media/ME1',
      },
    ]);
  });

  it('treats a Twilio retry of the same MessageSid as one contact, and joins later messages to the open conversation', async () => {
    const from = customer();
    const first = sid('SM');
    const params = { MessageSid: first, From: from, To: COMPANY, Body: 'first' };
    expect((await post('/twilio/sms', params)).status).toBe(200);
    expect((await post('/twilio/sms', params)).status).toBe(200);
    const second = sid('SM');
    expect((await post('/twilio/sms', { MessageSid: second, From: from, To: COMPANY, Body: 'second' })).status).toBe(200);
    const later = await waitFor(() => contacts().find((c) => c.externalId === second), 20_000, 'the second SMS');
    const copies = contacts().filter((c) => c.externalId === first);
    expect(new Set(copies.map((c) => c.contactId)).size).toBe(1);
    expect(new Set(copies.map((c) => c.conversationId))).toEqual(new Set([later.conversationId]));
    expect(later.newConversation).toBe(false);
  });

  it('refuses bad, missing and wrong-URL signatures with 403 and publishes nothing', async () => {
    const messageSid = sid('SM');
    const params = { MessageSid: messageSid, From: customer(), To: COMPANY, Body: 'forged' };
    expect((await post('/twilio/sms', params, { token: 'x'.repeat(32) })).status).toBe(403);
    expect((await post('/twilio/sms', params, { omit: true })).status).toBe(403);
    expect((await post('/twilio/sms', params, { url: `https://evil.example.com/twilio/sms` })).status).toBe(403);
    await new Promise((r) => setTimeout(r, 1000));
    expect(contacts().filter((c) => c.externalId === messageSid)).toEqual([]);
  });

  it('answers 400 for garbage numbers and malformed sids, 413 for oversize bodies', async () => {
    const bad = await post('/twilio/sms', { MessageSid: sid('SM'), From: 'not-a-number', To: COMPANY, Body: 'x' });
    expect(bad).toMatchObject({ status: 400 });
    expect(bad.body).toContain('From');
    expect((await post('/twilio/sms', { MessageSid: sid('SM'), From: '+999123', To: COMPANY, Body: 'x' })).status).toBe(400);
    expect((await post('/twilio/sms', { MessageSid: 'SM<script>', From: customer(), To: COMPANY, Body: 'x' })).status).toBe(400);
    expect((await post('/twilio/sms', { MessageSid: sid('SM'), From: customer(), To: COMPANY, Body: 'x'.repeat(70_000) })).status).toBe(413);
  });

  it('honours STOP: no further SMS is sent to that number, and says so as a conversation event', async () => {
    const from = customer();
    const hello = sid('SM');
    await post('/twilio/sms', { MessageSid: hello, From: from, To: COMPANY, Body: 'hello' });
    const contact = await waitFor(() => contacts().find((c) => c.externalId === hello), 20_000, 'the SMS');
    const stop = await post('/twilio/sms', { MessageSid: sid('SM'), From: from, To: COMPANY, Body: ' stop ' });
    expect(stop.status).toBe(200);
    const before = twilioRequests.length;
    const reply = OutboundMessage.fromPartial({
      messageId: uniqueId('out'),
      conversationId: contact.conversationId,
      channel: Channel.CHANNEL_SMS,
      kind: OutboundKind.OUTBOUND_KIND_REPLY,
      text: 'Did that help?',
    });
    await kafka.producer.publish(topics.outbound, contact.conversationId, reply);
    const report = await deliveryReportFrom(recorder, ctx, reply.messageId, 'the refusal');
    expect(report.step).toMatchObject({ deliveryReported: { delivered: false, permanent: true, errorCode: 'OPTED_OUT' } });
    expect(twilioRequests.slice(before).filter((r) => r.form.To === from)).toEqual([]);
    const help = await post('/twilio/sms', { MessageSid: sid('SM'), From: from, To: COMPANY, Body: 'HELP' });
    expect(xml.parse(help.body).Response.Message).toContain('Reply STOP');
  });
});

describe('outbound SMS through the twilio client', () => {
  it('sends a reply with messages.create, splits over 1,600 characters, retries a 503 and reports delivery', async () => {
    const from = customer();
    const inbound = sid('SM');
    await post('/twilio/sms', { MessageSid: inbound, From: from, To: COMPANY, Body: 'question' });
    const contact = await waitFor(() => contacts().find((c) => c.externalId === inbound), 20_000, 'the SMS');
    const text = `busy-once ${'word '.repeat(500)}`.trim();
    const reply = OutboundMessage.fromPartial({
      messageId: uniqueId('out'),
      conversationId: contact.conversationId,
      channel: Channel.CHANNEL_SMS,
      kind: OutboundKind.OUTBOUND_KIND_REPLY,
      text,
    });
    await kafka.producer.publish(topics.outbound, contact.conversationId, reply);
    const report = await deliveryReportFrom(recorder, ctx, reply.messageId, 'the delivery report');
    expect(report.step).toMatchObject({ deliveryReported: { delivered: true } });
    // Only this reply's parts: a routing instance of another test on the same broker may text this number too.
    const sent = twilioRequests.filter((r) => r.form.To === from && r.form.Body?.includes('word word'));
    expect(sent.length).toBe(3); // one 503, then two parts
    expect(sent.every((r) => r.form.From === COMPANY && r.form.StatusCallback?.endsWith('/twilio/sms/status'))).toBe(true);
    expect(sent.every((r) => r.authorization === `Basic ${Buffer.from(`${ACCOUNT_SID}:${AUTH_TOKEN}`).toString('base64')}`)).toBe(true);
    expect(
      sent
        .slice(1)
        .map((r) => r.form.Body!.length)
        .every((n) => n <= 1600),
    ).toBe(true);
    expect(
      sent
        .slice(1)
        .map((r) => r.form.Body)
        .join(' '),
    ).toBe(text);
  });

  it('texts the first message of a conversation the company starts from its number, and the answer joins that conversation', async () => {
    const to = customer();
    const conversationId = `conv-${randomUUID()}`;
    const first = OutboundMessage.fromPartial({
      messageId: uniqueId('out'),
      conversationId,
      channel: Channel.CHANNEL_SMS,
      kind: OutboundKind.OUTBOUND_KIND_REPLY,
      recipient: { kind: IdentityKind.IDENTITY_KIND_PHONE, value: to },
      text: 'Your parcel is delayed; answer here with questions.',
    });
    await kafka.producer.publish(topics.outbound, conversationId, first);
    const report = await deliveryReportFrom(recorder, ctx, first.messageId, 'the delivery report');
    expect(report.step).toMatchObject({ deliveryReported: { delivered: true } });
    expect(twilioRequests.filter((r) => r.form.To === to).map((r) => r.form.From)).toEqual([COMPANY]);

    const answer = sid('SM');
    await post('/twilio/sms', { MessageSid: answer, From: to, To: COMPANY, Body: 'when will it come?' });
    const contact = await waitFor(() => contacts().find((c) => c.externalId === answer), 20_000, 'the answer');
    expect(contact.conversationId).toBe(conversationId);
  });

  it('records a permanent Twilio error with its code', async () => {
    const inbound = sid('SM');
    await post('/twilio/sms', { MessageSid: inbound, From: customer(), To: COMPANY, Body: 'hi' });
    const contact = await waitFor(() => contacts().find((c) => c.externalId === inbound), 20_000, 'the SMS');
    const reply = OutboundMessage.fromPartial({
      messageId: uniqueId('out'),
      conversationId: contact.conversationId,
      channel: Channel.CHANNEL_SMS,
      kind: OutboundKind.OUTBOUND_KIND_REPLY,
      recipient: { kind: IdentityKind.IDENTITY_KIND_PHONE, value: '+15005550001' },
      text: 'hello',
    });
    await kafka.producer.publish(topics.outbound, contact.conversationId, reply);
    const report = await deliveryReportFrom(recorder, ctx, reply.messageId, 'the failure');
    expect(report.step).toMatchObject({ deliveryReported: { delivered: false, permanent: true, errorCode: '21211' } });
  });
});

describe('survey by SMS', () => {
  /** A conversation of `from` that was resolved: its survey texted, the delivery reported. */
  async function surveyed(from: string): Promise<string> {
    const inbound = sid('SM');
    await post('/twilio/sms', { MessageSid: inbound, From: from, To: COMPANY, Body: 'my bill is wrong' });
    const { conversationId } = await waitFor(() => contacts().find((c) => c.externalId === inbound), 20_000, 'the SMS');
    const survey = OutboundMessage.fromPartial({
      messageId: uniqueId('out'),
      conversationId,
      channel: Channel.CHANNEL_SMS,
      kind: OutboundKind.OUTBOUND_KIND_SURVEY,
      text: 'How did we do? Please rate this conversation from 1 (poor) to 5 (excellent).',
      channelMetadata: { [SURVEY_AGENT]: 'ana', [SURVEY_QUEUE]: 'billing' },
    });
    await kafka.producer.publish(topics.outbound, conversationId, survey);
    await deliveryReportFrom(recorder, ctx, survey.messageId, 'the survey sent');
    return conversationId;
  }
  const answers = (conversationId: string) => events().filter((e) => e.conversationId === conversationId && e.step?.$case === 'surveyAnswered');

  it('takes "5 thanks" after the survey as the answer, not as a contact, and thanks the customer once', async () => {
    const from = customer();
    const conversationId = await surveyed(from);
    const answer = { MessageSid: sid('SM'), From: from, To: COMPANY, Body: '5 thanks, quick and kind' };
    const res = await post('/twilio/sms', answer);
    expect(res.status).toBe(200);
    expect(xml.parse(res.body).Response).toEqual({ Message: 'Thank you for your feedback!' });
    const rec = await recorder.waitFor((r) => r.topic === topics.conversationEvents.name && r.headers.ce_id === `survey-${conversationId}`, 20_000);
    expect(rec.headers.ce_type).toBeDefined();
    const [event] = answers(conversationId);
    expect(event).toMatchObject({
      eventId: `survey-${conversationId}`,
      channel: Channel.CHANNEL_SMS,
      reason: { code: 'sms.survey_answered' },
      step: {
        surveyAnswered: {
          question: 'How did we do? Please rate this conversation from 1 (poor) to 5 (excellent).',
          score: 5,
          comment: 'thanks, quick and kind',
          agentId: 'ana',
          queue: 'billing',
        },
      },
    });
    expect(event!.occurredAt).toBeInstanceOf(Date);

    // Twilio's retry of the same SMS: thanked again, the same event id; another score: already rated.
    expect(xml.parse((await post('/twilio/sms', answer)).body).Response).toEqual({ Message: 'Thank you for your feedback!' });
    const second = await post('/twilio/sms', { MessageSid: sid('SM'), From: from, To: COMPANY, Body: '1' });
    expect(xml.parse(second.body).Response).toEqual({ Message: 'Thank you, this conversation was already rated.' });
    await new Promise((r) => setTimeout(r, 1000));
    expect(answers(conversationId).every((e) => e.eventId === `survey-${conversationId}`)).toBe(true);
    expect(answers(conversationId).map((e) => (e.step as { surveyAnswered: { score: number } }).surveyAnswered.score)).not.toContain(1);
    expect(
      contacts()
        .filter((c) => c.conversationId === conversationId)
        .map((c) => c.text),
    ).toEqual(['my bill is wrong']);
  });

  it('keeps a reply that is not a score, and a score with no survey sent, an ordinary message', async () => {
    const from = customer();
    const conversationId = await surveyed(from);
    const question = sid('SM');
    const res = await post('/twilio/sms', { MessageSid: question, From: from, To: COMPANY, Body: 'and my refund?' });
    expect(xml.parse(res.body).Response).toEqual('');
    const contact = await waitFor(() => contacts().find((c) => c.externalId === question), 20_000, 'the message');
    expect(contact.conversationId).toBe(conversationId);

    const fresh = sid('SM');
    await post('/twilio/sms', { MessageSid: fresh, From: customer(), To: COMPANY, Body: '4' });
    expect((await waitFor(() => contacts().find((c) => c.externalId === fresh), 20_000, 'the score with no survey')).text).toBe('4');
  });

  it('still honours HELP and STOP after a survey', async () => {
    const from = customer();
    await surveyed(from);
    const help = await post('/twilio/sms', { MessageSid: sid('SM'), From: from, To: COMPANY, Body: 'HELP' });
    expect(help.body).toContain('Reply STOP to stop messages');
  });
});

describe('voice', () => {
  it('greets and queues a caller, tells position and wait in words, offers a callback, and records the end of the call', async () => {
    const callSid = sid('CA');
    const from = customer();
    const answer = await post('/twilio/voice', { CallSid: callSid, From: from, To: COMPANY, CallStatus: 'ringing' });
    expect(answer.status).toBe(200);
    expect(XMLValidator.validate(answer.body)).toBe(true);
    const twiml = xml.parse(answer.body).Response;
    expect(twiml.Say).toContain('Thank you for calling');
    expect(twiml.Enqueue['#text']).toBe('support');
    expect(twiml.Enqueue['@waitUrl']).toMatch(/\/twilio\/voice\/wait$/);
    const call = await waitFor(() => contacts().find((c) => c.externalId === callSid), 20_000, 'the call contact');
    expect(call).toMatchObject({ channel: Channel.CHANNEL_VOICE, kind: ContactKind.CONTACT_KIND_CALL, sender: { value: from } });

    const short = xml.parse((await post('/twilio/voice/wait', { CallSid: callSid, QueuePosition: '1', QueueTime: '5' })).body).Response;
    expect(short.Say).toBe('You are next in line. The expected wait is less than a minute.');
    expect(short.Gather).toBeUndefined();
    const long = xml.parse((await post('/twilio/voice/wait', { CallSid: callSid, QueuePosition: '6', QueueTime: '40' })).body).Response;
    expect(long.Say).toBe('There are 5 callers ahead of you. The expected wait is about 3 minutes.');
    expect(long.Gather['@numDigits']).toBe('1');
    expect(long.Gather.Say).toContain('press 1');

    const chosen = xml.parse((await post('/twilio/voice/callback', { CallSid: callSid, Digits: '1' })).body).Response;
    expect(chosen).toHaveProperty('Leave');
    const callback = await waitFor(() => contacts().find((c) => c.contactId === `callback-${callSid}`), 20_000, 'the callback request');
    expect(callback).toMatchObject({ kind: ContactKind.CONTACT_KIND_CALLBACK_REQUEST, conversationId: call.conversationId });

    await post('/twilio/voice/queue-result', { CallSid: callSid, QueueResult: 'hangup', QueueTime: '42' });
    await post('/twilio/voice/status', { CallSid: callSid, CallStatus: 'completed', CallDuration: '61' });
    const abandoned = await waitFor(() => events().find((e) => e.eventId === `abandoned-${callSid}`), 20_000, 'the abandonment');
    expect(abandoned.step).toMatchObject({ abandoned: { waitedMs: 42_000 } });
    const ended = await waitFor(() => events().find((e) => e.eventId === `call-ended-${callSid}`), 20_000, 'the end of the call');
    expect(ended.step).toMatchObject({ callEnded: { durationMs: 61_000, status: 'completed' } });
  });

  it("bridges a queued call to an agent through the REST API: the caller in the conversation's conference, the agent dialled in", async () => {
    const callSid = sid('CA');
    await post('/twilio/voice', { CallSid: callSid, From: customer(), To: COMPANY });
    const call = await waitFor(() => contacts().find((c) => c.externalId === callSid), 20_000, 'the call');
    const connect = OutboundMessage.fromPartial({
      messageId: uniqueId('connect'),
      conversationId: call.conversationId,
      channel: Channel.CHANNEL_VOICE,
      kind: OutboundKind.OUTBOUND_KIND_CONNECT_CALL,
      channelMetadata: { 'agent-number': '+14155550199' },
    });
    await kafka.producer.publish(topics.outbound, call.conversationId, connect);
    const update = await waitFor(() => twilioRequests.find((r) => r.path.endsWith(`/Calls/${callSid}.json`)), 20_000, 'the call update');
    expect(xml.parse(update.form.Twiml!).Response.Dial.Conference['#text']).toBe(call.conversationId);
    const participants = () => twilioRequests.filter((r) => r.path.endsWith(`/Conferences/${call.conversationId}/Participants.json`));
    const dialled = await waitFor(() => participants()[0], 20_000, 'the agent dialled in');
    expect(dialled.form).toMatchObject({ To: '+14155550199', From: COMPANY, Label: 'agent' });
    // Delivered again (a consumer that died before committing): the agent is not dialled twice.
    await kafka.producer.publish(topics.outbound, call.conversationId, connect);
    await waitFor(
      () => recorder.records.filter((r) => r.topic === topics.conversationEvents.name && r.headers.ce_id === `sms-out-${connect.messageId}-sent`).length >= 2,
      20_000,
      'the bridge reported twice',
    );
    expect(twilioRequests.filter((r) => r.path.endsWith(`/Calls/${callSid}.json`))).toHaveLength(1);
    expect(participants()).toHaveLength(1);
  });

  const surveyOf = (conversationId: string) =>
    OutboundMessage.fromPartial({
      messageId: uniqueId('survey'),
      conversationId,
      channel: Channel.CHANNEL_VOICE,
      kind: OutboundKind.OUTBOUND_KIND_SURVEY,
      text: 'How did we do? Please rate this conversation from 1 (poor) to 5 (excellent).',
      channelMetadata: { [SURVEY_AGENT]: 'cai', [SURVEY_QUEUE]: 'support' },
    });
  const voiceAnswers = (conversationId: string) => events().filter((e) => e.conversationId === conversationId && e.step?.$case === 'surveyAnswered');

  it('asks a caller still on the line to rate the resolved call on the keypad, and takes the digit once', async () => {
    const callSid = sid('CA');
    await post('/twilio/voice', { CallSid: callSid, From: customer(), To: COMPANY });
    const call = await waitFor(() => contacts().find((c) => c.externalId === callSid), 20_000, 'the call');
    await kafka.producer.publish(topics.outbound, call.conversationId, surveyOf(call.conversationId));
    const update = await waitFor(() => twilioRequests.find((r) => r.path.endsWith(`/Calls/${callSid}.json`)), 20_000, 'the call update');
    expect(XMLValidator.validate(update.form.Twiml!)).toBe(true);
    const { Response } = xml.parse(update.form.Twiml!);
    expect(Response.Gather).toMatchObject({ '@input': 'dtmf', '@numDigits': '1', '@method': 'POST' });
    expect(Response.Gather['@action']).toMatch(/\/twilio\/voice\/survey$/);
    expect(Response.Gather.Say).toContain('press a number from 1');

    // Twilio posts the digit to the action URL, signed like every webhook.
    const action = new URL(Response.Gather['@action']).pathname;
    expect((await post(action, { CallSid: callSid, Digits: '2' }, { token: 'wrong-token-wrong-token' })).status).toBe(403);
    const res = await post(action, { CallSid: callSid, Digits: '2' });
    expect(res.status).toBe(200);
    expect(XMLValidator.validate(res.body)).toBe(true);
    expect(xml.parse(res.body).Response).toMatchObject({ Say: 'Thank you for your feedback. Goodbye.', Hangup: '' });
    const answer = await waitFor(() => voiceAnswers(call.conversationId)[0], 20_000, 'the keypad answer');
    expect(answer).toMatchObject({
      channel: Channel.CHANNEL_VOICE,
      reason: { code: 'voice.survey_answered' },
      step: { surveyAnswered: { score: 2, agentId: 'cai', queue: 'support' } },
    });
    const other = await post(action, { CallSid: sid('CA'), Digits: '5' });
    expect(other.status).toBe(404);
  });

  it('texts the survey to a caller who hung up before the resolution, and the reply answers the call', async () => {
    const from = customer();
    const callSid = sid('CA');
    await post('/twilio/voice', { CallSid: callSid, From: from, To: COMPANY });
    const call = await waitFor(() => contacts().find((c) => c.externalId === callSid), 20_000, 'the call');
    await post('/twilio/voice/status', { CallSid: callSid, CallStatus: 'completed', CallDuration: '75' });
    await waitFor(() => events().find((e) => e.conversationId === call.conversationId && e.step?.$case === 'callEnded'), 20_000, 'the end of the call');
    const survey = surveyOf(call.conversationId);
    await kafka.producer.publish(topics.outbound, call.conversationId, survey);
    await deliveryReportFrom(recorder, ctx, survey.messageId, 'the survey texted');
    expect(twilioRequests.filter((r) => r.form.To === from).map((r) => [r.form.From, r.form.Body])).toEqual([[COMPANY, survey.text]]);

    const res = await post('/twilio/sms', { MessageSid: sid('SM'), From: from, To: COMPANY, Body: '4 helpful' });
    expect(xml.parse(res.body).Response).toEqual({ Message: 'Thank you for your feedback!' });
    const answer = await waitFor(() => voiceAnswers(call.conversationId)[0], 20_000, 'the answer by SMS');
    expect(answer).toMatchObject({ channel: Channel.CHANNEL_VOICE, step: { surveyAnswered: { score: 4, comment: 'helpful', agentId: 'cai' } } });
  });

  it("bridges to the agent's softphone (Twilio Client) when routing names only the agent", async () => {
    const callSid = sid('CA');
    await post('/twilio/voice', { CallSid: callSid, From: customer(), To: COMPANY });
    const call = await waitFor(() => contacts().find((c) => c.externalId === callSid), 20_000, 'the call');
    const connect = OutboundMessage.fromPartial({
      messageId: uniqueId('connect'),
      conversationId: call.conversationId,
      channel: Channel.CHANNEL_VOICE,
      kind: OutboundKind.OUTBOUND_KIND_CONNECT_CALL,
      agentId: 'agent-ana',
    });
    await kafka.producer.publish(topics.outbound, call.conversationId, connect);
    const dialled = await waitFor(
      () => twilioRequests.find((r) => r.path.endsWith(`/Conferences/${call.conversationId}/Participants.json`)),
      20_000,
      'the agent dialled in',
    );
    expect(dialled.form.To).toBe('client:agent-ana');
  });
});

/** A second instance with its own settings; returns a signed POST to it. */
async function startAnother(instanceCtx: ServiceContext, overrides: Record<string, string>) {
  const probe = http.createServer();
  const free = await listen(probe, 0);
  await new Promise((r) => probe.close(r));
  const other = await startSmsVoiceService(instanceCtx, configFor({ HTTP_PORT: String(free), PUBLIC_BASE_URL: `http://127.0.0.1:${free}`, ...overrides }));
  const postHere = (path: string, params: Record<string, string>, sign: { token?: string; forwardedFor?: string } = {}) =>
    post(path, params, { ...sign, url: `http://127.0.0.1:${other.port}${path}` }, () => other.port);
  return Object.assign(postHere, { port: other.port });
}

describe('abuse', () => {
  it('cuts off an address that keeps sending bad signatures for the rest of the minute', async () => {
    const instanceCtx = testContext('sms-voice-test-abuse');
    try {
      const postHere = await startAnother(instanceCtx, { BAD_SIGNATURES_PER_MINUTE: '2' });
      const params = { MessageSid: sid('SM'), From: customer(), To: COMPANY, Body: 'hi' };
      expect((await postHere('/twilio/sms', params, { token: 'f'.repeat(32) })).status).toBe(403);
      expect((await postHere('/twilio/sms', params, { token: 'f'.repeat(32) })).status).toBe(403);
      const cut = await postHere('/twilio/sms', params);
      expect(cut.status).toBe(429);
      expect(cut.body).toMatch(/too many unsigned or badly signed requests/);
    } finally {
      await instanceCtx.stop();
    }
  });

  it('behind a trusted load balancer, cuts off only the client sending bad signatures, not Twilio', async () => {
    const instanceCtx = testContext('sms-voice-test-proxy');
    try {
      const postHere = await startAnother(instanceCtx, { BAD_SIGNATURES_PER_MINUTE: '2', TRUSTED_PROXIES: '127.0.0.1,::1' });
      const params = { MessageSid: sid('SM'), From: customer(), To: COMPANY, Body: 'hi' };
      const attacker = { token: 'f'.repeat(32), forwardedFor: '198.51.100.1' };
      expect((await postHere('/twilio/sms', params, attacker)).status).toBe(403);
      expect((await postHere('/twilio/sms', params, attacker)).status).toBe(403);
      expect((await postHere('/twilio/sms', params, attacker)).status).toBe(429);
      // Another client behind the same balancer has a bucket of its own.
      expect((await postHere('/twilio/sms', params, { token: 'f'.repeat(32), forwardedFor: '198.51.100.2' })).status).toBe(403);
      // Twilio, forwarded from its own address, is still answered.
      expect((await postHere('/twilio/sms', params, { forwardedFor: '203.0.113.50' })).status).toBe(200);
    } finally {
      await instanceCtx.stop();
    }
  });

  it('ignores X-Forwarded-For from a peer that is not a trusted proxy: a forged header stays in its bucket', async () => {
    const instanceCtx = testContext('sms-voice-test-forged');
    try {
      const postHere = await startAnother(instanceCtx, { BAD_SIGNATURES_PER_MINUTE: '2', TRUSTED_PROXIES: '10.0.0.0/8' });
      const params = { MessageSid: sid('SM'), From: customer(), To: COMPANY, Body: 'hi' };
      expect((await postHere('/twilio/sms', params, { token: 'f'.repeat(32), forwardedFor: '198.51.100.1' })).status).toBe(403);
      expect((await postHere('/twilio/sms', params, { token: 'f'.repeat(32), forwardedFor: '198.51.100.2' })).status).toBe(403);
      expect((await postHere('/twilio/sms', params, { token: 'f'.repeat(32), forwardedFor: '198.51.100.3' })).status).toBe(429);
      // And without METRICS_TOKEN, /metrics is not served on the webhook port at all.
      expect((await fetch(`http://127.0.0.1:${postHere.port}/metrics`)).status).toBe(404);
      expect((await fetch(`http://127.0.0.1:${postHere.port}/healthz`)).status).toBe(200);
    } finally {
      await instanceCtx.stop();
    }
  });

  it('serves /metrics on the webhook port only with the bearer token; health stays open for probes', async () => {
    const base = `http://127.0.0.1:${port}`;
    const open = await fetch(`${base}/metrics`);
    expect(open.status).toBe(401);
    expect(open.headers.get('www-authenticate')).toMatch(/^Bearer/);
    expect(await open.text()).not.toContain('cc_twilio_webhooks_total');
    expect((await fetch(`${base}/metrics`, { headers: { authorization: `Bearer ${'x'.repeat(48)}` } })).status).toBe(401);
    const scraped = await fetch(`${base}/metrics`, { headers: { authorization: `Bearer ${METRICS_TOKEN}` } });
    expect(scraped.status).toBe(200);
    expect(await scraped.text()).toContain('cc_twilio_webhooks_total');
    expect((await fetch(`${base}/healthz`)).status).toBe(200);
    expect((await fetch(`${base}/readyz`)).status).toBe(200);
  });
});

describe('voice with routing', () => {
  it("tells a queued caller routing's position and estimated wait, fetched over gRPC", async () => {
    const routingDb = uniqueId('smsvoice_routing').replace(/-/g, '_');
    const routingCtx = testContext('sms-voice-test-routing');
    const voiceCtx = testContext('sms-voice-test-with-routing');
    const routing = await startRouting(
      routingCtx,
      loadConfig(routingConfig, {
        KAFKA_BROKERS: KAFKA_BROKERS.join(','),
        MONGODB_URI,
        MONGODB_DATABASE: routingDb,
        GRPC_PORT: '0',
        HTTP_PORT: '0',
        ...testAuthEnv('routing'),
        ROUTING_CONSUMER_GROUP: uniqueId('routing'),
        ROUTING_TICK_MS: '50',
        LOG_LEVEL: 'silent',
      }),
    );
    const routingClient = new RoutingServiceClient(`127.0.0.1:${routing.grpcPort}`, credentials.createInsecure());
    try {
      const postHere = await startAnother(voiceCtx, {
        ROUTING_GRPC_ADDR: `127.0.0.1:${routing.grpcPort}`,
        ...testAuthEnv('sms-voice'),
        VOICE_SLA_MS: '3600000',
      });
      // No agent is available, so both calls wait in routing's voice queue.
      const calls = [sid('CA'), sid('CA')].map((CallSid) => ({ CallSid, From: customer(), To: COMPANY }));
      for (const call of calls) expect((await postHere('/twilio/voice', call)).status).toBe(200);
      const conversations = await waitFor(
        () => {
          const found = calls.map((call) => contacts().find((c) => c.externalId === call.CallSid)?.conversationId);
          return found.every(Boolean) && (found as string[]);
        },
        20_000,
        'both calls on Kafka',
      );
      const md = await testMetadata({ id: 'test', role: 'ops' }, 'routing');
      const estimateOf = (conversationId: string) =>
        new Promise<GetWaitEstimateResponse | false>((resolve) => routingClient.getWaitEstimate({ conversationId }, md, (err, res) => resolve(!err && res)));
      // A new routing group may start reading just after the calls were written; Twilio calls the
      // voice URL again in such cases, and the contact ids stay the same, so routing takes each once.
      // Other tests' calls on the shared broker may queue here too: what matters is that the
      // caller hears exactly what routing says, whatever it says.
      const behind = await waitFor(
        async () => {
          const estimates = await Promise.all(conversations.map(estimateOf));
          const queued = estimates.findIndex((e) => e && e.position >= 2);
          if (estimates.every(Boolean) && queued >= 0) return { callSid: calls[queued]!.CallSid, conversationId: conversations[queued]! };
          for (const call of calls) await postHere('/twilio/voice', call);
          await new Promise((r) => setTimeout(r, 1000));
          return false;
        },
        30_000,
        'routing to queue one call behind the other',
      );
      const { said, estimate } = await waitFor(
        async () => {
          const before = await estimateOf(behind.conversationId);
          // Twilio's own queue says 7th and the SLA target would say an hour.
          const twiml = xml.parse((await postHere('/twilio/voice/wait', { CallSid: behind.callSid, QueuePosition: '7', QueueTime: '3' })).body).Response;
          const after = await estimateOf(behind.conversationId);
          const stable = before && after && before.position === after.position && before.estimatedWaitMs === after.estimatedWaitMs;
          return stable && { said: twiml.Say as string, estimate: after };
        },
        20_000,
        'a steady estimate',
      );
      expect(said).toBe(`${positionInWords(estimate.position)} The expected wait is ${waitInWords(estimate.estimatedWaitMs)}.`);
      expect(estimate.position).not.toBe(7);
      expect(estimate.estimatedWaitMs).toBeLessThan(3_600_000);
    } finally {
      routingClient.close();
      await voiceCtx.stop();
      await routingCtx.stop();
      await dropDatabase(routingDb);
    }
  });
});

describe('Kafka unreachable', () => {
  // With the spool turned off; spool.integration.test.ts covers the spool.
  it('answers 503 while Kafka is unreachable, then accepts the retry once', async () => {
    const network = cuttableSocketFactory();
    const outage = testContext('sms-outage');
    const probe = http.createServer();
    const free = await listen(probe, 0);
    await new Promise((r) => probe.close(r));
    const { port: outagePort } = await startSmsVoiceService(
      outage,
      configFor({ HTTP_PORT: String(free), PUBLIC_BASE_URL: `http://127.0.0.1:${free}`, PUBLISH_TIMEOUT_MS: '1500', SMS_VOICE_SPOOL_MAX_RECORDS: '0' }),
      { socketFactory: network.socketFactory },
    );
    try {
      const params = { MessageSid: sid('SM'), From: customer(), To: COMPANY, Body: 'during the outage' };
      const signed = (p: Record<string, string>) => post('/twilio/sms', p, { url: `http://127.0.0.1:${outagePort}/twilio/sms` }, () => outagePort);
      network.cut();
      expect((await signed(params)).status).toBe(503);
      network.restore();
      await waitFor(async () => (await signed(params)).status === 200, 30_000, 'acceptance after the outage');
      await waitFor(() => contacts().find((c) => c.externalId === params.MessageSid), 20_000, 'the contact');
      await new Promise((r) => setTimeout(r, 1000));
      expect(
        new Set(
          contacts()
            .filter((c) => c.externalId === params.MessageSid)
            .map((c) => c.contactId),
        ).size,
      ).toBe(1);
    } finally {
      network.restore();
      await outage.stop();
    }
  });
});
