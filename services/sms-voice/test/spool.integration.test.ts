// Store-and-forward over a real broker, store and disk: with the service's producer network cut
// for real, signed webhooks are answered from the local spool, and the spooled contacts reach
// Kafka once, by ce_id, when the network is back, also from a restarted instance.
import http from 'node:http';
import { randomBytes } from 'node:crypto';
import { appendFileSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { XMLParser } from 'fast-xml-parser';
import { pino } from 'pino';
import twilio from 'twilio';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '#libs/config';
import { topics } from '#libs/kafka';
import { listen } from '#libs/observability';
import { Channel, ContactKind, ContactReceived, ConversationEvent } from '#libs/proto';
import {
  cuttableSocketFactory,
  dropDatabase,
  KAFKA_BROKERS,
  MONGODB_URI,
  recordTopics,
  type RecordedMessage,
  testContext,
  uniqueId,
  waitFor,
  TEST_COMPANY_NUMBER,
} from '#libs/testing';
import { outboxServer } from '../../../scripts/outbox/server';
import { TwilioStandIn } from '../../../scripts/outbox/twilio-api';
import { LINES_BUSY } from '../src/calls';
import { smsVoiceConfig } from '../src/config';
import { startSmsVoiceService } from '../src/service';
import { encodeSpoolLine, spoolRecordOf } from '../src/spool-records';

const AUTH_TOKEN = randomBytes(16).toString('hex');
const METRICS_TOKEN = randomBytes(24).toString('hex');
const ACCOUNT_SID = `AC${randomBytes(16).toString('hex')}`;
const COMPANY = TEST_COMPANY_NUMBER;
const TWILIO_TIMEOUT_MS = 15_000;
const database = uniqueId('smsvoice_spool').replace(/-/g, '_');
const xml = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '@', parseTagValue: false });
const dirs: string[] = [];
let twilioApi: http.Server;
let recorder: Awaited<ReturnType<typeof recordTopics>>;

const sid = (prefix: 'SM' | 'CA') => `${prefix}${randomBytes(16).toString('hex')}`;
const customer = () => `+1415555${String(Math.floor(Math.random() * 9000) + 1000)}`;
const spoolDir = () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'sms-voice-spool-'));
  dirs.push(dir);
  return dir;
};
const segments = (dir: string) => readdirSync(dir).filter((n) => n.startsWith('segment-'));

/** The contact records on Kafka with this ce_id, in the order they were read. */
const onKafka = (ceId: string) => recorder.records.filter((r) => r.topic === topics.contactInbound.name && r.headers.ce_id === ceId);
const decoded = (ceId: string) => onKafka(ceId).map((r) => ContactReceived.decode(r.message.value!));

interface Instance {
  post(path: string, params: Record<string, string>): Promise<{ status: number; body: string; ms: number; retryAfter: string | null }>;
  get(path: string): Promise<{ status: number; body: string }>;
  metric(name: string): Promise<number>;
  store: Awaited<ReturnType<typeof startSmsVoiceService>>['store'];
  stop(): Promise<void>;
}

async function startInstance(
  overrides: Record<string, string>,
  options: { dir?: string; network?: ReturnType<typeof cuttableSocketFactory>; logLines?: string[] } = {},
): Promise<Instance> {
  // The public URL is signed over, so the port is chosen before start.
  const probe = http.createServer();
  const port = await listen(probe, 0);
  await new Promise((r) => probe.close(r));
  const ctx = testContext('sms-voice-spool');
  if (options.logLines) ctx.logger = pino({ level: 'info' }, { write: (line: string) => options.logLines!.push(line) });
  const config = loadConfig(smsVoiceConfig, {
    KAFKA_BROKERS: KAFKA_BROKERS.join(','),
    MONGODB_URI,
    MONGODB_DATABASE: database,
    HTTP_PORT: String(port),
    PUBLIC_BASE_URL: `http://127.0.0.1:${port}`,
    TWILIO_AUTH_TOKEN: AUTH_TOKEN,
    TWILIO_ACCOUNT_SID: ACCOUNT_SID,
    TWILIO_API_BASE_URL: `http://127.0.0.1:${(twilioApi.address() as { port: number }).port}`,
    SMS_OUTBOUND_GROUP: uniqueId('sms-spool-outbound'),
    SMS_COMPANY_NUMBER: COMPANY,
    SMS_VOICE_SPOOL_DIR: options.dir ?? spoolDir(),
    METRICS_TOKEN,
    ...overrides,
  });
  const started = await startSmsVoiceService(ctx, config, { socketFactory: options.network?.socketFactory }).catch(async (err: unknown) => {
    await ctx.stop(); // what had started before the failure
    throw err;
  });
  const base = `http://127.0.0.1:${started.port}`;
  return {
    store: started.store,
    async post(route, params) {
      const signature = twilio.getExpectedTwilioSignature(AUTH_TOKEN, `${base}${route}`, params);
      const began = Date.now();
      const res = await fetch(`${base}${route}`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-twilio-signature': signature },
        body: new URLSearchParams(params),
      });
      return { status: res.status, body: await res.text(), ms: Date.now() - began, retryAfter: res.headers.get('retry-after') };
    },
    async get(route) {
      const res = await fetch(`${base}${route}`);
      return { status: res.status, body: await res.text() };
    },
    async metric(name) {
      const text = await (await fetch(`${base}/metrics`, { headers: { authorization: `Bearer ${METRICS_TOKEN}` } })).text();
      return text
        .split('\n')
        .filter((l) => l.startsWith(name))
        .reduce((sum, l) => sum + Number(l.split(' ').at(-1)), 0);
    },
    stop: () => ctx.stop(),
  };
}

const sms = (from = customer(), body = 'my router blinks red') => ({ MessageSid: sid('SM'), AccountSid: ACCOUNT_SID, From: from, To: COMPANY, Body: body });

beforeAll(async () => {
  // No test here sends; other tests' messages on the shared outbound topic are taken as Twilio would.
  twilioApi = outboxServer(new TwilioStandIn({ maxItems: 1_000 }), { consoleUrl: 'http://127.0.0.1:8090' });
  await listen(twilioApi, 0);
  recorder = await recordTopics([topics.contactInbound.name, topics.conversationEvents.name]);
});

afterAll(async () => {
  await recorder.close();
  await new Promise((r) => twilioApi.close(r));
  await dropDatabase(database);
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

describe('store-and-forward while Kafka is unreachable', () => {
  it("answers signed SMS within Twilio's 15 s through an outage longer than that, and forwards every one once by ce_id", async () => {
    const network = cuttableSocketFactory();
    const service = await startInstance({}, { network }); // the default 5 s publish timeout
    try {
      const regular = customer();
      network.cut();
      const cutAt = Date.now();
      const first = [sms(), sms(), sms()];
      const thread = [sms(regular, 'first of two'), sms(regular, 'second of two')];
      const answers = await Promise.all([
        ...first.map((p) => service.post('/twilio/sms', p)),
        (async () => [await service.post('/twilio/sms', thread[0]!), await service.post('/twilio/sms', thread[1]!)])(),
      ]);
      const retry = await service.post('/twilio/sms', first[0]!); // Twilio retrying the same MessageSid
      await new Promise((r) => setTimeout(r, Math.max(0, cutAt + 8_000 - Date.now())));
      const later = [sms(), sms()];
      const laterAnswers = await Promise.all(later.map((p) => service.post('/twilio/sms', p)));
      expect(await service.metric('cc_sms_voice_spool_depth')).toBe(7);
      const ready = await service.get('/readyz');
      expect(ready.status).toBe(503);
      expect(JSON.parse(ready.body).checks.kafka).toBe(false);
      const forLoadBalancer = await service.get('/readyz/webhooks');
      expect(forLoadBalancer.status).toBe(200);
      expect(JSON.parse(forLoadBalancer.body)).toMatchObject({ ready: true, checks: { kafka: false, spool: true, mongodb: true } });
      // Past Twilio's timeout, the outage goes on.
      await new Promise((r) => setTimeout(r, Math.max(0, cutAt + TWILIO_TIMEOUT_MS + 1_000 - Date.now())));
      const last = sms();
      const lastAnswer = await service.post('/twilio/sms', last);
      expect(Date.now() - cutAt).toBeGreaterThan(TWILIO_TIMEOUT_MS);

      const all = [...answers.flat(), retry, ...laterAnswers, lastAnswer];
      for (const answer of all) {
        expect(answer.status).toBe(200);
        expect(answer.ms).toBeLessThan(TWILIO_TIMEOUT_MS);
        expect(xml.parse(answer.body)).toHaveProperty('Response');
      }
      // Once the broker is known to be down, contacts are spooled without waiting for a publish
      // timeout first (which alone takes 5 s).
      for (const answer of [...laterAnswers, lastAnswer]) expect(answer.ms).toBeLessThan(4_900);
      expect(onKafka(`sms-${last.MessageSid}`)).toEqual([]);

      network.restore();
      const sent = [...first, ...thread, ...later, last];
      await waitFor(() => sent.every((p) => onKafka(`sms-${p.MessageSid}`).length > 0), 60_000, 'every spooled SMS on Kafka');
      await waitFor(async () => (await service.metric('cc_sms_voice_spool_depth')) === 0, 20_000, 'an empty spool');
      await new Promise((r) => setTimeout(r, 1_000)); // anything doubled would have arrived
      for (const p of sent) {
        const copies = decoded(`sms-${p.MessageSid}`);
        expect(new Set(copies.map((c) => c.contactId))).toEqual(new Set([`sms-${p.MessageSid}`]));
        expect(new Set(copies.map((c) => JSON.stringify(ContactReceived.toJSON(c)))).size).toBe(1);
        expect(copies[0]).toMatchObject({ channel: Channel.CHANNEL_SMS, externalId: p.MessageSid, text: p.Body, sender: { value: p.From } });
      }
      // One conversation, in the order the customer wrote.
      const [one, two] = thread.map((p) => onKafka(`sms-${p.MessageSid}`)[0]!) as [RecordedMessage, RecordedMessage];
      expect(one.partition).toBe(two.partition);
      expect(BigInt(one.message.offset)).toBeLessThan(BigInt(two.message.offset));
      expect(await service.metric('cc_sms_voice_spool_forwarded_total')).toBeGreaterThanOrEqual(8);
      await waitFor(async () => (await service.get('/readyz')).status === 200, 20_000, 'ready again');
    } finally {
      network.restore();
      await service.stop();
    }
  });

  it('tells a caller the lines are busy and spools a callback request, routed when the broker is back', async () => {
    const network = cuttableSocketFactory();
    const service = await startInstance({ PUBLISH_TIMEOUT_MS: '1500' }, { network });
    try {
      const call = { CallSid: sid('CA'), AccountSid: ACCOUNT_SID, From: customer(), To: COMPANY, CallStatus: 'ringing' };
      network.cut();
      const answer = await service.post('/twilio/voice', call);
      expect(answer.status).toBe(200);
      expect(answer.ms).toBeLessThan(TWILIO_TIMEOUT_MS);
      const twiml = xml.parse(answer.body).Response;
      expect(twiml.Say).toBe(LINES_BUSY);
      expect(twiml).toHaveProperty('Hangup');
      expect(twiml.Enqueue).toBeUndefined();
      network.restore();
      await waitFor(() => onKafka(`callback-${call.CallSid}`).length > 0, 60_000, 'the callback request on Kafka');
      const [callback] = decoded(`callback-${call.CallSid}`);
      expect(callback).toMatchObject({
        contactId: `callback-${call.CallSid}`,
        conversationId: `conv-${call.CallSid}`,
        channel: Channel.CHANNEL_VOICE,
        kind: ContactKind.CONTACT_KIND_CALLBACK_REQUEST,
        newConversation: true,
        channelMetadata: { 'call-sid': call.CallSid, 'callback-number': call.From, 'callback-reason': 'lines-busy' },
      });
      // With the broker back, the next caller is queued as usual.
      await waitFor(async () => (await service.get('/readyz')).status === 200, 20_000, 'ready again');
      const next = await service.post('/twilio/voice', { ...call, CallSid: sid('CA') });
      expect(xml.parse(next.body).Response.Enqueue['#text']).toBe('support');
    } finally {
      network.restore();
      await service.stop();
    }
  });

  it("spools a call's end reported during the outage (Twilio does not resend it) and forwards it under its one ce_id", async () => {
    const network = cuttableSocketFactory();
    const service = await startInstance({ PUBLISH_TIMEOUT_MS: '1500' }, { network });
    try {
      const call = { CallSid: sid('CA'), AccountSid: ACCOUNT_SID, From: customer(), To: COMPANY, CallStatus: 'ringing' };
      expect((await service.post('/twilio/voice', call)).status).toBe(200);
      network.cut();
      const ended = await service.post('/twilio/voice/status', { ...call, CallStatus: 'completed', CallDuration: '42' });
      expect(ended.status).toBe(200);
      expect(ended.ms).toBeLessThan(TWILIO_TIMEOUT_MS);
      expect(await service.metric('cc_sms_voice_spool_depth')).toBe(1);
      network.restore();
      const events = () => recorder.records.filter((r) => r.topic === topics.conversationEvents.name && r.headers.ce_id === `call-ended-${call.CallSid}`);
      await waitFor(() => events().length > 0, 60_000, "the call's end on Kafka");
      const event = ConversationEvent.decode(events()[0]!.message.value!);
      expect(event).toMatchObject({
        conversationId: `conv-${call.CallSid}`,
        step: { $case: 'callEnded', callEnded: { durationMs: 42_000, status: 'completed' } },
      });
      await waitFor(async () => (await service.metric('cc_sms_voice_spool_depth')) === 0, 10_000, 'the spool empty');
      // The publish that timed out may land too: every copy is the same event, which consumers drop by ce_id.
      expect(new Set(events().map((r) => r.message.value!.toString('base64'))).size).toBe(1);
    } finally {
      network.restore();
      await service.stop();
    }
  });

  it('records an opt-out (STOP) during the outage', async () => {
    const network = cuttableSocketFactory();
    const service = await startInstance({ PUBLISH_TIMEOUT_MS: '1500' }, { network });
    try {
      const from = customer();
      network.cut();
      const stop = await service.post('/twilio/sms', sms(from, 'STOP'));
      expect(stop.status).toBe(200);
      expect(await service.store.isOptedOut(from)).toBe(true);
      expect(await service.metric('cc_sms_voice_spool_depth')).toBe(0); // a keyword is not a contact
    } finally {
      network.restore();
      await service.stop();
    }
  });

  it('refuses with 503 when the spool is full, and takes the retry once Kafka is back', async () => {
    const network = cuttableSocketFactory();
    const service = await startInstance({ PUBLISH_TIMEOUT_MS: '1500', SMS_VOICE_SPOOL_MAX_RECORDS: '2' }, { network });
    try {
      network.cut();
      const [a, b, c] = [sms(), sms(), sms()];
      expect((await service.post('/twilio/sms', a)).status).toBe(200);
      expect((await service.post('/twilio/sms', b)).status).toBe(200);
      const refused = await service.post('/twilio/sms', c);
      expect(refused).toMatchObject({ status: 503, retryAfter: '5' });
      expect(refused.body).toContain('the spool holds its maximum of 2 records');
      expect(await service.metric('cc_sms_voice_spool_refused_total')).toBe(1);
      expect((await service.get('/readyz/webhooks')).status).toBe(503);
      network.restore();
      await waitFor(() => onKafka(`sms-${a.MessageSid}`).length > 0 && onKafka(`sms-${b.MessageSid}`).length > 0, 60_000, 'the spooled SMS on Kafka');
      await waitFor(async () => (await service.post('/twilio/sms', c)).status === 200, 30_000, 'the retry accepted');
      await waitFor(() => onKafka(`sms-${c.MessageSid}`).length > 0, 20_000, 'the retried SMS on Kafka');
      expect(new Set(decoded(`sms-${c.MessageSid}`).map((x) => x.contactId))).toEqual(new Set([`sms-${c.MessageSid}`]));
    } finally {
      network.restore();
      await service.stop();
    }
  });
});

describe('a restarted instance', () => {
  /** Spools SMS on an instance whose network is cut, and stops it, spool and all. */
  async function leaveSpooled(dir: string, count: number) {
    const network = cuttableSocketFactory();
    const first = await startInstance({ PUBLISH_TIMEOUT_MS: '1500' }, { dir, network });
    const sent = Array.from({ length: count }, () => sms());
    try {
      network.cut();
      for (const p of sent) expect((await first.post('/twilio/sms', p)).status).toBe(200);
    } finally {
      await first.stop();
      network.restore();
    }
    expect(segments(dir).length).toBeGreaterThan(0);
    return sent;
  }

  it('forwards what the last one left in the spool, then removes it', async () => {
    const dir = spoolDir();
    const sent = await leaveSpooled(dir, 3);
    expect(sent.every((p) => onKafka(`sms-${p.MessageSid}`).length === 0)).toBe(true);
    const second = await startInstance({}, { dir });
    try {
      await waitFor(() => sent.every((p) => onKafka(`sms-${p.MessageSid}`).length > 0), 30_000, 'the spooled SMS on Kafka');
      await waitFor(() => segments(dir).length === 0, 20_000, 'the forwarded segment removed');
      for (const p of sent) expect(decoded(`sms-${p.MessageSid}`)[0]).toMatchObject({ externalId: p.MessageSid, text: p.Body });
      expect(await second.metric('cc_sms_voice_spool_forwarded_total')).toBe(3);
    } finally {
      await second.stop();
    }
  });

  it('skips a torn last record with a log line and forwards the rest', async () => {
    const dir = spoolDir();
    const sent = await leaveSpooled(dir, 2);
    // A crash in the middle of writing a third record: half of its line, without its end.
    const tornContact = ContactReceived.fromPartial({
      contactId: `sms-${sid('SM')}`,
      conversationId: 'conv-torn',
      channel: Channel.CHANNEL_SMS,
      text: 'cut short',
      sender: { value: '+14155550142' },
    });
    const line = encodeSpoolLine(spoolRecordOf(tornContact, new Date()));
    appendFileSync(path.join(dir, segments(dir).sort().at(-1)!), line.subarray(0, Math.floor(line.length / 2)));
    const logLines: string[] = [];
    const second = await startInstance({}, { dir, logLines });
    try {
      await waitFor(() => sent.every((p) => onKafka(`sms-${p.MessageSid}`).length > 0), 30_000, 'the intact SMS on Kafka');
      expect(await second.metric('cc_sms_voice_spool_skipped_total')).toBe(1);
      const logged = logLines.map((l) => JSON.parse(l) as Record<string, unknown>).find((l) => String(l.msg).startsWith('skipped a damaged spool record'));
      expect(logged).toMatchObject({ reason: 'torn' });
      expect(logLines.join('\n')).not.toContain('4155550142');
      expect(onKafka(tornContact.contactId)).toEqual([]);
      // The instance goes on working.
      const after = sms();
      expect((await second.post('/twilio/sms', after)).status).toBe(200);
      await waitFor(() => onKafka(`sms-${after.MessageSid}`).length > 0, 20_000, 'a new SMS on Kafka');
    } finally {
      await second.stop();
    }
  });

  it('refuses to share its spool folder with another running instance', async () => {
    const dir = spoolDir();
    const owner = await startInstance({}, { dir });
    try {
      await expect(startInstance({}, { dir })).rejects.toThrow(/is in use by another instance in this process; give each instance its own SMS_VOICE_SPOOL_DIR/);
    } finally {
      await owner.stop();
    }
  });
});
