// A call run as a conference, end to end through the real twilio client against the Twilio
// stand-in: the agent dialled into the caller's conference on their own phone or softphone, then
// the agent's call controls (hold with music, mute, keypad tones, hang up, wrap-up), each an
// event on the conversation.
import http, { request } from 'node:http';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { XMLParser } from 'fast-xml-parser';
import { MongoClient } from 'mongodb';
import twilio from 'twilio';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '#libs/config';
import { topics } from '#libs/kafka';
import { listen } from '#libs/observability';
import { Channel, OutboundKind, OutboundMessage } from '#libs/proto';
import { connectKafka, type ServiceContext, type ServiceKafka } from '#libs/service';
import { StaffRoster } from '#libs/staff';
import {
  dropDatabase,
  KAFKA_BROKERS,
  MONGODB_URI,
  recordTopics,
  testAuthEnv,
  testContext,
  testToken,
  uniqueId,
  waitFor,
  TEST_COMPANY_NUMBER,
} from '#libs/testing';
import { listenOnLoopback, outboxServer } from '../../../scripts/outbox/server';
import { TwilioStandIn } from '../../../scripts/outbox/twilio-api';
import { callConversationId } from '../src/calls';
import { CALL_CONTROL_PATH, LIVE_CALLS_PATH } from '../src/control-edge';
import { smsVoiceConfig } from '../src/config';
import { startSmsVoiceService } from '../src/service';

const AUTH_TOKEN = randomBytes(16).toString('hex');
const ACCOUNT_SID = `AC${randomBytes(16).toString('hex')}`;
const COMPANY = TEST_COMPANY_NUMBER;
const MUSIC = 'https://music.example/hold.mp3';
const CONSENT = 'This call is recorded for quality and training.';
const database = uniqueId('voicedesk_test').replace(/-/g, '_');
const staffDb = uniqueId('voicedesk_staff').replace(/-/g, '_');
const xml = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '@', parseTagValue: false });

const standIn = new TwilioStandIn({ conversationOfCall: callConversationId, maxItems: Infinity });
let outbox: http.Server;
let ctx: ServiceContext;
let port: number;
let kafka: ServiceKafka;
let mongo: MongoClient;
let roster: StaffRoster;
let recorder: Awaited<ReturnType<typeof recordTopics>>;
let spoolDir: string;

const sid = () => `CA${randomBytes(16).toString('hex')}`;
const events = () => recorder.values(topics.conversationEvents);

async function webhook(pathName: string, params: Record<string, string>, expected = 200, token = AUTH_TOKEN) {
  const url = pathName.startsWith('http') ? pathName : `http://127.0.0.1:${port}${pathName}`;
  const headers = { 'content-type': 'application/x-www-form-urlencoded', 'x-twilio-signature': twilio.getExpectedTwilioSignature(token, url, params) };
  const res = await fetch(url, { method: 'POST', headers, body: new URLSearchParams(params) });
  expect(res.status).toBe(expected);
}

async function control(agentId: string, body: Record<string, string>, role: 'agent' | 'supervisor' = 'agent') {
  const token = await testToken({ id: agentId, role }, 'sms-voice');
  const res = await fetch(`http://127.0.0.1:${port}${CALL_CONTROL_PATH}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

/** Routing's instruction to connect the call to `agentId` (its first assignment, or a transfer). */
async function connect(conversationId: string, agentId: string, queue = 'support') {
  const message = OutboundMessage.fromPartial({
    messageId: uniqueId('connect'),
    conversationId,
    channel: Channel.CHANNEL_VOICE,
    kind: OutboundKind.OUTBOUND_KIND_CONNECT_CALL,
    agentId,
    queue,
  });
  await kafka.producer.publish(topics.outbound, conversationId, message);
}

/** A caller queued and routed to `agentId`: the conversation, once the agent's leg is in the conference. */
async function bridgedCall(agentId: string, queue?: string) {
  const callSid = sid();
  const conversationId = callConversationId(callSid);
  await webhook('/twilio/voice', { CallSid: callSid, From: `+1415555${1000 + Math.floor(Math.random() * 8999)}`, To: COMPANY });
  await connect(conversationId, agentId, queue);
  const agentLeg = await waitFor(() => standIn.participantsOf(conversationId).find((p) => p.label === 'agent'), 20_000, 'the agent dialled in');
  return { callSid, conversationId, agentLeg };
}

beforeAll(async () => {
  outbox = outboxServer(standIn, { consoleUrl: 'http://127.0.0.1:8090' });
  const twilioPort = await listenOnLoopback(outbox, 0);
  recorder = await recordTopics([topics.conversationEvents.name]);
  mongo = new MongoClient(MONGODB_URI);
  roster = new StaffRoster(mongo.db(staffDb));
  const probe = http.createServer();
  const free = await listen(probe, 0);
  await new Promise((r) => probe.close(r));
  spoolDir = mkdtempSync(path.join(tmpdir(), 'voice-desk-spool-'));
  ctx = testContext('voice-desk-test');
  const config = loadConfig(smsVoiceConfig, {
    ...testAuthEnv('sms-voice'),
    SMS_VOICE_SPOOL_DIR: spoolDir,
    KAFKA_BROKERS: KAFKA_BROKERS.join(','),
    MONGODB_URI,
    MONGODB_DATABASE: database,
    STAFF_DB: staffDb,
    HTTP_PORT: String(free),
    PUBLIC_BASE_URL: `http://127.0.0.1:${free}`,
    TWILIO_AUTH_TOKEN: AUTH_TOKEN,
    TWILIO_ACCOUNT_SID: ACCOUNT_SID,
    TWILIO_API_BASE_URL: `http://127.0.0.1:${twilioPort}`,
    VOICE_HOLD_MUSIC_URL: MUSIC,
    VOICE_RECORDED_QUEUES: 'recorded-*',
    VOICE_RECORDING_CONSENT: CONSENT,
    // Recordings are due for deletion at once, so the sweep's deletion can be seen here.
    VOICE_RECORDING_RETENTION_MS: '1',
    VOICE_RECORDING_SWEEP_MS: '200',
    SMS_OUTBOUND_GROUP: uniqueId('voice-desk-outbound'),
    SMS_COMPANY_NUMBER: COMPANY,
  });
  ({ port } = await startSmsVoiceService(ctx, config));
  kafka = await connectKafka(testContext('voice-desk-test-kafka'), { KAFKA_BROKERS, KAFKA_TOPIC_PARTITIONS: 3, KAFKA_REPLICATION_FACTOR: 1 });
}, 60_000);

afterAll(async () => {
  await ctx.stop();
  await recorder.close();
  await new Promise((r) => outbox.close(r));
  await dropDatabase(database);
  await dropDatabase(staffDb);
  await mongo.close();
  rmSync(spoolDir, { recursive: true, force: true });
});

describe('taking the call', () => {
  it('puts the caller in a conference and dials the agent in on their own phone when the roster says so', async () => {
    const agentId = uniqueId('ana').toLowerCase();
    await roster.upsert({ id: agentId, name: 'Ana', role: 'agent', phone: '+14155550199', answerCallsOn: 'phone' }, 'a-long-password-1');
    const { callSid, conversationId, agentLeg } = await bridgedCall(agentId);
    expect(agentLeg).toMatchObject({ to: '+14155550199', startConferenceOnEnter: true, endConferenceOnExit: false });
    const caller = standIn.participantsOf(conversationId).find((p) => p.callSid === callSid);
    expect(caller).toMatchObject({ startConferenceOnEnter: false, endConferenceOnExit: true });
    const joined = standIn.items.find((i) => i.sid === callSid && i.body.includes('<Conference'))!;
    expect(xml.parse(joined.body).Response.Dial.Conference).toMatchObject({ '#text': conversationId, '@waitUrl': MUSIC });
  });

  it("dials the agent's softphone (Twilio Client under their staff id) by default", async () => {
    const agentId = uniqueId('max').toLowerCase();
    await roster.upsert({ id: agentId, name: 'Max', role: 'agent' }, 'a-long-password-2');
    const { agentLeg } = await bridgedCall(agentId);
    expect(agentLeg.to).toBe(`client:${agentId}`);
  });
});

describe('call controls', () => {
  it('holds the caller with music, resumes, mutes the agent, plays keypad tones, hangs up and wraps up, each an event', async () => {
    const agentId = uniqueId('cai').toLowerCase();
    const { callSid, conversationId, agentLeg } = await bridgedCall(agentId);
    const caller = () => standIn.participantsOf(conversationId).find((p) => p.callSid === callSid);

    expect(await control(agentId, { conversationId, action: 'hold' })).toEqual({ status: 200, body: { action: 'hold', held: true, agentMuted: false } });
    expect(caller()).toMatchObject({ hold: true, holdUrl: MUSIC });
    expect((await control(agentId, { conversationId, action: 'hold' })).status).toBe(409);
    await control(agentId, { conversationId, action: 'resume' });
    expect(caller()?.hold).toBe(false);
    await control(agentId, { conversationId, action: 'mute' });
    expect(standIn.participantsOf(conversationId).find((p) => p.callSid === agentLeg.callSid)?.muted).toBe(true);

    expect((await control(agentId, { conversationId, action: 'keypad', digits: '12#' })).status).toBe(200);
    const tones = standIn.items.filter((i) => i.sid === callSid && i.body.includes('<Play')).at(-1)!;
    const { Response } = xml.parse(tones.body);
    expect(Response.Play['@digits']).toBe('12#');
    expect(Response.Dial.Conference['#text']).toBe(conversationId);
    expect(caller()).toBeDefined();

    expect((await control(agentId, { conversationId, action: 'wrap-up' })).status).toBe(409);
    expect((await control(agentId, { conversationId, action: 'hang-up' })).status).toBe(200);
    expect(caller()).toBeUndefined();
    // Twilio's status callback ends the call; then the agent wraps up.
    await webhook('/twilio/voice/status', { CallSid: callSid, CallStatus: 'completed', CallDuration: '95' });
    expect(await control(agentId, { conversationId, action: 'wrap-up', note: 'refund promised' })).toMatchObject({ status: 200 });

    const actions = await waitFor(
      () => {
        const done = events()
          .filter((e) => e.conversationId === conversationId && e.step?.$case === 'callControlled')
          .map((e) => (e.step?.$case === 'callControlled' ? e.step.callControlled : undefined)!);
        return done.length >= 6 ? done : undefined;
      },
      20_000,
      'the control events',
    );
    expect(actions.map((a) => a.action)).toEqual(['hold', 'resume', 'mute', 'keypad', 'hang-up', 'wrap-up']);
    expect(actions.find((a) => a.action === 'mute')).toMatchObject({ by: agentId, callSid: agentLeg.callSid });
    expect(actions.find((a) => a.action === 'keypad')).toMatchObject({ toneCount: 3, callSid });
    expect(actions.at(-1)).toMatchObject({ note: 'refund promised' });
  });

  it('refuses another agent, a supervisor, a missing token and a bad field, and leaves the call as it was', async () => {
    const agentId = uniqueId('dee').toLowerCase();
    const { callSid, conversationId } = await bridgedCall(agentId);
    expect(await control('someone-else', { conversationId, action: 'hold' })).toEqual({
      status: 403,
      body: { error: 'this call is bridged to another agent' },
    });
    expect((await control(agentId, { conversationId, action: 'hold' }, 'supervisor')).status).toBe(403);
    expect((await control(agentId, { conversationId, action: 'keypad', digits: 'abc' })).body.error).toMatch(/^digits:/);
    const unsigned = await fetch(`http://127.0.0.1:${port}${CALL_CONTROL_PATH}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{}',
    });
    expect(unsigned.status).toBe(401);
    expect(standIn.participantsOf(conversationId).find((p) => p.callSid === callSid)?.hold).toBe(false);
  });

  it('refuses an address that keeps sending bad tokens with 429 until the minute ends', async () => {
    // From an address of its own on loopback, so that the other tests' requests are not the ones refused.
    const bad = (localAddress = '127.0.0.2') =>
      new Promise<{ status: number }>((resolve, reject) => {
        const headers = { 'content-type': 'application/json', authorization: 'Bearer not-a-token' };
        const req = request({ host: '127.0.0.1', port, path: CALL_CONTROL_PATH, method: 'POST', localAddress, headers }, (res) => {
          res.resume();
          resolve({ status: res.statusCode ?? 0 });
        });
        req.on('error', reject);
        req.end('{}');
      });
    const statuses: number[] = [];
    for (let i = 0; i < 20; i++) statuses.push((await bad()).status);
    expect(new Set(statuses)).toEqual(new Set([401]));
    expect((await bad()).status).toBe(429);
    expect((await bad('127.0.0.3')).status).toBe(401);
  });
});

describe('transfers', () => {
  it('warm: the agent holds the caller, consults an expert, brings the caller back and leaves; the expert has the call', async () => {
    const agentId = uniqueId('eve').toLowerCase();
    const expertId = uniqueId('fay').toLowerCase();
    const { callSid, conversationId, agentLeg } = await bridgedCall(agentId);
    const legs = () => standIn.participantsOf(conversationId);
    await control(agentId, { conversationId, action: 'hold' });
    const consult = await control(agentId, { conversationId, action: 'consult', toAgentId: expertId });
    expect(consult).toMatchObject({ status: 200, body: { action: 'consult' } });
    const expertLeg = legs().find((p) => p.to === `client:${expertId}`)!;
    expect(expertLeg).toMatchObject({ label: 'consult', muted: false });
    expect(legs().find((p) => p.callSid === callSid)?.hold).toBe(true);
    await control(agentId, { conversationId, action: 'resume' });
    // Routing's transfer to the expert: the expert's leg takes the call over, nobody is dialled again, the agent's leg is hung up.
    await connect(conversationId, expertId);
    await waitFor(() => !legs().some((p) => p.callSid === agentLeg.callSid), 20_000, "the agent's leg hung up");
    expect(legs().filter((p) => p.to === `client:${expertId}`)).toHaveLength(1);
    expect(standIn.items.some((i) => i.sid === agentLeg.callSid && i.body === 'status: completed')).toBe(true);
    expect((await control(agentId, { conversationId, action: 'hold' })).status).toBe(403);
    expect(await control(expertId, { conversationId, action: 'hold' }, 'agent')).toMatchObject({ status: 200 });
    expect(legs().find((p) => p.callSid === callSid)?.hold).toBe(true);
  });

  it("cold: routing's transfer to another agent dials them in and hangs up the first agent's leg", async () => {
    const agentId = uniqueId('gus').toLowerCase();
    const otherId = uniqueId('hal').toLowerCase();
    const { conversationId, agentLeg } = await bridgedCall(agentId);
    await connect(conversationId, otherId);
    const otherLeg = await waitFor(
      () => standIn.participantsOf(conversationId).find((p) => p.to === `client:${otherId}`),
      20_000,
      'the other agent dialled in',
    );
    expect(otherLeg.label).toBe('agent');
    await waitFor(() => !standIn.participantsOf(conversationId).some((p) => p.callSid === agentLeg.callSid), 20_000, "the first agent's leg hung up");
  });
});

describe('supervisor monitoring', () => {
  it('listens muted, whispers to the agent alone, barges in; only a supervisor, each an event naming them', async () => {
    const agentId = uniqueId('ivy').toLowerCase();
    const supervisor = uniqueId('sue').toLowerCase();
    const { conversationId, agentLeg } = await bridgedCall(agentId);
    const leg = async (action: string) => {
      const res = await control(supervisor, { conversationId, action }, 'supervisor');
      expect(res.status).toBe(200);
      return standIn.participantsOf(conversationId).find((p) => p.callSid === res.body.callSid)!;
    };
    expect(await leg('listen')).toMatchObject({ to: `client:${supervisor}`, label: 'monitor', muted: true, coaching: false });
    expect(await leg('whisper')).toMatchObject({ muted: false, coaching: true, callSidToCoach: agentLeg.callSid });
    expect(await leg('barge')).toMatchObject({ muted: false, coaching: false });
    expect(await control(agentId, { conversationId, action: 'listen' })).toEqual({
      status: 403,
      body: { error: 'listening, whispering and barging in are for supervisors' },
    });
    expect((await control(supervisor, { conversationId, action: 'hold' }, 'supervisor')).status).toBe(403);
    const monitored = await waitFor(
      () => {
        const done = events().filter((e) => e.conversationId === conversationId && e.step?.$case === 'callControlled');
        return done.length >= 3 ? done : undefined;
      },
      20_000,
      'the monitoring events',
    );
    expect(monitored.map((e) => [e.reason?.code, e.step?.$case === 'callControlled' && e.step.callControlled.by])).toEqual([
      ['call.listen', supervisor],
      ['call.whisper', supervisor],
      ['call.barge', supervisor],
    ]);
  });
});

describe('the live calls a supervisor monitors', () => {
  async function liveCalls(conversationIds: unknown, role: 'agent' | 'supervisor' = 'supervisor') {
    const token = await testToken({ id: 'sue-live', role }, 'sms-voice');
    const res = await fetch(`http://127.0.0.1:${port}${LIVE_CALLS_PATH}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: JSON.stringify({ conversationIds }),
    });
    return { status: res.status, body: (await res.json()) as { calls?: { conversationId: string; state: string; agentId: string }[]; error?: string } };
  }

  it('says of each call whether it rings, is bridged, on hold, consulting or ended; to supervisors only', async () => {
    const agentId = uniqueId('liv').toLowerCase();
    const ringing = callConversationId(sid());
    await webhook('/twilio/voice', { CallSid: ringing.replace(/^conv-/, ''), From: `+1415555${1000 + Math.floor(Math.random() * 8999)}`, To: COMPANY });
    const { callSid, conversationId } = await bridgedCall(agentId);
    const unknown = callConversationId(sid());
    const states = async () => {
      const { status, body } = await liveCalls([ringing, conversationId, unknown]);
      expect(status).toBe(200);
      return Object.fromEntries(body.calls!.map((c) => [c.conversationId, `${c.state}:${c.agentId}`]));
    };
    expect(await states()).toEqual({ [ringing]: 'ringing:', [conversationId]: `bridged:${agentId}` });
    await control(agentId, { conversationId, action: 'hold' });
    expect((await states())[conversationId]).toBe(`on hold:${agentId}`);
    await control(agentId, { conversationId, action: 'consult', toAgentId: uniqueId('exp').toLowerCase() });
    expect((await states())[conversationId]).toBe(`consulting:${agentId}`);
    await webhook('/twilio/voice/status', { CallSid: callSid, CallStatus: 'completed', CallDuration: '30' });
    expect((await states())[conversationId]).toBe(`ended:${agentId}`);

    expect(await liveCalls([conversationId], 'agent')).toEqual({ status: 403, body: { error: 'the live calls are for supervisors' } });
    expect((await liveCalls('conv-x')).status).toBe(400);
    expect((await liveCalls(['conv-chat-1'])).body.error).toMatch(/each must be the conversation of a call/);
    expect((await liveCalls(Array.from({ length: 201 }, () => conversationId))).body.error).toMatch(/at most 200/);
  });
});

describe('recording', () => {
  const recordingOf = (conversationId: string) => events().find((e) => e.conversationId === conversationId && e.step?.$case === 'callRecorded');

  it("in a queue that records: consent first, the conference recorded, and Twilio's report an event on the conversation", async () => {
    const agentId = uniqueId('rita').toLowerCase();
    const { callSid, conversationId } = await bridgedCall(agentId, 'recorded-billing');
    const joined = standIn.items.find((i) => i.sid === callSid && i.body.includes('<Conference'))!;
    const response = xml.parse(joined.body).Response;
    expect(Object.keys(response)).toEqual(['Say', 'Dial']);
    expect(response.Say).toBe(CONSENT);
    const conference = response.Dial.Conference;
    expect(conference).toMatchObject({ '#text': conversationId, '@record': 'record-from-start', '@recordingStatusCallbackMethod': 'POST' });
    const callback = conference['@recordingStatusCallback'] as string;
    expect(new URL(callback).searchParams.get('CallSid')).toBe(callSid);

    const recordingSid = `RE${randomBytes(16).toString('hex')}`;
    const report = {
      AccountSid: ACCOUNT_SID,
      ConferenceSid: `CF${randomBytes(16).toString('hex')}`,
      RecordingSid: recordingSid,
      RecordingUrl: `https://api.twilio.com/2010-04-01/Accounts/${ACCOUNT_SID}/Recordings/${recordingSid}`,
      RecordingDuration: '37',
      RecordingChannels: '1',
      RecordingSource: 'DialVerb',
    };
    // Not yet completed, or badly signed: nothing on the conversation.
    await webhook(callback, { ...report, RecordingStatus: 'in-progress' });
    await webhook(callback, { ...report, RecordingStatus: 'completed' }, 403, 'not-the-auth-token-of-this-account');
    await webhook(callback.replace(callSid, sid()), { ...report, RecordingStatus: 'completed' }, 404);
    await webhook(callback, { ...report, RecordingStatus: 'completed', RecordingUrl: 'javascript:alert(1)' }, 400);
    await webhook(callback, { ...report, RecordingStatus: 'completed' });
    const event = await waitFor(() => recordingOf(conversationId), 30_000, 'the recording event');
    expect(event.step).toEqual({
      $case: 'callRecorded',
      callRecorded: { recordingSid, url: report.RecordingUrl, durationMs: 37_000, callSid },
    });
    expect(events().filter((e) => e.conversationId === conversationId && e.step?.$case === 'callRecorded')).toHaveLength(1);

    // Past its retention, Twilio is asked to delete it, once; the store remembers the deletion.
    const kept = mongo.db(database).collection<{ _id: string; deletedAt?: Date; conversationId: string }>('voice_recordings');
    await waitFor(async () => (await kept.findOne({ _id: recordingSid }))?.deletedAt, 20_000, 'the recording deleted');
    expect(await kept.findOne({ _id: recordingSid })).toMatchObject({ conversationId, callSid });
    await new Promise((r) => setTimeout(r, 600));
    expect(standIn.deletedRecordings.filter((s) => s === recordingSid)).toHaveLength(1);

    // A recording Twilio no longer has (deleted in its console) counts as deleted.
    const goneSid = `RE${randomBytes(16).toString('hex')}`;
    standIn.deletedRecordings.push(goneSid);
    await webhook(callback, { ...report, RecordingSid: goneSid, RecordingUrl: `${report.RecordingUrl}x`, RecordingStatus: 'completed' });
    await waitFor(async () => (await kept.findOne({ _id: goneSid }))?.deletedAt, 20_000, 'the recording Twilio no longer had marked deleted');
  });

  it('in a queue that does not record: no announcement, no recording', async () => {
    const { callSid } = await bridgedCall(uniqueId('rob').toLowerCase(), 'support');
    const joined = standIn.items.find((i) => i.sid === callSid && i.body.includes('<Conference'))!;
    const response = xml.parse(joined.body).Response;
    expect(response.Say).toBeUndefined();
    expect(response.Dial.Conference['@record']).toBeUndefined();
  });
});
