// The service against the real store, the real broker and a real gRPC client.
import { status, type ServiceError } from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROLES, type Role } from '#libs/auth';
import { connectKafka, type ServiceKafka } from '#libs/service';
import { topics } from '#libs/kafka';
import {
  Channel,
  ConversationEvent,
  FlagKind,
  FlagSource,
  HistoryEntryKind,
  IdentityKind,
  type Customer,
  type GetCustomerContextResponse,
  type GetHistoryResponse,
  type ListAuditResponse,
  type ResolveCustomerResponse,
  type MergeCustomersResponse,
  type UnmergeCustomerResponse,
  type LinkIdentityResponse,
} from '#libs/proto';
import { KAFKA_BROKERS, MONGODB_URI, testContext, uniqueId, waitFor } from '#libs/testing';
import type { ServiceContext } from '#libs/service';
import { MongoClient } from 'mongodb';
import { mayCall, PERMISSIONS, type CallName } from '../src/authz';
import { DEFAULT_REGULAR_RULE } from '../src/flags';
import { CustomerStore } from '../src/store';
import type { NormalisedIdentity } from '#libs/contact';
import { callerId, dropDatabase, offered, REASON, startHarness, type Harness, emailContact } from './harness';

const DAY = 86_400_000;
// The topics are shared with everything else running on this broker: the projection may
// have other records to work through before it reaches this test's.
const KAFKA_WAIT_MS = 45_000;
const email = (local: string) => ({ kind: IdentityKind.IDENTITY_KIND_EMAIL, value: `${local}@example.com`, namespace: '' });
const phone = (n: string) => ({ kind: IdentityKind.IDENTITY_KIND_PHONE, value: n, namespace: '' });
const visitor = (v: string) => ({ kind: IdentityKind.IDENTITY_KIND_CHAT_VISITOR, value: v, namespace: '' });
const randomPhone = () => `+1415555${String(Math.floor(Math.random() * 10_000)).padStart(4, '0')}`;

const contact = emailContact;

function code(err: unknown): number {
  return (err as ServiceError).code;
}

describe('customer-record service', () => {
  let h: Harness;
  let kctx: ServiceContext;
  let kafka: ServiceKafka;

  beforeAll(async () => {
    h = await startHarness();
    kctx = testContext('customer-record-producer');
    kafka = await connectKafka(kctx, { KAFKA_BROKERS, KAFKA_TOPIC_PARTITIONS: 3, KAFKA_REPLICATION_FACTOR: 1 });
  });
  afterAll(async () => {
    await kctx.stop();
    await h.stop();
    await dropDatabase(h.database);
  });

  // Supervisors and ops read with a reason; agents and experts with a conversation that is theirs.
  const withReason = (role: Role, request: object) => (role === 'supervisor' || role === 'ops' ? { reason: REASON, ...request } : request);
  const read = <Res>(method: string, request: object, role: Role = 'supervisor') => h.call<object, Res>(method, withReason(role, request), role);
  const context = (customerId: string, role: Role = 'supervisor', conversationId = '') =>
    read<GetCustomerContextResponse>('getCustomerContext', { customerId, recentConversations: 10, conversationId }, role);
  const resolve = (identity: object, displayName = '') => read<ResolveCustomerResponse>('resolveCustomer', { identity, displayName });
  /** Routing offered the conversation to these people (projected directly, no broker wait). */
  const offer = async (conversationId: string, ...people: string[]) => {
    for (const p of people) await h.service.access.onConversationEvent(offered(conversationId, p));
  };
  const regular = (c: Customer | undefined) => c?.flags.find((f) => f.kind === FlagKind.FLAG_KIND_REGULAR);

  it(
    'email, then SMS, then chat with the same email proven by a code (an identity hint): one customer, three conversations, regular at the third',
    { timeout: 150_000 },
    async () => {
      const person = uniqueId('ana');
      const mobile = randomPhone();
      const start = Date.now() - 30 * DAY;

      const first = contact({ sender: email(person.toUpperCase()), senderDisplayName: 'Ana Lima', receivedAt: new Date(start) });
      await kafka.producer.publish(topics.contactInbound, first.conversationId, first);
      const { customer: resolved } = await waitFor(
        () =>
          resolve(email(person)).then(
            (r) => (r.created ? undefined : r),
            () => undefined,
          ),
        KAFKA_WAIT_MS,
        'the email contact to be projected',
      );
      const customerId = resolved!.customerId;
      // An agent on the email conversation links the mobile number the customer gave.
      await offer(first.conversationId, 'agent-1');
      await h.call<object, LinkIdentityResponse>('linkIdentity', { customerId, identity: phone(mobile), conversationId: first.conversationId }, 'agent');
      let ctx = await waitFor(
        async () => {
          const c = await context(customerId);
          return c.recentConversations.length === 1 && regular(c.customer) ? c : undefined;
        },
        KAFKA_WAIT_MS,
        'the email conversation',
      );
      expect(regular(ctx.customer)?.on).toBe(false);

      const second = contact({ channel: Channel.CHANNEL_SMS, sender: phone(mobile), subject: '', text: 'Any news?', receivedAt: new Date(start + 10 * DAY) });
      await kafka.producer.publish(topics.contactInbound, second.conversationId, second);
      ctx = await waitFor(
        async () => {
          const c = await context(customerId);
          return c.recentConversations.length === 2 && regular(c.customer)?.reason.startsWith('2 ') ? c : undefined;
        },
        KAFKA_WAIT_MS,
        'the SMS conversation',
      );
      expect(regular(ctx.customer)).toMatchObject({ on: false, reason: '2 conversations in the last 90 days (regular from 3)' });

      const third = contact({
        channel: Channel.CHANNEL_CHAT,
        sender: visitor(uniqueId('visitor')),
        identityHints: [email(person)],
        subject: '',
        text: 'Still waiting for the refund',
        receivedAt: new Date(start + 20 * DAY),
      });
      await kafka.producer.publish(topics.contactInbound, third.conversationId, third);
      ctx = await waitFor(
        async () => {
          const c = await context(customerId);
          // The conversation is written a moment before the flag that it changes.
          return c.recentConversations.length === 3 && regular(c.customer)?.on ? c : undefined;
        },
        KAFKA_WAIT_MS,
        'the chat conversation and the flag',
      );
      expect(ctx.recentConversations.map((c) => c.channel)).toEqual([Channel.CHANNEL_CHAT, Channel.CHANNEL_SMS, Channel.CHANNEL_EMAIL]);
      expect(ctx.customer!.identities.map((i) => i.kind).sort()).toEqual(
        [IdentityKind.IDENTITY_KIND_EMAIL, IdentityKind.IDENTITY_KIND_PHONE, IdentityKind.IDENTITY_KIND_CHAT_VISITOR].sort(),
      );
      expect(regular(ctx.customer)).toMatchObject({ on: true, reason: '3 conversations in the last 90 days', source: FlagSource.FLAG_SOURCE_RULE });
      expect(ctx.conversationsLast90Days).toBe(3);
      const chatCustomer = await resolve(third.sender!);
      expect(chatCustomer.customer!.customerId).toBe(customerId);
      expect(await h.service.store.customers.countDocuments({ mergedInto: null, 'identities.value': `${person}@example.com` })).toBe(1);

      // Routing instances of other test files read the same inbound topic and may add their events
      // (queued, offered…) to these conversations: the pages are checked on the messages they hold.
      const messagesIn = (r: GetHistoryResponse) => r.entries.filter((e) => e.kind === HistoryEntryKind.HISTORY_ENTRY_KIND_MESSAGE_IN).map((e) => e.text);
      await offer(third.conversationId, 'agent-1');
      // The agent on the chat reads that conversation's history (the conversation id filters it).
      const own = await h.call<object, GetHistoryResponse>('getHistory', { customerId, conversationId: third.conversationId }, 'agent');
      expect(messagesIn(own)).toEqual(['Still waiting for the refund']);
      const whole = (request: object) => read<GetHistoryResponse>('getHistory', { customerId, ...request });
      const pages: GetHistoryResponse[] = [await whole({ pageSize: 2 })];
      expect(pages[0]!.entries).toHaveLength(2);
      while (pages.at(-1)!.nextPageToken) pages.push(await whole({ pageSize: 2, pageToken: pages.at(-1)!.nextPageToken }));
      expect(pages.length).toBeGreaterThan(1);
      expect(pages.flatMap(messagesIn)).toEqual(['Still waiting for the refund', 'Any news?', 'My invoice is wrong']);
      const sms = await whole({ channel: Channel.CHANNEL_SMS });
      expect(messagesIn(sms)).toEqual(['Any news?']);
    },
  );

  it("keeps a chat visitor's claimed email as a claim: never linked, and none of the claimed customer's record shown", { timeout: 150_000 }, async () => {
    const person = uniqueId('vera');
    const victim = contact({ sender: email(person), senderDisplayName: 'Vera Ortiz', subject: 'My account', text: 'private: my new card ends 4242' });
    await kafka.producer.publish(topics.contactInbound, victim.conversationId, victim);
    // Looked up in the store: a ResolveCustomer would create the customer the projection is to make.
    const victimId = await waitFor(
      async () => (await h.service.store.findCustomerId(email(person) as NormalisedIdentity)) ?? undefined,
      KAFKA_WAIT_MS,
      'the victim to be projected',
    );
    const stranger = contact({
      channel: Channel.CHANNEL_CHAT,
      sender: visitor(uniqueId('visitor')),
      senderDisplayName: 'Vera Ortiz',
      claimedIdentities: [
        email(person.toUpperCase()),
        phone('+14155550100'),
        visitor('someone-else'),
        { kind: IdentityKind.IDENTITY_KIND_EMAIL, value: 'not an address', namespace: '' },
      ],
      subject: '',
      text: 'Please read me my last orders',
    });
    await kafka.producer.publish(topics.contactInbound, stranger.conversationId, stranger);
    const strangerId = await waitFor(
      async () => (await h.service.store.findCustomerId(stranger.sender as NormalisedIdentity)) ?? undefined,
      KAFKA_WAIT_MS,
      'the chat visitor to be projected',
    );
    expect(strangerId).not.toBe(victimId);
    await offer(stranger.conversationId, 'agent-1');
    const ctx = await waitFor(
      async () => {
        const c = await context(strangerId, 'agent', stranger.conversationId);
        return c.recentConversations.length === 1 && c.customer!.claimedIdentities.length ? c : undefined;
      },
      KAFKA_WAIT_MS,
      "the chat conversation and the visitor's claims",
    );
    // The agent reads what the visitor says, and nothing of the customer it names.
    expect(ctx.customer!.claimedIdentities).toEqual([email(person), phone('+14155550100')]);
    expect(ctx.customer!.identities).toEqual([stranger.sender]);
    expect(ctx.recentConversations.map((c) => c.conversationId)).toEqual([stranger.conversationId]);
    expect(ctx.account).toBeUndefined();
    const history = await h.call<object, GetHistoryResponse>('getHistory', { customerId: strangerId, conversationId: stranger.conversationId }, 'agent');
    expect(history.entries.map((e) => e.text)).not.toContain(victim.text);
    // The victim's record is untouched: no chat identity, no chat conversation, no merge.
    const victimCtx = await context(victimId);
    expect(victimCtx.customer!.identities).toEqual([email(person)]);
    expect(victimCtx.customer!.mergedInto).toBe('');
    expect(victimCtx.recentConversations.map((c) => c.conversationId)).toEqual([victim.conversationId]);
    expect(await h.service.store.identities.countDocuments({ customerId: victimId })).toBe(1);
  });

  it('projects conversation events, and replaying the topics leaves the history unchanged', { timeout: 150_000 }, async () => {
    const c = contact({ sender: email(uniqueId('bo')), channel: Channel.CHANNEL_CHAT, subject: '' });
    const conv = c.conversationId;
    const at = (s: number) => new Date(c.receivedAt!.getTime() + s * 1000);
    const events = [
      ConversationEvent.fromPartial({
        eventId: uniqueId('ev'),
        conversationId: conv,
        channel: c.channel,
        occurredAt: at(1),
        reason: { code: 'q', text: 'default queue' },
        step: { $case: 'queued', queued: { queue: 'billing' } },
      } as never),
      ConversationEvent.fromPartial({
        eventId: uniqueId('ev'),
        conversationId: conv,
        channel: c.channel,
        occurredAt: at(2),
        step: { $case: 'assigned', assigned: { agentId: 'agent-7', waitedMs: 1000 } },
      } as never),
      ConversationEvent.fromPartial({
        eventId: uniqueId('ev'),
        conversationId: conv,
        channel: c.channel,
        occurredAt: at(3),
        step: { $case: 'replied', replied: { agentId: 'agent-7', outboundMessageId: 'o1', text: 'Refund sent' } },
      } as never),
      ConversationEvent.fromPartial({
        eventId: uniqueId('ev'),
        conversationId: conv,
        channel: c.channel,
        occurredAt: at(4),
        step: { $case: 'resolved', resolved: { agentId: 'agent-7', disposition: 'refunded' } },
      } as never),
      ConversationEvent.fromPartial({
        eventId: uniqueId('ev'),
        conversationId: conv,
        channel: c.channel,
        occurredAt: at(5),
        step: { $case: 'surveyAnswered', surveyAnswered: { question: 'How did we do?', score: 5, comment: 'fast' } },
      } as never),
    ];
    await kafka.producer.publish(topics.contactInbound, conv, c, { id: `ce-${c.contactId}` });
    for (const e of events) await kafka.producer.publish(topics.conversationEvents, conv, e, { id: e.eventId });
    const customerId = (await waitFor(() => h.service.store.findConversation(conv), KAFKA_WAIT_MS, 'the conversation'))!.customerId;
    const snapshot = async () => ({
      history: await h.service.store.history.find({ conversationId: conv }).sort({ _id: 1 }).toArray(),
      conversation: await h.service.store.findConversation(conv),
      starts: (await h.service.store.getCustomer(customerId)).conversationStarts,
    });
    const before = await waitFor(
      async () => {
        const s = await snapshot();
        return s.history.length === 6 && s.conversation?.status === 'resolved' ? s : undefined;
      },
      KAFKA_WAIT_MS,
      'six history entries',
    );
    expect(before.conversation).toMatchObject({ lastAgentId: 'agent-7', messageCount: 2, status: 'resolved' });
    const kinds = before.history.map((e) => e.kind).sort();
    expect(kinds).toEqual([1, 2, 3, 4, 7, 9].map((k) => k as HistoryEntryKind));

    // Replay: a second instance in a fresh consumer group (empty de-duplication memory) gets
    // the same records again; so does the projection directly, twice.
    const replay = await startHarness({ database: h.database });
    try {
      await kafka.producer.publish(topics.contactInbound, conv, c, { id: `ce-${c.contactId}` });
      for (const e of events) await kafka.producer.publish(topics.conversationEvents, conv, e, { id: e.eventId });
      for (let i = 0; i < 2; i++) {
        await h.service.projection.onContact(c);
        for (const e of events) await h.service.projection.onConversationEvent(e);
      }
      // A later event on the same key is handled after every replayed one.
      const sentinel = ConversationEvent.fromPartial({
        eventId: uniqueId('ev'),
        conversationId: conv,
        channel: c.channel,
        occurredAt: at(6),
        step: { $case: 'callEnded', callEnded: { durationMs: 1000, status: 'done' } },
      } as never);
      await kafka.producer.publish(topics.conversationEvents, conv, sentinel, { id: sentinel.eventId });
      await waitFor(() => h.service.store.history.findOne({ _id: `event:${sentinel.eventId}` }), KAFKA_WAIT_MS, 'the sentinel');
      const after = await snapshot();
      expect(after.history.filter((e) => e._id !== `event:${sentinel.eventId}`)).toEqual(before.history);
      expect({ ...after.conversation, lastActivityAt: undefined }).toEqual({ ...before.conversation, lastActivityAt: undefined });
      expect(after.starts).toEqual(before.starts);
    } finally {
      await replay.stop();
    }
  });

  it('resolves one new identity to exactly one customer under concurrent calls', async () => {
    const identity = email(uniqueId('race'));
    const results = await Promise.all(Array.from({ length: 12 }, () => resolve(identity, 'Race')));
    expect(new Set(results.map((r) => r.customer!.customerId)).size).toBe(1);
    expect(results.filter((r) => r.created)).toHaveLength(1);
    const phoneId = phone(randomPhone());
    // Separate stores on separate connections race like separate instances of the service.
    const clients = await Promise.all(Array.from({ length: 4 }, () => new MongoClient(MONGODB_URI).connect()));
    try {
      const stores = clients.map((c) => new CustomerStore(c.db(h.database), DEFAULT_REGULAR_RULE));
      const direct = await Promise.all(
        stores.flatMap((store) => Array.from({ length: 3 }, () => store.resolve({ kind: phoneId.kind, value: phoneId.value, namespace: '' }, ''))),
      );
      expect(new Set(direct.map((r) => r.customer._id)).size).toBe(1);
      expect(direct.filter((r) => r.created)).toHaveLength(1);
    } finally {
      await Promise.all(clients.map((c) => c.close()));
    }
    expect(await h.service.store.identities.countDocuments({ value: phoneId.value })).toBe(1);
  });

  it('merges two customers and undoes the merge', async () => {
    const a = contact({ sender: email(uniqueId('merge-a')), text: 'from A' });
    const b = contact({ sender: phone(randomPhone()), channel: Channel.CHANNEL_SMS, text: 'from B' });
    await h.service.projection.onContact(a);
    await h.service.projection.onContact(b);
    const target = (await resolve(a.sender!)).customer!.customerId;
    const source = (await resolve(b.sender!)).customer!.customerId;
    await h.call('setFlag', { customerId: source, kind: FlagKind.FLAG_KIND_REGULAR, on: true, reason: 'known to the team' }, 'supervisor');

    const merged = await h.call<object, MergeCustomersResponse>(
      'mergeCustomers',
      { targetCustomerId: target, sourceCustomerId: source, reason: 'same person' },
      'supervisor',
    );
    expect(merged.customer!.identities).toHaveLength(2);
    expect(regular(merged.customer)).toMatchObject({ on: true, source: FlagSource.FLAG_SOURCE_SUPERVISOR });
    expect((await resolve(b.sender!)).customer!.customerId).toBe(target);
    expect((await context(target)).recentConversations).toHaveLength(2);
    expect((await read<GetHistoryResponse>('getHistory', { customerId: target })).entries.map((e) => e.text).sort()).toEqual(['from A', 'from B']);
    // A read of the merged-away record shows where it went.
    expect((await read<{ customer: Customer }>('getCustomer', { customerId: source })).customer.mergedInto).toBe(target);
    // After the merge, an agent on the source's conversation reads the live customer, by either id.
    await offer(b.conversationId, 'agent-1');
    for (const customerId of [source, target])
      expect(
        (await h.call<object, GetCustomerContextResponse>('getCustomerContext', { customerId, conversationId: b.conversationId }, 'agent')).customer!
          .customerId,
      ).toBe(target);
    await expect(h.call('mergeCustomers', { targetCustomerId: target, sourceCustomerId: source }, 'supervisor')).rejects.toMatchObject({
      code: status.FAILED_PRECONDITION,
    });

    const undone = await h.call<object, UnmergeCustomerResponse>('unmergeCustomer', { mergeId: merged.mergeId }, 'supervisor');
    expect(undone.restored!.customerId).toBe(source);
    expect(undone.restored!.mergedInto).toBe('');
    expect(undone.restored!.identities.map((i) => i.value)).toEqual([b.sender!.value]);
    expect(undone.target!.identities.map((i) => i.value)).toEqual([a.sender!.value]);
    expect(regular(undone.restored)).toMatchObject({ on: true, reason: 'known to the team' });
    expect((await resolve(b.sender!)).customer!.customerId).toBe(source);
    expect((await read<GetHistoryResponse>('getHistory', { customerId: target })).entries.map((e) => e.text)).toEqual(['from A']);
    expect((await read<GetHistoryResponse>('getHistory', { customerId: source })).entries.map((e) => e.text)).toEqual(['from B']);
    await expect(h.call('unmergeCustomer', { mergeId: merged.mergeId }, 'supervisor')).rejects.toMatchObject({
      code: status.FAILED_PRECONDITION,
      details: expect.stringMatching(/already undone/),
    });

    // Linking an identity held by another customer merges it, recorded and reversible.
    const linked = await read<LinkIdentityResponse>('linkIdentity', { customerId: target, identity: b.sender });
    expect(linked).toMatchObject({ mergedCustomerId: source });
    expect(linked.mergeId).toBeTruthy();
    await h.call('unmergeCustomer', { mergeId: linked.mergeId }, 'supervisor');
  });

  it('keeps accounts with a manager; VIP and institutional flags come from the account', async () => {
    const { customer } = await resolve(email(uniqueId('acme')));
    const accountId = uniqueId('acct');
    await h.call(
      'upsertAccount',
      { account: { accountId, name: 'ACME Corp', managerAgentId: 'expert-9', vip: true, institutional: true, memberCustomerIds: [customer!.customerId] } },
      'supervisor',
    );
    const ctx = await context(customer!.customerId);
    expect(ctx.account).toMatchObject({ accountId, managerAgentId: 'expert-9', memberCustomerIds: [customer!.customerId] });
    expect(
      ctx
        .customer!.flags.filter((f) => f.source === FlagSource.FLAG_SOURCE_ACCOUNT)
        .map((f) => f.kind)
        .sort(),
    ).toEqual([FlagKind.FLAG_KIND_VIP, FlagKind.FLAG_KIND_INSTITUTIONAL]);
    await expect(h.call('upsertAccount', { account: { accountId, memberCustomerIds: ['no-such-customer'] } }, 'supervisor')).rejects.toMatchObject({
      code: status.NOT_FOUND,
    });
  });

  it('answers bad requests with INVALID_ARGUMENT or NOT_FOUND and a clear message', async () => {
    await expect(read('getCustomer', { customerId: 'no-such-customer' })).rejects.toMatchObject({
      code: status.NOT_FOUND,
      details: 'no customer no-such-customer',
    });
    await expect(h.call('getCustomer', { customerId: '' }, 'agent')).rejects.toMatchObject({
      code: status.INVALID_ARGUMENT,
      details: 'customer_id is required',
    });
    await expect(resolve(email('not an email'))).rejects.toMatchObject({
      code: status.INVALID_ARGUMENT,
      details: expect.stringMatching(/not an email address/),
    });
    const { customer } = await resolve(email(uniqueId('pages')));
    await expect(read('getHistory', { customerId: customer!.customerId, pageSize: 500 })).rejects.toMatchObject({
      code: status.INVALID_ARGUMENT,
      details: expect.stringMatching(/page_size must be between 1 and 200/),
    });
    await expect(read('getHistory', { customerId: customer!.customerId, pageToken: 'garbage' })).rejects.toMatchObject({ code: status.INVALID_ARGUMENT });
    await expect(h.call('getCustomerContext', {}, 'agent')).rejects.toMatchObject({
      code: status.INVALID_ARGUMENT,
      details: 'either customer_id, identity or conversation_id is required',
    });
    await expect(read('getCustomerContext', { identity: email(uniqueId('nobody')) })).rejects.toMatchObject({ code: status.NOT_FOUND });
    await expect(h.call('setFlag', { customerId: customer!.customerId, kind: FlagKind.FLAG_KIND_UNSPECIFIED, on: true }, 'supervisor')).rejects.toMatchObject({
      code: status.INVALID_ARGUMENT,
    });
    await expect(h.call('unmergeCustomer', { mergeId: 'no-such-merge' }, 'supervisor')).rejects.toMatchObject({ code: status.NOT_FOUND });
  });

  it('applies the authorisation matrix to every role and call', async () => {
    const c = contact({ sender: email(uniqueId('authz')) });
    await h.service.projection.onContact(c);
    await offer(c.conversationId, 'agent-1', 'expert-1');
    const id = (await h.service.store.findConversation(c.conversationId))!.customerId;
    // Each request as its caller would send it: the conversation they work on and a reason.
    const scope = { conversationId: c.conversationId, reason: REASON };
    const requests: Record<CallName, [string, object]> = {
      ResolveCustomer: ['resolveCustomer', { identity: email(uniqueId('authz')), ...scope }],
      GetCustomer: ['getCustomer', { customerId: id, ...scope }],
      GetHistory: ['getHistory', { customerId: id, ...scope }],
      GetCustomerContext: ['getCustomerContext', { customerId: id, ...scope }],
      LinkIdentity: ['linkIdentity', { customerId: id, identity: visitor(uniqueId('v')), ...scope }],
      SetFlag: ['setFlag', { customerId: id, kind: FlagKind.FLAG_KIND_VIP, on: false, reason: 'matrix' }],
      MergeCustomers: ['mergeCustomers', { targetCustomerId: id, sourceCustomerId: 'no-such-customer' }],
      UnmergeCustomer: ['unmergeCustomer', { mergeId: 'no-such-merge' }],
      UpsertAccount: ['upsertAccount', { account: { accountId: uniqueId('acct'), name: 'Matrix' } }],
      ListAudit: ['listAudit', { customerId: id }],
      UpsertIntermediary: [
        'upsertIntermediary',
        { intermediary: { intermediaryId: uniqueId('im'), name: 'Matrix', kind: 1, identities: [email(uniqueId('im'))] } },
      ],
      GrantMandate: ['grantMandate', { intermediaryId: 'no-such-intermediary', customerId: id, authority: 1 }],
      RevokeMandate: ['revokeMandate', { intermediaryId: 'no-such-intermediary', customerId: id }],
      SearchConversations: ['searchConversations', { state: 'open' }],
      OpenAttachment: ['openAttachment', { storageRef: `email-attachment:${'0'.repeat(64)}`, ...scope }],
      ExportCustomer: ['exportCustomer', { customerId: id, reason: REASON }],
      // An unknown customer: the matrix's customer is still needed by the calls above.
      EraseCustomer: ['eraseCustomer', { customerId: 'no-such-customer', reason: REASON }],
      FindCustomers: ['findCustomers', { email: 'nobody@example.com', reason: REASON }],
      StreamCustomerExport: ['streamCustomerExport', { customerId: id, reason: REASON }],
    };
    const outcome: string[] = [];
    for (const [call, [method, request]] of Object.entries(requests) as [CallName, [string, object]][]) {
      await expect(h.call(method, request, null)).rejects.toMatchObject({ code: status.UNAUTHENTICATED });
      await expect(h.call(method, request, null, 'not-a-jwt')).rejects.toMatchObject({ code: status.UNAUTHENTICATED });
      for (const role of ROLES) {
        const allowed = mayCall({ id: callerId(role), role }, call);
        const result = await h.call(method, request, role).then(
          () => 'ok',
          (err) => (code(err) === status.PERMISSION_DENIED ? 'denied' : code(err) === status.NOT_FOUND ? 'ok' : `error ${code(err)}`),
        );
        outcome.push(`${call} ${role} ${result}`);
        expect(`${call} ${role} ${result}`).toBe(`${call} ${role} ${allowed ? 'ok' : 'denied'}`);
      }
    }
    // Reads open to the people who serve customers; changes and the audit log for supervisors.
    expect(PERMISSIONS.SetFlag).toEqual(['supervisor']);
    // Services by name: routing reads the context it routes with, and nothing else.
    expect(outcome.filter((o) => o.endsWith('service ok'))).toEqual(['GetCustomerContext service ok']);
    // The data-protection officer makes data-protection requests and nothing else.
    expect(outcome.filter((o) => o.endsWith('privacy ok'))).toEqual([
      'ExportCustomer privacy ok',
      'EraseCustomer privacy ok',
      'FindCustomers privacy ok',
      'StreamCustomerExport privacy ok',
    ]);
    expect(outcome).toHaveLength(114);
  });

  it('shows ops counts and flags but no message contents', async () => {
    const c = contact({ sender: email(uniqueId('ops')), subject: 'Private matter', text: 'my account number is 1234' });
    await h.service.projection.onContact(c);
    const customerId = (await h.service.store.findConversation(c.conversationId))!.customerId;
    const history = await read<GetHistoryResponse>('getHistory', { customerId }, 'ops');
    expect(history.entries).toHaveLength(1);
    expect(history.entries[0]).toMatchObject({ text: '', subject: '', kind: HistoryEntryKind.HISTORY_ENTRY_KIND_MESSAGE_IN });
    const ctx = await context(customerId, 'ops');
    expect(ctx.recentConversations[0]).toMatchObject({ subject: '', messageCount: 1 });
    expect(ctx.customer!.flags.length).toBeGreaterThan(0);
    // Nor who the customer is.
    expect(ctx.customer).toMatchObject({ customerId, displayName: '', identities: [] });
    await expect(h.call('getHistory', { customerId }, 'ops')).rejects.toMatchObject({
      code: status.INVALID_ARGUMENT,
      details: expect.stringMatching(/reason is required/),
    });
    await offer(c.conversationId, 'agent-1');
    expect((await context(customerId, 'agent', c.conversationId)).recentConversations[0]!.subject).toBe('Private matter');
  });

  it("keeps the names, types and sizes of a message's attachments in its history entry, not for ops", async () => {
    const file = {
      name: 'statement.pdf',
      contentType: 'application/pdf',
      sizeBytes: 2048,
      sha256: 'ab'.repeat(32),
      storageRef: `email-attachment:${'ab'.repeat(32)}`,
    };
    const c = contact({ sender: email(uniqueId('files')), subject: 'Charged twice', text: 'see attached', attachments: [file] });
    await h.service.projection.onContact(c);
    const customerId = (await h.service.store.findConversation(c.conversationId))!.customerId;
    await offer(c.conversationId, 'agent-1');
    const forAgent = await h.call<object, GetHistoryResponse>('getHistory', { customerId, conversationId: c.conversationId }, 'agent');
    expect(forAgent.entries[0]).toMatchObject({ detail: '1 attachment(s)', attachments: [file] });
    expect((await read<GetHistoryResponse>('getHistory', { customerId }, 'ops')).entries[0]!.attachments).toEqual([]);
    // A message without attachments has none, also after the store dropped the empty list.
    const plain = contact({ sender: c.sender, subject: 'No files', text: 'plain' });
    await h.service.projection.onContact(plain);
    await offer(plain.conversationId, 'agent-1');
    const entries = (await h.call<object, GetHistoryResponse>('getHistory', { customerId, conversationId: plain.conversationId }, 'agent')).entries;
    expect(entries.map((e) => e.attachments)).toEqual([[]]);
  });

  it('writes every read to the audit log: who, which customer, when, which conversation', async () => {
    const sender = email(uniqueId('audit'));
    const [c42, c43] = [contact({ sender }), contact({ sender })];
    await h.service.projection.onContact(c42);
    await h.service.projection.onContact(c43);
    await offer(c42.conversationId, 'agent-1');
    await offer(c43.conversationId, 'expert-1');
    const id = (await h.service.store.findConversation(c42.conversationId))!.customerId;
    const before = Date.now();
    await h.call('getCustomer', { customerId: id, conversationId: c42.conversationId }, 'agent');
    await context(id, 'expert', c43.conversationId);
    await context(id, 'expert', c43.conversationId); // served from the cache, still audited
    await h.call('getHistory', { customerId: id, reason: 'counting contacts for the weekly report' }, 'ops');
    const audit = await h.call<object, ListAuditResponse>('listAudit', { customerId: id }, 'supervisor');
    const reads = audit.entries.filter((e) => e.action !== 'ResolveCustomer');
    expect(reads.map((e) => [e.actorId, e.actorRole, e.action, e.conversationId, e.reason])).toEqual([
      ['ops-1', 'ops', 'GetHistory', '', 'counting contacts for the weekly report'],
      ['expert-1', 'expert', 'GetCustomerContext', c43.conversationId, ''],
      ['expert-1', 'expert', 'GetCustomerContext', c43.conversationId, ''],
      ['agent-1', 'agent', 'GetCustomer', c42.conversationId, ''],
    ]);
    for (const e of reads) expect(e.at!.getTime()).toBeGreaterThanOrEqual(before - 1000);
    const paged = await h.call<object, ListAuditResponse>('listAudit', { customerId: id, pageSize: 2 }, 'supervisor');
    expect(paged.entries).toHaveLength(2);
    expect(paged.nextPageToken).not.toBe('');
  });

  it('drops a cached context as soon as an event changes the customer', async () => {
    const sender = email(uniqueId('cache'));
    await h.service.projection.onContact(contact({ sender, text: 'first' }));
    const customerId = (await resolve(sender)).customer!.customerId;
    expect((await context(customerId)).recentConversations).toHaveLength(1);
    expect((await context(customerId)).recentConversations).toHaveLength(1); // now cached
    await h.service.projection.onContact(contact({ sender, text: 'second' }));
    expect((await context(customerId)).recentConversations).toHaveLength(2);
    await h.call('setFlag', { customerId, kind: FlagKind.FLAG_KIND_VIP, on: true, reason: 'board member' }, 'supervisor');
    expect((await context(customerId)).customer!.flags.find((f) => f.kind === FlagKind.FLAG_KIND_VIP)).toMatchObject({
      on: true,
      reason: 'board member',
      setBy: 'supervisor-1',
    });
    await h.call('setFlag', { customerId, kind: FlagKind.FLAG_KIND_REGULAR, on: true, reason: 'long-standing customer' }, 'supervisor');
    expect(regular((await context(customerId)).customer)).toMatchObject({ on: true, source: FlagSource.FLAG_SOURCE_SUPERVISOR });
    // Handing the flag back to the rule.
    await h.call('setFlag', { customerId, kind: FlagKind.FLAG_KIND_REGULAR, clearOverride: true }, 'supervisor');
    expect(regular((await context(customerId)).customer)).toMatchObject({
      on: false,
      source: FlagSource.FLAG_SOURCE_RULE,
      reason: '2 conversations in the last 90 days (regular from 3)',
    });
  });

  it('keeps conversation events that arrive before their contact and attaches them when it comes', async () => {
    const c = contact({ sender: email(uniqueId('early')), channel: Channel.CHANNEL_CHAT });
    const early = ConversationEvent.fromPartial({
      eventId: uniqueId('ev'),
      conversationId: c.conversationId,
      channel: c.channel,
      occurredAt: new Date(),
      step: { $case: 'queued', queued: { queue: 'general' } },
    } as never);
    const assigned = ConversationEvent.fromPartial({
      eventId: uniqueId('ev'),
      conversationId: c.conversationId,
      channel: c.channel,
      occurredAt: new Date(),
      step: { $case: 'assigned', assigned: { agentId: 'agent-early' } },
    } as never);
    await h.service.projection.onConversationEvent(early);
    await h.service.projection.onConversationEvent(assigned);
    expect(await h.service.store.history.findOne({ _id: `event:${early.eventId}` })).toMatchObject({ customerId: '' });
    await h.service.projection.onContact(c);
    const customerId = (await h.service.store.findConversation(c.conversationId))!.customerId;
    expect(await h.service.store.history.findOne({ _id: `event:${early.eventId}` })).toMatchObject({ customerId });
    expect(await h.service.store.pending.findOne({ _id: c.conversationId })).toBeNull();
    const ctx = await context(customerId);
    expect(ctx.recentConversations[0]).toMatchObject({ conversationId: c.conversationId, lastAgentId: 'agent-early', messageCount: 1 });
  });

  it('refuses a contact whose sender is malformed, so it goes to the dead-letter topic', async () => {
    await expect(h.service.projection.onContact(contact({ sender: email('not an address') }))).rejects.toMatchObject({ name: 'InvalidEventError' });
    await expect(h.service.projection.onContact(contact({ sender: undefined }))).rejects.toMatchObject({ name: 'InvalidEventError' });
  });

  it('limits the calls a person may make per minute, and not a service', async () => {
    const limited = await startHarness({ env: { CALLER_RATE_LIMIT_PER_MINUTE: '3' } });
    try {
      const c = contact({ sender: email(uniqueId('limit')) });
      await limited.service.projection.onContact(c);
      const customerId = (await limited.service.store.findConversation(c.conversationId))!.customerId;
      await limited.service.access.onConversationEvent(offered(c.conversationId, 'agent-1'));
      const scope = { customerId, conversationId: c.conversationId };
      for (let i = 0; i < 5; i++) await limited.call('getCustomerContext', scope, 'service');
      for (let i = 0; i < 3; i++) await limited.call('getCustomer', scope, 'agent');
      await expect(limited.call('getCustomer', scope, 'agent')).rejects.toMatchObject({
        code: status.RESOURCE_EXHAUSTED,
        details: expect.stringMatching(/agent-1 is over the limit/),
      });
      // Another person has a budget of their own.
      await limited.call('getCustomer', { customerId, reason: REASON }, 'supervisor');
    } finally {
      await limited.stop();
      await dropDatabase(limited.database);
    }
  });

  it('serves health on the ops port', async () => {
    const res = await fetch(`http://127.0.0.1:${h.service.httpPort}/healthz`);
    expect(res.status).toBe(200);
  });
});
