// Erasure in sms-voice's store, spool and recordings, against the real broker, store, disk and
// twilio client (Twilio's REST API answered locally): an erased number's SMS thread, call,
// WhatsApp window, survey and answer are deleted, its recording is deleted at Twilio and then
// forgotten, and its spooled webhook already forwarded is blanked on disk; another number's
// stay (its opt-out too, which is kept by design), and following again (a restart, with the
// spool opened again) brings nothing back.
import http from 'node:http';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { KafkaUnavailableError, type EventProducer } from '#libs/kafka';
import { createLogger, listen } from '#libs/observability';
import { Channel, ContactKind, ContactReceived, IdentityKind } from '#libs/proto';
import { erasureHarness, uniqueId, waitFor, type ErasureHarness } from '#libs/testing';
import { eraseSmsVoiceData, eraseSpooled } from '../src/erasure';
import { RecordingRetention } from '../src/recording-retention';
import { ContactSpool } from '../src/spool';
import { contactOf, decodeSpoolSegment, encodeSpoolLine, spoolRecordOf } from '../src/spool-records';
import { SmsVoiceStore } from '../src/store';
import { createTwilioClient } from '../src/twilio-client';
import { claimerOf } from '#libs/delivery';

const ACCOUNT_SID = `AC${randomBytes(16).toString('hex')}`;
const COMPANY = '+14155550100';
const logger = createLogger('sms-voice-erasure', process.env.TEST_LOG_LEVEL ?? 'silent');
const deletedAtTwilio: string[] = [];
let twilioApi: http.Server;
let apiBase: string;
let harness: ErasureHarness;
let store: SmsVoiceStore;
let spoolDir: string;

beforeAll(async () => {
  harness = await erasureHarness('sms');
  store = new SmsVoiceStore(harness.db, claimerOf(uniqueId('sms-voice')));
  spoolDir = mkdtempSync(path.join(tmpdir(), 'sms-erasure-spool-'));
  twilioApi = http.createServer((req, res) => {
    const recording = new RegExp(`^/2010-04-01/Accounts/${ACCOUNT_SID}/Recordings/(RE[0-9a-f]{32})\\.json$`).exec(req.url ?? '');
    if (req.method === 'DELETE' && recording) {
      deletedAtTwilio.push(recording[1]!);
      return res.writeHead(204).end();
    }
    res.writeHead(404, { 'content-type': 'application/json' }).end(JSON.stringify({ code: 20404, message: 'not found', status: 404 }));
  });
  apiBase = `http://127.0.0.1:${await listen(twilioApi, 0, '127.0.0.1')}`;
});

afterAll(async () => {
  await harness?.close();
  await new Promise((resolve) => twilioApi?.close(resolve));
  rmSync(spoolDir, { recursive: true, force: true });
});

const number = () => `+1415555${String(Math.floor(Math.random() * 10_000)).padStart(4, '0')}`;
const past = () => new Date(Date.now() - 60_000);

/** Everything sms-voice keeps of one customer's number: a text thread, a call with its recording, a WhatsApp window, a survey. */
async function customer(customerNumber: string) {
  const sms = await store.claimSms(`SM${randomBytes(16).toString('hex')}`, customerNumber, COMPANY, past(), 3_600_000);
  const callSid = `CA${randomBytes(16).toString('hex')}`;
  const callConversation = uniqueId('conv');
  await store.recordCall({ _id: callSid, conversationId: callConversation, customer: customerNumber, company: COMPANY, startedAt: past() });
  const recordingSid = `RE${randomBytes(16).toString('hex')}`;
  await store.keepRecording({ _id: recordingSid, conversationId: callConversation, callSid, recordedAt: past(), deleteAt: new Date(Date.now() + 86_400_000) });
  await store.customerWrote(`whatsapp:${customerNumber}`, `whatsapp:${COMPANY}`, past());
  await store.surveys.sent({
    conversationId: sms.conversationId,
    channel: Channel.CHANNEL_SMS,
    question: 'Rate us 1-5',
    sentAt: past(),
    agentId: 'a1',
    queue: 'q',
  });
  await store.surveys.claimAnswer(sms.conversationId, 'SM-answer', 5, past());
  await store.setOptOut(customerNumber, true);
  return { number: customerNumber, conversationId: sms.conversationId, callSid, callConversation, recordingSid };
}
type Customer = Awaited<ReturnType<typeof customer>>;

const contact = (c: Customer, text: string) =>
  ContactReceived.fromPartial({
    contactId: uniqueId('sms'),
    conversationId: c.conversationId,
    channel: Channel.CHANNEL_SMS,
    kind: ContactKind.CONTACT_KIND_MESSAGE,
    receivedAt: past(),
    sender: { kind: IdentityKind.IDENTITY_KIND_PHONE, value: c.number },
    recipient: { kind: IdentityKind.IDENTITY_KIND_PHONE, value: COMPANY },
    text,
  });

/** A spool a previous process left: two contacts forwarded (the marker after them) and one still waiting. */
function leaveSpool(erased: Customer, other: Customer): void {
  const lines = [contact(erased, 'my card ends 4242'), contact(other, 'hello'), contact(other, 'still waiting')].map((c) =>
    encodeSpoolLine(spoolRecordOf(c, past())),
  );
  writeFileSync(path.join(spoolDir, 'segment-000000000001.log'), Buffer.concat(lines));
  writeFileSync(path.join(spoolDir, 'forwarded'), `1 ${lines[0]!.length + lines[1]!.length}\n`);
}

/** The numbers of the contacts on disk, blanked lines left out. */
function spooledNumbers(): string[] {
  return readdirSync(spoolDir)
    .filter((n) => n.startsWith('segment-'))
    .flatMap((n) => decodeSpoolSegment(readFileSync(path.join(spoolDir, n))).records.map((r) => contactOf(r.record).sender?.value ?? ''));
}

/** sms-voice as it starts: the spool opened again (Kafka not acknowledging, so the waiting contact stays), erasures followed. */
async function start(): Promise<() => Promise<void>> {
  const down: Pick<EventProducer, 'publish'> = {
    publish: () => Promise.reject(new KafkaUnavailableError('the broker is down in this test')),
  };
  const spool = await ContactSpool.start({
    dir: spoolDir,
    limits: { maxRecords: 100, maxBytes: 1_000_000 },
    producer: down as EventProducer,
    logger,
    metrics: new Registry(),
  });
  const stopSpool = harness.onClose(() => spool.stop());
  const client = createTwilioClient({ TWILIO_ACCOUNT_SID: ACCOUNT_SID, TWILIO_AUTH_TOKEN: randomBytes(16).toString('hex'), TWILIO_API_BASE_URL: apiBase });
  const retention = new RecordingRetention({ store, client, logger, metrics: new Registry() });
  const stopFollowing = await harness.follow({
    what: 'sms-voice store and spool',
    apply: (erased) => eraseSmsVoiceData({ store, sweepRecordings: () => retention.sweep() }, erased),
    applyLocal: (erased) => eraseSpooled(spool, erased),
  });
  return async () => {
    await stopFollowing();
    await stopSpool();
  };
}

const c = () => store.erasable;
async function gone(x: Customer): Promise<boolean> {
  const found = await Promise.all([
    store.conversationOfNumbers(x.number, COMPANY),
    store.numbersOf(x.conversationId),
    store.callOf(x.callSid),
    store.callOfConversation(x.callConversation),
    store.lastInboundAt(`whatsapp:${x.number}`, `whatsapp:${COMPANY}`),
    store.surveys.surveyOf(x.conversationId),
    store.surveys.answerOf(x.conversationId),
    c().recordings.findOne({ _id: x.recordingSid }),
    c().sids.findOne({ conversationId: x.conversationId }),
    c().openings.findOne({ conversationId: x.conversationId }),
  ]);
  return found.every((f) => f === undefined || f === null);
}

async function kept(x: Customer): Promise<void> {
  expect(await store.conversationOfNumbers(x.number, COMPANY)).toBe(x.conversationId);
  expect(await store.numbersOf(x.conversationId)).toEqual({ customer: x.number, company: COMPANY });
  expect(await store.callOf(x.callSid)).toMatchObject({ customer: x.number });
  expect(await store.lastInboundAt(`whatsapp:${x.number}`, `whatsapp:${COMPANY}`)).toBeInstanceOf(Date);
  expect(await store.surveys.answerOf(x.conversationId)).toEqual({ by: 'SM-answer' });
  expect(await c().recordings.findOne({ _id: x.recordingSid })).toMatchObject({ callSid: x.callSid });
  expect(deletedAtTwilio).not.toContain(x.recordingSid);
}

it('deletes an erased number’s threads, call, recording (at Twilio) and spooled webhooks, and keeps another’s', async () => {
  const erased = await customer(number());
  let other = await customer(number());
  while (other.number === erased.number) other = await customer(number());
  leaveSpool(erased, other);
  const stop = await start();
  expect(await gone(erased)).toBe(false);

  await harness.erase('identity', `${IdentityKind.IDENTITY_KIND_PHONE}|${erased.number}`);
  // The forwarded contact of the erased number is blanked; the other's, and the one waiting, stay.
  await waitFor(() => !spooledNumbers().includes(erased.number), 20_000, 'the erased number’s spooled contact to be blanked');
  expect(spooledNumbers()).toEqual([other.number, other.number]);
  expect(await gone(erased)).toBe(true);
  expect(deletedAtTwilio).toContain(erased.recordingSid);
  await kept(other);
  // An opt-out is kept: erasing it would text again someone who said STOP.
  expect(await store.isOptedOut(erased.number)).toBe(true);

  // A restart opens the spool again and applies every erasure to it (the store only new ones): nothing comes back.
  await stop();
  await start();
  expect(await gone(erased)).toBe(true);
  expect(spooledNumbers()).toEqual([other.number, other.number]);
  await kept(other);
});
