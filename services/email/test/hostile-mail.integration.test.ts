// Hostile and malformed mail over real SMTP, generated with fast-check: broken MIME, huge
// headers, odd encodings, missing or doubled From, random bytes. Each gets a specific answer or is
// accepted safely; the server never falls over, never publishes a corrupt record, and an ordinary
// mail sent at the same time is accepted as usual.
import fc from 'fast-check';
import nodemailer from 'nodemailer';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '#libs/config';
import { topics } from '#libs/kafka';
import { ContactKind, ContactReceived, SenderVerdict } from '#libs/proto';
import type { ServiceContext } from '#libs/service';
import { dropDatabase, recordTopics, testContext, uniqueId, waitFor } from '#libs/testing';
import { emailConfig } from '../src/config';
import { startEmailService } from '../src/service';
import { startTestDns, type TestDns } from './dns-server';
import { openSmtp } from './raw-smtp';
import { emailTestEnv } from './service-env';

const database = uniqueId('email_hostile_test').replace(/-/g, '_');
let dns: TestDns;
let ctx: ServiceContext;
let smtpPort: number;
let recorder: Awaited<ReturnType<typeof recordTopics>>;

beforeAll(async () => {
  dns = await startTestDns({ txt: { 'good.test': ['v=spf1 ip4:127.0.0.1 -all'], '_dmarc.good.test': ['v=DMARC1; p=reject'] }, servfail: ['broken.test'] });
  recorder = await recordTopics([topics.contactInbound.name]);
  ctx = testContext('email-hostile');
  ({ smtpPort } = await startEmailService(
    ctx,
    loadConfig(emailConfig, {
      ...emailTestEnv(database),
      LOG_LEVEL: 'silent',
      SUPPORT_DOMAINS: 'support.test',
      EMAIL_OUTBOUND_ENABLED: 'false',
      EMAIL_DNS_SERVERS: dns.server,
      EMAIL_DNS_TIMEOUT_MS: '300',
      SMTP_MAX_MESSAGE_BYTES: '200000',
      SMTP_MAX_HEADER_BYTES: '20000',
      SMTP_MAX_REFERENCES: '50',
      SMTP_RATE_PER_IP: '1000',
    }),
  ));
});

afterAll(async () => {
  await ctx.stop();
  await recorder.close();
  await dns.close();
  await dropDatabase(database);
});

const b64 = (s: string) => Buffer.from(s).toString('base64');
const line = fc.string({ maxLength: 60, unit: 'binary' }).map((s) => s.replace(/[\r\n]/g, ' '));

const fromHeader = fc.oneof(
  fc.constant(''),
  fc.constant('From: \r\n'),
  fc.constant('From: <<<@@>>>\r\n'),
  fc.constant('From: "Ana" <ana@good.test>\r\n'),
  fc.constant('From: ana@good.test, boss@bank.test\r\n'),
  fc.constant('From: ana@good.test\r\nFrom: eve@broken.test\r\n'),
  line.map((s) => `From: =?utf-8?B?${b64(s)}?= <ana@good.test>\r\n`),
  line.map((s) => `From: ${s}\r\n`),
);
const subject = fc.oneof(
  line.map((s) => `Subject: ${s}\r\n`),
  line.map((s) => `Subject: =?x-unknown?Q?${s.replace(/\s/g, '_')}?=\r\n`),
  line.map((s) => `Subject: =?utf-8?B?${b64(s)}!!?=\r\n`),
  fc.constant(''),
);
const body = fc.oneof(fc.string({ maxLength: 400, unit: 'grapheme' }), fc.string({ maxLength: 400, unit: 'binary' }));
const mime = fc.oneof(
  body.map((b) => `Content-Type: text/plain; charset=utf-8\r\n\r\n${b}`),
  body.map((b) => `Content-Type: text/plain; charset=x-bogus\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n=ZZ${b}=\r\n`),
  body.map((b) => `Content-Type: text/html\r\nContent-Transfer-Encoding: base64\r\n\r\n${b}!!`),
  body.map(
    (b) =>
      `Content-Type: multipart/mixed; boundary="zz"\r\n\r\n--zz\r\nContent-Type: text/plain\r\n\r\n${b}\r\n--zz\r\nContent-Type: application/pdf; name="${b.slice(0, 20)}"\r\nContent-Transfer-Encoding: base64\r\n\r\n%%%`,
  ),
  body.map((b) => `Content-Type: multipart/alternative\r\n\r\n${b}`),
  body.map((b) => `Content-Type: multipart/report; report-type=delivery-status; boundary="r"\r\n\r\n--r\r\n${b}`),
);
const hostile = fc.oneof(
  {
    weight: 4,
    arbitrary: fc.record({
      from: fromHeader,
      subject,
      mime,
      filler: fc.nat(30_000),
      references: fc.nat(70),
      envelope: fc.constantFrom('x@good.test', '', 'eve@broken.test'),
    }),
  },
  { weight: 1, arbitrary: fc.record({ bytes: fc.uint8Array({ maxLength: 2000 }), envelope: fc.constant('x@good.test') }) },
);
type Hostile = typeof hostile extends fc.Arbitrary<infer T> ? T : never;

function rawOf(h: Hostile): Buffer {
  if ('bytes' in h) return Buffer.from(h.bytes);
  const refs = h.references ? `References: ${Array.from({ length: h.references }, (_, i) => `<r${i}@good.test>`).join(' ')}\r\n` : '';
  const filler = h.filler > 10_000 ? `X-Filler: ${'y'.repeat(h.filler)}\r\n` : '';
  return Buffer.from(`${h.from}${h.subject}${refs}${filler}MIME-Version: 1.0\r\n${h.mime}\r\n`, 'latin1');
}

const ANSWERS = [250, 550, 552, 554];
// Control characters other than tab and newline never reach an event.

const CONTROL = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/;

describe('hostile mail', () => {
  it('gets a specific answer or is accepted safely, and an ordinary mail beside it is unaffected', { timeout: 180_000 }, async () => {
    const answered: { rcpt: string; code: number }[] = [];
    const ordinary: { messageId: string; text: string }[] = [];
    await fc.assert(
      fc.asyncProperty(hostile, async (h) => {
        const rcpt = `${uniqueId('case')}@support.test`;
        const text = `An ordinary question ${uniqueId('q')}`;
        const normal = nodemailer
          .createTransport({ host: '127.0.0.1', port: smtpPort, secure: false, ignoreTLS: true })
          .sendMail({ from: `${uniqueId('ana')}@good.test`, to: 'help@support.test', subject: 'Ordinary', text });
        const smtp = await openSmtp(smtpPort);
        const [reply, info] = await Promise.all([smtp.send(h.envelope, rcpt, rawOf(h)), normal]);
        smtp.close();
        expect(info.response).toMatch(/^250/);
        ordinary.push({ messageId: info.messageId, text });
        expect(ANSWERS, reply.text).toContain(reply.code);
        if (reply.code !== 250) expect(reply.text).toMatch(/^5\d\d 5\.\d\.\d \S/);
        answered.push({ rcpt, code: reply.code });
      }),
      { numRuns: 30, seed: Number(process.env.FC_SEED ?? Date.now() % 100_000), endOnFailure: true },
    );

    // Every ordinary mail arrived whole.
    await waitFor(
      () => ordinary.every((o) => recorder.values(topics.contactInbound, ctx).some((c) => c.externalId === o.messageId)),
      30_000,
      'every ordinary contact',
    );
    for (const o of ordinary) expect(recorder.values(topics.contactInbound, ctx).find((c) => c.externalId === o.messageId)?.text).toBe(o.text);

    // What was accepted was published once, as a sound record; what was refused, never.
    const accepted = answered.filter((a) => a.code === 250);
    const contactFor = (rcpt: string) => recorder.values(topics.contactInbound, ctx).filter((c) => c.recipient?.value === rcpt);
    await waitFor(() => accepted.every((a) => contactFor(a.rcpt).length > 0), 30_000, 'the accepted hostile contacts');
    await new Promise((r) => setTimeout(r, 500));
    for (const a of answered) {
      const contacts = contactFor(a.rcpt);
      expect(contacts).toHaveLength(a.code === 250 ? 1 : 0);
      for (const c of contacts) {
        expect(c.sender?.value).toMatch(/^[^\s@<>()",;:]+@[^\s@<>()",;:]+$/);
        for (const field of [c.subject, c.text, c.quotedText, c.senderDisplayName]) expect(field).not.toMatch(CONTROL);
        expect(c.senderAuthentication?.verdict).not.toBe(SenderVerdict.SENDER_VERDICT_UNSPECIFIED);
        if (c.kind === ContactKind.CONTACT_KIND_MESSAGE) expect(c.conversationId).not.toBe('');
      }
    }
    const ours = recorder.records.filter((r) => r.topic === topics.contactInbound.name && (r.headers.ce_source ?? '').endsWith(`/${ctx.instanceId}`));
    for (const r of ours) expect(() => ContactReceived.decode(r.message.value ?? Buffer.alloc(0))).not.toThrow();
    expect(ours).toHaveLength(ordinary.length + accepted.length);
  });
});

describe('a sender that resets its connection', () => {
  it('inside a transaction and in the middle of DATA loses only its own mail', async () => {
    for (const cut of ['RCPT TO', 'DATA']) {
      const smtp = await openSmtp(smtpPort);
      for (const line of ['EHLO client.test', `MAIL FROM:<${uniqueId('cut')}@good.test>`, 'RCPT TO:<help@support.test>'])
        expect((await smtp.command(line)).code).toBe(250);
      if (cut === 'DATA') expect((await smtp.command('DATA')).code).toBe(354);
      smtp.reset();
      await smtp.closed;
    }
    const info = await nodemailer
      .createTransport({ host: '127.0.0.1', port: smtpPort, secure: false, ignoreTLS: true })
      .sendMail({ from: `${uniqueId('ana')}@good.test`, to: 'help@support.test', subject: 'After the resets', text: 'still answered' });
    expect(info.response).toMatch(/^250/);
  });
});
