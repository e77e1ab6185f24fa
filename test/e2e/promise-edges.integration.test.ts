// Promises on long cases where chat visitors and email customers meet them, over the real edges:
// a visitor on the chat service's WebSocket and a customer mailing the email service over SMTP
// (its answers caught by an SMTP sink); Kafka carries their messages to routing, whose agent
// (a desk's gRPC client) sets a promise on each. The visitor sees the status message and asks
// "status"; the email customer gets the status by mail, replies "status" from their mail client
// (the earlier mail quoted under it) and gets the current promise back by mail, in the thread.
import type { ParsedMail } from 'mailparser';
import nodemailer from 'nodemailer';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Channel, Presence, SetPromiseRequest, type SetPromiseResponse } from '#libs/proto';
import { testContext, uniqueId, waitFor } from '#libs/testing';
import { startChat } from '../../services/chat/src/service';
import { chatConfig, dropChatCollections, Visitor } from '../../services/chat/test/helpers';
import { startRouting } from '../../services/routing/src/service';
import { answerOffers, client, configFor, ownSkill, useRoutingHarness } from '../../services/routing/test/helpers';
import { type EmailEdge, startEmailEdge } from './email-edge';
import { availableAgent } from './routing-agent';
import { whileUnavailable } from './sms-voice-stand-in';

const DAY = 86_400_000;
const h = useRoutingHarness();
const ctxs = ['routing', 'chat', 'email'].map((n) => testContext(`e2e-promise-edges-${n}`));
const chatPrefix = uniqueId('promise_edges').replace(/-/g, '_');
let email: EmailEdge | undefined;
let mails: ParsedMail[] = [];
const { skill, env } = ownSkill();
const agentId = uniqueId('ann').replace(/[^A-Za-z0-9_.@-]/g, '');
const visitors: Visitor[] = [];
let routing: Awaited<ReturnType<typeof startRouting>>;
let desk: Awaited<ReturnType<typeof client>>;
let offers: ReturnType<typeof answerOffers>;
let chatUrl: string;
let smtpPort: number;
// This test's conversations: the chat's by its id (known from the welcome), the mail's by its sender.
const customers = new Set<string>();

beforeAll(async () => {
  routing = await startRouting(ctxs[0]!, configFor(h.database('routing_promise_edges'), uniqueId('routing-promise-edges'), env));
  await waitFor(() => routing.ownership.isActive, 30_000, 'routing to take its partitions');
  const chat = await startChat(ctxs[1]!, chatConfig({ LOG_LEVEL: 'silent' }), { collectionPrefix: chatPrefix });
  chatUrl = `ws://127.0.0.1:${chat.port}/chat`;

  email = await startEmailEdge(ctxs[2]!, 'promise_edges');
  ({ mails, smtpPort } = email);

  desk = await availableAgent(routing.grpcPort, agentId, skill, [
    [Channel.CHANNEL_CHAT, 2],
    [Channel.CHANNEL_EMAIL, 2],
  ]);
  // Only this test's customers: other tests' contacts pass through this routing too.
  offers = answerOffers(desk, (id) =>
    customers.has(id) || customers.has(routing.engine.conversationState(id)?.recipient?.value ?? '') ? 'accept' : 'decline',
  );
}, 120_000);

afterAll(async () => {
  offers?.stop();
  if (desk) await whileUnavailable(() => desk.call(desk.raw.setPresence, { agentId: '', presence: Presence.PRESENCE_AWAY }));
  desk?.close();
  for (const v of visitors) v.close();
  for (const c of [...ctxs].reverse()) await c.stop();
  await email?.stop();
  await dropChatCollections(chatPrefix);
}, 60_000);

/** The conversation routing assigned to the agent for this customer. */
async function assignedFor(customer: string): Promise<string> {
  return waitFor(
    () =>
      offers.accepted.find(
        (id) => routing.engine.conversationState(id)?.recipient?.value === customer && routing.engine.conversationState(id)?.state === 'assigned',
      ),
    60_000,
    `the conversation of ${customer} assigned to the agent`,
  );
}

function setPromise(conversationId: string, milestone: string, dueAt: number): Promise<SetPromiseResponse> {
  return desk.call<SetPromiseRequest, SetPromiseResponse>(
    desk.raw.setPromise,
    SetPromiseRequest.fromPartial({ conversationId, milestone, dueAt: new Date(dueAt), costMinor: 0, costCurrency: '' }),
  );
}

const due = () => Math.ceil((Date.now() + 3 * DAY) / 60_000) * 60_000;

describe('a promise over the real chat and email edges', () => {
  it('shows the chat visitor the status on the WebSocket and answers "status" with the current promise', { timeout: 180_000 }, async () => {
    const visitor = await Visitor.start(chatUrl, { name: 'Vic Visitor' });
    visitors.push(visitor);
    const { conversationId } = visitor.frames.find((f) => f.type === 'welcome') as unknown as { conversationId: string };
    customers.add(conversationId);
    visitor.send({ type: 'message', clientMessageId: 'v1', text: `My laptop repair ${skill}: when will it be ready?` });
    await assignedFor(await waitFor(() => routing.engine.conversationState(conversationId)?.recipient?.value, 60_000, "the visitor's conversation in routing"));

    const set = await setPromise(conversationId, 'the screen replaced', due());
    expect(set.statusText).toMatch(/^Where we are with your case: next step: the screen replaced, expected by \w+ \d+ \w+ \d{4}, \d\d:\d\d UTC\.$/);
    const shown = await visitor.next((f) => f.type === 'entry' && f.text === set.statusText, 60_000);
    expect(shown).toMatchObject({ from: 'system', kind: 'notice' });

    const updated = await setPromise(conversationId, 'the laptop ready to collect', due() + DAY);
    await visitor.next((f) => f.type === 'entry' && f.text === updated.statusText, 60_000);

    visitor.send({ type: 'message', clientMessageId: 'v2', text: 'status?' });
    const answer = updated.statusText.replace(/^Update on your case:/, 'Status of your case:');
    const answered = await visitor.next((f) => f.type === 'entry' && f.text === answer, 60_000);
    expect(answered).toMatchObject({ from: 'system', kind: 'notice' });
    // The visitor's own question is kept as theirs; no earlier promise is repeated after it.
    const notices = visitor.frames.flatMap((f) => (f.type === 'entry' && f.kind === 'notice' ? [String(f.text)] : []));
    expect(notices.filter((t) => /^(Where we are|Update on|Status of)/.test(t))).toEqual([set.statusText, updated.statusText, answer]);
  });

  it('mails the status to the email customer, and answers their "status" reply by mail in the thread', { timeout: 180_000 }, async () => {
    const address = `${uniqueId('kim').toLowerCase()}@customer.test`;
    customers.add(address);
    const mailer = nodemailer.createTransport({ host: '127.0.0.1', port: smtpPort, secure: false, ignoreTLS: true });
    await mailer.sendMail({ from: `"Kim Lee" <${address}>`, to: 'help@shop.test', subject: `Washing machine repair ${skill}`, text: 'It leaks again.' });
    const conversationId = await assignedFor(address);
    const to = (m: ParsedMail) => (m.to as { text: string } | undefined)?.text.includes(address) ?? false;

    const set = await setPromise(conversationId, 'the technician visits', due());
    const statusMail = await waitFor(() => mails.find((m) => to(m) && m.text?.includes('Where we are with your case')), 60_000, 'the status mail');
    expect(statusMail.text!.trim()).toBe(set.statusText);
    const reference = /\[#([A-Z0-9]{6})\]/.exec(statusMail.subject ?? '')?.[1];
    expect(reference, statusMail.subject).toBeDefined();

    // Replied from a mail client: "Status" on top, the status mail quoted under it.
    await mailer.sendMail({
      from: `"Kim Lee" <${address}>`,
      to: 'help@shop.test',
      subject: `Re: ${statusMail.subject}`,
      inReplyTo: statusMail.messageId,
      references: [statusMail.messageId!],
      text: `Status\n\nOn Mon, 5 Jan 2026 at 10:00, Support <support@shop.test> wrote:\n> ${set.statusText}\n`,
    });
    const answer = await waitFor(() => mails.find((m) => to(m) && m.text?.includes('Status of your case')), 60_000, 'the answer to "status"');
    expect(answer.text!.trim()).toMatch(/^Status of your case "Washing machine repair [^"]+": next step: the technician visits, expected by /);
    expect(answer.subject).toContain(`[#${reference}]`);
    expect(answer.inReplyTo).toBeDefined();
    // Still the same conversation, held by the agent: the reply did not open a new case.
    expect(routing.engine.conversationState(conversationId)?.state).toBe('assigned');
    expect(offers.accepted.filter((id) => routing.engine.conversationState(id)?.recipient?.value === address)).toEqual([conversationId]);
  });
});
