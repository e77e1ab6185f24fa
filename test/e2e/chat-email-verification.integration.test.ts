// Across services, in a real browser: a chat visitor who types a known customer's email is only
// someone who says so, until they prove it with the code the email service mails to that address
// (received here by a real SMTP server). customer-record links the address only then.
import { credentials, Metadata } from '@grpc/grpc-js';
import type { ParsedMail } from 'mailparser';
import nodemailer from 'nodemailer';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '#libs/config';
import { topics } from '#libs/kafka';
import { Channel, CustomerRecordServiceClient, GetCustomerContextRequest, IdentityKind, type GetCustomerContextResponse, type Identity } from '#libs/proto';
import {
  dropDatabase,
  KAFKA_BROKERS,
  launchChromium,
  MONGODB_URI,
  recordTopics,
  startMailSink,
  testAuthEnv,
  testContext,
  testToken,
  uniqueId,
  waitFor,
  type MailSink,
} from '#libs/testing';
import { chatConfig } from '../../services/chat/src/config';
import { startChat } from '../../services/chat/src/service';
import { customerRecordConfig } from '../../services/customer-record/src/config';
import { startCustomerRecord } from '../../services/customer-record/src/service';
import { emailConfig } from '../../services/email/src/config';
import { startEmailService } from '../../services/email/src/service';

const SECRET = 'e2e-verify-secret-0123456789-0123456789';
const database = uniqueId('e2e_verify').replace(/-/g, '_');
const contexts = ['email', 'customer-record', 'chat'].map((name) => testContext(`e2e-verify-${name}`));
let mailbox: ParsedMail[] = [];
let sink: MailSink | undefined;
let smtpPort: number;
let chatPort: number;
let client: InstanceType<typeof CustomerRecordServiceClient>;
// No routing runs here to offer the conversation to an agent: the reads are a supervisor's, with a reason.
let supervisorToken: string;
let browser: Browser;
let recorder: Awaited<ReturnType<typeof recordTopics>>;

beforeAll(async () => {
  sink = await startMailSink();
  mailbox = sink.mails;
  recorder = await recordTopics([topics.contactInbound.name]);
  const common = { KAFKA_BROKERS: KAFKA_BROKERS.join(','), MONGODB_URI, MONGODB_DATABASE: database, HTTP_PORT: '0' };
  const [emailCtx, recordCtx, chatCtx] = contexts as [ReturnType<typeof testContext>, ReturnType<typeof testContext>, ReturnType<typeof testContext>];
  ({ smtpPort } = await startEmailService(
    emailCtx,
    loadConfig(emailConfig, {
      ...common,
      SMTP_PORT: '0',
      SUPPORT_DOMAINS: 'shop.test',
      SMTP_URL: sink.url,
      MAIL_FROM: 'Support <support@shop.test>',
      EMAIL_OUTBOUND_GROUP: uniqueId('e2e-verify-out'),
    }),
  ));
  const record = await startCustomerRecord(
    recordCtx,
    loadConfig(customerRecordConfig, {
      ...common,
      GRPC_PORT: '0',
      ...testAuthEnv('customer-record'),
      PROJECTION_GROUP_ID: uniqueId('e2e-verify-projection'),
      PROJECTION_FROM_BEGINNING: 'false',
    }),
  );
  client = new CustomerRecordServiceClient(`127.0.0.1:${record.grpcPort}`, credentials.createInsecure());
  supervisorToken = await testToken({ id: 'sue', role: 'supervisor' }, 'customer-record');
  ({ port: chatPort } = await startChat(chatCtx, loadConfig(chatConfig, { ...common, CHAT_TOKEN_SECRET: SECRET }), { collectionPrefix: 'e2e_verify' }));
  browser = await launchChromium();
});

afterAll(async () => {
  await browser?.close();
  client?.close();
  await recorder?.close();
  for (const ctx of contexts.reverse()) await ctx.stop();
  await sink?.close();
  await dropDatabase(database);
});

function context(identity: Identity, conversationId = ''): Promise<GetCustomerContextResponse> {
  const metadata = new Metadata();
  metadata.set('authorization', `Bearer ${supervisorToken}`);
  return new Promise((resolve, reject) =>
    client.getCustomerContext(
      GetCustomerContextRequest.fromPartial({ identity, recentConversations: 10, conversationId, reason: 'checking what a visitor claim shows' }),
      metadata,
      (err, res) => (err ? reject(err) : resolve(res)),
    ),
  );
}

describe('chat visitor → email code → customer record', () => {
  it('keeps a typed email as a claim showing nothing of its customer, and links it once the visitor typed the mailed code', { timeout: 180_000 }, async () => {
    const address = `${uniqueId('vera')}@customer.test`;
    const victim: Identity = { kind: IdentityKind.IDENTITY_KIND_EMAIL, value: address, namespace: '' };
    const mailer = nodemailer.createTransport({ host: '127.0.0.1', port: smtpPort, secure: false, ignoreTLS: true });
    await mailer.sendMail({ from: `"Vera Ortiz" <${address}>`, to: 'help@shop.test', subject: 'New card', text: 'My new card ends in 4242' });
    await waitFor(
      () =>
        context(victim).then(
          (c) => (c.recentConversations.length === 1 ? c : undefined),
          () => undefined,
        ),
      45_000,
      "the customer's email conversation",
    );

    const page = await browser.newPage();
    const errors: string[] = [];
    page.on('pageerror', (err) => errors.push(err.message));
    await page.goto(`http://127.0.0.1:${chatPort}/`);
    await page.evaluate('window.ccChat.open()');
    await page.getByText(/Connected\. Reference/).waitFor({ timeout: 20_000 });
    await page.getByRole('button', { name: 'Verify your email' }).click();
    await page.getByLabel('Your email address').fill(address);
    await page.getByRole('button', { name: 'Send code' }).click();
    await page.getByText(`We sent a code to ${address}. Type it here; it works for 10 minutes.`).waitFor({ timeout: 20_000 });

    // Before the code: the visitor only says who they are.
    await page.getByLabel('Your message').fill('Read me my card number please');
    await page.keyboard.press('Enter');
    const first = await waitFor(
      () => recorder.values(topics.contactInbound).find((c) => c.channel === Channel.CHANNEL_CHAT && c.text === 'Read me my card number please'),
      20_000,
      'the first chat message',
    );
    const visitor = first.sender!;
    const claimed = await waitFor(
      () =>
        context(visitor, first.conversationId).then(
          (c) => (c.customer?.claimedIdentities.length && c.recentConversations.length ? c : undefined),
          () => undefined,
        ),
      45_000,
      "the visitor's claim on the record",
    );
    expect(claimed.customer!.claimedIdentities).toEqual([victim]);
    expect(claimed.customer!.identities).toEqual([visitor]);
    expect(claimed.recentConversations.map((c) => c.conversationId)).toEqual([first.conversationId]);
    expect((await context(victim)).customer!.identities).toEqual([victim]);

    // The mailbox's owner reads the code and types it: from now on the address is theirs.
    const mail = await waitFor(
      () => mailbox.find((m) => m.subject === 'Your chat verification code' && m.to && 'value' in m.to && m.to.value[0]?.address === address),
      30_000,
      'the code mail',
    );
    expect(mail.inReplyTo).toBeUndefined();
    const code = /Your code is (\d{6})\./.exec(mail.text ?? '')![1]!;
    await page.getByLabel('Code from the mail').fill('000000' === code ? '111111' : '000000');
    await page.getByRole('button', { name: 'Confirm' }).click();
    await page.getByText('That code is not right; 4 tries left.').waitFor({ timeout: 20_000 });
    await page.getByLabel('Code from the mail').fill(`${code.slice(0, 3)} ${code.slice(3)}`);
    await page.getByRole('button', { name: 'Confirm' }).click();
    await page.getByText(`Your email ${address} is verified.`).waitFor({ timeout: 20_000 });
    await page.getByLabel('Your message').fill('It is really me');
    await page.keyboard.press('Enter');
    const linked = await waitFor(
      () =>
        context(visitor, first.conversationId).then(
          (c) => (c.recentConversations.length === 2 ? c : undefined),
          () => undefined,
        ),
      45_000,
      'the chat and the email conversation on one record',
    );
    expect(linked.customer!.identities.map((i) => i.value).sort()).toEqual([address, visitor.value].sort());
    expect(linked.customer!.claimedIdentities).toEqual([]);
    expect(errors).toEqual([]);
    await page.close();
  });
});
