// The Twilio stand-in over real HTTP, called by the real twilio client as sms-voice makes it.
import type http from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { callConversationId } from '../../services/sms-voice/src/calls';
import { createTwilioClient, classifyTwilioFailure } from '../../services/sms-voice/src/twilio-client';
import { listenOnLoopback, outboxServer } from '../../scripts/outbox/server';
import { TwilioStandIn } from '../../scripts/outbox/twilio-api';

const ACCOUNT = 'AC00000000000000000000000000000000';
const standIn = new TwilioStandIn({ conversationOfCall: callConversationId, maxItems: 3 });
let server: http.Server;
let base: string;

beforeAll(async () => {
  server = outboxServer(standIn, { consoleUrl: 'http://127.0.0.1:8090' });
  base = `http://127.0.0.1:${await listenOnLoopback(server, 0)}`;
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

const client = () => createTwilioClient({ TWILIO_ACCOUNT_SID: ACCOUNT, TWILIO_AUTH_TOKEN: 'local-token', TWILIO_API_BASE_URL: base });

describe('the Twilio stand-in', () => {
  it('takes an SMS and a call as Twilio does, and lists both on its page, newest first', async () => {
    const message = await client().messages.create({
      from: '+15005550001',
      to: '+15005550006',
      body: 'Your reply <b>is</b> here',
      statusCallback: `${base}/x`,
    });
    expect(message.sid).toMatch(/^SM[0-9a-f]{32}$/);
    expect(message.status).toBe('queued');
    expect(message.body).toBe('Your reply <b>is</b> here');
    await new Promise((r) => setTimeout(r, 5));
    const call = await client().calls('CA1234').update({ twiml: '<Response><Dial><Client>ana</Client></Dial></Response>' });
    expect(call.sid).toBe('CA1234');
    const placed = await client().calls.create({ from: '+15005550001', to: '+15005550007', url: 'https://example.com/twiml' });
    expect(placed.sid).toMatch(/^CA[0-9a-f]{32}$/);

    const page = await fetch(`${base}/`);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toMatch(/^text\/html/);
    expect(page.headers.get('content-security-policy')).toBe(
      "default-src 'none'; style-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
    );
    const html = await page.text();
    expect(html).toContain('Your reply &lt;b&gt;is&lt;/b&gt; here');
    expect(html).toContain('&lt;Response&gt;&lt;Dial&gt;&lt;Client&gt;ana&lt;/Client&gt;&lt;/Dial&gt;&lt;/Response&gt;');
    expect(html).toContain(`href="http://127.0.0.1:8090/#timeline=${callConversationId('CA1234')}"`);
    expect(html).toContain('fetch TwiML from https://example.com/twiml');
    const at = (text: string) => html.indexOf(text);
    expect(at(placed.sid)).toBeLessThan(at('CA1234'));
    expect(at('CA1234')).toBeLessThan(at(message.sid));
    expect((await fetch(`${base}/outbox.css`)).headers.get('content-type')).toMatch(/^text\/css/);
  });

  it('refuses as Twilio does: a missing body, a wrong account, an unknown path, a body too large', async () => {
    const missing = await client()
      .messages.create({ from: '+15005550001', to: '+15005550006', body: '' })
      .catch((err: unknown) => err);
    expect(classifyTwilioFailure(missing)).toMatchObject({ kind: 'refused-permanently', code: '21602' });

    const res = await fetch(`${base}/2010-04-01/Accounts/${ACCOUNT}/Messages.json`, {
      method: 'POST',
      headers: { authorization: `Basic ${Buffer.from('AC11111111111111111111111111111111:t').toString('base64')}` },
      body: new URLSearchParams({ To: '+1', From: '+2', Body: 'x' }),
    });
    expect(res.status).toBe(401);
    expect(await res.json()).toMatchObject({ code: 20003, status: 401 });

    expect((await fetch(`${base}/2010-04-01/Accounts/${ACCOUNT}/Queues.json`, { method: 'POST' })).status).toBe(404);
    const big = await fetch(`${base}/2010-04-01/Accounts/${ACCOUNT}/Messages.json`, {
      method: 'POST',
      headers: { authorization: `Basic ${Buffer.from(`${ACCOUNT}:t`).toString('base64')}` },
      body: 'Body=' + 'x'.repeat(100 * 1024),
    });
    expect(big.status).toBe(413);
  });

  it('adds participants to a conference by its name, and mutes and holds them by conference and call sid', async () => {
    await client().calls('CA77').update({ twiml: '<Response><Dial><Conference endConferenceOnExit="true">conv-CA77</Conference></Dial></Response>' });
    const agent = await client().conferences('conv-CA77').participants.create({ from: '+15005550001', to: 'client:ana', label: 'agent', muted: false });
    expect(agent.callSid).toMatch(/^CA[0-9a-f]{32}$/);
    expect(agent.conferenceSid).toMatch(/^CF[0-9a-f]{32}$/);
    expect(agent).toMatchObject({ label: 'agent', muted: false, hold: false, coaching: false, status: 'queued', startConferenceOnEnter: true });
    const held = await client().conferences(agent.conferenceSid).participants('CA77').update({ hold: true, holdUrl: 'https://music.test/a.mp3' });
    expect(held).toMatchObject({ callSid: 'CA77', hold: true, conferenceSid: agent.conferenceSid, endConferenceOnExit: true, status: 'connected' });
    const muted = await client().conferences(agent.conferenceSid).participants(agent.callSid).update({ muted: true });
    expect(muted.muted).toBe(true);
    expect(standIn.participantsOf('conv-CA77').map((p) => [p.callSid, p.hold, p.holdUrl, p.muted])).toEqual([
      ['CA77', true, 'https://music.test/a.mp3', false],
      [agent.callSid, false, '', true],
    ]);
    // Twilio knows a conference's participants by its sid only, and a call that hung up is gone from it.
    await client().calls('CA77').update({ status: 'completed' });
    const gone = await client()
      .conferences(agent.conferenceSid)
      .participants('CA77')
      .update({ hold: false })
      .catch((err: unknown) => err);
    expect(gone).toMatchObject({ status: 404, code: 20404 });
    const byName = await client()
      .conferences('conv-CA77')
      .participants(agent.callSid)
      .update({ muted: false })
      .catch((err: unknown) => err);
    expect(byName).toMatchObject({ status: 404 });
    const noTo = await client()
      .conferences('conv-CA77')
      .participants.create({ from: '+15005550001', to: '' })
      .catch((err: unknown) => err);
    expect(noTo).toMatchObject({ status: 400, code: 21604 });
  });

  it('refuses a new call without a valid number to call or a number to call from, as Twilio does', async () => {
    const placed = (to: string, from: string) =>
      client()
        .calls.create({ to, from, twiml: '<Response/>' })
        .catch((err: unknown) => err);
    expect(classifyTwilioFailure(await placed('0612345678', '+15005550001'))).toMatchObject({ kind: 'refused-permanently', code: '21211' });
    expect(classifyTwilioFailure(await placed('+15005550007', ''))).toMatchObject({ kind: 'refused-permanently', code: '21213' });
    const ok = await client().calls.create({ to: '+15005550007', from: '+15005550001', twiml: '<Response/>', statusCallback: `${base}/status` });
    expect(standIn.items.find((i) => i.sid === ok.sid)).toMatchObject({ kind: 'call', to: '+15005550007', statusCallback: `${base}/status` });
  });

  it('keeps only the newest requests it is allowed to', async () => {
    for (const body of ['a', 'b', 'c', 'd']) await client().messages.create({ from: '+15005550001', to: '+15005550006', body });
    expect(standIn.items.map((i) => i.body)).toEqual(['b', 'c', 'd']);
  });
  it("serves a recording's media as Twilio does: WAV or MP3, a byte range, authenticated, gone once deleted", async () => {
    const sid = `RE${'ab'.repeat(16)}`;
    const media = (format: string, headers: Record<string, string> = {}) =>
      fetch(`${base}/2010-04-01/Accounts/${ACCOUNT}/Recordings/${sid}.${format}`, {
        headers: { authorization: `Basic ${Buffer.from(`SK${'0'.repeat(32)}:secret`).toString('base64')}`, ...headers },
      });
    const wav = await media('wav');
    expect(wav.status).toBe(200);
    expect(wav.headers.get('content-type')).toBe('audio/x-wav');
    const bytes = Buffer.from(await wav.arrayBuffer());
    expect(bytes.subarray(0, 4).toString('ascii')).toBe('RIFF');
    expect(bytes.subarray(8, 12).toString('ascii')).toBe('WAVE');
    expect(bytes.readUInt32LE(40)).toBe(bytes.length - 44);
    const mp3 = await media('mp3');
    expect(mp3.headers.get('content-type')).toBe('audio/mpeg');
    expect([...Buffer.from(await mp3.arrayBuffer()).subarray(0, 2)]).toEqual([0xff, 0xfb]);
    const part = await media('wav', { range: 'bytes=0-43' });
    expect(part.status).toBe(206);
    expect(part.headers.get('content-range')).toBe(`bytes 0-43/${bytes.length}`);
    expect(Buffer.from(await part.arrayBuffer())).toEqual(bytes.subarray(0, 44));
    expect((await media('wav', { range: `bytes=${bytes.length}-` })).status).toBe(416);
    expect((await fetch(`${base}/2010-04-01/Accounts/${ACCOUNT}/Recordings/${sid}.wav`)).status).toBe(401);
    await client().recordings(sid).remove();
    expect((await media('wav')).status).toBe(404);
  });
});
