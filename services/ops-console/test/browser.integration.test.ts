// The console in a real browser (Debian's Chromium) against the real broker, store and routing
// service: sign in as ops, watch a scenario arrive live, filter it, open its timeline, read the
// dead-letter topic and replay; then see the same conversation as a supervisor.
import { mkdirSync } from 'node:fs';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '#libs/config';
import { EventConsumer, topics } from '#libs/kafka';
import { Channel, ContactKind, ContactReceived, ConversationEvent, IdentityKind, SlaEvent, SlaEventKind, Tier } from '#libs/proto';
import type { ServiceContext } from '#libs/service';
import { dropDatabase, KAFKA_BROKERS, launchChromium, MONGODB_URI, recordTopics, testAuthEnv, testContext, uniqueId, waitFor } from '#libs/testing';
import { routingConfig } from '../../routing/src/config';
import { startRouting } from '../../routing/src/service';
import { PASSWORD, startHarness, type Harness } from './harness';

const SCREENSHOTS = new URL('../../../docs/screenshots/', import.meta.url);
const saveScreenshots = process.env.SAVE_SCREENSHOTS === '1';
const TRACE_ID = '4bf92f3577b34da6a3ce929d0e0e4736';
const SUBJECT = '<script>window.__injected = 1</script> Card stolen <img src=x onerror="window.__injected = 2">';

describe('ops console in Chromium', () => {
  let h: Harness;
  let routingCtx: ServiceContext;
  let routingDb: string;
  let browser: Browser;
  let poisonConsumer: EventConsumer;
  const conversationId = uniqueId('conv');

  beforeAll(async () => {
    routingDb = uniqueId('ops_routing').replace(/-/g, '_');
    routingCtx = testContext('routing');
    const routing = await startRouting(
      routingCtx,
      loadConfig(routingConfig, {
        KAFKA_BROKERS: KAFKA_BROKERS.join(','),
        MONGODB_URI,
        MONGODB_DATABASE: routingDb,
        GRPC_PORT: '0',
        HTTP_PORT: '0',
        ...testAuthEnv('routing'),
        ROUTING_CONSUMER_GROUP: uniqueId('ops-browser-routing'),
        LOG_LEVEL: 'silent',
      }),
    );
    h = await startHarness({
      ...testAuthEnv('ops-console'),
      ROUTING_GRPC_ADDR: `127.0.0.1:${routing.grpcPort}`,
      OPS_CONSOLE_TRACE_URL: 'http://traces.test/trace/{traceId}?from=console',
    });
    // A consumer of the SLA topic that sends what it cannot decode to the dead-letter topic.
    poisonConsumer = h.kafka.consumer({ groupId: uniqueId('ops-browser-sla'), maxAttempts: 1 }).on(topics.sla, () => undefined);
    await poisonConsumer.start();
    browser = await launchChromium();
  });

  afterAll(async () => {
    await browser?.close();
    await poisonConsumer?.stop();
    await h?.stop();
    await routingCtx?.stop();
    if (routingDb) await dropDatabase(routingDb);
  });

  async function openPage(): Promise<{ page: Page; problems: string[] }> {
    const context = await browser.newContext({ viewport: { width: 1400, height: 900 } });
    const page = await context.newPage();
    const problems: string[] = [];
    page.on('pageerror', (err) => problems.push(`page error: ${err.message}`));
    page.on('console', (msg) => {
      if (/Content Security Policy|Refused to/i.test(msg.text())) problems.push(`csp: ${msg.text()}`);
    });
    page.on('dialog', (dialog) => void dialog.accept());
    await page.goto(h.console.url);
    return { page, problems };
  }

  async function signInAs(page: Page, id: string): Promise<void> {
    await page.locator('#sign-in-id').fill(id);
    await page.locator('#sign-in-password').fill(PASSWORD);
    await page.locator('#sign-in-form button[type=submit]').click();
    await page.locator('#stream-status', { hasText: 'live' }).waitFor({ timeout: 30_000 });
  }

  async function shot(page: Page, name: string, fullPage = true): Promise<void> {
    if (!saveScreenshots) return;
    mkdirSync(SCREENSHOTS, { recursive: true });
    await page.screenshot({ path: new URL(`ops-console-${name}.png`, SCREENSHOTS).pathname, fullPage });
  }

  // Read in one go in the page: rows keep arriving, so two separate counts could disagree.
  const onlyRowsOf = (page: Page, id: string, topic?: string) =>
    page
      .locator('#events tr')
      .evaluateAll(
        (rows, [id, topic]) => rows.length > 0 && rows.every((r) => (r.textContent ?? '').includes(id!) && (!topic || r.getAttribute('data-topic') === topic)),
        [id, topic],
      );
  const rowsFor = (page: Page) => page.locator('#events tr', { hasText: conversationId });

  it('shows the scenario live to ops with contents redacted, filters it, opens its timeline, and replays the dead letter', async () => {
    const { page, problems } = await openPage();
    // A signed-out visitor sees only the sign-in form; an agent is refused.
    await page.locator('#sign-in-id').fill(h.ids.agent);
    await page.locator('#sign-in-password').fill(PASSWORD);
    await page.locator('#sign-in-form button[type=submit]').click();
    await page.locator('#sign-in-error', { hasText: 'ops and supervisor' }).waitFor();
    await signInAs(page, h.ids.ops);
    await page.locator('#redaction-note').waitFor();

    // The scenario: an email whose subject carries markup, its routing, an SLA breach, a poison record.
    await h.kafka.producer.publish(
      topics.contactInbound,
      conversationId,
      ContactReceived.fromPartial({
        contactId: uniqueId('contact'),
        conversationId,
        channel: Channel.CHANNEL_EMAIL,
        kind: ContactKind.CONTACT_KIND_MESSAGE,
        receivedAt: new Date(),
        sender: { kind: IdentityKind.IDENTITY_KIND_EMAIL, value: 'ada.customer@example.com' },
        senderDisplayName: 'Ada Customer',
        newConversation: true,
        subject: SUBJECT,
        text: 'My card ending 4242 was stolen yesterday',
        language: 'en',
      }),
      // The contact's trace, as the email service's SMTP span would put it.
      { headers: { traceparent: `00-${TRACE_ID}-00f067aa0ba902b7-01` } },
    );
    const event = (step: ConversationEvent['step']) =>
      ConversationEvent.fromPartial({
        eventId: uniqueId('ev'),
        conversationId,
        channel: Channel.CHANNEL_EMAIL,
        occurredAt: new Date(),
        reason: { code: 'test.scenario', text: 'scenario step' },
        step,
      });
    await h.kafka.producer.publish(
      topics.conversationEvents,
      conversationId,
      event({
        $case: 'queued',
        queued: {
          queue: 'email-cards',
          skill: 'cards',
          tier: Tier.TIER_FRONT_OFFICE,
          position: 1,
          estimatedWaitMs: 40_000,
          priority: 0,
          risk: 0,
          complexity: 0,
        },
      }),
    );
    await h.kafka.producer.publish(
      topics.conversationEvents,
      conversationId,
      event({ $case: 'assigned', assigned: { agentId: 'agent-7', tier: Tier.TIER_FRONT_OFFICE, waitedMs: 52_000 } }),
    );
    await h.kafka.producer.publish(
      topics.conversationEvents,
      conversationId,
      event({
        $case: 'escalated',
        escalated: { fromAgentId: 'agent-7', note: 'Customer says the thief used the card at Harrods', queue: 'fraud', skill: 'fraud', automatic: false },
      }),
    );
    await h.kafka.producer.publish(
      topics.sla,
      conversationId,
      SlaEvent.fromPartial({
        eventId: uniqueId('sla'),
        conversationId,
        channel: Channel.CHANNEL_EMAIL,
        queue: 'email-cards',
        kind: SlaEventKind.SLA_EVENT_KIND_BREACH,
        targetMs: 30_000,
        elapsedMs: 52_000,
        occurredAt: new Date(),
      }),
    );
    await h.kafka.producer.publishRaw(topics.sla.name, conversationId, Buffer.from([0xff, 0xff, 0xff, 0xff, 0x0f]), {
      ce_id: uniqueId('poison'),
      ce_type: topics.sla.type,
      ce_source: 'contactcenter/test',
      ce_specversion: '1.0',
      ce_time: new Date().toISOString(),
    });

    // Live: the contact, three conversation events, the breach, the poison record and its dead letter.
    // Other people's traffic shares the broker, so only this conversation's rows are examined.
    await page.locator('#events tr[data-topic="cc.deadletter.v1"]', { hasText: conversationId }).first().waitFor({ timeout: 45_000 });
    await page.locator('#events tr', { hasText: 'escalated' }).filter({ hasText: conversationId }).first().waitFor({ timeout: 45_000 });
    const live = (await rowsFor(page).allInnerTexts()).join('\n');
    for (const shown of ['ContactReceived', 'queued', 'assigned', 'escalated', 'breach', 'cc.deadletter.v1', '[redacted]']) expect(live).toContain(shown);
    for (const secret of ['Card stolen', '4242', 'Harrods', 'ada.customer@example.com', 'Ada Customer']) expect(live).not.toContain(secret);
    // The contact links to its trace; the events written without a trace do not.
    const traceLinks = rowsFor(page).locator('a.trace');
    expect(await traceLinks.count()).toBe(1);
    expect(await traceLinks.getAttribute('href')).toBe(`http://traces.test/trace/${TRACE_ID}?from=console`);
    expect(await rowsFor(page).filter({ hasText: 'ContactReceived' }).locator('a.trace').count()).toBe(1);

    // Filter by conversation: only this conversation's rows remain, and new ones keep arriving.
    await page.locator('#filter-conversation').fill(conversationId);
    await page.locator('#filter-form button[type=submit]').click();
    await page.locator('#stream-status', { hasText: 'live' }).waitFor({ timeout: 20_000 });
    await h.kafka.producer.publish(
      topics.conversationEvents,
      conversationId,
      event({ $case: 'resolved', resolved: { agentId: 'agent-9', disposition: 'card-blocked' } }),
    );
    await page.locator('#events tr', { hasText: 'resolved' }).first().waitFor({ timeout: 30_000 });
    expect(await onlyRowsOf(page, conversationId)).toBe(true);
    await page.locator('#filter-topic').selectOption(topics.conversationEvents.name);
    await page.locator('#filter-form button[type=submit]').click();
    await page.locator('#stream-status', { hasText: 'live' }).waitFor({ timeout: 20_000 });
    await h.kafka.producer.publish(
      topics.conversationEvents,
      conversationId,
      event({ $case: 'surveyAnswered', surveyAnswered: { question: 'How did we do?', score: 4, comment: 'Quick, thanks Harrods', agentId: '', queue: '' } }),
    );
    await page.locator('#events tr', { hasText: 'surveyAnswered' }).first().waitFor({ timeout: 30_000 });
    expect(await onlyRowsOf(page, conversationId, 'cc.conversation.events.v1')).toBe(true);
    expect(await page.locator('#events').innerText()).not.toContain('Harrods');
    await page.locator('#filter-topic').selectOption('');
    await page.locator('#filter-form button[type=submit]').click();
    await page.locator('#stream-status', { hasText: 'live' }).waitFor({ timeout: 20_000 });
    // Reopened, the stream starts from the console's memory of this conversation: the whole scenario.
    await waitFor(async () => (await rowsFor(page).count()) >= 9, 20_000, 'the conversation replayed from memory');
    expect(await onlyRowsOf(page, conversationId)).toBe(true);
    await shot(page, 'live');

    // The timeline, read from the beginning of every topic.
    await rowsFor(page).first().locator('a.conversation').click();
    await page.locator('#timeline-status', { hasText: 'records' }).waitFor({ timeout: 60_000 });
    const timeline = page.locator('#timeline li');
    expect(await timeline.count()).toBeGreaterThanOrEqual(7);
    const timelineText = await page.locator('#timeline').innerText();
    expect(timelineText).toContain('queued');
    expect(timelineText).toContain('escalated');
    expect(timelineText).toContain('[redacted]');
    expect(timelineText).not.toContain('Harrods');
    // Its latency by hop: received, queued and accepted happened (other tests' routing instances on
    // the shared broker may add hops of their own to the same conversation).
    expect(await page.locator('#hops tbody tr').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-hop')))).toEqual(
      expect.arrayContaining(['received', 'queued', 'accepted']),
    );
    // Time since the contact (another routing's own queued step, on its own clock, may come first).
    expect(await page.locator('#hops tr[data-hop=queued] td').nth(2).innerText()).toMatch(/^\+/);
    expect(await page.locator('#timeline a.trace').getAttribute('href')).toBe(`http://traces.test/trace/${TRACE_ID}?from=console`);

    // Charts: the contact, the breach and the dead letter are counted; routing's queue statistics arrive.
    await page.locator('nav button[data-tab=charts]').click();
    await page.locator('#charts-sources', { hasText: 'routing queue statistics: ok' }).waitFor({ timeout: 30_000 });
    await waitFor(async () => Number(await page.locator('#breaches-total').innerText()) >= 1, 20_000, 'a breach counted');
    await waitFor(async () => Number(await page.locator('#dead-letter-count').innerText()) >= 1, 20_000, 'a dead letter counted');
    expect(await page.locator('#chart-contacts svg path').count()).toBeGreaterThan(0);
    expect(await page.locator('#chart-waits svg rect').count()).toBeGreaterThanOrEqual(2);
    await page.waitForTimeout(3500);
    await shot(page, 'charts');

    // Dead letters: reason, origin and the garbage bytes; replay once the consumer is "fixed".
    await poisonConsumer.stop();
    await page.locator('nav button[data-tab=dead-letters]').click();
    const letter = page.locator('article.dead-letter', { hasText: conversationId }).first();
    await letter.waitFor({ timeout: 30_000 });
    const letterText = await letter.innerText();
    expect(letterText).toContain('undecodable');
    expect(letterText).toContain('cc.sla.v1 partition');
    expect(await letter.locator('pre.hex').innerText()).toBe('ffffffff0f');
    await shot(page, 'dead-letters', false);
    const recorder = await recordTopics([topics.sla.name]);
    try {
      await letter.locator('button.replay').click();
      await page.locator('#dead-letters-status', { hasText: 'replayed to cc.sla.v1' }).waitFor({ timeout: 30_000 });
      const back = await recorder.waitFor((r) => r.message.key?.toString() === conversationId && r.message.value?.toString('hex') === 'ffffffff0f', 30_000);
      expect(Object.keys(back.headers).some((k) => k.startsWith('dlq_'))).toBe(false);
    } finally {
      await recorder.close();
    }
    const audit = await h.console.audit.entries.find({ key: conversationId }).toArray();
    expect(audit).toEqual([expect.objectContaining({ by: h.ids.ops, outcome: 'replayed', original: expect.objectContaining({ topic: topics.sla.name }) })]);
    // The replayed record may be dead-lettered again by another test's consumer of cc.sla.v1 (a newer
    // letter, listed first): the one replayed is the letter that names who replayed it.
    await page.locator('article.dead-letter', { hasText: conversationId }).locator('dd', { hasText: h.ids.ops }).first().waitFor();

    await page.locator('#sign-out').click();
    await page.locator('#sign-in-form').waitFor();
    expect(problems).toEqual([]);
    await page.context().close();
  });

  it('shows a supervisor the contents as literal text, without running any of it, and no replay', async () => {
    const { page, problems } = await openPage();
    await signInAs(page, h.ids.supervisor);
    expect(await page.locator('#redaction-note').isHidden()).toBe(true);
    await page.locator('#filter-conversation').fill(conversationId);
    await page.locator('#filter-form button[type=submit]').click();
    await page.locator('#stream-status', { hasText: 'live' }).waitFor({ timeout: 20_000 });
    await h.kafka.producer.publish(
      topics.conversationEvents,
      conversationId,
      ConversationEvent.fromPartial({
        eventId: uniqueId('ev'),
        conversationId,
        channel: Channel.CHANNEL_EMAIL,
        step: { $case: 'replied', replied: { agentId: 'agent-9', outboundMessageId: 'o-1', text: 'We blocked the card <b>today</b>' } },
      }),
    );
    await page.locator('#events tr', { hasText: 'We blocked the card <b>today</b>' }).first().waitFor({ timeout: 30_000 });
    await page.locator('nav button[data-tab=timeline]').click();
    await page.locator('#timeline-conversation').fill(conversationId);
    await page.locator('#timeline-form button[type=submit]').click();
    await page.locator('#timeline-status', { hasText: 'records' }).waitFor({ timeout: 60_000 });
    const text = await page.locator('#timeline').innerText();
    expect(text).toContain(SUBJECT.replace(/"/g, '\\"'));
    expect(text).toContain('Harrods');
    expect(await page.evaluate('window.__injected')).toBeUndefined();
    expect(await page.locator('#timeline script, #timeline img, #events script, #events img, #events b').count()).toBe(0);
    await page.locator('nav button[data-tab=dead-letters]').click();
    await page.locator('article.dead-letter', { hasText: conversationId }).first().waitFor({ timeout: 30_000 });
    expect(await page.locator('button.replay').count()).toBe(0);
    expect(problems).toEqual([]);
    await page.context().close();
  });
});
