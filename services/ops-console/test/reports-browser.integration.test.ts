// The Reports tab in Chromium against the real broker: the figures of this run's own queues as a
// table and inline SVG charts, a queue's report card, the CSV link, and a queue name holding
// markup shown as text.
import { mkdirSync } from 'node:fs';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { topics } from '#libs/kafka';
import { Channel, ConversationEvent, SlaEvent, SlaEventKind } from '#libs/proto';
import { launchChromium, uniqueId } from '#libs/testing';
import { PASSWORD, startHarness, type Harness } from './harness';

const SCREENSHOTS = new URL('../../../docs/screenshots/', import.meta.url);
const suffix = uniqueId('b').slice(2, 8).toLowerCase();
const QUEUES = [
  { queue: `tier1/billing${suffix}/sms`, channel: Channel.CHANNEL_SMS },
  { queue: `tier1/orders${suffix}/email`, channel: Channel.CHANNEL_EMAIL },
];
const MARKUP_QUEUE = `tier1/<img src=x onerror="window.__injected=1">${suffix}/chat`;
const AGENTS = [`ada.${suffix}`, `bob.${suffix}`];
const firstHour = Math.floor(Date.now() / 3600_000) * 3600_000 - 4 * 3600_000;

type Step = NonNullable<ConversationEvent['step']>;

/** Three hours of contacts on each queue: most answered and resolved, some abandoned, some scored. */
function scenario(): { events: ConversationEvent[]; sla: SlaEvent[] } {
  const out: ConversationEvent[] = [];
  const sla: SlaEvent[] = [];
  const add = (conversationId: string, channel: Channel, at: number, step: Step) =>
    out.push(ConversationEvent.fromPartial({ eventId: uniqueId('ev'), conversationId, channel, occurredAt: new Date(at), step }));
  const queues = [...QUEUES, { queue: MARKUP_QUEUE, channel: Channel.CHANNEL_CHAT }];
  queues.forEach(({ queue, channel }, qi) => {
    for (let hour = 0; hour < 3; hour++) {
      for (let i = 0; i < 4 + hour + qi; i++) {
        const id = uniqueId('bc');
        const at = firstHour + hour * 3600_000 + i * 6 * 60_000;
        const agentId = AGENTS[i % 2]!;
        add(id, channel, at, {
          $case: 'queued',
          queued: { queue, skill: 'general', tier: 1, priority: 0, position: 1, estimatedWaitMs: 60_000, risk: 0, complexity: 0 },
        });
        if (i % 4 === 3) {
          add(id, channel, at + 90_000, { $case: 'abandoned', abandoned: { waitedMs: 90_000 } });
          continue;
        }
        const waitedMs = 15_000 + i * 10_000;
        add(id, channel, at + waitedMs, { $case: 'assigned', assigned: { agentId, tier: 1, waitedMs } });
        // A 40 s target: the later ones of each hour miss it.
        const kind = waitedMs <= 40_000 ? SlaEventKind.SLA_EVENT_KIND_MET : SlaEventKind.SLA_EVENT_KIND_BREACH;
        sla.push(
          SlaEvent.fromPartial({
            eventId: uniqueId('sla'),
            conversationId: id,
            channel,
            queue,
            kind,
            targetMs: 40_000,
            elapsedMs: waitedMs,
            occurredAt: new Date(at + waitedMs),
          }),
        );
        add(id, channel, at + waitedMs + 240_000, { $case: 'resolved', resolved: { agentId, disposition: 'done' } });
        if (i % 2 === 0)
          add(id, channel, at + waitedMs + 300_000, {
            $case: 'surveyAnswered',
            surveyAnswered: { question: 'q', score: 3 + (i % 3), comment: '', agentId, queue },
          });
      }
    }
  });
  return { events: out, sla };
}

describe('reports in Chromium', () => {
  let h: Harness;
  let browser: Browser;

  beforeAll(async () => {
    h = await startHarness();
    const { events, sla } = scenario();
    for (const e of events) await h.kafka.producer.publish(topics.conversationEvents, e.conversationId, e, { id: e.eventId });
    for (const e of sla) await h.kafka.producer.publish(topics.sla, e.conversationId, e, { id: e.eventId });
    browser = await launchChromium();
  }, 90_000);
  afterAll(async () => {
    await browser?.close();
    await h?.stop();
  });

  it('shows the table, the charts and a report card, with names as text', { timeout: 120_000 }, async () => {
    const page = await (await browser.newContext({ viewport: { width: 1500, height: 1000 } })).newPage();
    const problems: string[] = [];
    page.on('pageerror', (err) => problems.push(err.message));
    page.on('console', (msg) => {
      if (/Content Security Policy|Refused to/i.test(msg.text())) problems.push(msg.text());
    });
    await page.goto(h.console.url);
    await page.locator('#sign-in-id').fill(h.ids.supervisor);
    await page.locator('#sign-in-password').fill(PASSWORD);
    await page.locator('#sign-in-form button[type=submit]').click();
    await page.locator('#stream-status', { hasText: 'live' }).waitFor({ timeout: 30_000 });
    await page.locator('nav button[data-tab="reports"]').click();
    await page.locator('#report-from').fill(new Date(firstHour).toISOString());
    await page.locator('#report-to').fill(new Date(firstHour + 3 * 3600_000).toISOString());
    const sms = page.locator('#report-rows tr', { hasText: QUEUES[0]!.queue });
    // The console folds the topics from their beginning: ask again until this run's rows are in.
    for (let i = 0; i < 60; i++) {
      await page.locator('#report-form button[type=submit]').click();
      await page.locator('#report-status', { hasText: 'rows' }).waitFor();
      if ((await sms.count()) >= 3) break;
      await page.waitForTimeout(500);
    }
    await expect.poll(() => sms.count(), { timeout: 5000 }).toBe(3);
    // The first hour of the SMS queue: 4 offered, 3 answered, 1 abandoned after 1.5 min.
    const first = await sms.first().locator('td').allTextContents();
    expect(first.slice(1, 6)).toEqual([QUEUES[0]!.queue, '4', '3', '1', '25 %']);
    expect(first[6]).toBe('1.5 min');
    // Waits of 15, 25 and 35 s against 40 s: all three in time.
    expect(first[7]).toBe('100 %');
    await expect.poll(() => page.locator('#report-chart-volume svg rect').count()).toBeGreaterThan(3);
    await expect.poll(() => page.locator('#report-chart-service-level svg path').count()).toBeGreaterThan(0);
    // A queue name with markup is shown as those characters, and nothing runs.
    await page.locator('#report-rows td', { hasText: '<img src=x' }).first().waitFor();
    expect(await page.evaluate('window.__injected')).toBeUndefined();
    expect(await page.locator('#report-csv').getAttribute('href')).toMatch(/^\/api\/reports\.csv\?interval=hour&by=queue&from=/);

    await page.locator('#report-rows a', { hasText: QUEUES[0]!.queue }).first().click();
    await page.locator('#report-card:not([hidden])').waitFor();
    expect(await page.locator('#report-card-title').textContent()).toContain(QUEUES[0]!.queue);
    const totals = await page.locator('#report-card-totals dd').allTextContents();
    // 4 + 5 + 6 offered over the three hours, 3 of them abandoned.
    expect(totals.slice(0, 3)).toEqual(['15', '12', '3']);
    expect(await page.locator('#report-card-rows tr').count()).toBe(3);
    if (process.env.SAVE_SCREENSHOTS === '1') {
      mkdirSync(SCREENSHOTS, { recursive: true });
      await page.screenshot({ path: new URL('ops-console-reports.png', SCREENSHOTS).pathname, fullPage: true });
    }
    expect(problems).toEqual([]);
  });
});
