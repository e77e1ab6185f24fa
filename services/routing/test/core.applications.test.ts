// What an application may do to a conversation through the integration API, in the core alone:
// only on its own conversations (its API threads, those it started), a retry answered once,
// resolution and transfer from wherever the conversation is, and a company-initiated
// conversation that waits for the customer until they answer.
import { describe, expect, it } from 'vitest';
import { Channel, ContactKind, ContactReceived, IdentityKind, OutboundKind, Presence, Tier } from '#libs/proto';
import { SURVEY_AGENT } from '#libs/survey';
import { RoutingEngine, type Effect } from '../src/core/engine';
import { policyWith } from '../src/core/policy';
import { conversationPage, liveConversation } from '../src/conversation-list';

function setup() {
  const clock = { t: Date.UTC(2026, 0, 5, 9, 0, 0), now: () => clock.t };
  const engine = new RoutingEngine(policyWith({}), clock);
  let n = 0;
  const apiContact = (application: string, over: Partial<ContactReceived> = {}) => {
    n++;
    clock.t += 1000;
    const c = ContactReceived.fromPartial({
      contactId: `m${n}`,
      conversationId: `c${n}`,
      channel: Channel.CHANNEL_API,
      kind: ContactKind.CONTACT_KIND_MESSAGE,
      sender: { kind: IdentityKind.IDENTITY_KIND_OTHER, value: `cust-${n}`, namespace: `api.${application}` },
      text: 'Where is my parcel?',
      newConversation: true,
      channelMetadata: { application },
      ...over,
    });
    engine.contactReceived(c, { customerId: `cust-${n}` });
    return c.conversationId;
  };
  const agent = (id: string) => {
    engine.registerAgent({ id, name: id, tier: Tier.TIER_FRONT_OFFICE, skills: { general: 3 }, languages: ['en'] });
    engine.setPresence(id, Presence.PRESENCE_AVAILABLE);
  };
  return { clock, engine, apiContact, agent };
}

const outbound = (effects: Effect[]) => effects.flatMap((e) => (e.type === 'outbound' ? [e.message] : []));
const steps = (effects: Effect[]) => effects.flatMap((e) => (e.type === 'conversation' && e.event.step ? [e.event.step] : []));

describe('an application on a conversation', () => {
  it('replies only on its own conversations, as api:<application>, and a retry sends nothing again', () => {
    const { engine, apiContact } = setup();
    const mine = apiContact('shop');
    const theirs = apiContact('crm');
    const first = engine.applicationReply({ application: 'shop', conversationId: mine, text: 'It left today.', subject: '', requestId: 'r1' });
    expect(outbound(first.effects)).toMatchObject([
      { kind: OutboundKind.OUTBOUND_KIND_REPLY, agentId: 'api:shop', text: 'It left today.', channel: Channel.CHANNEL_API },
    ]);
    expect(steps(first.effects)).toMatchObject([{ $case: 'replied', replied: { agentId: 'api:shop', outboundMessageId: first.messageId } }]);
    const again = engine.applicationReply({ application: 'shop', conversationId: mine, text: 'It left today.', subject: '', requestId: 'r1' });
    expect(again).toEqual({ effects: [], messageId: first.messageId });
    expect(() => engine.applicationReply({ application: 'shop', conversationId: theirs, text: 'hi', subject: '', requestId: '' })).toThrow(
      expect.objectContaining({ grpcStatus: 'PERMISSION_DENIED' }),
    );
    expect(() => engine.applicationReply({ application: 'shop', conversationId: 'nope', text: 'hi', subject: '', requestId: '' })).toThrow(
      expect.objectContaining({ grpcStatus: 'NOT_FOUND' }),
    );
    expect(() => engine.applicationReply({ application: 'shop', conversationId: mine, text: '  ', subject: '', requestId: '' })).toThrow(
      expect.objectContaining({ grpcStatus: 'INVALID_ARGUMENT' }),
    );
  });

  it('puts a note on any conversation, never sent to the customer', () => {
    const { engine, apiContact } = setup();
    const theirs = apiContact('crm');
    const { effects, noteId } = engine.addNote({ application: 'shop', conversationId: theirs, text: 'Customer called the shop too.', requestId: 'n1' });
    expect(outbound(effects)).toEqual([]);
    expect(steps(effects)).toEqual([{ $case: 'noteAdded', noteAdded: { author: 'api:shop', text: 'Customer called the shop too.' } }]);
    expect(effects.find((e) => e.type === 'conversation' && e.event.eventId === noteId)).toBeDefined();
    expect(engine.addNote({ application: 'shop', conversationId: theirs, text: 'Customer called the shop too.', requestId: 'n1' })).toEqual({
      effects: [],
      noteId,
    });
    // Nobody holds it: nobody is told.
    expect(effects.filter((e) => e.type === 'notify')).toEqual([]);
  });

  it('shows a note at once to the agent who holds the conversation', () => {
    const { engine, apiContact, agent } = setup();
    agent('a1');
    const held = apiContact('shop');
    engine.accept('a1', held);
    const { effects, noteId } = engine.addNote({ application: 'crm', conversationId: held, text: 'Refund already sent.', requestId: 'n2' });
    expect(effects.filter((e) => e.type === 'notify')).toEqual([
      {
        type: 'notify',
        agentId: 'a1',
        update: {
          update: {
            $case: 'noted',
            noted: expect.objectContaining({ conversationId: held, eventId: noteId, note: { author: 'api:crm', text: 'Refund already sent.' } }),
          },
        },
      },
    ]);
  });

  it('resolves its conversation from an agent, who is told and freed; a second resolution is refused', () => {
    const { engine, apiContact, agent } = setup();
    agent('a1');
    const mine = apiContact('shop');
    engine.accept('a1', mine);
    expect(engine.conversationState(mine)?.state).toBe('assigned');
    expect(() => engine.applicationResolve({ application: 'crm', conversationId: mine, disposition: '' })).toThrow(
      expect.objectContaining({ grpcStatus: 'PERMISSION_DENIED' }),
    );
    const effects = engine.applicationResolve({ application: 'shop', conversationId: mine, disposition: 'delivered' });
    expect(steps(effects)).toContainEqual({ $case: 'resolved', resolved: { agentId: 'api:shop', disposition: 'delivered' } });
    expect(effects).toContainEqual(
      expect.objectContaining({ type: 'notify', agentId: 'a1', update: { update: expect.objectContaining({ $case: 'revoked' }) } }),
    );
    expect(engine.agents.get('a1')?.active).toEqual([]);
    expect(() => engine.applicationResolve({ application: 'shop', conversationId: mine, disposition: '' })).toThrow(
      expect.objectContaining({ grpcStatus: 'FAILED_PRECONDITION' }),
    );
  });

  it('transfers its waiting conversation to a queue or an agent; an unknown agent is NOT_FOUND', () => {
    const { engine, apiContact, agent } = setup();
    const mine = apiContact('shop');
    expect(engine.conversationState(mine)?.state).toBe('queued');
    engine.applicationTransfer({ application: 'shop', conversationId: mine, target: { toQueue: 'tier2/billing' } });
    expect(engine.conversationState(mine)).toMatchObject({ state: 'queued', queue: 'tier2/billing/api', tier: Tier.TIER_EXPERT });
    expect(() => engine.applicationTransfer({ application: 'shop', conversationId: mine, target: { toAgentId: 'ghost' } })).toThrow(
      expect.objectContaining({ grpcStatus: 'NOT_FOUND' }),
    );
    agent('a2');
    engine.applicationTransfer({ application: 'shop', conversationId: mine, target: { toAgentId: 'a2' } });
    expect(engine.conversationState(mine)).toMatchObject({ state: 'assigned', agentId: 'a2' });
  });

  it('starts a conversation that waits for the customer, whose answer queues it; the same id again sends nothing', () => {
    const { engine } = setup();
    const recipient = { kind: IdentityKind.IDENTITY_KIND_EMAIL, value: 'kim@example.org', namespace: '' };
    const start = {
      conversationId: 'conv-1',
      starter: { application: 'shop' },
      channel: 'email' as const,
      customerId: 'cust-9',
      recipient,
      subject: 'Your order',
      text: 'It is ready.',
      reference: 'K7M2QX',
    };
    const started = engine.startConversation(start);
    expect(started.created).toBe(true);
    expect(outbound(started.effects)).toMatchObject([
      { recipient, subject: 'Your order', text: 'It is ready.', agentId: 'api:shop', conversationReference: 'K7M2QX' },
    ]);
    expect(started.conversation).toMatchObject({ state: 'awaiting-customer', startedBy: 'shop', slaState: 'stopped' });
    expect(engine.startConversation(start)).toMatchObject({ effects: [], created: false, messageId: started.messageId });
    expect(() => engine.startConversation({ ...start, starter: { application: 'crm' } })).toThrow(
      expect.objectContaining({ grpcStatus: 'FAILED_PRECONDITION' }),
    );
    expect(() => engine.startConversation({ ...start, conversationId: 'conv-2', channel: 'chat' })).toThrow(
      expect.objectContaining({ grpcStatus: 'INVALID_ARGUMENT' }),
    );
    // The customer answers by mail, into the same conversation: now it waits for an agent, still the application's.
    engine.contactReceived(
      ContactReceived.fromPartial({
        contactId: 'in-1',
        conversationId: 'conv-1',
        channel: Channel.CHANNEL_EMAIL,
        kind: ContactKind.CONTACT_KIND_MESSAGE,
        sender: recipient,
        text: 'Thanks, when can I collect it?',
      }),
      { customerId: 'cust-9' },
    );
    expect(engine.conversationState('conv-1')).toMatchObject({ state: 'queued', startedBy: 'shop', slaState: 'running' });
    expect(engine.applicationReply({ application: 'shop', conversationId: 'conv-1', text: 'Tomorrow.', subject: '', requestId: '' }).messageId).toBeTruthy();
  });

  it('asks the customer an agent served for a score when the application resolves; nobody when no agent served them', () => {
    const { engine, agent } = setup();
    agent('a1');
    const recipient = { kind: IdentityKind.IDENTITY_KIND_EMAIL, value: 'kim@example.org', namespace: '' };
    const start = (conversationId: string) =>
      engine.startConversation({
        conversationId,
        starter: { application: 'shop' },
        channel: 'email',
        customerId: 'cust-9',
        recipient,
        subject: 'Your order',
        text: 'It is ready.',
        reference: '',
      });
    start('served');
    engine.contactReceived(
      ContactReceived.fromPartial({
        contactId: 'in-1',
        conversationId: 'served',
        channel: Channel.CHANNEL_EMAIL,
        kind: ContactKind.CONTACT_KIND_MESSAGE,
        sender: recipient,
        text: 'When?',
      }),
      { customerId: 'cust-9' },
    );
    engine.accept('a1', 'served');
    const resolved = engine.applicationResolve({ application: 'shop', conversationId: 'served', disposition: 'collected' });
    expect(outbound(resolved).filter((m) => m.kind === OutboundKind.OUTBOUND_KIND_SURVEY)).toMatchObject([
      { conversationId: 'served', channel: Channel.CHANNEL_EMAIL, recipient, channelMetadata: expect.objectContaining({ [SURVEY_AGENT]: 'a1' }) },
    ]);
    start('unanswered');
    expect(outbound(engine.applicationResolve({ application: 'shop', conversationId: 'unanswered', disposition: '' }))).toEqual([]);
  });
});

describe('the conversation list', () => {
  it('filters by state, channel and customer, newest first, and pages by cursor', () => {
    const { engine, apiContact, clock } = setup();
    const ids = [apiContact('shop'), apiContact('shop'), apiContact('shop')];
    engine.applicationResolve({ application: 'shop', conversationId: ids[0]!, disposition: '' });
    clock.t += 1;
    const all = { state: '' as const, queue: '', channel: Channel.CHANNEL_UNSPECIFIED, customerId: '', pageSize: 2, pageToken: '' };
    const first = conversationPage(engine.conversations.values(), all);
    expect(first.page.map((c) => c.id)).toEqual([ids[2], ids[1]]);
    const second = conversationPage(engine.conversations.values(), { ...all, pageToken: first.nextPageToken });
    expect(second).toEqual({ page: [expect.objectContaining({ id: ids[0] })], nextPageToken: '' });
    expect(conversationPage(engine.conversations.values(), { ...all, state: 'open', pageSize: 50 }).page.map((c) => c.id)).toEqual([ids[2], ids[1]]);
    expect(conversationPage(engine.conversations.values(), { ...all, state: 'resolved' }).page.map((c) => c.id)).toEqual([ids[0]]);
    expect(conversationPage(engine.conversations.values(), { ...all, customerId: 'cust-2' }).page.map((c) => c.id)).toEqual([ids[1]]);
    expect(conversationPage(engine.conversations.values(), { ...all, channel: Channel.CHANNEL_EMAIL }).page).toEqual([]);
    expect(() => conversationPage(engine.conversations.values(), { ...all, pageToken: 'bm9wZQ' })).toThrow(
      expect.objectContaining({ grpcStatus: 'NOT_FOUND' }),
    );
    expect(liveConversation(engine.conversationState(ids[1]!)!, engine.policy)).toMatchObject({
      conversationId: ids[1],
      channel: Channel.CHANNEL_API,
      state: 'queued',
      application: 'shop',
      companyInitiated: false,
      slaTargetMs: 4 * 3600_000,
    });
  });
});
