// The email service end to end over real SMTP, Kafka and the store: nodemailer sends to the
// inbound server, events are read back from Kafka, outbound mail lands in a local SMTP sink.
import { execFileSync } from 'node:child_process';
import http from 'node:http';
import { randomBytes, createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import nodemailer from 'nodemailer';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '#libs/config';
import { topics } from '#libs/kafka';
import { listen } from '#libs/observability';
import { Channel, ContactKind, ContactReceived, IdentityKind, OutboundKind, OutboundMessage } from '#libs/proto';
import { connectKafka, type ServiceContext, type ServiceKafka } from '#libs/service';
import { dropDatabase, cuttableSocketFactory, KAFKA_BROKERS, recordTopics, startMailSink, testContext, uniqueId, waitFor, type MailSink } from '#libs/testing';
import { emailConfig } from '../src/config';
import { startEmailService } from '../src/service';
import type { EmailStore } from '../src/store';
import { surveyLink } from '../src/survey-link';
import { SURVEY_AGENT, SURVEY_QUEUE } from '#libs/survey';
import { startTestDns, type TestDns } from './dns-server';
import { emailTestEnv } from './service-env';

const database = uniqueId('email_test').replace(/-/g, '_');
let sink: MailSink;
let ctx: ServiceContext;
let smtpPort: number;
let store: EmailStore;
let kafka: ServiceKafka;
let recorder: Awaited<ReturnType<typeof recordTopics>>;
let dns: TestDns;
let surveyPort: number;
const SURVEY_KEY = randomBytes(32).toString('hex');

function configFor(overrides: Record<string, string> = {}) {
  return loadConfig(emailConfig, {
    ...emailTestEnv(database),
    SUPPORT_ADDRESSES: 'help@shop.test',
    SUPPORT_DOMAINS: 'support.test',
    SMTP_URL: sink.url,
    MAIL_FROM: 'Support <support@support.test>',
    SMTP_MAX_MESSAGE_BYTES: '300000',
    SMTP_RATE_PER_SENDER: '20',
    OUTBOUND_MAX_ATTEMPTS: '2',
    EMAIL_OUTBOUND_GROUP: uniqueId('email-outbound'),
    // The customers' domain lets this machine send its mail (SPF), so they are acknowledged.
    EMAIL_DNS_SERVERS: dns.server,
    ...overrides,
  });
}

const client = (port = () => smtpPort) => nodemailer.createTransport({ host: '127.0.0.1', port: port(), secure: false, ignoreTLS: true });

const contactsFrom = (address: string) => recorder.values(topics.contactInbound).filter((c) => c.sender?.value === address);

const waitContact = (predicate: (c: ContactReceived) => boolean) =>
  waitFor(() => recorder.values(topics.contactInbound).find(predicate), 20_000, 'the contact on Kafka');

const deliveryReport = (outboundMessageId: string) =>
  waitFor(
    // Other tests' email instances read the same outbound topic and report to their own sinks.
    () =>
      recorder
        .values(topics.conversationEvents, ctx)
        .find((e) => e.step?.$case === 'deliveryReported' && e.step.deliveryReported.outboundMessageId === outboundMessageId),
    20_000,
    'the delivery report',
  );

const customer = () => `${uniqueId('cust')}@customer.test`;

beforeAll(async () => {
  dns = await startTestDns({ txt: { 'customer.test': ['v=spf1 ip4:127.0.0.1 -all'] } });
  sink = await startMailSink({ refuse: (to) => (to.startsWith('refused') ? { responseCode: 550, message: '5.1.1 no such user' } : undefined) });
  recorder = await recordTopics([topics.contactInbound.name, topics.outbound.name, topics.conversationEvents.name]);
  ctx = testContext('email-test');
  // The links' base URL must be known before start: take a free port first.
  const probe = http.createServer();
  const free = await listen(probe, 0);
  await new Promise((r) => probe.close(r));
  const surveyLinks = {
    EMAIL_SURVEY_LINK_KEY: SURVEY_KEY,
    EMAIL_SURVEY_HTTP_PORT: String(free),
    EMAIL_SURVEY_BASE_URL: `http://127.0.0.1:${free}`,
    EMAIL_SURVEY_BAD_LINKS_PER_MINUTE: '3',
  };
  ({ smtpPort, store, surveyPort: surveyPort = 0 } = await startEmailService(ctx, configFor(surveyLinks)));
  kafka = await connectKafka(testContext('email-test-kafka'), { KAFKA_BROKERS, KAFKA_TOPIC_PARTITIONS: 3, KAFKA_REPLICATION_FACTOR: 1 });
});

afterAll(async () => {
  await ctx.stop();
  await recorder.close();
  await sink.close();
  await dns.close();
  await dropDatabase(database);
});

describe('inbound mail', () => {
  it('turns a mail into a ContactReceived, answered 250 after Kafka, and acknowledges it with the reference and expected time', async () => {
    const from = customer();
    const attachment = randomBytes(2048);
    const info = await client().sendMail({
      from: `"Ana Lima" <${from.toUpperCase()}>`,
      to: 'help@shop.test',
      subject: 'My parcel <b>never</b> arrived',
      text: 'Where is order 1234?\n\nOn Mon, Shop wrote:\n> Your order has shipped',
      attachments: [{ filename: 'receipt.pdf', content: attachment, contentType: 'application/pdf' }],
    });
    expect(info.response).toMatch(/^250/);

    const contact = await waitContact((c) => c.sender?.value === from);
    expect(contact).toMatchObject({
      channel: Channel.CHANNEL_EMAIL,
      kind: ContactKind.CONTACT_KIND_MESSAGE,
      newConversation: true,
      senderDisplayName: 'Ana Lima',
      subject: 'My parcel <b>never</b> arrived',
      text: 'Where is order 1234?',
      quotedText: 'On Mon, Shop wrote:\n> Your order has shipped',
      recipient: { kind: IdentityKind.IDENTITY_KIND_EMAIL, value: 'help@shop.test' },
      externalId: info.messageId,
    });
    expect(contact.conversationReference).toMatch(/^[A-Z0-9]{6}$/);
    const sha = createHash('sha256').update(attachment).digest('hex');
    expect(contact.attachments).toEqual([
      { name: 'receipt.pdf', contentType: 'application/pdf', sizeBytes: 2048, sha256: sha, storageRef: `email-attachment:${sha}` },
    ]);
    expect((await store.attachment(sha))?.content.equals(attachment)).toBe(true);

    const ack = await waitFor(() => sink.mails.find((m) => m.to && JSON.stringify(m.to).includes(from)), 20_000, 'the acknowledgement mail');
    expect(ack.subject).toBe(`Re: My parcel <b>never</b> arrived [#${contact.conversationReference}]`);
    expect(ack.text).toContain(`Your reference is ${contact.conversationReference}`);
    expect(ack.text).toContain('within 4 hours of our opening hours');
    expect(ack.inReplyTo).toBe(info.messageId);
    expect(ack.headers.get('auto-submitted')).toBe('auto-replied');
    expect(ack.messageId).toMatch(/@support\.test>$/);
  });

  it('carries whom a mail says it is written for (an On-Behalf-Of header, or the words in the text) on the contact', async () => {
    const agency = customer();
    await client().sendMail({
      from: agency,
      to: 'help@shop.test',
      subject: 'Booking change',
      text: 'Move it to Friday',
      headers: { 'On-Behalf-Of': 'Kim <KIM@example.org>' },
    });
    const byHeader = await waitContact((c) => c.sender?.value === agency);
    expect(byHeader.onBehalfOf).toEqual({ kind: IdentityKind.IDENTITY_KIND_EMAIL, value: 'kim@example.org', namespace: '' });
    const assistant = customer();
    await client().sendMail({ from: assistant, to: 'help@shop.test', subject: 'Table', text: 'I write on behalf of lee@example.org about Friday.' });
    expect((await waitContact((c) => c.sender?.value === assistant)).onBehalfOf?.value).toBe('lee@example.org');
  });

  it('threads replies by In-Reply-To and by the subject reference; a new subject opens a new conversation', async () => {
    const from = customer();
    const first = await client().sendMail({ from, to: 'anyone@support.test', subject: 'Refund', text: 'Please refund me.' });
    const opened = await waitContact((c) => c.externalId === first.messageId);

    const reply = await client().sendMail({
      from,
      to: 'anyone@support.test',
      subject: 'Re: Refund',
      text: 'Any news?',
      inReplyTo: first.messageId,
      references: [first.messageId],
    });
    const byHeader = await waitContact((c) => c.externalId === reply.messageId);
    expect(byHeader).toMatchObject({ conversationId: opened.conversationId, newConversation: false, conversationReference: opened.conversationReference });

    const byReference = await client().sendMail({
      from: customer(),
      to: 'anyone@support.test',
      subject: `Fwd: Refund [#${opened.conversationReference}]`,
      text: 'My husband wrote about this.',
    });
    expect((await waitContact((c) => c.externalId === byReference.messageId)).conversationId).toBe(opened.conversationId);

    const other = await client().sendMail({ from, to: 'anyone@support.test', subject: 'Another question', text: 'Do you ship abroad?' });
    const fresh = await waitContact((c) => c.externalId === other.messageId);
    expect(fresh.newConversation).toBe(true);
    expect(fresh.conversationId).not.toBe(opened.conversationId);
  });

  it('turns an HTML-only mail into safe text', async () => {
    const from = customer();
    const sent = await client().sendMail({
      from,
      to: 'help@shop.test',
      subject: 'html',
      html: '<p>Hi <i>team</i></p><script>steal()</script><img src=x onerror="alert(1)">',
    });
    const contact = await waitContact((c) => c.externalId === sent.messageId);
    expect(contact.text).toBe('Hi team');
  });

  it('refuses relaying (550), oversize mail (552), a sender over its rate (450) and a mail without a sender (550)', async () => {
    await expect(client().sendMail({ from: customer(), to: 'victim@elsewhere.test', subject: 'x', text: 'relay me' })).rejects.toMatchObject({
      responseCode: 550,
    });
    await expect(client().sendMail({ from: customer(), to: 'help@shop.test', subject: 'big', text: 'x'.repeat(400_000) })).rejects.toMatchObject({
      responseCode: 552,
    });

    const flooder = customer();
    const results = [];
    for (let i = 0; i < 22; i++)
      results.push(
        await client()
          .sendMail({ from: flooder, to: 'help@shop.test', subject: `n${i}`, text: 'hi' })
          .then(
            () => 250,
            (e: { responseCode: number }) => e.responseCode,
          ),
      );
    expect(results.filter((c) => c === 250)).toHaveLength(20);
    expect(results.slice(20)).toEqual([450, 450]);

    const raw = 'Subject: no sender\r\nMessage-ID: <broken@x>\r\nContent-Type: multipart/mixed; boundary="zz"\r\n\r\n--zz\r\nbroken';
    await expect(client().sendMail({ envelope: { from: '', to: ['help@shop.test'] }, raw })).rejects.toMatchObject({ responseCode: 550 });
  });

  it('records auto-replies and bounces without opening a conversation or answering them', async () => {
    const robot = customer();
    const auto = await client().sendMail({
      from: robot,
      to: 'help@shop.test',
      subject: 'Out of office',
      text: 'I am away',
      headers: { 'Auto-Submitted': 'auto-replied' },
    });
    const bounce = await client().sendMail({
      envelope: { from: '', to: ['help@shop.test'] },
      raw: `From: MAILER-DAEMON@mx.customer.test\r\nTo: help@shop.test\r\nSubject: Undelivered Mail\r\nMessage-ID: <${uniqueId('bounce')}@mx>\r\nContent-Type: multipart/report; report-type=delivery-status; boundary="b"\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\nDelivery failed\r\n--b--\r\n`,
    });
    expect(bounce.response).toMatch(/^250/);
    const recorded = await waitContact((c) => c.externalId === auto.messageId);
    expect(recorded).toMatchObject({ kind: ContactKind.CONTACT_KIND_AUTOMATED, newConversation: false, conversationId: '' });
    expect(recorded.channelMetadata['automated-reason']).toBe('Auto-Submitted: auto-replied');
    const bounced = await waitContact((c) => c.sender?.value === 'mailer-daemon@mx.customer.test' && c.subject === 'Undelivered Mail');
    expect(bounced.kind).toBe(ContactKind.CONTACT_KIND_AUTOMATED);

    // A person's mail sent after them is acknowledged; by then an answer to the robot would have come too.
    const person = customer();
    await client().sendMail({ from: person, to: 'help@shop.test', subject: 'hello', text: 'hello' });
    await waitFor(() => sink.mails.find((m) => JSON.stringify(m.to).includes(person)), 20_000, 'the acknowledgement to the person');
    expect(sink.mails.filter((m) => JSON.stringify(m.to).includes(robot))).toEqual([]);
    expect(recorder.values(topics.outbound).filter((o) => o.recipient?.value === robot)).toEqual([]);
  });
});

describe('connection limits and encryption', () => {
  it('refuses connections over the per-IP rate with 421, and offers STARTTLS when a certificate is configured', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'email-tls-'));
    execFileSync(
      'openssl',
      ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=localhost', '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem')],
      { stdio: 'ignore' },
    );
    const limitedCtx = testContext('email-limits');
    try {
      const { smtpPort: port } = await startEmailService(
        limitedCtx,
        configFor({ SMTP_RATE_PER_IP: '2', SMTP_TLS_CERT_FILE: join(dir, 'cert.pem'), SMTP_TLS_KEY_FILE: join(dir, 'key.pem') }),
      );
      const tls = nodemailer.createTransport({ host: '127.0.0.1', port, secure: false, requireTLS: true, tls: { rejectUnauthorized: false } });
      const info = await tls.sendMail({ from: customer(), to: 'help@shop.test', subject: 'over TLS', text: 'secret' });
      expect(info.response).toMatch(/^250/);
      await client(() => port)
        .sendMail({ from: customer(), to: 'help@shop.test', subject: 'two', text: 'two' })
        .catch(() => undefined);
      await expect(client(() => port).sendMail({ from: customer(), to: 'help@shop.test', subject: 'three', text: 'three' })).rejects.toMatchObject({
        responseCode: 421,
      });
    } finally {
      await limitedCtx.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('Kafka unreachable', () => {
  it('answers 451 while Kafka is unreachable, and the same mail is accepted once, after it is back', async () => {
    const network = cuttableSocketFactory();
    const outageCtx = testContext('email-outage');
    const { smtpPort: port } = await startEmailService(outageCtx, configFor({ PUBLISH_TIMEOUT_MS: '1500' }), { socketFactory: network.socketFactory });
    try {
      const from = customer();
      const mail = { from, to: 'help@shop.test', subject: 'during the outage', text: 'please keep this', messageId: `<${uniqueId('m')}@customer.test>` };
      network.cut();
      await expect(client(() => port).sendMail(mail)).rejects.toMatchObject({ responseCode: 451 });
      network.restore();
      const accepted = await waitFor(
        () =>
          client(() => port)
            .sendMail(mail)
            .then(
              (i) => i,
              () => undefined,
            ),
        30_000,
        'acceptance after the outage',
      );
      expect(accepted.response).toMatch(/^250/);
      await waitContact((c) => c.sender?.value === from);
      await new Promise((r) => setTimeout(r, 1000));
      const ids = new Set(contactsFrom(from).map((c) => c.contactId));
      expect(ids.size).toBe(1);
    } finally {
      network.restore();
      await outageCtx.stop();
    }
  });
});

describe('outbound mail', () => {
  it('sends a reply threaded to the customer mail, with the reference, and reports delivery', async () => {
    const from = customer();
    const first = await client().sendMail({ from, to: 'help@shop.test', subject: 'Broken screen', text: 'My screen is broken.' });
    const contact = await waitContact((c) => c.externalId === first.messageId);
    const reply = OutboundMessage.fromPartial({
      messageId: uniqueId('reply'),
      conversationId: contact.conversationId,
      channel: Channel.CHANNEL_EMAIL,
      kind: OutboundKind.OUTBOUND_KIND_REPLY,
      recipient: { kind: IdentityKind.IDENTITY_KIND_EMAIL, value: from },
      text: 'We will send a new screen tomorrow.',
      agentId: 'agent-7',
    });
    await kafka.producer.publish(topics.outbound, contact.conversationId, reply);

    const mail = await waitFor(() => sink.mails.find((m) => m.text?.includes('new screen tomorrow')), 20_000, 'the reply in the sink');
    expect(mail.subject).toBe(`Re: Broken screen [#${contact.conversationReference}]`);
    expect(mail.inReplyTo).toMatch(/@support\.test>$|^<.+>$/);
    expect(mail.references).toContain(first.messageId);
    expect(mail.headers.has('auto-submitted')).toBe(false);
    const delivered = await deliveryReport(reply.messageId);
    expect(delivered.step).toMatchObject({ deliveryReported: { delivered: true } });
  });

  it('reports a permanent refusal with the server code', async () => {
    const failed = OutboundMessage.fromPartial({
      messageId: uniqueId('reply'),
      conversationId: uniqueId('conv'),
      channel: Channel.CHANNEL_EMAIL,
      kind: OutboundKind.OUTBOUND_KIND_REPLY,
      recipient: { kind: IdentityKind.IDENTITY_KIND_EMAIL, value: 'refused@customer.test' },
      subject: 'About your order',
      text: 'hello',
    });
    await kafka.producer.publish(topics.outbound, failed.conversationId, failed);
    const report = await deliveryReport(failed.messageId);
    expect(report.step).toMatchObject({ deliveryReported: { delivered: false, permanent: true, errorCode: '550' } });
  });
});

describe('survey', () => {
  /** A resolved conversation of `from`: its survey mailed, with a link per score. */
  async function surveyed(from: string) {
    const first = await client().sendMail({ from, to: 'help@shop.test', subject: 'Late delivery', text: 'Where is my parcel?' });
    const contact = await waitContact((c) => c.externalId === first.messageId);
    const survey = OutboundMessage.fromPartial({
      messageId: uniqueId('survey'),
      conversationId: contact.conversationId,
      channel: Channel.CHANNEL_EMAIL,
      kind: OutboundKind.OUTBOUND_KIND_SURVEY,
      text: 'How did we do? Please rate this conversation from 1 (poor) to 5 (excellent).',
      channelMetadata: { [SURVEY_AGENT]: 'ben', [SURVEY_QUEUE]: 'deliveries' },
    });
    await kafka.producer.publish(topics.outbound, contact.conversationId, survey);
    const mail = await waitFor(
      () => sink.mails.find((m) => m.to && JSON.stringify(m.to).includes(from) && m.text?.includes('How did we do?')),
      20_000,
      'the survey',
    );
    return { conversationId: contact.conversationId, reference: contact.conversationReference, mail };
  }
  const answersOf = (conversationId: string) =>
    recorder.values(topics.conversationEvents).filter((e) => e.conversationId === conversationId && e.step?.$case === 'surveyAnswered');
  const links = (text: string) => [...text.matchAll(/http:\/\/127\.0\.0\.1:\d+\/survey\?\S+/g)].map((m) => m[0]);

  it('takes a reply of "2" over SMTP as the answer, not as a message', async () => {
    const from = customer();
    const { conversationId, reference, mail } = await surveyed(from);
    const reply = await client().sendMail({
      from,
      to: 'help@shop.test',
      subject: `Re: Late delivery [#${reference}]`,
      text: '2 it took a week\n\nOn Mon, Support wrote:\n> How did we do?',
      inReplyTo: mail.messageId,
    });
    expect(reply.response).toMatch(/^250/);
    const [answer] = await waitFor(() => (answersOf(conversationId).length ? answersOf(conversationId) : undefined), 20_000, 'the answer');
    expect(answer).toMatchObject({
      eventId: `survey-${conversationId}`,
      channel: Channel.CHANNEL_EMAIL,
      reason: { code: 'email.survey_answered' },
      step: { surveyAnswered: { score: 2, comment: 'it took a week', agentId: 'ben', queue: 'deliveries' } },
    });
    await new Promise((r) => setTimeout(r, 500));
    expect(contactsFrom(from).map((c) => c.externalId)).not.toContain(reply.messageId);

    // The first answer counts: a link opened afterwards says so and records nothing.
    const page = await fetch(links(mail.text!)[4]!);
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('already rated');
    expect(answersOf(conversationId)).toHaveLength(1);
  });

  it('records the score of a signed link and shows a thank-you page; the same link again thanks again', async () => {
    const { conversationId, mail } = await surveyed(customer());
    const all = links(mail.text!);
    expect(all).toHaveLength(5);
    expect(all.every((l) => l.startsWith(`http://127.0.0.1:${surveyPort}/survey?`))).toBe(true);
    const res = await fetch(all[3]!);
    expect(res.status).toBe(200);
    expect(res.headers.get('cache-control')).toBe('no-store');
    expect(await res.text()).toContain('score of 4 out of 5');
    const answer = await waitFor(() => answersOf(conversationId)[0], 20_000, 'the answer');
    expect(answer).toMatchObject({
      channel: Channel.CHANNEL_EMAIL,
      reason: { code: 'email.survey_link_answered' },
      step: { surveyAnswered: { score: 4, comment: '' } },
    });
    expect(await (await fetch(all[3]!)).text()).toContain('score of 4 out of 5');
    expect(await (await fetch(all[0]!)).text()).toContain('already rated');
  });

  it('refuses a changed link with 400, an expired one with 410, and an address that keeps trying with 429, recording nothing', async () => {
    const { conversationId, mail } = await surveyed(customer());
    const tampered = links(mail.text!)[4]!.replace('s=5', 's=1');
    const bad = await fetch(tampered);
    expect(bad.status).toBe(400);
    expect(await bad.text()).toContain('Survey link not valid');
    const expired = surveyLink(`http://127.0.0.1:${surveyPort}`, SURVEY_KEY, { conversationId, score: 5, expiresAt: new Date(Date.now() - 1000) });
    const gone = await fetch(expired);
    expect(gone.status).toBe(410);
    expect(await gone.text()).toContain('Survey link expired');
    expect((await fetch(`http://127.0.0.1:${surveyPort}/survey`, { method: 'POST' })).status).toBe(405);
    // Guessing is cut off: the third bad link this minute is the last answered, then even a good one waits.
    expect((await fetch(tampered)).status).toBe(400);
    const cutOff = await fetch(links(mail.text!)[2]!);
    expect(cutOff.status).toBe(429);
    expect(await cutOff.text()).toContain('Too many tries');
    await new Promise((r) => setTimeout(r, 500));
    expect(answersOf(conversationId)).toEqual([]);
  });
});
