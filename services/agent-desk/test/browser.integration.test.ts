// An agent's working day in a real browser, through every real part: a customer mails the
// email service over SMTP; Kafka carries it to customer-record and routing; the desk offers it
// to a tier-1 agent who answers (the reply reaches an SMTP sink) and escalates; an expert takes
// it and resolves; a supervisor watches; ops follows the day's events in the ops console and with
// the tail command. Customer text with markup stays text. On the way, the supervisor adds shared
// canned answers and the agent inserts one, filled, from the reply box with the keyboard.
import { spawn } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import readline from 'node:readline';
import { fileURLToPath } from 'node:url';
import { credentials } from '@grpc/grpc-js';
import type { ParsedMail } from 'mailparser';
import nodemailer from 'nodemailer';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '#libs/config';
import { CustomerRecordServiceClient, IdentityKind, type GetCustomerContextResponse } from '#libs/proto';
import {
  dropDatabase,
  KAFKA_BROKERS,
  launchChromium,
  MONGODB_URI,
  startMailSink,
  testAuthEnv,
  testContext,
  testMetadata,
  uniqueId,
  waitFor,
  type MailSink,
} from '#libs/testing';
import { customerRecordConfig } from '../../customer-record/src/config';
import { startCustomerRecord } from '../../customer-record/src/service';
import { emailConfig } from '../../email/src/config';
import { startEmailService } from '../../email/src/service';
import { loadOpsConsoleConfig } from '../../ops-console/src/config';
import { startOpsConsole } from '../../ops-console/src/service';
import { routingConfig } from '../../routing/src/config';
import { startRouting, type RunningRouting } from '../../routing/src/service';
import { agentDeskConfig, startAgentDesk } from '../src/service';

const PASSWORD = 'a long test password';
const SAVE = process.env.SAVE_SCREENSHOTS === '1';
const shots = fileURLToPath(new URL('../../../docs/screenshots/', import.meta.url));
const database = uniqueId('desk_day').replace(/-/g, '_');
// Only mail carrying this token goes to this test's agents: the shared broker carries other
// people's contacts too, and they stay in their own queues (other skill, no widening).
const token = uniqueId('desk').replace(/-/g, '');
const skill = `desk-${token.slice(-8)}`;
const address = `${uniqueId('carla')}@customer.test`;
const XSS_SUBJECT = `Refund ${token} <script>alert(1)</script><img src=x onerror=alert(2)>`;

const contexts = ['email', 'customer-record', 'routing', 'agent-desk', 'ops-console'].map((name) => testContext(name));
const [emailCtx, recordCtx, routingCtx, deskCtx, opsCtx] = contexts as [
  ReturnType<typeof testContext>,
  ReturnType<typeof testContext>,
  ReturnType<typeof testContext>,
  ReturnType<typeof testContext>,
  ReturnType<typeof testContext>,
];
let sunk: ParsedMail[] = [];
let sink: MailSink | undefined;
let smtpPort: number;
let contentPort: number | undefined;
let routing: RunningRouting;
let recordClient: InstanceType<typeof CustomerRecordServiceClient>;
let desk: string;
let opsConsole: string;
let browser: Browser;
const dialogs: string[] = [];
const pageErrors: string[] = [];

beforeAll(async () => {
  sink = await startMailSink();
  sunk = sink.mails;

  const common = { KAFKA_BROKERS: KAFKA_BROKERS.join(','), MONGODB_URI, MONGODB_DATABASE: database, HTTP_PORT: '0', LOG_LEVEL: 'silent' };
  ({ smtpPort, contentPort } = await startEmailService(
    emailCtx,
    loadConfig(emailConfig, {
      ...common,
      SMTP_PORT: '0',
      ...testAuthEnv('email'),
      EMAIL_CONTENT_HTTP_PORT: '0',
      SUPPORT_DOMAINS: 'shop.test',
      SMTP_URL: sink.url,
      OUTBOUND_MAX_ATTEMPTS: '2',
      EMAIL_OUTBOUND_GROUP: uniqueId('desk-out'),
    }),
  ));
  const record = await startCustomerRecord(
    recordCtx,
    loadConfig(customerRecordConfig, {
      ...common,
      GRPC_PORT: '0',
      ...testAuthEnv('customer-record'),
      PROJECTION_GROUP_ID: uniqueId('desk-projection'),
      PROJECTION_FROM_BEGINNING: 'false',
      CONTEXT_CACHE_TTL_MS: '0',
    }),
  );
  recordClient = new CustomerRecordServiceClient(`127.0.0.1:${record.grpcPort}`, credentials.createInsecure());
  routing = await startRouting(
    routingCtx,
    loadConfig(routingConfig, {
      ...common,
      GRPC_PORT: '0',
      ...testAuthEnv('routing'),
      CUSTOMER_RECORD_GRPC_ADDR: `127.0.0.1:${record.grpcPort}`,
      ROUTING_CONSUMER_GROUP: uniqueId('desk-routing'),
      ROUTING_OFFER_TIMEOUT_MS: '180000',
      // The offer's badges come from customer-record's answer: on a loaded machine 250 ms is not always enough.
      ROUTING_CUSTOMER_LOOKUP_TIMEOUT_MS: '5000',
      ROUTING_TICK_MS: '100',
      ROUTING_RULES_JSON: JSON.stringify([{ id: 'desk-test', when: { pattern: token }, then: { skill } }]),
    }),
    { policy: { stepTimeoutMs: { accountManager: 20_000, lastAgent: 15_000, skilled: 3_600_000, anyLevel: 3_600_000 } } },
  );
  const started = await startAgentDesk(
    deskCtx,
    loadConfig(agentDeskConfig, {
      KAFKA_BROKERS: KAFKA_BROKERS.join(','),
      MONGODB_URI,
      HTTP_PORT: '0',
      ...testAuthEnv('agent-desk'),
      AGENT_DESK_SESSION_SECRET: 'agent-desk-browser-test-secret-0123456789',
      STAFF_DB: database,
      ROUTING_GRPC_ADDR: `127.0.0.1:${routing.grpcPort}`,
      CUSTOMER_RECORD_GRPC_ADDR: `127.0.0.1:${record.grpcPort}`,
      EMAIL_CONTENT_URL: `http://127.0.0.1:${contentPort}`,
      SUPERVISOR_REFRESH_MS: '500',
      LOG_LEVEL: 'silent',
    }),
  );
  desk = `http://127.0.0.1:${started.port}`;
  const capacity = { voice: 1, chat: 3, sms: 5, email: 5, total: 8 };
  await started.roster.upsert({ id: 'ana', name: 'Ana Lopez', role: 'agent', tier: 1, skills: { [skill]: 3 }, languages: ['en'], capacity }, PASSWORD);
  await started.roster.upsert({ id: 'max', name: 'Max Weber', role: 'expert', tier: 2, skills: { [skill]: 5 }, languages: ['en'], capacity }, PASSWORD);
  await started.roster.upsert({ id: 'sue', name: 'Sue Park', role: 'supervisor' }, PASSWORD);
  await started.roster.upsert({ id: 'olu', name: 'Olu Okafor', role: 'ops' }, PASSWORD);
  ({ url: opsConsole } = await startOpsConsole(
    opsCtx,
    loadOpsConsoleConfig({
      ...common,
      STAFF_DB: database,
      ...testAuthEnv('ops-console'),
      OPS_CONSOLE_SESSION_SECRET: 'ops-console-browser-test-secret-0123456789',
      ROUTING_GRPC_ADDR: `127.0.0.1:${routing.grpcPort}`,
      CUSTOMER_RECORD_GRPC_ADDR: `127.0.0.1:${record.grpcPort}`,
    }),
  ));
  browser = await launchChromium();
  if (SAVE) mkdirSync(shots, { recursive: true });
}, 120_000);

afterAll(async () => {
  await browser?.close();
  recordClient?.close();
  for (const ctx of [...contexts].reverse()) await ctx.stop();
  await sink?.close();
  await dropDatabase(database);
}, 60_000);

/** The customer's earlier "Wrong size" conversation, waiting in routing's general queue. */
function waitingId(): string {
  return [...routing.engine.conversations.values()].find((c) => c.subject === 'Wrong size' && c.recipient?.value === address)!.id;
}

async function customerContext(of = address): Promise<GetCustomerContextResponse> {
  const md = await testMetadata({ id: 'desk-test', role: 'supervisor' }, 'customer-record');
  // The test looks as a supervisor, who reads any customer with a reason.
  return new Promise((resolve, reject) =>
    recordClient.getCustomerContext(
      {
        customerId: '',
        identity: { kind: IdentityKind.IDENTITY_KIND_EMAIL, value: of, namespace: '' },
        recentConversations: 5,
        conversationId: '',
        reason: 'browser test checks the record',
      },
      md,
      (err, res) => (err ? reject(err) : resolve(res)),
    ),
  );
}

async function newPage(): Promise<Page> {
  const context = await browser.newContext({ viewport: { width: 1366, height: 860 } });
  const page = await context.newPage();
  page.on('dialog', (d) => {
    dialogs.push(d.message());
    void d.dismiss();
  });
  page.on('pageerror', (err) => pageErrors.push(err.message));
  await page.goto(desk);
  return page;
}

async function signIn(page: Page, id: string): Promise<void> {
  await page.locator('#signin-id').fill(id);
  await page.locator('#signin-password').fill(PASSWORD);
  await page.locator('#signin-password').press('Enter');
  await page
    .locator('#who')
    .filter({ hasText: id === 'sue' ? 'supervisor' : id === 'max' ? 'expert' : 'agent' })
    .waitFor({ timeout: 20_000 });
  await page.locator('#link').filter({ hasText: 'live' }).waitFor({ timeout: 20_000 });
}

async function shot(page: Page, name: string): Promise<void> {
  if (SAVE) await page.screenshot({ path: `${shots}agent-desk-${name}.png` });
}

const CANNED_NAME = 'Refund confirmed <img src=x onerror=alert(3)>';
const CANNED_TEXT = 'Hello {{customer.name}}, this is {{agent.name}}. Your refund is on its way; your reference is {{conversation.reference}}.';

/** A supervisor adds shared canned answers; the agent inserts one with the keyboard and sees it filled. */
async function cannedAnswers(supervisor: Page, agent: Page): Promise<void> {
  await supervisor.getByRole('button', { name: 'Canned answers' }).click();
  await supervisor.locator('#canned-dialog').waitFor({ state: 'visible', timeout: 10_000 });
  await supervisor.locator('#canned-name').fill(CANNED_NAME);
  await supervisor.locator('#canned-scope').selectOption('shared');
  await supervisor.locator('#canned-text').fill('Hello {{customer.email}}');
  await supervisor.locator('#canned-save').click();
  // The server refuses an unknown placeholder, and says which.
  await supervisor.locator('#canned-error').filter({ hasText: 'unknown placeholder {{customer.email}}' }).waitFor({ timeout: 10_000 });
  await supervisor.locator('#canned-text').fill(CANNED_TEXT);
  for (const channel of ['sms', 'chat']) await supervisor.locator(`#canned-channels input[value="${channel}"]`).uncheck();
  await supervisor.locator('#canned-save').click();
  await supervisor.locator('#canned-table tr').filter({ hasText: CANNED_NAME }).waitFor({ timeout: 10_000 });
  // One for chat only: never offered on an email conversation.
  await supervisor.locator('#canned-name').fill('Chat welcome');
  await supervisor.locator('#canned-scope').selectOption('shared');
  await supervisor.locator('#canned-text').fill('Hi {{customer.name}}!');
  for (const channel of ['email', 'sms']) await supervisor.locator(`#canned-channels input[value="${channel}"]`).uncheck();
  await supervisor.locator('#canned-save').click();
  await supervisor.locator('#canned-table tr').filter({ hasText: 'Chat welcome' }).waitFor({ timeout: 10_000 });
  await supervisor.getByRole('button', { name: 'Close' }).click();
  await supervisor.locator('#canned-dialog').waitFor({ state: 'hidden', timeout: 10_000 });

  // The agent keeps one of her own; the wait in it is routing's estimate for the conversation's queue.
  await agent.evaluate(
    "api('/api/canned/create', { scope: 'personal', name: 'Refund timeline', text: 'Refunds reach your card within 5 working days, {{customer.name}}. A callback now waits {{wait}}.', channels: ['email'] })",
  );
  await agent.locator('body').press('r');
  await agent.keyboard.type('/');
  await agent.locator('#canned-picker').waitFor({ state: 'visible', timeout: 20_000 });
  expect(await agent.evaluate('document.activeElement && document.activeElement.id')).toBe('canned-search');
  await agent.keyboard.type('refund');
  const options = agent.locator('#canned-list [role=option]');
  await expect(options.locator('.canned-name').allTextContents()).resolves.toEqual([CANNED_NAME, 'Refund timeline (mine)']);
  const filled = 'Hello Carla Diaz, this is Ana Lopez. Your refund is on its way; your reference is {{conversation.reference}}.';
  await expect(options.nth(0).getAttribute('aria-selected')).resolves.toBe('true');
  await expect(options.nth(0).locator('.canned-text').textContent()).resolves.toBe(filled);
  expect(await options.nth(1).locator('.canned-text').textContent()).toMatch(
    /^Refunds reach your card within 5 working days, Carla Diaz\. A callback now waits (less than a minute|about [\d.]+ (minutes?|hours?)|about an hour)\.$/,
  );
  await agent.keyboard.press('ArrowDown');
  await expect(options.nth(1).getAttribute('aria-selected')).resolves.toBe('true');
  expect(await agent.locator('#canned-search').getAttribute('aria-activedescendant')).toBe(await options.nth(1).getAttribute('id'));
  await agent.keyboard.press('ArrowUp');
  await shot(agent, 'canned-answers');
  await agent.keyboard.press('Enter');
  // The filled text replaces the `/`; the placeholder the desk could not fill is selected, to type over.
  await expect(agent.locator('#reply-text').inputValue()).resolves.toBe(filled);
  expect(await agent.evaluate("(() => { const b = document.getElementById('reply-text'); return b.value.slice(b.selectionStart, b.selectionEnd); })()")).toBe(
    '{{conversation.reference}}',
  );
  await agent.locator('#canned-hint').filter({ hasText: 'Fill in: {{conversation.reference}}' }).waitFor({ timeout: 5000 });
  // Ctrl+/ opens the list anywhere in the box; Esc closes it and inserts nothing.
  await agent.locator('#reply-text').fill('');
  await agent.locator('#reply-text').press('Control+/');
  await agent.locator('#canned-picker').waitFor({ state: 'visible', timeout: 20_000 });
  await agent.keyboard.press('Escape');
  await agent.locator('#canned-picker').waitFor({ state: 'hidden', timeout: 5000 });
  expect(await agent.evaluate('document.activeElement && document.activeElement.id')).toBe('reply-text');
  await expect(agent.locator('#reply-text').inputValue()).resolves.toBe('');
  // A second Esc leaves the box, so the desk's own keys work again.
  await agent.keyboard.press('Escape');
  expect(await agent.evaluate('document.activeElement && document.activeElement.id')).not.toBe('reply-text');
}

/** The supervisor finds the resolved conversation by its words, and Ana the one she held. */
async function searchConversations(supervisor: Page, agent: Page, conversationId: string): Promise<void> {
  await supervisor.locator('#search-words').fill('charged twice');
  await supervisor.locator('#search-state').selectOption('resolved');
  await supervisor.locator('#search-form').getByRole('button', { name: 'Search' }).click();
  const found = supervisor.locator(`#search-results tr[data-conversation="${conversationId}"]`);
  await waitFor(
    async () => {
      if (await found.count()) return true;
      await supervisor.locator('#search-form').getByRole('button', { name: 'Search' }).click();
      await new Promise((r) => setTimeout(r, 300));
      return false;
    },
    30_000,
    'the resolved conversation found by its words',
  );
  await expect(found.locator('td.match').textContent()).resolves.toContain('[charged] [twice]');
  if (SAVE) await supervisor.locator('#search-screen').screenshot({ path: `${shots}agent-desk-search.png` });
  // A malformed filter is answered with its reason.
  await supervisor.locator('#search-from').fill('last week');
  await supervisor.locator('#search-form').getByRole('button', { name: 'Search' }).click();
  await supervisor.locator('#notice').filter({ hasText: 'active_from must be an RFC 3339 time' }).waitFor({ timeout: 10_000 });
  await supervisor.locator('#search-from').fill('');
  // Ana finds the conversation she held (within her shift after it left her).
  await agent.locator('#search-words').fill('charged twice');
  await agent.locator('#search-form').getByRole('button', { name: 'Search' }).click();
  await agent.locator(`#search-results tr[data-conversation="${conversationId}"]`).waitFor({ timeout: 10_000 });
}

describe('a working day at the agent desk', () => {
  it('offer → accept → history and regular flag → reply by email → escalate → expert resolves, supervisor watching, ops following', async () => {
    const mailer = nodemailer.createTransport({ host: '127.0.0.1', port: smtpPort, secure: false, ignoreTLS: true });
    // A new consumer group starts at the end of the topic once its first fetch resolves: mail
    // sent before that is not seen. Probe until routing and customer-record both see mail.
    const probe = `${uniqueId('probe')}@customer.test`;
    await waitFor(
      async () => {
        await mailer.sendMail({ from: probe, to: 'help@shop.test', subject: uniqueId('probe'), text: 'probe' });
        const until = Date.now() + 4000;
        while (Date.now() < until) {
          const routed = [...routing.engine.conversations.values()].some((c) => c.recipient?.value === probe);
          if (
            routed &&
            (await customerContext(probe).then(
              () => true,
              () => false,
            ))
          )
            return true;
          await new Promise((r) => setTimeout(r, 200));
        }
        return false;
      },
      90_000,
      'routing and customer-record to read the contact topic',
    );

    // The customer has written three times before: a regular customer.
    for (const subject of ['Where is my parcel?', 'Wrong size', 'Delivery address']) {
      await mailer.sendMail({ from: `"Carla Diaz" <${address}>`, to: 'help@shop.test', subject, text: `About: ${subject}` });
    }
    await waitFor(
      () =>
        customerContext().then(
          (c) => c.recentConversations.length === 3,
          () => false,
        ),
      90_000,
      'three conversations on the record',
    );
    await waitFor(
      () => [...routing.engine.conversations.values()].filter((c) => c.recipient?.value === address).length === 3,
      120_000,
      'routing to queue the earlier mail',
    );

    const supervisor = await newPage();
    await signIn(supervisor, 'sue');
    const agent = await newPage();
    await shot(agent, 'sign-in');
    await signIn(agent, 'ana');
    const expert = await newPage();
    await signIn(expert, 'max');

    const agentRow = supervisor.locator('#agents tr[data-agent="ana"]');
    await agentRow.locator('td.presence-offline').waitFor({ timeout: 20_000 });
    await agent.getByRole('button', { name: 'Available' }).click();
    await expert.getByRole('button', { name: 'Available' }).click();
    // Presence shows on the supervisor's screen without a reload.
    await agentRow.locator('td.presence-available').waitFor({ timeout: 20_000 });

    await mailer.sendMail({
      from: `"Carla Diaz" <${address}>`,
      to: 'help@shop.test',
      subject: XSS_SUBJECT,
      text: 'I was charged twice for order 1234. Please refund one payment.',
      attachments: [{ filename: 'statement.pdf', content: Buffer.alloc(2048, 7), contentType: 'application/pdf' }],
    });

    // The offer appears with the customer's name, the regular badge and a countdown.
    const offer = agent.locator('#offers li').filter({ hasText: 'Carla Diaz' });
    await offer.waitFor({ timeout: 120_000 });
    await expect(offer.locator('.badge-regular').textContent()).resolves.toBe('Regular customer');
    await expect(offer.locator('.channel').textContent()).resolves.toBe('email');
    expect(await offer.locator('.countdown').textContent()).toMatch(/^\d+ s$/);
    // The subject's markup is shown as text, never run or rendered.
    await expect(offer.locator('.subject').textContent()).resolves.toBe(XSS_SUBJECT);
    expect(await agent.locator('#offers img, #offers script').count()).toBe(0);
    expect(await agent.title()).toBe('(1) Offer waiting — Agent desk');
    await shot(agent, 'offer');

    await agent.keyboard.press('a');
    await agent.locator('#conversation').waitFor({ state: 'visible', timeout: 20_000 });
    const incoming = agent.locator('#timeline li.in').filter({ hasText: 'I was charged twice' });
    await incoming.waitFor({ timeout: 120_000 });
    await expect(incoming.locator('.subject').textContent()).resolves.toBe(XSS_SUBJECT);
    await expect(incoming.locator('ul.attachments li').textContent()).resolves.toBe('Attachment: statement.pdf (application/pdf, 2.0 KB)');
    // The file is a download through the desk, once customer-record let Ana open it (audited):
    // saved under its name, never shown, and since its bytes are no PDF, served as bytes.
    const link = incoming.locator('ul.attachments a.attachment');
    const [download] = await Promise.all([agent.waitForEvent('download'), link.click()]);
    expect(download.suggestedFilename()).toBe('statement.pdf');
    await link.hover();
    await shot(agent, 'attachment');
    const href = (await link.getAttribute('href'))!;
    const served = (await agent.evaluate(
      `fetch(${JSON.stringify(href)}).then(async (r) => ({ status: r.status, type: r.headers.get('content-type'), disposition: r.headers.get('content-disposition'), nosniff: r.headers.get('x-content-type-options'), csp: r.headers.get('content-security-policy'), size: (await r.arrayBuffer()).byteLength }))`,
    )) as Record<string, unknown>;
    expect(served).toEqual({
      status: 200,
      type: 'application/octet-stream',
      disposition: `attachment; filename="statement.pdf"; filename*=UTF-8''statement.pdf`,
      nosniff: 'nosniff',
      csp: 'sandbox',
      size: 2048,
    });
    // The customer card: identity, regular flag with its reason, the earlier conversations.
    await agent
      .locator('#card-flags li')
      .filter({ hasText: /Regular customer: yes — \d conversations in the last 90 days/ })
      .waitFor({ timeout: 30_000 });
    await expect(agent.locator('#card-identities').textContent()).resolves.toContain(`email: ${address}`);
    await agent.locator('#card-recent li').filter({ hasText: 'Where is my parcel?' }).waitFor({ timeout: 30_000 });
    await expect(agent.locator('#card-badges .badge-regular').count()).resolves.toBe(1);
    // A first-time customer's offer may come before customer-record knew them: the desk then
    // finds the record by the identity routing passes along.
    const held = [...routing.engine.conversations.values()].find((c) => c.subject === XSS_SUBJECT)!.id;
    const byIdentity = (await agent.evaluate(
      `fetch('/api/conversation?' + new URLSearchParams({ conversationId: ${JSON.stringify(held)}, identityKind: '1', identity: ${JSON.stringify(address)} })).then((r) => r.json())`,
    )) as { card: { customerId: string; name: string }; timeline: { text: string }[] };
    expect(byIdentity.card).toMatchObject({ name: 'Carla Diaz', customerId: (await customerContext()).customer!.customerId });
    expect(byIdentity.timeline.map((i) => i.text).join(' ')).toContain('I was charged twice');
    // The customer's other conversation waits in the queue, offered to nobody: not Ana's to read.
    const notHers = (await agent.evaluate(
      `fetch('/api/conversation?' + new URLSearchParams({ conversationId: ${JSON.stringify(waitingId())}, identityKind: '1', identity: ${JSON.stringify(address)} })).then(async (r) => ({ status: r.status, body: await r.json() }))`,
    )) as { status: number; body: { error: string } };
    expect(notHers).toEqual({ status: 403, body: { error: `conversation ${waitingId()} was not offered to or held by ana` } });
    // Nor are its files, named with a conversation she does not hold: refused (and audited).
    const fileOfOther = (await agent.evaluate(
      `fetch(${JSON.stringify(href.replace(/conversationId=[^&]+/, `conversationId=${encodeURIComponent(waitingId())}`))}).then((r) => r.status)`,
    )) as number;
    expect(fileOfOther).toBe(403);
    // The supervisor reads the conversation's customer with a reason, which is audited.
    await supervisor.locator('#lookup-conversation').fill(held);
    await supervisor.locator('#lookup-reason').fill('complaint follow-up');
    await supervisor.getByRole('button', { name: 'Read' }).click();
    await supervisor.locator('#lookup-name').filter({ hasText: 'Carla Diaz' }).waitFor({ timeout: 20_000 });
    await supervisor.locator('#lookup-timeline li').filter({ hasText: 'I was charged twice' }).first().waitFor({ timeout: 20_000 });
    // The supervisor sees the load.
    await agentRow.locator('td').nth(3).filter({ hasText: '1/8' }).waitFor({ timeout: 20_000 });

    // r focuses the reply box; the reply goes out by email on the conversation's own thread.
    await agent.locator('body').press('r');
    expect(await agent.evaluate('document.activeElement && document.activeElement.id')).toBe('reply-text');
    const replyText = `Hello Carla, the second payment is refunded (${token}).`;
    await agent.keyboard.type(replyText);
    await agent.getByRole('button', { name: 'Send reply' }).click();
    const delivered = await waitFor(() => sunk.find((m) => (m.text ?? '').includes(replyText)), 120_000, 'the reply at the SMTP sink').catch((err: Error) => {
      throw new Error(
        `${err.message}; the sink has ${sunk.length} mails: ${sunk
          .slice(-10)
          .map((m) => m.subject)
          .join(' | ')}`,
      );
    });
    expect(delivered.to && !Array.isArray(delivered.to) ? delivered.to.value[0]?.address : '').toBe(address);
    expect(delivered.subject).toContain('Refund');
    await agent.locator('#timeline li.out:not(.pending)').filter({ hasText: replyText }).waitFor({ timeout: 120_000 });
    await shot(agent, 'conversation');

    await cannedAnswers(supervisor, agent);

    // The supervisor hands Ana one of the customer's waiting conversations: she holds two.
    const waiting = [...routing.engine.conversations.values()].find((c) => c.subject === 'Wrong size' && c.recipient?.value === address)!;
    expect(waiting.state).toBe('queued');
    // Picked from the open conversations by queue and agent, not typed.
    await supervisor.locator('#open-load').click();
    await supervisor.locator(`#open-conversations tr[data-conversation="${waiting.id}"]`).getByRole('button', { name: 'Reassign…' }).click();
    await expect(supervisor.locator('#reassign-conversation').inputValue()).resolves.toBe(waiting.id);
    await supervisor.locator('#reassign-agent').selectOption('ana');
    await supervisor.getByRole('button', { name: 'Reassign', exact: true }).click();
    await agent.locator('#mine li').filter({ hasText: 'Wrong size' }).waitFor({ timeout: 20_000 });
    await expect(agent.locator('#mine li').count()).resolves.toBe(2);
    await agentRow.locator('td').nth(3).filter({ hasText: '2/8' }).waitFor({ timeout: 20_000 });
    // j and k move between her conversations.
    await agent.locator('body').press('j');
    await agent.locator('#conv-title').filter({ hasText: 'Wrong size' }).waitFor({ timeout: 10_000 });
    await agent.locator('body').press('k');
    await agent.locator('#conv-title').filter({ hasText: 'Refund' }).waitFor({ timeout: 10_000 });

    const note = 'Double charge on a card payment: the refund needs an expert.';
    await agent.locator('#escalate-note').fill(note);
    await agent.getByRole('button', { name: 'Escalate' }).click();
    await agent.locator('#mine li').filter({ hasText: 'Refund' }).waitFor({ state: 'detached', timeout: 20_000 });
    // The other conversation opens in its place.
    await agent.locator('#conv-title').filter({ hasText: 'Wrong size' }).waitFor({ timeout: 20_000 });

    // The expert gets it with the tier-1 note on top.
    const expertOffer = expert.locator('#offers li').filter({ hasText: 'Carla Diaz' });
    await expertOffer.waitFor({ timeout: 120_000 });
    await expect(expertOffer.locator('.escalation-note').textContent()).resolves.toBe(`Note from tier 1: ${note}`);
    await expert.keyboard.press('a');
    await expert.locator('#escalation-note').filter({ hasText: note }).waitFor({ state: 'visible', timeout: 20_000 });
    await expert.locator('#timeline li.out:not(.pending)').filter({ hasText: replyText }).waitFor({ timeout: 120_000 });
    await expect(expert.locator('#handback-form').isVisible()).resolves.toBe(true);
    await expect(expert.locator('#escalate-form').isVisible()).resolves.toBe(false);
    await shot(expert, 'expert');

    const expertRow = supervisor.locator('#agents tr[data-agent="max"]');
    await expertRow.locator('td').nth(3).filter({ hasText: '1/8' }).waitFor({ timeout: 20_000 });
    await supervisor.locator(`#queues tr[data-queue="tier1/general/email"]`).waitFor({ timeout: 20_000 });
    await shot(supervisor, 'supervisor');

    await expert.locator('#resolve-disposition').selectOption('refund issued');
    await expert.getByRole('button', { name: 'Resolve' }).click();
    await expert.locator('#conversation').waitFor({ state: 'hidden', timeout: 20_000 });
    await expertRow.locator('td').nth(3).filter({ hasText: '0/8' }).waitFor({ timeout: 20_000 });
    await waitFor(
      () =>
        customerContext().then(
          (c) => c.recentConversations.find((r) => r.subject === XSS_SUBJECT)?.status === 'resolved',
          () => false,
        ),
      120_000,
      'the conversation resolved on the record',
    );
    // Carla rates it 1 by replying to the survey mail; the supervisor gets it to follow up.
    const rated = [...routing.engine.conversations.values()].find((c) => c.subject === XSS_SUBJECT)!;
    const survey = await waitFor(
      () => sunk.find((m) => (m.text ?? '').includes('How did we do?') && (m.subject ?? '').includes('Refund')),
      120_000,
      'the survey mail',
    );
    await mailer.sendMail({
      from: `"Carla Diaz" <${address}>`,
      to: 'help@shop.test',
      subject: `Re: ${survey.subject}`,
      inReplyTo: survey.messageId,
      text: '1 the refund took a week',
    });
    const lowScore = supervisor.locator(`#follow-ups tr[data-conversation="${rated.id}"]`);
    await lowScore.filter({ hasText: '1/5' }).waitFor({ timeout: 60_000 });
    await expect(lowScore.textContent()).resolves.toContain('max');
    await shot(supervisor, 'low-scores');

    await searchConversations(supervisor, agent, held);

    // Ana closes her day's other conversation.
    await agent.locator('#timeline li.in').filter({ hasText: 'About: Wrong size' }).waitFor({ timeout: 30_000 });
    await agent.getByRole('button', { name: 'Resolve' }).click();
    await agent.locator('#placeholder').waitFor({ state: 'visible', timeout: 20_000 });
    await agentRow.locator('td').nth(3).filter({ hasText: '0/8' }).waitFor({ timeout: 20_000 });

    // Ops follows the same conversation in the ops console, without its contents...
    const refund = [...routing.engine.conversations.values()].find((c) => c.subject === XSS_SUBJECT)!;
    const ops = await newPage();
    await ops.goto(opsConsole);
    await ops.locator('#sign-in-id').fill('olu');
    await ops.locator('#sign-in-password').fill(PASSWORD);
    await ops.locator('#sign-in-form button[type=submit]').click();
    await ops.locator('#stream-status', { hasText: 'live' }).waitFor({ timeout: 30_000 });
    await ops.locator('button[data-tab="timeline"]').click();
    await ops.locator('#timeline-conversation').fill(refund.id);
    await ops.locator('#timeline-form button[type=submit]').click();
    await ops.locator('#timeline-status', { hasText: 'records' }).waitFor({ timeout: 60_000 });
    const opsTimeline = await ops.locator('#timeline').innerText();
    for (const step of ['queued', 'assigned', 'escalated', 'resolved']) expect(opsTimeline).toContain(step);
    expect(opsTimeline).not.toContain('charged twice');
    expect(opsTimeline).not.toContain(replyText);
    // ...finds it among the resolved conversations by its metadata...
    await ops.locator('button[data-tab="search"]').click();
    await ops.locator('#search-form select[name="state"]').selectOption('resolved');
    await ops.locator('#search-form button[type=submit]').click();
    await ops.locator(`#search-results tr[data-conversation="${refund.id}"]`).waitFor({ timeout: 20_000 });
    expect(await ops.locator('#search-results').innerText()).not.toContain('charged');
    // ...and so does the tail command, one JSON line per event.
    const tail = spawn(
      process.execPath,
      ['--import', 'tsx', 'services/ops-console/src/cli.ts', 'tail', 'cc.conversation.events.v1', '--from-beginning', '--conversation', refund.id],
      {
        cwd: fileURLToPath(new URL('../../../', import.meta.url)),
        env: { ...process.env, KAFKA_BROKERS: KAFKA_BROKERS.join(',') },
      },
    );
    try {
      const tailed: { event: Record<string, unknown> }[] = [];
      readline.createInterface({ input: tail.stdout }).on('line', (line) => tailed.push(JSON.parse(line)));
      await waitFor(() => tailed.some((r) => 'resolved' in r.event), 60_000, 'the tail to print the resolution');
      for (const step of ['queued', 'assigned', 'escalated', 'resolved']) expect(tailed.some((r) => step in r.event)).toBe(true);
    } finally {
      tail.kill('SIGINT');
    }

    // Nothing the customer wrote ran as script anywhere.
    expect(dialogs).toEqual([]);
    expect(pageErrors).toEqual([]);
    expect(await agent.evaluate("document.querySelectorAll('main img, main script').length")).toBe(0);
    await mailer.close();
  }, 600_000);
});
