// What an ops user's browser receives, against a supervisor's, in Debian's Chromium with the real
// broker and store: the same conversation's records reach both pages, and the ops page never
// holds the email subject, the agent's disposition, the customer's address or number, or the
// MMS media address that the supervisor's page shows.
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { topics } from '#libs/kafka';
import { Channel, ContactKind, ContactReceived, ConversationEvent, IdentityKind, OutboundKind, OutboundMessage } from '#libs/proto';
import { launchChromium, uniqueId, waitFor } from '#libs/testing';
import { PASSWORD, startHarness, type Harness } from './harness';

const SUBJECT = 'Refund for order ZQX5521 please';
const DISPOSITION = 'customer relocating to Trondheim, refund sent by cheque';
const ADDRESS = 'carla.redaction@example.com';
const PHONE = '+447700900461';
const MEDIA_URL = 'https://api.twilio.com/2010-04-01/Accounts/AC0/Messages/SM0/Media/ME8c1a77';
const SECRETS = [SUBJECT, 'ZQX5521', SUBJECT.toLowerCase(), DISPOSITION, 'Trondheim', ADDRESS, PHONE, '7700900461', MEDIA_URL, 'ME8c1a77'];
const RECORDS = 6;

describe('ops console redaction in Chromium', () => {
  let h: Harness;
  let browser: Browser;
  const conversationId = uniqueId('conv');

  beforeAll(async () => {
    h = await startHarness();
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
    await h?.stop();
  });

  async function watch(id: string): Promise<Page> {
    const page = await (await browser.newContext()).newPage();
    await page.goto(h.console.url);
    await page.locator('#sign-in-id').fill(id);
    await page.locator('#sign-in-password').fill(PASSWORD);
    await page.locator('#sign-in-form button[type=submit]').click();
    await page.locator('#stream-status', { hasText: 'live' }).waitFor({ timeout: 30_000 });
    await page.locator('#filter-conversation').fill(conversationId);
    await page.locator('#filter-form button[type=submit]').click();
    await page.locator('#stream-status', { hasText: 'live' }).waitFor({ timeout: 20_000 });
    return page;
  }

  async function publishScenario(): Promise<void> {
    const at = new Date();
    const event = (reasonText: string, step: ConversationEvent['step']) =>
      ConversationEvent.fromPartial({
        eventId: uniqueId('ev'),
        conversationId,
        channel: Channel.CHANNEL_EMAIL,
        occurredAt: at,
        reason: { code: 'test.scenario', text: reasonText },
        step,
      });
    const p = h.kafka.producer;
    await p.publish(
      topics.contactInbound,
      conversationId,
      ContactReceived.fromPartial({
        contactId: uniqueId('contact'),
        conversationId,
        channel: Channel.CHANNEL_EMAIL,
        kind: ContactKind.CONTACT_KIND_MESSAGE,
        receivedAt: at,
        sender: { kind: IdentityKind.IDENTITY_KIND_EMAIL, value: ADDRESS },
        subject: SUBJECT,
        text: 'hello',
      }),
    );
    // Routing's reason quotes the subject of a repeat contact.
    await p.publish(
      topics.conversationEvents,
      conversationId,
      event(`repeat contact on "${SUBJECT.toLowerCase()}" within 7 days`, {
        $case: 'escalated',
        escalated: { fromAgentId: '', note: '', queue: 'tier2/billing', skill: 'billing', automatic: true },
      }),
    );
    await p.publish(
      topics.conversationEvents,
      conversationId,
      event(`resolved by Ana Lopez: ${DISPOSITION}`, { $case: 'resolved', resolved: { agentId: 'ana', disposition: DISPOSITION } }),
    );
    const refusal = `550 5.1.1 <${ADDRESS}>: Recipient address rejected`;
    await p.publish(
      topics.conversationEvents,
      conversationId,
      event(refusal, {
        $case: 'deliveryReported',
        deliveryReported: { outboundMessageId: 'out-1', delivered: false, errorCode: '550', detail: refusal, permanent: true },
      }),
    );
    await p.publish(
      topics.contactInbound,
      conversationId,
      ContactReceived.fromPartial({
        contactId: uniqueId('sms'),
        conversationId,
        channel: Channel.CHANNEL_SMS,
        kind: ContactKind.CONTACT_KIND_MESSAGE,
        receivedAt: at,
        sender: { kind: IdentityKind.IDENTITY_KIND_PHONE, value: PHONE },
        text: 'photo attached',
        attachments: [{ name: 'media-0', contentType: 'image/jpeg', storageRef: MEDIA_URL }],
      }),
    );
    await p.publish(
      topics.outbound,
      conversationId,
      OutboundMessage.fromPartial({
        messageId: uniqueId('out'),
        conversationId,
        channel: Channel.CHANNEL_SMS,
        kind: OutboundKind.OUTBOUND_KIND_REPLY,
        recipient: { kind: IdentityKind.IDENTITY_KIND_PHONE, value: PHONE },
        text: 'got it',
        createdAt: at,
      }),
    );
  }

  const rows = (page: Page) => page.locator('#events tr', { hasText: conversationId }).count();

  it('shows the supervisor the contents and the ops user none of them, on the live stream and the timeline', { timeout: 180_000 }, async () => {
    const supervisor = await watch(h.ids.supervisor);
    const ops = await watch(h.ids.ops);
    await publishScenario();
    await waitFor(async () => (await rows(supervisor)) >= RECORDS && (await rows(ops)) >= RECORDS, 45_000, 'the scenario on both pages');

    const supervisorPage = await supervisor.content();
    for (const secret of SECRETS) expect(supervisorPage, `the supervisor sees ${secret}`).toContain(secret);
    const opsPage = await ops.content();
    for (const secret of SECRETS) expect(opsPage, `ops must not see ${secret}`).not.toContain(secret);
    expect(opsPage).toContain('[redacted]');
    expect(opsPage).toContain('test.scenario');

    // The timeline, read from the topics, is redacted the same way.
    await ops.locator('#events tr', { hasText: conversationId }).first().locator('a.conversation').click();
    await ops.locator('#timeline-status', { hasText: 'records' }).waitFor({ timeout: 60_000 });
    expect(await ops.locator('#timeline li').count()).toBeGreaterThanOrEqual(RECORDS);
    const opsTimeline = await ops.content();
    for (const secret of SECRETS) expect(opsTimeline, `ops timeline must not show ${secret}`).not.toContain(secret);
  });
});
