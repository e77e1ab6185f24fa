// Promises and writing first, in Chromium, through every real part but Twilio's cloud: a customer
// texts sms-voice (a signed webhook); Kafka carries it to customer-record and routing; the agent
// accepts it on the desk, sets a promise from the Promise form, updates it, and is shown the
// specific refusal of a date in the past; each status reaches the customer's phone through the
// real twilio client and the Twilio stand-in. The agent then writes first to a customer by SMS,
// by email and by WhatsApp with an approved template, each shown "queued" until the channel's
// delivery report says what became of it, and a supervisor sends a notice to a small list, one of
// whom replied STOP: nothing reaches that number, and the page says that customer opted out.
import type http from 'node:http';
import { randomBytes } from 'node:crypto';
import { mkdirSync, rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { credentials } from '@grpc/grpc-js';
import type { Browser, Locator, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { topics } from '#libs/kafka';
import {
  Channel,
  ContactKind,
  ContactReceived,
  CustomerRecordServiceClient,
  IdentityKind,
  ResolveCustomerRequest,
  type ResolveCustomerResponse,
  SenderVerdict,
} from '#libs/proto';
import { dropDatabase, launchChromium, recordTopics, testContext, testMetadata, uniqueId, waitFor } from '#libs/testing';
import { TwilioStandIn } from '../../../scripts/outbox/twilio-api';
import { dateInWords } from '../../routing/src/core/promise-rules';
import { useRoutingHarness } from '../../routing/test/helpers';
import { noticeConversationId } from '../src/outreach';
import { signedWebhook, signInPage, startTestDesk, startTestRecord, startTestPhone, startTestRouting } from './stack';

const PASSWORD = 'a long test password';
const SAVE = process.env.SAVE_SCREENSHOTS === '1';
const shots = fileURLToPath(new URL('../../../docs/screenshots/', import.meta.url));
const COMPANY = '+14155550100';
const AUTH_TOKEN = randomBytes(16).toString('hex');
const ACCOUNT_SID = `AC${randomBytes(16).toString('hex')}`;
const database = uniqueId('desk_promise').replace(/-/g, '_');
// Only contacts carrying this token go to this test's agent: the shared broker carries others too.
const token = randomBytes(6).toString('hex');
const skill = `promise-${token}`;
const agentId = `ana-${token.slice(0, 6)}`;
const supervisorId = `sue-${token.slice(0, 6)}`;
const phone = () => `+1415558${String(1000 + Math.floor(Math.random() * 9000))}`;
const customerPhone = phone();
const optedOutPhone = phone();
const customerMail = `${uniqueId('kim').toLowerCase()}@customer.test`;
const TEMPLATE_SID = `HX${randomBytes(16).toString('hex')}`;
const TEMPLATES = [
  {
    name: 'visit_confirmation',
    contentSid: TEMPLATE_SID,
    language: 'en',
    preview: 'Hello {{1}}, the technician comes on {{2}}. Reply here to change it.',
    variables: [
      { label: 'first name', maxLength: 40 },
      { label: 'day', maxLength: 30 },
    ],
  },
];

const h = useRoutingHarness();
const contexts = ['customer-record', 'routing', 'sms-voice', 'agent-desk'].map((name) => testContext(`promise-${name}`));
const standIn = new TwilioStandIn({ maxItems: Infinity });
let outbox: http.Server;
let spoolDir: string;
let smsUrl: string;
let desk: string;
let recordClient: InstanceType<typeof CustomerRecordServiceClient>;
let recorder: Awaited<ReturnType<typeof recordTopics>>;
let browser: Browser;
const dialogs: string[] = [];
const pageErrors: string[] = [];

beforeAll(async () => {
  const [recordCtx, routingCtx, smsVoiceCtx, deskCtx] = contexts as [
    ReturnType<typeof testContext>,
    ReturnType<typeof testContext>,
    ReturnType<typeof testContext>,
    ReturnType<typeof testContext>,
  ];
  recorder = await recordTopics([topics.conversationEvents.name, topics.outbound.name]);
  const record = await startTestRecord(recordCtx, database, 'promise');
  recordClient = new CustomerRecordServiceClient(`127.0.0.1:${record.grpcPort}`, credentials.createInsecure());
  const routing = await startTestRouting(routingCtx, database, 'promise', { id: 'promise-test', when: { pattern: token }, then: { skill } }, record.grpcPort);
  const account = { authToken: AUTH_TOKEN, accountSid: ACCOUNT_SID };
  ({ url: smsUrl, outbox, spoolDir } = await startTestPhone(smsVoiceCtx, database, 'promise', standIn, account, { SMS_COMPANY_NUMBER: COMPANY }));
  const started = await startTestDesk(
    deskCtx,
    database,
    { routing: routing.grpcPort, record: record.grpcPort },
    { AGENT_DESK_WHATSAPP_TEMPLATES_JSON: JSON.stringify(TEMPLATES) },
  );
  desk = `http://127.0.0.1:${started.port}`;
  const capacity = { voice: 0, chat: 3, sms: 5, email: 5, total: 8 };
  await started.roster.upsert({ id: agentId, name: 'Ana Lopez', role: 'agent', tier: 1, skills: { [skill]: 3 }, languages: ['en'], capacity }, PASSWORD);
  await started.roster.upsert({ id: supervisorId, name: 'Sue Park', role: 'supervisor' }, PASSWORD);
  if (SAVE) mkdirSync(shots, { recursive: true });
  browser = await launchChromium();
}, 120_000);

afterAll(async () => {
  await browser?.close();
  recordClient?.close();
  await recorder?.close();
  for (const ctx of [...contexts].reverse()) await ctx.stop();
  await new Promise((r) => (outbox ? outbox.close(r) : r(undefined)));
  if (spoolDir) rmSync(spoolDir, { recursive: true, force: true });
  await dropDatabase(database);
}, 60_000);

async function texted(from: string, body: string): Promise<void> {
  const params = { MessageSid: `SM${randomBytes(16).toString('hex')}`, AccountSid: ACCOUNT_SID, From: from, To: COMPANY, Body: body };
  expect(await signedWebhook(`${smsUrl}/twilio/sms`, AUTH_TOKEN, params)).toBe(200);
}

const smsTo = (number: string) => standIn.items.flatMap((i) => (i.kind === 'sms' && i.to === number ? [i.body ?? ''] : []));

/** The customer on record for a phone number (a supervisor's audited read). */
async function customerOf(value: string): Promise<string> {
  const md = await testMetadata({ id: supervisorId, role: 'supervisor' }, 'customer-record');
  const req = { identity: { kind: IdentityKind.IDENTITY_KIND_PHONE, value, namespace: '' }, reason: 'a notice to this customer' };
  const res = await new Promise<ResolveCustomerResponse>((resolve, reject) =>
    recordClient.resolveCustomer(ResolveCustomerRequest.fromPartial(req), md, (err, r) => (err ? reject(err) : resolve(r))),
  );
  return res.customer!.customerId;
}

async function openPage(id: string, role: string): Promise<Page> {
  const page = await (await browser.newContext({ viewport: { width: 1366, height: 1000 }, timezoneId: 'UTC' })).newPage();
  page.on('dialog', (d) => {
    dialogs.push(d.message());
    void d.dismiss();
  });
  page.on('pageerror', (err) => pageErrors.push(err.message));
  return signInPage(page, desk, id, PASSWORD, role);
}

/** `YYYY-MM-DDTHH:MM` for a datetime-local field of a page in UTC. */
const local = (at: number) => new Date(at).toISOString().slice(0, 16);
const DAY = 86_400_000;

/** Clicks `button` and resolves with what the page's notice says then (an earlier one cleared first). */
async function noticeAfter(page: Page, button: Locator): Promise<string> {
  await page.evaluate("{ const n = document.getElementById('notice'); n.hidden = true; n.textContent = ''; }");
  await button.click();
  await page.locator('#notice').waitFor({ state: 'visible', timeout: 30_000 });
  return (await page.locator('#notice').textContent()) ?? '';
}

/** Sends the write-first form and waits until its status line matches `until` (the delivery outcome). */
async function writeFirst(page: Page, until: RegExp): Promise<string> {
  await page.evaluate("document.getElementById('write-first-status').textContent = ''");
  await page.locator('#write-first-form').getByRole('button', { name: 'Send' }).click();
  const status = page.locator('#write-first-status');
  await status
    .filter({ hasText: until })
    .waitFor({ timeout: 60_000 })
    .catch(async (err: Error) => {
      throw new Error(`${err.message}\nthe status line says: ${await status.textContent()}`);
    });
  return (await status.textContent()) ?? '';
}

/** Fills and sends the Promise form; resolves with what the page's notice then says. */
async function setPromise(page: Page, milestone: string, due: number, cost = '', currency = ''): Promise<string> {
  await page.locator('#promise-milestone').fill(milestone);
  await page.locator('#promise-due').fill(local(due));
  await page.locator('#promise-cost').fill(cost);
  await page.locator('#promise-currency').fill(currency);
  return noticeAfter(page, page.getByRole('button', { name: 'Set promise' }));
}

/** Accepts the offer (only this test's contacts reach its skill) and waits for the customer's message in its view. */
async function accept(page: Page, text: string): Promise<void> {
  const offer = page.locator('#offers li').first();
  const mineBefore = await page.locator('#mine li').count();
  await offer.waitFor({ timeout: 120_000 });
  await offer.getByRole('button', { name: 'Accept' }).click();
  // The newest of the agent's conversations; the view stays on the one shown until another is opened.
  await page.locator('#mine li button').nth(mineBefore).click();
  await page
    .locator('#timeline li.in')
    .filter({ hasText: text })
    // The page keeps asking until customer-record has projected the offer.
    .waitFor({ timeout: 60_000 })
    .catch(async (err: Error) => {
      // What the view says instead (a history customer-record refused or has not projected yet).
      throw new Error(`${err.message}\nthe view says: ${await page.locator('#conv-meta').textContent()}`);
    });
}

let agent: Page;

describe('the Promise form and the outreach forms in Chromium', () => {
  it('sets and updates a promise the customer gets by SMS, and shows why a date in the past is refused', { timeout: 300_000 }, async () => {
    agent = await openPage(agentId, 'agent');
    await agent.getByRole('button', { name: 'Available' }).click();
    const first = `My washing machine ${token} leaks, can someone repair it?`;
    await texted(customerPhone, first);
    await accept(agent, first);
    await agent.locator('#promise-current').filter({ hasText: 'No promise on this conversation.' }).waitFor({ timeout: 20_000 });

    // Two weeks ahead (routing takes dates up to a year ahead), on the hour.
    const due = Math.ceil((Date.now() + 14 * DAY) / 3_600_000) * 3_600_000;
    const sent = `Where we are with your case: next step: technician visit, expected by ${dateInWords(due)}. Estimated cost: 120.50 EUR.`;
    expect(await setPromise(agent, 'technician visit', due, '120.50', 'eur')).toBe(`Sent to the customer: ${sent}`);
    await agent.locator('#promise-current').filter({ hasText: 'technician visit — expected by' }).waitFor({ timeout: 10_000 });
    expect(await agent.locator('#promise-current').textContent()).toMatch(/estimated 120\.50 EUR · on track$/);
    await waitFor(() => smsTo(customerPhone).includes(sent), 60_000, 'the status SMS');

    // Updated: a new milestone and date, sent again.
    const updated = `Update on your case: next step: spare part ordered, expected by ${dateInWords(due + DAY)}.`;
    expect(await setPromise(agent, 'spare part ordered', due + DAY)).toBe(`Sent to the customer: ${updated}`);
    await agent
      .locator('#promise-current')
      .filter({ hasText: /^spare part ordered — expected by .* · on track$/ })
      .waitFor({ timeout: 10_000 });
    await waitFor(() => smsTo(customerPhone).includes(updated), 60_000, 'the updated status SMS');

    // A date in the past: routing's own reason on the page, the promise as it was, nothing sent.
    expect(await setPromise(agent, 'technician visit', Date.now() - DAY)).toMatch(/is in the past/);
    expect(await agent.locator('#promise-current').textContent()).toMatch(/^spare part ordered/);
    if (SAVE) await agent.locator('#conversation').screenshot({ path: `${shots}agent-desk-promise.png` });
    // The customer sees "status" answered with the current promise; nothing of the refused one.
    await texted(customerPhone, 'status');
    const answer = `Status of your case: next step: spare part ordered, expected by ${dateInWords(due + DAY)}.`;
    await waitFor(() => smsTo(customerPhone).includes(answer), 60_000, 'the answer to "status"');
    expect(smsTo(customerPhone).filter((b) => /^(Where we are|Update on|Status of)/.test(b))).toEqual([sent, updated, answer]);
  });

  it('writes first by SMS and by email from the customer card', { timeout: 300_000 }, async () => {
    // By SMS, to the number of the conversation's customer.
    await agent.locator('#card-identities li').filter({ hasText: customerPhone }).waitFor({ timeout: 60_000 });
    await agent.locator('#write-first summary').click();
    await agent.locator('#write-first-to').selectOption({ label: `SMS to ${customerPhone}` });
    await agent.locator('#write-first-text').fill('The technician can come on Friday morning; does that suit you?');
    // Queued by routing first, then sms-voice's report: the provider took it.
    expect(await writeFirst(agent, /Sent/)).toMatch(/^Conversation conv-desk-\S+: Sent: the provider accepted it for the customer\.$/);
    expect(smsTo(customerPhone)).toContain('The technician can come on Friday morning; does that suit you?');

    // By email: a customer who mailed from an address the email service authenticated.
    const mailed = `Invoice ${token} for the repair, please`;
    const contact = ContactReceived.fromPartial({
      contactId: uniqueId('msg'),
      conversationId: uniqueId('conv-promise-mail'),
      channel: Channel.CHANNEL_EMAIL,
      kind: ContactKind.CONTACT_KIND_MESSAGE,
      receivedAt: new Date(),
      sender: { kind: IdentityKind.IDENTITY_KIND_EMAIL, value: customerMail, namespace: '' },
      newConversation: true,
      conversationReference: 'PR0M15',
      subject: 'Invoice',
      text: mailed,
      senderAuthentication: { verdict: SenderVerdict.SENDER_VERDICT_PASS, fromAligned: true },
    });
    await h.kafka.producer.publish(topics.contactInbound, contact.conversationId, contact);
    await accept(agent, mailed);
    await agent.locator('#card-identities li').filter({ hasText: customerMail }).waitFor({ timeout: 60_000 });
    await agent.locator('#write-first-to').selectOption({ label: `Email to ${customerMail}` });
    await agent.locator('#write-first-subject').fill('Your invoice');
    await agent.locator('#write-first-text').fill('Your invoice is attached to your account page.');
    // No email service runs here: the write stays queued, as the page says.
    const queued = await writeFirst(agent, /Queued/);
    const conversationId = /^Conversation (conv-desk-\S+): Queued: waiting for the channel/.exec(queued)?.[1];
    expect(conversationId, queued).toBeDefined();
    const out = await waitFor(
      () => recorder.values(topics.outbound).find((m) => m.conversationId === conversationId),
      60_000,
      'the first email on the outbound topic',
    );
    expect(out).toMatchObject({
      channel: Channel.CHANNEL_EMAIL,
      recipient: { kind: IdentityKind.IDENTITY_KIND_EMAIL, value: customerMail },
      subject: expect.stringContaining('Your invoice'),
      text: 'Your invoice is attached to your account page.',
    });
  });

  it('writes first on WhatsApp with an approved template, its variables checked', { timeout: 300_000 }, async () => {
    await agent.locator('#mine li button').first().click();
    await agent.locator('#card-identities li').filter({ hasText: customerPhone }).waitFor({ timeout: 60_000 });
    await agent.locator('#write-first-to').selectOption({ label: `WhatsApp to ${customerPhone}` });
    await agent.locator('#write-first-preview').filter({ hasText: 'The customer reads: Hello {{1}}, the technician comes on {{2}}.' }).waitFor();
    const [name, day] = [agent.getByLabel('first name'), agent.getByLabel('day')];
    await name.fill('Kim');
    // Longer than the template allows: the desk names the variable, nothing is started.
    await day.evaluate((input) => input.removeAttribute('maxlength'));
    await day.fill('Friday morning, between eight and noon');
    expect(await writeFirst(agent, /variable/)).toBe('variables: variable 2 (day) is longer than 30 characters');
    await day.fill('Friday');
    if (SAVE) await agent.locator('#write-first').screenshot({ path: `${shots}agent-desk-whatsapp-template.png` });
    expect(await writeFirst(agent, /Sent/)).toMatch(/^Conversation conv-desk-\S+: Sent: the provider accepted it/);
    const sent = standIn.items.filter((i) => i.to === `whatsapp:${customerPhone}` && i.contentSid === TEMPLATE_SID);
    expect(sent).toEqual([expect.objectContaining({ from: `whatsapp:${COMPANY}`, contentVariables: JSON.stringify({ 1: 'Kim', 2: 'Friday' }) })]);
    const out = recorder.values(topics.outbound).find((m) => m.channelMetadata['whatsapp-content-sid'] === TEMPLATE_SID);
    expect(out).toMatchObject({ channel: Channel.CHANNEL_WHATSAPP, text: 'Hello Kim, the technician comes on Friday. Reply here to change it.' });

    // Free text: the customer never wrote on WhatsApp, so nothing goes out and the line says why.
    await agent.locator('#write-first-template').selectOption('');
    await agent.locator('#write-first-text').fill('Can the technician come on Friday?');
    expect(await writeFirst(agent, /Not sent/)).toMatch(/: Not sent: WhatsApp allows free replies only within 24 hours of the customer's last message/);
    expect(standIn.items.filter((i) => i.to === `whatsapp:${customerPhone}` && i.body === 'Can the technician come on Friday?')).toEqual([]);
  });

  it('sends a notice to a small list, and nothing reaches the number that replied STOP', { timeout: 300_000 }, async () => {
    await texted(optedOutPhone, 'STOP');
    const [reachable, optedOut] = [await customerOf(customerPhone), await customerOf(optedOutPhone)];
    const unknown = `cust-${token}-nobody`;
    const sue = await openPage(supervisorId, 'supervisor');
    const noticeId = `outage-${token}`;
    const text = `Our repair line is down until noon (${token}); we will call you back.`;
    await sue.locator('#notice-id').fill(noticeId);
    await sue.locator('#notice-channel').selectOption('sms');
    await sue.locator('#notice-customers').fill([reachable, optedOut, unknown].join('\n'));
    await sue.locator('#notice-text').fill(text);
    await sue.locator('#notice-skill').fill(skill);
    await sue.getByRole('button', { name: 'Send notice' }).click();
    const progress = sue.locator('#notice-progress');
    // Started by routing for two, then each one's delivery: sent to one, refused for the other, who replied STOP.
    await progress.filter({ hasText: /Done\..* 0 queued\./ }).waitFor({ timeout: 60_000 });
    expect(await progress.textContent()).toMatch(
      new RegExp(
        `^Notice ${noticeId}: 3 of 3 — 2 started, 0 already sent, 1 skipped, 0 failed\\. Done\\. ${unknown}: skipped .*` +
          `Delivery: 1 sent, 1 opted out \\(STOP\\), 0 not sent, 0 queued\\. ${optedOut}: Not sent: the customer opted out \\(replied STOP\\)\\.`,
      ),
    );
    if (SAVE)
      await sue
        .locator('#notice-form')
        .locator('xpath=..')
        .screenshot({ path: `${shots}agent-desk-outreach.png` });

    await waitFor(() => smsTo(customerPhone).includes(text), 60_000, 'the notice by SMS');
    // The opted-out number: sms-voice refuses it with its own code, and nothing is sent. (Other
    // tests' sms-voice instances, which know nothing of the STOP, report on it too: not this one's.)
    const refused = await waitFor(
      () =>
        recorder
          .values(topics.conversationEvents)
          .flatMap((e) =>
            e.conversationId === noticeConversationId(noticeId, optedOut) && e.step?.$case === 'deliveryReported' ? [e.step.deliveryReported] : [],
          )
          .find((r) => !r.delivered),
      60_000,
      "the opted-out customer's delivery report",
    );
    expect(refused).toMatchObject({ delivered: false, permanent: true, errorCode: 'OPTED_OUT' });
    expect(smsTo(optedOutPhone)).toEqual([]);
    expect(dialogs).toEqual([]);
    expect(pageErrors).toEqual([]);
  });
});
