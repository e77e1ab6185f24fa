// Real browser: Debian's Chromium (installed by scripts/install-browser.sh) opens the demo page.
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MongoClient } from 'mongodb';
import type { Browser } from 'playwright-core';
import { topics } from '#libs/kafka';
import { OutboundKind } from '#libs/proto';
import type { ServiceContext } from '#libs/service';
import { launchChromium, MONGODB_URI, recordTopics, testContext, uniqueId, waitFor } from '#libs/testing';
import { DATABASE, outboundReady, publishOutbound, startInstance, testProducer, type Instance } from './helpers';
import type { EventProducer } from '#libs/kafka';

describe('chat widget in Chromium', () => {
  const prefix = uniqueId('chatweb').replace(/-/g, '_');
  let chat: Instance;
  let sim: ServiceContext;
  let routing: EventProducer;
  let browser: Browser;
  let recorder: Awaited<ReturnType<typeof recordTopics>>;

  beforeAll(async () => {
    recorder = await recordTopics([topics.contactInbound.name]);
    chat = await startInstance(prefix, { CHAT_CLOSED_EMAIL_ADDRESS: 'support@example.com' });
    sim = testContext('routing-sim');
    routing = await testProducer(sim);
    await outboundReady([chat], routing);
    browser = await launchChromium();
  });

  afterAll(async () => {
    await browser?.close();
    await recorder?.close();
    await chat?.ctx.stop();
    await sim?.stop();
    const client = await MongoClient.connect(MONGODB_URI);
    await client
      .db(DATABASE)
      .collection(`${prefix}_conversations`)
      .drop()
      .catch(() => undefined);
    await client
      .db(DATABASE)
      .collection(`${prefix}_messages`)
      .drop()
      .catch(() => undefined);
    await client.close();
  });

  it('sends a message from the demo page, shows the wait estimate and a reply pushed through cc.outbound.v1', async () => {
    const page = await browser.newPage({ viewport: { width: 375, height: 667 } });
    const errors: string[] = [];
    page.on('pageerror', (err) => errors.push(err.message));
    await page.goto(`http://127.0.0.1:${chat.chat.port}/`);
    // Keyboard only: Tab to the launcher, Enter opens the panel with focus in the input.
    await page.keyboard.press('Tab');
    await page.keyboard.press('Enter');
    await page.getByText(/Connected\. Reference/).waitFor({ timeout: 20_000 });
    // Keep every status the widget shows: a routing service on the shared broker may send its own
    // updates right after the ones this test publishes.
    await page.evaluate(`(() => {
      const status = document.querySelector('[data-ccw="status"]');
      window.statuses = [status.textContent];
      new MutationObserver(() => window.statuses.push(status.textContent)).observe(status, { childList: true, characterData: true, subtree: true });
      // The closed queue's line too, for the same reason: the next update may hide it again.
      const closed = document.querySelector('[data-ccw="closed"]');
      window.closedLines = [];
      new MutationObserver(() => {
        const link = closed.querySelector('[data-ccw="closed-email"]');
        if (!closed.hidden) window.closedLines.push({ text: closed.textContent, href: link && link.getAttribute('href') });
      }).observe(closed, { childList: true, characterData: true, subtree: true, attributes: true });
    })()`);
    const statusShown = (re: RegExp) =>
      waitFor(async () => ((await page.evaluate('window.statuses')) as string[]).some((t) => re.test(t)), 20_000, `status ${re}`);
    await page.keyboard.type('My parcel <img src=x onerror=alert(1)> never came');
    await page.keyboard.press('Enter');

    // The SLA target (about 1 minute) until routing sends an estimate; a routing service on the
    // shared broker may already have sent its own.
    await statusShown(/Estimated wait: about \d+ minutes?\./);
    const { conversationId } = await waitFor(
      () => recorder.values(topics.contactInbound).find((c) => c.text.startsWith('My parcel')),
      15_000,
      'the message on Kafka',
    );
    await publishOutbound(routing, { conversationId, kind: OutboundKind.OUTBOUND_KIND_STATUS_UPDATE, queuePosition: 2, estimatedWaitMs: 180_000 });
    await statusShown(/^You are number 2 in the queue\. Estimated wait: about 3 minutes\.$/);
    // The queue closes: routing's notice, the hours, and the address to go on by email.
    const notice = 'We are closed now; we open again Monday at 09:00 (Europe/Paris) and will answer you then. You are number 2 in the queue.';
    await publishOutbound(routing, {
      conversationId,
      kind: OutboundKind.OUTBOUND_KIND_STATUS_UPDATE,
      text: notice,
      queuePosition: 2,
      estimatedWaitMs: 50 * 3_600_000,
      closedUntil: new Date(Date.now() + 50 * 3_600_000),
      hours: 'Monday to Friday 09:00 to 18:00',
    });
    await statusShown(new RegExp(`^${notice.replace(/[().]/g, '\\$&')}$`));
    const closedLine = await waitFor(
      async () =>
        ((await page.evaluate('window.closedLines')) as { text: string; href: string | null }[]).find(
          (l) => l.text.includes('Opening hours: Monday to Friday 09:00 to 18:00.') && l.href !== null,
        ),
      20_000,
      'the opening hours and the email address shown',
    );
    expect(closedLine.href).toBe('mailto:support@example.com');
    await publishOutbound(routing, { conversationId, text: 'Hello! <script>alert(2)</script> Checking now.', agentId: 'agent-7' });
    await page.getByText('Hello! <script>alert(2)</script> Checking now.').waitFor({ timeout: 20_000 });

    // Text stays text: the markup the visitor and the agent typed is shown, never parsed.
    expect(await page.locator('[data-ccw="log"] img, [data-ccw="log"] script').count()).toBe(0);
    await expect(page.locator('[data-ccw="log"] li').first().textContent()).resolves.toContain('<img src=x');
    // The sent message is no longer marked pending once acked.
    expect(await page.locator('[data-ccw="log"] li.ccw-pending').count()).toBe(0);
    // Fits a phone screen.
    const box = await page.locator('#ccw-panel').boundingBox();
    expect(box!.x).toBeGreaterThanOrEqual(0);
    expect(box!.x + box!.width).toBeLessThanOrEqual(375);

    // A reload resumes the same conversation with its history.
    await page.reload();
    await page.evaluate('window.ccChat.open()');
    await page.getByText('Hello! <script>alert(2)</script> Checking now.').waitFor({ timeout: 20_000 });
    expect(errors).toEqual([]);
    await page.close();
  });

  it('sends a file with the paperclip, and says in words why a forbidden one is not sent', async () => {
    const page = await browser.newPage({ viewport: { width: 375, height: 667 } });
    const errors: string[] = [];
    page.on('pageerror', (err) => errors.push(err.message));
    await page.goto(`http://127.0.0.1:${chat.chat.port}/`);
    await page.evaluate('window.ccChat.open()');
    await page.getByText(/Connected\. Reference/).waitFor({ timeout: 20_000 });
    const png = Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), Buffer.from(uniqueId('receipt'))]);
    await page.locator('#ccw-file').setInputFiles({ name: 'receipt.png', mimeType: 'image/png', buffer: png });
    await page.getByText('Sent a file: receipt.png').waitFor({ timeout: 20_000 });
    const contact = await waitFor(
      () => recorder.values(topics.contactInbound).find((c) => c.attachments.some((a) => a.name === 'receipt.png' && a.sizeBytes === png.length)),
      15_000,
      'the file on Kafka',
    );
    expect(contact.attachments[0]!.storageRef).toMatch(/^chat-attachment:[0-9a-f]{64}$/);
    await page.locator('#ccw-file').setInputFiles({ name: 'setup.exe', mimeType: 'application/x-msdownload', buffer: Buffer.from([0x4d, 0x5a, 0x90, 0x00]) });
    await page.getByText(/^Not sent \(setup\.exe\): this kind of file cannot be sent here/).waitFor({ timeout: 20_000 });
    if (process.env.SAVE_SCREENSHOTS === '1')
      await page.screenshot({ path: fileURLToPath(new URL('../../../docs/screenshots/chat-upload.png', import.meta.url)) });
    expect(errors).toEqual([]);
    await page.close();
  });
});
