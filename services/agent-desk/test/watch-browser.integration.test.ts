// A supervisor's silent view of a live chat, through every real part: a visitor writes on the
// chat service's WebSocket; Kafka carries it to routing and customer-record; the desk offers it
// to an agent who accepts and replies over the desk's API; the supervisor watches it over the
// desk's /live/watch socket and then in Chromium, and sees both sides as they happen. An agent is
// refused the view; customer-record's audit names the supervisor, the conversation and the reason.
import { randomBytes } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { credentials } from '@grpc/grpc-js';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { CustomerRecordServiceClient, type ListAuditResponse } from '#libs/proto';
import { dropDatabase, launchChromium, testContext, testMetadata, uniqueId, waitFor } from '#libs/testing';
import { chatConfig, dropChatCollections, Visitor } from '../../chat/test/helpers';
import { startChat } from '../../chat/src/service';
import { liveListRow, startTestDesk, startTestRecord, startTestRouting } from './stack';

const PASSWORD = 'a long test password';
const SAVE = process.env.SAVE_SCREENSHOTS === '1';
const shots = fileURLToPath(new URL('../../../docs/screenshots/', import.meta.url));
const database = uniqueId('desk_watch').replace(/-/g, '_');
const prefix = uniqueId('watch').replace(/-/g, '_');
// Only chats carrying this token go to this test's agent: the shared broker carries other contacts too.
const token = randomBytes(6).toString('hex');
const skill = `watch-${token}`;
const agentId = `ana-${token.slice(0, 6)}`;
const supervisorId = `sue-${token.slice(0, 6)}`;
const contexts = ['customer-record', 'routing', 'chat', 'agent-desk'].map((name) => testContext(`watch-${name}`));
let recordClient: InstanceType<typeof CustomerRecordServiceClient>;
let desk: string;
let chatUrl: string;
let browser: Browser;
const visitors: Visitor[] = [];
const sockets: WebSocket[] = [];

beforeAll(async () => {
  const [recordCtx, routingCtx, chatCtx, deskCtx] = contexts as [
    ReturnType<typeof testContext>,
    ReturnType<typeof testContext>,
    ReturnType<typeof testContext>,
    ReturnType<typeof testContext>,
  ];
  const record = await startTestRecord(recordCtx, database, 'watch');
  recordClient = new CustomerRecordServiceClient(`127.0.0.1:${record.grpcPort}`, credentials.createInsecure());
  const routing = await startTestRouting(routingCtx, database, 'watch', { id: 'watch-test', when: { pattern: token }, then: { skill } }, record.grpcPort);
  const chat = await startChat(chatCtx, chatConfig({ LOG_LEVEL: 'silent' }), { collectionPrefix: prefix });
  chatUrl = `ws://127.0.0.1:${chat.port}/chat`;
  const started = await startTestDesk(deskCtx, database, { routing: routing.grpcPort, record: record.grpcPort }, { AGENT_DESK_WATCH_POLL_MS: '300' });
  desk = `http://127.0.0.1:${started.port}`;
  const capacity = { voice: 1, chat: 3, sms: 5, email: 5, total: 8 };
  await started.roster.upsert({ id: agentId, name: 'Ana Lopez', role: 'agent', tier: 1, skills: { [skill]: 3 }, languages: ['en'], capacity }, PASSWORD);
  await started.roster.upsert({ id: supervisorId, name: 'Sue Park', role: 'supervisor' }, PASSWORD);
  if (SAVE) mkdirSync(shots, { recursive: true });
}, 120_000);

afterAll(async () => {
  await browser?.close();
  for (const v of visitors) v.close();
  for (const ws of sockets) ws.terminate();
  recordClient?.close();
  for (const ctx of [...contexts].reverse()) await ctx.stop();
  await dropChatCollections(prefix);
  await dropDatabase(database);
}, 60_000);

interface Staff {
  cookie: string;
  csrf: string;
}

async function signIn(id: string): Promise<Staff> {
  const res = await fetch(`${desk}/api/sign-in`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', origin: desk },
    body: JSON.stringify({ id, password: PASSWORD }),
  });
  const body = (await res.json()) as { csrf: string };
  expect(res.status).toBe(200);
  return { cookie: (res.headers.get('set-cookie') ?? '').split(';')[0]!, csrf: body.csrf };
}

async function post(who: Staff, path: string, body: unknown): Promise<unknown> {
  const res = await fetch(`${desk}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', origin: desk, cookie: who.cookie, 'x-csrf-token': who.csrf },
    body: JSON.stringify(body),
  });
  const answer = (await res.json()) as unknown;
  expect(res.status, JSON.stringify(answer)).toBe(200);
  return answer;
}

/** A desk socket that keeps every message; resolves once open, or with the refusal's status. */
function socket(who: Staff, path: string): Promise<{ ws: WebSocket; messages: Record<string, any>[] } | { refused: number; body: string }> {
  const ws = new WebSocket(`${desk.replace('http', 'ws')}${path}`, { headers: { origin: desk, cookie: who.cookie } });
  sockets.push(ws);
  const messages: Record<string, any>[] = [];
  ws.on('message', (d) => messages.push(JSON.parse(d.toString()) as Record<string, any>));
  return new Promise((resolve, reject) => {
    ws.once('open', () => resolve({ ws, messages }));
    ws.once('unexpected-response', (_req, res) => {
      let body = '';
      res.on('data', (d: Buffer) => (body += d.toString()));
      res.on('end', () => resolve({ refused: res.statusCode ?? 0, body }));
    });
    ws.once('error', reject);
  });
}

function watchPath(conversationId: string, reason = 'coaching a new agent'): string {
  return `/live/watch?${new URLSearchParams({ conversationId, reason })}`;
}

async function audit(): Promise<ListAuditResponse> {
  const md = await testMetadata({ id: supervisorId, role: 'supervisor' }, 'customer-record');
  return new Promise((resolve, reject) =>
    recordClient.listAudit({ customerId: '', actorId: supervisorId, pageSize: 200, pageToken: '' }, md, (err, res) => (err ? reject(err) : resolve(res))),
  );
}

const texts = (messages: Record<string, any>[]) =>
  messages.filter((m) => m.type === 'watched').flatMap((m) => (m.items as { kind: string; text: string }[]).map((i) => `${i.kind}:${i.text}`));

let conversationId = '';
let visitor: Visitor;

describe("a supervisor's silent view of a chat", () => {
  it('shows the visitor and the agent live, to supervisors only, and audits who watched', { timeout: 240_000 }, async () => {
    const ana = await signIn(agentId);
    const agentLive = await socket(ana, '/live');
    if (!('ws' in agentLive)) throw new Error(`agent socket refused: ${agentLive.refused}`);
    await waitFor(() => agentLive.messages.some((m) => m.type === 'status' && m.text === 'connected'), 20_000, 'the agent connected to routing');
    await post(ana, '/api/presence', { presence: 'available' });

    visitor = await Visitor.start(chatUrl, { name: 'Vic Visitor' });
    visitors.push(visitor);
    visitor.send({ type: 'message', clientMessageId: 'v1', text: `My parcel ${token} is late` });
    const offer = await waitFor(() => agentLive.messages.find((m) => m.type === 'offer'), 60_000, 'the chat offered to the agent');
    conversationId = offer.offer.conversationId as string;
    await post(ana, '/api/accept', { conversationId });

    // The agent may not list the live chats, nor watch, even the conversation they hold.
    expect((await fetch(`${desk}/api/live-chats`, { headers: { cookie: ana.cookie } })).status).toBe(403);
    const refused = await socket(ana, watchPath(conversationId));
    expect(refused).toMatchObject({ refused: 403 });
    expect('body' in refused && refused.body).toContain('for supervisors');

    const sue = await signIn(supervisorId);
    expect(await socket(sue, `/live/watch?${new URLSearchParams({ conversationId })}`)).toMatchObject({ refused: 400 });
    const watch = await waitFor(
      async () => {
        const w = await socket(sue, watchPath(conversationId));
        return 'ws' in w ? w : undefined;
      },
      60_000,
      'the conversation in customer-record',
    );
    await waitFor(() => texts(watch.messages).includes(`in:My parcel ${token} is late`), 60_000, "the visitor's first message in the view");

    // Both sides as they happen, after the view opened.
    await post(ana, '/api/reply', { conversationId, text: 'Sorry to hear that, let me check.' });
    await waitFor(() => texts(watch.messages).includes('out:Sorry to hear that, let me check.'), 60_000, "the agent's reply in the view");
    visitor.send({ type: 'message', clientMessageId: 'v2', text: 'It was due on Monday' });
    await waitFor(() => texts(watch.messages).includes('in:It was due on Monday'), 60_000, "the visitor's second message in the view");
    expect(texts(watch.messages).filter((t) => t === 'in:It was due on Monday')).toHaveLength(1);

    // Nobody was told: the visitor saw the agent's reply and nothing about a supervisor.
    await visitor.next((f) => f.type === 'entry' && f.text === 'Sorry to hear that, let me check.', 30_000);
    expect(JSON.stringify(visitor.frames)).not.toContain(supervisorId);
    // The socket takes nothing: a message sent on it changes nothing and is not answered.
    watch.ws.send(JSON.stringify({ type: 'reply', text: 'from the supervisor' }));

    const entries = (await audit()).entries.filter((e) => e.conversationId === conversationId);
    expect(entries.length).toBeGreaterThan(0);
    expect(entries[0]).toMatchObject({ actorId: supervisorId, actorRole: 'supervisor', reason: 'silent view: coaching a new agent' });
    expect(entries[0]!.at).toBeInstanceOf(Date);
    watch.ws.close();
  });

  it('in Chromium: the supervisor picks the chat from the live chats and watches it, its text kept as text', { timeout: 240_000 }, async () => {
    expect(conversationId).not.toBe('');
    browser = await launchChromium();
    const dialogs: string[] = [];
    const errors: string[] = [];
    const page: Page = await (await browser.newContext({ viewport: { width: 1366, height: 900 } })).newPage();
    page.on('dialog', (d) => {
      dialogs.push(d.message());
      void d.dismiss();
    });
    page.on('pageerror', (err) => errors.push(err.message));
    await page.goto(desk);
    await page.locator('#signin-id').fill(supervisorId);
    await page.locator('#signin-password').fill(PASSWORD);
    await page.locator('#signin-password').press('Enter');
    await page.locator('#who').filter({ hasText: 'supervisor' }).waitFor({ timeout: 20_000 });

    // From the live chats list: the chat with its queue, its agent and its state; nobody types its id.
    const listed = await liveListRow(page, 'live-chats', conversationId, SAVE ? `${shots}agent-desk-live-chats.png` : undefined);
    expect(listed).toMatchObject({ agent: agentId, state: 'assigned', queue: expect.stringMatching(/^tier1\/.+\/chat$/) });
    const { row } = listed;
    await row.getByRole('button', { name: 'Watch…' }).click();
    expect(await page.locator('#watch-conversation').inputValue()).toBe(conversationId);
    await page.locator('#watch-reason').fill('coaching a new agent');
    await page.locator('#watch-form button[type="submit"]').click();
    const log = page.locator('#watch-log');
    await log.getByText('Sorry to hear that, let me check.').waitFor({ timeout: 30_000 });
    await log.getByText(`My parcel ${token} is late`).waitFor({ timeout: 30_000 });

    const hostile = '<img src=x onerror=alert(1)> is that the right box?';
    visitor.send({ type: 'message', clientMessageId: 'v3', text: hostile });
    await log.getByText(hostile).waitFor({ timeout: 60_000 });
    expect(await log.locator('img').count()).toBe(0);
    expect(await page.locator('#watch-status').textContent()).toContain('watching silently');
    // Nothing to write with: the view has no reply box.
    expect(await page.locator('#watch-section textarea').count()).toBe(0);
    if (SAVE)
      await page
        .locator('#watch-form')
        .locator('xpath=..')
        .screenshot({ path: `${shots}agent-desk-silent-view.png` });
    await page.locator('#watch-stop').click();
    expect(await page.locator('#watch-status').textContent()).toBe('stopped watching');
    expect(dialogs).toEqual([]);
    expect(errors).toEqual([]);
  });
});
