// Across services, outside opening hours: routing (its clock on a Friday evening, its queues on
// Paris office hours) tells an email customer over real SMTP and an SMS customer through the
// Twilio stand-in when they will be answered, and tells a caller the hours over TwiML, with a
// callback or a voicemail to choose. No offer is made meanwhile. The email customer gets one
// "we are closed" mail (the acknowledgement's), and a supervisor's new hours reach the next
// acknowledgement without a restart.
import http from 'node:http';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { XMLParser, XMLValidator } from 'fast-xml-parser';
import nodemailer from 'nodemailer';
import type { ParsedMail } from 'mailparser';
import twilio from 'twilio';
import { afterAll, describe, expect, it } from 'vitest';
import { loadConfig } from '#libs/config';
import { listen } from '#libs/observability';
import { KAFKA_BROKERS, MONGODB_URI, dropDatabase, freePort, testAuthEnv, testContext, uniqueId, waitFor } from '#libs/testing';
import { startRouting } from '../../services/routing/src/service';
import { client, configFor, ownSkill, useRoutingHarness } from '../../services/routing/test/helpers';
import { startEmailEdge } from './email-edge';
import { smsVoiceConfig } from '../../services/sms-voice/src/config';
import { startSmsVoiceService } from '../../services/sms-voice/src/service';

const CLOSED_NOTICE = 'We are closed now; we open again Monday at 09:00 (Europe/Paris) and will answer you then.';
const paris = {
  zone: 'Europe/Paris',
  hours: Object.fromEntries(['mon', 'tue', 'wed', 'thu', 'fri'].map((d) => [d, ['09:00-12:00', '13:00-18:00']])),
  holidays: ['2026-12-25'],
};
const xml = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '@', parseTagValue: false });
const h = useRoutingHarness();
const ctxs = ['routing', 'email', 'sms-voice'].map((n) => testContext(`e2e-hours-${n}`));
const databases: string[] = [];
const cleanups: (() => Promise<unknown>)[] = [];

afterAll(async () => {
  for (const c of ctxs) await c.stop();
  for (const clean of cleanups) await clean();
  for (const d of databases) await dropDatabase(d);
});

describe('outside opening hours', () => {
  it('says when each customer will be answered, on email, SMS and voice', { timeout: 120_000 }, async () => {
    const { skill, env } = ownSkill();
    // Friday 9 January 2026, 19:30 in Paris: closed until Monday 09:00.
    const clock = { now: () => Date.UTC(2026, 0, 9, 18, 30) };
    const calendars = { [`tier1/${skill}/*`]: paris, 'tier1/general/voice': paris };
    const group = uniqueId('routing-hours');
    const routing = await startRouting(ctxs[0]!, configFor(h.database('routing_hours'), group, { ...env, ROUTING_CALENDARS_JSON: JSON.stringify(calendars) }), {
      clock,
    });

    // Email over real SMTP: the mail out lands in a sink.
    const email = await startEmailEdge(
      ctxs[1]!,
      'hours',
      // The seed, and the routing deployment whose supervisors' changes it follows.
      { EMAIL_CALENDARS_JSON: JSON.stringify({ 'tier1/general/email': paris }), EMAIL_CALENDARS_DEPLOYMENT: group },
      () => new Date(clock.now()),
    );
    cleanups.push(() => email.stop());
    const { mails, smtpPort } = email;

    // SMS and voice: signed webhooks in, the Twilio REST stand-in out.
    const texts: Record<string, string>[] = [];
    const twilioApi = http.createServer((req, res) => {
      let body = '';
      req.on('data', (c) => (body += c));
      req.on('end', () => {
        const form = Object.fromEntries(new URLSearchParams(body));
        texts.push(form);
        res
          .writeHead(201, { 'content-type': 'application/json' })
          .end(JSON.stringify({ sid: `SM${randomBytes(16).toString('hex')}`, status: 'queued', to: form.To }));
      });
    });
    const twilioPort = await listen(twilioApi, 0);
    cleanups.push(() => new Promise((r) => twilioApi.close(r)));
    const smsDb = uniqueId('smsvoice_hours').replace(/-/g, '_');
    databases.push(smsDb);
    const spoolDir = mkdtempSync(path.join(tmpdir(), 'sms-voice-spool-'));
    cleanups.push(async () => rmSync(spoolDir, { recursive: true, force: true }));
    const token = randomBytes(16).toString('hex');
    const accountSid = `AC${randomBytes(16).toString('hex')}`;
    const webhookPort = await freePort();
    await startSmsVoiceService(
      ctxs[2]!,
      loadConfig(smsVoiceConfig, {
        KAFKA_BROKERS: KAFKA_BROKERS.join(','),
        MONGODB_URI,
        MONGODB_DATABASE: smsDb,
        HTTP_PORT: String(webhookPort),
        PUBLIC_BASE_URL: `http://127.0.0.1:${webhookPort}`,
        SMS_VOICE_SPOOL_DIR: spoolDir,
        TWILIO_AUTH_TOKEN: token,
        TWILIO_ACCOUNT_SID: accountSid,
        TWILIO_API_BASE_URL: `http://127.0.0.1:${twilioPort}`,
        SMS_OUTBOUND_GROUP: uniqueId('sms-outbound'),
        SMS_COMPANY_NUMBER: '+14155550100',
        ROUTING_GRPC_ADDR: `127.0.0.1:${routing.grpcPort}`,
        ...testAuthEnv('sms-voice'),
        LOG_LEVEL: 'silent',
      }),
    );
    const webhook = async (route: string, params: Record<string, string>) => {
      const url = `http://127.0.0.1:${webhookPort}${route}`;
      const res = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-twilio-signature': twilio.getExpectedTwilioSignature(token, url, params) },
        body: new URLSearchParams(params),
      });
      const body = await res.text();
      expect(res.status, body).toBe(200);
      expect(XMLValidator.validate(body)).toBe(true);
      return (xml.parse(body) as { Response: Record<string, unknown> }).Response;
    };

    // Email: the acknowledgement says we are closed, from the email service's own copy of the
    // calendars, and routing, told so on the contact, sends no closed mail of its own.
    const sendMail = (from: string) =>
      nodemailer
        .createTransport({ host: '127.0.0.1', port: smtpPort, secure: false, ignoreTLS: true })
        .sendMail({ from, to: 'help@shop.test', subject: `Question about ${skill}`, text: 'Can you help?' });
    const closedMailsTo = (from: string) => mails.filter((m) => (m.to as { text: string }).text.includes(from) && m.text?.includes('We are closed now'));
    const kim = `${uniqueId('kim')}@customer.test`;
    await sendMail(kim);
    const ack = await waitFor(() => closedMailsTo(kim).find((m) => m.text?.includes('Your reference is')), 30_000, 'the acknowledgement');
    expect(ack.text).toContain('We are closed now; we open again Monday at 09:00 (Europe/Paris) and aim to answer within');
    await expectOneClosedMail(routing, closedMailsTo, kim, skill);

    // SMS.
    const phone = `+1415555${String(1000 + Math.floor(Math.random() * 9000))}`;
    await webhook('/twilio/sms', {
      MessageSid: `SM${randomBytes(16).toString('hex')}`,
      AccountSid: accountSid,
      From: phone,
      To: '+14155550100',
      Body: `${skill} help`,
    });
    const sms = await waitFor(() => texts.find((t) => t.To === phone), 30_000, 'the closed SMS');
    expect(sms.Body).toBe(`${CLOSED_NOTICE} You are number 1 in the queue.`);

    // Voice: the caller is queued, then hears the hours while waiting; 2 leads to a voicemail.
    const callSid = `CA${randomBytes(16).toString('hex')}`;
    const caller = `+1415556${String(1000 + Math.floor(Math.random() * 9000))}`;
    await webhook('/twilio/voice', { CallSid: callSid, From: caller, To: '+14155550100' });
    const waiting = await waitFor(
      async () => {
        const r = await webhook('/twilio/voice/wait', { CallSid: callSid, QueuePosition: '1' });
        return Array.isArray(r.Say) ? r : undefined;
      },
      30_000,
      'the closed wait message',
    );
    expect(waiting.Say).toEqual([CLOSED_NOTICE, 'Our opening hours are Monday to Friday 09:00 to 12:00 and 13:00 to 18:00.']);
    expect(waiting.Gather).toMatchObject({ '@action': `http://127.0.0.1:${webhookPort}/twilio/voice/closed-choice` });
    expect(await webhook('/twilio/voice/closed-choice', { CallSid: callSid, Digits: '2' })).toHaveProperty('Leave');
    const record = await webhook('/twilio/voice/queue-result', { CallSid: callSid, QueueResult: 'leave' });
    expect(record.Record).toMatchObject({ '@action': `http://127.0.0.1:${webhookPort}/twilio/voice/voicemail` });
    const kept = await webhook('/twilio/voice/voicemail', {
      CallSid: callSid,
      RecordingUrl: 'https://api.twilio.com/2010-04-01/Accounts/AC/Recordings/RE1',
      RecordingSid: 'RE1',
      RecordingDuration: '9',
    });
    expect(kept.Say).toBe('Thank you. Your message is recorded and we will answer it when we open. Goodbye.');
    const voiceConversation = await waitFor(
      // This call's own conversation: other tests' calls wait in the same voice queue.
      () => {
        const c = routing.engine.conversationState(`conv-${callSid}`);
        return c?.contactIds.length === 2 && c.queue === 'tier1/general/voice' ? c : undefined;
      },
      20_000,
      'the voicemail on the call conversation',
    );
    expect(voiceConversation.state).toBe('queued');

    // Nothing was offered: every one of them waits for Monday (other tests' calls share the voice queue).
    for (const c of routing.engine.conversations.values())
      if (c.queue.startsWith(`tier1/${skill}/`) || c.id === `conv-${callSid}`) expect(c.state).toBe('queued');

    // A supervisor opens on Saturday morning: the email service's next acknowledgement says so, no restart.
    const saturday = { ...paris, hours: { ...paris.hours, sat: ['10:00-12:00'] } };
    const supervisor = await client(routing.grpcPort, uniqueId('sup'), 'supervisor');
    cleanups.push(async () => supervisor.close());
    const newSet = { ...calendars, [`tier1/${skill}/*`]: saturday, 'tier1/general/email': saturday };
    await supervisor.call(supervisor.raw.setCalendars, { calendarsJson: JSON.stringify(newSet) });
    // The change travels on cc.calendars.v1; each try is a new customer, so each gets its own acknowledgement.
    const lee = await waitFor(
      async () => {
        const who = `${uniqueId('lee')}@customer.test`;
        await sendMail(who);
        const said = await waitFor(() => closedMailsTo(who).find((m) => m.text?.includes('Your reference is')), 30_000, 'an acknowledgement');
        return said.text!.includes('we open again tomorrow at 10:00 (Europe/Paris)') ? who : undefined;
      },
      20_000,
      'an acknowledgement with the new hours',
    );
    // Routing's hours are the same new ones: still one closed mail.
    await expectOneClosedMail(routing, closedMailsTo, lee, skill);
  });
});

/** Once routing queued the customer's conversation (its status mail would be in the same transaction), one closed mail only. */
async function expectOneClosedMail(
  routing: Awaited<ReturnType<typeof startRouting>>,
  closedMailsTo: (from: string) => ParsedMail[],
  from: string,
  skill: string,
): Promise<void> {
  const id = await waitFor(
    () => [...routing.engine.conversations.values()].find((c) => c.queue === `tier1/${skill}/email` && c.state === 'queued' && c.recipient?.value === from)?.id,
    30_000,
    'the email conversation queued',
  );
  expect(routing.engine.conversationState(id)!.toldClosedUntil).toBeGreaterThan(0);
  // The sink gets mails within milliseconds of their publication: two seconds is ample for a second one.
  await new Promise((r) => setTimeout(r, 2000));
  expect(closedMailsTo(from)).toHaveLength(1);
}
