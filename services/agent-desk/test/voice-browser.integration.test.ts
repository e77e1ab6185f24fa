// A phone call taken in a real browser, through every real part but Twilio's cloud: a signed
// call webhook reaches sms-voice; Kafka carries the call to customer-record and routing; the
// desk rings with the offer; the agent accepts, and sms-voice puts the caller in a conference and
// dials the agent's softphone in through the real twilio client against the Twilio stand-in; the
// agent holds, resumes, mutes, sends keypad tones, hangs up and wraps up from the conversation view.
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dropDatabase, launchChromium, testContext, uniqueId, waitFor } from '#libs/testing';
import { TwilioStandIn } from '../../../scripts/outbox/twilio-api';
import type { RunningRouting } from '../../routing/src/service';
import { callConversationId } from '../../sms-voice/src/calls';
import { signedWebhook, signInPage, startTestDesk, liveListRow, startTestPhone, startTestRecord, startTestRouting } from './stack';

const PASSWORD = 'a long test password';
const SAVE = process.env.SAVE_SCREENSHOTS === '1';
const shots = fileURLToPath(new URL('../../../docs/screenshots/', import.meta.url));
const AUTH_TOKEN = randomBytes(16).toString('hex');
const ACCOUNT_SID = `AC${randomBytes(16).toString('hex')}`;
const MUSIC = 'https://music.example/hold.mp3';
const database = uniqueId('desk_voice').replace(/-/g, '_');
// This test's own line: routing sends calls to it, and only those, to this test's skill.
const LINE = `+1628555${String(1000 + Math.floor(Math.random() * 8999))}`;
const skill = `voice-${randomBytes(4).toString('hex')}`;
const agentId = `ana-${randomBytes(3).toString('hex')}`;
const expertId = `max-${randomBytes(3).toString('hex')}`;
const supervisorId = `sue-${randomBytes(3).toString('hex')}`;

const contexts = ['customer-record', 'routing', 'sms-voice', 'agent-desk'].map((name) => testContext(`voice-${name}`));
const standIn = new TwilioStandIn({ conversationOfCall: callConversationId, maxItems: Infinity });
let routing: RunningRouting;
let smsVoicePort: number;
let desk: string;
let browser: Browser;
const pageErrors: string[] = [];
/** The call the first test took, for the recording that follows it. */
let callHeard: { conversationId: string; callSid: string; page: Page; supervisor: Page } | undefined;

async function call(callSid: string): Promise<void> {
  const params = { CallSid: callSid, From: `+1415555${String(1000 + Math.floor(Math.random() * 8999))}`, To: LINE };
  expect(await signedWebhook(`http://127.0.0.1:${smsVoicePort}/twilio/voice`, AUTH_TOKEN, params)).toBe(200);
}

async function statusCallback(callSid: string): Promise<void> {
  const params = { CallSid: callSid, CallStatus: 'completed', CallDuration: '42' };
  expect(await signedWebhook(`http://127.0.0.1:${smsVoicePort}/twilio/voice/status`, AUTH_TOKEN, params)).toBe(200);
}

beforeAll(async () => {
  const [recordCtx, routingCtx, smsVoiceCtx, deskCtx] = contexts as [
    ReturnType<typeof testContext>,
    ReturnType<typeof testContext>,
    ReturnType<typeof testContext>,
    ReturnType<typeof testContext>,
  ];
  const record = await startTestRecord(recordCtx, database, 'voice');
  const rule = { id: 'voice-test', when: { pattern: LINE.replace('+', '\\+'), channels: ['voice'] }, then: { skill } };
  routing = await startTestRouting(routingCtx, database, 'voice', rule, record.grpcPort);
  const phone = await startTestPhone(
    smsVoiceCtx,
    database,
    'voice',
    standIn,
    { authToken: AUTH_TOKEN, accountSid: ACCOUNT_SID },
    { VOICE_HOLD_MUSIC_URL: MUSIC },
  );
  smsVoicePort = phone.port;
  const started = await startTestDesk(
    deskCtx,
    database,
    { routing: routing.grpcPort, record: record.grpcPort },
    {
      SMS_VOICE_URL: `http://127.0.0.1:${smsVoicePort}`,
      TWILIO_API_BASE_URL: phone.apiBase,
      TWILIO_ACCOUNT_SID: ACCOUNT_SID,
      TWILIO_API_KEY_SID: `SK${randomBytes(16).toString('hex')}`,
      TWILIO_API_KEY_SECRET: randomBytes(16).toString('hex'),
    },
  );
  desk = `http://127.0.0.1:${started.port}`;
  const capacity = { voice: 1, chat: 0, sms: 0, email: 0, total: 1 };
  await started.roster.upsert({ id: agentId, name: 'Ana Lopez', role: 'agent', tier: 1, skills: { [skill]: 3 }, languages: ['en'], capacity }, PASSWORD);
  await started.roster.upsert({ id: supervisorId, name: 'Sue Park', role: 'supervisor', phone: '+14155550142', answerCallsOn: 'phone' }, PASSWORD);
  browser = await launchChromium();
}, 120_000);

afterAll(async () => {
  await browser?.close();
  for (const ctx of [...contexts].reverse()) await ctx.stop();
  await dropDatabase(database);
}, 60_000);

async function signedIn(id: string, role: string): Promise<Page> {
  const page = await (await browser.newContext({ viewport: { width: 1366, height: 860 } })).newPage();
  page.on('pageerror', (err) => pageErrors.push(err.message));
  return signInPage(page, desk, id, PASSWORD, role);
}

describe('a phone call in the desk', () => {
  it('rings, connects on accept, and takes the call controls, each reaching Twilio as the documented API', { timeout: 180_000 }, async () => {
    const page = await signedIn(agentId, 'agent');
    await page.locator('#softphone').filter({ hasText: `Softphone token ready` }).waitFor({ timeout: 20_000 });

    // A new consumer group starts at the end of the topic once its first fetch resolves: calls
    // placed before that are not seen. Probe until routing has one, then take that one.
    await waitFor(
      async () => {
        const probe = `CA${randomBytes(16).toString('hex')}`;
        await call(probe);
        const until = Date.now() + 4000;
        while (Date.now() < until) {
          if (routing.engine.conversations.has(callConversationId(probe))) return true;
          await new Promise((r) => setTimeout(r, 200));
        }
        return false;
      },
      90_000,
      'routing to read the contact topic',
    );
    await page.locator('#presence button[data-presence="available"]').click();
    // An earlier probe routing read late may be the one offered: every probe is a call to this test's line.
    const offer = page.locator('#offers li.ringing').first();
    await offer.waitFor({ timeout: 30_000 });
    const conversationId = (await offer.getAttribute('data-conversation'))!;
    const callSid = conversationId.replace(/^conv-/, '');
    expect(routing.engine.conversations.has(conversationId)).toBe(true);
    expect(await offer.locator('.ring').textContent()).toBe('Incoming call — ringing');
    await offer.getByRole('button', { name: 'Accept' }).click();

    const agentLeg = await waitFor(() => standIn.participantsOf(conversationId).find((p) => p.label === 'agent'), 30_000, 'the softphone dialled in');
    expect(agentLeg.to).toBe(`client:${agentId}`);
    const caller = () => standIn.participantsOf(conversationId).find((p) => p.callSid === callSid);
    await page.locator('#call-controls').waitFor({ state: 'visible', timeout: 20_000 });

    await page.locator('#call-hold').click();
    await page.locator('#call-state').filter({ hasText: 'Caller on hold' }).waitFor({ timeout: 10_000 });
    expect(caller()).toMatchObject({ hold: true, holdUrl: MUSIC });
    expect(await page.locator('#call-hold').textContent()).toBe('Resume');
    await page.locator('#call-hold').click();
    await page
      .locator('#call-state')
      .filter({ hasText: /^On the call$/ })
      .waitFor({ timeout: 10_000 });
    expect(caller()?.hold).toBe(false);

    await page.locator('#call-mute').click();
    await page.locator('#call-state').filter({ hasText: 'you are muted' }).waitFor({ timeout: 10_000 });
    expect(standIn.participantsOf(conversationId).find((p) => p.callSid === agentLeg.callSid)?.muted).toBe(true);

    await page.locator('#call-digits').fill('42#');
    await page.locator('#call-keypad button').click();
    await waitFor(() => standIn.items.find((i) => i.sid === callSid && i.body.includes('<Play digits="42#"/>')), 10_000, 'the keypad tones');

    // Warm transfer's first step: the expert is dialled into the call's conference.
    await page.locator('#call-consult-to').fill(expertId);
    await page.locator('#call-consult button').click();
    await waitFor(
      () => standIn.participantsOf(conversationId).find((p) => p.label === 'consult' && p.to === `client:${expertId}`),
      10_000,
      'the expert consulted',
    );

    // A supervisor listens in, on the phone the roster gives for her.
    const supervisor = await signedIn(supervisorId, 'supervisor');
    // From the live calls list: the call is there with its queue and agent, nobody types its id.
    const listed = await liveListRow(supervisor, 'live-calls', conversationId, SAVE ? `${shots}agent-desk-live-calls.png` : undefined);
    expect(listed.agent).toBe(agentId);
    // sms-voice's word on the call: the agent's line is in the conference (the expert too, the caller not held).
    expect(listed.state).toBe('bridged');
    const { row } = listed;
    const answer = (await (await supervisor.request.get(`${desk}/api/live-calls`)).json()) as {
      calls: { conversationId: string; queue: string; agentId: string; since: number; state: string }[];
      note?: string;
    };
    expect(answer.note).toBeUndefined();
    expect(answer.calls.find((c) => c.conversationId === conversationId)).toMatchObject({
      agentId,
      queue: expect.stringMatching(/^tier1\/.+\/voice$/),
      since: expect.any(Number),
      state: 'bridged',
    });
    // The list is the supervisors': the agent's own session is refused it.
    expect((await page.request.get(`${desk}/api/live-calls`)).status()).toBe(403);
    await row.locator('button[data-action="listen"]').click();
    await supervisor.locator('#notice').filter({ hasText: 'Joined the call: listen.' }).waitFor({ timeout: 10_000 });
    expect(standIn.participantsOf(conversationId).find((p) => p.label === 'monitor')).toMatchObject({ to: '+14155550142', muted: true });

    await page.locator('#call-hang-up').click();
    await page
      .locator('#call-wrap-up')
      .waitFor({ state: 'visible', timeout: 10_000 })
      .catch(async (err: unknown) => {
        throw new Error(`no wrap-up after Hang up; the page said: ${await page.locator('#notice').textContent()}`, { cause: err });
      });
    expect(caller()).toBeUndefined();
    expect(standIn.items.some((i) => i.sid === callSid && i.body === 'status: completed')).toBe(true);
    // Twilio's status callback ends the call; the wrap-up follows.
    await statusCallback(callSid);
    await page.locator('#call-wrap-up-note').fill('Refund promised <b>today</b>');
    await page.locator('#call-wrap-up button').click();
    await page.locator('#notice').filter({ hasText: 'Wrap-up saved.' }).waitFor({ timeout: 10_000 });
    expect(pageErrors).toEqual([]);
    callHeard = { conversationId, callSid, page, supervisor };
  });

  it('plays the call recording in the conversation view, through the desk, to those who may hear it', { timeout: 180_000 }, async () => {
    const { conversationId, callSid, page, supervisor } = callHeard!;
    const recordingSid = `RE${randomBytes(16).toString('hex')}`;
    const report = {
      AccountSid: ACCOUNT_SID,
      RecordingSid: recordingSid,
      RecordingUrl: `https://api.twilio.com/2010-04-01/Accounts/${ACCOUNT_SID}/Recordings/${recordingSid}`,
      RecordingStatus: 'completed',
      RecordingDuration: '2',
    };
    const callback = `http://127.0.0.1:${smsVoicePort}/twilio/voice/recording?${new URLSearchParams({ CallSid: callSid })}`;
    expect(await signedWebhook(callback, AUTH_TOKEN, report)).toBe(200);

    // The media the player asks for: answered by the desk, which fetched it from Twilio's API.
    const media = page.waitForResponse((r) => r.url().includes('/api/recording?') && r.request().method() === 'GET', { timeout: 120_000 });
    const player = page.locator('#timeline audio.recording');
    await player.waitFor({ timeout: 120_000 });
    const answered = await media;
    expect([200, 206]).toContain(answered.status());
    expect(answered.headers()['content-type']).toBe('audio/mpeg');
    // The element decoded the media's header: HAVE_METADATA or more, and no media error.
    type Audio = { readyState: number; error: { code: number } | null; duration: number };
    await waitFor(async () => (await player.evaluate((a) => (a as unknown as Audio).readyState)) >= 1, 20_000, 'the player to load the recording');
    expect(await player.evaluate((a) => (a as unknown as Audio).error?.code ?? null)).toBeNull();
    expect(await player.evaluate((a) => (a as unknown as Audio).duration)).toBeGreaterThan(1.5);
    expect(await player.getAttribute('aria-label')).toBe('Call recording, 2 seconds');
    expect(standIn.mediaFetched).toContain(`${recordingSid}.mp3`);
    if (SAVE) await page.locator('#conversation').screenshot({ path: `${shots}agent-desk-recording.png` });

    const src = `${desk}${(await player.getAttribute('src'))!}`;
    expect(new URL(src).searchParams.get('conversationId')).toBe(conversationId);
    const whole = await page.request.get(src);
    expect(whole.status()).toBe(200);
    expect(whole.headers()).toMatchObject({
      'content-type': 'audio/mpeg',
      'content-disposition': `inline; filename="${recordingSid}.mp3"`,
      'cache-control': 'private, no-store',
      'x-content-type-options': 'nosniff',
    });
    expect([...(await whole.body()).subarray(0, 2)]).toEqual([0xff, 0xfb]);
    const part = await page.request.get(src, { headers: { range: 'bytes=0-103' } });
    expect(part.status()).toBe(206);
    expect(part.headers()['content-range']).toMatch(/^bytes 0-103\/\d+$/);
    expect((await part.body()).length).toBe(104);
    // Another recording sid is not this conversation's: nothing fetched from Twilio for it.
    const other = `RE${randomBytes(16).toString('hex')}`;
    expect((await page.request.get(src.replace(recordingSid, other))).status()).toBe(404);
    expect(standIn.mediaFetched.some((m) => m.startsWith(other))).toBe(false);
    // A supervisor hears it with a reason (audited by customer-record), not without one.
    expect((await supervisor.request.get(src)).status()).toBe(400);
    expect((await supervisor.request.get(`${src}&reason=${encodeURIComponent('quality review of the call')}`)).status()).toBe(200);
    // Deleted at Twilio once its retention ended: the desk says so.
    standIn.deletedRecordings.push(recordingSid);
    expect((await page.request.get(src)).status()).toBe(404);
    expect(pageErrors).toEqual([]);
  });
});
