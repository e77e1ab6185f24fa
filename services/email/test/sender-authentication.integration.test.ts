// Sender authentication end to end: mail over real SMTP, SPF/DKIM/DMARC answered by a real DNS
// server on loopback, DKIM signatures made by nodemailer, contacts and acknowledgements read back
// from Kafka. Also the bounds on References, header size and open connections.
import { generateKeyPairSync } from 'node:crypto';
import nodemailer from 'nodemailer';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '#libs/config';
import { topics } from '#libs/kafka';
import { ConversationSender, OutboundKind, SenderVerdict, type ContactReceived } from '#libs/proto';
import type { ServiceContext } from '#libs/service';
import { dropDatabase, recordTopics, testContext, uniqueId, waitFor } from '#libs/testing';
import { emailConfig } from '../src/config';
import { startEmailService } from '../src/service';
import { startTestDns, type TestDns } from './dns-server';
import { openSmtp } from './raw-smtp';
import { emailTestEnv } from './service-env';

const database = uniqueId('email_auth_test').replace(/-/g, '_');
const keyOf = () => generateKeyPairSync('rsa', { modulusLength: 2048 });
const signing = keyOf();
const stranger = keyOf();
const publicKey = signing.publicKey.export({ type: 'spki', format: 'der' }).toString('base64');
const pem = (k: ReturnType<typeof keyOf>) => k.privateKey.export({ type: 'pkcs8', format: 'pem' }) as string;

let dns: TestDns;
let ctx: ServiceContext;
let smtpPort: number;
let recorder: Awaited<ReturnType<typeof recordTopics>>;
const instances: ServiceContext[] = [];

function configFor(overrides: Record<string, string> = {}) {
  return loadConfig(emailConfig, {
    ...emailTestEnv(database),
    LOG_LEVEL: 'silent',
    SUPPORT_DOMAINS: 'support.test',
    EMAIL_OUTBOUND_ENABLED: 'false',
    EMAIL_DNS_SERVERS: dns.server,
    EMAIL_DNS_TIMEOUT_MS: '300',
    EMAIL_AUTH_TIMEOUT_MS: '2000',
    SMTP_MAX_MESSAGE_BYTES: '400000',
    SMTP_MAX_HEADER_BYTES: '20000',
    SMTP_MAX_REFERENCES: '100',
    ...overrides,
  });
}

/** good.test: SPF allows this machine; signed.test: only DKIM; forged.test: SPF for another host. */
beforeAll(async () => {
  dns = await startTestDns({
    txt: {
      'good.test': ['v=spf1 ip4:127.0.0.1 -all'],
      '_dmarc.good.test': ['v=DMARC1; p=reject'],
      'signed.test': ['v=spf1 -all'],
      '_dmarc.signed.test': ['v=DMARC1; p=reject'],
      'sel._domainkey.signed.test': [`v=DKIM1; k=rsa; p=${publicKey}`],
      'forged.test': ['v=spf1 ip4:192.0.2.1 -all'],
      '_dmarc.forged.test': ['v=DMARC1; p=quarantine'],
      // Exists, publishes nothing.
      'plain.test': [],
    },
    servfail: ['broken.test'],
    silent: ['slow.test'],
  });
  recorder = await recordTopics([topics.contactInbound.name, topics.outbound.name]);
  ctx = testContext('email-auth');
  ({ smtpPort } = await startEmailService(ctx, configFor()));
});

afterAll(async () => {
  for (const instance of instances) await instance.stop();
  await ctx.stop();
  await recorder.close();
  await dns.close();
  await dropDatabase(database);
});

const transport = (dkim?: { domain: string; key: string }) =>
  nodemailer.createTransport({
    host: '127.0.0.1',
    port: smtpPort,
    secure: false,
    ignoreTLS: true,
    name: 'client.test',
    ...(dkim ? { dkim: { domainName: dkim.domain, keySelector: 'sel', privateKey: dkim.key } } : {}),
  });

const contactOf = (messageId: string) =>
  waitFor(() => recorder.values(topics.contactInbound, ctx).find((c) => c.externalId === messageId), 20_000, `the contact ${messageId}`);
const acksFor = (c: ContactReceived) =>
  recorder.values(topics.outbound, ctx).filter((o) => o.kind === OutboundKind.OUTBOUND_KIND_ACKNOWLEDGEMENT && o.conversationId === c.conversationId);

async function mail(from: string, options: { dkim?: { domain: string; key: string }; subject?: string; inReplyTo?: string } = {}) {
  const info = await transport(options.dkim).sendMail({
    from,
    to: 'help@support.test',
    subject: options.subject ?? 'Order question',
    text: `Where is my order? ${uniqueId('n')}`,
    inReplyTo: options.inReplyTo,
  });
  expect(info.response).toMatch(/^250/);
  return { messageId: info.messageId, contact: await contactOf(info.messageId) };
}

const user = (domain: string) => `${uniqueId('c')}@${domain}`;

describe('the verdict on the sender', () => {
  it('records pass, fail, none and temporary on the contact, accepts every one, and acknowledges only the authenticated', async () => {
    const forged = await mail(user('forged.test'));
    const badSignature = await mail(user('signed.test'), { dkim: { domain: 'signed.test', key: pem(stranger) } });
    const unknown = await mail(user('plain.test'));
    const servfail = await mail(user('broken.test'));
    const started = Date.now();
    const timeout = await mail(user('slow.test'));
    expect(Date.now() - started).toBeLessThan(5000);
    const bySpf = await mail(user('good.test'));
    const byDkim = await mail(user('signed.test'), { dkim: { domain: 'signed.test', key: pem(signing) } });

    expect(forged.contact.senderAuthentication).toMatchObject({
      spf: 'fail',
      dmarc: 'fail',
      dmarcPolicy: 'quarantine',
      fromAligned: false,
      verdict: SenderVerdict.SENDER_VERDICT_FAIL,
    });
    expect(badSignature.contact.senderAuthentication).toMatchObject({ spf: 'fail', dkim: 'fail', dmarc: 'fail', verdict: SenderVerdict.SENDER_VERDICT_FAIL });
    expect(unknown.contact.senderAuthentication).toMatchObject({ spf: 'none', dkim: 'none', dmarc: 'none', verdict: SenderVerdict.SENDER_VERDICT_NONE });
    expect(servfail.contact.senderAuthentication).toMatchObject({ spf: 'temperror', verdict: SenderVerdict.SENDER_VERDICT_TEMPORARY, fromAligned: false });
    expect(timeout.contact.senderAuthentication?.verdict).toBe(SenderVerdict.SENDER_VERDICT_TEMPORARY);
    expect(bySpf.contact.senderAuthentication).toMatchObject({
      spf: 'pass',
      spfDomain: 'good.test',
      dmarc: 'pass',
      fromDomain: 'good.test',
      fromAligned: true,
      verdict: SenderVerdict.SENDER_VERDICT_PASS,
    });
    expect(byDkim.contact.senderAuthentication).toMatchObject({
      spf: 'fail',
      dkim: 'pass',
      dkimDomain: 'signed.test',
      dmarc: 'pass',
      verdict: SenderVerdict.SENDER_VERDICT_PASS,
    });
    expect(dns.queries.get('_dmarc.good.test/TXT')).toBeGreaterThan(0);

    // Every one opened its conversation and goes to an agent; only the authenticated were answered.
    for (const m of [forged, badSignature, unknown, servfail, timeout, bySpf, byDkim]) expect(m.contact.newConversation).toBe(true);
    await waitFor(() => acksFor(bySpf.contact).length && acksFor(byDkim.contact).length, 20_000, 'the acknowledgements of the authenticated senders');
    await new Promise((r) => setTimeout(r, 500));
    for (const m of [forged, badSignature, unknown, servfail, timeout]) expect(acksFor(m.contact)).toEqual([]);
  });

  it('acknowledges a sender that publishes nothing when EMAIL_ACK_SENDERS is not-failed, still not a failed one', async () => {
    const lenient = testContext('email-auth-lenient');
    instances.push(lenient);
    const { smtpPort: port } = await startEmailService(lenient, configFor({ EMAIL_ACK_SENDERS: 'not-failed' }));
    const send = async (from: string) =>
      (
        await nodemailer
          .createTransport({ host: '127.0.0.1', port, secure: false, ignoreTLS: true })
          .sendMail({ from, to: 'help@support.test', subject: 'hi', text: 'hello' })
      ).messageId;
    const [none, failed] = [await send(user('plain.test')), await send(user('forged.test'))];
    const contacts = await waitFor(
      () => {
        const found = [none, failed].map((id) => recorder.values(topics.contactInbound, lenient).find((c) => c.externalId === id));
        return found.every(Boolean) ? (found as ContactReceived[]) : undefined;
      },
      20_000,
      'both contacts',
    );
    const acks = (c: ContactReceived) => recorder.values(topics.outbound, lenient).filter((o) => o.conversationId === c.conversationId);
    await waitFor(() => acks(contacts[0]!).length, 20_000, 'the acknowledgement of the sender without records');
    await new Promise((r) => setTimeout(r, 500));
    expect(acks(contacts[1]!)).toEqual([]);
  });
});

describe('replies into a conversation', () => {
  it("threads a reply from another address by [#REF] or In-Reply-To but marks it; the customer's own is verified", async () => {
    const customer = user('good.test');
    const first = await mail(customer, { subject: 'Refund please' });
    const reference = first.contact.conversationReference;

    const byReference = await mail(user('plain.test'), { subject: `Re: Refund please [#${reference}]` });
    expect(byReference.contact).toMatchObject({ conversationId: first.contact.conversationId, newConversation: false });
    expect(byReference.contact.conversationSender).toEqual({ result: ConversationSender.CONVERSATION_SENDER_OTHER, joinedBy: 'subject-reference' });

    const byHeader = await mail(user('good.test'), { subject: 'Re: Refund please', inReplyTo: first.messageId });
    expect(byHeader.contact.conversationId).toBe(first.contact.conversationId);
    expect(byHeader.contact.conversationSender).toEqual({ result: ConversationSender.CONVERSATION_SENDER_OTHER, joinedBy: 'in-reply-to' });

    const own = await mail(customer.toUpperCase(), { subject: 'Re: Refund please', inReplyTo: first.messageId });
    expect(own.contact.conversationSender).toEqual({ result: ConversationSender.CONVERSATION_SENDER_CUSTOMER, joinedBy: 'in-reply-to' });
    expect(first.contact.conversationSender).toBeUndefined();
    // Replies are not acknowledged again, marked or not.
    expect(acksFor(byReference.contact)).toHaveLength(acksFor(first.contact).length);
  });

  it("marks a reply with the customer's address that fails authentication as unverified", async () => {
    const customer = user('signed.test');
    const first = await mail(customer, { dkim: { domain: 'signed.test', key: pem(signing) } });
    expect(first.contact.senderAuthentication?.verdict).toBe(SenderVerdict.SENDER_VERDICT_PASS);
    const forgedReply = await mail(customer, { subject: `Re: Order question [#${first.contact.conversationReference}]` });
    expect(forgedReply.contact.conversationId).toBe(first.contact.conversationId);
    expect(forgedReply.contact.senderAuthentication?.verdict).toBe(SenderVerdict.SENDER_VERDICT_FAIL);
    expect(forgedReply.contact.conversationSender?.result).toBe(ConversationSender.CONVERSATION_SENDER_CUSTOMER_UNVERIFIED);
  });
});

describe('bounds', () => {
  it('refuses more References than the limit, an overlong id and an oversized header with 552 5.3.4', async () => {
    const smtp = await openSmtp(smtpPort);
    const head = (extra: string) =>
      Buffer.from(
        `From: ${user('good.test')}\r\nTo: help@support.test\r\nSubject: refs\r\nMessage-ID: <${uniqueId('m')}@good.test>\r\n${extra}\r\n\r\nhello\r\n`,
      );
    const refs = Array.from({ length: 101 }, (_, i) => `<r${i}@good.test>`).join('\r\n ');
    const tooMany = await smtp.send('x@good.test', 'help@support.test', head(`References: ${refs}`));
    expect(tooMany).toMatchObject({ code: 552 });
    expect(tooMany.text).toContain('5.3.4 References and In-Reply-To name 101 messages; the limit is 100');
    const long = await smtp.send('x@good.test', 'help@support.test', head(`In-Reply-To: <${'a'.repeat(400)}@good.test>`));
    expect(long.text).toMatch(/^552 5\.3\.4 A message id in References or In-Reply-To is \d+ characters long; the limit is 250/);
    const big = await smtp.send('x@good.test', 'help@support.test', head(`X-Filler: ${'y'.repeat(30_000)}`));
    expect(big.text).toMatch(/^552 5\.3\.4 The message header is \d+ bytes; the limit is 20000/);
    // The connection is still good for a mail within the bounds.
    expect((await smtp.send('x@good.test', 'help@support.test', head(`References: <r1@good.test>`))).code).toBe(250);
    smtp.close();
  });

  it('holds at most SMTP_MAX_CLIENTS_PER_IP connections from one address and SMTP_MAX_CLIENTS in all, with 421', async () => {
    const limited = testContext('email-auth-limits');
    instances.push(limited);
    const { smtpPort: port } = await startEmailService(limited, configFor({ SMTP_MAX_CLIENTS: '3', SMTP_MAX_CLIENTS_PER_IP: '2' }));
    const a1 = await openSmtp(port);
    const a2 = await openSmtp(port);
    const a3 = await openSmtp(port);
    expect([a1.greeting.code, a2.greeting.code]).toEqual([220, 220]);
    expect(a3.greeting.text).toMatch(/^421 4\.7\.0 Too many open connections from your address \(the limit is 2\)/);
    await a3.closed;
    const b1 = await openSmtp(port, { localAddress: '127.0.0.2' });
    expect(b1.greeting.code).toBe(220);
    const c1 = await openSmtp(port, { localAddress: '127.0.0.3' });
    expect(c1.greeting.text).toMatch(/^421 .*Too many connected clients/);
    await c1.closed;
    // A closed connection frees its slot, in all and for its address.
    a1.close();
    await a1.closed;
    await new Promise((r) => setTimeout(r, 100));
    const again = await openSmtp(port);
    expect(again.greeting.code).toBe(220);
    expect((await again.send('x@good.test', 'help@support.test', Buffer.from(`From: ${user('good.test')}\r\nSubject: after\r\n\r\nhi\r\n`))).code).toBe(250);
    for (const s of [a2, b1, again]) s.close();
  });
});
